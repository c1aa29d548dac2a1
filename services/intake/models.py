"""Intake's tables: tickets, their history, conversation, attachments, products."""
import datetime as dt
import uuid

from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint, event, inspect)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gongdan_common.db import service_metadata

from . import search

metadata = service_metadata()
# PostgreSQL-only GIN indexes of keyword search, over expressions: built by migrations
# 0005, 0013 and 0016 (CONCURRENTLY), not declared here, where autogenerate cannot compare them
metadata.info["unmanaged_indexes"] = {"ix_tickets_search_trgm", "ix_tickets_search_status_keys",
                                      "ix_tickets_search_digits"}


class Base(DeclarativeBase):
    metadata = metadata


def new_id():
    return str(uuid.uuid4())


TZ = DateTime(timezone=True)


class Product(Base):
    __tablename__ = "products"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    product_line: Mapped[str] = mapped_column(String(64), index=True)
    versions: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TicketCounter(Base):
    __tablename__ = "ticket_counters"
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(200))
    product: Mapped[str] = mapped_column(String(64))
    product_line: Mapped[str] = mapped_column(String(64), index=True)
    product_version: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    steps: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    persistent: Mapped[bool | None] = mapped_column(Boolean)
    environment: Mapped[dict] = mapped_column(JSON, default=dict)
    impact: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(2), index=True)
    device_sn: Mapped[str | None] = mapped_column(String(64), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # ix_tickets_status_created (0014)
    status_before: Mapped[str | None] = mapped_column(String(16))
    submitter_id: Mapped[str] = mapped_column(String(36), index=True)
    submitter_name: Mapped[str | None] = mapped_column(String(100))
    company_id: Mapped[str | None] = mapped_column(String(36), index=True)
    company_name: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(64))  # the customer's, for dispatch
    provider_id: Mapped[str | None] = mapped_column(String(36), index=True)
    handler_id: Mapped[str | None] = mapped_column(String(36), index=True)
    handler_name: Mapped[str | None] = mapped_column(String(100))
    request_key: Mapped[str | None] = mapped_column(String(80))
    suspension_id: Mapped[str | None] = mapped_column(String(36))   # the open suspension
    resolution_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    resolved_at: Mapped[dt.datetime | None] = mapped_column(TZ, index=True)  # volume chart
    closed_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    # closed as a duplicate of another ticket of the same company (services/intake/merging.py)
    merged_into_id: Mapped[str | None] = mapped_column(String(36), index=True)
    merged_into_number: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)  # ix_tickets_created_id: the order
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)
    # sla's projection (event sla_clock_updated): the nearest due time of a running clock,
    # whether a clock breached, and the evaluation time that orders those events
    sla_due_at: Mapped[dt.datetime | None] = mapped_column(TZ, index=True)
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    sla_evaluated_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    # the CJK characters and pairs of the searchable fields (services/intake/search.py),
    # for the 1-2 character Chinese keywords pg_trgm cannot index; GIN-indexed on PostgreSQL
    search_grams: Mapped[list | None] = mapped_column(
        JSON().with_variant(postgresql.ARRAY(Text), "postgresql"))

    __table_args__ = (
        # a retried create (same submitter, same Idempotency-Key) returns the first ticket
        UniqueConstraint("submitter_id", "request_key", name="uq_tickets_request_key"),
        Index("ix_tickets_company_created", "company_id", "created_at"),
        # every list's order (created_at, ties by id) read from the index itself (0012)
        Index("ix_tickets_created_id", "created_at", "id"),
        Index("ix_tickets_status_priority", "status", "priority"),  # the backlog chart
        # a status filter's rows in the list's order: a keyword's walk merges them (0014)
        Index("ix_tickets_status_created", "status", "created_at", "id"),
    )
    __mapper_args__ = {"version_id_col": version}


@event.listens_for(Ticket, "before_insert")
def _grams_on_insert(mapper, connection, ticket):
    ticket.search_grams = search.ticket_grams(ticket)


@event.listens_for(Ticket, "before_update")
def _grams_on_update(mapper, connection, ticket):
    # kept here rather than in each handler so that no write path can leave them stale
    state = inspect(ticket)
    if any(state.attrs[f].history.has_changes() for f in search.FIELDS):
        ticket.search_grams = search.ticket_grams(ticket)


class StatusChange(Base):
    __tablename__ = "ticket_status_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(TZ)


class Comment(Base):
    __tablename__ = "ticket_comments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[str | None] = mapped_column(String(36))
    author_role: Mapped[str] = mapped_column(String(32))
    author_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    # a retried add (a mail fetched again, an Idempotency-Key repeated) returns the first
    request_key: Mapped[str | None] = mapped_column(String(80))

    __table_args__ = (
        UniqueConstraint("ticket_id", "request_key", name="uq_ticket_comments_request_key"),
    )


class Attachment(Base):
    __tablename__ = "ticket_attachments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="intake")
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    bucket: Mapped[str] = mapped_column(String(63))
    object_key: Mapped[str] = mapped_column(String(400), unique=True)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by: Mapped[str | None] = mapped_column(String(36))
    uploaded_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)



class Assignment(Base):
    """intake's copy of who was assigned and why (dispatch owns the record): for the
    ticket's timeline without a call to dispatch on every read."""
    __tablename__ = "ticket_assignments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)   # dispatch's assignment id
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))                  # assigned | reassigned
    engineer_id: Mapped[str] = mapped_column(String(36))
    engineer_name: Mapped[str | None] = mapped_column(String(100))
    provider_id: Mapped[str | None] = mapped_column(String(36))
    method: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)       # why: rule, certification, load
    actor: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(TZ)


