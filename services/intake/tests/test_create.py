"""A created ticket, written with Core statements (services/intake/tickets.py): what is
stored is what the ORM wrote before — every column and default, the search grams the
model's before_insert hook computes, the first history row — and the answer and the
ticket_created event describe the row as stored. SQLite and PostgreSQL."""
import pytest
from sqlalchemy import select

from gongdan_common.db import Database
from services.intake import catalog, events, schemas, search, tickets
from services.intake.models import StatusChange, Ticket, metadata
from services.intake.tests.test_handlers import ADMIN, CUSTOMER, SETTINGS, payload

AGENT = {"id": "ag1", "role": "agent", "name": "坐席"}


@pytest.fixture
def db(service_database):
    database = Database(service_database("intake", migrated=True), metadata)
    catalog.upsert_product(ADMIN, {"code": "P1", "name": "产品", "product_line": "line"},
                           database.unit_of_work())
    yield database
    database.dispose()


def _created_events(db):
    table = metadata.tables["outbox"]
    with db.unit_of_work() as uow:
        return [r.payload for r in uow.session.execute(
            select(table.c.payload).where(table.c.type == "ticket_created")
            .order_by(table.c.id))]


@pytest.mark.parametrize("actor, extra", [
    (CUSTOMER, {"contact_name": "李四", "device_sn": "SN-1", "environment": {"os": "麒麟"},
                "persistent": True, "steps": "1. 登录", "request_key": "gw-abc"}),
    (AGENT, {"company_id": "c9", "company_name": "电话报障客户", "region": "上海"})])
def test_the_stored_ticket_is_what_the_answer_and_the_event_say(db, actor, extra):
    answer = tickets.create_ticket(actor, payload(title="无法登录系统", impact="department",
                                                  urgency="high", **extra),
                                   db.unit_of_work(), SETTINGS)
    (event,) = _created_events(db)
    with db.unit_of_work() as uow:  # (SQLite: one unit of work at a time per process)
        stored = uow.session.get(Ticket, answer["id"])
        history = uow.session.scalars(select(StatusChange).where(
            StatusChange.ticket_id == stored.id)).all()
        assert answer == schemas.TicketSchema().dump(stored)
        assert event["data"]["ticket"] == events.TicketRef().dump(stored)
        assert event["ticket_id"] == stored.id and event["ticket_number"] == stored.number
        # the defaults the model gives a new ticket
        assert (stored.version, stored.status, stored.priority, stored.resolution_round,
                stored.reopen_count, stored.sla_breached) == (1, "new", "P2", 0, 0, False)
        assert stored.environment == extra.get("environment", {})
        assert stored.request_key == extra.get("request_key")
        # what the model's before_insert hook computed: keyword search finds it
        assert stored.search_grams and sorted(stored.search_grams) == sorted(
            search.ticket_grams(stored))
        assert "登录" in stored.search_grams
        assert [(h.action, h.from_status, h.to_status, h.actor_id, h.actor_role)
                for h in history] == [("create", None, "new", actor["id"], actor["role"])]
    # the ORM still reads and updates it: the version counter starts from the stored 1
    updated = tickets.update_ticket(ADMIN, answer["id"], {"title": "改过的标题"},
                                    db.unit_of_work())
    assert updated["version"] == 2


def test_a_repeated_gateway_key_answers_the_first_ticket(db):
    first = tickets.create_ticket(CUSTOMER, payload(request_key="gw-1"), db.unit_of_work(),
                                  SETTINGS)
    again = tickets.create_ticket(CUSTOMER, payload(request_key="gw-1"), db.unit_of_work(),
                                  SETTINGS)
    assert again["id"] == first["id"] and len(_created_events(db)) == 1
