"""The customer's pages of the web client in headless Chromium against the real system: a
customer files a ticket with attachments, finds it in the list, replies; an agent sees the
reply, writes an internal note and asks for information; the customer provides it. Per-file
upload errors (type, size, storage down), the list's filters, sorting and paging, and a
phone-sized screen.

Browser fixtures: tests/support/web.py. Screenshots of the ticket page go to
/tmp/gongdan-detail.png and /tmp/gongdan-detail-phone.png.
"""
import datetime as dt
import os
import uuid

import pytest
from playwright.sync_api import expect

from tests.conftest import TEST_UPLOAD_LIMIT
from tests.support.web import (PNG, fill_ticket_form, needs_chromium, open_ticket_from_list,
                               sign_in, status_badge, unique_title)

pytestmark = [pytest.mark.integration, needs_chromium]

EXE = b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(4000)


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
    fill_ticket_form(form, title, "defect", "network", product,
                     "办公室打印机从今天上午开始无法连接。\n其他电脑也一样。")
    form.locator("input[name=product_version]").fill("8.0")
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
    # a refused file stays refused: no retry, neither its own nor the panel's
    expect(bad.locator("button.up-retry")).to_be_hidden()
    expect(panel.locator(".form-actions button", has_text="重试")).to_be_hidden()
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
    expect(desk.locator("nav.nav a").first).to_have_text("Dashboard")  # the desk's home
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


# ---- attachments that fail -------------------------------------------------------------

def test_upload_errors_are_shown_per_file_and_the_ticket_survives(system, open_page, make_user,
                                                                    product):
    customer = make_user()
    title = unique_title("存储故障时提交")
    page = open_page("en-US")
    sign_in(page, customer.phone, customer.password)
    page.goto(system.base_url + "/#/tickets/new")
    form = page.locator("#new-ticket")
    fill_ticket_form(form, title, "consult", "other", product, "Attachments while storage is down.")
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
    panel.locator(".form-actions button", has_text="Retry").click()  # every failed file again
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
    # the reset renders a new filter form once its data is in: typing into the old one
    # (still showing "consult") would be lost with it (seen on a loaded machine)
    expect(page.locator("#filters select[name=type]")).to_have_value("")
    expect(rows).to_have_count(10)
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
