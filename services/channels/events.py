"""Events channels publishes on exchange `channels.events` (routing key = type).

`docs/events.md` is generated from `ALL`.
"""
from marshmallow import fields

from gongdan_common.events import EventSpec
from gongdan_common.validation import Schema

SOURCE = "channels"


class MailBouncedData(Schema):
    delivery_id = fields.String(allow_none=True, metadata={
        "description": "notify's delivery the bounce is about (from the returned "
                       "Message-ID <delivery-id@gongdan.notify>); null when not ours"})
    original_message_id = fields.String(allow_none=True)
    recipient = fields.String(allow_none=True, metadata={"description": "Final-Recipient"})
    status = fields.String(allow_none=True, metadata={"description": "DSN status, e.g. 5.1.1"})
    diagnostic = fields.String(allow_none=True, metadata={"description": "Diagnostic-Code"})
    mail_id = fields.String(required=True, metadata={"description": "channels' mail record"})


class MailHeldData(Schema):
    mail_id = fields.String(required=True)
    mailbox_id = fields.String(allow_none=True)
    sender = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    reason = fields.String(required=True)


MAIL_BOUNCED = EventSpec(SOURCE, "mail_bounced", 1, MailBouncedData,
                         "A delivery status notification (bounce) came back for a mail "
                         "Gongdan sent; notify marks the delivery failed.")
MAIL_HELD = EventSpec(SOURCE, "mail_held", 1, MailHeldData,
                      "A mail to a support mailbox could not be processed and was held aside "
                      "for an administrator (reason included).")

ALL: list[EventSpec] = [MAIL_BOUNCED, MAIL_HELD]
