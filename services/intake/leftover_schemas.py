"""marshmallow schemas of leftover items (遗留问题) at intake's RPC boundary, in and out."""
from marshmallow import RAISE, fields, validate

from gongdan_common.fields import MAX_YEAR, MIN_YEAR, Text, UTCDateTime
from gongdan_common.i18n import bi
from gongdan_common.validation import Schema

from . import leftover_rules as rules

TEXT_LEN = validate.Length(min=1, max=5000)
PERCENT = validate.Range(min=0, max=100, error=bi("Progress is a percentage from 0 to 100.",
                                                  "进度为 0 到 100 的百分比。"))


class DueDate(fields.Date):
    """A plain date (YYYY-MM-DD), the whole of that day in the desk's time zone."""

    def _deserialize(self, value, attr, data, **kwargs):
        out = super()._deserialize(value, attr, data, **kwargs)
        if not MIN_YEAR <= out.year < MAX_YEAR:
            raise self.make_error("invalid")
        return out


class _OwnerFacts(Schema):
    """The owner's account as the gateway found it (accounts are the gateway's): whatever a
    client sends here is overwritten; intake decides with them whether the actor may name
    that account (leftover_rules.may_name_owner)."""
    owner_name = fields.String(allow_none=True, validate=validate.Length(max=100), metadata={
        "description": "set by the gateway from the account (what a client sends is ignored)"})
    owner_role = fields.String(allow_none=True, validate=validate.Length(max=32))
    owner_status = fields.String(allow_none=True, validate=validate.Length(max=16))
    owner_provider_id = fields.String(allow_none=True, validate=validate.Length(max=36))


class _Owner(_OwnerFacts):
    owner_id = fields.String(required=True, validate=validate.Length(min=1, max=36), metadata={
        "description": "an active engineer, provider admin, agent or admin the actor may name "
                       "(GET /leftovers/owners)"})


class LeftoverItemIn(_Owner):
    class Meta:
        unknown = RAISE
    description = Text(required=True, validate=TEXT_LEN, metadata={
        "description": "what is left unsolved (Chinese or English)"})
    plan = Text(required=True, validate=TEXT_LEN, metadata={"description": "the resolution plan"})
    due_date = DueDate(required=True, metadata={
        "description": "a plain date in the desk's time zone; overdue from the next day"})


LEFTOVER_ITEMS = fields.List(
    fields.Nested(LeftoverItemIn),
    validate=validate.Length(max=rules.MAX_ITEMS, error=bi(
        f"At most {rules.MAX_ITEMS} leftover items.", f"遗留问题最多 {rules.MAX_ITEMS} 项。")),
    metadata={"description": "leftover issues (遗留问题) filed with this close: 0 to 20; a bad "
                             "one refuses the whole close"})


class LeftoverAddSchema(Schema):
    class Meta:
        unknown = RAISE
    items = fields.List(fields.Nested(LeftoverItemIn), required=True, validate=validate.Length(
        min=1, max=rules.MAX_ITEMS, error=bi(f"1 to {rules.MAX_ITEMS} leftover items.",
                                             f"遗留问题为 1 到 {rules.MAX_ITEMS} 项。")))


class LeftoverUpdateSchema(Schema):
    """Progress (定期更新进度): a note and/or a percentage; or a new plan, due date or owner."""
    class Meta:
        unknown = RAISE
    note = Text(allow_none=True, validate=validate.Length(max=5000))
    percent = fields.Integer(allow_none=True, strict=True, validate=PERCENT)
    internal = fields.Boolean(load_default=False, metadata={
        "description": "a note for staff only (the customer does not see it)"})
    plan = Text(validate=TEXT_LEN)
    due_date = DueDate()
    owner_id = fields.String(validate=validate.Length(min=1, max=36))


class LeftoverUpdateIn(_OwnerFacts, LeftoverUpdateSchema):
    """What intake loads: the update plus the new owner's account facts from the gateway."""


class LeftoverFinishSchema(Schema):
    class Meta:
        unknown = RAISE
    note = Text(allow_none=True, validate=validate.Length(max=5000), metadata={
        "description": "how it was solved (done) or why it is dropped (cancel: required)"})


class LeftoverQuerySchema(Schema):
    class Meta:
        unknown = RAISE
    status = fields.List(fields.String(validate=validate.OneOf(rules.STATUSES)))
    overdue = fields.Boolean(metadata={"description": "true: open and past the due date"})
    owner = fields.String(validate=validate.Length(min=1, max=36), metadata={
        "description": "an account id, or `me`"})
    company_id = fields.String(validate=validate.Length(max=36))
    ticket_id = fields.String(validate=validate.Length(max=36))
    due_from = DueDate(metadata={"description": "due on or after this date"})
    due_to = DueDate(metadata={"description": "due on or before this date"})
    sort = fields.String(load_default="due_date", validate=validate.OneOf(
        ["due_date", "-due_date", "created_at", "-created_at"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class LeftoverUpdateOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": ["created", "progress", "done", "cancelled"]})
    note = fields.String(allow_none=True)
    percent = fields.Integer(allow_none=True)
    changes = fields.Dict()
    internal = fields.Boolean()
    actor_id = fields.String(allow_none=True)
    actor_role = fields.String()
    actor_name = fields.String(allow_none=True)
    at = UTCDateTime()


class LeftoverItemOut(Schema):
    id = fields.String()
    ticket_id = fields.String()
    ticket_number = fields.String()
    ticket_title = fields.String()
    company_id = fields.String(allow_none=True)
    company_name = fields.String(allow_none=True)
    seq = fields.Integer()
    description = fields.String()
    plan = fields.String()
    owner_id = fields.String()
    owner_name = fields.String(allow_none=True)
    owner_role = fields.String(allow_none=True)
    due_date = fields.Date()
    status = fields.String(metadata={"enum": list(rules.STATUSES)})
    percent = fields.Integer()
    reason = fields.String(allow_none=True)
    overdue = fields.Boolean()
    days_overdue = fields.Integer()
    reminders = fields.Integer()
    created_by_name = fields.String(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
    finished_at = UTCDateTime(allow_none=True)
    updates = fields.List(fields.Nested(LeftoverUpdateOut))


class LeftoverPage(Schema):
    items = fields.List(fields.Nested(LeftoverItemOut))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class SweepResult(Schema):
    reminded = fields.Integer(metadata={"description": "overdue reminders sent by this pass"})
