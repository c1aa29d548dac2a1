"""HTTP routes of the charts and satisfaction reports (the dashboard, #/dashboard, and
#/reports): volume per period, the backlog by status x priority and satisfaction come from
intake, the SLA compliance trend from sla, engineers' workload from intake (open tickets)
and worklog (hours logged). Each service scopes the figures by the actor it is given
(gongdan_common.visibility): customer admins their company, provider admins their
provider, engineers their own work, the desk everything."""
import datetime as dt

from marshmallow import RAISE, fields, validate

from gongdan_common.fields import UTCDateTime
from gongdan_common.validation import Schema, load
from services.intake import report_schemas as rs
from services.sla import domain as sla_domain, schemas as sla

from ..apidoc import doc
from ..handlers import require_role
from ..http import api, call, query_dict

STAFF = ("agent", "admin", "provider_admin", "engineer")
ERRORS = (400, 401, 403)


class SlaTrendQuery(Schema):
    class Meta:
        unknown = RAISE

    from_ = UTCDateTime(data_key="from", metadata={
        "description": "tickets created from (an instant or a date); default 12 weeks ago"})
    to = UTCDateTime(day_end=True, metadata={"description": "exclusive; default: today's end"})
    granularity = fields.String(load_default="week", validate=validate.OneOf(rs.GRANULARITIES))
    target = fields.String(validate=validate.OneOf(sla_domain.TARGETS))


class WorkloadQuery(Schema):
    class Meta:
        unknown = RAISE

    from_ = UTCDateTime(data_key="from", metadata={
        "description": "hours logged from (an instant or a date); default 30 days ago"})
    to = UTCDateTime(day_end=True, metadata={"description": "exclusive; default: today's end"})


VOLUME = doc("reports", "Tickets created and resolved per day, week or month (scoped by "
             "role: customer admins their company, providers theirs, engineers their own)",
             query=rs.PeriodQuerySchema, response=rs.VolumeSchema, errors=ERRORS)
BACKLOG = doc("reports", "Open tickets by status x priority (scoped by role)",
              query=rs.BacklogQuerySchema, response=rs.BacklogSchema, errors=ERRORS)
SATISFACTION = doc("reports", "Customer satisfaction: product and service stars, averages and "
                   "1-5 distributions by period, product line, provider or engineer (scoped "
                   "by role)", query=rs.SatisfactionQuerySchema,
                   response=rs.SatisfactionSchema, errors=ERRORS,
                   description="Provider and engineer are the ticket's current holder; "
                               "periods are those of the rating, in the desk's time zone.")
SLA_TREND = doc("reports", "SLA compliance per week (or day, month) of the tickets created "
                "then, per target (staff)", query=SlaTrendQuery, response=sla.ReportSchema,
                errors=ERRORS)
WORKLOAD = doc("reports", "Engineers' workload: open tickets each holds, by status, and hours "
               "logged in the period (staff)", query=WorkloadQuery,
               response=rs.WorkloadSchema, errors=ERRORS)


def _range(q, tz, days):
    end = q.get("to") or dt.datetime.combine(
        dt.datetime.now(tz).date() + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    start = q.get("from_") or end - dt.timedelta(days=days)
    return start.astimezone(dt.timezone.utc).isoformat(), end.astimezone(
        dt.timezone.utc).isoformat()


def _load(schema, request, tz):
    schema.context["tz"] = tz
    return load(schema, query_dict(request))


class ReportsRoutes:
    """Mixed into GatewayService; see gateway/routes/__init__.py."""

    @api("GET", "/api/v1/reports/volume", doc=VOLUME)
    def report_volume(self, request):
        return call(self.intake, "report_volume", self._actor(request), query_dict(request))

    @api("GET", "/api/v1/reports/backlog", doc=BACKLOG)
    def report_backlog(self, request):
        return call(self.intake, "report_backlog", self._actor(request), query_dict(request))

    @api("GET", "/api/v1/reports/satisfaction", doc=SATISFACTION)
    def report_satisfaction(self, request):
        return call(self.intake, "report_satisfaction", self._actor(request),
                    query_dict(request))

    @api("GET", "/api/v1/reports/sla-trend", doc=SLA_TREND)
    def report_sla_trend(self, request):
        actor = self._actor(request)
        require_role(actor, *STAFF)  # as /reports/sla: people's reports, not a token's
        q = _load(SlaTrendQuery(), request, self.settings["tz"])
        start, end = _range(q, self.settings["tz"], 84)
        query = {"group_by": q["granularity"], "created_from": start, "created_to": end}
        if q.get("target"):
            query["target"] = q["target"]
        return call(self.sla, "report", actor, query)

    @api("GET", "/api/v1/reports/workload", doc=WORKLOAD)
    def report_workload(self, request):
        actor = self._actor(request)
        require_role(actor, *STAFF)
        q = _load(WorkloadQuery(), request, self.settings["tz"])
        start, end = _range(q, self.settings["tz"], 30)
        held = call(self.intake, "report_workload", actor)
        logged = call(self.worklog, "engineer_time", actor, {"from": start, "to": end})
        return merge_workload(held, logged, start, end)


def merge_workload(held, logged, start, end):
    """intake's open tickets per engineer beside worklog's hours, one row per engineer."""
    rows = {r["engineer_id"]: dict(r, hours=0.0) for r in held["rows"]}
    for e in logged.get("engineers") or []:
        row = rows.setdefault(e["engineer_id"], {
            "engineer_id": e["engineer_id"], "engineer_name": e.get("engineer_name"),
            "open": 0, "by_status": {s: 0 for s in held["statuses"]}, "hours": 0.0})
        row["engineer_name"] = row["engineer_name"] or e.get("engineer_name")
        row["hours"] = round(row["hours"] + (e.get("seconds") or 0) / 3600, 2)
    ordered = sorted(rows.values(), key=lambda r: (-r["open"], -r["hours"],
                                                   r["engineer_name"] or ""))
    return rs.WorkloadSchema().dump({"statuses": held["statuses"], "from_": start, "to": end,
                                     "rows": ordered})
