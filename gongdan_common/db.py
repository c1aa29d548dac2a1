"""Engines, the unit of work, and the Nameko dependency that provides it.

SQLite is the embedded default and PostgreSQL the production database. Neither may stall
the eventlet hub: psycopg2 is made cooperative by `eventlet.monkey_patch()`; the sqlite3
module is not, so in SQLite mode a process runs one unit of work at a time behind a green
lock (a worker waiting for SQLite's file lock would otherwise block every other greenlet,
including the one holding the lock).
"""
import contextlib
import os
import time

import eventlet.patcher
import eventlet.semaphore
from sqlalchemy import create_engine, event, exc
from sqlalchemy.orm import sessionmaker


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s"}


def service_metadata():
    """A service's MetaData (stable constraint names for Alembic) with the outbox and
    processed_events tables already in it."""
    from sqlalchemy import MetaData

    from .outbox import define_outbox_tables
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    define_outbox_tables(metadata)
    return metadata


def make_engine(url, **kw):
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kw)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # IMMEDIATE: take the write lock up front, so two processes never deadlock
            # upgrading read locks; it is also what makes outbox claiming safe on SQLite.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # room for every worker (nameko max_workers, 20 by default) plus the odd second
    # connection (e.g. intake's autocommitted number allocation) without churn.
    # Every checkout is checked (`_check_on_checkout`): after a database restart or failover
    # no request meets a dead pooled connection - it is replaced before use - so a service
    # is serving again as soon as the database is (an error while the database is away is
    # a 503 service_unavailable, see errors.unavailable_error). pool_recycle retires
    # connections before idle timeouts (proxies, firewalls) would cut them.
    # GONGDAN_DB_POOL_SIZE lowers the idle connections each process keeps (the test suite
    # runs many processes against one PostgreSQL with max_connections 100).
    pool_size = int(os.environ.get("GONGDAN_DB_POOL_SIZE", "25"))
    # LIFO: the connection returned last is handed out next, so the few a light load needs
    # stay recently used (no ping) while the rest wait idle
    engine = create_engine(url, pool_recycle=1800, pool_size=pool_size, max_overflow=10,
                           pool_use_lifo=True, **kw)
    _check_on_checkout(engine)
    return engine


# A pooled connection idle longer than this is pinged (a round trip) before use; one used
# more recently is only looked at (no round trip). Under load connections come back within
# milliseconds, so the pings of `pool_pre_ping` (one round trip per unit of work, 10-12 % of
# a service's CPU at c=20: docs/performance.md, issue 16) are gone.
PING_AFTER_IDLE_SECONDS = 5.0
_select = eventlet.patcher.original("select")


