"""Events intake publishes on exchange `intake.events` (routing key = type).

Payload schemas are the contract; `docs/events.md` is generated from these declarations
(`python -m scripts.gen_event_docs`) and a test keeps the two in step.
"""
from marshmallow import fields

from gongdan_common.events import EventSpec
from gongdan_common.fields import UTCDateTime
from gongdan_common.validation import Schema

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


class StepData(Schema):
    """The common shape of the lifecycle step events."""
    ticket = fields.Nested(TicketRef, required=True)
    reason = fields.String(allow_none=True)


class SuspendedData(StepData):
    suspension_id = fields.String(required=True)
    planned_start = UTCDateTime(required=True)
    planned_end = UTCDateTime(required=True)


class ResumedData(StepData):
    suspension_id = fields.String(required=True)
    automatic = fields.Boolean(required=True, metadata={
        "description": "true when the planned end passed (timer), false when resumed by hand"})


class ResolvedData(StepData):
    round = fields.Integer(required=True)
    root_cause = fields.String(required=True)
    description = fields.String(required=True)
    completed_at = UTCDateTime(required=True)
    visited_at = UTCDateTime(allow_none=True)
    report_ids = fields.List(fields.String(), required=True)
    confirm_by = UTCDateTime(required=True, metadata={
        "description": "closes by itself then unless the customer answers"})


class ClosedData(StepData):
    automatic = fields.Boolean(required=True)
    follow_up_due = UTCDateTime(allow_none=True)


class ReopenedData(StepData):
    reopen_count = fields.Integer(required=True)


class RatedData(Schema):
    ticket = fields.Nested(TicketRef, required=True)
    round = fields.Integer(required=True)
    product_score = fields.Integer(required=True)
    service_score = fields.Integer(required=True)
    lowest_score = fields.Integer(required=True, metadata={
        "description": "the lower of the two scores (the low-score alert's condition)"})
    comment = fields.String(allow_none=True)


class FollowUpData(Schema):
    ticket = fields.Nested(TicketRef, required=True)
    follow_up_id = fields.String(required=True)
    due_at = UTCDateTime(required=True)
    status = fields.String(required=True)


class TagsChangedData(Schema):
    ticket = fields.Nested(TicketRef, required=True)
    added = fields.List(fields.String(), required=True)
    removed = fields.List(fields.String(), required=True)
    tags = fields.List(fields.String(), required=True, metadata={
        "description": "the ticket's tags after the change (normalised: NFKC, lower case), "
                       "sorted; a subscriber can keep this set as it is. Tags are the staff's "
                       "labels: never show them to customers"})
class LeftoverItemRef(Schema):
    id = fields.String(required=True)
    seq = fields.Integer(required=True)
    description = fields.String(required=True)
    plan = fields.String(required=True)
    owner_id = fields.String(required=True)
    owner_name = fields.String(allow_none=True)
    due_date = fields.Date(required=True, metadata={
        "description": "a plain date in the desk's time zone"})
    status = fields.String(required=True, metadata={"enum": ["open", "done", "cancelled"]})
    percent = fields.Integer(required=True)
    reason = fields.String(allow_none=True)
    reminders = fields.Integer(required=True)


class LeftoverItemData(Schema):
    ticket = fields.Nested(TicketRef, required=True)
    item = fields.Nested(LeftoverItemRef, required=True)
    note = fields.String(allow_none=True)
    internal = fields.Boolean(required=True, metadata={
        "description": "the note is for staff only: never show it to customers"})
    changes = fields.Dict(required=True, metadata={
        "description": "field -> [old, new] (plan, due_date, owner_id, percent, status)"})


class LeftoverOverdueData(Schema):
    ticket = fields.Nested(TicketRef, required=True)
    item = fields.Nested(LeftoverItemRef, required=True)
    days_overdue = fields.Integer(required=True, metadata={
        "description": "whole days past the due date (desk's time zone)"})
    reminder = fields.Integer(required=True, metadata={
        "description": "1 for the first reminder, 2 for the next ..."})


class TimerRequestData(Schema):
    key = fields.String(required=True)
    kind = fields.String(required=True)
    owner = fields.String(required=True)
    due_at = UTCDateTime(required=True)
    ticket_id = fields.String(allow_none=True)
    payload = fields.Dict(required=True)


class TimerCancelData(Schema):
    key = fields.String(required=True)


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

