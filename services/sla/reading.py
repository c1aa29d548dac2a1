"""sla's reading side of clocks: a ticket's clocks now, compliance reports, the dry run of
a policy change. (Split from clocks.py, which keeps how events become clocks.)"""
import datetime as dt
import zoneinfo
from collections import defaultdict

from sqlalchemy import select

from gongdan_common import visibility
from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, exceptions as exc, policies as pol, schemas
from .clocks import OPEN_STATES, _aware, _minutes, _steps, evaluate_ticket
from .models import Clock, SlaTicket


def clock_out(view):
    breached = view["breached_at"] is not None
    return {"target": view["target"], "state": view["state"], "priority": view["priority"],
            "policy_id": view["policy_id"], "target_minutes": _minutes(view["duration"]),
            "spent_minutes": _minutes(view["spent"]),
            "remaining_minutes": _minutes(view["remaining"]),
            "paused_minutes": _minutes(view["paused"]), "paused": view["state"] == "paused",
            "due_at": view["due_at"], "warning_at": view["warning_at"],
            "met_at": view["met_at"], "met": view["met_at"] is not None,
            "breached": breached, "breached_at": view["breached_at"],
            "warned_at": view["warned_at"], "escalation": view["escalation"] or None,
            "cycle": view.get("cycle"), "cycle_started_at": view.get("cycle_started_at")}


def ticket_sla(ticket_id, uow, now=None):
    """Each target of a ticket, evaluated now."""
    now = now or utcnow()
    with uow:
        ticket = uow.session.get(SlaTicket, ticket_id)
        if ticket is None:
            raise exc.NO_CLOCKS()
        views = evaluate_ticket(ticket, _steps(uow, ticket_id), pol.load_policies(uow), now)
    clocks = [clock_out(v) for v in views.values() if v["state"] != "none"]
    if not clocks:
        raise exc.NO_POLICY()
    dues = [c["due_at"] for c in clocks if c["state"] == "running"]
    return schemas.TicketSlaSchema().dump({
        "ticket_id": ticket.ticket_id, "number": ticket.number, "priority": ticket.priority,
        "status": ticket.status, "next_due_at": min(dues) if dues else None, "clocks": clocks})


def require_staff(actor):
    if (actor or {}).get("role") not in domain.STAFF_ROLES:
        raise exc.STAFF_ONLY()


def _period(stmt, q):
    if q.get("created_from"):
        stmt = stmt.where(SlaTicket.created_at >= q["created_from"])
    if q.get("created_to"):
        stmt = stmt.where(SlaTicket.created_at < q["created_to"])
    return stmt


