"""The one "may this actor see this ticket" rule, as a predicate and as a query filter: both
must agree for every role over every kind of ticket."""
import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, select

from gongdan_common import visibility

TICKETS = {
    "t-own": {"submitter_id": "cust-a", "company_id": "co-a", "provider_id": "p1",
              "handler_id": "eng-1"},
    "t-colleague": {"submitter_id": "cust-a2", "company_id": "co-a", "provider_id": None,
                    "handler_id": None},
    "t-other-co": {"submitter_id": "cust-b", "company_id": "co-b", "provider_id": "p2",
                   "handler_id": "eng-2"},
    "t-p1-unassigned": {"submitter_id": "cust-b", "company_id": "co-b", "provider_id": "p1",
                        "handler_id": None},
}

ACTORS = {
    "agent": ({"id": "ag", "role": "agent"}, set(TICKETS)),
    "admin": ({"id": "ad", "role": "admin"}, set(TICKETS)),
    "system": ({"id": "svc:1", "role": "system"}, set(TICKETS)),
    "customer": ({"id": "cust-a", "role": "customer", "company_id": "co-a"}, {"t-own"}),
    "customer_admin": ({"id": "boss-a", "role": "customer_admin", "company_id": "co-a"},
                       {"t-own", "t-colleague"}),
    "provider_admin": ({"id": "pa1", "role": "provider_admin", "provider_id": "p1"},
                       {"t-own", "t-p1-unassigned"}),
    "engineer": ({"id": "eng-1", "role": "engineer", "provider_id": "p1"}, {"t-own"}),
    # broken or unknown actors see nothing, however their facts look
    "customer_admin_no_company": ({"id": "x", "role": "customer_admin", "company_id": None},
                                  set()),
    "provider_admin_no_provider": ({"id": "y", "role": "provider_admin"}, set()),
    "engineer_no_id": ({"role": "engineer"}, set()),
    "unknown_role": ({"id": "cust-a", "role": "auditor"}, set()),
    "no_role": ({"id": "cust-a"}, set()),
}


@pytest.mark.parametrize("name", sorted(ACTORS))
def test_may_see(name):
    actor, expected = ACTORS[name]
    assert {tid for tid, facts in TICKETS.items() if visibility.may_see(actor, facts)} == expected


@pytest.fixture(scope="module")
def table():
    engine = create_engine("sqlite://")
    meta = MetaData()
    t = Table("t", meta, Column("id", String, primary_key=True),
              *[Column(f, String) for f in visibility.FACTS])
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(t), [dict(facts, id=tid) for tid, facts in TICKETS.items()])
    return engine, t


@pytest.mark.parametrize("name", sorted(ACTORS))
def test_scope_clause_selects_what_may_see_allows(table, name):
    engine, t = table
    actor, expected = ACTORS[name]
    with engine.connect() as conn:
        got = set(conn.scalars(select(t.c.id).where(
            visibility.scope_clause(actor, {f: t.c[f] for f in visibility.FACTS}))))
    assert got == expected


def test_a_fact_the_table_lacks_matches_nothing(table):
    engine, t = table
    actor = ACTORS["customer"][0]  # scoped by submitter_id
    with engine.connect() as conn:
        got = list(conn.scalars(select(t.c.id).where(
            visibility.scope_clause(actor, {"provider_id": t.c.provider_id}))))
    assert got == []


def test_may_see_reads_objects_too():
    class Row:
        submitter_id, company_id, provider_id, handler_id = "c", "co", "p1", None
    assert visibility.may_see({"id": "pa", "role": "provider_admin", "provider_id": "p1"},
                              Row())
    assert not visibility.may_see({"id": "e", "role": "engineer"}, Row())
    assert visibility.access_facts(Row()) == {"submitter_id": "c", "company_id": "co",
                                              "provider_id": "p1", "handler_id": None}


# ---- who may file for a company; who keeps a company's settings ----------------------------

TOKEN = {"id": "svc:1", "role": "system", "scopes": ["tickets:create"], "companies": ["co"]}


@pytest.mark.parametrize("actor, company, allowed", [
    ({"role": "admin"}, "co", True), ({"role": "agent"}, "other", True),
    ({"role": "customer", "company_id": "co"}, "co", True),
    ({"role": "customer_admin", "company_id": "co"}, "other", False),
    ({"role": "engineer", "provider_id": "p1"}, "co", False),
    ({"role": "provider_admin", "provider_id": "co"}, "co", False),
    (TOKEN, "co", True), (TOKEN, "other", False), (TOKEN, None, False),
    (dict(TOKEN, scopes=["tickets:write"]), "co", False),   # the scope is needed
    (dict(TOKEN, companies=None), "co", False), (None, "co", False),
])
def test_may_file_for(actor, company, allowed):
    assert visibility.may_file_for(actor, company) is allowed


@pytest.mark.parametrize("actor, kind, company, allowed", [
    ({"role": "admin"}, "provider", "p1", True),
    ({"role": "customer_admin", "company_id": "co"}, "customer", "co", True),
    ({"role": "customer_admin", "company_id": "co"}, "customer", "other", False),
    ({"role": "customer_admin", "company_id": "co"}, "provider", "co", False),
    ({"role": "provider_admin", "provider_id": "p1"}, "provider", "p1", True),
    ({"role": "provider_admin", "provider_id": "p1"}, "customer", "p1", False),
    ({"role": "customer", "company_id": "co"}, "customer", "co", False),
    ({"role": "agent"}, "customer", "co", False), (TOKEN, "customer", "co", False),
    ({"role": "customer_admin", "company_id": None}, "none", None, False),
])
def test_may_keep_settings_of(actor, kind, company, allowed):
    assert visibility.may_keep_settings_of(actor, kind, company) is allowed
