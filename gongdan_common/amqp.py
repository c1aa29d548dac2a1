"""Nameko 2.14's AMQP entrypoints and proxies, made to ride out a broker restart or the loss
of one node of a RabbitMQ cluster.

What nameko does by itself, and why it is not enough:
- its consumers reconnect (kombu's ConsumerMixin loops on connection errors), but
- a publish (an RPC reply in `Responder.send_response`, an RPC request, an event) retries 3
  times over ~12 s, then *raises*; an RPC reply that raises kills the container, so the
  whole service process exits (seen: intake exiting with ECONNREFUSED on a broker restart);
- an ack on a channel that died raises too (py-amqp's errors are not the builtin
  ConnectionError nameko expects);
- RPC reply queues are durable classic queues: in a cluster, once their node is down they
  cannot be redeclared elsewhere (404 "home node down"), and the gateway's consumer stalls.

So here: publishes retry with backoff for up to `PUBLISH_RETRY_SECONDS`, each attempt capped at
`PUBLISH_ATTEMPT_SECONDS` (nameko publishes through kombu's pools with no deadline: a node that
keeps the socket open but stops answering held a publish forever waiting for its confirm, and
an outer `eventlet.Timeout` did not help: the pool's cleanup then waited, with no deadline
either, for the broker to acknowledge closing the channel); an RPC reply that
still cannot be sent is logged and dropped (the caller times out and retries: ticket
creation is idempotent on its Idempotency-Key); acks/requeues on dead channels are no-ops
(the broker redelivers those messages; consumers are idempotent); reply queues are
transient, so they are re-created on whichever node the consumer reconnects to. Every
durable queue gets the configured `AMQP_QUEUE_TYPE` (`classic` | `quorum`) as
`x-queue-type`. Use `rpc`, `event_handler` and `RpcProxy` from here (and
`gongdan_common.entrypoints.rpc`), never nameko's own.
"""
import logging
import socket
import sys
import time
import warnings
from contextlib import contextmanager
from functools import partial

import amqp.exceptions
import eventlet
from kombu import Connection, Consumer, Producer, Queue
from kombu.exceptions import ChannelError, OperationalError
from nameko import rpc as nameko_rpc
from nameko.amqp.publish import Publisher, UndeliverableMessage
from nameko.constants import (AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, DEFAULT_SERIALIZER,
                              LOGIN_METHOD_CONFIG_KEY, SERIALIZER_CONFIG_KEY)
from nameko.events import EventHandler
from nameko.messaging import QueueConsumer

log = logging.getLogger(__name__)

PUBLISH_RETRY_SECONDS = 30.0
PUBLISH_ATTEMPT_SECONDS = 10.0  # one attempt: connect, open the channel, publish, confirm
PUBLISH_CONNECT_SECONDS = 5.0   # one node's TCP connect + AMQP handshake
IDLE_PUBLISH_CONNECTIONS = 10   # kept open per URI between publishes (kombu's pool limit)
CONSUMER_SETUP_SECONDS = 30.0   # a (re)connected consumer's channel, qos and basic.consume
STALL_CHECK_SECONDS = 10.0      # how often a consumer compares its queues with what it got
STALL_LIMIT_SECONDS = 60.0      # a consumer thread held this long by one broker call is woken;
# its own waits are shorter: a connect 5 s, a set-up 30 s, a pause between retries 30 s, a
# pass of its loop 1 s
# errors that mean "the broker (or this connection to it) is away": retried, never fatal
CONNECTION_ERRORS = (OSError, OperationalError, amqp.exceptions.ConnectionError,
                     amqp.exceptions.RecoverableChannelError, amqp.exceptions.MessageNacked)
QUEUE_TYPE_CONFIG_KEY = "AMQP_QUEUE_TYPE"
QUEUE_TYPES = ("classic", "quorum")


def queue_type(config):
    value = str(config.get(QUEUE_TYPE_CONFIG_KEY) or "classic").strip().lower()
    if value not in QUEUE_TYPES:
        raise ValueError(f"{QUEUE_TYPE_CONFIG_KEY} must be one of {', '.join(QUEUE_TYPES)}, "
                         f"not {value!r}")
    return value


