"""Helpers every kb handler module shares: the actor check, refusals, the read rule on rows,
the article lookup and the bookkeeping of every article write (index log row, event)."""
import re

from sqlalchemy import or_
from sqlalchemy.orm.exc import StaleDataError

from gongdan_common import visibility
from gongdan_common.errors import FORBIDDEN
from gongdan_common.events import utcnow

from .. import domain, exceptions as exc, schemas, text
from ..models import Article, ArticleVersion, IndexLog


_summary = schemas.ArticleSummarySchema()
_FILTERS = ("product", "product_line", "category", "language", "visibility", "status")
_CJK = re.compile(r"[\u3400-\u9fff]")


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
