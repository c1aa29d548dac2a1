"""The handlers of a created ticket's path, in process, on PostgreSQL: CPU and statements each.

No broker, no nameko: intake's create RPC handler, intake's outbox relay (publishing to a
stub), dispatch's and sla's `ticket_created` batch handlers, and intake applying sla's
`sla_clock_updated`, each called over the same tickets against real, freshly migrated
databases on one PostgreSQL server. Prints, per ticket, this process's CPU time
(`time.process_time`: the Python side; the server's work is not in it), the SQL
statements and the commits each step made.

    .venv/bin/python -m bench.create_path --tickets 2000 --batch 5

Database: GONGDAN_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres), on
which it creates and drops databases named gd_bench_<service>_<random>.
"""
import eventlet
eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import time  # noqa: E402
import zoneinfo  # noqa: E402

import psycopg2  # noqa: E402
from sqlalchemy import event, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from gongdan_common.db import Database  # noqa: E402
from gongdan_common.migrate import upgrade  # noqa: E402
from gongdan_common.outbox import OutboxRelay  # noqa: E402

PG_ADMIN_URL = os.environ.get("GONGDAN_TEST_PG_URL",
                              "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN = {"id": "adm", "role": "admin", "name": "Admin"}
CUSTOMER = {"id": "u1", "role": "customer", "name": "张三", "company_id": "c1",
            "company_name": "示例公司"}


def _admin():
    url = make_url(PG_ADMIN_URL)
    conn = psycopg2.connect(host=url.host, port=url.port, user=url.username,
                            password=url.password, dbname=url.database)
    conn.autocommit = True
    return conn


def _database(service, metadata, made):
    name = f"gd_bench_{service}_{secrets.token_hex(4)}"
    conn = _admin()
    try:
        conn.cursor().execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    made.append(name)
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg2", database=name) \
        .render_as_string(hide_password=False)
    upgrade(service, url)
    return Database(url, metadata)


class Meter:
    """Statements and commits of one engine, CPU of this process, between `start` and
    `stop`."""

    def __init__(self, database):
        self.statements = self.commits = 0
        event.listen(database.engine, "before_cursor_execute", self._statement)
        event.listen(database.engine, "commit", self._commit)

    def _statement(self, *_):
        self.statements += 1

    def _commit(self, *_):
        self.commits += 1

    profile = None  # a label: profile that step (cProfile), print its top functions

    def measure(self, label, n, work):
        s0, c0, t0 = self.statements, self.commits, time.process_time()
        if self.profile and self.profile in label:
            import cProfile
            import pstats
            prof = cProfile.Profile(time.process_time)
            prof.runcall(work)
            pstats.Stats(prof).sort_stats(os.environ.get("SORT", "tottime")).print_stats(int(os.environ.get("TOP", "30")))
        else:
            work()
        cpu = time.process_time() - t0
        print(f"{label:34s} {cpu / n * 1000:7.3f} ms  {(self.statements - s0) / n:6.2f} "
              f"statements  {(self.commits - c0) / n:5.2f} commits  per ticket")
        return cpu / n


def _outbox(database, type_, after=0):
    with database.unit_of_work() as uow:
        t = database.metadata.tables["outbox"]
        return [r.payload for r in uow.session.execute(
            select(t.c.payload).where(t.c.type == type_, t.c.id > after).order_by(t.c.id))]


def _keyed(body):
    import uuid
    return dict(body, request_key="gw-" + uuid.uuid4().hex)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=5, help="events per consumer batch")
    ap.add_argument("--profile", help="profile the step whose label contains this")
    ap.add_argument("--keep", action="store_true", help="keep the databases")
    args = ap.parse_args()
    from services.dispatch import handlers as dispatch_handlers, routing
    from services.dispatch.models import metadata as dispatch_md
    from services.intake import catalog, projections, tickets
    from services.intake.models import metadata as intake_md
    from services.sla import clocks
    from services.sla.models import metadata as sla_md

    made = []
    try:
        intake = _database("intake", intake_md, made)
        dispatch = _database("dispatch", dispatch_md, made)
        sla = _database("sla", sla_md, made)
        catalog.upsert_product(ADMIN, {"code": "P1", "name": "产品", "product_line": "line"},
                               intake.unit_of_work())
        settings = {"number_prefix": "TS", "tz": zoneinfo.ZoneInfo("Asia/Shanghai")}
        d_settings = dispatch_handlers.settings_from_config({})
        n, b = args.tickets, args.batch
        # as the bench's gateway sends it (bench/ticket_create.py, a gateway request key)
        body = {"title": "无法登录系统", "type": "defect", "product": "P1",
                "category": "function", "description": "登录时提示账号被锁定，已持续两天",
                "contact_phone": "13800138000", "impact": "department", "urgency": "high"}
        # warm: caches, compiled statements, pooled connections
        for _ in range(20):
            tickets.create_ticket(CUSTOMER, _keyed(body), intake.unit_of_work(), settings)
        warm = _outbox(intake, "ticket_created")
        routing.tickets_created(warm[:b], dispatch.unit_of_work(), d_settings)
        clocks.on_tickets_created(warm[:b], sla.unit_of_work())
        projections.apply_sla_clocks(_outbox(sla, "sla_clock_updated"), intake.unit_of_work())
        with intake.unit_of_work() as uow:
            last = uow.session.scalar(select(intake_md.tables["outbox"].c.id).order_by(
                intake_md.tables["outbox"].c.id.desc()).limit(1))
        OutboxRelay._publish = lambda self, rows: None  # the broker is not measured here
        relay = OutboxRelay(intake, "memory://", "intake")
        while relay.relay_once():
            pass

        mi, md, ms = Meter(intake), Meter(dispatch), Meter(sla)
        Meter.profile = args.profile
        print(f"{n} tickets, consumer batches of {b}")
        mi.measure("intake create_ticket", n, lambda: [
            tickets.create_ticket(CUSTOMER, _keyed(body), intake.unit_of_work(), settings)
            for _ in range(n)])
        created = _outbox(intake, "ticket_created", last)
        assert len(created) == n, len(created)
        batches = [created[i:i + b] for i in range(0, n, b)]

        def relay_all():  # as under load: a pass per consumer-batch worth of rows
            relay.batch_size = b
            while relay.relay_once():
                pass
        mi.measure("intake relay (stub publish)", n, relay_all)
        md.measure("dispatch tickets_created", n, lambda: [
            routing.tickets_created(batch, dispatch.unit_of_work(), d_settings)
            for batch in batches])
        with sla.unit_of_work() as uow:
            s_last = uow.session.scalar(select(sla_md.tables["outbox"].c.id).order_by(
                sla_md.tables["outbox"].c.id.desc()).limit(1)) or 0
        ms.measure("sla on_tickets_created", n, lambda: [
            clocks.on_tickets_created(batch, sla.unit_of_work()) for batch in batches])
        updated = _outbox(sla, "sla_clock_updated", s_last)
        assert len(updated) == n, len(updated)
        mi.measure("intake apply_sla_clocks", n, lambda: [
            projections.apply_sla_clocks(updated[i:i + b], intake.unit_of_work())
            for i in range(0, n, b)])
        for database in (intake, dispatch, sla):
            database.dispose()
    finally:
        if not args.keep and made:
            conn = _admin()
            try:
                for name in made:
                    conn.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                conn.close()


if __name__ == "__main__":
    main()
