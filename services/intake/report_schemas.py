"""marshmallow schemas of intake's reports (services/intake/reports.py): the queries it
loads and the answers the gateway documents."""
from marshmallow import RAISE, fields, validate

from gongdan_common.fields import UTCDateTime
from gongdan_common.validation import Schema

GRANULARITIES = ("day", "week", "month")
GROUPS = ("period", "product_line", "provider", "engineer")
PERIOD_TEXT = ("a day (YYYY-MM-DD), ISO week (YYYY-Www) or month (YYYY-MM) of the desk's "
               "time zone")


class PeriodQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    from_ = UTCDateTime(data_key="from", metadata={
        "description": "an instant, or a date: from the start of that day (desk's time zone); "
                       "default: 30 days (day), 12 weeks (week) or a year (month) before `to`"})
    to = UTCDateTime(day_end=True, metadata={
        "description": "an instant (exclusive), or a date: up to the end of that day; "
                       "default: the end of today"})
    granularity = fields.String(load_default="day", validate=validate.OneOf(GRANULARITIES),
                                metadata={"description": "day, ISO week or month"})


class SatisfactionQuerySchema(PeriodQuerySchema):
    group_by = fields.String(load_default="period", validate=validate.OneOf(GROUPS), metadata={
        "description": "period (by granularity), product_line, provider or engineer (the "
                       "ticket's holder when rated)"})
    product_line = fields.String(validate=validate.Length(max=64))


class BacklogQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    product_line = fields.String(validate=validate.Length(max=64))




# ---- answers ------------------------------------------------------------------------------

class _Ranged(Schema):
    granularity = fields.String(metadata={"enum": list(GRANULARITIES)})
    tz = fields.String(metadata={"description": "the zone periods are grouped in (config "
                                                "TIMEZONE)"})
    from_ = fields.String(data_key="from", metadata={"format": "date-time"})
    to = fields.String(metadata={"format": "date-time", "description": "exclusive"})


class VolumeRowSchema(Schema):
    period = fields.String(metadata={"description": PERIOD_TEXT})
    created = fields.Integer()
    resolved = fields.Integer()


class VolumeTotalsSchema(Schema):
    created = fields.Integer()
    resolved = fields.Integer()


class VolumeSchema(_Ranged):
    rows = fields.List(fields.Nested(VolumeRowSchema), metadata={
        "description": "every period of the range in order, zeros included"})
    totals = fields.Nested(VolumeTotalsSchema)


class BacklogCellSchema(Schema):
    status = fields.String()
    priority = fields.String()
    count = fields.Integer()


class BacklogSchema(Schema):
    statuses = fields.List(fields.String())
    priorities = fields.List(fields.String())
    rows = fields.List(fields.Nested(BacklogCellSchema), metadata={
        "description": "one cell per open status x priority, zeros included"})
    total = fields.Integer()


class SatisfactionRowSchema(Schema):
    group = fields.String(allow_none=True, metadata={
        "description": "the period, product line, provider id or engineer id; null: none"})
    name = fields.String(allow_none=True, metadata={"description": "the engineer's name"})
    ratings = fields.Integer()
    product_average = fields.Float(allow_none=True, metadata={"description": "1-5; null: none"})
    service_average = fields.Float(allow_none=True)
    product_distribution = fields.List(fields.Integer(), metadata={
        "description": "how many ratings gave 1, 2, 3, 4 and 5 stars"})
    service_distribution = fields.List(fields.Integer())


class SatisfactionSchema(_Ranged):
    group_by = fields.String(metadata={"enum": list(GROUPS)})
    rows = fields.List(fields.Nested(SatisfactionRowSchema))
    totals = fields.Nested(SatisfactionRowSchema)


class WorkloadRowSchema(Schema):
    engineer_id = fields.String()
    engineer_name = fields.String(allow_none=True)
    open = fields.Integer(metadata={"description": "tickets held and not yet resolved"})
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    hours = fields.Float(allow_none=True, metadata={
        "description": "hours logged in the period (worklog); null when not readable"})


class WorkloadSchema(Schema):
    statuses = fields.List(fields.String())
    from_ = fields.String(data_key="from", metadata={"format": "date-time"})
    to = fields.String(metadata={"format": "date-time"})
    rows = fields.List(fields.Nested(WorkloadRowSchema))
