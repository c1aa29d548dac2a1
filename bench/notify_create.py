"""notify's share of a created ticket, in process, on a real database: CPU and statements.

    .venv/bin/python -m bench.notify_create [--tickets 2000] [--batch 4] [--group 2]
                                            [--agents 0] [--backend postgresql|sqlite]
                                            [--profile FILE]

What notify does for each `intake.ticket_created` (bench/ticket_create.py's whole system,
where the customer's "accepted" notice goes to the inbox and by mail, and the desk's
"new ticket" notice to every agent's inbox), phase by phase, without the broker:

1. plan      `planning.ingest_many` over batches of `--batch` events, with free send slots
             (the mails are written leased and handed over, as the service does);
2. mail      `SmtpEmail.raw` of each handed-over mail (what is sent; no SMTP server);
3. record    `delivery.record_outcomes` of the sent mails in groups of `--group` (the
             delivery loop's group commit);
4. relay     `OutboxRelay.relay_once` with the broker publish replaced by a no-op.

Prints, per created ticket and per phase, the process's CPU (time.process_time), the SQL
statements and the transactions. A throwaway PostgreSQL database (`perf_notify_<random>`
on GONGDAN_TEST_PG_URL, default the local server) or SQLite file is made and dropped.
The figures exclude the database server's own CPU and the broker; they are for comparing
two versions of notify's code on one machine, not for the whole-system total.
"""
import argparse
import cProfile
import os
import secrets
import tempfile
import time
import uuid

import psycopg2
from sqlalchemy import event
from sqlalchemy.engine import make_url

from gongdan_common.db import Database
from gongdan_common.migrate import upgrade
from gongdan_common.outbox import OutboxRelay
from services.notify import channels, common, delivery, planning
from services.notify.models import metadata

PG_ADMIN_URL = os.environ.get("GONGDAN_TEST_PG_URL",
                              "postgresql://postgres@127.0.0.1:5432/postgres")
COMPANY = "c-" + "1" * 34
SUBMITTER = {"id": "u-sub", "name": "故障用户", "email": "13800138000@perf.test",
             "phone": "13800138000", "language": "zh", "role": "customer",
             "company_id": COMPANY, "company_name": "故障公司"}


def agents(n):
    return [{"id": f"u-agent-{i}", "name": f"坐席{i}", "email": f"agent{i}@perf.test",
             "phone": None, "language": "zh", "role": "agent", "company_id": None,
             "company_name": None} for i in range(n)]


def ticket_created(n):
    """What intake emits (services/intake/tickets.py: {"ticket": _ref(ticket)})."""
    tid = str(uuid.uuid4())
    number = f"TS20261122{n:05d}"
    return {"event_id": str(uuid.uuid4()), "source": "intake", "type": "ticket_created",
            "version": 1, "occurred_at": "2026-11-22T04:00:00+00:00",
            "ticket_id": tid, "ticket_number": number,
            "actor": {"id": SUBMITTER["id"], "role": "customer", "name": SUBMITTER["name"],
                      "company_id": COMPANY},
            "correlation_id": uuid.uuid4().hex,
            "data": {"ticket": {
                "id": tid, "number": number, "title": "无法登录系统", "type": "defect",
                "status": "new", "priority": "P2", "product": "FAULT-ABC123",
                "product_line": "anyshare", "company_id": COMPANY,
                "submitter_id": SUBMITTER["id"], "assignee_id": None, "provider_id": None,
                "category": "function", "created_at": "2026-11-22T04:00:00+00:00"}}}


class Meter:
    def __init__(self, engine):
        self.statements = self.commits = 0
        self.cpu = {}
        self.counts = {}
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, *_):
        self.statements += 1

    def _commit(self, *_):
        self.commits += 1

    def phase(self, name):
        return _Phase(self, name)


class _Phase:
    def __init__(self, meter, name):
        self.meter, self.name = meter, name

    def __enter__(self):
        self.t0 = time.process_time()
        self.s0, self.c0 = self.meter.statements, self.meter.commits

    def __exit__(self, *exc):
        m = self.meter
        cpu, st, co = m.cpu.get(self.name, (0.0, 0, 0))
        m.cpu[self.name] = (cpu + time.process_time() - self.t0,
                            st + m.statements - self.s0, co + m.commits - self.c0)


