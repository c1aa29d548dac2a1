"""SLA rules: which policy applies, and what a clock says given the ticket's history.

Pure functions (no nameko, no sqlalchemy). A clock is never updated incrementally: it is
*evaluated* from the ticket's history (the steps sla saw: creation, status changes,
priority changes, public replies by staff) under the policies in force, up to `now`. That
makes it deterministic, lets an edit of a calendar or a policy re-evaluate open clocks,
and lets a dry run apply a changed policy to past tickets.

Rules
- Targets: `completeness` (the desk checks the ticket: met when it leaves `new`),
  `response` (met by the first public reply of staff, or the start of work), `resolution`
  (met by resolve; a reopen takes it back; closing meets it too).
- The clock runs only while the ticket is not waiting: needs_info, suspended and resolved
  (awaiting confirmation) pause it; closed and cancelled stop it.
- A priority change switches to the targets (and calendar) of the new priority from that
  instant on, keeping the business time already spent and the time already paused.
- Warning when the business time spent reaches `warn_share` of the target, breach at 100%.
- `update` (policies with `update_minutes`): once the response target is met (first public
  staff reply or start of work) the customer is owed a public staff update at least every
  `update_minutes` of business time. Each public staff reply starts a new cycle (spent,
  warning and breach start again); needs_info and suspended pause it; resolve ends the
  cycle (a reopen starts a new one); closed and cancelled stop it. Before the first
  response it is `pending`. See `evaluate_update`.
"""
import datetime as dt
from dataclasses import dataclass

from .calendar import ZERO

TARGETS = ("completeness", "response", "resolution", "update")
PRIORITIES = ("P1", "P2", "P3", "P4")
TICKET_TYPES = ("consult", "defect", "customization", "license", "repair", "inspection",
                "installation")
PAUSED = frozenset({"needs_info", "suspended", "resolved"})
STOPPED = frozenset({"closed", "cancelled"})
UPDATE_ENDED = STOPPED | {"resolved"}  # no update is owed in these
ESCALATIONS = ("notify", "raise_priority", "handoff")
STAFF_ROLES = frozenset({"agent", "admin", "provider_admin", "engineer", "system"})


@dataclass(frozen=True)
class Step:
    """One thing sla saw happen to a ticket. `seq` (the ticket's version) orders steps that
    share an instant; kind is created | status | priority | response."""
    at: dt.datetime
    seq: int
    kind: str
    value: str | None = None


@dataclass(frozen=True)
class Terms:
    """A target as a policy states it: business time on a calendar, warning share, and the
    escalation named for a breach."""
    duration: dt.timedelta
    calendar: object
    warn_share: float
    policy_id: str | None = None
    escalation: dict | None = None


# ---- policies ----------------------------------------------------------------------

def specificity(policy):
    """More specific policies win: company beats type beats priority."""
    return (4 if policy.get("company_id") else 0) + (2 if policy.get("ticket_type") else 0) \
        + (1 if policy.get("priority") else 0)


def matches(policy, ticket):
    return policy.get("active", True) and all(
        policy.get(k) in (None, "", ticket.get(field))
        for k, field in (("company_id", "company_id"), ("ticket_type", "type"),
                         ("priority", "priority")))


def choose_policy(policies, ticket):
    """The most specific active policy matching the ticket (company, type, priority); ties
    go to the lower `rank`, then the name. None when nothing matches."""
    candidates = [p for p in policies if matches(p, ticket)]
    if not candidates:
        return None
    return min(candidates, key=lambda p: (-specificity(p), p.get("rank", 100), p["name"]))


# ---- clocks ------------------------------------------------------------------------

def _met_or_stopped(target, before, step, met_at, stopped_at):
    """Apply one step's effect on whether the target is met or stopped."""
    if step.kind == "response":
        if target == "response" and met_at is None:
            met_at = step.at
        return met_at, stopped_at
    if step.kind != "status":
        return met_at, stopped_at
    status = step.value
    if target == "completeness":
        if met_at is None and before == "new" and status != "new":
            if status == "cancelled":
                stopped_at = step.at
            else:
                met_at = step.at
    elif target == "response":
        if met_at is None and status == "in_progress":
            met_at = step.at
        elif met_at is None and status in STOPPED:
            stopped_at = step.at
    elif target == "resolution":
        if status == "resolved":
            met_at = met_at or step.at
        elif status == "closed":
            met_at = met_at or step.at
        elif status == "cancelled" and met_at is None:
            stopped_at = step.at
        elif before == "resolved" and status not in STOPPED:
            met_at = None  # not solved after all (reopen): the clock runs again
    return met_at, stopped_at


def _spend(terms, a, b, spent, warned_at, breached_at):
    """Run a clock from a to b under `terms`: (spent, warned_at, breached_at) afterwards.
    With a == b nothing is spent, but a target already used up (a priority change to a
    shorter one) is breached at a."""
    if terms is None or b < a:
        return spent, warned_at, breached_at
    cal = terms.calendar
    portion = cal.between(a, b) if b > a else ZERO
    warn = terms.duration * terms.warn_share
    if warned_at is None and spent + portion >= warn:
        warned_at = cal.add(a, max(warn - spent, ZERO))
    if breached_at is None and spent + portion >= terms.duration:
        breached_at = cal.add(a, max(terms.duration - spent, ZERO))
    return spent + portion, warned_at, breached_at


