"""Clocks: the pure evaluation (pause/resume, priority change keeping spent and paused
time, met/stop rules, warning and breach instants), then the service layer on a real
database (intake events in any order, notices once, one timer per ticket, re-evaluation
on a policy edit, dry run, reports, bad policies)."""
import datetime as dt
import time
import uuid

import eventlet
import pytest
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_hook
from sqlalchemy import select

from gongdan_common.db import Database
from gongdan_common.errors import AppError
from services.sla import clocks, domain, handlers, policies as pol, reading
from services.sla.calendar import Calendar
from services.sla.models import Clock, SlaTicket, Step, Timer, metadata
from services.sla.service import SlaService

T0 = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.timezone.utc)   # Monday 09:00 in Shanghai
M = dt.timedelta(minutes=1)
ALWAYS = Calendar.from_spec({"always_open": True})
BUSINESS = Calendar.from_spec({"tz": "Asia/Shanghai", "hours": {
    d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}})


def terms(minutes_by_priority, calendar=ALWAYS, share=0.8):
    return lambda p: domain.Terms(minutes_by_priority[p] * M, calendar, share, "pol-" + p) \
        if p in minutes_by_priority else None


def step(minute, kind, value=None, seq=0):
    return domain.Step(T0 + minute * M, seq, kind, value)


# ---- pure evaluation ----------------------------------------------------------------------

def test_running_clock_due_and_warning():
    view = domain.evaluate("response", [step(0, "created", "P3")], terms({"P3": 60}),
                           T0 + 10 * M)
    assert view["state"] == "running" and view["spent"] == 10 * M
    assert view["due_at"] == T0 + 60 * M and view["warning_at"] == T0 + 48 * M
    assert view["warned_at"] is None and view["breached_at"] is None


def test_pause_and_resume_keep_spent_time():
    steps = [step(0, "created", "P3"), step(10, "status", "needs_info"),
             step(40, "status", "assigned")]
    view = domain.evaluate("response", steps, terms({"P3": 60}), T0 + 50 * M)
    assert view["spent"] == 20 * M and view["paused"] == 30 * M
    assert view["due_at"] == T0 + 90 * M
    paused = domain.evaluate("response", steps[:2], terms({"P3": 60}), T0 + 50 * M)
    assert paused["state"] == "paused" and paused["due_at"] is None
    assert paused["remaining"] == 50 * M


def test_priority_change_keeps_spent_and_paused_time():
    steps = [step(0, "created", "P4"), step(10, "status", "suspended"),
             step(30, "status", "in_progress"), step(40, "priority", "P2")]
    view = domain.evaluate("resolution", steps, terms({"P4": 240, "P2": 60}), T0 + 45 * M)
    # 10 min before the pause + 10 after it + 5 at P2; the 20 paused minutes stay paused
    assert view["spent"] == 25 * M and view["paused"] == 20 * M
    assert view["due_at"] == T0 + 80 * M and view["priority"] == "P2"
    # raised to a target already used up: breached at the change itself
    fast = domain.evaluate("resolution", steps, terms({"P4": 240, "P2": 15}), T0 + 45 * M)
    assert fast["breached_at"] == T0 + 40 * M


def test_breach_and_warning_instants_on_a_business_calendar():
    steps = [step(0, "created", "P3")]
    view = domain.evaluate("response", steps, terms({"P3": 240}, BUSINESS, 0.5), T0 + 600 * M)
    assert view["warned_at"] == T0 + 120 * M            # 11:00 local
    assert view["breached_at"] == T0 + 300 * M          # 12:00 + lunch + 2 h = 14:00 local
    assert view["due_at"] == view["breached_at"]


