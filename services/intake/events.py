"""Events intake publishes on exchange `intake.events` (routing key = type).

Payload schemas are the contract; `docs/events.md` is generated from these declarations
(`python -m scripts.gen_event_docs`) and a test keeps the two in step.
"""
from marshmallow import Schema, fields

from gongdan_common.events import EventSpec
from gongdan_common.fields import UTCDateTime

SOURCE = "intake"


class TicketRef(Schema):
    id = fields.String(required=True)
    number = fields.String(required=True)
    type = fields.String(required=True)
    title = fields.String(required=True)
    product = fields.String(required=True)
    product_line = fields.String(required=True)
    category = fields.String(required=True)
    priority = fields.String(required=True)
    status = fields.String(required=True)
    company_id = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    submitter_id = fields.String(required=True)
    provider_id = fields.String(allow_none=True)
    handler_id = fields.String(allow_none=True)
    version = fields.Integer(required=True, metadata={
        "description": "the ticket's version after this change; orders a ticket's events"})
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


class TicketCreatedData(Schema):
    ticket = fields.Nested(TicketRef, required=True)


class TicketUpdatedData(Schema):
    ticket = fields.Nested(TicketRef, required=True)
    changes = fields.Dict(required=True, metadata={
        "description": "field -> [old, new] for every changed field"})
    reason = fields.String(allow_none=True)


class TicketCommentedData(Schema):
    comment_id = fields.String(required=True)
    internal = fields.Boolean(required=True, metadata={
        "description": "internal notes must never be shown to customers"})
    author_id = fields.String(allow_none=True)
    author_role = fields.String(required=True)
    body = fields.String(required=True)
    ticket = fields.Nested(TicketRef, required=True)


class TicketStatusChangedData(Schema):
    action = fields.String(required=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String(required=True)
    reason = fields.String(allow_none=True)
    ticket = fields.Nested(TicketRef, required=True)


class AttachmentAddedData(Schema):
    attachment_id = fields.String(required=True)
    kind = fields.String(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    internal = fields.Boolean(required=True)
    ticket = fields.Nested(TicketRef, required=True)


TICKET_CREATED = EventSpec(SOURCE, "ticket_created", 1, TicketCreatedData,
                           "A ticket was submitted (by a customer, or by staff on their behalf).")
TICKET_UPDATED = EventSpec(SOURCE, "ticket_updated", 1, TicketUpdatedData,
                           "Fields of a ticket changed (title, description, priority, ...).")
TICKET_COMMENTED = EventSpec(SOURCE, "ticket_commented", 1, TicketCommentedData,
                             "A public reply or an internal note was added.")
TICKET_STATUS_CHANGED = EventSpec(SOURCE, "ticket_status_changed", 1, TicketStatusChangedData,
                                  "The ticket moved from one status to another.")
ATTACHMENT_ADDED = EventSpec(SOURCE, "attachment_added", 1, AttachmentAddedData,
                             "A file was attached to a ticket (stored in object storage).")

ALL = [TICKET_CREATED, TICKET_UPDATED, TICKET_COMMENTED, TICKET_STATUS_CHANGED, ATTACHMENT_ADDED]
