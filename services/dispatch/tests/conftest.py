"""Fixtures of dispatch's tests: actors, a fixed clock, a unit of work on a migrated database
(SQLite and PostgreSQL through services/conftest.py's `service_database`), and for the
service tests (on the private vhost of services/conftest.py) a container with DISPATCH settings, intake's and
sla's events as they publish them, and a listener on `dispatch.events`."""
import datetime as dt
import json
import secrets
import zoneinfo

import eventlet
import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.events import event_dispatcher
from nameko.testing.utils import get_extension

from gongdan_common.db import Database
from gongdan_common.dependencies import UnitOfWorkProvider
from services.dispatch.models import metadata
from services.intake import events as intake_events
from services.sla import events as sla_events

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


def make_settings(now=NOW, **over):
    settings = {"tz": SHANGHAI, "now": lambda: now, "offer_timeout": dt.timedelta(minutes=60),
                "warning_days": 30, "auto_offer": False, "intake_timeout": 5.0}
    settings.update(over)
    return settings


@pytest.fixture
def settings():
    return make_settings()


@pytest.fixture
def database(service_database):
    url = service_database("dispatch", migrated=True)
    db = Database(url, metadata)
    yield db
    db.dispose()


@pytest.fixture
def uow(database):
    return database.unit_of_work()


# ---- intake's tickets, as intake publishes them ---------------------------------------------

def ticket_ref(ticket_id=None, type="repair", status="new", product_line="AnyBackup",
               region=None, version=1, category="backup", product="AB-7", number=None,
               provider_id=None, handler_id=None):
    ticket_id = ticket_id or "t-" + secrets.token_hex(6)
    at = dt.datetime(2026, 11, 21, 16, 0, tzinfo=dt.timezone.utc)
    return {"id": ticket_id, "number": number or "TS20261122" + ticket_id[-3:],
            "type": type, "title": "备份任务失败", "product": product,
            "product_line": product_line, "category": category, "priority": "P2",
            "status": status, "company_id": "c-1", "region": region, "submitter_id": "u-cust",
            "provider_id": provider_id, "handler_id": handler_id, "version": version,
            "created_at": at, "updated_at": at}


def ticket_created(ref):
    """The envelope intake's outbox publishes for a new ticket (intake's own EventSpec)."""
    return _json(intake_events.TICKET_CREATED.envelope(
        {"ticket": ref}, actor={"id": "u-cust", "role": "customer", "name": "Cus"},
        ticket_id=ref["id"], ticket_number=ref["number"]))


def ticket_status_changed(ref, from_status, action="transition"):
    return _json(intake_events.TICKET_STATUS_CHANGED.envelope(
        {"action": action, "from_status": from_status, "to_status": ref["status"],
         "reason": None, "ticket": ref},
        actor={"id": None, "role": "system", "name": "system"},
        ticket_id=ref["id"], ticket_number=ref["number"]))


def timer_due(key, kind, owner, payload, due_at=NOW, ticket_id=None):
    """The envelope sla publishes when a durable timer fires."""
    return _json(sla_events.TIMER_DUE.envelope(
        {"timer_id": "tm-" + secrets.token_hex(4), "key": key, "kind": kind, "owner": owner,
         "due_at": due_at, "fired_at": due_at, "payload": payload}, ticket_id=ticket_id))


def _json(envelope):
    """What a consumer receives: the payload after a JSON round trip."""
    return json.loads(json.dumps(envelope))


# ---- the service in a container ---------------------------------------------------------------

@pytest.fixture
def start_dispatch(container_factory, rabbit_config, service_database):
    """Like services/conftest.py's start_service, with DISPATCH settings (e.g. auto_offer)."""
    from services.dispatch.service import DispatchService
    started = []

    def start(dispatch_config=None, service_cls=DispatchService):
        url = service_database("dispatch", migrated=True)
        config = {"AMQP_URI": rabbit_config["AMQP_URI"], "DATABASES": {"dispatch": url},
                  "OUTBOX": {"poll_interval": 0.2}, "DISPATCH": dispatch_config or {}}
        container = container_factory(service_cls, config)
        container.start()
        started.append(container)
        return container

    yield start
    for container in started:
        container.stop()
        provider = get_extension(container, UnitOfWorkProvider)
        if provider is not None and hasattr(provider, "database"):
            provider.database.dispose()


@pytest.fixture
def publish(rabbit_config):
    """publish("intake", envelope): as the source service's outbox relay would."""
    dispatcher = event_dispatcher({"AMQP_URI": rabbit_config["AMQP_URI"]})

    def send(source, envelope):
        dispatcher(source, envelope["type"], envelope)
    return send


class Inbox:
    """Everything published on dispatch.events while the test runs."""

    def __init__(self, conn, queue):
        self.conn, self.queue, self.seen = conn, queue, []

    def _drain(self, timeout):
        try:
            message = self.queue.get(timeout=timeout)
        except self.queue.Empty:
            return False
        message.ack()
        self.seen.append(message.payload)
        return True

    def wait_for(self, type, timeout=10, **match):
        """The first event of `type` whose envelope (or data) has the given values."""
        def hit(e):
            return e["type"] == type and all(
                e.get(k, e["data"].get(k)) == v for k, v in match.items())
        deadline = eventlet.hubs.get_hub().clock() + timeout
        while True:
            for e in self.seen:
                if hit(e):
                    return e
            left = deadline - eventlet.hubs.get_hub().clock()
            if left <= 0:
                raise AssertionError(f"no {type} {match}; saw {[x['type'] for x in self.seen]}")
            self._drain(min(left, 0.5))

    def of(self, type, **match):
        self.settle()
        return [e for e in self.seen if e["type"] == type and all(
            e.get(k, e["data"].get(k)) == v for k, v in match.items())]

    def settle(self, quiet=0.5):
        while self._drain(quiet):
            pass


@pytest.fixture
def inbox(rabbit_config):
    exchange = Exchange("dispatch.events", type="topic", durable=True)
    queue = Queue(f"test-dispatch-all-{secrets.token_hex(4)}", exchange, routing_key="#",
                  exclusive=True, auto_delete=True)
    with Connection(rabbit_config["AMQP_URI"]) as conn, conn.SimpleQueue(queue) as simple:
        yield Inbox(conn, simple)
