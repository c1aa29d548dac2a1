"""The clocks behind the SLA report, one row per ticket and target, page by page (keyset,
newest ticket first), for services/exports: the report's own query, staff check and scope
(clocks.report)."""
import datetime as dt

from sqlalchemy import func, select

from gongdan_common import keyset
from gongdan_common.validation import load

from . import schemas
from .reading import _period, report_scope, require_staff
from .models import Clock, SlaTicket


def _iso(value):
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands them back naive; UTC by convention
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.isoformat()


def _minutes(seconds):
    return None if seconds is None else round(seconds / 60, 1)


def _row(ticket, clock):
    return {"ticket_id": ticket.ticket_id, "ticket_number": ticket.number,
            "priority": clock.priority or ticket.priority, "type": ticket.type,
            "target": clock.target, "state": clock.state,
            "breached": clock.breached_at is not None,
            "target_minutes": _minutes(clock.target_seconds),
            "spent_minutes": _minutes(clock.spent_seconds), "due_at": _iso(clock.due_at),
            "met_at": _iso(clock.met_at), "breached_at": _iso(clock.breached_at),
            "ticket_created_at": _iso(ticket.created_at)}


def export_clocks(actor, query, after, limit, uow):
    """{items, next, total?}: up to `limit` clocks after the cursor."""
    require_staff(actor)
    q = load(schemas.ReportQuerySchema(), query)
    limit = keyset.check_limit(limit)
    stmt = _period(select(SlaTicket, Clock).join(Clock, Clock.ticket_id == SlaTicket.ticket_id)
                   .where(report_scope(actor)), q)
    if q.get("target"):
        stmt = stmt.where(Clock.target == q["target"])
    with uow:
        page = keyset.descending(stmt, SlaTicket.created_at, Clock.id, after).limit(limit)
        rows = uow.session.execute(page).all() if limit else []
        out = {"items": [_row(t, c) for t, c in rows],
               "next": keyset.cursor(rows[-1][0].created_at, rows[-1][1].id)
               if rows and len(rows) == limit else None}
        if after is None:
            out["total"] = uow.session.scalar(
                select(func.count()).select_from(stmt.order_by(None).subquery()))
        return out
