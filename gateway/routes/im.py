"""HTTP routes of IM bridges (the signed inbound endpoint, admins' bridge settings) and the
customer's IM bindings; the logic is gateway/im.py."""
import time

from marshmallow import fields

from services.notify import schemas as notify

from gongdan_common.validation import Schema, load

from .. import im, schemas
from ..apidoc import doc
from ..http import api, call, json_body, query_dict

class ImBridgeList(Schema):
    items = fields.List(fields.Nested(schemas.ImBridgeOut))


class ImBindingList(Schema):
    items = fields.List(fields.Nested(schemas.ImBindingOut))


class ImChannel(Schema):
    channel = fields.String(metadata={"description": "an active IM bridge's channel; wecom, "
                                                     "dingtalk and feishu have zh/en labels"})


class ImChannelList(Schema):
    items = fields.List(fields.Nested(ImChannel))


IM_MESSAGE = doc(
    "channels", "An IM bridge relays a message (signed with the channel's bridge secret)",
    body=schemas.ImMessageIn, response=schemas.ImReply, auth=False,
    errors=(400, 401, 403, 404, 409, 413, 415),
    description="Header `Gongdan-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "
                "\"<t>.\" + raw body)>`, within 300 s of the gateway's clock (else 401 "
                "signature_stale; a wrong or missing one 401 signature_invalid). A bound IM "
                "user's message opens a ticket as that user, or - naming a ticket number in "
                "the text or `reply_to` - replies to it; `bind <code>` confirms a binding "
                "started on the portal; an unbound user gets instructions (action unbound) "
                "and nothing is created. The same message_id again returns the first answer.",
    headers=[{"in": "header", "name": "Gongdan-Signature", "required": True,
              "schema": {"type": "string", "maxLength": 200}}])
BRIDGES = doc("admin", "IM bridges (admin)", response=ImBridgeList)
BRIDGE_PUT = doc("admin", "Create or change an IM bridge (channel from the path); a new one, "
                 "or rotate_secret, answers its signing secret once",
                 body=schemas.ImBridgeIn(exclude=("channel",)),
                 response=schemas.ImBridgeCreated)
BRIDGE_DELETE = doc("admin", "Delete an IM bridge", status=204, errors=(401, 403, 404))
BINDINGS = doc("me", "My IM bindings", response=ImBindingList)
BINDING_START = doc(
    "me", "Bind an IM user id: answers a one-time code to send from that IM account "
    "(`bind <code>`); until then the binding is pending and can do nothing",
    body=schemas.ImBindingIn, response=schemas.ImBindingStarted, status=201,
    errors=(400, 401, 403, 404, 409))
IM_CHANNELS = doc("me", "The IM channels one can bind an account on (the active bridges)",
                  response=ImChannelList, errors=(401, 403))
BINDING_DELETE = doc("me", "Remove an IM binding", status=204, errors=(401, 403, 404))

ROBOTS = doc("robots", "IM group robots (admin: all; a customer company's or provider's admin: "
             "their own company's)", response=notify.RobotList, errors=(401, 403))
ROBOT_CREATE = doc(
    "robots", "Add a WeCom, DingTalk or Feishu group robot", body=notify.RobotIn,
    response=notify.RobotOut, status=201, errors=(400, 401, 403),
    description="The URL is the robot's webhook address as the platform shows it; DingTalk's "
                "加签 and Feishu's 签名校验 secret goes in `secret` (WeCom has none). The "
                "company's ticket notices (event_types) are posted in zh, en or both, retried "
                "with backoff, and logged. Non-public addresses are refused (400 "
                "webhook_url_refused) unless inside NOTIFY.webhooks.allow_networks.")
ROBOT_GET = doc("robots", "One robot (URL masked)", response=notify.RobotOut)
ROBOT_PATCH = doc("robots", "Change a robot", body=notify.RobotPatch, response=notify.RobotOut)
ROBOT_DELETE = doc("robots", "Delete a robot (pending messages are dropped)", status=204)
ROBOT_TEST = doc("robots", "Post a test message now (a delivery like any other)",
                 response=notify.DeliveryOut, status=202)
