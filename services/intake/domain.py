"""Ticket rules: types, priority, the status machine and who may see or do what.

Pure Python: no nameko, no sqlalchemy. Later capabilities (dispatch, worklog) extend the
status machine by registering transitions, never by adding ifs elsewhere.
"""
from dataclasses import dataclass, field

from gongdan_common import visibility
from gongdan_common.businessdays import add_business_days  # noqa: F401 - follow-ups

SUPPORT_TYPES = ("consult", "defect", "customization", "license")
FIELD_TYPES = ("repair", "inspection", "installation")
TYPES = SUPPORT_TYPES + FIELD_TYPES

CATEGORIES = ("function", "performance", "network", "configuration", "consultation",
              "permissions", "backup", "security", "installation", "other")

IMPACTS = ("individual", "department", "company")          # only me / my department / whole company
URGENCIES = ("low", "medium", "high", "critical")

STATUSES = ("new", "needs_info", "assigned", "in_progress", "suspended", "resolved",
            "closed", "cancelled")
OPEN_STATUSES = ("new", "needs_info", "assigned", "in_progress", "suspended", "resolved")

STAFF_ROLES = frozenset({"agent", "admin", "provider_admin", "engineer"})
CUSTOMER_ROLES = frozenset({"customer", "customer_admin"})
DESK_ROLES = frozenset({"agent", "admin"})

# impact x urgency -> priority (support-process guide, seed 004: P1 system down ... P4 cosmetic)
_PRIORITY = {
    ("company", "critical"): "P1", ("company", "high"): "P1",
    ("company", "medium"): "P2", ("company", "low"): "P3",
    ("department", "critical"): "P1", ("department", "high"): "P2",
    ("department", "medium"): "P3", ("department", "low"): "P4",
    ("individual", "critical"): "P2", ("individual", "high"): "P3",
    ("individual", "medium"): "P3", ("individual", "low"): "P4",
}
PRIORITIES = ("P1", "P2", "P3", "P4")


def priority_for(impact, urgency):
    return _PRIORITY[(impact, urgency)]


def raised_priority(priority):
    """One level more urgent (an SLA escalation): P3 -> P2; P1 stays P1."""
    i = PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES) - 1
    return PRIORITIES[max(i - 1, 0)]


def type_family(ticket_type):
    return "field" if ticket_type in FIELD_TYPES else "support"


def format_number(prefix, day, seq):
    """TS + yyyymmdd + daily sequence (3 digits, wider past 999 so numbers stay unique)."""
    return f"{prefix}{day:%Y%m%d}{seq:03d}"


# ---- who may see a ticket -------------------------------------------------------------

def can_view(actor, ticket):
    """The one rule of gongdan_common.visibility (shared with dispatch, worklog, sla, kb)."""
    return visibility.may_see(actor, ticket)


def sees_internal(actor):
    return actor["role"] in STAFF_ROLES or actor["role"] == "system"


def visibility_scope(actor):
    """What a list query must be restricted to: (column, value) or None for everything."""
    scope = visibility.ticket_scope(actor)
    if scope is not None and scope[1] is None:
        return ("id", "-")  # no ticket has this id: the actor sees nothing
    return scope


def is_handler_side(actor, ticket):
    """The assigned engineer, or (for provider admins) the provider the ticket is with."""
    if actor["role"] == "engineer":
        return ticket.get("handler_id") == actor["id"]
    if actor["role"] == "provider_admin":
        return ticket.get("provider_id") is not None and \
            ticket.get("provider_id") == actor.get("provider_id")
    return False


def is_requester(actor, ticket):
    """The submitter, or an admin of the submitter's company."""
    if actor["role"] == "customer":
        return ticket["submitter_id"] == actor["id"]
    if actor["role"] == "customer_admin":
        return ticket["company_id"] == actor.get("company_id")
    return False


# ---- editable fields ------------------------------------------------------------------

REQUESTER_EDITABLE = frozenset({"title", "description", "steps", "error_message", "started_at",
                                "persistent", "environment", "device_sn", "contact_phone",
                                "contact_name", "product_version", "impact", "urgency"})
DESK_EDITABLE = REQUESTER_EDITABLE | {"category", "type", "priority", "product"}
REQUESTER_EDIT_STATUSES = frozenset({"new", "needs_info"})


def editable_fields(actor, ticket):
    if actor["role"] in DESK_ROLES:
        return DESK_EDITABLE if ticket["status"] in OPEN_STATUSES else frozenset()
    if is_requester(actor, ticket) and ticket["status"] in REQUESTER_EDIT_STATUSES:
        return REQUESTER_EDITABLE
    return frozenset()


# ---- the status machine ---------------------------------------------------------------

@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset
    target: str                 # "<previous>" returns to the status before needs_info
    roles: frozenset            # roles that may act at all
    requester_only: bool = False  # customers must be the requester (submitter / company admin)
    handler_only: bool = False    # engineers must be the ticket's current handler
    reason_required: bool = False
    guard: object = field(default=None, compare=False)  # extra check(ticket) -> error key or None


