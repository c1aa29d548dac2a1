"""The update-interval clock (target `update`): the pure evaluation (pending before the first
response, a new cycle per public staff reply, pause / end / reopen rules, a property over
random histories), then the service layer on both databases (a warning and a breach once per
cycle, a new cycle resetting them, the ticket's view), and report periods grouped in the
business time zone at a day boundary."""
import datetime as dt
import uuid
import zoneinfo

from hypothesis import given, settings, strategies as st
from sqlalchemy import select

from services.sla import clocks, domain, handlers, reading
from services.sla.models import Clock, Timer
from services.sla.tests.test_clocks import (  # noqa: F401  (db is a fixture)
    ADMIN, ALWAYS, BUSINESS, M, T0, db, env, fast_policy, outbox, ref, step, terms)


def update(steps, now, minutes=30, calendar=ALWAYS, share=0.5):
    return domain.evaluate("update", steps, terms({"P3": minutes, "P1": minutes / 2},
                                                  calendar, share), now)


# ---- pure evaluation ----------------------------------------------------------------------

def test_pending_until_the_first_response_then_cycles_per_reply():
    created = [step(0, "created", "P3")]
    view = update(created, T0 + 100 * M)
    assert view["state"] == "pending" and view["cycle"] == 0 and view["due_at"] is None
    assert view["breached_at"] is None and view["spent"] == dt.timedelta(0)
    replied = created + [step(10, "response", seq=1)]
    view = update(replied, T0 + 20 * M)
    assert view["state"] == "running" and view["cycle"] == 1
    assert view["cycle_started_at"] == T0 + 10 * M and view["spent"] == 10 * M
    assert view["due_at"] == T0 + 40 * M and view["warning_at"] == T0 + 25 * M
    late = update(replied, T0 + 50 * M)
    assert late["warned_at"] == T0 + 25 * M and late["breached_at"] == T0 + 40 * M
    # the next public reply starts a new cycle: nothing of the breached one is carried over
    again = update(replied + [step(45, "response", seq=2)], T0 + 50 * M)
    assert again["cycle"] == 2 and again["cycle_started_at"] == T0 + 45 * M
    assert again["spent"] == 5 * M and again["breached_at"] is None
    assert again["warned_at"] is None and again["due_at"] == T0 + 75 * M


def test_start_of_work_pauses_end_and_reopen():
    steps = [step(0, "created", "P3"), step(5, "status", "in_progress", 1),
             step(15, "status", "needs_info", 2), step(45, "status", "in_progress", 3)]
    view = update(steps, T0 + 50 * M)
    # work started at 5: one cycle; leaving needs_info is not an update
    assert view["cycle"] == 1 and view["cycle_started_at"] == T0 + 5 * M
    assert view["spent"] == 15 * M and view["paused"] == 30 * M
    assert view["due_at"] == T0 + 65 * M
    paused = update(steps[:3], T0 + 50 * M)
    assert paused["state"] == "paused" and paused["due_at"] is None
    resolved = steps + [step(55, "status", "resolved", 4)]
    view = update(resolved + [step(60, "response", seq=5)], T0 + 200 * M)
    assert view["state"] == "stopped" and view["stopped_at"] == T0 + 55 * M
    assert view["cycle"] == 1 and view["breached_at"] is None   # a reply after resolve: no cycle
    reopened = update(resolved + [step(70, "status", "in_progress", 5)], T0 + 80 * M)
    assert reopened["state"] == "running" and reopened["cycle"] == 2
    assert reopened["cycle_started_at"] == T0 + 70 * M and reopened["spent"] == 10 * M
    closed = update(resolved + [step(70, "status", "closed", 5)], T0 + 500 * M)
    assert closed["state"] == "stopped" and closed["stopped_at"] == T0 + 55 * M
    cancelled = update([step(0, "created", "P3"), step(3, "status", "cancelled", 1)],
                       T0 + 9 * M)
    assert cancelled["state"] == "stopped" and cancelled["cycle"] == 0


