"""sla's service layer for clocks: intake's events become steps, steps are evaluated into
clocks (domain.evaluate), warnings and breaches are published once, and each ticket keeps
at most one pending timer: the next instant one of its clocks needs a look.

Plain functions over a unit of work.
"""
import datetime as dt

from sqlalchemy import delete, insert, inspect, select

from gongdan_common.logs import event_scope
from gongdan_common.events import utcnow
from gongdan_common.outbox import consume_many, consume_once

from . import domain, events, exceptions as exc, policies as pol, schemas
from .models import Clock, SlaTicket, Step, Timer

OPEN_STATES = ("running", "paused", "pending")
TIMER_KIND = "sla_check"


def _time(value):
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _minutes(delta):
    return None if delta is None else round(delta.total_seconds() / 60, 4)


def _aware(value):
    return value if value is None or value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


# ---- intake's events -> steps -------------------------------------------------------

def steps_from_event(envelope):
    """The steps one intake event contributes: (key, at, seq, kind, value) tuples."""
    data, kind = envelope["data"], envelope["type"]
    ticket = data["ticket"]
    at, seq, event_id = _time(envelope["occurred_at"]), ticket["version"], envelope["event_id"]
    if kind == "ticket_created":
        return [("created:" + ticket["id"], _time(ticket["created_at"]), 0, "created",
                 ticket["priority"])]
    if kind == "ticket_status_changed":
        # a duplicate merged into another ticket is closed but was not solved: its clocks
        # stop as a cancelled ticket's do (neither met nor breached)
        status = "cancelled" if data.get("action") == "merge" else data["to_status"]
        return [(event_id, at, seq, "status", status)]
    if kind == "ticket_updated" and "priority" in (data.get("changes") or {}):
        return [(event_id, at, seq, "priority", data["changes"]["priority"][1])]
    if kind == "ticket_commented" and not data.get("internal") \
            and data.get("author_role") in domain.STAFF_ROLES:
        return [(event_id, at, seq, "response", None)]
    return []


def on_ticket_event(envelope, uow, now=None):
    """Record what an intake event says about a ticket and re-evaluate its clocks."""
    with uow:
        if not consume_once(uow, envelope, "sla.clocks"):
            return
        _apply_event(envelope, uow, now or utcnow())
        uow.commit()


def _apply_event(envelope, uow, now):
    snapshot = envelope["data"]["ticket"]
    ticket = _project(uow, snapshot)
    new = steps_from_event(envelope)
    if envelope["type"] != "ticket_created" and uow.session.scalar(select(Step.id).where(
            Step.key == "created:" + ticket.ticket_id)) is None:
        # the creation event has not arrived yet (queues do not order across event
        # types): start from the snapshot; the real one replaces it when it comes
        new.append(("created:" + ticket.ticket_id, _time(snapshot["created_at"]), 0,
                    "created", snapshot["priority"]))
    for key, at, seq, kind, value in new:
        row = uow.session.scalar(select(Step).where(Step.key == key))
        if row is None:
            uow.session.add(Step(ticket_id=ticket.ticket_id, key=key, at=at, seq=seq,
                                 kind=kind, value=value))
        elif envelope["type"] == "ticket_created":
            row.value, row.at = value, at
    uow.flush()
    refresh(uow, ticket.ticket_id, now, policies=_policies_once(uow), ticket=ticket)


def on_tickets_created(envelopes, uow, now=None):
    """A batch of ticket_created events in one transaction, without look-ups for what a new
    ticket cannot have yet: a ticket sla has never seen gets its projection, creation step,
    clocks and timer inserted (one Core INSERT per table for the whole batch, `_insert_new`)
    from an evaluation in memory. A ticket already projected (an event of another type overtook
    the creation, or the same ticket twice in the batch) takes the general path, in ticket
    order (rows are locked in one order). Redelivered events are dropped (`consume_many`,
    the same consumer name as `on_ticket_event`: either path sees the other's record)."""
    now = now or utcnow()
    with uow:
        fresh = sorted(consume_many(uow, envelopes, "sla.clocks"),
                       key=lambda e: e["data"]["ticket"]["id"])
        ids = [e["data"]["ticket"]["id"] for e in fresh]
        known = set(uow.session.scalars(
            select(SlaTicket.ticket_id).where(SlaTicket.ticket_id.in_(ids))).all()) \
            if ids else set()
        policies = _policies_once(uow)
        new = []  # rows of tickets seen for the first time, kept out of the session
        for envelope in fresh:
            if new and envelope["data"]["ticket"]["id"] == new[-1].ticket_id:
                # the same ticket again (another event id; the batch is in ticket order):
                # the general path reads its rows, so they are written first
                _insert_new(uow, new)
                new.clear()
            with event_scope(envelope):  # what it emits carries this event's ids
                _created(envelope, uow, known, policies, now, new.append)
        _insert_new(uow, new)
        uow.commit()


