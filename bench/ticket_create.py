"""Ticket creation through the gateway against the bare Nameko HTTP -> RPC round trip.

    .venv/bin/python -m bench.ticket_create [--backend postgresql|sqlite]
                                           [--concurrency 1,10,20] [--duration 12] [--warmup 3]
                                           [--no-attachments] [--skip-baseline]
                                           [--wait-quiet 10] [--py-spy DIR] [--json FILE] [--keep]

See docs/performance.md for what the output means and the results on the reference machine.

One run measures, at each concurrency (closed loop: N clients each with one keep-alive
connection, sending the next request as soon as the previous answer arrives):

1. baseline  the bare round trip: bench/echo.py's two Nameko services (`@http` front that
             calls an `@rpc` echo through an `RpcProxy`), each in its own `nameko run`, on the
             same RabbitMQ in a vhost of their own; load from `wrk`;
2. create    POST /api/v1/tickets on the whole Gongdan system (tests/support/system.py:
             every service as a `nameko run` process, a private vhost and S3 server, fresh
             databases), as an approved customer; load from `wrk`;
3. upload    POST /api/v1/tickets/{id}/attachments, a 1 MB PNG (multipart field `file`),
             round-robin over pre-created tickets; load from `wrk`;
4. create+1MB  the two-request sequence (create, then upload 1 MB to the new ticket) as one
             operation; load from Python threads (wrk cannot chain requests).

Each point runs `--warmup` seconds unmeasured, then `--duration` seconds measured. The
baseline runs first and is stopped before the system starts, so the two never share the
CPU. It prints the results side by side with the ratio create/baseline, the CPU each
process group used per point, the RSS of the gateway and intake before and after, and
whether the issue's target holds (c=20: create >= 60% of the baseline's throughput and
p99 <= 300 ms, on PostgreSQL). It reports, it does not assert. Everything it started
(processes, vhosts, databases, temporary files) is stopped or removed at the end.
"""
import argparse
import collections
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import requests

from bench.support import exit_on_signals, log, percentile, stop_processes
from scripts._proc import die_with_parent, free_port, tail
from tests.support.load import customer
from tests.support.system import Api, System, _rabbitmqctl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
LUA = os.path.join(BENCH, "lua")
TARGET_RATIO, TARGET_P99_MS, TARGET_CONCURRENCY = 0.60, 300.0, 20
ATTACHMENT_BYTES = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TICKET = {"title": "无法登录系统", "type": "defect", "product": None, "category": "function",
          "description": "登录时提示账号被锁定，已持续两天", "contact_phone": "13800138000",
          "impact": "department", "urgency": "high"}


# ---- processes: CPU and memory from /proc ---------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            data = fh.read()
    except OSError:
        return None, None
    comm = data[data.index("(") + 1:data.rindex(")")]
    fields = data[data.rindex(")") + 2:].split()
    # utime + stime; for the bench itself also of its reaped children (wrk has exited by
    # the time the window is read)
    return comm, sum(int(f) for f in fields[11:15 if pid == os.getpid() else 13]) / CLK_TCK


def cpu_snapshot():
    snap = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            comm, cpu = cpu_seconds(int(entry))
            if comm is not None:
                snap[int(entry)] = (comm, cpu)
    return snap


