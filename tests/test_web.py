"""The web client (gateway/web/) driven in headless Chromium against the real system.

People's paths through the page: a customer signs in, files a ticket with attachments,
finds it in the list, replies; an agent sees the reply, writes an internal note and asks
for information; the customer provides it. Plus registration and approval, unlocking,
the list's filters, sorting and paging, token refresh and logout, per-file upload errors
(type, size, storage down), a phone-sized screen, and the two dictionaries.

The work lifecycle too: an agent assigns a qualified engineer, who starts, logs work, uploads
the on-site report and resolves; the customer confirms and rates; the timeline shows it all.

Chromium is the Debian package (/usr/bin/chromium); Playwright drives it. Screenshots of the
ticket page go to /tmp/gongdan-detail.png, /tmp/gongdan-detail-phone.png and
/tmp/gongdan-repair.png.
"""
import datetime as dt
import os
import re
import uuid

import eventlet
import greenlet
import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests.conftest import TEST_UPLOAD_LIMIT
from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD, Api

CHROMIUM = "/usr/bin/chromium"
WEB_ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gateway", "web")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"{CHROMIUM} is absent: install the Debian package 'chromium' "
                              "(the gongdan script's prerequisites do)"),
]

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(20_000)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(4000)
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)


# ---- the browser -----------------------------------------------------------------------

def _stop_playwright(manager):
    """Stop Playwright under eventlet's monkey patching (the root conftest.py applies it).

    Playwright's sync API runs asyncio in a greenlet (its dispatcher fiber); when that fiber
    blocks, eventlet's hub makes itself the fiber's parent, so when the fiber ends at stop it
    returns to the hub instead of to us and stop() would wait forever. A green thread hands
    control back once the fiber has ended; without eventlet the fiber returns to us directly
    and the helper does nothing.
    """
    waiter, fiber, state = greenlet.getcurrent(), manager._dispatcher_fiber, {"done": False}

    def hand_back():
        while not fiber.dead and not state["done"]:
            eventlet.sleep(0.05)
        if not state["done"]:
            waiter.switch()

    eventlet.spawn(hand_back)
    try:
        manager.__exit__(None, None, None)
    finally:
        state["done"] = True


@pytest.fixture(scope="module")
def browser():
    manager = sync_playwright()
    playwright = manager.__enter__()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()
    finally:
        _stop_playwright(manager)


