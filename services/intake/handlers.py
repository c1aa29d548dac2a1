"""Intake's service layer: plain functions over a unit of work. No nameko here."""
import datetime as dt
import zoneinfo

from sqlalchemy import asc, desc, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, events, exceptions as exc, schemas
from .models import Attachment, Comment, Product, StatusChange, Ticket, TicketCounter

_ticket_out = schemas.TicketSchema()
_summary_out = schemas.TicketSummarySchema()


def _ref(ticket):
    return ticket  # dumped through events.TicketRef when the envelope is built


def _view(ticket):
    return {c: getattr(ticket, c) for c in ("submitter_id", "company_id", "provider_id",
                                            "handler_id", "status", "status_before")}


def _get_visible(uow, actor, ticket_id, for_update=False):
    """The ticket if this actor may see it; otherwise 404, so ids cannot be probed."""
    ticket = uow.session.get(Ticket, ticket_id) if ticket_id else None
    if ticket is None:
        ticket = uow.session.scalar(select(Ticket).where(Ticket.number == ticket_id))
    if ticket is None or not domain.can_view(actor, _view(ticket)):
        raise exc.TICKET_NOT_FOUND()
    return ticket


def _record_status(uow, ticket, action, from_status, to_status, actor, reason=None, at=None):
    uow.session.add(StatusChange(
        ticket_id=ticket.id, action=action, from_status=from_status, to_status=to_status,
        reason=reason, actor_id=actor.get("id"), actor_role=actor["role"],
        actor_name=actor.get("name"), at=at or utcnow()))


def next_number(uow, prefix, tz, now):
    """Allocate TSyyyymmddNNN: a row lock on the day's counter serialises concurrent creates."""
    day = now.astimezone(tz).date()
    key = day.strftime("%Y%m%d")
    dialect = uow.session.bind.dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(TicketCounter)
    uow.session.execute(ins.values(day=key, last=0).on_conflict_do_nothing())
    seq = uow.session.execute(
        update(TicketCounter).where(TicketCounter.day == key)
        .values(last=TicketCounter.last + 1).returning(TicketCounter.last)).scalar_one()
    return domain.format_number(prefix, day, seq)


def create_ticket(actor, payload, uow, settings):
    data = load(schemas.TicketCreateSchema(), payload)
    role = actor["role"]
    if role in domain.CUSTOMER_ROLES:
        company_id, company_name = actor.get("company_id"), actor.get("company_name")
        region = actor.get("company_region")
    elif role in domain.DESK_ROLES:
        company_id, company_name = data.get("company_id"), data.get("company_name")
        region = data.get("region")
        if not company_id:
            raise exc.COMPANY_REQUIRED()
    else:
        raise exc.NOT_ALLOWED()
    with uow:
        key = data.get("request_key")
        if key:
            existing = uow.session.scalar(select(Ticket).where(
                Ticket.submitter_id == actor["id"], Ticket.request_key == key))
            if existing is not None:
                return _ticket_out.dump(existing)
        product = uow.session.get(Product, data["product"])
        if product is None or not product.active:
            raise exc.PRODUCT_UNKNOWN(product=data["product"])
        now = utcnow()
        ticket = Ticket(
            number=next_number(uow, settings["number_prefix"], settings["tz"], now),
            type=data["type"], title=data["title"], product=product.code,
            product_line=product.product_line, product_version=data.get("product_version"),
            category=data["category"], description=data["description"],
            steps=data.get("steps"), error_message=data.get("error_message"),
            started_at=data.get("started_at"), persistent=data.get("persistent"),
            environment=data.get("environment") or {}, impact=data["impact"],
            urgency=data["urgency"], priority=domain.priority_for(data["impact"], data["urgency"]),
            device_sn=data.get("device_sn"), contact_name=data.get("contact_name"),
            contact_phone=data["contact_phone"], status="new",
            submitter_id=actor["id"], submitter_name=actor.get("name"),
            company_id=company_id, company_name=company_name, region=region, request_key=key,
            created_at=now, updated_at=now)
        uow.session.add(ticket)
        uow.flush()
        _record_status(uow, ticket, "create", None, "new", actor, at=now)
        uow.emit(events.TICKET_CREATED, {"ticket": _ref(ticket)}, actor=actor,
                 ticket_id=ticket.id, ticket_number=ticket.number)
        try:
            uow.commit()
        except IntegrityError:
            if not key:
                raise
            uow.rollback()  # the same request raced itself: hand back the winner
            return _ticket_out.dump(uow.session.scalar(select(Ticket).where(
                Ticket.submitter_id == actor["id"], Ticket.request_key == key)))
        return _ticket_out.dump(ticket)


def ticket_state(ticket_id, uow):
    """For other services (no actor): the facts they authorise against, authoritative now."""
    with uow:
        ticket = uow.session.get(Ticket, ticket_id)
        if ticket is None:
            raise exc.TICKET_NOT_FOUND()
        return events.TicketRef().dump(ticket)


