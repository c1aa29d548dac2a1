"""Qualified-engineer lookup over a large registry, beside its baselines in the same run.

    .venv/bin/python -m bench.dispatch_lookup [--backend postgresql|sqlite]
                                             [--engineers 10000] [--lines 50] [--providers 12]
                                             [--duration 10] [--warmup 2] [--concurrency 1]
                                             [--profile DIR] [--json FILE] [--keep]

What it builds (fast: bulk inserts straight into a fresh dispatch database, migrated with
gongdan_common.migrate.upgrade — not through the API):

- `--providers` service providers (one inactive), each contracted for a random share of the
  `--lines` product lines;
- `--engineers` engineers spread unevenly over them, ~8% on leave, skills drawn from the
  lines;
- 1-4 certifications per engineer, on lines of uneven popularity, with validity periods of
  180 days to 3 years starting anywhere from ~4 years ago to 60 days ahead: a natural mix of
  expired, valid and not-yet-valid certificates; a share of the expired ones renewed;
- an assignment history (4 tickets per engineer on average, ~12% still open) so that the
  ranking's open-load and last-assigned queries have rows to read.

Then, one after the other (closed loop, each point `--warmup` s unmeasured + `--duration` s
measured; the product line changes on every call, cycling through all lines):

1. rpc echo     the bare Nameko RPC round trip: bench/echo.py's `bench_echo.echo({"ping": 1})`
                (its own `nameko run`, same broker, vhost, serializer as dispatch);
2. rpc echo (response-sized)  the same with a payload as large as a typical lookup answer
                (sent both ways, so an upper bound of what moving the answer costs);
3. SELECT       a plain indexed SELECT of one product line's current certifications
                (`product_line = ? AND valid_until >= ?`, index
                ix_certifications_product_line_valid_until), raw DB-API, no ORM;
4. handler      services.dispatch.handlers.qualified_engineers called directly in this
                process on the same database (no Nameko, no eventlet, no broker);
5. rpc lookup   dispatch's `qualified_engineers` RPC through the running dispatch service
                (`nameko run services.dispatch.service:DispatchService`).

It prints p50/p90/p99/max per point, the answer sizes, and whether the issue's target
(rpc lookup p99 <= 20 ms) holds. It reports, it does not assert. With `--profile DIR` it
then profiles: cProfile of the direct handler, and py-spy on the dispatch service during an
extra RPC pass. Everything it started (processes, vhost, database, files) is removed.
"""
import argparse
import collections
import cProfile
import datetime as dt
import json
import os
import pstats
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.support import exit_on_signals, log, percentile, stop_processes  # noqa: E402
from gongdan_common.config import load_config  # noqa: E402
from gongdan_common.db import Database  # noqa: E402
from gongdan_common.migrate import upgrade  # noqa: E402
from scripts._proc import die_with_parent, free_port, tail  # noqa: E402
from services.dispatch import handlers  # noqa: E402
from services.dispatch.models import (Assignment, Certification, CurrentAssignment,  # noqa: E402
                                      Engineer, Provider, TicketProjection, metadata,
                                      refresh_engineers)
from tests.support.system import PG_ADMIN, _rabbitmqctl  # noqa: E402

TARGET_P99_MS = 20.0
CONFIG = os.path.join(ROOT, "config", "gongdan.yaml")
ACTOR = {"id": "bench-agent", "role": "agent", "name": "bench"}
DONE = ("resolved", "closed", "cancelled")


