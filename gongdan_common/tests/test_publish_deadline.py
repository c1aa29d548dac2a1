"""Publishes have a deadline (gongdan_common.amqp.ResilientPublisher), also against a broker
that keeps the socket open but stops answering - as a loaded cluster node being stopped did.

The broker here is the shared one (a private vhost), reached through a proxy of the test's
own that can hold back everything the broker sends: the publish reaches the broker, its
confirm never reaches the client. Before: the publish waited for that confirm forever, and a
caller's own `eventlet.Timeout` (the gateway's RPC deadline) ended in kombu's pool cleanup
waiting, forever too, for the broker to acknowledge closing the channel.
"""
import os
import secrets
import subprocess
import time
import urllib.parse

import eventlet
import pytest

from gongdan_common.amqp import PublishTimeout, ResilientPublisher

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

AMQP_HOST, AMQP_PORT = "127.0.0.1", 5672
USER = os.environ.get("GONGDAN_TEST_AMQP_USER", "guest")


def _rabbitmqctl(*args):
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.fixture(scope="module")
def vhost():
    name = "gongdan-test-" + secrets.token_hex(4)
    made = _rabbitmqctl("add_vhost", name)
    if made.returncode != 0:
        pytest.skip(f"rabbitmqctl cannot create a vhost: {made.stderr}")
    _rabbitmqctl("set_permissions", "-p", name, USER, ".*", ".*", ".*")
    yield name
    _rabbitmqctl("delete_vhost", name)


class SilentBrokerProxy:
    """TCP proxy to the broker; `silence()` holds back whatever the broker sends from then
    on (the sockets stay open), `speak()` lets it through again."""

    def __init__(self, upstream):
        self.upstream, self.silent = upstream, False
        self.server = eventlet.listen(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.sockets, self.pumps = [], []
        self.acceptor = eventlet.spawn(self._accept)

    def _accept(self):
        while True:
            client, _ = self.server.accept()
            upstream = eventlet.connect(self.upstream)
            self.sockets += [client, upstream]
            pair = {"silent": False}  # one connection's own silence (see `heard`)
            self.pumps += [eventlet.spawn(self._pump, client, upstream, False, pair),
                           eventlet.spawn(self._pump, upstream, client, True, pair)]

    def heard(self, data, pair):
        """What the client sent on one connection (a subclass may silence that pair)."""

    def _pump(self, src, dst, from_broker, pair):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if not from_broker:
                    self.heard(data, pair)
                while from_broker and (self.silent or pair["silent"]):
                    eventlet.sleep(0.05)
                dst.sendall(data)
        except (OSError, EOFError):
            pass
        finally:
            dst.close()

    def silence(self):
        self.silent = True

    def speak(self):
        self.silent = False

    def close(self):
        for thread in [self.acceptor, *self.pumps]:
            thread.kill()
        self.server.close()
        for sock in self.sockets:
            sock.close()


def proxied(proxy_cls=SilentBrokerProxy, uri=None):
    """A `proxy_cls` in front of the broker of `uri` (services.conftest's AMQP_URI by
    default) and that URI pointed at the proxy."""
    from services.conftest import AMQP_URI
    parts = urllib.parse.urlsplit(uri or AMQP_URI)
    proxy = proxy_cls((parts.hostname, parts.port or 5672))
    return proxy, urllib.parse.urlunsplit(parts._replace(
        netloc=f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"))


@pytest.fixture
def proxy():
    p = SilentBrokerProxy((AMQP_HOST, AMQP_PORT))
    yield p
    p.close()


def publisher(proxy, vhost, retry_seconds, attempt_seconds):
    uri = (f"pyamqp://{USER}:{USER}@127.0.0.1:{proxy.port}/"
           + urllib.parse.quote(vhost, safe=""))
    pub = ResilientPublisher(uri)
    pub.retry_seconds, pub.attempt_seconds = retry_seconds, attempt_seconds
    return pub


def test_a_publish_the_broker_never_confirms_gives_up_at_its_deadline(proxy, vhost):
    pub = publisher(proxy, vhost, retry_seconds=3, attempt_seconds=1)
    pub.publish({"n": 1}, routing_key="nowhere")  # a connection open and idle in the pool
    proxy.silence()
    started = time.monotonic()
    with pytest.raises(PublishTimeout):
        with eventlet.Timeout(30, AssertionError("the publish is still waiting after 30 s")):
            pub.publish({"n": 2}, routing_key="nowhere")
    assert time.monotonic() - started < 6

    proxy.speak()  # the broker answers again: publishing works again, on new connections
    with eventlet.Timeout(10, AssertionError("no publish within 10 s of the broker's return")):
        pub.publish({"n": 3}, routing_key="nowhere")


def test_a_callers_own_deadline_is_kept_while_the_broker_is_silent(proxy, vhost):
    """The gateway wraps each RPC in eventlet.Timeout(GATEWAY_RPC_TIMEOUT): when it fires in
    the middle of a publish, the publish ends then, without waiting on the broker."""
    pub = publisher(proxy, vhost, retry_seconds=60, attempt_seconds=30)
    pub.publish({"n": 1}, routing_key="nowhere")
    proxy.silence()
    callers_deadline = eventlet.Timeout(1)
    started = time.monotonic()
    try:
        with eventlet.Timeout(30, AssertionError("still waiting 30 s after the caller's "
                                                 "1 s deadline")):
            with pytest.raises(eventlet.Timeout) as raised:
                with callers_deadline:
                    pub.publish({"n": 2}, routing_key="nowhere")
    finally:
        callers_deadline.cancel()
    assert raised.value is callers_deadline
    assert time.monotonic() - started < 3
