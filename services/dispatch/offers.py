"""Offers to providers: offer, accept, decline, time out (sla's durable timer), on to the next
provider."""
from sqlalchemy import select

from gongdan_common.outbox import consume_once
from gongdan_common.validation import load

from . import domain, events, exceptions as exc, schemas
from .common import (_accept, _checked, _current, _hold, _holding, _offer_event_base, _offer_out,
                     _person, _place, _qualified, _retry_on_conflict, _save, _timer_key, _visible)
from .handlers import _engineer, _provider, providers_with_qualified
from .models import Offer, Provider, TicketProjection, last_offered, new_id
from .projection import _facts, _ticket

OFFER_TIMEOUT = "offer_timeout"


def _open_offer(uow, ticket, current, provider, settings, now, *, actor=None, rule=None,
                previous=None):
    """Offer the ticket to `provider` until now + DISPATCH.offer_timeout_minutes; ask sla
    for the timer that passes it on when nobody answers."""
    rounds = uow.session.scalars(select(Offer.id).where(Offer.ticket_id == ticket.id)).all()
    person = _person(actor)
    offer = Offer(id=new_id(), ticket_id=ticket.id, ticket_number=ticket.number,
                  provider_id=provider.id, round=len(rounds) + 1, status="pending",
                  rule_id=rule.id if rule is not None else None,
                  offered_by_id=person and person["id"],
                  offered_by_role=person and person["role"],
                  offered_by_name=person and person["name"], offered_at=now,
                  due_at=now + settings["offer_timeout"])
    uow.session.add(offer)
    uow.flush()
    current = _hold(uow, ticket, current, now)
    current.offer_id = offer.id
    _save(uow)
    uow.emit(events.TICKET_OFFERED, dict(
        _offer_event_base(offer, provider), offered_by=person, rule_id=offer.rule_id,
        previous_offer_id=previous.id if previous is not None else None, due_at=offer.due_at),
        actor=actor or domain.SYSTEM_ACTOR, ticket_id=ticket.id, ticket_number=ticket.number)
    uow.emit(events.TIMER_REQUESTED, {
        "key": _timer_key(offer.id), "kind": OFFER_TIMEOUT, "owner": "dispatch",
        "due_at": offer.due_at, "ticket_id": ticket.id,
        "payload": {"offer_id": offer.id, "ticket_id": ticket.id}},
        ticket_id=ticket.id, ticket_number=ticket.number)
    return offer


def _next_provider(uow, ticket, day):
    """The next provider to offer the ticket to: not asked yet for this ticket, covering its
    product line (and region), with an engineer qualified today; local before nationwide,
    then least recently offered (domain.rank_providers). None when nobody is left."""
    asked = set(uow.session.scalars(
        select(Offer.provider_id).where(Offer.ticket_id == ticket.id)).all())
    providers = [p for p in uow.session.scalars(select(Provider)).all()
                 if p.id not in asked and
                 domain.provider_covers(p, ticket.product_line, ticket.region)]
    if not providers:
        return None
    with_engineers = providers_with_qualified(uow, ticket.product_line, day,
                                              [p.id for p in providers])
    providers = [p for p in providers if p.id in with_engineers]
    if not providers:
        return None
    return domain.rank_providers(providers, last_offered(
        uow.session, [p.id for p in providers]), ticket.region)[0]


def _offer_on(uow, ticket, current, settings, now, day, previous, actor=None):
    """Offer to the next provider, or tell the desk (offer_exhausted) that none is left."""
    provider = _next_provider(uow, ticket, day)
    if provider is None:
        tried = uow.session.scalars(select(Offer.provider_id).where(
            Offer.ticket_id == ticket.id).order_by(Offer.round)).all()
        uow.emit(events.OFFER_EXHAUSTED, {
            "ticket_id": ticket.id, "ticket_number": ticket.number,
            "product_line": ticket.product_line, "region": ticket.region,
            "tried_provider_ids": list(tried),
            "last_offer_id": previous.id if previous is not None else None},
            actor=domain.SYSTEM_ACTOR, ticket_id=ticket.id, ticket_number=ticket.number)
        return "exhausted"
    _open_offer(uow, ticket, current, provider, settings, now, actor=actor, previous=previous)
    return "offered"


