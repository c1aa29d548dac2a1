"""Dispatch rules: who is qualified for a product line on a day, and who may manage or read
the registry of providers, engineers and certifications.

Pure Python: no nameko, no sqlalchemy. The functions read plain attributes (`id`,
`provider_id`, `name`, `skills`, `availability` of an engineer; `engineer_id`,
`product_line`, `valid_from`, `valid_until` of a certification), so they take the ORM rows
in the handlers and the dataclasses below in unit tests.

The seed rules (AISHU provider guide): a repair or inspection ticket may only go to a
qualified engineer, i.e. one holding a certification for the ticket's product line that is
within its validity period (3.3.1); the provider assigns and may re-assign its repair and
inspection tickets (3.3.7); installation tickets are dispatched by the vendor's system and a
provider can neither change nor cancel that assignment (3.2, 3.4).
"""
import datetime as dt
from dataclasses import dataclass

from gongdan_common import visibility

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


# ==== assignment ===========================================================================

SUPPORT_TYPES = ("consult", "defect", "customization", "license")
PROVIDER_TYPES = ("repair", "inspection")     # offered to providers, assigned by them
INSTALLATION = "installation"                 # dispatched automatically, locked for providers
TICKET_TYPES = SUPPORT_TYPES + PROVIDER_TYPES + (INSTALLATION,)
ROUTABLE_TYPES = SUPPORT_TYPES + PROVIDER_TYPES  # what routing rules may name

ASSIGNABLE_STATUSES = ("new", "needs_info")
REASSIGNABLE_STATUSES = ("assigned", "in_progress")
UNASSIGNABLE_STATUSES = ("assigned",)         # before work starts
DONE_STATUSES = ("resolved", "closed", "cancelled")  # no longer part of anyone's open load

MANUAL, ROUTING_RULE, AUTO_INSTALLATION, OFFER = \
    "manual", "routing_rule", "auto_installation", "offer"
METHODS = (MANUAL, ROUTING_RULE, AUTO_INSTALLATION, OFFER)

DESK_ROLES = frozenset({"agent", "admin"})
SYSTEM_ACTOR = {"id": None, "role": "system", "name": "dispatch"}


class Refused(Exception):
    """A dispatch rule says no. `key` names the rule (mapped to an ErrorSpec by the
    handlers), `params` fill its message."""

    def __init__(self, key, **params):
        super().__init__(key)
        self.key, self.params = key, params


@dataclass(frozen=True)
class Ticket:
    """The ticket facts dispatch decides on (intake owns them)."""
    id: str
    number: str
    type: str
    status: str
    product_line: str
    product: str = ""
    category: str = ""
    region: str | None = None
    provider_id: str | None = None
    # access facts (gongdan_common.visibility): who may see the ticket
    submitter_id: str | None = None
    company_id: str | None = None
    handler_id: str | None = None
    # what the assigned engineer is told (events.TicketSummary)
    title: str = ""
    priority: str = ""


@dataclass(frozen=True)
class Holding:
    """Who holds a ticket now (the current-assignment row), empty when nobody does."""
    assignment_id: str | None = None
    engineer_id: str | None = None
    provider_id: str | None = None
    offer_id: str | None = None
    offer_provider_id: str | None = None


NOBODY = Holding()


def effective_status(status, holding):
    """Intake owns the status and learns of an assignment from dispatch's event, so for a
    moment after an assignment the ticket still reads `new` there: dispatch, which owns who
    works on it, counts such a ticket as assigned."""
    if status == "new" and holding.engineer_id:
        return "assigned"
    return status


# ---- who may see a ticket ----------------------------------------------------------------

def may_see(actor, ticket, holding=None):
    """gongdan_common.visibility's one rule, over the projection's facts or over dispatch's
    own newer knowledge of who holds the ticket (an offer or assignment intake has not
    applied yet, so its provider or engineer is not refused a ticket just handed to them)."""
    facts = {k: getattr(ticket, k) for k in visibility.FACTS}
    if visibility.may_see(actor, facts):
        return True
    holding = holding or NOBODY
    fresher = [dict(facts, provider_id=p) for p in (holding.provider_id,
                                                    holding.offer_provider_id) if p]
    if holding.engineer_id:
        fresher.append(dict(facts, handler_id=holding.engineer_id))
    return any(visibility.may_see(actor, f) for f in fresher)


