"""Automatic dispatch of new tickets: installation tickets to the most suitable qualified
engineer, routing rules (admin-managed) for the others, provider offers for repair and
inspection."""
from marshmallow import ValidationError
from sqlalchemy import select

from gongdan_common.errors import AppError, validation_error
from gongdan_common.outbox import consume_many, consume_once
from gongdan_common.validation import load

from . import domain, events, exceptions as exc, schemas
from .common import _current, _place, _qualified, _retry_on_conflict
from .handlers import _engineer, _provider, _require, best_candidate
from .models import CurrentAssignment, Engineer, Provider, RoutingRule, new_id
from .offers import _offer_on, _open_offer
from .projection import _facts, _project_current, _project_rows

CREATED = "dispatch.ticket_created"

_rule_out = schemas.RuleSchema()


def ticket_created(envelope, uow, settings):
    """intake's ticket_created: project it, then dispatch it automatically where a rule says
    so. Returns what happened ("assigned", "offered", "failed", None) for tests and logs."""
    def attempt():
        now = settings["now"]()
        with uow:
            if not consume_once(uow, envelope, CREATED):
                return None
            row, current = _project_current(uow, envelope["data"]["ticket"], now)
            ticket = _facts(row)
            outcome = None
            if ticket.status == "new" and current is None:
                outcome = _route_new(uow, ticket, settings, now)
            uow.commit()
            return outcome
    return _retry_on_conflict(attempt)


def tickets_created(envelopes, uow, settings):
    """A batch of ticket_created. One transaction projects every ticket (one version-guarded
    upsert for the batch: projecting a redelivered event again changes nothing), looks up once who holds
    any of them and which routing rules are active, and records as handled the events that
    need nothing more - most new tickets: no rule, no automatic offer, nobody holding them.
    A ticket automatic dispatch may place (or that someone already holds) is then handled
    alone by `ticket_created`, as before: a transaction locks the engineers of one ticket
    at most, so two never wait on each other crosswise (the deadlock a batch that placed
    tickets in event order ran into). Returns the outcomes of those handled alone."""
    now = settings["now"]()
    alone = []
    with uow:
        rows = _project_rows(uow, [e["data"]["ticket"] for e in envelopes], now)
        held = set(uow.session.scalars(select(CurrentAssignment.ticket_id).where(
            CurrentAssignment.ticket_id.in_(sorted(rows)))))
        rules = None
        quiet = []
        for envelope in envelopes:
            row = rows[envelope["data"]["ticket"]["id"]]
            if row.id not in held:
                if rules is None and row.status == "new" and row.type in domain.ROUTABLE_TYPES:
                    rules = uow.session.scalars(
                        select(RoutingRule).where(RoutingRule.active.is_(True))).all()
                if not _may_route(_facts(row), rules or (), settings):
                    quiet.append(envelope)
                    continue
            alone.append(envelope)
        consume_many(uow, quiet, CREATED)
        uow.commit()
    return [ticket_created(envelope, uow, settings) for envelope in alone]


def _may_route(ticket, rules, settings):
    """Whether `_route_new` could do anything with this new ticket (mirrors it)."""
    if ticket.status != "new":
        return False
    if ticket.type == domain.INSTALLATION:
        return True
    if ticket.type not in domain.ROUTABLE_TYPES:
        return False
    return bool(domain.matching_rules(rules, ticket)) or (
        ticket.type in domain.PROVIDER_TYPES and settings["auto_offer"])


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
