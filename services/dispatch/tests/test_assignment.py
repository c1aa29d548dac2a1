"""Assignment's service layer on a migrated database (SQLite and PostgreSQL), no broker:
the ticket projection, assign / reassign / unassign with their reasons and refusals, the
automatic dispatch of new tickets, routing rules, provider offers, racing assignments and
the certification check. The clock is fixed (conftest.NOW, which is TODAY in Shanghai)."""
import contextlib
import datetime as dt

import eventlet
import pytest
from sqlalchemy import func, select

from gongdan_common.errors import AppError
from services.dispatch import assigning, expiring, handlers, offers, projection, routing
from services.dispatch.models import CurrentAssignment, metadata
from services.sla.schemas import TimerCancelSchema, TimerRequestSchema

from .conftest import (ADMIN, AGENT, CUSTOMER, NOW, TODAY, engineer_actor, make_settings,
                       provider_admin, ticket_created, ticket_ref, ticket_status_changed,
                       timer_due)

DAY = dt.timedelta(days=1)
OUTBOX = metadata.tables["outbox"]
PA1, PA2 = provider_admin("p1"), provider_admin("p2")


@contextlib.contextmanager
def refused(status, code=None):
    with pytest.raises(AppError) as info:
        yield info
    assert info.value.status == status, info.value.payload
    if code:
        assert info.value.code == code, info.value.payload


def outbox(uow, type=None):
    with uow:
        rows = [r.payload for r in uow.session.execute(select(OUTBOX).order_by(OUTBOX.c.id))]
    return [r for r in rows if type is None or r["type"] == type]


def cert_for(uow, settings, engineer_id, line, no, start=TODAY - 100 * DAY,
             end=TODAY + 265 * DAY):
    return handlers.add_certification(ADMIN, engineer_id, {
        "product_line": line, "certificate_no": no, "valid_from": start.isoformat(),
        "valid_until": end.isoformat()}, uow, settings)


@pytest.fixture
def registry(uow, settings):
    """p1 (上海, AnyBackup + AnyShare): Zhang e1 (skill AB-7), Li e2; p2 (广州, AnyBackup):
    Wang e3; p3 (nationwide, AnyBackup): Zhao e4."""
    for pid, name, regions, lines in [("p1", "华东服务商", ["上海"], ["AnyBackup", "AnyShare"]),
                                      ("p2", "华南服务商", ["广州"], ["AnyBackup"]),
                                      ("p3", "全国服务商", [], ["AnyBackup"])]:
        handlers.upsert_provider(ADMIN, {"id": pid, "name": name, "regions": regions,
                                         "product_lines": lines}, uow)
    for eid, pid, name, skills in [("e1", "p1", "Zhang San", ["AB-7"]),
                                   ("e2", "p1", "Li Si", []),
                                   ("e3", "p2", "Wang Wu", []),
                                   ("e4", "p3", "Zhao Liu", [])]:
        handlers.upsert_engineer(ADMIN, {"id": eid, "provider_id": pid, "name": name,
                                         "skills": skills}, uow)
    certs = {}
    for eid, line, no in [("e1", "AnyBackup", "AB-1"), ("e2", "AnyBackup", "AB-2"),
                          ("e2", "AnyShare", "AS-2"), ("e3", "AnyBackup", "AB-3"),
                          ("e4", "AnyBackup", "AB-4")]:
        certs[no] = cert_for(uow, settings, eid, line, no)
    return certs


def new_ticket(uow, settings, **kw):
    """A ticket intake created, projected from its event (no automatic dispatch unless the
    type or rules call for it)."""
    ref = ticket_ref(**kw)
    routing.tickets_created([ticket_created(ref)], uow, settings)  # the consumer's batch path
    return ref


def moved(uow, settings, ref, status, version_step=1):
    ref = dict(ref, status=status, version=ref["version"] + version_step)
    projection.ticket_changed(ticket_status_changed(ref, None), uow, settings,
                              "dispatch.ticket_status_changed")
    return ref


def assign(actor, ref, engineer_id, uow, settings, **payload):
    return assigning.assign(actor, ref["id"], dict(payload, engineer_id=engineer_id), uow,
                             settings)


def reassign(actor, ref, engineer_id, uow, settings, reason="客户要求更换工程师", **payload):
    return assigning.reassign(actor, ref["id"], dict(payload, engineer_id=engineer_id,
                                                       reason=reason), uow, settings)


# ==== projection ==================================================================================

def test_projection_keeps_the_highest_version_and_drops_redeliveries(uow, settings):
    ref = ticket_ref(type="consult")
    event = ticket_created(ref)
    routing.ticket_created(event, uow, settings)
    later = dict(ref, status="needs_info", version=3)
    projection.ticket_changed(ticket_status_changed(later, "new"), uow, settings, "c")
    older = dict(ref, status="cancelled", version=2)  # arrives late: ignored
    projection.ticket_changed(ticket_status_changed(older, "new"), uow, settings, "c")
    assert routing.ticket_created(event, uow, settings) is None  # redelivered
    facts = projection._ticket(uow, None, ref["id"], settings)
    assert (facts.status, facts.number) == ("needs_info", ref["number"])


