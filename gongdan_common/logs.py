"""Logs every process writes, and the request context that follows a request around.

Format: `LOG_FORMAT=text` (default, what `./gongdan up` shows) or `json` (one object per
line, for a log pipeline). Both are `logging` formatters named in config/gongdan.yaml's
LOGGING (which `nameko run --config` hands to `logging.config.dictConfig`); `ContextFilter`
on the handler adds the current request's ids to every record, whichever logger wrote it.

Context: a worker's context lives in nameko's worker context data (`request_id`,
`actor_id`, `traceparent`), so nameko carries it in the headers of every RPC and event the
worker sends. `Correlation`, a dependency provider every service declares, copies it into a
contextvar for the worker's greenthread (log records and outbox envelopes read it there) and
writes the one line per RPC / event handled. An event taken from the outbox carries its
worker's request id as the envelope's `correlation_id`; its consumers take that as theirs.

Refusals (AppError: the caller's mistake) are one INFO line without a traceback; nameko's
own "(expected) error handling worker" warning with traceback is dropped (`QuietNameko`).
Unexpected failures are one ERROR line with the traceback.
"""
import contextlib
import contextvars
import datetime as dt
import inspect
import json
import logging
import os
import re
import socket
import time
import uuid

from nameko.extensions import DependencyProvider

from . import tracing
from .errors import AppError

SERVICE = os.environ.get("GONGDAN_SERVICE_NAME") or "-"
INSTANCE = f"{socket.gethostname()}-{os.getpid()}"
CONTEXT_FIELDS = ("request_id", "event_id", "actor_id", "ticket_id")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")

# the current worker's (or request's) context: a dict of CONTEXT_FIELDS and `traceparent`
_context = contextvars.ContextVar("gongdan_log_context", default=None)

log = logging.getLogger("gongdan.worker")


def sane_request_id(value):
    """An incoming X-Request-ID is kept only if it is short and plain (it goes into logs
    and headers as is)."""
    return value if value and _REQUEST_ID.match(value) else None


def current():
    """The current context dict (empty outside a worker)."""
    return _context.get() or {}


def bind(**fields):
    """Add fields (actor_id, ticket_id, ...) to the current worker's context: to its log
    lines, and, through nameko's context data, to the RPCs and events it sends next."""
    ctx = _context.get()
    if ctx is None:
        return
    for key, value in fields.items():
        if value is not None:
            ctx[key] = value
            data = ctx.get("_worker_data")
            if data is not None and key in ("request_id", "actor_id", "traceparent"):
                data[key] = value


@contextlib.contextmanager
def scope(**fields):
    """A temporary context (one event of a batch, say): restored on leaving."""
    parent = _context.get() or {}
    ctx = {k: v for k, v in parent.items() if k != "_worker_data"}
    ctx.update({k: v for k, v in fields.items() if v is not None})
    token = _context.set(ctx)
    try:
        yield ctx
    finally:
        _context.reset(token)


@contextlib.contextmanager
def event_scope(envelope):
    """The context of one event of a batch (`batching.handle_each`): its correlation id,
    ids and span, so what the handler logs and emits carries that event's, not the batch's."""
    event_id = str(envelope.get("event_id"))
    traceparent = next((tp for _, tp, eid in current().get("_spans") or () if eid == event_id),
                       None)
    with scope(request_id=envelope.get("correlation_id"), event_id=event_id,
               ticket_id=envelope.get("ticket_id"), actor_id=_actor_id(envelope.get("actor")),
               traceparent=traceparent):
        yield


def envelope_fields():
    """What an event emitted now carries from its worker: `correlation_id`, `traceparent`."""
    ctx = _context.get() or {}
    return {"correlation_id": ctx.get("request_id"), "traceparent": ctx.get("traceparent")}


# ---- logging configuration --------------------------------------------------------------


class ContextFilter(logging.Filter):
    """Adds service, instance and the current context's ids to every record."""

    def filter(self, record):
        ctx = _context.get() or {}
        # the worker's own service: one process may run several (`nameko run a b`, tests)
        record.service = ctx.get("_service") or SERVICE
        record.instance = INSTANCE
        for key in CONTEXT_FIELDS:
            if getattr(record, key, None) is None:
                setattr(record, key, ctx.get(key))
        traceparent = ctx.get("traceparent")
        if traceparent and getattr(record, "trace_id", None) is None:
            record.trace_id = traceparent[3:35]  # 00-<trace id>-<span id>-<flags>
        return True


