"""Dispatch's tables: the registry of service providers, their engineers and the engineers'
certifications (product line + validity period).

Ids of providers and engineers are not invented here: a provider's id is its company id in
the gateway's accounts, an engineer's id is their user id there. Then: the projection of
intake's tickets, assignments (history and the one current row per ticket), routing rules,
provider offers and the claims of the daily certification check. The transactional outbox
and the processed-events inbox come with `service_metadata()`.
"""
import datetime as dt
import uuid

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index,
                        Integer, String, UniqueConstraint, func, or_, select)
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


# ---- tickets as dispatch sees them ---------------------------------------------------------

class TicketProjection(Base):
    """The facts of intake's tickets dispatch decides on, fed by intake's events (the
    highest ticket `version` wins) and, for a ticket not seen yet, by intake's `ticket_state`
    RPC. Intake owns them; this is a read copy."""
    __tablename__ = "tickets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    product: Mapped[str] = mapped_column(String(64))
    product_line: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    company_id: Mapped[str | None] = mapped_column(String(36))
    region: Mapped[str | None] = mapped_column(String(64))
    submitter_id: Mapped[str] = mapped_column(String(36))
    provider_id: Mapped[str | None] = mapped_column(String(36))
    handler_id: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)
    projected_at: Mapped[dt.datetime] = mapped_column(TZ)


# ---- assignment ------------------------------------------------------------------------------

class Assignment(Base):
    """One decision of who works on a ticket, and why: kept for ever (the history)."""
    __tablename__ = "assignments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(String(36), index=True)
    seq: Mapped[int] = mapped_column(Integer)              # 1, 2, ... per ticket
    ticket_number: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))          # assigned | reassigned
    engineer_id: Mapped[str] = mapped_column(ForeignKey("engineers.id"))
    engineer_name: Mapped[str] = mapped_column(String(100))
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"))
    provider_name: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(24))        # manual | routing_rule | ...
    chosen_by_id: Mapped[str | None] = mapped_column(String(36))
    chosen_by_role: Mapped[str | None] = mapped_column(String(32))
    chosen_by_name: Mapped[str | None] = mapped_column(String(100))
    rule_id: Mapped[str | None] = mapped_column(String(36))
    rule_name: Mapped[str | None] = mapped_column(String(100))
    offer_id: Mapped[str | None] = mapped_column(String(36))
    certification_id: Mapped[str] = mapped_column(String(36))
    certificate_no: Mapped[str] = mapped_column(String(64))
    certificate_valid_until: Mapped[dt.date] = mapped_column(Date)
    open_load: Mapped[int] = mapped_column(Integer)        # the engineer's, before this one
    reason: Mapped[str | None] = mapped_column(String(500))
    previous_assignment_id: Mapped[str | None] = mapped_column(String(36))
    previous_engineer_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    ended_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    end_reason: Mapped[str | None] = mapped_column(String(16))  # reassigned | unassigned

    __table_args__ = (
        # two decisions racing for the same ticket cannot both be its next one
        UniqueConstraint("ticket_id", "seq", name="uq_assignments_ticket_seq"),
        CheckConstraint("kind IN ('assigned', 'reassigned')", name="ck_assignments_kind"),
        CheckConstraint("method IN ('manual', 'routing_rule', 'auto_installation', 'offer')",
                        name="ck_assignments_method"),
        # fairness asks "when was this engineer last given a ticket"
        Index("ix_assignments_engineer_created", "engineer_id", "created_at"),
    )


class CurrentAssignment(Base):
    """Who holds a ticket now: one row per ticket, changed only by compare-and-set on
    `version` (the primary key settles two first assignments racing; the version settles
    two changes racing), so of two concurrent decisions exactly one wins.

    `engineer_id` is None while nobody works on it: the ticket is with a provider that
    accepted an offer but has not named an engineer yet, or an offer is open (`offer_id`)."""
    __tablename__ = "current_assignments"
    ticket_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    assignment_id: Mapped[str | None] = mapped_column(ForeignKey("assignments.id"))
    engineer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    provider_id: Mapped[str | None] = mapped_column(String(36))
    method: Mapped[str | None] = mapped_column(String(24))
    offer_id: Mapped[str | None] = mapped_column(String(36))  # the open offer
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)

    __mapper_args__ = {"version_id_col": version}