def test_unknown_tickets_are_fetched_from_intake_once(uow, registry, settings):
    ref = ticket_ref(type="repair")
    calls = []

    def tickets(ticket_id):
        calls.append(ticket_id)
        return dict(ref, created_at=ref["created_at"].isoformat(),
                    updated_at=ref["updated_at"].isoformat())
    out = assigning.assign(AGENT, ref["id"], {"engineer_id": "e1"}, uow, settings, tickets)
    assert (out["engineer_id"], calls) == ("e1", [ref["id"]])
    assigning.reassign(AGENT, ref["id"], {"engineer_id": "e2", "reason": "x"}, uow, settings,
                        tickets)
    assert calls == [ref["id"]]  # projected now


def test_a_ticket_intake_does_not_know_is_404(uow, registry, settings):
    def tickets(ticket_id):
        raise AppError({"code": "ticket_not_found", "status": 404, "message": {}})
    with refused(404, "ticket_not_found"):
        assigning.assign(AGENT, "nope", {"engineer_id": "e1"}, uow, settings, tickets)


# ==== assign and its reasons =======================================================================

def test_agent_assigns_and_the_decision_is_recorded_with_its_reasons(uow, registry, settings):
    ref = new_ticket(uow, settings, type="repair", region="上海")
    out = assign(AGENT, ref, "e1", uow, settings, reason="熟悉该客户环境")
    assert out["method"] == "manual" and out["kind"] == "assigned"
    assert out["chosen_by"] == {"id": "u-agent", "role": "agent", "name": "Desk"}
    assert out["certification"] == {"id": registry["AB-1"]["id"], "certificate_no": "AB-1",
                                    "valid_until": (TODAY + 265 * DAY).isoformat()}
    assert out["open_load"] == 0 and out["reason"] == "熟悉该客户环境"

    [event] = outbox(uow, "ticket_assigned")
    assert (event["ticket_id"], event["ticket_number"]) == (ref["id"], ref["number"])
    assert event["actor"]["role"] == "agent"
    assert event["data"] == {
        "assignment_id": out["id"], "ticket_id": ref["id"], "ticket_number": ref["number"],
        "engineer_id": "e1", "engineer_name": "Zhang San", "provider_id": "p1",
        "provider_name": "华东服务商", "method": "manual",
        "chosen_by": {"id": "u-agent", "role": "agent", "name": "Desk"}, "rule_id": None,
        "rule_name": None, "offer_id": None,
        "certification": {"id": registry["AB-1"]["id"], "certificate_no": "AB-1",
                          "valid_until": (TODAY + 265 * DAY).isoformat()},
        "open_load": 0, "reason": "熟悉该客户环境",
        # what the engineer's message names (issue 17: it had an empty title and product)
        "ticket": {k: ref[k] for k in ("number", "title", "type", "product", "product_line",
                                       "category", "priority")}}

    history = assigning.assignment_history(AGENT, ref["id"], uow)
    assert history["current_assignment_id"] == out["id"]
    assert [(i["engineer_id"], i["current"]) for i in history["items"]] == [("e1", True)]


def test_open_load_counts_active_tickets_until_they_are_done(uow, registry, settings):
    first = new_ticket(uow, settings)
    assign(AGENT, first, "e1", uow, settings)
    second = new_ticket(uow, settings)
    assert assign(AGENT, second, "e1", uow, settings)["open_load"] == 1
    out = handlers.qualified_engineers(AGENT, {"product_line": "AnyBackup",
                                               "provider_id": "p1"}, uow, settings)
    zhang = {e["id"]: e for e in out["items"]}["e1"]
    assert zhang["open_load"] == 2 and zhang["last_assigned_at"].endswith("Z")
    moved(uow, settings, first, "resolved")
    moved(uow, settings, second, "cancelled")
    third = new_ticket(uow, settings)
    assert assign(AGENT, third, "e1", uow, settings)["open_load"] == 0


def test_reassign_records_the_previous_engineer(uow, registry, settings):
    ref = new_ticket(uow, settings)
    first = assign(AGENT, ref, "e1", uow, settings)
    ref = moved(uow, settings, ref, "in_progress")
    out = reassign(PA1, ref, "e2", uow, settings, reason="张三出差")
    assert (out["kind"], out["previous_engineer_id"], out["reason"]) == \
        ("reassigned", "e1", "张三出差")
    [event] = outbox(uow, "ticket_reassigned")
    assert event["data"]["previous_engineer_id"] == "e1"
    assert event["data"]["previous_assignment_id"] == first["id"]
    assert event["data"]["chosen_by"]["role"] == "provider_admin"
    history = assigning.assignment_history(AGENT, ref["id"], uow)["items"]
    assert [(i["engineer_id"], i["end_reason"], i["current"]) for i in history] == \
        [("e1", "reassigned", False), ("e2", None, True)]


