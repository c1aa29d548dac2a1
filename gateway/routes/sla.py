"""HTTP routes in front of the sla service: a ticket's clocks, the due-time preview, admin
management of business calendars and SLA policies (with a dry run over past tickets), and
compliance reports. sla checks admin rights itself; reads of its configuration are for
staff, checked here."""
from marshmallow import fields

from gongdan_common.validation import Schema

from services.sla import schemas as sla

from ..apidoc import doc
from ..handlers import require_role
from ..http import api, call, json_body, query_dict

STAFF = ("agent", "admin", "provider_admin", "engineer")


class CalendarList(Schema):
    items = fields.List(fields.Nested(sla.CalendarSchema))


class PolicyList(Schema):
    items = fields.List(fields.Nested(sla.PolicySchema))


class ClockList(Schema):
    items = fields.List(fields.Nested(sla.ClockSchema))


ADMIN_ERRORS = (400, 401, 403, 404, 409)
TICKET_SLA = doc("sla", "A ticket's SLA clocks: due time, remaining business time, paused, "
                 "met or breached", response=sla.TicketSlaSchema, description=(
                     "404 sla_not_started while sla has not seen the ticket yet; 404 "
                     "sla_policy_not_matched when no policy applies to it."))
PREVIEW = doc("sla", "When would this be due? Business-time arithmetic on a stored or "
              "inline calendar", body=sla.PreviewSchema, response=sla.PreviewResultSchema,
              description="Give minutes for the due instant (a duration used up exactly at "
                          "a closing time is due at that closing time), or end for the "
                          "business minutes between start and end.")
CALENDARS = doc("sla", "Business calendars (staff)", response=CalendarList)
CALENDAR_GET = doc("sla", "One business calendar (staff)", response=sla.CalendarSchema)
CALENDAR_REFUSALS = ("400 unknown_time_zone, bad_time, bad_hours, inverted_hours, "
                     "overlapping_hours, bad_weekday, calendar_never_open, inverted_closure: "
                     "details.fields names the field (tz, hours.<weekday>, hours, closures), "
                     "as validation errors do.")
CALENDAR_CREATE = doc("admin", "Create a business calendar", body=sla.CalendarInSchema,
                      response=sla.CalendarSchema, status=201, errors=ADMIN_ERRORS,
                      description=CALENDAR_REFUSALS)
CALENDAR_PATCH = doc("admin", "Change a business calendar (re-evaluates open clocks on it)",
                     body=sla.CalendarPatchSchema, response=sla.CalendarSchema,
                     errors=ADMIN_ERRORS, description=CALENDAR_REFUSALS)
CALENDAR_DELETE = doc("admin", "Delete a calendar no policy uses", response=sla.CalendarSchema,
                      errors=ADMIN_ERRORS)
POLICIES = doc("sla", "SLA policies (staff)", response=PolicyList)
POLICY_GET = doc("sla", "One SLA policy (staff)", response=sla.PolicySchema)
POLICY_CREATE = doc("admin", "Create an SLA policy (matching company, type and priority; "
                    "empty = any)", body=sla.PolicyInSchema, response=sla.PolicySchema,
                    status=201, errors=ADMIN_ERRORS)
POLICY_PATCH = doc("admin", "Change an SLA policy: any fields of PolicyIn (re-evaluates the open clocks it affects)",
                   body=sla.PolicyInSchema, response=sla.PolicySchema,
                   errors=ADMIN_ERRORS)
POLICY_DELETE = doc("admin", "Delete an SLA policy", response=sla.PolicySchema,
                    errors=ADMIN_ERRORS)
DRY_RUN = doc("admin", "Dry run: which past tickets would have breached under a changed "
              "or new policy (nothing is stored)", body=sla.DryRunSchema,
              response=sla.DryRunResultSchema, errors=ADMIN_ERRORS)
REBUILD = doc("admin", "Rebuild a ticket's clocks from the status history sla saw",
              response=ClockList, errors=ADMIN_ERRORS)
