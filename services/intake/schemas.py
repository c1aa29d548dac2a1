"""marshmallow schemas for intake's RPC boundary (in and out)."""
from marshmallow import EXCLUDE, RAISE, fields, validate, validates_schema, ValidationError

from gongdan_common.fields import Text, UTCDateTime
from gongdan_common.i18n import bi
from gongdan_common.validation import Schema

from . import domain
from .desk_schemas import TagField
from .leftover_schemas import LEFTOVER_ITEMS

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
    # unique per ticket: the same key again returns the first comment (channels derives it
    # from the mail's Message-ID; the gateway from an Idempotency-Key header)
    request_key = fields.String(allow_none=True, validate=validate.Length(min=1, max=80))


class TransitionSchema(Schema):
    class Meta:
        unknown = RAISE
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000))
    comment = fields.String(allow_none=True, validate=validate.Length(max=20000))


class CloseSchema(TransitionSchema):
    """The desk closes a resolved ticket, with leftover items (遗留问题) if any."""
    leftover_items = LEFTOVER_ITEMS


class SuspendSchema(Schema):
    """挂起: planned start and end, and why."""
    class Meta:
        unknown = RAISE
    planned_start = UTCDateTime(allow_none=True)
    planned_end = UTCDateTime(required=True)
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))
    comment = fields.String(allow_none=True, validate=validate.Length(max=20000))

    @validates_schema
    def end_after_start(self, data, **kwargs):
        start, end = data.get("planned_start"), data.get("planned_end")
        if start and end and end <= start:
            raise ValidationError(bi("The planned end must be after the planned start.",
                                     "计划结束时间必须晚于计划开始时间。"), "planned_end")


class ResolveSchema(Schema):
    """The closing report (关闭工单): root cause, description, times; the reports the type
    demands are attachments of the matching kind, uploaded before."""
    class Meta:
        unknown = RAISE
    root_cause = fields.String(required=True, validate=validate.Length(min=1, max=64))
    description = Text(required=True, validate=validate.Length(min=1, max=20000))
    completed_at = UTCDateTime(required=True)
    visited_at = UTCDateTime(allow_none=True)
    comment = fields.String(allow_none=True, validate=validate.Length(max=20000),
                            metadata={"description": "a public reply to the customer"})
    leftover_items = LEFTOVER_ITEMS

    @validates_schema
    def visit_before_completion(self, data, **kwargs):
        visited, completed = data.get("visited_at"), data.get("completed_at")
        if visited and completed and visited > completed:
            raise ValidationError(bi("The on-site visit cannot be after the completion time.",
                                     "上门时间不能晚于完成时间。"), "visited_at")


SCORE = validate.Range(min=1, max=5, error=bi("A score is 1 to 5 stars.", "评分为 1 到 5 星。"))


class RatingSchema(Schema):
    class Meta:
        unknown = RAISE
    product_score = fields.Integer(required=True, strict=True, validate=SCORE)
    service_score = fields.Integer(required=True, strict=True, validate=SCORE)
    comment = fields.String(allow_none=True, validate=validate.Length(max=5000))


class FollowUpDoneSchema(Schema):
    class Meta:
        unknown = RAISE
    note = Text(required=True, validate=validate.Length(min=1, max=5000))


class FollowUpQuerySchema(Schema):
    class Meta:
        unknown = RAISE
    status = fields.String(validate=validate.OneOf(["open", "overdue", "done"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class RootCauseSchema(Schema):
    class Meta:
        unknown = RAISE
    code = Text(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$"))
    name_en = Text(required=True, validate=validate.Length(min=1, max=200))
    name_zh = Text(required=True, validate=validate.Length(min=1, max=200))
    active = fields.Boolean(load_default=True)
    sort = fields.Integer(load_default=100)


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
    created_from = UTCDateTime(metadata={
        "description": "an instant, or a date: from the start of that day (desk's time zone)"})
    created_to = UTCDateTime(day_end=True, metadata={
        "description": "an instant (exclusive), or a date: up to the end of that day"})
    keyword = fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": "a substring (any length, case-insensitive) of the number, title, "
                       "description, submitter's or contact's name or company name"})
    sla_due_before = UTCDateTime(metadata={
        "description": "only tickets whose nearest SLA due time is before this instant"})
    sla_breached = fields.Boolean(metadata={"description": "true: a clock breached its target"})
    tag = fields.List(TagField(), validate=validate.Length(max=20), metadata={
        "description": "staff only: tickets with these tags (tag_mode any, the default, or all)"})
    tag_mode = fields.String(load_default="any", validate=validate.OneOf(["any", "all"]))
    sort = fields.String(load_default="-created_at", validate=validate.OneOf(
        ["created_at", "-created_at", "updated_at", "-updated_at", "priority", "-priority",
         "number", "-number", "sla_due_at", "-sla_due_at"]), metadata={
        "description": "sla_due_at: nearest breach first (tickets without a running clock "
                       "last)"})
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
    kind = fields.String(load_default="intake",
                         validate=validate.OneOf(("intake",) + domain.REPORT_KINDS))
    internal = fields.Boolean(load_default=False)


class AttachmentKindSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("intake",) + domain.REPORT_KINDS))


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
    company_id = fields.String(allow_none=True)
    company_name = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    submitter_id = fields.String()
    submitter_name = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    handler_id = fields.String(allow_none=True)
    handler_name = fields.String(allow_none=True)
    device_sn = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
    sla_due_at = UTCDateTime(allow_none=True, metadata={
        "description": "nearest due time of a running SLA clock (from sla)"})
    sla_breached = fields.Boolean()
    tags = fields.List(fields.String(), metadata={
        "description": "staff only: the ticket's tags (absent for customers)"})


