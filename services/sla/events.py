"""Events sla publishes on exchange `sla.events` (routing key = type).

`timer_due` is how every deadline in the system is delivered: the owner named in it acts
(e.g. intake resumes a suspended ticket). sla_warning and sla_breached arrive with the SLA
issue.
"""
from marshmallow import Schema, fields

from gongdan_common.events import EventSpec
from gongdan_common.fields import UTCDateTime

SOURCE = "sla"


class TimerDueData(Schema):
    timer_id = fields.String(required=True)
    key = fields.String(required=True, metadata={"description": "the requester's key"})
    kind = fields.String(required=True, metadata={
        "description": "e.g. auto_resume, auto_confirm, offer_timeout, follow_up"})
    owner = fields.String(required=True, metadata={
        "description": "the service that acts on it; others ignore the event"})
    due_at = UTCDateTime(required=True)
    fired_at = UTCDateTime(required=True)
    payload = fields.Dict(required=True)


TIMER_DUE = EventSpec(SOURCE, "timer_due", 1, TimerDueData,
                      "A durable timer reached its due time (fired once across all instances).")

ALL: list[EventSpec] = [TIMER_DUE]
