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

from sqlalchemy import (ARRAY, JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey,
                        Index, Integer, String, UniqueConstraint, bindparam, case, cast, func,
                        or_, select, update)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates

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


# ---- keys the qualified-engineer lookup matches on in SQL ------------------------------------

SKILL_SEP = "\x1f"  # unit separator: cannot occur in a skill label typed by a person


def line_key(product_line):
    """A product line as compared (domain.same_line): stripped, lower-cased."""
    return (product_line or "").strip().lower()


def skill_keys(skills):
    """An engineer's skills as one string the lookup can match a wanted skill in with LIKE:
    each stripped and lower-cased (domain.skill_match), between separators."""
    keys = sorted({s.strip().lower() for s in skills or () if s and s.strip()})
    return SKILL_SEP + "".join(k + SKILL_SEP for k in keys)


def _from_param(name, derive):
    """Column default for Core inserts (bulk loads) that name only the source column."""
    return lambda ctx: derive(ctx.get_current_parameters().get(name))


class Engineer(Base):
    """A provider's engineer (服务商工程师).

    `open_load` (tickets they hold that are not done) and `last_assigned_at` are kept here
    by the transactions that change them (`refresh_engineers`), so ranking candidates reads
    no assignment history; `skill_keys` is `skills` in the form the lookup matches on."""
    __tablename__ = "engineers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # gateway user id
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    skills: Mapped[list] = mapped_column(JSON, default=list)
    availability: Mapped[str] = mapped_column(String(16), default="on_duty")
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)
    skill_keys: Mapped[str] = mapped_column(String(4000), server_default=SKILL_SEP,
                                            default=_from_param("skills", skill_keys))
    open_load: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_assigned_at: Mapped[dt.datetime | None] = mapped_column(TZ)

    __table_args__ = (
        CheckConstraint("availability IN ('on_duty', 'on_leave')",
                        name="ck_engineers_availability"),
    )

    @validates("skills")
    def _keep_skill_keys(self, _key, value):
        self.skill_keys = skill_keys(value)
        return value


class Certification(Base):
    """An engineer's certification (认证) for one product line, valid on
    valid_from..valid_until inclusive (认证有效期)."""
    __tablename__ = "certifications"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    engineer_id: Mapped[str] = mapped_column(ForeignKey("engineers.id"), index=True)
    product_line: Mapped[str] = mapped_column(String(64))
    line_key: Mapped[str] = mapped_column(String(64), server_default="",
                                          default=_from_param("product_line", line_key))
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
        # the lookup: one line's certifications valid on a day
        Index("ix_certifications_line_key_valid_until", "line_key", "valid_until"),
        CheckConstraint("valid_from <= valid_until", name="ck_certifications_period"),
    )

    @validates("product_line")
    def _keep_line_key(self, _key, value):
        self.line_key = line_key(value)
        return value


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


def _not_done(done_statuses):
    """A held ticket that counts towards its engineer's open load: not done per the
    projection (a ticket the projection has not seen yet counts)."""
    return or_(TicketProjection.status.is_(None), TicketProjection.status.not_in(done_statuses))


def open_loads(session, engineer_ids, done_statuses):
    """engineer id -> how many tickets they hold now that are not done, counted from the
    current assignments (what `Engineer.open_load` keeps)."""
    if not engineer_ids:
        return {}
    stmt = (select(CurrentAssignment.engineer_id, func.count())
            .outerjoin(TicketProjection, TicketProjection.id == CurrentAssignment.ticket_id)
            .where(CurrentAssignment.engineer_id.in_(list(engineer_ids)),
                   _not_done(done_statuses))
            .group_by(CurrentAssignment.engineer_id))
    return {engineer_id: count for engineer_id, count in session.execute(stmt)}


def refresh_engineers(session, engineer_ids, done_statuses, assigned=None):
    """Recount `open_load` of these engineers (None: of all) from the current assignments,
    and with `assigned=(engineer_id, at)` record that engineer's latest assignment.

    Called in the transaction that changed who holds a ticket or whether a held ticket is
    done, after that change. The engineers' rows are locked first (in id order, so two
    transactions never wait on each other crosswise) and counted by a later statement: on
    PostgreSQL (read committed) that statement sees every change committed by a transaction
    that held the lock before, so the last of two racing transactions counts both."""
    session.flush()
    ids = sorted({i for i in engineer_ids if i}) if engineer_ids is not None else None
    if ids == []:
        return
    if ids is not None:
        session.execute(select(Engineer.id).where(Engineer.id.in_(ids))
                        .order_by(Engineer.id).with_for_update())
    count = (select(func.count()).select_from(CurrentAssignment)
             .outerjoin(TicketProjection, TicketProjection.id == CurrentAssignment.ticket_id)
             .where(CurrentAssignment.engineer_id == Engineer.id, _not_done(done_statuses))
             .scalar_subquery())
    values = {"open_load": count}
    if ids is None:  # a full rebuild also recomputes the latest assignment
        values["last_assigned_at"] = (select(func.max(Assignment.created_at))
                                      .where(Assignment.engineer_id == Engineer.id)
                                      .scalar_subquery())
    stmt = update(Engineer).values(**values)
    if ids is not None:
        stmt = stmt.where(Engineer.id.in_(ids))
    session.execute(stmt, execution_options={"synchronize_session": False})
    if assigned is not None:
        engineer_id, at = assigned
        session.execute(update(Engineer).where(
            Engineer.id == engineer_id,
            or_(Engineer.last_assigned_at.is_(None), Engineer.last_assigned_at < at))
            .values(last_assigned_at=at), execution_options={"synchronize_session": False})
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Engineer) and (ids is None or obj.id in ids):
            session.expire(obj, ["open_load", "last_assigned_at"])


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