def get_ticket(actor, ticket_id, uow):
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)
        internal_ok = domain.sees_internal(actor)
        comments = uow.session.scalars(
            select(Comment).where(Comment.ticket_id == ticket.id)
            .order_by(Comment.created_at, Comment.id)).all()
        attachments = uow.session.scalars(
            select(Attachment).where(Attachment.ticket_id == ticket.id)
            .order_by(Attachment.created_at)).all()
        history = uow.session.scalars(
            select(StatusChange).where(StatusChange.ticket_id == ticket.id)
            .order_by(StatusChange.id)).all()
        out = _ticket_out.dump(ticket)
        out["comments"] = schemas.CommentSchema(many=True).dump(
            [c for c in comments if internal_ok or not c.internal])
        out["attachments"] = schemas.AttachmentSchema(many=True, exclude=("bucket", "object_key")).dump(
            [a for a in attachments if internal_ok or not a.internal])
        out["history"] = schemas.StatusChangeSchema(many=True).dump(history)
        out["allowed_actions"] = allowed_actions(actor, ticket)
        if not internal_ok:
            out.pop("status_before", None)
        return out


def allowed_actions(actor, ticket):
    view = _view(ticket)
    out = []
    for action in domain.TRANSITIONS:
        try:
            domain.plan_transition(actor, view, action, reason="x")
            out.append(action)
        except domain.TransitionRefused:
            pass
    return out


_SORT = {"created_at": Ticket.created_at, "updated_at": Ticket.updated_at,
         "number": Ticket.number, "priority": Ticket.priority}


def _like(term):
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_tickets(actor, query, uow):
    q = load(schemas.ListQuerySchema(), query)
    stmt = select(Ticket)
    scope = domain.visibility_scope(actor)
    if scope:
        stmt = stmt.where(getattr(Ticket, scope[0]) == scope[1])
    if q.get("number"):
        stmt = stmt.where(Ticket.number.like(_like(q["number"].strip().upper()), escape="\\"))
    for name in ("status", "type", "priority"):
        if q.get(name):
            stmt = stmt.where(getattr(Ticket, name).in_(q[name]))
    for name in ("product_line", "product", "company_id", "device_sn", "handler_id",
                 "submitter_id"):
        if q.get(name):
            stmt = stmt.where(getattr(Ticket, name) == q[name])
    if q.get("created_from"):
        stmt = stmt.where(Ticket.created_at >= q["created_from"])
    if q.get("created_to"):
        stmt = stmt.where(Ticket.created_at < q["created_to"])
    if q.get("keyword"):
        # LIKE on substrings works for Chinese, which has no spaces between words
        pattern = _like(q["keyword"].strip())
        stmt = stmt.where(or_(Ticket.title.ilike(pattern, escape="\\"),
                              Ticket.description.ilike(pattern, escape="\\"),
                              Ticket.number.ilike(pattern, escape="\\")))
    sort = q["sort"]
    column = _SORT[sort.lstrip("-")]
    order = desc if sort.startswith("-") else asc
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = uow.session.scalars(
            stmt.order_by(order(column), order(Ticket.id))
            .offset((q["page"] - 1) * q["page_size"]).limit(q["page_size"])).all()
        return {"items": _summary_out.dump(rows, many=True), "total": total,
                "page": q["page"], "page_size": q["page_size"]}


