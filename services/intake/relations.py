"""Rules of merges, links and canned replies: pure Python (no nameko, no sqlalchemy).

- Merge: the desk (agents, admins) folds a duplicate ticket into another open ticket of the
  same customer company. The duplicate is closed (action "merge") with `merged_into`; it keeps
  its history and stays readable. Engineers and provider admins may not merge: a merge closes
  a customer's ticket and moves the conversation elsewhere, which is triage — the desk's job —
  and an engineer sees only the tickets assigned to them, not the company's other tickets.
- Links: "related" (either direction, stored once) or parent/child (one parent per ticket, no
  cycles). Any staff member who may open both tickets links them; a reader sees a link only
  when they may open its other end.
- Canned replies: personal (their owner), shared with the desk (agents, admins) or with one
  provider's people (its admins and engineers); {variables} from VARIABLES only.
"""
import re

from .domain import DESK_ROLES, OPEN_STATUSES, STAFF_ROLES

MERGE_ROLES = DESK_ROLES
LINK_ROLES = STAFF_ROLES
LINK_KINDS = ("related", "parent", "child")   # what the other ticket is to this one
MERGED = "merged"                             # the stored link a merge leaves (not creatable)

CANNED_SCOPES = ("personal", "desk", "provider")
VARIABLES = ("ticket_number", "title", "customer_name", "company_name", "submitter_name",
             "engineer_name")
_VARIABLE = re.compile(r"\{([^{}\s]*)\}")


def merge_problem(actor, source, target):
    """Why `source` cannot be merged into `target` (an error key and its parameters), or None.
    source/target: mappings with id, status, company_id, merged_into_id."""
    if actor["role"] not in MERGE_ROLES:
        return "merge_role", {}
    if source["id"] == target["id"]:
        return "merge_self", {}
    if source["status"] not in OPEN_STATUSES:
        return "merge_source_finished", {"status": source["status"]}
    if target["status"] not in OPEN_STATUSES or target.get("merged_into_id"):
        return "merge_target_finished", {"status": target["status"]}
    if not source.get("company_id") or source.get("company_id") != target.get("company_id"):
        return "merge_across_companies", {}
    return None


def stored_link(ticket_id, other_id, kind):
    """(child_or_first, other, stored kind) for a requested link from ticket to other."""
    if kind == "child":
        return other_id, ticket_id, "parent"
    return ticket_id, other_id, kind


def link_problem(actor, ticket_id, other_id, kind, existing_pairs, parent_of):
    """Why this link cannot be made, or None. existing_pairs: set of frozensets of linked
    ids; parent_of: child id -> parent id of every parent link that matters (the chain)."""
    if actor["role"] not in LINK_ROLES:
        return "link_role"
    if ticket_id == other_id:
        return "link_self"
    if frozenset((ticket_id, other_id)) in existing_pairs:
        return "link_exists"
    if kind in ("parent", "child"):
        child, parent, _ = stored_link(ticket_id, other_id, kind)
        if parent_of.get(child):
            return "link_has_parent"
        seen, node = set(), parent
        while node is not None and node not in seen:   # walk up from the new parent
            if node == child:
                return "link_cycle"
            seen.add(node)
            node = parent_of.get(node)
    return None


# ---- canned replies -------------------------------------------------------------------

def unknown_variables(text):
    return sorted({name for name in _VARIABLE.findall(text or "") if name not in VARIABLES})


def fill(text, values):
    """Replace every known {variable}; values missing on this ticket become empty."""
    return _VARIABLE.sub(lambda m: str(values.get(m.group(1)) or "")
                         if m.group(1) in VARIABLES else m.group(0), text or "")


def ticket_values(ticket):
    get = ticket.get if isinstance(ticket, dict) else (lambda k: getattr(ticket, k, None))
    return {"ticket_number": get("number"), "title": get("title"),
            "customer_name": get("contact_name") or get("submitter_name"),
            "company_name": get("company_name"), "submitter_name": get("submitter_name"),
            "engineer_name": get("handler_name")}


def canned_readable(actor, reply):
    """May this actor see / use this canned reply? reply: scope, owner_id, provider_id."""
    role = actor["role"]
    if role not in STAFF_ROLES:
        return False
    if reply["scope"] == "personal":
        return reply["owner_id"] == actor.get("id")
    if reply["scope"] == "desk":
        return role in DESK_ROLES
    if reply["scope"] == "provider":
        return role == "admin" or (role in ("provider_admin", "engineer")
                                   and reply.get("provider_id") == actor.get("provider_id"))
    return False


def canned_writable(actor, reply):
    """May this actor create / change / delete a reply of this scope?"""
    role = actor["role"]
    if role not in STAFF_ROLES:
        return False
    if reply["scope"] == "personal":
        return reply.get("owner_id") in (None, actor.get("id"))
    if reply["scope"] == "desk":
        return role in DESK_ROLES
    if reply["scope"] == "provider":
        return role == "admin" or (role == "provider_admin" and reply.get("provider_id")
                                   and reply.get("provider_id") == actor.get("provider_id"))
    return False
