"""Ticket attachments: who may attach, the record of a stored file, reading it back."""
from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, events, exceptions as exc, schemas
from .common import _get_visible, _ref
from .models import Attachment


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
    data = load(schemas.AttachmentRecordSchema(), record)
    with uow:
        ticket = _get_visible(uow, actor, ticket_id, for_update=True)  # 404 before any 403
        if data["internal"] and not domain.sees_internal(actor):
            raise exc.NOTE_NOT_ALLOWED()
        if data["kind"] in domain.REPORT_KINDS and actor["role"] not in domain.STAFF_ROLES:
            raise exc.REPORT_KIND_STAFF_ONLY()
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
