"""KB's service layer: plain functions over a unit of work. No nameko here.

`index` is the process's `LiveIndex` (live.py). Every article write, in one transaction,
saves the article and a version, appends to `kb_index_log` (so every other instance
re-indexes it within a poll) and emits its event through the outbox; after the commit the
writing process updates its own index at once. Searches rank with the index and then read
the page's rows from the database, re-checking visibility, so a customer never sees an
internal or unpublished article even from an index a fraction of a second behind.
"""
import re
import time

from sqlalchemy import delete, func, or_, select, text as sql_text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from gongdan_common import visibility
from gongdan_common.errors import FORBIDDEN, AppError
from gongdan_common.events import utcnow
from gongdan_common.fields import UTCDateTime
from gongdan_common.outbox import consume_once
from gongdan_common.validation import load

from . import domain, events, exceptions as exc, schemas, text
from .models import (Article, ArticleFile, ArticleVersion, Feedback, IndexLog, SuggestSession,
                     TicketLink, WritingSuggestion)

_summary = schemas.ArticleSummarySchema()
_search_in = schemas.SearchQuerySchema()
_suggest_in = schemas.SuggestSchema()
_FILTERS = ("product", "product_line", "category", "language", "visibility", "status")
_CJK = re.compile(r"[\u3400-\u9fff]")
SNIPPET_CHARS = 160
SUGGEST_TERMS = 12  # a draft's most informative terms rank its suggestions


def settings_from_config(config):
    return {"now": utcnow}


# ---- helpers ------------------------------------------------------------------------------

def _actor(actor):
    if not isinstance(actor, dict) or not isinstance(actor.get("role"), str):
        raise FORBIDDEN()
    return actor


def _guard(check, *args):
    try:
        return check(*args)
    except domain.Refused as refused:
        raise exc.refused(refused) from None


def _view(article):
    out = {"status": article.status, "visibility": article.visibility,
           "author_id": article.author_id, "published_at": article.published_at,
           "source_ticket_id": article.source_ticket_id}
    out.update({c: getattr(article, c) for c in domain.SOURCE_FACTS.values()})
    return out


def _source_visible(actor, article):
    """domain.sees_source for an article row (ORM object or selected columns)."""
    return domain.sees_source(actor, {c: getattr(article, c, None) for c in
                                      ("author_id", *domain.SOURCE_FACTS.values())})


def _summaries(actor, rows):
    items = _summary.dump(rows, many=True)
    for item, row in zip(items, rows):
        if not _source_visible(actor, row):
            item["source_ticket_id"] = None
    return items


def _readable(actor):
    """domain.can_read as a query condition, for staff lists (customers are filtered to
    public published articles by domain.search_scope)."""
    return or_(Article.status == "published", Article.source_ticket_id.is_(None),
               Article.author_id == (actor.get("id") or ""),
               visibility.scope_clause(actor, {fact: getattr(Article, column) for fact, column
                                               in domain.SOURCE_FACTS.items()}))


def _article(uow, article_id, actor=None):
    """The article, or 404 — also for a customer asking for one they may not read (its
    existence is not confirmed)."""
    row = uow.session.get(Article, article_id) \
        if isinstance(article_id, str) and 0 < len(article_id) <= 36 else None
    if row is None or (actor is not None and not domain.can_read(actor, _view(row))):
        raise exc.ARTICLE_NOT_FOUND()
    return row


def guess_language(value):
    return "zh" if _CJK.search(value or "") else "en"


def _apply_content(article, data):
    """Set content fields, re-render the HTML and recompute the index terms."""
    for name in ("title", "keywords", "product", "product_line", "category", "language",
                 "visibility"):
        if name in data:
            setattr(article, name, data[name])
    if "body" in data:
        article.body_md = data["body"]
        article.body_html = text.render_markdown(data["body"])
    article.index_terms, article.index_length = text.document_terms(
        article.title, article.keywords, article.body_md)


def _add_version(uow, article, actor, now, note=None):
    uow.session.add(ArticleVersion(
        article_id=article.id, version=article.current_version, title=article.title,
        keywords=list(article.keywords), body_md=article.body_md, body_html=article.body_html,
        fields={k: getattr(article, k) for k in ("visibility", "language", "product",
                                                 "product_line", "category")},
        note=note, author_id=actor.get("id"), author_name=actor.get("name"),
        author_role=actor["role"], created_at=now, views=0))


