"""Charts and satisfaction reports over the tickets an actor may see: volume per period
(created, resolved), the backlog by status x priority, customer satisfaction (product and
service stars) per period, product line, provider or engineer, and open work per engineer.

Every figure is one SQL GROUP BY (cheap at a million tickets: the range is index-bounded,
no row reaches Python). Periods are days, ISO weeks or months of the desk's time zone: SQL
groups by UTC hour (the same expression on SQLite and PostgreSQL), and the few hundred hour
buckets are folded into local periods here, which keeps daylight saving right. (A zone
whose offset is not whole hours would shift by its fraction of an hour.)
"""
import datetime as dt
import zoneinfo

from sqlalchemy import case, func, null, select

from gongdan_common import visibility
from gongdan_common.validation import load

from . import domain, exceptions as exc
from .report_schemas import (BacklogQuerySchema, BacklogSchema, PeriodQuerySchema,
                             SatisfactionQuerySchema, SatisfactionSchema, VolumeSchema,
                             WorkloadSchema)
from .models import Rating, Ticket

# who may read reports: staff (scoped by visibility) and a customer company's admin (their
# company); a customer's own handful of tickets is no report
REPORT_ROLES = frozenset(domain.STAFF_ROLES | {"customer_admin", "system"})
# work an engineer holds: assigned to them and not yet resolved
WORK_STATUSES = ("assigned", "in_progress", "suspended", "needs_info")
DEFAULT_DAYS = {"day": 30, "week": 84, "month": 365}
MAX_DAYS = {"day": 400, "week": 1100, "month": 1900}
SCORES = (1, 2, 3, 4, 5)


def _require_reader(actor):
    if (actor or {}).get("role") not in REPORT_ROLES:
        raise exc.REPORTS_NOT_ALLOWED()


def _scope(actor):
    return visibility.scope_clause(actor, {
        "submitter_id": Ticket.submitter_id, "company_id": Ticket.company_id,
        "provider_id": Ticket.provider_id, "handler_id": Ticket.handler_id})


# ---- periods (pure) ---------------------------------------------------------------------

def period_key(local, granularity):
    if granularity == "day":
        return local.date().isoformat()
    if granularity == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.strftime("%Y-%m")


