"""The work lifecycle in intake's handlers on a real database: assignment events, start,
suspend with an automatic-resume timer, the closing report, confirmation, reopen, rating,
follow-ups. (The HTTP end-to-end flows are in tests/test_flows.py.)"""
import datetime as dt
import uuid
import zoneinfo

import pytest
from sqlalchemy import select

from gongdan_common.db import Database
from gongdan_common.errors import AppError
from gongdan_common.migrate import upgrade
from services.intake import attachments, catalog, feedback, lifecycle, projections, tickets
from services.intake.models import metadata

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
SETTINGS = {"number_prefix": "TS", "tz": TZ, "auto_confirm_hours": 72,
            "is_workday": lambda d: d.weekday() < 5}
ADMIN = {"id": "adm", "role": "admin", "name": "Admin"}
CUSTOMER = {"id": "u1", "role": "customer", "name": "张三", "company_id": "c1"}
ENGINEER = {"id": "e1", "role": "engineer", "name": "吴刚", "provider_id": "p1"}
OTHER_ENGINEER = {"id": "e2", "role": "engineer", "name": "郑洁", "provider_id": "p1"}
AGENT = {"id": "a1", "role": "agent", "name": "孙丽"}
NOW = dt.datetime.now(dt.timezone.utc)


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    upgrade("intake", url)
    database = Database(url, metadata)
    catalog.upsert_product(ADMIN, {"code": "P1", "name": "产品", "product_line": "line"},
                            database.unit_of_work())
    yield database
    database.dispose()


def new_ticket(db, **over):
    body = {"title": "设备故障", "type": "repair", "product": "P1", "category": "function",
            "description": "无法开机", "contact_phone": "13800138000", "impact": "company",
            "urgency": "high"}
    body.update(over)
    return tickets.create_ticket(CUSTOMER, body, db.unit_of_work(), SETTINGS)


def assignment(ticket, engineer=ENGINEER, kind="ticket_assigned", at=None):
    return {"event_id": str(uuid.uuid4()), "type": kind,
            "occurred_at": (at or dt.datetime.now(dt.timezone.utc)).isoformat(),
            "actor": AGENT, "ticket_id": ticket["id"],
            "data": {"assignment_id": str(uuid.uuid4()), "ticket_id": ticket["id"],
                     "engineer_id": engineer["id"], "engineer_name": engineer["name"],
                     "provider_id": "p1", "method": "manual", "open_load": 0}}


def timer(ticket, kind, payload):
    return {"event_id": str(uuid.uuid4()), "type": "timer_due", "ticket_id": ticket["id"],
            "data": {"owner": "intake", "kind": kind, "payload": payload, "key": "k"}}


def emitted(db, type_=None):
    t = metadata.tables["outbox"]
    with db.unit_of_work() as uow:
        rows = [r.payload for r in uow.session.execute(select(t.c.payload).order_by(t.c.id))]
    return [r for r in rows if type_ is None or r["type"] == type_]


def act(db, actor, ticket, action, **payload):
    return lifecycle.transition(actor, ticket["id"], action, payload, db.unit_of_work(), SETTINGS)


def attach(db, ticket, kind):
    return attachments.add_attachment(ENGINEER, ticket["id"], {
        "filename": f"{kind}.pdf", "content_type": "application/pdf", "size": 10,
        "sha256": "0" * 64, "bucket": "b", "object_key": f"k/{uuid.uuid4()}", "kind": kind},
        db.unit_of_work())


def test_assignment_event_moves_new_to_assigned_once(db):
    t = new_ticket(db)
    event = assignment(t)
    projections.apply_assignment(event, db.unit_of_work())
    projections.apply_assignment(event, db.unit_of_work())  # redelivered: no second effect
    detail = tickets.get_ticket(ENGINEER, t["id"], db.unit_of_work())
    assert detail["status"] == "assigned" and detail["handler_id"] == "e1"
    assert len(detail["assignments"]) == 1
    assert len(emitted(db, "ticket_status_changed")) == 1


def test_a_late_older_assignment_does_not_override_the_newer(db):
    t = new_ticket(db)
    newer = assignment(t, OTHER_ENGINEER)
    older = assignment(t, ENGINEER, at=NOW - dt.timedelta(minutes=5))
    projections.apply_assignment(newer, db.unit_of_work())
    projections.apply_assignment(older, db.unit_of_work())
    detail = tickets.get_ticket(AGENT, t["id"], db.unit_of_work())
    assert detail["handler_id"] == "e2" and len(detail["assignments"]) == 2


