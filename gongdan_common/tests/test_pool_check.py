"""Pooled PostgreSQL connections are checked on checkout without a round trip
(gongdan_common/db.py `_check_on_checkout`): one the server closed is replaced before use, a
live one is reused as it is."""
import secrets
import time

import pytest
from sqlalchemy import create_engine, text

from gongdan_common import db as gdb
from gongdan_common.db import Database, service_metadata

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
pytestmark = pytest.mark.postgres


@pytest.fixture
def database():
    name = "gd_pool_" + secrets.token_hex(4)
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    database = Database(f"postgresql://postgres@127.0.0.1:5432/{name}", service_metadata())
    yield database, admin
    database.dispose()
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def backend_pid(database):
    with database.unit_of_work() as uow:
        return uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_the_server_closed_is_replaced_a_live_one_reused(database):
    database, admin = database
    first = backend_pid(database)
    assert backend_pid(database) == first  # live and recently used: reused
    with admin.connect() as c:
        assert c.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar()
    time.sleep(0.3)  # the FATAL message and the close reach the idle socket
    second = backend_pid(database)  # no error: the dead connection never reached the caller
    assert second != first


def test_a_connection_idle_past_the_limit_is_pinged(database, monkeypatch):
    database, _ = database
    pings = []
    backend_pid(database)
    monkeypatch.setattr(gdb, "PING_AFTER_IDLE_SECONDS", 0.0)
    original = database.engine.dialect.do_ping
    monkeypatch.setattr(database.engine.dialect, "do_ping",
                        lambda conn: pings.append(1) or original(conn))
    backend_pid(database)
    assert pings == [1]
