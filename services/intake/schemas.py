"""marshmallow schemas for intake's RPC boundary (in and out)."""
from marshmallow import EXCLUDE, RAISE, Schema, fields, validate, validates_schema, ValidationError

from gongdan_common.fields import Text, UTCDateTime
from gongdan_common.i18n import bi

from . import domain

PHONE = validate.Regexp(r"^\+?[0-9][0-9 \-]{4,19}$", error=bi(
    "Enter a phone number of 5 to 20 digits (spaces, dashes and a leading + allowed).",
    "请输入 5 到 20 位的电话号码（可含空格、短横线和开头的 +）。"))
ONE_OF_TYPES = validate.OneOf(domain.TYPES, error=bi(
    "Type must be one of: " + ", ".join(domain.TYPES) + ".",
    "工单类型必须是以下之一：" + "、".join(domain.TYPES) + "。"))
ONE_OF_CATEGORIES = validate.OneOf(domain.CATEGORIES, error=bi(
    "Category must be one of: " + ", ".join(domain.CATEGORIES) + ".",
    "问题分类必须是以下之一：" + "、".join(domain.CATEGORIES) + "。"))
ONE_OF_IMPACTS = validate.OneOf(domain.IMPACTS, error=bi(
    "Impact must be one of: individual (only me), department, company.",
    "影响范围必须是：individual（仅本人）、department（本部门）、company（全公司）之一。"))
ONE_OF_URGENCIES = validate.OneOf(domain.URGENCIES, error=bi(
    "Urgency must be one of: low, medium, high, critical.",
    "紧急程度必须是：low、medium、high、critical 之一。"))
TITLE_LEN = validate.Length(min=1, max=200)
DESC_LEN = validate.Length(min=1, max=20000)


class EnvironmentSchema(Schema):
    class Meta:
        unknown = RAISE
    os = fields.String(validate=validate.Length(max=100))
    browser = fields.String(validate=validate.Length(max=100))
    app_version = fields.String(validate=validate.Length(max=100))
    database = fields.String(validate=validate.Length(max=100))
    other = fields.String(validate=validate.Length(max=1000))


class _TicketFields(Schema):
    class Meta:
        unknown = RAISE

    title = Text(validate=TITLE_LEN)
    type = fields.String(validate=ONE_OF_TYPES)
    product = Text(validate=validate.Length(min=1, max=64))
    product_version = fields.String(allow_none=True, validate=validate.Length(max=64))
    category = fields.String(validate=ONE_OF_CATEGORIES)
    description = Text(validate=DESC_LEN)
    steps = fields.String(allow_none=True, validate=validate.Length(max=20000))
    error_message = fields.String(allow_none=True, validate=validate.Length(max=20000))
    started_at = UTCDateTime(allow_none=True)
    persistent = fields.Boolean(allow_none=True)
    environment = fields.Nested(EnvironmentSchema)
    impact = fields.String(validate=ONE_OF_IMPACTS)
    urgency = fields.String(validate=ONE_OF_URGENCIES)
    device_sn = fields.String(allow_none=True, validate=validate.Length(max=64))
    contact_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    contact_phone = Text(validate=PHONE)


class TicketCreateSchema(_TicketFields):
    title = Text(required=True, validate=TITLE_LEN)
    type = fields.String(required=True, validate=ONE_OF_TYPES)
    product = Text(required=True, validate=validate.Length(min=1, max=64))
    category = fields.String(required=True, validate=ONE_OF_CATEGORIES)
    description = Text(required=True, validate=DESC_LEN)
    impact = fields.String(load_default="individual", validate=ONE_OF_IMPACTS)
    urgency = fields.String(load_default="medium", validate=ONE_OF_URGENCIES)
    contact_phone = Text(required=True, validate=PHONE)
    # staff filing on a customer's behalf name the company
    company_id = fields.String(allow_none=True, validate=validate.Length(max=36))
    company_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    region = fields.String(allow_none=True, validate=validate.Length(max=64))
    request_key = fields.String(allow_none=True, validate=validate.Length(max=80))


class TicketPatchSchema(_TicketFields):
    priority = fields.String(validate=validate.OneOf(domain.PRIORITIES))
    reason = fields.String(validate=validate.Length(max=2000))
    expected_version = fields.Integer()

    @validates_schema
    def not_empty(self, data, **kwargs):
        if not set(data) - {"reason", "expected_version"}:
            raise ValidationError(bi("Nothing to change.", "没有需要修改的内容。"), "_schema")


