"""The chart and satisfaction aggregates (services/intake/reports.py) on a real database,
SQLite and PostgreSQL: periods in the desk's zone, scoping by role, bad parameters."""
import datetime as dt
import uuid
import zoneinfo

import pytest

from gongdan_common.db import Database
from gongdan_common.errors import AppError
from services.intake import reports
from services.intake.models import Rating, Ticket, metadata

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
SETTINGS = {"tz": TZ}
AGENT = {"id": "ag", "role": "agent"}
UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 6, 4, 0, tzinfo=UTC)


def _ticket(session, created, status="new", priority="P3", company="c1", provider=None,
            handler=None, handler_name=None, resolved=None, line="line-a"):
    tid = str(uuid.uuid4())
    session.add(Ticket(
        id=tid, number="TS" + tid[:10], type="defect", title="t", product="P", product_line=line,
        category="function", description="d", impact="department", urgency="high",
        priority=priority, contact_phone="1", status=status, submitter_id="s1",
        company_id=company, provider_id=provider, handler_id=handler, handler_name=handler_name,
        created_at=created, updated_at=created, resolved_at=resolved, resolution_round=1))
    return tid


@pytest.fixture
def db(service_database):
    database = Database(service_database("intake", migrated=True), metadata)
    with database.unit_of_work() as uow:
        s = uow.session
        # 2026-12-04 23:30 UTC is 12-05 07:30 in Shanghai: counts on the 5th
        a = _ticket(s, dt.datetime(2026, 12, 4, 23, 30, tzinfo=UTC), status="resolved",
                    provider="pv1", handler="e1", handler_name="王工",
                    resolved=dt.datetime(2026, 12, 5, 8, tzinfo=UTC))
        b = _ticket(s, dt.datetime(2026, 12, 5, 3, tzinfo=UTC), status="closed", priority="P1",
                    provider="pv2", handler="e2", handler_name="李工", company="c2",
                    resolved=dt.datetime(2026, 12, 5, 9, tzinfo=UTC), line="line-b")
        _ticket(s, dt.datetime(2026, 12, 5, 17, tzinfo=UTC), status="in_progress",
                priority="P2", provider="pv1", handler="e1", handler_name="王工")
        _ticket(s, dt.datetime(2026, 12, 3, 1, tzinfo=UTC), status="assigned", priority="P2",
                provider="pv1", handler="e1", handler_name="王工")
        uow.flush()
        for tid, product, service, at in ((a, 5, 1, dt.datetime(2026, 12, 5, 10, tzinfo=UTC)),
                                          (b, 4, 2, dt.datetime(2026, 12, 5, 17, tzinfo=UTC))):
            s.add(Rating(ticket_id=tid, round=1, product_score=product, service_score=service,
                         rater_id="s1", rater_role="customer", created_at=at))
        uow.commit()
    yield database
    database.dispose()


def test_volume_by_day_in_the_desk_zone(db):
    out = reports.volume(AGENT, {"from": "2026-12-03", "to": "2026-12-06"},
                         db.unit_of_work(), SETTINGS, NOW)
    by = {r["period"]: r for r in out["rows"]}
    assert list(by) == ["2026-12-03", "2026-12-04", "2026-12-05", "2026-12-06"]
    assert by["2026-12-03"]["created"] == 1 and by["2026-12-04"]["created"] == 0
    # 12-05 07:30 and 11:00 local; 12-06 01:00 local
    assert by["2026-12-05"] == {"period": "2026-12-05", "created": 2, "resolved": 2}
    assert by["2026-12-06"]["created"] == 1
    assert out["totals"] == {"created": 4, "resolved": 2}
    week = reports.volume(AGENT, {"from": "2026-12-03", "to": "2026-12-06",
                                  "granularity": "week"}, db.unit_of_work(), SETTINGS, NOW)
    assert [r["period"] for r in week["rows"]] == ["2026-W49"]
    assert week["rows"][0]["created"] == 4


def test_backlog_status_by_priority_and_scope(db):
    out = reports.backlog(AGENT, {}, db.unit_of_work())
    cell = {(r["status"], r["priority"]): r["count"] for r in out["rows"]}
    assert cell[("resolved", "P3")] == 1 and cell[("in_progress", "P2")] == 1
    assert cell[("assigned", "P2")] == 1 and out["total"] == 3  # closed is not backlog
    customer_admin = {"id": "x", "role": "customer_admin", "company_id": "c2"}
    assert reports.backlog(customer_admin, {}, db.unit_of_work())["total"] == 0
    provider = {"id": "y", "role": "provider_admin", "provider_id": "pv1"}
    assert reports.backlog(provider, {}, db.unit_of_work())["total"] == 3


def test_satisfaction_averages_distributions_and_groups(db):
    q = {"from": "2026-12-01", "to": "2026-12-06"}
    out = reports.satisfaction(AGENT, dict(q, group_by="engineer"), db.unit_of_work(),
                               SETTINGS, NOW)
    rows = {r["group"]: r for r in out["rows"]}
    assert rows["e1"]["name"] == "王工" and rows["e1"]["service_distribution"] == [1, 0, 0, 0, 0]
    assert out["totals"]["ratings"] == 2
    assert out["totals"]["product_average"] == 4.5 and out["totals"]["service_average"] == 1.5
    by_period = reports.satisfaction(AGENT, q, db.unit_of_work(), SETTINGS, NOW)
    day = {r["group"]: r for r in by_period["rows"]}
    # 12-05 18:00 local and 12-06 01:00 local
    assert day["2026-12-05"]["ratings"] == 1 and day["2026-12-06"]["ratings"] == 1
    assert day["2026-12-04"]["ratings"] == 0 and day["2026-12-04"]["product_average"] is None
    lines = reports.satisfaction(AGENT, dict(q, group_by="product_line"), db.unit_of_work(),
                                 SETTINGS, NOW)
    assert {r["group"] for r in lines["rows"]} == {"line-a", "line-b"}
    provider = {"id": "y", "role": "provider_admin", "provider_id": "pv2"}
    mine = reports.satisfaction(provider, dict(q, group_by="provider"), db.unit_of_work(),
                                SETTINGS, NOW)
    assert [r["group"] for r in mine["rows"]] == ["pv2"]


def test_workload_counts_open_work_per_engineer(db):
    out = reports.workload(AGENT, db.unit_of_work())
    assert [(r["engineer_id"], r["open"]) for r in out["rows"]] == [("e1", 2)]
    engineer = {"id": "e2", "role": "engineer"}
    assert reports.workload(engineer, db.unit_of_work())["rows"] == []


@pytest.mark.parametrize("query", [
    {"granularity": "hour"}, {"from": "2026-13-01"}, {"group_by": "company"},
    {"from": "2026-12-06", "to": "2026-12-01"}, {"from": "2000-01-01", "to": "2026-01-01"},
    {"colour": "red"}])
def test_bad_parameters_are_refused(db, query):
    with pytest.raises(AppError) as err:
        reports.satisfaction(AGENT, query, db.unit_of_work(), SETTINGS, NOW)
    assert err.value.status == 400


def test_a_customer_reads_no_reports(db):
    with pytest.raises(AppError) as err:
        reports.volume({"id": "s1", "role": "customer"}, {}, db.unit_of_work(), SETTINGS, NOW)
    assert err.value.status == 403
