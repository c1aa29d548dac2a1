"""The pure rules of merges, links and canned replies (services/intake/relations.py)."""
import pytest

from services.intake import relations

AGENT = {"id": "a1", "role": "agent"}


def ticket(id, status="new", company="c1", merged_into=None):
    return {"id": id, "status": status, "company_id": company, "merged_into_id": merged_into}


@pytest.mark.parametrize("actor,source,target,key", [
    ({"id": "e", "role": "engineer"}, ticket("a"), ticket("b"), "merge_role"),
    ({"id": "c", "role": "customer_admin"}, ticket("a"), ticket("b"), "merge_role"),
    (AGENT, ticket("a"), ticket("a"), "merge_self"),
    (AGENT, ticket("a", "closed"), ticket("b"), "merge_source_finished"),
    (AGENT, ticket("a"), ticket("b", "cancelled"), "merge_target_finished"),
    (AGENT, ticket("a"), ticket("b", merged_into="x"), "merge_target_finished"),
    (AGENT, ticket("a"), ticket("b", company="c2"), "merge_across_companies"),
    (AGENT, ticket("a", company=None), ticket("b", company=None), "merge_across_companies"),
])
def test_merge_refusals(actor, source, target, key):
    assert relations.merge_problem(actor, source, target)[0] == key


def test_merge_allowed_from_any_open_status():
    for status in ("new", "needs_info", "assigned", "in_progress", "suspended", "resolved"):
        assert relations.merge_problem({"id": "x", "role": "admin"}, ticket("a", status),
                                       ticket("b", "in_progress")) is None


def test_links_no_duplicates_one_parent_no_cycles():
    staff = {"id": "s", "role": "engineer"}
    pairs = {frozenset(("a", "b"))}
    assert relations.link_problem(staff, "b", "a", "related", pairs, {}) == "link_exists"
    assert relations.link_problem(staff, "a", "a", "related", set(), {}) == "link_self"
    assert relations.link_problem({"role": "customer"}, "a", "c", "related", set(), {}) == \
        "link_role"
    chain = {"c": "b", "b": "a"}           # c -> b -> a
    assert relations.link_problem(staff, "a", "c", "parent", set(), chain) == "link_cycle"
    assert relations.link_problem(staff, "c", "a", "child", set(), chain) == "link_cycle"
    assert relations.link_problem(staff, "c", "x", "parent", set(), chain) == "link_has_parent"
    assert relations.link_problem(staff, "x", "c", "parent", set(), chain) is None
    assert relations.stored_link("p", "k", "child") == ("k", "p", "parent")


def test_canned_variables_and_filling():
    assert relations.unknown_variables("您好 {customer_name}，{客户} {x y} {}") == ["", "客户"]
    assert relations.unknown_variables("{ticket_number} {title}") == []
    values = relations.ticket_values({"number": "TS1", "title": "T", "contact_name": None,
                                      "submitter_name": "李雷", "company_name": "示例",
                                      "handler_name": None})
    assert relations.fill("{customer_name}/{company_name}/{engineer_name}/{ticket_number}"
                          "/{other}", values) == "李雷/示例//TS1/{other}"


@pytest.mark.parametrize("actor,scope,provider,read,write", [
    ({"id": "o", "role": "engineer"}, "personal", None, True, True),
    ({"id": "x", "role": "agent"}, "personal", None, False, False),
    ({"id": "x", "role": "agent"}, "desk", None, True, True),
    ({"id": "x", "role": "engineer", "provider_id": "p"}, "desk", None, False, False),
    ({"id": "x", "role": "engineer", "provider_id": "p"}, "provider", "p", True, False),
    ({"id": "x", "role": "provider_admin", "provider_id": "p"}, "provider", "p", True, True),
    ({"id": "x", "role": "provider_admin", "provider_id": "q"}, "provider", "p", False, False),
    ({"id": "x", "role": "admin"}, "provider", "p", True, True),
    ({"id": "o", "role": "customer"}, "personal", None, False, False),
])
def test_canned_scopes(actor, scope, provider, read, write):
    reply = {"scope": scope, "owner_id": "o", "provider_id": provider}
    assert relations.canned_readable(actor, reply) is read
    assert relations.canned_writable(actor, reply) is write
