"""The whole life of an installation ticket through the gateway, beside plain ticket creation.

    .venv/bin/python -m bench.lifecycle [--backend postgresql|sqlite] [--concurrency 1,8]
                                       [--duration 15] [--warmup 3] [--engineers 12]
                                       [--report-kb 100] [--json FILE] [--keep]

The real system (tests/support/system.py: every service a `nameko run` process, a private
RabbitMQ vhost and S3 server, fresh PostgreSQL databases) is set up over HTTP the way
tests/test_flows.py does it: a product line of its own with one product, a provider
contracted for it, `--engineers` engineers of that provider each with a certification for
the line valid today, and an approved customer.

One flow (the installation path, AISHU 3.2: the vendor's system dispatches it):

1. create     the customer POSTs an installation ticket (/api/v1/tickets);
2. dispatch   dispatch picks it up from intake's ticket_created event and assigns the most
              suitable qualified engineer (auto_installation); intake applies the
              assignment from dispatch's event. The client polls GET /tickets/{id} as the
              customer every `--poll-ms` until it reads `assigned` (and learns who);
3. start      that engineer POSTs /start;
4. reports    the engineer uploads the two reports an installation needs before it can be
              closed: acceptance_report and implementation_report (`--report-kb` KB PDFs each;
              bytes without CR/LF after the header, see bench/ticket_create.py's png_bytes);
5. resolve    the engineer POSTs /resolve with the closing report (root cause, times);
6. confirm    the customer POSTs /confirm: the ticket is closed.

The baseline, in the same run on the same system: plain ticket creation (POST /tickets of a
`defect` ticket on the same product, which no rule dispatches), same client code.

Each point is closed loop with c workers (one keep-alive HTTP connection each): `--warmup`
s unmeasured, then `--duration` s in which the flows (or creates) that END are counted;
flows still running at the end finish but are not counted. It prints completed per second,
p50/p99 per flow, and the p50/p99 of each step. It reports, it does not assert.
Everything it started is stopped or removed at the end.
"""
import argparse
import collections
import datetime as dt
import http.client
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.dispatch_lookup import MachineCpu, cpu_cell  # noqa: E402
from bench.support import exit_on_signals, log, percentile  # noqa: E402
from scripts._proc import tail  # noqa: E402
from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD, Api, System  # noqa: E402

STEPS = ("create", "dispatch", "start", "reports", "resolve", "confirm")
TICKET = {"title": "新设备上架安装", "description": "两台 AnyBackup 一体机上架、加电、初始化配置",
          "contact_phone": "13800138000", "impact": "department", "urgency": "medium"}


def iso(at):
    return at.astimezone(dt.timezone.utc).isoformat()


def day(offset):
    return (dt.date.today() + dt.timedelta(days=offset)).isoformat()


# ---- setting up over HTTP -------------------------------------------------------------------

def register(system, admin, role, company, tag, n):
    phone = "137" + str(secrets.randbelow(10 ** 8)).zfill(8)
    password = "bench-pass-1"
    r = Api(system.base_url).post("/auth/register", {
        "name": f"{role}-{tag}-{n}", "phone": phone, "email": f"{phone}@bench.test",
        "password": password, "company_name": company["name"]})
    assert r.status_code == 201, r.text
    r = admin.post(f"/admin/users/{r.json()['id']}/approve",
                   {"role": role, "company_id": company["id"]})
    assert r.status_code == 200, r.text
    return Api(system.base_url).login(phone, password)


def set_up(system, n_engineers):
    """Product line + product, provider covering it, certified engineers, a customer."""
    admin = Api(system.base_url).login(ADMIN_EMAIL, ADMIN_PASSWORD)
    tag = secrets.token_hex(3)
    line, product = f"benchline-{tag}", f"BENCH-{tag.upper()}"
    r = admin.post("/admin/products", {"code": product, "name": "AnyBackup 一体机",
                                       "product_line": line})
    assert r.status_code == 201, r.text
    r = admin.post("/admin/companies", {"name": f"压测服务商-{tag}", "kind": "provider"})
    assert r.status_code == 201, r.text
    provider = r.json()
    r = admin.put(f"/providers/{provider['id']}", {"name": provider["name"],
                                                   "product_lines": [line]})
    assert r.status_code == 200, r.text
    engineers = {}
    for n in range(n_engineers):
        api = register(system, admin, "engineer", provider, tag, n)
        uid = api.user["id"]
        r = admin.put(f"/engineers/{uid}", {"provider_id": provider["id"], "skills": [line]})
        assert r.status_code == 200, r.text
        r = admin.post(f"/engineers/{uid}/certifications", {
            "product_line": line, "certificate_no": f"C-{tag}-{n}",
            "valid_from": day(-100), "valid_until": day(365)})
        assert r.status_code == 201, r.text
        engineers[uid] = api.token
    r = admin.post("/admin/companies", {"name": f"压测客户-{tag}", "kind": "customer"})
    assert r.status_code == 201, r.text
    customer = register(system, admin, "customer", r.json(), tag, 0)
    return {"product": product, "line": line, "provider": provider["id"],
            "engineers": engineers, "customer": customer.token, "admin": admin}


