"""The ticket list's tools in a real browser (issue 14), zh and en, desktop (1280 px) and phone
(390 px): more filters with removable chips, the column chooser (saved on the server, so a
second device shows the same columns), saved views, bulk actions with per-ticket results, and
tags on the ticket page (staff only).

Screenshots: /tmp/gongdan-list-*.png.
"""
import uuid

import pytest
from playwright.sync_api import expect

from tests.support.web import answer_confirm, sign_in  # noqa: F401

pytestmark = pytest.mark.integration
NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture(scope="module")
def desk(make_user, new_ticket, make_field_service):
    make_field_service(boss=False, lapsed=False)  # an engineer: the handler filter's choices
    customer = make_user()
    mark = uuid.uuid4().hex[:6]
    tickets = [new_ticket(customer, title=f"列表工具 {mark} {i}", device_sn=f"SN-{mark}-{i}")
               for i in range(3)]
    return {"customer": customer, "agent": make_user("agent"), "mark": mark, "tickets": tickets}


def _list(page, query):
    page.goto(page.url.split("#")[0] + "#/tickets?" + query)
    return page.locator("tr.ticket-row")


def test_columns_filters_views_and_bulk_on_desktop_zh(system, open_page, desk, make_user):
    agent, mark, tickets = desk["agent"], desk["mark"], desk["tickets"]
    page = open_page("zh-CN")
    sign_in(page, agent.phone, agent.password)
    rows = _list(page, f"keyword={mark}")
    expect(rows).to_have_count(3)
    expect(page.locator("#ticket-table th.c-handler")).to_have_count(1)

    # the column chooser: show the device SN, move it first, hide the handler; saved on the server
    page.click("#columns-button")
    chooser = page.locator("#column-chooser")
    expect(chooser).to_be_visible()
    expect(chooser).to_contain_text("自定义列表显示的字段")
    chooser.locator("input[value=device_sn]").check()
    chooser.locator("input[value=handler]").uncheck()
    for _ in range(12):  # keyboard-reachable arrows; the first row's "up" is disabled
        up = chooser.locator("[data-column=device_sn] [data-move=up]")
        if up.is_disabled():
            break
        up.click()
    chooser.locator("#columns-save").click()
    expect(page.locator("#notice")).to_contain_text("列设置已保存")
    expect(page.locator("#ticket-table th").nth(1)).to_have_text("设备 SN 号")  # after the checkbox
    expect(page.locator("#ticket-table th.c-handler")).to_have_count(0)
    saved = agent.get("/me/list-settings").json()
    assert saved["columns"][0] == "device_sn" and "handler" not in saved["columns"]
    other_device = open_page("zh-CN", width=390, height=844)
    sign_in(other_device, agent.phone, agent.password)
    expect(_list(other_device, f"keyword={mark}").first.locator("td.c-device_sn")).to_be_visible()
    page.screenshot(path="/tmp/gongdan-list-columns-zh-1280.png", full_page=True)

    # more filters: the device SN, shown as a removable chip
    page.click("#more-filters-toggle")
    page.fill("#filters input[name=device_sn]", f"SN-{mark}-1")
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(1)
    chip = page.locator("#filter-chips [data-filter=device_sn]")
    expect(chip).to_contain_text(f"SN-{mark}-1")
    expect(page.locator("#more-filters")).to_be_visible()  # open while one of its filters is set
    chip.locator("button.chip-x").click()
    expect(rows).to_have_count(3)

    # a saved view, shared with the desk: another agent finds it
    page.click("#view-save-open")
    page.fill("#view-form input[name=name]", f"视图 {mark}")
    page.check("#view-form input[name=shared]")
    page.click("#view-form button[type=submit]")
    expect(page.locator("#notice")).to_contain_text(f"视图 {mark}")
    expect(page.locator("#view-select option:checked")).to_contain_text(f"视图 {mark}")
    expect(rows).to_have_count(3)
    views = make_user("agent").get("/views").json()["items"]
    mine = [v for v in views if v["name"] == f"视图 {mark}"]
    assert mine and mine[0]["shared"] and mine[0]["filters"] == {"keyword": mark}

    # bulk: tag all three, then try to close them (not resolved: each refused, with the reason)
    page.check("#select-all")
    expect(page.locator("#bulk-count")).to_have_text("已选 3 个工单")
    page.select_option("#bulk-bar select[name=bulk_action]", "tag")
    page.fill("#bulk-bar input[name=tags]", f"批量{mark}")
    page.click("#bulk-apply")
    expect(page.locator("#bulk-results")).to_contain_text("成功 3 个，拒绝 0 个")
    page.check("#select-all")
    page.select_option("#bulk-bar select[name=bulk_action]", "close")
    page.click("#bulk-apply")
    results = page.locator("#bulk-results")
    expect(results).to_contain_text("成功 0 个，拒绝 3 个")
    expect(results.locator(".bulk-refused").first).to_contain_text("不适用于状态为")
    for t in tickets:
        assert agent.get(f"/tickets/{t['id']}").json()["tags"] == [f"批量{mark}"]
    page.screenshot(path="/tmp/gongdan-list-bulk-zh-1280.png", full_page=True)


