"""The per-process ops server: `/metrics`, `/livez`, `/readyz` on a small HTTP port.

Why a port of its own: a Nameko service has no HTTP entrypoint, and a `health` RPC is
answered by *any* replica, so a probe through the broker cannot tell a wedged pod from a
healthy one. Each process serves its own state here (docs/operations.md "Health probes").

- `/livez`: 200 while every AMQP consumer thread of the process is running and the eventlet
  hub is not stalled (the hub monitor, a green thread sleeping 1 s, woke within
  `OPS.hub_stall_seconds`). 503 otherwise: restart me.
- `/readyz`: 200 when the process's own database answers within `OPS.ready_timeout_seconds`.
  503 otherwise: do not send me work, but do not restart me.
- `/metrics`: the Prometheus text of `gongdan_common.metrics.REGISTRY`.

Config `OPS.address` (env OPS_ADDRESS, default 127.0.0.1:0: any free port, logged at start).
The server is an eventlet.wsgi green thread: it never blocks the hub, and a hub that is
truly stuck cannot answer at all, which the kubelet's probe timeout then counts as a failure.
"""
import collections
import gc
import json
import logging
import os
import signal
import sqlite3
import time
import traceback

import eventlet
import eventlet.wsgi
import greenlet
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from sqlalchemy import text

from . import metrics

log = logging.getLogger(__name__)
TICK = 1.0  # the hub monitor's sleep


def parse_address(value, default_port=0):
    value = str(value or "").strip()
    host, _, port = value.rpartition(":")
    if not host:
        host, port = (value or "127.0.0.1"), default_port
    return host.strip("[]"), int(port or default_port)


def freeze_startup_heap():
    """Once per process, when its service starts: collect, then move every object that
    exists (modules, SQLAlchemy metadata and caches, schemas, ...) into the collector's
    permanent generation (`gc.freeze`). A full collection otherwise walks all of them and
    stops the eventlet hub — every request and consumer of the process — meanwhile: 45 ms
    for the imports of the gateway, intake and kb alone; at 1,000,000 tickets a search
    request that met one took 58 ms instead of 3 (docs/performance.md, "Stop 22"). What the
    process allocates later is collected as before. Returns how many objects are frozen."""
    if not gc.get_freeze_count():
        gc.collect()
        gc.freeze()
    return gc.get_freeze_count()


_gc_watch = {"installed": False, "log_seconds": 0.05, "started": 0.0}
# (generation, pause seconds, objects collected) recorded by the collector's callback and
# reported later (`report_gc_pauses`): the callback itself takes no lock — a collection can
# start inside any allocation, also one made while a metric's or a log handler's lock is
# held, and taking that lock again from the callback would deadlock the process
_gc_pauses = collections.deque(maxlen=10000)


def watch_gc_pauses(log_ms=50):
    """Once per process: every collection's pause into `gongdan_gc_pause_seconds`, and a
    log line for one of `log_ms` or more — a collection stops the hub, so a pause is a
    delay of every request the process holds at that moment (docs/operations.md). Reported
    each second by the hub monitor and before each scrape."""
    _gc_watch["log_seconds"] = max(0.0, float(log_ms)) / 1000
    if not _gc_watch["installed"]:
        gc.callbacks.append(_on_gc)
        _gc_watch["installed"] = True


def _on_gc(phase, info):
    # nothing here may lock or log (see _gc_pauses): a clock read and a deque append
    if phase == "start":
        _gc_watch["started"] = time.perf_counter()
    else:
        _gc_pauses.append((info.get("generation", 2), time.perf_counter() - _gc_watch["started"],
                           info.get("collected", 0)))


def report_gc_pauses():
    """The pauses recorded since the last call: observed, and logged when long."""
    while _gc_pauses:
        try:
            generation, pause, collected = _gc_pauses.popleft()
        except IndexError:
            return
        if metrics.enabled():
            metrics.GC_PAUSE.labels(metrics.service(), str(generation)).observe(pause)
        if _gc_watch["log_seconds"] and pause >= _gc_watch["log_seconds"]:
            log.info("garbage collection (generation %d) paused the process %.0f ms; "
                     "%d objects collected", generation, pause * 1000, collected,
                     extra={"duration_ms": round(pause * 1000, 2)})


def dump_greenlets(signum=None, frame=None):
    """Every green thread's stack into the log (SIGUSR1: `kill -USR1 <pid>`). A consumer
    that stopped taking messages without an error shows here where it waits; py-spy sees
    only the hub."""
    stacks = []
    for obj in gc.get_objects():
        if isinstance(obj, greenlet.greenlet) and obj.gr_frame is not None:
            stacks.append("".join(traceback.format_stack(obj.gr_frame)))
    log.warning("SIGUSR1: %d green threads\n%s", len(stacks),
                "\n----\n".join(stacks))


