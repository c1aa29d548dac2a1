"""The seeds' end-to-end flows over HTTP with every service running: the AISHU repair flow
(provider assigns a qualified engineer -> start -> work log -> suspend -> automatic resume
-> close with reports -> confirmation and rating) and the OceanBase support flow (customer
submits -> agent routes -> engineer replies -> resolves -> not resolved -> reopen ->
resolved -> rating), plus the bad paths between them."""
import concurrent.futures
import datetime as dt
import time

import pytest


pytestmark = pytest.mark.integration

PDF = b"%PDF-1.7\n" + b"report " * 200


def now(offset_seconds=0):
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=offset_seconds)).isoformat()


def wait_for(api, ticket_id, check, seconds=20):
    """Events settle asynchronously: poll the ticket until `check(ticket)` holds."""
    deadline = time.monotonic() + seconds
    ticket = None
    while time.monotonic() < deadline:
        ticket = api.get(f"/tickets/{ticket_id}").json()
        if check(ticket):
            return ticket
        time.sleep(0.3)
    raise AssertionError(f"ticket never reached the expected state: {ticket}")


@pytest.fixture
def field_service(make_field_service):
    """A product line of its own, a provider covering it, the provider's admin, a certified
    engineer and one whose certification ran out yesterday."""
    return make_field_service()


def test_aishu_repair_flow(system, admin, make_user, new_ticket, field_service):
    company, boss, engineer, lapsed = field_service
    customer = make_user(lang="zh")
    agent = make_user("agent")
    ticket = new_ticket(customer, type="repair", title="存储设备无法启动", product=field_service.product,
                        device_sn="AS-SN-0001", impact="department", urgency="high")
    tid = ticket["id"]

    # the vendor offers it to the provider; the provider accepts
    offer = agent.post(f"/tickets/{tid}/offer", {"provider_id": company["id"]})
    assert offer.status_code == 201, offer.text
    offers = boss.get("/offers", params={"status": "pending"}).json()["items"]
    assert offer.json()["id"] in [o["id"] for o in offers]
    accepted = boss.post(f"/offers/{offer.json()['id']}/accept", {})
    assert accepted.status_code == 200, accepted.text

    # the provider assigns: an expired certification is refused with a clear reason
    refused = boss.post(f"/tickets/{tid}/assign", {"engineer_id": lapsed.user["id"]})
    assert refused.status_code in (400, 409), refused.text
    assert "expired" in refused.json()["error"]["message"] or \
        "过期" in refused.json()["error"]["message"]
    ok = boss.post(f"/tickets/{tid}/assign", {"engineer_id": engineer.user["id"]})
    assert ok.status_code == 200, ok.text
    t = wait_for(engineer, tid, lambda t: t.get("status") == "assigned")
    assert t["handler_id"] == engineer.user["id"]
    why = agent.get(f"/tickets/{tid}/assignments").json()["items"][-1]
    assert why["engineer_id"] == engineer.user["id"] and why["certification"]

    # work: start, log, suspend until a few seconds from now, and resume by itself
    assert customer.post(f"/tickets/{tid}/start").status_code == 403
    assert engineer.post(f"/tickets/{tid}/start").json()["status"] == "in_progress"
    time.sleep(1.2)
    entry = engineer.post(f"/tickets/{tid}/worklogs", {
        "started_at": ticket["created_at"], "ended_at": now(), "title": "现场检查",
        "description": "更换电源模块前的诊断", "on_site": True})
    assert entry.status_code == 201, entry.text
    suspended = engineer.post(f"/tickets/{tid}/suspend", {
        "reason": "等待备件", "planned_end": now(3)})
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    blocked = engineer.post(f"/tickets/{tid}/worklogs", {
        "started_at": ticket["created_at"], "ended_at": now(), "title": "x", "description": "y"})
    assert blocked.status_code == 409
    t = wait_for(engineer, tid, lambda t: t["status"] == "in_progress", seconds=15)
    assert t["suspensions"][0]["resumed_by"] == "timer"

    # close with the report the type demands
    report = {"root_cause": "hardware_failure", "description": "更换电源模块后恢复",
              "completed_at": now(), "visited_at": ticket["created_at"]}
    missing = engineer.post(f"/tickets/{tid}/resolve", report)
    assert missing.status_code == 409 and missing.json()["error"]["code"] == "reports_missing"
    zh = engineer.post(f"/tickets/{tid}/resolve", report, headers={"Accept-Language": "zh"})
    assert zh.json()["error"]["message"].startswith("维修工单关闭前必须上传：现场服务报告。")
    up = engineer.post(f"/tickets/{tid}/attachments", params={"kind": "onsite_report"},
                       files={"file": ("现场服务报告.pdf", PDF)})
    assert up.status_code == 201, up.text
    resolved = engineer.post(f"/tickets/{tid}/resolve", report)
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"

    # the customer confirms and rates, once
    assert customer.post(f"/tickets/{tid}/confirm").json()["status"] == "closed"
    rating = {"product_score": 4, "service_score": 5, "comment": "上门及时"}
    assert customer.post(f"/tickets/{tid}/rating", rating).status_code == 201
    assert customer.post(f"/tickets/{tid}/rating", rating).status_code == 409

    detail = customer.get(f"/tickets/{tid}").json()
    kinds = [item["kind"] for item in detail["timeline"]]
    for kind in ("assigned", "worklog", "suspension", "closing_report", "rating"):
        assert kind in kinds, kinds
    assert [i["at"] for i in detail["timeline"]] == sorted(i["at"] for i in detail["timeline"])
    time_spent = agent.get(f"/tickets/{tid}/time").json()
    assert time_spent["entries"] == 1 and time_spent["on_site_entries"] == 1
    assert time_spent["seconds"] >= 1
    follow_ups = agent.get("/follow-ups", params={"status": "open"}).json()["items"]
    assert tid in [f["ticket_id"] for f in follow_ups]  # P2: a follow-up visit is due


