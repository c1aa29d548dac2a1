"""KB's tables: articles and their versions, links to tickets, feedback, files, the index
change log that keeps every instance's search index fresh, writing suggestions raised when
tickets are solved, and the intake-suggestion sessions the deflection report counts (plus
the outbox and processed-events inbox every service has)."""
import datetime as dt
import uuid

from sqlalchemy import (JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint, DateTime)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gongdan_common.db import service_metadata

metadata = service_metadata()


class Base(DeclarativeBase):
    metadata = metadata


def new_id():
    return str(uuid.uuid4())


TZ = DateTime(timezone=True)


class Article(Base):
    """An article as it is now: the latest version's content, its state, and the weighted
    term frequencies the search index is built from."""
    __tablename__ = "kb_articles"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    status: Mapped[str] = mapped_column(String(16), index=True)   # draft/published/archived
    visibility: Mapped[str] = mapped_column(String(16))            # public/internal
    language: Mapped[str] = mapped_column(String(8))               # zh/en
    product: Mapped[str | None] = mapped_column(String(64))
    product_line: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    keywords: Mapped[list] = mapped_column(JSON)
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    current_version: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[str | None] = mapped_column(String(36))
    author_name: Mapped[str | None] = mapped_column(String(100))
    author_role: Mapped[str] = mapped_column(String(32))
    source_ticket_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # the source ticket's access facts when the article was written from it: who may read
    # the article before it is published (domain.can_read, gongdan_common.visibility)
    source_submitter_id: Mapped[str | None] = mapped_column(String(36))
    source_company_id: Mapped[str | None] = mapped_column(String(36))
    source_provider_id: Mapped[str | None] = mapped_column(String(36))
    source_handler_id: Mapped[str | None] = mapped_column(String(36))
    index_terms: Mapped[dict] = mapped_column(JSON)
    index_length: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)
    published_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    archived_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ix_kb_articles_product_category", "product", "category"),)
    __mapper_args__ = {"version_id_col": lock_version}


class ArticleVersion(Base):
    """Every saved version, with who wrote it and when; views are counted per version."""
    __tablename__ = "kb_article_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("kb_articles.id"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    keywords: Mapped[list] = mapped_column(JSON)
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    fields: Mapped[dict] = mapped_column(JSON)  # visibility, language, product, category ...
    note: Mapped[str | None] = mapped_column(String(500))
    author_id: Mapped[str | None] = mapped_column(String(36))
    author_name: Mapped[str | None] = mapped_column(String(100))
    author_role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    views: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("article_id", "version",
                                       name="uq_kb_article_versions_article_version"),)


class Feedback(Base):
    """"Was this helpful?": one answer per person and version (answering again replaces it)."""
    __tablename__ = "kb_feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("kb_articles.id"))
    version: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(String(36))
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(String(1000))
    at: Mapped[dt.datetime] = mapped_column(TZ)

    __table_args__ = (UniqueConstraint("article_id", "version", "user_id",
                                       name="uq_kb_feedback_article_version_user"),)


class TicketLink(Base):
    """article <-> ticket: `created_from` (the article was written from the ticket) or
    `linked` (an engineer pointed the ticket at an existing article)."""
    __tablename__ = "kb_ticket_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    ticket_id: Mapped[str] = mapped_column(String(36), index=True)
    ticket_number: Mapped[str | None] = mapped_column(String(32))
    relation: Mapped[str] = mapped_column(String(16))
    by_id: Mapped[str | None] = mapped_column(String(36))
    # the ticket's access facts when linked: who is shown the link (gongdan_common.visibility)
    submitter_id: Mapped[str | None] = mapped_column(String(36))
    company_id: Mapped[str | None] = mapped_column(String(36))
    provider_id: Mapped[str | None] = mapped_column(String(36))
    handler_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[dt.datetime] = mapped_column(TZ)

    __table_args__ = (UniqueConstraint("article_id", "ticket_id",
                                       name="uq_kb_ticket_links_article_ticket"),)


class ArticleFile(Base):
    """An image or file of an article, stored in object storage by the gateway."""
    __tablename__ = "kb_files"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    article_id: Mapped[str] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    bucket: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(400))
    uploaded_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)


class IndexLog(Base):
    """One row per article write: every kb instance polls it to refresh its search index."""
    __tablename__ = "kb_index_log"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[dt.datetime] = mapped_column(TZ, index=True)


class WritingSuggestion(Base):
    """'Write this up': a solved ticket whose category and product had no linked or
    closely matching article."""
    __tablename__ = "kb_writing_suggestions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_number: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    product: Mapped[str | None] = mapped_column(String(64))
    product_line: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    root_cause: Mapped[str | None] = mapped_column(String(64))
    solution: Mapped[str | None] = mapped_column(Text)
    handler_id: Mapped[str | None] = mapped_column(String(36))
    # the ticket's other access facts: who may see the suggestion (gongdan_common.visibility)
    submitter_id: Mapped[str | None] = mapped_column(String(36))
    company_id: Mapped[str | None] = mapped_column(String(36))
    provider_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16))  # open / covered / written
    matched_article_id: Mapped[str | None] = mapped_column(String(36))
    article_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class SuggestSession(Base):
    """Suggestions shown to one customer while drafting one ticket: what was shown, what
    was opened, and whether a ticket was still submitted (the deflection report)."""
    __tablename__ = "kb_suggest_sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    company_id: Mapped[str | None] = mapped_column(String(36))
    query: Mapped[str] = mapped_column(String(500))
    shown: Mapped[list] = mapped_column(JSON)
    opened: Mapped[list] = mapped_column(JSON)
    calls: Mapped[int] = mapped_column(Integer, default=1)
    first_opened_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    submitted: Mapped[bool | None] = mapped_column(Boolean)
    ticket_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(TZ, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class SynonymGroup(Base):
    """One group of the search dictionary (dictionary.py): terms that mean the same thing
    to the desk, in any language; a query with one of them also looks for the others at
    `weight`. Admins edit them; migration 0004 filled the table with the shipped groups."""
    __tablename__ = "kb_synonyms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    terms: Mapped[list] = mapped_column(JSON)
    weight: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(String(200))
    updated_by: Mapped[str | None] = mapped_column(String(36))
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)
