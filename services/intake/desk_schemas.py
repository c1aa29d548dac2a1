"""marshmallow schemas of the desk's list tools: tags, list columns, saved views, bulk
actions (issue 14). The ticket list's own query is schemas.ListQuerySchema."""
import re
import unicodedata

from marshmallow import RAISE, ValidationError, fields, validate

from gongdan_common.fields import UTCDateTime
from gongdan_common.i18n import bi
from gongdan_common.validation import Schema

from . import domain

TAG_MAX = 32          # characters of one tag
TAGS_PER_TICKET = 20  # a ticket's cap: more is a sign of tags used as notes
# letters (any script, so 紧急 as well as vip), digits, and - _ . · and single spaces inside
_TAG = re.compile(r"^\w(?:[\w\-.·]| (?! ))*$")
TAG_RULE = bi(f"A tag is 1 to {TAG_MAX} letters, digits or CJK characters (and - _ . · or "
              "single spaces inside); no commas.",
              f"标签为 1 到 {TAG_MAX} 个字母、数字或汉字（中间可含 - _ . · 或单个空格），"
              "不能含逗号。")


def normalise_tag(raw):
    """One spelling per tag: NFKC (full-width ＶＩＰ is VIP), trimmed, inner runs of spaces
    made one, Latin letters lower-cased (vip = VIP); refused when not a tag."""
    if not isinstance(raw, str):
        raise ValidationError(TAG_RULE)
    tag = " ".join(unicodedata.normalize("NFKC", raw).split()).casefold()
    if not tag or len(tag) > TAG_MAX or not _TAG.match(tag):
        raise ValidationError(TAG_RULE)
    return tag