def test_reassign_right_after_assign_while_intake_still_says_new(uow, registry, settings):
    ref = new_ticket(uow, settings)
    assign(AGENT, ref, "e1", uow, settings)
    assert reassign(AGENT, ref, "e2", uow, settings)["engineer_id"] == "e2"


# ---- refusals -------------------------------------------------------------------------------------

def test_unqualified_engineers_are_refused_with_the_reason(uow, registry, settings):
    ref = new_ticket(uow, settings, product_line="AnyShare")
    with refused(409, "engineer_not_certified") as err:
        assign(AGENT, ref, "e1", uow, settings)  # Zhang holds AnyBackup only
    assert "Zhang San" in err.value.message("en") and "AnyShare" in err.value.message("en")
    assert "没有产品线 AnyShare 的认证" in err.value.message("zh")

    handlers.set_availability(ADMIN, "e2", "on_leave", uow)
    with refused(409, "engineer_on_leave"):
        assign(AGENT, ref, "e2", uow, settings)
    handlers.set_availability(ADMIN, "e2", "on_duty", uow)
    handlers.upsert_provider(ADMIN, {"id": "p1", "active": False}, uow)
    with refused(409, "provider_inactive"):
        assign(AGENT, ref, "e2", uow, settings)
    assert outbox(uow, "ticket_assigned") == []


def test_a_certification_that_lapsed_yesterday_stops_qualifying_today(uow, settings):
    handlers.upsert_provider(ADMIN, {"id": "p1", "name": "P", "product_lines": ["AnyBackup"]},
                             uow)
    handlers.upsert_engineer(ADMIN, {"id": "e1", "provider_id": "p1", "name": "Zhang"}, uow)
    handlers.upsert_engineer(ADMIN, {"id": "e2", "provider_id": "p1", "name": "Li"}, uow)
    cert_for(uow, settings, "e1", "AnyBackup", "OLD", TODAY - 365 * DAY, TODAY - DAY)
    cert_for(uow, settings, "e2", "AnyBackup", "LAST", TODAY - 365 * DAY, TODAY)
    ref = new_ticket(uow, settings)
    with refused(409, "certification_expired") as err:
        assign(AGENT, ref, "e1", uow, settings)
    assert err.value.details["valid_until"] == "2026-11-21"
    assert "expired on 2026-11-21" in err.value.message("en")
    assert "已于 2026-11-21 到期" in err.value.message("zh")
    # yesterday, the same engineer was qualified
    yesterday = make_settings(now=NOW - DAY)
    assert assign(AGENT, ref, "e1", uow, yesterday)["certification"]["certificate_no"] == "OLD"
    # valid until today still counts today
    assert reassign(AGENT, ref, "e2", uow, settings)["engineer_id"] == "e2"
    # and tomorrow it would not
    with refused(409, "certification_expired"):
        reassign(AGENT, ref, "e1", uow, make_settings(now=NOW + DAY))


def test_provider_admin_assigns_only_own_engineers_on_own_tickets(uow, registry, settings):
    ref = new_ticket(uow, settings, provider_id="p1")  # the desk gave it to p1 in intake
    with refused(403, "engineer_of_other_provider") as err:
        assign(PA1, ref, "e3", uow, settings)
    assert "Wang Wu" in err.value.message("en")
    # p2 may not see p1's ticket: not found, as for a ticket that does not exist
    with refused(404, "ticket_not_found"):
        assign(PA2, ref, "e3", uow, settings)
    assert assign(PA1, ref, "e2", uow, settings)["chosen_by"]["role"] == "provider_admin"
    with refused(404, "ticket_not_found"):  # p2 may not take it over either
        reassign(PA2, ref, "e3", uow, settings)


def test_provider_admin_assigns_only_repair_and_inspection(uow, registry, settings):
    ref = new_ticket(uow, settings, type="defect", provider_id="p1")
    with refused(403, "provider_type_forbidden"):
        assign(PA1, ref, "e1", uow, settings)
    # the ticket's customer sees it but may not dispatch; others do not see it: 404, and
    # p2 is not told the ticket's type (the old oracle)
    with refused(403, "forbidden"):
        assign(CUSTOMER, ref, "e1", uow, settings)
    for actor in (engineer_actor("e1"), PA2, dict(CUSTOMER, id="u-other")):
        with refused(404, "ticket_not_found"):
            assign(actor, ref, "e1", uow, settings)
    with refused(404, "ticket_not_found"):
        assign(PA2, {"id": "t-unknown"}, "e1", uow, settings)


