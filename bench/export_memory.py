"""Memory of a streamed export: 1,000,000 tickets exported as CSV and XLSX by the exports
service, with the exporting process's resident memory watched, beside the naive way (every
row loaded, the whole file built in memory) in the same run.

    .venv/bin/python -m bench.export_memory [--rows 1000000] [--formats csv,xlsx]
                                            [--baseline-rows 200000] [--json FILE] [--keep]

What one run does (PostgreSQL):

1. starts a PostgreSQL cluster of its own and the whole system on it, as bench/ticket_search.py
   does (its `IntakeDb` COPY loader and tests/support/postgres.py's `PgCluster`, reused);
2. loads `--rows` realistic zh/en tickets (bench/ticket_corpus.py) with COPY, then ANALYZE;
3. for each format: asks POST /api/v1/exports {kind: tickets} as an admin (every ticket),
   samples the exports process's VmRSS (/proc/PID/status) every 0.1 s until the job is done,
   and reads its VmHWM (the kernel's peak, which no sample can miss) before and after;
   prints rows/s, the file size, and the growth: peak − resident memory before the job;
4. the baseline: a separate Python process does what a naive export would — the same list
   query, every row loaded and dumped, the whole CSV built in a string — and reports its own
   growth the same way, at `--baseline-rows` rows (default 200,000: at 1M it would take
   gigabytes from a machine other runs share; its growth is linear in the rows, so the
   per-row figure is printed too).

It reports, it does not assert (the goal: growth <= 64 MB at 1M rows). Everything it started
is stopped or removed at the end.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from bench.support import exit_on_signals, log
from bench.ticket_corpus import Corpus
from bench.ticket_search import IntakeDb
from tests.support.postgres import PgCluster
from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD, ROOT, Api, System

GOAL_MB = 64


class PatientSystem(System):
    """The system, given longer to come up: on a machine other runs keep busy, 20 processes
    starting at once need more than the tests' minute."""

    def wait_ready(self, services=None, timeout=600):
        return super().wait_ready(*(() if services is None else (services,)), timeout=timeout)


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class Sampler(threading.Thread):
    """The highest VmRSS of `pid` seen every `interval` s until stopped."""

    def __init__(self, pid, interval=0.1):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, status_kb(self.pid, "VmRSS"))
            time.sleep(self.interval)


def export_once(system, fmt, rows):
    pid = system.procs["exports"].pid
    admin = Api(system.base_url).login(ADMIN_EMAIL, ADMIN_PASSWORD)
    before_rss, before_hwm = status_kb(pid, "VmRSS"), status_kb(pid, "VmHWM")
    sampler = Sampler(pid)
    sampler.start()
    t0 = time.perf_counter()
    r = admin.post("/exports", {"kind": "tickets", "format": fmt, "lang": "zh"})
    assert r.status_code == 202, r.text
    job_id, last = r.json()["id"], None
    while True:
        time.sleep(1)
        try:
            job = admin.get(f"/exports/{job_id}").json()
        except Exception:  # noqa: BLE001 - a 1M run outlasts a token: log in again
            admin = Api(system.base_url).login(ADMIN_EMAIL, ADMIN_PASSWORD)
            continue
        if "status" not in job:
            admin = Api(system.base_url).login(ADMIN_EMAIL, ADMIN_PASSWORD)
            continue
        if job["rows_done"] // 100_000 != last:
            last = job["rows_done"] // 100_000
            log(f"  {fmt}: {job['rows_done']} / {job['rows_total']} rows, "
                f"RSS {status_kb(pid, 'VmRSS') // 1024} MB")
        if job["status"] in ("done", "failed"):
            break
    seconds = time.perf_counter() - t0
    sampler.done.set()
    sampler.join()
    after_hwm = status_kb(pid, "VmHWM")
    assert job["status"] == "done", job
    return {"format": fmt, "rows": job["rows_done"], "seconds": round(seconds, 1),
            "rows_per_s": round(job["rows_done"] / seconds),
            "file_mb": round(job["size"] / 2 ** 20, 1),
            "rss_before_mb": round(before_rss / 1024, 1),
            "sampled_peak_growth_mb": round((sampler.peak - before_rss) / 1024, 1),
            # VmHWM is the process's lifetime peak: it only says something when it moved
            "hwm_growth_mb": round(max(0, after_hwm - max(before_hwm, before_rss)) / 1024, 1),
            "peak_growth_mb": round((max(sampler.peak, after_hwm if after_hwm > before_hwm
                                         else 0) - before_rss) / 1024, 1)}


NAIVE = r"""
import csv, io, json, sys, time
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from services.intake import listing, schemas

def kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

engine = create_engine(sys.argv[1])
limit = int(sys.argv[2])
start = kb("VmRSS")
t0 = time.perf_counter()
with Session(engine) as session:
    stmt = listing.list_query({"id": "bench", "role": "admin"}, {}, "postgresql")
    rows = session.scalars(stmt.order_by(listing.Ticket.created_at.desc()).limit(limit)).all()
    items = schemas.TicketSummarySchema().dump(rows, many=True)
    out = io.StringIO()
    writer = csv.writer(out)
    for item in items:
        writer.writerow(list(item.values()))
    data = out.getvalue().encode("utf-8-sig")
print(json.dumps({"rows": len(items), "seconds": round(time.perf_counter() - t0, 1),
                  "file_mb": round(len(data) / 2 ** 20, 1),
                  "peak_growth_mb": round((kb("VmHWM") - start) / 1024, 1)}))
"""


def naive(system, rows):
    url = system.db_urls["intake"]
    out = subprocess.run([sys.executable, "-c", NAIVE, url, str(rows)], cwd=ROOT,
                         capture_output=True, text=True, timeout=3600)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["per_row_kb"] = round(result["peak_growth_mb"] * 1024 / max(result["rows"], 1), 2)
    return result


