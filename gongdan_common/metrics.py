"""Prometheus metrics of one process (gateway or service instance); see docs/operations.md.

One registry per process (`REGISTRY`), served by the ops server (`gongdan_common/ops.py`)
and by the gateway's `/metrics`. Every metric carries the label `service`.

`MetricsProvider` is a Nameko DependencyProvider: nameko calls its `worker_setup` /
`worker_result` for every worker of the service, so RPC calls and event handlers are
counted and timed without per-entrypoint code. Gauges that describe state (outbox backlog,
SLA timers due, notify deliveries pending, the database pool) are read when `/metrics` is
scraped, through the samplers registered with `on_scrape`: nothing is computed between
scrapes.

`OPS.metrics` (env OPS_METRICS, default true) turns the recording off; it exists to
measure what metrics cost (bench/metrics_cost.py).
"""
import logging
import time

from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import event

from .batching import BatchEventHandler
from .errors import AppError

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# seconds: from a fast RPC (1 ms) to a slow batch (10 s)
_LATENCY = (.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)

HTTP_REQUESTS = Counter("gongdan_http_requests_total", "HTTP requests answered by the gateway",
                        ["service", "route", "method", "status"], registry=REGISTRY)
HTTP_DURATION = Histogram("gongdan_http_request_duration_seconds",
                          "Time to answer an HTTP request", ["service", "route", "method"],
                          buckets=_LATENCY, registry=REGISTRY)
RPC_CALLS = Counter("gongdan_rpc_calls_total", "RPC calls served, by outcome",
                    ["service", "method", "outcome"], registry=REGISTRY)
RPC_DURATION = Histogram("gongdan_rpc_duration_seconds", "Time to serve an RPC call",
                         ["service", "method"], buckets=_LATENCY, registry=REGISTRY)
EVENTS_HANDLED = Counter("gongdan_events_handled_total",
                         "Events handled (a batch handler counts each event of the batch)",
                         ["service", "handler", "outcome"], registry=REGISTRY)
EVENT_DURATION = Histogram("gongdan_event_handle_duration_seconds",
                           "Time one handler call took (one event, or one batch)",
                           ["service", "handler"], buckets=_LATENCY, registry=REGISTRY)
EVENT_BATCH = Histogram("gongdan_event_batch_size", "Events per handler call",
                        ["service", "handler"], buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500),
                        registry=REGISTRY)
OUTBOX_UNPUBLISHED = Gauge("gongdan_outbox_unpublished", "Outbox rows not yet published",
                           ["service"], registry=REGISTRY)
OUTBOX_OLDEST = Gauge("gongdan_outbox_oldest_age_seconds",
                      "Age of the oldest unpublished outbox row (0 when none)", ["service"],
                      registry=REGISTRY)
OUTBOX_PUBLISHED = Counter("gongdan_outbox_published_total",
                           "Outbox rows this process published to the broker", ["service"],
                           registry=REGISTRY)
SLA_TIMERS_DUE = Gauge("gongdan_sla_timers_due", "SLA timers whose time has come, not yet fired",
                       ["service"], registry=REGISTRY)
SLA_LATENESS = Histogram("gongdan_sla_timer_lateness_seconds",
                         "How late an SLA timer fired after its due time", ["service"],
                         buckets=(.1, .25, .5, 1, 2, 5, 10, 30, 60, 300, 900), registry=REGISTRY)
NOTIFY_PENDING = Gauge("gongdan_notify_deliveries_pending", "Deliveries waiting to be sent",
                       ["service", "channel"], registry=REGISTRY)
NOTIFY_FAILED = Counter("gongdan_notify_deliveries_failed_total",
                        "Delivery attempts that failed", ["service", "channel"],
                        registry=REGISTRY)
DB_POOL_IN_USE = Gauge("gongdan_db_pool_in_use", "Database connections checked out of the pool",
                       ["service"], registry=REGISTRY)
DB_REACHABLE = Gauge("gongdan_db_reachable",
                     "1 when the last readiness check reached the database, else 0",
                     ["service"], registry=REGISTRY)
DB_STATEMENTS = Counter("gongdan_db_statements_total",
                        "SQL statements sent to the database (an executemany counts once)",
                        ["service"], registry=REGISTRY)
DB_TRANSACTIONS = Counter("gongdan_db_transactions_total",
                          "Database transactions ended, by outcome (commit or rollback)",
                          ["service", "outcome"], registry=REGISTRY)
HUB_LAG = Gauge("gongdan_hub_lag_seconds",
                "Worst lateness of the hub monitor's 1 s sleep since the previous scrape", ["service"],
                registry=REGISTRY)
GC_PAUSE = Histogram("gongdan_gc_pause_seconds",
                     "Python garbage collections, by generation: each stops the process's "
                     "eventlet hub while it runs", ["service", "generation"],
                     buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
                     registry=REGISTRY)

_state = {"enabled": True, "service": "unknown"}
_samplers = []  # called before each scrape: refresh state gauges


