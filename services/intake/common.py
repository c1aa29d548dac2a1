"""What intake's handler modules share: ticket references and views, visibility, status
records, comments, timers and the service's settings."""
import zoneinfo

from sqlalchemy import select

from gongdan_common.events import utcnow

from . import domain, events, exceptions as exc, schemas
from .models import Comment, StatusChange, Ticket

_ticket_out = schemas.TicketSchema()


def _ref(ticket):
    return ticket  # dumped through events.TicketRef when the envelope is built


def _view(ticket):
    return {c: getattr(ticket, c) for c in ("submitter_id", "company_id", "provider_id",
                                            "handler_id", "status", "status_before")}


def _get_visible(uow, actor, ticket_id, for_update=False):
    """The ticket if this actor may see it; otherwise 404, so ids cannot be probed.

    for_update: lock the row (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises) for
    writes that do not depend on what the caller saw (a comment, an attachment): the
    version read is then current, so a concurrent write to the same ticket makes this one
    wait instead of failing the version check (StaleDataError answered 500 to 2 of the
    uploads at concurrency 20)."""
    lock = bool(for_update) and uow.session.bind.dialect.name == "postgresql"
    ticket = uow.session.get(Ticket, ticket_id, with_for_update=lock) if ticket_id else None
    if ticket is None:
        stmt = select(Ticket).where(Ticket.number == ticket_id)
        ticket = uow.session.scalar(stmt.with_for_update() if lock else stmt)
    if ticket is None or not domain.can_view(actor, _view(ticket)):
        raise exc.TICKET_NOT_FOUND()
    return ticket


def _record_status(uow, ticket, action, from_status, to_status, actor, reason=None, at=None):
    uow.session.add(StatusChange(
        ticket_id=ticket.id, action=action, from_status=from_status, to_status=to_status,
        reason=reason, actor_id=actor.get("id"), actor_role=actor["role"],
        actor_name=actor.get("name"), at=at or utcnow()))


def _comment(uow, ticket, actor, body, internal, request_key=None):
    now = utcnow()
    comment = Comment(ticket_id=ticket.id, body=body, internal=internal,
                      author_id=actor.get("id"), author_role=actor["role"],
                      author_name=actor.get("name"), created_at=now, request_key=request_key)
    uow.session.add(comment)
    ticket.updated_at = now
    uow.flush()
    uow.emit(events.TICKET_COMMENTED, {
        "comment_id": comment.id, "internal": internal, "author_id": actor.get("id"),
        "author_role": actor["role"], "body": body, "ticket": _ref(ticket)},
        actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
    return comment


def _request_timer(uow, ticket, kind, key, due_at, payload):
    uow.emit(events.TIMER_REQUESTED, {"key": key, "kind": kind, "owner": "intake",
                                      "due_at": due_at, "ticket_id": ticket.id,
                                      "payload": payload},
             ticket_id=ticket.id, ticket_number=ticket.number)


def _cancel_timer(uow, ticket, key):
    uow.emit(events.TIMER_CANCELLED, {"key": key}, ticket_id=ticket.id,
             ticket_number=ticket.number)


def _search_mode(value):
    if value not in ("indexed", "scan"):
        raise ValueError(f"INTAKE.search (INTAKE_SEARCH) must be indexed or scan, not {value!r}")
    return value


def settings_from_config(config):
    from gongdan_common.businessdays import china_workday as is_workday

    intake = config.get("INTAKE") or {}
    return {"number_prefix": intake.get("number_prefix", "TS"),
            "tz": zoneinfo.ZoneInfo(config.get("TIMEZONE", "Asia/Shanghai")),
            "auto_confirm_hours": float(intake.get("auto_confirm_hours", 72)),
            "search": _search_mode(intake.get("search") or "indexed"),
            # overdue leftover items are reminded again every N days (0: only once)
            "leftover_remind_days": float(intake.get("leftover_remind_days", 3)),
            "is_workday": is_workday}