_NEW_ROWS = (SlaTicket, Step, Clock, Timer)  # in this order (a projection before its rows)
_INSERTS = [insert(model.__table__) for model in _NEW_ROWS]


def _insert_new(uow, objects):
    """Write the new tickets' rows with Core: one INSERT per table (and set of columns),
    rows in ticket order. The objects never entered the session: the ORM's flush of them
    (state tracking, cascades, for objects nothing reads again in this transaction) was a
    third of the batch's CPU (docs/performance.md). Only attributes that were set are
    written, as the ORM does: a column left out gets its default."""
    groups = {}
    for obj in objects:
        state = inspect(obj)
        values = {k: state.dict[k] for k in state.mapper.column_attrs.keys() if k in state.dict}
        groups.setdefault((_NEW_ROWS.index(type(obj)), frozenset(values)), []).append(values)
    conn = uow.session.connection() if groups else None
    for (kind, _), rows in sorted(groups.items(), key=lambda g: g[0][0]):
        rows.sort(key=lambda r: (r["ticket_id"], r.get("target") or r.get("key") or ""))
        conn.execute(_INSERTS[kind], rows)


def _created(envelope, uow, known, policies, now, add):
    ticket_id = envelope["data"]["ticket"]["id"]
    if ticket_id in known:
        _apply_event(envelope, uow, now)
        return
    known.add(ticket_id)  # a second event of the same ticket in the batch: the general path
    snap = envelope["data"]["ticket"]
    ticket = SlaTicket(ticket_id=ticket_id, created_at=_time(snap["created_at"]))
    _set_snapshot(ticket, snap)
    (key, at, seq, kind, value), = steps_from_event(envelope)
    step = Step(ticket_id=ticket_id, key=key, at=at, seq=seq, kind=kind, value=value)
    add(ticket)
    add(step)
    _store_views(uow, ticket, evaluate_ticket(ticket, [step], policies, now), {}, None, now,
                 add=add)


def _policies_once(uow):
    """The policies, read once per transaction: a batch of events evaluates many tickets
    against the same policies (nothing in event handling edits them)."""
    cached = uow.session.info.get("sla.policies")
    if cached is None:
        cached = uow.session.info["sla.policies"] = pol.load_policies(uow)
    return cached


def _project(uow, snap):
    ticket = uow.session.get(SlaTicket, snap["id"], with_for_update=_pg(uow))
    if ticket is None:
        ticket = SlaTicket(ticket_id=snap["id"], version=-1,
                           created_at=_time(snap["created_at"]))
        uow.session.add(ticket)
    if snap["version"] >= ticket.version:
        _set_snapshot(ticket, snap)
    return ticket


def _set_snapshot(ticket, snap):
    ticket.number, ticket.company_id, ticket.type = snap["number"], snap.get(
        "company_id"), snap["type"]
    ticket.priority, ticket.status = snap["priority"], snap["status"]
    ticket.provider_id, ticket.handler_id = snap.get("provider_id"), snap.get("handler_id")
    ticket.version, ticket.updated_at = snap["version"], _time(snap["updated_at"])


def _pg(uow):
    return uow.session.bind.dialect.name == "postgresql"


# ---- evaluation ---------------------------------------------------------------------

def terms_factory(policies, ticket_fields):
    """priority -> {target: Terms} under the given policies, memoised per priority."""
    cache = {}

    def for_priority(priority):
        if priority not in cache:
            policy = domain.choose_policy(policies, dict(ticket_fields, priority=priority))
            terms = {}
            if policy is not None:
                for target in domain.TARGETS:
                    minutes = policy.get(f"{target}_minutes")
                    if minutes:
                        terms[target] = domain.Terms(
                            dt.timedelta(minutes=minutes), policy["business_calendar"],
                            policy["warn_share"], policy["id"], policy.get("escalation"))
            cache[priority] = terms
        return cache[priority]
    return for_priority


def evaluate_ticket(ticket, steps, policies, now):
    """{target: view} for one ticket under `policies` (pure apart from its inputs)."""
    fields_ = {"company_id": ticket.company_id, "type": ticket.type}
    terms = terms_factory(policies, fields_)
    domain_steps = [domain.Step(_aware(s.at), s.seq, s.kind, s.value) for s in steps]
    return {target: domain.evaluate(target, domain_steps,
                                    lambda p, t=target: terms(p).get(t), now)
            for target in domain.TARGETS}


def _steps(uow, ticket_id):
    return uow.session.scalars(select(Step).where(Step.ticket_id == ticket_id)).all()


