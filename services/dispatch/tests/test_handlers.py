"""Handler tests: dispatch's service layer on a migrated database (SQLite and PostgreSQL),
without a broker. The clock is fixed (conftest.NOW, which is TODAY in Shanghai)."""
import contextlib
import datetime as dt

import pytest
from sqlalchemy import select

from gongdan_common.errors import AppError
from services.dispatch import handlers
from services.dispatch.models import metadata

from .conftest import ADMIN, AGENT, CUSTOMER, TODAY, engineer_actor, provider_admin

DAY = dt.timedelta(days=1)
OUTBOX = metadata.tables["outbox"]


def iso(day):
    return day.isoformat()


@contextlib.contextmanager
def refused(status, code=None):
    """pytest.raises(AppError), then check its HTTP status (and code)."""
    with pytest.raises(AppError) as info:
        yield info
    assert info.value.status == status, info.value.payload
    if code:
        assert info.value.code == code, info.value.payload


def outbox_rows(uow):
    with uow:
        return [r.payload for r in uow.session.execute(select(OUTBOX).order_by(OUTBOX.c.id))]


@pytest.fixture
def registry(uow, settings):
    """Two providers; p1 has Zhang (AnyBackup), Li (AnyBackup + AnyShare); p2 has Wang."""
    handlers.upsert_provider(ADMIN, {"id": "p1", "name": "华东服务商", "regions": ["上海"],
                                     "product_lines": ["AnyBackup", "AnyShare"]}, uow)
    handlers.upsert_provider(ADMIN, {"id": "p2", "name": "华南服务商", "regions": ["广州"],
                                     "product_lines": ["AnyBackup"]}, uow)
    for eid, pid, name, skills in [("e1", "p1", "Zhang San", ["Oracle"]),
                                   ("e2", "p1", "Li Si", ["AnyBackup"]),
                                   ("e3", "p2", "Wang Wu", [])]:
        handlers.upsert_engineer(ADMIN, {"id": eid, "provider_id": pid, "name": name,
                                         "skills": skills}, uow)
    for eid, line, no in [("e1", "AnyBackup", "AB-1"), ("e2", "AnyBackup", "AB-2"),
                          ("e2", "AnyShare", "AS-2"), ("e3", "AnyBackup", "AB-3")]:
        handlers.add_certification(ADMIN, eid, {
            "product_line": line, "certificate_no": no, "certificate_name": f"{line} 认证工程师",
            "valid_from": iso(TODAY - 100 * DAY), "valid_until": iso(TODAY + 265 * DAY)},
            uow, settings)


# ---- providers -----------------------------------------------------------------------------

def test_upsert_provider_creates_then_updates_only_the_given_fields(uow):
    made = handlers.upsert_provider(ADMIN, {"id": "p1", "name": " 华东服务商 ",
                                            "product_lines": ["AnyBackup", "anybackup"]}, uow)
    assert made == {"id": "p1", "name": "华东服务商", "regions": [],
                    "product_lines": ["AnyBackup"], "active": True,
                    "created_at": made["created_at"], "updated_at": made["updated_at"]}
    changed = handlers.upsert_provider(ADMIN, {"id": "p1", "regions": ["上海", "杭州"]}, uow)
    assert (changed["name"], changed["regions"], changed["product_lines"]) == \
        ("华东服务商", ["上海", "杭州"], ["AnyBackup"])
    assert changed["created_at"] == made["created_at"]
    assert handlers.list_providers(ADMIN, uow) == [changed]


def test_creating_a_provider_needs_a_name(uow):
    with refused(400, "validation_failed") as err:
        handlers.upsert_provider(ADMIN, {"id": "p1"}, uow)
    assert set(err.value.details["fields"]) == {"name"}