def _check_on_checkout(engine):
    """Replace a dead pooled connection before it is handed out. A server that shuts down
    or terminates a session writes a FATAL message and closes the socket, so the idle
    connection's socket is readable: seen without a round trip (a non-blocking poll). A
    connection idle for a while (a peer that vanished without closing: a failover, a
    dropped route) is pinged as `pool_pre_ping` did. Raising DisconnectionError makes the
    pool discard it and check out another (SQLAlchemy retries this up to 3 times)."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn, record):
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, record, _proxy):
        returned = record.info.pop("checked_in_at", None)
        if returned is None:  # a new connection
            return
        if dbapi_conn.closed or _select.select([dbapi_conn.fileno()], [], [], 0)[0]:
            raise exc.DisconnectionError("the server closed this pooled connection")
        if time.monotonic() - returned > PING_AFTER_IDLE_SECONDS:
            try:
                engine.dialect.do_ping(dbapi_conn)
            except engine.dialect.loaded_dbapi.Error as error:
                raise exc.DisconnectionError(f"ping failed: {error}") from error


def is_sqlite(engine):
    return engine.dialect.name == "sqlite"


class UnitOfWork:
    """One transaction. Use `with uow:`; nothing is kept unless `uow.commit()` is called.

    `uow.emit(spec, data, ...)` writes an event to the outbox in the same transaction. The
    rows are written together just before COMMIT (one multi-row INSERT however many events
    the transaction emitted: a batch consumer emits hundreds).
    """

    def __init__(self, session_factory, lock=None, on_commit=None, engine=None):
        self._session_factory = session_factory
        self.engine = engine
        self._lock = lock
        self._on_commit = on_commit
        self.session = None
        self._depth = 0
        self.emitted = []
        self._batch = None  # savepoint stack while inside `batch()`

    def __enter__(self):
        if self._depth == 0:
            if self._lock is not None:
                self._lock.acquire()
            self.session = self._session_factory()
            self.emitted = []
            self._outbox = []
        elif self._depth == 1 and self._batch is not None:
            self._batch.append(self._savepoint())
        self._depth += 1
        return self

    def __exit__(self, exc_type, *exc):
        self._depth -= 1
        if self._depth == 1 and self._batch:
            point = self._batch.pop()
            if point["committed"] and exc_type is None:
                point["nested"].commit()  # RELEASE: kept, committed with the batch
            else:  # left without commit (or raised): undo this handler's part only
                self._undo(point)
        if self._depth == 0:
            try:
                # close() rolls back anything uncommitted without expiring loaded objects,
                # so results read inside the block stay usable after it
                self.session.close()
            finally:
                self.session = None
                if self._lock is not None:
                    self._lock.release()

    def commit(self):
        if self._batch:  # a handler inside `batch()`: kept when it leaves its block
            self._batch[-1]["committed"] = True
            return
        self._write_outbox()
        self.session.commit()
        emitted, self.emitted = self.emitted, []
        if emitted and self._on_commit:
            self._on_commit(emitted)

    def rollback(self):
        if self._batch:  # undo this handler's part; it may go on in a fresh savepoint
            self._undo(self._batch[-1])
            self._batch[-1] = self._savepoint()
            return
        self.session.rollback()
        self.emitted = []
        self._outbox = []

    def _undo(self, point):
        point["nested"].rollback()
        del self._outbox[point["outbox"]:]
        del self.emitted[point["emitted"]:]

    def _savepoint(self):
        return {"nested": self.session.begin_nested(), "committed": False,
                "outbox": len(self._outbox), "emitted": len(self.emitted)}

    @contextlib.contextmanager
    def batch(self):
        """One transaction for many handler calls (a batch of events): each handler's own
        `with uow:` block runs in a SAVEPOINT; its `commit()` keeps its part, leaving the
        block without one (an early return, an exception, `rollback()`) undoes only its
        part, exactly as it would alone. The batch commits once at the end (one WAL flush,
        one outbox INSERT); an exception out of the batch rolls all of it back."""
        with self:
            self._batch = []
            try:
                yield self
            finally:
                self._batch = None
            self.commit()

    def flush(self):
        self.session.flush()  # (outbox rows are written at commit only)

    def _write_outbox(self):
        if self._outbox:
            from .outbox import add_many_to_outbox
            envelopes, self._outbox = self._outbox, []
            add_many_to_outbox(self.session, envelopes)

    def emit(self, spec, data, actor=None, ticket_id=None, ticket_number=None):
        envelope = spec.envelope(data, actor=actor, ticket_id=ticket_id, ticket_number=ticket_number)
        self._outbox.append(envelope)
        self.emitted.append(envelope["event_id"])
        return envelope

    def emit_many(self, spec, items):
        """`emit` for many events of one type: items are (data, {actor, ticket_id,
        ticket_number}) pairs."""
        return [self.emit(spec, data, **kw) for data, kw in items]


_SQLITE_LOCKS = {}


class Database:
    """Engine + session factory for one service database (built once per process)."""

    def __init__(self, url, metadata):
        self.url = url
        self.metadata = metadata
        self.engine = make_engine(url)
        from . import metrics
        metrics.count_statements(self.engine)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False,
                                         info={"metadata": metadata})
        # one lock per SQLite file per process, however many engines point at it
        self.lock = _SQLITE_LOCKS.setdefault(url, eventlet.semaphore.Semaphore(1)) \
            if is_sqlite(self.engine) else None

    def unit_of_work(self, on_commit=None):
        return UnitOfWork(self.sessionmaker, lock=self.lock, on_commit=on_commit,
                          engine=self.engine)

    def dispose(self):
        self.engine.dispose()
