"""HTTP routes in front of the notify service, the live inbox stream, and the directory RPC
notify uses to find people.

Who-is-who: the gateway owns the accounts, so notify asks it (`notify_directory`, an RPC
served by the gateway process) for the people an event concerns: by id (assignee,
submitter) or by role within a company (agents, admins, a provider's or a customer
company's administrators). Notify caches the answers briefly. Only active accounts are
returned, with the contact data a message needs (email, phone, language, and the company
for the daily digest's subject and its check that the reader is still that company's admin)
and no more.

Live updates: notify publishes `notification_created` (through its outbox); every gateway
process receives it on its own broadcast queue and pushes it to the open
`/api/v1/notifications/stream` connections of that user (server-sent events). A client that
reconnects re-reads the unread count, so a missed push only delays, never loses.
"""
import json
import weakref

from eventlet.queue import Empty, LightQueue
from marshmallow import fields
from nameko.events import BROADCAST
from sqlalchemy import select
from werkzeug.wrappers import Response

from gongdan_common.batching import batch_event_handler
from gongdan_common.entrypoints import rpc
from gongdan_common.validation import Schema
from services.notify import schemas as notify

from ..apidoc import doc
from ..http import api, call, json_body, query_dict
from ..models import Company, User

KEEPALIVE_SECONDS = 15


class _Hub:
    """user id -> the queues of that user's open streams, in this gateway process."""

    def __init__(self):
        self.queues = {}

    def subscribe(self, user_id):
        q = LightQueue(maxsize=100)
        self.queues.setdefault(user_id, weakref.WeakSet()).add(q)
        return q

    def unsubscribe(self, user_id, q):
        self.queues.get(user_id, set()).discard(q)

    def publish(self, user_id, item):
        for q in list(self.queues.get(user_id, ())):
            if not q.full():
                q.put_nowait(item)


HUB = _Hub()


def directory(uow, queries):
    """[["id", uid] | ["role", role, company_id|None]] -> one list of people per query."""
    out = []
    with uow:
        for q in queries:
            stmt = select(User, Company.name).outerjoin(Company, Company.id == User.company_id) \
                .where(User.status == "active")
            if q[0] == "id":
                stmt = stmt.where(User.id == q[1])
            elif q[0] == "role":
                stmt = stmt.where(User.role == q[1])
                if len(q) > 2 and q[2]:
                    stmt = stmt.where(User.company_id == q[2])
            else:
                out.append([])
                continue
            out.append([{"id": u.id, "name": u.name, "email": u.email, "phone": u.phone,
                         "language": u.language, "role": u.role, "company_id": u.company_id,
                         "company_name": company_name}
                        for u, company_name in uow.session.execute(stmt.limit(500))])
    return out


# ---- OpenAPI -------------------------------------------------------------------------------

class Marked(Schema):
    marked = fields.Integer()
    unread = fields.Integer()


class WebhookList(Schema):
    items = fields.List(fields.Nested(notify.WebhookOut))


class RuleList(Schema):
    items = fields.List(fields.Nested(notify.RuleOut))


class TemplateList(Schema):
    items = fields.List(fields.Nested(notify.TemplateOut))


class RuleDeleted(Schema):
    id = fields.String()
    restored_default = fields.Boolean()


_ADMIN = (400, 401, 403, 404)
INBOX = doc("notifications", "My in-app notifications, newest first (?unread=true)",
            query=notify.InboxQuery, response=notify.InboxPage)
UNREAD = doc("notifications", "How many of my notifications are unread",
             response=notify.UnreadCount)
READ = doc("notifications", "Mark one notification read", response=notify.NotificationSchema)
READ_ALL = doc("notifications", "Mark all my notifications read", response=Marked)
STREAM = doc(
    "notifications", "Live stream of my new notifications (server-sent events)",
    description="text/event-stream. Events: `unread` (data {unread}) first, then "
                "`notification` (data: the notification_created payload) as they arrive; a "
                "comment line every 15 s keeps proxies from closing it. Browsers' EventSource "
                "cannot send headers, so the access token may be given as ?access_token=.",
    headers=[{"in": "query", "name": "access_token", "required": False,
              "schema": {"type": "string"}}])