def memory(pid):
    """VmRSS and VmHWM (peak RSS) in MiB."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return {"rss_mib": out.get("VmRSS"), "peak_mib": out.get("VmHWM")}


class CpuMeter:
    """CPU used per process group between start() and stop(), in cores (1.0 = one core)."""

    COMM_GROUPS = {"beam.smp": "rabbitmq", "wrk": "load generator",
                   "py-spy": "py-spy"}

    def __init__(self, pid_groups, databases=()):
        self.named = {**pid_groups, os.getpid(): "load generator"}
        self.databases = tuple(databases)

    def group(self, pid, comm):
        if pid in self.named:
            return self.named[pid]
        if comm == "postgres":  # the server is shared: count only backends of our databases
            return "postgres" if self._our_backend(pid) else "other"
        return self.COMM_GROUPS.get(comm) or "other"

    def _our_backend(self, pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmdline = fh.read().decode("utf-8", "replace")
        except OSError:
            return False
        return any(f" {db} " in cmdline for db in self.databases)

    def start(self):
        self.t0, self.before = time.monotonic(), cpu_snapshot()

    def stop(self):
        wall = self.last_wall = time.monotonic() - self.t0
        after = cpu_snapshot()
        used, other = collections.Counter(), collections.Counter()
        for pid, (comm, cpu) in after.items():
            # by pid only: kernel workers rename themselves (kworker/0:2-events -> ...-mm_...)
            prev = self.before.get(pid)
            base = prev[1] if prev and prev[1] <= cpu else 0.0
            group = self.group(pid, comm)
            used[group] += cpu - base
            if group == "other":
                other[comm.split("-", 1)[0] if comm.startswith("kworker") else comm] += cpu - base
        self.last_other = {c: round(sec / wall, 3) for c, sec in other.most_common(4) if sec > 0.005}
        return {name: round(sec / wall, 3) for name, sec in used.most_common() if sec > 0.005}


PG_PORT = {"port": 5432}  # --own-postgres: the private cluster's


def pg_connect(dbname, tries=20):
    """An autocommit connection to the server, waiting out "too many clients"."""
    import psycopg2
    for n in range(tries):
        try:
            conn = psycopg2.connect(f"host=127.0.0.1 port={PG_PORT['port']} user=postgres "
                                    f"dbname={dbname}")
            conn.autocommit = True
            return conn
        except psycopg2.OperationalError:
            if n == tries - 1:
                raise
            time.sleep(0.5)


class PgActivity:
    """Samples pg_stat_activity of one database (every 50 ms) while a point is measured:
    how many of its connections are running a query, waiting for a lock, or idle inside
    a transaction. Shows whether creates queue behind each other in the database."""

    def __init__(self, dbname, interval=0.05):
        self.dbname, self.interval = dbname, interval
        self.thread = None
        # both connections opened once, before the load: the shared server's connection
        # slots may all be taken later ("too many clients" stopped a run)
        self.conn, self.sampler = pg_connect(dbname), pg_connect(dbname)

    def sessions(self):
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_stat_clear_snapshot()")
            cur.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s",
                        (self.dbname,))
            return cur.fetchone()[0]

    def start(self):
        self.t0, self.sessions0 = time.monotonic(), self.sessions()
        self.counts, self.samples = collections.Counter(), 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        with self.sampler.cursor() as cur:
            while not self.stopping.wait(self.interval):
                cur.execute("SELECT state, wait_event_type, wait_event, left(query, 40) "
                            "FROM pg_stat_activity WHERE datname = %s "
                            "AND pid <> pg_backend_pid()", (self.dbname,))
                for state, wtype, wevent, query in cur.fetchall():
                    if state == "active" and wtype == "Lock":
                        self.counts[f"waiting for lock ({wevent}) in: {query.strip()}"] += 1
                    elif state == "active":
                        self.counts["running a query" + (f" ({wtype}:{wevent})" if wtype else "")] += 1
                    elif state in ("idle in transaction", "idle in transaction (aborted)"):
                        last = re.sub(r"sa_savepoint_\d+", "sa_savepoint_N", query.strip())
                        self.counts[f"idle in transaction after: {last}"] += 1
                    else:
                        self.counts["idle"] += 1
                self.samples += 1

    def close(self):
        self.conn.close()
        self.sampler.close()

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=5)
        n = max(self.samples, 1)
        opened = self.sessions() - self.sessions0
        out = {k: round(v / n, 2) for k, v in self.counts.most_common()}
        out["new connections per second"] = round(opened / (time.monotonic() - self.t0), 1)
        return out


class DbCounts:
    """Database work done during a point, per process: transactions (COMMIT + ROLLBACK) from
    PostgreSQL's pg_stat_database for each service database, and the statements and
    transactions each process counted itself (gongdan_db_statements_total,
    gongdan_db_transactions_total on its /metrics: gongdan_common/metrics.py). Divided by
    the requests of the point, they say what one created ticket costs the databases."""

    STATEMENTS = re.compile(r'^gongdan_db_statements_total\{service="[^"]*"\} ([0-9.e+]+)$', re.M)
    TRANSACTIONS = re.compile(
        r'^gongdan_db_transactions_total\{outcome="[^"]*",service="[^"]*"\} ([0-9.e+]+)$|'
        r'^gongdan_db_transactions_total\{service="[^"]*",outcome="[^"]*"\} ([0-9.e+]+)$', re.M)

    def __init__(self, system):
        self.system = system
        self.databases = {db.split("_")[1]: db for db in system.pg_databases}
        self.conn = None
        self._pg()

    def _pg(self):
        if not self.databases:
            return {}
        if self.conn is None:  # one connection for the run, opened before the load
            self.conn = pg_connect("postgres")
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_stat_clear_snapshot()")
            cur.execute("SELECT datname, xact_commit, xact_rollback FROM pg_stat_database "
                        "WHERE datname = ANY(%s)", (list(self.databases.values()),))
            by_db = {name: (c, r) for name, c, r in cur.fetchall()}
        return {svc: by_db.get(db, (0, 0)) for svc, db in self.databases.items()}

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _scrape(self):
        out = {}
        for label, port in self.system.ops_ports.items():
            try:
                text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            except requests.RequestException:
                continue
            statements = sum(float(v) for v in self.STATEMENTS.findall(text))
            transactions = sum(float(a or b) for a, b in self.TRANSACTIONS.findall(text))
            out[label] = (statements, transactions)
        return out

    def start(self):
        time.sleep(1.0)  # PostgreSQL publishes a backend's counters within a second
        self.pg0, self.app0 = self._pg(), self._scrape()

    def stop(self, requests_done, pg_activity=None):
        time.sleep(1.0)
        pg, app = self._pg(), self._scrape()
        n = max(requests_done, 1)
        # PgActivity's own look-ups (one autocommitted query per sample) are not Gongdan's
        own = {"intake": pg_activity.samples} if pg_activity else {}
        per = {"pg_transactions": {k: round((sum(pg[k]) - sum(self.pg0.get(k, (0, 0)))
                                             - own.get(k, 0)) / n, 2) for k in pg},
               "pg_rollbacks": {k: round((pg[k][1] - self.pg0.get(k, (0, 0))[1]) / n, 2)
                                for k in pg},
               "statements": {}, "transactions": {}}
        for label, (st, tx) in app.items():
            st0, tx0 = self.app0.get(label, (0, 0))
            if st - st0 or tx - tx0:
                per["statements"][label] = round((st - st0) / n, 2)
                per["transactions"][label] = round((tx - tx0) / n, 2)
        return per


class Backlog:
    """What a point's requests left to do when the load stopped: unpublished outbox rows of
    the services a ticket reaches, and notify's deliveries due now (the "accepted" mails).
    `settle` waits until that is worked off and the system's processes are near idle, so
    each point's CPU per request counts the work its requests caused, wherever it ran, and
    not the previous point's."""

    SERVICES = ("intake", "dispatch", "sla", "notify")
    IDLE_CORES = 0.3

    def __init__(self, system):
        self.system, self.conns = system, {}

    def _rows(self, service, query):
        if self.system.backend == "sqlite":
            return self.system.sql(service, query)
        if service not in self.conns:  # one connection each for the run: no backend forks
            self.conns[service] = pg_connect(self.system.db_urls[service].rsplit("/", 1)[1])
        with self.conns[service].cursor() as cur:
            cur.execute(query)
            return cur.fetchall()

    def left(self):
        n = sum(self._rows(svc, "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0]
                for svc in self.SERVICES)
        now = "datetime('now')" if self.system.backend == "sqlite" else "now()"
        return n + self._rows("notify", "SELECT count(*) FROM deliveries WHERE status = "
                                        f"'pending' AND next_attempt_at <= {now}")[0][0]

    def settle(self, meter, limit_s=120):
        """Wait until nothing is left and the system's processes use < IDLE_CORES; returns
        the seconds waited."""
        t0 = time.monotonic()
        probe = CpuMeter(meter.named, meter.databases)
        while time.monotonic() - t0 < limit_s:
            probe.start()
            time.sleep(0.5)
            used = probe.stop()
            busy = sum(v for g, v in used.items() if g not in ("load generator", "other",
                                                                "py-spy"))
            if busy < self.IDLE_CORES and not self.left():
                break
        return round(time.monotonic() - t0, 1)

    def close(self):
        for conn in self.conns.values():
            conn.close()
        self.conns = {}


# ---- load generators ------------------------------------------------------------------------

def wrk(url, script, connections, seconds, env, timeout=30):
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s",
            "-s", os.path.join(LUA, script), url]
    out = subprocess.run(argv, env={**os.environ, "BENCH_LUA_DIR": LUA, **env},
                         capture_output=True, text=True, timeout=seconds + timeout + 30,
                         preexec_fn=die_with_parent(signal.SIGKILL))
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            raw = json.loads(line[len("BENCH_RESULT "):])
            break
    else:
        raise RuntimeError(f"wrk gave no result (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")
    errors = sum(raw["errors"].values())
    good = raw["requests"] - raw["errors"]["status"]
    lat = raw["latency_us"]
    return {"rate": good / (raw["duration_us"] / 1e6), "requests": raw["requests"],
            "errors": errors,
            "error_detail": {**{k: v for k, v in raw["errors"].items() if v and k != "status"},
                             **{f"HTTP {k}": v for k, v in raw["statuses"].items()}},
            "error_sample": raw["error_sample"],
            "p50_ms": lat["p50"] / 1000, "p90_ms": lat["p90"] / 1000,
            "p99_ms": lat["p99"] / 1000, "max_ms": lat["max"] / 1000,
            "mean_ms": lat["mean"] / 1000}