def update_ticket(actor, ticket_id, patch, uow):
    data = load(schemas.TicketPatchSchema(), patch)
    reason = data.pop("reason", None)
    expected = data.pop("expected_version", None)
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)
        if expected is not None and expected != ticket.version:
            raise exc.STALE_VERSION()
        allowed = domain.editable_fields(actor, _view(ticket))
        refused = sorted(set(data) - allowed)
        if refused:
            raise exc.FIELDS_NOT_EDITABLE(status=ticket.status, fields=", ".join(refused))
        if "product" in data:
            product = uow.session.get(Product, data["product"])
            if product is None or not product.active:
                raise exc.PRODUCT_UNKNOWN(product=data["product"])
            data["product_line"] = product.product_line
        if ("impact" in data or "urgency" in data) and "priority" not in data:
            data["priority"] = domain.priority_for(data.get("impact", ticket.impact),
                                                   data.get("urgency", ticket.urgency))
        changes = {}
        for name, value in data.items():
            old = getattr(ticket, name)
            if old != value:
                changes[name] = [_plain(old), _plain(value)]
                setattr(ticket, name, value)
        if not changes:
            return _ticket_out.dump(ticket)
        ticket.updated_at = utcnow()
        try:
            uow.flush()
        except StaleDataError:
            raise exc.STALE_VERSION() from None
        uow.emit(events.TICKET_UPDATED, {"ticket": _ref(ticket), "changes": changes,
                                         "reason": reason},
                 actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()
        return _ticket_out.dump(ticket)


def _plain(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def add_comment(actor, ticket_id, payload, uow):
    data = load(schemas.CommentCreateSchema(), payload)
    if data["internal"] and not domain.sees_internal(actor):
        raise exc.NOTE_NOT_ALLOWED()
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)
        if ticket.status in ("closed", "cancelled") and not data["internal"]:
            raise exc.TICKET_CLOSED(status=ticket.status)
        comment = _comment(uow, ticket, actor, data["body"], data["internal"])
        uow.commit()
        return schemas.CommentSchema().dump(comment)


def _comment(uow, ticket, actor, body, internal):
    now = utcnow()
    comment = Comment(ticket_id=ticket.id, body=body, internal=internal,
                      author_id=actor.get("id"), author_role=actor["role"],
                      author_name=actor.get("name"), created_at=now)
    uow.session.add(comment)
    ticket.updated_at = now
    uow.flush()
    uow.emit(events.TICKET_COMMENTED, {
        "comment_id": comment.id, "internal": internal, "author_id": actor.get("id"),
        "author_role": actor["role"], "body": body, "ticket": _ref(ticket)},
        actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
    return comment


def transition(actor, ticket_id, action, payload, uow):
    data = load(schemas.TransitionSchema(), payload)
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)
        try:
            from_status, to_status = domain.plan_transition(
                actor, _view(ticket), action, reason=data.get("reason"))
        except domain.TransitionRefused as refused:
            raise exc.TRANSITION_ERRORS[refused.key](**refused.params) from None
        now = utcnow()
        ticket.status_before = from_status if to_status == "needs_info" else None
        ticket.status = to_status
        ticket.updated_at = now
        _record_status(uow, ticket, action, from_status, to_status, actor,
                       reason=data.get("reason"), at=now)
        if data.get("comment"):
            _comment(uow, ticket, actor, data["comment"], internal=False)
        try:
            uow.flush()
        except StaleDataError:
            raise exc.STALE_VERSION() from None
        uow.emit(events.TICKET_STATUS_CHANGED, {
            "action": action, "from_status": from_status, "to_status": to_status,
            "reason": data.get("reason"), "ticket": _ref(ticket)},
            actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()
        return _ticket_out.dump(ticket)


# ---- attachments -------------------------------------------------------------------

def authorize_attachment(actor, ticket_id, uow):
    """Before the gateway streams a file: may this actor attach to this ticket?"""
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)
        if ticket.status in ("closed", "cancelled"):
            raise exc.TICKET_CLOSED(status=ticket.status)
        return {"ticket_id": ticket.id, "number": ticket.number}


def add_attachment(actor, ticket_id, record, uow):
    data = load(schemas.AttachmentRecordSchema(), record)
    if data["internal"] and not domain.sees_internal(actor):
        raise exc.NOTE_NOT_ALLOWED()
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)
        if ticket.status in ("closed", "cancelled"):
            raise exc.TICKET_CLOSED(status=ticket.status)
        att = Attachment(ticket_id=ticket.id, uploaded_by=actor.get("id"),
                         uploaded_by_name=actor.get("name"), created_at=utcnow(), **data)
        uow.session.add(att)
        ticket.updated_at = att.created_at
        uow.flush()
        uow.emit(events.ATTACHMENT_ADDED, {
            "attachment_id": att.id, "kind": att.kind, "filename": att.filename,
            "content_type": att.content_type, "size": att.size, "sha256": att.sha256,
            "internal": att.internal, "ticket": _ref(ticket)},
            actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()
        return schemas.AttachmentSchema().dump(att)


def get_attachment(actor, ticket_id, attachment_id, uow):
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)
        att = uow.session.get(Attachment, attachment_id)
        if att is None or att.ticket_id != ticket.id or \
                (att.internal and not domain.sees_internal(actor)):
            raise exc.ATTACHMENT_NOT_FOUND()
        return schemas.AttachmentSchema().dump(att)


# ---- products ----------------------------------------------------------------------

def list_products(uow, include_inactive=False):
    with uow:
        stmt = select(Product).order_by(Product.product_line, Product.code)
        if not include_inactive:
            stmt = stmt.where(Product.active.is_(True))
        return schemas.ProductOutSchema(many=True).dump(uow.session.scalars(stmt).all())


def upsert_product(actor, payload, uow, create_only=False):
    if actor["role"] != "admin":
        raise exc.NOT_ALLOWED()
    data = load(schemas.ProductSchema(), payload)
    with uow:
        product = uow.session.get(Product, data["code"])
        if product is not None and create_only:
            raise exc.PRODUCT_EXISTS(code=data["code"])
        if product is None:
            product = Product(code=data["code"])
            uow.session.add(product)
        for k, v in data.items():
            setattr(product, k, v)
        try:
            uow.commit()
        except IntegrityError:
            raise exc.PRODUCT_EXISTS(code=data["code"]) from None
        return schemas.ProductOutSchema().dump(product)


def settings_from_config(config):
    intake = config.get("INTAKE") or {}
    return {"number_prefix": intake.get("number_prefix", "TS"),
            "tz": zoneinfo.ZoneInfo(config.get("TIMEZONE", "Asia/Shanghai"))}
