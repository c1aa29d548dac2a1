"""The desk's list tools over HTTP with the real system (issue 14): every list filter, the
column chooser's settings, saved views, tags and bulk actions."""
import datetime as dt
import json

import pytest

from tests.conftest import unique
from tests.test_flows import wait_for

pytestmark = pytest.mark.integration


def numbers(api, **params):
    r = api.get("/tickets", params={"page_size": 100, **params})
    assert r.status_code == 200, r.text
    return {t["number"] for t in r.json()["items"]}


@pytest.fixture(scope="module")
def scene(make_user, make_company, make_field_service, new_ticket, product):
    """Two customer companies, a field-service line with its engineer, an agent; tickets
    differing in every filtered field."""
    fs = make_field_service(lapsed=False)
    co_a = make_company("customer", name=unique("华东电力-"))
    co_b = make_company("customer", name=unique("西部矿业-"))
    alice = make_user(company=co_a)
    bob = make_user(company=co_b)
    agent = make_user("agent")
    sn = unique("SN-")
    t1 = new_ticket(alice, product=product, type="defect", urgency="critical",
                    impact="company", device_sn=sn)
    t2 = new_ticket(alice, product=fs.product, type="repair", urgency="low",
                    impact="individual")
    t3 = new_ticket(bob, product=product, type="consult", urgency="medium")
    r = agent.post(f"/tickets/{t2['id']}/assign", {"engineer_id": fs.engineer.user["id"]})
    assert r.status_code == 200, r.text
    wait_for(agent, t2["id"], lambda t: t["handler_id"] == fs.engineer.user["id"])
    return {"fs": fs, "a": co_a, "b": co_b, "alice": alice, "bob": bob, "agent": agent,
            "sn": sn, "t1": t1, "t2": t2, "t3": t3}


def test_every_list_filter_works(scene):
    agent, t1, t2, t3 = scene["agent"], scene["t1"], scene["t2"], scene["t3"]
    mine = {t1["number"], t2["number"], t3["number"]}
    co_a, co_b, fs = scene["a"], scene["b"], scene["fs"]
    assert numbers(agent, company_id=co_a["id"]) == {t1["number"], t2["number"]}
    assert numbers(agent, company_id=co_b["id"]) == {t3["number"]}
    assert numbers(agent, device_sn=scene["sn"]) == {t1["number"]}
    assert numbers(agent, handler_id=fs.engineer.user["id"]) & mine == {t2["number"]}
    assert numbers(agent, product_line=fs.line) & mine == {t2["number"]}
    assert numbers(agent, product=fs.product) & mine == {t2["number"]}
    assert numbers(agent, submitter_id=scene["bob"].user["id"]) == {t3["number"]}
    assert numbers(agent, number=t3["number"]) == {t3["number"]}
    assert numbers(agent, company_id=co_a["id"], type="repair") == {t2["number"]}
    assert numbers(agent, company_id=co_a["id"], priority="P1") == {t1["number"]}
    assert numbers(agent, company_id=co_a["id"], status="assigned") == {t2["number"]}
    assert numbers(agent, company_id=co_a["id"], status="new,assigned") == \
        {t1["number"], t2["number"]}
    today = dt.date.today()
    assert numbers(agent, created_from=(today - dt.timedelta(days=1)).isoformat(),
                   created_to=(today + dt.timedelta(days=1)).isoformat(),
                   company_id=co_a["id"]) == {t1["number"], t2["number"]}
    assert numbers(agent, created_to=(today - dt.timedelta(days=2)).isoformat()) & mine == set()
    assert numbers(agent, sla_breached="false", company_id=co_b["id"]) == {t3["number"]}
    # the keyword matches the customer company's name (issue 15's search), also in part
    assert numbers(agent, keyword=co_a["name"]) == {t1["number"], t2["number"]}
    assert numbers(agent, keyword=co_b["name"][-6:]) == {t3["number"]}
    # a filter never widens what a customer sees
    assert numbers(scene["alice"], company_id=co_b["id"]) == set()
    assert numbers(scene["alice"], keyword=co_b["name"]) == set()


