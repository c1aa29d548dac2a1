"""marshmallow schemas at notify's boundaries (RPC input and output)."""
import re

from marshmallow import (EXCLUDE, RAISE, ValidationError, fields, validate, validates,
                         validates_schema)

from gongdan_common.fields import Text, UTCDateTime
from gongdan_common.i18n import bi
from gongdan_common.validation import Schema

from . import digest, domain, templates

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class PageQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class InboxQuery(PageQuery):
    unread = fields.Boolean(load_default=False)


class NotificationSchema(Schema):
    id = fields.String()
    kind = fields.String()
    event_type = fields.String()
    ticket_id = fields.String(allow_none=True)
    ticket_number = fields.String(allow_none=True)
    priority = fields.String(allow_none=True)
    title = fields.String()
    body = fields.String()
    link = fields.String(allow_none=True)
    read = fields.Function(lambda n: n.read_at is not None)
    read_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()


class InboxPage(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    total = fields.Integer()
    unread = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class UnreadCount(Schema):
    unread = fields.Integer()


class ChannelList(fields.List):
    """A list of person channels; an unknown one is named in the error."""

    def __init__(self, **kw):
        super().__init__(fields.String(), **kw)

    def _deserialize(self, value, attr, data, **kwargs):
        out = super()._deserialize(value, attr, data, **kwargs)
        for channel in out:
            if channel not in domain.CHANNELS:
                raise ValidationError(bi(f"Unknown channel: {channel}. Use inbox, email or sms.",
                                         f"未知渠道：{channel}。可用 inbox、email 或 sms。"))
        return list(dict.fromkeys(out))


class DigestSchema(Schema):
    class Meta:
        unknown = RAISE

    enabled = fields.Boolean(required=True, metadata={
        "description": "customer company admins only: one email + inbox entry a day about "
                       "the company's tickets (nothing when nothing happened)"})
    time = fields.String(load_default=digest.DEFAULT_TIME, validate=validate.Regexp(_HHMM),
                         metadata={"description": "HH:MM local time (in `timezone`)",
                                   "example": "08:00"})


class DigestOut(Schema):
    enabled = fields.Boolean()
    time = fields.String(allow_none=True)
    next_at = UTCDateTime(allow_none=True, metadata={
        "description": "when the next digest is due (sent then if anything happened)"})


class PreferencesSchema(Schema):
    class Meta:
        unknown = RAISE

    language = fields.String(allow_none=True, validate=validate.OneOf(templates.LANGUAGES))
    channels = fields.Dict(keys=fields.String(validate=validate.OneOf(templates.KINDS)),
                           values=ChannelList(), metadata={
                               "description": "kind of message -> channels (inbox, email, sms); "
                                              "a kind not listed follows the rule"})
    quiet_start = fields.String(allow_none=True, validate=validate.Regexp(_HHMM), metadata={
        "description": "HH:MM local time; P1 messages ignore quiet hours"})
    quiet_end = fields.String(allow_none=True, validate=validate.Regexp(_HHMM))
    timezone = fields.String(allow_none=True, metadata={
        "example": "Asia/Shanghai", "description": "of quiet hours and the digest time"})
    digest = fields.Nested(DigestSchema, allow_none=True, metadata={
        "description": "the daily digest; null turns it off"})

    @validates("timezone")
    def _tz(self, value, **_):
        if value is None:
            return
        import zoneinfo
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError(bi("Unknown time zone.", "未知时区。")) from None

    @validates_schema
    def _quiet_pair(self, data, **_):
        if bool(data.get("quiet_start")) != bool(data.get("quiet_end")):
            raise ValidationError(bi("Give both the start and the end of quiet hours, or neither.",
                                     "免打扰时段的开始和结束须同时填写或同时留空。"),
                                  "quiet_end")


class PreferencesOut(Schema):
    language = fields.String(allow_none=True)
    channels = fields.Dict()
    quiet_start = fields.String(allow_none=True)
    quiet_end = fields.String(allow_none=True)
    timezone = fields.String(allow_none=True)
    digest = fields.Nested(DigestOut)
    kinds = fields.List(fields.String(), metadata={"description": "kinds of message"})
    available_channels = fields.List(fields.String())


class RuleSchema(Schema):
    class Meta:
        unknown = RAISE

    event = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]+\.[a-z_]+$"),
                          metadata={"example": "dispatch.ticket_assigned"})
    kind = fields.String(required=True, validate=validate.OneOf(templates.KINDS))
    recipients = fields.List(fields.String(validate=validate.OneOf(domain.SELECTORS)),
                             required=True, validate=validate.Length(min=1))
    channels = ChannelList(required=True)
    when = fields.Dict(load_default=dict, metadata={
        "description": "conditions on the event's data: {field: value}, {field_in: [..]}, "
                       "{field_max: n} (at most n) or {field_min: n} (at least n)",
        "example": {"lowest_score_max": 2}})
    sms_on_p1 = fields.Boolean(load_default=False)
    enabled = fields.Boolean(load_default=True)
    notify_actor = fields.Boolean(load_default=False, metadata={
        "description": "also tell a recipient who caused the event"})


class RuleOut(RuleSchema):
    id = fields.String()
    source = fields.String(metadata={"enum": ["default", "custom"]})
    overridden = fields.Boolean()


class TemplateSchema(Schema):
    class Meta:
        unknown = RAISE

    subject = fields.String(required=True)
    text = fields.String(required=True)
    html = fields.String(required=True)


class TemplateOut(TemplateSchema):
    kind = fields.String()
    language = fields.String()
    overridden = fields.Boolean()


