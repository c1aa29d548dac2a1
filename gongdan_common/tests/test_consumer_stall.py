"""A consumer the broker stopped serving connects again
(gongdan_common.amqp.ResilientQueueConsumer.stall_check_seconds).

In the cluster failover test, after the stopped node's quorum queues elected new leaders,
dispatch (once sla) stayed connected, registered and silent beside a queue of hundreds of
ready events: no error, no log line, nothing consumed again. Here the broker is made to
forget the consumer the same way, behind the client's back (a basic.cancel sent on the
consumer's own channel, which kombu's Consumer does not hear about), on the real broker.
First with the check off, to show the stall is real (nothing arrives); then with it on,
the consumer connects again and every event is handled."""
import secrets
import time
import types

import pytest

from gongdan_common.amqp import ResilientQueueConsumer
from gongdan_common.batching import BatchQueueConsumer, batch_event_handler
from gongdan_common.tests.test_batching import _publish, _wait, _waiting, batch_service
from gongdan_common.tests.test_publish_deadline import SilentBrokerProxy, proxied
from services.conftest import AMQP_URI

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _batch_consumer(container):
    consumer, = [e for e in container.extensions if isinstance(e, BatchQueueConsumer)]
    return consumer


def _forget_consumers_once(queue_consumer, forgotten):
    """From the consumer's own thread (its loop's next iteration): cancel every consumer of
    its channel at the broker, leaving kombu believing it still consumes."""
    real = queue_consumer.on_iteration

    def on_iteration(self):
        if not forgotten:
            for consumer in self._consumers.values():
                for tag in list(consumer._active_tags.values()):
                    consumer.channel.basic_cancel(tag)
            forgotten.append(self._channel)
        return real()

    queue_consumer.on_iteration = types.MethodType(on_iteration, queue_consumer)


def test_a_consumer_the_broker_stopped_serving_connects_again(container_factory):
    source = "stallsrc" + secrets.token_hex(4)
    handled = []
    Service = batch_service(source, handled, "stalltest", batch_size=10, max_wait=0.2)
    container = container_factory(Service, {"AMQP_URI": AMQP_URI})
    container.start()
    qc = _batch_consumer(container)
    assert isinstance(qc, ResilientQueueConsumer)
    qc.stall_check_seconds = 3600.0  # the check off: the stall below must be a real one

    _publish(source, [{"n": -1}])
    assert _wait(lambda: handled == [-1]), handled  # consuming, before the fault
    forgotten = []
    _forget_consumers_once(qc, forgotten)
    assert _wait(lambda: forgotten, 10), "the consumer's loop never iterated"
    _publish(source, [{"n": n} for n in range(5)])
    time.sleep(2.0)
    assert handled == [-1], "the broker still delivered: the fault was not simulated"
    assert _waiting(source, Service.name, "handle") == 5

    qc.stall_check_seconds = 0.5  # the check on: two checks see the queue ready, then ...
    assert _wait(lambda: sorted(handled) == [-1, 0, 1, 2, 3, 4]), handled
    assert qc._channel is not forgotten[0]  # ... it connected again (a new channel)
    assert _waiting(source, Service.name, "handle") == 0
    container.stop()


def test_a_busy_consumer_is_not_taken_for_a_stalled_one(container_factory):
    """Messages ready because every prefetched one is still being handled (a slow handler):
    the consumer keeps its connection."""
    source = "stallsrc" + secrets.token_hex(4)
    handled = []

    class Service:
        name = "stallbusy" + secrets.token_hex(3)

        @batch_event_handler(source, "thing", batch_size=2, max_wait=0.05)
        def handle(self, envelopes):
            time.sleep(0.4)  # not eventlet's: the batch holds its messages unacked meanwhile
            handled.extend(e["n"] for e in envelopes)

    container = container_factory(Service, {"AMQP_URI": AMQP_URI,
                                            "EVENT_BATCH": {"size": 2, "max_wait": 0.05}})
    container.start()
    qc = _batch_consumer(container)
    qc.stall_check_seconds = 0.3
    channel = qc._channel
    _publish(source, [{"n": n} for n in range(30)])
    assert _wait(lambda: sorted(handled) == list(range(30)), 60), handled
    assert qc._channel is channel  # never reconnected while the queue waited on it
    container.stop()


class PairSilencer(SilentBrokerProxy):
    """`silence_open()` holds back what the broker sends on the connections open now; later
    connections are answered."""

    def __init__(self, upstream):
        super().__init__(upstream)
        self.pairs = []

    def heard(self, data, pair):
        if not pair.get("seen"):
            pair["seen"] = True
            self.pairs.append(pair)

    def silence_open(self):
        for pair in self.pairs:
            pair["silent"] = True


def test_a_consumer_held_by_a_broker_that_stopped_answering_connects_again(container_factory):
    """Heartbeats off, the broker's node keeps the socket open and answers nothing more:
    the consumer's loop still passes (its reads time out) until its next look at the queue,
    a passive declare that is never answered. The watchdog wakes it, the connection is
    dropped without a closing handshake (which would wait just as long), and the consumer
    connects again and takes the events that waited."""
    proxy, uri = proxied(PairSilencer)
    source = "stallsrc" + secrets.token_hex(4)
    handled = []
    Service = batch_service(source, handled, "stallheld", batch_size=10, max_wait=0.1)
    try:
        container = container_factory(Service, {"AMQP_URI": uri, "HEARTBEAT": 0})
        qc = _batch_consumer(container)
        qc.stall_check_seconds, qc.stall_limit_seconds = 0.5, 2.0
        container.start()
        _publish(source, [{"n": -1}])
        assert _wait(lambda: handled == [-1]), handled
        channel = qc._channel
        proxy.silence_open()
        _publish(source, [{"n": n} for n in range(5)])
        assert _wait(lambda: sorted(handled) == [-1, 0, 1, 2, 3, 4], 30), handled
        assert qc._channel is not channel
        container.stop()
    finally:
        proxy.close()
