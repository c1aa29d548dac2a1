"""Worklog's tables: work-log entries and the history of their corrections (plus the outbox
and processed-events inbox every service has).

An entry keeps, besides what the engineer typed, the ticket facts seen at write time
(number, product line, provider) so time reports never need another service's data.
Deleting an entry only marks it: its history stays readable.
"""
import datetime as dt
import uuid

from sqlalchemy import (JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gongdan_common.db import service_metadata

metadata = service_metadata()


class Base(DeclarativeBase):
    metadata = metadata


def new_id():
    return str(uuid.uuid4())


TZ = DateTime(timezone=True)


class Entry(Base):
    __tablename__ = "worklog_entries"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(String(36), index=True)
    ticket_number: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[dt.datetime] = mapped_column(TZ)
    ended_at: Mapped[dt.datetime] = mapped_column(TZ)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    on_site: Mapped[bool] = mapped_column(Boolean, default=False)
    handler_id: Mapped[str] = mapped_column(String(36))
    handler_name: Mapped[str | None] = mapped_column(String(100))
    # the ticket as intake reported it when the entry was written, for reports
    product_line: Mapped[str | None] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(String(36))
    author_id: Mapped[str] = mapped_column(String(36))
    author_role: Mapped[str] = mapped_column(String(32))
    author_name: Mapped[str | None] = mapped_column(String(100))
    request_key: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(TZ)

    __table_args__ = (
        # a retried add (same author, same Idempotency-Key) returns the first entry
        UniqueConstraint("author_id", "request_key", name="uq_worklog_entries_request_key"),
        Index("ix_worklog_entries_handler_started", "handler_id", "started_at"),
        Index("ix_worklog_entries_provider_started", "provider_id", "started_at"),
    )
    __mapper_args__ = {"version_id_col": version}


class EntryChange(Base):
    """One row per create, update and delete of an entry: who, when, before and after."""
    __tablename__ = "worklog_entry_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("worklog_entries.id"), index=True)
    ticket_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(16))  # create / update / delete
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(TZ)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