PREFS = doc("me", "My notification preferences", response=notify.PreferencesOut)
PREFS_PUT = doc("me", "Change my notification preferences (language, channels per kind, quiet "
                "hours, daily digest)", body=notify.PreferencesSchema,
                response=notify.PreferencesOut,
                description="Channels are inbox, email and sms; an unknown one is refused "
                            "with 400. Quiet hours delay email and SMS (never the inbox); P1 "
                            "messages ignore them. `digest` {enabled, time HH:MM in "
                            "`timezone`}: a customer company admin's daily summary of the "
                            "company's tickets (created, status changes, replies, SLA "
                            "warnings and breaches), one email + inbox entry at that local "
                            "time, nothing when nothing happened; anyone else asking for it "
                            "gets 403 digest_not_available. `channels.digest` narrows it "
                            "(e.g. [\"email\"]).")
HOOKS = doc("webhooks", "Webhooks (admin: all; a service token: its own)", response=WebhookList)
HOOK_CREATE = doc(
    "webhooks", "Register a webhook", body=notify.WebhookIn, response=notify.WebhookCreated,
    status=201, description="Each delivery is a POST of the event envelope, signed: header "
    "`Gongdan-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>`; "
    "`Gongdan-Delivery` is the delivery id (dedupe on it, or on `Gongdan-Event-Id`). "
    "Non-2xx or no answer within the timeout is retried with exponential backoff; after "
    "NOTIFY.webhooks.disable_after_failures failures in a row the webhook is disabled and its "
    "owner told. SSRF policy: http(s) only; loopback, private, link-local and other "
    "non-public addresses are refused (400 webhook_url_refused) unless inside "
    "NOTIFY.webhooks.allow_networks.")
HOOK_GET = doc("webhooks", "One webhook", response=notify.WebhookOut)
HOOK_PATCH = doc("webhooks", "Change a webhook: the fields given, no others (active=true "
                 "re-enables it)",
                 body=notify.WebhookPatch, response=notify.WebhookOut)
HOOK_DELETE = doc("webhooks", "Delete a webhook (pending deliveries are dropped)",
                  response=notify.WebhookOut)
HOOK_PING = doc("webhooks", "Send a test ping delivery", response=notify.DeliveryOut,
                status=202)
HOOK_DELIVERIES = doc("webhooks", "A webhook's delivery log, newest first",
                      query=notify.DeliveryQuery, response=notify.DeliveryPage)
HOOK_DELIVERY = doc("webhooks", "One delivery with every attempt", response=notify.DeliveryDetail)
HOOK_REPLAY = doc("webhooks", "Deliver again (a new delivery of the same event)",
                  response=notify.DeliveryOut, status=202)
RULES = doc("admin", "Notification rules (shipped defaults and overrides)", response=RuleList,
            errors=_ADMIN)
RULE_PUT = doc("admin", "Override a shipped rule by id, or create a rule of your own",
               body=notify.RuleSchema, response=notify.RuleOut, errors=_ADMIN)
RULE_DELETE = doc("admin", "Delete a custom rule, or restore a shipped one",
                  response=RuleDeleted, errors=_ADMIN)
TEMPLATES = doc("admin", "Message templates (zh and en) per kind", response=TemplateList,
                errors=_ADMIN)
TEMPLATE_PUT = doc(
    "admin", "Replace a template (validated before it is saved)", body=notify.TemplateSchema,
    response=notify.TemplateOut, errors=_ADMIN,
    description="Jinja2 (sandboxed; HTML autoescaped). Context: ticket, data, recipient, "
                "actor, link, event, response_target (and digest, for kind digest). A template that does not parse, names "
                "anything else, is too long (subject 300, bodies 20,000 characters) or fails "
                "on a sample is refused with 400 template_invalid; missing optional values "
                "render empty.")
TEMPLATE_DELETE = doc("admin", "Go back to the shipped template", response=notify.TemplateOut,
                      errors=_ADMIN)