def test_status_gates(uow, registry, settings):
    ref = new_ticket(uow, settings)
    with refused(409, "not_assigned"):
        reassign(AGENT, ref, "e1", uow, settings)
    assign(AGENT, ref, "e1", uow, settings)
    with refused(409, "already_assigned") as err:
        assign(AGENT, ref, "e2", uow, settings)
    assert "Zhang San" in err.value.message("en")
    with refused(409, "same_engineer"):
        reassign(AGENT, ref, "e1", uow, settings)
    ref = moved(uow, settings, ref, "suspended")
    with refused(409, "not_reassignable") as err:
        reassign(AGENT, ref, "e2", uow, settings)
    assert "挂起" in err.value.message("zh")
    # needs_info after work began: the desk replaces the engineer by naming what it saw
    ref = moved(uow, settings, ref, "needs_info")
    current = assigning.assignment_history(AGENT, ref["id"], uow)["current_assignment_id"]
    with refused(409, "stale_assignment"):
        assign(AGENT, ref, "e2", uow, settings, expected_assignment_id="not-it")
    out = assign(AGENT, ref, "e2", uow, settings, expected_assignment_id=current)
    assert (out["kind"], out["previous_engineer_id"]) == ("reassigned", "e1")


def test_reassign_needs_a_reason(uow, registry, settings):
    ref = new_ticket(uow, settings)
    assign(AGENT, ref, "e1", uow, settings)
    for reason in (None, "  "):
        payload = {"engineer_id": "e2"} if reason is None else \
            {"engineer_id": "e2", "reason": reason}
        with refused(400, "validation_failed") as err:
            assigning.reassign(AGENT, ref["id"], payload, uow, settings)
        [message] = err.value.details["fields"]["reason"]
        assert message["zh"] == "请填写变更指派的原因。"


# ==== installation: automatic and locked ============================================================

def test_installation_is_dispatched_on_creation_to_the_most_suitable(uow, registry, settings):
    # 上海: p1 (Zhang, Li) and p3 (Zhao, nationwide) cover it; p2 (广州) does not. Nobody
    # lists product AB-9 as a skill and nobody has a load: by name, then each in turn.
    picks = []
    for _ in range(4):
        ref = new_ticket(uow, settings, type="installation", region="上海", product="AB-9")
        picks.append(assigning.assignment_history(AGENT, ref["id"], uow)["items"][0])
    assert [p["engineer_id"] for p in picks] == ["e2", "e1", "e4", "e2"]
    assert [p["open_load"] for p in picks] == [0, 0, 0, 1]
    assert {p["method"] for p in picks} == {"auto_installation"}
    assert picks[0]["chosen_by"] is None and picks[0]["rule_id"] is None
    events = outbox(uow, "ticket_assigned")
    assert events[0]["actor"] == {"id": None, "role": "system", "name": "dispatch",
                                  "company_id": None, "provider_id": None}
    assert events[0]["data"]["method"] == "auto_installation"


def test_installation_prefers_skill_then_load_then_turn(uow, registry, settings):
    first = new_ticket(uow, settings, type="installation", product="AB-7")
    assert assigning.assignment_history(AGENT, first["id"], uow)["items"][0][
        "engineer_id"] == "e1"  # skill AB-7 beats everyone, whatever the load
    second = new_ticket(uow, settings, type="installation", product="AB-7")
    assert assigning.assignment_history(AGENT, second["id"], uow)["items"][0][
        "engineer_id"] == "e1"


def test_installation_with_nobody_qualified_fails_visibly(uow, registry, settings):
    ref = new_ticket(uow, settings, type="installation", product_line="AnyRobot")
    [failed] = outbox(uow, "dispatch_failed")
    assert (failed["ticket_id"], failed["data"]["reason"], failed["data"]["method"]) == \
        (ref["id"], "no_provider", "auto_installation")
    assert assigning.assignment_history(AGENT, ref["id"], uow)["items"] == []
    ref = new_ticket(uow, settings, type="installation", product_line="AnyShare",
                     region="广州")  # p1 has AnyShare but not 广州; p3 not AnyShare
    assert outbox(uow, "dispatch_failed")[-1]["data"]["reason"] == "no_provider"
    handlers.upsert_provider(ADMIN, {"id": "p3", "product_lines": ["AnyBackup", "AnyShare"]},
                             uow)
    ref = new_ticket(uow, settings, type="installation", product_line="AnyShare",
                     region="广州")
    last = outbox(uow, "dispatch_failed")[-1]
    assert (last["ticket_id"], last["data"]["reason"]) == (ref["id"], "no_qualified_engineer")


def test_a_provider_can_neither_change_nor_cancel_an_installation(uow, registry, settings):
    ref = new_ticket(uow, settings, type="installation", region="上海", product="AB-7")
    assert assigning.assignment_history(PA1, ref["id"], uow)["items"][0]["engineer_id"] == "e1"
    with refused(403, "installation_locked") as err:
        reassign(PA1, ref, "e2", uow, settings)
    assert "neither change nor cancel" in err.value.message("en")
    assert "服务商无权变更或取消" in err.value.message("zh")
    with refused(403, "installation_locked"):
        assigning.unassign(PA1, ref["id"], {"reason": "不想做"}, uow, settings)
    # the desk can do both
    assert reassign(AGENT, ref, "e2", uow, settings)["engineer_id"] == "e2"
    out = assigning.unassign(AGENT, ref["id"], {"reason": "客户推迟安装"}, uow, settings)
    assert out["end_reason"] == "unassigned"
    [event] = outbox(uow, "ticket_unassigned")
    assert event["data"]["engineer_id"] == "e2" and not event["data"]["provider_keeps_ticket"]


