"""Database unreachable -> 503 service_unavailable with Retry-After, never 500; services
recover by themselves when it returns.

Every service and the gateway run on a PostgreSQL cluster of the test's own, which is
stopped (fast shutdown: every session cut) for 5 seconds while tickets are being created.
"""
import time

import pytest

from tests.support.load import check_nothing_lost, fault_system, start_load
from tests.support.postgres import PgCluster

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.postgres,
              pytest.mark.timeout(420)]


def test_database_outage_under_load():
    pg = PgCluster.create()
    try:
        pg.start()
        with fault_system("gongdan-db-outage-", backend="postgresql", pg_port=pg.port,
                          env={"GONGDAN_DB_POOL_SIZE": "4", "GATEWAY_RPC_TIMEOUT": "10"}) as system:
            load = start_load(system, first=30)

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

            assert load.statuses[503] > 0, load.statuses  # the outage was met
            assert recovered < 30
            check_nothing_lost(system, load)
    finally:
        pg.destroy()
