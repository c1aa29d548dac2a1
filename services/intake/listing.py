"""The ticket list: filters, search, sort and paging over what the actor may see."""
from sqlalchemy import asc, desc, func, or_, select

from gongdan_common.validation import load

from . import domain, schemas
from .models import Ticket

_summary_out = schemas.TicketSummarySchema()


_SORT = {"created_at": Ticket.created_at, "updated_at": Ticket.updated_at,
         "number": Ticket.number, "priority": Ticket.priority, "sla_due_at": Ticket.sla_due_at}


def _like(term):
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_tickets(actor, query, uow):
    q = load(schemas.ListQuerySchema(), query)
    stmt = select(Ticket)
    scope = domain.visibility_scope(actor)
    if scope:
        stmt = stmt.where(getattr(Ticket, scope[0]) == scope[1])
    if q.get("number"):
        stmt = stmt.where(Ticket.number.like(_like(q["number"].strip().upper()), escape="\\"))
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
    if q.get("keyword"):
        # LIKE on substrings works for Chinese, which has no spaces between words
        pattern = _like(q["keyword"].strip())
        stmt = stmt.where(or_(Ticket.title.ilike(pattern, escape="\\"),
                              Ticket.description.ilike(pattern, escape="\\"),
                              Ticket.number.ilike(pattern, escape="\\")))
    sort = q["sort"]
    column = _SORT[sort.lstrip("-")]
    order = desc if sort.startswith("-") else asc
    # tickets without a running SLA clock sort after those with one, either way
    nulls = (Ticket.sla_due_at.is_(None),) if column is Ticket.sla_due_at else ()
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = uow.session.scalars(
            stmt.order_by(*nulls, order(column), order(Ticket.id))
            .offset((q["page"] - 1) * q["page_size"]).limit(q["page_size"])).all()
        return {"items": _summary_out.dump(rows, many=True), "total": total,
                "page": q["page"], "page_size": q["page_size"]}
