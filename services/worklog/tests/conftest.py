"""Fixtures of worklog's tests: actors, a fixed clock, tickets as intake's `ticket_state`
returns them, a fake of that RPC, and a migrated database (SQLite and PostgreSQL through
services/conftest.py's `service_database`)."""
import datetime as dt

import pytest

from gongdan_common.db import Database
from services.worklog import exceptions as exc
from services.worklog.models import metadata

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)

ADMIN = {"id": "u-admin", "role": "admin", "name": "管理员"}
AGENT = {"id": "u-agent", "role": "agent", "name": "Desk 王"}
ENGINEER = {"id": "u-eng-zhang", "role": "engineer", "name": "张工", "provider_id": "prov-1"}
OTHER_ENGINEER = {"id": "u-eng-li", "role": "engineer", "name": "李工", "provider_id": "prov-1"}
CUSTOMER = {"id": "u-cust", "role": "customer", "name": "客户甲", "company_id": "c-1"}
OTHER_CUSTOMER = {"id": "u-cust-2", "role": "customer", "name": "客户乙", "company_id": "c-1"}
CUSTOMER_ADMIN = {"id": "u-cadm", "role": "customer_admin", "name": "企业管理员",
                  "company_id": "c-1"}
PROVIDER_ADMIN = {"id": "u-pa", "role": "provider_admin", "name": "接口人",
                  "provider_id": "prov-1"}
OTHER_PROVIDER_ADMIN = {"id": "u-pa-2", "role": "provider_admin", "name": "接口人2",
                        "provider_id": "prov-2"}


def iso(value):
    return value.isoformat().replace("+00:00", "Z")


def ticket(ticket_id="t-1", **over):
    """A ticket as intake's `ticket_state` returns it (its TicketRef)."""
    state = {"id": ticket_id, "number": "TS20261122001", "type": "repair",
             "title": "备份任务失败", "product": "AB-7", "product_line": "AnyBackup",
             "category": "backup", "priority": "P2", "status": "in_progress",
             "company_id": "c-1", "region": "上海", "submitter_id": CUSTOMER["id"],
             "provider_id": "prov-1", "handler_id": ENGINEER["id"], "version": 4,
             "created_at": iso(NOW - 48 * HOUR), "updated_at": iso(NOW - HOUR)}
    state.update(over)
    return state


class FakeTicketStates:
    """Stands in for intake's `ticket_state`: answers what the test set, records the calls."""

    def __init__(self):
        self.tickets = {}
        self.calls = []

    def set(self, **fields):
        state = ticket(**fields)
        self.tickets[state["id"]] = state
        return state

    def __call__(self, ticket_id):
        self.calls.append(ticket_id)
        if ticket_id not in self.tickets:
            raise exc.TICKET_NOT_FOUND()
        return dict(self.tickets[ticket_id])


@pytest.fixture
def intake():
    return FakeTicketStates()


@pytest.fixture
def settings():
    return {"now": lambda: NOW}


@pytest.fixture
def database(service_database):
    url = service_database("worklog", migrated=True)
    db = Database(url, metadata)
    yield db
    db.dispose()


@pytest.fixture
def uow(database):
    return database.unit_of_work()
