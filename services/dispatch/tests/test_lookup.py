"""The qualified-engineer lookup ranks and limits in one SQL statement
(models.qualified_candidates) over columns kept on the engineer (open_load,
last_assigned_at, skill_keys) and a normalised line key. These tests hold it to the pure
rules in `domain` on a random registry (SQLite and PostgreSQL), and the kept columns to a
count from the assignments after every kind of change."""
import datetime as dt
import random

from sqlalchemy import insert, select

from services.dispatch import assigning, domain, handlers, schemas
from services.dispatch.models import (Assignment, Certification, CurrentAssignment, Engineer,
                                      Provider, TicketProjection, last_assigned, open_loads,
                                      refresh_engineers)

from .conftest import AGENT, NOW, TODAY, provider_admin
from .test_assignment import assign, moved, new_ticket, reassign, registry  # noqa: F401

DAY = dt.timedelta(days=1)
LINES = ["AnyBackup", "anyshare", "Any_Robot"]
SKILLS = ["anybackup", "AnyShare", "Any_Robot", "AnyXRobot", "Oracle", "oracle ", "50%",
          "数据库", "AB-7"]
NAMES = ["alice", "Bob", "bob", "Émile", "张三", "zed", "Zed", "李四", "ada"]


def _random_registry(uow, rng):
    """Providers (one inactive), engineers with names that tie and differ only in case,
    skills with LIKE wildcards, several certifications per engineer in mixed case with
    expired / valid / future periods, held tickets in every status (some never projected)
    and an assignment history with ties on the latest time."""
    now = NOW
    providers = [{"id": f"p{i}", "name": f"P{i}", "regions": [], "product_lines": LINES,
                  "active": i != 3, "created_at": now, "updated_at": now} for i in range(4)]
    engineers, certs, tickets, current, history = [], [], [], [], []
    for i in range(200):
        engineers.append({"id": f"e{i:03d}", "provider_id": f"p{rng.randrange(4)}",
                          "name": rng.choice(NAMES), "skills": rng.sample(SKILLS,
                                                                          rng.randrange(4)),
                          "availability": "on_leave" if rng.random() < 0.15 else "on_duty",
                          "created_at": now, "updated_at": now})
        for n in range(rng.randrange(4)):
            line = rng.choice(LINES)
            start = TODAY + rng.randrange(-500, 30) * DAY
            end = start + rng.choice([0, 30, 365, 700, 700]) * DAY
            certs.append({"id": f"c{i:03d}-{n}", "engineer_id": f"e{i:03d}",
                          "product_line": rng.choice([line, line.upper(), line.lower()]),
                          "certificate_no": f"N{i}-{n}", "certificate_name": None,
                          "valid_from": start, "valid_until": end, "created_at": now})
    stamps = [now - rng.choice([1, 2, 3]) * dt.timedelta(hours=1) for _ in range(5)]
    for n in range(300):
        engineer = rng.choice(engineers)["id"]
        tid = f"t{n:03d}"
        status = rng.choice(["new", "assigned", "in_progress", "resolved", "closed",
                             "cancelled", None])
        if status is not None:
            tickets.append({"id": tid, "number": f"TS{n}", "type": "repair", "title": "x",
                            "product": "AB", "product_line": "AnyBackup", "category": "backup",
                            "priority": "P3", "status": status, "submitter_id": "u",
                            "version": 1, "created_at": now, "updated_at": now,
                            "projected_at": now})
        history.append({"id": f"a{n:03d}", "ticket_id": tid, "seq": 1, "kind": "assigned",
                        "engineer_id": engineer, "engineer_name": "x", "provider_id": "p0",
                        "provider_name": "P0", "method": "manual", "certification_id": "c",
                        "certificate_no": "N", "certificate_valid_until": TODAY,
                        "open_load": 0, "created_at": rng.choice(stamps)})
        current.append({"ticket_id": tid, "assignment_id": f"a{n:03d}",
                        "engineer_id": engineer, "provider_id": "p0", "version": 1,
                        "updated_at": now})
    with uow:
        for model, rows in ((Provider, providers), (Engineer, engineers),
                            (Certification, certs), (TicketProjection, tickets),
                            (Assignment, history), (CurrentAssignment, current)):
            uow.session.execute(insert(model), rows)
        refresh_engineers(uow.session, None, domain.DONE_STATUSES)
        uow.commit()


def _reference(uow, line, day, provider_id=None, skills=()):
    """The ranking as the pure rules define it, from the ORM rows and counted loads."""
    with uow:
        engineers = uow.session.scalars(select(Engineer).join(
            Provider, Provider.id == Engineer.provider_id).where(Provider.active)).all()
        certs = uow.session.scalars(select(Certification)).all()
        ids = [e.id for e in engineers]
        loads = open_loads(uow.session, ids, domain.DONE_STATUSES)
        last = last_assigned(uow.session, ids)
        ranked = domain.qualified(engineers, certs, line, day, provider_id, skills,
                                  key=domain.by_suitability(loads, last))
        return [(c.engineer.id, c.skill_match, loads.get(c.engineer.id, 0),
                 schemas.utc_iso(last.get(c.engineer.id)),
                 (c.certification.valid_until.isoformat(),
                  c.certification.valid_from.isoformat())) for c in ranked]


