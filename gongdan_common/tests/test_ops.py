"""The ops server and the metrics provider, without a broker: a stand-in container, a real
SQLite database, real HTTP on the ops port, the real eventlet hub."""
import gc
import logging
import shutil

import eventlet
import pytest
import requests
from eventlet import patcher
from nameko.containers import WorkerContext
from nameko.events import EventHandler
from nameko.messaging import QueueConsumer
from nameko.rpc import Rpc
from prometheus_client.parser import text_string_to_metric_families

from gongdan_common import metrics
from gongdan_common.batching import BatchEventHandler
from gongdan_common.db import service_metadata
from gongdan_common.dependencies import UnitOfWorkProvider
from gongdan_common.errors import ErrorSpec
from gongdan_common.metrics import MetricsProvider
from gongdan_common.outbox import add_many_to_outbox
from gongdan_common.ops import OpsServer, parse_address

NOT_FOUND = ErrorSpec("not_found", 404, "Not found.", "不存在。")
real_sleep = patcher.original("time").sleep  # blocks the whole hub, as a bug would


class FakeContainer:
    """What the providers use of a nameko ServiceContainer."""

    def __init__(self, name, config):
        self.service_name, self.config = name, config
        self.extensions, self.dependencies, self.threads = set(), set(), []
        self.shared_extensions = {}

    def spawn_managed_thread(self, fn, identifier=None):
        gt = eventlet.spawn(fn)
        self.threads.append(gt)
        return gt

    def stop(self):
        for gt in self.threads:
            gt.kill()


def sample(name, **labels):
    text = metrics.render().decode()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


@pytest.fixture
def ops(tmp_path):
    url = "sqlite:///" + str(tmp_path / "opstest.db")
    container = FakeContainer("opstest", {
        "AMQP_URI": "pyamqp://guest:guest@127.0.0.1:1/", "OUTBOX": {"enabled": False},
        "OPS": {"address": "127.0.0.1:0", "hub_stall_seconds": 0.5, "gc_freeze": False,
                "ready_timeout_seconds": 1, "metrics": True},
        "DATABASES": {"opstest": url}})
    uow = UnitOfWorkProvider(service_metadata()).bind(container, "uow")
    server = OpsServer().bind(container, "_ops")
    container.dependencies |= {uow, server}
    container.extensions |= {uow, server}
    uow.setup()
    uow.database.metadata.create_all(uow.database.engine)
    server.setup()
    server.start()
    server.base = f"http://127.0.0.1:{server.port}"
    server.db_path = str(tmp_path / "opstest.db")
    server.uow = uow
    yield server
    server.stop()
    uow.stop()
    container.stop()


