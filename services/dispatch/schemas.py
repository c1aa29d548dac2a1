"""marshmallow schemas for dispatch's RPC boundary (in and out)."""
import datetime as dt

from marshmallow import (RAISE, Schema, ValidationError, fields, post_load, validate,
                         validates_schema)

from gongdan_common.fields import Text, UTCDateTime
from gongdan_common.i18n import bi

from . import domain

ID = validate.Length(min=1, max=36)
PRODUCT_LINE = validate.Regexp(r"^[A-Za-z0-9_.\-]{1,64}$", error=bi(
    "A product line is a code of 1 to 64 letters, digits, '.', '_' or '-'.",
    "产品线是 1 到 64 位的编码（字母、数字、“.”、“_”或“-”）。"))
ONE_OF_AVAILABILITIES = validate.OneOf(domain.AVAILABILITIES, error=bi(
    "Availability must be one of: on_duty, on_leave.",
    "在岗状态必须是：on_duty（在岗）、on_leave（休假）之一。"))
LABEL = validate.Length(min=1, max=64)
MANY = validate.Length(max=50)


def _unique(items):
    """Drop repeats (ignoring case), keep the first spelling and the order."""
    seen, out = set(), []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out


class Day(UTCDateTime):
    """A calendar day 'YYYY-MM-DD', or an ISO 8601 date-time (made aware, UTC) that the
    handler turns into a day in the service's time zone."""
    default_error_messages = {"invalid": bi(
        "Enter a date (YYYY-MM-DD) or a date and time (ISO 8601).",
        "请输入日期（YYYY-MM-DD）或日期时间（ISO 8601）。")}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and len(value.strip()) == 10:
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                raise self.make_error("invalid") from None
        return super()._deserialize(value, attr, data, **kwargs)


# ---- input ------------------------------------------------------------------------------

class ProviderInSchema(Schema):
    """upsert_provider: `id` names the provider; omitted fields keep their value (on create:
    name is required, the rest default to empty lists and active)."""
    class Meta:
        unknown = RAISE

    id = Text(required=True, validate=ID)
    name = Text(validate=validate.Length(min=1, max=200))
    regions = fields.List(Text(validate=LABEL), validate=MANY)
    product_lines = fields.List(Text(validate=PRODUCT_LINE), validate=MANY)
    active = fields.Boolean()

    @post_load
    def without_repeats(self, data, **kwargs):
        for name in ("regions", "product_lines"):
            if name in data:
                data[name] = _unique(data[name])
        return data


class EngineerInSchema(Schema):
    """upsert_engineer: as for providers; on create provider_id and name are required."""
    class Meta:
        unknown = RAISE

    id = Text(required=True, validate=ID)
    provider_id = Text(validate=ID)
    name = Text(validate=validate.Length(min=1, max=100))
    skills = fields.List(Text(validate=LABEL), validate=MANY)
    availability = fields.String(validate=ONE_OF_AVAILABILITIES)

    @post_load
    def without_repeats(self, data, **kwargs):
        if "skills" in data:
            data["skills"] = _unique(data["skills"])
        return data


class AvailabilitySchema(Schema):
    class Meta:
        unknown = RAISE

    availability = fields.String(required=True, validate=ONE_OF_AVAILABILITIES)


class CertificationInSchema(Schema):
    class Meta:
        unknown = RAISE

    product_line = Text(required=True, validate=PRODUCT_LINE)
    certificate_no = Text(required=True, validate=validate.Length(min=1, max=64))
    certificate_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)

    @validates_schema
    def period_in_order(self, data, **kwargs):
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            raise ValidationError(bi(
                "The certification must end on or after the day it starts (valid_until >= "
                "valid_from).",
                "认证有效期的截止日期不能早于起始日期（valid_until 须不早于 valid_from）。"),
                "valid_until")


class EngineerQuerySchema(Schema):
    """list_engineers. Each filter narrows independently: product_line = holds a
    certification for that line (any period); certified_at = holds one valid on that day;
    both = certified for that line on that day."""
    class Meta:
        unknown = RAISE

    provider_id = Text(validate=ID)
    product_line = Text(validate=PRODUCT_LINE)
    certified_at = Day()
    availability = fields.String(validate=ONE_OF_AVAILABILITIES)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class QualifiedQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    product_line = Text(required=True, validate=PRODUCT_LINE)
    at = Day()
    provider_id = Text(validate=ID)
    skills = fields.List(Text(validate=LABEL), validate=MANY, load_default=list)


# ---- output -----------------------------------------------------------------------------

class ProviderSchema(Schema):
    id = fields.String()
    name = fields.String()
    regions = fields.List(fields.String())
    product_lines = fields.List(fields.String())
    active = fields.Boolean()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class EngineerSchema(Schema):
    id = fields.String()
    provider_id = fields.String()
    name = fields.String()
    skills = fields.List(fields.String())
    availability = fields.String()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class CertificationSchema(Schema):
    id = fields.String()
    engineer_id = fields.String()
    product_line = fields.String()
    certificate_no = fields.String()
    certificate_name = fields.String()
    valid_from = fields.Date()
    valid_until = fields.Date()
    created_at = UTCDateTime()