def test_oceanbase_support_flow(system, admin, make_user, new_ticket, field_service):
    _company, _boss, engineer, _lapsed = field_service
    customer = make_user()
    agent = make_user("agent")
    ticket = new_ticket(customer, type="defect", title="查询变慢", category="performance",
                        product=field_service.product,
                        impact="individual", urgency="medium")
    tid = ticket["id"]
    routed = agent.post(f"/tickets/{tid}/assign", {"engineer_id": engineer.user["id"],
                                                    "reason": "性能问题专家"})
    assert routed.status_code == 200, routed.text
    wait_for(engineer, tid, lambda t: t.get("status") == "assigned")
    engineer.post(f"/tickets/{tid}/start")
    assert engineer.post(f"/tickets/{tid}/comments",
                         {"body": "请执行 EXPLAIN 并上传结果"}).status_code == 201
    fix = {"root_cause": "configuration", "description": "调整索引", "completed_at": now()}
    assert engineer.post(f"/tickets/{tid}/resolve", fix).json()["status"] == "resolved"
    reopened = customer.post(f"/tickets/{tid}/reopen", {"reason": "高峰期仍然很慢"})
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "in_progress" and reopened.json()["reopen_count"] == 1
    assert engineer.post(f"/tickets/{tid}/resolve", dict(fix, description="增加连接池")) \
        .json()["resolution_round"] == 2
    assert customer.post(f"/tickets/{tid}/confirm").json()["status"] == "closed"
    r = customer.post(f"/tickets/{tid}/rating", {"product_score": 3, "service_score": 4})
    assert r.status_code == 201 and r.json()["round"] == 2
    history = [h["action"] for h in customer.get(f"/tickets/{tid}").json()["history"]]
    assert history == ["create", "assign", "start", "resolve", "reopen", "resolve", "confirm"]


