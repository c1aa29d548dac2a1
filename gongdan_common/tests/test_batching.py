"""`batch_event_handler` against the real broker: events arrive in batches, every message
is acked once its batch returned, and a failing batch is split so one poison message is
retried (requeued) alone while the others are done."""
import collections
import secrets
import time

import pytest
from kombu import Connection, Exchange, Producer, Queue

from gongdan_common.batching import batch_event_handler
from services.conftest import AMQP_URI


def _wait(condition, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def source():
    return "batchsrc" + secrets.token_hex(4)  # its own exchange and queue: no other suite's


def batch_service(source, seen, prefix="batchtest", **handler):
    """A service whose one batch handler (`handler`: batch_size, max_wait) records the
    events' "n" in `seen`."""
    class Service:
        name = prefix + secrets.token_hex(3)

        @batch_event_handler(source, "thing", **handler)
        def handle(self, envelopes):
            seen.extend(e["n"] for e in envelopes)

    return Service


def _publish(source, bodies):
    exchange = Exchange(f"{source}.events", type="topic", durable=True)
    with Connection(AMQP_URI) as conn:
        producer = Producer(conn.default_channel, exchange=exchange, serializer="json")
        exchange(conn.default_channel).declare()
        for body in bodies:
            producer.publish(body, routing_key="thing", delivery_mode=2)


def _waiting(source, service, method):
    queue = Queue(f"evt-{source}-thing--{service}.{method}", durable=True)
    with Connection(AMQP_URI) as conn:
        _, count, _ = queue(conn.default_channel).queue_declare(passive=True)
        return count


def test_batches_are_acked_and_a_poison_message_is_retried_alone(container_factory, source):
    calls = []
    attempts = collections.Counter()

    class Service:
        name = "batchtest" + secrets.token_hex(3)

        @batch_event_handler(source, "thing", batch_size=10, max_wait=0.3,
                             requeue_on_error=True)
        def handle(self, envelopes):
            ns = [e["n"] for e in envelopes]
            calls.append(ns)
            attempts.update(ns)
            if 7 in ns and attempts[7] < 3:
                raise RuntimeError("poison")  # message 7 fails twice, then succeeds

    container = container_factory(Service, {"AMQP_URI": AMQP_URI})
    container.start()
    _publish(source, [{"n": n} for n in range(25)])

    assert _wait(lambda: attempts[7] >= 3 and all(attempts[n] for n in range(25)))
    assert max(len(c) for c in calls) > 1  # batched, not one worker per event
    assert all(len(c) <= 10 for c in calls)
    with_7 = [c for c in calls if 7 in c]
    failed = with_7[0]
    assert len(failed) > 1  # 7 first failed inside a batch,
    assert with_7[1] == [7]  # then alone (and was requeued),
    assert len(with_7) == 3  # and was done on its redelivery
    for n in failed:
        if n != 7:  # the others of the failed batch: retried alone once, done
            assert attempts[n] == 2 and calls.count([n]) == 1
    done_once = set(range(25)) - set(failed)
    assert all(attempts[n] == 1 for n in done_once)

    container.stop()
    assert _waiting(source, Service.name, "handle") == 0  # every message was acked


def test_stop_requeues_what_was_buffered(container_factory, source):
    seen = []

    class Service:
        name = "batchtest" + secrets.token_hex(3)

        @batch_event_handler(source, "thing", batch_size=100, max_wait=30)
        def handle(self, envelopes):
            seen.extend(e["n"] for e in envelopes)

    container = container_factory(Service, {"AMQP_URI": AMQP_URI})
    container.start()
    _publish(source, [{"n": n} for n in range(5)])
    handler = next(iter(container.entrypoints))
    assert _wait(lambda: len(handler._pending) == 5)  # gathered, waiting for more
    container.stop()
    assert seen == []
    assert _wait(lambda: _waiting(source, Service.name, "handle") == 5)  # back in the queue