def sequence_load(base_url, token, ticket_body, upload_body, boundary, connections, seconds,
                  warmup):
    """Create a ticket, then upload the file to it: one operation. Python threads, one
    keep-alive connection each. Counts operations completed inside the measured window."""
    parsed = urllib.parse.urlsplit(base_url)
    start = time.monotonic()
    measure_from, stop_at = start + warmup, start + warmup + seconds
    create_headers = {"Content-Type": "application/json", "Authorization": "Bearer " + token}
    upload_headers = {"Content-Type": "multipart/form-data; boundary=" + boundary,
                      "Authorization": "Bearer " + token}
    samples, errors, lock, bad = [], collections.Counter(), threading.Lock(), []

    def post(conn, path, body, headers):
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()

    def worker():
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        while time.monotonic() < stop_at:
            t0 = time.monotonic()
            try:
                status, data = post(conn, "/api/v1/tickets", ticket_body, create_headers)
                t1 = time.monotonic()
                if status != 201:
                    with lock:
                        errors[f"create HTTP {status}"] += 1
                        bad.append(data[:200].decode("utf-8", "replace"))
                    continue
                ticket_id = json.loads(data)["id"]
                status, data = post(conn, f"/api/v1/tickets/{ticket_id}/attachments",
                                    upload_body, upload_headers)
                t2 = time.monotonic()
                if status != 201:
                    with lock:
                        errors[f"upload HTTP {status}"] += 1
                        bad.append(data[:200].decode("utf-8", "replace"))
                    continue
            except (OSError, http.client.HTTPException) as err:
                with lock:
                    errors[type(err).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
                continue
            if measure_from <= t2 <= stop_at:
                with lock:
                    samples.append((t2 - t0, t1 - t0, t2 - t1))
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=warmup + seconds + 120)
    total = sorted(s[0] * 1000 for s in samples)
    create = sorted(s[1] * 1000 for s in samples)
    upload = sorted(s[2] * 1000 for s in samples)
    return {"rate": len(samples) / seconds, "requests": len(samples),
            "errors": sum(errors.values()), "error_detail": dict(errors),
            "error_sample": bad[-1] if bad else "",
            "p50_ms": percentile(total, 50), "p90_ms": percentile(total, 90),
            "p99_ms": percentile(total, 99), "max_ms": total[-1] if total else float("nan"),
            "mean_ms": sum(total) / len(total) if total else float("nan"),
            "create_p50_ms": percentile(create, 50), "create_p99_ms": percentile(create, 99),
            "upload_p50_ms": percentile(upload, 50), "upload_p99_ms": percentile(upload, 99)}


