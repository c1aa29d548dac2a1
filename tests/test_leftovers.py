"""Leftover items (遗留问题) with every service running, over HTTP: an engineer resolves with
leftover items (a bad one refuses the whole close, nothing written), the customer follows
them (internal notes left out), another company sees nothing, progress / done / cancel, the
events an outside system receives, and the overdue reminder: once per item however many
sweeps run at once, told to the owner by notify."""
import datetime as dt
import os
import threading
import time
import zoneinfo

import pytest

from tests.support.templates import render_for
from tests.test_events import OutsideConsumer
from tests.test_flows import field_service, now, wait_for  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration

def day(offset):
    # the desk's date (TIMEZONE, Asia/Shanghai in the suite): after 16:00 UTC it is a day
    # ahead of the machine's, and the service refuses a due date before the desk's today
    return (desk_today() + dt.timedelta(days=offset)).isoformat()


def desk_today():
    return dt.datetime.now(zoneinfo.ZoneInfo(os.environ.get("GONGDAN_TIMEZONE",
                                                            "Asia/Shanghai"))).date()


@pytest.fixture
def consumer(system):
    c = OutsideConsumer(system.amqp_uri)
    yield c
    c.close()


def item(owner, **over):
    out = {"description": "大文件上传偶发超时 / large uploads time out now and then",
           "plan": "8.0.3 版本优化分片上传", "owner_id": owner.user["id"], "due_date": day(14)}
    out.update(over)
    return out


def in_progress(system, agent, engineer, customer, new_ticket, product):
    ticket = new_ticket(customer, product=product, title="上传失败")
    assert agent.post(f"/tickets/{ticket['id']}/assign",
                      {"engineer_id": engineer.user["id"]}).status_code == 200
    wait_for(engineer, ticket["id"], lambda t: t.get("status") == "assigned")
    assert engineer.post(f"/tickets/{ticket['id']}/start").status_code == 200
    return ticket


def fix(**over):
    return dict({"root_cause": "configuration", "completed_at": now(),
                 "description": "调整网关超时配置"}, **over)


def rows(system, ticket_id):
    return system.sql("intake", "SELECT status FROM leftover_items WHERE ticket_id = %s",
                      ticket_id)


def of(events, ticket_id, type_=None):
    return [e for e in events if e["ticket_id"] == ticket_id and e["type"].startswith("leftover")
            and (type_ is None or e["type"] == type_)]


