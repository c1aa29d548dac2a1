"""The notification settings pages of the web client in a real browser: a customer's own
preferences (#/me/preferences), an administrator's webhooks with their delivery log
(#/webhooks) and the notification rules, templates and all deliveries
(#/admin/notifications). What the pages show is checked against the API, and the API's
refusals must reach the page next to the field they concern, in the page's language.

Browser fixtures from tests/support/web.py; the webhook receiver and the notify service
restarted with 127.0.0.1 allowed by the SSRF policy come from tests/test_notify.py (`rig`).
Screenshots: /tmp/gongdan-prefs.png, /tmp/gongdan-notify-rules.png, /tmp/gongdan-template.png,
/tmp/gongdan-webhook-log.png.
"""
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import unique
from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.test_notify import rig, wait_until  # noqa: F401 - fixture
from tests.support.web import answer_confirm, confirmed, go_admin, sign_in

pytestmark = pytest.mark.integration


def test_company_admin_takes_the_daily_digest(open_page, make_user):  # noqa: F811
    admin = make_user(role="customer_admin")
    page = open_page(locale="en-US")
    sign_in(page, admin.phone, admin.password)
    page.click("#prefs-link")
    section = page.locator("#digest-section")
    expect(section).to_be_visible()
    expect(section.locator("#digest-enabled")).not_to_be_checked()
    section.locator("#digest-enabled").check()
    section.locator("#digest-time").fill("07:30")
    page.click("#prefs-save")
    expect(page.locator("#notice")).to_contain_text("saved")
    digest = admin.get("/me/preferences").json()["digest"]
    assert digest["enabled"] is True and digest["time"] == "07:30" and digest["next_at"]

    page.reload()
    section = page.locator("#digest-section")
    expect(section.locator("#digest-enabled")).to_be_checked()
    expect(section.locator("#digest-time")).to_have_value("07:30")
    expect(section.locator("#digest-next")).to_contain_text("Next digest")
    section.locator("#digest-enabled").uncheck()  # off again: saved as off
    page.click("#prefs-save")
    expect(page.locator("#notice")).to_contain_text("saved")
    assert admin.get("/me/preferences").json()["digest"]["enabled"] is False