# ---- the baseline ---------------------------------------------------------------------------

class Baseline:
    """bench/echo.py's two services, each in its own `nameko run`, in a vhost of their own."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = {}
        self.vhost = None

    def start(self):
        self.vhost = "gongdan-bench-" + secrets.token_hex(4)
        made = _rabbitmqctl("add_vhost", self.vhost)
        if made.returncode != 0:
            raise RuntimeError("cannot create a RabbitMQ vhost: " + made.stderr)
        _rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/echo"
        env = {**os.environ, "PYTHONPATH": ROOT, "LOG_LEVEL": "INFO",
               "AMQP_URI": "pyamqp://guest:guest@127.0.0.1:5672/"
                           + urllib.parse.quote(self.vhost, safe=""),
               "BENCH_WEB_ADDRESS": f"127.0.0.1:{self.port}"}
        os.makedirs(os.path.join(self.workdir, "logs"), exist_ok=True)
        for name, cls in (("echo", "EchoService"), ("front", "FrontService")):
            with open(self.log_path(name), "ab") as fh:
                self.procs[name] = subprocess.Popen(
                    [sys.executable, "-m", "nameko", "run", "bench.echo:" + cls,
                     "--config", os.path.join(BENCH, "echo.yaml")],
                    cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, preexec_fn=die_with_parent())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"baseline {name} exited:\n" + tail(self.log_path(name)))
            try:
                r = requests.post(self.url, json={"ping": 1}, timeout=5)
                if r.status_code == 201 and r.json() == {"ping": 1}:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("baseline not answering:\n" + tail(self.log_path("front")))

    def log_path(self, name):
        return os.path.join(self.workdir, "logs", f"baseline-{name}.log")

    def stop(self):
        stop_processes(self.procs, self.vhost)
        self.procs, self.vhost = {}, None


# ---- setting up the system ------------------------------------------------------------------

def customer_api(system):
    """Product, customer company, registered + approved customer, logged in: the fault
    tests' setup (tests/support/load.py), under names of the bench's own."""
    return customer(system, prefix="BENCH", name="压测")


def png_bytes(size, avoid_line_breaks=True):
    """PNG signature + random bytes. With `avoid_line_breaks`, no CR or LF after the signature:
    gateway/uploads.py parses multipart with max_form_memory_size=64 KiB, which werkzeug 2.3
    checks against its raw read buffer, so a 64 KiB chunk ending in a CR/LF near the end is
    refused as too large (413 file_too_large) at random; see upload_probe() and
    docs/performance.md. The measured path (parse, spool, type check, hash, S3 put) is the
    same for these bytes."""
    data = os.urandom(size - len(PNG_SIGNATURE))
    if avoid_line_breaks:
        data = data.replace(b"\r", b"R").replace(b"\n", b"N")
    return PNG_SIGNATURE + data


def multipart_body(workdir=None, avoid_line_breaks=True):
    """A 1 MB PNG as a multipart body with field `file` -> (body, boundary, path or None)."""
    boundary = "gongdanbench" + secrets.token_hex(8)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"screenshot.png\"\r\nContent-Type: image/png\r\n\r\n").encode() \
        + png_bytes(ATTACHMENT_BYTES, avoid_line_breaks) + f"\r\n--{boundary}--\r\n".encode()
    path = None
    if workdir:
        path = os.path.join(workdir, "upload.body")
        with open(path, "wb") as fh:
            fh.write(body)
    return body, boundary, path


def upload(base_url, token, ticket_id, body, boundary):
    return requests.post(f"{base_url}/api/v1/tickets/{ticket_id}/attachments", data=body,
                         timeout=60, headers={
                             "Authorization": "Bearer " + token,
                             "Content-Type": "multipart/form-data; boundary=" + boundary})


def upload_probe(base_url, token, ticket_id, tries=10):
    """How many 1 MB PNGs of fully random bytes (CR/LF included, like real files) the
    gateway refuses. Not load: one at a time."""
    refused = collections.Counter()
    for _ in range(tries):
        body, boundary, _ = multipart_body(avoid_line_breaks=False)
        r = upload(base_url, token, ticket_id, body, boundary)
        if r.status_code != 201:
            try:
                code = r.json().get("error", {}).get("code", "?")
            except ValueError:
                code = r.text[:60]
            refused[f"{r.status_code} {code}"] += 1
    return {"tries": tries, "refused": dict(refused)}


# ---- py-spy ---------------------------------------------------------------------------------

def start_py_spy(out_dir, pids, seconds):
    os.makedirs(out_dir, exist_ok=True)
    exe = os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(exe):
        exe = shutil.which("py-spy")
    if not exe:
        log("py-spy not found (pip install py-spy): no profile")
        return []
    procs = []
    for name, pid in pids.items():
        path = os.path.join(out_dir, f"{name}.txt")  # collapsed stacks
        procs.append((name, path, subprocess.Popen(
            [exe, "record", "--nonblocking", "-r", "50", "-d", str(seconds), "-p", str(pid),
             "-f", "raw", "-o", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent(signal.SIGKILL))))
    return procs


def finish_py_spy(procs):
    summaries = {}
    for name, path, proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if os.path.exists(path):
            summaries[name] = summarise_collapsed(path)
    return summaries


def summarise_collapsed(path, top=25):
    """Inclusive share of samples per function from py-spy's collapsed stacks."""
    inclusive, leaf, total = collections.Counter(), collections.Counter(), 0
    with open(path) as fh:
        for line in fh:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            n = int(count)
            total += n
            frames = stack.split(";")
            seen = set()
            for frame in frames:
                name = frame.split(" (", 1)[0] + " (" + _short(frame) + ")"
                if name not in seen:
                    seen.add(name)
                    inclusive[name] += n
            leaf[frames[-1].split(" (", 1)[0] + " (" + _short(frames[-1]) + ")"] += n
    ours = [(k, v) for k, v in inclusive.most_common() if k.split(" (", 1)[1].startswith(
        ("gateway/", "services/", "gongdan_common/", "nameko/rpc.py", "nameko/web/"))]
    return {"samples": total,
            "inclusive": [(k, round(100 * v / total, 1)) for k, v in ours[:top]],
            "self": [(k, round(100 * v / total, 1)) for k, v in leaf.most_common(15)]}