# ---- the rest of the machine ----------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_table():
    """pid -> (command, parent pid, CPU seconds used so far)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                data = fh.read()
        except OSError:
            continue
        comm = data[data.index("(") + 1:data.rindex(")")]
        f = data[data.rindex(")") + 2:].split()
        table[int(entry)] = (comm, int(f[1]), (int(f[11]) + int(f[12])) / CLK_TCK)
    return table


class MachineCpu:
    """CPU used while a point is measured, in cores (1.0 = one core): by this run (this
    process and everything it started), by PostgreSQL and RabbitMQ (shared servers), and
    by anything else on the machine — on a shared machine the last one says how noisy the
    point was."""

    SHARED = {"postgres": "postgres", "beam.smp": "rabbitmq"}

    def __init__(self, named=None):
        self.named = named or {}  # pid -> a name to report this run's share under, too

    @staticmethod
    def _stat():
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:9]]
        return {"idle": (f[3] + f[4]) / CLK_TCK, "steal": f[7] / CLK_TCK}

    def start(self):
        self.t0, self.before, self.stat0 = time.monotonic(), _proc_table(), self._stat()

    def stop(self):
        wall = time.monotonic() - self.t0
        after = _proc_table()
        stat = self._stat()
        me = os.getpid()

        def ours(pid):
            seen = 0
            while pid > 1 and seen < 64:
                if pid == me:
                    return True
                pid = after.get(pid, (None, 0))[1]
                seen += 1
            return False
        used, other = collections.Counter(), collections.Counter()
        for pid, (comm, _ppid, cpu) in after.items():
            prev = self.before.get(pid)
            delta = cpu - (prev[2] if prev and prev[2] <= cpu else 0.0)
            if delta <= 0:
                continue
            group = "this run" if ours(pid) else self.SHARED.get(comm, "other")
            used[group] += delta
            if group == "this run":
                used["run: " + self.named.get(pid, "bench client" if pid == me else
                                               "other children")] += delta
            if group == "other":
                other[comm] += delta
        out = {k: round(v / wall, 2) for k, v in used.items()}
        for k in ("idle", "steal"):  # the whole machine: unused, and taken by the hypervisor
            out["machine_" + k] = round((stat[k] - self.stat0[k]) / wall, 2)
        out["other_top"] = {k: round(v / wall, 2) for k, v in other.most_common(3)
                            if v / wall >= 0.05}
        return out


# ---- the database ---------------------------------------------------------------------------

class BenchDatabase:
    """A fresh service database (dispatch's unless told): a PostgreSQL database of its own,
    or a SQLite file."""

    def __init__(self, backend, workdir, service="dispatch"):
        self.backend, self.workdir, self.service = backend, workdir, service
        self.pg_name = None

    def create(self):
        if self.backend == "sqlite":
            self.url = "sqlite:///" + os.path.join(self.workdir, f"{self.service}.db")
        else:
            import psycopg2
            self.pg_name = f"gdb_{self.service}_" + secrets.token_hex(4)
            conn = psycopg2.connect(PG_ADMIN)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{self.pg_name}"')
            conn.close()
            self.url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{self.pg_name}"
        upgrade(self.service, self.url)
        return self

    def drop(self):
        if self.pg_name:
            import psycopg2
            conn = psycopg2.connect(PG_ADMIN)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            conn.close()
            self.pg_name = None


def seed(db, args, today, rng):
    """Bulk-insert the registry and an assignment history. Returns facts about it."""
    now = dt.datetime.now(dt.timezone.utc)
    lines = [f"line-{i:02d}" for i in range(args.lines)]
    # popularity of a line: from 0.5x to 1.5x the average, in random order
    popularity = [0.5 + i / max(1, args.lines - 1) for i in range(args.lines)]
    rng.shuffle(popularity)

    providers = []
    for i in range(args.providers):
        covered = rng.sample(lines, max(1, int(args.lines * rng.uniform(0.3, 0.8))))
        providers.append({"id": str(uuid.UUID(int=rng.getrandbits(128))),
                          "name": f"服务商-{i + 1:02d}", "regions": rng.sample(
                              ["华北", "华东", "华南", "西南", "西北", "东北"], 2),
                          "product_lines": covered,
                          "active": i != args.providers - 1,  # the last one is inactive
                          "created_at": now, "updated_at": now})
    provider_weights = [rng.uniform(0.2, 1.0) for _ in providers]

    engineers, certs = [], []
    kinds = collections.Counter()
    for i in range(args.engineers):
        provider = rng.choices(providers, provider_weights)[0]
        eid = str(uuid.UUID(int=rng.getrandbits(128)))
        held = set()
        for _ in range(rng.choices((1, 2, 3, 4), (35, 35, 20, 10))[0]):
            held.add(rng.choices(lines, popularity)[0])
        skills = sorted(held | set(rng.sample(lines, 1)))
        on_leave = rng.random() < 0.08
        engineers.append({"id": eid, "provider_id": provider["id"], "name": f"工程师{i:05d}",
                          "skills": skills, "availability": "on_leave" if on_leave else "on_duty",
                          "created_at": now, "updated_at": now})
        for n, line in enumerate(sorted(held)):
            start = today + dt.timedelta(days=rng.randint(-1500, 60))
            until = start + dt.timedelta(days=rng.choice((180, 365, 730, 1095)) - 1)
            periods = [(start, until)]
            if until < today and rng.random() < 0.4:  # renewed after it ran out
                renewed = until + dt.timedelta(days=1)
                periods.append((renewed, renewed + dt.timedelta(days=1094)))
            for k, (a, b) in enumerate(periods):
                kinds["expired" if b < today else "not yet valid" if a > today else "valid"] += 1
                certs.append({"id": str(uuid.UUID(int=rng.getrandbits(128))),
                              "engineer_id": eid, "product_line": line,
                              "certificate_no": f"C-{i:05d}-{n}-{k}",
                              "certificate_name": f"{line} 认证工程师", "valid_from": a,
                              "valid_until": b, "created_at": now})

    by_provider = {p["id"]: p for p in providers}
    tickets, assignments, current = [], [], []
    for n in range(args.engineers * args.tickets_per_engineer):
        e = rng.choice(engineers)
        p = by_provider[e["provider_id"]]
        tid = str(uuid.UUID(int=rng.getrandbits(128)))
        aid = str(uuid.UUID(int=rng.getrandbits(128)))
        created = now - dt.timedelta(minutes=rng.randint(10, 365 * 24 * 60))
        status = rng.choice(("assigned", "in_progress")) if rng.random() < 0.12 else \
            rng.choice(DONE)
        line = rng.choice(e["skills"])
        tickets.append({"id": tid, "number": f"TS{n:08d}", "type": "installation",
                        "title": "安装", "product": "P-" + line, "product_line": line,
                        "category": "installation", "priority": "P3", "status": status,
                        "company_id": None, "region": None, "submitter_id": "bench",
                        "provider_id": None, "handler_id": e["id"], "version": 2,
                        "created_at": created, "updated_at": created, "projected_at": created})
        assignments.append({"id": aid, "ticket_id": tid, "seq": 1, "ticket_number": f"TS{n:08d}",
                            "kind": "assigned", "engineer_id": e["id"], "engineer_name": e["name"],
                            "provider_id": p["id"], "provider_name": p["name"],
                            "method": "auto_installation", "certification_id": "seeded",
                            "certificate_no": "seeded", "certificate_valid_until": today,
                            "open_load": 0, "created_at": created})
        current.append({"ticket_id": tid, "assignment_id": aid, "engineer_id": e["id"],
                        "provider_id": p["id"], "method": "auto_installation", "version": 1,
                        "updated_at": created})

    t0 = time.monotonic()
    with db.engine.begin() as conn:
        for model, rows in ((Provider, providers), (Engineer, engineers),
                            (Certification, certs), (TicketProjection, tickets),
                            (Assignment, assignments), (CurrentAssignment, current)):
            for k in range(0, len(rows), 5000):
                conn.execute(model.__table__.insert(), rows[k:k + 5000])
    with db.unit_of_work() as uow:  # the engineers' kept open load and last assignment
        refresh_engineers(uow.session, None, DONE)
        uow.commit()
    analyze(db)
    log(f"seeded {len(providers)} providers, {len(engineers)} engineers, {len(certs)} "
        f"certifications ({dict(kinds)}), {len(tickets)} tickets/assignments "
        f"in {time.monotonic() - t0:.1f}s")
    return {"lines": lines, "providers": len(providers), "engineers": len(engineers),
            "on_leave": sum(e["availability"] == "on_leave" for e in engineers),
            "certifications": len(certs), "certification_kinds": dict(kinds),
            "assignments": len(assignments),
            "open_assignments": sum(t["status"] not in DONE for t in tickets)}


def analyze(db):
    if db.engine.dialect.name == "postgresql":
        conn = db.engine.raw_connection()
        try:
            conn.dbapi_connection.autocommit = True
            with conn.cursor() as cur:
                cur.execute("VACUUM ANALYZE")
        finally:
            conn.close()
    else:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")


# ---- the processes --------------------------------------------------------------------------

class Services:
    """bench/echo.py's echo service and the dispatch service, each in its own `nameko run`,
    in a RabbitMQ vhost of their own."""

    def __init__(self, workdir, db_url):
        self.workdir, self.db_url = workdir, db_url
        self.procs = {}
        self.vhost = None

    def start(self):
        self.vhost = "gongdan-bench-" + secrets.token_hex(4)
        made = _rabbitmqctl("add_vhost", self.vhost)
        if made.returncode != 0:
            raise RuntimeError("cannot create a RabbitMQ vhost: " + made.stderr)
        _rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.amqp_uri = "pyamqp://guest:guest@127.0.0.1:5672/" + \
            urllib.parse.quote(self.vhost, safe="")
        env = {**os.environ, "PYTHONPATH": ROOT, "LOG_LEVEL": "INFO", "AMQP_URI": self.amqp_uri,
               "BENCH_WEB_ADDRESS": f"127.0.0.1:{free_port()}",
               "GATEWAY_ADDRESS": f"127.0.0.1:{free_port()}",
               "GONGDAN_DATA_DIR": os.path.join(self.workdir, "data"),
               "DISPATCH_DB_URL": self.db_url}
        os.makedirs(os.path.join(self.workdir, "logs"), exist_ok=True)
        for name, target, config in (
                ("echo", "bench.echo:EchoService", os.path.join(ROOT, "bench", "echo.yaml")),
                ("dispatch", "services.dispatch.service:DispatchService", CONFIG)):
            with open(self.log_path(name), "ab") as fh:
                self.procs[name] = subprocess.Popen(
                    [sys.executable, "-m", "nameko", "run", target, "--config", config],
                    cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, preexec_fn=die_with_parent())
        return self

    def log_path(self, name):
        return os.path.join(self.workdir, "logs", f"{name}.log")

    def check_alive(self):
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n"
                                   + tail(self.log_path(name), 40))

    def stop(self):
        stop_processes(self.procs, self.vhost)
        self.procs, self.vhost = {}, None


def rpc_proxy(amqp_uri):
    from nameko.standalone.rpc import ClusterRpcProxy
    return ClusterRpcProxy({"AMQP_URI": amqp_uri, "serializer": "json"}, timeout=60)


def wait_ready(services, amqp_uri, db, timeout=120):
    """Both services answer, and dispatch's start-up certification check has finished and
    its outbox is drained (it warns of the seeded certificates that are about to expire)."""
    deadline = time.monotonic() + timeout
    with rpc_proxy(amqp_uri) as rpc:
        while True:
            services.check_alive()
            try:
                assert rpc.bench_echo.echo({"ping": 1}) == {"ping": 1}
                rpc.dispatch.health()
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    last = None
    while time.monotonic() < deadline:
        with db.engine.connect() as conn:
            state = (conn.exec_driver_sql("SELECT count(*) FROM certification_warnings").scalar(),
                     conn.exec_driver_sql(
                         "SELECT count(*) FROM outbox WHERE published_at IS NULL").scalar())
        if state == last and state[1] == 0:
            return {"certification_warnings": state[0]}
        last = state
        time.sleep(1.0)
    raise RuntimeError(f"dispatch's start-up work did not settle: {last}")


# ---- measuring ------------------------------------------------------------------------------

def run_point(label, make_call, args, conc, lines, size=None):
    """Closed loop with `conc` threads, each with its own client from `make_call()`."""
    def loop(call, until, samples):
        order = list(lines)
        random.Random(id(samples)).shuffle(order)
        i = 0
        while time.monotonic() < until:
            line = order[i % len(order)]
            i += 1
            t0 = time.perf_counter()
            result = call(line)
            dt_ms = (time.perf_counter() - t0) * 1000
            samples.append((dt_ms, line, size(result) if size else None))

    def phase(seconds):
        until = time.monotonic() + seconds
        per_thread = [[] for _ in range(conc)]
        threads = []
        clients = [make_call() for _ in range(conc)]
        try:
            for k in range(conc):
                call = clients[k][0] if isinstance(clients[k], tuple) else clients[k]
                threads.append(threading.Thread(target=loop, args=(call, until, per_thread[k]),
                                                daemon=True))
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            for c in clients:
                if isinstance(c, tuple):
                    c[1]()
        return [s for samples in per_thread for s in samples]

    log(f"{label}: c={conc}, warm-up {args.warmup}s")
    phase(args.warmup)
    log(f"{label}: c={conc}, measuring {args.duration}s")
    meter = MachineCpu()
    meter.start()
    samples = phase(args.duration)
    cpu = meter.stop()
    lat = sorted(s[0] for s in samples)
    out = {"n": len(lat), "rate": len(lat) / args.duration, "p50_ms": percentile(lat, 50),
           "p90_ms": percentile(lat, 90), "p99_ms": percentile(lat, 99), "max_ms": lat[-1],
           "mean_ms": statistics.fmean(lat), "cpu_cores": cpu}
    if size:
        sizes = [s[2] for s in samples]
        out.update(items_mean=statistics.fmean(sizes), items_min=min(sizes),
                   items_max=max(sizes))
        biggest = max(sizes)
        big = sorted(s[0] for s in samples if s[2] == biggest)
        out.update(biggest_line_p50_ms=percentile(big, 50))
        small = min(sizes)
        sm = sorted(s[0] for s in samples if s[2] == small)
        out.update(smallest_line_p50_ms=percentile(sm, 50))
    log(f"{label}: c={conc}: n={out['n']} p50 {out['p50_ms']:.2f} ms p99 {out['p99_ms']:.2f} ms "
        f"max {out['max_ms']:.1f} ms")
    return out


def handler_caller(db, settings):
    def make():
        def call(line):
            return handlers.qualified_engineers(ACTOR, {"product_line": line},
                                                db.unit_of_work(), settings)
        return call
    return make


def select_caller(db, today):
    if db.engine.dialect.name == "postgresql":
        sql = ("SELECT id, engineer_id, product_line, certificate_no, valid_from, valid_until "
               "FROM certifications WHERE product_line = %s AND valid_until >= %s")
    else:
        sql = ("SELECT id, engineer_id, product_line, certificate_no, valid_from, valid_until "
               "FROM certifications WHERE product_line = ? AND valid_until >= ?")

    def make():
        conn = db.engine.raw_connection()

        def call(line):
            cur = conn.cursor()
            cur.execute(sql, (line, today.isoformat() if db.backend == "sqlite" else today))
            rows = cur.fetchall()
            cur.close()
            if db.backend != "sqlite":
                conn.rollback()  # end the read transaction, as a unit of work would
            return rows
        return call, conn.close
    return make


def explain_select(db, line, today):
    conn = db.engine.raw_connection()
    try:
        cur = conn.cursor()
        if db.backend == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN SELECT id FROM certifications WHERE product_line = ? "
                        "AND valid_until >= ?", (line, today.isoformat()))
            return " / ".join(str(r[-1]) for r in cur.fetchall())
        cur.execute("EXPLAIN SELECT id FROM certifications WHERE product_line = %s "
                    "AND valid_until >= %s", (line, today))
        plan = " / ".join(r[0].strip() for r in cur.fetchall())
        conn.rollback()
        return plan
    finally:
        conn.close()


def rpc_caller(amqp_uri, method):
    def make():
        proxy = rpc_proxy(amqp_uri)
        rpc = proxy.start()
        return (lambda line: method(rpc, line)), proxy.stop
    return make


# ---- profiling ------------------------------------------------------------------------------

def profile_handler(db, settings, lines, out_dir, seconds):
    prof = cProfile.Profile()
    call = handler_caller(db, settings)()
    until, i = time.monotonic() + seconds, 0
    prof.enable()
    while time.monotonic() < until:
        call(lines[i % len(lines)])
        i += 1
    prof.disable()
    path = os.path.join(out_dir, "handler.pstats")
    prof.dump_stats(path)
    stats = pstats.Stats(prof)
    total = stats.total_tt
    rows = []
    for (filename, lineno, func), (cc, nc, tt, ct, _callers) in stats.stats.items():
        rows.append((ct, tt, nc, f"{func} ({_short(filename)}:{lineno})"))
    rows.sort(reverse=True)
    return {"calls": i, "total_s": round(total, 3),
            "per_call_ms": round(1000 * total / max(i, 1), 2),
            "cumulative": [(name, round(100 * ct / total, 1), round(1000 * ct / i, 2))
                           for ct, _tt, _nc, name in rows[:40]],
            "self": [(name, round(100 * tt / total, 1), round(1000 * tt / i, 2))
                     for _ct, tt, _nc, name in sorted(rows, key=lambda r: -r[1])[:20]],
            "file": path}


def py_spy_rpc(services, amqp_uri, lines, out_dir, seconds):
    exe = os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(exe):
        exe = shutil.which("py-spy")
    if not exe:
        log("py-spy not found (pip install py-spy): no profile of the service")
        return None
    path = os.path.join(out_dir, "dispatch.collapsed")
    spy = subprocess.Popen([exe, "record", "--nonblocking", "-r", "200",
                            "-d", str(int(seconds + 0.999)),
                            "-p", str(services.procs["dispatch"].pid), "-f", "raw", "-o", path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           preexec_fn=die_with_parent(signal.SIGKILL))
    time.sleep(1.0)
    call, stop = rpc_caller(amqp_uri, lambda rpc, line: rpc.dispatch.qualified_engineers(
        ACTOR, line))()
    until, i = time.monotonic() + seconds - 1.5, 0
    try:
        while time.monotonic() < until:
            call(lines[i % len(lines)])
            i += 1
    finally:
        stop()
    spy.wait(timeout=seconds + 60)
    if not os.path.exists(path):
        return None
    return summarise_collapsed(path)


def _short(where):
    where = where.replace(ROOT + "/", "")
    marker = "site-packages/"
    return where.split(marker, 1)[1] if marker in where else where


def summarise_collapsed(path, top=30):
    """Inclusive share per function of the samples in which the dispatch process was busy
    (py-spy --nonblocking records idle greenlet hubs too: those are dropped)."""
    inclusive, leaf, total, idle = collections.Counter(), collections.Counter(), 0, 0
    with open(path) as fh:
        for line in fh:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            n = int(count)
            frames = stack.split(";")
            if any(f.startswith(("wait (eventlet/hubs", "select (selectors", "poll (selectors"))
                   or "eventlet/hubs/poll.py" in f or "eventlet/hubs/epolls.py" in f
                   for f in frames[-2:]):
                idle += n
                continue
            total += n
            seen = set()
            for frame in frames:
                name = frame.split(" (", 1)[0] + " (" + _short(
                    frame.split(" (", 1)[1].rstrip(")") if " (" in frame else "?") + ")"
                if name not in seen:
                    seen.add(name)
                    inclusive[name] += n
            last = frames[-1]
            leaf[last.split(" (", 1)[0] + " (" + _short(
                last.split(" (", 1)[1].rstrip(")") if " (" in last else "?") + ")"] += n
    return {"busy_samples": total, "idle_samples": idle,
            "inclusive": [(k, round(100 * v / max(total, 1), 1))
                          for k, v in inclusive.most_common(top)],
            "self": [(k, round(100 * v / max(total, 1), 1)) for k, v in leaf.most_common(15)],
            "file": path}


# ---- the report -----------------------------------------------------------------------------

POINTS = (("rpc_echo", "bare RPC round trip: bench_echo.echo({\"ping\": 1})"),
          ("rpc_echo_big", "RPC echo of a response-sized payload (both ways)"),
          ("select", "plain indexed SELECT of one line's current certifications (raw DB-API)"),
          ("handler", "handlers.qualified_engineers called directly (same database)"),
          ("rpc_lookup", "dispatch.qualified_engineers RPC (running dispatch service)"))


def cpu_cell(p):
    c = p.get("cpu_cores") or {}
    return (f"{c.get('this run', 0):.2f} / {c.get('postgres', 0) + c.get('rabbitmq', 0):.2f} / "
            f"{c.get('other', 0):.2f} / {c.get('machine_idle', 0):.2f} / "
            f"{c.get('machine_steal', 0):.2f}")


def report(args, results):
    lines = []
    out = lines.append
    d = results["data"]
    out(f"Backend: {args.backend}; {os.cpu_count()} CPU cores; {d['engineers']} engineers "
        f"({d['on_leave']} on leave) of {d['providers']} providers (1 inactive), "
        f"{len(d['lines'])} product lines, {d['certifications']} certifications "
        f"({', '.join(f'{v} {k}' for k, v in d['certification_kinds'].items())}), "
        f"{d['assignments']} assignments ({d['open_assignments']} open); each point "
        f"{args.warmup}s warm-up + {args.duration}s measured, closed loop; the product line "
        "changes on every call.")
    out("")
    for conc in args.concurrency:
        out(f"c = {conc}:")
        out("")
        out("| point | calls/s | p50 ms | p90 ms | p99 ms | max ms | rows / items per answer "
            "| CPU cores: this run / pg+mq / other / idle / steal |")
        out("|---|---:|---:|---:|---:|---:|---:|---:|")
        for key, label in POINTS:
            p = results["points"].get(f"{key}@{conc}")
            if p is None:
                continue
            items = (f"{p['items_mean']:.0f} ({p['items_min']}–{p['items_max']})"
                     if "items_mean" in p else "—")
            out(f"| {label} | {p['rate']:.0f} | {p['p50_ms']:.2f} | {p['p90_ms']:.2f} | "
                f"{p['p99_ms']:.2f} | {p['max_ms']:.1f} | {items} | {cpu_cell(p)} |")
        out("")
        h, r = results["points"].get(f"handler@{conc}"), results["points"].get(f"rpc_lookup@{conc}")
        e = results["points"].get(f"rpc_echo@{conc}")
        if h and r:
            out(f"- by line size: the biggest line ({h['items_max']} qualified) handler p50 "
                f"{h['biggest_line_p50_ms']:.1f} ms, rpc p50 {r['biggest_line_p50_ms']:.1f} ms; "
                f"the smallest ({h['items_min']}) handler p50 {h['smallest_line_p50_ms']:.1f} ms, "
                f"rpc p50 {r['smallest_line_p50_ms']:.1f} ms")
            out(f"- RPC overhead on the lookup (rpc − handler): p50 "
                f"{r['p50_ms'] - h['p50_ms']:.2f} ms, p99 {r['p99_ms'] - h['p99_ms']:.2f} ms"
                + (f"; the bare round trip is p50 {e['p50_ms']:.2f} ms" if e else ""))
        if r:
            ok = r["p99_ms"] <= TARGET_P99_MS
            out(f"- target rpc lookup p99 <= {TARGET_P99_MS:.0f} ms: "
                f"{'MET' if ok else 'NOT MET'} (p99 {r['p99_ms']:.1f} ms)")
        out("")
    noisy = {k: v["cpu_cores"]["other_top"] for k, v in results["points"].items()
             if v.get("cpu_cores", {}).get("other", 0) >= 0.25}
    if noisy:
        out(f"Processes outside this run used >= 0.25 cores during: {noisy}")
    out(f"SELECT plan: {results.get('select_plan')}")
    out(f"Start-up certification check: {results.get('startup', {})}")
    prof = results.get("profile")
    if prof:
        h = prof.get("handler")
        if h:
            out("")
            out(f"cProfile of the direct handler ({h['calls']} calls, {h['per_call_ms']} ms per "
                "call under the profiler; cumulative % of time, ms per call):")
            for name, share, ms in h["cumulative"]:
                out(f"  {share:5.1f}%  {ms:7.2f} ms  {name}")
            out("  self time:")
            for name, share, ms in h["self"]:
                out(f"  {share:5.1f}%  {ms:7.2f} ms  {name}")
        s = prof.get("service")
        if s:
            out("")
            out(f"py-spy of the dispatch service during RPC lookups ({s['busy_samples']} busy "
                f"samples, {s['idle_samples']} idle dropped; inclusive % of busy):")
            for name, share in s["inclusive"]:
                out(f"  {share:5.1f}%  {name}")
            out("  self:")
            for name, share in s["self"]:
                out(f"  {share:5.1f}%  {name}")
    return "\n".join(lines)


# ---- the run --------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.dispatch_lookup", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    p.add_argument("--engineers", type=int, default=10000)
    p.add_argument("--lines", type=int, default=50)
    p.add_argument("--providers", type=int, default=12)
    p.add_argument("--tickets-per-engineer", type=int, default=4)
    p.add_argument("--concurrency", default="1",
                   type=lambda s: [int(x) for x in s.split(",") if x.strip()])
    p.add_argument("--duration", type=float, default=10, help="measured seconds per point")
    p.add_argument("--warmup", type=float, default=2, help="unmeasured seconds before each point")
    p.add_argument("--seed", type=int, default=20260101)
    p.add_argument("--profile", metavar="DIR",
                   help="after measuring, profile the direct handler (cProfile) and the "
                        "dispatch service during RPC lookups (py-spy); files in DIR")
    p.add_argument("--profile-seconds", type=float, default=10)
    p.add_argument("--json", metavar="FILE", help="also write the raw results as JSON")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    exit_on_signals()

    workdir = tempfile.mkdtemp(prefix="gongdan-bench-dispatch-")
    config = load_config(CONFIG)
    settings = handlers.settings_from_config(config)
    today = handlers._today(settings)
    rng = random.Random(args.seed)
    results = {"backend": args.backend, "points": {}}
    bdb = BenchDatabase(args.backend, workdir)
    services = db = None
    try:
        log(f"creating and migrating a fresh dispatch database ({args.backend}) ...")
        bdb.create()
        db = Database(bdb.url, metadata)
        db.backend = args.backend
        results["data"] = seed(db, args, today, rng)
        lines = results["data"]["lines"]
        log("starting bench_echo and dispatch (nameko run) ...")
        services = Services(workdir, bdb.url).start()
        results["startup"] = wait_ready(services, services.amqp_uri, db)
        log(f"ready; start-up certification check: {results['startup']}")
        sample = handlers.qualified_engineers(ACTOR, {"product_line": lines[0]},
                                              db.unit_of_work(), settings)
        typical = sorted((handlers.qualified_engineers(ACTOR, {"product_line": ln},
                                                       db.unit_of_work(), settings)
                          for ln in lines), key=lambda a: len(a["items"]))[len(lines) // 2]
        results["typical_answer_bytes"] = len(json.dumps(typical, ensure_ascii=False).encode())
        assert sample["items"], "no qualified engineer on the first line: seeding went wrong"
        results["select_plan"] = explain_select(db, lines[0], today)
        amqp = services.amqp_uri
        for conc in args.concurrency:
            pts = results["points"]
            pts[f"rpc_echo@{conc}"] = run_point(
                "rpc echo", rpc_caller(amqp, lambda rpc, line: rpc.bench_echo.echo({"ping": 1})),
                args, conc, lines)
            pts[f"rpc_echo_big@{conc}"] = run_point(
                "rpc echo (response-sized)",
                rpc_caller(amqp, lambda rpc, line: rpc.bench_echo.echo(typical)), args, conc,
                lines)
            pts[f"select@{conc}"] = run_point("SELECT", select_caller(db, today), args, conc,
                                              lines, size=len)
            pts[f"handler@{conc}"] = run_point("handler", handler_caller(db, settings), args,
                                               conc, lines, size=lambda a: len(a["items"]))
            pts[f"rpc_lookup@{conc}"] = run_point(
                "rpc lookup", rpc_caller(amqp, lambda rpc, line: rpc.dispatch.qualified_engineers(
                    ACTOR, line)), args, conc, lines, size=lambda a: len(a["items"]))
            services.check_alive()
        if args.profile:
            os.makedirs(args.profile, exist_ok=True)
            log(f"profiling the direct handler (cProfile, {args.profile_seconds}s) ...")
            results["profile"] = {"handler": profile_handler(db, settings, lines, args.profile,
                                                             args.profile_seconds)}
            log(f"profiling the dispatch service (py-spy, {args.profile_seconds}s) ...")
            results["profile"]["service"] = py_spy_rpc(services, amqp, lines, args.profile,
                                                       args.profile_seconds + 1.5)
    except Exception:
        if services is not None:
            for name in services.procs:
                log(f"--- {name} log tail ---\n" + tail(services.log_path(name), 20))
        raise
    finally:
        if services is not None:
            services.stop()
        if db is not None:
            db.dispose()
        bdb.drop()
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=2, ensure_ascii=False, default=str)
        if args.keep:
            log(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(f"Typical (median line) answer: {results['typical_answer_bytes']} bytes of JSON")
    print(report(args, results), flush=True)


if __name__ == "__main__":
    main()
