"""Signing in and who sees what in the web client, in headless Chromium against the real
system: the API's refusals in the page's language, token refresh and logout, registration,
approval, rejection and unlocking by an administrator, the admin pages kept from others, and
every UI string in both dictionaries.

Browser fixtures: tests/support/web.py.
"""
import os
import re
import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD, Api
from tests.support.web import WEB_ROOT, go_admin, needs_chromium, sign_in, unique_title

pytestmark = [pytest.mark.integration, needs_chromium]


def test_bad_login_shows_the_apis_message_in_the_pages_language(system, open_page, make_user):
    user = make_user()
    expected = {}
    for lang in ("zh", "en"):
        r = Api(system.base_url, lang=lang).post("/auth/login", {"login": user.phone,
                                                                "password": "not-the-password"})
        assert r.status_code == 401
        expected[lang] = r.json()["error"]["message"]
    assert expected["zh"] != expected["en"]

    page = open_page("zh-CN")
    expect(page.locator("h1")).to_have_text("登录")
    page.fill("#login-form input[name=login]", user.phone)
    page.fill("#login-form input[name=password]", "still-not-it")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-form .msg-error")).to_have_text(expected["zh"])

    page.select_option("#lang-switch", "en")
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("label[for]").first).to_have_text(re.compile("Phone or email"))
    page.fill("#login-form input[name=login]", user.phone)
    page.fill("#login-form input[name=password]", "still-not-it")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-form .msg-error")).to_have_text(expected["en"])
    # the right password still works (3 failures are below the lockout threshold)
    sign_in(page, user.phone, user.password)


# ---- the session ---------------------------------------------------------------------

