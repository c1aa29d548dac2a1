"""Who may see a ticket: decided here once, for every service that serves ticket-derived data.

intake owns the ticket, but dispatch, worklog, sla and kb each serve data derived from it
(assignments, work logs, clocks, reports, articles written from it). They all ask the same
two questions, answered only here:

- `may_see(actor, facts)`: may this actor see this one ticket? `facts` are the ticket's
  access facts — `submitter_id`, `company_id`, `provider_id`, `handler_id` — as the service
  knows them (its own projection of intake's events, or intake's `ticket_state`).
- `ticket_scope(actor)`: the same rule as a filter for list and report queries: `None` for
  every ticket, else `(fact, value)`; a `value` of None matches nothing.
  `scope_clause(actor, columns)` turns it into a SQLAlchemy condition.

The rule (docs/architecture.md, "Authorization"):

| role | sees |
|---|---|
| agent, admin, system | every ticket |
| customer | the tickets they submitted |
| customer_admin | the tickets of their company |
| provider_admin | the tickets offered to or held by their provider (`provider_id`) |
| engineer | the tickets assigned to them (`handler_id`) |
| anything else | nothing |

Someone who may not see a ticket is answered 404 `*_not_found`, exactly as for an id that does
not exist, so ids cannot be probed; 403 is kept for someone who sees the ticket but may not
do the action (`not_found_unless_visible`).
"""
ALL_TICKETS_ROLES = frozenset({"agent", "admin", "system"})
FACTS = ("submitter_id", "company_id", "provider_id", "handler_id")

# role -> (the ticket fact that must equal..., ...this fact of the actor)
_OWN = {"customer": ("submitter_id", "id"),
        "customer_admin": ("company_id", "company_id"),
        "provider_admin": ("provider_id", "provider_id"),
        "engineer": ("handler_id", "id")}


def ticket_scope(actor):
    """None (every ticket) or (ticket fact, value); value None matches no ticket."""
    role = (actor or {}).get("role")
    if role in ALL_TICKETS_ROLES:
        return None
    if role not in _OWN:
        return ("submitter_id", None)  # an unknown role sees nothing
    fact, own = _OWN[role]
    return (fact, actor.get(own) or None)


def may_see(actor, facts):
    """May `actor` see the ticket with these access facts (a mapping or an object)?"""
    scope = ticket_scope(actor)
    if scope is None:
        return True
    fact, value = scope
    if value is None or facts is None:
        return False
    have = facts.get(fact) if isinstance(facts, dict) else getattr(facts, fact, None)
    return have is not None and have == value


def access_facts(ticket):
    """The access facts of a ticket (a mapping or an object), to store beside derived data."""
    get = ticket.get if isinstance(ticket, dict) else (lambda k: getattr(ticket, k, None))
    return {k: get(k) for k in FACTS}


def scope_clause(actor, columns):
    """`ticket_scope` as a SQLAlchemy condition over `columns` ({fact: column}). A fact the
    table does not carry matches nothing (never everything). (sqlalchemy is imported here
    so that the pure domain modules importing this one stay free of it.)"""
    from sqlalchemy import false, true
    scope = ticket_scope(actor)
    if scope is None:
        return true()
    fact, value = scope
    column = columns.get(fact)
    if value is None or column is None:
        return false()
    return column == value


# ---- who may open a ticket for which customer company -----------------------------------

FILE_FOR_ANY_COMPANY_ROLES = frozenset({"agent", "admin"})
CREATE_SCOPE = "tickets:create"


def may_file_for(actor, company_id):
    """May `actor` open a ticket for customer company `company_id`?

    Customers and their admins file for their own company; the desk (agent, admin) for any;
    an internal system (a service token, role "system") only with the `tickets:create` scope
    and only for the companies an admin listed on the token (`actor["companies"]`)."""
    actor = actor or {}
    role = actor.get("role")
    if not company_id:
        return False
    if role in FILE_FOR_ANY_COMPANY_ROLES:
        return True
    if role in ("customer", "customer_admin"):
        return actor.get("company_id") == company_id
    if role == "system":
        return CREATE_SCOPE in (actor.get("scopes") or ()) and \
            company_id in (actor.get("companies") or ())
    return False


# ---- who may keep a company's settings (IM robots: services/notify/robots.py) -------------

def own_company(actor):
    """(kind, id) of the company whose settings this actor keeps - a customer company's admin
    theirs, a provider's admin their provider - None for an admin (every company), or
    ("none", None) for anybody else (keeps none)."""
    role = (actor or {}).get("role")
    if role == "admin":
        return None
    if role == "customer_admin" and actor.get("company_id"):
        return ("customer", actor["company_id"])
    if role == "provider_admin" and actor.get("provider_id"):
        return ("provider", actor["provider_id"])
    return ("none", None)


def may_keep_settings_of(actor, kind, company_id):
    """May `actor` configure what belongs to company `company_id` of `kind` (customer |
    provider)?"""
    own = own_company(actor)
    return own is None or (own[1] is not None and own == (kind, company_id))


def not_found_unless_visible(actor, facts, not_found):
    """Raise `not_found` (an ErrorSpec or exception factory) unless the actor may see it."""
    if not may_see(actor, facts):
        raise not_found()
