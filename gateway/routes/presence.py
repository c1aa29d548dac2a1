"""“Someone else is replying”: presence pings from a ticket's reply box and the ticket
page's presence stream (server-sent events, like the inbox stream in routes/notify.py).

Only people who may open the ticket can ping or listen (intake's access facts, checked with
the one visibility rule); a customer is never shown that someone is writing an internal
note. Storage and sharing between gateway instances: gateway/presence.py.
"""
import json
import time

import eventlet
from marshmallow import fields
from werkzeug.wrappers import Response

from gongdan_common import visibility
from gongdan_common.validation import Schema, load
from services.intake import domain as ticket_rules
from services.intake import exceptions as intake_errors

from ..apidoc import doc
from ..http import api, call, json_body
from ..presence import TTL_SECONDS, PresenceProvider, visible_to

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15
# a stream ends after this long; EventSource reconnects at once, and the new connection is
# authorised again (the generator outlives its worker: it cannot make RPCs itself)
LIFETIME_SECONDS = 120


class PresenceIn(Schema):
    replying = fields.Boolean(required=True, metadata={
        "description": "true while typing (repeat every few seconds), false when done"})
    internal = fields.Boolean(load_default=False, metadata={
        "description": "typing an internal note (staff): never shown to customers"})


class Replier(Schema):
    user_id = fields.String()
    name = fields.String(allow_none=True)
    internal = fields.Boolean()


class PresenceOut(Schema):
    replying = fields.List(fields.Nested(Replier), metadata={
        "description": "who else is replying now (never the caller)"})


PING = doc("tickets", "I am replying to this ticket (or stopped)", body=PresenceIn,
           response=PresenceOut, errors=(400, 401, 404),
           description=f"A mark lasts {TTL_SECONDS} s: send replying=true every few seconds "
                       "while typing. Answers who else is replying.")
STREAM = doc("tickets", "Live stream of who else is replying to this ticket (server-sent "
             "events)", response=PresenceOut, errors=(401, 404),
             description="text/event-stream. Event `presence` (data {replying: [...]}) at once "
                         "and on every change; a comment line every 15 s keeps it open. "
                         "EventSource cannot send headers: pass ?access_token=.")


def _may_open(self, actor, ticket_id):
    """The ticket's access facts if this actor may open it; 404 otherwise (from intake)."""
    state = call(self.intake, "ticket_state", ticket_id)
    if not visibility.may_see(actor, state):
        raise intake_errors.TICKET_NOT_FOUND()  # as intake answers: ids cannot be probed
    return state


class PresenceRoutes:
    """Mixed into GatewayService; see gateway/routes/__init__.py."""

    presence = PresenceProvider()

    @api("POST", "/api/v1/tickets/<ticket_id>/presence", doc=PING)
    def presence_ping(self, request, ticket_id):
        actor = self._actor(request)
        data = load(PresenceIn(), json_body(request))
        state = _may_open(self, actor, ticket_id)
        tid, sees_internal = state["id"], ticket_rules.sees_internal(actor)
        if data["replying"]:
            self.presence.mark(tid, actor["id"], {
                "name": actor.get("name"), "internal": bool(data["internal"] and sees_internal)},
                TTL_SECONDS)
        else:
            self.presence.clear(tid, actor["id"])
        return {"replying": visible_to(sees_internal, actor["id"], self.presence.who(tid))}

    @api("GET", "/api/v1/tickets/<ticket_id>/presence", doc=STREAM)
    def presence_stream(self, request, ticket_id):
        token = request.args.get("access_token")
        if token and "Authorization" not in request.headers:
            request.environ["HTTP_AUTHORIZATION"] = "Bearer " + token
        actor = self._actor(request)
        state = _may_open(self, actor, ticket_id)
        request.environ["eventlet.minimum_write_chunk_size"] = 0
        return Response(_sse(self.presence, state["id"], actor),
                        mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _sse(store, ticket_id, actor):
    sees_internal = ticket_rules.sees_internal(actor)
    last, quiet, ends = None, 0.0, time.monotonic() + LIFETIME_SECONDS
    yield "retry: 1000\n\n"
    while time.monotonic() < ends:
        now = visible_to(sees_internal, actor["id"], store.who(ticket_id))
        if now != last:
            last, quiet = now, 0.0
            yield "event: presence\ndata: " + json.dumps({"replying": now},
                                                         ensure_ascii=False) + "\n\n"
        elif quiet >= KEEPALIVE_SECONDS:
            quiet = 0.0
            yield ": keep-alive\n\n"
        eventlet.sleep(POLL_SECONDS)
        quiet += POLL_SECONDS