def _event_types(**kw):
    return fields.List(fields.String(validate=validate.Length(min=1, max=80)), metadata={
        "description": "e.g. intake.ticket_created, ticket_assigned, intake.*; empty or * = "
                       "all"}, **kw)


class WebhookIn(Schema):
    class Meta:
        unknown = RAISE

    url = Text(required=True, validate=validate.Length(max=2048))
    event_types = _event_types(load_default=list)
    secret = fields.String(validate=validate.Length(min=16, max=200), metadata={
        "description": "generated when omitted (returned once)"})
    description = fields.String(allow_none=True, validate=validate.Length(max=300))


class WebhookPatch(WebhookIn):
    url = Text(validate=validate.Length(max=2048))
    event_types = _event_types()  # left out: unchanged (not emptied)
    active = fields.Boolean(metadata={"description": "true re-enables a disabled webhook"})


class WebhookOut(Schema):
    id = fields.String()
    owner_id = fields.String()
    url = fields.String()
    event_types = fields.List(fields.String())
    description = fields.String(allow_none=True)
    active = fields.Boolean()
    failure_streak = fields.Integer()
    disabled_reason = fields.String(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class WebhookCreated(WebhookOut):
    secret = fields.String(metadata={"description": "shown on creation only"})


class AttemptOut(Schema):
    number = fields.Integer()
    at = UTCDateTime()
    ok = fields.Boolean()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliveryOut(Schema):
    id = fields.String()
    event_id = fields.String()
    event_type = fields.String()
    channel = fields.String()
    recipient = fields.String()
    address = fields.String()
    kind = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["pending", "sent", "failed"]})
    attempts = fields.Integer()
    next_attempt_at = UTCDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    replay_of = fields.String(allow_none=True)
    created_at = UTCDateTime()
    sent_at = UTCDateTime(allow_none=True)


class DeliveryDetail(DeliveryOut):
    log = fields.List(fields.Nested(AttemptOut))


class DeliveryQuery(PageQuery):
    channel = fields.String(validate=validate.OneOf(("email", "sms", "webhook", "robot")))
    status = fields.String(validate=validate.OneOf(("pending", "sent", "failed")))


class DeliveryPage(Schema):
    items = fields.List(fields.Nested(DeliveryOut))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


# what a company's IM group may hear: ticket facts its admin may see anyway (never internal
# notes, never account events)
ROBOT_EVENTS = ("intake.ticket_created", "intake.ticket_status_changed",
                "intake.ticket_commented", "dispatch.ticket_assigned", "sla.sla_warning",
                "sla.sla_breached")


class RobotIn(Schema):
    """An IM group robot (services/notify/robots.py)."""
    class Meta:
        unknown = RAISE

    platform = fields.String(required=True, validate=validate.OneOf(("wecom", "dingtalk",
                                                                     "feishu")))
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    url = Text(required=True, validate=validate.Length(max=2048), metadata={
        "description": "the robot's webhook address as the platform shows it (with its key "
                       "or access token); shown back masked"})
    secret = fields.String(allow_none=True, validate=validate.Length(max=200), metadata={
        "description": "DingTalk / Feishu signing secret (加签 / 签名校验); never shown back"})
    language = fields.String(load_default="both", validate=validate.OneOf(("zh", "en", "both")))
    event_types = fields.List(fields.String(validate=validate.OneOf(ROBOT_EVENTS)),
        load_default=list, metadata={"description": "empty = created, status changes, "
                                                    "assignments and SLA breaches"})
    owner_kind = fields.String(validate=validate.OneOf(("customer", "provider")), metadata={
        "description": "admins name the company; a company admin's robot is their own"})
    owner_id = fields.String(validate=validate.Length(min=1, max=36))


class RobotPatch(RobotIn):
    platform = fields.String(dump_only=True)
    name = Text(validate=validate.Length(min=1, max=100))
    url = Text(validate=validate.Length(max=2048))
    language = fields.String(validate=validate.OneOf(("zh", "en", "both")))
    event_types = fields.List(fields.String(validate=validate.OneOf(ROBOT_EVENTS)))
    owner_kind = fields.String(dump_only=True)
    owner_id = fields.String(dump_only=True)
    active = fields.Boolean()


class RobotOut(Schema):
    id = fields.String()
    platform = fields.String()
    name = fields.String()
    url = fields.String(metadata={"description": "masked"})
    signed = fields.Boolean()
    language = fields.String()
    event_types = fields.List(fields.String())
    owner_kind = fields.String()
    owner_id = fields.String()
    active = fields.Boolean()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class RobotList(Schema):
    items = fields.List(fields.Nested(RobotOut))


class RobotDelivery(DeliveryOut):
    log = fields.List(fields.Nested(AttemptOut))


class RobotDeliveryPage(DeliveryPage):
    items = fields.List(fields.Nested(RobotDelivery))


class DigestRunIn(Schema):
    class Meta:
        unknown = RAISE

    now = UTCDateTime(metadata={
        "description": "run the pass as if it were this instant (default: now); a digest "
                       "already made for a person and day is never made again"})


class DigestRunOut(Schema):
    now = UTCDateTime()
    due = fields.Integer(metadata={"description": "people whose digest time had come"})
    sent = fields.Integer(metadata={"description": "digests written (email and/or inbox)"})
    empty = fields.Integer(metadata={"description": "due, but nothing happened: nothing sent"})
    skipped = fields.Integer(metadata={
        "description": "no longer an active admin of that company: nothing sent"})
    taken = fields.Integer(metadata={"description": "done at the same time by another replica"})