def _offer_row(uow, offer_id, actor):
    """The offer, or 404 also when the actor may not see it (ids cannot be probed)."""
    offer = uow.session.get(Offer, offer_id) if offer_id else None
    if offer is None or not domain.may_see_offer(actor, offer.provider_id):
        raise exc.OFFER_NOT_FOUND(offer_id=offer_id)
    return offer


def _ticket_of(uow, offer):
    row = uow.session.get(TicketProjection, offer.ticket_id)
    if row is None:  # offers are only made for projected tickets
        raise exc.TICKET_NOT_FOUND(ticket_id=offer.ticket_id)
    return _facts(row)


def offer(actor, ticket_id, payload, uow, settings, tickets=None):
    """The desk offers a repair or inspection ticket to a provider: the one named, or the
    next qualified one."""
    data = load(schemas.OfferInSchema(), payload)
    ticket = _ticket(uow, tickets, ticket_id, settings, fits=domain.ASSIGNABLE_STATUSES)
    now = settings["now"]()
    day = domain.local_date(now, settings["tz"])
    with uow:
        current = _current(uow, ticket.id)
        holding = _holding(uow, current)
        _visible(actor, ticket, holding)
        if actor.get("role") not in domain.DESK_ROLES:
            raise exc.OFFER_DESK_ONLY()
        if ticket.type not in domain.PROVIDER_TYPES:
            raise exc.NOT_OFFERABLE(type=ticket.type)
        _checked(uow, holding, lambda: domain.check_assign(ticket, holding))
        if holding.offer_provider_id:
            pending = uow.session.get(Offer, holding.offer_id)
            raise exc.OFFER_PENDING(
                provider=uow.session.get(Provider, pending.provider_id).name,
                due_at=schemas.utc_iso(pending.due_at),
                details={"offer_id": pending.id})
        if data.get("provider_id"):
            provider = _provider(uow, data["provider_id"])
            if provider.id not in providers_with_qualified(uow, ticket.product_line, day,
                                                           [provider.id]):
                raise exc.PROVIDER_NOT_QUALIFIED(provider=provider.name,
                                                 product_line=ticket.product_line)
        else:
            provider = _next_provider(uow, ticket, day)
            if provider is None:
                raise exc.NO_PROVIDER_LEFT(product_line=ticket.product_line)
        if current is not None and current.offer_id:  # accepted earlier: the desk takes it back
            current.offer_id, current.provider_id, current.method = None, None, None
        made = _open_offer(uow, ticket, current, provider, settings, now, actor=actor)
        uow.commit()
        return _offer_out.dump(made)


def accept_offer(actor, offer_id, payload, uow, settings):
    """The offered provider's administrator takes the ticket, naming their engineer now (the
    ticket is assigned at once) or later (with `assign`)."""
    data = load(schemas.AcceptOfferSchema(), payload)
    now = settings["now"]()
    day = domain.local_date(now, settings["tz"])
    with uow:
        made = _offer_row(uow, offer_id, actor)
        ticket = _ticket_of(uow, made)
        current = _current(uow, made.ticket_id)
        holding = _holding(uow, current)
        _checked(uow, holding,
                 lambda: domain.check_offer_response(actor, made.provider_id, made.status),
                 lambda: domain.check_assign(ticket, holding))
        if data.get("engineer_id"):
            engineer = _engineer(uow, data["engineer_id"])
            _checked(uow, holding, lambda: domain.check_engineer_scope(actor, engineer))
            candidate, provider = _qualified(uow, engineer, ticket, day)
            _accept(uow, made, actor, now, engineer.id)
            _place(uow, ticket, current, candidate, provider, domain.OFFER, actor, now,
                   offer_id=made.id)
        else:
            _accept(uow, made, actor, now)
            current = _hold(uow, ticket, current, now)
            current.provider_id, current.method, current.offer_id = \
                made.provider_id, domain.OFFER, made.id
            _save(uow)
        uow.commit()
        return _offer_out.dump(made)


