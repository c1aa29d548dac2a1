"""Dispatch's service layer for assignment: plain functions over a unit of work, no nameko.

- the projection of intake's tickets (events; `ticket_state` RPC when a ticket is unknown),
- assign / reassign / unassign, each recording why (method, who or which rule chose, the
  certification matched, the engineer's open load),
- automatic dispatch of new tickets: installation tickets to the most suitable qualified
  engineer, routing rules for the others, provider offers for repair and inspection,
- offers: offer, accept, decline, time out (sla's durable timer), on to the next provider,
- the daily certification_expiring check.

Who holds a ticket is one `CurrentAssignment` row per ticket, written by compare-and-set
(`_save`): of two decisions racing for a ticket exactly one commits, the other is a 409.
Rules live in `domain`; the registry queries are shared with `handlers`.
"""
import datetime as dt

from marshmallow import ValidationError
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from gongdan_common.errors import AppError, validation_error
from gongdan_common.outbox import consume_once
from gongdan_common.validation import load

from . import domain, events, exceptions as exc, schemas
from .handlers import (_engineer, _provider, _require, _today, best_candidate,
                       providers_with_qualified)
from .models import (Assignment, Certification, CertificationWarning, CurrentAssignment,
                     Engineer, Offer, Provider, RoutingRule, TicketProjection, last_offered,
                     new_id, open_loads, refresh_engineers)

_assignment_out = schemas.AssignmentSchema()
_ticket_ref_in = schemas.TicketRefIn()
_offer_out = schemas.OfferSchema()
_rule_out = schemas.RuleSchema()

OFFER_TIMEOUT = "offer_timeout"


# ==== the ticket projection ================================================================

def _facts(row):
    return domain.Ticket(id=row.id, number=row.number, type=row.type, status=row.status,
                         product_line=row.product_line, product=row.product,
                         category=row.category, region=row.region, provider_id=row.provider_id,
                         submitter_id=row.submitter_id, company_id=row.company_id,
                         handler_id=row.handler_id, title=row.title, priority=row.priority)


_UPSERTS = {}


def _projection_upsert(dialect, names):
    """INSERT .. ON CONFLICT (id) DO UPDATE the given columns WHERE the stored version is
    lower, RETURNING the row, mapped to TicketProjection. Written as text, one per set of
    columns: SQLAlchemy 2.0 compiles a dialect upsert on every execution (it has no cache
    key), a text statement once. Same SQL on PostgreSQL and SQLite (>= 3.35)."""
    stmt = _UPSERTS.get(names)
    if stmt is None:
        table = TicketProjection.__table__
        cols = sorted(names)
        sql = (f"INSERT INTO tickets ({', '.join(cols)}) "
               f"VALUES ({', '.join(':' + c for c in cols)}) "
               f"ON CONFLICT (id) DO UPDATE SET "
               + ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
               + " WHERE tickets.version < excluded.version RETURNING "
               + ", ".join(c.name for c in table.c))
        raw = text(sql).bindparams(*[bindparam(c, type_=table.c[c].type) for c in cols]) \
            .columns(*table.c)
        stmt = _UPSERTS[names] = select(TicketProjection).from_statement(raw)
    return stmt


def _project(uow, ticket_payload, now):
    """Store intake's ticket facts unless a higher version is already stored (an upsert, so
    two events of one ticket projected at once cannot collide). Returns the stored row."""
    ref = load(_ticket_ref_in, ticket_payload)
    values = dict(ref, projected_at=now)
    stmt = _projection_upsert(uow.session.bind.dialect.name, frozenset(values))
    # the stored row comes back when this version was written; otherwise it is read
    row = uow.session.scalars(stmt, values,
                              execution_options={"populate_existing": True}).first()
    if row is None:
        row = uow.session.get(TicketProjection, ref["id"], populate_existing=True)
    current = _current(uow, row.id)
    if current is not None and current.engineer_id:  # the status may end (or reopen) it
        refresh_engineers(uow.session, [current.engineer_id], domain.DONE_STATUSES)
    return row


