"""A created ticket's path through intake with Core statements, on SQLite and PostgreSQL.

- create (services/intake/tickets.py): what is stored is what the ORM wrote before — every
  column and default, the search grams the model's before_insert hook computes, the first
  history row — and the answer and the ticket_created event describe the row as stored;
- sla_clock_updated applied in a batch (projections.apply_sla_clocks, one prepared UPDATE
  executed per ticket): the newest evaluation wins, older and unknown ones change nothing.
"""
import uuid

import pytest
from sqlalchemy import select

from gongdan_common.db import Database
from services.intake import catalog, events, projections, schemas, search, tickets
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


def _clock(ticket_id, at, due, breached):
    return {"event_id": str(uuid.uuid4()), "type": "sla_clock_updated", "data": {
        "ticket_id": ticket_id, "next_due_at": due, "breached": breached,
        "evaluated_at": at, "clocks": []}}


def _sla(db, ticket_id):
    with db.unit_of_work() as uow:
        t = uow.session.get(Ticket, ticket_id)
        return (t.sla_due_at and t.sla_due_at.isoformat()[:16], t.sla_breached,
                t.sla_evaluated_at.isoformat()[:16], t.version)


def test_sla_clocks_applied_in_a_batch_newest_wins(db):
    a, b = (tickets.create_ticket(CUSTOMER, payload(), db.unit_of_work(), SETTINGS)["id"]
            for _ in range(2))
    projections.apply_sla_clocks([
        _clock(b, "2026-01-01T10:00:00Z", "2026-01-01T12:00:00Z", False),
        _clock(a, "2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", True),
        _clock(str(uuid.uuid4()), "2026-01-01T10:00:00Z", None, True),  # unknown ticket
        _clock(a, "2026-01-01T09:00:00Z", None, False)], db.unit_of_work())  # older
    assert _sla(db, a) == ("2026-01-01T11:00", True, "2026-01-01T10:00", 1)
    assert _sla(db, b) == ("2026-01-01T12:00", False, "2026-01-01T10:00", 1)
    # later batches: an older evaluation of a changes nothing, a newer one of b wins
    projections.apply_sla_clocks([_clock(a, "2026-01-01T09:59:00Z", None, False)],
                                 db.unit_of_work())
    projections.apply_sla_clocks([_clock(b, "2026-01-01T10:30:00Z", None, True),
                                  _clock(b, "2026-01-01T10:00:00Z", None, False)],
                                 db.unit_of_work())
    assert _sla(db, a) == ("2026-01-01T11:00", True, "2026-01-01T10:00", 1)
    assert _sla(db, b) == (None, True, "2026-01-01T10:30", 1)
