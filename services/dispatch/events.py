"""Events dispatch publishes on exchange `dispatch.events` (routing key = type).

Payload schemas are the contract (`docs/events.md` is generated from them). Every ticket
event also carries `ticket_id` and `ticket_number` in the envelope; `actor` is the person
who acted, or `{"role": "system", "name": "dispatch"}` for automatic decisions.
"""
from marshmallow import fields

from gongdan_common.events import EventSpec
from gongdan_common.fields import UTCDateTime
from gongdan_common.validation import Schema

SOURCE = "dispatch"


class EngineerCertifiedData(Schema):
    certification_id = fields.String(required=True)
    engineer_id = fields.String(required=True)
    engineer_name = fields.String(required=True)
    provider_id = fields.String(required=True)
    product_line = fields.String(required=True)
    certificate_no = fields.String(required=True)
    certificate_name = fields.String(allow_none=True)
    valid_from = fields.Date(required=True, metadata={"description": "first valid day"})
    valid_until = fields.Date(required=True, metadata={"description": "last valid day"})


class PersonRef(Schema):
    id = fields.String(allow_none=True)
    role = fields.String(required=True)
    name = fields.String(allow_none=True)


class CertificationRef(Schema):
    id = fields.String(required=True)
    certificate_no = fields.String(required=True)
    valid_until = fields.Date(required=True, metadata={"description": "last valid day"})


class TicketSummary(Schema):
    """What the assigned engineer is told about the ticket (dispatch's read copy of intake's
    ticket): notify's message names its title and product from it."""
    number = fields.String(required=True)
    title = fields.String(required=True)
    type = fields.String(required=True)
    product = fields.String(required=True)
    product_line = fields.String(required=True)
    category = fields.String(required=True)
    priority = fields.String(required=True)


def ticket_summary(ticket):
    return {name: getattr(ticket, name) for name in TicketSummary._declared_fields}


class TicketAssignedData(Schema):
    assignment_id = fields.String(required=True)
    ticket_id = fields.String(required=True)
    ticket_number = fields.String(required=True)
    engineer_id = fields.String(required=True)
    engineer_name = fields.String(required=True)
    provider_id = fields.String(required=True)
    provider_name = fields.String(required=True)
    method = fields.String(required=True, metadata={
        "description": "manual | routing_rule | auto_installation | offer"})
    chosen_by = fields.Nested(PersonRef, allow_none=True, required=True, metadata={
        "description": "the person who chose (manual, offer); null when a rule or the "
                       "automatic installation dispatch chose"})
    rule_id = fields.String(allow_none=True, required=True, metadata={
        "description": "the routing rule that chose (method routing_rule)"})
    rule_name = fields.String(allow_none=True, required=True)
    offer_id = fields.String(allow_none=True, required=True, metadata={
        "description": "the accepted provider offer (method offer)"})
    certification = fields.Nested(CertificationRef, required=True, metadata={
        "description": "the certification that made the engineer qualified at that moment"})
    open_load = fields.Integer(required=True, metadata={
        "description": "the engineer's active assignments before this one"})
    reason = fields.String(allow_none=True, required=True)
    ticket = fields.Nested(TicketSummary, required=True)


class TicketReassignedData(TicketAssignedData):
    previous_assignment_id = fields.String(required=True)
    previous_engineer_id = fields.String(required=True)


class TicketUnassignedData(Schema):
    assignment_id = fields.String(required=True, metadata={
        "description": "the assignment that was cancelled"})
    ticket_id = fields.String(required=True)
    ticket_number = fields.String(required=True)
    engineer_id = fields.String(required=True)
    provider_id = fields.String(required=True)
    reason = fields.String(required=True)
    cancelled_by = fields.Nested(PersonRef, required=True)
    provider_keeps_ticket = fields.Boolean(required=True, metadata={
        "description": "true when the provider's own administrator took the engineer off: the "
                       "ticket stays with the provider to assign again"})


class DispatchFailedData(Schema):
    ticket_id = fields.String(required=True)
    ticket_number = fields.String(required=True)
    ticket_type = fields.String(required=True)
    product_line = fields.String(required=True)
    region = fields.String(allow_none=True, required=True)
    method = fields.String(required=True, metadata={
        "description": "auto_installation | routing_rule"})
    reason = fields.String(required=True, metadata={
        "description": "no_provider | no_qualified_engineer | rules_unfulfilled"})
    message = fields.String(required=True, metadata={"description": "English explanation"})
    message_zh = fields.String(required=True)
    details = fields.Dict(required=True)


class OfferData(Schema):
    offer_id = fields.String(required=True)
    ticket_id = fields.String(required=True)
    ticket_number = fields.String(required=True)
    provider_id = fields.String(required=True)
    provider_name = fields.String(required=True)
    round = fields.Integer(required=True, metadata={
        "description": "1 for the first provider asked, 2 for the next ..."})


