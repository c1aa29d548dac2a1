"""High availability of the bus: a 3-node RabbitMQ cluster of the test's own on loopback
(three node names, ports and data dirs), every durable queue a quorum queue
(AMQP_QUEUE_TYPE=quorum), every process given all three nodes (`;`-separated AMQP_URI:
kombu fails over in turn). One node - the first, the one every process connected to and
where the quorum queues' leaders were elected - is stopped in the middle of 1,000 ticket
creations.

Expected: no service exits; every one of the 1,000 tickets exists once and its
ticket_created event reached sla and dispatch.
"""
import shutil
import tempfile
import time

import pytest

from tests.support.load import check_nothing_lost, fault_system, start_load
from tests.support.rabbit import failover_uri, start_cluster

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.cluster,
              pytest.mark.timeout(600)]

TOTAL = 1000


def test_one_node_of_three_stops_during_1000_creations():
    rabbit_dir = tempfile.mkdtemp(prefix="gongdan-rabbit-")
    nodes = []
    try:
        nodes = start_cluster(rabbit_dir, 3)
        with fault_system("gongdan-cluster-", backend="sqlite", amqp_uri=failover_uri(nodes),
                          env={"AMQP_QUEUE_TYPE": "quorum", "AMQP_HEARTBEAT": "5",
                               "GATEWAY_RPC_TIMEOUT": "10"}) as system:
            types = nodes[1].ctl("list_queues", "name", "type")
            assert "rpc-intake\tquorum" in types and \
                "evt-intake-ticket_created--sla.on_ticket_created\tquorum" in types, types

            started = time.monotonic()
            load = start_load(system, threads=6, total=TOTAL)
            load.wait_count(TOTAL // 3, 120)
            stopped_at = load.count()
            nodes[0].stop()
            load.join()
            took = time.monotonic() - started
            print(f"\ncluster failover: node 1 stopped after {stopped_at} tickets; "
                  f"{load.count()} created in {took:.0f}s; statuses {dict(load.statuses)}")
            assert load.count() == TOTAL
            check_nothing_lost(system, load, events_within=120)
    finally:
        for node in nodes:
            node.destroy()
        shutil.rmtree(rabbit_dir, ignore_errors=True)