RETURN_TO_PREVIOUS = "<previous>"
TRANSITIONS = {}


def register_transition(t: Transition):
    TRANSITIONS[t.action] = t
    return t


def _not_started(ticket):
    """Cancel only before work: needs_info counts when it was entered before work began."""
    if ticket["status"] == "needs_info" and ticket.get("status_before") not in ("new", "assigned"):
        return "work_started"
    return None


register_transition(Transition(
    "request_info", frozenset({"new", "assigned", "in_progress"}), "needs_info",
    frozenset({"agent", "admin", "provider_admin", "engineer"}), reason_required=True))
register_transition(Transition(
    "provide_info", frozenset({"needs_info"}), RETURN_TO_PREVIOUS,
    frozenset({"customer", "customer_admin", "agent", "admin"}), requester_only=True))
register_transition(Transition(
    "cancel", frozenset({"new", "assigned", "needs_info"}), "cancelled",
    frozenset({"customer", "customer_admin", "agent", "admin"}), requester_only=True,
    guard=_not_started))

# ---- work (dispatch and worklog capability) ----------------------------------------------
WORKERS = frozenset({"engineer", "agent", "admin"})
# assignment is decided by dispatch and arrives as its event; "system" applies it here
register_transition(Transition("assign", frozenset({"new"}), "assigned", frozenset({"system"})))
register_transition(Transition("reassign", frozenset({"assigned", "in_progress"}), "assigned",
                               frozenset({"system"})))
register_transition(Transition("unassign", frozenset({"assigned"}), "new", frozenset({"system"})))
register_transition(Transition("start", frozenset({"assigned"}), "in_progress", WORKERS,
                               handler_only=True))
register_transition(Transition("suspend", frozenset({"in_progress"}), "suspended", WORKERS,
                               handler_only=True, reason_required=True))
register_transition(Transition("resume", frozenset({"suspended"}), "in_progress",
                               WORKERS | {"system"}, handler_only=True))
register_transition(Transition("resolve", frozenset({"in_progress"}), "resolved", WORKERS,
                               handler_only=True))
register_transition(Transition("confirm", frozenset({"resolved"}), "closed",
                               frozenset({"customer", "customer_admin", "agent", "admin"}),
                               requester_only=True))
register_transition(Transition("reopen", frozenset({"resolved"}), "in_progress",
                               frozenset({"customer", "customer_admin", "agent", "admin"}),
                               requester_only=True, reason_required=True))
# nobody confirmed in time (a timer), or the desk closes for an unreachable customer
register_transition(Transition("close", frozenset({"resolved"}), "closed",
                               frozenset({"agent", "admin", "system"})))

# ---- closing reports (AISHU: 关闭工单 with root cause and the reports the type demands) ----
REPORT_KINDS = ("onsite_report", "inspection_report", "acceptance_report",
                "implementation_report")
REQUIRED_REPORTS = {
    "repair": ("onsite_report",),
    "inspection": ("onsite_report", "inspection_report"),
    "installation": ("acceptance_report", "implementation_report"),
}
FOLLOW_UP_PRIORITIES = ("P1", "P2")   # important and urgent: a follow-up visit after closing
FOLLOW_UP_BUSINESS_DAYS = 3


def missing_reports(ticket_type, attached_kinds):
    return [k for k in REQUIRED_REPORTS.get(ticket_type, ()) if k not in set(attached_kinds)]


def needs_visit_time(ticket_type):
    return ticket_type in FIELD_TYPES


class TransitionRefused(Exception):
    def __init__(self, key, **params):
        super().__init__(key)
        self.key, self.params = key, params


def plan_transition(actor, ticket, action, reason=None):
    """Decide a transition: returns (from_status, to_status) or raises TransitionRefused."""
    t = TRANSITIONS.get(action)
    if t is None:
        raise TransitionRefused("unknown_action", action=action)
    if actor["role"] not in t.roles:
        raise TransitionRefused("role_not_allowed", action=action)
    if t.requester_only and actor["role"] in CUSTOMER_ROLES and not is_requester(actor, ticket):
        raise TransitionRefused("role_not_allowed", action=action)
    if t.handler_only and actor["role"] in ("engineer", "provider_admin") and \
            not is_handler_side(actor, ticket):
        raise TransitionRefused("not_handler", action=action)
    if ticket["status"] not in t.sources:
        raise TransitionRefused("illegal_transition", action=action, status=ticket["status"])
    if t.guard:
        problem = t.guard(ticket)
        if problem:
            raise TransitionRefused(problem, action=action, status=ticket["status"])
    if t.reason_required and not (reason or "").strip():
        raise TransitionRefused("reason_required", action=action)
    target = (ticket.get("status_before") or "new") if t.target == RETURN_TO_PREVIOUS else t.target
    return ticket["status"], target
