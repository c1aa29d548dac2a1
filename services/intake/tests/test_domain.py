"""Ticket rules without a database or a broker."""
import datetime as dt

import pytest

from services.intake import domain

CUSTOMER = {"id": "u1", "role": "customer", "company_id": "c1"}
COLLEAGUE = {"id": "u2", "role": "customer", "company_id": "c1"}
COMPANY_ADMIN = {"id": "u3", "role": "customer_admin", "company_id": "c1"}
OTHER_ADMIN = {"id": "u4", "role": "customer_admin", "company_id": "c2"}
AGENT = {"id": "a1", "role": "agent"}
ENGINEER = {"id": "e1", "role": "engineer", "provider_id": "p1"}
PROVIDER_ADMIN = {"id": "pa", "role": "provider_admin", "provider_id": "p1"}


def ticket(**over):
    t = {"submitter_id": "u1", "company_id": "c1", "provider_id": None, "handler_id": None,
         "status": "new", "status_before": None}
    t.update(over)
    return t


@pytest.mark.parametrize("impact,urgency,expected", [
    ("company", "critical", "P1"), ("company", "low", "P3"), ("department", "high", "P2"),
    ("department", "low", "P4"), ("individual", "critical", "P2"), ("individual", "low", "P4"),
])
def test_priority_matrix(impact, urgency, expected):
    assert domain.priority_for(impact, urgency) == expected


def test_priority_matrix_is_total_and_monotonic():
    order = {p: i for i, p in enumerate(domain.PRIORITIES)}
    for impact in domain.IMPACTS:
        ranks = [order[domain.priority_for(impact, u)] for u in domain.URGENCIES]
        assert ranks == sorted(ranks, reverse=True)  # more urgent is never lower priority
    for urgency in domain.URGENCIES:
        ranks = [order[domain.priority_for(i, urgency)] for i in domain.IMPACTS]
        assert ranks == sorted(ranks, reverse=True)


def test_number_format():
    assert domain.format_number("TS", dt.date(2026, 11, 22), 1) == "TS20261122001"
    assert domain.format_number("TS", dt.date(2026, 11, 22), 1234) == "TS202611221234"


@pytest.mark.parametrize("actor,visible", [
    (CUSTOMER, True), (COLLEAGUE, False), (COMPANY_ADMIN, True), (OTHER_ADMIN, False),
    (AGENT, True), (ENGINEER, False), (PROVIDER_ADMIN, False),
    ({"id": "x", "role": "stranger"}, False),
])
def test_visibility(actor, visible):
    assert domain.can_view(actor, ticket()) is visible


def test_provider_and_engineer_see_theirs_once_dispatched():
    t = ticket(provider_id="p1", handler_id="e1")
    assert domain.can_view(ENGINEER, t) and domain.can_view(PROVIDER_ADMIN, t)
    assert not domain.can_view({"id": "e2", "role": "engineer", "provider_id": "p1"}, t)
    assert domain.visibility_scope(ENGINEER) == ("handler_id", "e1")
    assert domain.visibility_scope(AGENT) is None


def test_cancel_by_requester_before_work_only():
    assert domain.plan_transition(CUSTOMER, ticket(), "cancel") == ("new", "cancelled")
    assert domain.plan_transition(COMPANY_ADMIN, ticket(), "cancel") == ("new", "cancelled")
    with pytest.raises(domain.TransitionRefused) as refused:
        domain.plan_transition(COLLEAGUE, ticket(), "cancel")
    assert refused.value.key == "role_not_allowed"
    with pytest.raises(domain.TransitionRefused) as refused:
        domain.plan_transition(CUSTOMER, ticket(status="in_progress"), "cancel")
    assert refused.value.key == "illegal_transition"
    # needs_info entered after work began: cancelling would discard work
    with pytest.raises(domain.TransitionRefused) as refused:
        domain.plan_transition(CUSTOMER, ticket(status="needs_info",
                                                status_before="in_progress"), "cancel")
    assert refused.value.key == "work_started"
    assert domain.plan_transition(CUSTOMER, ticket(status="needs_info", status_before="new"),
                                  "cancel") == ("needs_info", "cancelled")


def test_needs_info_returns_to_where_it_came_from():
    assert domain.plan_transition(AGENT, ticket(), "request_info", "logs?") == \
        ("new", "needs_info")
    assert domain.plan_transition(
        CUSTOMER, ticket(status="needs_info", status_before="in_progress"), "provide_info") == \
        ("needs_info", "in_progress")
    with pytest.raises(domain.TransitionRefused) as refused:
        domain.plan_transition(AGENT, ticket(), "request_info", "  ")
    assert refused.value.key == "reason_required"
    with pytest.raises(domain.TransitionRefused):
        domain.plan_transition(CUSTOMER, ticket(), "request_info", "x")


def test_unknown_action_and_extension_by_registration():
    with pytest.raises(domain.TransitionRefused) as refused:
        domain.plan_transition(AGENT, ticket(), "teleport")
    assert refused.value.key == "unknown_action"
    t = domain.Transition("test_only", frozenset({"new"}), "assigned", frozenset({"agent"}))
    domain.register_transition(t)
    try:
        assert domain.plan_transition(AGENT, ticket(), "test_only") == ("new", "assigned")
    finally:
        del domain.TRANSITIONS["test_only"]


def test_editable_fields_by_role_and_status():
    assert "title" in domain.editable_fields(CUSTOMER, ticket())
    assert "priority" not in domain.editable_fields(CUSTOMER, ticket())
    assert domain.editable_fields(CUSTOMER, ticket(status="in_progress")) == frozenset()
    assert "priority" in domain.editable_fields(AGENT, ticket(status="in_progress"))
    assert domain.editable_fields(AGENT, ticket(status="closed")) == frozenset()
