"""The web client's bell and inbox in a real browser: the unread count follows the live
stream, the inbox lists the message in the user's language, and "mark all read" clears it.
(Browser fixtures from tests/support/web.py.)"""
import pytest
from playwright.sync_api import expect

from tests.support.web import sign_in

pytestmark = pytest.mark.integration


def test_bell_counts_live_and_inbox_marks_read(open_page, make_user, new_ticket):  # noqa: F811
    customer = make_user(lang="zh")
    assert customer.patch("/me", {"language": "zh"}).status_code == 200
    page = open_page(locale="zh-CN")
    sign_in(page, customer.phone, customer.password)
    bell = page.locator("#bell")
    expect(bell).to_be_visible()
    expect(bell.locator(".bell-count")).to_be_hidden()

    ticket = new_ticket(customer, title="铃铛测试")  # the "accepted" notice arrives live
    expect(bell.locator(".bell-count")).to_have_text("1")

    bell.click()
    item = page.locator("#inbox-list .inbox-item.unread")
    expect(item).to_have_count(1)
    expect(item.locator(".inbox-title")).to_contain_text(ticket["number"])
    expect(item.locator(".inbox-body")).to_contain_text("已受理")
    page.click("#read-all")
    expect(page.locator("#inbox-list .inbox-item.unread")).to_have_count(0)
    expect(bell.locator(".bell-count")).to_be_hidden()
    page.locator("#inbox-list .inbox-open").first.click()
    expect(page.locator("h1.ticket-title")).to_have_text("铃铛测试")
