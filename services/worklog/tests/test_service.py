"""Worklog through the real service container over RabbitMQ, on SQLite and PostgreSQL.

A tiny fake "intake" Nameko service answers `ticket_state` with whatever the test set, so
worklog really asks over RPC for the authoritative ticket state. The fake runs under its own
service name (WORKLOG.intake_service) so it never shares a queue with a real intake that
another suite may be running on the same broker.
"""
import secrets
from unittest import mock

import eventlet
import pytest
from kombu import Connection, Exchange, Queue
from nameko.exceptions import UnknownService
from nameko.testing.services import worker_factory
from nameko.testing.utils import get_extension

from gongdan_common.dependencies import UnitOfWorkProvider
from gongdan_common.entrypoints import rpc
from gongdan_common.errors import AppError, ErrorSpec
from gongdan_common.events import EnvelopeSchema, utcnow
from services.worklog.dependencies import TicketStateClient
from services.worklog.service import WorklogService

from .conftest import (AGENT, CUSTOMER, CUSTOMER_ADMIN, ENGINEER, HOUR, OTHER_CUSTOMER,
                       OTHER_ENGINEER, PROVIDER_ADMIN, ticket)

FAKE_INTAKE = "worklog_tests_intake"
INTAKE_NOT_FOUND = ErrorSpec("ticket_not_found", 404, "Ticket not found.", "工单不存在。")
TIMEOUT = 10


class FakeIntake:
    """Answers `ticket_state` like intake does: the TicketRef dict, or ticket_not_found."""
    name = FAKE_INTAKE
    tickets = {}

    @rpc
    def ticket_state(self, ticket_id):
        if ticket_id not in FakeIntake.tickets:
            raise INTAKE_NOT_FOUND()
        return FakeIntake.tickets[ticket_id]


def set_ticket(**fields):
    # real wall-clock times here: the running service uses the real clock
    state = ticket(**fields)
    state["created_at"] = iso(now() - 48 * HOUR)
    FakeIntake.tickets[state["id"]] = state
    return state


def now():
    return utcnow()


def iso(value):
    return value.isoformat().replace("+00:00", "Z")


@pytest.fixture
def worklog(container_factory, rabbit_config, service_database, rpc_proxy):
    FakeIntake.tickets = {}
    container_factory(FakeIntake, {"AMQP_URI": rabbit_config["AMQP_URI"]}).start()
    url = service_database("worklog", migrated=True)
    container = container_factory(WorklogService, {
        "AMQP_URI": rabbit_config["AMQP_URI"], "DATABASES": {"worklog": url},
        "OUTBOX": {"poll_interval": 0.2},
        "WORKLOG": {"intake_service": FAKE_INTAKE, "intake_timeout": 5}})
    container.start()
    yield rpc_proxy("worklog")
    container.stop()  # before the database is dropped
    get_extension(container, UnitOfWorkProvider).database.dispose()


@pytest.fixture
def published(rabbit_config):
    """Everything worklog publishes during the test: `next_event()` returns the next one."""
    exchange = Exchange("worklog.events", type="topic", durable=True)
    queue = Queue(f"test-worklog-{secrets.token_hex(4)}", exchange, routing_key="#",
                  exclusive=True, auto_delete=True)
    with Connection(rabbit_config["AMQP_URI"]) as conn, conn.SimpleQueue(queue) as inbox:
        def next_event():
            message = inbox.get(timeout=TIMEOUT)
            message.ack()
            return message.payload
        yield next_event


def body(start, end, **over):
    out = {"started_at": iso(start), "ended_at": iso(end), "title": "远程排查备份失败",
           "description": "检查 AnyBackup 客户端日志；checked client logs, restarted the agent.",
           "on_site": False}
    out.update(over)
    return out


def refusal(call, *args):
    with pytest.raises(AppError) as err:
        call(*args)
    return err.value


def test_work_log_round_trip(worklog, published):
    set_ticket()
    t = now()
    entry = worklog.add_entry(ENGINEER, "t-1", body(t - 3 * HOUR, t - HOUR, on_site=True))
    assert (entry["ticket_number"], entry["minutes"], entry["handler"]["name"]) == (
        "TS20261122001", 120, "张工")

    added = published()
    EnvelopeSchema().load(added)  # the one envelope
    assert (added["type"], added["ticket_id"], added["ticket_number"]) == (
        "worklog_added", "t-1", "TS20261122001")
    assert (added["data"]["entry_id"], added["data"]["minutes"], added["data"]["on_site"]) == (
        entry["id"], 120, True)

    listed = worklog.list_entries(CUSTOMER, "t-1")
    assert [i["id"] for i in listed["items"]] == [entry["id"]]
    assert listed["items"][0]["description"].startswith("检查 AnyBackup")

    fixed = worklog.update_entry(ENGINEER, entry["id"], {"ended_at": iso(t - 2 * HOUR)})
    assert (fixed["minutes"], fixed["version"]) == (60, 2)
    updated = published()
    assert (updated["type"], updated["data"]["changes"]["ended_at"][1]) == (
        "worklog_updated", iso(t - 2 * HOUR))

    worklog.add_entry(AGENT, "t-1", body(t - 5 * HOUR, t - 4 * HOUR,
                                         handler={"id": "u-eng-li", "name": "李工"}))
    assert published()["data"]["handler"] == {"id": "u-eng-li", "name": "李工"}
    spent = worklog.ticket_time(CUSTOMER_ADMIN, "t-1")
    assert (spent["minutes"], spent["entries"], spent["on_site_entries"]) == (120, 2, 1)

    report = worklog.engineer_time(PROVIDER_ADMIN, {"from": iso(t - 24 * HOUR), "to": iso(t)})
    assert [(e["engineer_id"], e["minutes"]) for e in report["engineers"]] == [
        ("u-eng-li", 60), (ENGINEER["id"], 60)]  # equal time: by id

    assert worklog.delete_entry(AGENT, entry["id"])["deleted"] is True
    deleted = published()
    assert (deleted["type"], deleted["data"]["entry_id"]) == ("worklog_deleted", entry["id"])
    history = worklog.entry_history(ENGINEER, entry["id"])["items"]
    assert [(c["action"], c["actor"]["role"]) for c in history] == [
        ("create", "engineer"), ("update", "engineer"), ("delete", "agent")]
    assert worklog.ticket_time(ENGINEER, "t-1")["minutes"] == 60


