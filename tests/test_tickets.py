"""Ticket intake over HTTP: create, validate, search, visibility, conversation, status."""
import concurrent.futures
import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from tests.support.system import Api

pytestmark = pytest.mark.integration


def count_tickets(system):
    return system.sql("intake", "SELECT count(*) FROM tickets")[0][0]


def test_create_ticket_derives_priority_and_number(system, make_user, new_ticket):
    customer = make_user()
    t = new_ticket(customer, impact="company", urgency="critical", device_sn="SN-0001",
                   environment={"os": "Windows 11", "browser": "Edge 120"})
    assert re.fullmatch(r"TS\d{8}\d{3,}", t["number"])
    assert t["priority"] == "P1" and t["status"] == "new"
    assert t["company_id"] == customer.company["id"]
    assert t["type_family"] == "support"
    detail = customer.get(f"/tickets/{t['number']}").json()  # by number as well as by id
    assert detail["id"] == t["id"]
    assert detail["history"][0]["to_status"] == "new"
    assert detail["environment"]["os"] == "Windows 11"
    assert "cancel" in detail["allowed_actions"]
    low = new_ticket(customer, impact="individual", urgency="low", type="repair")
    assert low["priority"] == "P4" and low["type_family"] == "field"


def test_numbers_are_unique_under_concurrent_creation(system, make_user, new_ticket):
    customers = [make_user() for _ in range(4)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        tickets = list(pool.map(lambda i: new_ticket(customers[i % 4], title=f"并发 {i}"),
                                range(40)))
    numbers = [t["number"] for t in tickets]
    assert len(set(numbers)) == 40
    today = tickets[0]["number"][:10]
    seqs = sorted(int(n[10:]) for n in numbers if n.startswith(today))
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gaps, no repeats


def test_idempotency_key_returns_the_first_ticket(system, make_user, product):
    customer = make_user()
    body = {"title": "重复提交", "type": "consult", "product": product, "category": "consultation",
            "description": "网络重试", "contact_phone": "13800138000"}
    a = customer.post("/tickets", body, headers={"Idempotency-Key": "abc-123"})
    b = customer.post("/tickets", body, headers={"Idempotency-Key": "abc-123"})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] == b.json()["id"]


