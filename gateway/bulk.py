"""Bulk actions over tickets (POST /api/v1/tickets/bulk): authorise all, then act one by one.

intake's `bulk_prepare` decides first whether the actor may act on EVERY ticket named (and
refuses the whole request, naming those it may not, before anything changes). Then each
ticket goes through the same RPC a single action uses - assign: dispatch's `assign`; close:
intake's lifecycle; priority: intake's `update_ticket`; tags: intake's `add_tags` /
`remove_tags` - each in its own transaction with its own rules and events. A ticket those
rules refuse (closing one that is not resolved, an engineer not qualified) is reported as
refused with the rule's own message; the others are done.
"""
import logging

from gongdan_common.errors import AppError, unavailable_error

from . import exceptions as exc
from .http import call

log = logging.getLogger(__name__)


def _one(services, actor, action, ticket_id, params):
    intake, dispatch = services["intake"], services["dispatch"]
    if action == "assign":
        return call(dispatch, "assign", actor, ticket_id, params)
    if action == "close":
        return call(intake, "transition", actor, ticket_id, "close", params)
    if action == "priority":
        return call(intake, "update_ticket", actor, ticket_id, params)
    return call(intake, "add_tags" if action == "tag" else "remove_tags", actor, ticket_id,
                params)


def _failure(error):
    """The refusal as kept and answered: code, status and the message in both languages."""
    if not isinstance(error, AppError):
        error = unavailable_error(error) or exc.SERVICE_UNAVAILABLE(service="intake/dispatch")
    return {"code": error.code, "status": error.status, "message": error.payload["message"]}


def run(services, actor, body, request_key=None):
    """{action, results: [{ticket_id, number, ok, error?}], done, refused} (messages in
    both languages; `render` picks the request's)."""
    if request_key:
        body = dict(body, request_key=request_key)
    plan = call(services["intake"], "bulk_prepare", actor, body)
    if "replay" in plan:
        return plan["replay"]
    results = []
    for ticket in plan["tickets"]:
        item = {"ticket_id": ticket["id"], "number": ticket["number"], "ok": True}
        try:
            _one(services, actor, plan["action"], ticket["id"], dict(plan["params"]))
        except Exception as error:  # noqa: BLE001 - reported per ticket
            if not isinstance(error, AppError):
                log.warning("bulk %s on %s failed: %r", plan["action"], ticket["number"], error)
            item.update(ok=False, error=_failure(error))
        results.append(item)
    done = sum(1 for r in results if r["ok"])
    out = {"action": plan["action"], "results": results, "done": done,
           "refused": len(results) - done}
    if request_key:
        call(services["intake"], "bulk_finish", actor, request_key, out)
    return out


def render(result, lang):
    """The per-ticket messages in the request's language (zh or en)."""
    items = []
    for r in result["results"]:
        item = dict(r)
        if item.get("error"):
            err = dict(item["error"])
            err["message"] = err["message"].get(lang) or err["message"].get("en")
            item["error"] = err
        items.append(item)
    return dict(result, results=items)