class TicketOfferedData(OfferData):
    offered_by = fields.Nested(PersonRef, allow_none=True, required=True, metadata={
        "description": "null when offered automatically (on creation, or after a decline or "
                       "timeout)"})
    rule_id = fields.String(allow_none=True, required=True)
    previous_offer_id = fields.String(allow_none=True, required=True)
    due_at = UTCDateTime(required=True, metadata={
        "description": "the provider answers before this, or the offer passes on"})


class OfferAcceptedData(OfferData):
    accepted_by = fields.Nested(PersonRef, required=True)
    engineer_id = fields.String(allow_none=True, required=True, metadata={
        "description": "the engineer named on acceptance (ticket_assigned follows), or null: "
                       "the provider assigns later"})


class OfferDeclinedData(OfferData):
    declined_by = fields.Nested(PersonRef, required=True)
    reason = fields.String(allow_none=True, required=True)


class OfferExpiredData(OfferData):
    due_at = UTCDateTime(required=True)
    expired_at = UTCDateTime(required=True)


class OfferExhaustedData(Schema):
    ticket_id = fields.String(required=True)
    ticket_number = fields.String(required=True)
    product_line = fields.String(required=True)
    region = fields.String(allow_none=True, required=True)
    tried_provider_ids = fields.List(fields.String(), required=True, metadata={
        "description": "the providers offered the ticket, in order"})
    last_offer_id = fields.String(allow_none=True, required=True)


class CertificationExpiringData(Schema):
    certification_id = fields.String(required=True)
    engineer_id = fields.String(required=True)
    engineer_name = fields.String(required=True)
    provider_id = fields.String(required=True)
    product_line = fields.String(required=True)
    certificate_no = fields.String(required=True)
    valid_until = fields.Date(required=True, metadata={"description": "last valid day"})
    days_left = fields.Integer(required=True, metadata={
        "description": "days from today to valid_until (0 = last valid day is today)"})


class TimerRequestData(Schema):
    key = fields.String(required=True)
    kind = fields.String(required=True)
    owner = fields.String(required=True)
    due_at = UTCDateTime(required=True)
    ticket_id = fields.String(allow_none=True)
    payload = fields.Dict(required=True)


class TimerCancelData(Schema):
    key = fields.String(required=True)


ENGINEER_CERTIFIED = EventSpec(
    SOURCE, "engineer_certified", 1, EngineerCertifiedData,
    "A certification (product line + validity period) was recorded for an engineer.")
TICKET_ASSIGNED = EventSpec(
    SOURCE, "ticket_assigned", 1, TicketAssignedData,
    "A qualified engineer was put on a ticket nobody worked on; says how and why.")
TICKET_REASSIGNED = EventSpec(
    SOURCE, "ticket_reassigned", 1, TicketReassignedData,
    "A ticket's engineer was replaced by another qualified engineer; says how and why.")
TICKET_UNASSIGNED = EventSpec(
    SOURCE, "ticket_unassigned", 1, TicketUnassignedData,
    "A ticket's assignment was cancelled before work started; nobody works on it now.")
DISPATCH_FAILED = EventSpec(
    SOURCE, "dispatch_failed", 1, DispatchFailedData,
    "Automatic dispatch of a new ticket found nobody; the ticket waits for the support desk.")
TICKET_OFFERED = EventSpec(
    SOURCE, "ticket_offered", 1, TicketOfferedData,
    "A repair or inspection ticket was offered to a service provider.")
OFFER_ACCEPTED = EventSpec(
    SOURCE, "offer_accepted", 1, OfferAcceptedData,
    "The provider accepted the ticket (the ticket is now with that provider).")
OFFER_DECLINED = EventSpec(
    SOURCE, "offer_declined", 1, OfferDeclinedData,
    "The provider declined; the ticket is offered to the next qualified provider.")
OFFER_EXPIRED = EventSpec(
    SOURCE, "offer_expired", 1, OfferExpiredData,
    "The provider did not answer in time; the ticket is offered to the next qualified provider.")
OFFER_EXHAUSTED = EventSpec(
    SOURCE, "offer_exhausted", 1, OfferExhaustedData,
    "No qualified provider is left to offer the ticket to: the support desk must act.")
CERTIFICATION_EXPIRING = EventSpec(
    SOURCE, "certification_expiring", 1, CertificationExpiringData,
    "An engineer's certification ends within DISPATCH.certification_warning_days days and no "
    "renewal is recorded (sent once per certification).")
TIMER_REQUESTED = EventSpec(
    SOURCE, "timer_requested", 1, TimerRequestData,
    "dispatch asks sla for a durable timer (offer_timeout).")
TIMER_CANCELLED = EventSpec(
    SOURCE, "timer_cancelled", 1, TimerCancelData,
    "dispatch no longer needs a timer it asked for.")

ALL: list[EventSpec] = [ENGINEER_CERTIFIED, TICKET_ASSIGNED, TICKET_REASSIGNED,
                        TICKET_UNASSIGNED, DISPATCH_FAILED, TICKET_OFFERED, OFFER_ACCEPTED,
                        OFFER_DECLINED, OFFER_EXPIRED, OFFER_EXHAUSTED, CERTIFICATION_EXPIRING,
                        TIMER_REQUESTED, TIMER_CANCELLED]
