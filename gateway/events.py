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

ALL: list[EventSpec] = [ACCOUNT_LOCKED]