TICKET_STARTED = EventSpec(SOURCE, "ticket_started", 1, StepData,
                           "The engineer started work (assigned -> in_progress).")
TICKET_SUSPENDED = EventSpec(SOURCE, "ticket_suspended", 1, SuspendedData,
                             "Work was suspended until a planned end (resumes by itself then).")
TICKET_RESUMED = EventSpec(SOURCE, "ticket_resumed", 1, ResumedData,
                           "A suspended ticket is worked on again (by hand, or its planned end "
                           "passed).")
TICKET_RESOLVED = EventSpec(SOURCE, "ticket_resolved", 1, ResolvedData,
                            "The closing report was filed; the customer is asked to confirm.")
TICKET_CONFIRMED = EventSpec(SOURCE, "ticket_confirmed", 1, StepData,
                             "The customer confirmed the problem is solved.")
TICKET_REOPENED = EventSpec(SOURCE, "ticket_reopened", 1, ReopenedData,
                            "The customer said it is not solved; work resumes.")
TICKET_CLOSED = EventSpec(SOURCE, "ticket_closed", 1, ClosedData,
                          "The ticket is closed (confirmed, by the desk, or nobody answered in "
                          "time).")
TICKET_RATED = EventSpec(SOURCE, "ticket_rated", 1, RatedData,
                         "The customer rated product and service (1-5) for a resolution.")
FOLLOW_UP_CREATED = EventSpec(SOURCE, "follow_up_created", 1, FollowUpData,
                              "An important or urgent ticket closed: a follow-up visit is due "
                              "within 3 business days.")
FOLLOW_UP_DUE = EventSpec(SOURCE, "follow_up_due", 1, FollowUpData,
                          "A follow-up visit reached its due time without being done.")
TICKET_TAGS_CHANGED = EventSpec(SOURCE, "ticket_tags_changed", 1, TagsChangedData,
                                "Staff added or removed tags of a ticket (one event per ticket "
                                "and request, also in a bulk action). The ticket's version is "
                                "not changed by tags.")
LEFTOVER_ITEM_ADDED = EventSpec(
    SOURCE, "leftover_item_added", 1, LeftoverItemData,
    "A leftover issue (遗留问题) was recorded on a resolved or closed ticket: what, plan, "
    "owner, due date.")
LEFTOVER_ITEM_UPDATED = EventSpec(
    SOURCE, "leftover_item_updated", 1, LeftoverItemData,
    "Progress on a leftover issue (a note, a percentage) or a new plan, due date or owner.")
LEFTOVER_ITEM_DONE = EventSpec(SOURCE, "leftover_item_done", 1, LeftoverItemData,
                               "A leftover issue is solved for good (status done).")
LEFTOVER_ITEM_CANCELLED = EventSpec(SOURCE, "leftover_item_cancelled", 1, LeftoverItemData,
                                    "A leftover issue was dropped, with the reason.")
LEFTOVER_ITEM_OVERDUE = EventSpec(
    SOURCE, "leftover_item_overdue", 1, LeftoverOverdueData,
    "A leftover issue passed its due date undone: once, then again every "
    "INTAKE.leftover_remind_days days while it stays open.")
TIMER_REQUESTED = EventSpec(SOURCE, "timer_requested", 1, TimerRequestData,
                            "intake asks sla for a durable timer (auto-resume, auto-confirm, "
                            "follow-up due).")
TIMER_CANCELLED = EventSpec(SOURCE, "timer_cancelled", 1, TimerCancelData,
                            "intake no longer needs a timer it asked for.")

ALL = [TICKET_CREATED, TICKET_UPDATED, TICKET_COMMENTED, TICKET_STATUS_CHANGED, ATTACHMENT_ADDED,
       TICKET_STARTED, TICKET_SUSPENDED, TICKET_RESUMED, TICKET_RESOLVED, TICKET_CONFIRMED,
       TICKET_REOPENED, TICKET_CLOSED, TICKET_RATED, FOLLOW_UP_CREATED, FOLLOW_UP_DUE,
       TICKET_TAGS_CHANGED,
       LEFTOVER_ITEM_ADDED, LEFTOVER_ITEM_UPDATED, LEFTOVER_ITEM_DONE, LEFTOVER_ITEM_CANCELLED,
       LEFTOVER_ITEM_OVERDUE, TIMER_REQUESTED, TIMER_CANCELLED]
