"""Exports' tables: the export jobs (plus the outbox and processed-events inbox every
service has). A job keeps the actor it was asked by: its rows are read from their owners AS
that actor, so each owner's own authorisation decides what the file holds."""
import datetime as dt
import uuid

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gongdan_common.db import service_metadata

metadata = service_metadata()


class Base(DeclarativeBase):
    metadata = metadata


def new_id():
    return str(uuid.uuid4())


TZ = DateTime(timezone=True)


class Job(Base):
    __tablename__ = "export_jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(String(36))
    actor: Mapped[dict] = mapped_column(JSON)  # as the gateway authenticated it
    kind: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(8))
    lang: Mapped[str] = mapped_column(String(2))
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    columns: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)  # the owner's count or estimate
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # a worker holds a running job until then, and renews it with every page it writes
    lease_until: Mapped[dt.datetime | None] = mapped_column(TZ)
    object_key: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(200))
    error: Mapped[dict | None] = mapped_column(JSON)  # {code, zh, en}
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    started_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    finished_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    expires_at: Mapped[dt.datetime | None] = mapped_column(TZ, index=True)

    __table_args__ = (Index("ix_export_jobs_owner_created", "owner_id", "created_at"),)