def _answer(uow, settings, line, day, **query):
    out = handlers.qualified_engineers(AGENT, dict(query, product_line=line,
                                                   at=day.isoformat()), uow, settings)
    return out["total"], [(i["id"], i["skill_match"], i["open_load"], i["last_assigned_at"],
                           (i["certification"]["valid_until"],
                            i["certification"]["valid_from"])) for i in out["items"]]


def test_sql_ranking_matches_the_domain_rules_on_a_random_registry(uow, settings):
    _random_registry(uow, random.Random(20261122))
    checked = 0
    for line in LINES + ["ANYBACKUP", "nothing"]:
        for day in (TODAY, TODAY - 200 * DAY, TODAY + 20 * DAY):
            for skills in ((), ("oracle",), ("AnyShare", "数据库", "50%"), ("Any%Robot",)):
                expected = _reference(uow, line, day, skills=skills)
                total, items = _answer(uow, settings, line, day, skills=list(skills),
                                       limit=500)
                assert (total, items) == (len(expected), expected), (line, day, skills)
                # the limit cuts the same ranking; total still counts everyone
                assert _answer(uow, settings, line, day, skills=list(skills), limit=3) == \
                    (len(expected), expected[:3])
                checked += bool(expected)
    assert checked >= 20  # the data must actually exercise the ranking
    for provider_id in ("p0", "p1"):
        expected = _reference(uow, "AnyBackup", TODAY, provider_id=provider_id)
        out = handlers.qualified_engineers(provider_admin(provider_id),
                                           {"product_line": "AnyBackup", "limit": 500},
                                           uow, settings)
        assert [i["id"] for i in out["items"]] == [e[0] for e in expected]
    # the default limit is 20
    default = handlers.qualified_engineers(AGENT, {"product_line": "AnyBackup",
                                                   "at": TODAY.isoformat()}, uow, settings)
    assert len(default["items"]) == min(20, default["total"]) and default["total"] > 20


def test_items_are_what_the_schemas_would_dump(uow, registry, settings):  # noqa: F811
    out = handlers.qualified_engineers(AGENT, {"product_line": "anybackup"}, uow, settings)
    with uow:
        for item in out["items"]:
            engineer = uow.session.get(Engineer, item["id"])
            cert = uow.session.get(Certification, item["certification"]["id"])
            dumped = schemas.EngineerSchema().dump(engineer)
            assert {k: item[k] for k in dumped} == dumped
            assert item["certification"] == dict(schemas.CertificationSchema().dump(cert),
                                                  status="valid")


def _kept_equals_counted(uow):
    with uow:
        engineers = uow.session.scalars(select(Engineer)).all()
        counted = open_loads(uow.session, [e.id for e in engineers], domain.DONE_STATUSES)
        last = last_assigned(uow.session, [e.id for e in engineers])
        kept = {e.id: (e.open_load, schemas.utc_iso(e.last_assigned_at)) for e in engineers}
    assert kept == {e: (counted.get(e, 0), schemas.utc_iso(last.get(e))) for e in kept}
    return {e: load for e, (load, _) in kept.items()}


def test_kept_open_load_and_last_assignment_follow_every_change(uow, registry, settings):  # noqa: F811,E501
    assert set(_kept_equals_counted(uow).values()) == {0}
    first = new_ticket(uow, settings)
    assign(AGENT, first, "e1", uow, settings)
    second = new_ticket(uow, settings)
    assign(AGENT, second, "e1", uow, settings)
    assert _kept_equals_counted(uow)["e1"] == 2
    first = moved(uow, settings, first, "in_progress")
    reassign(AGENT, first, "e2", uow, settings, reason="换人")
    assert (_kept_equals_counted(uow)["e1"], _kept_equals_counted(uow)["e2"]) == (1, 1)
    assigning.unassign(AGENT, second["id"], {"reason": "暂不处理"}, uow, settings)
    assert _kept_equals_counted(uow)["e1"] == 0
    first = moved(uow, settings, first, "resolved")          # done: off the load
    assert _kept_equals_counted(uow)["e2"] == 0
    first = moved(uow, settings, first, "in_progress")       # not resolved: back on it
    assert _kept_equals_counted(uow)["e2"] == 1
    installation = new_ticket(uow, settings, type="installation")  # automatic dispatch
    loads = _kept_equals_counted(uow)
    assert sum(loads.values()) == 2
    moved(uow, settings, installation, "cancelled")
    assert sum(_kept_equals_counted(uow).values()) == 1