def typed_queue(queue, config):
    """`queue` with x-queue-type set when it is a durable, shared queue and the type is not
    the broker's default (classic declares stay argument-free, so queues declared before
    this setting existed keep matching)."""
    kind = queue_type(config)
    if kind == "classic" or not queue.durable or queue.auto_delete or queue.exclusive:
        return queue
    arguments = dict(queue.queue_arguments or {})
    arguments["x-queue-type"] = kind
    return Queue(queue.name, exchange=queue.exchange, routing_key=queue.routing_key,
                 durable=True, auto_delete=False, exclusive=False, queue_arguments=arguments)


class PublishTimeout(OperationalError):
    """A publish attempt that ran out of time (retried like a connection error)."""

    def __init__(self, seconds):
        super().__init__(f"the broker did not take the message within {seconds:g} s")


class PublishConnections:
    """Open broker connections for publishing, one per publish under way, kept per URI
    between publishes. A connection whose publish failed or ran out of time is dropped
    without AMQP's closing handshake: a node that stopped answering never answers it, and
    kombu's pools (which nameko's Publisher uses) wait for that answer with no deadline."""

    def __init__(self, keep=IDLE_PUBLISH_CONNECTIONS):
        self.keep = keep
        self._idle = {}

    @contextmanager
    def producer(self, amqp_uri, confirms, ssl=None, login_method=None):
        key = (amqp_uri, bool(confirms), repr(ssl), login_method)
        idle = self._idle.setdefault(key, [])
        connection = idle.pop() if idle else self._connect(amqp_uri, confirms, ssl,
                                                            login_method)
        try:
            yield Producer(connection)
        except BaseException:
            drop(connection)
            raise
        if len(idle) < self.keep:
            idle.append(connection)
        else:
            drop(connection)

    @staticmethod
    def _connect(amqp_uri, confirms, ssl, login_method):
        connection = Connection(amqp_uri, ssl=ssl, login_method=login_method,
                                connect_timeout=PUBLISH_CONNECT_SECONDS, transport_options={
                                    "confirm_publish": bool(confirms), "interval_start": 0,
                                    "interval_step": 0.2, "interval_max": 0.5})
        # each node of a `;`-separated cluster URI once, no pause in between
        connection.transport_options["max_retries"] = len(connection.alt) or 1
        return connection


def drop(connection):
    """Forget a connection at once: its socket is closed, nothing is asked of the broker."""
    try:
        connection.collect()
    except Exception:  # noqa: BLE001 - a broken connection is being thrown away
        pass


publish_connections = PublishConnections()


def _socket_of(conn):
    """The socket under a kombu connection (py-amqp's transport), or None."""
    transport = getattr(conn.connection, "transport", None)
    return getattr(transport, "sock", None)


