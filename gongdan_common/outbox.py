"""Transactional outbox and idempotent inbox.

`outbox` rows are written by `UnitOfWork.emit` in the same transaction as the state change.
`OutboxRelay` publishes them to `<service>.events` as persistent messages inside an AMQP
transaction (one `tx.commit` per batch: the broker has taken every message of the batch
when it answers, the guarantee publisher confirms give, at one round trip per batch instead
of one per message), then marks them published. Rows are claimed with `FOR UPDATE SKIP LOCKED` on
PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE), so N replicas never publish the
same row concurrently. A crash between publish and mark re-publishes: delivery is at least
once, and consumers drop duplicates through `processed_events` (see `consume_once`).
"""
import logging
import os

import eventlet
from kombu import Connection, Exchange, Producer
from sqlalchemy import (JSON, BigInteger, Column, DateTime, Integer, MetaData, String,
                        Table, bindparam, insert, select, text, update)
from sqlalchemy.exc import IntegrityError

from . import tracing
from .events import exchange_name, utcnow

# as text: SQLAlchemy 2.0 compiles a dialect upsert (on_conflict_do_nothing) on every
# execution (no cache key), a TextClause only once
_CONSUME = text(
    "INSERT INTO processed_events (event_id, consumer, processed_at) "
    "VALUES (:event_id, :consumer, :processed_at) ON CONFLICT DO NOTHING"
).bindparams(bindparam("processed_at", type_=DateTime(timezone=True)))

log = logging.getLogger(__name__)
PUBLISH_TIMEOUT = 15.0  # seconds for one batch (connect, publish, tx.commit)


class RelayTimeout(Exception):
    def __init__(self, seconds):
        super().__init__(f"the broker did not take the batch within {seconds:g} s")


