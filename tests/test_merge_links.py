"""Merging a duplicate into another ticket and linking tickets, over HTTP with the real system:
the duplicate closed with its history, both submitters told, the events published, bad
merges refused with nothing changed, and links a customer sees only when they may open the
other ticket."""
import json

import pytest

from tests.test_notify import inbox, wait_until

pytestmark = pytest.mark.integration


def outbox_events(system, ticket_id, *types):
    # in the order they were written (PostgreSQL returns rows in any order without one)
    rows = system.sql("intake", "SELECT type, payload FROM outbox WHERE type IN (%s) ORDER BY id"
                      % ",".join("'%s'" % t for t in types))
    out = []
    for type_, payload in rows:
        payload = json.loads(payload) if isinstance(payload, str) else payload
        if payload.get("ticket_id") == ticket_id:
            out.append((type_, payload))
    return out


@pytest.fixture()
def pair(make_user, make_company, new_ticket):
    """Two customers of one company, each with a ticket about the same problem."""
    company = make_company()
    first, second = make_user(company=company), make_user(company=company, lang="en")
    assert second.patch("/me", {"language": "en"}).status_code == 200
    a = new_ticket(first, title="导出报表失败 A")
    b = new_ticket(second, title="导出报表失败 B")
    return first, second, a, b


def test_merge_closes_the_duplicate_keeps_history_and_tells_both(system, make_user, pair):
    first, second, a, b = pair
    agent = make_user("agent")
    assert first.post(f"/tickets/{a['id']}/comments", {"body": "补充：Chrome 下复现"}).status_code == 201
    r = agent.post(f"/tickets/{a['id']}/merge", {"into": b["number"], "reason": "同一问题"})
    assert r.status_code == 200, r.text
    merged = r.json()
    assert merged["status"] == "closed" and merged["merged_into_number"] == b["number"]

    # the duplicate keeps its history and conversation, read-only for its submitter
    seen = first.get(f"/tickets/{a['id']}").json()
    assert seen["status"] == "closed"
    assert seen["merged_into"]["number"] == b["number"]
    assert seen["merged_into"]["can_open"] is False  # another submitter's ticket
    assert [c["body"] for c in seen["comments"]] == ["补充：Chrome 下复现"]
    assert seen["history"][-1]["action"] == "merge"
    assert first.post(f"/tickets/{a['id']}/comments", {"body": "还在吗"}).status_code == 409
    assert first.get(f"/tickets/{b['id']}").status_code == 404  # merging shares nothing
    # the target lists what was merged into it, with a timeline entry, for staff
    target = agent.get(f"/tickets/{b['id']}").json()
    assert target["status"] == "new"
    assert [(l["kind"], l["ticket"]["number"]) for l in target["links"]] == \
        [("merged_from", a["number"])]
    assert any(i["kind"] == "merged_from" and i["summary"] == a["number"]
               for i in target["timeline"])
    staff_view = agent.get(f"/tickets/{a['id']}").json()
    assert staff_view["merged_into"] == {"id": b["id"], "number": b["number"], "can_open": True}

    # events: the status change (action merge) and one ticket_merged per ticket
    status = outbox_events(system, a["id"], "ticket_status_changed")
    assert any(p["data"]["action"] == "merge" and p["data"]["to_status"] == "closed"
               for _, p in status)
    (_, dup), = outbox_events(system, a["id"], "ticket_merged")
    (_, tgt), = outbox_events(system, b["id"], "ticket_merged")
    assert dup["data"]["side"] == "duplicate" and dup["data"]["into"]["number"] == b["number"]
    assert tgt["data"]["side"] == "target" and tgt["data"]["duplicate"]["number"] == a["number"]

    # both submitters are told, each in their language
    note_a = wait_until(lambda: [n for n in inbox(first)["items"] if n["kind"] == "merged"],
                        what="the duplicate's submitter told")
    assert b["number"] in note_a[0]["title"] and "合并" in note_a[0]["title"]
    note_b = wait_until(lambda: [n for n in inbox(second)["items"] if n["kind"] == "merged_into"],
                        what="the target's submitter told")
    assert a["number"] in note_b[0]["title"] and "merged" in note_b[0]["title"]
    # sla stopped the duplicate's resolution clock without counting it met
    def resolution():
        clocks = agent.get(f"/tickets/{a['id']}/sla").json().get("clocks") or []
        found = [c for c in clocks if c["target"] == "resolution"]
        return found[0] if found and found[0]["state"] == "stopped" else None
    clock = wait_until(resolution, seconds=20, what="the duplicate's resolution clock stopped")
    assert clock["met"] is False and clock["breached"] is False