def refresh(uow, ticket_id, now, policies=None, ticket=None):
    """Re-evaluate a ticket's clocks: store them, publish warnings / breaches not yet
    published, arm the ticket's timer for its next instant, and publish sla_clock_updated
    when the nearest due time or the breach flag changed. Inside the caller's transaction.
    `ticket`: its projection when the caller has already read and locked it."""
    if ticket is None:
        ticket = uow.session.get(SlaTicket, ticket_id, with_for_update=_pg(uow))
    if ticket is None:
        return None
    policies = pol.load_policies(uow) if policies is None else policies
    views = evaluate_ticket(ticket, _steps(uow, ticket_id), policies, now)
    clocks = {c.target: c for c in uow.session.scalars(
        select(Clock).where(Clock.ticket_id == ticket_id)).all()}
    timer = uow.session.scalar(select(Timer).where(Timer.key == timer_key(ticket_id)))
    _store_views(uow, ticket, views, clocks, timer, now)
    return views


def _store_views(uow, ticket, views, clocks, timer, now, add=None):
    """Store evaluated views into the ticket's clocks (`clocks`: target -> Clock, as
    stored), publish what is due, arm its timer (`timer`: its row or None) and publish
    sla_clock_updated when the nearest due time or the breach flag changed. `add`: where
    new rows go (the session by default; a new ticket's batch writes them itself)."""
    add = add or uow.session.add
    before = _summary(clocks.values())
    nexts = []
    for target, view in views.items():
        clock = clocks.get(target)
        if view["state"] == "none":
            if clock is not None:
                uow.session.delete(clock)
                del clocks[target]
            continue
        if clock is None:
            clock = clocks[target] = Clock(ticket_id=ticket.ticket_id, target=target)
            add(clock)
        _store(clock, view, now)
        _start_cycle(uow, ticket, clock, view)
        _notify(uow, ticket, clock, view, now)
        instant = domain.next_instant(view, clock.warning_sent_at is not None,
                                      clock.breach_sent_at is not None)
        if instant is not None:
            nexts.append(instant)
    arm(uow, ticket.ticket_id, min(nexts) if nexts else None, now, timer, add)
    after = _summary(clocks.values())
    if after != before:
        uow.emit(events.SLA_CLOCK_UPDATED, {
            "ticket_id": ticket.ticket_id, "next_due_at": after[0], "breached": after[1],
            "evaluated_at": now, "clocks": [
                {"target": c.target, "state": c.state, "due_at": c.due_at,
                 "breached": c.breached_at is not None} for c in clocks.values()]},
            ticket_id=ticket.ticket_id, ticket_number=ticket.number)


def _summary(clocks):
    dues = [_aware(c.due_at) for c in clocks if c.state == "running" and c.due_at is not None]
    return (min(dues) if dues else None, any(c.breached_at is not None for c in clocks),
            tuple(sorted((c.target, c.state) for c in clocks)))


def _store(clock, view, now):
    clock.policy_id, clock.priority, clock.state = view["policy_id"], view["priority"], \
        view["state"]
    clock.calendar_id = getattr(view["calendar"], "calendar_id", None)
    clock.target_seconds = view["duration"].total_seconds()
    clock.spent_seconds = view["spent"].total_seconds()
    clock.paused_seconds = view["paused"].total_seconds()
    clock.due_at, clock.met_at = view["due_at"], view["met_at"]
    clock.warned_at, clock.breached_at = view["warned_at"], view["breached_at"]
    clock.evaluated_at = now


def _start_cycle(uow, ticket, clock, view):
    """A clock with cycles (update) sends its warning and breach once per cycle: a new
    cycle forgets the notices sent for the previous one. If the cycle this clock tracked
    breached but the breach was not published yet (the next reply was handled before the
    breach timer fired, e.g. while sla was down), it is published now, once."""
    start = view.get("cycle_started_at")
    if start is None or _aware(clock.cycle_started_at) == start:
        return
    prev = view.get("previous")
    if prev is not None and prev["breached_at"] is not None \
            and clock.breach_sent_at is None \
            and _aware(clock.cycle_started_at) == prev["cycle_started_at"]:
        late = dict(view, due_at=None, **prev)
        uow.emit(events.SLA_BREACHED, dict(_notice(ticket, clock, late),
                                           breached_at=prev["breached_at"]),
                 ticket_id=ticket.ticket_id, ticket_number=ticket.number)
    clock.cycle_started_at = start
    clock.warning_sent_at = clock.breach_sent_at = None