class ResilientPublisher(Publisher):
    """nameko's Publisher with a deadline: each attempt (connect, publish, wait for the
    broker's confirm) is capped at `attempt_seconds`; one that meets a connection error or
    runs out of time is retried, on a new connection, with backoff for up to `retry_seconds`
    in all, then the error is raised. Same arguments as nameko's `Publisher.publish`."""

    retry_seconds = PUBLISH_RETRY_SECONDS
    attempt_seconds = PUBLISH_ATTEMPT_SECONDS
    connections = publish_connections

    def publish(self, payload, **kwargs):
        deadline = time.monotonic() + self.retry_seconds
        pause, failures = 0.25, 0
        while True:
            seconds = max(min(self.attempt_seconds, deadline - time.monotonic()), 0.1)
            try:
                with eventlet.Timeout(seconds, PublishTimeout(seconds)):
                    result = self._publish_once(payload, dict(kwargs))
            except CONNECTION_ERRORS + (PublishTimeout,) as exc:
                failures += 1
                if time.monotonic() + pause > deadline:
                    log.error("publish to %s failed for %.0f s, giving up: %r",
                              kwargs.get("routing_key"), self.retry_seconds, exc)
                    raise
                if failures == 1:
                    log.warning("publish to %s failed (%r); retrying for up to %.0f s",
                                kwargs.get("routing_key"), exc, self.retry_seconds)
                eventlet.sleep(pause)
                pause = min(pause * 2, 5.0)
                continue
            if failures:
                log.info("published to %s after %d failed attempt(s)",
                         kwargs.get("routing_key"), failures)
            return result

    def _publish_once(self, payload, kwargs):
        """nameko 2.14.1's `Publisher.publish`, on a connection of `self.connections` and
        without kombu's own retries (`publish` retries, on a fresh connection)."""
        publish_kwargs = self.publish_kwargs.copy()
        headers = publish_kwargs.pop("headers", {}).copy()
        headers.update(kwargs.pop("headers", {}))
        headers.update(kwargs.pop("extra_headers", {}))
        use_confirms = kwargs.pop("use_confirms", self.use_confirms)
        kwargs.pop("transport_options", None)
        kwargs.pop("retry", None)
        kwargs.pop("retry_policy", None)
        options = {name: kwargs.pop(name, getattr(self, name)) for name in (
            "delivery_mode", "mandatory", "priority", "expiration", "serializer",
            "compression")}
        declare = self.declare[:]
        declare.extend(kwargs.pop("declare", ()))
        publish_kwargs.update(kwargs)

        with self.connections.producer(self.amqp_uri, use_confirms, self.ssl,
                                       self.login_method) as producer:
            try:
                producer.publish(payload, headers=headers, declare=declare, retry=False,
                                 **options, **publish_kwargs)
            except ChannelError as exc:
                if "NO_ROUTE" in str(exc):
                    raise UndeliverableMessage()
                raise
        if options["mandatory"] and not use_confirms:
            warnings.warn("Mandatory delivery was requested, but unroutable messages cannot "
                          "be detected without publish confirms enabled.")


class ConsumerSetupTimeout(socket.timeout):
    """Setting the consumers up on a new connection ran out of time (a connection error:
    kombu's loop drops the connection and connects again)."""


class ConsumerStalled(socket.timeout):
    """A queue kept messages ready while its consumer got none and had none to ack, or the
    consumer's thread waited on one broker call for too long (a connection error as well:
    the consumer connects again)."""


