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

from tests.support.load import (Load, check_tickets, customer, event_effects,
                                print_errors, wait_until)
from tests.support.rabbit import failover_uri, start_cluster
from tests.support.system import System

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.cluster,
              pytest.mark.timeout(600)]

TOTAL = 1000


def test_one_node_of_three_stops_during_1000_creations():
    workdir = tempfile.mkdtemp(prefix="gongdan-cluster-")
    rabbit_dir = tempfile.mkdtemp(prefix="gongdan-rabbit-")
    nodes, system = [], None
    try:
        nodes = start_cluster(rabbit_dir, 3)
        system = System(workdir, backend="sqlite", amqp_uri=failover_uri(nodes),
                        env={"AMQP_QUEUE_TYPE": "quorum", "AMQP_HEARTBEAT": "5",
                             "GATEWAY_RPC_TIMEOUT": "10"})
        system.start()
        types = nodes[1].ctl("list_queues", "name", "type")
        assert "rpc-intake\tquorum" in types and \
            "evt-intake-ticket_created--sla.on_ticket_created\tquorum" in types, types

        api, product = customer(system)
        started = time.monotonic()
        load = Load(api, product, threads=6, total=TOTAL).start()
        load.wait_count(TOTAL // 3, 120)
        stopped_at = load.count()
        nodes[0].stop()
        load.join()
        took = time.monotonic() - started
        print(f"\ncluster failover: node 1 stopped after {stopped_at} tickets; {load.count()} "
              f"created in {took:.0f}s; statuses {dict(load.statuses)}")

        exited = {n: p.returncode for n, p in system.procs.items() if p.poll() is not None}
        assert exited == {}, f"processes exited: {exited}"
        assert load.bad == [], load.bad[:5]
        assert load.gave_up == []
        assert load.count() == TOTAL

        missing, duplicated, unknown = check_tickets(system, load)
        assert (missing, duplicated, unknown) == ([], [], [])
        ids = set(load.created.values())
        effects = wait_until(lambda: (lambda e: e if e["sla"] == e["dispatch"] == TOTAL
                                      else None)(event_effects(system, ids)), 120)
        assert effects, f"events not handled: {event_effects(system, ids)} of {TOTAL}"
        assert effects["outbox_rows"] == TOTAL
    except BaseException:
        if system is not None:
            print_errors(system)
        raise
    finally:
        if system is not None:
            system.stop()
        for node in nodes:
            node.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(rabbit_dir, ignore_errors=True)
