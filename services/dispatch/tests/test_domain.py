"""Unit tests of dispatch's pure rules: certification validity, who is qualified and in
which order, and who may manage or read the registry."""
import datetime as dt
import zoneinfo

import pytest

from services.dispatch import domain
from services.dispatch.domain import Certification, Engineer

TODAY = dt.date(2026, 11, 22)
DAY = dt.timedelta(days=1)


def cert(engineer_id="e1", line="AnyBackup", start=TODAY - 30 * DAY, end=TODAY + 30 * DAY,
         id=None):
    return Certification(engineer_id, line, start, end, id=id)


# ---- is_certified -------------------------------------------------------------------------

@pytest.mark.parametrize("start, end, expected", [
    (TODAY - 10 * DAY, TODAY + 10 * DAY, True),
    (TODAY, TODAY + 10 * DAY, True),            # valid from today: inclusive
    (TODAY - 10 * DAY, TODAY, True),            # valid until today: inclusive
    (TODAY, TODAY, True),                       # a one-day period
    (TODAY - 10 * DAY, TODAY - DAY, False),     # valid until yesterday: not certified today
    (TODAY + DAY, TODAY + 10 * DAY, False),     # valid from tomorrow: not yet
    (TODAY + 10 * DAY, TODAY - 10 * DAY, False),  # inverted period, today "inside" it
    (TODAY + DAY, TODAY - DAY, False),
])
def test_is_certified_on_validity_boundaries(start, end, expected):
    assert domain.is_certified([cert(start=start, end=end)], "AnyBackup", TODAY) is expected


def test_is_certified_needs_the_product_line_not_just_any_certification():
    certs = [cert(line="AnyShare")]
    assert not domain.is_certified(certs, "AnyBackup", TODAY)
    assert domain.is_certified(certs, "AnyShare", TODAY)
    assert domain.is_certified(certs, "anyshare", TODAY)  # product lines are codes
    assert not domain.is_certified([], "AnyShare", TODAY)


def test_one_valid_certification_is_enough_among_expired_ones():
    certs = [cert(start=TODAY - 400 * DAY, end=TODAY - 35 * DAY),
             cert(start=TODAY - 34 * DAY, end=TODAY + 330 * DAY)]
    assert domain.is_certified(certs, "AnyBackup", TODAY)


def test_a_datetime_is_refused_where_a_day_is_meant():
    with pytest.raises(TypeError):
        domain.is_certified([cert()], "AnyBackup", dt.datetime(2026, 11, 22, 12, 0))


@pytest.mark.parametrize("start, end, status", [
    (TODAY - DAY, TODAY + DAY, "valid"),
    (TODAY - 9 * DAY, TODAY - DAY, "expired"),
    (TODAY + DAY, TODAY + 9 * DAY, "not_yet_valid"),
    (TODAY + DAY, TODAY - DAY, "invalid"),
])
def test_certification_status(start, end, status):
    assert domain.certification_status(cert(start=start, end=end), TODAY) == status


def test_certified_lines_lists_each_valid_line_once():
    certs = [cert(line="AnyShare"), cert(line="AnyBackup"), cert(line="anybackup"),
             cert(line="AnyRobot", end=TODAY - DAY)]
    assert domain.certified_lines(certs, TODAY) == ["AnyBackup", "AnyShare"]


# ---- local_date ----------------------------------------------------------------------------

def test_local_date_is_the_day_in_the_service_time_zone():
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    late_utc = dt.datetime(2026, 11, 21, 17, 0, tzinfo=dt.timezone.utc)
    assert domain.local_date(late_utc, shanghai) == dt.date(2026, 11, 22)
    assert domain.local_date(late_utc.replace(tzinfo=None), shanghai) == dt.date(2026, 11, 22)
    assert domain.local_date(dt.date(2026, 1, 1), shanghai) == dt.date(2026, 1, 1)


# ---- qualified -----------------------------------------------------------------------------

def eng(id, name, provider="p1", skills=(), availability=domain.ON_DUTY):
    return Engineer(id, provider, name, tuple(skills), availability)


def ids(candidates):
    return [c.engineer.id for c in candidates]


