"""Events sla publishes on exchange `sla.events` (routing key = type).

`timer_due` is how every deadline in the system is delivered: the owner named in it acts
(e.g. intake resumes a suspended ticket). sla's own deadlines (the next warning or breach
of a ticket's clocks) use the same timers but are handled inside sla, which then publishes
sla_warning / sla_breached, and sla_clock_updated whenever a ticket's nearest due time
changes (intake keeps it for filtering and sorting lists).
"""
from marshmallow import fields

from gongdan_common.events import EventSpec
from gongdan_common.fields import UTCDateTime
from gongdan_common.validation import Schema

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



class EscalationData(Schema):
    action = fields.String(required=True, metadata={
        "description": "notify | raise_priority | handoff"})
    notify = fields.List(fields.String(), metadata={
        "description": "roles to tell, e.g. provider_admin, support_lead"})
    team = fields.String(metadata={
        "description": "handoff: the team the ticket should go to. Nobody moves it "
                       "automatically: dispatch routing rules or an agent act on it"})


class SlaNoticeData(Schema):
    ticket_id = fields.String(required=True)
    number = fields.String(allow_none=True)
    target = fields.String(required=True, metadata={
        "description": "completeness | response | resolution | update (once per update "
                       "cycle)"})
    priority = fields.String(allow_none=True)
    policy_id = fields.String(allow_none=True)
    company_id = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    handler_id = fields.String(allow_none=True)
    due_at = UTCDateTime(allow_none=True)
    target_minutes = fields.Float(required=True)
    spent_minutes = fields.Float(required=True, metadata={
        "description": "business minutes used when the notice was decided"})
    warn_share = fields.Float(required=True)
    escalation = fields.Nested(EscalationData, allow_none=True)
    cycle_started_at = UTCDateTime(allow_none=True, metadata={
        "description": "update: when the cycle began (a public staff reply, the start of "
                       "work or a reopen); null for other targets"})


class SlaWarningData(SlaNoticeData):
    warned_at = UTCDateTime(required=True, metadata={
        "description": "the instant the warning share was reached"})


class SlaBreachedData(SlaNoticeData):
    breached_at = UTCDateTime(required=True)


class ClockStateData(Schema):
    target = fields.String(required=True)
    state = fields.String(required=True, metadata={
        "description": "running | paused | met | stopped | pending (update, before the "
                       "first response)"})
    due_at = UTCDateTime(allow_none=True)
    breached = fields.Boolean(required=True)


class SlaClockUpdatedData(Schema):
    ticket_id = fields.String(required=True)
    next_due_at = UTCDateTime(allow_none=True, metadata={
        "description": "the nearest due time of a running, unmet clock; null when none runs"})
    breached = fields.Boolean(required=True, metadata={
        "description": "some clock of the ticket breached its target"})
    evaluated_at = UTCDateTime(required=True, metadata={
        "description": "orders a ticket's clock events: apply only a newer one"})
    clocks = fields.List(fields.Nested(ClockStateData), required=True)


SLA_WARNING = EventSpec(SOURCE, "sla_warning", 1, SlaWarningData,
                        "A clock used its policy's warning share of the target (e.g. 80%).")
SLA_BREACHED = EventSpec(SOURCE, "sla_breached", 1, SlaBreachedData,
                         "A clock used its whole target; carries the escalation the policy "
                         "names (intake raises the priority for raise_priority).")
SLA_CLOCK_UPDATED = EventSpec(SOURCE, "sla_clock_updated", 1, SlaClockUpdatedData,
                              "A ticket's clocks changed: its nearest due time or breach.")

ALL: list[EventSpec] = [TIMER_DUE, SLA_WARNING, SLA_BREACHED, SLA_CLOCK_UPDATED]