# ==== racing assignments ==============================================================================

def _race(monkeypatch, calls):
    """Run the calls at once; each pauses between reading the ticket's current assignment and
    writing it, so that (on PostgreSQL) both read the same state before either writes."""
    original = assigning._qualified

    def slow(*args, **kw):
        out = original(*args, **kw)
        eventlet.sleep(0.2)
        return out
    monkeypatch.setattr(assigning, "_qualified", slow)  # where assign and reassign look it up
    results = []

    def run(call):
        try:
            results.append(("ok", call()))
        except AppError as err:
            results.append((err.status, err.code))
    pool = [eventlet.spawn(run, call) for call in calls]
    for gt in pool:
        gt.wait()
    return results


def test_two_first_assignments_racing_exactly_one_wins(uow, database, registry, settings,
                                                       monkeypatch, db_backend):
    ref = new_ticket(uow, settings)
    results = _race(monkeypatch, [
        lambda: assign(AGENT, ref, "e1", database.unit_of_work(), settings),
        lambda: assign(ADMIN, ref, "e2", database.unit_of_work(), settings)])
    wins = [r for r in results if r[0] == "ok"]
    losses = [r for r in results if r[0] != "ok"]
    assert len(wins) == 1 and len(losses) == 1, results
    # PostgreSQL runs both at once: the primary key of the current row decides; SQLite
    # serialises them, so the second sees the first's assignment
    expected = {"postgresql": "assignment_conflict", "sqlite": "already_assigned"}[db_backend]
    assert losses[0] == (409, expected)
    with uow:
        assert uow.session.scalar(select(func.count()).select_from(CurrentAssignment)) == 1
    assert len(outbox(uow, "ticket_assigned")) == 1


def test_two_reassignments_racing_exactly_one_wins(uow, database, registry, settings,
                                                   monkeypatch, db_backend):
    ref = new_ticket(uow, settings)
    assign(AGENT, ref, "e1", uow, settings)
    results = _race(monkeypatch, [
        lambda: reassign(AGENT, ref, "e2", database.unit_of_work(), settings),
        lambda: reassign(PA1, ref, "e2", database.unit_of_work(), settings)])
    assert sorted(r[0] for r in results if r[0] != "ok") == [409], results
    assert [r for r in results if r[0] == "ok"].__len__() == 1
    expected = {"postgresql": "assignment_conflict", "sqlite": "same_engineer"}[db_backend]
    assert [r[1] for r in results if r[0] != "ok"] == [expected]
    assert len(outbox(uow, "ticket_reassigned")) == 1


# ==== routing rules =================================================================================

def test_rules_are_admin_managed_and_validated(uow, registry, settings):
    rule = routing.create_rule(ADMIN, {"name": "AnyShare 缺陷", "ticket_type": "defect",
                                          "product_line": "AnyShare", "engineer_id": "e2",
                                          "position": 10}, uow, settings)
    assert rule["active"] and rule["provider_id"] is None
    assert routing.list_rules(AGENT, uow) == [rule]
    with refused(403):
        routing.create_rule(AGENT, {"name": "x", "provider_id": "p1"}, uow, settings)
    with refused(403):
        routing.list_rules(PA1, uow)
    with refused(400) as err:
        routing.create_rule(ADMIN, {"name": "x", "provider_id": "p1", "engineer_id": "e1"},
                               uow, settings)
    assert "provider_id" in err.value.details["fields"]
    with refused(400):
        routing.create_rule(ADMIN, {"name": "x"}, uow, settings)
    with refused(400) as err:
        routing.create_rule(ADMIN, {"name": "x", "ticket_type": "installation",
                                       "provider_id": "p1"}, uow, settings)
    assert "installation" in err.value.details["fields"]["ticket_type"][0]["en"]
    with refused(404, "provider_not_found"):
        routing.create_rule(ADMIN, {"name": "x", "provider_id": "nope"}, uow, settings)
    changed = routing.update_rule(ADMIN, rule["id"], {"engineer_id": None,
                                                         "provider_id": "p1"}, uow, settings)
    assert (changed["provider_id"], changed["engineer_id"]) == ("p1", None)
    with refused(400):  # an update must still leave exactly one target
        routing.update_rule(ADMIN, rule["id"], {"engineer_id": "e1"}, uow, settings)
    assert routing.delete_rule(ADMIN, rule["id"], uow) == {"id": rule["id"], "deleted": True}
    with refused(404, "rule_not_found"):
        routing.delete_rule(ADMIN, rule["id"], uow)


