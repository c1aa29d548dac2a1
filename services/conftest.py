"""Fixtures shared by every service's test suite (services/<service>/tests/).

- `db_backend` runs each test that needs a database once on SQLite and once on PostgreSQL.
- `service_database(name)` makes a throwaway database: a SQLite file in `tmp_path`, or a
  `gd_<name>_<random>` PostgreSQL database dropped after the test.
  `service_database(name, migrated=True)` makes one already at the head of the service's
  migrations: a copy of a database the session migrated once (SQLite: the file copied;
  PostgreSQL: CREATE DATABASE ... TEMPLATE), so each test does not run every migration again.
  The migrations themselves run from an empty database in `schema_drift` and the migration
  tests.
- `start_service(ServiceClass)` migrates a fresh database and runs the service in a nameko
  container on it; `rpc_proxy(name)` calls it over RabbitMQ.
- `schema_drift(name, metadata)` lists differences between the migrated schema and the models.
- `outbox_probe(container)` proves the service's outbox is relayed to `<name>.events` and its
  inbox drops a redelivered event.

Broker and PostgreSQL default to the local ones; override with GONGDAN_TEST_AMQP_URI and
GONGDAN_TEST_PG_URL (a URL of a database the user may CREATE DATABASE from).
"""
import itertools
import os
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import urllib.parse

import eventlet
import psycopg2
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from kombu import Connection, Exchange, Queue
from marshmallow import Schema, fields
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.utils import get_extension
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from gongdan_common.dependencies import UnitOfWorkProvider
from gongdan_common.events import EventSpec, exchange_name
from gongdan_common.migrate import alembic_config, upgrade
from gongdan_common.outbox import consume_once

AMQP_URI = os.environ.get("GONGDAN_TEST_AMQP_URI", "pyamqp://guest:guest@127.0.0.1:5672/")
PG_ADMIN_URL = os.environ.get("GONGDAN_TEST_PG_URL",
                              "postgresql://postgres@127.0.0.1:5432/postgres")
TIMEOUT = 10


def _rabbitmqctl(*args):
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.fixture(scope="module")
def _private_vhost():
    """A RabbitMQ vhost per test module: another suite may run services on the same broker at
    the same time (two checkouts, CI beside a developer), and a service-pool queue (or a fake
    `intake` RPC consumer) shared with them would hand our messages to their containers.
    Falls back to the shared vhost when rabbitmqctl may not create one."""
    vhost = "gongdan-test-" + secrets.token_hex(4)
    try:
        made = _rabbitmqctl("add_vhost", vhost)
    except (OSError, subprocess.SubprocessError):
        made = None
    if made is None or made.returncode != 0:
        yield AMQP_URI
        return
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    base = AMQP_URI.rsplit("/", 1)[0]
    yield base + "/" + urllib.parse.quote(vhost, safe="")
    _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def rabbit_config(_private_vhost):
    """Overrides nameko's fixture (which needs the management plugin, not enabled on the local
    broker): the module's private vhost."""
    return {"AMQP_URI": _private_vhost}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_backend(request):
    return request.param


def _pg_admin():
    url = make_url(PG_ADMIN_URL)
    conn = psycopg2.connect(host=url.host, port=url.port, user=url.username,
                            password=url.password, dbname=url.database)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    return conn


def _pg_url(name):
    return make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg2", database=name) \
        .render_as_string(hide_password=False)


def _pg_create(name, template=None):
    conn = _pg_admin()
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        conn.close()


def _pg_drop(names):
    if not names:
        return
    conn = _pg_admin()
    try:
        with conn.cursor() as cur:
            for name in names:
                # FORCE: a pool the test left open must not keep the database alive
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


@pytest.fixture(scope="session")
def _migrated_templates():
    """(backend, service) -> a database migrated to head once a session: a SQLite file, or
    a `gd_tpl_<service>_<random>` PostgreSQL database that nothing stays connected to (a
    template must be idle to be copied). Dropped at the end of the session."""
    folder = tempfile.mkdtemp(prefix="gongdan-templates-")
    made = {}

    def get(backend, service_name):
        if (backend, service_name) not in made:
            if backend == "sqlite":
                path = os.path.join(folder, f"{service_name}.db")
                upgrade(service_name, f"sqlite:///{path}")
                made[backend, service_name] = path
            else:
                name = f"gd_tpl_{service_name}_{secrets.token_hex(4)}"
                _pg_create(name)
                made[backend, service_name] = name
                upgrade(service_name, _pg_url(name))
        return made[backend, service_name]

    yield get
    _pg_drop([name for (backend, _), name in made.items() if backend == "postgresql"])
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def service_database(db_backend, tmp_path, _migrated_templates):
    """A factory of empty databases for one test: `url = service_database("dispatch")`;
    `service_database("dispatch", migrated=True)` is one at the head of its migrations."""
    created = []
    counter = itertools.count(1)

    def make(service_name, migrated=False):
        if db_backend == "sqlite":
            path = tmp_path / f"{service_name}-{next(counter)}.db"
            if migrated:
                # sqlite's own backup: a consistent copy whatever the journal mode
                src = sqlite3.connect(_migrated_templates("sqlite", service_name))
                dst = sqlite3.connect(path)
                try:
                    src.backup(dst)
                finally:
                    src.close()
                    dst.close()
            return f"sqlite:///{path}"
        name = f"gd_{service_name}_{secrets.token_hex(4)}"
        _pg_create(name, _migrated_templates("postgresql", service_name) if migrated else None)
        created.append(name)
        return _pg_url(name)

    yield make
    _pg_drop(created)