def _finish(out, terms, state, now):
    """Complete a clock's view with its terms, its state and (running) its due times."""
    if terms is None:
        out.update(state="none", duration=None, remaining=None, policy_id=None,
                   escalation=None, calendar=None)
        return out
    spent = out["spent"]
    out.update(state=state, duration=terms.duration,
               remaining=max(terms.duration - spent, ZERO), policy_id=terms.policy_id,
               escalation=terms.escalation, warn_share=terms.warn_share,
               calendar=terms.calendar)
    if state == "running":
        cal = terms.calendar
        out["due_at"] = out["breached_at"] or cal.add(now, terms.duration - spent)
        if out["warned_at"] is None:
            out["warning_at"] = cal.add(now, max(terms.duration * terms.warn_share - spent,
                                                 ZERO))
    return out


def _after_creation(steps, created, now):
    """(step, instant) for each step after the creation up to `now`, in (instant, version)
    order; an instant never goes back before the previous one."""
    prev = created.at
    for step in sorted(steps, key=lambda s: (s.at, s.seq)):
        if step is created:
            continue
        at = max(step.at, prev)
        if at > now:
            return
        yield step, at
        prev = at


def evaluate(target, steps, terms_for, now):
    """What the `target` clock says at `now`, from the ticket's steps.

    `terms_for(priority)` gives the Terms for this target under the policy that applies at
    that priority, or None (no policy, or the policy sets no such target). Returns a dict:
    state (running | paused | met | stopped | none), spent, paused (wall time), target,
    remaining, due_at, warning_at, warned_at, breached_at, met_at, policy_id, escalation.
    """
    if target == "update":
        return evaluate_update(steps, terms_for, now)
    created = next((s for s in steps if s.kind == "created"), None)
    if created is None:
        return {"state": "none"}
    status, priority = "new", created.value
    met_at = stopped_at = warned_at = breached_at = None
    spent = paused = ZERO
    prev = created.at
    terms = terms_for(priority)

    def run(a, b):
        nonlocal spent, warned_at, breached_at
        spent, warned_at, breached_at = _spend(terms, a, b, spent, warned_at, breached_at)

    def running():
        return met_at is None and stopped_at is None and status not in PAUSED

    for step, at in _after_creation(steps, created, now):
        if running():
            run(prev, at)
        elif stopped_at is None and status in PAUSED:
            paused += at - prev
        prev = at
        before = status
        if step.kind == "status":
            status = step.value
        elif step.kind == "priority" and step.value:
            priority = step.value
            terms = terms_for(priority)
        met_at, stopped_at = _met_or_stopped(target, before, step, met_at, stopped_at)
    if now >= prev:
        if running():
            run(prev, now)
        elif stopped_at is None and status in PAUSED:
            paused += now - prev

    out = {"target": target, "priority": priority, "met_at": met_at, "stopped_at": stopped_at,
           "warned_at": warned_at, "breached_at": breached_at, "spent": spent,
           "paused": paused, "due_at": None, "warning_at": None}
    if met_at is not None:
        state = "met"
    elif stopped_at is not None:
        state = "stopped"
    else:
        state = "paused" if status in PAUSED else "running"
    return _finish(out, terms, state, now)


def evaluate_update(steps, terms_for, now):
    """What the `update` clock says at `now` (see the module's rules): the current cycle's
    business time, warning and breach, plus `cycle` (how many cycles began, 0 before the
    first response), `cycle_started_at` (the instant the current cycle began) and
    `previous` (the cycle before it: cycle_started_at, spent, breached_at; or None)."""
    created = next((s for s in steps if s.kind == "created"), None)
    if created is None:
        return {"state": "none"}
    status, priority = "new", created.value
    terms = terms_for(priority)
    cycle, cycle_start, stopped_at, final, responded = 0, None, None, False, False
    previous = None
    spent = paused = ZERO
    warned_at = breached_at = None
    prev = created.at

    def advance(until):
        nonlocal spent, paused, warned_at, breached_at
        if cycle_start is None or final or status in UPDATE_ENDED:
            return
        if status in PAUSED:
            paused += until - prev
        else:
            spent, warned_at, breached_at = _spend(terms, prev, until, spent, warned_at,
                                                   breached_at)

    for step, at in _after_creation(steps, created, now):
        advance(at)
        prev, before = at, status
        if step.kind == "status":
            status = step.value
        elif step.kind == "priority" and step.value:
            priority = step.value
            terms = terms_for(priority)
        # the response target is met (as domain.evaluate has it) by a public staff reply or
        # the start of work, whatever the status; the first cycle begins once it is open
        responded = responded or step.kind == "response" or status == "in_progress"
        if final or status in UPDATE_ENDED:
            stopped_at = stopped_at if final or before in UPDATE_ENDED else at
            final = final or status in STOPPED  # closed and cancelled are for good
            continue
        stopped_at = None
        if step.kind == "response" or (cycle == 0 and responded) or (
                cycle and step.kind == "status" and before == "resolved"):
            if cycle_start is not None:
                previous = {"cycle_started_at": cycle_start, "spent": spent,
                            "breached_at": breached_at}
            cycle, cycle_start = cycle + 1, at
            spent = paused = ZERO
            warned_at = breached_at = None
    if now >= prev:
        advance(now)

    out = {"target": "update", "priority": priority, "met_at": None,
           "stopped_at": stopped_at, "warned_at": warned_at, "breached_at": breached_at,
           "spent": spent, "paused": paused, "due_at": None, "warning_at": None,
           "cycle": cycle, "cycle_started_at": cycle_start, "previous": previous}
    if final or status in UPDATE_ENDED:
        state = "stopped"
    elif cycle_start is None:
        state = "pending"
    else:
        state = "paused" if status in PAUSED else "running"
    return _finish(out, terms, state, now)


def next_instant(view, warning_sent, breach_sent):
    """When this clock next needs a look (its next warning or breach), or None."""
    if view.get("state") != "running":
        return None
    if not warning_sent and view.get("warning_at") is not None:
        return view["warning_at"]
    if not breach_sent:
        return view["due_at"]
    return None
