"""Logs and correlation in one nameko container on the real broker: the request id and
actor from nameko's context data reach the log lines and the envelopes a worker emits; a
refusal is one INFO line without a traceback, a crash one ERROR line with it; and, with an
in-memory span exporter, one trace runs from the caller through the RPC handler, the relay's
publish and an event consumer."""
import json
import logging
import secrets
import types

import pytest
from kombu import Connection, Exchange, Producer
from marshmallow import Schema, fields
from nameko.standalone.rpc import ServiceRpcProxy

from gongdan_common import logs, tracing
from gongdan_common.entrypoints import rpc
from gongdan_common.errors import FORBIDDEN, AppError
from gongdan_common.events import EventSpec
from gongdan_common.batching import batch_event_handler
from gongdan_common.tests.test_batching import _wait
from services.conftest import AMQP_URI


class Payload(Schema):
    n = fields.Integer()


def _service(source):
    spec = EventSpec(source, "thing", 1, Payload, "a test event")
    seen = []

    class Service:
        name = source
        correlation = logs.Correlation()

        @rpc
        def emit(self, actor, ticket_id):
            return spec.envelope({"n": 1}, actor=actor, ticket_id=ticket_id)

        @rpc
        def refuse(self, actor):
            raise FORBIDDEN()

        @rpc
        def crash(self):
            raise RuntimeError("boom")

        @batch_event_handler(source, "thing", batch_size=5, max_wait=0.1)
        def handle(self, envelopes):
            for envelope in envelopes:
                with logs.event_scope(envelope):
                    # what the handler would emit for this event carries its correlation id
                    seen.append(spec.envelope({"n": 2}))

    return Service, seen


@pytest.fixture
def source():
    return "logtest" + secrets.token_hex(4)


def _records(caplog, name):
    return [r for r in caplog.records if r.name == name]


def test_request_id_actor_and_refusals_in_the_log(container_factory, source, caplog):
    caplog.set_level(logging.INFO)
    Service, _ = _service(source)
    container = container_factory(Service, {"AMQP_URI": AMQP_URI})
    container.start()
    actor = {"id": "u-1", "role": "customer"}
    config = {"AMQP_URI": AMQP_URI}
    with ServiceRpcProxy(source, config, context_data={"request_id": "abc-123"}) as proxy:
        envelope = proxy.emit(actor, "t-9")
        with pytest.raises(AppError):
            proxy.refuse(actor)
        with pytest.raises(Exception):
            proxy.crash()
    container.stop()

    assert envelope["correlation_id"] == "abc-123"
    lines = {r.entrypoint.split(".")[-1]: r for r in _records(caplog, "gongdan.worker")}
    assert set(lines) == {"emit", "refuse", "crash"}
    ok, refused, crashed = lines["emit"], lines["refuse"], lines["crash"]
    assert (ok.levelno, ok.outcome, ok.request_id, ok.actor_id, ok.ticket_id) == \
        (logging.INFO, "ok", "abc-123", "u-1", "t-9")
    assert ok.duration_ms >= 0
    assert (refused.levelno, refused.outcome, refused.error_code, refused.exc_info) == \
        (logging.INFO, "refused", "forbidden", None)
    assert crashed.levelno == logging.ERROR and crashed.exc_info is not None
    # nameko's own "(expected) error handling worker" warning (with its traceback) and its
    # second traceback of the crash are gone; nothing else carries a traceback
    assert not [r for r in _records(caplog, "nameko.containers") if r.levelno >= logging.WARNING]
    assert [r for r in caplog.records if r.exc_info] == [crashed]

    line = json.loads(logs.JsonFormatter().format(refused))
    assert line["request_id"] == "abc-123" and line["actor_id"] == "u-1"
    assert line["level"] == "INFO" and line["outcome"] == "refused" and "exc" not in line
    assert line["service"] == source and line["instance"] == logs.INSTANCE
    assert json.loads(logs.JsonFormatter().format(crashed))["exc"].startswith("Traceback")


def _publish(source, envelopes):
    exchange = Exchange(f"{source}.events", type="topic", durable=True)
    with Connection(AMQP_URI) as conn:
        exchange(conn.default_channel).declare()
        producer = Producer(conn.default_channel, exchange=exchange, serializer="json")
        for envelope in envelopes:
            producer.publish(envelope, routing_key="thing", delivery_mode=2)