def test_met_and_stop_rules():
    created = [step(0, "created", "P3")]
    reply = created + [step(5, "response")]
    assert domain.evaluate("response", reply, terms({"P3": 60}), T0 + 99 * M)["met_at"] == \
        T0 + 5 * M
    start = created + [step(3, "status", "assigned"), step(7, "status", "in_progress")]
    check = domain.evaluate("completeness", start, terms({"P3": 60}), T0 + 99 * M)
    assert check["met_at"] == T0 + 3 * M
    assert domain.evaluate("response", start, terms({"P3": 60}), T0 + 99 * M)["met_at"] == \
        T0 + 7 * M
    reopened = start + [step(20, "status", "resolved"), step(30, "status", "in_progress")]
    view = domain.evaluate("resolution", reopened, terms({"P3": 60}), T0 + 40 * M)
    assert view["state"] == "running" and view["spent"] == 30 * M and view["paused"] == 10 * M
    cancelled = created + [step(2, "status", "cancelled")]
    assert domain.evaluate("response", cancelled, terms({"P3": 60}),
                           T0 + 99 * M)["state"] == "stopped"
    assert domain.evaluate("response", created, terms({}), T0)["state"] == "none"


def test_steps_are_ordered_by_time_then_version_whatever_the_arrival_order():
    steps = [step(10, "status", "in_progress", seq=3), step(0, "created", "P3"),
             step(10, "status", "assigned", seq=2)]
    view = domain.evaluate("completeness", steps, terms({"P3": 60}), T0 + 20 * M)
    assert view["met_at"] == T0 + 10 * M and view["state"] == "met"


def test_choose_policy_most_specific_wins():
    policies = [{"id": "a", "name": "a", "priority": "P2"},
                {"id": "b", "name": "b", "priority": "P2", "company_id": "c1"},
                {"id": "c", "name": "c", "ticket_type": "defect"},
                {"id": "d", "name": "d", "priority": "P2", "company_id": "c1", "active": False}]
    assert domain.choose_policy(policies, {"priority": "P2", "company_id": "c1",
                                           "type": "defect"})["id"] == "b"
    assert domain.choose_policy(policies, {"priority": "P2", "type": "x"})["id"] == "a"
    assert domain.choose_policy(policies, {"priority": "P4", "type": "repair"}) is None


# ---- the service layer on a real database ---------------------------------------------------

ADMIN = {"id": "u-admin", "role": "admin"}


@pytest.fixture
def db(service_database):
    url = service_database("sla", migrated=True)
    database = Database(url, metadata)
    yield database
    database.dispose()


def ref(tid, version=1, priority="P3", status="new", company="co-1", **over):
    out = {"id": tid, "number": "TS" + tid[:6], "type": "defect", "title": "t", "product": "p",
           "product_line": "l", "category": "function", "priority": priority,
           "status": status, "company_id": company, "region": None, "submitter_id": "s",
           "provider_id": "prov-1", "handler_id": "eng-1", "version": version,
           "created_at": T0.isoformat(), "updated_at": T0.isoformat()}
    out.update(over)
    return out


def env(type_, minute, data):
    return {"event_id": str(uuid.uuid4()), "type": type_, "version": 1,
            "occurred_at": (T0 + minute * M).isoformat(), "source": "intake", "data": data}


def outbox(db, type_):
    with db.unit_of_work() as uow:
        t = metadata.tables["outbox"]
        return [r.payload for r in uow.session.execute(select(t.c.payload).order_by(t.c.id))
                if r.payload["type"] == type_]


def fast_policy(db, **over):
    cal = pol.put_calendar(ADMIN, None, {"name": "always-" + uuid.uuid4().hex[:6],
                                         "always_open": True}, db.unit_of_work(),
                           clocks.reevaluate)
    body = {"name": "fast-" + uuid.uuid4().hex[:6], "company_id": "co-1",
            "calendar_id": cal["id"], "response_minutes": 10, "resolution_minutes": 60,
            "warn_share": 0.5, "escalation": {"action": "raise_priority"}}
    body.update(over)
    return pol.put_policy(ADMIN, None, body, db.unit_of_work(), clocks.reevaluate, now=T0)