def _ticket(uow, tickets, ticket_id, settings, fits=None):
    """The ticket's facts: from the projection; from intake (`tickets`, the ticket_state RPC)
    when the projection has not seen the ticket, or when its status does not fit `fits` — to
    be sure the projection is not merely behind before refusing."""
    with uow:
        row = uow.session.get(TicketProjection, ticket_id) if ticket_id else None
        facts = _facts(row) if row is not None else None
        holding = _holding(uow, _current(uow, ticket_id)) if row is not None else None
    if facts is not None and (tickets is None or fits is None or facts.status in fits or
                              domain.effective_status(facts.status, holding) in fits):
        return facts
    if tickets is None:
        raise exc.TICKET_NOT_FOUND(ticket_id=ticket_id)
    try:
        ref = tickets(ticket_id)
    except AppError as err:
        if err.code == "ticket_not_found":
            raise exc.TICKET_NOT_FOUND(ticket_id=ticket_id) from None
        if facts is not None:  # intake unreachable: decide on what the projection knows
            return facts
        raise
    with uow:
        row = _project(uow, ref, settings["now"]())
        uow.commit()
        return _facts(row)


def ticket_created(envelope, uow, settings):
    """intake's ticket_created: project it, then dispatch it automatically where a rule says
    so. Returns what happened ("assigned", "offered", "failed", None) for tests and logs."""
    def attempt():
        now = settings["now"]()
        with uow:
            if not consume_once(uow, envelope, "dispatch.ticket_created"):
                return None
            ticket = _facts(_project(uow, envelope["data"]["ticket"], now))
            outcome = None
            if ticket.status == "new" and _current(uow, ticket.id) is None:
                outcome = _route_new(uow, ticket, settings, now)
            uow.commit()
            return outcome
    return _retry_on_conflict(attempt)


def ticket_changed(envelope, uow, settings, consumer):
    """intake's ticket_updated / ticket_status_changed: keep the projection current; a
    ticket that ended while offered to a provider takes the offer back."""
    def attempt():
        now = settings["now"]()
        with uow:
            if not consume_once(uow, envelope, consumer):
                return
            row = _project(uow, envelope["data"]["ticket"], now)
            if row.status in domain.DONE_STATUSES:
                current = _current(uow, row.id)
                if current is not None and current.offer_id:
                    _withdraw_pending(uow, current, now)
                    _save(uow)
            uow.commit()
    return _retry_on_conflict(attempt)


def _retry_on_conflict(attempt, tries=3):
    """Event consumers cannot answer 409: a decision that lost a race is retried from the
    start (its consume_once record was rolled back with it)."""
    for n in range(tries):
        try:
            return attempt()
        except AppError as err:
            if err.code != "assignment_conflict" or n == tries - 1:
                raise


# ==== who holds the ticket ===================================================================

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


# ==== placing an assignment ==================================================================

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


# ==== automatic dispatch of a new ticket ======================================================

def _route_new(uow, ticket, settings, now):
    """What happens to a new ticket by itself:
    - installation: the most suitable qualified engineer of a covering provider;
    - other types: the active routing rules that match, in order, until one can be followed
      today — a named engineer (if qualified now) is assigned; a provider (team) gets the
      ticket offered (repair, inspection: the provider picks its engineer) or its most
      suitable qualified engineer assigned (support types, round robin among equals);
      rules that matched but could not be followed -> dispatch_failed;
    - repair and inspection no rule placed: offered to the best provider when
      DISPATCH.auto_offer is on; otherwise the desk decides (assign, or offer)."""
    day = domain.local_date(now, settings["tz"])
    if ticket.type == domain.INSTALLATION:
        return _auto_install(uow, ticket, now, day)
    if ticket.type not in domain.ROUTABLE_TYPES:
        return None
    rules = domain.matching_rules(uow.session.scalars(
        select(RoutingRule).where(RoutingRule.active.is_(True))).all(), ticket)
    failures = []
    for rule in rules:
        outcome = _apply_rule(uow, rule, ticket, settings, now, day, failures)
        if outcome is not None:
            return outcome
    if failures:
        _dispatch_failed(uow, ticket, domain.ROUTING_RULE, "rules_unfulfilled",
                         "No routing rule that applies could be followed today.",
                         "适用的分派规则今天都无法执行。", {"rules": failures})
    if ticket.type in domain.PROVIDER_TYPES and settings["auto_offer"]:
        return _offer_on(uow, ticket, None, settings, now, day, previous=None)
    return "failed" if failures else None