REPORT = doc("reports", "SLA compliance and mean business time to respond / resolve, by "
             "priority, type, provider, engineer or period (staff)",
             query=sla.ReportQuerySchema, response=sla.ReportSchema)


class SlaRoutes:
    """Mixed into GatewayService; see gateway/routes/__init__.py."""

    def _staff(self, request):
        actor = self._actor(request)
        require_role(actor, *STAFF)
        return actor

    @api("GET", "/api/v1/tickets/<ticket_id>/sla", doc=TICKET_SLA)
    def ticket_sla(self, request, ticket_id):
        ticket = call(self.intake, "get_ticket", self._actor(request), ticket_id)  # may see?
        return call(self.sla, "ticket_sla", ticket["id"])

    @api("POST", "/api/v1/sla/preview", doc=PREVIEW)
    def sla_preview(self, request):
        self._actor(request)
        return call(self.sla, "preview", json_body(request))

    @api("GET", "/api/v1/admin/sla/calendars", doc=CALENDARS)
    def sla_calendars(self, request):
        self._staff(request)
        return {"items": call(self.sla, "list_calendars")}

    @api("POST", "/api/v1/admin/sla/calendars", doc=CALENDAR_CREATE)
    def sla_calendar_create(self, request):
        return 201, call(self.sla, "put_calendar", self._actor(request), None,
                         json_body(request))

    @api("GET", "/api/v1/admin/sla/calendars/<calendar_id>", doc=CALENDAR_GET)
    def sla_calendar(self, request, calendar_id):
        self._staff(request)
        return call(self.sla, "get_calendar", calendar_id)

    @api("PATCH", "/api/v1/admin/sla/calendars/<calendar_id>", doc=CALENDAR_PATCH)
    def sla_calendar_patch(self, request, calendar_id):
        return call(self.sla, "put_calendar", self._actor(request), calendar_id,
                    json_body(request))

    @api("DELETE", "/api/v1/admin/sla/calendars/<calendar_id>", doc=CALENDAR_DELETE)
    def sla_calendar_delete(self, request, calendar_id):
        return call(self.sla, "delete_calendar", self._actor(request), calendar_id)

    @api("GET", "/api/v1/admin/sla/policies", doc=POLICIES)
    def sla_policies(self, request):
        self._staff(request)
        return {"items": call(self.sla, "list_policies")}

    @api("POST", "/api/v1/admin/sla/policies", doc=POLICY_CREATE)
    def sla_policy_create(self, request):
        return 201, call(self.sla, "put_policy", self._actor(request), None, json_body(request))

    @api("GET", "/api/v1/admin/sla/policies/<policy_id>", doc=POLICY_GET)
    def sla_policy(self, request, policy_id):
        self._staff(request)
        return call(self.sla, "get_policy", policy_id)

    @api("PATCH", "/api/v1/admin/sla/policies/<policy_id>", doc=POLICY_PATCH)
    def sla_policy_patch(self, request, policy_id):
        return call(self.sla, "put_policy", self._actor(request), policy_id, json_body(request))

    @api("DELETE", "/api/v1/admin/sla/policies/<policy_id>", doc=POLICY_DELETE)
    def sla_policy_delete(self, request, policy_id):
        return call(self.sla, "delete_policy", self._actor(request), policy_id)

    @api("POST", "/api/v1/admin/sla/dry-run", doc=DRY_RUN)
    def sla_dry_run(self, request):
        return call(self.sla, "dry_run", self._actor(request), json_body(request))

    @api("POST", "/api/v1/admin/sla/tickets/<ticket_id>/rebuild", doc=REBUILD)
    def sla_rebuild(self, request, ticket_id):
        return {"items": call(self.sla, "rebuild_clocks", self._actor(request), ticket_id)}

    @api("GET", "/api/v1/reports/sla", doc=REPORT)
    def sla_report(self, request):
        return call(self.sla, "report", self._staff(request), query_dict(request))