def test_close_with_leftover_items_followed_by_the_customer_until_done(
        system, make_user, new_ticket, field_service, consumer):  # noqa: F811
    customer, agent = make_user(lang="zh"), make_user("agent")
    stranger = make_user("customer_admin")
    engineer = field_service.engineer
    tk = in_progress(system, agent, engineer, customer, new_ticket, field_service.product)
    tid = tk["id"]

    # a bad item refuses the whole close: nothing is written, in words, in both languages
    for bad, code in [({"owner_id": customer.user["id"]}, "validation_failed"),
                      ({"due_date": day(-1)}, "due_date_in_past"),
                      ({"due_date": "2026-02-30"}, "validation_failed"),
                      ({"plan": ""}, "validation_failed")]:
        r = engineer.post(f"/tickets/{tid}/resolve",
                          fix(leftover_items=[item(engineer), item(engineer, **bad)]))
        assert r.status_code == 400 and r.json()["error"]["code"] == code, r.text
        if code == "validation_failed":  # the bad item is named, not the good one
            assert list(r.json()["error"]["details"]["fields"]["leftover_items"]) == ["1"]
    r = engineer.post(f"/tickets/{tid}/resolve", fix(leftover_items=[item(engineer)] * 21))
    assert r.status_code == 400
    zh = customer.post(f"/tickets/{tid}/resolve", fix())
    assert zh.status_code in (403, 404)
    assert engineer.get(f"/tickets/{tid}").json()["status"] == "in_progress"
    assert rows(system, tid) == []

    # the close with two items: the engineer's own and one for the desk
    r = engineer.post(f"/tickets/{tid}/resolve", fix(leftover_items=[
        item(engineer), item(agent, description="需要研发确认根因", due_date=day(30))]))
    assert r.status_code == 200 and r.json()["status"] == "resolved", r.text
    seen = customer.get(f"/tickets/{tid}").json()["leftover_items"]
    assert [(i["seq"], i["owner_name"], i["status"]) for i in seen] == [
        (1, engineer.user["name"], "open"), (2, agent.user["name"], "open")]
    first, second = seen

    # progress: a public note and an internal one; the customer sees only the first
    r = engineer.post(f"/leftovers/{first['id']}/updates", {"note": "已定位：分片大小", "percent": 40})
    assert r.status_code == 200 and r.json()["percent"] == 40, r.text
    r = engineer.post(f"/leftovers/{first['id']}/updates",
                      {"note": "内部：等研发排期", "internal": True})
    assert r.status_code == 200
    mine = customer.get(f"/leftovers/{first['id']}").json()
    assert [u["note"] for u in mine["updates"]] == [None, "已定位：分片大小"]
    assert len(agent.get(f"/leftovers/{first['id']}").json()["updates"]) == 3
    listed = customer.get("/leftovers").json()
    assert {i["id"] for i in listed["items"]} == {first["id"], second["id"]}
    assert customer.post(f"/leftovers/{first['id']}/updates", {"note": "x"}).status_code == 403

    # another company's admin sees nothing and cannot probe
    assert stranger.get("/leftovers").json()["total"] == 0
    assert stranger.get(f"/leftovers/{first['id']}").status_code == 404
    assert stranger.post(f"/leftovers/{first['id']}/done").status_code == 404

    # the engineer's list of their own; the owner on the agent side
    assert [i["id"] for i in engineer.get("/leftovers", params={"owner": "me"}).json()["items"]] \
        == [first["id"]]
    assert agent.get("/leftovers", params={"owner": "me", "status": "open"}).json()["total"] == 1

    # done, and cancel only with a reason
    r = engineer.post(f"/leftovers/{first['id']}/done", {"note": "8.0.3 已发布"})
    assert r.status_code == 200 and r.json()["status"] == "done" and r.json()["percent"] == 100
    again = engineer.post(f"/leftovers/{first['id']}/updates", {"percent": 10})
    assert again.status_code == 409 and again.json()["error"]["code"] == "leftover_item_final"
    r = agent.post(f"/leftovers/{second['id']}/cancel", {})
    assert r.status_code == 400 and r.json()["error"]["code"] == "reason_required"
    assert agent.post(f"/leftovers/{second['id']}/cancel",
                      {"note": "客户不再需要"}).status_code == 200
    assert sorted(s for (s,) in rows(system, tid)) == ["cancelled", "done"]

    # what an outside system received, in order, one each
    want = ["leftover_item_added", "leftover_item_added", "leftover_item_updated",
            "leftover_item_updated", "leftover_item_done", "leftover_item_cancelled"]
    got = consumer.drain(until=lambda got: len(of(got, tid)) >= len(want), seconds=20)
    assert [e["type"] for e in of(got, tid)] == want
    assert of(got, tid)[3]["data"]["internal"] is True
    assert of(got, tid)[0]["data"]["item"]["owner_id"] == engineer.user["id"]
    # the owner's message renders whole from the real event, zh and en (issue 17)
    assert render_for(of(got, tid)[0]) == {"leftover_assigned"}


