"""HTTP routes of leftover items (遗留问题, intake): the role-scoped list, one item with its
progress history, items added to a resolved or closed ticket, progress updates, done and
cancel, the owners an actor may name, and the overdue sweep run by hand (admins)."""
from marshmallow import fields

from gongdan_common.validation import Schema
from services.intake import leftover_schemas as lo

from .. import leftover_owners
from ..apidoc import doc
from ..http import api, call, json_body, query_dict


class LeftoverList(Schema):
    items = fields.List(fields.Nested(lo.LeftoverItemOut))


class Owner(Schema):
    id = fields.String()
    name = fields.String()
    role = fields.String()
    company_name = fields.String(allow_none=True)


class OwnerList(Schema):
    items = fields.List(fields.Nested(Owner))


ERR = (400, 401, 403, 404, 409)
_SCOPE = ("Role-scoped like the ticket list: customers see the items of the tickets they see "
          "(internal notes left out); staff also see the items they own.")
LIST = doc("leftovers", "Leftover items (遗留问题), earliest due first", query=lo.LeftoverQuerySchema,
           response=lo.LeftoverPage, description=_SCOPE + " `overdue=true`: open and past the "
           "due date; `owner=me`: mine.")
GET = doc("leftovers", "One leftover item with its progress history",
          response=lo.LeftoverItemOut, description=_SCOPE)
ADD = doc("leftovers", "Add leftover items to a resolved or closed ticket (its engineer or "
          "provider, or the desk)", body=lo.LeftoverAddSchema, response=LeftoverList,
          status=201, errors=ERR,
          description="Each item: description, plan, owner_id (an active engineer, provider "
                      "admin, agent or admin the actor may name: see /leftovers/owners) and "
                      "due_date (a plain date in the desk's time zone, today or later). A bad "
                      "item refuses them all. Items are also filed with POST "
                      "/tickets/{id}/resolve or /close (`leftover_items`).")
UPDATE = doc("leftovers", "Update progress (定期更新进度): a note and/or percentage, or a new "
             "plan, due date or owner", body=lo.LeftoverUpdateSchema,
             response=lo.LeftoverItemOut, errors=ERR,
             description="The owner, the ticket's engineer or provider admin, or the desk. "
                         "`internal: true` keeps the note from the customer. A new due date "
                         "starts the overdue reminders over.")
DONE = doc("leftovers", "Mark a leftover item done (solved for good)",
           body=lo.LeftoverFinishSchema, response=lo.LeftoverItemOut, errors=ERR)
CANCEL = doc("leftovers", "Cancel a leftover item (the reason in `note` is required)",
             body=lo.LeftoverFinishSchema, response=lo.LeftoverItemOut, errors=ERR)
OWNERS = doc("leftovers", "The accounts I may name as a leftover item's owner",
             response=OwnerList)
SWEEP = doc("admin", "Run the overdue-leftover sweep now (it also runs on a timer in every "
            "intake instance)", response=lo.SweepResult, errors=(401, 403),
            description="Sends leftover_item_overdue for each open item whose reminder is "
                        "due; at most once per item and round however often it runs.")


class LeftoverRoutes:
    """Mixin of GatewayService (see gateway/routes/__init__.py)."""

    @api("GET", "/api/v1/leftovers", doc=LIST)
    def list_leftovers(self, request):
        return call(self.intake, "list_leftovers", self._actor(request),
                    query_dict(request, list_fields=("status",)))

    @api("GET", "/api/v1/leftovers/owners", doc=OWNERS)
    def leftover_owners(self, request):
        return {"items": leftover_owners.nameable(self._actor(request), self.uow)}

    @api("GET", "/api/v1/leftovers/<item_id>", doc=GET)
    def get_leftover(self, request, item_id):
        return call(self.intake, "get_leftover", self._actor(request), item_id)

    @api("POST", "/api/v1/tickets/<ticket_id>/leftovers", doc=ADD)
    def add_leftovers(self, request, ticket_id):
        actor, body = self._actor(request), json_body(request)
        leftover_owners.fill(body.get("items"), self.uow)
        return 201, call(self.intake, "add_leftovers", actor, ticket_id, body)

    @api("POST", "/api/v1/leftovers/<item_id>/updates", doc=UPDATE)
    def update_leftover(self, request, item_id):
        actor = self._actor(request)
        body = leftover_owners.fill_one(json_body(request), self.uow)
        return call(self.intake, "update_leftover", actor, item_id, body)

    @api("POST", "/api/v1/leftovers/<item_id>/done", doc=DONE)
    def leftover_done(self, request, item_id):
        return call(self.intake, "finish_leftover", self._actor(request), item_id, "done",
                    json_body(request, required=False))

    @api("POST", "/api/v1/leftovers/<item_id>/cancel", doc=CANCEL)
    def leftover_cancel(self, request, item_id):
        return call(self.intake, "finish_leftover", self._actor(request), item_id,
                    "cancelled", json_body(request, required=False))

    @api("POST", "/api/v1/admin/leftovers/sweep", doc=SWEEP)
    def sweep_leftovers(self, request):
        return call(self.intake, "sweep_leftovers", self._actor(request))

    def _leftover_owners(self, actor, action, body):
        """resolve / close may carry leftover items: their owners' account facts are added
        here (accounts are the gateway's); intake checks them with the close."""
        if action in ("resolve", "close") and isinstance(body, dict):
            leftover_owners.fill(body.get("leftover_items"), self.uow)
        return body