def define_outbox_tables(metadata: MetaData):
    """Add the outbox and processed_events tables to a service's metadata."""
    outbox = Table(
        "outbox", metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
               autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("type", String(64), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True, index=True),
        Column("attempts", Integer, nullable=False, default=0),
    )
    processed = Table(
        "processed_events", metadata,
        Column("event_id", String(36), primary_key=True),
        Column("consumer", String(120), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
    return outbox, processed


def _table(session, name):
    return session.info["metadata"].tables[name]


def add_many_to_outbox(session, envelopes):
    if envelopes:
        now = utcnow()
        session.execute(insert(_table(session, "outbox")), [
            {"event_id": e["event_id"], "type": e["type"], "payload": e, "created_at": now,
             "attempts": 0} for e in envelopes])


def consume_once(uow, envelope, consumer):
    """Record that `consumer` handled this event, inside the caller's transaction.

    Returns False when it was already handled (redelivery): the caller then skips the effect.
    """
    table = _table(uow.session, "processed_events")
    values = dict(event_id=str(envelope["event_id"]), consumer=consumer, processed_at=utcnow())
    if uow.session.bind.dialect.name in ("postgresql", "sqlite"):
        # one statement, no savepoint: a row already there (or being inserted by a
        # concurrent delivery, which this waits for) inserts nothing
        return uow.session.execute(_CONSUME, values).rowcount == 1
    try:
        with uow.session.begin_nested():
            uow.session.execute(insert(table).values(**values))
    except IntegrityError:
        return False
    return True


def consume_many(uow, envelopes, consumer):
    """`consume_once` for a batch: one INSERT; returns the envelopes not handled before
    (first occurrence of each event id, in order)."""
    unique = list({str(e["event_id"]): e for e in envelopes}.items())
    if not unique:
        return []
    if uow.session.bind.dialect.name not in ("postgresql", "sqlite"):
        return [e for e in envelopes if consume_once(uow, e, consumer)]
    params = {f"e{i}": eid for i, (eid, _) in enumerate(unique)}
    fresh = set(uow.session.execute(_consume_many(len(unique)), dict(
        params, consumer=consumer, processed_at=utcnow())).scalars())
    return [e for eid, e in unique if eid in fresh]


_CONSUME_MANY = {}


def _consume_many(count):
    """`_CONSUME` for `count` events in one statement, RETURNING the ids it inserted. Text,
    cached per count, as `_CONSUME` (a dialect upsert was compiled anew for every batch)."""
    stmt = _CONSUME_MANY.get(count)
    if stmt is None:
        if len(_CONSUME_MANY) > 500:
            _CONSUME_MANY.clear()
        rows = ", ".join(f"(:e{i}, :consumer, :processed_at)" for i in range(count))
        stmt = _CONSUME_MANY[count] = text(
            "INSERT INTO processed_events (event_id, consumer, processed_at) "
            f"VALUES {rows} ON CONFLICT DO NOTHING RETURNING event_id"
        ).bindparams(bindparam("processed_at", type_=DateTime(timezone=True)))
    return stmt


class OutboxRelay:
    """Publishes committed outbox rows. One per service process."""

    def __init__(self, database, amqp_uri, service_name, batch_size=500):
        self.database = database
        self.service_name = service_name
        self.batch_size = batch_size
        self.amqp_uri = amqp_uri
        self.exchange = Exchange(exchange_name(service_name), type="topic", durable=True)
        self._connection = self._producer = None

    def _open(self):
        if self._producer is None:
            self._connection = Connection(self.amqp_uri, connect_timeout=5)
            # tries each node of a `;`-separated cluster URI in turn
            self._connection.ensure_connection(max_retries=len(self._connection.alt) or 1,
                                               interval_start=0, interval_step=0.2,
                                               interval_max=0.5)
            channel = self._connection.channel()
            self.exchange(channel).declare()
            channel.tx_select()
            self._producer = Producer(channel, exchange=self.exchange, serializer="json")
        return self._producer

    def close(self):
        connection, self._connection, self._producer = self._connection, None, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass

    def _publish(self, rows):
        try:
            # a broker (or cluster node) that stops answering without closing the socket
            # must not hold the relay (and its claimed rows) forever: each attempt is capped
            with eventlet.Timeout(PUBLISH_TIMEOUT, RelayTimeout(PUBLISH_TIMEOUT)):
                producer = self._open()
                for row in rows:
                    payload, headers = row.payload, {}
                    if payload.get("correlation_id"):
                        # nameko hands `nameko.*` headers to the consumer's worker context data
                        headers["nameko.request_id"] = payload["correlation_id"]
                    traceparent = tracing.publish_traceparent(payload, self.service_name)
                    if traceparent:  # consumers' spans are children of this publish span
                        payload = dict(payload, traceparent=traceparent)
                    producer.publish(payload, routing_key=row.type, delivery_mode=2,
                                     message_id=payload["event_id"], headers=headers)
                producer.channel.tx_commit()
        except BaseException:
            self.close()  # a half-sent transaction is discarded by the broker
            raise

    def relay_once(self):
        """Publish one batch; returns how many rows were published.

        One statement claims and marks the batch (an UPDATE of the oldest unpublished rows,
        `FOR UPDATE SKIP LOCKED` on PostgreSQL, RETURNING them): the mark commits only after
        the broker has taken the batch, so a failed publish rolls it back and the rows stay
        unpublished, exactly as a separate SELECT then UPDATE did, at one round trip less
        per pass."""
        with self.database.unit_of_work() as uow:
            table = _table(uow.session, "outbox")
            oldest = (select(table.c.id).where(table.c.published_at.is_(None))
                      .order_by(table.c.id).limit(self.batch_size))
            if not self.database.lock:
                oldest = oldest.with_for_update(skip_locked=True)
            claim = (update(table).where(table.c.id.in_(oldest.scalar_subquery()))
                     .values(published_at=utcnow())
                     .returning(table.c.id, table.c.type, table.c.payload))
            # RETURNING follows no order: published in id order, as they were written
            rows = sorted(uow.session.execute(claim).all(), key=lambda r: r.id)
            if not rows:
                return 0
            try:
                self._publish(rows)
            except Exception:
                uow.rollback()  # the rows stay unpublished; count the attempt
                uow.session.execute(update(table).where(table.c.id.in_([r.id for r in rows]))
                                    .values(attempts=table.c.attempts + 1))
                uow.commit()
                raise
            uow.commit()
            return len(rows)

    def backlog(self):
        """(unpublished rows, age in seconds of the oldest of them or 0): the metrics."""
        from sqlalchemy import func
        with self.database.unit_of_work() as uow:
            table = _table(uow.session, "outbox")
            count, oldest = uow.session.execute(
                select(func.count(), func.min(table.c.created_at))
                .where(table.c.published_at.is_(None))).one()
        if not count or oldest is None:
            return 0, 0.0
        if isinstance(oldest, str):  # SQLite without type affinity
            from datetime import datetime
            oldest = datetime.fromisoformat(oldest)
        if oldest.tzinfo is None:  # SQLite keeps no zone: stored in UTC
            from datetime import timezone
            oldest = oldest.replace(tzinfo=timezone.utc)
        return count, max(0.0, (utcnow() - oldest).total_seconds())

    def pending(self):
        with self.database.unit_of_work() as uow:
            table = _table(uow.session, "outbox")
            return len(uow.session.execute(
                select(table.c.id).where(table.c.published_at.is_(None))).all())


def crash_after_commit_requested():
    """Fault injection for the outbox test: die between commit and publish."""
    return os.environ.get("GONGDAN_FAULT_CRASH_AFTER_COMMIT") == "1"