def test_events_drive_clocks_notices_once_and_one_timer(db):
    fast_policy(db)
    tid = str(uuid.uuid4())
    status = env("ticket_status_changed", 2, {"action": "assign", "from_status": "new",
                                              "to_status": "assigned", "reason": None,
                                              "ticket": ref(tid, 2, status="assigned")})
    # the status change overtakes the creation event; a redelivery changes nothing
    clocks.on_ticket_event(status, db.unit_of_work(), now=T0 + 3 * M)
    clocks.on_ticket_event(status, db.unit_of_work(), now=T0 + 3 * M)
    clocks.on_ticket_event(env("ticket_created", 0, {"ticket": ref(tid)}), db.unit_of_work(),
                           now=T0 + 3 * M)
    view = reading.ticket_sla(tid, db.unit_of_work(), now=T0 + 4 * M)
    by = {c["target"]: c for c in view["clocks"]}
    assert set(by) == {"response", "resolution"}
    assert by["response"]["spent_minutes"] == 4 and by["response"]["due_at"].startswith(
        (T0 + 10 * M).isoformat()[:16])
    with db.unit_of_work() as uow:
        (timer,) = uow.session.scalars(select(Timer).where(Timer.ticket_id == tid)).all()
        assert timer.status == "pending"
        assert timer.due_at.replace(tzinfo=dt.timezone.utc) == T0 + 5 * M   # 50% of 10 min
    # the timer loop fires it at the warning instant, then at the breach instant
    assert handlers.fire_due(db.unit_of_work(), now=T0 + 5 * M) == 1
    assert [e["data"]["target"] for e in outbox(db, "sla_warning")] == ["response"]
    assert handlers.fire_due(db.unit_of_work(), now=T0 + 5 * M) == 0
    handlers.fire_due(db.unit_of_work(), now=T0 + 10 * M)
    (breach,) = outbox(db, "sla_breached")
    assert breach["data"]["escalation"]["action"] == "raise_priority"
    assert breach["data"]["breached_at"].startswith((T0 + 10 * M).isoformat()[:16])
    assert outbox(db, "timer_due") == []  # sla's own timers are not broadcast
    updates = outbox(db, "sla_clock_updated")
    assert updates and updates[-1]["data"]["breached"] is True
    # a rebuild from the steps gives the same clocks and repeats no notice
    rebuilt = {c["target"]: c for c in clocks.rebuild(tid, db.unit_of_work(),
                                                      now=T0 + 10 * M)}
    assert rebuilt["response"]["breached"] and len(outbox(db, "sla_breached")) == 1