def test_qualified_excludes_engineers_on_leave():
    engineers = [eng("e1", "Zhang"), eng("e2", "Li", availability=domain.ON_LEAVE)]
    certs = [cert("e1"), cert("e2")]
    assert ids(domain.qualified(engineers, certs, "AnyBackup", TODAY)) == ["e1"]


def test_qualified_excludes_other_providers_when_one_is_named():
    engineers = [eng("e1", "Zhang", "p1"), eng("e2", "Li", "p2")]
    certs = [cert("e1"), cert("e2")]
    assert ids(domain.qualified(engineers, certs, "AnyBackup", TODAY, provider_id="p1")) == ["e1"]
    assert ids(domain.qualified(engineers, certs, "AnyBackup", TODAY)) == ["e2", "e1"]


def test_qualified_excludes_expired_not_yet_valid_inverted_and_other_lines():
    engineers = [eng("e1", "A"), eng("e2", "B"), eng("e3", "C"), eng("e4", "D"), eng("e5", "E")]
    certs = [cert("e1", end=TODAY - DAY), cert("e2", start=TODAY + DAY),
             cert("e3", start=TODAY + DAY, end=TODAY - DAY), cert("e4", line="AnyShare"),
             cert("e5")]
    assert ids(domain.qualified(engineers, certs, "AnyBackup", TODAY)) == ["e5"]


def test_qualified_ranks_by_skill_match_then_name():
    engineers = [eng("e1", "Zhao", skills=["AnyBackup", "Oracle"]),
                 eng("e2", "wang", skills=[]),
                 eng("e3", "Chen", skills=["anybackup"]),
                 eng("e4", "Bai", skills=[])]
    certs = [cert(e.id) for e in engineers]
    ranked = domain.qualified(engineers, certs, "AnyBackup", TODAY, wanted_skills=["oracle"])
    assert ids(ranked) == ["e1", "e3", "e4", "e2"]  # 2 matches, 1, then Bai before wang
    assert [c.skill_match for c in ranked] == [2, 1, 0, 0]


def test_qualified_names_the_certification_valid_longest():
    engineers = [eng("e1", "Zhang")]
    short, long = cert("e1", end=TODAY + DAY, id="short"), cert("e1", end=TODAY + 99 * DAY,
                                                                 id="long")
    [candidate] = domain.qualified(engineers, [short, long], "AnyBackup", TODAY)
    assert candidate.certification.id == "long"


def test_qualified_takes_another_ranking_key_for_load_aware_assignment():
    engineers = [eng("e1", "A"), eng("e2", "B"), eng("e3", "C")]
    certs = [cert(e.id) for e in engineers]
    open_tickets = {"e1": 3, "e2": 0, "e3": 1}
    ranked = domain.qualified(engineers, certs, "AnyBackup", TODAY,
                              key=lambda c: (open_tickets[c.engineer.id],
                                             *domain.by_skill_then_name(c)))
    assert ids(ranked) == ["e2", "e3", "e1"]


# ---- permissions ---------------------------------------------------------------------------

ADMIN = {"role": "admin"}
PA1 = {"role": "provider_admin", "provider_id": "p1"}
PA_NONE = {"role": "provider_admin", "provider_id": None}


@pytest.mark.parametrize("actor, provider_id, expected", [
    (ADMIN, "p1", True), (ADMIN, "p2", True),
    (PA1, "p1", True), (PA1, "p2", False), (PA_NONE, None, False),
    ({"role": "agent"}, "p1", False), ({"role": "engineer", "id": "e1"}, "p1", False),
    ({"role": "customer"}, "p1", False), ({"role": "system"}, "p1", False),
])
def test_may_manage(actor, provider_id, expected):
    assert domain.may_manage(actor, provider_id) is expected


def test_read_access():
    assert domain.reads_all(ADMIN) and domain.reads_all({"role": "agent"})
    assert domain.reads_all({"role": "system"})
    assert not domain.reads_all(PA1) and not domain.reads_all({"role": "customer"})
    e1 = eng("e1", "Zhang", "p1")
    assert domain.may_read_engineer(PA1, e1)
    assert not domain.may_read_engineer({"role": "provider_admin", "provider_id": "p2"}, e1)
    assert domain.may_read_engineer({"role": "engineer", "id": "e1"}, e1)
    assert not domain.may_read_engineer({"role": "engineer", "id": "e2"}, e1)
    assert not domain.may_read_engineer({"role": "customer", "id": "c"}, e1)