def test_provider_admin_edits_own_provider_but_not_its_contract_terms(uow, registry):
    pa = provider_admin("p1")
    out = handlers.upsert_provider(pa, {"id": "p1", "name": "华东服务商（新）",
                                        "product_lines": ["AnyShare", "AnyBackup"]}, uow)
    assert out["name"] == "华东服务商（新）"  # same lines, other order: not a change
    with refused(403):
        handlers.upsert_provider(pa, {"id": "p1", "product_lines": ["AnyRobot"]}, uow)
    with refused(403):
        handlers.upsert_provider(pa, {"id": "p1", "active": False}, uow)
    with refused(403):
        handlers.upsert_provider(pa, {"id": "p2", "name": "抢注"}, uow)
    with refused(403):  # a provider_admin does not register providers, not even their own
        handlers.upsert_provider(provider_admin("p9"), {"id": "p9", "name": "新服务商"}, uow)


@pytest.mark.parametrize("actor", [AGENT, CUSTOMER, engineer_actor("e1"),
                                   {"role": "provider_admin", "provider_id": None}])
def test_others_may_not_manage_providers(uow, actor):
    with refused(403, "forbidden"):
        handlers.upsert_provider(actor, {"id": "p1", "name": "x"}, uow)


def test_list_providers_by_scope(uow, registry):
    assert [p["id"] for p in handlers.list_providers(ADMIN, uow)] == ["p1", "p2"]
    assert [p["id"] for p in handlers.list_providers(AGENT, uow)] == ["p1", "p2"]
    assert [p["id"] for p in handlers.list_providers(provider_admin("p2"), uow)] == ["p2"]
    for actor in (CUSTOMER, engineer_actor("e1")):
        with refused(403):
            handlers.list_providers(actor, uow)


# ---- engineers -----------------------------------------------------------------------------

def test_provider_admin_registers_and_edits_own_engineers(uow, registry, settings):
    pa = provider_admin("p1")
    out = handlers.upsert_engineer(pa, {"id": "e9", "provider_id": "p1", "name": "Zhou",
                                        "skills": ["AnyShare", "anyshare", "Linux"]}, uow)
    assert out == {"id": "e9", "provider_id": "p1", "name": "Zhou",
                   "skills": ["AnyShare", "Linux"], "availability": "on_duty",
                   "created_at": out["created_at"], "updated_at": out["updated_at"]}
    again = handlers.upsert_engineer(pa, {"id": "e9", "availability": "on_leave"}, uow)
    assert (again["name"], again["availability"]) == ("Zhou", "on_leave")


def test_provider_admin_may_not_act_on_another_providers_engineer(uow, registry, settings):
    pa = provider_admin("p1")
    with refused(403):  # e3 works for p2
        handlers.upsert_engineer(pa, {"id": "e3", "name": "renamed"}, uow)
    with refused(403):  # nor take them over by naming their own provider
        handlers.upsert_engineer(pa, {"id": "e3", "provider_id": "p1"}, uow)
    with refused(403):
        handlers.upsert_engineer(pa, {"id": "e10", "provider_id": "p2", "name": "x"}, uow)
    with refused(403):
        handlers.set_availability(pa, "e3", "on_leave", uow)
    with refused(403):
        handlers.add_certification(pa, "e3", {
            "product_line": "AnyShare", "certificate_no": "X-1",
            "valid_from": iso(TODAY), "valid_until": iso(TODAY + DAY)}, uow, settings)
    with refused(403):
        handlers.list_certifications(pa, "e3", uow, settings)
    with refused(403):
        handlers.list_engineers(pa, {"provider_id": "p2"}, uow, settings)
    with refused(403):
        handlers.qualified_engineers(pa, {"product_line": "AnyBackup", "provider_id": "p2"},
                                     uow, settings)
    assert handlers.list_engineers(provider_admin("p2"), {}, uow, settings)["items"][0]["name"] \
        == "Wang Wu"  # unchanged