def decline_offer(actor, offer_id, payload, uow, settings):
    """The offered provider says no: the ticket goes to the next qualified provider."""
    data = load(schemas.DeclineOfferSchema(), payload)
    now = settings["now"]()
    day = domain.local_date(now, settings["tz"])
    with uow:
        made = _offer_row(uow, offer_id, actor)
        current = _current(uow, made.ticket_id)
        _checked(uow, _holding(uow, current),
                 lambda: domain.check_offer_response(actor, made.provider_id, made.status))
        made.status, made.responded_at = "declined", now
        made.responded_by_id, made.responded_by_name = actor.get("id"), actor.get("name")
        made.reason = data.get("reason")
        provider = uow.session.get(Provider, made.provider_id)
        uow.emit(events.OFFER_DECLINED, dict(
            _offer_event_base(made, provider), declined_by=_person(actor),
            reason=made.reason), actor=actor, ticket_id=made.ticket_id,
            ticket_number=made.ticket_number)
        uow.emit(events.TIMER_CANCELLED, {"key": _timer_key(made.id)},
                 ticket_id=made.ticket_id, ticket_number=made.ticket_number)
        _pass_on(uow, made, current, settings, now, day)
        uow.commit()
        return _offer_out.dump(made)


def _pass_on(uow, made, current, settings, now, day):
    """After a decline or a timeout: offer to the next provider while the ticket still
    waits for someone."""
    if current is not None and current.offer_id == made.id:
        current.offer_id = None
        current.updated_at = now
        _save(uow)
    ticket = _ticket_of(uow, made)
    holding = _holding(uow, current)
    if holding.engineer_id or holding.provider_id or \
            domain.effective_status(ticket.status, holding) not in domain.ASSIGNABLE_STATUSES:
        return None
    return _offer_on(uow, ticket, current, settings, now, day, previous=made)


def timer_due(envelope, uow, settings):
    """sla's timer_due: an offer nobody answered in time passes to the next provider."""
    raw = envelope.get("data") or {}
    if raw.get("owner") != "dispatch" or raw.get("kind") != OFFER_TIMEOUT:
        return None  # every service's timers arrive here; only ours are acted on
    data = load(schemas.TimerDueIn(), raw)

    def attempt():
        now = settings["now"]()
        day = domain.local_date(now, settings["tz"])
        with uow:
            if not consume_once(uow, envelope, "dispatch.timer_due"):
                return None
            made = uow.session.get(Offer, data["payload"].get("offer_id") or "")
            if made is None or made.status != "pending":
                uow.commit()  # answered (or taken back) before the timer fired
                return None
            made.status, made.responded_at = "expired", now
            uow.emit(events.OFFER_EXPIRED, dict(
                _offer_event_base(made, uow.session.get(Provider, made.provider_id)),
                due_at=made.due_at, expired_at=now), actor=domain.SYSTEM_ACTOR,
                ticket_id=made.ticket_id, ticket_number=made.ticket_number)
            outcome = _pass_on(uow, made, _current(uow, made.ticket_id), settings, now, day)
            uow.commit()
            return outcome or "expired"
    return _retry_on_conflict(attempt)


def list_offers(actor, query, uow):
    """Offers, newest first: the desk sees all, a provider_admin their provider's."""
    q = load(schemas.OfferQuerySchema(), query)
    if actor.get("role") not in domain.READ_ALL_ROLES:
        own = domain.own_provider(actor)
        if own is None or q.get("provider_id", own) != own:
            raise exc.READ_FORBIDDEN()
        q["provider_id"] = own
    stmt = select(Offer).order_by(Offer.offered_at.desc(), Offer.round.desc()).limit(500)
    for name in ("ticket_id", "provider_id", "status"):
        if q.get(name):
            stmt = stmt.where(getattr(Offer, name) == q[name])
    with uow:
        return _offer_out.dump(uow.session.scalars(stmt).all(), many=True)
