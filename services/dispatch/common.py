"""What dispatch's assignment modules share: who holds a ticket and placing an assignment.

Who holds a ticket is one `CurrentAssignment` row per ticket, written by compare-and-set
(`_save`): of two decisions racing for a ticket exactly one commits, the other is a 409.
Rules live in `domain`; the registry queries are shared with `handlers`.
"""
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from gongdan_common.errors import AppError

from . import domain, events, exceptions as exc, schemas
from .models import (Assignment, Certification, CurrentAssignment, Engineer, Offer, Provider,
                     new_id, open_loads, refresh_engineers)

_offer_out = schemas.OfferSchema()


def _retry_on_conflict(attempt, tries=3):
    """Event consumers cannot answer 409: a decision that lost a race is retried from the
    start (its consume_once record was rolled back with it)."""
    for n in range(tries):
        try:
            return attempt()
        except AppError as err:
            if err.code != "assignment_conflict" or n == tries - 1:
                raise


def _current(uow, ticket_id):
    return uow.session.get(CurrentAssignment, ticket_id) if ticket_id else None


def _holding(uow, current):
    if current is None:
        return domain.NOBODY
    offer = uow.session.get(Offer, current.offer_id) if current.offer_id else None
    return domain.Holding(
        assignment_id=current.assignment_id, engineer_id=current.engineer_id,
        provider_id=current.provider_id, offer_id=current.offer_id,
        offer_provider_id=offer.provider_id if offer is not None and
        offer.status == "pending" else None)


def _save(uow):
    """Flush, turning a lost compare-and-set (a concurrent first insert of the ticket's row,
    or a concurrent change of its version) into a 409."""
    try:
        uow.flush()
    except (IntegrityError, StaleDataError):
        raise exc.ASSIGNMENT_CONFLICT() from None


def _hold(uow, ticket, current, now):
    if current is None:
        current = CurrentAssignment(ticket_id=ticket.id, updated_at=now)
        uow.session.add(current)
    current.updated_at = now
    return current


def _refusal(uow, refusal, holding):
    """domain.Refused -> AppError, naming the engineer now on the ticket where it helps."""
    extra = {}
    if holding.engineer_id:
        on_it = uow.session.get(Engineer, holding.engineer_id)
        extra["engineer"] = on_it.name if on_it is not None else holding.engineer_id
        extra["current_engineer_id"] = holding.engineer_id
    if refusal.key == "stale_assignment":
        extra["current"] = holding.assignment_id or "none"
    return exc.refused(refusal, **extra)


def _checked(uow, holding, *checks):
    try:
        for check in checks:
            check()
    except domain.Refused as refusal:
        raise _refusal(uow, refusal, holding) from None


def _person(actor):
    if not actor or actor.get("role") == "system":
        return None
    return {"id": actor.get("id"), "role": actor["role"], "name": actor.get("name")}


def _qualified(uow, engineer, ticket, day):
    """The engineer as a candidate for the ticket today, or the 409 that says why not."""
    provider = uow.session.get(Provider, engineer.provider_id)
    certs = uow.session.scalars(
        select(Certification).where(Certification.engineer_id == engineer.id)).all()
    problem = domain.qualification_problem(engineer, provider.active, certs,
                                           ticket.product_line, day)
    if problem is not None:
        raise exc.refused(problem, engineer_id=engineer.id, provider=provider.name)
    return domain.candidate_for(engineer, certs, ticket, day), provider


