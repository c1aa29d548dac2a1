"""The entries behind an engineer-time report, page by page (keyset, newest first), for
services/exports: the report's own query, period checks and role scope (handlers.report_scope).
"""
from sqlalchemy import func, select

from gongdan_common import keyset

from .handlers import _iso, report_scope
from .models import Entry


def _row(e):
    return {"id": e.id, "ticket_id": e.ticket_id, "ticket_number": e.ticket_number,
            "handler_id": e.handler_id, "handler_name": e.handler_name,
            "started_at": _iso(e.started_at), "ended_at": _iso(e.ended_at),
            "minutes": round(e.duration_seconds / 60), "title": e.title,
            "description": e.description, "on_site": e.on_site,
            "product_line": e.product_line, "provider_id": e.provider_id}


def export_entries(actor, query, after, limit, uow):
    """{items, next, total?}: up to `limit` entries after the cursor."""
    _, _, where = report_scope(actor, query)
    limit = keyset.check_limit(limit)
    stmt = select(Entry).where(*where)
    with uow:
        page = keyset.descending(stmt, Entry.started_at, Entry.id, after).limit(limit)
        rows = uow.session.scalars(page).all() if limit else []
        out = {"items": [_row(e) for e in rows],
               "next": keyset.cursor(rows[-1].started_at, rows[-1].id)
               if rows and len(rows) == limit else None}
        if after is None:
            out["total"] = uow.session.scalar(select(func.count()).where(*where))
        return out