def test_only_admins_register_providers_or_change_their_contract_terms():
    assert domain.may_register_provider(ADMIN) and not domain.may_register_provider(PA1)
    assert domain.admin_only_changes(ADMIN, {"active", "name"}) == set()
    assert domain.admin_only_changes(PA1, {"active", "product_lines", "name", "regions"}) == \
        {"active", "product_lines"}


# ==== assignment rules =========================================================================

from dataclasses import dataclass  # noqa: E402

from services.dispatch.domain import Holding, Refused, Ticket  # noqa: E402


def refusal(fn, *args, **kw):
    with pytest.raises(Refused) as info:
        fn(*args, **kw)
    return info.value


def ticket(type="repair", status="new", provider_id=None, line="AnyBackup", region=None,
           category="backup", product="AB-7"):
    return Ticket("t1", "TS20261122001", type, status, line, product, category, region,
                  provider_id)


# ---- qualified at this moment --------------------------------------------------------------

def test_a_certification_valid_until_yesterday_no_longer_qualifies_today():
    zhang = eng("e1", "Zhang")
    lapsed = cert("e1", start=TODAY - 365 * DAY, end=TODAY - DAY)
    problem = domain.qualification_problem(zhang, True, [lapsed], "AnyBackup", TODAY)
    assert (problem.key, problem.params["valid_until"]) == ("certification_expired", "2026-11-21")
    # ... and the day before it still did: qualification is "at that moment"
    assert domain.qualification_problem(zhang, True, [lapsed], "AnyBackup", TODAY - DAY) is None
    # valid until today (inclusive) qualifies today
    assert domain.qualification_problem(
        zhang, True, [cert("e1", end=TODAY)], "AnyBackup", TODAY) is None


def test_the_latest_lapse_is_named_and_any_valid_one_wins():
    zhang = eng("e1", "Zhang")
    old = [cert("e1", start=TODAY - 900 * DAY, end=TODAY - 500 * DAY),
           cert("e1", start=TODAY - 499 * DAY, end=TODAY - 3 * DAY)]
    assert domain.qualification_problem(zhang, True, old, "AnyBackup", TODAY).params[
        "valid_until"] == (TODAY - 3 * DAY).isoformat()
    assert domain.qualification_problem(zhang, True, old + [cert("e1")], "anybackup",
                                        TODAY) is None


@pytest.mark.parametrize("engineer, active, certs, key", [
    (eng("e1", "Z"), True, [cert("e1", line="AnyShare")], "not_certified"),
    (eng("e1", "Z"), True, [], "not_certified"),
    (eng("e1", "Z"), True, [cert("e1", start=TODAY + DAY, end=TODAY + 9 * DAY)],
     "certification_not_yet_valid"),
    (eng("e1", "Z", availability=domain.ON_LEAVE), True, [cert("e1")], "on_leave"),
    (eng("e1", "Z"), False, [cert("e1")], "provider_inactive"),
])
def test_qualification_problems_name_why(engineer, active, certs, key):
    assert domain.qualification_problem(engineer, active, certs, "AnyBackup", TODAY).key == key


# ---- suitability order ------------------------------------------------------------------------

def test_suitability_is_skill_then_open_load_then_least_recently_assigned():
    at = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
    engineers = [eng("e1", "A", skills=["AB-7"]), eng("e2", "B"), eng("e3", "C"),
                 eng("e4", "D"), eng("e5", "E")]
    certs = [cert(e.id) for e in engineers]
    loads = {"e1": 5, "e2": 1, "e3": 0, "e4": 0, "e5": 0}
    last = {"e3": at, "e4": at - dt.timedelta(hours=1)}   # e5 never assigned
    ranked = domain.qualified(engineers, certs, "AnyBackup", TODAY, wanted_skills=["AB-7"],
                              key=domain.by_suitability(loads, last))
    # e1 matches a skill more, whatever its load; then load 0 before 1; among load 0 the
    # never-assigned e5, then e4 (assigned longest ago), then e3
    assert ids(ranked) == ["e1", "e5", "e4", "e3", "e2"]


