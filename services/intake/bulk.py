"""Bulk actions, intake's part: may this actor do this action on every one of these tickets?

The gateway asks `prepare` first; only when the actor may act on ALL the tickets does it
run the action ticket by ticket through the ordinary RPCs (each its own transaction, with
its own checks and events), then hands the per-ticket results to `finish`. A request naming
one ticket the actor cannot touch is refused whole, before anything changes; the refusal
names those tickets as the caller wrote them (an id or number they do not see is "not found
or not yours", exactly like one that does not exist, so nothing leaks).

With a request key (the Idempotency-Key), the first request's results are kept: a retry
gets them again instead of acting twice.
"""
import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import desk_schemas as ds, domain, exceptions as exc
from .common import _view
from .models import BulkRequest, Ticket

# a keyed request still without results after this long lost its runner (a gateway restart)
STALE_AFTER = dt.timedelta(minutes=10)


def _aware(value):
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)  # SQLite: naive UTC


# who may do which action in bulk (each ticket's own RPC checks its rules again)
ROLES = {"tag": domain.STAFF_ROLES, "untag": domain.STAFF_ROLES,
         "priority": domain.DESK_ROLES, "close": domain.DESK_ROLES,
         "assign": domain.DESK_ROLES | {"provider_admin"}}


def _resolve(uow, actor, refs):
    """[(ref, ticket or None)] in the order given; None when not visible to the actor."""
    rows = uow.session.scalars(select(Ticket).where(
        or_(Ticket.id.in_(refs), Ticket.number.in_([r.upper() for r in refs])))).all()
    by_ref = {}
    for t in rows:
        by_ref[t.id] = by_ref[t.number] = t
    out = []
    for ref in refs:
        ticket = by_ref.get(ref) or by_ref.get(ref.upper())
        out.append((ref, ticket if ticket is not None and domain.can_view(actor, _view(ticket))
                    else None))
    return out


def prepare(actor, payload, uow):
    """{tickets: [{id, number}], action, params} to run, or {replay: results} for a repeated
    request key; raises when the actor may not act on every ticket."""
    data = load(ds.BulkSchema(), payload)
    action = data["action"]
    if actor.get("role") not in ROLES[action]:
        raise exc.BULK_ACTION_FORBIDDEN(action=action)
    params = load(ds.BULK_PARAMS[action](), data["params"])
    refs = list(dict.fromkeys(r.strip() for r in data["ticket_ids"] if r.strip()))
    key = data.get("request_key")
    with uow:
        if key:
            done = uow.session.get(BulkRequest, (actor["id"], key))
            if done is not None and done.result is None and \
                    utcnow() - _aware(done.created_at) > STALE_AFTER:
                uow.session.delete(done)  # its runner died mid-way: this retry runs it again
                uow.flush()
            elif done is not None:
                if done.result is None:
                    raise exc.BULK_IN_PROGRESS()
                return {"replay": done.result}
        resolved = _resolve(uow, actor, refs)
        refused = [ref for ref, ticket in resolved if ticket is None]
        if refused or not resolved:
            raise exc.BULK_TICKETS_REFUSED(details={"tickets": refused},
                                           tickets=", ".join(refused) or "-")
        if key:
            uow.session.add(BulkRequest(actor_id=actor["id"], request_key=key, action=action,
                                        created_at=utcnow()))
            try:
                uow.commit()
            except IntegrityError:  # the same key, sent twice at once
                raise exc.BULK_IN_PROGRESS() from None
        # the same ticket named twice (by id and by number) is acted on once
        tickets = list({t.id: t for _, t in resolved}.values())
        return {"action": action, "params": params,
                "tickets": [{"id": t.id, "number": t.number} for t in tickets]}


def finish(actor, request_key, result, uow):
    """Keep a keyed request's results for its retries."""
    with uow:
        row = uow.session.get(BulkRequest, (actor["id"], request_key))
        if row is not None:
            row.result = result
            uow.commit()
    return True