def test_bulk_and_columns_on_a_phone_in_english(system, open_page, desk):
    agent, mark, tickets = desk["agent"], desk["mark"], desk["tickets"]
    page = open_page("en-US", width=390, height=844)
    sign_in(page, agent.phone, agent.password)
    rows = _list(page, f"keyword={mark}")
    expect(rows).to_have_count(3)
    assert page.evaluate(NO_OVERFLOW)
    page.click("#columns-button")
    expect(page.locator("#column-chooser")).to_contain_text("Choose the list's columns")
    assert page.evaluate(NO_OVERFLOW)
    page.locator("#column-chooser button", has_text="Cancel").click()
    rows.nth(0).locator("input.row-select").check()
    expect(page.locator("#bulk-count")).to_have_text("1 selected")
    page.select_option("#bulk-bar select[name=bulk_action]", "priority")
    page.select_option("#bulk-bar select[name=priority]", "P1")
    page.click("#bulk-apply")
    expect(page.locator("#bulk-results")).to_contain_text("1 done, 0 refused")
    assert page.evaluate(NO_OVERFLOW)
    page.click("#more-filters-toggle")
    expect(page.locator("#filters input[name=tag]")).to_be_visible()
    for name in ("product_line", "product", "company_id", "handler_id", "sla_breached"):
        expect(page.locator(f"#filters select[name={name}]")).to_be_visible()
    for name in ("device_sn", "number", "sla_due_before"):
        expect(page.locator(f"#filters input[name={name}]")).to_be_visible()
    assert page.evaluate(NO_OVERFLOW)
    page.screenshot(path="/tmp/gongdan-list-bulk-en-390.png", full_page=True)
    numbers = {t["number"] for t in tickets}
    changed = [t for t in agent.get("/tickets", params={"keyword": mark}).json()["items"]
               if t["priority"] == "P1"]
    assert len(changed) == 1 and changed[0]["number"] in numbers


def test_tags_on_the_ticket_page_staff_only(system, open_page, desk):
    agent, customer, ticket = desk["agent"], desk["customer"], desk["tickets"][0]
    for lang, width in (("en-US", 1280), ("zh-CN", 390)):
        page = open_page(lang, width=width)
        sign_in(page, agent.phone, agent.password)
        page.goto(page.url.split("#")[0] + f"#/tickets/{ticket['id']}")
        editor = page.locator(".ticket-tags")
        expect(editor).to_be_visible()
        page.fill("#tag-form input[name=tag]", "紧急客户, VIP")
        page.click("#tag-form button[type=submit]")
        expect(page.locator("#ticket-tags [data-tag=vip]")).to_be_visible()
        expect(page.locator("#ticket-tags [data-tag=紧急客户]")).to_be_visible()
        page.fill("#tag-form input[name=tag]", "a,b," + "x" * 40)
        page.click("#tag-form button[type=submit]")
        expect(editor.locator(".msg-error")).to_be_visible()  # refused, in the page's language
        page.locator("#ticket-tags [data-tag=vip] button.chip-x").click()
        expect(page.locator("#ticket-tags [data-tag=vip]")).to_have_count(0)
        assert page.evaluate(NO_OVERFLOW)
        page.screenshot(path=f"/tmp/gongdan-list-tags-{lang}-{width}.png", full_page=True)

    page = open_page("zh-CN", width=390, height=844)
    sign_in(page, customer.phone, customer.password)
    rows = _list(page, f"keyword={desk['mark']}")
    expect(rows).to_have_count(3)
    expect(page.locator("input.row-select")).to_have_count(0)   # no bulk actions for customers
    expect(page.locator("td.c-tags")).to_have_count(0)
    page.click("#columns-button")
    expect(page.locator("#column-chooser input[value=tags]")).to_have_count(0)
    page.goto(page.url.split("#")[0] + f"#/tickets/{ticket['id']}")
    expect(page.locator("h1.ticket-title")).to_be_visible()
    expect(page.locator(".ticket-tags")).to_have_count(0)
    assert "紧急客户" not in page.locator("main").inner_text()
