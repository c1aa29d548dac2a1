"""Work-log rules, pure: times and durations, who may write/correct/read, time totals."""
import datetime as dt

import pytest

from services.worklog import domain

from .conftest import (AGENT, CUSTOMER, CUSTOMER_ADMIN, ENGINEER, HOUR, MINUTE, NOW,
                       OTHER_CUSTOMER, OTHER_ENGINEER, OTHER_PROVIDER_ADMIN, PROVIDER_ADMIN, ADMIN,
                       ticket)

SECOND = dt.timedelta(seconds=1)


def problems(start, end, now=NOW, **kw):
    with pytest.raises(domain.InvalidTimes) as err:
        domain.check_times(start, end, now, **kw)
    return {name: [key for key, _ in found] for name, found in err.value.problems.items()}


# ---- times --------------------------------------------------------------------------

def test_a_plain_entry_is_accepted_and_measured_in_seconds():
    assert domain.check_times(NOW - 2 * HOUR, NOW - HOUR, NOW) == 3600


def test_end_before_start_is_refused():
    assert problems(NOW - HOUR, NOW - 2 * HOUR) == {"ended_at": ["not_after_start"]}


def test_end_equal_to_start_is_refused():
    assert problems(NOW - HOUR, NOW - HOUR) == {"ended_at": ["not_after_start"]}


def test_one_second_of_work_counts():
    assert domain.check_times(NOW - HOUR, NOW - HOUR + SECOND, NOW) == 1


def test_exactly_24_hours_is_the_longest_entry():
    assert domain.check_times(NOW - 25 * HOUR, NOW - HOUR, NOW) == 24 * 3600
    assert problems(NOW - 25 * HOUR - SECOND, NOW - HOUR) == {"ended_at": ["too_long"]}


def test_future_times_are_refused_beyond_five_minutes_of_clock_skew():
    # a client clock a few minutes ahead is tolerated
    assert domain.check_times(NOW - HOUR, NOW + 5 * MINUTE, NOW) == 3900
    assert problems(NOW - HOUR, NOW + 5 * MINUTE + SECOND) == {"ended_at": ["in_future"]}
    assert problems(NOW + HOUR, NOW + 2 * HOUR) == {"started_at": ["in_future"],
                                                    "ended_at": ["in_future"]}


def test_several_problems_are_reported_together():
    assert problems(NOW + HOUR, NOW - HOUR) == {"started_at": ["in_future"],
                                                "ended_at": ["not_after_start"]}


def test_work_cannot_start_before_the_ticket_existed():
    created = NOW - 10 * HOUR
    assert domain.check_times(created - 5 * MINUTE, created + HOUR, NOW, not_before=created)
    assert problems(created - HOUR, created + HOUR, not_before=created) == {
        "started_at": ["before_ticket"]}


def test_times_must_carry_a_timezone():
    with pytest.raises(ValueError):
        domain.check_times(dt.datetime(2026, 1, 1, 8), dt.datetime(2026, 1, 1, 9), NOW)


def test_a_timezone_offset_is_the_same_instant():
    shanghai = dt.timezone(dt.timedelta(hours=8))
    start = (NOW - 2 * HOUR).astimezone(shanghai)
    assert domain.check_times(start, NOW - HOUR, NOW) == 3600


def test_minutes_round_half_up():
    assert [domain.minutes(s) for s in (0, 29, 30, 89, 90, 3600)] == [0, 0, 1, 1, 2, 60]


# ---- who may write -------------------------------------------------------------------

def refusal(check, *args):
    with pytest.raises(domain.Refused) as err:
        check(*args)
    return err.value.key


def test_the_current_handler_and_the_desk_may_add_to_a_ticket_in_progress():
    for actor in (ENGINEER, AGENT, ADMIN):
        domain.check_add(actor, ticket())


def test_another_engineer_may_not_add():
    assert refusal(domain.check_add, OTHER_ENGINEER, ticket()) == "not_handler"
    assert refusal(domain.check_add, ENGINEER, ticket(handler_id=None)) == "not_handler"


def test_customers_and_provider_admins_never_write():
    for actor in (CUSTOMER, CUSTOMER_ADMIN, PROVIDER_ADMIN):
        assert refusal(domain.check_add, actor, ticket()) == "role_cannot_write"
    assert refusal(domain.check_add, {"role": "system"}, ticket()) == "role_cannot_write"


@pytest.mark.parametrize("status", ["new", "assigned", "needs_info", "suspended", "resolved",
                                    "closed", "cancelled"])
def test_only_a_ticket_in_progress_accepts_a_work_log(status):
    with pytest.raises(domain.Refused) as err:
        domain.check_add(ENGINEER, ticket(status=status))
    assert (err.value.key, err.value.params) == ("wrong_status", {"status": status})
    with pytest.raises(domain.Refused):
        domain.check_add(AGENT, ticket(status=status))


def test_permission_is_checked_before_status():
    assert refusal(domain.check_add, OTHER_ENGINEER, ticket(status="suspended")) == "not_handler"


def test_the_author_or_the_desk_may_correct_while_in_progress():
    entry = {"author_id": ENGINEER["id"]}
    for actor in (ENGINEER, AGENT, ADMIN):
        domain.check_correct(actor, entry, ticket())
    # the author may correct after the ticket went to another engineer
    domain.check_correct(ENGINEER, entry, ticket(handler_id=OTHER_ENGINEER["id"]))
    assert refusal(domain.check_correct, OTHER_ENGINEER, entry,
                   ticket(handler_id=OTHER_ENGINEER["id"])) == "not_author"
    assert refusal(domain.check_correct, ENGINEER, entry,
                   ticket(status="suspended")) == "wrong_status"
    assert refusal(domain.check_correct, CUSTOMER, entry, ticket()) == "role_cannot_write"


