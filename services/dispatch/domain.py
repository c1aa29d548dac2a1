"""Dispatch rules: who is qualified for a product line on a day, and who may manage or read
the registry of providers, engineers and certifications.

Pure Python: no nameko, no sqlalchemy. The functions read plain attributes (`id`,
`provider_id`, `name`, `skills`, `availability` of an engineer; `engineer_id`,
`product_line`, `valid_from`, `valid_until` of a certification), so they take the ORM rows
in the handlers and the dataclasses below in unit tests.

The seed rule (AISHU provider guide, 3.3.1): a repair or inspection ticket may only go to a
qualified engineer, i.e. one holding a certification for the ticket's product line that is
within its validity period.
"""
import datetime as dt
from dataclasses import dataclass

ON_DUTY, ON_LEAVE = "on_duty", "on_leave"
AVAILABILITIES = (ON_DUTY, ON_LEAVE)

# certification_status() values
VALID, EXPIRED, NOT_YET_VALID, INVALID = "valid", "expired", "not_yet_valid", "invalid"


@dataclass(frozen=True)
class Engineer:
    id: str
    provider_id: str
    name: str
    skills: tuple = ()
    availability: str = ON_DUTY


@dataclass(frozen=True)
class Certification:
    engineer_id: str
    product_line: str
    valid_from: dt.date
    valid_until: dt.date
    id: str | None = None


@dataclass(frozen=True)
class Candidate:
    """An engineer who may take a product line's ticket on a day, with why and how well."""
    engineer: object
    certification: object   # the certification that qualifies them (the longest-valid one)
    skill_match: int        # how many of the wanted skills the engineer lists


# ---- dates ------------------------------------------------------------------------------

def local_date(at, tz):
    """The calendar day `at` falls on in the service's time zone (certificates name days).

    A `date` is already a day; a naive datetime is UTC by convention."""
    if not isinstance(at, dt.datetime):
        return at
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return at.astimezone(tz).date()


def _day(at_date):
    if isinstance(at_date, dt.datetime):  # a datetime would compare wrongly (or raise)
        raise TypeError("pass a calendar date; convert datetimes with local_date()")
    return at_date


# ---- certification --------------------------------------------------------------------

def same_line(a, b):
    """Product lines are codes; 'AnyBackup' and 'anybackup' name the same line."""
    return (a or "").strip().lower() == (b or "").strip().lower()


def period_is_sound(cert):
    """An inverted (or open) validity period proves nothing: it is never valid."""
    return cert.valid_from is not None and cert.valid_until is not None and \
        cert.valid_from <= cert.valid_until


def certification_status(cert, at_date):
    at_date = _day(at_date)
    if not period_is_sound(cert):
        return INVALID
    if at_date < cert.valid_from:
        return NOT_YET_VALID
    if at_date > cert.valid_until:
        return EXPIRED
    return VALID


def covers(cert, product_line, at_date):
    """This certification is for `product_line` and valid on `at_date` (both ends inclusive)."""
    return same_line(cert.product_line, product_line) and \
        certification_status(cert, at_date) == VALID


def is_certified(certs, product_line, at_date):
    """One engineer's certifications make them certified for `product_line` on `at_date`."""
    return any(covers(c, product_line, at_date) for c in certs)


def certified_lines(certs, at_date):
    """The product lines these certifications cover on `at_date`, sorted, without repeats."""
    lines = {}
    for c in certs:
        if certification_status(c, at_date) == VALID:
            lines.setdefault(c.product_line.strip().lower(), c.product_line)
    return [lines[k] for k in sorted(lines)]


# ---- who is qualified -----------------------------------------------------------------

def skill_match(engineer, wanted):
    """How many of the wanted skills (the product line, then e.g. product or category) the
    engineer lists; compared without case."""
    have = {s.strip().lower() for s in engineer.skills or ()}
    return len({w.strip().lower() for w in wanted if w and w.strip()} & have)


def by_skill_then_name(candidate):
    """The default ranking: best skill match first, then by name (id breaks ties)."""
    return (-candidate.skill_match, candidate.engineer.name.lower(), candidate.engineer.id)


def eligible(engineers, certs, product_line, at, provider_id=None, wanted_skills=()):
    """Unordered candidates: on duty, of `provider_id` when given, certified on day `at`."""
    at = _day(at)
    by_engineer = {}
    for c in certs:
        if covers(c, product_line, at):
            by_engineer.setdefault(c.engineer_id, []).append(c)
    wanted = (product_line, *wanted_skills)
    out = []
    for e in engineers:
        if e.availability != ON_DUTY:
            continue
        if provider_id is not None and e.provider_id != provider_id:
            continue
        valid = by_engineer.get(e.id)
        if not valid:
            continue
        best = max(valid, key=lambda c: (c.valid_until, c.valid_from))
        out.append(Candidate(e, best, skill_match(e, wanted)))
    return out


def rank(candidates, key=by_skill_then_name):
    """Order candidates. Assignment will rank by workload first by passing its own key, e.g.
    `key=lambda c: (open_tickets[c.engineer.id], *by_skill_then_name(c))`."""
    return sorted(candidates, key=key)


def qualified(engineers, certs, product_line, at, provider_id=None, wanted_skills=(),
              key=by_skill_then_name):
    """Available (on duty), certified engineers for `product_line` on day `at`, best first.

    `engineers` may span providers; `certs` may hold anyone's certifications (they are
    matched by engineer_id). `key` is the seam for load-aware ordering (see `rank`)."""
    return rank(eligible(engineers, certs, product_line, at, provider_id, wanted_skills), key)


# ---- who may do what ------------------------------------------------------------------

READ_ALL_ROLES = frozenset({"admin", "agent", "system"})  # agents route tickets to providers


def own_provider(actor):
    """The provider a provider_admin administers, or None."""
    if actor.get("role") == "provider_admin":
        return actor.get("provider_id") or None
    return None


def may_manage_some(actor):
    """Whether this actor may manage any part of the registry at all."""
    return actor.get("role") == "admin" or own_provider(actor) is not None


def may_manage(actor, provider_id):
    """Admins manage every provider; a provider_admin only their own."""
    if actor.get("role") == "admin":
        return True
    own = own_provider(actor)
    return own is not None and own == provider_id


def may_register_provider(actor):
    """Only the vendor's administrator adds a provider to the registry."""
    return actor.get("role") == "admin"


PROVIDER_ADMIN_ONLY_FIELDS = frozenset({"product_lines", "active"})  # the contract's terms


def admin_only_changes(actor, changed_fields):
    """The changed provider fields this actor may not change (empty when all are fine)."""
    if actor.get("role") == "admin":
        return set()
    return set(changed_fields) & PROVIDER_ADMIN_ONLY_FIELDS


def reads_all(actor):
    """Whether this actor may read every provider's part of the registry."""
    return actor.get("role") in READ_ALL_ROLES


def may_read(actor, provider_id):
    return reads_all(actor) or may_manage(actor, provider_id)


def may_read_engineer(actor, engineer):
    """Registry readers of the engineer's provider, and the engineer themselves."""
    if may_read(actor, engineer.provider_id):
        return True
    return actor.get("role") == "engineer" and actor.get("id") == engineer.id
