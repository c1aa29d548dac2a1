"""The SLA pages of the web client in a real browser: an administrator keeps business
calendars and SLA policies (#/admin/sla), previews a due time and dry-runs a policy over past
tickets; staff read the SLA compliance report and the engineer-time report (#/reports).
What the pages show is checked against the API, and the API's refusals must reach the page
next to the field they name, in the page's language.

Browser fixtures from tests/support/web.py. Screenshots: /tmp/gongdan-sla-calendars.png,
/tmp/gongdan-sla-policies.png, /tmp/gongdan-reports.png.
"""
import time

import pytest
from playwright.sync_api import expect

from tests.conftest import unique
from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.web import answer_confirm, confirmed, go_admin, sign_in

pytestmark = pytest.mark.integration


def _calendar(admin, name):
    return next((c for c in admin.get("/admin/sla/calendars").json()["items"]
                 if c["name"] == name), None)


def _policy(admin, name):
    return next((p for p in admin.get("/admin/sla/policies").json()["items"]
                 if p["name"] == name), None)


def _clock(api, ticket_id, target):
    r = api.get(f"/tickets/{ticket_id}/sla")
    return next((c for c in r.json()["clocks"] if c["target"] == target), None) \
        if r.status_code == 200 else None


def _until(check, seconds=15):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _new_calendar(page, name, tz, **hours):
    page.click("#calendar-new")
    form = page.locator("#calendar-create")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=tz]").fill(tz)
    for day, text in hours.items():
        form.locator(f"input[name=hours-{day}]").fill(text)
    return form


def _refusal(api, path, body):
    r = api.post(path, body)
    assert r.status_code == 400, r.text
    return r.json()["error"]