def test_equal_engineers_take_turns():
    engineers = [eng("e1", "A"), eng("e2", "B"), eng("e3", "C")]
    certs = [cert(e.id) for e in engineers]
    last, picked = {}, []
    for n in range(6):
        best = domain.qualified(engineers, certs, "AnyBackup", TODAY,
                                key=domain.by_suitability({}, last))[0]
        picked.append(best.engineer.id)
        last[best.engineer.id] = dt.datetime(2026, 11, 22, 9, n, tzinfo=dt.timezone.utc)
    assert picked == ["e1", "e2", "e3", "e1", "e2", "e3"]


# ---- who may (re)assign ------------------------------------------------------------------------

PA2 = {"role": "provider_admin", "provider_id": "p2"}


@pytest.mark.parametrize("actor, type, key", [
    (PA1, "installation", "installation_locked"),
    (PA1, "consult", "provider_type_forbidden"),
    ({"role": "customer"}, "repair", "forbidden"),
    ({"role": "engineer", "id": "e1"}, "repair", "forbidden"),
    (PA_NONE, "repair", "forbidden"),
])
def test_check_actor_refusals(actor, type, key):
    assert refusal(domain.check_actor, actor, ticket(type=type)).key == key


@pytest.mark.parametrize("actor", [ADMIN, {"role": "agent"}])
@pytest.mark.parametrize("type", domain.TICKET_TYPES)
def test_the_desk_dispatches_every_type(actor, type):
    domain.check_actor(actor, ticket(type=type))


def test_provider_admins_act_only_on_tickets_with_their_provider():
    offered = Holding(offer_id="o1", offer_provider_id="p1")
    domain.check_holds(PA1, ticket(), offered, "assign")
    assert refusal(domain.check_holds, PA2, ticket(), offered, "assign").key == "not_your_ticket"
    domain.check_holds(PA1, ticket(provider_id="p1"), domain.NOBODY, "assign")  # intake's
    on_it = Holding("a1", "e1", "p1")
    domain.check_holds(PA1, ticket(), on_it, "reassign")
    assert refusal(domain.check_holds, PA2, ticket(provider_id="p2"), on_it,
                   "reassign").key == "not_your_ticket"
    domain.check_holds({"role": "agent"}, ticket(), domain.NOBODY, "reassign")


def test_provider_admins_assign_only_their_own_engineers():
    other = refusal(domain.check_engineer_scope, PA2, eng("e1", "Zhang", "p1"))
    assert (other.key, other.params["engineer"]) == ("other_provider", "Zhang")
    domain.check_engineer_scope(PA1, eng("e1", "Zhang", "p1"))
    domain.check_engineer_scope({"role": "agent"}, eng("e1", "Zhang", "p1"))


# ---- which status allows what --------------------------------------------------------------------

ON_IT = Holding("a1", "e1", "p1")


def test_assign_only_new_or_needs_info_and_never_over_someone():
    domain.check_assign(ticket(status="new"), domain.NOBODY)
    domain.check_assign(ticket(status="needs_info"), domain.NOBODY)
    for status in ("assigned", "in_progress", "suspended", "resolved", "closed", "cancelled"):
        assert refusal(domain.check_assign, ticket(status=status), domain.NOBODY).key == \
            "not_assignable"
    # intake still says new while dispatch has put someone on it: assigned
    assert refusal(domain.check_assign, ticket(status="new"), ON_IT).key == "already_assigned"
    # needs_info after work began: replace only by naming the current assignment
    assert refusal(domain.check_assign, ticket(status="needs_info"), ON_IT).key == \
        "already_assigned"
    domain.check_assign(ticket(status="needs_info"), ON_IT, "a1")
    assert refusal(domain.check_assign, ticket(status="needs_info"), ON_IT, "a0").key == \
        "stale_assignment"
    assert refusal(domain.check_assign, ticket(), domain.NOBODY, "a0").key == "stale_assignment"


def test_reassign_only_assigned_or_in_progress():
    domain.check_reassign(ticket(status="assigned"), ON_IT, "e2")
    domain.check_reassign(ticket(status="in_progress"), ON_IT, "e2")
    domain.check_reassign(ticket(status="new"), ON_IT, "e2")  # intake not caught up yet
    for status in ("suspended", "resolved", "closed", "needs_info"):
        assert refusal(domain.check_reassign, ticket(status=status), ON_IT, "e2").key == \
            "not_reassignable"
    assert refusal(domain.check_reassign, ticket(status="assigned"), domain.NOBODY,
                   "e2").key == "not_assigned"
    assert refusal(domain.check_reassign, ticket(status="assigned"), ON_IT, "e1").key == \
        "same_engineer"
    assert refusal(domain.check_reassign, ticket(status="assigned"), ON_IT, "e2",
                   "a0").key == "stale_assignment"


