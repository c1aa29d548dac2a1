"""Canned replies: staff keep reply texts (zh and/or en) with {variables} filled per ticket
when inserted. Scopes and who may use or change them: relations.canned_readable/_writable."""
from sqlalchemy import and_, false, or_, select

from gongdan_common.events import utcnow
from gongdan_common.i18n import bi
from gongdan_common.validation import load, refuse

from . import domain, exceptions as exc, relation_schemas as rs, relations
from .common import _get_visible
from .models import CannedReply

_out = rs.CannedSchema()
PROVIDER_REQUIRED = bi("Name the provider whose people share this reply.",
                       "请指定共享此回复的服务商。")


def _dict(reply):
    return {"scope": reply.scope, "owner_id": reply.owner_id, "provider_id": reply.provider_id}


def _dump(actor, reply):
    return dict(_out.dump(reply), editable=relations.canned_writable(actor, _dict(reply)))


def _staff(actor):
    if actor["role"] not in domain.STAFF_ROLES:
        raise exc.CANNED_FORBIDDEN()


def _readable_clause(actor):
    """canned_readable as a query condition (the same rule, for the list)."""
    role = actor["role"]
    parts = [and_(CannedReply.scope == "personal", CannedReply.owner_id == actor.get("id"))]
    if role in domain.DESK_ROLES:
        parts.append(CannedReply.scope == "desk")
    if role == "admin":
        parts.append(CannedReply.scope == "provider")
    elif role in ("provider_admin", "engineer") and actor.get("provider_id"):
        parts.append(and_(CannedReply.scope == "provider",
                          CannedReply.provider_id == actor["provider_id"]))
    return or_(*parts) if parts else false()


def list_canned(actor, query, uow):
    _staff(actor)
    q = load(rs.CannedQuerySchema(), query or {})
    with uow:
        stmt = select(CannedReply).where(_readable_clause(actor))
        if q.get("scope"):
            stmt = stmt.where(CannedReply.scope == q["scope"])
        if q.get("q"):
            like = f"%{q['q'].strip()}%"
            stmt = stmt.where(or_(CannedReply.title.ilike(like), CannedReply.body_zh.ilike(like),
                                  CannedReply.body_en.ilike(like)))
        rows = uow.session.scalars(stmt.order_by(CannedReply.scope, CannedReply.title)
                                   .limit(500)).all()
        return {"items": [_dump(actor, r) for r in rows], "variables": list(relations.VARIABLES)}


def _get_readable(uow, actor, canned_id):
    reply = uow.session.get(CannedReply, canned_id) if canned_id else None
    if reply is None or not relations.canned_readable(actor, _dict(reply)):
        raise exc.CANNED_NOT_FOUND()
    return reply


def create_canned(actor, payload, uow):
    _staff(actor)
    data = load(rs.CannedCreateSchema(), payload)
    provider_id = None
    if data["scope"] == "provider":
        provider_id = data.get("provider_id") if actor["role"] == "admin" \
            else actor.get("provider_id")
    if data["scope"] == "provider" and not provider_id and actor["role"] == "admin":
        refuse({"provider_id": [PROVIDER_REQUIRED]})
    want = {"scope": data["scope"], "owner_id": actor.get("id"), "provider_id": provider_id}
    if not relations.canned_writable(actor, want):
        raise exc.CANNED_FORBIDDEN()
    now = utcnow()
    with uow:
        reply = CannedReply(title=data["title"], body_zh=data.get("body_zh") or None,
                            body_en=data.get("body_en") or None, scope=data["scope"],
                            owner_id=actor["id"], owner_name=actor.get("name"),
                            provider_id=provider_id, created_at=now, updated_at=now)
        uow.session.add(reply)
        uow.commit()
        return _dump(actor, reply)


def update_canned(actor, canned_id, payload, uow):
    _staff(actor)
    data = load(rs.CannedPatchSchema(), payload)
    with uow:
        reply = _get_readable(uow, actor, canned_id)
        if not relations.canned_writable(actor, _dict(reply)):
            raise exc.CANNED_FORBIDDEN()
        for name in ("title", "body_zh", "body_en"):
            if name in data:
                setattr(reply, name, data[name] or None if name != "title" else data[name])
        if not (reply.body_zh or "").strip() and not (reply.body_en or "").strip():
            load(rs.CannedCreateSchema(), {"title": reply.title})  # the "write a body" refusal
        reply.updated_at = utcnow()
        uow.commit()
        return _dump(actor, reply)


def delete_canned(actor, canned_id, uow):
    _staff(actor)
    with uow:
        reply = _get_readable(uow, actor, canned_id)
        if not relations.canned_writable(actor, _dict(reply)):
            raise exc.CANNED_FORBIDDEN()
        uow.session.delete(reply)
        uow.commit()
        return {"id": canned_id, "deleted": True}


def render_canned(actor, canned_id, ticket_id, payload, uow):
    """The reply's text for this ticket, variables filled, in the language asked for (or
    the other one when the reply has only that)."""
    _staff(actor)
    data = load(rs.CannedRenderSchema(), payload or {})
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)
        reply = _get_readable(uow, actor, canned_id)
        other = "en" if data["language"] == "zh" else "zh"
        language = data["language"] if getattr(reply, "body_" + data["language"]) else other
        body = relations.fill(getattr(reply, "body_" + language), relations.ticket_values(ticket))
        return {"id": reply.id, "title": reply.title, "language": language, "body": body}
