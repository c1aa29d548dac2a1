"""The dashboard (#/dashboard) and the charts on #/reports in a real browser: the desk and
provider admins land on the dashboard, its charts draw from the vendored Chart.js with the
numbers the API gives (each with a data table), in Chinese and English, on a desktop and on
a 390 px phone, and no page asks anything from another origin.

Screenshots: /tmp/gongdan-dashboard-zh.png, /tmp/gongdan-dashboard-phone-en.png,
/tmp/gongdan-reports-charts-en.png.
"""
import re

import pytest
from playwright.sync_api import expect

from tests.support.web import sign_in
from tests.test_flows import now, wait_for

pytestmark = pytest.mark.integration
CHARTS = ("#chart-volume", "#chart-backlog", "#chart-sla-trend", "#chart-satisfaction",
          "#chart-workload")


@pytest.fixture(scope="module")
def desk(make_field_service, make_user, new_ticket):
    """A provider with an engineer who resolved a ticket rated 4 / 2 stars and holds another,
    and the desk's agent."""
    fs = make_field_service(lapsed=False)
    agent, customer = make_user("agent"), make_user()
    rated = new_ticket(customer, type="consult", category="consultation", product=fs.product)
    held = new_ticket(customer, type="consult", category="consultation", product=fs.product,
                      title="仪表盘 dashboard")
    for t in (rated, held):
        assert agent.post(f"/tickets/{t['id']}/assign",
                          {"engineer_id": fs.engineer.user["id"]}).status_code == 200
        wait_for(fs.engineer, t["id"], lambda x: x.get("status") == "assigned")
    fs.engineer.post(f"/tickets/{rated['id']}/start")
    r = fs.engineer.post(f"/tickets/{rated['id']}/resolve", {
        "root_cause": "user_operation", "description": "已答复", "completed_at": now()})
    assert r.status_code == 200, r.text
    assert customer.post(f"/tickets/{rated['id']}/rating",
                         {"product_score": 4, "service_score": 2}).status_code == 201
    return {"fs": fs, "agent": agent, "customer": customer}


def _watch_origins(page, base_url):
    seen = []
    page.on("request", lambda req: seen.append(req.url))
    return lambda: [u for u in seen if not (u.startswith(base_url + "/") or u.startswith("data:")
                                            or u.startswith("blob:"))]


def _charts_drawn(page, ids):
    for card in ids:
        expect(page.locator(card)).not_to_have_attribute("aria-busy", "true")
        expect(page.locator(f"{card} .chart-error")).to_have_count(0)
    # every card that has data drew a Chart.js chart into its canvas
    return page.evaluate("""ids => ids.map(id => {
        const canvas = document.querySelector(id + ' canvas');
        const chart = canvas && window.Chart && window.Chart.getChart(canvas);
        return [id, Boolean(chart), canvas ? canvas.getAttribute('aria-label') : null];
    })""", list(ids))


def _no_overflow(page):
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")


def test_the_desk_lands_on_the_dashboard_in_chinese(system, open_page, desk):
    page = open_page("zh-CN")
    foreign = _watch_origins(page, system.base_url)
    sign_in(page, desk["agent"].phone, desk["agent"].password)
    expect(page).to_have_url(f"{system.base_url}/#/dashboard")
    expect(page.locator("h1")).to_have_text("概览")
    expect(page.locator("nav.nav a[href='#/dashboard']")).to_have_class("nav-link active")
    backlog = desk["agent"].get("/reports/backlog").json()["total"]
    expect(page.locator("#kpi-backlog .kpi-value")).to_have_text(str(backlog))
    drawn = _charts_drawn(page, CHARTS)
    by_id = {card: (ok, text) for card, ok, text in drawn}
    for card in ("#chart-volume", "#chart-backlog", "#chart-satisfaction", "#chart-workload"):
        assert by_id[card][0], f"{card} drew nothing: {drawn}"
    assert by_id["#chart-satisfaction"][1].startswith("满意度趋势")
    # the numbers behind a chart, as a table
    sat = desk["agent"].get("/reports/satisfaction",
                            params={"group_by": "period", "granularity": "week"}).json()
    table = page.locator("#chart-satisfaction details")
    table.locator("summary").click()
    expect(table.locator("thead")).to_contain_text("服务满意度")
    expect(table.locator("tbody tr")).to_have_count(len(sat["rows"]))
    expect(page.locator("#chart-workload details tbody")).to_contain_text(
        desk["fs"].engineer.user["name"])
    page.screenshot(path="/tmp/gongdan-dashboard-zh.png", full_page=True)
    assert _no_overflow(page)
    assert foreign() == []