def test_each_event_of_a_batch_keeps_its_correlation_id(container_factory, source, caplog):
    caplog.set_level(logging.INFO)
    Service, seen = _service(source)
    container = container_factory(Service, {"AMQP_URI": AMQP_URI})
    container.start()
    spec = EventSpec(source, "thing", 1, Payload, "")
    sent = []
    for n in range(4):
        with logs.scope(request_id=f"req-{n}"):
            sent.append(spec.envelope({"n": n}, ticket_id=f"t-{n}"))
    _publish(source, sent)
    assert _wait(lambda: len(seen) == 4)
    container.stop()
    assert sorted(e["correlation_id"] for e in seen) == [f"req-{n}" for n in range(4)]
    handled = [r for r in _records(caplog, "gongdan.worker") if r.kind == "event"]
    assert sorted((r.request_id, r.ticket_id, r.event_id) for r in handled) == \
        sorted((e["correlation_id"], e["ticket_id"], e["event_id"]) for e in sent)


def test_one_trace_from_caller_to_consumer(container_factory, source, caplog):
    caplog.set_level(logging.INFO)
    tracing.configure({}, "test", exporter="memory")
    try:
        Service, seen = _service(source)
        container = container_factory(Service, {"AMQP_URI": AMQP_URI})
        container.start()
        request = types.SimpleNamespace(method="POST", headers={})
        data = {}
        span = tracing.start_server_span(request, "/api/v1/tickets", "r-1", data)
        root = data["traceparent"]
        with tracing.rpc_client_span(data, source, "emit"):
            with ServiceRpcProxy(source, {"AMQP_URI": AMQP_URI},
                                 context_data=dict(data, request_id="r-1")) as proxy:
                envelope = proxy.emit(None, "t-1")
        tracing.end_server_span(span, 201)
        # the relay's publish span, as OutboxRelay does it, then a consumer
        published = dict(envelope, traceparent=tracing.publish_traceparent(envelope, source))
        _publish(source, [published])
        assert _wait(lambda: len(seen) == 1)
        container.stop()
        spans = tracing.MEMORY.get_finished_spans()
    finally:
        tracing.shutdown()
    by_kind = {}
    for span in spans:
        by_kind.setdefault(span.kind.name, []).append(span)
    trace_id = int(root.split("-")[1], 16)
    assert {s.context.trace_id for s in spans} == {trace_id}
    server_http, server_rpc = sorted(by_kind["SERVER"], key=lambda s: s.start_time)
    (client,), (producer,), (consumer,) = by_kind["CLIENT"], by_kind["PRODUCER"], by_kind["CONSUMER"]
    # each span's parent is the one before it: request → client → handler → publish → consumer
    assert client.parent.span_id == server_http.context.span_id
    assert server_rpc.parent.span_id == client.context.span_id
    assert producer.parent.span_id == server_rpc.context.span_id
    assert consumer.parent.span_id == producer.context.span_id
    # what the consumer emitted continues the trace
    assert seen[0]["traceparent"].split("-")[1] == f"{trace_id:032x}"
    # and the log lines of those workers name it
    worker_lines = [r for r in caplog.records if r.name == "gongdan.worker"]
    assert worker_lines and {r.trace_id for r in worker_lines} == {f"{trace_id:032x}"}


def test_spans_reach_an_otlp_endpoint(monkeypatch):
    """The production path: OTLP over HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (a stand-in
    collector here, which decodes what it receives)."""
    import http.server
    import threading

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest)

    received = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                 "TRACING_EXPORTER"):
        monkeypatch.delenv(name, raising=False)
    tracing.shutdown()
    tracing.configure({"TRACING": {"enabled": False, "exporter": "otlp"}}, "intake")
    assert not tracing.enabled()  # off unless configured
    tracing.shutdown()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    try:
        tracing.configure({"TRACING": {"enabled": False, "exporter": "otlp"}}, "intake")
        assert tracing.enabled()  # the endpoint alone turns it on
        data = {}
        span = tracing.start_server_span(types.SimpleNamespace(method="GET", headers={}),
                                         "/api/v1/tickets", "r-otlp", data)
        tracing.end_server_span(span, 200)
        tracing.shutdown()  # flushes the batch
    finally:
        server.shutdown()
    (path, content_type, body), = received
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    request = ExportTraceServiceRequest.FromString(body)
    (resource,) = request.resource_spans
    service = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert service["service.name"] == "intake"
    (scope,) = resource.scope_spans
    (exported,) = scope.spans
    assert exported.name == "GET /api/v1/tickets"
    assert exported.trace_id.hex() == data["traceparent"].split("-")[1]
