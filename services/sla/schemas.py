"""marshmallow schemas at sla's boundary."""
from marshmallow import EXCLUDE, RAISE, ValidationError, fields, validate, validates_schema

from gongdan_common.businessdays import MAX_BUSINESS_DAYS
from gongdan_common.fields import UTCDateTime
from gongdan_common.i18n import bi
from gongdan_common.validation import Schema

from . import domain
from .calendar import WEEKDAYS

# the preview's longest duration: five years of minutes (a business calendar takes ~4x as
# long in calendar time to use them up, ~1 s cold; calendar.MAX_SCAN_DAYS covers that)
MAX_PREVIEW_MINUTES = 1827 * 24 * 60

NAME = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$")


class TimerRequestSchema(Schema):
    """A timer asked for by RPC or by a `timer_requested` event of another service."""
    class Meta:
        unknown = RAISE

    key = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=NAME)
    owner = fields.String(required=True, validate=NAME)
    due_at = UTCDateTime(required=True)
    ticket_id = fields.String(allow_none=True, validate=validate.Length(max=36))
    payload = fields.Dict(load_default=dict)


class TimerCancelSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    key = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TimerSchema(Schema):
    id = fields.String()
    key = fields.String()
    kind = fields.String()
    owner = fields.String()
    ticket_id = fields.String()
    due_at = UTCDateTime()
    status = fields.String()
    payload = fields.Dict()
    created_at = UTCDateTime()
    fired_at = UTCDateTime()
    cancelled_at = UTCDateTime()


# ---- calendars, policies, preview -------------------------------------------------------

HHMM = validate.Regexp(r"^\d{2}:\d{2}$", error=bi("Use HH:MM.", "请使用 HH:MM 格式。"))


class ClosureSchema(Schema):
    class Meta:
        unknown = RAISE

    start = UTCDateTime(required=True)
    end = UTCDateTime(required=True)
    reason = fields.String(validate=validate.Length(max=200))


class CalendarSpecSchema(Schema):
    """A calendar's rules; given inline to the preview, or stored under a name."""
    class Meta:
        unknown = RAISE

    tz = fields.String(load_default="Asia/Shanghai", metadata={
        "description": "IANA time zone, e.g. Asia/Shanghai, Europe/Berlin"})
    always_open = fields.Boolean(load_default=False, metadata={"description": "24x7"})
    chinese_holidays = fields.Boolean(load_default=False, metadata={
        "description": "close on Chinese statutory holidays and open on their make-up "
                       "working days (调休), from the chinesecalendar package"})
    hours = fields.Dict(
        keys=fields.String(validate=validate.OneOf(WEEKDAYS)),
        values=fields.List(fields.List(fields.String(validate=HHMM),
                                       validate=validate.Length(equal=2))),
        load_default=dict, metadata={
            "description": "weekday -> [[start, end], ...], e.g. {mon: [['09:00','12:00'], "
                           "['13:00','18:00']]}; '24:00' ends the day"})
    holidays = fields.List(fields.Date(), load_default=list)
    workdays = fields.List(fields.Date(), load_default=list, metadata={
        "description": "extra working days (they use the first weekday's hours)"})
    closures = fields.List(fields.Nested(ClosureSchema), load_default=list)