def test_admin_moves_an_engineer_to_another_provider(uow, registry):
    out = handlers.upsert_engineer(ADMIN, {"id": "e3", "provider_id": "p1"}, uow)
    assert (out["provider_id"], out["name"]) == ("p1", "Wang Wu")


def test_engineer_of_an_unknown_provider_is_404(uow, registry):
    with refused(404, "provider_not_found"):
        handlers.upsert_engineer(ADMIN, {"id": "e9", "provider_id": "nope", "name": "x"}, uow)
    with refused(404, "provider_not_found"):
        handlers.upsert_engineer(ADMIN, {"id": "e1", "provider_id": "nope"}, uow)


def test_creating_an_engineer_needs_provider_and_name(uow, registry):
    with refused(400) as err:
        handlers.upsert_engineer(ADMIN, {"id": "e9"}, uow)
    assert set(err.value.details["fields"]) == {"provider_id", "name"}


def test_set_availability(uow, registry):
    assert handlers.set_availability(provider_admin("p1"), "e1", "on_leave", uow)[
        "availability"] == "on_leave"
    with refused(400) as err:
        handlers.set_availability(ADMIN, "e1", "sick", uow)
    assert err.value.details["fields"]["availability"][0]["zh"].startswith("在岗状态")
    with refused(404, "engineer_not_found"):
        handlers.set_availability(ADMIN, "nobody", "on_duty", uow)


def test_list_engineers_filters(uow, registry, settings):
    def names(query, actor=ADMIN):
        return [e["name"] for e in handlers.list_engineers(actor, query, uow, settings)["items"]]

    handlers.add_certification(ADMIN, "e3", {
        "product_line": "AnyShare", "certificate_no": "AS-3-old",
        "valid_from": iso(TODAY - 400 * DAY), "valid_until": iso(TODAY - DAY)}, uow, settings)
    handlers.set_availability(ADMIN, "e1", "on_leave", uow)

    assert names({}) == ["Li Si", "Wang Wu", "Zhang San"]
    assert names({"provider_id": "p1"}) == ["Li Si", "Zhang San"]
    assert names({}, provider_admin("p1")) == ["Li Si", "Zhang San"]
    assert names({"availability": "on_leave"}) == ["Zhang San"]
    assert names({"product_line": "AnyShare"}) == ["Li Si", "Wang Wu"]  # any period
    assert names({"product_line": "AnyShare", "certified_at": iso(TODAY)}) == ["Li Si"]
    assert names({"product_line": "AnyShare", "certified_at": iso(TODAY - 2 * DAY)}) == \
        ["Li Si", "Wang Wu"]
    assert names({"certified_at": iso(TODAY + 300 * DAY)}) == []

    page = handlers.list_engineers(ADMIN, {"page": 2, "page_size": 2}, uow, settings)
    assert (page["total"], [e["name"] for e in page["items"]]) == (3, ["Zhang San"])
    li = handlers.list_engineers(ADMIN, {"provider_id": "p1"}, uow, settings)["items"][0]
    assert li["certified_product_lines"] == ["AnyBackup", "AnyShare"]

    with refused(400):
        handlers.list_engineers(ADMIN, {"certified_at": "soon"}, uow, settings)
    with refused(403):
        handlers.list_engineers(CUSTOMER, {}, uow, settings)


# ---- certifications ------------------------------------------------------------------------

def test_add_certification_writes_the_event_in_the_same_transaction(uow, registry, settings):
    before = len(outbox_rows(uow))
    out = handlers.add_certification(provider_admin("p1"), "e1", {
        "product_line": "AnyShare", "certificate_no": "AS-1", "certificate_name": None,
        "valid_from": iso(TODAY), "valid_until": iso(TODAY)}, uow, settings)
    assert out == {"id": out["id"], "engineer_id": "e1", "product_line": "AnyShare",
                   "certificate_no": "AS-1", "certificate_name": None,
                   "valid_from": iso(TODAY), "valid_until": iso(TODAY),
                   "created_at": out["created_at"], "status": "valid"}
    rows = outbox_rows(uow)
    assert len(rows) == before + 1
    event = rows[-1]
    assert (event["type"], event["source"], event["actor"]["role"]) == \
        ("engineer_certified", "dispatch", "provider_admin")
    assert event["data"] == {
        "certification_id": out["id"], "engineer_id": "e1", "engineer_name": "Zhang San",
        "provider_id": "p1", "product_line": "AnyShare", "certificate_no": "AS-1",
        "certificate_name": None, "valid_from": iso(TODAY), "valid_until": iso(TODAY)}


