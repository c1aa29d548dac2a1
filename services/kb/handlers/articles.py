"""Articles: write, edit, publish/archive, delete, read, versions, lists, feedback."""
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from gongdan_common import visibility
from gongdan_common.errors import FORBIDDEN
from gongdan_common.validation import load

from .. import domain, events, exceptions as exc, schemas
from ..models import Article, ArticleFile, ArticleVersion, Feedback, TicketLink, WritingSuggestion
from .common import (_FILTERS, _actor, _add_version, _apply_content, _article, _commit, _guard,
                     _readable, _source_visible, _summaries, _view, _written, guess_language)


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
