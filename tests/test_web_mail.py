"""The mail-in admin pages in a real browser (#/admin/mail): the support mailboxes with a
connection test against the real IMAP server, the API's refusal under the field it names,
and a held-aside mail shown, read and discarded. The mail rig (dovecot, LMTP, SMTP sink, the
channels service restarted for them) comes from tests/test_mail_in.py.
Screenshot: /tmp/gongdan-mail-admin.png."""
import pytest
from playwright.sync_api import expect

from tests.conftest import unique
from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.test_mail_in import lmtp_send, mailrig  # noqa: F401 - fixture
from tests.support.web import answer_confirm, confirmed, go_admin, sign_in

pytestmark = pytest.mark.integration


def test_admin_tests_a_mailbox_and_clears_a_held_mail(open_page, mailrig, admin):  # noqa: F811
    page = open_page(locale="en-US")
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    go_admin(page, "/admin/mail")
    row = page.locator(f"tr[data-mailbox-id='{mailrig['box']['id']}']")
    expect(row).to_contain_text("support@gongdan.test")
    row.locator("button[data-act=test]").click()
    expect(row.locator("[data-test-result]")).to_contain_text("Connected")
    page.screenshot(path="/tmp/gongdan-mail-admin.png", full_page=True)

    form = page.locator("#mailbox-form")
    form.locator("input[name=name]").fill("broken")
    form.locator("input[name=address]").fill("no-at-sign")
    form.locator("input[name=port]").fill("70000")
    page.click("#mailbox-save")
    expect(form.locator("[data-field=address] .field-error")).to_be_visible()
    expect(form.locator("[data-field=port] .field-error")).to_be_visible()
    # an LMTP mailbox whose unknown senders open a pending registration
    name = unique("web-register-")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=address]").fill(f"{name}@gongdan.test")
    form.locator("input[name=port]").fill("")
    form.locator("select[name=protocol]").select_option("lmtp")
    form.locator("select[name=unknown_sender]").select_option("register")
    page.click("#mailbox-save")
    expect(page.locator("tr[data-mailbox-id]", has_text=f"{name}@gongdan.test")).to_have_count(1)
    (made,) = [b for b in admin.get("/admin/mailboxes").json()["items"] if b["name"] == name]
    assert made["unknown_sender"] == "register"
    assert admin.delete(f"/admin/mailboxes/{made['id']}").status_code == 200

    lmtp_send(mailrig["lmtp_port"], "", b"To: support@gongdan.test\r\nSubject: web-held\r\n"
                                        b"\r\nwho sent this?\r\n")
    page.click("#tab-held")
    held = page.locator("#held-table tr", has_text="web-held")
    expect(held).to_have_count(1)
    expect(held).to_contain_text("no usable sender")
    held.locator("button[data-act=show]").click()
    expect(page.locator("pre.mail-text")).to_contain_text("who sent this?")
    answer_confirm(page)
    held.locator("button[data-act=discard]").click()
    expect(page.locator("#notice")).to_contain_text("discarded")
    assert "Discard" in confirmed(page)
    expect(page.locator("#held-table tr", has_text="web-held")).to_have_count(0)
