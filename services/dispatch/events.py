"""Events dispatch publishes on exchange `dispatch.events` (routing key = type).

Payload schemas are the contract. Still to come with assignment: ticket_assigned,
ticket_reassigned.
"""
from marshmallow import Schema, fields

from gongdan_common.events import EventSpec

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


ENGINEER_CERTIFIED = EventSpec(
    SOURCE, "engineer_certified", 1, EngineerCertifiedData,
    "A certification (product line + validity period) was recorded for an engineer.")

ALL: list[EventSpec] = [ENGINEER_CERTIFIED]