def _short(frame):
    where = frame.split(" (", 1)[1].rstrip(")") if " (" in frame else "?"
    where = where.replace(ROOT + "/", "")
    marker = "site-packages/"
    return where.split(marker, 1)[1] if marker in where else where


def cpu_per_request(p):
    """{group: core-ms per request}: the window's CPU plus what was metered while the
    window's backlog was worked off (`Backlog`), over the window's requests."""
    if not p.get("rate") or not p.get("requests"):
        return {}
    window = p.get("window_s") or p["requests"] / p["rate"]
    total = collections.Counter({g: v * window for g, v in p.get("cpu_cores", {}).items()})
    total.update(p.get("cpu_drain_core_s") or {})
    return {g: v * 1000 / p["requests"] for g, v in total.items()}


# ---- the run --------------------------------------------------------------------------------

def wait_quiet(meter, limit_s, threshold=0.25):
    """On a shared machine: wait (up to limit_s) until processes outside the benchmark use
    less than `threshold` cores over one second. Returns what they used last."""
    deadline = time.monotonic() + limit_s
    while True:
        meter.start()
        time.sleep(1.0)
        meter.stop()
        outside = sum(meter.last_other.values())
        if outside < threshold or time.monotonic() >= deadline:
            return outside
        log(f"other processes use {outside:.2f} cores ({meter.last_other}); waiting")


def measure(label, conc, args, meter, run, pg=None, db=None, backlog=None):
    if args.wait_quiet:
        outside = wait_quiet(meter, args.wait_quiet)
        if outside >= 0.25:
            log(f"still {outside:.2f} cores used outside the benchmark; measuring anyway")
    log(f"{label}: c={conc}, warm-up {args.warmup}s")
    run(conc, args.warmup)
    if backlog:  # the warm-up's mails and events are not the window's
        log(f"{label}: warm-up worked off in {backlog.settle(meter)} s")
    log(f"{label}: c={conc}, measuring {args.duration}s")
    if db:
        db.start()  # (its pause falls before the measured window and CPU meter)
    meter.start()
    if pg:
        pg.start()
    result = run(conc, args.duration)
    result["cpu_cores"] = meter.stop()
    result["window_s"] = round(meter.last_wall, 2)
    if pg:
        result["intake_db_connections"] = pg.stop()
    if backlog:
        # what the window's requests left queued is theirs: metered until worked off
        meter.start()
        result["drain_s"] = backlog.settle(meter)
        drained = meter.stop()
        result["cpu_drain_core_s"] = {g: round(v * meter.last_wall, 3)
                                      for g, v in drained.items()}
    if db:
        # counted from after the warm-up (its events worked off) to after the window (the
        # window's events worked off), divided by the window's requests
        result["db_per_request"] = db.stop(result["requests"], pg)
    result["cpu_other_by_command"] = meter.last_other
    log(f"{label}: c={conc}: {result['rate']:.1f}/s p50 {result['p50_ms']:.1f} ms "
        f"p99 {result['p99_ms']:.1f} ms errors {result['errors']}")
    return result


def run_baseline(args, workdir, results):
    log("starting the baseline (bench/echo.py) ...")
    base = Baseline(workdir).start()
    try:
        body_file = os.path.join(workdir, "echo.json")
        with open(body_file, "w") as fh:
            json.dump({**TICKET, "product": "AS-BENCH"}, fh, ensure_ascii=False)
        meter = CpuMeter({p.pid: n for n, p in base.procs.items()})
        results["memory"]["baseline_before"] = {n: memory(p.pid) for n, p in base.procs.items()}
        for conc in args.concurrency:
            results["baseline"][conc] = measure(
                "baseline", conc, args, meter,
                lambda c, s: wrk(base.url, "post_json.lua", c, s, {"BENCH_BODY_FILE": body_file}))
        results["memory"]["baseline_after"] = {n: memory(p.pid) for n, p in base.procs.items()}
    finally:
        base.stop()