class TicketSchema(TicketSummarySchema):
    product_version = fields.String(allow_none=True)
    description = fields.String()
    steps = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)
    started_at = UTCDateTime(allow_none=True)
    persistent = fields.Boolean(allow_none=True)
    environment = fields.Dict()
    impact = fields.String()
    urgency = fields.String()
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String()
    status_before = fields.String(allow_none=True)
    resolution_round = fields.Integer()
    reopen_count = fields.Integer()
    resolved_at = UTCDateTime(allow_none=True)
    closed_at = UTCDateTime(allow_none=True)


class StatusChangeSchema(Schema):
    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    reason = fields.String(allow_none=True)
    actor_id = fields.String(allow_none=True)
    actor_role = fields.String()
    actor_name = fields.String(allow_none=True)
    at = UTCDateTime()


class CommentSchema(Schema):
    id = fields.String()
    ticket_id = fields.String()
    body = fields.String()
    internal = fields.Boolean()
    author_id = fields.String(allow_none=True)
    author_role = fields.String()
    author_name = fields.String(allow_none=True)
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
    uploaded_by = fields.String(allow_none=True)
    uploaded_by_name = fields.String(allow_none=True)
    created_at = UTCDateTime()


class SuspensionSchema(Schema):
    id = fields.String()
    planned_start = UTCDateTime()
    planned_end = UTCDateTime()
    reason = fields.String()
    actor_id = fields.String(allow_none=True)
    actor_name = fields.String(allow_none=True)
    created_at = UTCDateTime()
    resumed_at = UTCDateTime(allow_none=True)
    resumed_by = fields.String(allow_none=True)


class ClosingReportSchema(Schema):
    id = fields.String()
    round = fields.Integer()
    root_cause = fields.String()
    description = fields.String()
    completed_at = UTCDateTime()
    visited_at = UTCDateTime(allow_none=True)
    report_ids = fields.List(fields.String())
    author_id = fields.String(allow_none=True)
    author_name = fields.String(allow_none=True)
    created_at = UTCDateTime()


class RatingOutSchema(Schema):
    id = fields.String()
    ticket_id = fields.String()
    round = fields.Integer()
    product_score = fields.Integer()
    service_score = fields.Integer()
    comment = fields.String(allow_none=True)
    rater_id = fields.String()
    rater_role = fields.String()
    rater_name = fields.String(allow_none=True)
    created_at = UTCDateTime()


class AssignmentSchema(Schema):
    id = fields.String()
    kind = fields.String()
    engineer_id = fields.String()
    engineer_name = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    method = fields.String(allow_none=True)
    detail = fields.Dict()
    actor = fields.Dict(allow_none=True)
    at = UTCDateTime()


class FollowUpSchema(Schema):
    id = fields.String()
    ticket_id = fields.String()
    round = fields.Integer()
    due_at = UTCDateTime()
    status = fields.String()
    note = fields.String(allow_none=True)
    done_by = fields.String(allow_none=True)
    done_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()


class RootCauseOutSchema(Schema):
    code = fields.String()
    name_en = fields.String()
    name_zh = fields.String()
    active = fields.Boolean()
    sort = fields.Integer()


class ProductOutSchema(Schema):
    code = fields.String()
    name = fields.String()
    product_line = fields.String()
    versions = fields.List(fields.String())
    active = fields.Boolean()