def test_refusals_over_rpc(worklog):
    t = now()
    good = body(t - 2 * HOUR, t - HOUR)

    set_ticket(status="suspended")
    err = refusal(worklog.add_entry, ENGINEER, "t-1", good)
    assert (err.status, err.code, err.details) == (409, "ticket_not_in_progress",
                                                  {"status": "suspended"})
    assert "“已挂起”" in err.message("zh") and "“Suspended”" in err.message("en")

    set_ticket(status="assigned")  # assigned, not started
    err = refusal(worklog.add_entry, ENGINEER, "t-1", good)
    assert (err.status, err.details["status"]) == (409, "assigned")

    set_ticket(handler_id=OTHER_ENGINEER["id"])  # someone else's ticket
    err = refusal(worklog.add_entry, ENGINEER, "t-1", good)
    assert (err.status, err.code) == (404, "ticket_not_found")  # not theirs: not seen

    set_ticket()
    err = refusal(worklog.add_entry, CUSTOMER, "t-1", good)  # customers read, never write
    assert (err.status, err.code) == (403, "forbidden")

    err = refusal(worklog.add_entry, ENGINEER, "t-1", body(t - HOUR, t - 2 * HOUR))
    assert (err.status, err.code) == (400, "validation_failed")
    assert err.details["fields"]["ended_at"][0]["zh"] == "结束时间必须晚于开始时间。"

    err = refusal(worklog.add_entry, ENGINEER, "t-unknown", good)
    assert (err.status, err.code) == (404, "ticket_not_found")
    err = refusal(worklog.list_entries, OTHER_CUSTOMER, "t-1")  # may not see it
    assert err.status == 404

    assert worklog.list_entries(AGENT, "t-1")["items"] == []  # nothing was written


# ---- the intake client and the entrypoints, without a broker ------------------------------

class _Proxy:
    def __init__(self, behaviour):
        self.behaviour = behaviour

    def ticket_state(self, ticket_id):
        return self.behaviour(ticket_id)


def test_intake_client_translates_not_found_and_unavailability():
    assert TicketStateClient(_Proxy(lambda tid: {"id": tid}), 1)("t-1") == {"id": "t-1"}

    def not_found(tid):
        raise INTAKE_NOT_FOUND()

    def unknown(tid):
        raise UnknownService("intake")

    def slow(tid):
        eventlet.sleep(5)

    def other(tid):
        raise ErrorSpec("boom", 400, "x", "x")()

    for behaviour, status in ((not_found, 404), (unknown, 503), (slow, 503), (other, 400)):
        with pytest.raises(AppError) as err:
            TicketStateClient(_Proxy(behaviour), 0.1)("t-1")
        assert err.value.status == status, behaviour.__name__


def test_entrypoints_delegate_to_handlers():
    service = worker_factory(WorklogService)
    with mock.patch("services.worklog.service.handlers") as h:
        service.add_entry(ENGINEER, "t-1", {"title": "x"})
        h.add_entry.assert_called_once_with(ENGINEER, "t-1", {"title": "x"}, service.uow,
                                            service.ticket_state, service.settings)
        service.engineer_time(AGENT, {"from": "a", "to": "b"})
        h.engineer_time.assert_called_once_with(AGENT, {"from": "a", "to": "b"}, service.uow)


def test_intake_ticket_state_contract():
    """What intake's `ticket_state` dumps (its TicketRef) loads through worklog's schema, and
    the tests' fake tickets have exactly its fields."""
    from types import SimpleNamespace

    from services.intake.events import TicketRef
    from services.worklog.schemas import TicketStateSchema

    fake = ticket()
    assert set(fake) == set(TicketRef().fields)
    at = utcnow()
    dumped = TicketRef().dump(SimpleNamespace(**{**fake, "created_at": at, "updated_at": at}))
    loaded = TicketStateSchema().load(dumped)
    assert (loaded["status"], loaded["handler_id"], loaded["created_at"]) == (
        "in_progress", ENGINEER["id"], at)