class RoutingRule(Base):
    """An administrator's rule: tickets of (type, category, product line) — each None for
    any — go to a provider (team) or a named engineer. Lower `position` is tried first."""
    __tablename__ = "routing_rules"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    ticket_type: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))
    product_line: Mapped[str | None] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(ForeignKey("providers.id"))
    engineer_id: Mapped[str | None] = mapped_column(ForeignKey("engineers.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)

    __table_args__ = (
        CheckConstraint("(provider_id IS NULL) <> (engineer_id IS NULL)",
                        name="ck_routing_rules_one_target"),
        Index("ix_routing_rules_position", "position", "created_at"),
    )


class Offer(Base):
    """A repair or inspection ticket offered to a provider (the AISHU vendor flow): the
    provider accepts (and names its engineer) or declines before `due_at`."""
    __tablename__ = "offers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(String(36), index=True)
    ticket_number: Mapped[str | None] = mapped_column(String(32))
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)               # 1 for the first provider asked
    status: Mapped[str] = mapped_column(String(16))
    rule_id: Mapped[str | None] = mapped_column(String(36))
    offered_by_id: Mapped[str | None] = mapped_column(String(36))   # None: automatic
    offered_by_role: Mapped[str | None] = mapped_column(String(32))
    offered_by_name: Mapped[str | None] = mapped_column(String(100))
    offered_at: Mapped[dt.datetime] = mapped_column(TZ)
    due_at: Mapped[dt.datetime] = mapped_column(TZ)
    responded_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    responded_by_id: Mapped[str | None] = mapped_column(String(36))
    responded_by_name: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    engineer_id: Mapped[str | None] = mapped_column(String(36))     # named on acceptance

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'accepted', 'declined', 'expired', 'withdrawn')",
                        name="ck_offers_status"),
    )


class CertificationWarning(Base):
    """One row per (certification, warning day): the claim that makes the daily check
    warn once, however many replicas run it."""
    __tablename__ = "certification_warnings"
    certification_id: Mapped[str] = mapped_column(ForeignKey("certifications.id"),
                                                  primary_key=True)
    warn_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)


# ---- repositories ---------------------------------------------------------------------------

def _utc(value):
    """SQLite hands datetimes back naive: they are UTC by convention."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def open_loads(session, engineer_ids, done_statuses):
    """engineer id -> how many tickets they hold now that are not done (per the projection;
    a ticket the projection has not seen yet counts)."""
    if not engineer_ids:
        return {}
    stmt = (select(CurrentAssignment.engineer_id, func.count())
            .outerjoin(TicketProjection, TicketProjection.id == CurrentAssignment.ticket_id)
            .where(CurrentAssignment.engineer_id.in_(list(engineer_ids)),
                   or_(TicketProjection.status.is_(None),
                       TicketProjection.status.not_in(done_statuses)))
            .group_by(CurrentAssignment.engineer_id))
    return {engineer_id: count for engineer_id, count in session.execute(stmt)}


def last_assigned(session, engineer_ids):
    """engineer id -> when they were last given a ticket (absent: never)."""
    if not engineer_ids:
        return {}
    stmt = (select(Assignment.engineer_id, func.max(Assignment.created_at))
            .where(Assignment.engineer_id.in_(list(engineer_ids)))
            .group_by(Assignment.engineer_id))
    return {engineer_id: _utc(at) for engineer_id, at in session.execute(stmt)}


def last_offered(session, provider_ids):
    """provider id -> when they were last offered a ticket (absent: never)."""
    if not provider_ids:
        return {}
    stmt = (select(Offer.provider_id, func.max(Offer.offered_at))
            .where(Offer.provider_id.in_(list(provider_ids))).group_by(Offer.provider_id))
    return {provider_id: _utc(at) for provider_id, at in session.execute(stmt)}
