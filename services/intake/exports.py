"""Whole lists for services/exports, page by page (keyset, newest first): the tickets of a
list request and the ratings on them. The filters and visibility are the list's own
(listing.list_query), so an export holds exactly what the actor's list would show; the
first page (after=None) also carries the total, counted or estimated as the list's is.
"""
from sqlalchemy import func, select

from gongdan_common import keyset
from gongdan_common.fields import UTCDateTime
from gongdan_common.validation import load

from . import listing, schemas, search
from .models import Rating, Ticket

_time = UTCDateTime()
# the list's summary fields, read as plain columns: no ORM objects, no description or search
# grams loaded, no schema per row (an export reads a million of them)
SUMMARY = ("id", "number", "type", "title", "product", "product_line", "category", "priority",
           "status", "company_id", "company_name", "region", "submitter_id", "submitter_name",
           "provider_id", "handler_id", "handler_name", "device_sn", "created_at",
           "updated_at", "sla_due_at", "sla_breached")
_TIMES = ("created_at", "updated_at", "sla_due_at")


def _summary(row):
    item = dict(zip(SUMMARY, row))
    for name in _TIMES:
        item[name] = _time.serialize(name, item)
    return item


class RatingQuerySchema(schemas.ListQuerySchema):
    """The list's filters (on the rated tickets) and the period the ratings were made in."""
    rated_from = UTCDateTime()
    rated_to = UTCDateTime(day_end=True)


def _filters(schema, query):
    # a list URL's paging and order mean nothing to a whole export: dropped, not refused
    query = {k: v for k, v in (query or {}).items() if k not in ("page", "page_size", "sort")} \
        if isinstance(query, dict) else query
    return load(schema, query)


def export_tickets(actor, query, after, limit, uow, settings=None):
    """{items, next, total?}: up to `limit` tickets after the cursor `after`."""
    q = _filters(schemas.ListQuerySchema(), query)
    limit = keyset.check_limit(limit)
    indexed = (settings or {}).get("search", "indexed") != "scan"
    with uow:
        dialect = uow.session.bind.dialect.name
        stmt = listing.list_query(actor, q, dialect, indexed)
        page = keyset.descending(
            stmt.with_only_columns(*(getattr(Ticket, c) for c in SUMMARY)),
            Ticket.created_at, Ticket.id, after).limit(limit)
        rows = uow.session.execute(page).all() if limit else []
        out = {"items": [_summary(r) for r in rows],
               "next": keyset.cursor(rows[-1].created_at, rows[-1].id)
               if len(rows) == limit and rows else None}
        if after is None:
            out["total"] = search.page_total(uow.session, stmt, dialect, 0, rows,
                                             max(limit, 1))[0]
        return out


def _rating_row(rating, ticket):
    return {"id": rating.id, "ticket_id": ticket.id, "ticket_number": ticket.number,
            "title": ticket.title, "product_line": ticket.product_line,
            "company_name": ticket.company_name, "provider_id": ticket.provider_id,
            "handler_name": ticket.handler_name, "round": rating.round,
            "product_score": rating.product_score, "service_score": rating.service_score,
            "comment": rating.comment, "rater_name": rating.rater_name,
            "rated_at": _time.serialize("d", {"d": rating.created_at})}


def export_ratings(actor, query, after, limit, uow, settings=None):
    """{items, next, total?}: ratings (product and service stars, comment) on the tickets the
    actor's list would show with these filters, rated in [rated_from, rated_to)."""
    q = _filters(RatingQuerySchema(), query)
    limit = keyset.check_limit(limit)
    with uow:
        dialect = uow.session.bind.dialect.name
        visible = listing.list_query(actor, q, dialect).whereclause
        stmt = select(Rating, Ticket).join(Ticket, Ticket.id == Rating.ticket_id)
        if visible is not None:
            stmt = stmt.where(visible)
        if q.get("rated_from"):
            stmt = stmt.where(Rating.created_at >= q["rated_from"])
        if q.get("rated_to"):
            stmt = stmt.where(Rating.created_at < q["rated_to"])
        page = keyset.descending(stmt, Rating.created_at, Rating.id, after).limit(limit)
        rows = uow.session.execute(page).all() if limit else []
        out = {"items": [_rating_row(r, t) for r, t in rows],
               "next": keyset.cursor(rows[-1][0].created_at, rows[-1][0].id)
               if len(rows) == limit and rows else None}
        if after is None:
            out["total"] = uow.session.scalar(
                select(func.count()).select_from(stmt.order_by(None).subquery()))
        return out
