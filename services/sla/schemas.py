"""marshmallow schemas at sla's boundary."""
from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from gongdan_common.fields import UTCDateTime

NAME = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$")


class TimerRequestSchema(Schema):
    """A timer asked for by RPC or by a `timer_requested` event of another service."""
    class Meta:
        unknown = RAISE

    key = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=NAME)
    owner = fields.String(required=True, validate=NAME)
    due_at = UTCDateTime(required=True)
    ticket_id = fields.String(allow_none=True, validate=validate.Length(max=36))
    payload = fields.Dict(load_default=dict)


class TimerCancelSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    key = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TimerSchema(Schema):
    id = fields.String()
    key = fields.String()
    kind = fields.String()
    owner = fields.String()
    ticket_id = fields.String()
    due_at = UTCDateTime()
    status = fields.String()
    payload = fields.Dict()
    created_at = UTCDateTime()
    fired_at = UTCDateTime()
    cancelled_at = UTCDateTime()
