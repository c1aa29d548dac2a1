"""Work-log rules: when an entry's times are acceptable, who may write, correct or read
entries, and how time spent adds up.

Pure Python: no nameko, no sqlalchemy. The ticket facts come in as the dict intake's
`ticket_state` RPC returns (id, number, status, handler_id, provider_id, ...); refusals are
raised as `Refused(key, **params)` and turned into AppErrors by the service layer, invalid
times as `InvalidTimes({field: [(key, params), ...]})`.
"""
import datetime as dt
from dataclasses import dataclass, field

from gongdan_common import visibility

CLOCK_SKEW = dt.timedelta(minutes=5)       # a client's clock may run this far ahead
MAX_DURATION = dt.timedelta(hours=24)      # one entry covers at most a day's work
MAX_REPORT_SPAN = dt.timedelta(days=366)   # engineer_time periods

WRITABLE_STATUS = "in_progress"  # seed 001: only a ticket being worked accepts a work log;
#                                  a suspended one accepts none
DESK_ROLES = frozenset({"agent", "admin"})
WRITER_ROLES = frozenset({"engineer"}) | DESK_ROLES
REPORT_ROLES = frozenset({"engineer", "provider_admin"}) | DESK_ROLES


class Refused(Exception):
    """The actor may not do this (key names the reason; params fill the message)."""

    def __init__(self, key, **params):
        super().__init__(key)
        self.key, self.params = key, params


class InvalidTimes(Exception):
    """Times that break a rule: {field: [(key, params), ...]}."""

    def __init__(self, problems):
        super().__init__(problems)
        self.problems = problems


# ---- times --------------------------------------------------------------------------

def check_times(started_at, ended_at, now, not_before=None, skew=CLOCK_SKEW,
                max_duration=MAX_DURATION):
    """Validate one entry's period; return its duration in whole seconds.

    End strictly after start, neither later than `now` + `skew`, at most `max_duration`
    long, and not starting before `not_before` (the ticket's creation) less the skew.
    """
    for value in (started_at, ended_at, now):
        if value.tzinfo is None:
            raise ValueError("work-log times must carry a timezone")
    problems = {}

    def problem(name, key, **params):
        problems.setdefault(name, []).append((key, params))

    latest = now + skew
    if started_at > latest:
        problem("started_at", "in_future")
    if ended_at > latest:
        problem("ended_at", "in_future")
    if ended_at <= started_at:
        problem("ended_at", "not_after_start")
    elif ended_at - started_at > max_duration:
        problem("ended_at", "too_long", hours=_hours(max_duration))
    if not_before is not None and started_at < not_before - skew:
        problem("started_at", "before_ticket", created_at=_iso(not_before))
    if problems:
        raise InvalidTimes(problems)
    return duration_seconds(started_at, ended_at)


def duration_seconds(started_at, ended_at):
    return int((ended_at - started_at).total_seconds())


def minutes(seconds):
    """Whole minutes, half a minute rounding up (90 s -> 2, 89 s -> 1)."""
    return (int(seconds) + 30) // 60


def _hours(delta):
    hours = delta.total_seconds() / 3600
    return int(hours) if hours == int(hours) else hours


def _iso(value):
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


# ---- who may see and do what ----------------------------------------------------------

def can_view(actor, ticket):
    """Who may see this ticket (and so its work log): gongdan_common.visibility's one rule."""
    return visibility.may_see(actor, ticket)


def check_writer_role(actor):
    """Customers and provider admins never write work logs."""
    if actor.get("role") not in WRITER_ROLES:
        raise Refused("role_cannot_write", role=actor.get("role"))


def check_add(actor, ticket):
    """An engineer adds entries to a ticket only as its current handler; the desk to any.
    Either way, only while the ticket is in progress."""
    check_writer_role(actor)
    if actor["role"] == "engineer" and (
            not actor.get("id") or ticket.get("handler_id") != actor["id"]):
        raise Refused("not_handler")
    _check_status(ticket)


def check_correct(actor, entry, ticket):
    """Edit or delete: the entry's author or the desk, while the ticket is in progress.

    `entry` is {"author_id", ...}."""
    check_writer_role(actor)
    if actor["role"] not in DESK_ROLES and (
            not actor.get("id") or entry["author_id"] != actor["id"]):
        raise Refused("not_author")
    _check_status(ticket)


def can_correct(actor, entry, ticket):
    try:
        check_correct(actor, entry, ticket)
    except Refused:
        return False
    return True


def _check_status(ticket):
    if ticket.get("status") != WRITABLE_STATUS:
        raise Refused("wrong_status", status=ticket.get("status"))


def handler_for(actor, requested):
    """Whose work the entry records. Engineers log their own; the desk may name the engineer
    ({"id", "name"}) and otherwise logs its own work (a phone call, say)."""
    own = {"id": actor.get("id"), "name": actor.get("name")}
    if actor["role"] not in DESK_ROLES:
        if requested and requested.get("id") != actor.get("id"):
            raise Refused("handler_is_self")
        return own
    if not requested or requested["id"] == actor.get("id"):
        return own
    return {"id": requested["id"], "name": requested.get("name")}


