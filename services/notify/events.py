"""Events notify publishes on exchange `notify.events` (routing key = type)."""
from marshmallow import fields

from gongdan_common.events import EventSpec
from gongdan_common.fields import UTCDateTime
from gongdan_common.validation import Schema

SOURCE = "notify"


class NotificationCreatedData(Schema):
    notification_id = fields.String(required=True)
    user_id = fields.String(required=True, metadata={"description": "whose inbox"})
    kind = fields.String(required=True)
    event_type = fields.String(required=True, metadata={"description": "source.type it is about"})
    title = fields.String(required=True)
    ticket_id = fields.String(allow_none=True)
    ticket_number = fields.String(allow_none=True)
    created_at = UTCDateTime(required=True)


class DeliveryData(Schema):
    delivery_id = fields.String(required=True)
    channel = fields.String(required=True, metadata={"description": "email | sms | webhook | "
                                                                    "robot"})
    recipient = fields.String(required=True, metadata={"description": "user id, webhook id or "
                                                                      "robot id"})
    event_id = fields.String(required=True, metadata={"description": "the event it delivered"})
    event_type = fields.String(required=True)
    attempts = fields.Integer(required=True)
    error = fields.String(allow_none=True)


class WebhookDisabledData(Schema):
    webhook_id = fields.String(required=True)
    owner_id = fields.String(required=True)
    url = fields.String(required=True)
    failures = fields.Integer(required=True, metadata={"description": "failed attempts in a row"})


NOTIFICATION_CREATED = EventSpec(
    SOURCE, "notification_created", 1, NotificationCreatedData,
    "A message was put in a person's in-app inbox (gateways push it to open web clients).")
NOTIFICATION_SENT = EventSpec(
    SOURCE, "notification_sent", 1, DeliveryData,
    "An email, SMS, webhook or IM robot delivery succeeded.")
DELIVERY_FAILED = EventSpec(
    SOURCE, "delivery_failed", 1, DeliveryData,
    "A delivery gave up after its last attempt (or could never succeed); see the delivery log.")
WEBHOOK_DISABLED = EventSpec(
    SOURCE, "webhook_disabled", 1, WebhookDisabledData,
    "A webhook was disabled after a run of failed deliveries; its owner is told.")

ALL: list[EventSpec] = [NOTIFICATION_CREATED, NOTIFICATION_SENT, DELIVERY_FAILED,
                        WEBHOOK_DISABLED]
