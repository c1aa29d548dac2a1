"""Owners of leftover items (遗留问题): the gateway owns accounts, so it checks that an item's
owner is an account the actor may name (services/intake/leftover_rules.may_name_owner) and
fills in the owner's name and role before intake records the item."""
from sqlalchemy import select

from gongdan_common.i18n import bi
from gongdan_common.validation import refuse
from services.intake import leftover_rules as rules

from .models import Company, User

NOT_NAMEABLE = bi("The owner must be an active engineer, provider admin, agent or admin you may "
                  "name.", "责任人必须是您可以指定的在职工程师、服务商管理员、支持人员或管理员。")


def _owner(user, company):
    return {"id": user.id, "name": user.name, "role": user.role, "status": user.status,
            "provider_id": company.id if company is not None and company.kind == "provider"
            else None,
            "company_name": company.name if company is not None else None}


def _load(uow, ids):
    rows = uow.session.execute(select(User, Company).outerjoin(
        Company, Company.id == User.company_id).where(User.id.in_(ids))).all()
    return {user.id: _owner(user, company) for user, company in rows}


def fill(actor, items, uow, field="leftover_items"):
    """Check every item's owner_id and set owner_name / owner_role; a refusal names every bad
    item (`field`.N.owner_id) and nothing is sent on."""
    if not isinstance(items, list) or not items:
        return items
    ids = {i.get("owner_id") for i in items if isinstance(i, dict)
           and isinstance(i.get("owner_id"), str)}
    with uow:
        owners = _load(uow, ids) if ids else {}
    errors = {}
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("owner_id"), str):
            continue  # intake's schema names the missing or malformed owner
        owner = owners.get(item["owner_id"])
        if not rules.may_name_owner(actor, owner):
            errors[n] = {"owner_id": [NOT_NAMEABLE]}
            continue
        item["owner_name"], item["owner_role"] = owner["name"], owner["role"]
    if errors:
        refuse({field: errors})
    return items


def fill_one(actor, body, uow):
    """The same for an update that names a new owner (body.owner_id)."""
    if isinstance(body, dict) and isinstance(body.get("owner_id"), str):
        with uow:
            owner = _load(uow, {body["owner_id"]}).get(body["owner_id"])
        if not rules.may_name_owner(actor, owner):
            refuse({"owner_id": [NOT_NAMEABLE]})
        body["owner_name"], body["owner_role"] = owner["name"], owner["role"]
    elif isinstance(body, dict):
        body.pop("owner_name", None)
        body.pop("owner_role", None)
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