class CommentCreateSchema(Schema):
    class Meta:
        unknown = RAISE
    body = Text(required=True, validate=validate.Length(min=1, max=20000))
    internal = fields.Boolean(load_default=False)


class TransitionSchema(Schema):
    class Meta:
        unknown = RAISE
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000))
    comment = fields.String(allow_none=True, validate=validate.Length(max=20000))


class ListQuerySchema(Schema):
    class Meta:
        unknown = RAISE
    number = fields.String(validate=validate.Length(max=32))
    status = fields.List(fields.String(validate=validate.OneOf(domain.STATUSES)))
    type = fields.List(fields.String(validate=ONE_OF_TYPES))
    priority = fields.List(fields.String(validate=validate.OneOf(domain.PRIORITIES)))
    product_line = fields.String(validate=validate.Length(max=64))
    product = fields.String(validate=validate.Length(max=64))
    company_id = fields.String(validate=validate.Length(max=36))
    device_sn = fields.String(validate=validate.Length(max=64))
    handler_id = fields.String(validate=validate.Length(max=36))
    submitter_id = fields.String(validate=validate.Length(max=36))
    created_from = UTCDateTime()
    created_to = UTCDateTime()
    keyword = fields.String(validate=validate.Length(min=1, max=200))
    sort = fields.String(load_default="-created_at", validate=validate.OneOf(
        ["created_at", "-created_at", "updated_at", "-updated_at", "priority", "-priority",
         "number", "-number"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class AttachmentRecordSchema(Schema):
    """What the gateway reports after streaming a file to object storage."""
    class Meta:
        unknown = RAISE
    filename = Text(required=True, validate=validate.Length(min=1, max=255))
    content_type = fields.String(required=True, validate=validate.Length(max=100))
    size = fields.Integer(required=True, validate=validate.Range(min=0))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    bucket = fields.String(required=True, validate=validate.Length(max=63))
    object_key = fields.String(required=True, validate=validate.Length(max=400))
    kind = fields.String(load_default="intake", validate=validate.Length(max=32))
    internal = fields.Boolean(load_default=False)


class ProductSchema(Schema):
    class Meta:
        unknown = RAISE
    code = Text(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.\-]{1,64}$"))
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    product_line = Text(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.\-]{1,64}$"))
    versions = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list)
    active = fields.Boolean(load_default=True)


# ---- output -----------------------------------------------------------------------------

class TicketSummarySchema(Schema):
    id = fields.String()
    number = fields.String()
    type = fields.String()
    type_family = fields.Function(lambda t: domain.type_family(t.type))
    title = fields.String()
    product = fields.String()
    product_line = fields.String()
    category = fields.String()
    priority = fields.String()
    status = fields.String()
    company_id = fields.String()
    company_name = fields.String()
    region = fields.String()
    submitter_id = fields.String()
    submitter_name = fields.String()
    provider_id = fields.String()
    handler_id = fields.String()
    handler_name = fields.String()
    device_sn = fields.String()
    version = fields.Integer()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class TicketSchema(TicketSummarySchema):
    product_version = fields.String()
    description = fields.String()
    steps = fields.String()
    error_message = fields.String()
    started_at = UTCDateTime()
    persistent = fields.Boolean()
    environment = fields.Dict()
    impact = fields.String()
    urgency = fields.String()
    contact_name = fields.String()
    contact_phone = fields.String()
    status_before = fields.String()


class StatusChangeSchema(Schema):
    action = fields.String()
    from_status = fields.String()
    to_status = fields.String()
    reason = fields.String()
    actor_id = fields.String()
    actor_role = fields.String()
    actor_name = fields.String()
    at = UTCDateTime()


class CommentSchema(Schema):
    id = fields.String()
    ticket_id = fields.String()
    body = fields.String()
    internal = fields.Boolean()
    author_id = fields.String()
    author_role = fields.String()
    author_name = fields.String()
    created_at = UTCDateTime()


class AttachmentSchema(Schema):
    id = fields.String()
    ticket_id = fields.String()
    kind = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    bucket = fields.String()
    object_key = fields.String()
    internal = fields.Boolean()
    uploaded_by = fields.String()
    uploaded_by_name = fields.String()
    created_at = UTCDateTime()


class ProductOutSchema(Schema):
    code = fields.String()
    name = fields.String()
    product_line = fields.String()
    versions = fields.List(fields.String())
    active = fields.Boolean()
