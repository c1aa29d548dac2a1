"""It heals: the RabbitMQ node every service uses is restarted while tickets are being
created over HTTP. The node is the test's own (own node name, ports, data dir), never the
shared broker.

Expected: no service process exits; each answers its health RPC again within 30 s of the
broker being back; every ticket a client was told about (201) exists once (creates that
failed with 503 or a dropped connection are retried with the same Idempotency-Key), and its
ticket_created event reached sla and dispatch.
"""
import shutil
import tempfile
import time

import pytest

from tests.support.load import (Load, check_tickets, customer, event_effects,
                                print_errors, wait_until)
from tests.support.rabbit import RabbitNode
from tests.support.system import System

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(420)]


def test_broker_restart_under_load():
    workdir = tempfile.mkdtemp(prefix="gongdan-broker-restart-")
    rabbit_dir = tempfile.mkdtemp(prefix="gongdan-rabbit-")  # (its nodes run as `rabbitmq`)
    node = RabbitNode.create(rabbit_dir)
    system = None
    try:
        node.start()
        system = System(workdir, backend="sqlite", amqp_uri=node.amqp_uri,
                        env={"AMQP_HEARTBEAT": "5", "GATEWAY_RPC_TIMEOUT": "10"})
        system.start()
        api, product = customer(system)
        load = Load(api, product, threads=4).start()
        load.wait_count(40, 60)
        before = load.count()
        assert before >= 40, load.statuses

        node.stop()
        time.sleep(5)                       # down for a while, under load
        node.start()
        back = time.monotonic()
        system.wait_ready(timeout=30)       # every service answers health again
        healed = time.monotonic() - back

        load.wait_count(load.count() + 40, 60)  # creating tickets again
        load.stop()
        print(f"\nbroker restart: {before} tickets before, {load.count()} in all; services "
              f"healthy {healed:.1f}s after the broker was back; statuses {dict(load.statuses)}")

        exited = {n: p.returncode for n, p in system.procs.items() if p.poll() is not None}
        assert exited == {}, f"processes exited: {exited}"
        assert load.bad == [], load.bad[:5]
        assert load.gave_up == []
        assert load.retry_after_missing == 0

        missing, duplicated, unknown = check_tickets(system, load)
        assert (missing, duplicated, unknown) == ([], [], [])

        ids = set(load.created.values())
        effects = wait_until(lambda: (lambda e: e if e["sla"] == e["dispatch"] == len(ids)
                                      else None)(event_effects(system, ids)), 90)
        assert effects, f"events not handled: {event_effects(system, ids)} of {len(ids)}"
        assert effects["outbox_rows"] == len(ids)
        unpublished = system.sql("intake", "SELECT count(*) FROM outbox "
                                           "WHERE published_at IS NULL")[0][0]
        assert unpublished == 0
    except BaseException:
        if system is not None:
            print_errors(system)
        raise
    finally:
        if system is not None:
            system.stop()
        node.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(rabbit_dir, ignore_errors=True)
