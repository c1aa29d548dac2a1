"""Events worklog publishes on exchange `worklog.events` (routing key = type).

Every one carries `ticket_id` and `ticket_number` in the envelope as well as in `data`.
Payload schemas are the contract; `docs/events.md` is generated from `ALL`.
"""
from marshmallow import fields

from gongdan_common.events import EventSpec
from gongdan_common.fields import UTCDateTime
from gongdan_common.validation import Schema

SOURCE = "worklog"


class HandlerRef(Schema):
    id = fields.String(required=True, metadata={"description": "the engineer's user id"})
    name = fields.String(allow_none=True)


class WorklogEntryData(Schema):
    entry_id = fields.String(required=True)
    ticket_id = fields.String(required=True)
    ticket_number = fields.String(required=True)
    handler = fields.Nested(HandlerRef, required=True, metadata={
        "description": "whose work the entry records"})
    started_at = UTCDateTime(required=True)
    ended_at = UTCDateTime(required=True)
    minutes = fields.Integer(required=True, metadata={
        "description": "duration rounded to whole minutes (half a minute rounds up)"})
    seconds = fields.Integer(required=True, metadata={"description": "exact duration"})
    title = fields.String(required=True)
    on_site = fields.Boolean(required=True, metadata={"description": "a field visit (上门)"})
    product_line = fields.String(allow_none=True, metadata={
        "description": "the ticket's product line when the entry was written"})
    provider_id = fields.String(allow_none=True, metadata={
        "description": "the ticket's service provider when the entry was written"})
    version = fields.Integer(required=True, metadata={
        "description": "the entry's version after this change; orders an entry's events"})


class WorklogUpdatedData(WorklogEntryData):
    changes = fields.Dict(required=True, metadata={
        "description": "field -> [old, new] for every changed field"})


WORKLOG_ADDED = EventSpec(SOURCE, "worklog_added", 1, WorklogEntryData,
                          "A work-log entry (写日志) was added to a ticket in progress.")
WORKLOG_UPDATED = EventSpec(SOURCE, "worklog_updated", 1, WorklogUpdatedData,
                            "A work-log entry was corrected (its data is the entry after).")
WORKLOG_DELETED = EventSpec(SOURCE, "worklog_deleted", 1, WorklogEntryData,
                            "A work-log entry was deleted: its data is the entry as it was "
                            "(version: after the deletion); its time no longer counts.")

ALL: list[EventSpec] = [WORKLOG_ADDED, WORKLOG_UPDATED, WORKLOG_DELETED]
