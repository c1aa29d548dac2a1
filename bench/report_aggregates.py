"""The chart and satisfaction aggregates (services/intake/reports.py) at a million tickets:
each report's handler timed on a database of its own, with the query plans.

    .venv/bin/python -m bench.report_aggregates [--size 1000000] [--url URL] [--repeat 5]

Without --url it builds a SQLite file in a temporary folder (migrated to head by intake's
own migrations, so the indexes of migration 0011 are there); with --url (an EMPTY database,
e.g. postgresql+psycopg2://…/bench_reports) it migrates and fills that one. Tickets are
created over the last two years (90 % closed, the rest spread over the open statuses), 30 %
of the closed ones rated; 200 engineers of 20 providers. It prints the median time of each
report as the desk (every ticket) and as one provider admin, and EXPLAIN of the queries.
It reports, it does not assert.
"""
import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
import uuid
import zoneinfo

from sqlalchemy import insert, text

from gongdan_common.db import Database
from gongdan_common.migrate import upgrade
from services.intake import reports
from services.intake.models import Rating, Ticket, metadata

OPEN = ("new", "needs_info", "assigned", "in_progress", "suspended", "resolved")
SETTINGS = {"tz": zoneinfo.ZoneInfo("Asia/Shanghai")}
BATCH = 20000


def fill(db, size, now):
    rnd = random.Random(14)
    providers = [str(uuid.uuid4()) for _ in range(20)]
    engineers = [(str(uuid.uuid4()), f"工程师{i}", providers[i % 20]) for i in range(200)]
    with db.engine.begin() as conn:
        for start in range(0, size, BATCH):
            tickets, ratings = [], []
            for i in range(start, min(size, start + BATCH)):
                created = now - dt.timedelta(seconds=rnd.randrange(730 * 86400))
                closed = rnd.random() < 0.9
                status = "closed" if closed else rnd.choice(OPEN)
                handler = rnd.choice(engineers) if status not in ("new", "needs_info") else None
                resolved = created + dt.timedelta(hours=rnd.randrange(1, 200)) \
                    if status in ("resolved", "closed") else None
                tid = str(uuid.uuid4())
                tickets.append({
                    "id": tid, "number": f"TS{i:012d}", "type": "defect", "title": "标题",
                    "product": "P", "product_line": f"line-{i % 8}", "category": "function",
                    "description": "d", "impact": "department", "urgency": "high",
                    "priority": rnd.choice(("P1", "P2", "P3", "P4")), "contact_phone": "1",
                    "status": status, "submitter_id": "s", "company_id": f"c{i % 500}",
                    "provider_id": handler[2] if handler else None,
                    "handler_id": handler[0] if handler else None,
                    "handler_name": handler[1] if handler else None, "environment": {},
                    "created_at": created, "updated_at": created, "resolved_at": resolved,
                    "resolution_round": 1, "reopen_count": 0, "version": 1,
                    "sla_breached": False})
                if closed and rnd.random() < 0.3:
                    ratings.append({"id": str(uuid.uuid4()), "ticket_id": tid, "round": 1,
                                    "product_score": rnd.randint(1, 5),
                                    "service_score": rnd.randint(1, 5), "rater_id": "s",
                                    "rater_role": "customer",
                                    "created_at": resolved + dt.timedelta(hours=2)})
            conn.execute(insert(Ticket), tickets)
            if ratings:
                conn.execute(insert(Rating), ratings)
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE tickets"))
            conn.execute(text("ANALYZE ticket_ratings"))
        else:
            conn.execute(text("ANALYZE"))
    return providers[0]


def timed(fn, repeat):
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--url")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='gongdan-reports-')}/intake.db"
    upgrade("intake", url)
    db = Database(url, metadata)
    now = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    provider = fill(db, args.size, now)
    print(f"{db.engine.dialect.name}: {args.size:,} tickets loaded in "
          f"{time.perf_counter() - t0:.0f} s")
    desk = {"id": "a", "role": "agent"}
    boss = {"id": "b", "role": "provider_admin", "provider_id": provider}
    cases = [
        ("volume, 30 days by day", lambda a: reports.volume(a, {}, db.unit_of_work(), SETTINGS)),
        ("volume, 1 year by month", lambda a: reports.volume(
            a, {"granularity": "month"}, db.unit_of_work(), SETTINGS)),
        ("backlog", lambda a: reports.backlog(a, {}, db.unit_of_work())),
        ("satisfaction, 12 weeks by week", lambda a: reports.satisfaction(
            a, {"granularity": "week"}, db.unit_of_work(), SETTINGS)),
        ("satisfaction, 1 year by engineer", lambda a: reports.satisfaction(
            a, {"granularity": "month", "group_by": "engineer"}, db.unit_of_work(), SETTINGS)),
        ("workload", lambda a: reports.workload(a, db.unit_of_work())),
    ]
    print(f"{'report':36} {'desk ms':>9} {'provider ms':>12}")
    for name, fn in cases:
        print(f"{name:36} {timed(lambda: fn(desk), args.repeat):9.1f} "
              f"{timed(lambda: fn(boss), args.repeat):12.1f}")
    explain = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
    since = (now - dt.timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    queries = {
        "resolved per hour, 30 days": "SELECT count(*) FROM tickets WHERE resolved_at >= "
                                      f"'{since}' GROUP BY substr(resolved_at, 1, 13)",
        "backlog": "SELECT status, priority, count(*) FROM tickets WHERE status IN "
                   "('new','needs_info','assigned','in_progress','suspended','resolved') "
                   "GROUP BY status, priority",
        "ratings, 30 days": "SELECT count(*) FROM ticket_ratings JOIN tickets ON tickets.id = "
                            f"ticket_ratings.ticket_id WHERE ticket_ratings.created_at >= '{since}'",
    }
    with db.engine.connect() as conn:
        for name, sql in queries.items():
            if db.engine.dialect.name == "postgresql":
                sql = sql.replace("substr(resolved_at, 1, 13)", "date_trunc('hour', resolved_at)")
            print(f"-- {name}")
            for row in conn.execute(text(explain + sql)):
                print("   ", " ".join(str(c) for c in row))
    db.dispose()


if __name__ == "__main__":
    main()
