"""`UnitOfWork.batch()`: many handlers in one transaction, each behaving as it would alone
(its commit keeps its part, anything else undoes only its part), on SQLite and PostgreSQL."""
import secrets

import pytest
from marshmallow import Schema, fields
from sqlalchemy import (Column, Integer, MetaData, String, Table, create_engine, event, select,
                        text)
from sqlalchemy.engine.interfaces import CacheStats

from gongdan_common.db import Database
from gongdan_common.events import EventSpec
from gongdan_common.outbox import _consume_many, consume_many, define_outbox_tables

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


class _Data(Schema):
    n = fields.Integer()


THING_DONE = EventSpec("test", "thing_done", 1, _Data, "test event")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    metadata = MetaData()
    things = Table("things", metadata, Column("n", Integer, primary_key=True),
                   Column("label", String(20)))
    define_outbox_tables(metadata)
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path}/batch.db", None
    else:
        name = "gd_batch_" + secrets.token_hex(4)
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {name}"))
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"

        def drop():
            with admin.connect() as c:
                c.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
            admin.dispose()
    db = Database(url, metadata)
    metadata.create_all(db.engine)
    yield db, things
    db.dispose()
    if drop:
        drop()


def handler(uow, things, n, how):
    """A consumer as the services write them: `with uow:`, its writes, `commit()`."""
    with uow:
        uow.session.execute(things.insert().values(n=n, label="first"))
        uow.emit(THING_DONE, {"n": n})
        if how == "return_early":
            return
        if how == "raise":
            raise ValueError("bad event")
        if how == "rollback_and_retry":
            uow.rollback()
            uow.session.execute(things.insert().values(n=n, label="second"))
            uow.emit(THING_DONE, {"n": n})
        uow.commit()


def _state(db, things):
    with db.unit_of_work() as uow:
        rows = {n: label for n, label in uow.session.execute(select(things.c.n, things.c.label))}
        outbox = uow.session.info["metadata"].tables["outbox"]
        events = sorted(p["data"]["n"] for p in uow.session.scalars(select(outbox.c.payload)))
        return rows, events


def test_each_handler_keeps_or_undoes_only_its_own_part(database):
    db, things = database
    committed = []
    uow = db.unit_of_work(on_commit=committed.append)
    with uow.batch():
        handler(uow, things, 1, "commit")
        handler(uow, things, 2, "return_early")
        with pytest.raises(ValueError):
            handler(uow, things, 3, "raise")
        handler(uow, things, 4, "rollback_and_retry")
        handler(uow, things, 5, "commit")
        reader = create_engine(db.url)  # a plain reader: nothing visible before the commit
        with reader.connect() as other:
            assert other.execute(select(things.c.n)).all() == []
        reader.dispose()
    assert _state(db, things) == ({1: "first", 4: "second", 5: "first"}, [1, 4, 5])
    assert len(committed) == 1 and len(committed[0]) == 3  # one commit, three events


def test_an_exception_out_of_the_batch_keeps_nothing(database):
    db, things = database
    uow = db.unit_of_work()
    with pytest.raises(RuntimeError):
        with uow.batch():
            handler(uow, things, 1, "commit")
            raise RuntimeError("the batch fails")
    assert _state(db, things) == ({}, [])


def test_consume_many_skips_events_seen_before_and_twice_in_a_batch(database):
    db, _ = database
    a, b = {"event_id": "e-a"}, {"event_id": "e-b"}
    with db.unit_of_work() as uow:
        assert consume_many(uow, [a, b, a], "c1") == [a, b]
        uow.commit()
    with db.unit_of_work() as uow:
        c = {"event_id": "e-c"}
        assert consume_many(uow, [a, c], "c1") == [c]
        assert consume_many(uow, [a], "c2") == [a]  # per consumer
        uow.commit()
    # one statement per batch size, compiled once: the same size again hits the compiled cache
    assert _consume_many(2) is _consume_many(2) and _consume_many(2) is not _consume_many(3)
    hits = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, _p, context, _m: hits.append(
                     context.cache_hit) if "processed_events" in statement else None)
    with db.unit_of_work() as uow:
        assert consume_many(uow, [{"event_id": "e-d"}, a], "c1") == [{"event_id": "e-d"}]
        assert consume_many(uow, [{"event_id": "e-e"}, a], "c1") == [{"event_id": "e-e"}]
        rows = uow.session.execute(select(db.metadata.tables["processed_events"])
                                   .where(db.metadata.tables["processed_events"]
                                          .c.event_id == "e-e")).all()
        uow.commit()
    # batches of two were compiled above: both reuse it (no dialect upsert built each time)
    assert hits[:2] == [CacheStats.CACHE_HIT] * 2
    assert rows[0].processed_at is not None and rows[0].consumer == "c1"