class SyntheticOwner:
    """Pages of ticket summaries shaped as intake's export_tickets answers them."""

    def __init__(self, rows):
        self.rows = rows

    def page(self, kind, actor, filters, after, limit):
        start = after or 0
        n = min(limit, self.rows - start)
        items = [{"id": f"{i:036d}", "number": f"TS20261207{i:07d}", "type": "defect",
                  "title": f"无法登录系统，提示账号被锁定 #{i}", "product": "AS-8",
                  "product_line": "anyshare", "category": "function", "priority": "P3",
                  "status": "closed", "company_name": "杭州云启科技有限公司",
                  "submitter_name": "程丽", "handler_name": "王伟",
                  "created_at": "2026-12-01T02:00:00Z", "updated_at": "2026-12-02T03:00:00Z",
                  "sla_due_at": None, "sla_breached": False} for i in range(start, start + n)]
        out = {"items": items, "next": start + n if start + n < self.rows else None}
        if after is None:
            out["total"] = self.rows
        return out


def writer_only(rows, fmt):
    """The exporting code path alone (pages in, cells, writer, spool file), in this process:
    no RPC, no upload. -> growth of this process's VmHWM."""
    import zoneinfo
    from services.exports import runner

    class NoDb:  # progress updates are one UPDATE each; not what is measured here
        pass

    runner._progress = lambda uow, job, settings, **values: None
    job = {"id": "bench", "attempt": 1, "actor": {"id": "bench", "role": "admin"},
           "kind": "tickets", "format": fmt, "lang": "zh", "filters": {}, "owner_id": "bench",
           "columns": __import__("services.exports.domain", fromlist=["x"]).default_columns(
               "tickets")}
    settings = {"tz": zoneinfo.ZoneInfo("Asia/Shanghai"), "page_size": 1000, "page_pause": 0}
    before = status_kb(os.getpid(), "VmRSS")
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as f:
        runner._write(job, SyntheticOwner(rows), NoDb(), settings, f, lambda: False)
        size = f.tell()
    seconds = time.perf_counter() - t0
    return {"format": fmt, "rows": rows, "seconds": round(seconds, 1),
            "rows_per_s": round(rows / seconds), "file_mb": round(size / 2 ** 20, 1),
            "peak_growth_mb": round((status_kb(os.getpid(), "VmHWM") - before) / 1024, 1)}


def run(args, workdir, results):
    pg = PgCluster.create().start()
    system = PatientSystem(workdir, backend="postgresql", pg_port=pg.port)
    log(f"starting the system (PostgreSQL cluster {pg.name} on port {pg.port}) ...")
    try:
        system.start()
    except BaseException:
        system.stop()
        pg.destroy()
        raise
    db = IntakeDb(system)
    try:
        log(f"loading {args.rows} tickets ...")
        results["load"] = db.load(Corpus(), args.rows, build=False)
        conn = db.connect()
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE tickets")
        conn.close()
        for fmt in args.formats:
            log(f"exporting {args.rows} tickets as {fmt} ...")
            results["exports"].append(p := export_once(system, fmt, args.rows))
            log(f"  {p}")
        log(f"baseline: the naive way at {args.baseline_rows} rows ...")
        results["baseline"] = naive(system, min(args.baseline_rows, args.rows))
        log(f"  {results['baseline']}")
    finally:
        if db._engine is not None:
            db._engine.dispose()
        system.stop()
        pg.destroy()


def report(args, results):
    lines = [f"exports of {args.rows:,} tickets (goal: growth <= {GOAL_MB} MB); load average "
             f"at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", "",
             "| way | rows | seconds | rows/s | file MB | peak RSS growth MB |",
             "|---|---:|---:|---:|---:|---:|"]
    for p in results["exports"]:
        lines.append(f"| exports service, {p['format']} streamed | {p['rows']:,} | "
                     f"{p['seconds']} | {p['rows_per_s']:,} | {p['file_mb']} | "
                     f"{p['peak_growth_mb']} |")
    b = results.get("baseline")
    if b:
        lines.append(f"| naive: all rows loaded, whole CSV in memory | {b['rows']:,} | "
                     f"{b['seconds']} | {round(b['rows'] / max(b['seconds'], 0.1)):,} | "
                     f"{b['file_mb']} | {b['peak_growth_mb']} ({b['per_row_kb']} KB/row, "
                     f"~{round(b['per_row_kb'] * args.rows / 1024):,} MB at {args.rows:,}) |")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.export_memory", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--formats", type=lambda s: s.split(","), default=["csv", "xlsx"])
    p.add_argument("--baseline-rows", type=int, default=200_000)
    p.add_argument("--writer-only", action="store_true",
                   help="only the exporting code path in this process (no system, no RPC, "
                        "no upload): one fresh process per format")
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.writer_only:
        for fmt in args.formats:
            out = subprocess.run([sys.executable, "-c", "import json, sys; from bench import "
                                  "export_memory as b; print(json.dumps(b.writer_only("
                                  f"{args.rows}, {fmt!r})))"], cwd=ROOT, capture_output=True,
                                 text=True, timeout=3600)
            print(out.stdout.strip().splitlines()[-1] if out.returncode == 0 else out.stderr)
        return
    exit_on_signals()
    workdir = tempfile.mkdtemp(prefix="gongdan-export-bench-")
    results = {"exports": [], "load": {}}
    try:
        run(args, workdir, results)
    finally:
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=2, ensure_ascii=False)
        if args.keep:
            log(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(report(args, results), flush=True)


if __name__ == "__main__":
    main()