def _apply_rule(uow, rule, ticket, settings, now, day, failures):
    """Follow one rule; None (and a note in `failures`) when it cannot be followed today."""
    if rule.engineer_id:
        engineer = uow.session.get(Engineer, rule.engineer_id)
        try:
            candidate, provider = _qualified(uow, engineer, ticket, day)
        except AppError as err:
            failures.append({"rule_id": rule.id, "reason": err.code,
                             "message": err.message("en")})
            return None
        _place(uow, ticket, None, candidate, provider, domain.ROUTING_RULE, None, now,
               rule=rule)
        return "assigned"
    provider = uow.session.get(Provider, rule.provider_id)
    best = best_candidate(uow, ticket.product_line, day, [provider.id],
                          domain.wanted_skills(ticket))
    if best is None:
        failures.append({"rule_id": rule.id, "reason": "no_qualified_engineer",
                         "message": f"{provider.name} has no engineer qualified for "
                                    f"{ticket.product_line} today."})
        return None
    if ticket.type in domain.PROVIDER_TYPES:  # the provider assigns its own engineer
        _open_offer(uow, ticket, _current(uow, ticket.id), provider, settings, now, rule=rule)
        return "offered"
    _place(uow, ticket, None, best, provider, domain.ROUTING_RULE, None, now, rule=rule)
    return "assigned"


def _auto_install(uow, ticket, now, day):
    """Installation: the most suitable qualified engineer among the providers that cover the
    product line (and the ticket's region); nobody -> dispatch_failed, the desk decides."""
    providers = [p for p in uow.session.scalars(select(Provider)).all()
                 if domain.provider_covers(p, ticket.product_line, ticket.region)]
    if not providers:
        _dispatch_failed(uow, ticket, domain.AUTO_INSTALLATION, "no_provider",
                         f"No active service provider covers {ticket.product_line}"
                         + (f" in {ticket.region}" if ticket.region else "") + ".",
                         f"没有覆盖 {ticket.product_line}"
                         + (f"（{ticket.region}）" if ticket.region else "") + " 的有效服务商。",
                         {})
        return "failed"
    by_id = {p.id: p for p in providers}
    best = best_candidate(uow, ticket.product_line, day, list(by_id),
                          domain.wanted_skills(ticket))
    if best is None:
        _dispatch_failed(uow, ticket, domain.AUTO_INSTALLATION, "no_qualified_engineer",
                         f"No engineer of the covering providers is qualified for "
                         f"{ticket.product_line} today.",
                         f"覆盖该工单的服务商今天都没有具备 {ticket.product_line} 资质的工程师。",
                         {"provider_ids": sorted(by_id)})
        return "failed"
    _place(uow, ticket, None, best, by_id[best.engineer.provider_id], domain.AUTO_INSTALLATION,
           None, now)
    return "assigned"


def _dispatch_failed(uow, ticket, method, reason, en, zh, details):
    uow.emit(events.DISPATCH_FAILED, {
        "ticket_id": ticket.id, "ticket_number": ticket.number, "ticket_type": ticket.type,
        "product_line": ticket.product_line, "region": ticket.region, "method": method,
        "reason": reason, "message": en, "message_zh": zh, "details": details},
        actor=domain.SYSTEM_ACTOR, ticket_id=ticket.id, ticket_number=ticket.number)


# ==== offers to providers =====================================================================

def _timer_key(offer_id):
    return f"dispatch:offer:{offer_id}"


def _offer_event_base(offer, provider):
    return {"offer_id": offer.id, "ticket_id": offer.ticket_id,
            "ticket_number": offer.ticket_number, "provider_id": offer.provider_id,
            "provider_name": provider.name if provider is not None else offer.provider_id,
            "round": offer.round}


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


# ==== history ===============================================================================

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


# ==== routing rules =========================================================================

def _rule(uow, rule_id):
    rule = uow.session.get(RoutingRule, rule_id) if rule_id else None
    if rule is None:
        raise exc.RULE_NOT_FOUND(rule_id=rule_id)
    return rule