def test_racing_assignments_one_wins(system, make_user, new_ticket, field_service):
    company, _boss, engineer, _ = field_service
    other = make_user("engineer", company=company)
    customer = make_user()
    agents = [make_user("agent") for _ in range(2)]
    ticket = new_ticket(customer, type="defect", product=field_service.product)
    targets = [engineer.user["id"], engineer.user["id"]]

    def attempt(i):
        return agents[i].post(f"/tickets/{ticket['id']}/assign",
                              {"engineer_id": targets[i], "expected_assignment_id": None})

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        codes = sorted(r.status_code for r in pool.map(attempt, range(2)))
    assert codes == [200, 409]
    t = wait_for(engineer, ticket["id"], lambda t: t.get("status") == "assigned")
    assert t["handler_id"] == engineer.user["id"]
    assert other.get(f"/tickets/{ticket['id']}").status_code == 404


def test_provider_cannot_touch_installation_or_other_providers(system, admin, make_user,
                                                               make_company, new_ticket,
                                                               field_service):
    company, boss, engineer, _ = field_service
    customer = make_user()
    agent = make_user("agent")
    install = new_ticket(customer, type="installation", category="installation",
                         product=field_service.product)
    # installation tickets are dispatched automatically (the only qualified engineer)
    t = wait_for(agent, install["id"], lambda t: t.get("status") == "assigned")
    assert t["handler_id"] == engineer.user["id"]
    r = boss.post(f"/tickets/{install['id']}/reassign",
                  {"engineer_id": engineer.user["id"], "reason": "换人"})
    assert r.status_code in (403, 404)
    other_company = make_company("provider")
    admin.put(f"/providers/{other_company['id']}", {"name": other_company["name"],
                                                     "product_lines": [field_service.line]})
    stranger = make_user("engineer", company=other_company)
    admin.put(f"/engineers/{stranger.user['id']}", {"provider_id": other_company["id"]})
    repair = new_ticket(customer, type="repair", product=field_service.product)
    offer = agent.post(f"/tickets/{repair['id']}/offer", {"provider_id": company["id"]})
    boss.post(f"/offers/{offer.json()['id']}/accept", {})
    r = boss.post(f"/tickets/{repair['id']}/assign", {"engineer_id": stranger.user["id"]})
    assert r.status_code in (400, 403, 409), r.text


def test_nobody_confirms_and_the_ticket_closes_by_itself(system, make_user, new_ticket,
                                                          field_service):
    """The automatic confirmation is a durable timer in sla, delivered back to intake."""
    system.stop_service("intake")
    system.start_service("intake", AUTO_CONFIRM_HOURS="0.0015")  # 5.4 seconds
    try:
        system.wait_service("intake")
        customer = make_user()
        agent = make_user("agent")
        engineer = field_service.good
        t = new_ticket(customer, type="consult", category="consultation",
                       product=field_service.product)
        assert agent.post(f"/tickets/{t['id']}/assign",
                          {"engineer_id": engineer.user["id"]}).status_code == 200
        wait_for(engineer, t["id"], lambda x: x.get("status") == "assigned")
        engineer.post(f"/tickets/{t['id']}/start")
        r = engineer.post(f"/tickets/{t['id']}/resolve", {
            "root_cause": "user_operation", "description": "已答复", "completed_at": now()})
        assert r.json()["status"] == "resolved"
        closed = wait_for(customer, t["id"], lambda x: x["status"] == "closed", seconds=30)
        last = closed["history"][-1]
        assert last["action"] == "close" and last["actor_role"] == "system"
        # the customer can still rate the resolution afterwards
        assert customer.post(f"/tickets/{t['id']}/rating",
                             {"product_score": 4, "service_score": 4}).status_code == 201
    finally:
        system.stop_service("intake")
        system.start_service("intake")
        system.wait_service("intake")