def snapshot(system, *ids):
    marks = ",".join("'%s'" % i for i in ids)
    return (system.sql("intake", f"SELECT id, status, version, merged_into_id FROM tickets "
                                 f"WHERE id IN ({marks}) ORDER BY id"),
            system.sql("intake", f"SELECT count(*) FROM ticket_links WHERE ticket_id IN ({marks}) "
                                 f"OR other_id IN ({marks})"),
            system.sql("intake", "SELECT count(*) FROM outbox WHERE CAST(payload AS TEXT) LIKE %s",
                       f"%{ids[0]}%"))


def test_bad_merges_are_refused_with_nothing_changed(system, make_user, make_company, pair,
                                                      new_ticket):
    first, second, a, b = pair
    agent, engineer = make_user("agent"), make_user("engineer")
    other_company = make_user()
    foreign = new_ticket(other_company, title="另一家企业的工单")
    before = snapshot(system, a["id"], foreign["id"])
    for lang, words in (("zh", "不同客户企业"), ("en", "different customer companies")):
        r = agent.post(f"/tickets/{a['id']}/merge", {"into": foreign["number"]},
                       headers={"Accept-Language": lang})
        assert r.status_code == 409, r.text
        err = r.json()["error"]
        assert err["code"] == "merge_across_companies" and words in err["message"]
    assert snapshot(system, a["id"], foreign["id"]) == before  # nothing half-done

    r = agent.post(f"/tickets/{a['id']}/merge", {"into": a["id"]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "merge_invalid"
    assert agent.post(f"/tickets/{a['id']}/merge", {}).status_code == 400
    assert agent.post(f"/tickets/{a['id']}/merge", {"into": "TS00000000000"}).status_code == 404
    # the customer and an engineer may not merge (the engineer cannot even see them)
    assert first.post(f"/tickets/{a['id']}/merge", {"into": b["id"]}).status_code in (403, 404)
    assert engineer.post(f"/tickets/{a['id']}/merge", {"into": b["id"]}).status_code == 404
    # into a closed/merged ticket, and back again (a cycle), are refused
    c = new_ticket(first, title="第三个")
    assert agent.post(f"/tickets/{a['id']}/merge", {"into": b["id"]}).status_code == 200
    r = agent.post(f"/tickets/{c['id']}/merge", {"into": a["id"]},
                   headers={"Accept-Language": "zh"})
    assert r.status_code == 409 and "已关闭" in r.json()["error"]["message"], r.text
    r = agent.post(f"/tickets/{b['id']}/merge", {"into": a["id"]})
    assert r.status_code == 409
    r = agent.post(f"/tickets/{a['id']}/merge", {"into": c["id"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "merge_invalid"
    assert agent.get(f"/tickets/{c['id']}").json()["status"] == "new"


def test_links_related_parent_child_and_what_a_customer_sees(system, make_user, make_company,
                                                             new_ticket):
    company = make_company()
    owner, colleague = make_user(company=company), make_user(company=company)
    boss = make_user("customer_admin", company=company)
    agent = make_user("agent")
    mine = new_ticket(owner, title="我的工单")
    theirs = new_ticket(colleague, title="同事的工单")
    parent = new_ticket(owner, title="父工单")
    child = new_ticket(owner, title="子工单")

    r = agent.post(f"/tickets/{mine['id']}/links", {"other": theirs["number"]})
    assert r.status_code == 201, r.text
    related = r.json()
    assert related["kind"] == "related" and related["ticket"]["number"] == theirs["number"]
    r = agent.post(f"/tickets/{child['id']}/links", {"other": parent["id"], "kind": "parent"})
    assert r.status_code == 201 and r.json()["kind"] == "parent"
    sub = new_ticket(owner, title="我的子工单")
    assert agent.post(f"/tickets/{mine['id']}/links",
                      {"other": sub["id"], "kind": "child"}).status_code == 201

    # seen from both ends, each with its own direction
    assert [(l["kind"], l["ticket"]["number"]) for l in
            agent.get(f"/tickets/{child['id']}/links").json()["items"]] == \
        [("parent", parent["number"])]
    assert [l["kind"] for l in agent.get(f"/tickets/{parent['id']}").json()["links"]] == ["child"]
    assert [l["kind"] for l in agent.get(f"/tickets/{sub['id']}").json()["links"]] == ["parent"]

    # the customer sees only links to tickets they may open; their company admin sees all
    own = {l["ticket"]["number"] for l in owner.get(f"/tickets/{mine['id']}").json()["links"]}
    assert theirs["number"] not in own and sub["number"] in own
    all_ = {l["ticket"]["number"] for l in boss.get(f"/tickets/{mine['id']}").json()["links"]}
    assert theirs["number"] in all_
    assert colleague.get(f"/tickets/{theirs['id']}/links").json()["items"] == []

    # refusals: duplicates (either way), self, a second parent, a loop, customers, bad kind
    assert agent.post(f"/tickets/{theirs['id']}/links", {"other": mine["id"]}).status_code == 409
    assert agent.post(f"/tickets/{mine['id']}/links", {"other": mine["id"]}).status_code == 400
    r = agent.post(f"/tickets/{child['id']}/links", {"other": theirs["id"], "kind": "parent"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "link_invalid"  # 2nd parent
    assert agent.post(f"/tickets/{sub['id']}/links", {"other": child["id"],
                                                      "kind": "child"}).status_code == 409
    r = agent.post(f"/tickets/{parent['id']}/links", {"other": child["id"], "kind": "parent"},
                   headers={"Accept-Language": "zh"})
    assert r.status_code == 409  # already linked (child -> parent)
    grand = new_ticket(owner, title="祖工单")
    assert agent.post(f"/tickets/{parent['id']}/links",
                      {"other": grand["id"], "kind": "parent"}).status_code == 201
    r = agent.post(f"/tickets/{grand['id']}/links", {"other": child["id"], "kind": "parent"},
                   headers={"Accept-Language": "zh"})
    assert r.status_code == 409 and "循环" in r.json()["error"]["message"], r.text
    assert owner.post(f"/tickets/{mine['id']}/links", {"other": parent["id"]}).status_code == 403
    assert agent.post(f"/tickets/{mine['id']}/links",
                      {"other": grand["id"], "kind": "sibling"}).status_code == 400

    # remove: the event, and the link gone from both ends
    r = agent.delete(f"/tickets/{theirs['id']}/links/{related['id']}")
    assert r.status_code == 200, r.text
    assert agent.get(f"/tickets/{mine['id']}/links").json()["items"] and all(
        l["id"] != related["id"] for l in agent.get(f"/tickets/{mine['id']}/links").json()["items"])
    assert agent.delete(f"/tickets/{theirs['id']}/links/{related['id']}").status_code == 404
    linked = outbox_events(system, mine["id"], "ticket_linked")
    unlinked = outbox_events(system, theirs["id"], "ticket_unlinked")
    assert linked and linked[0][1]["data"]["other"]["number"] == theirs["number"]
    assert unlinked and unlinked[0][1]["data"]["kind"] == "related"
