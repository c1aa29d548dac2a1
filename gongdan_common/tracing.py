"""OpenTelemetry tracing: off unless configured.

On when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set, or config
`TRACING.enabled` is true; spans then go to the OTLP/HTTP exporter (which reads the standard
`OTEL_EXPORTER_OTLP_*` variables itself). `TRACING_EXPORTER=file` with `TRACING_FILE=path`
appends every finished span as one JSON line to that file instead (the SDK's console
exporter, used by the tests against the real processes); `memory` keeps them in this
process (in-process tests).

One ticket creation makes one trace: the gateway's request span (SERVER) → its RPC client
span → intake's handler span (SERVER) → the outbox relay's publish span (PRODUCER) → each
consumer's handler span (CONSUMER). Spans are started with explicit parents, never as the
"current" span: the context crosses greenthreads and processes as a W3C `traceparent`
string — in nameko's worker context data (so in the headers of RPCs nameko sends) and in
the event envelope (`traceparent`, rewritten by the relay to its publish span).
"""
import contextlib
import logging
import os

log = logging.getLogger(__name__)

_tracer = None       # None: tracing is off, every function here returns at once
_configured = False
MEMORY = None        # the InMemorySpanExporter when TRACING_EXPORTER=memory
_provider = None


def enabled():
    return _tracer is not None


def _truthy(value):
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def configure(config, service_name, exporter=None):
    """Once per process. `exporter` forces one (tests)."""
    global _tracer, _configured, MEMORY, _provider
    if _configured and exporter is None:
        return
    _configured = True
    cfg = (config or {}).get("TRACING") or {}
    kind = (exporter or os.environ.get("TRACING_EXPORTER") or cfg.get("exporter") or "otlp")
    kind = str(kind).strip().lower()
    endpoint = (os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
    if not (exporter or _truthy(cfg.get("enabled", False)) or endpoint
            or kind in ("file", "memory")):
        _tracer = None
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    from .logs import INSTANCE
    provider = TracerProvider(resource=Resource.create({
        "service.name": service_name, "service.namespace": "gongdan",
        "service.instance.id": INSTANCE}))
    if kind == "memory":
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        MEMORY = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(MEMORY))
    elif kind == "file":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter
        path = os.environ.get("TRACING_FILE") or cfg.get("file") or "var/spans.jsonl"
        # one write per span on an O_APPEND file: lines of several processes never mix
        out = open(path, "a", buffering=1 << 20)
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(
            out=out, formatter=lambda span: span.to_json(indent=None) + "\n")))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    _provider = provider
    _tracer = provider.get_tracer("gongdan")
    log.info("tracing on (%s exporter)", kind)


def shutdown():
    """Flush and stop (tests; the SDK flushes at process exit by itself)."""
    global _tracer, _configured, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer, _provider, _configured = None, None, False


# ---- traceparent strings ----------------------------------------------------------------

def _parent(traceparent):
    if not traceparent:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    return TraceContextTextMapPropagator().extract({"traceparent": traceparent})


def traceparent_of(span):
    ctx = span.get_span_context()
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def _start(name, kind, parent, attributes=None):
    from opentelemetry.trace import SpanKind
    return _tracer.start_span(name, context=_parent(parent), kind=getattr(SpanKind, kind),
                              attributes=attributes or {})


def _finish(span, error=None, outcome=None):
    from opentelemetry.trace import Status, StatusCode
    if outcome:
        span.set_attribute("gongdan.outcome", outcome)
    if error is not None and outcome != "refused":
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.end()


# ---- the spans ----------------------------------------------------------------------------

def start_server_span(request, route, request_id, context):
    """The gateway's request span (continuing an incoming `traceparent` header); its
    traceparent goes into the worker's `context` data. None when tracing is off."""
    if _tracer is None:
        return None
    span = _start(f"{request.method} {route}", "SERVER", request.headers.get("traceparent"), {
        "http.request.method": request.method, "http.route": route,
        "gongdan.request_id": request_id or ""})
    context["traceparent"] = traceparent_of(span)
    return span


def end_server_span(span, status):
    if span is not None:
        span.set_attribute("http.response.status_code", status)
        _finish(span, outcome="error" if status >= 500 else None)


@contextlib.contextmanager
def rpc_client_span(data, service, method):
    """Around one RPC the gateway sends: a CLIENT span, child of the worker's traceparent
    (`data` = the worker's nameko context data), whose traceparent the call carries."""
    if _tracer is None or data is None:
        yield
        return
    parent = data.get("traceparent")
    span = _start(f"rpc {service}.{method}", "CLIENT", parent,
                  {"rpc.system": "nameko", "rpc.service": service, "rpc.method": method})
    data["traceparent"] = traceparent_of(span)
    error = None
    try:
        yield
    except BaseException as err:
        error = err
        raise
    finally:
        if parent:
            data["traceparent"] = parent
        else:
            data.pop("traceparent", None)
        from .errors import AppError
        _finish(span, error, "refused" if isinstance(error, AppError) else
                ("error" if error is not None else "ok"))


def worker_spans(kind, name, data, envelopes):
    """Spans for one nameko worker: a SERVER span for an RPC / timer (child of the caller's
    traceparent in the context data), a CONSUMER span per event (child of the envelope's
    traceparent). Returns [(span, traceparent, event_id)]; the first one's traceparent
    becomes the worker's."""
    if _tracer is None or kind == "http":  # the gateway's request span covers HTTP
        return []
    if kind == "event":
        return [(span, traceparent_of(span), str(e.get("event_id")))
                for e in envelopes for span in [_start(
                    f"handle {e.get('source', '?')}.{e.get('type', '?')} by {name}",
                    "CONSUMER", e.get("traceparent"),
                    {"messaging.system": "rabbitmq", "gongdan.event_id": str(e.get("event_id")),
                     "gongdan.handler": name})]]
    span = _start(f"rpc {name}" if kind == "rpc" else name, "SERVER",
                  data.get("traceparent"), {"rpc.system": "nameko", "gongdan.entrypoint": name})
    return [(span, traceparent_of(span), None)]


def end_worker_spans(spans, error, outcome):
    for span, _, _ in spans or ():
        _finish(span, error, outcome)


def publish_traceparent(envelope, service_name):
    """The relay's PRODUCER span for one outbox row (child of the emitting worker's span);
    returns the traceparent its consumers take as parent, or None when tracing is off."""
    if _tracer is None:
        return None
    span = _start(f"publish {service_name}.{envelope.get('type')}", "PRODUCER",
                  envelope.get("traceparent"),
                  {"messaging.system": "rabbitmq",
                   "messaging.destination.name": f"{service_name}.events",
                   "gongdan.event_id": str(envelope.get("event_id"))})
    traceparent = traceparent_of(span)
    span.end()
    return traceparent