def test_recording_the_same_certificate_again_is_a_retry(uow, registry, settings):
    payload = {"product_line": "AnyShare", "certificate_no": "AS-1",
               "valid_from": iso(TODAY), "valid_until": iso(TODAY + 9 * DAY)}
    first = handlers.add_certification(ADMIN, "e1", payload, uow, settings)
    count = len(outbox_rows(uow))
    assert handlers.add_certification(ADMIN, "e1", payload, uow, settings) == first
    assert len(outbox_rows(uow)) == count  # no second event
    with refused(409, "certificate_conflict"):
        handlers.add_certification(ADMIN, "e1", dict(payload, valid_until=iso(TODAY + DAY)),
                                   uow, settings)
    assert len(outbox_rows(uow)) == count


def test_inverted_validity_is_refused_with_a_bilingual_message(uow, registry, settings):
    count = len(outbox_rows(uow))
    with refused(400, "validation_failed") as err:
        handlers.add_certification(ADMIN, "e1", {
            "product_line": "AnyShare", "certificate_no": "AS-1",
            "valid_from": iso(TODAY), "valid_until": iso(TODAY - DAY)}, uow, settings)
    [message] = err.value.details["fields"]["valid_until"]
    assert "valid_until >= valid_from" in message["en"]
    assert "截止日期不能早于起始日期" in message["zh"]
    assert len(outbox_rows(uow)) == count
    assert [c["certificate_no"] for c in handlers.list_certifications(
        ADMIN, "e1", uow, settings)] == ["AB-1"]


@pytest.mark.parametrize("payload, fields", [
    ({}, {"product_line", "certificate_no", "valid_from", "valid_until"}),
    ({"product_line": "Any Backup!", "certificate_no": " ", "valid_from": "2026-02-30",
      "valid_until": "tomorrow"}, {"product_line", "certificate_no", "valid_from",
                                   "valid_until"}),
    ({"product_line": "AnyBackup", "certificate_no": "x", "valid_from": "2026-01-01",
      "valid_until": "2026-12-31", "issuer": "?"}, {"issuer"}),
])
def test_bad_certification_input(uow, registry, settings, payload, fields):
    with refused(400) as err:
        handlers.add_certification(ADMIN, "e1", payload, uow, settings)
    assert set(err.value.details["fields"]) == fields


def test_certification_for_an_unknown_engineer_is_404(uow, registry, settings):
    with refused(404, "engineer_not_found") as err:
        handlers.add_certification(ADMIN, "ghost", {
            "product_line": "AnyShare", "certificate_no": "AS-1",
            "valid_from": iso(TODAY), "valid_until": iso(TODAY)}, uow, settings)
    assert "ghost" in err.value.message("en") and "工程师不存在" in err.value.message("zh")
    with refused(404):
        handlers.list_certifications(ADMIN, "ghost", uow, settings)


def test_list_certifications_with_status_and_who_may_read(uow, registry, settings):
    for no, start, end in [("OLD", TODAY - 400 * DAY, TODAY - DAY),
                           ("NEXT", TODAY + DAY, TODAY + 400 * DAY)]:
        handlers.add_certification(ADMIN, "e1", {
            "product_line": "AnyBackup", "certificate_no": no,
            "valid_from": iso(start), "valid_until": iso(end)}, uow, settings)
    listed = handlers.list_certifications(engineer_actor("e1"), "e1", uow, settings)
    assert [(c["certificate_no"], c["status"]) for c in listed] == \
        [("OLD", "expired"), ("AB-1", "valid"), ("NEXT", "not_yet_valid")]
    assert handlers.list_certifications(AGENT, "e1", uow, settings) == listed
    with refused(403):
        handlers.list_certifications(engineer_actor("e2"), "e1", uow, settings)


