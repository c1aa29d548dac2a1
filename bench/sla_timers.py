"""The timer loop under 1,000,000 open clocks, beside an empty timer loop in the same run;
and business-time computations per second.

    .venv/bin/python -m bench.sla_timers [--backend postgresql|sqlite] [--clocks 1000000]
                                        [--rate 1000] [--duration 10] [--ticks 100]
                                        [--arithmetic-only]

What it builds (bulk SQL straight into fresh sla databases migrated with
gongdan_common.migrate.upgrade, not through the API):

- "loaded": `--clocks` open clocks (state running) over `--clocks`/2 tickets, each ticket
  with its one pending sla timer at its next warning/breach instant, spread over the next
  30 days (what sla keeps for open clocks: one timer per ticket, never one per clock-tick);
- "empty": the same schema with no clocks and no timers (the baseline).

Then, on each database in turn, the real `services.sla.handlers.fire_due` (the body of the
service's `@timer(0.2)` loop, same transaction, same SKIP LOCKED query, emitting timer_due
into the outbox):

1. idle tick   `--ticks` calls with nothing due: the cost of one tick;
2. load        `--rate` timers due per second for `--duration` s (inserted beforehand with
               due times spread evenly), fired by a loop ticking every 0.2 s as the service
               does: cost per tick and fire latency (commit of the firing transaction minus
               due time), p50/p99/max.

3. sla checks  2,000 of the loaded tickets get a history whose response clock has breached
               and their sla timer falls due: the loop re-evaluates each (steps, policies,
               calendars), publishes the breach, and re-arms: time per check.

Last, business-time arithmetic on the default China calendar (holidays, make-up days,
lunch break): `add` of 1 min-5 days from random instants, `between` over spans up to 10
days, and a whole clock evaluation (6 steps, pause and priority change), per second.

It prints figures; it asserts nothing. The databases it made are dropped.
"""
import argparse
import datetime as dt
import os
import random
import secrets
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import psycopg2  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.support import pct  # noqa: E402
from gongdan_common.db import Database  # noqa: E402
from gongdan_common.migrate import upgrade  # noqa: E402
from services.sla import domain, handlers  # noqa: E402
from services.sla.calendar import Calendar  # noqa: E402
from services.sla.models import metadata  # noqa: E402
from tests.support.system import PG_ADMIN  # noqa: E402

TICK = 0.2
UTC = dt.timezone.utc


def fmt(values, unit="ms", scale=1000):
    return (f"p50 {pct(values, 50) * scale:8.2f} {unit}  p99 {pct(values, 99) * scale:8.2f} "
            f"{unit}  max {max(values) * scale:8.2f} {unit}  (n={len(values)})")


# ---- databases ----------------------------------------------------------------------------

class Databases:
    def __init__(self, backend):
        self.backend, self.made, self.tmp = backend, [], tempfile.mkdtemp(prefix="bench-sla-")

    def new(self, label):
        if self.backend == "sqlite":
            url = f"sqlite:///{self.tmp}/{label}.db"
        else:
            name = f"bench_sla_{label}_{secrets.token_hex(3)}"
            conn = psycopg2.connect(PG_ADMIN)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
            conn.close()
            self.made.append(name)
            url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
        upgrade("sla", url)
        return Database(url, metadata)

    def drop(self):
        if self.made:
            conn = psycopg2.connect(PG_ADMIN)
            conn.autocommit = True
            with conn.cursor() as cur:
                for name in self.made:
                    cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.close()


def series(db, n):
    """SQL that yields i = 1..n (generate_series, or a recursive CTE on SQLite)."""
    if db.engine.dialect.name == "postgresql":
        return f"SELECT i FROM generate_series(1, {n}) AS s(i)"
    return (f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) "
            "SELECT i FROM s")