@pytest.fixture
def open_page(browser, system):
    """open_page(locale="zh-CN", width=1280, height=900) -> a fresh page (own session).

    Every page is checked at the end: no uncaught script error and no Content-Security-Policy
    violation (no inline script or style slipped in)."""
    contexts, problems = [], []

    def open_(locale="zh-CN", width=1280, height=900):
        context = browser.new_context(locale=locale, viewport={"width": width, "height": height},
                                      accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
        page.on("console", lambda msg: problems.append(f"console: {msg.text}")
                if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
        page.goto(system.base_url + "/")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert problems == []


def sign_in(page, login, password):
    page.goto(page.url.split("#")[0] + "#/login")
    page.fill("#login-form input[name=login]", login)
    page.fill("#login-form input[name=password]", password)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def answer_confirm(page, accept=True):
    """Answer the page's next `confirm()` without a native dialog; `confirmed(page)` then
    tells what it asked. (Playwright's "dialog" event calls back into its sync API from its
    dispatcher; with eventlet 0.41.3 monkey-patching this process - nameko's pytest plugin -
    that call never returns and the test hangs.)"""
    page.evaluate("""(accept) => {
        const original = window.confirm;
        window.__confirmed = null;
        window.confirm = (message) => {
            window.__confirmed = String(message);
            window.confirm = original;
            return accept;
        };
    }""", accept)


def confirmed(page):
    return page.evaluate("window.__confirmed")


def open_ticket_from_list(page, title):
    page.click("nav.nav a[href='#/tickets']")
    row = page.locator("tr.ticket-row", has_text=title)
    expect(row).to_have_count(1)
    row.locator("a.ticket-link").click()
    expect(page.locator("h1.ticket-title")).to_have_text(title)


def status_badge(page):
    return page.locator(".ticket-head .badge.badge-status")


def unique_title(text):
    return f"{text} {uuid.uuid4().hex[:6]}"


# ---- a ticket's life through the page ----------------------------------------------------

def test_customer_and_agent_work_a_ticket_through_the_page(system, open_page, make_user, product):
    customer, agent = make_user(), make_user("agent")
    title = unique_title("打印机无法连接")

    # the customer files a ticket with two attachments, one of them refused by content
    page = open_page("zh-CN")
    sign_in(page, customer.phone, customer.password)
    page.click("nav.nav a[href='#/tickets/new']")
    form = page.locator("#new-ticket")
    expect(form.locator("input[name=contact_phone]")).to_have_value(customer.phone)
    form.locator("input[name=title]").fill(title)
    form.locator("select[name=type]").select_option("defect")
    form.locator("select[name=category]").select_option("network")
    form.locator("select[name=product]").select_option(product)
    form.locator("input[name=product_version]").fill("8.0")
    form.locator("textarea[name=description]").fill("办公室打印机从今天上午开始无法连接。\n其他电脑也一样。")
    form.locator("textarea[name=steps]").fill("1. 打开文档\n2. 点击打印")
    form.locator("textarea[name=error_message]").fill("Error 0x00000709")
    form.locator("select[name=impact]").select_option("department")
    form.locator("select[name=urgency]").select_option("high")
    form.locator("input[name='environment.os']").fill("Windows 11")
    form.locator("input[name='environment.browser']").fill("Edge 120")
    form.locator("input[name=device_sn]").fill("SN-PRN-0042")
    form.locator("input[type=file]").set_input_files([
        {"name": "截图.png", "mimeType": "image/png", "buffer": PNG},
        {"name": "setup.png", "mimeType": "image/png", "buffer": EXE},  # a renamed program
    ])
    expect(form.locator(".file-list li")).to_have_count(2)
    form.locator("button[type=submit]").click()

    panel = page.locator("#upload-panel")
    expect(panel.locator("h1")).to_contain_text("已提交")
    good = panel.locator("li.up-item[data-file='截图.png']")
    bad = panel.locator("li.up-item[data-file='setup.png']")
    expect(good.locator(".up-state")).to_contain_text("已上传")
    expect(bad.locator(".up-state")).to_contain_text("415")
    expect(bad.locator("p.up-error")).to_contain_text("setup.png")
    expect(panel.locator(".msg-warn")).to_be_visible()  # the ticket is kept all the same
    expect(panel.locator("button", has_text="重试")).to_be_hidden()  # a refused file stays refused
    panel.locator("#open-ticket").click()
    expect(page.locator("h1.ticket-title")).to_have_text(title)
    expect(status_badge(page)).to_have_text("新建")

    # it is in the list; opened from there it shows its fields and the one attachment
    open_ticket_from_list(page, title)
    facts = page.locator(".facts")
    expect(facts).to_contain_text("Windows 11")
    expect(facts).to_contain_text("SN-PRN-0042")
    expect(page.locator(".code-block")).to_have_text("Error 0x00000709")
    attachments = page.locator("li.attachment")
    expect(attachments).to_have_count(1)
    expect(attachments.first).to_contain_text("截图.png")
    with page.expect_download() as download:
        attachments.first.locator("button").click()
    with open(download.value.path(), "rb") as fh:
        assert fh.read() == PNG
    assert download.value.suggested_filename == "截图.png"

    # a customer has no internal-note checkbox; the reply appears in the conversation
    expect(page.locator("#reply-internal")).to_have_count(0)
    page.fill("#reply-form textarea[name=body]", "已重启打印机，问题仍在。")
    page.click("#reply-form button[type=submit]")
    expect(page.locator(".comments .comment")).to_have_count(1)
    expect(page.locator(".comments")).to_contain_text("已重启打印机，问题仍在。")

    # the agent (English browser) sees the reply, writes an internal note, asks for info
    desk = open_page("en-US")
    sign_in(desk, agent.phone, agent.password)
    expect(desk.locator("nav.nav a").first).to_have_text("Tickets")
    open_ticket_from_list(desk, title)
    expect(desk.locator(".comments")).to_contain_text("已重启打印机，问题仍在。")
    desk.check("#reply-internal")
    expect(desk.locator("#reply-form button[type=submit]")).to_have_text("Add note")
    desk.fill("#reply-form textarea[name=body]", "Probably the print spooler; check driver version.")
    desk.click("#reply-form button[type=submit]")
    note = desk.locator(".comment.comment-internal")
    expect(note).to_contain_text("Probably the print spooler")
    expect(note.locator(".badge-internal")).to_have_text("Internal note")

    desk.click("button[data-action=request_info]")
    action = desk.locator("form.action-form")
    action.locator("button[type=submit]").click()  # no reason: the API says what is missing
    expect(action.locator(".msg-error")).to_contain_text("reason")
    action.locator("input[name=reason]").fill("Which printer model and driver version?")
    action.locator("textarea[name=comment]").fill("Please tell us the printer model.")
    action.locator("button[type=submit]").click()
    expect(status_badge(desk)).to_have_text("Needs info")
    expect(desk.locator(".history")).to_contain_text("Which printer model and driver version?")
    desk.screenshot(path="/tmp/gongdan-detail.png", full_page=True)

    # the customer sees needs_info, not the internal note, and provides the information
    page.reload()
    expect(status_badge(page)).to_have_text("待补充信息")
    expect(page.locator(".comments")).to_contain_text("Please tell us the printer model.")
    expect(page.locator(".comment-internal")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("print spooler")
    expect(page.locator("button[data-action=request_info]")).to_have_count(0)
    page.click("button[data-action=provide_info]")
    page.fill("form.action-form textarea[name=comment]", "型号 HP M403，驱动版本 6.1。")
    page.click("form.action-form button[type=submit]")
    expect(status_badge(page)).to_have_text("新建")
    expect(page.locator(".comments")).to_contain_text("型号 HP M403")

    # switching the language relabels the page (and the API answers in it from now on)
    page.select_option("#lang-switch", "en")
    expect(page.locator("nav.nav a").first).to_have_text("Tickets")
    expect(status_badge(page)).to_have_text("New")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    desk.reload()
    expect(status_badge(desk)).to_have_text("New")
    expect(desk.locator(".comments")).to_contain_text("型号 HP M403")


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


def test_agent_files_a_ticket_for_a_customer_company(system, open_page, make_user, make_company,
                                                     product):
    agent, company = make_user("agent"), make_company("customer")
    title = unique_title("Phone call: VPN drops")
    page = open_page("en-US")
    sign_in(page, agent.phone, agent.password)
    page.click("nav.nav a[href='#/tickets/new']")
    form = page.locator("#new-ticket")
    form.locator("input[name=title]").fill(title)
    form.locator("select[name=type]").select_option("consult")
    form.locator("select[name=category]").select_option("network")
    form.locator("select[name=product]").select_option(product)
    form.locator("textarea[name=description]").fill("Customer called: the VPN drops every hour.")
    form.locator("input[name=contact_phone]").fill("021-5555 0101")
    form.locator("button[type=submit]").click()
    # no company chosen: the API's own message says what is needed
    expect(form.locator(".msg-error").first).to_contain_text("company")
    form.locator("select[name=company_id]").select_option(company["id"])
    form.locator("button[type=submit]").click()
    expect(page.locator("h1.ticket-title")).to_have_text(title)
    expect(page.locator(".facts")).to_contain_text(company["name"])
    expect(page.locator("#notice")).to_contain_text("was submitted")


# ---- attachments that fail -------------------------------------------------------------

def test_upload_errors_are_shown_per_file_and_the_ticket_survives(system, open_page, make_user,
                                                                    product):
    customer = make_user()
    title = unique_title("存储故障时提交")
    page = open_page("en-US")
    sign_in(page, customer.phone, customer.password)
    page.goto(system.base_url + "/#/tickets/new")
    form = page.locator("#new-ticket")
    form.locator("input[name=title]").fill(title)
    form.locator("select[name=type]").select_option("consult")
    form.locator("select[name=category]").select_option("other")
    form.locator("select[name=product]").select_option(product)
    form.locator("textarea[name=description]").fill("Attachments while storage is down.")
    too_big = b"\x89PNG\r\n\x1a\n" + b"\0" * (TEST_UPLOAD_LIMIT + 1024)
    form.locator("input[type=file]").set_input_files([
        {"name": "log.txt", "mimeType": "text/plain", "buffer": b"line one\nline two\n"},
        {"name": "huge.png", "mimeType": "image/png", "buffer": too_big},
    ])
    system.stop_s3()
    try:
        form.locator("button[type=submit]").click()
        panel = page.locator("#upload-panel")
        log = panel.locator("li.up-item[data-file='log.txt']")
        huge = panel.locator("li.up-item[data-file='huge.png']")
        expect(log.locator(".up-state")).to_contain_text("503")
        expect(log.locator("p.up-error")).to_contain_text("storage")
        expect(huge.locator(".up-state")).to_contain_text("413")
        expect(huge.locator("p.up-error")).to_contain_text("MB")
    finally:
        system.start_s3()
    panel.locator("button", has_text="Retry").click()
    expect(log.locator(".up-state")).to_contain_text("Uploaded")
    expect(huge.locator(".up-state")).to_contain_text("413")
    panel.locator("#open-ticket").click()
    expect(page.locator("h1.ticket-title")).to_have_text(title)
    expect(page.locator("li.attachment")).to_have_count(1)
    expect(page.locator("li.attachment")).to_contain_text("log.txt")

    # more files later, from the ticket page
    page.locator(".uploader input[type=file]").set_input_files(
        [{"name": "more.png", "mimeType": "image/png", "buffer": PNG}])
    page.locator(".uploader button", has_text="Upload attachments").click()
    expect(page.locator("li.attachment")).to_have_count(2)


# ---- the list ----------------------------------------------------------------------------

def test_list_filters_sorting_and_paging(system, open_page, make_user, new_ticket):
    customer = make_user()
    tag = uuid.uuid4().hex[:6]
    for i in range(11):
        new_ticket(customer, title=f"批量 {tag} {i:02d}")
    hostile = f'<img src=x onerror="window.__xss=1"> <b>{tag}</b>'
    new_ticket(customer, title=hostile, type="consult")

    page = open_page("zh-CN")
    sign_in(page, customer.phone, customer.password)
    page.goto(system.base_url + "/#/tickets?page_size=10")
    rows = page.locator("tr.ticket-row")
    expect(rows).to_have_count(10)
    expect(page.locator("#page-info")).to_have_text("第 1 / 2 页 · 共 12 条")
    page.click("#next-page")
    expect(rows).to_have_count(2)
    expect(page.locator("#prev-page")).to_be_enabled()

    # sorting by number from the column header, both ways
    page.click("#prev-page")
    page.locator("th button", has_text="工单号").click()
    expect(page.locator("th[aria-sort=descending]")).to_have_count(1)
    numbers = rows.evaluate_all("rs => rs.map(r => r.dataset.number)")
    assert numbers == sorted(numbers, reverse=True) and len(numbers) == 10
    page.locator("th button", has_text="工单号").click()
    expect(page.locator("th[aria-sort=ascending]")).to_have_count(1)
    numbers = rows.evaluate_all("rs => rs.map(r => r.dataset.number)")
    assert numbers == sorted(numbers)

    # filters: type, keyword, status, created dates
    page.select_option("#filters select[name=type]", "consult")
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(1)
    link = rows.first.locator("a.ticket-link")
    expect(link).to_have_text(hostile)  # shown as text, never as markup
    assert page.locator("#ticket-table img, #ticket-table b").count() == 0
    assert page.evaluate("window.__xss") is None

    page.click("#filters button:has-text('重置')")
    page.fill("#filters input[name=keyword]", f"{tag} 03")
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"批量 {tag} 03")

    page.fill("#filters input[name=keyword]", "")
    page.select_option("#filters select[name=status]", "cancelled")
    page.click("#filters button[type=submit]")
    expect(page.locator(".results .empty")).to_contain_text("没有符合条件的工单")

    today = page.evaluate("(() => { const d = new Date(); d.setMinutes(d.getMinutes() - d.getTimezoneOffset()); return d.toISOString().slice(0, 10); })()")
    tomorrow = (dt.date.fromisoformat(today) + dt.timedelta(days=1)).isoformat()
    page.goto(system.base_url + f"/#/tickets?created_from={today}&created_to={today}")
    expect(page.locator("#page-info")).to_contain_text("共 12 条")
    page.goto(system.base_url + f"/#/tickets?created_from={tomorrow}")
    expect(page.locator(".results .empty")).to_be_visible()


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
    expect(page.locator("tr.ticket-row")).to_have_count(1)
    assert ("POST", system.base_url + "/api/v1/auth/refresh") in seen
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
    admin_page.click("nav.nav a[href='#/admin/users']")
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
    expect(page.locator("nav.nav a")).to_have_text(["Tickets", "Knowledge base", "Reports"])
    page.goto(system.base_url + "/#/tickets/new")
    expect(page.locator(".view")).to_contain_text("You do not have access to this page.")


# ---- a phone-sized screen ------------------------------------------------------------------

def test_phone_sized_screen(system, open_page, make_user, new_ticket):
    customer = make_user()
    ticket = new_ticket(customer, title="手机上查看工单", steps="1. 打开\n2. 查看")
    page = open_page("zh-CN", width=390, height=844)
    sign_in(page, customer.phone, customer.password)
    row = page.locator("tr.ticket-row").first
    expect(row).to_be_visible()
    expect(page.locator("#ticket-table thead")).not_to_be_in_viewport()
    no_overflow = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_overflow)
    row.locator("a.ticket-link").click()
    expect(page.locator("h1.ticket-title")).to_have_text("手机上查看工单")
    assert page.evaluate(no_overflow)
    # on a phone the side column goes under the conversation
    main_box = page.locator(".detail-main").bounding_box()
    side_box = page.locator(".detail-side").bounding_box()
    assert side_box["y"] >= main_box["y"] + main_box["height"] - 1
    page.screenshot(path="/tmp/gongdan-detail-phone.png", full_page=True)
    assert ticket["number"] in page.locator(".ticket-number").inner_text()


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


# ---- the work lifecycle: a repair through the page ------------------------------------------

PDF = b"%PDF-1.7\n" + b"report " * 200


def _day(offset):
    return (dt.date.today() + dt.timedelta(days=offset)).isoformat()


@pytest.fixture
def field_service(admin, make_company, make_user):
    """A product line of its own, a provider covering it and an engineer certified for it
    (as tests/test_flows.py sets one up)."""
    line = ("line-" + uuid.uuid4().hex[:8]).lower()
    product = "P-" + uuid.uuid4().hex[:8]
    assert admin.post("/admin/products", {"code": product, "name": "测试设备",
                                          "product_line": line}).status_code == 201
    company = make_company("provider")
    assert admin.put(f"/providers/{company['id']}", {
        "name": company["name"], "product_lines": [line]}).status_code == 200
    engineer = make_user("engineer", company=company)
    assert admin.put(f"/engineers/{engineer.user['id']}", {
        "provider_id": company["id"], "skills": [line]}).status_code == 200
    r = admin.post(f"/engineers/{engineer.user['id']}/certifications", {
        "product_line": line, "certificate_no": "C-" + engineer.user["id"][:8],
        "valid_from": _day(-30), "valid_until": _day(365)})
    assert r.status_code == 201, r.text
    return {"company": company, "engineer": engineer, "product": product, "line": line}


def run_action(page, action):
    page.click(f"button[data-action={action}]")
    form = page.locator(f"form.action-form[data-action={action}]")
    expect(form).to_be_visible()
    return form


def test_repair_path_through_the_page(system, open_page, make_user, new_ticket, field_service):
    customer, agent = make_user(), make_user("agent")
    engineer = field_service["engineer"]
    title = unique_title("存储设备无法启动")
    ticket = new_ticket(customer, type="repair", title=title, product=field_service["product"],
                        device_sn="AS-SN-0001")
    link = system.base_url + f"/#/tickets/{ticket['id']}"

    # the agent assigns a qualified engineer
    desk = open_page("en-US")
    sign_in(desk, agent.phone, agent.password)
    desk.goto(link)
    expect(desk.locator("h1.ticket-title")).to_have_text(title)
    assign = desk.locator("#assign-form")
    assign.locator("select[name=engineer_id]").select_option(engineer.user["id"])
    assign.locator("input[name=reason]").fill("certified for this line")
    assign.locator("button[type=submit]").click()
    expect(status_badge(desk)).to_have_text("Assigned")
    expect(desk.locator(".facts")).to_contain_text(engineer.user["name"])
    expect(desk.locator("#timeline li[data-kind=assigned]")).to_have_count(1)

    # the engineer starts, logs work, uploads the on-site report and resolves
    field_page = open_page("en-US")
    sign_in(field_page, engineer.phone, engineer.password)
    field_page.goto(link)
    expect(field_page.locator("h1.ticket-title")).to_have_text(title)
    expect(field_page.locator("#worklog-form")).to_have_count(0)  # not before work starts
    run_action(field_page, "start").locator("button[type=submit]").click()
    expect(status_badge(field_page)).to_have_text("In progress")

    log = field_page.locator("#worklog-form")
    log.locator("input[name=title]").fill("On-site diagnosis")
    log.locator("textarea[name=description]").fill("Power module replaced after diagnosis.")
    expect(log.locator("input[name=on_site]")).to_be_checked()  # field work defaults on site
    field_page.wait_for_timeout(1500)  # an entry lasts at least a second
    log.locator("button[type=submit]").click()
    expect(field_page.locator("#worklogs li.worklog")).to_have_count(1)
    expect(field_page.locator("#worklogs li.worklog")).to_contain_text("On-site diagnosis")
    expect(field_page.locator("#worklog-total")).to_have_text(re.compile(r"^\d+ min$"))
    expect(field_page.locator("#timeline li[data-kind=worklog]")).to_contain_text("On-site diagnosis")

    form = run_action(field_page, "resolve")
    report = form.locator("li.report-item[data-kind=onsite_report]")
    expect(report.locator(".report-state")).to_have_text("Missing")
    expect(form.locator("li.report-item")).to_have_count(1)  # a repair needs one report
    report.locator("input[type=file]").set_input_files(
        [{"name": "onsite.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    expect(report.locator(".report-state")).to_have_text("Uploaded")
    form.locator("select[name=root_cause]").select_option("hardware_failure")
    form.locator("textarea[name=description]").fill("Power module replaced; the array is back.")
    visited = form.locator("input[name=visited_at]")
    expect(visited).to_be_visible()  # field work: the visit time is asked for
    visited.fill(form.locator("input[name=completed_at]").input_value())
    form.locator("button[type=submit]").click()
    expect(status_badge(field_page)).to_have_text("Resolved")
    expect(field_page.locator(".closing-card")).to_contain_text("Power module replaced")
    expect(field_page.locator("#rating-form")).to_have_count(0)  # the engineer does not rate

    # the customer confirms and rates once
    page = open_page("zh-CN")
    sign_in(page, customer.phone, customer.password)
    page.goto(link)
    expect(status_badge(page)).to_have_text("已解决")
    rating = page.locator("#rating-form")
    expect(rating).to_be_visible()  # resolved and not yet rated
    run_action(page, "confirm").locator("button[type=submit]").click()
    expect(status_badge(page)).to_have_text("已关闭")
    rating.locator("fieldset[data-field=product_score] label[data-score='4']").click()
    rating.locator("fieldset[data-field=service_score] label[data-score='5']").click()
    rating.locator("textarea[name=comment]").fill("上门及时")
    rating.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_contain_text("感谢")
    expect(rating).to_have_count(0)

    # the timeline shows each step, in order
    timeline = page.locator("#timeline li.event")
    kinds = timeline.evaluate_all("els => els.map(e => e.dataset.kind)")
    for kind in ("assigned", "worklog", "attachment", "closing_report", "rating"):
        assert kind in kinds, kinds
    times = timeline.evaluate_all("els => els.map(e => e.querySelector('time').getAttribute('datetime'))")
    assert times == sorted(times)
    text = page.locator("#timeline").inner_text()
    for step in ("开始处理", "解决并提交报告", "确认已解决", "On-site diagnosis", "onsite.pdf", "上门及时"):
        assert step in text, step
    assert kinds.index("assigned") < kinds.index("worklog") < kinds.index("closing_report") \
        < kinds.index("rating")
    page.screenshot(path="/tmp/gongdan-repair.png", full_page=True)
    detail = customer.get(f"/tickets/{ticket['id']}").json()
    assert detail["ratings"][0]["product_score"] == 4 and detail["ratings"][0]["service_score"] == 5