class Suspension(Base):
    __tablename__ = "ticket_suspensions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    planned_start: Mapped[dt.datetime] = mapped_column(TZ)
    planned_end: Mapped[dt.datetime] = mapped_column(TZ)
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    resumed_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    resumed_by: Mapped[str | None] = mapped_column(String(100))   # a person's name or "timer"


class RootCause(Base):
    """The configurable list closing reports choose from."""
    __tablename__ = "root_causes"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=100)


class ClosingReport(Base):
    __tablename__ = "closing_reports"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    root_cause: Mapped[str] = mapped_column(ForeignKey("root_causes.code"))
    description: Mapped[str] = mapped_column(Text)
    completed_at: Mapped[dt.datetime] = mapped_column(TZ)
    visited_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    report_ids: Mapped[list] = mapped_column(JSON, default=list)   # attachment ids by kind
    author_id: Mapped[str | None] = mapped_column(String(36))
    author_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    __table_args__ = (UniqueConstraint("ticket_id", "round", name="uq_closing_reports_round"),)


class Rating(Base):
    __tablename__ = "ticket_ratings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)   # one rating per resolution
    product_score: Mapped[int] = mapped_column(Integer)
    service_score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    rater_id: Mapped[str] = mapped_column(String(36))
    rater_role: Mapped[str] = mapped_column(String(32))
    rater_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(TZ, index=True)  # satisfaction by period
    __table_args__ = (UniqueConstraint("ticket_id", "round", name="uq_ticket_ratings_round"),)


class FollowUp(Base):
    """回访: a visit after closing an important or urgent ticket, due in 3 business days."""
    __tablename__ = "follow_ups"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[dt.datetime] = mapped_column(TZ, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)   # open | overdue | done
    note: Mapped[str | None] = mapped_column(Text)
    done_by: Mapped[str | None] = mapped_column(String(36))
    done_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    __table_args__ = (UniqueConstraint("ticket_id", "round", name="uq_follow_ups_round"),)


# ---- the desk's working tools (issue 14): tags, list settings, saved views, bulk ----------

class TicketTag(Base):
    """A label on a ticket (normalised by services/intake/tagging.py); staff only."""
    __tablename__ = "ticket_tags"
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    # the tag filter looks tickets up by tag
    __table_args__ = (Index("ix_ticket_tags_tag", "tag", "ticket_id"),)


class ListSetting(Base):
    """One user's ticket-list columns (shown, in order), applied on any device."""
    __tablename__ = "list_settings"
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    columns: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class SavedView(Base):
    """A named list filter (+ columns and sort): personal, or shared with the desk."""
    __tablename__ = "saved_views"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(String(36), index=True)
    owner_name: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    shared: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    columns: Mapped[list | None] = mapped_column(JSON)
    sort: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class BulkRequest(Base):
    """A bulk action's per-ticket results under its Idempotency-Key: a retry answers them
    again instead of acting twice."""
    __tablename__ = "bulk_requests"
    actor_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
class LeftoverItem(Base):
    """遗留问题: what could not be solved at closing, its plan, owner and due date (a plain date
    in the desk's time zone; `due_at` is the instant it becomes overdue). `remind_at` is when
    the overdue sweep reminds next (None once done or cancelled, or when reminded for good)."""
    __tablename__ = "leftover_items"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)                      # 1, 2 ... per ticket
    description: Mapped[str] = mapped_column(Text)
    plan: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(String(36), index=True)
    owner_name: Mapped[str | None] = mapped_column(String(100))
    owner_role: Mapped[str | None] = mapped_column(String(32))
    due_date: Mapped[dt.date] = mapped_column(Date)
    due_at: Mapped[dt.datetime] = mapped_column(TZ, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)    # open | done | cancelled
    percent: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)               # why cancelled / how done
    remind_at: Mapped[dt.datetime | None] = mapped_column(TZ, index=True)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[str | None] = mapped_column(String(36))
    created_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)
    finished_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    __table_args__ = (UniqueConstraint("ticket_id", "seq", name="uq_leftover_items_seq"),)


class LeftoverUpdate(Base):
    """The item's history: created, progress (note, percent), plan / due date / owner
    changes, done, cancelled. Internal notes are for staff only."""
    __tablename__ = "leftover_updates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("leftover_items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))   # created | progress | done | cancelled
    note: Mapped[str | None] = mapped_column(Text)
    percent: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)      # field -> [old, new]
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(TZ)
class TicketLink(Base):
    """A relation between two tickets: "related" (stored once, read from both ends) or
    "parent" (ticket_id is the child, other_id its parent)."""
    __tablename__ = "ticket_links"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    other_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))              # related | parent
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)

    __table_args__ = (UniqueConstraint("ticket_id", "other_id", name="uq_ticket_links_pair"),)


class CannedReply(Base):
    """A reply text staff insert into the reply box, with {variables} filled per ticket."""
    __tablename__ = "canned_replies"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    body_zh: Mapped[str | None] = mapped_column(Text)
    body_en: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(16), index=True)     # personal | desk | provider
    owner_id: Mapped[str] = mapped_column(String(36), index=True)
    owner_name: Mapped[str | None] = mapped_column(String(100))
    provider_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)
