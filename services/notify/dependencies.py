"""What notify's workers get besides the shared unit of work and settings.

- `DirectoryCache`: who-is-who, asked from the gateway (which owns the accounts) over RPC
  with a deadline, cached for NOTIFY.directory_cache_seconds per query; and the rules,
  active webhooks and IM robots, re-read at most once a second.
- `DeliveryLoop`: the sender. One managed green thread per process claims due deliveries
  (a lease committed before sending, `FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas
  share the work) and sends each in its own green thread from a bounded pool, so a slow or
  dead receiver holds one slot for at most its timeout and never the others. It wakes
  right after an event planned something, and polls every NOTIFY.poll_interval_seconds
  for retries that became due. An event handler that plans emails or SMS may hand them
  over directly (`free()` slots, `hand_off(items)`): they were written leased, so the
  loop's claim transaction is skipped for them (planning.py).
- `bound_batch_event_handler` and `EventBindings`: notify's event queues bound to the event
  types something in notify can use, the shipped ones when a queue is declared, admins'
  rules' and webhooks' at run time (bindings.py).
- `SettingTimer`: nameko's timer entrypoint with its interval read from the config at
  setup (the daily digest's pass: NOTIFY.digest.interval_seconds; 0 turns it off).
"""
import collections
import logging
import time

import eventlet
from eventlet.event import Event
from eventlet.greenpool import GreenPool
from eventlet.semaphore import Semaphore
from kombu import Connection, Queue, binding
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.events import get_event_exchange
from nameko.exceptions import UnknownService
from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from gongdan_common.batching import BatchEventHandler
from gongdan_common.dependencies import UnitOfWorkProvider
from gongdan_common.events import exchange_name, utcnow

from . import bindings, channels, common, delivery, exceptions as exc, planning, robots

log = logging.getLogger(__name__)
CONFIG_SECONDS = 1.0


class DirectoryCache(DependencyProvider):
    def setup(self):
        self.settings = common.settings_from_config(self.container.config)
        self.entries = {}
        self._config = None

    def get_dependency(self, worker_ctx):
        return self

    def configuration(self, uow):
        """Rules, active webhooks and robots, read at most once a second per process."""
        now = time.monotonic()
        if self._config is None or self._config[0] < now:
            self._config = (now + CONFIG_SECONDS, planning.configuration(uow))
        return self._config[1]

    def forget_configuration(self):
        self._config = None

    def lookup(self, gateway, queries):
        """queries: [("id", uid) | ("role", role, company_id)] -> {query: [user dict]}."""
        now = time.monotonic()
        ttl = self.settings["directory_ttl"]
        out, missing = {}, []
        for q in queries:
            hit = self.entries.get(q)
            if hit is not None and hit[0] > now:
                out[q] = hit[1]
            else:
                missing.append(q)
        if missing:
            try:
                with eventlet.Timeout(self.settings["directory_timeout"]):
                    answers = gateway.notify_directory([list(q) for q in missing])
            except (eventlet.Timeout, UnknownService):
                raise exc.DIRECTORY_UNAVAILABLE() from None
            for q, users in zip(missing, answers):
                self.entries[q] = (now + ttl, users)
                out[q] = users
        return out


