"""Events as an outside internal system sees them: its own durable queue bound to
`intake.events`, the one envelope, and exactly-once delivery across a crash between
commit and publish (transactional outbox + idempotent create)."""
import os
import threading
import time
import uuid

import pytest
from kombu import Connection, Exchange, Queue

from gongdan_common.events import EnvelopeSchema
from tests.support.system import Api

pytestmark = pytest.mark.integration


class OutsideConsumer:
    """What a CRM or BI system does: declare its own durable queue and bind it."""

    def __init__(self, amqp_uri, routing_key="#"):
        self.conn = Connection(amqp_uri.replace("pyamqp://", "amqp://"))
        exchange = Exchange("intake.events", type="topic", durable=True)
        self.queue = Queue("crm-" + uuid.uuid4().hex[:8], exchange=exchange,
                           routing_key=routing_key, durable=True, auto_delete=False)
        self.queue(self.conn.channel()).declare()
        self.received = []

    def drain(self, until=lambda got: False, seconds=10):
        deadline = time.monotonic() + seconds
        with self.conn.Consumer(self.queue, callbacks=[self._on_message], accept=["json"]):
            while time.monotonic() < deadline and not until(self.received):
                try:
                    self.conn.drain_events(timeout=0.5)
                except TimeoutError:
                    pass
                except OSError:
                    pass
        return self.received

    def _on_message(self, body, message):
        assert message.properties.get("delivery_mode") == 2  # persistent
        self.received.append(body)
        message.ack()

    def close(self):
        self.queue(self.conn.channel()).delete()
        self.conn.release()


@pytest.fixture
def consumer(system):
    c = OutsideConsumer(system.amqp_uri)
    yield c
    c.close()


def of_ticket(events, ticket_id):
    return [e for e in events if e["ticket_id"] == ticket_id]


def test_outside_subscriber_receives_every_intake_event(system, consumer, make_user,
                                                        new_ticket):
    customer = make_user()
    agent = make_user("agent")
    t = new_ticket(customer)
    customer.patch(f"/tickets/{t['id']}", {"title": "改个标题"})
    agent.post(f"/tickets/{t['id']}/comments", {"body": "内部分析", "internal": True})
    agent.post(f"/tickets/{t['id']}/request-info", {"reason": "需要日志"})
    r = customer.post(f"/tickets/{t['id']}/attachments",
                      files={"file": ("log.txt", "错误日志\n".encode())})
    assert r.status_code == 201
    wanted = {"ticket_created", "ticket_updated", "ticket_commented", "ticket_status_changed",
              "attachment_added"}
    got = consumer.drain(lambda ev: wanted <= {e["type"] for e in of_ticket(ev, t["id"])})
    mine = of_ticket(got, t["id"])
    assert {e["type"] for e in mine} == wanted
    for envelope in mine:
        loaded = EnvelopeSchema().load(envelope)  # the documented envelope, strictly
        assert loaded["source"] == "intake" and loaded["version"] == 1
        assert envelope["ticket_number"] == t["number"]
        assert envelope["occurred_at"].endswith("Z")
    created = next(e for e in mine if e["type"] == "ticket_created")
    assert created["actor"]["id"] == customer.user["id"]
    assert created["data"]["ticket"]["priority"] == t["priority"]
    note = next(e for e in mine if e["type"] == "ticket_commented")
    assert note["data"]["internal"] is True  # subscribers can keep notes from customers
    assert len({e["event_id"] for e in mine}) == len(mine)


def test_a_crash_between_commit_and_publish_still_delivers_once(system, consumer, make_user,
                                                                product):
    customer = make_user()
    system.stop_service("intake")
    faulty = system.start_service("intake", GONGDAN_FAULT_CRASH_AFTER_COMMIT="1")
    system.wait_service("intake")
    title = "崩溃测试 " + uuid.uuid4().hex[:6]
    result = {}

    def submit():
        result["response"] = customer.post("/tickets", {
            "title": title, "type": "defect", "product": product, "category": "function",
            "description": "提交后服务崩溃", "contact_phone": "13800138000"})

    worker = threading.Thread(target=submit)
    worker.start()
    try:
        faulty.wait(timeout=30)  # dies right after the commit, before publishing
        assert faulty.returncode == 137
        rows = system.sql("intake", "SELECT id FROM tickets WHERE title = %s", title)
        assert len(rows) == 1  # the state change is committed ...
        ticket_id = rows[0][0]
        pending = system.sql("intake", "SELECT count(*) FROM outbox WHERE published_at IS NULL "
                                       "AND CAST(payload AS TEXT) LIKE %s", f"%{ticket_id}%")
        assert pending[0][0] >= 1  # ... and its event waits in the outbox
    finally:
        system.procs.pop("intake", None)
        system.start_service("intake")
    worker.join(timeout=60)
    r = result["response"]
    # the gateway's request was redelivered to the restarted intake, which returned the
    # ticket it had already committed instead of creating a second one
    assert r.status_code == 201, r.text
    assert r.json()["id"] == ticket_id
    got = consumer.drain(lambda ev: any(e["ticket_id"] == ticket_id for e in ev), seconds=20)
    consumer.drain(seconds=2)  # anything duplicated would arrive now
    created = [e for e in of_ticket(got, ticket_id) if e["type"] == "ticket_created"]
    assert len(created) == 1
    assert system.sql("intake", "SELECT count(*) FROM tickets WHERE title = %s", title)[0][0] == 1
    assert system.sql("intake", "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0] == 0


def test_events_survive_a_broker_side_backlog(system, make_user, new_ticket):
    """Queues are durable: a subscriber that was offline gets what happened meanwhile."""
    consumer = OutsideConsumer(system.amqp_uri, routing_key="ticket_created")
    try:
        customer = make_user()
        tickets = [new_ticket(customer, title=f"离线期间 {i}")["id"] for i in range(5)]
        time.sleep(1.5)  # the subscriber is not reading; messages wait in its queue
        got = consumer.drain(lambda ev: set(tickets) <= {e["ticket_id"] for e in ev})
        assert set(tickets) <= {e["ticket_id"] for e in got}
        assert {e["type"] for e in got} == {"ticket_created"}
    finally:
        consumer.close()


def test_two_intake_instances_publish_each_event_once(system, consumer, make_user, new_ticket):
    """Scaled out: both instances serve RPCs and both relays poll the same outbox."""
    system.start_service("intake", label="intake-2")
    try:
        time.sleep(3)  # let the second instance join the RPC queue
        customers = [make_user() for _ in range(3)]
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
            ids = set(pool.map(lambda i: new_ticket(customers[i % 3], title=f"扩容 {i}")["id"],
                               range(30)))
        got = consumer.drain(lambda ev: ids <= {e["ticket_id"] for e in ev
                                               if e["type"] == "ticket_created"}, seconds=30)
        consumer.drain(seconds=2)
        created = [e["ticket_id"] for e in consumer.received if e["type"] == "ticket_created"
                   and e["ticket_id"] in ids]
        assert sorted(created) == sorted(ids)  # every event, none twice
        assert got
    finally:
        system.stop_service("intake-2")