def pdf_report(kb):
    body = b"%PDF-1.7\n" + (b"%% implementation and acceptance report " * (kb * 1024 // 40 + 1))
    return body[:kb * 1024]


def multipart(data, filename):
    boundary = "gongdanbench" + secrets.token_hex(8)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n").encode() \
        + data + f"\r\n--{boundary}--\r\n".encode()
    return body, "multipart/form-data; boundary=" + boundary


# ---- the client -----------------------------------------------------------------------------

class Failed(Exception):
    def __init__(self, step, status, body):
        super().__init__(f"{step}: HTTP {status} {body[:200]!r}")
        self.step, self.status = step, status


class Client:
    """One keep-alive connection; every request names its own bearer token."""

    def __init__(self, base_url):
        u = urllib.parse.urlsplit(base_url)
        self.host, self.port = u.hostname, u.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.requests = 0

    def call(self, step, method, path, token, body=None, content_type="application/json",
             expect=(200, 201)):
        headers = {"Authorization": "Bearer " + token}
        if body is not None:
            if content_type == "application/json":
                body = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = content_type
        try:
            self.conn.request(method, "/api/v1" + path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            raise
        self.requests += 1
        if resp.status not in expect:
            raise Failed(step, resp.status, data.decode("utf-8", "replace"))
        return json.loads(data) if data else None

    def close(self):
        self.conn.close()


def plain_create(client, env):
    """The baseline operation: one POST /tickets."""
    t0 = time.monotonic()
    client.call("create", "POST", "/tickets", env["customer"],
                {**TICKET, "type": "defect", "category": "function", "product": env["product"],
                 "title": "无法登录系统"})
    return {"create": time.monotonic() - t0}


def flow(client, env):
    """create -> automatic dispatch -> start -> two reports -> resolve -> confirm."""
    steps, customer = {}, env["customer"]
    t = time.monotonic()
    ticket = client.call("create", "POST", "/tickets", customer,
                         {**TICKET, "type": "installation", "category": "installation",
                          "product": env["product"]})
    tid, created_at = ticket["id"], dt.datetime.now(dt.timezone.utc)
    steps["create"], t = time.monotonic() - t, time.monotonic()
    deadline, polls = t + env["dispatch_timeout"], 0
    while True:
        polls += 1
        seen = client.call("dispatch", "GET", f"/tickets/{tid}", customer)
        if seen["status"] == "assigned" and seen.get("handler_id"):
            break
        if seen["status"] != "new" or time.monotonic() > deadline:
            raise Failed("dispatch", 0, f"ticket {seen['number']} is {seen['status']} after "
                                        f"{time.monotonic() - t:.1f}s")
        time.sleep(env["poll"])
    engineer = env["engineers"][seen["handler_id"]]
    steps["dispatch"], t = time.monotonic() - t, time.monotonic()
    client.call("start", "POST", f"/tickets/{tid}/start", engineer)
    visited_at = dt.datetime.now(dt.timezone.utc)
    steps["start"], t = time.monotonic() - t, time.monotonic()
    for kind, (body, ctype) in env["reports"].items():
        client.call("reports", "POST", f"/tickets/{tid}/attachments?kind={kind}", engineer,
                    body, ctype)
    steps["reports"], t = time.monotonic() - t, time.monotonic()
    client.call("resolve", "POST", f"/tickets/{tid}/resolve", engineer, {
        "root_cause": "other", "description": "设备上架、加电、初始化配置完成，客户验收通过",
        "visited_at": iso(max(visited_at, created_at)),
        "completed_at": iso(dt.datetime.now(dt.timezone.utc))})
    steps["resolve"], t = time.monotonic() - t, time.monotonic()
    closed = client.call("confirm", "POST", f"/tickets/{tid}/confirm", customer)
    if closed["status"] != "closed":
        raise Failed("confirm", 200, f"status {closed['status']}")
    steps["confirm"] = time.monotonic() - t
    steps["polls"], steps["ticket_id"] = polls, tid
    return steps


class PgActivity:
    """Samples pg_stat_activity of the system's databases every 50 ms while a point is
    measured: per service, how many connections run a query, wait for a lock, or sit idle
    in a transaction (average over the samples). Shows whether flows queue in a database."""

    def __init__(self, databases, interval=0.05):
        self.names = {url.rsplit("/", 1)[1]: service for service, url in databases.items()}
        self.interval = interval

    def start(self):
        self.counts, self.samples = collections.Counter(), 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        import psycopg2
        conn = psycopg2.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not self.stopping.wait(self.interval):
                    cur.execute("SELECT datname, state, wait_event_type, wait_event, "
                                "left(query, 60) FROM pg_stat_activity WHERE datname = ANY(%s)",
                                (list(self.names),))
                    for db, state, wtype, wevent, query in cur.fetchall():
                        service = self.names[db]
                        if state == "active" and wtype == "Lock":
                            self.counts[f"{service}: waiting for a lock ({wevent}) in "
                                        f"{' '.join(query.split())}"] += 1
                        elif state == "active":
                            self.counts[f"{service}: running a query"] += 1
                        elif state and state.startswith("idle in transaction"):
                            self.counts[f"{service}: idle in transaction"] += 1
                    self.samples += 1
        finally:
            conn.close()

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=5)
        n = max(self.samples, 1)
        return {k: round(v / n, 2) for k, v in self.counts.most_common(12) if v / n >= 0.01}


def run_load(base_url, env, operation, conc, warmup, seconds):
    """c workers, closed loop; operations that end in the measured window are counted."""
    start = time.monotonic()
    measure_from, stop_at = start + warmup, start + warmup + seconds
    samples, errors, lock, bad = [], collections.Counter(), threading.Lock(), []
    requests_total = [0]

    def worker():
        client = Client(base_url)
        while time.monotonic() < stop_at:
            t0 = time.monotonic()
            try:
                steps = operation(client, env)
            except Failed as err:
                with lock:
                    errors[f"{err.step} HTTP {err.status}"] += 1
                    bad.append(str(err))
                continue
            except (OSError, http.client.HTTPException) as err:
                with lock:
                    errors[type(err).__name__] += 1
                continue
            t1 = time.monotonic()
            if measure_from <= t1 <= stop_at:
                with lock:
                    samples.append((t1 - t0, steps))
        with lock:
            requests_total[0] += client.requests
        client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(conc)]
    for t in threads:
        t.start()
    meter, pg = MachineCpu(env.get("pids")), env.get("pg_activity")
    time.sleep(max(0.0, measure_from - time.monotonic()))
    meter.start()
    if pg:
        pg.start()
    time.sleep(max(0.0, stop_at - time.monotonic()))
    cpu = meter.stop()
    db_activity = pg.stop() if pg else None
    for t in threads:
        t.join(timeout=warmup + seconds + 300)
    total = sorted(s[0] * 1000 for s in samples)
    out = {"completed": len(samples), "rate": len(samples) / seconds,
           "errors": sum(errors.values()), "error_detail": dict(errors),
           "error_sample": bad[-3:], "p50_ms": percentile(total, 50),
           "p90_ms": percentile(total, 90), "p99_ms": percentile(total, 99),
           "max_ms": total[-1] if total else float("nan"),
           "mean_ms": statistics.fmean(total) if total else float("nan"),
           "http_requests": requests_total[0], "steps": {}, "cpu_cores": cpu,
           "db_activity": db_activity}
    for step in STEPS:
        values = sorted(s[1][step] * 1000 for s in samples if step in s[1])
        if values:
            out["steps"][step] = {"p50_ms": percentile(values, 50),
                                  "p99_ms": percentile(values, 99),
                                  "mean_ms": statistics.fmean(values)}
    polls = [s[1]["polls"] for s in samples if "polls" in s[1]]
    if polls:
        out["polls_mean"] = statistics.fmean(polls)
    out["ticket_ids"] = [s[1]["ticket_id"] for s in samples if "ticket_id" in s[1]]
    return out


def dispatch_hops(system, ticket_ids):
    """The automatic dispatch as the databases recorded it, for the flows of one point:
    intake created the ticket -> dispatch decided (ticket_created through intake's outbox,
    the broker, dispatch's consumer) -> intake applied the assignment (ticket_assigned back
    the same way). Milliseconds, p50 / p99."""
    if not ticket_ids:
        return None
    ids = tuple(ticket_ids)
    created = dict(system.sql("intake", "SELECT id, created_at FROM tickets WHERE id IN %s", ids))
    applied = dict(system.sql("intake", "SELECT ticket_id, min(at) FROM ticket_status_history "
                                        "WHERE action = 'assign' AND ticket_id IN %s "
                                        "GROUP BY ticket_id", ids))
    decided = dict(system.sql("dispatch", "SELECT ticket_id, min(created_at) FROM assignments "
                                          "WHERE ticket_id IN %s GROUP BY ticket_id", ids))
    hop1 = sorted((decided[t] - created[t]).total_seconds() * 1000 for t in ids
                  if t in decided and t in created)
    hop2 = sorted((applied[t] - decided[t]).total_seconds() * 1000 for t in ids
                  if t in decided and t in applied)
    return {"intake_to_dispatch": (percentile(hop1, 50), percentile(hop1, 99)),
            "dispatch_to_intake": (percentile(hop2, 50), percentile(hop2, 99)), "n": len(hop1)}


def measure(label, base_url, env, operation, conc, args):
    log(f"{label}: c={conc}, warm-up {args.warmup}s + measuring {args.duration}s")
    result = run_load(base_url, env, operation, conc, args.warmup, args.duration)
    log(f"{label}: c={conc}: {result['rate']:.2f}/s ({result['completed']} completed) "
        f"p50 {result['p50_ms']:.0f} ms p99 {result['p99_ms']:.0f} ms errors {result['errors']}")
    return result


# ---- the report -----------------------------------------------------------------------------

def report(args, results):
    lines = []
    out = lines.append
    out(f"Backend: {args.backend}; {os.cpu_count()} CPU cores; {args.engineers} certified "
        f"engineers of one provider on the line; reports {args.report_kb} KB PDF each; poll "
        f"every {args.poll_ms} ms for the automatic assignment; each point {args.warmup}s "
        f"warm-up + {args.duration}s measured; closed loop, c = concurrent clients.")
    out("")
    out("| c | plain create req/s | p50 ms | p99 ms | full flows/s | p50 ms | p99 ms "
        "| HTTP requests per flow | flow time / create time (p50) "
        "| CPU cores create: run / pg+mq / other / idle / steal "
        "| CPU cores flow: run / pg+mq / other / idle / steal |")
    out("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in args.concurrency:
        b, f = results["baseline"].get(c), results["flow"].get(c)

        def cell(p):
            if p is None:
                return "— | — | —"
            err = f" ({p['errors']} err)" if p["errors"] else ""
            return f"{p['rate']:.2f}{err} | {p['p50_ms']:.1f} | {p['p99_ms']:.1f}"
        per_flow = f"{f['http_requests'] / max(f['completed'], 1):.1f}" if f else "—"
        cpus = " | ".join(cpu_cell(p) if p else "—" for p in (b, f))
        ratio = f"{f['p50_ms'] / b['p50_ms']:.1f}×" if f and b else "—"
        out(f"| {c} | {cell(b)} | {cell(f)} | {per_flow} | {ratio} | {cpus} |")
    out("")
    out("Where a flow's time goes (ms, p50 / p99 per step):")
    out("")
    out("| c | " + " | ".join(STEPS) + " |")
    out("|---:|" + "---:|" * len(STEPS))
    for c in args.concurrency:
        f = results["flow"].get(c)
        if not f:
            continue
        out(f"| {c} | " + " | ".join(
            f"{f['steps'][s]['p50_ms']:.0f} / {f['steps'][s]['p99_ms']:.0f}"
            if s in f["steps"] else "—" for s in STEPS) + " |")
    out("")
    for c in args.concurrency:
        f = results["flow"].get(c)
        if f and "polls_mean" in f:
            out(f"- c={c}: {f['polls_mean']:.1f} GET /tickets/{{id}} polls per flow on average "
                "while waiting for the automatic assignment")
        hops = f and f.get("dispatch_hops")
        if hops:
            a, b = hops["intake_to_dispatch"], hops["dispatch_to_intake"]
            out(f"- c={c}: automatic dispatch as the databases recorded it ({hops['n']} flows): "
                f"ticket created in intake -> assignment decided in dispatch p50 {a[0]:.0f} / "
                f"p99 {a[1]:.0f} ms; -> assignment applied in intake p50 {b[0]:.0f} / p99 "
                f"{b[1]:.0f} ms (each an outbox relay, the broker and the consumer's "
                "transaction); the rest of the dispatch step is the client's polling")
    for kind in ("baseline", "flow"):
        for c, p in results[kind].items():
            shares = {k[5:]: v for k, v in (p.get("cpu_cores") or {}).items()
                      if k.startswith("run: ") and v >= 0.01}
            if shares:
                out(f"- CPU of this run during {kind} c={c} (cores): " + ", ".join(
                    f"{k} {v:.2f}" for k, v in sorted(shares.items(), key=lambda kv: -kv[1])))
    for kind in ("baseline", "flow"):
        for c, p in results[kind].items():
            if p.get("db_activity"):
                out(f"- database connections during {kind} c={c} (average number): "
                    + "; ".join(f"{k} {v:.2f}" for k, v in p["db_activity"].items()))
    for kind in ("baseline", "flow"):
        for c, p in results[kind].items():
            if p["errors"]:
                out(f"- errors in {kind} c={c}: {p['error_detail']} e.g. {p['error_sample']}")
    if "after" in results:
        out(f"- after the run: {results['after']}")
    return "\n".join(lines)


def final_state(system, args):
    out = {}
    try:
        out["tickets_by_type_status"] = {f"{t}/{s}": n for t, s, n in system.sql(
            "intake", "SELECT type, status, count(*) FROM tickets GROUP BY type, status "
                      "ORDER BY 1, 2")}
        out["assignments"] = system.sql("dispatch", "SELECT method, count(*) FROM assignments "
                                                    "GROUP BY method")
        out["outbox_unpublished"] = {s: system.sql(
            s, "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0]
            for s in ("intake", "dispatch", "sla")}
    except Exception as err:  # noqa: BLE001 - informative only
        out["error"] = repr(err)
    return out


# ---- the run --------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.lifecycle", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    p.add_argument("--concurrency", default="1,8",
                   type=lambda s: [int(x) for x in s.split(",") if x.strip()])
    p.add_argument("--duration", type=float, default=15, help="measured seconds per point")
    p.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before each point")
    p.add_argument("--engineers", type=int, default=12)
    p.add_argument("--report-kb", type=int, default=100, help="size of each report PDF")
    p.add_argument("--poll-ms", type=int, default=20,
                   help="how often to read the ticket while waiting for its assignment")
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument("--json", metavar="FILE", help="also write the raw results as JSON")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    exit_on_signals()

    workdir = tempfile.mkdtemp(prefix="gongdan-bench-lifecycle-")
    results = {"backend": args.backend, "baseline": {}, "flow": {}}
    log(f"starting the Gongdan system on {args.backend} (all services, private vhost and S3) ...")
    system = System(os.path.join(workdir, "system"), backend=args.backend,
                    env={"ACCESS_TOKEN_TTL": "3600"})  # one token per user for the whole run
    try:
        system.start()
        env = set_up(system, args.engineers)
        pdf = pdf_report(args.report_kb)
        if args.backend == "postgresql":
            env["pg_activity"] = PgActivity(system.db_urls)
        env["pids"] = {p.pid: n for n, p in system.procs.items()}
        env["pids"][system.s3.pid] = "s3"
        env.update(poll=args.poll_ms / 1000, dispatch_timeout=30, reports={
            "acceptance_report": multipart(pdf, "验收报告.pdf"),
            "implementation_report": multipart(pdf, "实施报告.pdf")})
        # one of each first, so both paths are known to work before loading them
        probe = Client(system.base_url)
        plain_create(probe, env)
        first = flow(probe, env)
        probe.close()
        log(f"probe flow ok: {({k: round(first[k] * 1000) for k in STEPS})} ms")
        for c in args.concurrency:
            if not args.skip_baseline:
                results["baseline"][c] = measure("plain create", system.base_url, env,
                                                 plain_create, c, args)
            results["flow"][c] = measure("full flow", system.base_url, env, flow, c, args)
        time.sleep(2)  # let the last events settle before reading the databases
        results["after"] = final_state(system, args)
        for c, f in results["flow"].items():
            if args.backend != "postgresql":
                break  # the timestamps are read with PostgreSQL's parameter style
            try:
                f["dispatch_hops"] = dispatch_hops(system, f["ticket_ids"])
            except Exception as err:  # noqa: BLE001 - informative only
                f["dispatch_hops_error"] = repr(err)
    except Exception:
        for name in system.procs:
            log(f"--- {name} log tail ---\n" + tail(system.log_path(name), 15))
        raise
    finally:
        system.stop()
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=2, ensure_ascii=False, default=str)
        if args.keep:
            log(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(report(args, results), flush=True)


if __name__ == "__main__":
    main()