def test_support_tickets_follow_the_first_rule_that_can_be_followed(uow, registry, settings):
    handlers.set_availability(ADMIN, "e2", "on_leave", uow)
    named = routing.create_rule(ADMIN, {"name": "Li takes AnyShare defects", "position": 1,
                                           "ticket_type": "defect", "product_line": "AnyShare",
                                           "engineer_id": "e2"}, uow, settings)
    team = routing.create_rule(ADMIN, {"name": "Defects to p1", "position": 5,
                                          "ticket_type": "defect", "provider_id": "p1"},
                                  uow, settings)
    routing.create_rule(ADMIN, {"name": "Consults to p3", "position": 9,
                                   "ticket_type": "consult", "provider_id": "p3"}, uow, settings)
    # AnyShare defect: Li is on leave -> the team rule, where nobody holds AnyShare ->
    # dispatch_failed naming both
    ref = new_ticket(uow, settings, type="defect", product_line="AnyShare")
    [failed] = outbox(uow, "dispatch_failed")
    assert failed["data"]["reason"] == "rules_unfulfilled"
    assert [(r["rule_id"], r["reason"]) for r in failed["data"]["details"]["rules"]] == \
        [(named["id"], "engineer_on_leave"), (team["id"], "no_qualified_engineer")]
    handlers.set_availability(ADMIN, "e2", "on_duty", uow)
    ref = new_ticket(uow, settings, type="defect", product_line="AnyShare")
    [a] = assigning.assignment_history(AGENT, ref["id"], uow)["items"]
    assert (a["engineer_id"], a["method"], a["rule_id"], a["rule_name"]) == \
        ("e2", "routing_rule", named["id"], "Li takes AnyShare defects")
    # AnyBackup defects: p1's team in turn (equal skill, load, then least recently assigned)
    got = []
    for _ in range(3):
        ref = new_ticket(uow, settings, type="defect", product="other")
        got.append(assigning.assignment_history(AGENT, ref["id"], uow)["items"][0])
    assert [g["engineer_id"] for g in got] == ["e1", "e2", "e1"]
    assert {g["rule_id"] for g in got} == {team["id"]}
    event = outbox(uow, "ticket_assigned")[-1]
    assert (event["data"]["method"], event["data"]["rule_id"], event["data"]["chosen_by"]) == \
        ("routing_rule", team["id"], None)
    # no rule for licenses: left to the desk, no event
    before = len(outbox(uow))
    new_ticket(uow, settings, type="license")
    assert len(outbox(uow)) == before
    # the desk overrides a rule's choice at any time
    ref = new_ticket(uow, settings, type="consult")
    assert assigning.assignment_history(AGENT, ref["id"], uow)["items"][0][
        "engineer_id"] == "e4"
    assert reassign(AGENT, ref, "e3", uow, settings)["method"] == "manual"


# ==== provider offers ==================================================================================

@pytest.fixture
def offering(settings):
    return dict(settings, auto_offer=True)


def test_repair_is_offered_on_creation_and_declines_pass_it_on(uow, registry, offering):
    ref = new_ticket(uow, offering, type="repair", region="上海")
    [offered] = outbox(uow, "ticket_offered")
    # p1 (上海) and p3 (nationwide) cover 上海, p2 (广州) does not: the local one first
    assert (offered["data"]["provider_id"], offered["data"]["round"]) == ("p1", 1)
    assert offered["data"]["offered_by"] is None
    assert offered["data"]["due_at"] == "2026-11-21T18:00:00Z"  # 60 minutes
    [timer] = outbox(uow, "timer_requested")
    assert timer["data"] == {"key": f"dispatch:offer:{offered['data']['offer_id']}",
                             "kind": "offer_timeout", "owner": "dispatch",
                             "due_at": "2026-11-21T18:00:00Z", "ticket_id": ref["id"],
                             "payload": {"offer_id": offered["data"]["offer_id"],
                                         "ticket_id": ref["id"]}}
    # the contract: sla (RAISE on unknown fields) accepts what dispatch asks for
    assert TimerRequestSchema().load(timer["data"])["kind"] == "offer_timeout"
    assert TimerCancelSchema().load({"key": timer["data"]["key"]})
    with refused(404, "offer_not_found"):  # only the offered provider sees and answers it
        offers.decline_offer(provider_admin("p3"), offered["data"]["offer_id"], {}, uow,
                                 offering)
    out = offers.decline_offer(PA1, offered["data"]["offer_id"],
                                   {"reason": "人手不足"}, uow, offering)
    assert out["status"] == "declined"
    [declined] = outbox(uow, "offer_declined")
    assert declined["data"]["reason"] == "人手不足"
    assert [t["data"]["key"] for t in outbox(uow, "timer_cancelled")] == [timer["data"]["key"]]
    second = outbox(uow, "ticket_offered")[-1]["data"]
    assert (second["provider_id"], second["round"], second["previous_offer_id"]) == \
        ("p3", 2, offered["data"]["offer_id"])
    with refused(409, "offer_not_pending"):
        offers.decline_offer(PA1, offered["data"]["offer_id"], {}, uow, offering)
    offers.decline_offer(provider_admin("p3"), second["offer_id"], {}, uow, offering)
    [exhausted] = outbox(uow, "offer_exhausted")
    assert exhausted["data"]["tried_provider_ids"] == ["p1", "p3"]
    assert exhausted["data"]["last_offer_id"] == second["offer_id"]


