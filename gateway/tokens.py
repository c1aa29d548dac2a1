"""Service tokens: how internal systems call the API (admin-managed), and what a token
with the `tickets:create` scope needs when it opens a ticket for a customer company.

Whether a token may file for a company is decided in gongdan_common.visibility
(`may_file_for`, applied by intake); here the gateway only keeps the tokens and fills in
the company's facts (name, region) it owns."""
from sqlalchemy import select

from gongdan_common.validation import load

from . import auth, exceptions as exc, schemas
from .handlers import require_role
from .models import Company, ServiceToken


def create_service_token(actor, payload, uow):
    require_role(actor, "admin")
    data = load(schemas.ServiceTokenCreateSchema(), payload)
    secret = auth.new_service_token()
    with uow:
        if uow.session.scalar(select(ServiceToken.id).where(ServiceToken.name == data["name"])):
            raise exc.TOKEN_NAME_EXISTS(name=data["name"])
        token = ServiceToken(name=data["name"], scopes=sorted(set(data["scopes"])),
                             companies=_customer_companies(uow, data["companies"]),
                             token_hash=auth.sha256(secret), created_by=actor["id"],
                             created_at=auth.utcnow())
        uow.session.add(token)
        uow.commit()
        out = schemas.ServiceTokenOut().dump(token)
        out["token"] = secret  # shown once; only its hash is kept
        return out


def _customer_companies(uow, ids):
    """The ids, each an existing customer company (else 400 naming the field)."""
    ids = sorted(set(ids or ()))
    if ids:
        found = set(uow.session.scalars(select(Company.id).where(
            Company.id.in_(ids), Company.kind == "customer")))
        if set(ids) - found:
            raise exc.TOKEN_COMPANIES_INVALID(ids=", ".join(sorted(set(ids) - found)))
    return ids


def update_service_token(actor, token_id, payload, uow):
    """An admin changes a token's scopes or the companies it may file tickets for."""
    require_role(actor, "admin")
    data = load(schemas.ServiceTokenPatchSchema(), payload)
    with uow:
        token = uow.session.get(ServiceToken, token_id)
        if token is None:
            raise exc.SERVICE_TOKEN_NOT_FOUND()
        if "scopes" in data:
            token.scopes = sorted(set(data["scopes"]))
        if "companies" in data:
            token.companies = _customer_companies(uow, data["companies"])
        uow.commit()
        auth.forget_actors(everything=True)  # the actor carries scopes and companies
        return schemas.ServiceTokenOut().dump(token)


def list_service_tokens(actor, uow):
    require_role(actor, "admin")
    with uow:
        return schemas.ServiceTokenOut(many=True).dump(
            uow.session.scalars(select(ServiceToken).order_by(ServiceToken.created_at)).all())


def revoke_service_token(actor, token_id, uow):
    require_role(actor, "admin")
    with uow:
        token = uow.session.get(ServiceToken, token_id)
        if token is None:
            raise exc.SERVICE_TOKEN_NOT_FOUND()
        token.revoked_at = token.revoked_at or auth.utcnow()
        uow.commit()
        auth.forget_actors(everything=True)
        return schemas.ServiceTokenOut().dump(token)


def on_behalf(actor, body, uow):
    """A service token's ticket: the named company's name and region come from the
    gateway's own records, never from the caller (a missing or unknown company is left to
    intake's check, which answers the same 403 for both: ids cannot be probed)."""
    if actor.get("role") != "system" or not isinstance(body.get("company_id"), str):
        return body
    with uow:
        company = uow.session.get(Company, body["company_id"][:36])
        if company is not None and company.kind == "customer":
            body["company_name"], body["region"] = company.name, company.region
        else:
            body.pop("company_name", None)
            body.pop("region", None)
    return body
