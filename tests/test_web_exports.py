"""Exports in a real browser: the "Export" buttons on the ticket list and the reports page
queue an export of what the page shows, and #/exports follows it to a download, in Chinese
and English, at desktop and phone (390 px) width.
Screenshots: /tmp/gongdan-exports-<lang>-<width>.png."""
import re

import pytest
from playwright.sync_api import expect

from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.web import sign_in

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def company(make_user, new_ticket):
    boss = make_user("customer_admin")
    for i in range(3):
        new_ticket(boss, title=f"网页导出 {i}")
    return boss


@pytest.mark.parametrize("locale,width,fmt,texts", [
    ("zh-CN", 1280, "xlsx", ("我的导出", "已完成", "下载", "工单列表")),
    ("en-US", 390, "csv", ("My exports", "Done", "Download", "Ticket list")),
])
def test_export_the_ticket_list_and_download_it(open_page, company, locale, width, fmt, texts):
    page = open_page(locale=locale, width=width)
    sign_in(page, company.phone, company.password)
    page.goto(page.url.split("#")[0] + "#/tickets?keyword=网页导出")
    expect(page.locator(".ticket-row")).to_have_count(3)
    page.click(f"#export-tickets button[data-format={fmt}]")
    expect(page).to_have_url(re.compile(r"#/exports$"))
    row = page.locator(".export-row").first
    expect(row).to_have_attribute("data-status", "done", timeout=60_000)
    for text in texts:
        expect(page.locator(".view")).to_contain_text(text)
    expect(row).to_contain_text("3")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=f"/tmp/gongdan-exports-{locale[:2]}-{width}.png", full_page=True)
    with page.expect_download() as download:
        row.locator(".export-download").click()
    assert download.value.suggested_filename.endswith(f".{fmt}")
    # the job's filters were the list's: only the three tickets the page showed
    job = company.get(f"/exports/{row.get_attribute('data-id')}").json()
    assert job["filters"] == {"keyword": "网页导出"} and job["rows_done"] == 3
    row.locator(".export-delete").click()
    expect(page.locator(f".export-row[data-id='{job['id']}']")).to_have_count(0)


def test_staff_export_a_report_and_bad_dates_are_refused_on_the_page(open_page, admin):
    page = open_page(locale="en-US")
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto(page.url.split("#")[0] + "#/reports")
    expect(page.locator("#export-sla")).to_be_visible()
    # engineer time without a period: refused by worklog, the message shown beside the buttons
    page.fill("#time-report-form input[name=from]", "")
    page.click("#export-engineer_time button[data-format=csv]")
    expect(page.locator("#export-engineer_time")).to_contain_text("missing or invalid")
    page.click("#export-sla button[data-format=xlsx]")
    expect(page).to_have_url(re.compile(r"#/exports$"))
    expect(page.locator(".export-row").first).to_contain_text("SLA report")