def test_admin_keeps_calendars_and_policies(open_page, admin, make_company,  # noqa: F811
                                            make_user):
    en = admin.__class__(admin.base_url, token=admin.token, lang="en")
    zh = admin.__class__(admin.base_url, token=admin.token, lang="zh")
    company = make_company("customer")
    cal_name, pol_name = unique("cal-"), unique("pol-")
    page = open_page(locale="en-US")
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    go_admin(page, "/admin/sla")

    # an unknown time zone: the API's message under the time zone field
    form = _new_calendar(page, cal_name, "Mars/Olympus_Mons")
    page.click("#calendar-save")
    refusal = _refusal(en, "/admin/sla/calendars",
                       {"name": cal_name, "tz": "Mars/Olympus_Mons"})
    assert refusal["details"]["fields"] == {"tz": [refusal["message"]]}
    expect(form.locator("[data-field=tz] .field-error")).to_have_text(refusal["message"])
    expect(form.locator("[role=alert]")).to_contain_text(refusal["message"])

    # working hours that end before they start: under that weekday, in the page's language
    page.select_option("#lang-switch", "zh")
    form = _new_calendar(page, cal_name, "Europe/Berlin", tue="18:00-09:00")
    page.click("#calendar-save")
    refusal = _refusal(zh, "/admin/sla/calendars", {"name": cal_name, "tz": "Europe/Berlin",
                                                    "hours": {"tue": [["18:00", "09:00"]]}})
    assert "早于" in refusal["message"]
    expect(form.locator("[data-field='hours.tue'] .field-error")).to_have_text(refusal["message"])
    expect(form.locator("[data-field=tz] .field-error")).to_be_hidden()
    assert _calendar(admin, cal_name) is None

    # fixed: two ranges on Tuesday, an extra holiday and working day, a closure
    page.select_option("#lang-switch", "en")
    form = _new_calendar(page, cal_name, "Europe/Berlin", tue="09:00-12:00, 13:00 - 18:00", fri="")
    form.locator("input[name=chinese_holidays]").uncheck()
    form.locator("input[name=holidays]").fill("2026-12-24, 2026-12-31")
    form.locator("input[name=workdays]").fill("2026-12-27")
    page.click("#closure-add")
    form.locator("input[name=closure_start]").fill("2026-12-01T08:00")
    form.locator("input[name=closure_end]").fill("2026-12-01T06:00")  # ends before it starts
    form.locator("input[name=closure_reason]").fill("move")
    page.click("#calendar-save")
    expect(form.locator("[data-field=closures] .field-error")).to_contain_text("before it starts")
    form.locator("input[name=closure_end]").fill("2026-12-01T12:00")
    page.click("#calendar-save")
    expect(page.locator("#notice")).to_contain_text("Calendar created.")
    row = page.locator("#calendar-table tr", has_text=cal_name)
    expect(row).to_contain_text("Europe/Berlin")
    expect(row).to_contain_text("09:00-12:00, 13:00-18:00")
    expect(row).to_contain_text("Extra holidays: 2")
    cal = _calendar(admin, cal_name)
    assert cal["tz"] == "Europe/Berlin" and cal["chinese_holidays"] is False
    assert cal["hours"] == {d: [["09:00", "18:00"]] for d in ("mon", "wed", "thu")} | {
        "tue": [["09:00", "12:00"], ["13:00", "18:00"]]}
    assert cal["holidays"] == ["2026-12-24", "2026-12-31"] and cal["workdays"] == ["2026-12-27"]
    assert len(cal["closures"]) == 1 and cal["closures"][0]["reason"] == "move"
    page.screenshot(path="/tmp/gongdan-sla-calendars.png", full_page=True)

    # a policy: a handoff without a team is refused under the team field
    page.click("#tab-policies")
    page.click("#policy-new")
    form = page.locator("#policy-create")
    form.locator("input[name=name]").fill(pol_name)
    form.locator("select[name=company_id]").select_option(company["id"])
    form.locator("select[name=priority]").select_option("P2")
    form.locator("select[name=calendar_id]").select_option(cal["id"])
    form.locator("input[name=response_minutes]").fill("30")
    form.locator("input[name=resolution_minutes]").fill("480")
    form.locator("input[name=warn_share]").fill("0.75")
    form.locator("select[name='escalation.action']").select_option("handoff")
    page.click("#policy-save")
    expect(form.locator("[data-field='escalation.team'] .field-error")).to_have_text(
        "A handoff names the team.")
    form.locator("input[name=warn_share]").fill("1.5")
    form.locator("input[name='escalation.team']").fill("l2-desk")
    page.click("#policy-save")
    expect(form.locator("[data-field=warn_share] .field-error")).to_be_visible()
    expect(form.locator("[data-field='escalation.team'] .field-error")).to_be_hidden()
    form.locator("input[name=warn_share]").fill("0.75")
    page.click("#policy-save")
    expect(page.locator("#notice")).to_contain_text("Policy created.")
    row = page.locator("#policy-table tr", has_text=pol_name)
    expect(row).to_contain_text(company["name"])
    expect(row).to_contain_text(cal_name)
    expect(row.locator("li[data-target=response]")).to_contain_text("30 min")
    expect(row.locator("li[data-target=resolution]")).to_contain_text("8 h")
    pol = _policy(admin, pol_name)
    assert {k: pol[k] for k in ("company_id", "ticket_type", "priority", "calendar_id",
                                "response_minutes", "resolution_minutes", "update_minutes",
                                "warn_share", "escalation", "active")} == {
        "company_id": company["id"], "ticket_type": None, "priority": "P2",
        "calendar_id": cal["id"], "response_minutes": 30, "resolution_minutes": 480,
        "update_minutes": None, "warn_share": 0.75, "active": True,
        "escalation": {"action": "handoff", "notify": ["provider_admin"],
                       "team": "l2-desk"}}

    # edit: a new response target and the update interval
    row.locator("[data-act=edit]").click()
    form = page.locator("#policy-edit")
    expect(form.locator("input[name=response_minutes]")).to_have_value("30")
    form.locator("input[name=response_minutes]").fill("45")
    form.locator("input[name=update_minutes]").fill("120")
    page.click("#policy-save")
    expect(page.locator("#notice")).to_contain_text("Policy saved.")
    pol = _policy(admin, pol_name)
    assert pol["response_minutes"] == 45 and pol["update_minutes"] == 120
    page.screenshot(path="/tmp/gongdan-sla-policies.png", full_page=True)

    # the calendar is in use: refused with the API's message; then both deleted
    page.click("#tab-calendars")
    answer_confirm(page)
    page.locator("#calendar-table tr", has_text=cal_name).locator("[data-act=delete]").click()
    assert confirmed(page)  # the page asked first
    expect(page.locator(".tab-body > [role=alert]")).to_contain_text(pol_name)
    assert _calendar(admin, cal_name)
    page.click("#tab-policies")
    answer_confirm(page)
    page.locator("#policy-table tr", has_text=pol_name).locator("[data-act=delete]").click()
    assert confirmed(page)  # the page asked first
    expect(page.locator("#notice")).to_contain_text("deleted")
    expect(page.locator("#policy-table tr", has_text=pol_name)).to_have_count(0)
    page.click("#tab-calendars")
    answer_confirm(page)
    page.locator("#calendar-table tr", has_text=cal_name).locator("[data-act=delete]").click()
    assert confirmed(page)  # the page asked first
    expect(page.locator("#calendar-table tr", has_text=cal_name)).to_have_count(0)
    assert _policy(admin, pol_name) is None and _calendar(admin, cal_name) is None

    # not for agents
    agent = make_user("agent")
    page = open_page(locale="en-US")
    sign_in(page, agent.phone, agent.password)
    expect(page.locator("nav.nav a[href='#/admin/sla']")).to_have_count(0)
    page.goto(page.url.split("#")[0] + "#/admin/sla")
    expect(page.locator(".view")).to_contain_text("You do not have access to this page.")


