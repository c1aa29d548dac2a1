"""Durable timers: idempotent scheduling, firing once, within a second, across restarts and
replicas — handlers on a real database, then the service over RabbitMQ."""
import datetime as dt
import secrets
import time
import uuid

import eventlet
import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.events import event_dispatcher
from nameko.testing.utils import get_extension
from sqlalchemy import select

from gongdan_common.db import Database
from gongdan_common.dependencies import UnitOfWorkProvider
from gongdan_common.errors import AppError
from services.sla import handlers
from services.sla.models import Timer, metadata
from services.sla.service import SlaService

NOW = dt.datetime.now(dt.timezone.utc)


def request(key=None, due=None, **over):
    body = {"key": key if key is not None else "k-" + uuid.uuid4().hex, "kind": "auto_resume", "owner": "intake",
            "due_at": (due or NOW).isoformat(), "ticket_id": "t1", "payload": {"x": 1}}
    body.update(over)
    return body


@pytest.fixture
def db(service_database):
    url = service_database("sla", migrated=True)
    database = Database(url, metadata)
    yield database
    database.dispose()


def outbox(db):
    with db.unit_of_work() as uow:
        t = metadata.tables["outbox"]
        return [r.payload for r in uow.session.execute(select(t.c.payload).order_by(t.c.id))]


def test_schedule_is_idempotent_and_reschedules_pending(db):
    r = request(due=NOW + dt.timedelta(hours=1))
    first = handlers.schedule(r, db.unit_of_work())
    again = handlers.schedule(dict(r, due_at=(NOW + dt.timedelta(hours=2)).isoformat()),
                              db.unit_of_work())
    assert first["id"] == again["id"] and again["due_at"].startswith(
        (NOW + dt.timedelta(hours=2)).isoformat()[:16])
    with db.unit_of_work() as uow:
        assert len(uow.session.scalars(select(Timer)).all()) == 1


def test_fire_due_fires_only_due_timers_once_with_an_event(db):
    due = handlers.schedule(request(due=NOW - dt.timedelta(seconds=1)), db.unit_of_work())
    later = handlers.schedule(request(due=NOW + dt.timedelta(hours=1)), db.unit_of_work())
    assert handlers.fire_due(db.unit_of_work(), now=NOW) == 1
    assert handlers.fire_due(db.unit_of_work(), now=NOW) == 0
    (event,) = outbox(db)
    assert event["type"] == "timer_due" and event["data"]["key"] == due["key"]
    assert event["ticket_id"] == "t1" and event["data"]["payload"] == {"x": 1}
    assert handlers.get(later["key"], db.unit_of_work())["status"] == "pending"
    # a late redelivery of the original request does not re-arm a fired timer
    handlers.schedule(request(key=due["key"], due=NOW + dt.timedelta(hours=5)), db.unit_of_work())
    assert handlers.get(due["key"], db.unit_of_work())["status"] == "fired"


def test_timers_due_gauge_and_lateness_histogram(db):
    from gongdan_common import metrics
    sla = metrics.service()
    count0, sum0 = (_sample(metrics.SLA_LATENESS, "_count", sla),
                    _sample(metrics.SLA_LATENESS, "_sum", sla))
    handlers.schedule(request(due=NOW - dt.timedelta(seconds=30)), db.unit_of_work())
    handlers.schedule(request(due=NOW - dt.timedelta(seconds=10)), db.unit_of_work())
    handlers.schedule(request(due=NOW + dt.timedelta(hours=1)), db.unit_of_work())
    handlers.sample_timers_due(db.unit_of_work(), now=NOW)
    assert metrics.SLA_TIMERS_DUE.labels(sla)._value.get() == 2
    assert handlers.fire_due(db.unit_of_work(), now=NOW) == 2
    assert _sample(metrics.SLA_LATENESS, "_count", sla) == count0 + 2
    assert _sample(metrics.SLA_LATENESS, "_sum", sla) == pytest.approx(sum0 + 40, abs=0.1)
    handlers.sample_timers_due(db.unit_of_work(), now=NOW)
    assert metrics.SLA_TIMERS_DUE.labels(sla)._value.get() == 0


def _sample(metric, suffix, service):
    for family in metric.collect():
        for s in family.samples:
            if s.name.endswith(suffix) and s.labels.get("service") == service:
                return s.value
    return 0


def test_cancel_before_the_request_arrives_keeps_it_dead(db):
    handlers.cancel({"key": "late"}, db.unit_of_work())
    handlers.schedule(request(key="late", due=NOW - dt.timedelta(seconds=1)), db.unit_of_work())
    assert handlers.fire_due(db.unit_of_work(), now=NOW) == 0