class TagField(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        return normalise_tag(super()._deserialize(value, attr, data, **kwargs))


TAG_LIST = validate.Length(min=1, max=TAGS_PER_TICKET, error=bi(
    f"Give 1 to {TAGS_PER_TICKET} tags.", f"请提供 1 到 {TAGS_PER_TICKET} 个标签。"))


class TagsChangeSchema(Schema):
    class Meta:
        unknown = RAISE
    tags = fields.List(TagField(), required=True, validate=TAG_LIST)


class TicketTagsSchema(Schema):
    ticket_id = fields.String()
    number = fields.String()
    tags = fields.List(fields.String())


# ---- list columns -------------------------------------------------------------------------

# every column the list can show, in the default order; `tags` is staff only
COLUMNS = ("number", "title", "status", "priority", "type", "product", "product_line",
           "company", "submitter", "handler", "device_sn", "tags", "created", "updated",
           "sla_due")
STAFF_ONLY_COLUMNS = frozenset({"tags"})
DEFAULT_COLUMNS = {
    "desk": ("number", "title", "status", "priority", "type", "product", "company", "handler",
             "tags", "updated"),
    "provider": ("number", "title", "status", "priority", "type", "product", "company",
                 "device_sn", "handler", "sla_due", "updated"),
    "customer_admin": ("number", "title", "status", "priority", "type", "product",
                       "submitter", "handler", "updated"),
    "customer": ("number", "title", "status", "priority", "type", "product", "handler",
                 "updated"),
}


def columns_for(actor):
    """The columns this actor may choose from."""
    staff = actor.get("role") in domain.STAFF_ROLES
    return [c for c in COLUMNS if staff or c not in STAFF_ONLY_COLUMNS]


def default_columns(actor):
    role = actor.get("role")
    kind = "desk" if role in domain.DESK_ROLES else \
        "provider" if role in ("provider_admin", "engineer") else \
        "customer_admin" if role == "customer_admin" else "customer"
    return list(DEFAULT_COLUMNS[kind])


_UNKNOWN_COLUMN = {staff: bi("Unknown column. Choose from: " + ", ".join(cols) + ".",
                             "未知的列。可选：" + "、".join(cols) + "。")
                   for staff, cols in ((True, COLUMNS),
                                       (False, [c for c in COLUMNS
                                                if c not in STAFF_ONLY_COLUMNS]))}
_TWICE = bi("A column is listed twice.", "有列重复出现。")
_TITLE = bi("The title column cannot be hidden: it opens the ticket.",
            "标题列不能隐藏：点击标题打开工单。")


def check_columns(actor, columns):
    """Refuse unknown, repeated or (for customers) staff-only columns; title must stay (it
    opens the ticket)."""
    allowed = columns_for(actor)
    if any(c not in allowed for c in columns):
        message = _UNKNOWN_COLUMN[actor.get("role") in domain.STAFF_ROLES]
    elif len(set(columns)) != len(columns):
        message = _TWICE
    elif "title" not in columns:
        message = _TITLE
    else:
        return
    raise ValidationError({"columns": [message]})


COLUMN_LIST = validate.Length(min=1, max=len(COLUMNS))


class ListSettingsSchema(Schema):
    class Meta:
        unknown = RAISE
    columns = fields.List(fields.String(validate=validate.Length(max=32)), required=True,
                          validate=COLUMN_LIST, metadata={
                              "description": "the columns shown, in order (see `available`)"})


class ListSettingsOutSchema(Schema):
    columns = fields.List(fields.String())
    default = fields.Boolean(metadata={"description": "true: nothing saved, the role's default"})
    defaults = fields.List(fields.String())
    available = fields.List(fields.String())
    updated_at = UTCDateTime(allow_none=True)


# ---- saved views --------------------------------------------------------------------------

VIEW_FILTERS = ("number", "status", "type", "priority", "product_line", "product",
                "company_id", "device_sn", "handler_id", "submitter_id", "created_from",
                "created_to", "keyword", "sla_breached", "tag", "tag_mode")
SORTS = ["created_at", "-created_at", "updated_at", "-updated_at", "priority", "-priority",
         "number", "-number", "sla_due_at", "-sla_due_at"]


class SavedViewSchema(Schema):
    class Meta:
        unknown = RAISE
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    shared = fields.Boolean(load_default=False, metadata={
        "description": "visible to the whole desk (agents and administrators); only they may "
                       "share"})
    filters = fields.Dict(keys=fields.String(validate=validate.OneOf(VIEW_FILTERS)),
                          load_default=dict, metadata={
                              "description": "the list's filters, as GET /tickets takes them"})
    columns = fields.List(fields.String(validate=validate.Length(max=32)), allow_none=True,
                          validate=COLUMN_LIST)
    sort = fields.String(allow_none=True, validate=validate.OneOf(SORTS))


class SavedViewPatchSchema(SavedViewSchema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    shared = fields.Boolean()
    filters = fields.Dict(keys=fields.String(validate=validate.OneOf(VIEW_FILTERS)))


class SavedViewOutSchema(Schema):
    id = fields.String()
    name = fields.String()
    shared = fields.Boolean()
    mine = fields.Boolean()
    owner_id = fields.String()
    owner_name = fields.String(allow_none=True)
    filters = fields.Dict()
    columns = fields.List(fields.String(), allow_none=True)
    sort = fields.String(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


# ---- bulk actions -------------------------------------------------------------------------

BULK_ACTIONS = ("assign", "priority", "tag", "untag", "close")
BULK_MAX = 200


class _AssignParams(Schema):
    class Meta:
        unknown = RAISE
    engineer_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    reason = fields.String(validate=validate.Length(max=2000))


class _PriorityParams(Schema):
    class Meta:
        unknown = RAISE
    priority = fields.String(required=True, validate=validate.OneOf(domain.PRIORITIES))
    reason = fields.String(validate=validate.Length(max=2000))


class _CloseParams(Schema):
    class Meta:
        unknown = RAISE
    reason = fields.String(validate=validate.Length(max=2000))


BULK_PARAMS = {"assign": _AssignParams, "priority": _PriorityParams, "tag": TagsChangeSchema,
               "untag": TagsChangeSchema, "close": _CloseParams}


class BulkSchema(Schema):
    class Meta:
        unknown = RAISE
    action = fields.String(required=True, validate=validate.OneOf(BULK_ACTIONS, error=bi(
        "The action must be one of: " + ", ".join(BULK_ACTIONS) + ".",
        "操作必须是以下之一：" + "、".join(BULK_ACTIONS) + "。")))
    ticket_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=36)), required=True,
        validate=validate.Length(min=1, max=BULK_MAX, error=bi(
            f"Choose 1 to {BULK_MAX} tickets.", f"请选择 1 到 {BULK_MAX} 个工单。")),
        metadata={"description": "ids or numbers"})
    params = fields.Dict(load_default=dict, metadata={
        "description": "assign: {engineer_id, reason?}; priority: {priority, reason?}; "
                       "tag/untag: {tags}; close: {reason?}"})
    request_key = fields.String(allow_none=True, validate=validate.Length(min=1, max=80))