def test_unassign_only_before_work_starts():
    domain.check_unassign(ticket(status="assigned"), ON_IT)
    assert refusal(domain.check_unassign, ticket(status="in_progress"), ON_IT).key == \
        "not_unassignable"


# ---- routing rules and providers -------------------------------------------------------------------

@dataclass
class Rule:
    id: str
    position: int
    ticket_type: str = None
    category: str = None
    product_line: str = None
    active: bool = True
    created_at: int = 0


def test_matching_rules_in_order():
    rules = [Rule("any", 100), Rule("defects", 10, ticket_type="defect"),
             Rule("ab-backup", 10, category="Backup", product_line="anybackup", created_at=1),
             Rule("off", 1, active=False), Rule("share", 5, product_line="AnyShare")]
    t = ticket(type="defect", category="backup")
    assert [r.id for r in domain.matching_rules(rules, t)] == ["defects", "ab-backup", "any"]
    assert [r.id for r in domain.matching_rules(rules, ticket(type="installation"))] == []


@dataclass
class Prov:
    id: str
    name: str
    product_lines: tuple = ("AnyBackup",)
    regions: tuple = ()
    active: bool = True


def test_provider_covers_line_and_region_where_set():
    east = Prov("p1", "East", regions=("上海", "江苏"))
    everywhere = Prov("p2", "All")
    assert domain.provider_covers(east, "anybackup", "上海")
    assert not domain.provider_covers(east, "AnyBackup", "广州")
    assert domain.provider_covers(east, "AnyBackup", None)      # the ticket has no region
    assert domain.provider_covers(everywhere, "AnyBackup", "广州")
    assert not domain.provider_covers(everywhere, "AnyShare", None)
    assert not domain.provider_covers(Prov("p3", "Off", active=False), "AnyBackup")


def test_providers_are_offered_in_turn():
    at = dt.datetime(2026, 11, 22, tzinfo=dt.timezone.utc)
    providers = [Prov("p1", "B"), Prov("p2", "A"), Prov("p3", "C")]
    ranked = domain.rank_providers(providers, {"p2": at, "p1": at - dt.timedelta(days=1)})
    assert [p.id for p in ranked] == ["p3", "p1", "p2"]
    local = Prov("p4", "Z", regions=("广州",))
    ranked = domain.rank_providers(providers + [local], {"p4": at}, region="广州")
    assert [p.id for p in ranked] == ["p4", "p2", "p1", "p3"]  # local first, even if recent


def test_only_the_offered_provider_answers_once():
    domain.check_offer_response(PA1, "p1", "pending")
    assert refusal(domain.check_offer_response, PA2, "p1", "pending").key == "offer_forbidden"
    assert refusal(domain.check_offer_response, {"role": "agent"}, "p1",
                   "pending").key == "offer_forbidden"
    assert refusal(domain.check_offer_response, PA1, "p1", "declined").key == \
        "offer_not_pending"


# ---- certification warnings ------------------------------------------------------------------------

def test_warning_due_within_the_days_unless_renewed():
    ending = cert("e1", start=TODAY - 300 * DAY, end=TODAY + 30 * DAY)
    assert domain.due_for_warning(ending, TODAY, 30)
    assert not domain.due_for_warning(ending, TODAY, 29)
    assert not domain.due_for_warning(cert("e1", end=TODAY - DAY), TODAY, 30)  # lapsed
    renewal = cert("e1", start=TODAY + 31 * DAY, end=TODAY + 400 * DAY)
    assert not domain.due_for_warning(ending, TODAY, 30, [ending, renewal])
    other_line = cert("e1", line="AnyShare", start=TODAY, end=TODAY + 400 * DAY)
    assert domain.due_for_warning(ending, TODAY, 30, [ending, other_line])
    assert domain.warning_day(ending, 30) == TODAY
