"""A consumer that (re)connects sets its consumers up under a deadline
(gongdan_common.amqp.ResilientQueueConsumer.setup_seconds): opening the channel, qos and
basic.consume each wait for the broker's answer, and kombu waits with no deadline. In the
cluster failover test, on a loaded machine, sla's consumer reconnected to a surviving node
and never consumed again while dispatch's did.

Here a proxy of the test's own lets the first connection's handshake through and then holds
back everything the broker sends once the client opens its channel: without the deadline
the service never starts consuming; with it, the consumer gives that connection up,
connects again (through the proxy, answered this time) and handles the events."""
import secrets
import time

import eventlet
import pytest

from gongdan_common.amqp import ResilientQueueConsumer
from gongdan_common.tests.test_batching import _publish, _wait, batch_service
from gongdan_common.tests.test_publish_deadline import SilentBrokerProxy, proxied

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
CHANNEL_OPEN = b"\x00\x14\x00\x0a"  # a method frame's class 20 (channel), method 10 (open)


class ChannelOpenSilencer(SilentBrokerProxy):
    """The first connection whose client opens a channel hears nothing more from the
    broker; later connections are answered."""

    def __init__(self, upstream):
        super().__init__(upstream)
        self.held = None
        self.connections = 0

    def heard(self, data, pair):
        if not pair.get("counted"):
            pair["counted"] = True
            self.connections += 1
        if self.held is None and CHANNEL_OPEN in data:
            self.held = pair
            pair["silent"] = True


def test_a_consumer_whose_setup_is_never_answered_connects_again(container_factory,
                                                                  monkeypatch):
    proxy, uri = proxied(ChannelOpenSilencer)
    monkeypatch.setattr(ResilientQueueConsumer, "setup_seconds", 1.0)
    source = "setupsrc" + secrets.token_hex(4)
    handled = []
    Service = batch_service(source, handled, "setuptest", batch_size=10, max_wait=0.2)
    try:
        container = container_factory(Service, {"AMQP_URI": uri})
        started = time.monotonic()
        with eventlet.Timeout(20, AssertionError("the consumer never started: its setup on "
                                                 "a connection the broker stopped answering "
                                                 "has no deadline")):
            container.start()
        assert proxy.held is not None and proxy.connections >= 2
        assert time.monotonic() - started < 15
        _publish(source, [{"n": n} for n in range(5)])
        assert _wait(lambda: sorted(handled) == list(range(5))), handled
        container.stop()
    finally:
        proxy.close()