def _notice(ticket, clock, view):
    return {"ticket_id": ticket.ticket_id, "number": ticket.number, "target": clock.target,
            "priority": view["priority"], "policy_id": view["policy_id"],
            "company_id": ticket.company_id, "provider_id": ticket.provider_id,
            "handler_id": ticket.handler_id, "due_at": view["due_at"] or view["breached_at"],
            "target_minutes": _minutes(view["duration"]),
            "spent_minutes": _minutes(view["spent"]), "warn_share": view["warn_share"],
            "escalation": view["escalation"] or None,
            "cycle_started_at": view.get("cycle_started_at")}


def _notify(uow, ticket, clock, view, now):
    """Publish a warning / breach once per clock, when the evaluation says it happened."""
    if view["warned_at"] is not None and clock.warning_sent_at is None:
        clock.warning_sent_at = now
        if view["breached_at"] is None:  # a breach found at once makes the warning moot
            uow.emit(events.SLA_WARNING, dict(_notice(ticket, clock, view),
                                              warned_at=view["warned_at"]),
                     ticket_id=ticket.ticket_id, ticket_number=ticket.number)
    if view["breached_at"] is not None and clock.breach_sent_at is None:
        clock.breach_sent_at = now
        uow.emit(events.SLA_BREACHED, dict(_notice(ticket, clock, view),
                                           breached_at=view["breached_at"]),
                 ticket_id=ticket.ticket_id, ticket_number=ticket.number)


def timer_key(ticket_id):
    return "sla:" + ticket_id


def arm(uow, ticket_id, due_at, now, timer, add=None):
    """The ticket's one sla timer (`timer`: its row, None when it has none yet): pending at
    `due_at`, or cancelled when nothing is next."""
    if due_at is None:
        if timer is not None and timer.status == "pending":
            timer.status, timer.cancelled_at = "cancelled", now
        return
    if timer is None:
        (add or uow.session.add)(Timer(key=timer_key(ticket_id), kind=TIMER_KIND, owner="sla",
                              ticket_id=ticket_id, due_at=due_at, status="pending",
                              payload={}, created_at=now))
    elif timer.status != "pending" or _aware(timer.due_at) != due_at:
        timer.status, timer.due_at, timer.cancelled_at = "pending", due_at, None


def reevaluate(uow, calendar_id=None, policy_id=None, now=None):
    """After a calendar or policy edit: re-evaluate every open clock it can affect (those
    on it, and for a policy, the open tickets it now matches). Returns how many tickets."""
    now = now or utcnow()
    policies = pol.load_policies(uow)
    clock_filter = Clock.calendar_id == calendar_id if calendar_id else \
        Clock.policy_id == policy_id
    ids = set(uow.session.scalars(select(Clock.ticket_id).where(
        Clock.state.in_(OPEN_STATES), clock_filter)).all())
    if calendar_id:
        ids |= set(uow.session.scalars(select(Clock.ticket_id).where(
            Clock.state.in_(OPEN_STATES),
            Clock.policy_id.in_([p["id"] for p in policies
                                 if p["calendar_id"] == calendar_id]))).all())
    else:
        policy = next((p for p in policies if p["id"] == policy_id), None)
        if policy is not None:
            stmt = select(SlaTicket.ticket_id).where(
                SlaTicket.status.not_in(tuple(domain.STOPPED)))
            for column, key in ((SlaTicket.company_id, "company_id"),
                                (SlaTicket.type, "ticket_type")):
                if policy.get(key):
                    stmt = stmt.where(column == policy[key])
            ids |= set(uow.session.scalars(stmt).all())
    for ticket_id in sorted(ids):
        refresh(uow, ticket_id, now, policies)
    return len(ids)


def rebuild(ticket_id, uow, now=None):
    """Drop a ticket's stored clocks and evaluate them again from its steps (the stored
    notices stay sent: a rebuild does not repeat warnings or breaches)."""
    now = now or utcnow()
    with uow:
        sent = {c.target: (c.warning_sent_at, c.breach_sent_at, c.cycle_started_at)
                for c in uow.session.scalars(
                    select(Clock).where(Clock.ticket_id == ticket_id)).all()}
        uow.session.execute(delete(Clock).where(Clock.ticket_id == ticket_id))
        for target, (warning, breach, cycle) in sent.items():
            uow.session.add(Clock(ticket_id=ticket_id, target=target, state="none",
                                  warning_sent_at=warning, breach_sent_at=breach,
                                  cycle_started_at=cycle, evaluated_at=now))
        uow.flush()
        views = refresh(uow, ticket_id, now)
        uow.commit()
    if views is None:
        raise exc.NO_CLOCKS()
    # dumped like ticket_sla's clocks: raw datetimes would cross RPC as kombu's tagged
    # objects and stop the gateway's JSON encoder (the rebuild answered 500)
    from .reading import clock_out
    return schemas.ClockSchema(many=True).dump(
        [clock_out(v) for v in views.values() if v["state"] != "none"])

