"""The ticket list: filters, search, sort and paging over what the actor may see.

Keyword search and the page's total are services/intake/search.py's: GIN-indexed on
PostgreSQL, a LIKE scan on SQLite; which plan reads a keyword's page is
services/intake/search_plans.py's (docs/performance.md, "Ticket search").
"""
from sqlalchemy import select

from gongdan_common.validation import load

from . import domain, exceptions as exc, schemas, search, search_plans, tagging
from .models import Ticket

_summary_out = schemas.TicketSummarySchema()
_query_in = schemas.ListQuerySchema()  # one instance: building it cost 0.7 ms a list page


def list_query(actor, q, dialect, indexed=True, keyword=True):
    """The tickets a list request asks for: visibility, filters and (unless `keyword` is
    false) the keyword; no order."""
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
    if term and keyword:
        stmt = stmt.where(search.keyword_clause(Ticket, term, dialect, indexed))
    return stmt


def split_of(q):
    """The IN filter a keyword's walk may read value by value (search_plans.walk_statement)."""
    return ("status", q["status"]) if q.get("status") else None


def _page(stmt, q):
    return stmt.order_by(*search_plans.ordering(q["sort"])(Ticket)) \
        .offset((q["page"] - 1) * q["page_size"]).limit(q["page_size"])


def list_tickets(actor, query, uow, settings=None):
    """A page of tickets with its total (`total_exact` false: an estimate).
    settings["search"]: `indexed` (the plan per keyword of search_plans), `planner` (one
    statement, the planner's choice: the path of migration 0005 alone) or `scan` (ILIKE
    over the columns, exact count: the path before issue 15) — the last two are the
    benchmark's baselines."""
    q = load(_query_in, query)
    if q.get("tag") and not tagging.may_tag(actor):
        raise exc.TAGS_STAFF_ONLY()
    mode = (settings or {}).get("search", "indexed")
    offset = (q["page"] - 1) * q["page_size"]
    with uow:
        dialect = uow.session.bind.dialect.name
        base = list_query(actor, q, dialect, keyword=False)
        page = search_plans.read_page(uow.session, base, search.clean(q.get("keyword") or ""),
                                      q["sort"], offset, q["page_size"], mode, split_of(q))
        items = _summary_out.dump(page.rows, many=True)
        if tagging.may_tag(actor):  # staff labels, never shown to customers
            tags = tagging.tags_of(uow, [r.id for r in page.rows])
            for item in items:
                item["tags"] = tags.get(item["id"], [])
        return {"items": items, "total": page.total,
                "total_exact": page.exact, "page": q["page"], "page_size": q["page_size"]}


def explain_statements(actor, query, dialect, mode="indexed"):
    """[(label, statement)] a list request may run (bench/ticket_search.py prints their
    plans): per search_plans' plans for `indexed`, else the page and count of one statement."""
    q = load(_query_in, query)
    term = search.clean(q.get("keyword") or "")
    offset, limit = (q["page"] - 1) * q["page_size"], q["page_size"]
    if mode == "indexed" and search_plans.choose(dialect, mode, q["sort"], term) == "walk":
        base = list_query(actor, q, dialect, keyword=False)
        return search_plans.explain_statements(base, term, q["sort"], offset, limit,
                                               split_of(q))
    stmt = list_query(actor, q, dialect, mode != "scan")
    label = "count" if mode == "scan" else \
        f"count (run only when the planner expects <= {search.COUNT_CAP} matches)"
    return [("page", _page(stmt, q)), (label, search.count_statement(stmt, exact=mode == "scan"))]