def settings_from_config(config):
    """TIMEZONE (Asia/Shanghai): the business time zone reports group months, weeks and
    days in."""
    return {"tz": zoneinfo.ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai")}


def _local(ticket, tz):
    return _aware(ticket.created_at).astimezone(tz)


_GROUP = {"priority": lambda t, c, tz: c.priority or t.priority,
          "type": lambda t, c, tz: t.type,
          "provider": lambda t, c, tz: t.provider_id,
          "engineer": lambda t, c, tz: t.handler_id,
          "month": lambda t, c, tz: _local(t, tz).strftime("%Y-%m"),
          "week": lambda t, c, tz: _local(t, tz).strftime("%G-W%V"),
          "day": lambda t, c, tz: _local(t, tz).date().isoformat()}


def report_scope(actor):
    """The tickets a report may count for this actor: those they may see
    (gongdan_common.visibility) — a provider's staff never see another provider's rows,
    ids or counts."""
    return visibility.scope_clause(actor, {
        "company_id": SlaTicket.company_id, "provider_id": SlaTicket.provider_id,
        "handler_id": SlaTicket.handler_id})  # no submitter here: customers are refused


def report(actor, query, uow, tz=dt.timezone.utc):
    """Compliance per group and target, and the mean business time to meet a target.
    Months, weeks and days are those of `tz` (the business time zone, config TIMEZONE)."""
    require_staff(actor)
    q = load(schemas.ReportQuerySchema(), query)
    stmt = _period(select(SlaTicket, Clock).join(Clock, Clock.ticket_id == SlaTicket.ticket_id)
                   .where(report_scope(actor)), q)
    if q.get("target"):
        stmt = stmt.where(Clock.target == q["target"])
    rows = defaultdict(lambda: {"clocks": 0, "met_in_time": 0, "breached": 0, "open": 0,
                                "met_spent": 0.0, "met": 0})
    with uow:
        for ticket, clock in uow.session.execute(stmt.execution_options(yield_per=2000)):
            row = rows[(_GROUP[q["group_by"]](ticket, clock, tz), clock.target)]
            row["clocks"] += 1
            if clock.breached_at is not None:
                row["breached"] += 1
            elif clock.state == "met":
                row["met_in_time"] += 1
            elif clock.state in OPEN_STATES:
                row["open"] += 1
            if clock.state == "met":
                row["met"] += 1
                row["met_spent"] += clock.spent_seconds or 0
    out = []
    for (group, target), r in sorted(rows.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        decided = r["met_in_time"] + r["breached"]
        out.append({"group": group, "target": target, "clocks": r["clocks"],
                    "met_in_time": r["met_in_time"], "breached": r["breached"],
                    "open": r["open"],
                    "compliance": round(r["met_in_time"] / decided, 4) if decided else None,
                    "mean_business_minutes_to_meet":
                        round(r["met_spent"] / r["met"] / 60, 2) if r["met"] else None})
    return schemas.ReportSchema().dump({"group_by": q["group_by"], "rows": out, "tz": str(tz),
                                        "created_from": q.get("created_from"),
                                        "created_to": q.get("created_to")})


def dry_run(actor, payload, uow, now=None):
    """Evaluate past tickets under a changed (or new) policy beside the policies in force,
    and list which would have breached. Nothing is stored."""
    pol.require_admin(actor)
    q = load(schemas.DryRunSchema(), payload)
    now = now or utcnow()
    with uow:
        current = pol.load_policies(uow)
        if q.get("policy_id"):
            base = next((p for p in current if p["id"] == q["policy_id"]), None)
            if base is None:
                raise exc.POLICY_NOT_FOUND()
            changes = load(schemas.PolicyInSchema.for_patch(), q["changes"])
            candidate = dict(base, **pol.policy_row_values(changes))
        else:
            candidate = dict(pol.policy_row_values(load(schemas.PolicyInSchema(),
                                                        q["changes"])), id="dry-run")
        pol.check_policy(uow, candidate)
        candidate["business_calendar"] = pol.business_calendar(
            pol._calendar(uow, candidate["calendar_id"]))
        changed = [p for p in current if p["id"] != candidate["id"]] + [candidate]
        stmt = _period(select(SlaTicket).order_by(SlaTicket.created_at), q)
        tickets = uow.session.scalars(stmt.limit(20000)).all()
        result = {"tickets": len(tickets), "clocks": 0, "breached_now": 0, "breached_then": 0,
                  "newly_breached": 0, "no_longer_breached": 0, "items": []}
        for ticket in tickets:
            steps = _steps(uow, ticket.ticket_id)
            before = evaluate_ticket(ticket, steps, current, now)
            after = evaluate_ticket(ticket, steps, changed, now)
            for target in domain.TARGETS:
                b, a = before[target], after[target]
                if a["state"] == "none" and b["state"] == "none":
                    continue
                result["clocks"] += 1
                was, would = b.get("breached_at") is not None, a.get("breached_at") is not None
                result["breached_now"] += was
                result["breached_then"] += would
                result["newly_breached"] += would and not was
                result["no_longer_breached"] += was and not would
                if (was or would) and len(result["items"]) < q["limit"]:
                    result["items"].append({
                        "ticket_id": ticket.ticket_id, "number": ticket.number,
                        "target": target, "breached_now": was, "breached_then": would,
                        "breached_at": a.get("breached_at")})
    return schemas.DryRunResultSchema().dump(result)