def _check_rule(uow, data):
    try:
        schemas.check_rule_target(data)
    except ValidationError as err:
        raise validation_error(err) from None
    if data.get("provider_id"):
        _provider(uow, data["provider_id"])
    if data.get("engineer_id"):
        _engineer(uow, data["engineer_id"])


def list_rules(actor, uow):
    if actor.get("role") not in domain.READ_ALL_ROLES:
        raise exc.READ_FORBIDDEN()
    with uow:
        return _rule_out.dump(uow.session.scalars(select(RoutingRule).order_by(
            RoutingRule.position, RoutingRule.created_at, RoutingRule.id)).all(), many=True)


def create_rule(actor, payload, uow, settings):
    if actor.get("role") != "admin":
        raise exc.RULES_ADMIN_ONLY()
    data = load(schemas.RuleInSchema(), payload)
    _require(data, ("name",))
    now = settings["now"]()
    with uow:
        _check_rule(uow, data)
        rule = RoutingRule(**{"position": 100, "active": True, **data}, id=new_id(),
                           created_by=actor.get("id"), created_at=now, updated_at=now)
        uow.session.add(rule)
        uow.commit()
        return _rule_out.dump(rule)


def update_rule(actor, rule_id, payload, uow, settings):
    if actor.get("role") != "admin":
        raise exc.RULES_ADMIN_ONLY()
    data = load(schemas.RuleInSchema(), payload)
    with uow:
        rule = _rule(uow, rule_id)
        merged = {k: getattr(rule, k) for k in ("provider_id", "engineer_id")}
        merged.update({k: v for k, v in data.items() if k in merged})
        _check_rule(uow, merged)
        for name, value in data.items():
            setattr(rule, name, value)
        rule.updated_at = settings["now"]()
        uow.commit()
        return _rule_out.dump(rule)


def delete_rule(actor, rule_id, uow):
    if actor.get("role") != "admin":
        raise exc.RULES_ADMIN_ONLY()
    with uow:
        uow.session.delete(_rule(uow, rule_id))
        uow.commit()
    return {"id": rule_id, "deleted": True}


# ==== certification warnings ================================================================

def _claim_warning(uow, certification_id, warn_on, now):
    """Insert the (certification, warning day) row unless it exists: True for the one
    caller, across replicas, that inserted it."""
    insert = pg_insert if uow.session.bind.dialect.name == "postgresql" else sqlite_insert
    result = uow.session.execute(insert(CertificationWarning.__table__).values(
        certification_id=certification_id, warn_on=warn_on, created_at=now)
        .on_conflict_do_nothing())
    return result.rowcount == 1


def warn_expiring_certifications(uow, settings):
    """certification_expiring for every certification valid today whose last day is within
    DISPATCH.certification_warning_days and that no later certification renews; once per
    certification (the claim row), however often and on however many replicas this runs.
    Returns how many warnings went out."""
    now = settings["now"]()
    today = _today(settings)
    days = settings["warning_days"]
    horizon = today + dt.timedelta(days=days)
    with uow:
        rows = uow.session.execute(
            select(Certification, Engineer).join(Engineer, Engineer.id == Certification.engineer_id)
            .where(Certification.valid_from <= today, Certification.valid_until >= today,
                   Certification.valid_until <= horizon)
            .order_by(Certification.valid_until, Certification.id)).all()
        if not rows:
            return 0
        engineer_ids = {cert.engineer_id for cert, _ in rows}
        others = {}
        for c in uow.session.scalars(select(Certification).where(
                Certification.engineer_id.in_(engineer_ids))).all():
            others.setdefault(c.engineer_id, []).append(c)
        sent = 0
        for cert, engineer in rows:
            if not domain.due_for_warning(cert, today, days, others.get(cert.engineer_id, ())):
                continue
            if not _claim_warning(uow, cert.id, domain.warning_day(cert, days), now):
                continue
            uow.emit(events.CERTIFICATION_EXPIRING, {
                "certification_id": cert.id, "engineer_id": engineer.id,
                "engineer_name": engineer.name, "provider_id": engineer.provider_id,
                "product_line": cert.product_line, "certificate_no": cert.certificate_no,
                "valid_until": cert.valid_until,
                "days_left": (cert.valid_until - today).days}, actor=domain.SYSTEM_ACTOR)
            sent += 1
        uow.commit()
        return sent