def test_a_provider_admin_on_a_phone_in_english(system, open_page, desk):
    page = open_page("en-US", width=390, height=844)
    foreign = _watch_origins(page, system.base_url)
    boss = desk["fs"].boss
    sign_in(page, boss.phone, boss.password)
    expect(page).to_have_url(f"{system.base_url}/#/dashboard")
    expect(page.locator("h1")).to_have_text("Dashboard")
    drawn = {card: ok for card, ok, _ in _charts_drawn(page, CHARTS)}
    assert drawn["#chart-satisfaction"] and drawn["#chart-workload"], drawn
    # scoped to the provider: one rating, 2 service stars
    expect(page.locator("#chart-satisfaction .chart-summary")).to_contain_text("Ratings: 1;")
    expect(page.locator("#kpi-service .kpi-value")).to_have_text("2.00")
    width = page.evaluate("document.querySelector('#chart-volume canvas').getBoundingClientRect().width")
    assert 300 <= width <= 390
    page.locator("#chart-backlog details summary").click()
    page.screenshot(path="/tmp/gongdan-dashboard-phone-en.png", full_page=True)
    assert _no_overflow(page)
    assert foreign() == []


def test_reports_page_charts_and_satisfaction(system, open_page, desk):
    # an agent at the desk (TIMEZONE Asia/Shanghai): the report's default period ends on the
    # agent's today, which from 16:00 UTC is a day ahead of the machine's
    page = open_page("en-US", timezone_id="Asia/Shanghai")
    foreign = _watch_origins(page, system.base_url)
    sign_in(page, desk["agent"].phone, desk["agent"].password)
    page.click("nav.nav a[href='#/reports']")
    expect(page.locator("#report-charts")).to_be_visible()
    _charts_drawn(page, ("#chart-volume", "#chart-backlog", "#chart-sla-trend",
                         "#chart-workload", "#chart-satisfaction-report"))
    expect(page.locator("#sla-report-table, #sla-report .empty")).not_to_have_count(0)  # the tables stay
    form = page.locator("#satisfaction-form")
    form.locator("select[name=group_by]").select_option("engineer")
    page.click("#satisfaction-run")
    expect(page).to_have_url(re.compile(r"s_group=engineer"))
    card = page.locator("#chart-satisfaction-report")
    expect(card.locator("tbody")).to_contain_text(desk["fs"].engineer.user["name"])
    expect(card.locator("tbody tr").last).to_contain_text("Total")
    page.screenshot(path="/tmp/gongdan-reports-charts-en.png", full_page=True)
    # a range the API refuses: its message under the field, in the page's language
    page.locator("#lang-switch").select_option("zh")
    form = page.locator("#satisfaction-form")
    form.locator("input[name=from]").fill("2026-12-06")
    form.locator("input[name=to]").fill("2026-12-01")
    page.click("#satisfaction-run")
    expect(form.locator("[data-field=from] .field-error")).to_have_text("开始日期必须早于结束日期。")
    assert foreign() == []


def test_others_keep_their_home_and_customers_have_no_dashboard(system, open_page, desk):
    page = open_page("en-US")
    engineer = desk["fs"].engineer
    sign_in(page, engineer.phone, engineer.password)
    expect(page).to_have_url(f"{system.base_url}/#/tickets")
    expect(page.locator("nav.nav a[href='#/dashboard']")).to_have_count(0)
    customer = desk["customer"]
    page = open_page("en-US")
    sign_in(page, customer.phone, customer.password)
    expect(page).to_have_url(f"{system.base_url}/#/tickets")
    page.goto(system.base_url + "/#/dashboard")
    expect(page.locator(".view")).to_contain_text("You do not have access to this page.")