class DeliveryLoop(DependencyProvider):
    def setup(self):
        self.settings = common.settings_from_config(self.container.config)
        s = self.settings
        self.senders = {
            "email": channels.SmtpEmail(
                s["smtp"].get("host", "127.0.0.1"), s["smtp"].get("port", 25),
                s["smtp"].get("security", "none"), s["smtp"].get("username"),
                s["smtp"].get("password"),
                s["smtp"].get("sender", "Gongdan <noreply@gongdan.local>"),
                s["smtp"].get("timeout", 10)),
            "sms": channels.sms_provider(s["sms"]),
            "webhook": channels.WebhookSender(s["allow_networks"], s["webhook_timeout"]),
            "robot": robots.RobotSender(s["allow_networks"], s["webhook_timeout"]),
        }
        self.enabled = (self.container.config.get("NOTIFY") or {}).get("deliver", True)
        self.pool = GreenPool(s["concurrency"])
        self.in_flight = collections.Counter()  # recipient -> sends under way
        # sends are many and slow; their bookkeeping is short: one transaction at a time
        # records every outcome finished within `record_linger` seconds (`GroupCommit`),
        # so 50 sends under way never hold 50 pooled connections, nor make 50 commits
        self.recorder = GroupCommit(self._record, s["record_linger"])
        self._more = False  # the last claim may have left due rows behind
        self._wake = Event()
        self._running = False

    def _database(self):
        provider = next(d for d in self.container.dependencies
                        if isinstance(d, UnitOfWorkProvider))
        return provider.database

    def start(self):
        if self.enabled and self.enabled != "false":
            self._running = True
            self.container.spawn_managed_thread(self._loop, identifier="notify-delivery")

    def stop(self):
        self._running = False
        self.poke()
        self.pool.waitall()
        self.senders["email"].close()  # the SMTP sessions kept open

    def kill(self):
        self._running = False
        self.poke()

    def poke(self):
        if not self._wake.ready():
            self._wake.send(True)

    def get_dependency(self, worker_ctx):
        return _Sender(self)

    def free(self):
        """Send slots free now (0 when sending is off): how many new deliveries a planner
        may write leased and hand over."""
        if not self._running:
            return 0
        return self.pool.free()

    def hand_off(self, items):
        """Send deliveries written leased by this process (planning's `handed`) now.
        The recipient cap is not applied: these are people's emails and SMS, not the slow
        webhooks it is for."""
        for item in items:
            self.in_flight[item["recipient"]] += 1
            # takes a slot at once; waits for one if the loop took them meanwhile
            self.pool.spawn_n(self._send, item)

    def _loop(self):
        database = self._database()
        while self._running:
            self._wake = Event()
            claimed = 0
            try:
                free = self.pool.free()
                if free:
                    for item in delivery.claim_due(database.unit_of_work(), self.settings,
                                                   limit=free, in_flight=self.in_flight):
                        self.in_flight[item["recipient"]] += 1
                        self.pool.spawn_n(self._send, item)
                        claimed += 1
            except Exception:  # database away: log, back off, try again
                log.exception("claiming deliveries failed; will retry")
            # due rows may have been left behind only when the pool filled up or a
            # recipient reached its cap: then a finished send wakes the loop (`_record`),
            # otherwise it sleeps until an event plans more or the poll interval ends
            cap = self.settings["max_in_flight"]
            self._more = claimed >= free or any(n >= cap for n in self.in_flight.values())
            if claimed and claimed >= free and self.pool.free():
                continue  # more may be due right now
            with eventlet.Timeout(self.settings["poll_interval"], False):
                self._wake.wait()

    def _send(self, item):
        started = time.monotonic()
        try:
            outcome = self.senders[item["channel"]].send(item)
        except Exception as err:  # noqa: BLE001 - a sender bug is a failed attempt, logged
            log.exception("sender %s failed on %s", item["channel"], item["id"])
            outcome = channels.Outcome(False, error=f"{type(err).__name__}: {err}"[:500])
        duration = (time.monotonic() - started) * 1000
        self.recorder.add((item, outcome, duration))

    def _record(self, batch):
        try:
            delivery.record_outcomes(self._database().unit_of_work(),
                                     [(item["id"], outcome, ms) for item, outcome, ms in batch],
                                     self.settings)
        except Exception:  # the leases run out and the rows are tried again
            log.exception("recording the outcomes of %s failed", [i["id"] for i, _, _ in batch])
        finally:
            for item, _, _ in batch:
                self.in_flight[item["recipient"]] -= 1
                if self.in_flight[item["recipient"]] <= 0:
                    del self.in_flight[item["recipient"]]
            if self._more:  # slots are free: due rows held back may go now
                self.poke()


class GroupCommit:
    """Outcomes recorded in groups, one `record(batch)` at a time: the first outcome to
    finish waits `linger` seconds for those finishing after it, then records every one in
    (with the slot: a predecessor still recording is waited for). One transaction per
    created ticket's mail was most of what recording cost; at 90 mails a second a linger of
    50 ms makes one of four or five. The outcome of a send is recorded that much later; a
    process that dies meanwhile leaves the rows leased, to be sent again when the lease
    runs out (the window that was already there between a send and its record)."""

    def __init__(self, record, linger):
        self.record, self.linger = record, linger
        self.slot = Semaphore(1)
        self.finished = []  # entries not yet recorded
        self.lingering = False  # someone is waiting to record what comes in

    def add(self, entry):
        self.finished.append(entry)
        if self.lingering:
            return  # the one lingering records it
        self.lingering = True
        try:
            if self.linger > 0:
                eventlet.sleep(self.linger)
        finally:
            self.lingering = False
        with self.slot:
            batch, self.finished = self.finished, []
            if batch:  # empty when a predecessor took ours along
                self.record(batch)


