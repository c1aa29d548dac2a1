"""`OutboxRelay.relay_once` (claim and mark in one UPDATE … RETURNING, committed after the
broker took the batch), on SQLite and PostgreSQL, with the broker replaced by a list: rows
published once, in the order they were written; a failed publish leaves them unpublished
(attempt counted) and the next pass sends them; on PostgreSQL two relays at once never
publish the same row."""
import eventlet
import pytest
from sqlalchemy import select

from gongdan_common.outbox import OutboxRelay

from .test_uow_batch import THING_DONE, database  # noqa: F401 - fixture


class Relay(OutboxRelay):
    def __init__(self, db, batch_size=500, fail=False, pause=0):
        super().__init__(db, "memory://", "test", batch_size=batch_size)
        self.sent, self.fail, self.pause = [], fail, pause

    def _publish(self, rows):
        if self.pause:
            eventlet.sleep(self.pause)  # hold the claimed rows while the other relay claims
        if self.fail:
            raise ConnectionError("broker away")
        self.sent += [r.payload["data"]["n"] for r in rows]


def emit(db, numbers):
    with db.unit_of_work() as uow:
        for n in numbers:
            uow.emit(THING_DONE, {"n": n})
        uow.commit()


def outbox_rows(db):
    with db.unit_of_work() as uow:
        t = uow.session.info["metadata"].tables["outbox"]
        return [(r.payload["data"]["n"], r.published_at is not None, r.attempts)
                for r in uow.session.execute(select(t).order_by(t.c.id))]


def test_rows_published_once_in_order_and_a_failed_pass_keeps_them(database):  # noqa: F811
    db, _ = database
    emit(db, range(7))
    with pytest.raises(ConnectionError):
        Relay(db, fail=True).relay_once()
    assert outbox_rows(db) == [(n, False, 1) for n in range(7)]
    relay = Relay(db, batch_size=3)
    assert [relay.relay_once() for _ in range(4)] == [3, 3, 1, 0]
    assert relay.sent == list(range(7))
    assert outbox_rows(db) == [(n, True, 1) for n in range(7)]
    emit(db, [7])
    assert relay.relay_once() == 1 and relay.sent[-1] == 7


def test_two_relays_at_once_publish_each_row_once(database):  # noqa: F811
    db, _ = database
    if db.lock is not None:
        pytest.skip("SQLite: a process runs one unit of work at a time (BEGIN IMMEDIATE)")
    emit(db, range(10))
    slow, fast = Relay(db, batch_size=4, pause=0.3), Relay(db, batch_size=100)
    first = eventlet.spawn(slow.relay_once)
    eventlet.sleep(0.1)  # the slow relay holds its 4 rows, unpublished yet
    assert fast.relay_once() == 6
    assert first.wait() == 4
    assert sorted(slow.sent + fast.sent) == list(range(10))
    assert slow.sent == [0, 1, 2, 3] and fast.sent == list(range(4, 10))
