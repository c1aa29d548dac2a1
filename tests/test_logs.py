"""Logs, request ids and traces of the real processes (`LOG_FORMAT=json`, spans written by
the SDK's exporter to a file): one request's X-Request-ID is in the gateway's request line,
intake's RPC line, the consumers' event lines and the envelope an outside subscriber gets,
and its trace runs from the gateway through intake and the relay to every consumer;
refusals (401/403/404) are one INFO line, no traceback; every response carries the id."""
import json
import os
import secrets
import shutil
import tempfile
import time
import uuid

import pytest
from kombu import Connection, Exchange, Queue

from tests.support.load import customer as approved_customer, product_and_company
from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD, Api, running

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql",
                                                                marks=pytest.mark.postgres)])
def json_system(request):
    spans_dir = tempfile.mkdtemp(prefix="gongdan-spans-")
    spans = os.path.join(spans_dir, "spans.jsonl")
    with running("gongdan-logs-", backend=request.param,
                 env={"LOG_FORMAT": "json", "TRACING_EXPORTER": "file", "TRACING_FILE": spans,
                      "GONGDAN_DB_POOL_SIZE": "4"}) as sys_:
        sys_.spans_path = spans
        yield sys_
    shutil.rmtree(spans_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def admin(json_system):
    return Api(json_system.base_url).login(ADMIN_EMAIL, ADMIN_PASSWORD)


def json_lines(system, name):
    with open(system.log_path(name), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def wait_for(find, seconds=20):
    deadline = time.monotonic() + seconds
    while True:
        found = find()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


class Subscriber:
    """An outside system's own queue on intake.events."""

    def __init__(self, amqp_uri):
        self.conn = Connection(amqp_uri.replace("pyamqp://", "amqp://"))
        self.queue = Queue("logs-" + uuid.uuid4().hex[:8],
                           exchange=Exchange("intake.events", type="topic", durable=True),
                           routing_key="ticket_created", durable=True, auto_delete=True)
        self.queue(self.conn.channel()).declare()
        self.got = []

    def drain_until(self, cond, seconds=20):
        deadline = time.monotonic() + seconds
        with self.conn.Consumer(self.queue, callbacks=[self._on], accept=["json"]):
            while time.monotonic() < deadline and not cond(self.got):
                try:
                    self.conn.drain_events(timeout=0.5)
                except (TimeoutError, OSError):
                    pass
        return self.got

    def _on(self, body, message):
        self.got.append((body, dict(message.headers or {})))
        message.ack()

    def close(self):
        self.conn.release()


def test_one_request_id_through_gateway_intake_events_and_consumers(json_system, admin):
    subscriber = Subscriber(json_system.amqp_uri)
    try:
        code, company = product_and_company(admin, "LOG", "日志")
        request_id = "abc-" + secrets.token_hex(6)
        r = admin.post("/tickets", {
            "title": "日志关联", "type": "defect", "product": code, "category": "function",
            "description": "follow one request", "contact_phone": "13800138000",
            "impact": "department", "urgency": "high", "company_id": company["id"]},
            headers={"X-Request-ID": request_id})
        assert r.status_code == 201, r.text
        assert r.headers["X-Request-ID"] == request_id
        ticket = r.json()

        got = subscriber.drain_until(
            lambda got: any(b["ticket_id"] == ticket["id"] for b, _ in got))
    finally:
        subscriber.close()
    (envelope, headers), = [(b, h) for b, h in got if b["ticket_id"] == ticket["id"]]
    assert envelope["correlation_id"] == request_id
    assert headers.get("nameko.request_id") == request_id

    (line,) = [x for x in json_lines(json_system, "gateway")
               if x["logger"] == "gongdan.request" and x["request_id"] == request_id]
    assert (line["level"], line["method"], line["route"], line["status"]) == \
        ("INFO", "POST", "/api/v1/tickets", 201)
    assert line["actor_id"] == admin.user["id"] and line["duration_ms"] > 0
    assert line["service"] == "gateway" and line["instance"].endswith(
        "-" + str(json_system.procs["gateway"].pid))

    (rpc,) = [x for x in json_lines(json_system, "intake")
              if x.get("entrypoint") == "intake.create_ticket" and x["request_id"] == request_id]
    assert (rpc["level"], rpc["outcome"], rpc["actor_id"], rpc["ticket_id"]) == \
        ("INFO", "ok", admin.user["id"], ticket["id"])

    # consumers of ticket_created (dispatch one by one, sla in batches) log it with the
    # request id they took from the envelope, and the event's own ids
    for service in ("dispatch", "sla"):
        handled = wait_for(lambda: [
            x for x in json_lines(json_system, service)
            if x.get("kind") == "event" and x.get("event_id") == envelope["event_id"]])
        assert handled, service
        assert all(x["request_id"] == request_id and x["ticket_id"] == ticket["id"]
                   and x["outcome"] == "ok" for x in handled), handled

    # the trace: gateway request → RPC client → intake handler → relay publish → consumers
    def trace():
        spans = [json.loads(s) for s in open(json_system.spans_path, encoding="utf-8")]
        roots = [s for s in spans if s["attributes"].get("gongdan.request_id") == request_id]
        if not roots:
            return None
        mine = [s for s in spans if s["context"]["trace_id"] == roots[0]["context"]["trace_id"]]
        kinds = {(s["resource"]["attributes"]["service.name"], s["kind"]) for s in mine}
        if {("dispatch", "SpanKind.CONSUMER"), ("sla", "SpanKind.CONSUMER")} <= kinds:
            return mine
        return None

    spans = wait_for(trace)
    assert spans, "no complete trace"
    # the log lines name the trace
    assert line["trace_id"] == rpc["trace_id"] == spans[0]["context"]["trace_id"][2:]
    by_id = {s["context"]["span_id"]: s for s in spans}
    chain = {(s["resource"]["attributes"]["service.name"], s["kind"]) for s in spans}
    assert {("gateway", "SpanKind.SERVER"), ("gateway", "SpanKind.CLIENT"),
            ("intake", "SpanKind.SERVER"), ("intake", "SpanKind.PRODUCER")} <= chain
    consumer = next(s for s in spans if s["resource"]["attributes"]["service.name"] == "dispatch"
                    and s["kind"] == "SpanKind.CONSUMER")
    path = []
    span = consumer
    while span is not None:
        path.append((span["resource"]["attributes"]["service.name"], span["kind"]))
        span = by_id.get(span["parent_id"])
    assert path == [("dispatch", "SpanKind.CONSUMER"), ("intake", "SpanKind.PRODUCER"),
                    ("intake", "SpanKind.SERVER"), ("gateway", "SpanKind.CLIENT"),
                    ("gateway", "SpanKind.SERVER")]


def test_refusals_are_one_info_line_without_traceback(json_system, admin):
    anonymous = Api(json_system.base_url)
    ids = {}
    ids["route"] = "nf-" + secrets.token_hex(4)
    r = anonymous.get("/no/such/endpoint", headers={"X-Request-ID": ids["route"]})
    assert r.status_code == 404 and r.headers["X-Request-ID"] == ids["route"]
    ids["anon"] = "anon-" + secrets.token_hex(4)
    r = anonymous.get("/tickets", headers={"X-Request-ID": ids["anon"]})
    assert r.status_code == 401 and r.headers["X-Request-ID"] == ids["anon"]
    # a 404 intake decides (the ticket does not exist): refused in intake too
    ids["ticket"] = "tk-" + secrets.token_hex(4)
    r = admin.get(f"/tickets/{uuid.uuid4()}", headers={"X-Request-ID": ids["ticket"]})
    assert r.status_code == 404 and r.headers["X-Request-ID"] == ids["ticket"]
    assert r.json()["error"]["code"]
    # an insane id is replaced by a fresh one, still returned
    r = anonymous.get("/tickets", headers={"X-Request-ID": "bad id\u00e9" + "x" * 200})
    assert r.status_code == 401
    assert r.headers["X-Request-ID"] and " " not in r.headers["X-Request-ID"]
    assert len(r.headers["X-Request-ID"]) <= 128
    # a 403: a customer asking for the admin's user list
    customer, _product = approved_customer(json_system, "LOG", "日志")
    ids["forbidden"] = "fb-" + secrets.token_hex(4)
    r = customer.get("/admin/users", headers={"X-Request-ID": ids["forbidden"]})
    assert r.status_code == 403 and r.headers["X-Request-ID"] == ids["forbidden"]

    gateway = json_lines(json_system, "gateway")
    for name, request_id in ids.items():
        mine = [x for x in gateway if x["request_id"] == request_id]
        assert len(mine) == 1, (name, mine)
        assert mine[0]["level"] == "INFO" and "exc" not in mine[0], mine
        assert mine[0]["logger"] == "gongdan.request"
    assert not [x for x in gateway if "exc" in x or "(expected)" in x["message"]]

    intake = json_lines(json_system, "intake")
    (refused,) = [x for x in intake if x["request_id"] == ids["ticket"]]
    assert (refused["level"], refused["outcome"], refused["status"]) == ("INFO", "refused", 404)
    assert not [x for x in intake if "exc" in x or "(expected)" in x["message"]]
