""""Forgot password" end to end: the gateway mints a one-time link, notify mails it through
a real SMTP server (aiosmtpd), the link sets a new password, signs every session out and ends
a lockout; an unknown login answers alike and gets no mail; a used, replaced or made-up token
is refused in zh and en; the two pages work in a real browser. Screenshots:
/tmp/gongdan-reset-*.png."""
import re

import pytest
from playwright.sync_api import expect

from tests.support.system import Api
from tests.support.web import sign_in
from tests.test_notify import SmtpServer, wait_until

pytestmark = pytest.mark.integration

LINK = re.compile(r"/#/reset/([A-Za-z0-9_-]{20,128})")


@pytest.fixture(scope="module")
def smtp(system, tmp_path_factory):
    server = SmtpServer(str(tmp_path_factory.mktemp("reset-mail")))
    server.start()
    system.stop_service("notify")
    system.start_service("notify", NOTIFY_SMTP_PORT=str(server.port),
                         NOTIFY_POLL_INTERVAL="0.2", NOTIFY_DIRECTORY_CACHE="0")
    system.wait_service("notify")
    yield server
    server.stop()
    system.stop_service("notify")  # back to the configuration the other modules expect
    system.start_service("notify")
    system.wait_service("notify")


def ask(system, login, lang=None):
    return Api(system.base_url, lang=lang).post("/auth/password-reset", {"login": login})


def mailed_tokens(smtp, address, count):
    """The reset mails to `address` (an account_locked mail may be there too) and their
    tokens, once `count` of them arrived."""
    def reset_mails():
        found = [(m, LINK.search(m.get_body(("plain",)).get_content()))
                 for m in smtp.to(address)]
        found = [(m, match.group(1)) for m, match in found if match]
        return found if len(found) >= count else None
    found = wait_until(reset_mails, seconds=30, what=f"{count} reset mail(s) to {address}")
    return [m for m, _ in found], [token for _, token in found]


def confirm(system, token, password, lang=None):
    return Api(system.base_url, lang=lang).post("/auth/password-reset/confirm", {
        "token": token, "new_password": password})


def test_a_mailed_link_sets_a_new_password_once_and_signs_everyone_out(system, smtp, make_user):
    user = make_user(lang="zh")
    old_refresh = Api(system.base_url).post("/auth/login", {
        "login": user.phone, "password": user.password}).json()["refresh_token"]
    r = ask(system, user.user["email"])
    assert r.status_code == 202 and r.json() == {"accepted": True}
    mails, (token,) = mailed_tokens(smtp, user.user["email"], 1)
    assert "重置" in mails[0]["Subject"] or "Reset" in mails[0]["Subject"]
    assert token not in str(system.base_url)  # a real token, not a placeholder

    short = confirm(system, token, "short", lang="zh")  # the password rule, in Chinese
    assert short.status_code == 400 and "new_password" in short.json()["error"]["details"]["fields"]
    assert confirm(system, token, "brand-new-pass-9").status_code == 204
    # the old password is gone, the new one works, and the sessions from before are over
    assert Api(system.base_url).post("/auth/login", {
        "login": user.phone, "password": user.password}).status_code == 401
    Api(system.base_url).login(user.phone, "brand-new-pass-9")
    assert user.get("/me").status_code == 401
    assert Api(system.base_url).post("/auth/refresh", {"refresh_token": old_refresh}) \
        .status_code == 401
    # the link worked once
    again = confirm(system, token, "another-pass-99", lang="en")
    assert again.status_code == 400
    body = again.json()["error"]
    assert body["code"] == "reset_link_invalid" and "Ask for a new link" in body["message"]
    zh = confirm(system, token, "another-pass-99", lang="zh").json()["error"]["message"]
    assert "重置密码链接无效" in zh


def test_unknown_logins_answer_alike_and_get_no_mail(system, smtp):
    for login in ("nobody-here@example.test", "13900000000"):
        r = ask(system, login)
        assert r.status_code == 202 and r.json() == {"accepted": True}
    made_up = confirm(system, "x" * 43, "brand-new-pass-9")
    assert made_up.status_code == 400 and made_up.json()["error"]["code"] == "reset_link_invalid"
    assert smtp.to("nobody-here@example.test") == []


def test_a_newer_link_replaces_the_older_and_a_lockout_ends(system, smtp, make_user):
    user = make_user()
    for _ in range(5):  # locked
        Api(system.base_url).post("/auth/login", {"login": user.phone, "password": "wrong-pass"})
    assert Api(system.base_url).post("/auth/login", {
        "login": user.phone, "password": user.password}).status_code == 423
    assert ask(system, user.phone).status_code == 202  # by phone: mailed to the address
    _, (first,) = mailed_tokens(smtp, user.user["email"], 1)
    assert ask(system, user.user["email"].upper()).status_code == 202
    _, tokens = mailed_tokens(smtp, user.user["email"], 2)
    (second,) = set(tokens) - {first}
    assert confirm(system, first, "brand-new-pass-9").status_code == 400  # replaced
    assert confirm(system, second, "brand-new-pass-9").status_code == 204
    Api(system.base_url).login(user.phone, "brand-new-pass-9")  # no longer locked


@pytest.mark.parametrize("body", [{}, {"login": ""}, {"login": 5}, {"login": "a@b.c", "x": 1}])
def test_bad_requests_are_refused_clearly(system, body):
    r = Api(system.base_url, lang="zh").post("/auth/password-reset", body)
    assert r.status_code == 400 and r.json()["error"]["message"]


@pytest.mark.parametrize("body", [{"token": "short", "new_password": "brand-new-pass-9"},
                                  {"token": "x" * 43}, {"new_password": "brand-new-pass-9"}])
def test_bad_confirmations_are_refused_clearly(system, body):
    r = Api(system.base_url, lang="en").post("/auth/password-reset/confirm", body)
    assert r.status_code == 400 and r.json()["error"]["message"]


@pytest.mark.parametrize("lang,locale,width", [("zh", "zh-CN", 1280), ("en", "en-US", 390)])
def test_the_pages_in_a_browser(system, smtp, make_user, open_page, lang, locale, width):
    user = make_user()
    page = open_page(locale=locale, width=width)
    page.goto(system.base_url + "/#/login")
    page.click("#forgot-link")
    page.fill("#forgot-form input[name=login]", user.user["email"])
    page.click("#forgot-form button[type=submit]")
    expect(page.locator("#forgot-sent")).to_be_visible()
    page.screenshot(path=f"/tmp/gongdan-reset-sent-{lang}-{width}.png", full_page=True)
    _, (token,) = mailed_tokens(smtp, user.user["email"], 1)
    page.goto(f"{system.base_url}/#/reset/{token}")
    page.fill("#reset-form input[name=new_password]", "brand-new-pass-9")
    page.fill("#reset-form input[name=again]", "brand-new-pass-8")
    page.click("#reset-form button[type=submit]")
    expect(page.locator("#reset-form .has-error")).to_have_count(1)  # the two differ
    page.fill("#reset-form input[name=again]", "brand-new-pass-9")
    page.click("#reset-form button[type=submit]")
    expect(page.locator("#reset-done")).to_be_visible()
    expect(page.locator("#reset-done")).to_contain_text(
        "新密码已生效" if lang == "zh" else "Your new password works now")
    page.screenshot(path=f"/tmp/gongdan-reset-done-{lang}-{width}.png", full_page=True)
    sign_in(page, user.phone, "brand-new-pass-9")