def test_priority_change_business_calendar_and_policies_without_interval():
    steps = [step(0, "created", "P3"), step(0, "response", seq=1), step(10, "priority", "P1", 2)]
    view = update(steps, T0 + 12 * M, minutes=30)   # P1's interval is 15: 10 + 2 used
    assert view["priority"] == "P1" and view["due_at"] == T0 + 15 * M
    # business hours: replied Monday 11:50 local, 60 min interval -> 13:50 after lunch
    biz = update([step(0, "created", "P3"), step(170, "response", seq=1)], T0 + 171 * M,
                 minutes=60, calendar=BUSINESS)
    assert biz["due_at"] == T0 + 290 * M
    none = domain.evaluate("update", steps, terms({"P2": 30}), T0 + 12 * M)
    assert none["state"] == "none"
    # evaluated at the very instant of a change to a target already used up (found by the
    # property below): breached at the change, for every target, instead of an error
    used_up = update(steps, T0 + 20 * M, minutes=30)
    assert used_up["breached_at"] == T0 + 15 * M
    at_change = [step(0, "created", "P3"), step(0, "response", seq=1),
                 step(20, "priority", "P1", 2)]
    for target in ("update", "response", "resolution"):
        view = domain.evaluate(target, at_change, terms({"P3": 30, "P1": 15}), T0 + 20 * M)
        if target != "response":     # the reply met the response target
            assert view["breached_at"] == T0 + 20 * M == view["due_at"], (target, view)


KINDS = st.sampled_from([("response", None), ("status", "in_progress"),
                         ("status", "needs_info"), ("status", "suspended"),
                         ("status", "resolved"), ("status", "assigned"),
                         ("status", "closed"), ("priority", "P1"), ("priority", "P3")])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), KINDS), max_size=12), st.integers(0, 400))
def test_update_clock_properties(raw, now_minute):
    steps = [step(0, "created", "P3")] + [
        step(minute, kind, value, seq) for seq, (minute, (kind, value)) in
        enumerate(sorted(raw, key=lambda r: r[0]), 1)]
    now = T0 + now_minute * M
    view = update(steps, now)
    # what happens after `now` cannot change the clock at `now`
    assert update([s for s in steps if s.at <= now], now) == view
    if view["state"] in ("running", "paused"):
        # around the clock, a cycle's time since it began is spent or paused, nothing else
        assert view["spent"] + view["paused"] == now - view["cycle_started_at"]
        # every public reply so far began the current cycle or an earlier one
        assert all(s.at <= view["cycle_started_at"] for s in steps
                   if s.kind == "response" and s.at <= now)
    if view["state"] == "pending":
        assert not any(s.kind == "response" and s.at <= now for s in steps)
    if view["state"] == "running":
        # a used-up target is breached while it runs (a paused one when it resumes)
        assert view["spent"] < view["duration"] or view["breached_at"] is not None
        assert view["due_at"] == (view["breached_at"] or now + view["remaining"])


# ---- the service layer, on SQLite and PostgreSQL ------------------------------------------

def comment(tid, minute, version, role="agent", internal=False):
    return env("ticket_commented", minute, {"ticket": ref(tid, version, status="assigned"),
                                            "internal": internal, "author_role": role})


def notices(db, type_):
    return [(e["data"]["target"], e["data"]["cycle_started_at"]) for e in outbox(db, type_)
            if e["data"]["target"] == "update"]