def test_engineers_log_their_own_work_the_desk_may_name_the_engineer():
    assert domain.handler_for(ENGINEER, None) == {"id": ENGINEER["id"], "name": "张工"}
    assert domain.handler_for(ENGINEER, {"id": ENGINEER["id"], "name": "别名"})["name"] == "张工"
    assert refusal(domain.handler_for, ENGINEER, {"id": OTHER_ENGINEER["id"]}) == \
        "handler_is_self"
    assert domain.handler_for(AGENT, None) == {"id": AGENT["id"], "name": AGENT["name"]}
    assert domain.handler_for(AGENT, {"id": "u-eng-li", "name": "李工"}) == {
        "id": "u-eng-li", "name": "李工"}


# ---- who may read --------------------------------------------------------------------

def test_readers_are_those_who_may_see_the_ticket():
    t = ticket()
    for actor in (CUSTOMER, CUSTOMER_ADMIN, PROVIDER_ADMIN, ENGINEER, AGENT, ADMIN):
        assert domain.can_view(actor, t), actor["role"]
    for actor in (OTHER_CUSTOMER, OTHER_PROVIDER_ADMIN, OTHER_ENGINEER,
                  {"id": "x", "role": "customer_admin", "company_id": "c-2"}, {"role": "nobody"}):
        assert not domain.can_view(actor, t), actor
    assert not domain.can_view(PROVIDER_ADMIN, ticket(provider_id=None))


def test_report_scope_by_role():
    assert domain.report_filters(ENGINEER, {}) == {"engineer_id": ENGINEER["id"]}
    assert refusal(domain.report_filters, ENGINEER, {"engineer_id": "u-eng-li"}) == \
        "report_forbidden"
    assert domain.report_filters(PROVIDER_ADMIN, {"engineer_id": "u-eng-li"}) == {
        "engineer_id": "u-eng-li", "provider_id": "prov-1"}
    assert refusal(domain.report_filters, PROVIDER_ADMIN, {"provider_id": "prov-2"}) == \
        "report_forbidden"
    assert domain.report_filters(AGENT, {"product_line": "AnyBackup"}) == {
        "product_line": "AnyBackup"}
    assert refusal(domain.report_filters, CUSTOMER_ADMIN, {}) == "report_forbidden"


def test_report_period_must_be_a_forward_span_of_at_most_a_year():
    domain.check_period(NOW - 24 * HOUR, NOW)
    for start, end in ((NOW, NOW), (NOW, NOW - HOUR), (NOW - 367 * 24 * HOUR, NOW)):
        with pytest.raises(domain.InvalidTimes):
            domain.check_period(start, end)


# ---- totals --------------------------------------------------------------------------

def entry(start_h, hours, handler="u-eng-zhang", on_site=False, name="张工"):
    start = NOW - start_h * HOUR
    return {"started_at": start, "ended_at": start + hours * HOUR, "on_site": on_site,
            "handler_id": handler, "handler_name": name}


def test_totals_of_no_entries():
    assert domain.totals([]) == {"seconds": 0, "minutes": 0, "entries": 0, "on_site_entries": 0,
                                 "first_started_at": None, "last_ended_at": None,
                                 "engineers": []}


def test_totals_sum_durations_count_visits_and_span_first_to_last():
    out = domain.totals([
        entry(10, 1.5, on_site=True), entry(30, 2), entry(5, 0.25, handler="u-eng-li",
                                                          name="李工")])
    assert (out["seconds"], out["minutes"], out["entries"], out["on_site_entries"]) == (
        3.75 * 3600, 225, 3, 1)
    assert out["first_started_at"] == NOW - 30 * HOUR
    assert out["last_ended_at"] == NOW - 5 * HOUR + 0.25 * HOUR
    assert [(e["engineer_id"], e["engineer_name"], e["minutes"], e["entries"])
            for e in out["engineers"]] == [("u-eng-zhang", "张工", 210, 2),
                                           ("u-eng-li", "李工", 15, 1)]


def test_report_folds_product_lines_into_engineers():
    rows = [
        {"engineer_id": "a", "engineer_name": "A", "product_line": "AnyBackup", "seconds": 600,
         "entries": 1, "on_site_entries": 1, "first_started_at": NOW - 3 * HOUR,
         "last_ended_at": NOW - 2 * HOUR},
        {"engineer_id": "a", "engineer_name": "A", "product_line": "AnyShare", "seconds": 1800,
         "entries": 2, "on_site_entries": 0, "first_started_at": NOW - 5 * HOUR,
         "last_ended_at": NOW - HOUR},
        {"engineer_id": "b", "engineer_name": None, "product_line": None, "seconds": 3600,
         "entries": 1, "on_site_entries": 0, "first_started_at": NOW - 9 * HOUR,
         "last_ended_at": NOW - 8 * HOUR},
    ]
    totals, engineers = domain.fold_report(rows, {"a": 3, "b": 1})
    assert (totals["seconds"], totals["entries"], totals["on_site_entries"]) == (6000, 4, 1)
    assert (totals["first_started_at"], totals["last_ended_at"]) == (NOW - 9 * HOUR, NOW - HOUR)
    assert [e["engineer_id"] for e in engineers] == ["b", "a"]
    a = engineers[1]
    assert (a["minutes"], a["tickets"], a["first_started_at"]) == (40, 3, NOW - 5 * HOUR)
    assert [p["product_line"] for p in a["product_lines"]] == ["AnyShare", "AnyBackup"]
