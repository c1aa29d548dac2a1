"""Dispatch's tables: the registry of service providers, their engineers and the engineers'
certifications (product line + validity period).

Ids of providers and engineers are not invented here: a provider's id is its company id in
the gateway's accounts, an engineer's id is their user id there. Assignments, their history
and workload arrive with the issues that define them. The transactional outbox and the
processed-events inbox come with `service_metadata()`.
"""
import datetime as dt
import uuid

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index,
                        String, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gongdan_common.db import service_metadata

metadata = service_metadata()


class Base(DeclarativeBase):
    metadata = metadata


def new_id():
    return str(uuid.uuid4())


TZ = DateTime(timezone=True)


class Provider(Base):
    """A service provider (服务商): a partner company that does field work."""
    __tablename__ = "providers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # gateway company id
    name: Mapped[str] = mapped_column(String(200))
    regions: Mapped[list] = mapped_column(JSON, default=list)
    product_lines: Mapped[list] = mapped_column(JSON, default=list)  # lines it is contracted for
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class Engineer(Base):
    """A provider's engineer (服务商工程师)."""
    __tablename__ = "engineers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # gateway user id
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    skills: Mapped[list] = mapped_column(JSON, default=list)
    availability: Mapped[str] = mapped_column(String(16), default="on_duty")
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)

    __table_args__ = (
        CheckConstraint("availability IN ('on_duty', 'on_leave')",
                        name="ck_engineers_availability"),
    )


class Certification(Base):
    """An engineer's certification (认证) for one product line, valid on
    valid_from..valid_until inclusive (认证有效期)."""
    __tablename__ = "certifications"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    engineer_id: Mapped[str] = mapped_column(ForeignKey("engineers.id"), index=True)
    product_line: Mapped[str] = mapped_column(String(64))
    certificate_no: Mapped[str] = mapped_column(String(64))
    certificate_name: Mapped[str | None] = mapped_column(String(200))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)

    __table_args__ = (
        # the same certificate recorded twice for one engineer is a retry, not a second one
        UniqueConstraint("engineer_id", "certificate_no",
                         name="uq_certifications_engineer_certificate"),
        Index("ix_certifications_product_line_valid_until", "product_line", "valid_until"),
        CheckConstraint("valid_from <= valid_until", name="ck_certifications_period"),
    )
