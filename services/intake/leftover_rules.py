"""Leftover items (遗留问题, report template seed 002: 遗留问题清单、解决计划及责任人，定期更新
进度，直至问题彻底解决): what could not be solved when a ticket was resolved or closed, with
its plan, owner and due date, tracked until done.

Pure rules: who may add, update and finish an item, whom an actor may name as its owner,
when it is overdue and when it is reminded again. No nameko, no sqlalchemy.
"""
import datetime as dt

from . import domain

MAX_ITEMS = 20                       # per close (and per ticket)
STATUSES = ("open", "done", "cancelled")
FINAL_STATUSES = frozenset({"done", "cancelled"})
# items are filed with the closing report (resolve), with the desk's close, or later
ADD_STATUSES = frozenset({"resolved", "closed"})
OWNER_ROLES = frozenset({"engineer", "provider_admin", "agent", "admin"})
DEFAULT_REMIND_DAYS = 3              # reminded again every N days while overdue (0: once)


class Refused(Exception):
    """A rule said no: `key` names the error (services/intake/exceptions.LEFTOVER_ERRORS)."""

    def __init__(self, key, **params):
        super().__init__(key)
        self.key, self.params = key, params


# ---- who may do what ------------------------------------------------------------------------

def works_on(actor, ticket):
    """The desk, or the ticket's handler side (its engineer, its provider's admin)."""
    return actor["role"] in domain.DESK_ROLES or domain.is_handler_side(actor, ticket)


def check_add(actor, ticket):
    if actor["role"] not in domain.STAFF_ROLES or not works_on(actor, ticket):
        raise Refused("not_allowed")
    if ticket["status"] not in ADD_STATUSES:
        raise Refused("ticket_open", status=ticket["status"])


def check_update(actor, ticket, item):
    """Progress, a new plan or due date, done or cancelled: the owner, or who works on it."""
    if actor["role"] not in domain.STAFF_ROLES or not (
            item["owner_id"] == actor.get("id") or works_on(actor, ticket)):
        raise Refused("not_allowed")
    if item["status"] in FINAL_STATUSES:
        raise Refused("item_final", status=item["status"])


def may_see_item(actor, ticket_visible, item):
    """The ticket's viewers see its items; a named owner sees their own item too."""
    return ticket_visible or (actor["role"] in domain.STAFF_ROLES
                              and item["owner_id"] == actor.get("id"))


def sees_internal(actor):
    return domain.sees_internal(actor)


def may_name_owner(actor, owner):
    """May `actor` make `owner` ({role, status, provider_id}, an account) responsible?

    An active engineer, provider admin, agent or admin. The desk names anyone of them; a
    provider's people name the desk or people of their own provider."""
    if not owner or owner.get("status") != "active" or owner.get("role") not in OWNER_ROLES:
        return False
    if actor["role"] in domain.DESK_ROLES:
        return True
    if actor["role"] in ("engineer", "provider_admin"):
        return owner["role"] in domain.DESK_ROLES or (
            owner.get("provider_id") is not None
            and owner.get("provider_id") == actor.get("provider_id"))
    return False


# ---- due dates and reminders ----------------------------------------------------------------

def today(now, tz):
    return now.astimezone(tz).date()


def due_instant(due_date, tz):
    """A plain due date means the whole of that day in the desk's time zone: the item is
    overdue from the first instant of the next day (UTC)."""
    return dt.datetime.combine(due_date + dt.timedelta(days=1), dt.time(), tzinfo=tz) \
        .astimezone(dt.timezone.utc)


def check_due_date(due_date, now, tz):
    if due_date < today(now, tz):
        raise Refused("due_in_past", due_date=due_date.isoformat())


def is_overdue(status, due_at, now):
    return status == "open" and due_at is not None and now >= due_at


def days_overdue(due_date, now, tz):
    return max((today(now, tz) - due_date).days, 0)


def next_reminder(now, every_days):
    """When an overdue item is reminded again: every `every_days` days, or never (0)."""
    return None if not every_days or every_days <= 0 else now + dt.timedelta(days=every_days)


def check_count(existing, adding):
    if existing + adding > MAX_ITEMS:
        raise Refused("too_many", max=MAX_ITEMS)


def check_progress(data):
    """An update changes something: a note, a percentage, a plan, a due date or an owner."""
    if not any(data.get(k) not in (None, "") for k in
               ("note", "percent", "plan", "due_date", "owner_id")):
        raise Refused("nothing_to_update")