def test_column_settings_round_trip_and_are_per_user(scene, make_user):
    agent, alice = scene["agent"], scene["alice"]
    first = agent.get("/me/list-settings").json()
    assert first["default"] is True and "tags" in first["available"]
    assert first["columns"] == first["defaults"] and "handler" in first["columns"]
    cols = ["title", "number", "device_sn", "tags", "sla_due"]
    r = agent.put("/me/list-settings", {"columns": cols})
    assert r.status_code == 200, r.text
    assert r.json()["columns"] == cols and r.json()["default"] is False
    assert agent.get("/me/list-settings").json()["columns"] == cols  # any device: the server's
    other = make_user("agent")
    assert other.get("/me/list-settings").json()["default"] is True
    customer = alice.get("/me/list-settings").json()
    assert "tags" not in customer["available"] and "company" not in customer["columns"]
    assert agent.delete("/me/list-settings").json()["default"] is True

    for body, words in [({"columns": ["title", "nonsense"]}, ("Unknown column", "未知的列")),
                        ({"columns": ["number"]}, ("title", "标题")),
                        ({"columns": ["title", "title"]}, ("twice", "重复")),
                        ({"columns": []}, (None, None)),
                        ({"cols": ["title"]}, (None, None))]:
        for lang, word in (("en", words[0]), ("zh", words[1])):
            r = agent.put("/me/list-settings", body, headers={"Accept-Language": lang})
            assert r.status_code == 400, r.text
            assert r.json()["error"]["code"] == "validation_failed"
            if word:
                assert word in json.dumps(r.json(), ensure_ascii=False)
    r = alice.put("/me/list-settings", {"columns": ["title", "tags"]})
    assert r.status_code == 400  # customers have no tags column


def test_saved_views_personal_and_shared(scene, make_user):
    agent, alice, co_a, co_b = scene["agent"], scene["alice"], scene["a"], scene["b"]
    other_agent, engineer = make_user("agent"), scene["fs"].engineer
    personal = agent.post("/views", {"name": "我的 P1", "filters": {"priority": ["P1"]},
                                     "columns": ["number", "title"], "sort": "-updated_at"})
    assert personal.status_code == 201, personal.text
    shared = agent.post("/views", {"name": "华东 queue", "shared": True,
                                   "filters": {"company_id": co_a["id"], "status": ["new"]}})
    assert shared.status_code == 201, shared.text
    pid, sid = personal.json()["id"], shared.json()["id"]

    assert {pid, sid} <= {v["id"] for v in agent.get("/views").json()["items"]}
    seen = {v["id"]: v for v in other_agent.get("/views").json()["items"]}
    assert sid in seen and pid not in seen and seen[sid]["mine"] is False
    assert sid not in {v["id"] for v in engineer.get("/views").json()["items"]}
    assert sid not in {v["id"] for v in alice.get("/views").json()["items"]}
    # only the owner changes it; others who cannot see it get 404
    assert other_agent.patch(f"/views/{sid}", {"name": "x"}).status_code == 403
    assert other_agent.delete(f"/views/{pid}").status_code == 404
    r = agent.patch(f"/views/{pid}", {"name": "我的 P1 视图"})
    assert r.status_code == 200 and r.json()["name"] == "我的 P1 视图"

    # customers keep personal views; they may not share, and a view never widens
    r = alice.post("/views", {"name": "share", "shared": True, "filters": {}},
                   headers={"Accept-Language": "zh"})
    assert r.status_code == 403 and "共享" in r.json()["error"]["message"]
    sneaky = alice.post("/views", {"name": "西部", "filters": {"company_id": co_b["id"]}})
    assert sneaky.status_code == 201
    assert numbers(alice, **sneaky.json()["filters"]) == set()
    assert alice.post("/views", {"name": "t", "filters": {"tag": ["vip"]}}).status_code == 403
    for bad in ({"name": "", "filters": {}}, {"name": "x", "filters": {"status": ["nope"]}},
                {"name": "x", "filters": {"page": 2}}, {"name": "x", "sort": "title"}):
        r = agent.post("/views", bad)
        assert r.status_code == 400, (bad, r.text)
    assert agent.delete(f"/views/{pid}").json()["deleted"] is True
    assert agent.get("/views").status_code == 200
    assert pid not in {v["id"] for v in agent.get("/views").json()["items"]}