def run_system(args, workdir, results):
    log(f"starting the Gongdan system on {args.backend} (all services, private vhost and S3) ...")
    own_pg = None
    if args.own_postgres and args.backend == "postgresql":
        from tests.support.postgres import PgCluster
        own_pg = PgCluster.create(durable=True).start()
        PG_PORT["port"] = own_pg.port
    # a mail server that takes every message: without one each ticket's "accepted" mail
    # fails and notify's retries land in later points' CPU figures (not a Gongdan process,
    # so not metered, like the database's own disk)
    from scripts._proc import free_port
    smtp_port = free_port()
    os.makedirs(os.path.join(workdir, "mail"), exist_ok=True)
    smtp = subprocess.Popen([sys.executable, "-m", "tests.support.smtp_sink", "127.0.0.1",
                             str(smtp_port), os.path.join(workdir, "mail")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert smtp.stdout.readline().strip() == "ready"
    system = System(os.path.join(workdir, "system"), backend=args.backend,
                    pg_port=own_pg.port if own_pg else 5432,
                    env={"ACCESS_TOKEN_TTL": "3600",  # one token for the whole run
                         "NOTIFY_SMTP_PORT": str(smtp_port)})
    try:
        system.start()
        api, product = customer_api(system)
        token = api.token
        ticket = {**TICKET, "product": product}
        ticket_json = json.dumps(ticket, ensure_ascii=False).encode()
        body_file = os.path.join(workdir, "ticket.json")
        with open(body_file, "wb") as fh:
            fh.write(ticket_json)
        upload_body, boundary, upload_file = multipart_body(workdir)
        pids = {name: proc.pid for name, proc in system.procs.items()}
        meter = CpuMeter({**{p: n for n, p in pids.items()}, system.s3.pid: "s3"},
                         databases=system.pg_databases)
        # a first create and upload, so both paths are known to work before loading them
        r = api.post("/tickets", ticket)
        assert r.status_code == 201, r.text
        first_ticket = r.json()["id"]
        r = upload(system.base_url, token, first_ticket, upload_body, boundary)
        assert r.status_code == 201, r.text
        if not args.no_attachments:
            results["upload_probe"] = upload_probe(system.base_url, token, first_ticket)
            log(f"upload probe (fully random 1 MB PNGs): {results['upload_probe']}")
        results["memory"]["before"] = {n: memory(pids[n]) for n in ("gateway", "intake")}
        create_url = system.base_url + "/api/v1/tickets"
        pg = None
        if args.backend == "postgresql":
            pg = PgActivity(system.db_urls["intake"].rsplit("/", 1)[1])
        db = DbCounts(system)
        backlog = Backlog(system)
        wenv = {"BENCH_BODY_FILE": body_file, "BENCH_TOKEN": token}
        top = max(args.concurrency)
        for conc in args.concurrency:
            spy = []
            if args.py_spy and conc == top:
                spy = start_py_spy(args.py_spy, named_only(pids), args.warmup + args.duration)
            results["create"][conc] = measure(
                "create", conc, args, meter,
                lambda c, s: wrk(create_url, "post_json.lua", c, s, wenv), pg, db, backlog)
            if spy:
                results["profile"] = finish_py_spy(spy)
        if not args.no_attachments:
            pool = []
            for _ in range(max(args.concurrency)):
                r = api.post("/tickets", ticket)
                assert r.status_code == 201, r.text
                pool.append(r.json()["id"])
            uenv = {"BENCH_BODY_FILE": upload_file, "BENCH_BOUNDARY": boundary,
                    "BENCH_TOKEN": token, "BENCH_TICKETS": ",".join(pool)}
            for conc in args.concurrency:
                spy = []
                if args.py_spy and conc == top:
                    spy = start_py_spy(os.path.join(args.py_spy, "upload"), named_only(pids),
                                       args.warmup + args.duration)
                results["upload"][conc] = measure(
                    "upload 1MB", conc, args, meter,
                    lambda c, s: wrk(system.base_url + "/", "upload.lua", c, s, uenv),
                    db=db, backlog=backlog)
                if spy:
                    results["profile_upload"] = finish_py_spy(spy)
            for conc in args.concurrency:
                results["create_upload"][conc] = measure(
                    "create+upload 1MB", conc, args, meter,
                    lambda c, s: sequence_load(system.base_url, token, ticket_json, upload_body,
                                               boundary, c, s, 0), pg, db, backlog)
        results["memory"]["after"] = {n: memory(pids[n]) for n in ("gateway", "intake")}
        db.close()
        backlog.close()
        if pg:
            pg.close()
        results["tickets_in_db"] = system.sql("intake", "SELECT count(*) FROM tickets")[0][0]
        results["outbox_pending"] = system.sql(
            "intake", "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0]
    except Exception:
        for name in system.procs:
            log(f"--- {name} log tail ---\n" + tail(system.log_path(name), 15))
        raise
    finally:
        system.stop()
        smtp.terminate()
        smtp.wait(timeout=10)
        if own_pg is not None:
            own_pg.destroy()


def named_only(pids):
    return {n: pids[n] for n in ("gateway", "intake", "dispatch", "sla", "notify") if n in pids}


# ---- the report -----------------------------------------------------------------------------

def source_revision():
    """The commit measured, and whether the service code differs from it."""
    if os.environ.get("GONGDAN_BENCH_REVISION"):
        return os.environ["GONGDAN_BENCH_REVISION"]
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "gateway",
                                "services", "gongdan_common", "config", "scripts"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if head.returncode != 0:
        return "unknown (not a git checkout)"
    return head.stdout.strip() + (" with uncommitted changes to the services"
                                  if dirty.stdout.strip() else "")


NOISY_CORES = 0.25


def noisy(p):
    return sum((p.get("cpu_other_by_command") or {}).values()) >= NOISY_CORES


def fmt_point(p):
    if p is None:
        return "—", "—", "—"
    err = f" ({p['errors']} err)" if p["errors"] else ""
    mark = " *" if noisy(p) else ""
    return f"{p['rate']:.1f}{err}{mark}", f"{p['p50_ms']:.1f}", f"{p['p99_ms']:.1f}"


def report(args, results):
    lines = []
    out = lines.append
    out(f"Code: {results.get('revision', '?')}. "
        f"Backend: {args.backend}; {os.cpu_count()} CPU cores; each point {args.warmup}s "
        f"warm-up + {args.duration}s measured; closed loop, c = concurrent clients.")
    out("")
    out("| c | baseline req/s | p50 ms | p99 ms | create req/s | p50 ms | p99 ms "
        "| ratio create/baseline |")
    out("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in args.concurrency:
        b, k = results["baseline"].get(c), results["create"].get(c)
        ratio = f"{k['rate'] / b['rate']:.2f}" if b and k and b["rate"] else "—"
        out(f"| {c} | " + " | ".join(fmt_point(b)) + " | " + " | ".join(fmt_point(k))
            + f" | {ratio} |")
    if results["create_upload"]:
        out("")
        out("| c | create + 1 MB upload op/s | p50 ms | p99 ms | (create p50/p99 ms) "
            "| (upload p50/p99 ms) | upload alone req/s | p50 ms | p99 ms |")
        out("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for c in args.concurrency:
            s, u = results["create_upload"].get(c), results["upload"].get(c)
            inner = (f"{s['create_p50_ms']:.1f} / {s['create_p99_ms']:.1f} | "
                     f"{s['upload_p50_ms']:.1f} / {s['upload_p99_ms']:.1f}") if s else "— | —"
            out(f"| {c} | " + " | ".join(fmt_point(s)) + f" | {inner} | "
                + " | ".join(fmt_point(u)) + " |")
    out("")
    out("CPU used during each measured window, in cores (2.0 = the whole machine):")
    out("")
    known = ["front", "echo", "gateway", "intake", "dispatch", "worklog", "sla", "notify", "kb",
             "rabbitmq", "postgres", "s3", "load generator", "other"]
    seen = {g for kind in ("baseline", "create", "upload", "create_upload")
            for p in results[kind].values() for g in p.get("cpu_cores", {})}
    groups = [g for g in known if g in seen or g in ("gateway", "intake", "other")] + \
        sorted(seen - set(known))
    out("| point | " + " | ".join(groups) + " | total |")
    out("|---|" + "---:|" * (len(groups) + 1))
    for kind in ("baseline", "create", "upload", "create_upload"):
        for c, p in results[kind].items():
            cpu = p.get("cpu_cores", {})
            out(f"| {kind} c={c} | " + " | ".join(f"{cpu.get(g, 0):.2f}" for g in groups)
                + f" | {sum(cpu.values()):.2f} |")
    out("")
    out("CPU per request, in core-milliseconds (the system's processes: everything but the "
        "load generator and 'other'): what one request costs the machine, whoever pays it.")
    out("")
    for kind in ("baseline", "create", "upload", "create_upload"):
        for c, p in results[kind].items():
            per = cpu_per_request(p)
            if per:
                spent = sum(v for g, v in per.items()
                            if g not in ("load generator", "other", "py-spy"))
                drain = f" (+ {p['drain_s']} s worked off after the window)" \
                    if p.get("drain_s") is not None else ""
                out(f"- {kind} c={c}: {spent:.1f} ms{drain} "
                    + ", ".join(f"({g} {per[g]:.1f})" for g in groups
                                if per.get(g, 0) >= 0.05 and g not in ("load generator",
                                                                       "other")))
    out("")
    if any(p.get("db_per_request") for k in ("create", "upload", "create_upload")
           for p in results[k].values()):
        out("Database work per request: transactions (PostgreSQL's pg_stat_database, per "
            "service database: read-only units of work end in a rollback; the bench's own "
            "pg_stat_activity samples are taken off) and statements / transactions as each "
            "process counted them (pre-ping and pool resets not included) "
            "(gongdan_db_statements_total, gongdan_db_transactions_total):")
        out("")
        for kind in ("create", "upload", "create_upload"):
            for c, p in results[kind].items():
                d = p.get("db_per_request")
                if not d:
                    continue

                def line(values):
                    return f"{sum(values.values()):.1f} (" + ", ".join(
                        f"{k} {v:.1f}" for k, v in sorted(values.items(), key=lambda kv: -kv[1])
                        if v >= 0.05) + ")"
                if d["pg_transactions"]:
                    out(f"- {kind} c={c}: PostgreSQL transactions {line(d['pg_transactions'])}"
                        f", of which rolled back {line(d['pg_rollbacks'])}")
                out(f"- {kind} c={c}: statements {line(d['statements'])}; "
                    f"commits and explicit rollbacks {line(d['transactions'])}")
        out("")
    if any(p.get("intake_db_connections") for k in ("create", "create_upload")
           for p in results[k].values()):
        out("Intake's PostgreSQL connections during each point (average number in each state):")
        out("")
        for kind in ("create", "create_upload"):
            for c, p in results[kind].items():
                states = p.get("intake_db_connections") or {}
                out(f"- {kind} c={c}: " + ", ".join(f"{k} {v:.2f}" if isinstance(v, float)
                                                   else f"{k} {v}" for k, v in states.items()
                                                   if k != "idle"))
        out("")
    others = {f"{k} c={c}": p.get("cpu_other_by_command") for k in
              ("baseline", "create", "upload", "create_upload") for c, p in results[k].items()
              if noisy(p)}
    if others:
        out(f"* processes outside the benchmark used >= {NOISY_CORES} cores during these points "
            "(busiest commands, cores): " + "; ".join(f"{k}: {v}" for k, v in others.items()))
        out("")
    mem = results["memory"]
    if "before" in mem:
        out("Memory (RSS MiB, before load -> after load; peak RSS after):")
        for n in ("gateway", "intake"):
            b, a = mem["before"][n], mem.get("after", {}).get(n, {})
            out(f"- {n}: {b['rss_mib']:.1f} -> {a.get('rss_mib', float('nan')):.1f} "
                f"(peak {a.get('peak_mib', float('nan')):.1f})")
    if "baseline_before" in mem:
        for n in ("front", "echo"):
            b, a = mem["baseline_before"][n], mem.get("baseline_after", {}).get(n, {})
            out(f"- baseline {n}: {b['rss_mib']:.1f} -> {a.get('rss_mib', float('nan')):.1f}")
    failed = [(f"{kind} c={c}", p) for kind in ("baseline", "create", "upload", "create_upload")
              for c, p in results[kind].items() if p["errors"]]
    for name, p in failed:
        out(f"Errors in {name}: {p['error_detail']}"
            + (f" e.g. {p['error_sample']}" if p.get("error_sample") else ""))
    probe = results.get("upload_probe")
    if probe:
        refused = sum(probe["refused"].values())
        out(f"Upload probe: {refused} of {probe['tries']} uploads of a 1 MB PNG of fully random "
            f"bytes were refused ({probe['refused'] or 'none'}); the load above uses bytes "
            "without CR/LF, which the multipart limit bug cannot hit.")
    if "tickets_in_db" in results:
        out(f"Tickets created in the run: {results['tickets_in_db']}; "
            f"outbox rows still unpublished at the end: {results['outbox_pending']}")
    out("")
    b, k = results["baseline"].get(TARGET_CONCURRENCY), results["create"].get(TARGET_CONCURRENCY)
    if b and k:
        ratio = k["rate"] / b["rate"]
        ok_ratio, ok_p99 = ratio >= TARGET_RATIO, k["p99_ms"] <= TARGET_P99_MS
        verdict = "MET" if ok_ratio and ok_p99 and args.backend == "postgresql" else "NOT MET"
        note = "" if args.backend == "postgresql" else " (the target is defined on PostgreSQL)"
        out(f"Target at c={TARGET_CONCURRENCY} (create >= {TARGET_RATIO:.0%} of baseline "
            f"throughput, p99 <= {TARGET_P99_MS:.0f} ms, PostgreSQL): {verdict}{note} — "
            f"ratio {ratio:.2f} ({'ok' if ok_ratio else 'below'}), "
            f"p99 {k['p99_ms']:.1f} ms ({'ok' if ok_p99 else 'above'})")
    else:
        out(f"Target not evaluated: needs both the baseline and create at "
            f"c={TARGET_CONCURRENCY}.")
    for key, what in (("profile", "create"), ("profile_upload", "upload 1MB")):
        if not results.get(key):
            continue
        out("")
        out(f"py-spy, {what} at c={max(args.concurrency)} (share of the process's CPU samples; "
            "inclusive, for Gongdan's and Nameko's RPC/web frames):")
        for name, prof in results[key].items():
            out(f"  {name} ({prof['samples']} samples):")
            for frame, share in prof["inclusive"]:
                out(f"    {share:5.1f}%  {frame}")
            out("   self:")
            for frame, share in prof["self"]:
                out(f"    {share:5.1f}%  {frame}")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.ticket_create", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    p.add_argument("--concurrency", default="1,10,20",
                   type=lambda s: [int(x) for x in s.split(",") if x.strip()])
    p.add_argument("--duration", type=int, default=12, help="measured seconds per point")
    p.add_argument("--warmup", type=int, default=3, help="unmeasured seconds before each point")
    p.add_argument("--no-attachments", action="store_true",
                   help="skip the 1 MB upload and create+upload measurements")
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument("--own-postgres", action="store_true",
                   help="run the system on a PostgreSQL cluster of its own (fsync on, started "
                        "and removed by the run) instead of the shared server on 5432, whose "
                        "connection slots other users may take")
    p.add_argument("--py-spy", metavar="DIR",
                   help="profile gateway, intake, dispatch, sla and notify with py-spy during the highest-concurrency "
                        "create point (collapsed stacks in DIR; adds some CPU load)")
    p.add_argument("--wait-quiet", type=int, default=10, metavar="SECONDS",
                   help="before each point, wait up to SECONDS (default 10; 0 = don't check) "
                        "for processes outside the benchmark to go idle (< 0.25 cores)")
    p.add_argument("--json", metavar="FILE", help="also write the raw results as JSON")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install -y wrk")
    exit_on_signals()

    workdir = tempfile.mkdtemp(prefix="gongdan-bench-")
    results = {"backend": args.backend, "cpus": os.cpu_count(), "duration": args.duration,
               "warmup": args.warmup, "baseline": {}, "create": {}, "upload": {},
               "create_upload": {}, "memory": {}, "revision": source_revision()}
    try:
        if not args.skip_baseline:
            run_baseline(args, workdir, results)
        run_system(args, workdir, results)
    finally:
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=2, ensure_ascii=False)
        if args.keep:
            log(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(report(args, results), flush=True)


if __name__ == "__main__":
    main()