def test_customer_keeps_preferences_and_reads_refusals(open_page, make_user):  # noqa: F811
    customer = make_user()
    page = open_page(locale="en-US")
    sign_in(page, customer.phone, customer.password)
    # a customer has the settings, not the administrators' pages
    expect(page.locator("nav.nav a[href='#/webhooks']")).to_have_count(0)
    expect(page.locator("nav.nav a[href='#/admin/notifications']")).to_have_count(0)
    for hidden in ("#/webhooks", "#/admin/notifications"):
        page.goto(page.url.split("#")[0] + hidden)
        expect(page.locator(".view")).to_contain_text("You do not have access to this page.")
    page.click("#prefs-link")
    form = page.locator("#prefs-form")
    expect(form.locator("tr[data-kind=reply]")).to_be_visible()
    expect(page.locator("#digest-section")).to_have_count(0)  # company admins only
    expect(form.locator("tr[data-kind=sla_breached]")).to_be_hidden()  # folded away for customers

    form.locator("select[name=language]").select_option("en")
    reply = form.locator("tr[data-kind=reply]")
    expect(reply.locator("input[data-channel=email]")).to_be_disabled()  # follows the rule
    reply.locator("input[name=custom-reply]").check()
    reply.locator("input[data-channel=inbox]").check()
    form.locator("tr[data-kind=closed] input[name=custom-closed]").check()  # nothing = muted
    form.locator("input[name=quiet_start]").fill("22:00")
    form.locator("input[name=quiet_end]").fill("07:30")
    form.locator("input[name=timezone]").fill("Europe/Berlin")
    page.click("#prefs-save")
    expect(page.locator("#notice")).to_contain_text("saved")
    kept = {"language": "en", "channels": {"reply": ["inbox"], "closed": []},
            "quiet_start": "22:00", "quiet_end": "07:30", "timezone": "Europe/Berlin"}
    prefs = customer.get("/me/preferences").json()
    assert {k: prefs[k] for k in kept} == kept

    page.reload()
    form = page.locator("#prefs-form")
    expect(form.locator("select[name=language]")).to_have_value("en")
    expect(form.locator("tr[data-kind=reply] input[name=custom-reply]")).to_be_checked()
    expect(form.locator("tr[data-kind=reply] input[data-channel=inbox]")).to_be_checked()
    expect(form.locator("tr[data-kind=reply] input[data-channel=email]")).not_to_be_checked()
    expect(form.locator("tr[data-kind=closed] input[name=custom-closed]")).to_be_checked()
    expect(form.locator("tr[data-kind=accepted] input[name=custom-accepted]")).not_to_be_checked()
    expect(form.locator("input[name=quiet_start]")).to_have_value("22:00")
    expect(form.locator("input[name=quiet_end]")).to_have_value("07:30")
    expect(form.locator("input[name=timezone]")).to_have_value("Europe/Berlin")

    # refusals land next to their field, in the page's language, and change nothing
    form.locator("input[name=timezone]").fill("Mars/Olympus_Mons")
    page.click("#prefs-save")
    expect(form.locator("[data-field=timezone] .field-error")).to_have_text("Unknown time zone.")
    expect(form.locator("[role=alert]")).to_be_visible()
    page.select_option("#lang-switch", "zh")  # the page is drawn again from the server
    form = page.locator("#prefs-form")
    expect(form.locator("input[name=timezone]")).to_have_value("Europe/Berlin")
    form.locator("input[name=timezone]").fill("Mars/Olympus_Mons")
    page.click("#prefs-save")
    expect(form.locator("[data-field=timezone] .field-error")).to_have_text("未知时区。")
    form.locator("input[name=timezone]").fill("Asia/Shanghai")
    form.locator("input[name=quiet_end]").fill("")
    page.click("#prefs-save")
    expect(form.locator("[data-field=quiet_end] .field-error")).to_contain_text("同时")
    page.screenshot(path="/tmp/gongdan-prefs.png", full_page=True)
    assert {k: v for k, v in customer.get("/me/preferences").json().items() if k in kept} == kept


@pytest.fixture
def restore_notify_settings(admin):
    """Whatever the test leaves changed goes back to the shipped rules and templates: other
    modules share this system."""
    touched = {"rules": [], "templates": []}
    yield touched
    for rule_id in touched["rules"]:
        admin.delete(f"/admin/notification-rules/{rule_id}")
    for kind, language in touched["templates"]:
        admin.delete(f"/admin/notification-templates/{kind}/{language}")


def _rule(admin, rule_id):
    return next(r for r in admin.get("/admin/notification-rules").json()["items"]
                if r["id"] == rule_id)


def _template(admin, kind, language):
    return next(x for x in admin.get("/admin/notification-templates").json()["items"]
                if (x["kind"], x["language"]) == (kind, language))