def _event_data(article, **extra):
    return {"article_id": article.id, "version": article.current_version,
            "title": article.title, "status": article.status,
            "visibility": article.visibility, "language": article.language,
            "product": article.product, "product_line": article.product_line,
            "category": article.category, "keywords": list(article.keywords),
            "source_ticket_id": article.source_ticket_id, "updated_at": article.updated_at,
            **extra}


def _written(uow, article, actor, spec, now, **extra):
    """The bookkeeping of every article write: index log row and event, same transaction."""
    uow.session.add(IndexLog(article_id=article.id, at=now))
    uow.emit(spec, _event_data(article, **extra), actor=actor)


def _commit(uow):
    try:
        uow.commit()
    except StaleDataError:
        uow.rollback()
        raise exc.STALE_ARTICLE(current="?") from None


# ---- articles -----------------------------------------------------------------------------

def create_article(actor, payload, uow, index, settings, source_ticket=None):
    """A new draft (version 1) by an engineer or the desk."""
    _actor(actor)
    data = load(schemas.ArticleCreateSchema(), payload)
    _guard(domain.check_write_role, actor)
    data.setdefault("language", guess_language(data["title"]))
    now = settings["now"]()
    with uow:
        article = Article(status="draft", current_version=1, author_id=actor.get("id"),
                          author_name=actor.get("name"), author_role=actor["role"],
                          created_at=now, updated_at=now, title="", keywords=[], body_md="",
                          product=None, product_line=None, category=None,
                          source_ticket_id=source_ticket["id"] if source_ticket else None,
                          **{column: (source_ticket or {}).get(fact)
                             for fact, column in domain.SOURCE_FACTS.items()})
        _apply_content(article, data)
        uow.session.add(article)
        uow.flush()
        _add_version(uow, article, actor, now, note="created")
        if source_ticket:
            uow.session.add(TicketLink(article_id=article.id, ticket_id=source_ticket["id"],
                                       ticket_number=source_ticket["number"],
                                       relation="created_from", by_id=actor.get("id"), at=now,
                                       **{f: source_ticket.get(f) for f in visibility.FACTS}))
            uow.session.execute(update(WritingSuggestion).where(
                WritingSuggestion.ticket_id == source_ticket["id"]).values(
                status="written", article_id=article.id, updated_at=now))
        _written(uow, article, actor, events.ARTICLE_UPDATED, now, change="created")
        _commit(uow)
        out = _detail(uow, article, actor, article.current_version)
    index.put_article(article)
    return out


def update_article(actor, article_id, payload, uow, index, settings):
    """A new version: the author edits their own article, the desk anyone's."""
    _actor(actor)
    data = load(schemas.ArticlePatchSchema(), payload)
    expected = data.pop("expected_version", None)
    note = data.pop("note", None)
    now = settings["now"]()
    with uow:
        article = _article(uow, article_id, actor)
        _guard(domain.check_edit, actor, _view(article))
        if expected is not None and expected != article.current_version:
            raise exc.STALE_ARTICLE(current=article.current_version)
        _apply_content(article, data)
        article.current_version += 1
        article.updated_at = now
        _add_version(uow, article, actor, now, note=note)
        _written(uow, article, actor, events.ARTICLE_UPDATED, now, change="edited")
        try:
            uow.commit()
        except (StaleDataError, IntegrityError):  # another edit took this version number
            uow.rollback()
            raise exc.STALE_ARTICLE(current="?") from None
        out = _detail(uow, article, actor, article.current_version)
    index.put_article(article)
    return out


def transition(actor, article_id, action, uow, index, settings):
    """publish (draft or archived -> published) / archive (-> archived): the desk only."""
    _actor(actor)
    if action not in domain.TRANSITIONS:
        raise exc.ARTICLE_NOT_FOUND()
    now = settings["now"]()
    with uow:
        article = _article(uow, article_id, actor)
        article.status = _guard(domain.check_transition, actor, _view(article), action)
        article.updated_at = now
        if action == "publish":
            article.published_at = now
            article.archived_at = None
            _written(uow, article, actor, events.ARTICLE_PUBLISHED, now)
        else:
            article.archived_at = now
            _written(uow, article, actor, events.ARTICLE_UPDATED, now, change="archived")
        _commit(uow)
        out = _detail(uow, article, actor, article.current_version)
    index.put_article(article)
    return out


def delete_article(actor, article_id, uow, index, settings):
    """Only a never-published draft; everything else is archived instead."""
    _actor(actor)
    now = settings["now"]()
    with uow:
        article = _article(uow, article_id, actor)
        _guard(domain.check_delete, actor, _view(article))
        article.updated_at = now
        _written(uow, article, actor, events.ARTICLE_UPDATED, now, change="deleted")
        for model in (ArticleVersion, TicketLink, ArticleFile, Feedback):
            uow.session.execute(delete(model).where(model.article_id == article.id))
        uow.session.delete(article)
        _commit(uow)
    index.put_article(article_id)
    return {"id": article_id, "deleted": True}