def _place(uow, ticket, current, candidate, provider, method, actor, now, *, reason=None,
           rule=None, offer_id=None):
    """Record the decision and make it current (compare-and-set), emit ticket_assigned or,
    when someone was on the ticket, ticket_reassigned."""
    engineer, cert = candidate.engineer, candidate.certification
    load_now = open_loads(uow.session, [engineer.id], domain.DONE_STATUSES).get(engineer.id, 0)
    previous = uow.session.get(Assignment, current.assignment_id) \
        if current is not None and current.assignment_id else None
    person = _person(actor)
    seq = uow.session.scalar(select(func.max(Assignment.seq)).where(
        Assignment.ticket_id == ticket.id)) or 0
    record = Assignment(
        id=new_id(), ticket_id=ticket.id, seq=seq + 1, ticket_number=ticket.number,
        kind="reassigned" if previous is not None else "assigned",
        engineer_id=engineer.id, engineer_name=engineer.name, provider_id=provider.id,
        provider_name=provider.name, method=method,
        chosen_by_id=person and person["id"], chosen_by_role=person and person["role"],
        chosen_by_name=person and person["name"],
        rule_id=rule.id if rule is not None else None,
        rule_name=rule.name if rule is not None else None, offer_id=offer_id,
        certification_id=cert.id, certificate_no=cert.certificate_no,
        certificate_valid_until=cert.valid_until, open_load=load_now, reason=reason,
        previous_assignment_id=previous.id if previous is not None else None,
        previous_engineer_id=previous.engineer_id if previous is not None else None,
        created_at=now)
    uow.session.add(record)
    if previous is not None:
        previous.ended_at, previous.end_reason = now, "reassigned"
    _save(uow)
    if current is not None and current.offer_id and current.offer_id != offer_id:
        _withdraw_pending(uow, current, now)  # the desk decided while a provider was asked
    current = _hold(uow, ticket, current, now)
    current.assignment_id, current.engineer_id, current.provider_id = \
        record.id, engineer.id, provider.id
    current.method, current.offer_id = method, offer_id
    _save(uow)
    refresh_engineers(uow.session, [engineer.id, previous and previous.engineer_id],
                      domain.DONE_STATUSES, assigned=(engineer.id, now))
    spec = events.TICKET_REASSIGNED if previous is not None else events.TICKET_ASSIGNED
    uow.emit(spec, dict(_assignment_event(record), ticket=events.ticket_summary(ticket)),
             actor=actor or domain.SYSTEM_ACTOR,
             ticket_id=ticket.id, ticket_number=ticket.number)
    return record


def _assignment_event(a):
    data = {
        "assignment_id": a.id, "ticket_id": a.ticket_id, "ticket_number": a.ticket_number,
        "engineer_id": a.engineer_id, "engineer_name": a.engineer_name,
        "provider_id": a.provider_id, "provider_name": a.provider_name, "method": a.method,
        "chosen_by": None if a.chosen_by_role is None else {
            "id": a.chosen_by_id, "role": a.chosen_by_role, "name": a.chosen_by_name},
        "rule_id": a.rule_id, "rule_name": a.rule_name, "offer_id": a.offer_id,
        "certification": {"id": a.certification_id, "certificate_no": a.certificate_no,
                          "valid_until": a.certificate_valid_until},
        "open_load": a.open_load, "reason": a.reason}
    if a.kind == "reassigned":
        data.update(previous_assignment_id=a.previous_assignment_id,
                    previous_engineer_id=a.previous_engineer_id)
    return data


def _may_dispatch_at_all(actor):
    if actor.get("role") not in domain.DESK_ROLES and domain.own_provider(actor) is None:
        raise exc.ASSIGN_FORBIDDEN()


def _visible(actor, ticket, holding):
    """404 for a ticket the actor may not see, exactly as for one that does not exist:
    checked before any 403, whose reason (the ticket's type, who holds it) would tell."""
    if not domain.may_see(actor, ticket, holding):
        raise exc.TICKET_NOT_FOUND(ticket_id=ticket.id)


def _timer_key(offer_id):
    return f"dispatch:offer:{offer_id}"


def _offer_event_base(offer, provider):
    return {"offer_id": offer.id, "ticket_id": offer.ticket_id,
            "ticket_number": offer.ticket_number, "provider_id": offer.provider_id,
            "provider_name": provider.name if provider is not None else offer.provider_id,
            "round": offer.round}


def _withdraw_pending(uow, current, now):
    """The desk decided, or the ticket ended, while an offer was open: take it back."""
    offer = uow.session.get(Offer, current.offer_id)
    if offer is not None and offer.status == "pending":
        offer.status, offer.responded_at = "withdrawn", now
        uow.emit(events.TIMER_CANCELLED, {"key": _timer_key(offer.id)},
                 ticket_id=offer.ticket_id, ticket_number=offer.ticket_number)
    current.offer_id = None


def _accept(uow, offer, actor, now, engineer_id=None):
    offer.status, offer.responded_at = "accepted", now
    offer.responded_by_id, offer.responded_by_name = actor.get("id"), actor.get("name")
    offer.engineer_id = engineer_id
    uow.emit(events.OFFER_ACCEPTED, dict(
        _offer_event_base(offer, uow.session.get(Provider, offer.provider_id)),
        accepted_by=_person(actor), engineer_id=engineer_id),
        actor=actor, ticket_id=offer.ticket_id, ticket_number=offer.ticket_number)
    uow.emit(events.TIMER_CANCELLED, {"key": _timer_key(offer.id)},
             ticket_id=offer.ticket_id, ticket_number=offer.ticket_number)