def _report_cells(page, group, target):
    row = page.locator(f"#sla-report-table tr[data-group='{group}'][data-target='{target}']")
    expect(row).to_be_visible()
    return {col: row.locator(f"td[data-col={col}]").inner_text()
            for col in ("clocks", "met_in_time", "breached", "open", "compliance")}


def _api_cells(api, group, target):
    rows = api.get("/reports/sla", params={"group_by": "priority", "target": target}).json()["rows"]
    r = next(x for x in rows if x["group"] == group and x["target"] == target)
    return r, {"clocks": str(r["clocks"]), "met_in_time": str(r["met_in_time"]),
               "breached": str(r["breached"]), "open": str(r["open"]),
               "compliance": "—" if r["compliance"] is None else f"{r['compliance'] * 100:.1f}%"}


def test_reports_preview_and_dry_run(open_page, admin, make_user, new_ticket):  # noqa: F811
    customer = make_user()
    agent = make_user("agent")
    cal = admin.post("/admin/sla/calendars", {"name": unique("cal-"), "always_open": True})
    assert cal.status_code == 201, cal.text
    pol = admin.post("/admin/sla/policies", {
        "name": unique("pol-"), "company_id": customer.company["id"],
        "calendar_id": cal.json()["id"], "response_minutes": 600, "resolution_minutes": 6000})
    assert pol.status_code == 201, pol.text
    first = new_ticket(customer, impact="individual", urgency="low")
    second = new_ticket(customer, impact="individual", urgency="low")
    priority = first["priority"]
    assert agent.post(f"/tickets/{first['id']}/comments", {"body": "正在处理"}).status_code == 201
    _until(lambda: (_clock(agent, first["id"], "response") or {}).get("met"))
    _until(lambda: _clock(agent, second["id"], "response"))

    # the compliance report as an agent: the same figures as the API
    page = open_page(locale="en-US")
    sign_in(page, agent.phone, agent.password)
    page.click("nav.nav a[href='#/reports']")
    page.locator("#sla-report-form select[name=target]").select_option("response")
    page.click("#sla-report-run")
    expect(page.locator("#sla-report-table")).to_be_visible()
    for _attempt in range(3):  # other modules' clocks may move between the two readings
        shown = _report_cells(page, priority, "response")
        row, expected = _api_cells(agent, priority, "response")
        if shown == expected:
            break
        page.reload()
    assert shown == expected
    assert row["clocks"] >= 2 and row["met_in_time"] >= 1 and row["open"] >= 1
    assert "group_by=priority" in page.url and "target=response" in page.url
    # grouped by type: the row for our tickets' type is there
    page.locator("#sla-report-form select[name=group_by]").select_option("type")
    page.click("#sla-report-run")
    expect(page.locator("#sla-report-table tr[data-group=defect][data-target=response]")) \
        .to_contain_text("Defect")
    # the engineer-time report draws (a table or "no time logged"), no refusal
    expect(page.locator("#time-report-table, #time-report .empty")).to_be_visible()
    expect(page.locator("#time-report-form + [role=alert]")).to_be_hidden()
    page.locator("#time-report-form input[name=to]").fill("2020-01-01")
    page.click("#time-report-run")
    expect(page.locator("#time-report-form ~ [role=alert]")).to_be_visible()
    expect(page.locator("#time-report-form [data-field=to] .field-error")).to_be_visible()
    page.screenshot(path="/tmp/gongdan-reports.png", full_page=True)

    # the preview on the China business calendar, against the API
    page = open_page(locale="en-US")
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto(page.url.split("#")[0] + "#/admin/sla?tab=preview")
    form = page.locator("#preview-form")
    form.locator("select[name=calendar_id]").select_option("cal-china-business")
    form.locator("input[name=start]").fill("2025-09-30T17:30")
    form.locator("input[name=minutes]").fill("60")
    page.click("#preview-run")
    start = page.evaluate("new Date('2025-09-30T17:30').toISOString()")
    expected = admin.post("/sla/preview", {"calendar_id": "cal-china-business", "start": start,
                                           "minutes": 60}).json()
    expect(page.locator("#preview-due-local")).to_have_text(expected["due_at_local"])
    form.locator("input[name=minutes]").fill("-5")
    page.click("#preview-run")
    expect(form.locator("[data-field=minutes] .field-error")).to_be_visible()

    # the dry run of the policy with a response target of a second: our unanswered ticket
    page.goto(page.url.split("#")[0] + "#/admin/sla?tab=policies")
    page.locator(f"#policy-table tr[data-policy-id='{pol.json()['id']}'] [data-act=edit]").click()
    form = page.locator("#policy-edit")
    form.locator("input[name=response_minutes]").fill("0.01")
    form.locator("input[name=created_from]").fill(first["created_at"][:10])
    page.click("#policy-dry-run")
    expect(page.locator("#dry-run-facts")).to_be_visible()
    created_from = page.evaluate(f"new Date('{first['created_at'][:10]}T00:00').toISOString()")
    dry = admin.post("/admin/sla/dry-run", {"policy_id": pol.json()["id"],
                                            "changes": {"response_minutes": 0.01},
                                            "created_from": created_from}).json()
    shown = {k: page.locator(f"#dry-run-facts [data-fact={k}] dd").inner_text()
             for k in ("tickets", "newly_breached")}
    assert shown == {"tickets": str(dry["tickets"]), "newly_breached": str(dry["newly_breached"])}
    assert dry["newly_breached"] >= 1
    expect(page.locator(f"#dry-run-table tr[data-ticket-id='{second['id']}']")) \
        .to_contain_text(second["number"])
    assert _policy(admin, pol.json()["name"])["response_minutes"] == 600  # nothing stored
    admin.delete(f"/admin/sla/policies/{pol.json()['id']}")
    admin.delete(f"/admin/sla/calendars/{cal.json()['id']}")