class ResilientQueueConsumer(QueueConsumer):
    """A message whose channel died is redelivered by the broker: acking or requeueing it
    on that dead channel is a no-op, not an error that kills the worker.

    Setting the consumers up after a (re)connection (opening the channel, qos,
    basic.consume: each waits for the broker's answer, with no deadline in kombu) is capped
    at `setup_seconds`: in the cluster failover test, under a loaded machine, sla's consumer
    reconnected to a surviving node while the quorum queues' leaders moved and never
    consumed again (dispatch, on the same node, did).

    And a consumer that is connected and registered but is sent nothing is noticed: every
    `stall_check_seconds` each queue with no delivery since the last check and no message
    of ours unacked is asked (a passive declare) how many messages it holds ready; a queue
    that held some at two checks in a row, with nothing delivered in between, means the
    broker lost our consumer (seen in that same test, after the cluster's quorum queues
    elected new leaders, with the connection alive and no error anywhere: dispatch or sla
    sat idle beside a full queue). The consumer then connects again, which registers it
    anew. A consumer with free prefetch is never passed over by a healthy broker, so this
    cannot fire while deliveries flow, also with other replicas on the queue.

    Last, a watchdog: the consumer's thread passes its loop every second, or retries a
    connection; one held longer than `stall_limit_seconds` by a single call to the broker (a
    node that keeps the socket open and stops answering, with heartbeats off) is woken with
    ConsumerStalled, its connection dropped without AMQP's closing handshake, and it
    connects again."""

    setup_seconds = CONSUMER_SETUP_SECONDS
    stall_check_seconds = STALL_CHECK_SECONDS
    stall_limit_seconds = STALL_LIMIT_SECONDS

    def __init__(self):
        super().__init__()
        self.on_connection_revived()
        self._consuming = False
        self._watchdog = None

    def start(self):
        if self._watchdog is None:
            self._watchdog = self.container.spawn_managed_thread(
                self._watch, identifier=f"{type(self).__name__}.watchdog")
        super().start()

    def stop(self):
        self._stop_watchdog()  # before nameko kills it (and warns that it did)
        super().stop()

    def kill(self):
        self._stop_watchdog()
        super().kill()

    def _stop_watchdog(self):
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.kill()

    def _watch(self):
        while not self.should_stop:
            eventlet.sleep(min(self.stall_limit_seconds / 4, 10.0))
            gt = self._gt
            held = time.monotonic() - self._alive_at
            if self.should_stop or gt is None or gt.dead or not self._consuming or \
                    held <= self.stall_limit_seconds:
                continue
            log.warning("the consumer thread waited %.0f s on the broker; connecting again",
                        held)
            self._alive_at = time.monotonic()
            gt.kill(ConsumerStalled(f"held {held:.0f} s by one call to the broker"))

    def consume(self, *args, **kwargs):
        # the watchdog wakes the thread only in here, inside kombu's loop that reconnects
        self._consuming = True
        try:
            yield from super().consume(*args, **kwargs)
        finally:
            self._consuming = False

    def on_connection_error(self, exc, interval):
        self._alive_at = time.monotonic()
        super().on_connection_error(exc, interval)

    def on_connection_revived(self):
        # a new channel: the old one's delivery tags mean nothing here
        self._unacked = {}          # delivery tag -> queue name, on the current channel
        self._delivered = set()     # queues that got a message since the last check
        self._waiting = set()       # queues that held ready messages at the last check
        self._channel = None
        self._checked_at = self._alive_at = time.monotonic()

    def get_consumers(self, consumer_cls, channel):
        """nameko's, with each delivery noted (per queue) before it is handled."""
        self._channel = channel
        for provider in self._providers:
            consumer = consumer_cls(queues=[provider.queue], accept=self.accept,
                                    callbacks=[partial(self._delivery, provider)])
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def _delivery(self, provider, body, message):
        if message.channel is self._channel:
            self._unacked[message.delivery_tag] = provider.queue.name
        self._delivered.add(provider.queue.name)
        self.handle_message(provider, body, message)

    def _settled(self, message):
        if message.channel is self._channel:
            self._unacked.pop(message.delivery_tag, None)

    def on_iteration(self):
        super().on_iteration()
        now = self._alive_at = time.monotonic()
        if self.should_stop or self._channel is None:
            return
        if now - self._checked_at < self.stall_check_seconds:
            return
        self._checked_at = now
        busy = self._delivered | set(self._unacked.values())
        self._delivered = set()
        waiting = set()
        for provider in list(self._consumers):
            name = provider.queue.name
            if name in busy:
                continue
            _, ready, _ = self._channel.queue_declare(queue=name, passive=True)
            if ready:
                waiting.add(name)
        stalled, self._waiting = waiting & self._waiting, waiting
        if stalled:
            log.warning("queue(s) %s kept messages ready for %.0f s while this consumer got "
                        "none; connecting again", ", ".join(sorted(stalled)),
                        self.stall_check_seconds)
            raise ConsumerStalled(f"no delivery from {', '.join(sorted(stalled))}")

    @contextmanager
    def Consumer(self):  # noqa: N802 - kombu's name
        """kombu's ConsumerMixin.Consumer, the setup under a deadline: past it the socket
        read times out, which kombu's loop takes as a lost connection."""
        with self.establish_connection() as conn:
            self.on_connection_revived()
            sock = _socket_of(conn)
            if sock is not None:
                sock.settimeout(self.setup_seconds)
            try:
                channel = conn.default_channel
                cls = partial(Consumer, channel, on_decode_error=self.on_decode_error)
                with self._consume_from(*self.get_consumers(cls, channel)) as consumers:
                    if sock is not None:
                        sock.settimeout(None)
                    sock = None
                    yield conn, channel, consumers
            except socket.timeout as exc:
                if sock is None:  # not ours: from the consuming itself
                    if isinstance(exc, ConsumerStalled):
                        drop(conn)  # a broker that stopped answering never answers a close
                    raise
                log.warning("setting up consumers on %s took over %.0f s; connecting again",
                            conn.as_uri(), self.setup_seconds)
                drop(conn)
                raise ConsumerSetupTimeout(str(exc)) from exc
            self.on_consume_end(conn, channel)

    def ack_message(self, message):
        self._settled(message)
        try:
            super().ack_message(message)
        except Exception as exc:  # noqa: BLE001 - its channel is gone; broker redelivers
            log.info("ack on a closed channel skipped (%r); the broker redelivers it", exc)

    def requeue_message(self, message):
        self._settled(message)
        try:
            super().requeue_message(message)
        except Exception as exc:  # noqa: BLE001
            log.info("requeue on a closed channel skipped (%r)", exc)