class _Sender:
    """A worker's handle on the delivery loop: call it to wake the loop; `free` and
    `hand_off` for deliveries planned leased."""

    def __init__(self, loop):
        self._loop = loop
        self.free, self.hand_off = loop.free, loop.hand_off

    def __call__(self):
        self._loop.poke()


class SettingTimer(Timer):
    """`@SettingTimer.decorator("digest_interval")`: fires every settings[name] seconds
    (settings_from_config), in every replica (what it runs must claim its work); never
    when that is 0."""

    def __init__(self, setting, **kwargs):
        super().__init__(interval=None, **kwargs)
        self.setting = setting

    def setup(self):
        self.interval = common.settings_from_config(self.container.config)[self.setting]

    def start(self):
        if self.interval and self.interval > 0:
            super().start()

    def stop(self):
        if self.gt is not None:
            super().stop()

    def kill(self):
        if self.gt is not None:
            super().kill()


class BoundBatchEventHandler(BatchEventHandler):
    """`batch_event_handler(source, "#")` whose queue keeps its name (and the events waiting
    in it) but is declared bound to the routing keys the shipped rules, the robots and the
    digest use (`bindings.static()`), not to `#`; `EventBindings` adds the rest."""

    def setup(self):
        super().setup()
        q = self.queue
        exchange = get_event_exchange(self.source_service, self.container.config)
        self.queue = Queue(
            q.name, bindings=[binding(exchange, routing_key=key)
                              for key in sorted(bindings.static()[self.source_service])],
            durable=q.durable, auto_delete=q.auto_delete, exclusive=q.exclusive,
            queue_arguments=q.queue_arguments)


bound_batch_event_handler = BoundBatchEventHandler.decorator


BIND_TIMEOUT = 15.0  # seconds for one pass of binds and unbinds


class BindTimeout(Exception):
    def __init__(self):
        super().__init__(f"the broker did not take the bindings within {BIND_TIMEOUT:g} s")


class EventBindings(DependencyProvider):
    """Keeps the queues of `BoundBatchEventHandler`s bound to what admins' rules and the
    webhooks want: on start, every NOTIFY.bindings_seconds, and at once (`reconcile()`)
    after a rule or webhook changes."""

    def setup(self):
        self.amqp_uri = self.container.config[AMQP_URI_CONFIG_KEY]
        cfg = self.container.config.get("NOTIFY") or {}
        self.seconds = max(float(cfg.get("bindings_seconds", bindings.RECONCILE_SECONDS)), 1.0)
        self._running = False
        self._wake = Event()

    def start(self):
        self._running = True
        self.container.spawn_managed_thread(self._loop, identifier="notify-bindings")

    def stop(self):
        self._running = False
        if not self._wake.ready():
            self._wake.send(True)

    kill = stop

    def get_dependency(self, worker_ctx):
        return self

    def _loop(self):
        while self._running:
            try:
                self.reconcile()
            except Exception:  # broker or database away: the next round tries again
                log.exception("binding notify's event queues failed; will retry")
            self._wake = Event()
            with eventlet.Timeout(self.seconds, False):
                self._wake.wait()

    def reconcile(self):
        provider = next(d for d in self.container.dependencies
                        if isinstance(d, UnitOfWorkProvider))
        return bindings.reconcile(provider.database.unit_of_work(), self._apply, utcnow())

    def _apply(self, bind, unbind):
        # a broker node that stops answering without closing the socket must not hold this
        # (and the database transaction around it) forever: the whole pass is capped
        with eventlet.Timeout(BIND_TIMEOUT, BindTimeout()):
            self._apply_now(bind, unbind)

    def _apply_now(self, bind, unbind):
        handlers = {e.source_service: e for e in self.container.entrypoints
                    if isinstance(e, BoundBatchEventHandler)}
        with Connection(self.amqp_uri, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=len(connection.alt) or 1,
                                         interval_start=0, interval_step=0.2,
                                         interval_max=0.5)
            channel = connection.channel()
            for source in sorted({s for s, _ in bind + unbind if s in handlers}):
                # the exchange and the queue may not be declared yet (a source nothing
                # shipped listens to, whose publisher has not published; the consumer
                # starts after this): declaring them the same way twice is harmless
                get_event_exchange(source, self.container.config)(channel).declare()
                handlers[source].queue(channel).declare()
            for source, key in bind:
                if source in handlers:
                    channel.queue_bind(handlers[source].queue.name,
                                       exchange=exchange_name(source), routing_key=key)
            for source, key in unbind:
                if source in handlers:
                    channel.queue_unbind(handlers[source].queue.name,
                                         exchange=exchange_name(source),
                                         routing_key=key)