@pytest.mark.parametrize("change,field", [
    ({"title": None}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"type": "teleport"}, "type"),
    ({"category": 7}, "category"),
    ({"description": ""}, "description"),
    ({"contact_phone": "call me"}, "contact_phone"),
    ({"impact": "galaxy"}, "impact"),
    ({"started_at": "yesterday"}, "started_at"),
    ({"environment": {"os": "x", "rocket": "y"}}, "environment"),
    ({"priority": "P1"}, "priority"),  # priority is derived, not chosen by the customer
])
def test_create_ticket_bad_input_writes_nothing(system, make_user, product, change, field):
    customer = make_user(lang="zh")
    body = {"title": "标题", "type": "defect", "product": product, "category": "function",
            "description": "描述", "contact_phone": "13800138000"}
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    before = count_tickets(system)
    r = customer.post("/tickets", body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_failed"
    assert field in err["details"]["fields"]
    assert re.search(r"[\u4e00-\u9fff]", err["message"])  # a Chinese message for zh
    assert count_tickets(system) == before


def test_validation_messages_in_english(system, make_user, product):
    customer = make_user(lang="en")
    r = customer.post("/tickets", {"type": "defect", "product": product})
    fields = r.json()["error"]["details"]["fields"]
    assert fields["title"] == ["Missing data for required field."]


def test_unknown_product_is_refused(system, make_user):
    customer = make_user()
    r = customer.post("/tickets", {"title": "t", "type": "defect", "product": "NOPE",
                                   "category": "function", "description": "d",
                                   "contact_phone": "13800138000"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "product_unknown"


def test_customers_never_reach_other_customers_tickets(system, make_user, new_ticket):
    alice = make_user()
    bob = make_user()  # another company
    colleague = make_user(company=alice.company)
    boss = make_user("customer_admin", company=alice.company)
    t = new_ticket(alice)
    for path in (f"/tickets/{t['id']}", f"/tickets/{t['number']}"):
        r = bob.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "ticket_not_found"
    assert bob.post(f"/tickets/{t['id']}/comments", {"body": "hi"}).status_code == 404
    assert bob.post(f"/tickets/{t['id']}/cancel").status_code == 404
    assert bob.patch(f"/tickets/{t['id']}", {"title": "mine now"}).status_code == 404
    assert colleague.get(f"/tickets/{t['id']}").status_code == 404  # same company, not theirs
    assert boss.get(f"/tickets/{t['id']}").status_code == 200      # company admin sees all
    assert t["id"] not in [x["id"] for x in bob.get("/tickets?page_size=100").json()["items"]]
    assert t["id"] in [x["id"] for x in boss.get("/tickets?page_size=100").json()["items"]]
    # a customer cannot widen their scope with filters
    spy = bob.get(f"/tickets?company_id={alice.company['id']}").json()
    assert spy["total"] == 0


def test_search_filters_and_chinese_keyword(system, admin, make_user, new_ticket):
    customer = make_user()
    a = new_ticket(customer, title="导出报表时报错", description="点击导出按钮后页面报 500",
                   device_sn="SN-SEARCH-1", type="repair")
    b = new_ticket(customer, title="Login page slow", description="takes 30 seconds",
                   urgency="low")
    found = customer.get("/tickets", params={"keyword": "报表"}).json()
    assert [x["id"] for x in found["items"]] == [a["id"]]
    assert customer.get("/tickets", params={"keyword": "SLOW"}).json()["items"][0]["id"] == b["id"]
    assert customer.get("/tickets", params={"keyword": "100%"}).json()["total"] == 0
    by_sn = admin.get("/tickets", params={"device_sn": "SN-SEARCH-1"}).json()
    assert [x["id"] for x in by_sn["items"]] == [a["id"]]
    by_type = customer.get("/tickets", params={"type": "repair"}).json()
    assert {x["type"] for x in by_type["items"]} == {"repair"}
    by_number = admin.get("/tickets", params={"number": a["number"]}).json()
    assert by_number["items"][0]["id"] == a["id"]
    by_company = admin.get("/tickets", params={"company_id": customer.company["id"],
                                               "sort": "created_at"}).json()
    assert [x["id"] for x in by_company["items"]] == [a["id"], b["id"]]
    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).isoformat()
    assert customer.get("/tickets", params={"created_from": future}).json()["total"] == 0
    # a plain date is a whole day in the desk's time zone (Asia/Shanghai here; issue 17)
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    day = {"created_from": today.isoformat(), "created_to": today.isoformat()}
    assert customer.get("/tickets", params=day).json()["total"] == 2
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert customer.get("/tickets", params={"created_from": tomorrow}).json()["total"] == 0
    assert customer.get("/tickets", params={"created_to": tomorrow}).json()["total"] == 2
    page = customer.get("/tickets", params={"page_size": 1, "page": 2}).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    multi = customer.get("/tickets", params={"status": "new,cancelled"}).json()
    assert multi["total"] == 2
    assert multi["total_exact"] is True
    # one character; the submitter's name and the company's name, for the desk only
    assert [x["id"] for x in customer.get("/tickets", params={"keyword": "钮"}).json()[
        "items"]] == [a["id"]]
    for name in (customer.user["name"], customer.company["name"][1:]):
        hits = admin.get("/tickets", params={"keyword": name, "sort": "created_at"}).json()
        assert ([x["id"] for x in hits["items"]], hits["total"], hits["total_exact"]) == \
            ([a["id"], b["id"]], 2, True), name
        other = make_user().get("/tickets", params={"keyword": name}).json()
        assert (other["items"], other["total"]) == ([], 0)


@pytest.mark.parametrize("query", ["sort=title", "page_size=1000", "page=0", "status=lost",
                                   "colour=blue", "created_from=not-a-date"])
def test_search_bad_filters(system, make_user, query):
    customer = make_user()
    r = customer.get("/tickets?" + query)
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_failed"


def test_conversation_public_replies_and_internal_notes(system, admin, make_user, new_ticket):
    customer = make_user()
    agent = make_user("agent")
    t = new_ticket(customer)
    assert customer.post(f"/tickets/{t['id']}/comments", {"body": "补充：截图见附件"}).status_code == 201
    assert agent.post(f"/tickets/{t['id']}/comments", {"body": "请提供日志"}).status_code == 201
    note = agent.post(f"/tickets/{t['id']}/comments", {"body": "疑似已知缺陷", "internal": True})
    assert note.status_code == 201
    forbidden = customer.post(f"/tickets/{t['id']}/comments", {"body": "x", "internal": True})
    assert forbidden.status_code == 403
    seen = [c["body"] for c in customer.get(f"/tickets/{t['id']}").json()["comments"]]
    assert seen == ["补充：截图见附件", "请提供日志"]
    staff = [c["body"] for c in agent.get(f"/tickets/{t['id']}").json()["comments"]]
    assert "疑似已知缺陷" in staff
    assert customer.post(f"/tickets/{t['id']}/comments", {"body": "  "}).status_code == 400


def test_needs_info_round_trip_and_cancel(system, make_user, new_ticket):
    customer = make_user()
    agent = make_user("agent")
    t = new_ticket(customer)
    no_reason = agent.post(f"/tickets/{t['id']}/request-info", {})
    assert no_reason.status_code == 400 and no_reason.json()["error"]["code"] == "reason_required"
    r = agent.post(f"/tickets/{t['id']}/request-info", {"reason": "请提供错误日志"})
    assert r.status_code == 200 and r.json()["status"] == "needs_info"
    assert customer.post(f"/tickets/{t['id']}/request-info", {"reason": "x"}).status_code == 403
    r = customer.post(f"/tickets/{t['id']}/provide-info", {"comment": "日志已上传"})
    assert r.status_code == 200 and r.json()["status"] == "new"
    r = customer.post(f"/tickets/{t['id']}/cancel", {"reason": "已自行解决"})
    assert r.json()["status"] == "cancelled"
    illegal = customer.post(f"/tickets/{t['id']}/provide-info", {})
    assert illegal.status_code == 409 and illegal.json()["error"]["code"] == "illegal_transition"
    # labels, never codes, in both languages (issue 17)
    zh = customer.post(f"/tickets/{t['id']}/provide-info", {}, headers={"Accept-Language": "zh"})
    assert zh.json()["error"]["message"] == "“补充信息”不适用于状态为“已取消”的工单。"
    en = customer.post(f"/tickets/{t['id']}/provide-info", {}, headers={"Accept-Language": "en"})
    assert en.json()["error"]["message"] == \
        "“Provide information” is not possible for a ticket in status “Cancelled”."
    history = customer.get(f"/tickets/{t['id']}").json()["history"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "new"), ("new", "needs_info"), ("needs_info", "new"), ("new", "cancelled")]
    assert history[1]["reason"] == "请提供错误日志" and history[1]["actor_role"] == "agent"
    comments = customer.get(f"/tickets/{t['id']}").json()["comments"]
    assert comments[-1]["body"] == "日志已上传"
    closed = customer.post(f"/tickets/{t['id']}/comments", {"body": "还在吗"})
    assert closed.status_code == 409


def test_only_the_submitter_side_may_cancel(system, make_user, new_ticket):
    customer = make_user()
    colleague = make_user(company=customer.company)
    t = new_ticket(customer)
    assert colleague.post(f"/tickets/{t['id']}/cancel").status_code == 404
    engineer = make_user("engineer")
    assert engineer.post(f"/tickets/{t['id']}/cancel").status_code == 404  # not theirs


def test_patch_rules(system, make_user, new_ticket):
    customer = make_user()
    agent = make_user("agent")
    t = new_ticket(customer, impact="individual", urgency="low")
    r = customer.patch(f"/tickets/{t['id']}", {"title": "新标题", "urgency": "critical"})
    assert r.status_code == 200 and r.json()["title"] == "新标题" and r.json()["priority"] == "P2"
    r = customer.patch(f"/tickets/{t['id']}", {"priority": "P1"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "fields_not_editable"
    r = agent.patch(f"/tickets/{t['id']}", {"priority": "P1", "category": "security",
                                            "reason": "安全漏洞"})
    assert r.status_code == 200 and r.json()["priority"] == "P1"
    stale = agent.patch(f"/tickets/{t['id']}", {"title": "x", "expected_version": 1})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    empty = agent.patch(f"/tickets/{t['id']}", {})
    assert empty.status_code == 400


def test_unknown_route_and_method_give_json(system, make_user):
    api = make_user()
    r = api.get("/nowhere")
    assert r.status_code == 404 and r.json()["error"]["code"] == "route_not_found"
    r = Api(system.base_url).http.options(system.base_url + "/api/v1/tickets", headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] in ("*", "https://app.example.com")
    assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