def test_expired_access_token_is_refreshed_once_and_logout_revokes(system, open_page, make_user,
                                                                   new_ticket):
    customer = make_user()
    new_ticket(customer, title="refresh me")
    page = open_page("en-US")
    sign_in(page, customer.phone, customer.password)
    before = page.evaluate("JSON.parse(sessionStorage.getItem('gongdan.session'))")

    expired = {"n": 0}
    seen = []
    page.on("request", lambda req: seen.append((req.method, req.url.split("?")[0])))

    def expire_once(route):
        if expired["n"] == 0:
            expired["n"] += 1
            route.fulfill(status=401, content_type="application/json",
                          body='{"error": {"code": "token_expired", "message": "expired", "details": {}}}')
        else:
            route.continue_()

    page.route(re.compile(r".*/api/v1/tickets\?.*"), expire_once)
    page.goto(system.base_url + "/#/tickets?sort=number")
    # the page signed in on may already show the row: wait for the refresh to be kept
    # (reading the session right after the row count raced the refresh's answer)
    page.wait_for_function(
        "old => JSON.parse(sessionStorage.getItem('gongdan.session')).access_token !== old",
        arg=before["access_token"])
    expect(page.locator("tr.ticket-row")).to_have_count(1)
    assert ("POST", system.base_url + "/api/v1/auth/refresh") in seen
    # the list asked again with the new token after its 401
    assert seen.count(("GET", system.base_url + "/api/v1/tickets")) >= 2, seen
    after = page.evaluate("JSON.parse(sessionStorage.getItem('gongdan.session'))")
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]

    page.click("#logout")
    expect(page.locator("#login-form")).to_be_visible()
    assert ("POST", system.base_url + "/api/v1/auth/logout") in seen
    assert page.evaluate("sessionStorage.getItem('gongdan.session')") is None
    r = requests.get(system.base_url + "/api/v1/me", timeout=30,
                     headers={"Authorization": "Bearer " + after["access_token"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "session_revoked"


# ---- registration and administration -----------------------------------------------------

def test_registration_approval_rejection_and_unlock(system, open_page, make_user, make_company):
    company = make_company("customer")
    phone = "137" + uuid.uuid4().int.__str__()[-8:]
    name = unique_title("赵六")

    page = open_page("zh-CN")
    page.click("a[href='#/register']")
    form = page.locator("#register-form")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=phone]").fill(phone)
    form.locator("input[name=password]").fill("short")
    form.locator("input[name=position]").fill("IT 主管")
    form.locator("input[name=company_name]").fill(company["name"])
    form.locator("button[type=submit]").click()
    expect(form.locator("[data-field=password] .field-error")).to_contain_text("8")  # API's words
    form.locator("input[name=password]").fill("a-good-password-1")
    form.locator("button[type=submit]").click()
    expect(page.locator("#register-done")).to_contain_text("等待管理员审核")

    page.click("a[href='#/login']")
    page.fill("#login-form input[name=login]", phone)
    page.fill("#login-form input[name=password]", "a-good-password-1")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-form .msg-error")).to_have_text("您的注册申请正在等待管理员审核。")

    other = unique_title("Mallory")
    r = Api(system.base_url).post("/auth/register", {
        "name": other, "email": f"{uuid.uuid4().hex[:8]}@example.test",
        "password": "a-good-password-1", "company_name": "who knows"})
    assert r.status_code == 201, r.text

    admin_page = open_page("zh-CN")
    sign_in(admin_page, ADMIN_EMAIL, ADMIN_PASSWORD)
    go_admin(admin_page, "/admin/users")
    card = admin_page.locator("form.pending-card", has_text=name)
    expect(card).to_contain_text(company["name"])
    expect(card.locator("select[name=role]")).to_have_value("customer")
    # the company the person typed is preselected when it exists
    expect(card.locator("select[name=company_id]")).to_have_value(company["id"])
    card.locator("button[type=submit]").click()
    expect(card).to_have_count(0)
    expect(admin_page.locator("#notice")).to_contain_text(name)

    rejected = admin_page.locator("form.pending-card", has_text=other)
    rejected.locator("input[name=note]").fill("unknown company")
    rejected.locator("button", has_text="拒绝").click()
    expect(rejected).to_have_count(0)

    sign_in(page, phone, "a-good-password-1")
    me = Api(system.base_url).login(phone, "a-good-password-1").get("/me").json()
    assert me["role"] == "customer" and me["company_id"] == company["id"]
    admin = Api(system.base_url).login(ADMIN_EMAIL, ADMIN_PASSWORD)
    found = admin.get("/admin/users", params={"q": other}).json()["items"]
    assert [u["status"] for u in found] == ["rejected"]

    # a locked account is found in the users tab and unlocked
    locked = make_user()
    for _ in range(5):
        r = Api(system.base_url).post("/auth/login", {"login": locked.phone, "password": "wrong-wrong"})
    assert r.status_code == 423
    admin_page.click("a#tab-users")
    admin_page.fill("input[name=q]", locked.phone)
    admin_page.click(".tab-body form button[type=submit]")
    row = admin_page.locator("#user-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("锁定至")
    row.locator("button[data-unlock]").click()
    expect(admin_page.locator("#notice")).to_contain_text("已解锁")
    expect(row.locator("button[data-unlock]")).to_have_count(0)
    Api(system.base_url).login(locked.phone, locked.password)  # asserts 200


def test_non_admins_do_not_get_the_admin_page(system, open_page, make_user):
    customer = make_user()
    page = open_page("en-US")
    sign_in(page, customer.phone, customer.password)
    expect(page.locator("nav.nav a[href='#/admin/users']")).to_have_count(0)
    expect(page.locator("nav.nav a[href='#/reports']")).to_have_count(0)
    for hidden in ("#/admin/users", "#/reports"):
        page.goto(system.base_url + "/" + hidden)
        expect(page.locator(".view")).to_contain_text("You do not have access to this page.")

    engineer = make_user("engineer")  # works tickets, does not file them
    page = open_page("en-US")
    sign_in(page, engineer.phone, engineer.password)
    # staff read the reports (the API scopes them to the engineer's own work)
    expect(page.locator("nav.nav a")).to_have_text(["Tickets", "Knowledge base", "Leftovers", "Reports"])
    page.goto(system.base_url + "/#/tickets/new")
    expect(page.locator(".view")).to_contain_text("You do not have access to this page.")


# ---- the dictionaries ----------------------------------------------------------------------

def test_every_ui_string_is_in_both_dictionaries(system, open_page):
    page = open_page("en-US")
    keys = page.evaluate("""import('/web/js/i18n.js').then(m => ({
        zh: Object.keys(m.DICT.zh).sort(), en: Object.keys(m.DICT.en).sort()}))""")
    assert keys["zh"] == keys["en"]
    used = set()
    for folder, _dirs, files in os.walk(os.path.join(WEB_ROOT, "js")):
        for name in files:
            with open(os.path.join(folder, name), encoding="utf-8") as fh:
                used.update(re.findall(r'\bt\(\s*"([a-z_.\-]+)"', fh.read()))
    assert used, "no t(\"...\") calls found"
    missing = sorted(used - set(keys["en"]))
    assert missing == []
