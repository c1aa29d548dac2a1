"""HTTP routes of the desk's list tools (issue 14): the user's list columns, saved views,
ticket tags and bulk actions. intake owns the data and decides who may do what; bulk actions
are run here ticket by ticket (gateway/bulk.py)."""
from marshmallow import fields

from gongdan_common.validation import Schema
from services.intake import desk_schemas as ds

from .. import bulk
from ..apidoc import doc
from ..http import api, call, json_body, request_language

_KEY = [{"in": "header", "name": "Idempotency-Key", "required": False,
         "schema": {"type": "string", "maxLength": 80}}]


class ViewList(Schema):
    items = fields.List(fields.Nested(ds.SavedViewOutSchema))


class ViewDeleted(Schema):
    id = fields.String()
    deleted = fields.Boolean()


class TagCount(Schema):
    tag = fields.String()
    count = fields.Integer()


class TagList(Schema):
    items = fields.List(fields.Nested(TagCount))


class BulkError(Schema):
    code = fields.String()
    status = fields.Integer()
    message = fields.String(metadata={"description": "in the request's language"})


class BulkItem(Schema):
    ticket_id = fields.String()
    number = fields.String()
    ok = fields.Boolean()
    error = fields.Nested(BulkError, metadata={"description": "only when refused"})


class BulkResult(Schema):
    action = fields.String()
    results = fields.List(fields.Nested(BulkItem))
    done = fields.Integer()
    refused = fields.Integer()


SETTINGS_GET = doc("lists", "My ticket-list columns (shown, in order), or my role's default",
                   response=ds.ListSettingsOutSchema)
SETTINGS_PUT = doc("lists", "Save my ticket-list columns (applied on any device)",
                   body=ds.ListSettingsSchema, response=ds.ListSettingsOutSchema,
                   errors=(400, 401))
SETTINGS_DELETE = doc("lists", "Back to my role's default columns",
                      response=ds.ListSettingsOutSchema)
VIEWS_LIST = doc("lists", "My saved views, and (the desk) those shared with the desk",
                 response=ViewList)
VIEW_CREATE = doc("lists", "Save a view: named filters (+ columns and sort)",
                  body=ds.SavedViewSchema, response=ds.SavedViewOutSchema, status=201,
                  errors=(400, 401, 403, 409),
                  description="Only the desk (agent, admin) may share a view with the desk. "
                              "A view keeps filters, not results: using it is an ordinary "
                              "list request, so it never shows more than its user may see.")
VIEW_PATCH = doc("lists", "Change a saved view (its owner)", body=ds.SavedViewPatchSchema,
                 response=ds.SavedViewOutSchema, errors=(400, 401, 403, 404))
VIEW_DELETE = doc("lists", "Delete a saved view (its owner; an admin also a shared one)",
                  response=ViewDeleted, errors=(401, 403, 404))
TAGS_LIST = doc("lists", "Tags in use on the tickets I see, most used first (staff)",
                response=TagList, errors=(401, 403))
TAGS_ADD = doc("lists", "Add tags to a ticket (staff)", body=ds.TagsChangeSchema,
               response=ds.TicketTagsSchema, errors=(400, 401, 403, 404, 409),
               description="Tags are normalised (NFKC, trimmed, Latin lower-cased), 1-32 "
                           "characters, at most 20 per ticket. Customers never see tags.")
TAG_REMOVE = doc("lists", "Remove one tag from a ticket (staff)", response=ds.TicketTagsSchema,
                 errors=(400, 401, 403, 404))
BULK = doc(
    "tickets", "One action over many tickets, with a result per ticket",
    body=ds.BulkSchema, response=BulkResult, errors=(400, 401, 403, 409),
    headers=_KEY,
    description="action: assign {engineer_id} | priority {priority} | tag {tags} | untag "
                "{tags} | close {reason?}; 1-200 ticket ids or numbers. If the caller may not "
                "act on any one of them, nothing is done: 403 bulk_tickets_refused lists them "
                "(details.tickets). Otherwise each ticket is done on its own, through the same "
                "rules as the single action: results[] says ok, or refused with the rule's "
                "message. The same Idempotency-Key again returns the first results.")


class ListingRoutes:
    @api("GET", "/api/v1/me/list-settings", doc=SETTINGS_GET)
    def get_list_settings(self, request):
        return call(self.intake, "get_list_settings", self._actor(request))

    @api("PUT", "/api/v1/me/list-settings", doc=SETTINGS_PUT)
    def put_list_settings(self, request):
        return call(self.intake, "put_list_settings", self._actor(request), json_body(request))

    @api("DELETE", "/api/v1/me/list-settings", doc=SETTINGS_DELETE)
    def reset_list_settings(self, request):
        return call(self.intake, "reset_list_settings", self._actor(request))

    @api("GET", "/api/v1/views", doc=VIEWS_LIST)
    def list_views(self, request):
        return call(self.intake, "list_views", self._actor(request))

    @api("POST", "/api/v1/views", doc=VIEW_CREATE)
    def create_view(self, request):
        return 201, call(self.intake, "create_view", self._actor(request), json_body(request))

    @api("PATCH", "/api/v1/views/<view_id>", doc=VIEW_PATCH)
    def update_view(self, request, view_id):
        return call(self.intake, "update_view", self._actor(request), view_id,
                    json_body(request))

    @api("DELETE", "/api/v1/views/<view_id>", doc=VIEW_DELETE)
    def delete_view(self, request, view_id):
        return call(self.intake, "delete_view", self._actor(request), view_id)

    @api("GET", "/api/v1/tags", doc=TAGS_LIST)
    def list_tags(self, request):
        return {"items": call(self.intake, "list_tags", self._actor(request))}

    @api("POST", "/api/v1/tickets/<ticket_id>/tags", doc=TAGS_ADD)
    def add_tags(self, request, ticket_id):
        return call(self.intake, "add_tags", self._actor(request), ticket_id, json_body(request))

    @api("DELETE", "/api/v1/tickets/<ticket_id>/tags/<tag>", doc=TAG_REMOVE)
    def remove_tag(self, request, ticket_id, tag):
        return call(self.intake, "remove_tags", self._actor(request), ticket_id, {"tags": [tag]})

    @api("POST", "/api/v1/tickets/bulk", doc=BULK)
    def bulk(self, request):
        actor = self._actor(request)
        key = request.headers.get("Idempotency-Key")
        result = bulk.run({"intake": self.intake, "dispatch": self.dispatch}, actor,
                          json_body(request), key[:80] if key else None)
        return bulk.render(result, request_language(request))
