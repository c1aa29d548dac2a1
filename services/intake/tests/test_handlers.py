"""Intake handlers against a real (SQLite) database, no broker: the service layer tier."""
import uuid
import zoneinfo

import eventlet
import pytest
from sqlalchemy import func, select, text

from gongdan_common.db import Database
from gongdan_common.errors import AppError
from gongdan_common.migrate import upgrade
from services.intake import catalog, lifecycle, listing, projections, tickets
from services.intake.models import Product, Ticket, metadata

SETTINGS = {"number_prefix": "TS", "tz": zoneinfo.ZoneInfo("Asia/Shanghai")}
ADMIN = {"id": "adm", "role": "admin", "name": "Admin"}
CUSTOMER = {"id": "u1", "role": "customer", "name": "张三", "company_id": "c1",
            "company_name": "示例公司"}


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    upgrade("intake", url)
    database = Database(url, metadata)
    catalog.upsert_product(ADMIN, {"code": "P1", "name": "产品", "product_line": "line"},
                            database.unit_of_work())
    yield database
    database.dispose()


def payload(**over):
    body = {"title": "标题", "type": "defect", "product": "P1", "category": "function",
            "description": "描述", "contact_phone": "13800138000"}
    body.update(over)
    return body


def outbox_types(db):
    with db.unit_of_work() as uow:
        table = metadata.tables["outbox"]
        return [r.type for r in uow.session.execute(select(table.c.type).order_by(table.c.id))]


def test_create_writes_ticket_history_and_event_together(db):
    t = tickets.create_ticket(CUSTOMER, payload(), db.unit_of_work(), SETTINGS)
    assert t["number"].startswith("TS") and t["company_name"] == "示例公司"
    assert outbox_types(db) == ["ticket_created"]


def test_failed_validation_leaves_nothing(db):
    with pytest.raises(AppError) as err:
        tickets.create_ticket(CUSTOMER, payload(title=""), db.unit_of_work(), SETTINGS)
    assert err.value.status == 400
    assert err.value.details["fields"]["title"][0]["zh"] == "缺少必填字段。"
    with db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert outbox_types(db) == []


def test_request_key_makes_create_idempotent(db):
    a = tickets.create_ticket(CUSTOMER, payload(request_key="k1"), db.unit_of_work(), SETTINGS)
    b = tickets.create_ticket(CUSTOMER, payload(request_key="k1"), db.unit_of_work(), SETTINGS)
    assert a["id"] == b["id"] and outbox_types(db) == ["ticket_created"]


def test_concurrent_greenlets_get_distinct_numbers(db):
    pool = eventlet.GreenPool(10)
    numbers = list(pool.imap(lambda i: tickets.create_ticket(
        CUSTOMER, payload(title=f"t{i}"), db.unit_of_work(), SETTINGS)["number"], range(30)))
    assert len(set(numbers)) == 30


def test_staff_must_name_the_company(db):
    agent = {"id": "a", "role": "agent"}
    with pytest.raises(AppError) as err:
        tickets.create_ticket(agent, payload(), db.unit_of_work(), SETTINGS)
    assert err.value.code == "company_required"
    t = tickets.create_ticket(agent, payload(company_id="c9", company_name="电话报障客户"),
                               db.unit_of_work(), SETTINGS)
    assert t["company_id"] == "c9"


def test_refused_transition_writes_nothing(db):
    t = tickets.create_ticket(CUSTOMER, payload(), db.unit_of_work(), SETTINGS)
    with pytest.raises(AppError) as err:
        lifecycle.transition(CUSTOMER, t["id"], "provide_info", {}, db.unit_of_work())
    assert err.value.status == 409
    assert outbox_types(db) == ["ticket_created"]


def test_only_admin_manages_products(db):
    with pytest.raises(AppError) as err:
        catalog.upsert_product(CUSTOMER, {"code": "X", "name": "x", "product_line": "l"},
                                db.unit_of_work())
    assert err.value.status == 403
    with pytest.raises(AppError) as err:
        catalog.upsert_product(ADMIN, {"code": "P1", "name": "dup", "product_line": "l"},
                                db.unit_of_work(), create_only=True)
    assert err.value.code == "product_exists"