def may_see_offer(actor, offer_provider_id):
    """The desk sees every offer; a provider_admin those made to their provider."""
    return actor.get("role") in READ_ALL_ROLES or (
        own_provider(actor) is not None and own_provider(actor) == offer_provider_id)


# ---- who may (re)assign -----------------------------------------------------------------

def check_actor(actor, ticket):
    """The support desk (agent, admin) dispatches any ticket; a provider_admin only repair and
    inspection tickets (installation is the vendor's automatic dispatch: locked for them)."""
    role = actor.get("role")
    if role in DESK_ROLES:
        return
    if role == "provider_admin" and own_provider(actor):
        if ticket.type == INSTALLATION:
            raise Refused("installation_locked")
        if ticket.type not in PROVIDER_TYPES:
            raise Refused("provider_type_forbidden", type=ticket.type)
        return
    raise Refused("forbidden")


def check_holds(actor, ticket, holding, action):
    """A provider_admin acts only on tickets with their provider: assigning needs the ticket
    offered to or accepted by them (or given to them by intake); changing or cancelling needs
    the current assignment to be theirs."""
    own = own_provider(actor)
    if own is None or actor.get("role") in DESK_ROLES:
        return
    if action == "assign":
        holders = {holding.provider_id, holding.offer_provider_id, ticket.provider_id}
    else:
        holders = {holding.provider_id}
    if own not in holders:
        raise Refused("not_your_ticket")


def check_engineer_scope(actor, engineer):
    own = own_provider(actor)
    if own is not None and actor.get("role") not in DESK_ROLES and engineer.provider_id != own:
        raise Refused("other_provider", engineer=engineer.name)


def check_assign(ticket, holding, expected_assignment_id=None):
    """assign: the ticket is new or needs_info. With nobody on it, `expected_assignment_id`
    must be absent; with someone on it (needs_info after work began) it must name the current
    assignment — the caller's compare-and-set, so two people never both replace it."""
    status = effective_status(ticket.status, holding)
    if holding.engineer_id and status not in ASSIGNABLE_STATUSES:
        raise Refused("already_assigned", assignment_id=holding.assignment_id)
    if status not in ASSIGNABLE_STATUSES:
        raise Refused("not_assignable", status=status)
    if holding.engineer_id and expected_assignment_id is None:
        raise Refused("already_assigned", assignment_id=holding.assignment_id)
    if expected_assignment_id is not None and expected_assignment_id != holding.assignment_id:
        raise Refused("stale_assignment", expected=expected_assignment_id,
                      current=holding.assignment_id)


def check_reassign(ticket, holding, engineer_id, expected_assignment_id=None):
    if not holding.engineer_id:
        raise Refused("not_assigned")
    status = effective_status(ticket.status, holding)
    if status not in REASSIGNABLE_STATUSES:
        raise Refused("not_reassignable", status=status)
    if expected_assignment_id is not None and expected_assignment_id != holding.assignment_id:
        raise Refused("stale_assignment", expected=expected_assignment_id,
                      current=holding.assignment_id)
    if engineer_id == holding.engineer_id:
        raise Refused("same_engineer")


def check_unassign(ticket, holding, expected_assignment_id=None):
    if not holding.engineer_id:
        raise Refused("not_assigned")
    status = effective_status(ticket.status, holding)
    if status not in UNASSIGNABLE_STATUSES:
        raise Refused("not_unassignable", status=status)
    if expected_assignment_id is not None and expected_assignment_id != holding.assignment_id:
        raise Refused("stale_assignment", expected=expected_assignment_id,
                      current=holding.assignment_id)


# ---- qualified at this moment -------------------------------------------------------------

def qualification_problem(engineer, provider_active, certs, product_line, at_date):
    """Why this engineer may not take a `product_line` ticket on `at_date`, or None.

    Qualified = their provider is active, they are on duty, and a certification for the line
    is valid that day (a certificate valid until yesterday no longer counts today)."""
    at_date = _day(at_date)
    if not provider_active:
        return Refused("provider_inactive", provider=engineer.provider_id)
    if engineer.availability != ON_DUTY:
        return Refused("on_leave", engineer=engineer.name)
    line = [c for c in certs if same_line(c.product_line, product_line) and period_is_sound(c)]
    if any(certification_status(c, at_date) == VALID for c in line):
        return None
    if not line:
        return Refused("not_certified", engineer=engineer.name, product_line=product_line)
    lapsed = [c.valid_until for c in line if certification_status(c, at_date) == EXPIRED]
    if lapsed:
        return Refused("certification_expired", engineer=engineer.name,
                       product_line=product_line, valid_until=max(lapsed).isoformat())
    return Refused("certification_not_yet_valid", engineer=engineer.name,
                   product_line=product_line,
                   valid_from=min(c.valid_from for c in line).isoformat())


