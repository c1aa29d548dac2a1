"""What metrics cost on ticket creation: `bench.ticket_create`'s create load with metrics on
and off, in one run, compared as CPU per request.

    .venv/bin/python -m bench.metrics_cost [--backend sqlite|postgresql] [--concurrency 10]
                                           [--duration 8] [--warmup 3] [--rounds 1]
                                           [--scrape-interval 5] [--on-env K=V ...]
                                           [--off-env K=V ...] [--json FILE]

Each round starts the whole system twice (tests/support/system.py, as the ticket_create
bench does): once with `--off-env` (default OPS_METRICS=false: nothing recorded), once with
`--on-env` (default OPS_METRICS=true), in alternating order from round to round so drift
on a shared machine does not always favour one side. While "on" is measured, every
process's /metrics is scraped each `--scrape-interval` seconds (as Prometheus would), so
the scrapes' cost is counted too. CPU per request = CPU seconds of the Gongdan processes
(gateway + services; not RabbitMQ, the database server or the load generator) / requests
answered 201. Tracing (issue 11) can be measured the same way: pass its switch in
`--on-env`. It reports, it does not assert; see docs/performance.md.
"""
import argparse
import json
import os
import shutil
import tempfile
import threading
import time

import requests

from bench.support import log
from bench.ticket_create import TICKET, CpuMeter, customer_api, measure, wrk
from tests.support.system import System


def parse_env(items):
    return dict(item.split("=", 1) for item in items)


def scraper(system, interval, stop):
    urls = [system.base_url + "/metrics"] + [
        f"http://127.0.0.1:{port}/metrics" for label, port in system.ops_ports.items()
        if label != "gateway"]
    while not stop.wait(interval):
        for url in urls:
            try:
                requests.get(url, timeout=5)
            except requests.RequestException:
                pass


def instrumented_per_create(system):
    """Recorded HTTP requests, RPC calls and handler calls, over every process, per ticket
    created (intake's create_ticket calls): how many times per creation the hooks run."""
    from prometheus_client.parser import text_string_to_metric_families
    totals = {"http": 0, "rpc": 0, "handler": 0, "creates": 0}
    names = {"gongdan_http_request_duration_seconds_count": "http",
             "gongdan_rpc_duration_seconds_count": "rpc",
             "gongdan_event_handle_duration_seconds_count": "handler"}
    for label, port in system.ops_ports.items():
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name in names:
                    totals[names[s.name]] += s.value
                if s.name == "gongdan_rpc_calls_total" and s.labels["method"] == "create_ticket":
                    totals["creates"] += s.value
    creates = max(totals.pop("creates"), 1)
    return {k: round(v / creates, 2) for k, v in totals.items()}


def hook_cost(n=20000):
    """CPU microseconds of one recording, measured in this process (no noise from the
    other processes of a shared machine): HTTP observe; worker_setup + worker_result of an
    RPC; of a batch handler."""
    from nameko.containers import WorkerContext
    from nameko.rpc import Rpc

    from gongdan_common import metrics
    from gongdan_common.batching import BatchEventHandler

    class Container:
        service_name, config, shared_extensions = "bench", {"OPS": {"metrics": True}}, {}

    container = Container()
    provider = metrics.MetricsProvider().bind(container, "_metrics")
    provider.setup()
    rpc, batch = Rpc(), BatchEventHandler("intake", "ticket_created")
    rpc.method_name, batch.method_name = "create_ticket", "on_ticket_created"
    out = {}

    def per_call(fn):
        t0 = time.process_time()
        for _ in range(n):
            fn()
        return round(1e6 * (time.process_time() - t0) / n, 2)

    out["http_us"] = per_call(lambda: metrics.observe_http("/api/v1/tickets", "POST", 201, 0.01))
    for name, entrypoint, args in (("rpc_us", rpc, ()), ("batch_handler_us", batch, ([{}] * 5,))):
        def one():
            ctx = WorkerContext(container, None, entrypoint, args=args)
            provider.worker_setup(ctx)
            provider.worker_result(ctx, None, None)
        base = per_call(lambda: WorkerContext(container, None, entrypoint, args=args))
        out[name] = round(per_call(one) - base, 2)
    return out


