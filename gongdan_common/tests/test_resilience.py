"""Unit tests of the resilience plumbing (no broker): queue types, 503 classification."""
import pytest
import sqlalchemy.exc as sa
from kombu import Exchange, Queue
from kombu.exceptions import OperationalError

from gongdan_common.amqp import queue_type, typed_queue
from gongdan_common.errors import NOT_FOUND, unavailable_error


def test_queue_type_applies_to_durable_shared_queues_only():
    ex = Exchange("x", type="topic")
    durable = Queue("rpc-intake", exchange=ex, routing_key="intake.*", durable=True)
    quorum = {"AMQP_QUEUE_TYPE": "quorum"}
    assert typed_queue(durable, quorum).queue_arguments == {"x-queue-type": "quorum"}
    # classic: no argument at all, so queues declared before the setting still match
    assert typed_queue(durable, {"AMQP_QUEUE_TYPE": "classic"}).queue_arguments in (None, {})
    assert typed_queue(durable, {}).queue_arguments in (None, {})
    for q in (Queue("r", exchange=ex, durable=False),
              Queue("a", exchange=ex, durable=True, auto_delete=True),
              Queue("e", exchange=ex, durable=True, exclusive=True)):
        assert "x-queue-type" not in (typed_queue(q, quorum).queue_arguments or {})
    with pytest.raises(ValueError):
        queue_type({"AMQP_QUEUE_TYPE": "stream"})


def test_database_and_broker_unreachable_are_503_others_are_not():
    refused = sa.OperationalError("SELECT 1", {}, Exception("connection refused"))
    for exc in (refused, OperationalError("broker down"), ConnectionRefusedError()):
        err = unavailable_error(exc)
        assert err is not None and err.status == 503 and err.code == "service_unavailable"
        assert err.message("zh") and err.message("en")
    assert unavailable_error(ValueError("bug")) is None
    assert unavailable_error(sa.IntegrityError("INSERT", {}, Exception("dup"))) is None
    assert unavailable_error(NOT_FOUND(what="x", what_zh="x")) is None