def fill_open_clocks(db, clocks):
    """`clocks` running clocks over clocks/2 tickets, one pending sla timer per ticket."""
    tickets = clocks // 2
    now = dt.datetime.now(UTC)
    pg = db.engine.dialect.name == "postgresql"
    tid = "'t-' || i"
    ts = (lambda sec: f"(:now + ({sec}) * interval '1 second')") if pg else \
        (lambda sec: f"strftime('%Y-%m-%d %H:%M:%f', :now_s, '+' || ({sec}) || ' seconds')")
    params = {"now": now, "now_s": now.strftime("%Y-%m-%d %H:%M:%S")}
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO sla_tickets (ticket_id, number, company_id, type, priority, status, "
            "version, created_at, updated_at) "
            f"SELECT {tid}, 'TS' || i, 'co', 'defect', 'P3', 'assigned', 1, :now, :now "
            f"FROM ({series(db, tickets)}) q"), params)
        for target in ("response", "resolution"):
            conn.execute(text(
                "INSERT INTO clocks (ticket_id, target, policy_id, priority, state, "
                "target_seconds, spent_seconds, paused_seconds, due_at, evaluated_at) "
                f"SELECT {tid}, '{target}', 'pol-default-p3', 'P3', 'running', 3600, 60, 0, "
                f"{ts('3600 + i % 2592000')}, :now FROM ({series(db, tickets)}) q"), params)
        conn.execute(text(
            "INSERT INTO timers (id, key, kind, owner, ticket_id, due_at, status, payload, "
            "created_at) "
            f"SELECT 'tm-' || i, 'sla:t-' || i, 'sla_check', 'sla', {tid}, "
            f"{ts('3600 + i % 2592000')}, 'pending', '{{}}', :now "
            f"FROM ({series(db, tickets)}) q"), params)
    if pg:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def add_due_timers(db, start, rate, duration):
    """rate x duration generic timers due evenly from `start` (owner intake: they emit
    timer_due, as auto-resume / auto-confirm do)."""
    rows = [{"id": str(uuid.uuid4()), "key": f"bench-{uuid.uuid4().hex}", "kind": "bench",
             "owner": "intake", "ticket_id": None,
             "due_at": start + dt.timedelta(seconds=i / rate), "status": "pending",
             "payload": "{}", "created_at": start} for i in range(int(rate * duration))]
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO timers (id, key, kind, owner, ticket_id, due_at, status, payload, "
            "created_at) VALUES (:id, :key, :kind, :owner, :ticket_id, :due_at, :status, "
            ":payload, :created_at)"), rows)
    return {r["id"]: r["due_at"] for r in rows}


# ---- the loop -----------------------------------------------------------------------------

def idle_ticks(db, ticks):
    costs = []
    for _ in range(ticks):
        t0 = time.perf_counter()
        handlers.fire_due(db.unit_of_work())
        costs.append(time.perf_counter() - t0)
    return costs


def loaded_run(db, rate, duration):
    """Tick every TICK s like the service; latency = commit of the tick that fired a timer
    minus its due time."""
    start = dt.datetime.now(UTC) + dt.timedelta(seconds=3)
    total = len(add_due_timers(db, start, rate, duration))
    while dt.datetime.now(UTC) < start:
        time.sleep(0.01)
    costs, committed, fired = [], {}, 0
    end = time.monotonic() + duration + 2
    next_tick = time.monotonic()
    while time.monotonic() < end and fired < total:
        t0 = time.perf_counter()
        now = dt.datetime.now(UTC)
        n = batch = handlers.fire_due(db.unit_of_work(), now=now)
        while batch == 500:  # a backlog: keep going within this tick, as the service does
            batch = handlers.fire_due(db.unit_of_work(), now=now)
            n += batch
        committed[_naive(now)] = dt.datetime.now(UTC)
        costs.append(time.perf_counter() - t0)
        fired += n
        next_tick += TICK
        time.sleep(max(0.0, next_tick - time.monotonic()))
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT due_at, fired_at FROM timers WHERE kind = 'bench' "
                                 "AND status = 'fired'")).all()
    latencies = [(committed[_naive(f)] - _aware(d)).total_seconds() for d, f in rows]
    return costs, latencies, fired


def _aware(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _naive(value):
    return _aware(value).astimezone(UTC).replace(tzinfo=None)


def sla_checks(db, n):
    """n of the loaded tickets get a real history (created 2 h ago as P1: the seeded 24x7
    policy, 15 min response, so each check publishes a warning and a breach) and their sla
    timer falls due now; the loop re-evaluates each in the firing transaction."""
    now = dt.datetime.now(UTC)
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO sla_steps (ticket_id, key, at, seq, kind, value) "
                          "VALUES (:t, :k, :at, 0, 'created', 'P1')"),
                     [{"t": f"t-{i}", "k": f"created:t-{i}", "at": now - dt.timedelta(hours=2)}
                      for i in range(1, n + 1)])
        conn.execute(text("UPDATE timers SET due_at = :now WHERE key IN :keys").bindparams(
            __import__("sqlalchemy").bindparam("keys", expanding=True)),
            {"now": now, "keys": [f"sla:t-{i}" for i in range(1, n + 1)]})
    t0 = time.perf_counter()
    fired = 0
    while fired < n:
        batch = handlers.fire_due(db.unit_of_work(), limit=100)
        if not batch:
            break
        fired += batch
    took = time.perf_counter() - t0
    with db.engine.connect() as conn:
        notices = conn.execute(text("SELECT count(*) FROM outbox WHERE type IN "
                                    "('sla_warning', 'sla_breached')")).scalar()
    return fired, took, notices