def get_article(actor, article_id, uow, version=None, view=False):
    """One article (the current version, or an older one for staff); `view` counts a read
    of that version."""
    _actor(actor)
    with uow:
        article = _article(uow, article_id, actor)
        shown = article.current_version
        if version is not None:
            if domain.is_customer(actor) or not isinstance(version, int) or \
                    not 1 <= version <= article.current_version:
                raise exc.VERSION_NOT_FOUND()
            shown = version
        if view:
            uow.session.execute(update(ArticleVersion).where(
                ArticleVersion.article_id == article.id, ArticleVersion.version == shown)
                .values(views=ArticleVersion.views + 1))
            uow.commit()
        return _detail(uow, article, actor, shown)


def _stats(uow, article_id, version):
    views = uow.session.scalar(select(ArticleVersion.views).where(
        ArticleVersion.article_id == article_id, ArticleVersion.version == version)) or 0
    counts = dict(uow.session.execute(select(Feedback.helpful, func.count()).where(
        Feedback.article_id == article_id, Feedback.version == version)
        .group_by(Feedback.helpful)).all())
    return {"version": version, "views": views, "helpful": counts.get(True, 0),
            "not_helpful": counts.get(False, 0)}


def _detail(uow, article, actor, version):
    out = schemas.ArticleSchema(exclude=("stats", "files", "tickets", "my_feedback")) \
        .dump(article)
    if version != article.current_version:
        old = uow.session.scalar(select(ArticleVersion).where(
            ArticleVersion.article_id == article.id, ArticleVersion.version == version))
        out.update(title=old.title, keywords=old.keywords, body=old.body_md,
                   body_html=old.body_html, version=version)
    out["stats"] = _stats(uow, article.id, version)
    files = uow.session.scalars(select(ArticleFile).where(ArticleFile.article_id == article.id)
                                .order_by(ArticleFile.created_at)).all()
    out["files"] = schemas.FileSchema(many=True).dump(files)
    links = uow.session.scalars(select(TicketLink).where(TicketLink.article_id == article.id)
                                .order_by(TicketLink.at)).all()
    # an article's tickets: only those the actor may see (never a customer's view)
    out["tickets"] = [] if domain.is_customer(actor) else schemas.LinkOutSchema(many=True).dump(
        [link for link in links if visibility.may_see(actor, link)])
    if not _source_visible(actor, article):
        out["source_ticket_id"] = None
    mine = uow.session.scalar(select(Feedback.helpful).where(
        Feedback.article_id == article.id, Feedback.version == version,
        Feedback.user_id == actor.get("id"))) if actor.get("id") else None
    out["my_feedback"] = mine
    return out


def list_versions(actor, article_id, uow):
    _actor(actor)
    with uow:
        article = _article(uow, article_id, actor)
        if domain.is_customer(actor):
            raise exc.ARTICLE_NOT_FOUND()
        versions = uow.session.scalars(select(ArticleVersion).where(
            ArticleVersion.article_id == article.id).order_by(ArticleVersion.version)).all()
        counts = {}
        for v, helpful, n in uow.session.execute(
                select(Feedback.version, Feedback.helpful, func.count())
                .where(Feedback.article_id == article.id)
                .group_by(Feedback.version, Feedback.helpful)).all():
            counts.setdefault(v, {})[helpful] = n
        items = schemas.VersionSummarySchema(many=True).dump(versions)
        for item in items:
            c = counts.get(item["version"], {})
            item["helpful"], item["not_helpful"] = c.get(True, 0), c.get(False, 0)
        return {"article_id": article.id, "current_version": article.current_version,
                "items": items}


def get_version(actor, article_id, version, uow):
    _actor(actor)
    with uow:
        article = _article(uow, article_id, actor)
        if domain.is_customer(actor):
            raise exc.ARTICLE_NOT_FOUND()
        row = uow.session.scalar(select(ArticleVersion).where(
            ArticleVersion.article_id == article.id, ArticleVersion.version == version)) \
            if isinstance(version, int) else None
        if row is None:
            raise exc.VERSION_NOT_FOUND()
        out = schemas.VersionSchema().dump(row)
        out.update({k: v for k, v in _stats(uow, article.id, version).items()
                    if k in ("helpful", "not_helpful")})
        return out