def configure(config, service_name):
    """Once per process (the last container set up names the service)."""
    ops = config.get("OPS") or {}
    _state["enabled"] = _truthy(ops.get("metrics", True))
    _state["service"] = service_name


def _truthy(value):
    return str(value).strip().lower() not in ("0", "false", "no", "off", "")


def enabled():
    return _state["enabled"]


def service():
    return _state["service"]


def on_scrape(sampler):
    """Register `sampler()` to refresh gauges before each scrape (errors are logged)."""
    if sampler not in _samplers:
        _samplers.append(sampler)
    return sampler


def remove_sampler(sampler):
    if sampler in _samplers:
        _samplers.remove(sampler)


def render():
    """The Prometheus text exposition, after refreshing the sampled gauges."""
    if _state["enabled"]:
        for sampler in list(_samplers):
            try:
                sampler()
            except Exception:  # noqa: BLE001 - a failed sampler must not hide the others
                log.warning("metrics sampler %s failed", getattr(sampler, "__name__", sampler),
                            exc_info=True)
    return generate_latest(REGISTRY)


# ---- recording helpers (no-ops when metrics are off) ---------------------------------------

def observe_http(route, method, status, seconds):
    if _state["enabled"]:
        s = _state["service"]
        HTTP_REQUESTS.labels(s, route, method, str(status)).inc()
        HTTP_DURATION.labels(s, route, method).observe(seconds)


def outbox_published(service_name, count):
    if _state["enabled"] and count:
        OUTBOX_PUBLISHED.labels(service_name).inc(count)


def sla_timer_fired(lateness_seconds):
    if _state["enabled"]:
        SLA_LATENESS.labels(_state["service"]).observe(max(0.0, lateness_seconds))


def notify_delivery_failed(channel):
    if _state["enabled"]:
        NOTIFY_FAILED.labels(_state["service"], channel).inc()


def count_statements(engine):
    """Count the statements and transactions of `engine` (bench/ticket_create.py prints them
    per created ticket). A counter increment per statement: far below a round trip."""
    def child(metric, *labels):
        # the label `service` is known only once the container is set up: resolve lazily
        return metric.labels(_state["service"], *labels)

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(*_args):
        if _state["enabled"]:
            child(DB_STATEMENTS).inc()

    @event.listens_for(engine, "commit")
    def _commit(_conn):
        if _state["enabled"]:
            child(DB_TRANSACTIONS, "commit").inc()

    @event.listens_for(engine, "rollback")
    def _rollback(_conn):
        if _state["enabled"]:
            child(DB_TRANSACTIONS, "rollback").inc()


def outcome_of(exc_info):
    if exc_info is None:
        return "ok"
    error = exc_info[1]
    if isinstance(error, AppError) and 400 <= error.status < 500:
        return "refused"
    return "error"


class MetricsProvider(DependencyProvider):
    """Counts and times every RPC and event-handler worker of the service it is declared on.

    `worker_setup` notes the start time on the worker context, `worker_result` records the
    outcome; nothing is injected into the service (the dependency is None)."""

    def setup(self):
        configure(self.container.config, self.container.service_name)

    def get_dependency(self, worker_ctx):
        return None

    def worker_setup(self, worker_ctx):
        if _state["enabled"]:
            worker_ctx._metrics_t0 = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        if not _state["enabled"]:
            return
        t0 = getattr(worker_ctx, "_metrics_t0", None)
        if t0 is None:
            return
        seconds = time.perf_counter() - t0
        entrypoint = worker_ctx.entrypoint
        s = self.container.service_name
        outcome = outcome_of(exc_info)
        if isinstance(entrypoint, Rpc):
            RPC_CALLS.labels(s, entrypoint.method_name, outcome).inc()
            RPC_DURATION.labels(s, entrypoint.method_name).observe(seconds)
        elif isinstance(entrypoint, EventHandler):
            handler = entrypoint.method_name
            size = len(worker_ctx.args[0]) if isinstance(entrypoint, BatchEventHandler) else 1
            EVENTS_HANDLED.labels(s, handler, outcome).inc(size)
            EVENT_DURATION.labels(s, handler).observe(seconds)
            EVENT_BATCH.labels(s, handler).observe(size)


class Sampler(DependencyProvider):
    """Refreshes gauges from the service's own database at each scrape: `Sampler(fn)` on a
    service class calls `fn(uow)` (a fresh unit of work of the service's `uow` provider)
    before `/metrics` is rendered. Nothing is injected into workers."""

    def __init__(self, fn):
        self.fn = fn

    def setup(self):
        from .dependencies import UnitOfWorkProvider
        self.uow_provider = next(d for d in self.container.dependencies
                                 if isinstance(d, UnitOfWorkProvider))
        on_scrape(self._sample)

    def _sample(self):
        self.fn(self.uow_provider.database.unit_of_work())

    def stop(self):
        remove_sampler(self._sample)

    def get_dependency(self, worker_ctx):
        return None