def test_admin_switches_rules_and_edits_templates(open_page, admin,  # noqa: F811
                                                  restore_notify_settings):
    restore_notify_settings["rules"] += ["resolved", "reply"]
    restore_notify_settings["templates"].append(("resolved", "en"))
    page = open_page(locale="en-US")
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    go_admin(page, "/admin/notifications")

    # switch a shipped rule off: it is now an override, and off
    row = page.locator("#rule-table tr[data-rule-id=resolved]")
    expect(row).to_contain_text("Shipped")
    row.locator("input[data-act=enabled]").uncheck()
    expect(page.locator("#notice")).to_contain_text("Rule resolved disabled")
    row = page.locator("#rule-table tr[data-rule-id=resolved]")
    expect(row).to_have_class(re.compile(r"\brule-off\b"))
    expect(row).to_contain_text("Changed")
    assert (_rule(admin, "resolved")["enabled"], _rule(admin, "resolved")["overridden"]) == \
        (False, True)

    # change another's channels; a rule without recipients is refused under that group
    page.locator("#rule-table tr[data-rule-id=reply] button[data-act=edit]").click()
    edit = page.locator("tr[data-edit-rule=reply] form")
    edit.locator("input[name=recipients][value=submitter]").uncheck()
    edit.locator("button[type=submit]").click()
    expect(edit.locator("[data-field=recipients] .field-error")).to_be_visible()
    expect(edit.locator("[role=alert]")).to_be_visible()
    assert _rule(admin, "reply")["recipients"] == ["submitter"]
    edit.locator("input[name=recipients][value=submitter]").check()
    edit.locator("input[name=channels][value=email]").uncheck()
    edit.locator("input[name=sms_on_p1]").check()
    edit.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_contain_text("Rule reply saved")
    reply = _rule(admin, "reply")
    assert (reply["channels"], reply["sms_on_p1"], reply["when"]["internal"]) == \
        (["inbox"], True, False)  # the condition the page does not show is kept
    expect(page.locator("#rule-table tr[data-rule-id=reply]")).to_contain_text("+SMS for P1")
    page.screenshot(path="/tmp/gongdan-notify-rules.png", full_page=True)

    # back to the shipped rule
    page.locator("#rule-table tr[data-rule-id=resolved] button[data-act=reset]").click()
    expect(page.locator("#notice")).to_contain_text("back to its shipped settings")
    expect(page.locator("#rule-table tr[data-rule-id=resolved] input[data-act=enabled]")).to_be_checked()
    assert (_rule(admin, "resolved")["enabled"], _rule(admin, "resolved")["overridden"]) == \
        (True, False)

    # a template: a good change is kept, a broken one is refused with the reason, then revert
    page.click("#tab-templates")
    row = page.locator("#template-table tr[data-template='resolved/en']")
    row.locator("button[data-act=edit]").click()
    edit = page.locator("tr[data-edit-template='resolved/en'] form")
    edit.locator("input[name=subject]").fill("Solved: {{ ticket.number }} {{ ticket.title }}")
    edit.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_contain_text("saved")
    row = page.locator("#template-table tr[data-template='resolved/en']")
    expect(row).to_contain_text("Solved: {{ ticket.number }}")
    expect(row).to_contain_text("Changed")
    row.locator("button[data-act=edit]").click()
    edit = page.locator("tr[data-edit-template='resolved/en'] form")
    expect(edit.locator("input[name=subject]")).to_have_value("Solved: {{ ticket.number }} {{ ticket.title }}")
    edit.locator("textarea[name=text]").fill("Hello {% if ticket.number %}")
    edit.locator("button[type=submit]").click()
    expect(edit.locator("[role=alert]")).to_contain_text("nothing was saved")
    expect(edit.locator("[data-field=text] .field-error")).to_contain_text("Line 1")
    expect(edit.locator("[data-field=subject] .field-error")).to_be_hidden()
    page.screenshot(path="/tmp/gongdan-template.png", full_page=True)
    saved = _template(admin, "resolved", "en")
    assert saved["subject"].startswith("Solved:") and not saved["text"].startswith("Hello")
    page.locator("#template-table tr[data-template='resolved/en'] button[data-act=revert]").click()
    expect(page.locator("#notice")).to_contain_text("back to the shipped version")
    expect(page.locator("#template-table tr[data-template='resolved/en'] button[data-act=revert]")).to_have_count(0)
    assert not _template(admin, "resolved", "en")["overridden"]


