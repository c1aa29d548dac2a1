"""Charts and satisfaction reports over HTTP on the real system (issue 14): volume, backlog,
satisfaction, SLA trend and workload come out right for seeded data, each role sees only its
own (a customer admin their company, a provider admin their provider), bad parameters are a
clear 400 in both languages, and a low rating alerts the desk and the provider's admins with
the ticket's link (the shipped notification rule `low_rating`)."""
import datetime as dt
import time

import pytest

from tests.conftest import unique
from tests.test_flows import now, wait_for

pytestmark = pytest.mark.integration


def _until(fetch, check, seconds=20):
    deadline = time.monotonic() + seconds
    value = None
    while time.monotonic() < deadline:
        value = fetch()
        if check(value):
            return value
        time.sleep(0.3)
    raise AssertionError(f"never settled: {value}")


def _ok(api, path, **params):
    r = api.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def seeded(system, admin, make_company, make_user, new_ticket, make_field_service):
    """Company A: three tickets — one worked by the provider's engineer, resolved and rated
    product 4 / service 1; one new; one the engineer works on, with time logged. Company B:
    one new ticket."""
    fs = make_field_service(lapsed=False)
    agent = make_user("agent")
    company_a, company_b = make_company("customer"), make_company("customer")
    customer = make_user(company=company_a)
    boss_a = make_user("customer_admin", company=company_a)
    other = make_user(company=company_b)
    rated = new_ticket(customer, type="consult", category="consultation", product=fs.product,
                       title=unique("评价"))
    waiting = new_ticket(customer, title=unique("等待"))
    working = new_ticket(customer, type="consult", category="consultation", product=fs.product)
    new_ticket(other)
    for t in (rated, working):
        r = agent.post(f"/tickets/{t['id']}/assign", {"engineer_id": fs.engineer.user["id"]})
        assert r.status_code == 200, r.text
        wait_for(fs.engineer, t["id"], lambda x: x.get("status") == "assigned")
        assert fs.engineer.post(f"/tickets/{t['id']}/start").status_code == 200
    r = fs.engineer.post(f"/tickets/{rated['id']}/resolve", {
        "root_cause": "user_operation", "description": "已答复", "completed_at": now()})
    assert r.status_code == 200, r.text
    # work is logged between the ticket's creation and now
    r = fs.engineer.post(f"/tickets/{working['id']}/worklogs", {
        "started_at": working["created_at"], "ended_at": now(),
        "title": "远程排查", "description": "检查日志", "on_site": False})
    assert r.status_code == 201, r.text
    r = customer.post(f"/tickets/{rated['id']}/rating",
                      {"product_score": 4, "service_score": 1, "comment": "响应太慢"})
    assert r.status_code == 201, r.text
    return {"fs": fs, "agent": agent, "customer": customer, "boss_a": boss_a,
            "company_a": company_a, "rated": rated, "waiting": waiting, "working": working}


def test_a_customer_admin_sees_their_company_only(seeded):
    boss_a = seeded["boss_a"]
    volume = _ok(boss_a, "/reports/volume")
    assert volume["totals"] == {"created": 3, "resolved": 1}
    assert volume["granularity"] == "day" and len(volume["rows"]) >= 30
    today = [r for r in volume["rows"] if r["created"]]
    assert len(today) == 1 and today[0]["created"] == 3
    backlog = _ok(boss_a, "/reports/backlog")
    assert backlog["total"] == 3  # new, in progress, resolved (not yet confirmed)
    cells = {(c["status"], c["priority"]): c["count"] for c in backlog["rows"]}
    assert sum(cells.values()) == 3 and cells[("resolved", seeded["rated"]["priority"])] == 1
    sat = _ok(boss_a, "/reports/satisfaction", group_by="period", granularity="month")
    assert sat["totals"]["ratings"] == 1
    assert sat["totals"]["product_distribution"] == [0, 0, 0, 1, 0]
    assert sat["totals"]["service_distribution"] == [1, 0, 0, 0, 0]
    assert sat["totals"]["product_average"] == 4.0 and sat["totals"]["service_average"] == 1.0
    # workload and the SLA trend are for staff
    assert boss_a.get("/reports/workload").status_code == 403
    assert boss_a.get("/reports/sla-trend").status_code == 403