def test_created_in_a_batch_as_one_at_a_time_no_doubled_timer_or_event(db):
    """on_tickets_created (the batch path, no look-ups for new tickets) leaves what
    on_ticket_event leaves, once: a redelivered event, the same event twice in a batch, a
    ticket whose status change overtook its creation, and a redelivered batch change nothing."""
    fast_policy(db)
    alone, new, twice, overtaken = (str(uuid.uuid4()) for _ in range(4))
    clocks.on_ticket_event(env("ticket_created", 0, {"ticket": ref(alone)}), db.unit_of_work(),
                           now=T0 + M)
    clocks.on_ticket_event(env("ticket_status_changed", 1, {
        "action": "assign", "from_status": "new", "to_status": "assigned", "reason": None,
        "ticket": ref(overtaken, 2, status="assigned")}), db.unit_of_work(), now=T0 + M)
    updates_before = len(outbox(db, "sla_clock_updated"))
    twice_env = env("ticket_created", 0, {"ticket": ref(twice)})
    # twice: the same event twice, and its creation again under another event id (the
    # general path must see the rows the batch writes itself)
    batch = [env("ticket_created", 0, {"ticket": ref(new)}), twice_env, twice_env,
             env("ticket_created", 0, {"ticket": ref(overtaken)}),
             env("ticket_created", 0, {"ticket": ref(twice)})]
    clocks.on_tickets_created(batch, db.unit_of_work(), now=T0 + M)
    clocks.on_tickets_created(batch, db.unit_of_work(), now=T0 + M)  # redelivered
    with db.unit_of_work() as uow:
        timers = uow.session.scalars(select(Timer).where(Timer.ticket_id.in_(
            [alone, new, twice, overtaken]))).all()
        steps = uow.session.scalars(select(Step.ticket_id).where(Step.kind == "created")).all()
    assert sorted(t.ticket_id for t in timers) == sorted([alone, new, twice, overtaken])
    assert {t.status for t in timers} == {"pending"}
    assert sorted(steps) == sorted([alone, new, twice, overtaken])
    # new and twice are new tickets: one sla_clock_updated each; the overtaken ticket's
    # clocks already ran, so its creation changes no due time
    updates = outbox(db, "sla_clock_updated")[updates_before:]
    assert sorted(u["data"]["ticket_id"] for u in updates) == sorted([new, twice])
    views = {tid: reading.ticket_sla(tid, db.unit_of_work(), now=T0 + 4 * M)
             for tid in (alone, new, twice)}
    assert views[new]["clocks"] == views[alone]["clocks"] == views[twice]["clocks"]
    assert views[new]["next_due_at"].startswith((T0 + 10 * M).isoformat()[:16])
    # the rows the batch wrote with Core are the rows the one-at-a-time path wrote
    with db.unit_of_work() as uow:
        def stored(tid):
            clocks_ = sorted((c.target, c.state, c.policy_id, c.priority, c.target_seconds,
                              c.due_at, c.warned_at, c.evaluated_at, c.cycle_started_at)
                             for c in uow.session.scalars(select(Clock).where(
                                 Clock.ticket_id == tid)))
            t = uow.session.get(SlaTicket, tid)
            timer = uow.session.scalars(select(Timer).where(Timer.ticket_id == tid)).one()
            return clocks_, (t.number[:2], t.company_id, t.type, t.priority, t.status,
                             t.version, t.created_at), (timer.kind, timer.owner,
                                                        timer.due_at, timer.payload)
        assert stored(new) == stored(alone) == stored(twice)
        assert stored(new)[0] and stored(new)[1][5] == 1
    overtaken_view = {c["target"]: c for c in reading.ticket_sla(
        overtaken, db.unit_of_work(), now=T0 + 4 * M)["clocks"]}
    assert overtaken_view["response"]["spent_minutes"] == 4


def test_policy_edit_reevaluates_open_clocks_and_dry_run(db):
    policy = fast_policy(db)
    tid = str(uuid.uuid4())
    clocks.on_ticket_event(env("ticket_created", 0, {"ticket": ref(tid)}), db.unit_of_work(),
                           now=T0)
    pol.put_policy(ADMIN, policy["id"], {"response_minutes": 30}, db.unit_of_work(),
                   clocks.reevaluate, now=T0 + M)
    with db.unit_of_work() as uow:
        clock = uow.session.scalar(select(Clock).where(Clock.ticket_id == tid,
                                                       Clock.target == "response"))
        assert clock.target_seconds == 1800
    result = reading.dry_run(ADMIN, {"policy_id": policy["id"],
                                    "changes": {"response_minutes": 1}},
                            db.unit_of_work(), now=T0 + 20 * M)
    assert result["newly_breached"] == 1 and result["items"][0]["ticket_id"] == tid
    report = reading.report(ADMIN, {"group_by": "engineer"}, db.unit_of_work())
    assert {(r["group"], r["target"]) for r in report["rows"]} >= {("eng-1", "response")}


def test_reports_count_only_the_tickets_the_caller_may_see(db):
    """A provider's staff never see another provider's rows, ids or counts."""
    fast_policy(db)
    for provider, engineer in (("prov-1", "eng-1"), ("prov-2", "eng-2"), ("prov-2", "eng-3")):
        clocks.on_ticket_event(env("ticket_created", 0, {"ticket": ref(
            str(uuid.uuid4()), provider_id=provider, handler_id=engineer)}),
            db.unit_of_work(), now=T0)

    def groups(actor, by):
        report = reading.report(actor, {"group_by": by, "target": "response"},
                               db.unit_of_work())
        return {r["group"]: r["clocks"] for r in report["rows"]}

    assert groups(ADMIN, "provider") == {"prov-1": 1, "prov-2": 2}
    pa2 = {"id": "pa2", "role": "provider_admin", "provider_id": "prov-2"}
    assert groups(pa2, "provider") == {"prov-2": 2}
    assert groups(pa2, "engineer") == {"eng-2": 1, "eng-3": 1}
    assert groups({"id": "eng-3", "role": "engineer"}, "engineer") == {"eng-3": 1}
    assert groups({"id": "eng-3", "role": "engineer"}, "priority") == {"P3": 1}
    assert groups({"id": "pa", "role": "provider_admin"}, "provider") == {}  # no provider