# ---- qualified_engineers -------------------------------------------------------------------

def qualified(actor, uow, settings, **query):
    return handlers.qualified_engineers(actor, query, uow, settings)


def test_qualified_engineers_shape_and_order(uow, registry, settings):
    out = qualified(AGENT, uow, settings, product_line="AnyBackup")
    assert (out["product_line"], out["at"]) == ("AnyBackup", iso(TODAY))
    # Li lists AnyBackup as a skill: first; then by name
    assert [e["id"] for e in out["items"]] == ["e2", "e3", "e1"]
    li = out["items"][0]
    assert li["skill_match"] == 1 and li["provider_id"] == "p1"
    assert li["certification"]["certificate_no"] == "AB-2"
    assert li["certification"]["status"] == "valid"
    ranked = qualified(AGENT, uow, settings, product_line="AnyBackup", skills=["oracle"])
    # wanting Oracle lifts Zhang past Wang; Li and Zhang tie on one match: by name
    assert [e["id"] for e in ranked["items"]] == ["e2", "e1", "e3"]
    assert [e["skill_match"] for e in ranked["items"]] == [1, 1, 0]


def test_qualified_engineers_excludes_leave_other_provider_inactive_and_expired(
        uow, registry, settings):
    def ids(**query):
        return [e["id"] for e in qualified(ADMIN, uow, settings, **query)["items"]]

    assert ids(product_line="AnyBackup", provider_id="p1") == ["e2", "e1"]
    assert ids(product_line="AnyShare") == ["e2"]
    handlers.set_availability(ADMIN, "e2", "on_leave", uow)
    assert ids(product_line="AnyBackup", provider_id="p1") == ["e1"]
    handlers.upsert_provider(ADMIN, {"id": "p2", "active": False}, uow)
    assert ids(product_line="AnyBackup") == ["e1"]
    assert ids(product_line="AnyBackup", at=iso(TODAY + 266 * DAY)) == []  # all expired
    assert ids(product_line="AnyBackup", at=iso(TODAY + 265 * DAY)) == ["e1"]  # last day
    assert ids(product_line="AnyRobot") == []


def test_qualified_at_a_moment_is_the_shanghai_day(uow, registry, settings):
    handlers.add_certification(ADMIN, "e3", {
        "product_line": "AnyShare", "certificate_no": "AS-3",
        "valid_from": iso(TODAY), "valid_until": iso(TODAY + DAY)}, uow, settings)
    # 2026-11-21T20:00Z is the 22nd in Shanghai: the first valid day
    out = qualified(ADMIN, uow, settings, product_line="AnyShare", at="2026-11-21T20:00:00Z")
    assert out["at"] == "2026-11-22" and "e3" in [e["id"] for e in out["items"]]
    out = qualified(ADMIN, uow, settings, product_line="AnyShare", at="2026-11-21T10:00:00Z")
    assert out["at"] == "2026-11-21" and "e3" not in [e["id"] for e in out["items"]]


def test_qualified_engineers_scope(uow, registry, settings):
    out = qualified(provider_admin("p2"), uow, settings, product_line="AnyBackup")
    assert [e["id"] for e in out["items"]] == ["e3"]
    for actor in (CUSTOMER, engineer_actor("e1")):
        with refused(403):
            qualified(actor, uow, settings, product_line="AnyBackup")
    with refused(400) as err:
        qualified(ADMIN, uow, settings)
    assert set(err.value.details["fields"]) == {"product_line"}