class QuietNameko(logging.Filter):
    """Drops nameko's own worker-failure lines where `Correlation` writes the one line:
    '(expected) error handling worker' (a refusal, logged by nameko at WARNING with a
    traceback) and 'error handling worker' (logged again, with more context, by Correlation
    or, for HTTP, by the gateway with the reference shown to the user)."""

    def filter(self, record):
        return not (record.name == "nameko.containers" and isinstance(record.msg, str)
                    and (record.msg.startswith("(expected) error handling worker")
                         or record.msg.startswith("error handling worker")))


_EXTRA_SKIP = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "service", "instance", *CONTEXT_FIELDS, "duration_ms"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, service, instance, logger, message, the
    context ids, duration_ms, and any `extra=` fields (entrypoint, outcome, status, ref...);
    `exc` holds the traceback when there is one."""

    def format(self, record):
        out = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "service": getattr(record, "service", SERVICE),
            "instance": getattr(record, "instance", INSTANCE),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            out[key] = getattr(record, key, None)
        out["duration_ms"] = getattr(record, "duration_ms", None)
        for key, value in vars(record).items():
            if key not in _EXTRA_SKIP and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The readable default: `time LEVEL logger: message [req=...]`."""

    def __init__(self, fmt=None, datefmt=None, style="%", **kw):
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt,
                         style, **kw)

    def format(self, record):
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id:
            first, nl, rest = text.partition("\n")
            text = f"{first} [req={request_id}]{nl}{rest}"
        return text


def formatter(name=None):
    """The formatter LOG_FORMAT names (`text` unless `json`)."""
    name = (name or os.environ.get("LOG_FORMAT") or "text").strip().lower()
    return JsonFormatter() if name == "json" else TextFormatter()


def install(service_name=None):
    """Make this process's logging carry context, whatever configured it: name the
    service, add ContextFilter to every root handler, quiet nameko's duplicate error lines.
    Idempotent (every container of the process calls it)."""
    global SERVICE
    if service_name and SERVICE == "-":
        SERVICE = service_name
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
    containers = logging.getLogger("nameko.containers")
    if not any(isinstance(f, QuietNameko) for f in containers.filters):
        containers.addFilter(QuietNameko())


# ---- the per-worker provider ------------------------------------------------------------

_SIGNATURES = {}


def _call_args(worker_ctx):
    """The entrypoint's arguments by name (cached signature per method)."""
    method = getattr(type(worker_ctx.service), worker_ctx.entrypoint.method_name, None)
    sig = _SIGNATURES.get(method)
    if sig is None and method is not None:
        sig = _SIGNATURES[method] = inspect.signature(method)
    try:
        return sig.bind_partial(None, *worker_ctx.args, **worker_ctx.kwargs).arguments
    except (TypeError, AttributeError):
        return {}


def _actor_id(actor):
    return str(actor["id"]) if isinstance(actor, dict) and actor.get("id") else None


def _kind(entrypoint):
    """rpc | event | http | other, by nameko entrypoint class."""
    from nameko.events import EventHandler
    from nameko.rpc import Rpc
    from nameko.web.handlers import HttpRequestHandler
    if isinstance(entrypoint, Rpc):
        return "rpc"
    if isinstance(entrypoint, EventHandler):
        return "event"
    if isinstance(entrypoint, HttpRequestHandler):
        return "http"
    return "other"


