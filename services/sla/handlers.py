"""sla's service layer: durable timers. Plain functions over a unit of work.
(Calendars and policies: policies.py; clocks: clocks.py.)"""
import datetime as dt

from sqlalchemy import func, select, update

from gongdan_common import metrics
from gongdan_common.events import utcnow
from gongdan_common.outbox import consume_once
from gongdan_common.validation import load

from . import clocks, events, exceptions as exc, schemas
from .models import Timer

_out = schemas.TimerSchema()


def schedule(request, uow, envelope=None):
    """Create a pending timer, or move a pending one with the same key. Idempotent: a
    redelivered request for a timer that already fired or was cancelled changes nothing, and
    a redelivered event (same event_id) is dropped, so it cannot undo a later reschedule."""
    data = load(schemas.TimerRequestSchema(), request)
    with uow:
        if envelope is not None and not consume_once(uow, envelope, "sla.schedule"):
            return None
        timer = uow.session.scalar(select(Timer).where(Timer.key == data["key"]))
        if timer is None:
            timer = Timer(status="pending", created_at=utcnow(), **data)
            uow.session.add(timer)
        elif timer.status == "pending":
            for name in ("kind", "owner", "due_at", "ticket_id", "payload"):
                setattr(timer, name, data[name] if name in data else getattr(timer, name))
        uow.commit()
        return _out.dump(timer)


def cancel(request, uow, envelope=None):
    data = load(schemas.TimerCancelSchema(), request)
    with uow:
        if envelope is not None and not consume_once(uow, envelope, "sla.cancel"):
            return None
        timer = uow.session.scalar(select(Timer).where(Timer.key == data["key"]))
        if timer is None:
            # the cancel overtook the request: remember it, so the late request stays dead
            timer = Timer(key=data["key"], kind="cancelled", owner="sla", status="cancelled",
                          due_at=utcnow(), created_at=utcnow(), cancelled_at=utcnow())
            uow.session.add(timer)
        elif timer.status == "pending":
            timer.status, timer.cancelled_at = "cancelled", utcnow()
        uow.commit()
        return _out.dump(timer)


def get(key, uow):
    with uow:
        timer = uow.session.scalar(select(Timer).where(Timer.key == key))
        if timer is None:
            raise exc.TIMER_NOT_FOUND()
        return _out.dump(timer)


def fire_due(uow, now=None, limit=500):
    """Fire every pending timer whose time has come: mark it fired and emit `timer_due` in
    one transaction. Rows are claimed with SKIP LOCKED (PostgreSQL) or under SQLite's write
    lock, so each timer fires once across instances. Returns how many fired.

    sla's own timers (owner "sla": a ticket's next warning or breach) are handled here, in
    the same transaction: the ticket's clocks are re-evaluated, which publishes the warning
    or breach and arms the ticket's next timer."""
    now = now or utcnow()
    with uow:
        stmt = (select(Timer).where(Timer.status == "pending", Timer.due_at <= now)
                .order_by(Timer.due_at).limit(limit))
        if uow.session.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        due = uow.session.scalars(stmt).all()
        if not due:
            return 0
        # one UPDATE and one outbox INSERT for the whole batch (per-row statements cost a
        # round trip each: measured in docs/performance.md, SLA)
        uow.session.execute(update(Timer).where(Timer.id.in_([t.id for t in due]))
                            .values(status="fired", fired_at=now))
        own = [t.ticket_id for t in due if t.owner == "sla" and t.kind == clocks.TIMER_KIND]
        uow.emit_many(events.TIMER_DUE, [({
            "timer_id": t.id, "key": t.key, "kind": t.kind, "owner": t.owner,
            "due_at": t.due_at, "fired_at": now, "payload": t.payload or {}},
            {"ticket_id": t.ticket_id}) for t in due
            if not (t.owner == "sla" and t.kind == clocks.TIMER_KIND)])
        if own:
            policies = clocks.pol.load_policies(uow)
            for ticket_id in own:
                clocks.refresh(uow, ticket_id, now, policies)
        uow.commit()
    for t in due:  # how late each fired (a backlog or a slow tick shows here)
        metrics.sla_timer_fired((now - _aware(t.due_at)).total_seconds())
    return len(due)


def _aware(value):
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def sample_timers_due(uow, now=None):
    """The gauge `gongdan_sla_timers_due`: pending timers whose time has come."""
    now = now or utcnow()
    with uow:
        count = uow.session.scalar(select(func.count()).select_from(Timer).where(
            Timer.status == "pending", Timer.due_at <= now))
    metrics.SLA_TIMERS_DUE.labels(metrics.service()).set(count or 0)