@pytest.mark.parametrize("body,code", [
    ({"response_minutes": 0}, "validation_failed"),
    ({"response_minutes": -5}, "validation_failed"),
    ({"priority": "P9"}, "policy_matches_nothing"),
    ({"ticket_type": "laundry"}, "policy_matches_nothing"),
    ({"response_minutes": None, "resolution_minutes": None}, "policy_without_target"),
    ({"calendar_id": "nope"}, "calendar_not_found"),
    ({"escalation": {"action": "handoff"}}, "validation_failed"),
])
def test_bad_policies(db, body, code):
    with pytest.raises(AppError) as err:
        fast_policy(db, **body)
    assert err.value.code == code and err.value.status in (400, 404)


def test_bad_calendars_and_admin_only(db):
    for spec, code in (({"hours": {"mon": [["18:00", "09:00"]]}}, "inverted_hours"),
                       ({"tz": "Nowhere/City", "always_open": True}, "unknown_time_zone"),
                       ({"hours": {"mon": [["09:00", "12:00"], ["11:00", "14:00"]]}},
                        "overlapping_hours")):
        with pytest.raises(AppError) as err:
            pol.put_calendar(ADMIN, None, dict(spec, name="x"), db.unit_of_work(),
                             clocks.reevaluate)
        assert err.value.code == code and "zh" in err.value.payload["message"]
    with pytest.raises(AppError) as err:
        pol.put_calendar({"role": "agent"}, None, {"name": "y", "always_open": True},
                         db.unit_of_work(), clocks.reevaluate)
    assert err.value.status == 403
    preview = pol.preview({"calendar_id": "cal-china-business",
                           "start": "2025-09-30T09:30:00Z", "minutes": 60}, db.unit_of_work())
    assert preview["due_at"] == "2025-10-09T01:30:00Z"   # after the National Day holiday


# ---- the service in a nameko container, fed over RabbitMQ ---------------------------------

def test_service_consumes_intake_events_and_answers_over_rpc(start_service, rabbit_config):
    # the RPCs go through entrypoint_hook (the worker itself), the events over the broker
    container = start_service(SlaService)
    dispatch = event_dispatcher({"AMQP_URI": rabbit_config["AMQP_URI"]})
    tid = str(uuid.uuid4())
    now = dt.datetime.now(dt.timezone.utc)
    created = ref(tid, priority="P1", created_at=now.isoformat(), updated_at=now.isoformat())
    dispatch("intake", "ticket_created", dict(env("ticket_created", 0, {"ticket": created}),
                                              occurred_at=now.isoformat()))
    deadline = time.monotonic() + 10
    while True:
        try:
            with entrypoint_hook(container, "ticket_sla") as ticket_sla:
                view = ticket_sla(tid)
            break
        except AppError as error:  # not seen yet: sla_not_started
            if error.code != "sla_not_started" or time.monotonic() > deadline:
                raise
            eventlet.sleep(0.1)
    by = {c["target"]: c for c in view["clocks"]}
    # the seeded P1 policy: respond within 15 minutes, around the clock
    assert by["response"]["target_minutes"] == 15 and by["response"]["state"] == "running"
    assert by["resolution"]["target_minutes"] == 1440
    # report periods are grouped in the configured business time zone (default Shanghai)
    with entrypoint_hook(container, "report") as report:
        assert report({"role": "agent"}, {"group_by": "day"})["tz"] == "Asia/Shanghai"
    with pytest.raises(AppError) as err, entrypoint_hook(container, "put_policy") as put:
        put({"role": "agent"}, None, {"name": "x"})
    assert err.value.code == "admin_only" and err.value.status == 403