class OpsServer(DependencyProvider):
    """Declared on HealthMixin (every service) and on the gateway; the worker gets the
    server itself (`liveness()`, `readiness()`), which the gateway's own routes use."""

    def setup(self):
        config = self.container.config
        ops = config.get("OPS") or {}
        metrics.configure(config, self.container.service_name)
        raw = ops.get("address", os.environ.get("OPS_ADDRESS", "127.0.0.1:0"))
        self.address = None if str(raw).strip().lower() in ("", "off", "none") \
            else parse_address(raw)
        self.stall_seconds = float(ops.get("hub_stall_seconds", 10))
        self.ready_timeout = float(ops.get("ready_timeout_seconds", 2))
        self.port = None
        self._sock = self._server = None
        self._last_tick = time.monotonic()
        self._worst_lag = 0.0  # since the previous scrape: a short stall is not missed
        metrics.on_scrape(self._sample)

    # ---- lifecycle --------------------------------------------------------------------

    def start(self):
        freeze = (self.container.config.get("OPS") or {}).get("gc_freeze", True)
        if str(freeze).strip().lower() not in ("false", "0", "no", "off"):
            freeze_startup_heap()
        watch_gc_pauses((self.container.config.get("OPS") or {}).get("gc_log_ms", 50))
        self._last_tick = time.monotonic()
        self.container.spawn_managed_thread(self._watch_hub, identifier="ops-hub-monitor")
        signal.signal(signal.SIGUSR1, dump_greenlets)
        if self.address is None:
            return
        self._sock = eventlet.listen(self.address)
        self.port = self._sock.getsockname()[1]
        self._server = self.container.spawn_managed_thread(self._serve, identifier="ops-server")
        log.info("ops server of %s on http://%s:%d (/metrics /livez /readyz)",
                 self.container.service_name, self.address[0], self.port)

    def _serve(self):
        eventlet.wsgi.server(self._sock, self.wsgi_app, log=log, log_output=False,
                             max_size=16, socket_timeout=10)

    def stop(self):
        metrics.remove_sampler(self._sample)
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
        if self._server is not None:
            self._server.kill()
            self._server = None

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self

    # ---- checks -----------------------------------------------------------------------

    def _watch_hub(self):
        while True:
            start = time.monotonic()
            eventlet.sleep(TICK)
            self._last_tick = time.monotonic()
            report_gc_pauses()
            lag = max(0.0, self._last_tick - start - TICK)
            self._worst_lag = max(self._worst_lag, lag)
            if lag > self.stall_seconds:
                log.warning("eventlet hub was stalled %.1f s (something blocked it)", lag)

    def hub_stalled_for(self, now=None):
        """Seconds the hub monitor is overdue (0 when on time)."""
        now = time.monotonic() if now is None else now
        return max(0.0, now - self._last_tick - TICK)

    def consumers(self):
        """(alive, total) AMQP consumer threads of this container."""
        found = [ext for ext in self.container.extensions if isinstance(ext, QueueConsumer)]
        alive = [c for c in found if c._gt is not None and not c._gt.dead
                 and not c.should_stop]
        return len(alive), len(found)

    def liveness(self):
        checks = {}
        stalled = self.hub_stalled_for()
        checks["hub"] = "ok" if stalled <= self.stall_seconds else f"stalled {stalled:.1f}s"
        alive, total = self.consumers()
        checks["amqp_consumers"] = "ok" if alive == total else f"{total - alive} of {total} dead"
        return all(v == "ok" for v in checks.values()), checks

    def database(self):
        from .dependencies import UnitOfWorkProvider
        for dep in self.container.dependencies:
            if isinstance(dep, UnitOfWorkProvider):
                return dep.database
        return None

    def readiness(self):
        db = self.database()
        if db is None:
            return True, {"database": "none"}
        try:
            with eventlet.Timeout(self.ready_timeout):
                _ping(db)
            ok = True
        except (Exception, eventlet.Timeout) as error:  # noqa: BLE001 - a probe reports
            log.warning("readiness: database of %s unreachable: %s",
                        self.container.service_name, error)
            ok = False
        metrics.DB_REACHABLE.labels(self.container.service_name).set(1 if ok else 0)
        return ok, {"database": "ok" if ok else "unreachable"}

    def _sample(self):
        report_gc_pauses()
        name = self.container.service_name
        worst, self._worst_lag = self._worst_lag, 0.0
        metrics.HUB_LAG.labels(name).set(max(worst, self.hub_stalled_for()))
        db = self.database()
        if db is None:
            return
        checked_out = getattr(db.engine.pool, "checkedout", None)
        if checked_out is not None:
            metrics.DB_POOL_IN_USE.labels(name).set(checked_out())
        self.readiness()

    # ---- HTTP ---------------------------------------------------------------------------

    def wsgi_app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            body = metrics.render()
            start_response("200 OK", [("Content-Type", metrics.CONTENT_TYPE)])
            return [body]
        if path in ("/livez", "/readyz"):
            ok, checks = self.liveness() if path == "/livez" else self.readiness()
            body = json.dumps({"status": "ok" if ok else "fail",
                               "service": self.container.service_name,
                               "checks": checks}).encode()
            start_response("200 OK" if ok else "503 Service Unavailable",
                           [("Content-Type", "application/json")])
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: /metrics /livez /readyz\n"]


def _ping(db):
    """One trivial query. SQLite: a fresh read-only connection, so a database file that is
    gone or unreadable shows at once (a pooled connection would keep the old file open) and
    no write lock is taken (the pool's connections BEGIN IMMEDIATE)."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        path = url.database
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
