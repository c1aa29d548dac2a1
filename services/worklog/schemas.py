"""marshmallow schemas for worklog's RPC boundary (in and out) and for the ticket facts
intake's `ticket_state` returns."""
from marshmallow import EXCLUDE, RAISE, ValidationError, fields, validate, validates_schema

from gongdan_common.fields import Text, UTCDateTime
from gongdan_common.i18n import bi
from gongdan_common.validation import Schema

from . import domain

TITLE_LEN = validate.Length(min=1, max=200, error=bi(
    "A title of 1 to 200 characters is required.", "日志标题须为 1 到 200 个字符。"))
DESC_LEN = validate.Length(min=1, max=20000, error=bi(
    "A description of 1 to 20000 characters is required.", "工作描述须为 1 到 20000 个字符。"))
ID_LEN = validate.Length(min=1, max=36)


class HandlerSchema(Schema):
    """The engineer whose work an entry records."""
    class Meta:
        unknown = RAISE
    id = Text(required=True, validate=ID_LEN)
    name = fields.String(allow_none=True, validate=validate.Length(max=100))


class _EntryFields(Schema):
    class Meta:
        unknown = RAISE

    started_at = UTCDateTime()
    ended_at = UTCDateTime()
    title = Text(validate=TITLE_LEN)
    description = Text(validate=DESC_LEN)
    on_site = fields.Boolean()
    handler = fields.Nested(HandlerSchema, allow_none=True)


class EntryCreateSchema(_EntryFields):
    started_at = UTCDateTime(required=True)
    ended_at = UTCDateTime(required=True)
    title = Text(required=True, validate=TITLE_LEN)
    description = Text(required=True, validate=DESC_LEN)
    on_site = fields.Boolean(load_default=False)
    request_key = fields.String(allow_none=True, validate=validate.Length(max=80))


class EntryPatchSchema(_EntryFields):
    expected_version = fields.Integer(validate=validate.Range(min=1))

    @validates_schema
    def not_empty(self, data, **kwargs):
        if not set(data) - {"expected_version"}:
            raise ValidationError(bi("Nothing to change.", "没有需要修改的内容。"), "_schema")


class ReportQuerySchema(Schema):
    class Meta:
        unknown = RAISE
    from_ = UTCDateTime(required=True, data_key="from")
    to = UTCDateTime(required=True, day_end=True)
    engineer_id = fields.String(validate=ID_LEN)
    provider_id = fields.String(validate=ID_LEN)
    product_line = fields.String(validate=validate.Length(min=1, max=64))


class TicketStateSchema(Schema):
    """What worklog reads from intake's `ticket_state` (its TicketRef); the rest is ignored."""
    class Meta:
        unknown = EXCLUDE
    id = fields.String(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True)
    product_line = fields.String(allow_none=True)
    submitter_id = fields.String(allow_none=True)
    company_id = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    handler_id = fields.String(allow_none=True)
    created_at = UTCDateTime(allow_none=True)


# ---- output -----------------------------------------------------------------------------

class EntrySchema(Schema):
    id = fields.String()
    ticket_id = fields.String()
    ticket_number = fields.String()
    started_at = UTCDateTime()
    ended_at = UTCDateTime()
    seconds = fields.Integer(attribute="duration_seconds")
    minutes = fields.Function(lambda e: domain.minutes(e.duration_seconds))
    title = fields.String()
    description = fields.String()
    on_site = fields.Boolean()
    handler = fields.Function(lambda e: {"id": e.handler_id, "name": e.handler_name})
    author = fields.Function(lambda e: {"id": e.author_id, "role": e.author_role,
                                        "name": e.author_name})
    product_line = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    version = fields.Integer()
    edited = fields.Function(lambda e: e.version > 1)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class ChangeSchema(Schema):
    action = fields.String()
    actor = fields.Function(lambda c: {"id": c.actor_id, "role": c.actor_role,
                                       "name": c.actor_name})
    at = UTCDateTime()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)


class SpentSchema(Schema):
    seconds = fields.Integer()
    minutes = fields.Integer()
    entries = fields.Integer()
    on_site_entries = fields.Integer()
    first_started_at = UTCDateTime(allow_none=True)
    last_ended_at = UTCDateTime(allow_none=True)


class EngineerSpentSchema(SpentSchema):
    engineer_id = fields.String()
    engineer_name = fields.String(allow_none=True)
    tickets = fields.Integer()
    product_lines = fields.List(fields.Dict())


class TicketTimeSchema(SpentSchema):
    ticket_id = fields.String()
    ticket_number = fields.String()
    engineers = fields.List(fields.Nested(EngineerSpentSchema(
        only=("engineer_id", "engineer_name", "seconds", "minutes", "entries",
              "on_site_entries", "first_started_at", "last_ended_at"))))


class ReportTotalsSchema(SpentSchema):
    tickets = fields.Integer()


class EngineerTimeSchema(Schema):
    from_ = UTCDateTime(data_key="from")
    to = UTCDateTime()
    filters = fields.Dict()
    totals = fields.Nested(ReportTotalsSchema)
    engineers = fields.List(fields.Nested(EngineerSpentSchema))
