"""HTTP routes of merges, links between tickets and canned replies (all owned by intake:
services/intake/merging.py, canned.py; the rules in services/intake/relations.py)."""
from marshmallow import fields

from gongdan_common.validation import Schema
from services.intake import relation_schemas as rs
from services.intake import schemas as intake

from ..apidoc import doc
from ..http import api, call, json_body, query_dict


class CannedDeleted(Schema):
    id = fields.String()
    deleted = fields.Boolean()


ERR = (400, 401, 403, 404, 409)
MERGE = doc("tickets", "Merge this ticket (a duplicate) into another of the same company "
            "(the desk)", body=rs.MergeSchema, response=intake.TicketSchema, errors=ERR,
            description="This ticket is closed (action `merge`) with `merged_into_number` and "
                        "keeps its history; the other gets a \"merged from\" entry. Both "
                        "submitters are told (event intake.ticket_merged, once per ticket). "
                        "Refused with nothing changed (409) across customer companies, into a "
                        "closed, cancelled or merged ticket, or from a finished one; 400 into "
                        "itself; 403 for anyone but agents and administrators.")
LINKS = doc("tickets", "The ticket's links whose other ticket the caller may open",
            response=rs.LinkList)
LINK_CREATE = doc("tickets", "Link another ticket: related, parent or child (staff)",
                  body=rs.LinkCreateSchema, response=rs.LinkSchema, status=201, errors=ERR,
                  description="`other` is an id or a number. A pair is linked once; a ticket "
                              "has one parent; a parent chain never loops (409).")
LINK_DELETE = doc("tickets", "Remove a link (staff; a merge's link stays)",
                  response=rs.LinkSchema, errors=ERR)
CANNED_LIST = doc("canned", "Canned replies the caller may use (staff)",
                  query=rs.CannedQuerySchema, response=rs.CannedList)
CANNED_CREATE = doc(
    "canned", "Keep a canned reply: personal, shared with the desk, or with a provider",
    body=rs.CannedCreateSchema, response=rs.CannedSchema, status=201, errors=ERR,
    description="Variables: {ticket_number} {title} {customer_name} {company_name} "
                "{submitter_name} {engineer_name}; any other {name} is refused (400). Desk "
                "replies: agents and administrators; provider replies: that provider's admin "
                "(or an administrator naming provider_id), read by its engineers too.")
CANNED_PATCH = doc("canned", "Change a canned reply (whoever may keep its scope)",
                   body=rs.CannedPatchSchema, response=rs.CannedSchema, errors=ERR)
CANNED_DELETE = doc("canned", "Delete a canned reply", response=CannedDeleted, errors=ERR)
CANNED_RENDER = doc("canned", "A canned reply's text for this ticket, its variables filled",
                    body=rs.CannedRenderSchema, response=rs.CannedRendered, errors=ERR)


class RelationRoutes:
    """Mixed into GatewayService; see gateway/routes/__init__.py."""

    @api("POST", "/api/v1/tickets/<ticket_id>/merge", doc=MERGE)
    def merge_ticket(self, request, ticket_id):
        return call(self.intake, "merge_ticket", self._actor(request), ticket_id,
                    json_body(request))

    @api("GET", "/api/v1/tickets/<ticket_id>/links", doc=LINKS)
    def list_ticket_links(self, request, ticket_id):
        return call(self.intake, "list_links", self._actor(request), ticket_id)

    @api("POST", "/api/v1/tickets/<ticket_id>/links", doc=LINK_CREATE)
    def add_ticket_link(self, request, ticket_id):
        return 201, call(self.intake, "add_link", self._actor(request), ticket_id,
                         json_body(request))

    @api("DELETE", "/api/v1/tickets/<ticket_id>/links/<link_id>", doc=LINK_DELETE)
    def remove_ticket_link(self, request, ticket_id, link_id):
        return call(self.intake, "remove_link", self._actor(request), ticket_id, link_id)

    @api("GET", "/api/v1/canned-replies", doc=CANNED_LIST)
    def list_canned(self, request):
        return call(self.intake, "list_canned", self._actor(request), query_dict(request))

    @api("POST", "/api/v1/canned-replies", doc=CANNED_CREATE)
    def create_canned(self, request):
        return 201, call(self.intake, "create_canned", self._actor(request), json_body(request))

    @api("PATCH", "/api/v1/canned-replies/<canned_id>", doc=CANNED_PATCH)
    def update_canned(self, request, canned_id):
        return call(self.intake, "update_canned", self._actor(request), canned_id,
                    json_body(request))

    @api("DELETE", "/api/v1/canned-replies/<canned_id>", doc=CANNED_DELETE)
    def delete_canned(self, request, canned_id):
        return call(self.intake, "delete_canned", self._actor(request), canned_id)

    @api("POST", "/api/v1/tickets/<ticket_id>/canned-replies/<canned_id>/render",
         doc=CANNED_RENDER)
    def render_canned(self, request, ticket_id, canned_id):
        return call(self.intake, "render_canned", self._actor(request), canned_id, ticket_id,
                    json_body(request, required=False))