def explain(db):
    if db.engine.dialect.name != "postgresql":
        return None
    with db.engine.connect() as conn:
        plan = conn.execute(text(
            "EXPLAIN SELECT * FROM timers WHERE status = 'pending' AND due_at <= now() "
            "ORDER BY due_at LIMIT 500 FOR UPDATE SKIP LOCKED")).scalars().all()
    return "\n".join("      " + line for line in plan)


# ---- business time -------------------------------------------------------------------------

def business_time(seconds=3.0):
    cal = Calendar.from_spec({"tz": "Asia/Shanghai", "chinese_holidays": True, "hours": {
        d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}})
    rnd = random.Random(4)
    base = dt.datetime(2025, 1, 1, tzinfo=UTC)
    starts = [base + dt.timedelta(minutes=rnd.randrange(0, 60 * 24 * 700)) for _ in range(5000)]
    mins = [dt.timedelta(minutes=rnd.randrange(1, 60 * 24 * 5)) for _ in range(5000)]
    out = {}

    def rate(fn):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            fn(n % 5000)
            n += 1
        return n / (time.perf_counter() - t0)

    out["add"] = rate(lambda i: cal.add(starts[i], mins[i]))
    out["between"] = rate(lambda i: cal.between(starts[i], starts[i] + mins[i] * 2))
    terms = {"P3": domain.Terms(dt.timedelta(minutes=60), cal, 0.8, "p3"),
             "P2": domain.Terms(dt.timedelta(minutes=30), cal, 0.8, "p2")}

    def history(t):
        return [domain.Step(t, 0, "created", "P3"),
                domain.Step(t + dt.timedelta(minutes=20), 2, "status", "assigned"),
                domain.Step(t + dt.timedelta(minutes=40), 3, "status", "needs_info"),
                domain.Step(t + dt.timedelta(hours=5), 4, "status", "assigned"),
                domain.Step(t + dt.timedelta(hours=6), 5, "priority", "P2"),
                domain.Step(t + dt.timedelta(hours=7), 6, "status", "in_progress")]

    def clock(i):
        t = starts[i]
        domain.evaluate("response", history(t), terms.get, t + dt.timedelta(hours=30))
    out["evaluate"] = rate(clock)
    # the update clock on the same history plus two public staff replies (two cycles),
    # beside the response clock on that same history
    replies = [dt.timedelta(hours=8), dt.timedelta(hours=20)]

    def with_replies(t):
        return history(t) + [domain.Step(t + d, 7 + k, "response") for k, d in
                             enumerate(replies)]
    out["evaluate response, 8 steps"] = rate(lambda i: domain.evaluate(
        "response", with_replies(starts[i]), terms.get, starts[i] + dt.timedelta(hours=30)))
    out["evaluate update, 8 steps"] = rate(lambda i: domain.evaluate(
        "update", with_replies(starts[i]), terms.get, starts[i] + dt.timedelta(hours=30)))
    return out


def print_business_time():
    print("\n[business time, China calendar with holidays, per second]")
    for name, value in business_time().items():
        print(f"  {name:26s} {value:12,.0f} /s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    ap.add_argument("--clocks", type=int, default=1_000_000)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--ticks", type=int, default=100)
    ap.add_argument("--arithmetic-only", action="store_true",
                    help="only the business-time and clock-evaluation rates (no database)")
    args = ap.parse_args(argv)
    if args.arithmetic_only:
        print_business_time()
        return
    dbs = Databases(args.backend)
    try:
        print(f"backend {args.backend}; tick {TICK}s; {os.cpu_count()} cores")
        empty = dbs.new("empty")
        loaded = dbs.new("loaded")
        took = fill_open_clocks(loaded, args.clocks)
        print(f"filled {args.clocks:,} open clocks + {args.clocks // 2:,} pending timers "
              f"in {took:.1f}s")
        for label, db in (("empty (baseline)", empty), (f"{args.clocks:,} open clocks", loaded)):
            idle_ticks(db, 5)  # warm-up: connections, statement cache
            print(f"\n[{label}]")
            print("  idle tick       " + fmt(idle_ticks(db, args.ticks)))
            costs, latencies, fired = loaded_run(db, args.rate, args.duration)
            print(f"  {args.rate}/s due: tick  " + fmt(costs) + f"  fired {fired:,}")
            print("  fire latency    " + fmt(latencies))
        fired, took, notices = sla_checks(loaded, 2000)
        print(f"\n  sla clock checks (re-evaluate in the firing transaction): {fired:,} in "
              f"{took:.2f}s = {took / max(fired, 1) * 1000:.2f} ms each, "
              f"{notices:,} warnings/breaches published")
        plan = explain(loaded)
        if plan:
            print("\n  firing query plan (loaded):\n" + plan)
        print_business_time()
    finally:
        dbs.drop()


if __name__ == "__main__":
    main()