def test_update_notices_once_per_cycle_and_a_new_cycle_resets_them(db):
    fast_policy(db, update_minutes=10)     # always open, warn at 50%
    tid = str(uuid.uuid4())
    clocks.on_ticket_event(env("ticket_created", 0, {"ticket": ref(tid)}), db.unit_of_work(),
                           now=T0)
    # a customer comment and an internal note are not updates
    clocks.on_ticket_event(comment(tid, 1, 2, role="customer"), db.unit_of_work(),
                           now=T0 + M)
    clocks.on_ticket_event(comment(tid, 1, 3, internal=True), db.unit_of_work(), now=T0 + M)
    view = {c["target"]: c for c in reading.ticket_sla(tid, db.unit_of_work(),
                                                      now=T0 + M)["clocks"]}
    assert view["update"]["state"] == "pending" and view["update"]["cycle"] == 0
    clocks.on_ticket_event(comment(tid, 2, 4), db.unit_of_work(), now=T0 + 2 * M)
    for minute in (7, 7, 12, 13):       # warning at 7, breach at 12, each once
        handlers.fire_due(db.unit_of_work(), now=T0 + minute * M)
    first = (T0 + 2 * M).isoformat().replace("+00:00", "Z")
    assert notices(db, "sla_warning") == [("update", first)]
    assert notices(db, "sla_breached") == [("update", first)]
    # the next public reply starts cycle 2: its warning and breach go out again, once
    clocks.on_ticket_event(comment(tid, 15, 5), db.unit_of_work(), now=T0 + 15 * M)
    with db.unit_of_work() as uow:
        clock = uow.session.scalar(select(Clock).where(Clock.ticket_id == tid,
                                                       Clock.target == "update"))
        assert clock.breached_at is None and clock.breach_sent_at is None
        timer = uow.session.scalar(select(Timer).where(Timer.ticket_id == tid))
        assert timer.due_at.replace(tzinfo=dt.timezone.utc) == T0 + 20 * M
    for minute in (20, 25, 26):
        handlers.fire_due(db.unit_of_work(), now=T0 + minute * M)
    second = (T0 + 15 * M).isoformat().replace("+00:00", "Z")
    assert notices(db, "sla_warning") == [("update", first), ("update", second)]
    assert notices(db, "sla_breached") == [("update", first), ("update", second)]
    # a rebuild keeps the cycle's sent flags: no notice repeated
    rebuilt = {c["target"]: c for c in clocks.rebuild(tid, db.unit_of_work(),
                                                      now=T0 + 27 * M)}
    assert rebuilt["update"]["cycle"] == 2 and rebuilt["update"]["breached"]
    assert len(notices(db, "sla_breached")) == 2
    # cycle 3 breaches at 50 but the next reply (55) is handled before any timer fired:
    # cycle 3's breach still goes out, once, with its own cycle start
    clocks.on_ticket_event(comment(tid, 40, 6), db.unit_of_work(), now=T0 + 40 * M)
    assert len(notices(db, "sla_breached")) == 2     # cycle 2's breach is not repeated
    clocks.on_ticket_event(comment(tid, 55, 7), db.unit_of_work(), now=T0 + 55 * M)
    third = (T0 + 40 * M).isoformat().replace("+00:00", "Z")
    assert notices(db, "sla_breached") == [("update", c) for c in (first, second, third)]
    assert outbox(db, "sla_breached")[-1]["data"]["breached_at"].startswith(
        (T0 + 50 * M).isoformat()[:16])
    # resolved: no update is owed, the clock stops and nothing more is armed for it
    clocks.on_ticket_event(env("ticket_status_changed", 60, {
        "action": "resolve", "from_status": "assigned", "to_status": "resolved",
        "reason": None, "ticket": ref(tid, 8, status="resolved")}), db.unit_of_work(),
        now=T0 + 60 * M)
    view = {c["target"]: c for c in reading.ticket_sla(tid, db.unit_of_work(),
                                                      now=T0 + 90 * M)["clocks"]}
    assert view["update"]["state"] == "stopped" and view["update"]["due_at"] is None
    assert view["response"]["cycle"] is None


def test_report_periods_are_business_time_zone_days(db):
    fast_policy(db)
    tid = str(uuid.uuid4())
    late = dt.datetime(2025, 3, 2, 23, 30, tzinfo=dt.timezone.utc)   # Sunday in UTC
    clocks.on_ticket_event(env("ticket_created", 0, {"ticket": ref(
        tid, created_at=late.isoformat(), updated_at=late.isoformat())}), db.unit_of_work(),
        now=late)
    window = {"created_from": "2025-03-02T00:00:00Z", "created_to": "2025-03-03T00:00:00Z",
              "target": "response"}
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    expect = {"day": ("2025-03-02", "2025-03-03"), "week": ("2025-W09", "2025-W10"),
              "month": ("2025-03", "2025-03")}
    for group_by, (utc_group, local_group) in expect.items():
        q = dict(window, group_by=group_by)
        utc = reading.report(ADMIN, q, db.unit_of_work(), dt.timezone.utc)
        local = reading.report(ADMIN, q, db.unit_of_work(), shanghai)
        assert [r["group"] for r in utc["rows"]] == [utc_group], utc
        assert [r["group"] for r in local["rows"]] == [local_group], local
        assert local["tz"] == "Asia/Shanghai" and utc["tz"] == "UTC"
    # the period filter stays in instants: a bound at 23:00 UTC leaves the ticket out
    assert reading.report(ADMIN, dict(window, created_to="2025-03-02T23:00:00Z"),
                         db.unit_of_work(), shanghai)["rows"] == []
