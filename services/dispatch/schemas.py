"""marshmallow schemas for dispatch's RPC boundary (in and out)."""
import datetime as dt

from marshmallow import (EXCLUDE, RAISE, ValidationError, fields, post_load, validate,
                         validates_schema)

from gongdan_common.fields import Text, UTCDateTime
from gongdan_common.i18n import bi
from gongdan_common.validation import Schema

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
    # the desk picks from the best few; the ranking is computed over all of them
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=500))


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
    certificate_name = fields.String(allow_none=True)
    valid_from = fields.Date()
    valid_until = fields.Date()
    created_at = UTCDateTime()


# ==== assignment ===========================================================================

REASON = validate.Length(min=1, max=500)
ONE_OF_ROUTABLE_TYPES = validate.OneOf(domain.ROUTABLE_TYPES, error=bi(
    "A rule names one of the ticket types consult, defect, customization, license, repair, "
    "inspection (installation tickets are always dispatched automatically).",
    "规则的工单类型必须是 consult、defect、customization、license、repair、inspection 之一"
    "（安装工单总是自动派单）。"))
OFFER_STATUSES = ("pending", "accepted", "declined", "expired", "withdrawn")


class AssignSchema(Schema):
    """assign: the engineer, an optional note, and — to replace someone already on a
    needs_info ticket — the id of the assignment the caller saw (compare-and-set)."""
    class Meta:
        unknown = RAISE

    engineer_id = Text(required=True, validate=ID)
    reason = fields.String(allow_none=True, validate=validate.Length(max=500))
    expected_assignment_id = fields.String(allow_none=True, validate=ID)


class ReassignSchema(Schema):
    class Meta:
        unknown = RAISE

    engineer_id = Text(required=True, validate=ID)
    reason = Text(required=True, validate=REASON, error_messages={"required": bi(
        "Say why the ticket is re-assigned.", "请填写变更指派的原因。")})
    expected_assignment_id = fields.String(allow_none=True, validate=ID)


class UnassignSchema(Schema):
    class Meta:
        unknown = RAISE

    reason = Text(required=True, validate=REASON, error_messages={"required": bi(
        "Say why the assignment is cancelled.", "请填写取消指派的原因。")})
    expected_assignment_id = fields.String(allow_none=True, validate=ID)


class OfferInSchema(Schema):
    """offer: to the named provider, or (omitted) to the next qualified one."""
    class Meta:
        unknown = RAISE

    provider_id = Text(validate=ID)


class AcceptOfferSchema(Schema):
    """accept_offer: name the engineer now (the ticket is assigned at once), or later."""
    class Meta:
        unknown = RAISE

    engineer_id = Text(validate=ID)


class DeclineOfferSchema(Schema):
    class Meta:
        unknown = RAISE

    reason = fields.String(allow_none=True, validate=validate.Length(max=500))


class OfferQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    ticket_id = Text(validate=ID)
    provider_id = Text(validate=ID)
    status = fields.String(validate=validate.OneOf(OFFER_STATUSES))


class RuleInSchema(Schema):
    """create_rule / update_rule. Each of ticket_type, category, product_line narrows the
    tickets the rule applies to (null = any); the target is a provider (team) or a named
    engineer — exactly one."""
    class Meta:
        unknown = RAISE

    name = Text(validate=validate.Length(min=1, max=100))
    position = fields.Integer(validate=validate.Range(min=0, max=1_000_000))
    ticket_type = fields.String(allow_none=True, validate=ONE_OF_ROUTABLE_TYPES)
    category = fields.String(allow_none=True, validate=LABEL)
    product_line = fields.String(allow_none=True, validate=PRODUCT_LINE)
    provider_id = fields.String(allow_none=True, validate=ID)
    engineer_id = fields.String(allow_none=True, validate=ID)
    active = fields.Boolean()


def check_rule_target(data):
    """Exactly one of provider_id and engineer_id (after an update is merged)."""
    if bool(data.get("provider_id")) == bool(data.get("engineer_id")):
        raise ValidationError({"provider_id": [bi(
            "Name either a service provider (provider_id) or an engineer (engineer_id), not "
            "both and not neither.",
            "请指定服务商（provider_id）或工程师（engineer_id）之一，不能同时指定或都不指定。")]})


class TicketRefIn(Schema):
    """The ticket facts in intake's events and `ticket_state` (intake's TicketRef)."""
    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True, validate=ID)
    number = fields.String(required=True)
    type = fields.String(required=True)
    title = fields.String(required=True)
    product = fields.String(required=True)
    product_line = fields.String(required=True)
    category = fields.String(required=True)
    priority = fields.String(required=True)
    status = fields.String(required=True)
    company_id = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    submitter_id = fields.String(required=True)
    provider_id = fields.String(allow_none=True)
    handler_id = fields.String(allow_none=True)
    version = fields.Integer(required=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


class TimerDueIn(Schema):
    """sla's timer_due data, as far as dispatch reads it."""
    class Meta:
        unknown = EXCLUDE

    key = fields.String(required=True)
    kind = fields.String(required=True)
    owner = fields.String(required=True)
    due_at = UTCDateTime(required=True)
    fired_at = UTCDateTime(required=True)
    payload = fields.Dict(load_default=dict)


# ---- output -------------------------------------------------------------------------------

def utc_iso(value):
    """A datetime as UTCDateTime dumps it: UTC, ISO 8601 with Z (naive means UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


class AssignmentSchema(Schema):
    id = fields.String()
    ticket_id = fields.String()
    seq = fields.Integer()
    ticket_number = fields.String(allow_none=True)
    kind = fields.String()
    engineer_id = fields.String()
    engineer_name = fields.String()
    provider_id = fields.String()
    provider_name = fields.String()
    method = fields.String()
    chosen_by = fields.Method("_chosen_by")
    rule_id = fields.String(allow_none=True)
    rule_name = fields.String(allow_none=True)
    offer_id = fields.String(allow_none=True)
    certification = fields.Method("_certification")
    open_load = fields.Integer()
    reason = fields.String(allow_none=True)
    previous_assignment_id = fields.String(allow_none=True)
    previous_engineer_id = fields.String(allow_none=True)
    created_at = UTCDateTime()
    ended_at = UTCDateTime(allow_none=True)
    end_reason = fields.String(allow_none=True)

    def _chosen_by(self, a):
        if a.chosen_by_role is None:
            return None
        return {"id": a.chosen_by_id, "role": a.chosen_by_role, "name": a.chosen_by_name}

    def _certification(self, a):
        return {"id": a.certification_id, "certificate_no": a.certificate_no,
                "valid_until": a.certificate_valid_until.isoformat()}


class OfferSchema(Schema):
    id = fields.String()
    ticket_id = fields.String()
    ticket_number = fields.String(allow_none=True)
    provider_id = fields.String()
    round = fields.Integer()
    status = fields.String()
    rule_id = fields.String(allow_none=True)
    offered_by = fields.Method("_offered_by")
    offered_at = UTCDateTime()
    due_at = UTCDateTime()
    responded_at = UTCDateTime(allow_none=True)
    responded_by_id = fields.String(allow_none=True)
    responded_by_name = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    engineer_id = fields.String(allow_none=True)

    def _offered_by(self, o):
        if o.offered_by_role is None:
            return None
        return {"id": o.offered_by_id, "role": o.offered_by_role, "name": o.offered_by_name}


class RuleSchema(Schema):
    id = fields.String()
    name = fields.String()
    position = fields.Integer()
    ticket_type = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    product_line = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    engineer_id = fields.String(allow_none=True)
    active = fields.Boolean()
    created_by = fields.String(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
