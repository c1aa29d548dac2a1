"""Owners of leftover items (遗留问题): the gateway owns accounts, so it looks up each item's
owner and passes the owner's name, role, status and provider along; intake decides whether
the actor may name them (services/intake/leftover_rules.may_name_owner), after it checked
the actor may see the ticket (so a refusal never tells an invisible ticket exists)."""
from sqlalchemy import select

from services.intake import leftover_rules as rules

from .models import Company, User

FACTS = ("owner_name", "owner_role", "owner_status", "owner_provider_id")


def _owner(user, company):
    return {"id": user.id, "name": user.name, "role": user.role, "status": user.status,
            "provider_id": company.id if company is not None and company.kind == "provider"
            else None,
            "company_name": company.name if company is not None else None}


def _load(uow, ids):
    rows = uow.session.execute(select(User, Company).outerjoin(
        Company, Company.id == User.company_id).where(User.id.in_(ids))).all()
    return {user.id: _owner(user, company) for user, company in rows}


def _apply(target, owner):
    """Overwrite whatever the client sent about the owner with the account's facts (an
    unknown account: none, which intake refuses)."""
    for name in FACTS:
        target.pop(name, None)
    if owner is not None:
        target.update(owner_name=owner["name"], owner_role=owner["role"],
                      owner_status=owner["status"], owner_provider_id=owner["provider_id"])


def fill(items, uow):
    """Each item's owner facts (items as the client sent them; malformed ones are left for
    intake's schema to name)."""
    if not isinstance(items, list) or not items:
        return items
    ids = {i.get("owner_id") for i in items if isinstance(i, dict)
           and isinstance(i.get("owner_id"), str)}
    with uow:
        owners = _load(uow, ids) if ids else {}
    for item in items:
        if isinstance(item, dict):
            _apply(item, owners.get(item.get("owner_id")) if isinstance(item.get("owner_id"), str)
                   else None)
    return items


def fill_one(body, uow):
    """The same for an update that may name a new owner (body.owner_id)."""
    if isinstance(body, dict):
        owner = None
        if isinstance(body.get("owner_id"), str):
            with uow:
                owner = _load(uow, {body["owner_id"]}).get(body["owner_id"])
        _apply(body, owner)
    return body


def nameable(actor, uow):
    """The accounts this actor may name as owners (the close form's choice), by name."""
    if actor["role"] not in rules.OWNER_ROLES:
        return []
    with uow:
        rows = uow.session.execute(
            select(User, Company).outerjoin(Company, Company.id == User.company_id)
            .where(User.status == "active", User.role.in_(sorted(rules.OWNER_ROLES)))
            .order_by(User.name).limit(1000)).all()
    out = [_owner(u, c) for u, c in rows]
    return [{k: o[k] for k in ("id", "name", "role", "company_name")}
            for o in out if rules.may_name_owner(actor, o)]