def period_keys(start, end, tz, granularity):
    """Every period touching [start, end), in order: the chart's x axis with no gaps."""
    keys, day = [], start.astimezone(tz).date()
    last = (end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    while day <= last:
        key = period_key(dt.datetime.combine(day, dt.time()), granularity)
        if not keys or keys[-1] != key:
            keys.append(key)
        day += dt.timedelta(days=1)
    return keys


def hour_bucket(column, dialect):
    """The UTC hour of a timestamp as 'YYYY-MM-DD HH' (SQLite keeps UTC text)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.substr(column, 1, 13)


def fold_hours(hour, tz, granularity, cache):
    key = cache.get(hour)
    if key is None:
        at = dt.datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=dt.timezone.utc)
        key = cache[hour] = period_key(at.astimezone(tz), granularity)
    return key


def resolve_range(q, tz, now):
    """[from, to) of the query, defaults filled; a span too long for its granularity is
    refused (a day chart of ten years is no chart)."""
    gran = q["granularity"]
    end = q.get("to")
    if end is None:
        end = dt.datetime.combine(now.astimezone(tz).date() + dt.timedelta(days=1), dt.time(),
                                  tzinfo=tz).astimezone(dt.timezone.utc)
    start = q.get("from_") or end - dt.timedelta(days=DEFAULT_DAYS[gran])
    if end <= start:
        raise exc.REPORT_RANGE(details={"fields": {"from": [{
            "en": "“from” must be before “to”.", "zh": "开始日期必须早于结束日期。"}]}})
    if (end - start).days > MAX_DAYS[gran]:
        raise exc.REPORT_RANGE(details={"fields": {"from": [{
            "en": f"At most {MAX_DAYS[gran]} days for this granularity.",
            "zh": f"该粒度最多 {MAX_DAYS[gran]} 天。"}]}})
    return start, end


def _tz(settings):
    return (settings or {}).get("tz") or zoneinfo.ZoneInfo("Asia/Shanghai")


def _load(schema_cls, query, tz):
    schema = schema_cls()
    schema.context["tz"] = tz
    return load(schema, query)


def _utc(value):
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


# ---- volume -----------------------------------------------------------------------------

def volume(actor, query, uow, settings=None, now=None):
    """Tickets created and resolved per period."""
    _require_reader(actor)
    tz = _tz(settings)
    q = _load(PeriodQuerySchema, query, tz)
    start, end = resolve_range(q, tz, now or dt.datetime.now(dt.timezone.utc))
    keys = period_keys(start, end, tz, q["granularity"])
    rows = {k: {"period": k, "created": 0, "resolved": 0} for k in keys}
    cache = {}
    with uow:
        dialect = uow.session.bind.dialect.name
        for column, name in ((Ticket.created_at, "created"), (Ticket.resolved_at, "resolved")):
            bucket = hour_bucket(column, dialect).label("h")
            stmt = (select(bucket, func.count()).where(_scope(actor), column >= start,
                                                       column < end).group_by(bucket))
            for hour, count in uow.session.execute(stmt):
                key = fold_hours(hour, tz, q["granularity"], cache)
                if key in rows:
                    rows[key][name] += count
    return VolumeSchema().dump({
        "granularity": q["granularity"], "tz": str(tz), "from_": _utc(start), "to": _utc(end),
        "rows": list(rows.values()),
        "totals": {n: sum(r[n] for r in rows.values()) for n in ("created", "resolved")}})


# ---- backlog ----------------------------------------------------------------------------

def backlog(actor, query, uow):
    """Open tickets (not closed or cancelled) by status x priority."""
    _require_reader(actor)
    q = load(BacklogQuerySchema(), query)
    stmt = select(Ticket.status, Ticket.priority, func.count()).where(
        _scope(actor), Ticket.status.in_(domain.OPEN_STATUSES))
    if q.get("product_line"):
        stmt = stmt.where(Ticket.product_line == q["product_line"])
    with uow:
        found = uow.session.execute(stmt.group_by(Ticket.status, Ticket.priority)).all()
    counts = {(s, p): n for s, p, n in found}
    rows = [{"status": s, "priority": p, "count": counts.get((s, p), 0)}
            for s in domain.OPEN_STATUSES for p in domain.PRIORITIES]
    return BacklogSchema().dump({
        "statuses": list(domain.OPEN_STATUSES), "priorities": list(domain.PRIORITIES),
        "rows": rows, "total": sum(counts.values())})


# ---- satisfaction -----------------------------------------------------------------------

def _distribution_columns():
    cols = [func.count().label("ratings"),
            func.sum(Rating.product_score).label("product_sum"),
            func.sum(Rating.service_score).label("service_sum")]
    for kind, column in (("product", Rating.product_score), ("service", Rating.service_score)):
        cols += [func.sum(case((column == s, 1), else_=0)).label(f"{kind}_{s}") for s in SCORES]
    return cols


def _empty(group, name=None):
    return {"group": group, "name": name, "ratings": 0, "product_sum": 0, "service_sum": 0,
            **{f"{k}_{s}": 0 for k in ("product", "service") for s in SCORES}}


def _add(into, row):
    for name in ("ratings", "product_sum", "service_sum") + tuple(
            f"{k}_{s}" for k in ("product", "service") for s in SCORES):
        into[name] += int(row[name] or 0)


def _finish(acc):
    n = acc["ratings"]
    return {"group": acc["group"], "name": acc.get("name"), "ratings": n,
            "product_average": round(acc["product_sum"] / n, 2) if n else None,
            "service_average": round(acc["service_sum"] / n, 2) if n else None,
            "product_distribution": [acc[f"product_{s}"] for s in SCORES],
            "service_distribution": [acc[f"service_{s}"] for s in SCORES]}


def satisfaction(actor, query, uow, settings=None, now=None):
    """Averages and 1-5 distributions of product and service stars, by period (of the
    rating), product line, provider or engineer (the ticket's current holder)."""
    _require_reader(actor)
    tz = _tz(settings)
    q = _load(SatisfactionQuerySchema, query, tz)
    start, end = resolve_range(q, tz, now or dt.datetime.now(dt.timezone.utc))
    by = q["group_by"]
    base = (select().select_from(Rating).join(Ticket, Ticket.id == Rating.ticket_id)
            .where(_scope(actor), Rating.created_at >= start, Rating.created_at < end))
    if q.get("product_line"):
        base = base.where(Ticket.product_line == q["product_line"])
    total = _empty(None)
    with uow:
        dialect = uow.session.bind.dialect.name
        if by == "period":
            keys = period_keys(start, end, tz, q["granularity"])
            groups = {k: _empty(k) for k in keys}
            bucket = hour_bucket(Rating.created_at, dialect).label("h")
            stmt = base.add_columns(bucket, *_distribution_columns()).group_by(bucket)
            cache = {}
            for row in uow.session.execute(stmt).mappings():
                key = fold_hours(row["h"], tz, q["granularity"], cache)
                if key in groups:
                    _add(groups[key], row)
                    _add(total, row)
            out = list(groups.values())
        else:
            column = {"product_line": Ticket.product_line, "provider": Ticket.provider_id,
                      "engineer": Ticket.handler_id}[by]
            name = func.max(Ticket.handler_name) if by == "engineer" else null()
            stmt = base.add_columns(column.label("g"), name.label("n"),
                                    *_distribution_columns()).group_by(column)
            out = []
            for row in uow.session.execute(stmt).mappings():
                acc = _empty(row["g"], row["n"])
                _add(acc, row)
                _add(total, row)
                out.append(acc)
            out.sort(key=lambda a: (-a["ratings"], str(a["group"])))
    return SatisfactionSchema().dump({
        "group_by": by, "granularity": q["granularity"], "tz": str(tz), "from_": _utc(start),
        "to": _utc(end), "rows": [_finish(a) for a in out], "totals": _finish(total)})


# ---- open work per engineer -------------------------------------------------------------

def workload(actor, uow):
    """Tickets each engineer holds that are not yet resolved, by status."""
    _require_reader(actor)
    stmt = (select(Ticket.handler_id, func.max(Ticket.handler_name), Ticket.status, func.count())
            .where(_scope(actor), Ticket.status.in_(WORK_STATUSES))
            .group_by(Ticket.handler_id, Ticket.status))
    engineers = {}
    with uow:
        # no "handler_id IS NOT NULL" in SQL: it would lead the planner to the handler index
        # (every ticket ever assigned) instead of the few open ones by status
        for handler_id, name, status, count in uow.session.execute(stmt):
            if handler_id is None:
                continue
            row = engineers.setdefault(handler_id, {
                "engineer_id": handler_id, "engineer_name": name, "open": 0,
                "by_status": {s: 0 for s in WORK_STATUSES}})
            row["engineer_name"] = row["engineer_name"] or name
            row["by_status"][status] += count
            row["open"] += count
    rows = sorted(engineers.values(), key=lambda r: (-r["open"], r["engineer_name"] or ""))
    return WorkloadSchema(only=("statuses", "rows")).dump(
        {"statuses": list(WORK_STATUSES), "rows": rows})