def test_redelivered_event_cannot_undo_a_reschedule(db):
    env1 = {"event_id": str(uuid.uuid4())}
    handlers.schedule(request(key="k", due=NOW + dt.timedelta(hours=1)), db.unit_of_work(), env1)
    handlers.schedule(request(key="k", due=NOW + dt.timedelta(hours=3)), db.unit_of_work(),
                      {"event_id": str(uuid.uuid4())})
    handlers.schedule(request(key="k", due=NOW + dt.timedelta(hours=1)), db.unit_of_work(), env1)
    assert handlers.get("k", db.unit_of_work())["due_at"].startswith(
        (NOW + dt.timedelta(hours=3)).isoformat()[:16])


@pytest.mark.parametrize("bad", [{"kind": "Bad Kind"}, {"due_at": "soon"}, {"key": ""},
                                 {"colour": "red"}])
def test_bad_requests(db, bad):
    with pytest.raises(AppError) as err:
        handlers.schedule(request(**bad), db.unit_of_work())
    assert err.value.status == 400


# ---- the service over RabbitMQ ---------------------------------------------------------

class DueListener:
    def __init__(self, amqp_uri):
        self.conn = Connection(amqp_uri)
        exchange = Exchange("sla.events", type="topic", durable=True)
        self.queue = Queue("test-due-" + secrets.token_hex(4), exchange,
                           routing_key="timer_due", exclusive=True, auto_delete=True)
        self.simple = self.conn.SimpleQueue(self.queue)

    def collect(self, keys, seconds=10):
        got = {}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not set(keys) <= set(got):
            try:
                msg = self.simple.get(timeout=0.5)
            except Exception:  # noqa: BLE001 - kombu's Empty
                continue
            msg.ack()
            got.setdefault(msg.payload["data"]["key"], []).append((time.time(), msg.payload))
        return got

    def close(self):
        self.simple.close()
        self.conn.release()


def test_timers_fire_within_a_second_of_due(start_service, rpc_proxy, rabbit_config):
    start_service(SlaService)
    listener = DueListener(rabbit_config["AMQP_URI"])
    try:
        sla = rpc_proxy("sla")
        due = {}
        for i in range(5):
            at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1 + i * 0.3)
            key = f"latency-{i}-{uuid.uuid4().hex}"
            sla.schedule_timer(request(key=key, due=at))
            due[key] = at.timestamp()
        got = listener.collect(due)
        assert set(got) == set(due)
        lateness = [got[k][0][0] - due[k] for k in due]
        assert all(-0.05 < late < 1.0 for late in lateness), lateness
        assert all(len(v) == 1 for v in got.values())
    finally:
        listener.close()


def test_two_instances_fire_each_timer_once_and_restart_keeps_timers(
        container_factory, rabbit_config, service_database):
    url = service_database("sla", migrated=True)
    config = {"AMQP_URI": rabbit_config["AMQP_URI"], "DATABASES": {"sla": url},
              "OUTBOX": {"poll_interval": 0.2}}
    first, second = (container_factory(SlaService, config) for _ in range(2))
    first.start()
    second.start()
    listener = DueListener(rabbit_config["AMQP_URI"])
    try:
        provider = get_extension(first, UnitOfWorkProvider)
        soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
        keys = [f"pair-{i}-{uuid.uuid4().hex}" for i in range(40)]
        for key in keys:
            handlers.schedule(request(key=key, due=soon), provider.database.unit_of_work())
        got = listener.collect(keys, seconds=15)
        listener.collect([], seconds=1.5)  # duplicates would arrive now
        assert sorted(got) == sorted(keys)
        assert all(len(v) == 1 for v in got.values())

        # stop both; a timer falls due while nobody runs; a restarted instance fires it
        later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
        handlers.schedule(request(key="while-down", due=later), provider.database.unit_of_work())
        first.stop()
        second.stop()
        eventlet.sleep(1.5)
        third = container_factory(SlaService, config)
        third.start()
        got = listener.collect(["while-down"], seconds=10)
        assert len(got.get("while-down", [])) == 1
    finally:
        listener.close()


def test_timer_requested_events_from_other_services(start_service, rabbit_config):
    container = start_service(SlaService)
    provider = get_extension(container, UnitOfWorkProvider)
    dispatch = event_dispatcher({"AMQP_URI": rabbit_config["AMQP_URI"]})
    key = "evt-" + uuid.uuid4().hex
    envelope = {"event_id": str(uuid.uuid4()), "type": "timer_requested", "version": 1,
                "source": "intake", "data": request(key=key,
                                                    due=NOW + dt.timedelta(hours=1))}
    for _ in range(2):  # at-least-once delivery: the same event twice
        dispatch("intake", "timer_requested", envelope)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            timer = handlers.get(key, provider.database.unit_of_work())
            break
        except AppError:
            eventlet.sleep(0.1)
    assert timer["status"] == "pending"
    dispatch("intake", "timer_cancelled", {"event_id": str(uuid.uuid4()), "data": {"key": key}})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and \
            handlers.get(key, provider.database.unit_of_work())["status"] != "cancelled":
        eventlet.sleep(0.1)
    assert handlers.get(key, provider.database.unit_of_work())["status"] == "cancelled"
