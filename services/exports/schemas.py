"""marshmallow schemas at exports' boundary: a new export, and a job as callers see it."""
from marshmallow import RAISE, fields, validate, validates_schema, ValidationError

from gongdan_common.fields import UTCDateTime
from gongdan_common.validation import Schema

from . import domain


class ExportInSchema(Schema):
    class Meta:
        unknown = RAISE
    kind = fields.String(required=True, validate=validate.OneOf(domain.KINDS))
    format = fields.String(load_default="csv", validate=validate.OneOf(domain.FORMATS))
    # checked by the owner's own schema (the list's or the report's), not here
    filters = fields.Dict(load_default=dict)
    columns = fields.List(fields.String(validate=validate.Length(max=40)),
                          validate=validate.Length(min=1, max=40))
    lang = fields.String(load_default="zh", validate=validate.OneOf(("zh", "en")))

    @validates_schema
    def known_columns(self, data, **kwargs):
        if data.get("columns"):
            unknown = domain.unknown_columns(data["kind"], data["columns"])
            if unknown:
                raise ValidationError(
                    f"Unknown column(s) for this export: {', '.join(unknown)}; known: "
                    f"{', '.join(domain.column_names(data['kind']))}.", "columns")


class ErrorOutSchema(Schema):
    code = fields.String()
    zh = fields.String()
    en = fields.String()


class JobSchema(Schema):
    id = fields.String()
    kind = fields.String()
    format = fields.String()
    lang = fields.String()
    filters = fields.Dict()
    columns = fields.List(fields.String())
    status = fields.String(metadata={"description": "queued, running, done, failed, expired"})
    rows_done = fields.Integer()
    rows_total = fields.Integer(allow_none=True, metadata={
        "description": "the owner's count, or its estimate on a large list"})
    size = fields.Integer(allow_none=True)
    file_name = fields.String()
    error = fields.Nested(ErrorOutSchema, allow_none=True)
    created_at = UTCDateTime()
    started_at = UTCDateTime(allow_none=True)
    finished_at = UTCDateTime(allow_none=True)
    expires_at = UTCDateTime(allow_none=True)


class JobListSchema(Schema):
    items = fields.List(fields.Nested(JobSchema))


class DownloadSchema(Schema):
    url = fields.String(metadata={"description": "a short-lived link to the file"})
    file_name = fields.String()
    size = fields.Integer()
