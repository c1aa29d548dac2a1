"""The IM pages of the web client in a real browser: a customer company's admin keeps the
company's group robots at #/robots (add, test message, delivery log, a refusal under its
field), and a customer binds an IM account on #/me/preferences with the code the bridge
then sends. Browser fixtures from tests/test_web.py; the robot receiver and the notify
service allowed to reach 127.0.0.1 from tests/test_im.py."""
import json

import pytest
from playwright.sync_api import expect

from tests.conftest import unique
from tests.test_im import receiver, signed_post, wait_until  # noqa: F401 - fixture
from tests.support.web import answer_confirm, sign_in

pytestmark = pytest.mark.integration


def test_company_admin_keeps_robots_on_the_page(open_page, make_user, receiver):  # noqa: F811
    boss = make_user("customer_admin")
    key = "wk-" + unique("")
    receiver.keys["/wecom/send"] = key
    page = open_page(locale="en-US")
    sign_in(page, boss.phone, boss.password)
    page.click("nav.nav a[href='#/robots']")
    expect(page.locator("#robots-none")).to_be_visible()
    page.click("#robot-new")
    form = page.locator("#robot-create")
    expect(form.locator("#robot-owner")).to_have_count(0)  # their own company, no choice
    expect(form.locator("#robot-secret")).to_be_hidden()  # WeCom signs nothing
    form.locator("#robot-name").fill("值班群")
    form.locator("#robot-url").fill("http://10.9.8.7/wecom/send?key=x")
    page.click("#robot-save")
    expect(form.locator("[data-field=url] .field-error")).to_contain_text("address")
    form.locator("#robot-url").fill(f"{receiver.base()}/wecom/send?key={key}")
    page.click("#robot-save")
    expect(page.locator("#notice")).to_contain_text("Robot added")
    row = page.locator("#robot-table tr[data-platform=wecom]")
    expect(row).to_contain_text("key=***")
    assert key not in page.content()  # the credential is never shown back
    [robot] = boss.get("/robots").json()["items"]
    row.locator("button[data-act=test]").click()
    expect(page.locator("#notice")).to_contain_text("Test message queued")
    wait_until(lambda: any(c["ok"] and "值班群" in json.dumps(c["body"], ensure_ascii=False)
                           for c in receiver.calls_to("/wecom/send")), what="the test message")
    wait_until(lambda: boss.get(f"/robots/{robot['id']}/deliveries").json()["items"][0][
        "status"] == "sent", what="delivery recorded")
    row.locator("button[data-act=log]").click()
    log = page.locator(f"#robot-log-{robot['id']}")
    expect(log.locator("tr[data-status=sent]")).to_have_count(1)
    expect(log.locator(".attempt[data-ok=true]")).to_contain_text("200")
    answer_confirm(page)
    row.locator("button[data-act=delete]").click()
    expect(page.locator("#robots-none")).to_be_visible()
    assert boss.get("/robots").json()["items"] == []


def test_customer_binds_an_im_account_on_the_preferences_page(system, open_page, admin,  # noqa: F811
                                                              make_user):
    channel, gone = unique("feishu-").lower(), unique("wecom-").lower()
    secret = admin.put(f"/admin/im-bridges/{channel}", {}).json()["secret"]
    admin.put(f"/admin/im-bridges/{gone}", {})
    customer = make_user()
    page = open_page(locale="zh-CN")
    sign_in(page, customer.phone, customer.password)
    expect(page.locator("nav.nav a[href='#/robots']")).to_have_count(0)  # not theirs
    page.click("#prefs-link")
    section = page.locator("#im-section")
    expect(section.locator("#im-bindings-none")).to_be_visible()
    # the channel is a choice of the active bridges, labelled by platform
    expect(section.locator(f"#im-channel option[value='{channel}']")).to_have_text(f"飞书 · {channel}")
    # a bridge switched off after the page loaded: refused in words
    assert admin.delete(f"/admin/im-bridges/{gone}").status_code == 204
    section.locator("#im-channel").select_option(gone)
    section.locator("#im-user-id").fill("ou_123")
    section.locator("#im-bind").click()
    expect(section.locator(".msg-error")).to_contain_text(gone)
    section.locator("#im-channel").select_option(channel)
    section.locator("#im-bind").click()
    code = section.locator("#im-code code")
    expect(code).to_contain_text("bind ")
    expect(section.locator("li[data-status=pending]")).to_be_visible()
    r = signed_post(system, channel, secret, {"message_id": unique("m-"), "user_id": "ou_123",
                                              "text": code.inner_text()})
    assert r.json()["action"] == "bound", r.text
    page.reload()
    expect(page.locator("#im-section li[data-status=confirmed]")).to_contain_text("ou_123")
    page.locator("#im-section button[data-act=unbind]").click()
    expect(page.locator("#im-bindings-none")).to_be_visible()