def list_articles(actor, query, uow):
    """Articles newest change first; customers see public published ones only."""
    _actor(actor)
    q = load(schemas.ListQuerySchema(), query)
    filters = {k: q[k] for k in _FILTERS if k in q}
    filters = _guard(domain.search_scope, actor, filters) if domain.is_customer(actor) \
        else filters
    where = [getattr(Article, k) == v for k, v in filters.items()]
    if not domain.is_customer(actor):
        where.append(_readable(actor))
    for k in ("author_id", "source_ticket_id"):
        if q.get(k):
            where.append(getattr(Article, k) == q[k])
    if q.get("source_ticket_id"):  # asking by ticket says nothing about a ticket not seen
        where.append(visibility.scope_clause(actor, {
            fact: getattr(Article, column) for fact, column in domain.SOURCE_FACTS.items()}))
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(Article).where(*where))
        rows = uow.session.scalars(select(Article).where(*where)
                                   .order_by(Article.updated_at.desc(), Article.id)
                                   .offset((q["page"] - 1) * q["page_size"])
                                   .limit(q["page_size"])).all()
        return {"items": _summaries(actor, rows), "total": total, "page": q["page"],
                "page_size": q["page_size"]}


# ---- search and suggestions ---------------------------------------------------------------

def search(actor, query, uow, index):
    """Ranked full-text search with highlighted snippets, filters and paging."""
    _actor(actor)
    started = time.perf_counter()
    q = load(_search_in, query)
    filters = _guard(domain.search_scope, actor, {k: q[k] for k in _FILTERS if k in q})
    terms = text.query_terms(q["q"])
    offset = (q["page"] - 1) * q["page_size"]
    total, page = index.index.search(terms, filters, offset, q["page_size"])
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
    terms = text.query_terms(data["title"])
    terms = {t: n * 2 for t, n in terms.items()}
    for t, n in text.query_terms(data["description"]).items():
        terms[t] = terms.get(t, 0) + n
    filters = {"status": "published", "visibility": "public"}
    for k in ("product", "language"):
        if data.get(k):
            filters[k] = data[k]
    _total, page = index.index.search(terms, filters, 0, data["limit"],
                                      max_terms=SUGGEST_TERMS)
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


# ---- feedback --------------------------------------------------------------------------------

def feedback(actor, article_id, payload, uow, settings):
    """"Was this helpful?" for one version; answering again replaces the earlier answer."""
    _actor(actor)
    data = load(schemas.FeedbackSchema(), payload)
    if not actor.get("id"):
        raise FORBIDDEN()
    now = settings["now"]()
    with uow:
        article = _article(uow, article_id, actor)
        version = data.get("version") or article.current_version
        if version > article.current_version:
            raise exc.VERSION_NOT_FOUND()
        row = uow.session.scalar(select(Feedback).where(
            Feedback.article_id == article.id, Feedback.version == version,
            Feedback.user_id == actor["id"]))
        if row is None:
            row = Feedback(article_id=article.id, version=version, user_id=actor["id"])
            uow.session.add(row)
        row.helpful, row.comment, row.at = data["helpful"], data.get("comment"), now
        uow.commit()
        return _stats(uow, article.id, version)


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


# ---- files ---------------------------------------------------------------------------------

def authorize_file(actor, article_id, uow):
    """May the actor attach a file to this article? Returns the article id."""
    _actor(actor)
    with uow:
        article = _article(uow, article_id, actor)
        _guard(domain.check_edit, actor, _view(article))
        return {"article_id": article.id}


def add_file(actor, article_id, record, uow, settings):
    _actor(actor)
    data = load(schemas.FileRecordSchema(), record)
    with uow:
        article = _article(uow, article_id, actor)
        _guard(domain.check_edit, actor, _view(article))
        row = ArticleFile(article_id=article.id, uploaded_by=actor.get("id"),
                          created_at=settings["now"](), **data)
        uow.session.add(row)
        uow.commit()
        return schemas.FileSchema().dump(row)


def get_file(actor, file_id, uow):
    """A file's storage record, if the actor may read its article."""
    _actor(actor)
    with uow:
        row = uow.session.get(ArticleFile, file_id) \
            if isinstance(file_id, str) and 0 < len(file_id) <= 36 else None
        if row is None:
            raise exc.FILE_NOT_FOUND()
        try:
            _article(uow, row.article_id, actor)
        except AppError:  # an article the actor may not read: its files do not exist
            raise exc.FILE_NOT_FOUND() from None
        out = schemas.FileSchema().dump(row)
        out.update(bucket=row.bucket, object_key=row.object_key)
        return out


def index_stats(index):
    return index.index.stats()