class Correlation(DependencyProvider):
    """Declared once in every service (`correlation = Correlation()`).

    worker_setup: the worker's context (request_id from nameko's context data or the
    event's `correlation_id`, actor, ticket, event ids) becomes the greenthread's log
    context, and a span is opened when tracing is on. worker_result: one line per RPC or
    event handled (entrypoint, outcome ok|refused|error, duration_ms, ids); HTTP entrypoints
    are logged by the gateway's request line instead, other entrypoints (timers) only when
    they fail."""

    def setup(self):
        install(self.container.service_name)
        tracing.configure(self.container.config, self.container.service_name)

    def get_dependency(self, worker_ctx):
        return None  # nothing for the service to call: bind() works on the context

    def worker_setup(self, worker_ctx):
        entrypoint = worker_ctx.entrypoint
        kind = _kind(entrypoint)
        data = worker_ctx.data  # nameko's context data: sent along with RPCs and events
        name = f"{self.container.service_name}.{entrypoint.method_name}"
        ctx = {"_worker_data": data, "_kind": kind, "_entrypoint": name,
               "_service": self.container.service_name,
               "_start": time.perf_counter()}
        envelopes = []
        if kind == "event":
            body = worker_ctx.args[0] if worker_ctx.args else None
            envelopes = body if isinstance(body, list) else [body]
            envelopes = [e for e in envelopes if isinstance(e, dict)]
            first = envelopes[0] if envelopes else {}
            ctx.update(request_id=first.get("correlation_id"), event_id=first.get("event_id"),
                       ticket_id=first.get("ticket_id"), actor_id=_actor_id(first.get("actor")))
            if len(envelopes) > 1:  # a batch: one line per event, ids only in those
                ctx.update(event_id=None, ticket_id=None, actor_id=None)
        elif kind in ("rpc", "other"):
            args = _call_args(worker_ctx)
            ctx.update(actor_id=_actor_id(args.get("actor")),
                       ticket_id=args.get("ticket_id") if isinstance(args.get("ticket_id"), str)
                       else None)
        # a worker nothing correlated (a timer, an event without one) starts its own id, so
        # what it causes can still be followed
        ctx["request_id"] = ctx.get("request_id") or data.get("request_id") or uuid.uuid4().hex
        ctx["actor_id"] = ctx.get("actor_id") or data.get("actor_id")
        if "request_id" not in data:
            data["request_id"] = ctx["request_id"]
        ctx["_spans"] = tracing.worker_spans(kind, name, data, envelopes)
        if ctx["_spans"]:
            ctx["traceparent"] = data["traceparent"] = ctx["_spans"][0][1]
        else:
            ctx["traceparent"] = data.get("traceparent")
        ctx["_envelopes"] = envelopes
        worker_ctx._gongdan_token = _context.set(ctx)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        ctx = _context.get() or {}
        try:
            duration = round((time.perf_counter() - ctx.get("_start", time.perf_counter()))
                             * 1000, 2)
            error = exc_info[1] if exc_info else None
            outcome = "ok" if error is None else \
                "refused" if isinstance(error, AppError) and error.status < 500 else "error"
            tracing.end_worker_spans(ctx.get("_spans"), error, outcome)
            kind = ctx.get("_kind")
            if kind == "http" or (kind == "other" and outcome == "ok"):
                return
            name = ctx.get("_entrypoint")
            extra = {"entrypoint": name, "kind": kind, "outcome": outcome,
                     "duration_ms": duration}
            if outcome == "refused":
                extra.update(error_code=error.code, status=error.status)
            envelopes = ctx.get("_envelopes") or []
            if kind == "event" and len(envelopes) > 1:
                extra["batch_size"] = len(envelopes)
                traces = {eid: tp[3:35] for _, tp, eid in ctx.get("_spans") or ()}
                for envelope in envelopes:
                    self._line(name, outcome, error, exc_info, dict(
                        extra, request_id=envelope.get("correlation_id"),
                        event_id=envelope.get("event_id"), ticket_id=envelope.get("ticket_id"),
                        actor_id=_actor_id(envelope.get("actor")),
                        event_type=envelope.get("type"),
                        trace_id=traces.get(str(envelope.get("event_id")))))
                    exc_info = None  # the traceback once per batch
                return
            if kind == "event" and envelopes:
                extra["event_type"] = envelopes[0].get("type")
            self._line(name, outcome, error, exc_info, extra)
        finally:
            token = getattr(worker_ctx, "_gongdan_token", None)
            if token is not None:
                _context.reset(token)
                worker_ctx._gongdan_token = None

    @staticmethod
    def _line(name, outcome, error, exc_info, extra):
        if outcome == "ok":
            # health probes every few seconds would drown the log: DEBUG
            level = logging.DEBUG if name.endswith(".health") else logging.INFO
            log.log(level, "%s ok in %sms", name, extra["duration_ms"], extra=extra)
        elif outcome == "refused":
            log.info("%s refused in %sms: %s", name, extra["duration_ms"], error, extra=extra)
        else:
            log.error("%s failed: %r", name, error, exc_info=exc_info, extra=extra)
