"""Assign / reassign / unassign, each recording why (method, who or which rule chose, the
certification matched, the engineer's open load), and a ticket's assignment history."""
from sqlalchemy import select

from gongdan_common.validation import load

from . import domain, events, exceptions as exc, schemas
from .common import (_accept, _checked, _current, _holding, _may_dispatch_at_all, _offer_out,
                     _person, _place, _qualified, _save, _visible)
from .handlers import _engineer
from .models import Assignment, Offer, refresh_engineers
from .projection import _ticket

_assignment_out = schemas.AssignmentSchema()


def assign(actor, ticket_id, payload, uow, settings, tickets=None):
    """Put a qualified engineer on a new or needs_info ticket (see domain.check_assign)."""
    data = load(schemas.AssignSchema(), payload)
    ticket = _ticket(uow, tickets, ticket_id, settings, fits=domain.ASSIGNABLE_STATUSES)
    now = settings["now"]()
    day = domain.local_date(now, settings["tz"])
    with uow:
        current = _current(uow, ticket.id)
        holding = _holding(uow, current)
        _visible(actor, ticket, holding)
        _may_dispatch_at_all(actor)
        _checked(uow, holding, lambda: domain.check_actor(actor, ticket),
                 lambda: domain.check_holds(actor, ticket, holding, "assign"),
                 lambda: domain.check_assign(ticket, holding,
                                             data.get("expected_assignment_id")))
        engineer = _engineer(uow, data["engineer_id"])
        _checked(uow, holding, lambda: domain.check_engineer_scope(actor, engineer))
        candidate, provider = _qualified(uow, engineer, ticket, day)
        method, offer_id = domain.MANUAL, None
        own = domain.own_provider(actor)
        if own is not None and actor["role"] == "provider_admin" and current is not None \
                and current.offer_id:
            offer = uow.session.get(Offer, current.offer_id)
            if offer.provider_id == own and offer.status in ("pending", "accepted"):
                if offer.status == "pending":  # assigning answers the offer
                    _accept(uow, offer, actor, now, engineer.id)
                method, offer_id = domain.OFFER, offer.id
        record = _place(uow, ticket, current, candidate, provider, method, actor, now,
                        reason=data.get("reason"), offer_id=offer_id)
        uow.commit()
        return _assignment_out.dump(record)


def reassign(actor, ticket_id, payload, uow, settings, tickets=None):
    """Replace the engineer of an assigned or in-progress ticket; a reason is required."""
    data = load(schemas.ReassignSchema(), payload)
    ticket = _ticket(uow, tickets, ticket_id, settings, fits=domain.REASSIGNABLE_STATUSES)
    now = settings["now"]()
    day = domain.local_date(now, settings["tz"])
    with uow:
        current = _current(uow, ticket.id)
        holding = _holding(uow, current)
        _visible(actor, ticket, holding)
        _may_dispatch_at_all(actor)
        _checked(uow, holding, lambda: domain.check_actor(actor, ticket),
                 lambda: domain.check_holds(actor, ticket, holding, "reassign"),
                 lambda: domain.check_reassign(ticket, holding, data["engineer_id"],
                                               data.get("expected_assignment_id")))
        engineer = _engineer(uow, data["engineer_id"])
        _checked(uow, holding, lambda: domain.check_engineer_scope(actor, engineer))
        candidate, provider = _qualified(uow, engineer, ticket, day)
        record = _place(uow, ticket, current, candidate, provider, domain.MANUAL, actor, now,
                        reason=data["reason"])
        uow.commit()
        return _assignment_out.dump(record)


def unassign(actor, ticket_id, payload, uow, settings, tickets=None):
    """Cancel the assignment of a ticket nobody has started. A provider_admin who takes
    their engineer off keeps the ticket (to assign again); the desk takes it back."""
    data = load(schemas.UnassignSchema(), payload)
    ticket = _ticket(uow, tickets, ticket_id, settings, fits=domain.UNASSIGNABLE_STATUSES)
    now = settings["now"]()
    with uow:
        current = _current(uow, ticket.id)
        holding = _holding(uow, current)
        _visible(actor, ticket, holding)
        _may_dispatch_at_all(actor)
        _checked(uow, holding, lambda: domain.check_actor(actor, ticket),
                 lambda: domain.check_holds(actor, ticket, holding, "unassign"),
                 lambda: domain.check_unassign(ticket, holding,
                                               data.get("expected_assignment_id")))
        record = uow.session.get(Assignment, current.assignment_id)
        record.ended_at, record.end_reason = now, "unassigned"
        keeps = actor.get("role") == "provider_admin"
        current.assignment_id, current.engineer_id = None, None
        if not keeps:
            current.provider_id, current.method, current.offer_id = None, None, None
        current.updated_at = now
        _save(uow)
        refresh_engineers(uow.session, [record.engineer_id], domain.DONE_STATUSES)
        uow.emit(events.TICKET_UNASSIGNED, {
            "assignment_id": record.id, "ticket_id": ticket.id, "ticket_number": ticket.number,
            "engineer_id": record.engineer_id, "provider_id": record.provider_id,
            "reason": data["reason"], "cancelled_by": _person(actor),
            "provider_keeps_ticket": keeps},
            actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()
        return _assignment_out.dump(record)


def assignment_history(actor, ticket_id, uow, settings=None, tickets=None):
    """Every assignment of a ticket with its reasons, oldest first, and the offers made.
    The desk sees all; a provider_admin their provider's part; an engineer their own.
    Someone who may not see the ticket (or an unknown ticket) gets 404; a customer who may
    see it, 403 (assignment records are the staff's)."""
    role = actor.get("role")
    ticket = _ticket(uow, tickets, ticket_id, settings)
    with uow:
        _visible(actor, ticket, _holding(uow, _current(uow, ticket.id)))
        ticket_id = ticket.id
        rows = uow.session.scalars(select(Assignment).where(Assignment.ticket_id == ticket_id)
                                   .order_by(Assignment.seq)).all()
        offers = uow.session.scalars(select(Offer).where(Offer.ticket_id == ticket_id)
                                     .order_by(Offer.round)).all()
        current = _current(uow, ticket_id)
    if role in domain.READ_ALL_ROLES:
        pass
    elif domain.own_provider(actor) is not None:
        own = domain.own_provider(actor)
        rows = [a for a in rows if a.provider_id == own]
        offers = [o for o in offers if o.provider_id == own]
        if not rows and not offers:
            raise exc.READ_FORBIDDEN()
    elif role == "engineer":
        rows = [a for a in rows if a.engineer_id == actor.get("id")]
        offers = []
        if not rows:
            raise exc.READ_FORBIDDEN()
    else:
        raise exc.READ_FORBIDDEN()
    current_id = current.assignment_id if current is not None else None
    items = []
    for a in rows:
        out = _assignment_out.dump(a)
        out["current"] = a.id == current_id
        items.append(out)
    visible = {a.id for a in rows}
    return {"ticket_id": ticket_id,
            "current_assignment_id": current_id if current_id in visible else None,
            "items": items, "offers": _offer_out.dump(offers, many=True)}
