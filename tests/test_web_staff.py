"""The staff's ticket work in the web client, in headless Chromium against the real system:
an agent files a ticket for a customer company; a repair's life through the page (an agent
assigns a qualified engineer, who starts, logs work, uploads the on-site report and resolves;
the customer confirms and rates; the timeline shows it all).

Browser fixtures: tests/support/web.py. Screenshot: /tmp/gongdan-repair.png.
"""
import re

import pytest
from playwright.sync_api import expect

from tests.support.web import (field_service, fill_ticket_form, needs_chromium,  # noqa: F401
                               run_action, sign_in, status_badge, unique_title)

pytestmark = [pytest.mark.integration, needs_chromium]

PDF = b"%PDF-1.7\n" + b"report " * 200


def test_agent_files_a_ticket_for_a_customer_company(system, open_page, make_user, make_company,
                                                     product):
    agent, company = make_user("agent"), make_company("customer")
    title = unique_title("Phone call: VPN drops")
    page = open_page("en-US")
    sign_in(page, agent.phone, agent.password)
    page.click("nav.nav a[href='#/tickets/new']")
    form = page.locator("#new-ticket")
    fill_ticket_form(form, title, "consult", "network", product,
                     "Customer called: the VPN drops every hour.")
    form.locator("input[name=contact_phone]").fill("021-5555 0101")
    form.locator("button[type=submit]").click()
    # no company chosen: the API's own message says what is needed
    expect(form.locator(".msg-error").first).to_contain_text("company")
    form.locator("select[name=company_id]").select_option(company["id"])
    form.locator("button[type=submit]").click()
    expect(page.locator("h1.ticket-title")).to_have_text(title)
    expect(page.locator(".facts")).to_contain_text(company["name"])
    expect(page.locator("#notice")).to_contain_text("was submitted")


# ---- the work lifecycle: a repair through the page ------------------------------------------

def test_repair_path_through_the_page(system, open_page, make_user, new_ticket, field_service):
    customer, agent = make_user(), make_user("agent")
    engineer = field_service.engineer
    title = unique_title("存储设备无法启动")
    ticket = new_ticket(customer, type="repair", title=title, product=field_service.product,
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