def test_an_unanswered_offer_times_out_to_the_next_provider(uow, registry, offering):
    ref = new_ticket(uow, offering, type="inspection")  # no region: p1, p2, p3
    first = outbox(uow, "ticket_offered")[0]["data"]
    key = f"dispatch:offer:{first['offer_id']}"
    ignored = timer_due(key, "offer_timeout", "intake", {"offer_id": first["offer_id"]})
    assert offers.timer_due(ignored, uow, offering) is None  # someone else's timer
    due = timer_due(key, "offer_timeout", "dispatch", {"offer_id": first["offer_id"]},
                    ticket_id=ref["id"])
    assert offers.timer_due(due, uow, offering) == "offered"
    assert offers.timer_due(due, uow, offering) is None  # redelivered
    [expired] = outbox(uow, "offer_expired")
    assert expired["data"]["offer_id"] == first["offer_id"]
    listed = offers.list_offers(AGENT, {"ticket_id": ref["id"]}, uow)
    assert [(o["round"], o["status"]) for o in listed] == [(2, "pending"), (1, "expired")]


def test_accepting_with_an_engineer_assigns_through_the_offer(uow, registry, offering):
    ref = new_ticket(uow, offering, type="repair", region="广州")  # p2, then p3
    offered = outbox(uow, "ticket_offered")[0]["data"]
    assert offered["provider_id"] == "p2"
    with refused(403, "engineer_of_other_provider"):
        offers.accept_offer(PA2, offered["offer_id"], {"engineer_id": "e1"}, uow, offering)
    out = offers.accept_offer(PA2, offered["offer_id"], {"engineer_id": "e3"}, uow,
                                  offering)
    assert out["status"] == "accepted" and out["engineer_id"] == "e3"
    [accepted] = outbox(uow, "offer_accepted")
    assert accepted["data"]["engineer_id"] == "e3"
    [assigned] = outbox(uow, "ticket_assigned")
    assert (assigned["data"]["method"], assigned["data"]["offer_id"],
            assigned["data"]["chosen_by"]["role"]) == ("offer", offered["offer_id"],
                                                       "provider_admin")
    assert outbox(uow, "timer_cancelled")[-1]["data"]["key"].endswith(offered["offer_id"])
    # the provider re-assigns its own repair ticket later
    ref = moved(uow, offering, ref, "assigned")
    handlers.upsert_engineer(ADMIN, {"id": "e5", "provider_id": "p2", "name": "Sun Qi"}, uow)
    cert_for(uow, offering, "e5", "AnyBackup", "AB-5")
    assert reassign(PA2, ref, "e5", uow, offering)["previous_engineer_id"] == "e3"


def test_accept_now_assign_later_or_assign_straight_away(uow, registry, offering):
    ref = new_ticket(uow, offering, type="repair")
    offer_id = outbox(uow, "ticket_offered")[0]["data"]["offer_id"]  # to p3 (by name)
    offers.accept_offer(provider_admin("p3"), offer_id, {}, uow, offering)
    assert outbox(uow, "offer_accepted")[0]["data"]["engineer_id"] is None
    with refused(404, "ticket_not_found"):  # with p3: p1 does not see it
        assign(PA1, ref, "e1", uow, offering)
    out = assign(provider_admin("p3"), ref, "e4", uow, offering)
    assert (out["method"], out["offer_id"]) == ("offer", offer_id)

    # assigning while the offer is still open answers it
    ref = new_ticket(uow, offering, type="repair")
    offered = outbox(uow, "ticket_offered")[-1]["data"]
    assert offered["provider_id"] == "p1"  # p3 had its turn; then by name
    out = assign(PA1, ref, "e2", uow, offering)
    assert (out["method"], out["offer_id"]) == ("offer", offered["offer_id"])
    assert outbox(uow, "offer_accepted")[-1]["data"]["offer_id"] == offered["offer_id"]


def test_the_desk_offers_by_hand_and_overrides_an_open_offer(uow, registry, settings):
    ref = new_ticket(uow, settings, type="repair")  # auto_offer off: nothing happens
    assert outbox(uow, "ticket_offered") == []
    with refused(404, "ticket_not_found"):  # not p1's ticket: p1 does not see it
        offers.offer(PA1, ref["id"], {}, uow, settings)
    made = offers.offer(AGENT, ref["id"], {"provider_id": "p2"}, uow, settings)
    assert made["offered_by"]["role"] == "agent"
    with refused(409, "offer_pending") as err:
        offers.offer(AGENT, ref["id"], {}, uow, settings)
    assert "华南服务商" in err.value.message("en")
    # the desk assigns anyway: the open offer is taken back, its timer cancelled
    assign(AGENT, ref, "e1", uow, settings)
    assert [o["status"] for o in offers.list_offers(AGENT, {"ticket_id": ref["id"]},
                                                         uow)] == ["withdrawn"]
    assert outbox(uow, "timer_cancelled")[-1]["data"]["key"].endswith(made["id"])
    # offers are only for repair and inspection
    support = new_ticket(uow, settings, type="consult")
    with refused(409, "not_offerable"):
        offers.offer(AGENT, support["id"], {}, uow, settings)
    # a named provider must have someone qualified
    ref = new_ticket(uow, settings, type="repair", product_line="AnyShare")
    with refused(409, "provider_not_qualified"):
        offers.offer(AGENT, ref["id"], {"provider_id": "p2"}, uow, settings)