class ResilientResponder(nameko_rpc.Responder):
    publisher_cls = ResilientPublisher

    def send_response(self, result, exc_info):
        try:
            return super().send_response(result, exc_info)
        except Exception:  # noqa: BLE001 - a lost reply must never kill the service
            log.exception("could not send an RPC reply to %s; dropped (the caller times "
                          "out and may retry)", self.message.properties.get("reply_to"))
            return result, exc_info


class ResilientRpcConsumer(nameko_rpc.RpcConsumer):
    queue_consumer = ResilientQueueConsumer()

    def setup(self):
        if self.queue is None:
            name = self.container.service_name
            self.queue = typed_queue(Queue(
                nameko_rpc.RPC_QUEUE_TEMPLATE.format(name),
                exchange=nameko_rpc.get_rpc_exchange(self.container.config),
                routing_key=f"{name}.*", durable=True), self.container.config)
            self.queue_consumer.register_provider(self)
            self._registered = True

    def handle_result(self, message, result, exc_info):
        config = self.container.config
        responder = ResilientResponder(
            config[AMQP_URI_CONFIG_KEY], nameko_rpc.get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class Rpc(nameko_rpc.Rpc):
    rpc_consumer = ResilientRpcConsumer()

    def handle_result(self, message, worker_ctx, result, exc_info):
        if exc_info is not None:
            from .errors import unavailable_error
            unavailable = unavailable_error(exc_info[1])
            if unavailable is not None:  # database away: the caller gets 503, not 500
                exc_info = (type(unavailable), unavailable, exc_info[2])
        return super().handle_result(message, worker_ctx, result, exc_info)


rpc = Rpc.decorator


class EventHandlerWithQueueType(EventHandler):
    queue_consumer = ResilientQueueConsumer()

    def setup(self):
        super().setup()
        self.queue = typed_queue(self.queue, self.container.config)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is not None and not self.requeue_on_error:
            from .errors import unavailable_error
            if unavailable_error(exc_info[1]) is not None:
                # the database is away: acking would drop the event; it goes back to the
                # queue after a pause instead, and is handled once the database returns
                self.container.spawn_managed_thread(partial(self._requeue_after, message))
                return
        super().handle_message_processed(message, result, exc_info)

    def _requeue_after(self, message, pause=1.0):
        eventlet.sleep(pause)
        self.queue_consumer.requeue_message(message)


event_handler = EventHandlerWithQueueType.decorator


class ResilientReplyListener(nameko_rpc.ReplyListener):
    queue_consumer = ResilientQueueConsumer()

    def setup(self):
        super().setup()
        # transient (and classic whatever AMQP_QUEUE_TYPE says): a reply queue belongs to
        # one process; when its node goes down it is re-created on the next node
        q = self.queue
        self.queue = Queue(q.name, exchange=q.exchange, routing_key=q.routing_key,
                           durable=False, queue_arguments=q.queue_arguments)


class ResilientMethodProxy(nameko_rpc.MethodProxy):
    publisher_cls = ResilientPublisher

    def _call(self, *args, **kwargs):
        try:
            return super()._call(*args, **kwargs)
        except CONNECTION_ERRORS:
            from .errors import UNAVAILABLE
            raise UNAVAILABLE().with_traceback(sys.exc_info()[2]) from None


class ResilientServiceProxy(nameko_rpc.ServiceProxy):
    def __getattr__(self, name):
        return ResilientMethodProxy(self.worker_ctx, self.service_name, name,
                                    self.reply_listener, **self.options)


class RpcProxy(nameko_rpc.RpcProxy):
    rpc_reply_listener = ResilientReplyListener()

    def get_dependency(self, worker_ctx):
        return ResilientServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener,
                                     **self.options)
