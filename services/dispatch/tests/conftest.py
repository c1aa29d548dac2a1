"""Fixtures of dispatch's tests: actors, a fixed clock, and a unit of work on a migrated
database (SQLite and PostgreSQL through services/conftest.py's `service_database`)."""
import datetime as dt
import zoneinfo

import pytest

from gongdan_common.db import Database
from gongdan_common.migrate import upgrade
from services.dispatch.models import metadata

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# 2026-11-22 01:00 in Shanghai, still the 21st in UTC: "today" must be the Shanghai day
NOW = dt.datetime(2026, 11, 21, 17, 0, tzinfo=dt.timezone.utc)
TODAY = dt.date(2026, 11, 22)

ADMIN = {"id": "u-admin", "role": "admin", "name": "Admin"}
AGENT = {"id": "u-agent", "role": "agent", "name": "Desk"}
CUSTOMER = {"id": "u-cust", "role": "customer", "name": "Cus", "company_id": "c-1"}


def provider_admin(provider_id):
    return {"id": f"u-pa-{provider_id}", "role": "provider_admin", "name": "PA",
            "provider_id": provider_id}


def engineer_actor(engineer_id):
    return {"id": engineer_id, "role": "engineer", "name": "Eng", "provider_id": None}


@pytest.fixture
def settings():
    return {"tz": SHANGHAI, "now": lambda: NOW}


@pytest.fixture
def database(service_database):
    url = service_database("dispatch")
    upgrade("dispatch", url)
    db = Database(url, metadata)
    yield db
    db.dispose()


@pytest.fixture
def uow(database):
    return database.unit_of_work()