def test_a_ticket_cancelled_while_offered_takes_the_offer_back(uow, registry, offering):
    ref = new_ticket(uow, offering, type="repair")
    moved(uow, offering, ref, "cancelled")
    [offer] = offers.list_offers(AGENT, {"ticket_id": ref["id"]}, uow)
    assert offer["status"] == "withdrawn"


def test_offers_visible_to_the_desk_and_the_offered_provider(uow, registry, offering):
    new_ticket(uow, offering, type="repair", region="广州")
    assert [o["provider_id"] for o in offers.list_offers(PA2, {}, uow)] == ["p2"]
    assert offers.list_offers(PA1, {}, uow) == []
    with refused(403):
        offers.list_offers(PA1, {"provider_id": "p2"}, uow)
    with refused(403):
        offers.list_offers(CUSTOMER, {}, uow)


def test_history_visibility(uow, registry, settings):
    ref = new_ticket(uow, settings)
    assign(AGENT, ref, "e1", uow, settings)
    assert [i["engineer_id"] for i in assigning.assignment_history(PA1, ref["id"], uow)[
        "items"]] == ["e1"]
    reassign(AGENT, ref, "e3", uow, settings)
    own = assigning.assignment_history(engineer_actor("e3"), ref["id"], uow)
    assert [i["engineer_id"] for i in own["items"]] == ["e3"]
    p2 = assigning.assignment_history(PA2, ref["id"], uow)  # e3's provider: its part only
    assert [i["engineer_id"] for i in p2["items"]] == ["e3"]
    # the ticket left p1 and e1: like the ticket itself, its history is no longer theirs
    for actor in (PA1, engineer_actor("e1")):
        with refused(404, "ticket_not_found"):
            assigning.assignment_history(actor, ref["id"], uow)
    with refused(403):  # the ticket's customer sees the ticket, not dispatch's records
        assigning.assignment_history(CUSTOMER, ref["id"], uow)
    for actor in (engineer_actor("e2"), provider_admin("p3"), dict(CUSTOMER, id="u-other")):
        with refused(404, "ticket_not_found"):
            assigning.assignment_history(actor, ref["id"], uow)
    with refused(404, "ticket_not_found"):
        assigning.assignment_history(AGENT, "t-unknown", uow)


# ==== certification warnings =========================================================================

def test_certification_expiring_once_per_certification(uow, database, settings):
    handlers.upsert_provider(ADMIN, {"id": "p1", "name": "P", "product_lines": ["AnyBackup"]},
                             uow)
    for eid in ("e1", "e2", "e3"):
        handlers.upsert_engineer(ADMIN, {"id": eid, "provider_id": "p1", "name": eid}, uow)
    ending = cert_for(uow, settings, "e1", "AnyBackup", "END", TODAY - 300 * DAY,
                      TODAY + 30 * DAY)
    cert_for(uow, settings, "e2", "AnyBackup", "LATER", TODAY - 300 * DAY, TODAY + 31 * DAY)
    cert_for(uow, settings, "e3", "AnyBackup", "OLD", TODAY - 300 * DAY, TODAY + 5 * DAY)
    cert_for(uow, settings, "e3", "AnyBackup", "NEW", TODAY + 6 * DAY, TODAY + 400 * DAY)
    # two replicas run the check at the same moment: one warning
    results = []
    pool = [eventlet.spawn(lambda: results.append(expiring.warn_expiring_certifications(
        database.unit_of_work(), settings))) for _ in range(2)]
    for gt in pool:
        gt.wait()
    assert sorted(results) == [0, 1]
    [event] = outbox(uow, "certification_expiring")
    assert event["data"] == {
        "certification_id": ending["id"], "engineer_id": "e1", "engineer_name": "e1",
        "provider_id": "p1", "product_line": "AnyBackup", "certificate_no": "END",
        "valid_until": (TODAY + 30 * DAY).isoformat(), "days_left": 30}
    assert expiring.warn_expiring_certifications(uow, settings) == 0
    # the next day, the 31-day one is due
    tomorrow = make_settings(now=NOW + DAY)
    assert expiring.warn_expiring_certifications(uow, tomorrow) == 1
    assert outbox(uow, "certification_expiring")[-1]["data"]["certificate_no"] == "LATER"