def wanted_skills(ticket):
    """What a ticket asks of an engineer beyond the product line: its product and category."""
    return tuple(s for s in (ticket.product, ticket.category) if s)


def candidate_for(engineer, certs, ticket, at_date):
    """The engineer as a Candidate for this ticket (qualification checked by the caller)."""
    [candidate] = eligible([engineer], certs, ticket.product_line, at_date,
                           wanted_skills=wanted_skills(ticket)) or [None]
    return candidate


def by_suitability(open_load, last_assigned):
    """The ranking of candidates for a ticket: best skill match, then the lightest open load
    (active assignments), then fairness — least recently assigned first, never-assigned before
    all — which is round robin among equally suitable engineers; name and id break ties."""
    def key(candidate):
        e = candidate.engineer
        last = last_assigned.get(e.id)
        return (-candidate.skill_match, open_load.get(e.id, 0), last is not None, last,
                e.name.lower(), e.id)
    return key


# ---- routing rules and providers ------------------------------------------------------------

def _same(a, b):
    return (a or "").strip().lower() == (b or "").strip().lower()


def rule_matches(rule, ticket):
    return bool(rule.active) and ticket.type in ROUTABLE_TYPES and \
        (rule.ticket_type is None or rule.ticket_type == ticket.type) and \
        (rule.category is None or _same(rule.category, ticket.category)) and \
        (rule.product_line is None or same_line(rule.product_line, ticket.product_line))


def matching_rules(rules, ticket):
    """The active rules that apply to this ticket, in the order they are tried."""
    return sorted((r for r in rules if rule_matches(r, ticket)),
                  key=lambda r: (r.position, r.created_at, r.id))


def provider_covers(provider, product_line, region=None):
    """An active provider contracted for the product line, and for the region when the
    ticket has one (a provider listing no regions works everywhere)."""
    if not provider.active:
        return False
    if not any(same_line(line, product_line) for line in provider.product_lines or ()):
        return False
    if region and provider.regions:
        return any(_same(r, region) for r in provider.regions)
    return True


def rank_providers(providers, last_offered, region=None):
    """Whom to offer a ticket next: a provider that lists the ticket's region before one that
    works everywhere (field work means visits), then least recently offered first (round
    robin), then name."""
    def local(p):
        return bool(region) and any(_same(r, region) for r in p.regions or ())
    return sorted(providers, key=lambda p: (not local(p), last_offered.get(p.id) is not None,
                                            last_offered.get(p.id), p.name.lower(), p.id))


def may_see_offers(actor, provider_id):
    return actor.get("role") in READ_ALL_ROLES or own_provider(actor) == provider_id


def check_offer_response(actor, offer_provider_id, offer_status):
    """Only the offered provider's administrator answers an offer, and only once."""
    if own_provider(actor) != offer_provider_id or actor.get("role") != "provider_admin":
        raise Refused("offer_forbidden")
    if offer_status != "pending":
        raise Refused("offer_not_pending", status=offer_status)


# ---- certification warnings ---------------------------------------------------------------

def warning_day(cert, days):
    return cert.valid_until - dt.timedelta(days=days)


def renewed(cert, others):
    """Another certification of the same engineer and line carries on after this one."""
    nxt = cert.valid_until + dt.timedelta(days=1)
    return any(o is not cert and o.engineer_id == cert.engineer_id and
               same_line(o.product_line, cert.product_line) and period_is_sound(o) and
               o.valid_from <= nxt <= o.valid_until for o in others)


def due_for_warning(cert, today, days, others=()):
    """Valid today, ends within `days` days (its warning day has come) and not renewed."""
    return certification_status(cert, today) == VALID and \
        warning_day(cert, days) <= today and not renewed(cert, others)
