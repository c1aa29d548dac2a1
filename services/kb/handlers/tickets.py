"""The knowledge-base side of a ticket: write from it, link it, the suggestion to write one
when it is solved."""
from sqlalchemy import func, select

from gongdan_common import visibility
from gongdan_common.errors import FORBIDDEN
from gongdan_common.events import utcnow
from gongdan_common.outbox import consume_once
from gongdan_common.validation import load

from .. import domain, exceptions as exc, schemas, text
from ..models import Article, TicketLink, WritingSuggestion
from .articles import create_article
from .common import _actor, _guard, _view, _summaries, _article, guess_language


# ---- tickets -----------------------------------------------------------------------------------

def create_from_ticket(actor, ticket, payload, uow, index, settings):
    """A draft prefilled from a solved ticket (symptom = its description, root cause and
    solution = its latest closing report), linked both ways. `ticket` is intake's detail as
    the gateway fetched it for this actor (so the actor may see the ticket)."""
    _actor(actor)
    _guard(domain.check_write_role, actor)
    facts = load(schemas.TicketFactsSchema(), ticket)
    data = load(schemas.FromTicketSchema(), payload)
    if facts["status"] not in ("resolved", "closed") or not facts["closing_reports"]:
        raise exc.TICKET_NOT_SOLVED()
    report = sorted(facts["closing_reports"], key=lambda r: r.get("round") or 0)[-1]
    language = data.get("language") or guess_language(facts["title"] + facts["description"])
    names = facts["root_causes"].get(report.get("root_cause")) or {}
    draft = domain.draft_from_ticket(facts, report, names.get(language), language)
    article = {"title": data.get("title") or draft["title"][:200], "body": draft["body"],
               "keywords": draft["keywords"], "language": language,
               "visibility": data["visibility"], "product": facts.get("product"),
               "product_line": facts.get("product_line"), "category": facts.get("category")}
    return create_article(actor, article, uow, index, settings, source_ticket=facts)


def link_ticket(actor, ticket, payload, uow, settings):
    """Point a ticket at an existing article (staff)."""
    _actor(actor)
    _guard(domain.check_write_role, actor)
    facts = load(schemas.TicketFactsSchema(), ticket)
    data = load(schemas.LinkSchema(), payload)
    with uow:
        article = _article(uow, data["article_id"], actor)
        exists = uow.session.scalar(select(TicketLink).where(
            TicketLink.article_id == article.id, TicketLink.ticket_id == facts["id"]))
        if exists is None:
            uow.session.add(TicketLink(article_id=article.id, ticket_id=facts["id"],
                                       ticket_number=facts["number"], relation="linked",
                                       by_id=actor.get("id"), at=settings["now"](),
                                       **{f: facts.get(f) for f in visibility.FACTS}))
            uow.commit()
    return ticket_articles(actor, facts["id"], uow)


def ticket_articles(actor, ticket_id, uow):
    """Articles linked to a ticket the actor may see, and (for staff) the suggestion to
    write one."""
    _actor(actor)
    with uow:
        rows = uow.session.scalars(
            select(Article).join(TicketLink, TicketLink.article_id == Article.id)
            .where(TicketLink.ticket_id == ticket_id).order_by(TicketLink.at)).all()
        visible = [a for a in rows if domain.can_read(actor, _view(a))]
        suggestion = None
        if not domain.is_customer(actor):
            row = uow.session.scalar(select(WritingSuggestion).where(
                WritingSuggestion.ticket_id == ticket_id))
            suggestion = schemas.WritingSuggestionSchema().dump(row) if row else None
        return {"ticket_id": ticket_id, "articles": _summaries(actor, visible),
                "writing_suggestion": suggestion}


def list_writing_suggestions(actor, query, uow):
    _actor(actor)
    if domain.is_customer(actor):
        raise FORBIDDEN()
    q = load(schemas._Page(), {k: v for k, v in (query or {}).items() if k != "status"})
    status = (query or {}).get("status", "open")
    with uow:
        # only tickets the actor may see (gongdan_common.visibility): a provider's staff never
        # learn of another provider's solved tickets
        where = [WritingSuggestion.status == status, visibility.scope_clause(actor, {
            fact: getattr(WritingSuggestion, fact) for fact in visibility.FACTS})]
        total = uow.session.scalar(select(func.count()).select_from(WritingSuggestion)
                                   .where(*where))
        rows = uow.session.scalars(select(WritingSuggestion).where(*where)
                                   .order_by(WritingSuggestion.created_at.desc())
                                   .offset((q["page"] - 1) * q["page_size"])
                                   .limit(q["page_size"])).all()
        return {"items": schemas.WritingSuggestionSchema(many=True).dump(rows), "total": total,
                "page": q["page"], "page_size": q["page_size"]}


CONSUMER = "kb.ticket_solved"


def on_ticket_solved(envelope, uow, index):
    """intake's ticket_resolved / ticket_closed: when neither a linked article nor a closely
    matching published one (same product and category, sharing most of the title's terms)
    exists, record a suggestion to write one. Idempotent on event_id and per ticket."""
    data = envelope.get("data") or {}
    ticket = data.get("ticket") or {}
    if not ticket.get("id"):
        return
    now = utcnow()
    with uow:
        if not consume_once(uow, envelope, CONSUMER):
            return
        row = uow.session.scalar(select(WritingSuggestion).where(
            WritingSuggestion.ticket_id == ticket["id"]))
        linked = uow.session.scalar(select(TicketLink.article_id).where(
            TicketLink.ticket_id == ticket["id"]).limit(1))
        matched = None if linked else _close_match(uow, index, ticket)
        status = "written" if linked else "covered" if matched else "open"
        if row is None:
            row = WritingSuggestion(ticket_id=ticket["id"], created_at=now)
            uow.session.add(row)
        row.ticket_number = ticket.get("number") or ""
        row.title = (ticket.get("title") or "")[:200]
        row.product, row.product_line = ticket.get("product"), ticket.get("product_line")
        row.category = ticket.get("category")
        for fact in visibility.FACTS:
            setattr(row, fact, ticket.get(fact))
        if envelope.get("type") == "ticket_resolved":
            row.root_cause, row.solution = data.get("root_cause"), data.get("description")
        if row.status != "written":
            row.status, row.matched_article_id = status, matched
            row.article_id = linked
        row.updated_at = now
        uow.commit()


def _close_match(uow, index, ticket):
    terms = text.query_terms(ticket.get("title") or "")
    filters = {"status": "published"}
    for k in ("product", "category"):
        if ticket.get(k):
            filters[k] = ticket[k]
    _total, top = index.index.search(terms, filters, 0, 3)
    for aid, _score in top:
        terms_of = uow.session.scalar(select(Article.index_terms).where(Article.id == aid))
        if terms_of and domain.closely_matches(terms, terms_of):
            return aid
    return None