def test_parse_address():
    assert parse_address("0.0.0.0:9100") == ("0.0.0.0", 9100)
    assert parse_address("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_address("[::1]:9101") == ("::1", 9101)


def test_serves_metrics_livez_readyz_on_its_own_port(ops):
    r = requests.get(ops.base + "/metrics", timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert "gongdan_hub_lag_seconds" in r.text
    live = requests.get(ops.base + "/livez", timeout=5)
    assert live.status_code == 200, live.text
    assert live.json()["checks"] == {"hub": "ok", "amqp_consumers": "ok"}
    ready = requests.get(ops.base + "/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    assert requests.get(ops.base + "/nope", timeout=5).status_code == 404


def test_readyz_is_503_while_the_database_file_is_gone(ops):
    moved = ops.db_path + ".away"
    shutil.move(ops.db_path, moved)
    try:
        r = requests.get(ops.base + "/readyz", timeout=5)
        assert r.status_code == 503
        assert r.json()["checks"]["database"] == "unreachable"
        assert sample("gongdan_db_reachable", service="opstest") == 0
    finally:
        shutil.move(moved, ops.db_path)
    assert requests.get(ops.base + "/readyz", timeout=5).status_code == 200
    assert sample("gongdan_db_reachable", service="opstest") == 1


def test_livez_is_503_when_an_amqp_consumer_thread_is_dead(ops):
    consumer = QueueConsumer()
    consumer._gt = eventlet.spawn(eventlet.sleep, 60)
    ops.container.extensions.add(consumer)
    assert requests.get(ops.base + "/livez", timeout=5).status_code == 200
    consumer._gt.kill()
    r = requests.get(ops.base + "/livez", timeout=5)
    assert r.status_code == 503 and r.json()["checks"]["amqp_consumers"] == "1 of 1 dead"


def test_hub_stall_shows_in_lag_gauge_and_livez(ops):
    eventlet.sleep(0.1)  # the monitor is asleep in its 1 s tick
    real_sleep(1.5)  # the hub is blocked: nothing green runs
    # right after the stall the monitor is overdue: not live
    live, checks = ops.liveness()
    assert not live and checks["hub"].startswith("stalled")
    eventlet.sleep(0.2)  # the monitor wakes late and records how late
    assert ops.liveness()[0]
    assert sample("gongdan_hub_lag_seconds", service="opstest") >= 0.5
    assert sample("gongdan_hub_lag_seconds", service="opstest") < 0.5  # reset per scrape
    # overdue by more than hub_stall_seconds at a given instant
    assert ops.hub_stalled_for(now=ops._last_tick + 1.0 + 2.0) == pytest.approx(2.0)


def test_outbox_backlog_gauges(ops):
    with ops.uow.database.unit_of_work() as uow:
        add_many_to_outbox(uow.session, [{"event_id": f"e{i}", "type": "thing_happened"}
                                         for i in range(3)])
        uow.commit()
    assert sample("gongdan_outbox_unpublished", service="opstest") == 3
    assert sample("gongdan_outbox_oldest_age_seconds", service="opstest") >= 0


def _worker(container, entrypoint, args=()):
    return WorkerContext(container, None, entrypoint, args=args)


def test_provider_counts_rpc_outcomes_and_events_with_batch_sizes():
    container = FakeContainer("metricstest", {"OPS": {"metrics": True}})
    provider = MetricsProvider().bind(container, "_metrics")
    provider.setup()
    rpc = Rpc()
    rpc.method_name = "do"
    handler = EventHandler("src", "thing")
    handler.method_name = "on_thing"
    batch = BatchEventHandler("src", "thing")
    batch.method_name = "on_things"

    def run(entrypoint, exc=None, args=()):
        ctx = _worker(container, entrypoint, args)
        provider.worker_setup(ctx)
        exc_info = (type(exc), exc, None) if exc else None
        provider.worker_result(ctx, None, exc_info)

    before = {o: sample("gongdan_rpc_calls_total", service="metricstest", method="do",
                        outcome=o) or 0 for o in ("ok", "refused", "error")}
    run(rpc)
    run(rpc, NOT_FOUND())
    run(rpc, RuntimeError("boom"))
    run(rpc)
    for outcome, moved in (("ok", 2), ("refused", 1), ("error", 1)):
        assert sample("gongdan_rpc_calls_total", service="metricstest", method="do",
                      outcome=outcome) == before[outcome] + moved
    run(handler, args=({"event_id": "x"},))
    run(batch, args=([{"event_id": i} for i in range(7)],))
    assert sample("gongdan_events_handled_total", service="metricstest", handler="on_thing",
                  outcome="ok") == 1
    assert sample("gongdan_events_handled_total", service="metricstest", handler="on_things",
                  outcome="ok") == 7
    assert sample("gongdan_event_batch_size_sum", service="metricstest",
                  handler="on_things") == 7
    assert sample("gongdan_rpc_duration_seconds_count", service="metricstest",
                  method="do") == sum(before.values()) + 4


def test_metrics_off_records_nothing():
    container = FakeContainer("metricsoff", {"OPS": {"metrics": False}})
    provider = MetricsProvider().bind(container, "_metrics")
    provider.setup()
    try:
        rpc = Rpc()
        rpc.method_name = "do"
        ctx = _worker(container, rpc)
        provider.worker_setup(ctx)
        provider.worker_result(ctx, None, None)
        metrics.observe_http("/x", "GET", 200, 0.01)
        assert sample("gongdan_rpc_calls_total", service="metricsoff", method="do",
                      outcome="ok") is None
        assert sample("gongdan_http_requests_total", service="metricsoff") is None
    finally:
        metrics.configure({"OPS": {"metrics": True}}, "metricstest")


def test_the_startup_heap_is_frozen_once_per_process():
    """In a process of its own (freezing is for good): the objects of the imports leave the
    collector's generations, a full collection then has almost nothing to walk, and a second
    start freezes nothing more."""
    import subprocess
    import sys
    code = (
        "import gc, time\n"
        "import gateway.service, services.intake.service\n"
        "from gongdan_common.ops import freeze_startup_heap\n"
        "t = time.perf_counter(); gc.collect(); before = time.perf_counter() - t\n"
        "frozen = freeze_startup_heap()\n"
        "t = time.perf_counter(); gc.collect(); after = time.perf_counter() - t\n"
        "assert frozen > 50000, frozen\n"
        "assert freeze_startup_heap() == frozen\n"
        "assert after < before / 5, (before, after)\n"
        "print(frozen, round(before * 1000, 1), round(after * 1000, 2))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]


def test_gc_pauses_are_counted_and_a_long_one_is_logged(ops, caplog):
    """Every collection lands in gongdan_gc_pause_seconds by generation; one at or above
    OPS.gc_log_ms is logged (0 ms here: every full collection is)."""
    from gongdan_common.ops import report_gc_pauses, watch_gc_pauses
    report_gc_pauses()
    before = sample("gongdan_gc_pause_seconds_count", service="opstest", generation="2") or 0
    watch_gc_pauses(log_ms=0.0001)
    try:
        with caplog.at_level(logging.INFO, logger="gongdan_common.ops"):
            gc.collect()
            gc.collect(0)
            report_gc_pauses()  # (the hub monitor does this every second; a scrape too)
    finally:
        watch_gc_pauses(log_ms=50)
    assert sample("gongdan_gc_pause_seconds_count", service="opstest",
                  generation="2") == before + 1
    assert sample("gongdan_gc_pause_seconds_count", service="opstest", generation="0") >= 1
    lines = [r.getMessage() for r in caplog.records if "garbage collection" in r.getMessage()]
    assert any(m.startswith("garbage collection (generation 2) paused the process")
               for m in lines), lines


def test_a_collection_inside_a_metric_lock_does_not_deadlock():
    """The collector's callback takes no lock: a collection that starts while this thread
    holds the GC histogram's own lock (as one may inside any allocation) must not wait
    for that lock. (The first version observed the histogram from the callback and hung
    a whole system under load.)"""
    import threading
    from gongdan_common.ops import report_gc_pauses, watch_gc_pauses
    watch_gc_pauses()
    done = threading.Event()

    def inside_the_lock():
        with metrics.GC_PAUSE._lock:  # what labels() holds while it creates a child
            gc.collect()
        done.set()
    worker = threading.Thread(target=inside_the_lock, daemon=True)
    worker.start()
    assert done.wait(10), "a collection inside the metric's lock deadlocked"
    report_gc_pauses()


def test_sigusr1_logs_where_every_green_thread_waits(ops, caplog):
    """A process whose consumers stopped without an error: `kill -USR1` shows where its
    green threads wait (py-spy sees only the hub)."""
    import os
    import signal

    def waiting_here_for_the_dump():
        eventlet.sleep(30)

    waiter = eventlet.spawn(waiting_here_for_the_dump)
    eventlet.sleep(0)
    with caplog.at_level(logging.WARNING, logger="gongdan_common.ops"):
        os.kill(os.getpid(), signal.SIGUSR1)
        eventlet.sleep(0.1)
    waiter.kill()
    dumps = [r.getMessage() for r in caplog.records if "SIGUSR1" in r.getMessage()]
    assert len(dumps) == 1 and "waiting_here_for_the_dump" in dumps[0], dumps