def one_side(label, env, args, workdir):
    system = System(os.path.join(workdir, label), backend=args.backend,
                    env={"ACCESS_TOKEN_TTL": "3600", **env})
    try:
        system.start()
        api, product = customer_api(system)
        body_file = os.path.join(workdir, "ticket.json")
        with open(body_file, "w") as fh:
            json.dump({**TICKET, "product": product}, fh, ensure_ascii=False)
        pids = {proc.pid: name for name, proc in system.procs.items()}
        meter = CpuMeter(pids, databases=system.pg_databases)
        stop = threading.Event()
        if args.scrape_interval and label.startswith("on"):
            threading.Thread(target=scraper, args=(system, args.scrape_interval, stop),
                             daemon=True).start()
        try:
            wenv = {"BENCH_BODY_FILE": body_file, "BENCH_TOKEN": api.token}
            result = measure(label, args.concurrency, args, meter,
                             lambda c, s: wrk(system.base_url + "/api/v1/tickets",
                                              "post_json.lua", c, s, wenv))
        finally:
            stop.set()
        if label.startswith("on"):
            result["instrumented_per_create"] = instrumented_per_create(system)
        cores = sum(v for k, v in result["cpu_cores"].items() if k in pids.values())
        answered = result["rate"] * args.duration
        result["gongdan_cpu_ms_per_request"] = 1000 * cores * args.duration / max(answered, 1)
        return result
    finally:
        system.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--scrape-interval", type=float, default=5)
    parser.add_argument("--wait-quiet", type=float, default=10)
    parser.add_argument("--on-env", action="append", default=[], metavar="K=V")
    parser.add_argument("--off-env", action="append", default=[], metavar="K=V")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    on = {"OPS_METRICS": "true", **parse_env(args.on_env)}
    off = {"OPS_METRICS": "false", **parse_env(args.off_env)}
    workdir = tempfile.mkdtemp(prefix="gongdan-metrics-cost-")
    results = {"off": [], "on": []}
    try:
        for r in range(args.rounds):
            order = (("off", off), ("on", on)) if r % 2 == 0 else (("on", on), ("off", off))
            for side, env in order:
                results[side].append(one_side(f"{side}-{r + 1}", env, args, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    summary = {}
    for side in ("off", "on"):
        runs = results[side]
        summary[side] = {
            "cpu_ms_per_request": round(sum(x["gongdan_cpu_ms_per_request"] for x in runs)
                                        / len(runs), 3),
            "rate": round(sum(x["rate"] for x in runs) / len(runs), 1),
            "p99_ms": round(max(x["p99_ms"] for x in runs), 1),
            "errors": sum(x["errors"] for x in runs)}
    delta = summary["on"]["cpu_ms_per_request"] / summary["off"]["cpu_ms_per_request"] - 1
    print(f"ticket creation, {args.backend}, c={args.concurrency}, {args.duration:g}s x "
          f"{args.rounds} round(s):")
    for side in ("off", "on"):
        s = summary[side]
        print(f"  metrics {side:3}: {s['cpu_ms_per_request']:.2f} ms CPU/request "
              f"(Gongdan processes), {s['rate']:.1f} req/s, p99 {s['p99_ms']:.1f} ms, "
              f"errors {s['errors']}")
    print(f"  metrics cost: {100 * delta:+.1f} % CPU per request (target <= +5 %)")
    hooks = hook_cost()
    calls = results["on"][0]["instrumented_per_create"]
    per_create_us = (calls["http"] * hooks["http_us"] + calls["rpc"] * hooks["rpc_us"]
                     + calls["handler"] * hooks["batch_handler_us"])
    off_ms = summary["off"]["cpu_ms_per_request"]
    print(f"  recording cost, measured alone: HTTP {hooks['http_us']} us, RPC "
          f"{hooks['rpc_us']} us, handler call {hooks['batch_handler_us']} us; per creation "
          f"{calls} recordings = {per_create_us:.0f} us = "
          f"{100 * per_create_us / 1000 / off_ms:.2f} % of {off_ms:.2f} ms")
    summary["hooks_us"], summary["recordings_per_create"] = hooks, calls
    summary["recording_us_per_create"] = per_create_us
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"summary": summary, "delta": delta, "runs": results}, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
