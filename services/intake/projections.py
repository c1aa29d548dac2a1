"""What intake keeps of other services' events: assignments and providers (dispatch), due
timers, SLA clocks and breaches (sla)."""
import datetime as dt
import uuid

from sqlalchemy import bindparam, func, or_, select, update

from gongdan_common.events import utcnow
from gongdan_common.outbox import consume_once

from . import domain, events
from .common import _ref
from .lifecycle import _apply
from .models import Assignment, FollowUp, Ticket

SYSTEM = {"id": None, "role": "system", "name": "system"}


def apply_assignment(envelope, uow):
    """dispatch decided who works on the ticket: keep the copy, move new -> assigned."""
    data = envelope["data"]
    kind = "reassigned" if envelope["type"] == "ticket_reassigned" else "assigned"
    with uow:
        if not consume_once(uow, envelope, "intake.assignment"):
            return
        ticket = uow.session.get(Ticket, data["ticket_id"])
        if ticket is None:
            return
        at = _parse_time(envelope["occurred_at"])
        latest = uow.session.scalar(select(func.max(Assignment.at)).where(
            Assignment.ticket_id == ticket.id))
        uow.session.add(Assignment(
            id=data["assignment_id"], ticket_id=ticket.id, kind=kind,
            engineer_id=data["engineer_id"], engineer_name=data.get("engineer_name"),
            provider_id=data.get("provider_id"), method=data.get("method"),
            detail={k: data.get(k) for k in ("certification", "open_load", "reason", "rule_id",
                                             "previous_engineer_id") if k in data},
            actor=envelope.get("actor"), at=at))
        if latest is not None and _aware(latest) > at:
            uow.commit()  # an older decision arriving late: history only
            return
        ticket.handler_id = data["engineer_id"]
        ticket.handler_name = data.get("engineer_name")
        ticket.provider_id = data.get("provider_id")
        actor = dict(envelope.get("actor") or SYSTEM, role="system")
        if ticket.status == "needs_info":
            ticket.status_before = "assigned"  # provide_info goes to assigned
            ticket.updated_at = utcnow()
        elif (kind == "assigned" and ticket.status == "new") or \
                (kind == "reassigned" and ticket.status in ("assigned", "in_progress")):
            _apply(uow, ticket, actor, "assign" if kind == "assigned" else "reassign",
                   {"reason": data.get("reason")}, {})
        else:
            ticket.updated_at = utcnow()
            uow.flush()
            uow.emit(events.TICKET_UPDATED, {"ticket": _ref(ticket), "changes": {
                "handler_id": [None, ticket.handler_id]}, "reason": "assignment"},
                actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()


def apply_provider_change(envelope, uow):
    """Offers and un-assignment from dispatch: who (which provider) may see the ticket, and
    a ticket taken back from its engineer returns to new."""
    data, kind = envelope["data"], envelope["type"]
    with uow:
        if not consume_once(uow, envelope, "intake.dispatch"):
            return
        ticket = uow.session.get(Ticket, data["ticket_id"])
        if ticket is None:
            return
        if kind == "ticket_offered":
            ticket.provider_id = data["provider_id"]
        elif kind in ("offer_declined", "offer_expired", "offer_exhausted"):
            if ticket.handler_id is None and ticket.provider_id == data.get("provider_id", ticket.provider_id):
                ticket.provider_id = None
        elif kind == "ticket_unassigned":
            ticket.handler_id, ticket.handler_name = None, None
            if not data.get("provider_keeps_ticket"):
                ticket.provider_id = None
            if ticket.status == "assigned":
                actor = dict(envelope.get("actor") or SYSTEM, role="system")
                _apply(uow, ticket, actor, "unassign", {"reason": data.get("reason")}, {})
                uow.commit()
                return
        ticket.updated_at = utcnow()
        uow.flush()
        uow.emit(events.TICKET_UPDATED, {"ticket": _ref(ticket), "changes": {
            "provider_id": [None, ticket.provider_id]}, "reason": kind},
            actor=envelope.get("actor"), ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()


def _parse_time(value):
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _aware(value):
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def timer_due(envelope, uow, settings):
    """A deadline intake asked sla for has come (auto-resume, auto-confirm, follow-up)."""
    data = envelope["data"]
    if data.get("owner") != "intake":
        return
    with uow:
        if not consume_once(uow, envelope, "intake.timer"):
            return
        ticket = uow.session.get(Ticket, envelope.get("ticket_id")) \
            if envelope.get("ticket_id") else None
        kind, payload = data["kind"], data.get("payload") or {}
        if kind == "auto_resume" and ticket is not None and ticket.status == "suspended" \
                and ticket.suspension_id == payload.get("suspension_id"):
            _apply(uow, ticket, SYSTEM, "resume", {"reason": "planned end reached"}, settings,
                   automatic=True)
        elif kind == "auto_confirm" and ticket is not None and ticket.status == "resolved" \
                and ticket.resolution_round == payload.get("round"):
            _apply(uow, ticket, SYSTEM, "close",
                   {"reason": "not confirmed in time: closed automatically"}, settings,
                   automatic=True)
        elif kind == "follow_up_due":
            follow_up = uow.session.get(FollowUp, payload.get("follow_up_id"))
            if follow_up is not None and follow_up.status == "open":
                follow_up.status = "overdue"
                uow.emit(events.FOLLOW_UP_DUE, {
                    "ticket": _ref(ticket), "follow_up_id": follow_up.id,
                    "due_at": follow_up.due_at, "status": "overdue"},
                    ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()


def apply_sla_clock(envelope, uow):
    """One sla_clock_updated (see apply_sla_clocks)."""
    apply_sla_clocks([envelope], uow)


def apply_sla_clocks(envelopes, uow):
    """sla_clock_updated, a batch in one transaction: keep each ticket's nearest due time and
    breach flag, for filtering and sorting lists. An older evaluation than the one kept is
    ignored (events of one ticket may arrive out of order): the UPDATE's condition says so,
    without reading the ticket first. One UPDATE per ticket, in ticket order (rows locked in
    one order). Not a change of the ticket: no version, no event.

    No processed-events record: the condition already makes a redelivery harmless (the same
    evaluation writes the same values again, an older one writes nothing), so the INSERT
    that records event ids would only cost a statement and a row per event."""
    with uow:
        latest = {}  # ticket -> (evaluated, data) of the newest evaluation in the batch
        for envelope in envelopes:
            data = envelope["data"]
            evaluated = _aware(_parse_time(data["evaluated_at"]))
            kept = latest.get(data["ticket_id"])
            if kept is None or kept[0] <= evaluated:
                latest[data["ticket_id"]] = (evaluated, data)
        if latest:
            # one prepared statement, executed for every ticket in ticket order (an
            # executemany: no statement built per ticket)
            uow.session.connection().execute(_APPLY_CLOCK, [
                {"ticket_id": ticket_id, "evaluated": evaluated,
                 "due": _parse_time(data["next_due_at"]) if data.get("next_due_at") else None,
                 "breached": bool(data["breached"])}
                for ticket_id, (evaluated, data) in sorted(latest.items())])
        uow.commit()


_TICKETS = Ticket.__table__
_APPLY_CLOCK = (update(_TICKETS)
                .where(_TICKETS.c.id == bindparam("ticket_id"),
                       or_(_TICKETS.c.sla_evaluated_at.is_(None),
                           _TICKETS.c.sla_evaluated_at <= bindparam("evaluated")))
                .values(sla_due_at=bindparam("due"), sla_breached=bindparam("breached"),
                        sla_evaluated_at=bindparam("evaluated")))


def apply_sla_breach(envelope, uow):
    """sla_breached with escalation raise_priority: the ticket becomes one level more
    urgent (ticket_updated with the reason), which sla uses to recompute its clocks."""
    data = envelope["data"]
    if (data.get("escalation") or {}).get("action") != "raise_priority":
        return
    # once per ticket and target: an update-interval clock breaches once per missed cycle,
    # and a ticket that keeps missing them must not climb from P4 to P1 on that alone
    once = {"event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sla-raise:{data['ticket_id']}:"
                                                          f"{data['target']}"))}
    with uow:
        if not consume_once(uow, envelope, "intake.sla_breach") or \
                not consume_once(uow, once, "intake.sla_raise"):
            uow.commit()  # (the breach is recorded as handled either way)
            return
        ticket = uow.session.get(Ticket, data["ticket_id"])
        if ticket is None or ticket.status not in domain.OPEN_STATUSES:
            uow.commit()
            return
        new = domain.raised_priority(ticket.priority)
        if new != ticket.priority:
            old, ticket.priority, ticket.updated_at = ticket.priority, new, utcnow()
            uow.flush()
            uow.emit(events.TICKET_UPDATED, {
                "ticket": _ref(ticket), "changes": {"priority": [old, new]},
                "reason": f"SLA {data['target']} target breached: priority raised "
                          f"(SLA {data['target']} 超时，优先级已提升)"},
                actor=SYSTEM, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()
