"""Database unreachable -> 503 service_unavailable with Retry-After, never 500; services
recover by themselves when it returns.

Every service and the gateway run on a PostgreSQL cluster of the test's own, which is
stopped (fast shutdown: every session cut) for 5 seconds while tickets are being created.
"""
import shutil
import tempfile
import time

import pytest

from tests.support.load import (Load, check_tickets, customer, event_effects,
                                print_errors, wait_until)
from tests.support.postgres import PgCluster
from tests.support.system import System

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.postgres,
              pytest.mark.timeout(420)]


def test_database_outage_under_load():
    workdir = tempfile.mkdtemp(prefix="gongdan-db-outage-")
    pg = PgCluster.create()
    system = None
    try:
        pg.start()
        system = System(workdir, backend="postgresql", pg_port=pg.port,
                        env={"GONGDAN_DB_POOL_SIZE": "4", "GATEWAY_RPC_TIMEOUT": "10"})
        system.start()
        api, product = customer(system)
        load = Load(api, product, threads=4).start()
        load.wait_count(30, 60)
        assert load.count() >= 30, load.statuses

        pg.stop()
        time.sleep(5)
        during = dict(load.statuses)
        pg.start()
        back, resumed_from = time.monotonic(), load.count()
        load.wait_count(resumed_from + 1, 60)
        recovered = time.monotonic() - back
        load.wait_count(resumed_from + 30, 60)
        load.stop()
        print(f"\ndatabase outage (5 s): statuses during it {during}; first ticket "
              f"{recovered:.1f}s after the database was back; all statuses "
              f"{dict(load.statuses)}; {load.count()} tickets")

        exited = {n: p.returncode for n, p in system.procs.items() if p.poll() is not None}
        assert exited == {}, f"processes exited: {exited}"
        assert load.bad == [], load.bad[:5]          # no 500 (nor any other refusal)
        assert load.statuses[503] > 0, load.statuses  # the outage was met
        assert load.retry_after_missing == 0
        assert load.gave_up == []
        assert recovered < 30

        missing, duplicated, unknown = check_tickets(system, load)
        assert (missing, duplicated, unknown) == ([], [], [])
        ids = set(load.created.values())
        effects = wait_until(lambda: (lambda e: e if e["sla"] == e["dispatch"] == len(ids)
                                      else None)(event_effects(system, ids)), 90)
        assert effects, f"events not handled: {event_effects(system, ids)} of {len(ids)}"
    except BaseException:
        if system is not None:
            print_errors(system)
        raise
    finally:
        if system is not None:
            system.stop()
        pg.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
