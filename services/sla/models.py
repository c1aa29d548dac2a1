"""SLA's tables: durable timers (policies, calendars and clocks arrive with the SLA issue).

One timer mechanism serves every deadline in the system — automatic resume of a suspended
ticket, automatic confirmation of a resolved one, provider offers that time out, follow-up
tasks, and later SLA warnings and breaches. A timer is a row: it survives restarts, and it
fires once however many sla instances run, because firing claims the row.
"""
import datetime as dt
import uuid

from sqlalchemy import JSON, DateTime, Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gongdan_common.db import service_metadata

metadata = service_metadata()
TZ = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = metadata


class Timer(Base):
    __tablename__ = "timers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True,
                                    default=lambda: str(uuid.uuid4()))
    # the requester's idempotency key: scheduling the same key again updates a pending timer
    # and is ignored for one that already fired or was cancelled
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    owner: Mapped[str] = mapped_column(String(32))        # the service that acts when it fires
    ticket_id: Mapped[str | None] = mapped_column(String(36), index=True)
    due_at: Mapped[dt.datetime] = mapped_column(TZ)
    status: Mapped[str] = mapped_column(String(16))       # pending | fired | cancelled
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    fired_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(TZ)

    # the firing query reads only pending rows in due order: its cost follows the number of
    # timers due, not the number of timers that exist
    __table_args__ = (Index("ix_timers_status_due", "status", "due_at"),)