def test_admin_webhook_ping_log_and_replay(open_page, admin, rig):  # noqa: F811
    _, receiver = rig
    path = "/ui-" + unique("hook")
    page = open_page(locale="en-US")
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    go_admin(page, "/webhooks")
    page.click("#hook-new")
    form = page.locator("#hook-create")
    form.locator("input[name=url]").fill("http://10.1.2.3/private")  # the SSRF policy says no
    form.locator("input[name=event_types]").fill("intake.ticket_created, dispatch.*")
    form.locator("input[name=description]").fill("UI test receiver")
    form.locator("button[type=submit]").click()
    expect(form.locator("[data-field=url] .field-error")).to_be_visible()
    form.locator("input[name=url]").fill(receiver.url(path))
    form.locator("button[type=submit]").click()

    # the secret is shown once, and it is the one the deliveries are signed with
    secret = page.locator("#hook-secret code").inner_text()
    assert len(secret) >= 16
    receiver.secret_of[path] = secret
    row = page.locator("#hook-table tr", has_text=path)
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("dispatch.*")
    hook = next(x for x in admin.get("/webhooks").json()["items"] if x["url"].endswith(path))
    assert "secret" not in hook and hook["event_types"] == ["intake.ticket_created", "dispatch.*"]

    # off and on again, and a new description
    row.locator("button[data-act=toggle]").click()
    expect(page.locator("#hook-table tr", has_text=path)).to_contain_text("Disabled")
    assert not admin.get(f"/webhooks/{hook['id']}").json()["active"]
    page.locator("#hook-table tr", has_text=path).locator("button[data-act=toggle]").click()
    expect(page.locator("#hook-table tr", has_text=path)).to_contain_text("Active")
    assert admin.get(f"/webhooks/{hook['id']}").json()["event_types"] == hook["event_types"]
    page.locator("#hook-table tr", has_text=path).locator("button[data-act=edit]").click()
    page.locator("#hook-edit input[name=description]").fill("Receiver of the UI test")
    page.locator("#hook-edit button[type=submit]").click()
    expect(page.locator("#hook-table tr", has_text=path)).to_contain_text("Receiver of the UI test")

    # a ping that fails once (HTTP 500) and then gets through: the log follows by itself
    receiver.plan[path] = 1
    page.locator("#hook-table tr", has_text=path).locator("button[data-act=ping]").click()
    expect(page).to_have_url(re.compile(f"#/webhooks/{hook['id']}$"))
    expect(page.locator("#hook-facts")).to_contain_text("intake.ticket_created, dispatch.*")
    first = page.locator("#delivery-table tbody tr").first
    expect(first).to_have_attribute("data-status", "sent")
    expect(first.locator(".deliv-code")).to_have_text("200")
    first.locator(".attempts summary").click()
    expect(first.locator(".attempts li")).to_have_count(2)
    expect(first.locator(".attempts li").first).to_contain_text("HTTP 500")
    calls = receiver.calls_to(path)
    assert [c["status"] for c in calls] == [500, 200] and all(c["signed"] for c in calls)
    failures = page.locator("#hook-facts div", has_text="Failures in a row").locator("dd")
    expect(failures).to_have_text("0")  # the 200 ended the run of failures

    # replay: a new delivery of the same event (answered at once this time)
    receiver.plan[path] = 0
    first.locator("button[data-act=replay]").click()
    expect(page.locator("#delivery-table tbody tr")).to_have_count(2)
    newest = page.locator("#delivery-table tbody tr").first
    expect(newest).to_contain_text("replay of")
    expect(newest).to_have_attribute("data-status", "sent")
    calls = wait_until(lambda: len(receiver.calls_to(path)) == 3 and receiver.calls_to(path),
                       what="the replay reached the receiver")
    assert calls[2]["body"]["event_id"] == calls[0]["body"]["event_id"]
    assert calls[2]["delivery"] != calls[0]["delivery"] and calls[2]["signed"]
    page.screenshot(path="/tmp/gongdan-webhook-log.png", full_page=True)

    # the same deliveries in the administrators' log of all deliveries, filtered
    go_admin(page, "/admin/notifications")
    page.click("#tab-deliveries")
    log = page.locator("#delivery-log")
    log.locator("select[name=channel]").select_option("webhook")
    log.locator("select[name=status]").select_option("sent")
    expect(log.locator("#delivery-table tbody tr", has_text=path)).to_have_count(2)
    expect(log.locator("#delivery-table tbody tr[data-status=pending]")).to_have_count(0)

    # deleted: gone from the list
    go_admin(page, "/webhooks")
    answer_confirm(page)
    page.locator("#hook-table tr", has_text=path).locator("button[data-act=delete]").click()
    assert confirmed(page)  # the page asked first
    expect(page.locator("#hook-table tr", has_text=path)).to_have_count(0)
    assert admin.get(f"/webhooks/{hook['id']}").status_code == 404