ROBOT_DELIVERIES = doc("robots", "A robot's delivery log, newest first, with every attempt",
                       query=notify.DeliveryQuery, response=notify.RobotDeliveryPage)


class ImRoutes:
    # ---- IM group robots (services/notify/robots.py) ---------------------------------------

    @api("GET", "/api/v1/robots", doc=ROBOTS)
    def list_robots(self, request):
        return call(self.notify, "list_robots", self._actor(request))

    @api("POST", "/api/v1/robots", doc=ROBOT_CREATE)
    def create_robot(self, request):
        return 201, call(self.notify, "create_robot", self._actor(request), json_body(request))

    @api("GET", "/api/v1/robots/<robot_id>", doc=ROBOT_GET)
    def get_robot(self, request, robot_id):
        return call(self.notify, "get_robot", self._actor(request), robot_id)

    @api("PATCH", "/api/v1/robots/<robot_id>", doc=ROBOT_PATCH)
    def update_robot(self, request, robot_id):
        return call(self.notify, "update_robot", self._actor(request), robot_id,
                    json_body(request))

    @api("DELETE", "/api/v1/robots/<robot_id>", doc=ROBOT_DELETE)
    def delete_robot(self, request, robot_id):
        call(self.notify, "delete_robot", self._actor(request), robot_id)
        return 204, None

    @api("POST", "/api/v1/robots/<robot_id>/test", doc=ROBOT_TEST)
    def try_robot(self, request, robot_id):
        actor = self._actor(request)
        self.limits.hit("webhook_test", actor["id"])  # posts out like a webhook ping
        return 202, call(self.notify, "try_robot", actor, robot_id)

    @api("GET", "/api/v1/robots/<robot_id>/deliveries", doc=ROBOT_DELIVERIES)
    def robot_deliveries(self, request, robot_id):
        return call(self.notify, "robot_deliveries", self._actor(request), robot_id,
                    query_dict(request))

    # ---- IM bridges --------------------------------------------------------------------------
    @api("POST", "/api/v1/channels/<channel>/messages", doc=IM_MESSAGE)
    def im_message(self, request, channel):
        raw = request.get_data()  # cached: json_body reads the same bytes
        body = json_body(request)  # the input rule first, as on every route (NUL, depth...)
        secret, default_product = im.bridge_secret(channel, self.uow, self.settings)
        im.verify(secret, request.headers.get("Gongdan-Signature"), raw, int(time.time()))
        data = load(schemas.ImMessageIn(), body)
        return im.receive(channel, data, default_product, self.uow,
                          lambda method, *args: call(self.intake, method, *args),
                          self.settings["number_prefix"],
                          limit=lambda name, actor: self.limits.hit(name, actor["id"]))

    @api("GET", "/api/v1/admin/im-bridges", doc=BRIDGES)
    def list_im_bridges(self, request):
        return {"items": im.list_bridges(self._actor(request), self.uow)}

    @api("PUT", "/api/v1/admin/im-bridges/<channel>", doc=BRIDGE_PUT)
    def put_im_bridge(self, request, channel):
        return im.put_bridge(self._actor(request), channel, json_body(request, required=False),
                             self.uow, self.settings)

    @api("DELETE", "/api/v1/admin/im-bridges/<channel>", doc=BRIDGE_DELETE)
    def delete_im_bridge(self, request, channel):
        im.delete_bridge(self._actor(request), channel, self.uow)
        return 204, None

    @api("GET", "/api/v1/me/im-bindings", doc=BINDINGS)
    def list_im_bindings(self, request):
        return {"items": im.list_bindings(self._actor(request), self.uow)}

    @api("GET", "/api/v1/me/im-channels", doc=IM_CHANNELS)
    def list_im_channels(self, request):
        return {"items": im.bindable_channels(self._actor(request), self.uow)}

    @api("POST", "/api/v1/me/im-bindings", doc=BINDING_START)
    def start_im_binding(self, request):
        return 201, im.start_binding(self._actor(request), json_body(request), self.uow)

    @api("DELETE", "/api/v1/me/im-bindings/<binding_id>", doc=BINDING_DELETE)
    def delete_im_binding(self, request, binding_id):
        im.delete_binding(self._actor(request), binding_id, self.uow)
        return 204, None