def test_cached_products_follow_changes(db, monkeypatch):
    t = tickets.create_ticket(CUSTOMER, payload(), db.unit_of_work(), SETTINGS)  # cached now
    assert t["product_line"] == "line"
    # a change through intake is seen by the next create at once
    catalog.upsert_product(ADMIN, {"code": "P1", "name": "产品", "product_line": "line-2"},
                            db.unit_of_work())
    t = tickets.create_ticket(CUSTOMER, payload(), db.unit_of_work(), SETTINGS)
    assert t["product_line"] == "line-2"
    catalog.upsert_product(ADMIN, {"code": "P1", "name": "产品", "product_line": "line-2",
                                    "active": False}, db.unit_of_work())
    with pytest.raises(AppError) as err:
        tickets.create_ticket(CUSTOMER, payload(), db.unit_of_work(), SETTINGS)
    assert err.value.code == "product_unknown"
    # a change written elsewhere (another replica) is seen once the entry expires
    catalog.upsert_product(ADMIN, {"code": "P1", "name": "产品", "product_line": "line-2",
                                    "active": True}, db.unit_of_work())
    tickets.create_ticket(CUSTOMER, payload(), db.unit_of_work(), SETTINGS)
    with db.unit_of_work() as uow:
        uow.session.get(Product, "P1").product_line = "line-3"
        uow.commit()
    assert tickets.create_ticket(CUSTOMER, payload(), db.unit_of_work(),
                                  SETTINGS)["product_line"] == "line-2"  # within the bound
    later = catalog.time.monotonic() + catalog.PRODUCT_CACHE_SECONDS + 1
    monkeypatch.setattr(catalog.time, "monotonic", lambda: later)
    assert tickets.create_ticket(CUSTOMER, payload(), db.unit_of_work(),
                                  SETTINGS)["product_line"] == "line-3"


def test_sla_projection_keeps_the_newest_evaluation_and_breach_raises_priority(db):
    t = tickets.create_ticket(CUSTOMER, payload(impact="individual", urgency="low"),
                               db.unit_of_work(), SETTINGS)
    assert t["priority"] == "P4"

    def clock(at, due, breached):
        return {"event_id": str(uuid.uuid4()), "type": "sla_clock_updated", "data": {
            "ticket_id": t["id"], "next_due_at": due, "breached": breached,
            "evaluated_at": at, "clocks": []}}

    newest = clock("2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", True)
    projections.apply_sla_clock(newest, db.unit_of_work())
    projections.apply_sla_clock(newest, db.unit_of_work())  # redelivered: the same values
    # an older evaluation arriving late changes nothing
    projections.apply_sla_clock(clock("2026-01-01T09:00:00Z", None, False), db.unit_of_work())
    # a batch: the newest evaluation in it wins, whatever its place; an older one than the
    # one kept, a redelivered one and one of a ticket intake does not know change nothing
    older = clock("2026-01-01T08:00:00Z", None, False)
    unknown = dict(clock("2026-01-01T12:00:00Z", None, False))
    unknown["data"] = dict(unknown["data"], ticket_id=str(uuid.uuid4()))
    projections.apply_sla_clocks([older, unknown, clock("2026-01-01T09:30:00Z", None, False),
                                  older], db.unit_of_work())
    page = listing.list_tickets(ADMIN, {"sla_breached": True, "sort": "sla_due_at"},
                                 db.unit_of_work())
    assert [i["id"] for i in page["items"]] == [t["id"]]
    assert page["items"][0]["sla_due_at"] == "2026-01-01T11:00:00Z"
    with db.unit_of_work() as uow:  # the guarded UPDATE is the idempotence: no event ids kept
        assert uow.session.execute(text(
            "SELECT count(*) FROM processed_events WHERE consumer = 'intake.sla_clock'"
        )).scalar() == 0
    assert listing.list_tickets(ADMIN, {"sla_due_before": "2026-01-01T10:30:00Z"},
                                 db.unit_of_work())["total"] == 0

    breach = {"event_id": str(uuid.uuid4()), "type": "sla_breached", "data": {
        "ticket_id": t["id"], "target": "response", "escalation": {"action": "raise_priority"}}}
    projections.apply_sla_breach(breach, db.unit_of_work())
    projections.apply_sla_breach(breach, db.unit_of_work())  # redelivered: once
    ticket = tickets.get_ticket(ADMIN, t["id"], db.unit_of_work())
    assert ticket["priority"] == "P3"
    assert outbox_types(db).count("ticket_updated") == 1
    notify = dict(breach, event_id=str(uuid.uuid4()),
                  data=dict(breach["data"], escalation={"action": "notify"}))
    projections.apply_sla_breach(notify, db.unit_of_work())
    assert tickets.get_ticket(ADMIN, t["id"], db.unit_of_work())["priority"] == "P3"

    # an update-interval clock breaches once per missed cycle: the priority rises once for it
    def update_breach():
        return dict(breach, event_id=str(uuid.uuid4()), data=dict(breach["data"], target="update"))
    for _ in range(3):
        projections.apply_sla_breach(update_breach(), db.unit_of_work())
    assert tickets.get_ticket(ADMIN, t["id"], db.unit_of_work())["priority"] == "P2"
    projections.apply_sla_breach(dict(breach, event_id=str(uuid.uuid4())), db.unit_of_work())
    assert tickets.get_ticket(ADMIN, t["id"], db.unit_of_work())["priority"] == "P2"
    assert outbox_types(db).count("ticket_updated") == 2