def test_only_the_handler_starts_and_suspend_requests_a_timer(db):
    t = new_ticket(db)
    projections.apply_assignment(assignment(t), db.unit_of_work())
    with pytest.raises(AppError) as err:
        act(db, OTHER_ENGINEER, t, "start")
    assert err.value.status == 404  # not even visible to another engineer
    assert act(db, ENGINEER, t, "start")["status"] == "in_progress"
    with pytest.raises(AppError) as err:
        act(db, ENGINEER, t, "suspend", reason="等备件", planned_end=(NOW - dt.timedelta(
            hours=1)).isoformat())
    assert err.value.code == "planned_end_in_past"
    end = NOW + dt.timedelta(hours=2)
    out = act(db, ENGINEER, t, "suspend", reason="等备件", planned_end=end.isoformat())
    assert out["status"] == "suspended"
    (request,) = emitted(db, "timer_requested")
    assert request["data"]["kind"] == "auto_resume" and request["data"]["owner"] == "intake"
    assert request["data"]["due_at"].startswith(end.isoformat()[:19])
    # the timer fires: the ticket resumes by itself, once
    due = timer(t, "auto_resume", request["data"]["payload"])
    projections.timer_due(due, db.unit_of_work(), SETTINGS)
    projections.timer_due(due, db.unit_of_work(), SETTINGS)
    detail = tickets.get_ticket(ENGINEER, t["id"], db.unit_of_work())
    assert detail["status"] == "in_progress"
    assert detail["suspensions"][0]["resumed_by"] == "timer"
    resumed = emitted(db, "ticket_resumed")
    assert len(resumed) == 1 and resumed[0]["data"]["automatic"] is True


def test_a_stale_resume_timer_is_ignored(db):
    t = new_ticket(db)
    projections.apply_assignment(assignment(t), db.unit_of_work())
    act(db, ENGINEER, t, "start")
    act(db, ENGINEER, t, "suspend", reason="r", planned_end=(NOW + dt.timedelta(hours=1)).isoformat())
    first = emitted(db, "timer_requested")[0]["data"]["payload"]
    act(db, ENGINEER, t, "resume")
    assert emitted(db, "timer_cancelled")[0]["data"]["key"].endswith(first["suspension_id"])
    act(db, ENGINEER, t, "suspend", reason="r2", planned_end=(NOW + dt.timedelta(hours=3)).isoformat())
    projections.timer_due(timer(t, "auto_resume", first), db.unit_of_work(), SETTINGS)
    assert tickets.get_ticket(ENGINEER, t["id"], db.unit_of_work())["status"] == "suspended"


def test_resolve_needs_the_reports_the_type_demands(db):
    t = new_ticket(db, type="inspection")
    projections.apply_assignment(assignment(t), db.unit_of_work())
    act(db, ENGINEER, t, "start")
    report = {"root_cause": "hardware_failure", "description": "更换电源",
              "completed_at": NOW.isoformat(), "visited_at": (NOW - dt.timedelta(hours=2)).isoformat()}
    with pytest.raises(AppError) as err:
        act(db, ENGINEER, t, "resolve", **report)
    assert err.value.code == "reports_missing"
    assert err.value.details["missing"] == ["onsite_report", "inspection_report"]
    attach(db, t, "onsite_report")
    with pytest.raises(AppError) as err:
        act(db, ENGINEER, t, "resolve", **report)
    assert err.value.details["missing"] == ["inspection_report"]
    attach(db, t, "inspection_report")
    with pytest.raises(AppError) as err:
        act(db, ENGINEER, t, "resolve", **dict(report, visited_at=None))
    assert err.value.code == "visit_time_required"
    with pytest.raises(AppError) as err:
        act(db, ENGINEER, t, "resolve", **dict(report, root_cause="bad_luck"))
    assert err.value.code == "root_cause_unknown"
    out = act(db, ENGINEER, t, "resolve", **report)
    assert out["status"] == "resolved" and out["resolution_round"] == 1
    assert [e["data"]["kind"] for e in emitted(db, "timer_requested")] == ["auto_confirm"]


def test_suspended_ticket_cannot_be_resolved(db):
    t = new_ticket(db, type="consult")
    projections.apply_assignment(assignment(t), db.unit_of_work())
    act(db, ENGINEER, t, "start")
    act(db, ENGINEER, t, "suspend", reason="r", planned_end=(NOW + dt.timedelta(hours=1)).isoformat())
    with pytest.raises(AppError) as err:
        act(db, ENGINEER, t, "resolve", root_cause="other", description="d",
            completed_at=NOW.isoformat())
    assert err.value.code == "illegal_transition"


