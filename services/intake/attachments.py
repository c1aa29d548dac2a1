"""Ticket attachments: who may attach, the record of a stored file, reading it back."""
import types

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value

from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, events, exceptions as exc, schemas
from .common import _get_visible, _ref
from .models import Attachment, Ticket, new_id


def authorize_attachment(actor, ticket_id, uow, kind="intake"):
    """Before the gateway streams a file: may this actor attach this kind to this ticket?"""
    load(schemas.AttachmentKindSchema(), {"kind": kind})
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)  # 404 before any 403: no probing
        if kind in domain.REPORT_KINDS and actor["role"] not in domain.STAFF_ROLES:
            raise exc.REPORT_KIND_STAFF_ONLY()
        if ticket.status in ("closed", "cancelled"):
            raise exc.TICKET_CLOSED(status=ticket.status)
        return {"ticket_id": ticket.id, "number": ticket.number}


def add_attachment(actor, ticket_id, record, uow):
    data = load(_record_in, record)
    with uow:
        ticket = _get_visible(uow, actor, ticket_id, for_update=True)  # 404 before any 403
        if data["internal"] and not domain.sees_internal(actor):
            raise exc.NOTE_NOT_ALLOWED()
        if data["kind"] in domain.REPORT_KINDS and actor["role"] not in domain.STAFF_ROLES:
            raise exc.REPORT_KIND_STAFF_ONLY()
        if ticket.status in ("closed", "cancelled"):
            raise exc.TICKET_CLOSED(status=ticket.status)
        now = utcnow()
        att = types.SimpleNamespace(id=new_id(), ticket_id=ticket.id,
                                    uploaded_by=actor.get("id"),
                                    uploaded_by_name=actor.get("name"), created_at=now, **data)
        # Core, not the ORM's flush (17 % of intake's samples per 1 MB upload): the row is
        # locked above (SQLite: one writer), so the version is bumped in place, not checked
        conn = uow.session.connection()
        conn.execute(_INSERT_ATTACHMENT, vars(att))
        version = conn.execute(_TOUCH_TICKET, {"ticket": ticket.id, "at": now}).scalar_one()
        set_committed_value(ticket, "version", version)  # the event carries them
        set_committed_value(ticket, "updated_at", now)
        uow.emit(events.ATTACHMENT_ADDED, {
            "attachment_id": att.id, "kind": att.kind, "filename": att.filename,
            "content_type": att.content_type, "size": att.size, "sha256": att.sha256,
            "internal": att.internal, "ticket": _ref(ticket)},
            actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()
        return _attachment_out.dump(att)


_INSERT_ATTACHMENT = insert(Attachment.__table__)
_TOUCH_TICKET = update(Ticket.__table__).where(Ticket.__table__.c.id == bindparam("ticket")) \
    .values(version=Ticket.__table__.c.version + 1, updated_at=bindparam("at")) \
    .returning(Ticket.__table__.c.version)
_record_in = schemas.AttachmentRecordSchema()
_attachment_out = schemas.AttachmentSchema()


def get_attachment(actor, ticket_id, attachment_id, uow):
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)
        att = uow.session.get(Attachment, attachment_id)
        if att is None or att.ticket_id != ticket.id or \
                (att.internal and not domain.sees_internal(actor)):
            raise exc.ATTACHMENT_NOT_FOUND()
        return schemas.AttachmentSchema().dump(att)
