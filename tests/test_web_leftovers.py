"""Leftover items (遗留问题) in a real browser: the engineer's closing form with a leftover row
(a refused row shows its error under the field; then it is filed), the customer follows it on
the ticket page and on #/leftovers (Chinese, phone width), and the desk's list in English with
the overdue highlight and a progress update from the ticket card (desktop and phone).

Screenshots: /tmp/gongdan-leftovers-*.png.
"""
import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.support.web import field_service, run_action, sign_in  # noqa: F401 - a fixture
from tests.test_flows import wait_for

pytestmark = pytest.mark.integration
PHONE = {"width": 390, "height": 844}


def _day(offset):
    return (dt.date.today() + dt.timedelta(days=offset)).isoformat()


def _goto(page, route):
    page.goto(page.url.split("#")[0] + "#" + route)


def _working(agent, engineer, customer, new_ticket, product, title):
    ticket = new_ticket(customer, product=product, title=title)
    assert agent.post(f"/tickets/{ticket['id']}/assign",
                      {"engineer_id": engineer.user["id"]}).status_code == 200
    wait_for(engineer, ticket["id"], lambda t: t.get("status") == "assigned")
    assert engineer.post(f"/tickets/{ticket['id']}/start").status_code == 200
    return ticket


def _no_overflow(page):
    """Nothing wider than the viewport (the phone layout keeps to 390 px)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_engineer_files_a_leftover_item_and_the_customer_follows_it(
        system, open_page, make_user, new_ticket, field_service):  # noqa: F811
    customer, agent = make_user(lang="zh"), make_user("agent")
    engineer = field_service.engineer
    ticket = _working(agent, engineer, customer, new_ticket, field_service.product, "报表导出很慢")

    page = open_page("zh-CN")
    sign_in(page, engineer.phone, engineer.password)
    _goto(page, f"/tickets/{ticket['id']}")
    form = run_action(page, "resolve")
    form.locator("select[name=root_cause] option[value=configuration]").wait_for(state="attached")
    form.locator("select[name=root_cause]").select_option("configuration")
    form.locator("textarea[name=description]").fill("调整了导出任务的并发数")
    form.locator("#add-leftover").click()
    row = form.locator(".leftover-row").first
    expect(row.locator(".leftover-row-title")).to_have_text("遗留问题 1")
    row.locator("[data-part=description]").fill("超过 10 万行的导出仍需 5 分钟")
    row.locator("[data-part=plan]").fill("8.0.3 版本改为流式导出")
    owner = row.locator("select[data-part=owner_id]")
    owner.locator(f"option[value='{engineer.user['id']}']").wait_for(state="attached")
    owner.select_option(engineer.user["id"])
    form.locator("button[type=submit]").click()  # no due date yet: refused under the field
    due_field = row.locator("[data-field='leftover_items.0.due_date']")
    expect(due_field).to_have_class("field has-error")
    expect(due_field.locator(".field-error")).to_be_visible()
    assert engineer.get(f"/tickets/{ticket['id']}").json()["status"] == "in_progress"
    page.screenshot(path="/tmp/gongdan-leftovers-close-form-zh.png", full_page=True)
    row.locator("[data-part=due_date]").fill(_day(10))
    form.locator("button[type=submit]").click()
    card = page.locator("#leftovers")
    expect(card.locator("li.leftover")).to_have_count(1)
    expect(card).to_contain_text("8.0.3 版本改为流式导出")
    expect(card.locator(".badge-lo")).to_have_text("处理中")
    assert engineer.get(f"/tickets/{ticket['id']}").json()["status"] == "resolved"

    # the customer, on a phone: the ticket's card and the list page
    phone = open_page("zh-CN", **PHONE)
    sign_in(phone, customer.phone, customer.password)
    _goto(phone, f"/tickets/{ticket['id']}")
    item = phone.locator("#leftovers li.leftover")
    expect(item).to_contain_text("超过 10 万行的导出仍需 5 分钟")
    expect(item.locator("[data-act=progress]")).to_have_count(0)  # customers only read
    item.scroll_into_view_if_needed()
    phone.screenshot(path="/tmp/gongdan-leftovers-ticket-phone-zh.png", full_page=True)
    assert _no_overflow(phone)
    phone.locator("nav.nav a[href='#/leftovers']").click()
    expect(phone.locator("#leftover-table tbody tr")).to_have_count(1)
    expect(phone.locator("#leftover-table")).to_contain_text(ticket["number"])
    phone.screenshot(path="/tmp/gongdan-leftovers-list-phone-zh.png", full_page=True)
    assert _no_overflow(phone)


def test_desk_list_marks_overdue_and_progress_is_updated_from_the_card(
        system, open_page, make_user, new_ticket, field_service):  # noqa: F811
    customer, agent = make_user(), make_user("agent", lang="en")
    engineer = field_service.engineer
    ticket = _working(agent, engineer, customer, new_ticket, field_service.product,
                      "Export is slow")
    r = engineer.post(f"/tickets/{ticket['id']}/resolve", {
        "root_cause": "configuration", "description": "Raised the export workers",
        "completed_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "leftover_items": [
            {"description": "Exports over 100k rows still take 5 minutes",
             "plan": "Streaming export in 8.0.3", "owner_id": engineer.user["id"],
             "due_date": _day(3)},
            {"description": "大文件导出偶发超时", "plan": "增加重试", "owner_id": agent.user["id"],
             "due_date": _day(20)}]})
    assert r.status_code == 200, r.text
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    stamp = past.strftime("%Y-%m-%d %H:%M:%S.%f") + ("" if system.backend == "sqlite" else "+00")
    assert system.sql("intake", "UPDATE leftover_items SET due_date = %s, due_at = %s "
                      "WHERE ticket_id = %s AND seq = 1",
                      (past - dt.timedelta(days=1)).date().isoformat(), stamp, ticket["id"],
                      write=True) == 1

    page = open_page("en-US")
    sign_in(page, agent.phone, agent.password)
    page.locator("nav.nav a[href='#/leftovers']").click()
    page.locator("#leftover-filters input[name=overdue]").check()
    page.locator("#leftover-filters button[type=submit]").click()
    late = page.locator("#leftover-table tr.late-row", has_text=ticket["number"])
    expect(late).to_have_count(1)
    expect(late.locator(".badge-lo")).to_contain_text("days overdue")
    page.screenshot(path="/tmp/gongdan-leftovers-list-en.png", full_page=True)

    # from the ticket card: 50 %, a note
    late.locator("a.ticket-link").click()
    item = page.locator("#leftovers li.leftover").first
    expect(item).to_have_class("leftover leftover-overdue leftover-open")
    item.locator("[data-act=progress]").click()
    form = item.locator("form.lo-form")
    form.locator("input[name=percent]").fill("50")
    form.locator("textarea[name=note]").fill("Prototype of the streaming export works")
    form.locator("button[type=submit]").click()
    expect(page.locator("#leftovers li.leftover").first.locator(".lo-progress-text")).to_have_text("50%")
    page.locator("#leftovers li.leftover").first.locator("details.lo-history summary").click()
    expect(page.locator("#leftovers li.leftover").first).to_contain_text("Prototype of the streaming")
    page.locator("#leftovers").screenshot(path="/tmp/gongdan-leftovers-card-en.png")

    phone = open_page("en-US", **PHONE)
    sign_in(phone, agent.phone, agent.password)
    _goto(phone, "/leftovers?status=open&overdue=true")
    expect(phone.locator("#leftover-table tr.late-row", has_text=ticket["number"])).to_have_count(1)
    phone.screenshot(path="/tmp/gongdan-leftovers-list-phone-en.png", full_page=True)
    assert _no_overflow(phone)
