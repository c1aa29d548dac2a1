"""Leftover items (遗留问题) in intake's handlers on a real database (SQLite and PostgreSQL):
filed with a close, refused atomically, progress, done / cancelled, who sees and does what,
and the overdue sweep (once per round, across two instances). Rules are tested pure too."""
import datetime as dt
import uuid
import zoneinfo

import eventlet
import pytest
from sqlalchemy import func, select, update

from gongdan_common.db import Database
from gongdan_common.errors import AppError
from services.intake import (catalog, leftover_rules as rules, leftovers, lifecycle,
                             projections, tickets)
from services.intake.models import LeftoverItem, LeftoverUpdate, Ticket, metadata

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
SETTINGS = {"number_prefix": "TS", "tz": TZ, "auto_confirm_hours": 72,
            "is_workday": lambda d: d.weekday() < 5, "leftover_remind_days": 3}
ADMIN = {"id": "adm", "role": "admin", "name": "Admin"}
CUSTOMER = {"id": "u1", "role": "customer", "name": "张三", "company_id": "c1"}
STRANGER = {"id": "u9", "role": "customer_admin", "name": "外人", "company_id": "c9"}
ENGINEER = {"id": "e1", "role": "engineer", "name": "吴刚", "provider_id": "p1"}
OWNER = {"id": "e2", "role": "engineer", "name": "郑洁", "provider_id": "p1"}
AGENT = {"id": "a1", "role": "agent", "name": "孙丽"}
TODAY = dt.datetime.now(TZ).date()


@pytest.fixture
def db(service_database):
    database = Database(service_database("intake", migrated=True), metadata)
    catalog.upsert_product(ADMIN, {"code": "P1", "name": "产品", "product_line": "line"},
                           database.unit_of_work())
    yield database
    database.dispose()


def item(**over):
    out = {"description": "报表导出仍慢 / export still slow", "plan": "8.0.3 版本修复",
           "owner_id": OWNER["id"], "owner_name": OWNER["name"], "owner_role": "engineer",
           "owner_status": "active", "owner_provider_id": "p1",
           "due_date": (TODAY + dt.timedelta(days=7)).isoformat()}
    out.update(over)
    return out


def working_ticket(db):
    t = tickets.create_ticket(CUSTOMER, {
        "title": "导出失败", "type": "defect", "product": "P1", "category": "function",
        "description": "导出报表时报错", "contact_phone": "13800138000"}, db.unit_of_work(), SETTINGS)
    projections.apply_assignment({
        "event_id": str(uuid.uuid4()), "type": "ticket_assigned", "ticket_id": t["id"],
        "occurred_at": dt.datetime.now(dt.timezone.utc).isoformat(), "actor": AGENT,
        "data": {"assignment_id": str(uuid.uuid4()), "ticket_id": t["id"],
                 "engineer_id": "e1", "engineer_name": "吴刚", "provider_id": "p1",
                 "method": "manual", "open_load": 0}}, db.unit_of_work())
    lifecycle.transition(ENGINEER, t["id"], "start", {}, db.unit_of_work(), SETTINGS)
    return t


