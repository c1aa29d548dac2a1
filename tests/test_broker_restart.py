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

from tests.support.load import check_nothing_lost, fault_system, start_load
from tests.support.rabbit import RabbitNode

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(420)]


def test_broker_restart_under_load():
    rabbit_dir = tempfile.mkdtemp(prefix="gongdan-rabbit-")  # (its nodes run as `rabbitmq`)
    node = RabbitNode.create(rabbit_dir)
    try:
        node.start()
        with fault_system("gongdan-broker-restart-", backend="sqlite", amqp_uri=node.amqp_uri,
                          env={"AMQP_HEARTBEAT": "5", "GATEWAY_RPC_TIMEOUT": "10"}) as system:
            load = start_load(system, first=40)
            before = load.count()

            node.stop()
            time.sleep(5)                       # down for a while, under load
            node.start()
            back = time.monotonic()
            system.wait_ready(timeout=30)       # every service answers health again
            healed = time.monotonic() - back

            load.wait_count(load.count() + 40, 60)  # creating tickets again
            load.stop()
            print(f"\nbroker restart: {before} tickets before, {load.count()} in all; services "
                  f"healthy {healed:.1f}s after the broker was back; statuses "
                  f"{dict(load.statuses)}")
            check_nothing_lost(system, load)
    finally:
        node.destroy()
        shutil.rmtree(rabbit_dir, ignore_errors=True)
