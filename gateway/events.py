"""Events the gateway publishes on exchange `gateway.events` (routing key = type).

Account events are for the account's owner (notify tells them); notify never forwards them to
webhooks."""
from marshmallow import fields

from gongdan_common.events import EventSpec
from gongdan_common.fields import UTCDateTime
from gongdan_common.validation import Schema

SOURCE = "gateway"


class AccountLockedData(Schema):
    user_id = fields.String(required=True, metadata={"description": "whose account"})
    locked_until = UTCDateTime(required=True)
    until_local = fields.String(required=True, metadata={
        "description": "locked_until in the configured TIMEZONE, zone named"})
    attempts = fields.Integer(required=True, metadata={"description": "wrong passwords in a row"})


ACCOUNT_LOCKED = EventSpec(
    SOURCE, "account_locked", 1, AccountLockedData,
    "An account was locked after too many wrong passwords; its owner is told (in case it was "
    "not them). Unknown logins lock too but publish nothing.")



class PasswordResetRequestedData(Schema):
    user_id = fields.String(required=True, metadata={"description": "whose account"})
    link = fields.String(required=True, metadata={
        "description": "the one-time link (PUBLIC_URL/#/reset/<token>); only its hash is kept"})
    minutes = fields.Integer(required=True, metadata={"description": "how long the link works"})


PASSWORD_RESET_REQUESTED = EventSpec(
    SOURCE, "password_reset_requested", 1, PasswordResetRequestedData,
    "Someone asked for a password reset link for an active account that has an email "
    "address; notify mails the link to that address only (never to the inbox or webhooks).")

ALL: list[EventSpec] = [ACCOUNT_LOCKED, PASSWORD_RESET_REQUESTED]