def resolve(db, t, items):
    return lifecycle.transition(ENGINEER, t["id"], "resolve", {
        "root_cause": "configuration", "description": "调整配置",
        "completed_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "leftover_items": items}, db.unit_of_work(), SETTINGS)


def count(db, model, **where):
    with db.unit_of_work() as uow:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return uow.session.scalar(stmt)


def events(db, type_):
    t = metadata.tables["outbox"]
    with db.unit_of_work() as uow:
        return [r.payload for r in uow.session.execute(select(t.c.payload).order_by(t.c.id))
                if r.payload["type"] == type_]


def test_resolve_files_items_and_the_customer_sees_them_without_internal_notes(db):
    t = working_ticket(db)
    assert resolve(db, t, [item(), item(description="第二项")])["status"] == "resolved"
    added = events(db, "leftover_item_added")
    assert [e["data"]["item"]["seq"] for e in added] == [1, 2]
    assert added[0]["data"]["ticket"]["status"] == "resolved"
    first = tickets.get_ticket(CUSTOMER, t["id"], db.unit_of_work())["leftover_items"][0]
    leftovers.update_item(OWNER, first["id"], {"note": "已复现 reproduced", "percent": 30},
                          db.unit_of_work(), SETTINGS)
    leftovers.update_item(ENGINEER, first["id"], {"note": "内部：等研发排期", "internal": True},
                          db.unit_of_work(), SETTINGS)
    seen = leftovers.get_item(CUSTOMER, first["id"], db.unit_of_work(), SETTINGS)
    assert seen["percent"] == 30 and seen["status"] == "open"
    assert [u["note"] for u in seen["updates"]] == [None, "已复现 reproduced"]
    staff = leftovers.get_item(AGENT, first["id"], db.unit_of_work(), SETTINGS)
    assert staff["updates"][-1]["internal"] is True
    assert [e["data"]["internal"] for e in events(db, "leftover_item_updated")] == [False, True]


@pytest.mark.parametrize("bad, code", [
    ({"due_date": (TODAY - dt.timedelta(days=1)).isoformat()}, "due_date_in_past"),
    ({"due_date": "2026-13-45"}, "validation_failed"),
    ({"plan": "  "}, "validation_failed"),
    ({"owner_id": None}, "validation_failed"),
    ({"owner_provider_id": "p2"}, "validation_failed"),      # another provider's engineer
    ({"owner_role": "customer"}, "validation_failed"),
    ({"owner_status": None}, "validation_failed"),           # no such account
])
def test_a_bad_item_refuses_the_whole_close_and_nothing_is_written(db, bad, code):
    t = working_ticket(db)
    with pytest.raises(AppError) as err:
        resolve(db, t, [item(), item(**bad)])
    assert err.value.code == code and 400 <= err.value.status < 500
    assert tickets.get_ticket(AGENT, t["id"], db.unit_of_work())["status"] == "in_progress"
    assert count(db, LeftoverItem) == 0 and events(db, "ticket_resolved") == []
    with pytest.raises(AppError) as err:
        resolve(db, t, [item()] * 21)
    assert err.value.code == "validation_failed"


def test_items_added_later_by_staff_only_and_only_once_resolved(db):
    t = working_ticket(db)
    with pytest.raises(AppError) as err:
        leftovers.add_items(AGENT, t["id"], {"items": [item()]}, db.unit_of_work(), SETTINGS)
    assert err.value.code == "ticket_not_closed"
    resolve(db, t, [])
    lifecycle.transition(AGENT, t["id"], "close", {"leftover_items": [item()]},
                         db.unit_of_work(), SETTINGS)
    with pytest.raises(AppError) as err:
        leftovers.add_items(CUSTOMER, t["id"], {"items": [item()]}, db.unit_of_work(), SETTINGS)
    assert err.value.status == 403
    out = leftovers.add_items(AGENT, t["number"], {"items": [item()]}, db.unit_of_work(),
                              SETTINGS)
    assert out["items"][0]["seq"] == 2
    with pytest.raises(AppError) as err:
        leftovers.add_items(AGENT, t["id"], {"items": [item()] * 19}, db.unit_of_work(),
                            SETTINGS)
    assert err.value.code == "too_many_leftover_items" and count(db, LeftoverItem) == 2


def test_done_and_cancel_are_final_and_need_a_reason_to_cancel(db):
    t = working_ticket(db)
    resolve(db, t, [item(), item()])
    one, two = (i["id"] for i in tickets.get_ticket(AGENT, t["id"], db.unit_of_work())
                ["leftover_items"])
    with pytest.raises(AppError) as err:
        leftovers.update_item(CUSTOMER, one, {"note": "x"}, db.unit_of_work(), SETTINGS)
    assert err.value.status == 403
    with pytest.raises(AppError) as err:
        leftovers.update_item(OWNER, one, {}, db.unit_of_work(), SETTINGS)
    assert err.value.code == "nothing_to_update"
    done = leftovers.finish_item(OWNER, one, "done", {"note": "已发布补丁"}, db.unit_of_work(),
                                 SETTINGS)
    assert done["status"] == "done" and done["percent"] == 100
    with pytest.raises(AppError) as err:
        leftovers.update_item(OWNER, one, {"percent": 50}, db.unit_of_work(), SETTINGS)
    assert err.value.code == "leftover_item_final" and "已解决" in err.value.message("zh")
    with pytest.raises(AppError) as err:
        leftovers.finish_item(AGENT, two, "cancelled", {}, db.unit_of_work(), SETTINGS)
    assert err.value.code == "reason_required"
    leftovers.finish_item(AGENT, two, "cancelled", {"note": "客户不再需要"}, db.unit_of_work(),
                          SETTINGS)
    assert len(events(db, "leftover_item_done")) == 1
    assert len(events(db, "leftover_item_cancelled")) == 1


def test_list_is_scoped_like_the_ticket_list(db):
    t = working_ticket(db)
    resolve(db, t, [item(), item(owner_id=AGENT["id"], owner_role="agent",
                                 owner_provider_id=None)])
    assert leftovers.list_items(CUSTOMER, {}, db.unit_of_work(), SETTINGS)["total"] == 2
    assert leftovers.list_items(STRANGER, {}, db.unit_of_work(), SETTINGS)["total"] == 0
    mine = leftovers.list_items(OWNER, {"owner": "me"}, db.unit_of_work(), SETTINGS)
    assert mine["total"] == 1 and mine["items"][0]["ticket_number"] == t["number"]
    item_id = mine["items"][0]["id"]
    with pytest.raises(AppError) as err:
        leftovers.get_item(STRANGER, item_id, db.unit_of_work(), SETTINGS)
    assert err.value.status == 404
    assert leftovers.list_items(AGENT, {"company_id": "c9"}, db.unit_of_work(),
                                SETTINGS)["total"] == 0
    assert leftovers.list_items(AGENT, {"overdue": True}, db.unit_of_work(),
                                SETTINGS)["total"] == 0


def _make_overdue(db, days=2):
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    with db.unit_of_work() as uow:
        uow.session.execute(update(LeftoverItem).values(
            due_date=(past.astimezone(TZ) - dt.timedelta(days=1)).date(), due_at=past,
            remind_at=past))
        uow.commit()


def test_overdue_reminder_once_per_round_across_sweeps_and_two_instances(db):
    t = working_ticket(db)
    resolve(db, t, [item(), item()])
    assert leftovers.sweep_overdue(db.unit_of_work(), SETTINGS) == 0
    _make_overdue(db)
    other = Database(db.url, metadata)  # a second intake instance: its own engine and pool
    try:
        pool = eventlet.GreenPool(4)
        runs = [pool.spawn(leftovers.sweep_overdue, d.unit_of_work(), SETTINGS)
                for d in (db, other, db, other)]
        assert sum(r.wait() for r in runs) == 2
    finally:
        other.dispose()
    assert leftovers.sweep_overdue(db.unit_of_work(), SETTINGS) == 0
    overdue = events(db, "leftover_item_overdue")
    assert len(overdue) == 2 and {e["data"]["reminder"] for e in overdue} == {1}
    assert overdue[0]["data"]["days_overdue"] >= 2
    listed = leftovers.list_items(AGENT, {"overdue": True}, db.unit_of_work(), SETTINGS)
    assert listed["total"] == 2 and listed["items"][0]["overdue"] is True
    # three days on, still open: reminded again, once
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3, minutes=1)
    assert leftovers.sweep_overdue(db.unit_of_work(), SETTINGS, now=later) == 2
    assert leftovers.sweep_overdue(db.unit_of_work(), SETTINGS, now=later) == 0
    # done: never again
    leftovers.finish_item(OWNER, listed["items"][0]["id"], "done", {}, db.unit_of_work(),
                          SETTINGS)
    much_later = later + dt.timedelta(days=30)
    assert leftovers.sweep_overdue(db.unit_of_work(), SETTINGS, now=much_later) == 1


def test_a_new_due_date_starts_the_reminders_over(db):
    t = working_ticket(db)
    resolve(db, t, [item()])
    _make_overdue(db)
    assert leftovers.sweep_overdue(db.unit_of_work(), SETTINGS) == 1
    (row,) = leftovers.list_items(OWNER, {}, db.unit_of_work(), SETTINGS)["items"]
    new_due = (TODAY + dt.timedelta(days=10)).isoformat()
    out = leftovers.update_item(OWNER, row["id"], {"due_date": new_due, "note": "延期"},
                                db.unit_of_work(), SETTINGS)
    assert out["overdue"] is False and out["reminders"] == 0
    assert out["updates"][-1]["changes"]["due_date"][1] == new_due
    assert count(db, LeftoverUpdate) == 2 and count(db, Ticket) == 1


# ---- pure rules ------------------------------------------------------------------------------

def test_whom_an_actor_may_name_as_owner():
    active = lambda role, provider=None: {"role": role, "status": "active",  # noqa: E731
                                          "provider_id": provider}
    assert rules.may_name_owner(AGENT, active("engineer", "p7"))
    assert rules.may_name_owner(ENGINEER, active("engineer", "p1"))
    assert rules.may_name_owner(ENGINEER, active("agent"))
    assert not rules.may_name_owner(ENGINEER, active("engineer", "p2"))
    assert not rules.may_name_owner(AGENT, active("customer"))
    assert not rules.may_name_owner(AGENT, dict(active("engineer"), status="disabled"))
    assert not rules.may_name_owner(CUSTOMER, active("agent"))


def test_due_date_means_the_whole_day_in_the_desk_time_zone():
    day = dt.date(2026, 12, 5)
    due = rules.due_instant(day, TZ)
    assert due == dt.datetime(2026, 12, 4, 16, 0, tzinfo=dt.timezone.utc) + dt.timedelta(days=1)
    assert not rules.is_overdue("open", due, due - dt.timedelta(seconds=1))
    assert rules.is_overdue("open", due, due) and not rules.is_overdue("done", due, due)
    assert rules.next_reminder(due, 0) is None
    assert rules.next_reminder(due, 3) == due + dt.timedelta(days=3)