def test_overdue_reminder_once_across_concurrent_sweeps_and_told_to_the_owner(
        system, admin, make_user, new_ticket, field_service, consumer):  # noqa: F811
    customer, agent = make_user(), make_user("agent")
    engineer = field_service.engineer
    tk = in_progress(system, agent, engineer, customer, new_ticket, field_service.product)
    tid = tk["id"]
    assert engineer.post(f"/tickets/{tid}/resolve",
                         fix(leftover_items=[item(engineer)])).status_code == 200
    # the desk closes it (nobody confirmed) with one more item, named by the desk
    r = agent.post(f"/tickets/{tid}/close", {"leftover_items": [item(engineer, due_date=day(0))]})
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    # staff add one later
    r = agent.post(f"/tickets/{tid}/leftovers", {"items": [item(agent)]})
    assert r.status_code == 201 and r.json()["items"][0]["seq"] == 3

    # two of them passed their due date two days ago
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    stamp = past.strftime("%Y-%m-%d %H:%M:%S.%f") + ("" if system.backend == "sqlite" else "+00")
    changed = system.sql("intake", "UPDATE leftover_items SET due_date = %s, due_at = %s, "
                         "remind_at = %s WHERE ticket_id = %s AND seq IN (1, 2)",
                         (past - dt.timedelta(days=1)).date().isoformat(), stamp, stamp, tid,
                         write=True)
    assert changed == 2

    assert customer.post("/admin/leftovers/sweep").status_code == 403
    results = []

    def sweep():
        r = admin.post("/admin/leftovers/sweep")
        results.append(r.json()["reminded"] if r.status_code == 200 else r.text)
    threads = [threading.Thread(target=sweep) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert all(isinstance(n, int) for n in results), results
    assert sum(results) >= 2  # other tests' items may be swept too, never ours twice

    got = consumer.drain(until=lambda got: len(of(got, tid, "leftover_item_overdue")) >= 2,
                         seconds=20)
    overdue = of(got, tid, "leftover_item_overdue")
    assert render_for(overdue[0]) == {"leftover_overdue"}  # renders whole, zh and en
    assert len(overdue) == 2 and {e["data"]["item"]["seq"] for e in overdue} == {1, 2}
    assert {e["data"]["reminder"] for e in overdue} == {1}
    assert all(e["data"]["days_overdue"] >= 2 for e in overdue)
    time.sleep(1)  # nothing more arrives for this ticket
    assert len(of(consumer.drain(seconds=1), tid, "leftover_item_overdue")) == 2

    late = agent.get("/leftovers", params={"overdue": "true", "ticket_id": tid}).json()
    assert [i["seq"] for i in late["items"]] == [1, 2] and late["items"][0]["overdue"] is True
    assert late["items"][0]["days_overdue"] >= 2

    # notify told the owner (and the desk), once
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        inbox = [n for n in engineer.get("/notifications").json()["items"]
                 if n["ticket_id"] == tid and n["kind"] == "leftover_overdue"]
        if len(inbox) >= 2:
            break
        time.sleep(0.5)
    assert len(inbox) == 2, inbox
    text = inbox[0]["title"] + inbox[0]["body"]
    assert "逾期" in text or "overdue" in text.lower()


def test_leftover_bad_input(system, make_user, new_ticket, field_service):  # noqa: F811
    customer, agent = make_user(), make_user("agent")
    engineer = field_service.engineer
    tk = in_progress(system, agent, engineer, customer, new_ticket, field_service.product)
    r = agent.post(f"/tickets/{tk['id']}/leftovers", {"items": [item(engineer)]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "ticket_not_closed"
    assert agent.get("/leftovers/no-such-item").status_code == 404
    assert agent.post("/leftovers/no-such-item/done").status_code == 404
    r = agent.get("/leftovers", params={"status": "nonsense"})
    assert r.status_code == 400
    r = agent.get("/leftovers", params={"due_from": "2026-13-01"})
    assert r.status_code == 400
    r = agent.post(f"/tickets/{tk['id']}/leftovers", {"items": []})
    assert r.status_code == 400
    # the owners an engineer may name: their provider's people and the desk, no customers
    names = {o["id"] for o in engineer.get("/leftovers/owners").json()["items"]}
    assert engineer.user["id"] in names and agent.user["id"] in names
    assert customer.user["id"] not in names
    assert customer.get("/leftovers/owners").json()["items"] == []
    doc = agent.get("/openapi.json").json()
    assert {"/api/v1/leftovers", "/api/v1/leftovers/{item_id}/updates",
            "/api/v1/tickets/{ticket_id}/leftovers"} <= set(doc["paths"])
