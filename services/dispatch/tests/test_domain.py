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
