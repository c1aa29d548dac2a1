"""marshmallow schemas of merges, links and canned replies (intake's RPC boundary)."""
from marshmallow import RAISE, ValidationError, fields, validate, validates_schema

from gongdan_common.fields import Text, UTCDateTime
from gongdan_common.i18n import bi
from gongdan_common.validation import Schema

from . import relations

_TICKET_REF = validate.Length(min=1, max=64)


class MergeSchema(Schema):
    class Meta:
        unknown = RAISE
    into = fields.String(required=True, validate=_TICKET_REF, metadata={
        "description": "the ticket to merge into: its id or number (e.g. TS20261122001)"})
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000))


class LinkCreateSchema(Schema):
    class Meta:
        unknown = RAISE
    other = fields.String(required=True, validate=_TICKET_REF, metadata={
        "description": "the other ticket: its id or number"})
    kind = fields.String(load_default="related", validate=validate.OneOf(
        relations.LINK_KINDS, error=bi("Kind must be one of: related, parent, child.",
                                       "关联类型必须是：related（相关）、parent（父工单）、"
                                       "child（子工单）之一。")),
        metadata={"description": "what the other ticket is to this one"})


class LinkedTicketSchema(Schema):
    id = fields.String()
    number = fields.String()
    title = fields.String()
    status = fields.String()


class LinkSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={
        "description": "what the other ticket is to this one: related, parent, child, "
                       "merged_into (this one was merged into it), merged_from"})
    ticket = fields.Nested(LinkedTicketSchema)
    actor_name = fields.String(allow_none=True)
    created_at = UTCDateTime()


class LinkList(Schema):
    items = fields.List(fields.Nested(LinkSchema))


def _check_variables(data, name):
    unknown = relations.unknown_variables(data.get(name))
    if unknown:
        known = ", ".join("{" + v + "}" for v in relations.VARIABLES)
        raise ValidationError({name: [bi(
            "Unknown variable(s): {names}. Known: {known}.".format(
                names=", ".join("{" + u + "}" for u in unknown), known=known),
            "未知的变量：{names}。可用变量：{known}。".format(
                names="、".join("{" + u + "}" for u in unknown), known=known))]})


class CannedBaseSchema(Schema):
    class Meta:
        unknown = RAISE
    title = Text(validate=validate.Length(min=1, max=200))
    body_zh = Text(allow_none=True, validate=validate.Length(max=20000))
    body_en = Text(allow_none=True, validate=validate.Length(max=20000))

    @validates_schema
    def _variables(self, data, **kwargs):
        for name in ("body_zh", "body_en"):
            _check_variables(data, name)


class CannedCreateSchema(CannedBaseSchema):
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    scope = fields.String(load_default="personal", validate=validate.OneOf(
        relations.CANNED_SCOPES, error=bi(
            "Scope must be one of: personal, desk (shared with the support desk), provider "
            "(shared with a provider's people).",
            "范围必须是：personal（个人）、desk（支持团队共享）、provider（服务商共享）之一。")))
    provider_id = fields.String(allow_none=True, validate=validate.Length(max=36), metadata={
        "description": "scope provider: whose (an administrator names it; a provider admin's "
                       "own is used)"})

    @validates_schema
    def _some_body(self, data, **kwargs):
        if not (data.get("body_zh") or "").strip() and not (data.get("body_en") or "").strip():
            raise ValidationError({"body_zh": [bi("Write the reply in Chinese, English or both.",
                                                  "请填写中文或英文回复内容（或两者）。")]})


class CannedPatchSchema(CannedBaseSchema):
    pass


class CannedQuerySchema(Schema):
    class Meta:
        unknown = RAISE
    q = fields.String(validate=validate.Length(max=100), metadata={
        "description": "words in the title or body"})
    scope = fields.String(validate=validate.OneOf(relations.CANNED_SCOPES))


class CannedSchema(Schema):
    id = fields.String()
    title = fields.String()
    body_zh = fields.String(allow_none=True)
    body_en = fields.String(allow_none=True)
    scope = fields.String()
    owner_id = fields.String()
    owner_name = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    editable = fields.Boolean(metadata={"description": "the caller may change or delete it"})
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class CannedList(Schema):
    items = fields.List(fields.Nested(CannedSchema))
    variables = fields.List(fields.String(), metadata={"description": "the {variables} known"})


class CannedRenderSchema(Schema):
    class Meta:
        unknown = RAISE
    language = fields.String(load_default="zh", validate=validate.OneOf(("zh", "en")))


class CannedRendered(Schema):
    id = fields.String()
    title = fields.String()
    language = fields.String(metadata={"description": "the language of the body given: the "
                                                      "one asked for, else the other"})
    body = fields.String()