def test_tags_add_remove_filter_and_events(system, scene):
    agent, alice, t1, t2, t3 = scene["agent"], scene["alice"], scene["t1"], scene["t2"], scene["t3"]
    tag = unique("客户升级")[:20]
    r = agent.post(f"/tickets/{t1['id']}/tags", {"tags": [tag, " ＶＩＰ ", "vip"]})
    assert r.status_code == 200, r.text
    assert sorted(r.json()["tags"]) == sorted([tag, "vip"])
    assert agent.post(f"/tickets/{t2['id']}/tags", {"tags": [tag]}).status_code == 200
    assert agent.post(f"/tickets/{t3['id']}/tags", {"tags": ["vip"]}).status_code == 200

    assert numbers(agent, tag=tag) == {t1["number"], t2["number"]}
    assert numbers(agent, tag=f"{tag},vip", tag_mode="all") == {t1["number"]}
    assert {t1["number"], t2["number"], t3["number"]} <= numbers(agent, tag=f"{tag},vip")
    row = [t for t in agent.get("/tickets", params={"number": t1["number"]}).json()["items"]]
    assert sorted(row[0]["tags"]) == sorted([tag, "vip"])
    assert tag in agent.get(f"/tickets/{t1['id']}").json()["tags"]
    assert tag in {t["tag"] for t in agent.get("/tags").json()["items"]}

    # customers never see tags nor filter by them
    assert "tags" not in alice.get(f"/tickets/{t1['id']}").json()
    assert all("tags" not in t for t in alice.get("/tickets").json()["items"])
    r = alice.get("/tickets", params={"tag": "vip"}, headers={"Accept-Language": "zh"})
    assert r.status_code == 403 and "标签" in r.json()["error"]["message"]
    assert alice.post(f"/tickets/{t1['id']}/tags", {"tags": ["x"]}).status_code == 403

    r = agent.delete(f"/tickets/{t1['id']}/tags/VIP")  # normalised like when added
    assert r.status_code == 200 and r.json()["tags"] == [tag]
    for bad in ({"tags": []}, {"tags": ["a,b"]}, {"tags": ["x" * 33]}, {"tags": "vip"},
                {"tags": ["  "]}):
        r = agent.post(f"/tickets/{t1['id']}/tags", bad, headers={"Accept-Language": "en"})
        assert r.status_code == 400, (bad, r.text)
    r = agent.post(f"/tickets/{t1['id']}/tags", {"tags": [f"t{i}" for i in range(20)]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "too_many_tags"
    assert tag in agent.get(f"/tickets/{t1['id']}").json()["tags"]  # nothing half-added

    rows = system.sql("intake", "SELECT payload FROM outbox WHERE type = %s ORDER BY id",
                      "ticket_tags_changed")
    payloads = [p if isinstance(p, dict) else json.loads(p) for (p,) in rows]
    mine = [p["data"] for p in payloads if p.get("ticket_id") == t1["id"]]
    assert mine[0]["added"] == sorted([tag, "vip"]) and mine[0]["removed"] == []
    assert mine[-1]["removed"] == ["vip"] and mine[-1]["tags"] == [tag]
    assert len(mine) == 2  # the refused requests emitted nothing


def test_bulk_actions_report_each_ticket(system, scene, new_ticket, product, make_user):
    agent, alice, fs = scene["agent"], scene["alice"], scene["fs"]
    tickets = [new_ticket(alice, product=fs.product, urgency="low", impact="individual")
               for _ in range(3)]
    ids = [t["id"] for t in tickets]
    r = agent.post("/tickets/bulk", {"action": "priority", "ticket_ids": ids,
                                     "params": {"priority": "P2"}})
    assert r.status_code == 200, r.text
    assert r.json()["done"] == 3 and all(i["ok"] for i in r.json()["results"])
    assert {agent.get(f"/tickets/{i}").json()["priority"] for i in ids} == {"P2"}

    tag = unique("bulk")
    r = agent.post("/tickets/bulk", {"action": "tag", "ticket_ids": [tickets[0]["number"]] + ids[1:],
                                     "params": {"tags": [tag]}})
    assert r.json()["done"] == 3
    assert numbers(agent, tag=tag) == {t["number"] for t in tickets}
    r = agent.post("/tickets/bulk", {"action": "untag", "ticket_ids": ids[:1],
                                     "params": {"tags": [tag]}})
    assert r.json()["done"] == 1 and len(numbers(agent, tag=tag)) == 2

    r = agent.post("/tickets/bulk", {"action": "assign", "ticket_ids": ids[:2],
                                     "params": {"engineer_id": fs.engineer.user["id"]}})
    assert r.status_code == 200 and r.json()["done"] == 2, r.text
    wait_for(agent, ids[0], lambda t: t["status"] == "assigned")

    # close: only resolved tickets may close; each refusal carries the rule's own words
    r = agent.post("/tickets/bulk", {"action": "close", "ticket_ids": ids},
                   headers={"Accept-Language": "zh"})
    assert r.status_code == 200 and r.json()["done"] == 0 and r.json()["refused"] == 3
    first = r.json()["results"][0]
    assert first["ok"] is False and first["number"] == tickets[0]["number"]
    assert first["error"]["code"] == "illegal_transition" and "关闭" in first["error"]["message"]

    # Idempotency-Key: the retry answers the first results and does nothing again
    key = {"Idempotency-Key": unique("bulk-key-")}
    body = {"action": "tag", "ticket_ids": ids, "params": {"tags": [tag + "k"]}}
    first = agent.post("/tickets/bulk", body, headers=key).json()
    agent.delete(f"/tickets/{ids[0]}/tags/{tag}k")
    again = agent.post("/tickets/bulk", body, headers=key)
    assert again.status_code == 200 and again.json() == first
    assert tag + "k" not in agent.get(f"/tickets/{ids[0]}").json()["tags"]


def test_bulk_over_a_ticket_the_actor_cannot_touch_changes_nothing(system, scene, new_ticket):
    agent, alice, bob, fs = scene["agent"], scene["alice"], scene["bob"], scene["fs"]
    own = [new_ticket(alice) for _ in range(2)]
    foreign = new_ticket(bob)
    ids = [t["id"] for t in own] + [foreign["number"]]
    # the provider admin sees none of these; the customer may not act in bulk at all
    r = fs.boss.post("/tickets/bulk", {"action": "tag", "ticket_ids": ids,
                                       "params": {"tags": ["x"]}},
                     headers={"Accept-Language": "en"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "bulk_tickets_refused"
    assert foreign["number"] in r.json()["error"]["message"]
    assert foreign["number"] in r.json()["error"]["details"]["tickets"]
    r = alice.post("/tickets/bulk", {"action": "tag", "ticket_ids": ids,
                                     "params": {"tags": ["x"]}},
                   headers={"Accept-Language": "zh"})
    assert r.status_code == 403 and "批量" in r.json()["error"]["message"]
    r = agent.post("/tickets/bulk", {"action": "priority",
                                     "ticket_ids": [own[0]["id"], "TS00000000999"],
                                     "params": {"priority": "P1"}})
    assert r.status_code == 403 and "TS00000000999" in r.json()["error"]["message"]
    assert agent.get(f"/tickets/{own[0]['id']}").json()["priority"] == own[0]["priority"]
    assert [agent.get(f"/tickets/{t['id']}").json()["tags"] for t in own] == [[], []]

    for bad in ({"action": "delete", "ticket_ids": ids},
                {"action": "priority", "ticket_ids": ids, "params": {"priority": "P9"}},
                {"action": "assign", "ticket_ids": ids, "params": {}},
                {"action": "tag", "ticket_ids": [], "params": {"tags": ["x"]}},
                {"action": "tag", "ticket_ids": ["x"] * 201, "params": {"tags": ["x"]}},
                {"action": "tag", "ticket_ids": ids, "params": {"tags": ["a,b"]}},
                {"ticket_ids": ids}):
        for lang in ("en", "zh"):
            r = agent.post("/tickets/bulk", bad, headers={"Accept-Language": lang})
            assert r.status_code == 400, (bad, r.text)
            assert r.json()["error"]["code"] == "validation_failed"
    assert [agent.get(f"/tickets/{t['id']}").json()["tags"] for t in own] == [[], []]