def test_a_provider_admin_sees_their_provider_only(seeded):
    fs = seeded["fs"]
    provider_id = fs.company["id"]
    sat = _until(lambda: _ok(fs.boss, "/reports/satisfaction", group_by="provider"),
                 lambda s: s["totals"]["ratings"] == 1)
    assert [r["group"] for r in sat["rows"]] == [provider_id]
    by_engineer = _ok(fs.boss, "/reports/satisfaction", group_by="engineer")
    assert by_engineer["rows"][0]["group"] == fs.engineer.user["id"]
    assert by_engineer["rows"][0]["name"] == fs.engineer.user["name"]
    assert _ok(fs.boss, "/reports/volume")["totals"]["created"] == 2  # company A's third is not theirs
    assert _ok(fs.boss, "/reports/backlog")["total"] == 2
    work = _ok(fs.boss, "/reports/workload")
    assert [(r["engineer_id"], r["open"]) for r in work["rows"]] == [(fs.engineer.user["id"], 1)]
    logged = _ok(fs.boss, "/reports/engineer-time", **{"from": work["from"], "to": work["to"]})
    assert logged["engineers"][0]["entries"] == 1
    assert work["rows"][0]["hours"] == round(logged["engineers"][0]["seconds"] / 3600, 2)
    assert work["rows"][0]["by_status"]["in_progress"] == 1
    trend = _ok(fs.boss, "/reports/sla-trend")
    assert trend["group_by"] == "week"
    # the engineer: their own work only
    mine = _ok(fs.engineer, "/reports/workload")
    assert [r["engineer_id"] for r in mine["rows"]] == [fs.engineer.user["id"]]


def test_the_desk_sees_everything(seeded):
    agent = seeded["agent"]
    sat = _ok(agent, "/reports/satisfaction", group_by="product_line")
    lines = {r["group"]: r for r in sat["rows"]}
    assert lines[seeded["fs"].line]["ratings"] == 1
    assert _ok(agent, "/reports/volume", granularity="week")["totals"]["created"] >= 4
    assert _ok(agent, "/reports/backlog")["total"] >= 4
    trend = _ok(agent, "/reports/sla-trend", granularity="day", target="response")
    assert all(r["target"] == "response" for r in trend["rows"])


def test_customers_read_no_reports(seeded):
    r = seeded["customer"].get("/reports/volume", headers={"Accept-Language": "zh"})
    assert r.status_code == 403
    assert r.json()["error"]["message"] == "报表仅供支持人员、服务商和企业管理员查看。"


@pytest.mark.parametrize("path,params,field", [
    ("/reports/volume", {"granularity": "hour"}, "granularity"),
    ("/reports/volume", {"from": "2026-13-01"}, "from"),
    ("/reports/volume", {"from": "2000-01-01", "to": "2026-01-01"}, "from"),
    ("/reports/volume", {"from": "2026-12-06", "to": "2026-12-01"}, "from"),
    ("/reports/satisfaction", {"group_by": "company"}, "group_by"),
    ("/reports/backlog", {"colour": "red"}, "colour"),
    ("/reports/sla-trend", {"granularity": "year"}, "granularity"),
    ("/reports/sla-trend", {"target": "lunch"}, "target"),
    ("/reports/workload", {"from": "yesterday"}, "from"),
])
def test_bad_parameters_are_a_clear_400(seeded, path, params, field):
    for lang in ("zh", "en"):
        r = seeded["agent"].get(path, params=params, headers={"Accept-Language": lang})
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert field in error["details"]["fields"], error
        message = error["details"]["fields"][field][0]
        assert message and (lang == "en" or any("\u4e00" <= c <= "\u9fff" for c in message))


def test_a_low_rating_alerts_the_desk_and_the_provider(seeded):
    rated = seeded["rated"]

    def notice(api):
        items = api.get("/notifications").json()["items"]
        return next((n for n in items if n["kind"] == "low_rating"
                     and n["ticket_id"] == rated["id"]), None)

    boss_notice = _until(lambda: notice(seeded["fs"].boss), bool)
    assert boss_notice["ticket_number"] == rated["number"]
    assert boss_notice["link"].endswith(f"#/tickets/{rated['id']}")
    assert "1" in boss_notice["title"] and "响应太慢" in boss_notice["body"]
    # the desk: agents (the directory may cache the list of agents for half a minute)
    assert _until(lambda: notice(seeded["agent"]), bool, seconds=45)
    # the customer who rated, and the customer admin, are not alerted
    assert notice(seeded["customer"]) is None and notice(seeded["boss_a"]) is None


def test_a_good_rating_alerts_nobody(seeded, new_ticket):
    fs, agent, customer = seeded["fs"], seeded["agent"], seeded["customer"]
    t = new_ticket(customer, type="consult", category="consultation", product=fs.product)
    agent.post(f"/tickets/{t['id']}/assign", {"engineer_id": fs.engineer.user["id"]})
    wait_for(fs.engineer, t["id"], lambda x: x.get("status") == "assigned")
    fs.engineer.post(f"/tickets/{t['id']}/start")
    fs.engineer.post(f"/tickets/{t['id']}/resolve", {
        "root_cause": "user_operation", "description": "已答复", "completed_at": now()})
    assert customer.post(f"/tickets/{t['id']}/rating",
                         {"product_score": 5, "service_score": 3}).status_code == 201
    # the rating is counted; then give notify time to (not) act on it
    _until(lambda: _ok(fs.boss, "/reports/satisfaction", group_by="provider"),
           lambda s: s["totals"]["ratings"] == 2)
    time.sleep(2)
    items = fs.boss.get("/notifications").json()["items"]
    assert not [n for n in items if n["kind"] == "low_rating" and n["ticket_id"] == t["id"]]