DIGESTS_RUN = doc(
    "admin", "Run the daily digest pass now (or as of `now`)", body=notify.DigestRunIn,
    response=notify.DigestRunOut, errors=_ADMIN,
    description="The pass every notify replica runs every NOTIFY.digest.interval_seconds: "
                "each opted-in company admin whose local digest time has come (at or "
                "before `now`, after they opted in) gets that day's digest unless it was "
                "made already: a person's digest of a day is made once, whoever runs it. "
                "The body may be empty ({} or nothing): the pass then runs as of now.")
DELIVERIES = doc("admin", "The delivery log of email, SMS and webhooks (?channel, ?status)",
                 query=notify.DeliveryQuery, response=notify.DeliveryPage, errors=_ADMIN)
DELIVERY = doc("admin", "One delivery with every attempt", response=notify.DeliveryDetail,
               errors=_ADMIN)

_HOOK_SCOPE = "tickets:read"  # a service token that may read tickets may follow them


class NotifyRoutes:
    """Mixed into GatewayService; see gateway/routes/__init__.py."""

    # ---- for the notify service ------------------------------------------------------------

    @rpc
    def notify_directory(self, queries):
        return directory(self.uow, queries)

    @batch_event_handler("notify", "notification_created", handler_type=BROADCAST,
                         reliable_delivery=False)
    def push_notification(self, envelopes):
        for envelope in envelopes:
            data = envelope.get("data") or {}
            if data.get("user_id"):
                HUB.publish(data["user_id"], data)

    # ---- inbox -----------------------------------------------------------------------------

    @api("GET", "/api/v1/notifications", doc=INBOX)
    def list_notifications(self, request):
        return call(self.notify, "list_notifications", self._actor(request), query_dict(request))

    @api("GET", "/api/v1/notifications/unread-count", doc=UNREAD)
    def unread_notifications(self, request):
        return call(self.notify, "unread_count", self._actor(request))

    @api("POST", "/api/v1/notifications/<notification_id>/read", doc=READ)
    def read_notification(self, request, notification_id):
        return call(self.notify, "mark_read", self._actor(request), notification_id)

    @api("POST", "/api/v1/notifications/read-all", doc=READ_ALL)
    def read_all_notifications(self, request):
        return call(self.notify, "mark_all_read", self._actor(request))

    @api("GET", "/api/v1/notifications/stream", doc=STREAM)
    def notification_stream(self, request):
        token = request.args.get("access_token")
        if token and "Authorization" not in request.headers:
            request.environ["HTTP_AUTHORIZATION"] = "Bearer " + token  # headers read environ
        actor = self._actor(request)
        unread = call(self.notify, "unread_count", actor)["unread"]
        # eventlet's WSGI server gathers 4 KB before writing unless told not to
        request.environ["eventlet.minimum_write_chunk_size"] = 0
        return Response(_sse(actor["id"], unread), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @api("GET", "/api/v1/me/preferences", doc=PREFS)
    def get_preferences(self, request):
        return call(self.notify, "get_preferences", self._actor(request))

    @api("PUT", "/api/v1/me/preferences", doc=PREFS_PUT)
    def put_preferences(self, request):
        return call(self.notify, "put_preferences", self._actor(request), json_body(request))

    # ---- webhooks --------------------------------------------------------------------------

    @api("GET", "/api/v1/webhooks", doc=HOOKS)
    def list_webhooks(self, request):
        return call(self.notify, "list_webhooks", self._actor(request, _HOOK_SCOPE))

    @api("POST", "/api/v1/webhooks", doc=HOOK_CREATE)
    def create_webhook(self, request):
        return 201, call(self.notify, "create_webhook", self._actor(request, _HOOK_SCOPE),
                         json_body(request))

    @api("GET", "/api/v1/webhooks/<webhook_id>", doc=HOOK_GET)
    def get_webhook(self, request, webhook_id):
        return call(self.notify, "get_webhook", self._actor(request, _HOOK_SCOPE), webhook_id)

    @api("PATCH", "/api/v1/webhooks/<webhook_id>", doc=HOOK_PATCH)
    def update_webhook(self, request, webhook_id):
        return call(self.notify, "update_webhook", self._actor(request, _HOOK_SCOPE),
                    webhook_id, json_body(request))

    @api("DELETE", "/api/v1/webhooks/<webhook_id>", doc=HOOK_DELETE)
    def delete_webhook(self, request, webhook_id):
        return call(self.notify, "delete_webhook", self._actor(request, _HOOK_SCOPE),
                    webhook_id)

    @api("POST", "/api/v1/webhooks/<webhook_id>/ping", doc=HOOK_PING)
    def ping_webhook(self, request, webhook_id):
        actor = self._actor(request, _HOOK_SCOPE)
        self.limits.hit("webhook_test", actor["id"])
        return 202, call(self.notify, "ping_webhook", actor, webhook_id)

    @api("GET", "/api/v1/webhooks/<webhook_id>/deliveries", doc=HOOK_DELIVERIES)
    def webhook_deliveries(self, request, webhook_id):
        return call(self.notify, "list_deliveries", self._actor(request, _HOOK_SCOPE),
                    query_dict(request), webhook_id)

    @api("GET", "/api/v1/webhooks/<webhook_id>/deliveries/<delivery_id>", doc=HOOK_DELIVERY)
    def webhook_delivery(self, request, webhook_id, delivery_id):
        return call(self.notify, "get_delivery", self._actor(request, _HOOK_SCOPE),
                    delivery_id, webhook_id)

    @api("POST", "/api/v1/webhooks/<webhook_id>/deliveries/<delivery_id>/replay",
         doc=HOOK_REPLAY)
    def replay_webhook_delivery(self, request, webhook_id, delivery_id):
        actor = self._actor(request, _HOOK_SCOPE)
        self.limits.hit("webhook_test", actor["id"])  # a replay sends out like a ping
        return 202, call(self.notify, "replay_delivery", actor, webhook_id, delivery_id)

    # ---- administration --------------------------------------------------------------------

    @api("GET", "/api/v1/admin/notification-rules", doc=RULES)
    def list_notification_rules(self, request):
        return call(self.notify, "list_rules", self._actor(request))

    @api("PUT", "/api/v1/admin/notification-rules/<rule_id>", doc=RULE_PUT)
    def put_notification_rule(self, request, rule_id):
        return call(self.notify, "put_rule", self._actor(request), rule_id, json_body(request))

    @api("DELETE", "/api/v1/admin/notification-rules/<rule_id>", doc=RULE_DELETE)
    def delete_notification_rule(self, request, rule_id):
        return call(self.notify, "delete_rule", self._actor(request), rule_id)

    @api("GET", "/api/v1/admin/notification-templates", doc=TEMPLATES)
    def list_notification_templates(self, request):
        return call(self.notify, "list_templates", self._actor(request))

    @api("PUT", "/api/v1/admin/notification-templates/<kind>/<language>", doc=TEMPLATE_PUT)
    def put_notification_template(self, request, kind, language):
        return call(self.notify, "put_template", self._actor(request), kind, language,
                    json_body(request))

    @api("DELETE", "/api/v1/admin/notification-templates/<kind>/<language>",
         doc=TEMPLATE_DELETE)
    def delete_notification_template(self, request, kind, language):
        return call(self.notify, "delete_template", self._actor(request), kind, language)

    @api("POST", "/api/v1/admin/notifications/digests/run", doc=DIGESTS_RUN)
    def run_notification_digests(self, request):
        return call(self.notify, "run_digests", self._actor(request),
                    json_body(request, required=False))

    @api("GET", "/api/v1/admin/deliveries", doc=DELIVERIES)
    def list_all_deliveries(self, request):
        return call(self.notify, "list_deliveries", self._actor(request), query_dict(request))

    @api("GET", "/api/v1/admin/deliveries/<delivery_id>", doc=DELIVERY)
    def get_any_delivery(self, request, delivery_id):
        return call(self.notify, "get_delivery", self._actor(request), delivery_id)


def _sse(user_id, unread):
    """The event stream of one connection; ends when the client goes away."""
    q = HUB.subscribe(user_id)
    try:
        yield f"retry: 3000\nevent: unread\ndata: {json.dumps({'unread': unread})}\n\n"
        while True:
            try:
                item = q.get(timeout=KEEPALIVE_SECONDS)
            except Empty:
                yield ": keep-alive\n\n"
                continue
            yield "event: notification\ndata: " + json.dumps(item, ensure_ascii=False) + "\n\n"
    finally:
        HUB.unsubscribe(user_id, q)
