"""HTTP routes in front of the exports service: CSV / XLSX exports of the ticket list, the SLA
clocks, engineer time and satisfaction ratings, made in the background. Only the requester
sees a job or its file; what the file holds is decided by each data owner from the
requester's rights, exactly as the list or report would show it (docs/exports.md)."""
from marshmallow import fields
from werkzeug.wrappers import Response

from gongdan_common.validation import Schema
from services.exports import schemas as ex

from ..apidoc import doc
from ..http import api, call, json_body, request_language


class Deleted(ex.JobSchema):
    pass


class LinkQuery(Schema):
    redirect = fields.Boolean(metadata={"description": "answer 302 to the file instead"})


CREATE = doc("exports", "Export a list or report as CSV or XLSX (in the background)",
             body=ex.ExportInSchema, response=ex.JobSchema, status=202,
             errors=(400, 401, 403, 429),
             description=(
                 "kind: tickets (filters = the ticket list's query: status, type, keyword …), "
                 "satisfaction (the same, plus rated_from / rated_to), engineer_time (the "
                 "engineer-time report's query: from, to, engineer_id, provider_id, "
                 "product_line), sla (the SLA report's created_from, created_to, target). "
                 "The filters are checked by the service owning the data, as the requester, "
                 "before the job exists: a filter the requester may not use is refused with "
                 "that service's error (400 or 403) and nothing is queued. columns: a choice "
                 "and order (default: the list's); lang: headers and labels (zh, en; default: "
                 "the request's language). Poll GET /exports/{id} for rows_done / rows_total."))
LIST = doc("exports", "My exports, newest first (the last 100)", response=ex.JobListSchema)
GET = doc("exports", "One of my exports: status and progress", response=ex.JobSchema,
          errors=(401, 404))
LINK = doc("exports", "A short-lived link to a finished export's file (only its requester)",
           query=LinkQuery, response=ex.DownloadSchema, errors=(401, 404, 409),
           description="409 export_not_ready while it is queued or running (or failed, "
                       "expired). ?redirect=1 answers 302 to the file, whose "
                       "Content-Disposition carries the name (RFC 5987, UTF-8).")
DELETE = doc("exports", "Delete one of my exports (a running one stops) and its file",
             response=Deleted, errors=(401, 404))


class ExportsRoutes:
    """Mixed into GatewayService; see gateway/routes/__init__.py."""

    @api("POST", "/api/v1/exports", doc=CREATE)
    def create_export(self, request):
        actor = self._actor(request, scope="tickets:read")  # reads only
        body = json_body(request)
        if isinstance(body, dict):
            body.setdefault("lang", request_language(request))
        return 202, call(self.exports, "create_export", actor, body)

    @api("GET", "/api/v1/exports", doc=LIST)
    def list_exports(self, request):
        return call(self.exports, "list_exports", self._actor(request))

    @api("GET", "/api/v1/exports/<job_id>", doc=GET)
    def get_export(self, request, job_id):
        return call(self.exports, "get_export", self._actor(request), job_id)

    @api("GET", "/api/v1/exports/<job_id>/download", doc=LINK)
    def download_export(self, request, job_id):
        link = call(self.exports, "download_export", self._actor(request), job_id)
        if request.args.get("redirect") in ("1", "true"):
            return Response(status=302, headers={"Location": link["url"]})
        return link

    @api("DELETE", "/api/v1/exports/<job_id>", doc=DELETE)
    def delete_export(self, request, job_id):
        return call(self.exports, "delete_export", self._actor(request, scope="tickets:read"),
                    job_id)