def report_filters(actor, query):
    """Which entries an engineer-time report may cover: {"handler_id"?, "provider_id"?,
    "product_line"?}. Engineers see their own, provider admins their provider's, the desk all.
    """
    role = actor.get("role")
    if role not in REPORT_ROLES:
        raise Refused("report_forbidden")
    out = {k: query[k] for k in ("engineer_id", "provider_id", "product_line") if query.get(k)}
    if role == "engineer":
        if out.get("engineer_id", actor.get("id")) != actor.get("id") or not actor.get("id"):
            raise Refused("report_forbidden")
        out["engineer_id"] = actor["id"]
    elif role == "provider_admin":
        own = actor.get("provider_id")
        if not own or out.get("provider_id", own) != own:
            raise Refused("report_forbidden")
        out["provider_id"] = own
    return out


def check_period(start, end, max_span=MAX_REPORT_SPAN):
    problems = {}
    if end <= start:
        problems["to"] = [("period_empty", {})]
    elif end - start > max_span:
        problems["to"] = [("period_too_long", {"days": max_span.days})]
    if problems:
        raise InvalidTimes(problems)


# ---- time spent -----------------------------------------------------------------------

@dataclass
class Spent:
    seconds: int = 0
    entries: int = 0
    on_site_entries: int = 0
    first_started_at: dt.datetime | None = None
    last_ended_at: dt.datetime | None = None
    names: dict = field(default_factory=dict)

    def add(self, started_at, ended_at, on_site):
        self.seconds += duration_seconds(started_at, ended_at)
        self.entries += 1
        self.on_site_entries += 1 if on_site else 0
        if self.first_started_at is None or started_at < self.first_started_at:
            self.first_started_at = started_at
        if self.last_ended_at is None or ended_at > self.last_ended_at:
            self.last_ended_at = ended_at

    def as_dict(self):
        return {"seconds": self.seconds, "minutes": minutes(self.seconds),
                "entries": self.entries, "on_site_entries": self.on_site_entries,
                "first_started_at": self.first_started_at,
                "last_ended_at": self.last_ended_at}


def totals(entries):
    """Time spent on one ticket. `entries`: dicts with started_at, ended_at, on_site,
    handler_id, handler_name. Returns the sums, the count, the on-site count, first start and
    last end, and the same per engineer (by seconds spent, most first)."""
    overall = Spent()
    per = {}
    for e in entries:
        overall.add(e["started_at"], e["ended_at"], e["on_site"])
        spent = per.setdefault(e["handler_id"], Spent())
        spent.add(e["started_at"], e["ended_at"], e["on_site"])
        if e.get("handler_name"):
            spent.names[e["handler_id"]] = e["handler_name"]
    out = overall.as_dict()
    out["engineers"] = sorted(
        ({"engineer_id": hid, "engineer_name": s.names.get(hid), **s.as_dict()}
         for hid, s in per.items()),
        key=lambda row: (-row["seconds"], row["engineer_id"] or ""))
    return out


def fold_report(rows, tickets_per_engineer):
    """Engineer time from grouped sums. `rows`: dicts with engineer_id, engineer_name,
    product_line, seconds, entries, on_site_entries, first_started_at, last_ended_at (one per
    engineer and product line); `tickets_per_engineer`: {engineer_id: distinct tickets}.
    Returns (totals, engineers), engineers by time spent, most first."""
    overall = _Sum()
    per = {}
    for row in rows:
        overall.merge(row)
        eng = per.setdefault(row["engineer_id"], {"sum": _Sum(), "name": None, "lines": []})
        eng["sum"].merge(row)
        eng["name"] = eng["name"] or row.get("engineer_name")
        eng["lines"].append({"product_line": row["product_line"], "seconds": row["seconds"],
                             "minutes": minutes(row["seconds"]), "entries": row["entries"]})
    engineers = []
    for eid, eng in per.items():
        engineers.append({
            "engineer_id": eid, "engineer_name": eng["name"],
            "tickets": tickets_per_engineer.get(eid, 0), **eng["sum"].as_dict(),
            "product_lines": sorted(eng["lines"], key=lambda r: (-r["seconds"],
                                                                 r["product_line"] or ""))})
    engineers.sort(key=lambda r: (-r["seconds"], r["engineer_id"] or ""))
    return overall.as_dict(), engineers


class _Sum(Spent):
    def merge(self, row):
        self.seconds += int(row["seconds"] or 0)
        self.entries += int(row["entries"] or 0)
        self.on_site_entries += int(row["on_site_entries"] or 0)
        if row["first_started_at"] is not None and (
                self.first_started_at is None or row["first_started_at"] < self.first_started_at):
            self.first_started_at = row["first_started_at"]
        if row["last_ended_at"] is not None and (
                self.last_ended_at is None or row["last_ended_at"] > self.last_ended_at):
            self.last_ended_at = row["last_ended_at"]