# ---- the qualified-engineer lookup ----------------------------------------------------------

def _qualified_where(stmt, by_provider):
    """Certifications of the line (`:line`) valid on `:day` of on-duty engineers of active
    providers (of `:providers` when `by_provider`): domain.qualified's rule, in SQL, served
    by ix_certifications_line_key_valid_until."""
    stmt = (stmt.join(Engineer, Engineer.id == Certification.engineer_id)
            .join(Provider, Provider.id == Engineer.provider_id)
            .where(Certification.line_key == bindparam("line"),
                   Certification.valid_until >= bindparam("day"),
                   Certification.valid_from <= bindparam("day"),
                   Engineer.availability == "on_duty", Provider.active.is_(True)))
    if by_provider:
        stmt = stmt.where(Engineer.provider_id.in_(bindparam("providers", expanding=True)))
    return stmt


def _engineers_by_key(stmt):
    """PostgreSQL: reach the engineers through their primary key. The planner cannot tell
    that only a few hundred of the registry hold the line, and by default (random_page_cost
    4) prefers hashing every engineer (a scan of the whole table, ~5 ms at 10,000) to a few
    hundred index look-ups (~0.5 ms). `id = ANY(<array of the line's holders>)` is computed
    once (an InitPlan) and estimated small, so the join goes through the key."""
    holders = (select(func.array_agg(Certification.engineer_id))
               .where(Certification.line_key == bindparam("line"),
                      Certification.valid_until >= bindparam("day"),
                      Certification.valid_from <= bindparam("day"))
               .scalar_subquery())
    return stmt.where(Engineer.id == func.any(cast(holders, ARRAY(String))))


def _skill_match(n_wanted):
    """How many of the wanted keys (`:w0`.. as LIKE patterns) the engineer's skill_keys
    hold (domain.skill_match)."""
    out = None
    for k in range(n_wanted):
        term = case((Engineer.skill_keys.like(bindparam(f"w{k}"), escape="/"), 1), else_=0)
        out = term if out is None else out + term
    return out


def _like_pattern(key):
    escaped = key.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return "%" + SKILL_SEP + escaped + SKILL_SEP + "%"


_CANDIDATE_ENGINEER = ("id", "provider_id", "name", "skills", "availability", "created_at",
                       "updated_at", "open_load", "last_assigned_at")
_CANDIDATE_CERT = ("id", "engineer_id", "product_line", "certificate_no", "certificate_name",
                   "valid_from", "valid_until", "created_at")
_STATEMENTS = {}


def _candidates_stmt(dialect, n_wanted, by_provider):
    """The lookup statement, built once per shape (its values are bound parameters): building
    it costs more Python than running it."""
    shape = (dialect, n_wanted, by_provider)
    if shape in _STATEMENTS:
        return _STATEMENTS[shape]
    cert_cols = [getattr(Certification, c).label("cert_" + c) for c in _CANDIDATE_CERT]
    best_first = func.row_number().over(
        partition_by=Certification.engineer_id,
        order_by=(Certification.valid_until.desc(), Certification.valid_from.desc(),
                  Certification.id)).label("rank_in_engineer")
    inner = _qualified_where(
        select(*[getattr(Engineer, c) for c in _CANDIDATE_ENGINEER], *cert_cols,
               _skill_match(n_wanted).label("skill_match"), best_first)
        .select_from(Certification), by_provider)
    if dialect == "postgresql":
        inner = _engineers_by_key(inner)
    inner = inner.subquery()
    name = func.lower(inner.c.name)
    if dialect == "postgresql":
        name = name.collate("C")  # code point order, as Python sorts str
    stmt = (select(*[c for c in inner.c if c.name != "rank_in_engineer"],
                   func.count().over().label("total"))
            .where(inner.c.rank_in_engineer == 1)
            .order_by(inner.c.skill_match.desc(), inner.c.open_load,
                      case((inner.c.last_assigned_at.is_(None), 0), else_=1),
                      inner.c.last_assigned_at, name, inner.c.id)
            .limit(bindparam("limit")))
    _STATEMENTS[shape] = stmt
    return stmt


def qualified_candidates(session, product_line, day, provider_ids=None, wanted_skills=(),
                         limit=None):
    """The engineers qualified for `product_line` on `day`, most suitable first, as plain
    rows (no ORM objects), and how many there are in all: ([row, ...], total).

    One statement. Each engineer comes once, with the certification that qualifies them
    (the longest-valid one); the order is domain.by_suitability's — best skill match, the
    lightest open load, never assigned before least recently assigned, then name (code
    point order, as Python compares) and id — and at most `limit` rows are returned.
    Row keys: the engineer's columns, `skill_match`, `total`, and the certification's
    columns prefixed `cert_`."""
    wanted = sorted({line_key(product_line)} | {w.strip().lower() for w in wanted_skills
                                                if w and w.strip()})
    stmt = _candidates_stmt(session.bind.dialect.name, len(wanted), provider_ids is not None)
    params = {"line": line_key(product_line), "day": day,
              "limit": limit if limit is not None else 1_000_000}
    params.update({f"w{k}": _like_pattern(key) for k, key in enumerate(wanted)})
    if provider_ids is not None:
        params["providers"] = list(provider_ids)
    rows = session.execute(stmt, params).mappings().all()
    return rows, (rows[0]["total"] if rows else 0)


def qualified_provider_ids(session, product_line, day, provider_ids=None):
    """The providers (of `provider_ids`, when given) that have an engineer qualified for
    `product_line` on `day`."""
    stmt = _qualified_where(select(Engineer.provider_id).select_from(Certification).distinct(),
                            provider_ids is not None)
    params = {"line": line_key(product_line), "day": day}
    if provider_ids is not None:
        params["providers"] = list(provider_ids)
    return set(session.scalars(stmt, params).all())