def make_database(backend):
    if backend == "sqlite":
        path = os.path.join(tempfile.mkdtemp(prefix="perf_notify_"), "notify.db")
        return f"sqlite:///{path}", lambda: os.unlink(path)
    name = "perf_notify_" + secrets.token_hex(4)
    admin = make_url(PG_ADMIN_URL)

    def run(sql):
        conn = psycopg2.connect(host=admin.host, port=admin.port, user=admin.username,
                                password=admin.password, dbname=admin.database)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    run(f'CREATE DATABASE "{name}"')
    url = admin.set(drivername="postgresql+psycopg2", database=name) \
        .render_as_string(hide_password=False)
    return url, lambda: run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tickets", type=int, default=2000)
    p.add_argument("--batch", type=int, default=4, help="events per planning transaction")
    p.add_argument("--group", type=int, default=2, help="outcomes per record transaction")
    p.add_argument("--agents", type=int, default=0, help="agents told of each new ticket")
    p.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    p.add_argument("--warmup", type=int, default=200, help="tickets before measuring")
    p.add_argument("--profile", help="write a cProfile of the measured tickets here")
    args = p.parse_args()

    url, drop = make_database(args.backend)
    try:
        upgrade("notify", url)
        db = Database(url, metadata)
        settings = common.settings_from_config({"NOTIFY": {"public_url": "http://gd.test"}})
        people = {("id", SUBMITTER["id"]): [SUBMITTER]}
        desk = agents(args.agents)

        def directory(queries):
            return {q: people.get(q, desk if q[:2] == ("role", "agent") else [])
                    for q in queries}

        smtp = channels.SmtpEmail("127.0.0.1", 25, sender="Gongdan <noreply@gongdan.local>")
        relay = OutboxRelay(db, "memory://", "notify")
        relay._publish = lambda rows: None  # the broker is not measured here
        config = planning.configuration(db.unit_of_work())

        def one_round(n, meter=None):
            phase = meter.phase if meter else (lambda name: _Nothing())
            envelopes = [ticket_created(n + i) for i in range(args.batch)]
            handed = []
            with phase("plan"):
                planning.ingest_many(envelopes, db.unit_of_work(), directory, settings,
                                     config=config, hand_off=50, handed=handed)
            with phase("mail"):
                for item in handed:
                    smtp.raw(item)
            with phase("record"):
                for i in range(0, len(handed), args.group):
                    delivery.record_outcomes(
                        db.unit_of_work(),
                        [(item["id"], channels.Outcome(True), 5.0)
                         for item in handed[i:i + args.group]], settings)
            with phase("relay"):
                while relay.relay_once():
                    pass
            return len(handed)

        for n in range(0, args.warmup, args.batch):
            one_round(n)
        meter = Meter(db.engine)
        profile = cProfile.Profile(time.process_time) if args.profile else None
        mails = 0
        if profile:
            profile.enable()
        for n in range(0, args.tickets, args.batch):
            mails += one_round(args.warmup + n, meter)
        if profile:
            profile.disable()
            profile.dump_stats(args.profile)
        tickets = (args.tickets + args.batch - 1) // args.batch * args.batch
        print(f"notify, {tickets} tickets on {args.backend}, batch {args.batch}, "
              f"group {args.group}, agents {args.agents}, mails {mails}")
        print(f"{'phase':8} {'cpu ms/ticket':>14} {'statements':>11} {'commits':>8}")
        total = [0.0, 0, 0]
        for name in ("plan", "mail", "record", "relay"):
            cpu, st, co = meter.cpu.get(name, (0.0, 0, 0))
            total = [total[0] + cpu, total[1] + st, total[2] + co]
            print(f"{name:8} {cpu * 1000 / tickets:14.3f} {st / tickets:11.2f} "
                  f"{co / tickets:8.2f}")
        print(f"{'total':8} {total[0] * 1000 / tickets:14.3f} {total[1] / tickets:11.2f} "
              f"{total[2] / tickets:8.2f}")
        db.dispose()
    finally:
        drop()


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    main()