@pytest.fixture
def schema_drift(service_database):
    """Migrate a fresh database to head; return alembic's diff against `metadata` ([] = none).

    Also fails if the database is not at the single head of the service's migrations.
    """
    def check(service_name, metadata):
        url = service_database(service_name)
        upgrade(service_name, url)
        heads = ScriptDirectory.from_config(alembic_config(service_name, url)).get_heads()
        engine = create_engine(url, poolclass=pool.NullPool)
        try:
            with engine.connect() as conn:
                unmanaged = metadata.info.get("unmanaged_indexes", ())
                ctx = MigrationContext.configure(conn, opts={
                    "compare_type": True,
                    # indexes a migration manages by hand (models.py says which and why)
                    "include_object": lambda obj, name, kind, reflected, other:
                        not (kind == "index" and name in unmanaged)})
                assert [ctx.get_current_revision()] == heads
                return compare_metadata(ctx, metadata)
        finally:
            engine.dispose()

    return check


@pytest.fixture
def start_service(container_factory, rabbit_config, service_database):
    """Run a service class in a nameko container on a freshly migrated database."""
    started = []

    def start(service_cls, extra_config=None):
        name = service_cls.name
        url = service_database(name, migrated=True)
        config = {
            "AMQP_URI": rabbit_config["AMQP_URI"],
            "DATABASES": {name: url},
            "OUTBOX": {"poll_interval": 0.2},
            # the test process is not a service's: its heap is not frozen for good
            "OPS": {"gc_freeze": False},
            **(extra_config or {}),
        }
        container = container_factory(service_cls, config)
        container.start()
        started.append(container)
        return container

    yield start

    # Stop before the databases are dropped, and close the pools the providers opened.
    for container in started:
        container.stop()
        provider = get_extension(container, UnitOfWorkProvider)
        if provider is not None and hasattr(provider, "database"):
            provider.database.dispose()


@pytest.fixture
def rpc_proxy(rabbit_config):
    """`rpc_proxy("dispatch").health()`: a standalone RPC client, stopped after the test."""
    proxies = []

    def make(service_name):
        proxy = ServiceRpcProxy(service_name, rabbit_config, timeout=TIMEOUT)
        proxies.append(proxy)
        return proxy.start()

    yield make
    for proxy in proxies:
        proxy.stop()


def _wait_until(condition, timeout=TIMEOUT):
    with eventlet.Timeout(timeout):
        while not condition():
            eventlet.sleep(0.05)


class _ProbeData(Schema):
    n = fields.Integer(required=True)


@pytest.fixture
def outbox_probe(rabbit_config):
    """Emit a test-only event through a running service's unit of work; assert it arrives on
    `<service>.events` and that `consume_once` accepts it once and then refuses it."""
    def probe(container):
        name = container.service_name
        spec = EventSpec(name, "frame_probe", 1, _ProbeData, "test only")
        provider = get_extension(container, UnitOfWorkProvider)
        exchange = Exchange(exchange_name(name), type="topic", durable=True)
        queue = Queue(f"test-{name}-{secrets.token_hex(4)}", exchange, routing_key=spec.type,
                      exclusive=True, auto_delete=True)
        with Connection(rabbit_config["AMQP_URI"]) as conn, conn.SimpleQueue(queue) as inbox:
            with provider.get_dependency(None) as uow:  # the worker's view: relay wakes on commit
                envelope = uow.emit(spec, {"n": 7})
                uow.commit()
            message = inbox.get(timeout=TIMEOUT)
            message.ack()
        assert message.payload["event_id"] == envelope["event_id"]
        assert (message.payload["source"], message.payload["data"]) == (name, {"n": 7})
        _wait_until(lambda: provider.relay.pending() == 0)  # marked after the confirm

        for first_time in (True, False):
            with provider.database.unit_of_work() as uow:
                assert consume_once(uow, message.payload, "frame-test") is first_time
                uow.commit()

    return probe