class CalendarInSchema(CalendarSpecSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class CalendarPatchSchema(CalendarSpecSchema):
    name = fields.String(validate=validate.Length(min=1, max=100))


class CalendarSchema(Schema):
    id = fields.String()
    name = fields.String()
    tz = fields.String()
    always_open = fields.Boolean()
    chinese_holidays = fields.Boolean()
    hours = fields.Dict()
    holidays = fields.List(fields.String())
    workdays = fields.List(fields.String())
    closures = fields.List(fields.Dict())
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class EscalationSchema(Schema):
    class Meta:
        unknown = RAISE

    action = fields.String(required=True, validate=validate.OneOf(domain.ESCALATIONS),
                           metadata={"description": "notify | raise_priority | handoff"})
    notify = fields.List(fields.String(validate=validate.OneOf(
        ["provider_admin", "support_lead", "agent", "engineer", "admin"])),
        load_default=list)
    team = fields.String(validate=validate.Length(min=1, max=100), metadata={
        "description": "handoff: the team (or provider id) the ticket should go to; dispatch "
                       "routing rules or an agent act on it"})

    @validates_schema
    def _team_for_handoff(self, data, **kw):
        if data.get("action") == "handoff" and not data.get("team"):
            raise ValidationError(bi("A handoff names the team.", "移交须指明团队。"), "team")


MINUTES = validate.Range(min=0, min_inclusive=False, max=366 * 24 * 60,
                         error=bi("Must be more than 0 and at most a year.",
                                  "必须大于 0 且不超过一年。"))


class PolicyInSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    company_id = fields.String(allow_none=True, validate=validate.Length(max=36))
    ticket_type = fields.String(allow_none=True)
    priority = fields.String(allow_none=True)
    calendar_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    completeness_minutes = fields.Float(allow_none=True, validate=MINUTES)
    response_minutes = fields.Float(allow_none=True, validate=MINUTES)
    resolution_minutes = fields.Float(allow_none=True, validate=MINUTES)
    update_minutes = fields.Float(allow_none=True, validate=MINUTES, metadata={
        "description": "optional update interval: after the first response, a public staff update is due "
        "at least this often (business minutes); clocked as target `update`"})
    warn_share = fields.Float(load_default=0.8, validate=validate.Range(
        min=0, max=1, min_inclusive=False, max_inclusive=False), metadata={
        "description": "warn when this share of a target is used (0 < share < 1)"})
    escalation = fields.Nested(EscalationSchema, load_default=lambda: {
        "action": "notify", "notify": ["provider_admin"]})
    rank = fields.Integer(load_default=100, metadata={
        "description": "among equally specific policies the lower rank wins"})
    active = fields.Boolean(load_default=True)


class PolicySchema(Schema):
    id = fields.String()
    name = fields.String()
    company_id = fields.String(allow_none=True)
    ticket_type = fields.String(allow_none=True)
    priority = fields.String(allow_none=True)
    calendar_id = fields.String()
    completeness_minutes = fields.Float(allow_none=True)
    response_minutes = fields.Float(allow_none=True)
    resolution_minutes = fields.Float(allow_none=True)
    update_minutes = fields.Float(allow_none=True)
    warn_share = fields.Float()
    escalation = fields.Dict()
    rank = fields.Integer()
    active = fields.Boolean()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class PreviewSchema(Schema):
    """Either `minutes` (-> due_at) or `end` (-> business minutes between start and end)."""
    class Meta:
        unknown = RAISE

    calendar_id = fields.String(validate=validate.Length(min=1, max=36))
    calendar = fields.Nested(CalendarSpecSchema)
    start = UTCDateTime(required=True)
    minutes = fields.Float(validate=validate.Range(min=0, max=MAX_PREVIEW_MINUTES), metadata={
        "description": "business minutes after start (up to five years' worth); 0 = start "
                       "itself, even outside working hours"})
    business_days = fields.Integer(
        validate=validate.Range(min=1, max=MAX_BUSINESS_DAYS), metadata={
            "description": "+N business days: due at the end of the Nth working day after "
                           "start's date (in the calendar's zone)"})
    end = UTCDateTime(metadata={"description": "business minutes between start and end; "
                                               "negative when end is before start"})

    @validates_schema
    def _one_of_each(self, data, **kw):
        if bool(data.get("calendar_id")) == bool(data.get("calendar")):
            raise ValidationError(bi("Give calendar_id or an inline calendar (one of them).",
                                     "请给出 calendar_id 或内联日历（二选一）。"), "calendar")
        if sum(name in data for name in ("minutes", "business_days", "end")) != 1:
            raise ValidationError(bi("Give minutes or business_days (for a due time) or end "
                                     "(for business time between), one of them.",
                                     "请给出 minutes 或 business_days（求到期时间）或 end（求工作"
                                     "时长），三选一。"), "minutes")


class PreviewResultSchema(Schema):
    start = UTCDateTime()
    minutes = fields.Float()
    business_days = fields.Integer()
    due_at = UTCDateTime(metadata={"description": "when minutes were given"})
    end = UTCDateTime()
    business_minutes = fields.Float(metadata={"description": "when end was given"})
    tz = fields.String()
    due_at_local = fields.String()


# ---- clocks, reports, dry run -----------------------------------------------------------

class ClockSchema(Schema):
    target = fields.String(metadata={"enum": list(domain.TARGETS)})
    state = fields.String(metadata={
        "enum": ["running", "paused", "met", "stopped", "pending"],
        "description": "pending: the update clock before the first response"})
    priority = fields.String(allow_none=True)
    policy_id = fields.String(allow_none=True)
    target_minutes = fields.Float()
    spent_minutes = fields.Float(metadata={"description": "business minutes used so far"})
    remaining_minutes = fields.Float(metadata={"description": "business minutes left"})
    paused_minutes = fields.Float(metadata={"description": "wall-clock minutes paused"})
    paused = fields.Boolean()
    due_at = UTCDateTime(allow_none=True, metadata={"description": "null while paused or met"})
    warning_at = UTCDateTime(allow_none=True)
    met_at = UTCDateTime(allow_none=True)
    met = fields.Boolean()
    breached = fields.Boolean()
    breached_at = UTCDateTime(allow_none=True)
    warned_at = UTCDateTime(allow_none=True)
    escalation = fields.Dict(allow_none=True)
    cycle = fields.Integer(allow_none=True, metadata={
        "description": "update: how many update cycles began (each public staff reply "
                       "starts one); null for other targets"})
    cycle_started_at = UTCDateTime(allow_none=True, metadata={
        "description": "update: when the current cycle began; spent, due_at, warning and "
                       "breach are the current cycle's"})


class TicketSlaSchema(Schema):
    ticket_id = fields.String()
    number = fields.String(allow_none=True)
    priority = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    next_due_at = UTCDateTime(allow_none=True)
    clocks = fields.List(fields.Nested(ClockSchema))


GROUPS = ("priority", "type", "provider", "engineer", "month", "week", "day")


class ReportQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    created_from = UTCDateTime()
    created_to = UTCDateTime(day_end=True)
    group_by = fields.String(load_default="priority", validate=validate.OneOf(GROUPS))
    target = fields.String(validate=validate.OneOf(domain.TARGETS))


class ReportRowSchema(Schema):
    group = fields.String(allow_none=True)
    target = fields.String()
    clocks = fields.Integer()
    met_in_time = fields.Integer()
    breached = fields.Integer()
    open = fields.Integer()
    compliance = fields.Float(allow_none=True, metadata={
        "description": "met in time / (met in time + breached), null when none is decided"})
    mean_business_minutes_to_meet = fields.Float(allow_none=True, metadata={
        "description": "mean business time to first response / to resolution"})


class ReportSchema(Schema):
    group_by = fields.String()
    tz = fields.String(metadata={
        "description": "the time zone months, weeks and days are grouped in (config TIMEZONE)"})
    created_from = UTCDateTime(allow_none=True)
    created_to = UTCDateTime(allow_none=True, day_end=True)
    rows = fields.List(fields.Nested(ReportRowSchema))


class DryRunSchema(Schema):
    class Meta:
        unknown = RAISE

    policy_id = fields.String(validate=validate.Length(max=36), metadata={
        "description": "the stored policy to change; omit to try a new one"})
    changes = fields.Dict(load_default=dict, metadata={
        "description": "policy fields as in PolicyIn (for a new policy: all required ones)"})
    created_from = UTCDateTime()
    created_to = UTCDateTime(day_end=True)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class DryRunRowSchema(Schema):
    ticket_id = fields.String()
    number = fields.String(allow_none=True)
    target = fields.String()
    breached_now = fields.Boolean()
    breached_then = fields.Boolean(metadata={"description": "under the changed policy"})
    breached_at = UTCDateTime(allow_none=True)


class DryRunResultSchema(Schema):
    tickets = fields.Integer()
    clocks = fields.Integer()
    breached_now = fields.Integer()
    breached_then = fields.Integer()
    newly_breached = fields.Integer()
    no_longer_breached = fields.Integer()
    items = fields.List(fields.Nested(DryRunRowSchema))
