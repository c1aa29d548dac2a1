"""Search and suggestions for ticket drafts, their sessions and the deflection report."""
import time

from sqlalchemy import select, text as sql_text

from gongdan_common.fields import UTCDateTime
from gongdan_common.validation import load

from .. import domain, exceptions as exc, ranking, schemas, text
from ..models import Article, SuggestSession
from .common import _FILTERS, _actor, _guard, _view, _source_visible


_search_in = schemas.SearchQuerySchema()
_suggest_in = schemas.SuggestSchema()
SNIPPET_CHARS = 160

# ---- search and suggestions ---------------------------------------------------------------

def search(actor, query, uow, index):
    """Ranked full-text search with highlighted snippets, filters and paging."""
    _actor(actor)
    started = time.perf_counter()
    q = load(_search_in, query)
    filters = _guard(domain.search_scope, actor, {k: q[k] for k in _FILTERS if k in q})
    offset = (q["page"] - 1) * q["page_size"]
    total, page, terms = ranking.rank(index.index, index.dictionary,
                                      ranking.search_terms(q["q"]), filters, offset,
                                      q["page_size"], ranking.SEARCH_TERMS)
    with uow:
        items = _hits(uow, actor, page, terms, filters)
    return {"items": items, "total": total, "page": q["page"], "page_size": q["page_size"],
            "took_ms": round((time.perf_counter() - started) * 1000, 2)}


_HIT_COLUMNS = (Article.id, Article.title, Article.status, Article.visibility, Article.language,
                Article.product, Article.product_line, Article.category, Article.keywords,
                Article.current_version, Article.author_id, Article.author_name,
                Article.author_role, Article.source_ticket_id, Article.created_at,
                Article.updated_at, Article.published_at, Article.body_md) + tuple(
                    getattr(Article, c) for c in domain.SOURCE_FACTS.values())


_utc = UTCDateTime()


def _iso(value):
    return _utc._serialize(value, None, None)


def _hit(a, score, terms):
    """A search hit: the ArticleSummarySchema fields built directly (this is the hot path;
    tests/test_kb.py checks the shape matches the schema), the score and the snippets."""
    return {"id": a.id, "title": a.title, "status": a.status, "visibility": a.visibility,
            "language": a.language, "product": a.product, "product_line": a.product_line,
            "category": a.category, "keywords": a.keywords, "version": a.current_version,
            "author": {"id": a.author_id, "name": a.author_name, "role": a.author_role},
            "source_ticket_id": a.source_ticket_id, "created_at": _iso(a.created_at),
            "updated_at": _iso(a.updated_at), "published_at": _iso(a.published_at),
            "score": round(score, 4), "title_html": text.highlight(a.title, terms),
            "snippet_html": text.highlight(text.plain_text(a.body_md), terms,
                                           window=SNIPPET_CHARS)}


def _hits(uow, actor, page, terms, filters):
    if not page:
        return []
    rows = {a.id: a for a in uow.session.execute(
        select(*_HIT_COLUMNS).where(Article.id.in_([aid for aid, _s in page]))).all()}
    out = []
    for aid, score in page:
        a = rows.get(aid)
        # the index may trail the database by a poll: the row has the last word
        if a is None or not domain.can_read(actor, _view(a)) or \
                any(filters.get(k) not in (None, getattr(a, k)) for k in _FILTERS):
            continue
        hit = _hit(a, score, terms)
        if not _source_visible(actor, a):
            hit["source_ticket_id"] = None
        out.append(hit)
    return out


def rank_suggestions(actor, data, uow, index):
    """The suggestion hits for a loaded SuggestSchema payload (no session bookkeeping)."""
    filters = {"status": "published", "visibility": "public"}
    for k in ("product", "language"):
        if data.get(k):
            filters[k] = data[k]
    _total, page, terms = ranking.rank(
        index.index, index.dictionary, ranking.suggest_terms(data["title"], data["description"]),
        filters, 0, data["limit"], ranking.SUGGEST_TERMS)
    with uow:
        return _hits(uow, actor, page, terms, filters)


def suggest(actor, payload, uow, index, settings):
    """Public published articles for a ticket draft (title counts twice), recorded in a
    suggestion session so the deflection report can count what happened next."""
    _actor(actor)
    data = load(_suggest_in, payload)
    now = settings["now"]()
    query_text = (data["title"] + " " + data["description"]).strip()[:500]
    with uow:  # one transaction: the ranking's read and the session write
        items = rank_suggestions(actor, data, uow, index)
        session = uow.session.get(SuggestSession, data["session_id"]) \
            if data.get("session_id") else None
        if session is None or session.user_id != actor.get("id"):
            session = SuggestSession(user_id=actor.get("id"), company_id=actor.get("company_id"),
                                     query=query_text, shown=[], opened=[], calls=0,
                                     created_at=now)
            uow.session.add(session)
        shown = list(session.shown)
        shown += [i["id"] for i in items if i["id"] not in shown]
        session.shown, session.query = shown[:100], query_text
        session.calls = (session.calls or 0) + 1
        session.updated_at = now
        if uow.engine is not None and uow.engine.dialect.name == "postgresql":
            # telemetry, written on every keystroke pause: losing the last fraction of a
            # second of it in a database crash is acceptable, waiting for the WAL flush is not
            uow.session.execute(sql_text("SET LOCAL synchronous_commit TO OFF"))
        uow.commit()
        return {"session_id": session.id, "items": items}


def _own_session(uow, actor, session_id):
    session = uow.session.get(SuggestSession, session_id) \
        if isinstance(session_id, str) and 0 < len(session_id) <= 36 else None
    if session is None or session.user_id != actor.get("id"):
        raise exc.SESSION_NOT_FOUND()
    return session


def suggestion_opened(actor, session_id, payload, uow, settings):
    _actor(actor)
    data = load(schemas.OpenedSchema(), payload)
    with uow:
        session = _own_session(uow, actor, session_id)
        if data["article_id"] not in session.opened:
            session.opened = list(session.opened) + [data["article_id"]]
        session.first_opened_at = session.first_opened_at or settings["now"]()
        session.updated_at = settings["now"]()
        uow.commit()
        return {"session_id": session.id, "opened": session.opened}


def suggestion_outcome(actor, session_id, payload, uow, settings):
    """The customer submitted the ticket anyway (submitted=true, with its id), or left the
    form because an article answered the question (submitted=false)."""
    _actor(actor)
    data = load(schemas.OutcomeSchema(), payload)
    with uow:
        session = _own_session(uow, actor, session_id)
        session.submitted = data["submitted"]
        session.ticket_id = data.get("ticket_id")
        session.updated_at = settings["now"]()
        uow.commit()
        return {"session_id": session.id, "submitted": session.submitted}


def deflection_report(actor, query, uow):
    _actor(actor)
    q = load(schemas.ReportQuerySchema(), query)
    _guard(domain.check_report, actor)
    with uow:
        rows = uow.session.execute(select(
            SuggestSession.shown, SuggestSession.opened, SuggestSession.submitted).where(
            SuggestSession.created_at >= q["from_"], SuggestSession.created_at < q["to"])).all()
    out = domain.deflection([{"shown": r.shown, "opened": r.opened, "submitted": r.submitted}
                             for r in rows])
    return schemas.DeflectionSchema().dump({"from_": q["from_"], "to": q["to"], **out})


def index_stats(index):
    return index.index.stats()
