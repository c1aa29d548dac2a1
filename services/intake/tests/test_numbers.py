"""Ticket numbers (services/intake/tickets.py): unique, per day, TSyyyymmddNNN. On
PostgreSQL each process reserves the day's numbers a block at a time, sized by its own rate;
SQLite takes one at a time inside the ticket's transaction."""
import datetime as dt
import zoneinfo

import eventlet
import pytest
from sqlalchemy import create_engine, event, text

from gongdan_common.db import Database
from services.intake import tickets
from services.intake.models import metadata

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.timezone.utc)  # 11:00 in Shanghai


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def engine(service_database):
    url = service_database("intake", migrated=True)
    engine = create_engine(url)
    upserts = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cur, stmt, *a: upserts.append(stmt)
                 if "INSERT INTO ticket_counters" in stmt else None)
    engine.upserts = upserts
    yield engine
    engine.dispose()


def counter(engine, day="20261207"):
    with engine.connect() as conn:
        return conn.execute(text("SELECT last FROM ticket_counters WHERE day = :d"),
                            {"d": day}).scalar()


def test_one_at_a_time_when_creates_are_rare(engine):
    if engine.dialect.name != "postgresql":  # one at a time inside the unit of work
        database = Database(str(engine.url), metadata)
        numbers = []
        for _ in range(3):
            with database.unit_of_work() as uow:
                numbers.append(tickets.next_number(uow, "TS", TZ, NOW))
                uow.commit()
        database.dispose()
        assert numbers == ["TS20261207001", "TS20261207002", "TS20261207003"]
        return
    clock = Clock()
    blocks = tickets.NumberBlocks(clock=clock)
    numbers = []
    for _ in range(3):
        clock.now += 2.0  # one create every two seconds: a block of one each time
        numbers.append(blocks.take(engine, "20261207"))
    assert numbers == [1, 2, 3] and counter(engine) == 3  # nothing reserved and unused
    assert len(engine.upserts) == 3


@pytest.mark.parametrize("db_backend", ["postgresql"])  # blocks are PostgreSQL's
def test_a_burst_takes_blocks_and_two_processes_never_share_a_number(engine):
    clock = Clock()
    a, b = tickets.NumberBlocks(clock=clock), tickets.NumberBlocks(clock=clock)
    from_a, from_b = [], []
    for i in range(60):  # the same second: both processes' blocks grow to MAX_BLOCK
        from_a.append(a.take(engine, "20261207"))
        if i % 3 == 0:
            from_b.append(b.take(engine, "20261207"))
    taken = from_a + from_b
    assert len(set(taken)) == len(taken) == 80
    assert min(taken) == 1 and max(taken) <= counter(engine)
    # each process's numbers follow its own order of creation
    assert from_a == sorted(from_a) and from_b == sorted(from_b)
    # at most a block left unused per process: the gaps a stop now would leave
    assert counter(engine) - len(taken) <= 2 * tickets.NumberBlocks.MAX_BLOCK
    assert len(engine.upserts) < 30  # 80 numbers, far fewer reservations
    # another day starts at 1 again
    assert a.take(engine, "20261208") == 1


@pytest.mark.parametrize("db_backend", ["postgresql"])
def test_green_threads_of_one_process_share_its_block(engine):
    blocks = tickets.NumberBlocks()
    pool = eventlet.GreenPool(20)
    taken = list(pool.imap(lambda _: blocks.take(engine, "20261207"), range(100)))
    assert len(set(taken)) == 100
    assert counter(engine) - 100 <= tickets.NumberBlocks.MAX_BLOCK


@pytest.mark.parametrize("db_backend", ["postgresql"])
def test_the_number_of_a_block(engine):
    """The format: prefix, the day in the configured zone (11:00 in Shanghai), three digits."""
    assert tickets.next_number_autocommit(engine, "TS", TZ, NOW) == "TS20261207001"
