"""The ticket list: filters, search, sort and paging over what the actor may see.

Keyword search and the page's total are services/intake/search.py's: GIN-indexed on
PostgreSQL, a LIKE scan on SQLite (docs/performance.md, "Ticket search").
"""
from sqlalchemy import asc, desc, select

from gongdan_common.validation import load

from . import domain, exceptions as exc, schemas, search, tagging
from .models import Ticket

_summary_out = schemas.TicketSummarySchema()


_SORT = {"created_at": Ticket.created_at, "updated_at": Ticket.updated_at,
         "number": Ticket.number, "priority": Ticket.priority, "sla_due_at": Ticket.sla_due_at}


def list_query(actor, q, dialect, indexed=True):
    """The tickets a list request asks for: visibility, filters and keyword; no order."""
    stmt = select(Ticket)
    scope = domain.visibility_scope(actor)
    if scope:
        stmt = stmt.where(getattr(Ticket, scope[0]) == scope[1])
    if q.get("number"):
        stmt = stmt.where(Ticket.number.like(search.like_pattern(q["number"].strip().upper()),
                                             escape="\\"))
    for name in ("status", "type", "priority"):
        if q.get(name):
            stmt = stmt.where(getattr(Ticket, name).in_(q[name]))
    for name in ("product_line", "product", "company_id", "device_sn", "handler_id",
                 "submitter_id"):
        if q.get(name):
            stmt = stmt.where(getattr(Ticket, name) == q[name])
    if q.get("created_from"):
        stmt = stmt.where(Ticket.created_at >= q["created_from"])
    if q.get("created_to"):
        stmt = stmt.where(Ticket.created_at < q["created_to"])
    if q.get("sla_due_before"):
        stmt = stmt.where(Ticket.sla_due_at < q["sla_due_before"])
    if q.get("sla_breached") is not None:
        stmt = stmt.where(Ticket.sla_breached.is_(q["sla_breached"]))
    if q.get("tag"):
        stmt = stmt.where(tagging.tag_clause(q["tag"], q.get("tag_mode", "any")))
    term = search.clean(q.get("keyword") or "")
    if term:
        stmt = stmt.where(search.keyword_clause(Ticket, term, dialect, indexed))
    return stmt


def _page(stmt, q):
    sort = q["sort"]
    column = _SORT[sort.lstrip("-")]
    order = desc if sort.startswith("-") else asc
    # tickets without a running SLA clock sort after those with one, either way
    nulls = (Ticket.sla_due_at.is_(None),) if column is Ticket.sla_due_at else ()
    return stmt.order_by(*nulls, order(column), order(Ticket.id)) \
        .offset((q["page"] - 1) * q["page_size"]).limit(q["page_size"])


def list_tickets(actor, query, uow, settings=None):
    """A page of tickets with its total (`total_exact` false: an estimate). With
    settings["search"] == "scan", the path before issue 15 (ILIKE over the columns, exact
    count): the benchmark's baseline."""
    q = load(schemas.ListQuerySchema(), query)
    if q.get("tag") and not tagging.may_tag(actor):
        raise exc.TAGS_STAFF_ONLY()
    indexed = (settings or {}).get("search", "indexed") != "scan"
    offset = (q["page"] - 1) * q["page_size"]
    with uow:
        dialect = uow.session.bind.dialect.name
        stmt = list_query(actor, q, dialect, indexed)
        rows = uow.session.scalars(_page(stmt, q)).all()
        total, exact = search.page_total(uow.session, stmt, dialect, offset, rows,
                                         q["page_size"], exact=not indexed)
        items = _summary_out.dump(rows, many=True)
        if tagging.may_tag(actor):  # staff labels, never shown to customers
            tags = tagging.tags_of(uow, [r.id for r in rows])
            for item in items:
                item["tags"] = tags.get(item["id"], [])
        return {"items": items, "total": total,
                "total_exact": exact, "page": q["page"], "page_size": q["page_size"]}


def explain_statements(actor, query, dialect, indexed=True):
    """[(label, statement)] a list request runs (bench/ticket_search.py prints their plans)."""
    q = load(schemas.ListQuerySchema(), query)
    stmt = list_query(actor, q, dialect, indexed)
    label = "count" if not indexed else \
        f"count (run only when the planner expects <= {search.COUNT_CAP} matches)"
    return [("page", _page(stmt, q)),
            (label, search.count_statement(stmt, exact=not indexed))]
