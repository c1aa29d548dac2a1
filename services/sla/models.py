"""SLA's tables: durable timers, business calendars, policies, and one clock per ticket and
target (evaluated from the ticket's steps).

One timer mechanism serves every deadline in the system — automatic resume of a suspended
ticket, automatic confirmation of a resolved one, provider offers that time out, follow-up
tasks, and later SLA warnings and breaches. A timer is a row: it survives restarts, and it
fires once however many sla instances run, because firing claims the row.
"""
import datetime as dt
import uuid

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String,
                        UniqueConstraint)
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


class Calendar(Base):
    """A business calendar (see calendar.py); `hours` maps mon..sun to [[start, end], ...]."""
    __tablename__ = "calendars"
    id: Mapped[str] = mapped_column(String(36), primary_key=True,
                                    default=lambda: str(uuid.uuid4()))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    tz: Mapped[str] = mapped_column(String(64))
    always_open: Mapped[bool] = mapped_column(Boolean, default=False)
    chinese_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    hours: Mapped[dict] = mapped_column(JSON, default=dict)
    holidays: Mapped[list] = mapped_column(JSON, default=list)
    workdays: Mapped[list] = mapped_column(JSON, default=list)
    closures: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class Policy(Base):
    """Targets for the tickets it matches (company, type, priority; empty = any). Targets
    are business minutes on the policy's calendar; null = no clock for that target."""
    __tablename__ = "policies"
    id: Mapped[str] = mapped_column(String(36), primary_key=True,
                                    default=lambda: str(uuid.uuid4()))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    company_id: Mapped[str | None] = mapped_column(String(36))
    ticket_type: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str | None] = mapped_column(String(2))
    calendar_id: Mapped[str] = mapped_column(ForeignKey("calendars.id"), index=True)
    completeness_minutes: Mapped[float | None] = mapped_column(Float)
    response_minutes: Mapped[float | None] = mapped_column(Float)
    resolution_minutes: Mapped[float | None] = mapped_column(Float)
    update_minutes: Mapped[float | None] = mapped_column(Float)
    warn_share: Mapped[float] = mapped_column(Float, default=0.8)
    escalation: Mapped[dict] = mapped_column(JSON, default=dict)
    rank: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class SlaTicket(Base):
    """sla's projection of a ticket (from intake's events): what policies match on and what
    reports group by. The latest snapshot (highest version) wins."""
    __tablename__ = "sla_tickets"
    ticket_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32))
    company_id: Mapped[str | None] = mapped_column(String(36))
    type: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str | None] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(36))
    handler_id: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(TZ, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class Step(Base):
    """What sla saw happen to a ticket, in the order intake's versions give; clocks are
    evaluated from these rows (domain.evaluate), so they can be rebuilt at any time."""
    __tablename__ = "sla_steps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(36), index=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)   # event id (+ part)
    at: Mapped[dt.datetime] = mapped_column(TZ)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str | None] = mapped_column(String(32))


class Clock(Base):
    """The last evaluation of one target of one ticket, plus which notices were sent."""
    __tablename__ = "clocks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(36))
    target: Mapped[str] = mapped_column(String(16))
    policy_id: Mapped[str | None] = mapped_column(String(36), index=True)
    calendar_id: Mapped[str | None] = mapped_column(String(36), index=True)
    priority: Mapped[str | None] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(16), index=True)
    target_seconds: Mapped[float | None] = mapped_column(Float)
    spent_seconds: Mapped[float] = mapped_column(Float, default=0)
    paused_seconds: Mapped[float] = mapped_column(Float, default=0)
    due_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    met_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    warned_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    breached_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    warning_sent_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    breach_sent_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    # update clock: the instant its current cycle began; a new cycle resets the sent flags
    cycle_started_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    evaluated_at: Mapped[dt.datetime] = mapped_column(TZ)
    __table_args__ = (UniqueConstraint("ticket_id", "target", name="uq_clocks_ticket_target"),)