def resolved_support_ticket(db, priority_fields=None):
    t = new_ticket(db, type="defect", **(priority_fields or {}))
    projections.apply_assignment(assignment(t), db.unit_of_work())
    act(db, ENGINEER, t, "start")
    act(db, ENGINEER, t, "resolve", root_cause="software_defect", description="补丁",
        completed_at=NOW.isoformat())
    return t


def test_not_resolved_reopens_then_confirm_closes_with_follow_up_and_one_rating(db):
    t = resolved_support_ticket(db)  # company x high = P1
    with pytest.raises(AppError):
        act(db, CUSTOMER, t, "reopen")  # a reason is required
    out = act(db, CUSTOMER, t, "reopen", reason="仍然报错")
    assert out["status"] == "in_progress" and out["reopen_count"] == 1
    act(db, ENGINEER, t, "resolve", root_cause="software_defect", description="第二次修复",
        completed_at=NOW.isoformat())
    out = act(db, CUSTOMER, t, "confirm")
    assert out["status"] == "closed"
    (follow,) = emitted(db, "follow_up_created")
    due = dt.datetime.fromisoformat(follow["data"]["due_at"].replace("Z", "+00:00"))
    assert 3 <= (due.astimezone(TZ).date() - NOW.astimezone(TZ).date()).days <= 5
    rating = {"product_score": 4, "service_score": 5, "comment": "很及时"}
    assert feedback.rate(CUSTOMER, t["id"], rating, db.unit_of_work())["round"] == 2
    with pytest.raises(AppError) as err:
        feedback.rate(CUSTOMER, t["id"], rating, db.unit_of_work())
    assert err.value.code == "already_rated"
    with pytest.raises(AppError) as err:
        feedback.rate(CUSTOMER, t["id"], dict(rating, product_score=6), db.unit_of_work())
    assert err.value.status == 400
    follow_ups = feedback.list_follow_ups(AGENT, {"status": "open"}, db.unit_of_work())
    assert follow_ups["total"] == 1
    with pytest.raises(AppError):
        feedback.list_follow_ups(CUSTOMER, {}, db.unit_of_work())
    done = feedback.complete_follow_up(AGENT, follow["data"]["follow_up_id"],
                                       {"note": "电话回访，客户满意"}, db.unit_of_work())
    assert done["status"] == "done"
    timeline = tickets.get_ticket(CUSTOMER, t["id"], db.unit_of_work())["timeline"]
    kinds = [i["kind"] for i in timeline]
    assert kinds.index("assigned") < kinds.index("closing_report") < kinds.index("rating")
    assert [i["at"] for i in timeline] == sorted(i["at"] for i in timeline)


def test_an_overdue_follow_up_notice_renders_whole(db):
    """Issue 17: the shipped follow_up_due message, rendered against intake's real event."""
    from tests.support.templates import render_for
    t = resolved_support_ticket(db)  # P1: a follow-up after closing
    act(db, CUSTOMER, t, "confirm")
    (follow,) = emitted(db, "follow_up_created")
    due_timer = timer(t, "follow_up_due", {"follow_up_id": follow["data"]["follow_up_id"]})
    projections.timer_due(due_timer, db.unit_of_work(), SETTINGS)
    (due,) = emitted(db, "follow_up_due")
    assert render_for(due) == {"follow_up_due"}


def test_nobody_confirms_so_it_closes_by_itself(db):
    t = resolved_support_ticket(db, {"impact": "individual", "urgency": "low"})  # P4
    projections.timer_due(timer(t, "auto_confirm", {"round": 1}), db.unit_of_work(), SETTINGS)
    detail = tickets.get_ticket(CUSTOMER, t["id"], db.unit_of_work())
    assert detail["status"] == "closed" and detail["follow_ups"] == []  # P4: no follow-up
    closed = emitted(db, "ticket_closed")
    assert closed[0]["data"]["automatic"] is True


def test_customer_cannot_act_as_engineer(db):
    t = new_ticket(db)
    projections.apply_assignment(assignment(t), db.unit_of_work())
    with pytest.raises(AppError) as err:
        act(db, CUSTOMER, t, "start")
    assert err.value.status == 403
    with pytest.raises(AppError) as err:
        attachments.add_attachment(CUSTOMER, t["id"], {
            "filename": "r.pdf", "content_type": "application/pdf", "size": 1,
            "sha256": "0" * 64, "bucket": "b", "object_key": "k/x", "kind": "onsite_report"},
            db.unit_of_work())
    assert err.value.code == "report_kind_forbidden"
