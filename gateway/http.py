"""The gateway's HTTP entrypoint: JSON in and out, one error shape, CORS, size limits.

`@api(method, path, **doc)` is Nameko's `http` entrypoint plus:
- every error becomes `{error: {code, message, details}}` in the caller's language
  (Accept-Language zh or en), with the status the error carries; unknown failures are a
  logged 500 with a reference, never a stack trace;
- CORS headers for the configured web and mobile origins;
- the documentation metadata the OpenAPI document is generated from (`ROUTES`).
"""
import datetime as dt
import json
import logging
import os
import time
import uuid
from functools import partial

import eventlet
from eventlet.event import Event
from nameko.web.handlers import HttpRequestHandler
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

from gongdan_common import logs, metrics, tracing
from gongdan_common.errors import AppError, unavailable_error
from gongdan_common.i18n import pick_language
from gongdan_common.validation import TOO_DEEP, check_value, refuse, too_deep

from . import exceptions as exc

log = logging.getLogger(__name__)
request_log = logging.getLogger("gongdan.request")
QUIET_ROUTES = {"/healthz", "/livez", "/readyz", "/metrics"}

ROUTES = []  # (method, path, doc) for the OpenAPI document
RPC_TIMEOUT = float(os.environ.get("GATEWAY_RPC_TIMEOUT", "30"))


def call(service, method, *args):
    """An RPC with a deadline: Nameko 2.14's proxy would otherwise wait forever."""
    with eventlet.Timeout(RPC_TIMEOUT, exc.SERVICE_UNAVAILABLE(service=service.service_name)), \
            tracing.rpc_client_span(getattr(getattr(service, "worker_ctx", None), "data", None),
                                    service.service_name, method):
        return getattr(service, method)(*args)


def human_size(n):
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def request_language(request):
    return request.args.get("lang") if request.args.get("lang") in ("zh", "en") else \
        pick_language(request.headers.get("Accept-Language"))


def _json_default(value):
    """A datetime a service returned undumped (kombu's JSON carries datetimes across RPC as
    tagged objects) is written as the API writes them, not turned into a 500."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_response(status, body, headers=None):
    payload = "" if body is None else json.dumps(body, ensure_ascii=False,
                                                 default=_json_default)
    return Response(payload, status=status, headers=headers,
                    mimetype="application/json" if body is not None else None)


class ApiHandler(HttpRequestHandler):
    def __init__(self, method, url, upload=False, doc=None, **kwargs):
        super().__init__(method, url, expected_exceptions=(AppError,), **kwargs)
        self.upload = upload

    @classmethod
    def decorator(cls, method, url, **kwargs):
        """Also records the route for the OpenAPI document, with the handler's name (its
        operationId); here, not in __init__, because only the decorator sees the function."""
        register = super().decorator(method, url, **kwargs)

        def named(fn):
            doc = kwargs.get("doc")
            if doc is not None and not any(r[:2] == (method, url) for r in ROUTES):
                ROUTES.append((method, url, dict(doc, handler=fn.__name__)))
            return register(fn)
        return named

    def setup(self):
        super().setup()
        gw = self.container.config.get("GATEWAY") or {}
        self.max_json = int(gw.get("max_json_bytes", 1024 * 1024))
        self.max_upload = int(gw.get("max_upload_bytes", 100 * 1024 * 1024))
        origins = str(gw.get("cors_origins", "*"))
        self.cors_origins = [o.strip() for o in origins.split(",") if o.strip()]
        self.security_headers = security_headers(self.container.config.get("HTTP_SECURITY"))

    def handle_request(self, request):
        started = time.perf_counter()
        response = self._handle_request(request)
        # the route template (self.url), never the raw path: bounded label values
        metrics.observe_http(self.url, request.method, response.status_code,
                             time.perf_counter() - started)
        return response

    def _handle_request(self, request):
        request.shallow = False
        lang = request_language(request)
        extra = {}
        started = time.perf_counter()
        # the request id: the caller's if sane, else ours; in nameko's context data it goes
        # with every RPC, and into the envelope of every event this request causes
        request_id = logs.sane_request_id(request.headers.get("X-Request-ID")) \
            or uuid.uuid4().hex
        context, kwargs = {"language": lang, "request_id": request_id}, {}
        span = tracing.start_server_span(request, self.url, request_id, context)
        try:
            limit = self.max_upload + 64 * 1024 if self.upload else self.max_json
            request.max_content_length = limit
            if request.content_length is not None and request.content_length > limit:
                raise (exc.FILE_TOO_LARGE(limit=human_size(self.max_upload)) if self.upload
                       else exc.BODY_TOO_LARGE(limit=human_size(limit)))
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            check_url(request, kwargs)
            event = Event()
            self.container.spawn_worker(self, args, kwargs, context_data=context,
                                        handle_result=partial(self._done, event, extra))
            result = event.wait()
            response = self.response_from_result(result)
        except Exception as error:  # noqa: BLE001 - every failure gets the one error shape
            response = self.error_response(error, lang, request_id)
        # headers the worker left (RateLimit-*, Retry-After on a 429), then the fixed ones
        response.headers.update(extra)
        response.headers.update(self.security_headers)
        tracing.end_server_span(span, response.status_code)
        response.headers["X-Request-ID"] = request_id
        self.add_cors(request, response)
        self.log_request(request, response, context, kwargs, started)
        return response

    def _done(self, event, extra, worker_ctx, result, exc_info):
        # not context_data: nameko would send that along with every RPC the worker makes
        extra.update(getattr(worker_ctx, "response_headers", None) or {})
        return self.handle_result(event, worker_ctx, result, exc_info)

    def log_request(self, request, response, context, kwargs, started):
        """The one line per request (`gongdan.request`): method, route template, status,
        duration, request id, actor (bound by the worker into `context`)."""
        status = response.status_code
        duration = round((time.perf_counter() - started) * 1000, 2)
        extra = {"method": request.method, "route": self.url, "path": request.path,
                 "status": status, "duration_ms": duration,
                 "request_id": context["request_id"], "actor_id": context.get("actor_id"),
                 "ticket_id": kwargs.get("ticket_id") if isinstance(kwargs, dict) else None}
        if context.get("traceparent"):
            extra["trace_id"] = context["traceparent"][3:35]
        code = getattr(response, "error_code", None)
        if code:
            extra["error_code"] = code
        level = logging.WARNING if status >= 500 else logging.INFO
        if status < 400 and self.url in QUIET_ROUTES:
            level = logging.DEBUG  # probes and scrapes every few seconds: not worth a line
        request_log.log(level,
                        "%s %s %s %sms", request.method, request.path, status, duration,
                        extra=extra)

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, body = result if isinstance(result, tuple) else (200, result)
        return json_response(status, body)

    def error_response(self, error, lang, request_id=None):
        if isinstance(error, RequestEntityTooLarge):
            error = exc.FILE_TOO_LARGE(limit=human_size(self.max_upload)) if self.upload \
                else exc.BODY_TOO_LARGE(limit=human_size(self.max_json))
        if isinstance(error, HTTPException) and not isinstance(error, AppError):
            error = AppError({"code": "bad_request", "status": error.code or 400,
                              "message": {"en": error.description or "Bad request.",
                                          "zh": "请求无效。"}})
        if not isinstance(error, AppError) and unavailable_error(error) is not None:
            log.warning("temporarily unavailable (503): %r", error)
            error = unavailable_error(error)
        if not isinstance(error, AppError):
            ref = uuid.uuid4().hex[:12]
            log.error("unhandled error (ref %s)", ref, exc_info=(type(error), error,
                                                                 error.__traceback__),
                      extra={"ref": ref, "request_id": request_id})
            error = exc.INTERNAL(ref=ref)
        headers = {"Retry-After": "5"} if error.status == 503 else None
        response = json_response(error.status, error.render(lang), headers)
        response.error_code = error.code  # for the request's log line
        return response

    def add_cors(self, request, response):
        origin = request.headers.get("Origin")
        if not origin:
            return
        if "*" in self.cors_origins:
            response.headers["Access-Control-Allow-Origin"] = "*"
        elif origin in self.cors_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        else:
            return
        response.headers["Access-Control-Expose-Headers"] = (
            "Content-Disposition, Retry-After, RateLimit-Limit, RateLimit-Remaining, "
            "RateLimit-Reset, X-Request-ID")
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = \
                "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = \
                "Authorization, Content-Type, Accept-Language, Idempotency-Key, X-Request-ID"
            response.headers["Access-Control-Max-Age"] = "600"


api = ApiHandler.decorator


def security_headers(config):
    """Sent on every response, API and web client alike: no MIME sniffing (an uploaded text
    file is never run as a script), a referrer policy, and HSTS when TLS is configured
    (HTTP_SECURITY.hsts_seconds > 0; only behind HTTPS, browsers ignore it over HTTP)."""
    config = config or {}
    out = {"X-Content-Type-Options": "nosniff",
           "Referrer-Policy": str(config.get("referrer_policy")
                                  or "strict-origin-when-cross-origin")}
    hsts = int(config.get("hsts_seconds") or 0)
    if hsts > 0:
        out["Strict-Transport-Security"] = f"max-age={hsts}; includeSubDomains"
    return out


def json_body(request, required=True):
    """The request's JSON object, or the right 4xx."""
    raw = request.get_data(cache=False)
    if not raw.strip():
        if required:
            raise exc.NOT_JSON_OBJECT()
        return {}
    if request.mimetype not in ("application/json", ""):
        raise exc.UNSUPPORTED_MEDIA()
    if too_deep(raw):  # before parsing: the parser recurses once per level
        refuse({"_schema": [TOO_DEEP]})
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise exc.BAD_JSON(problem=str(err)[:120]) from None
    if not isinstance(body, dict):
        raise exc.NOT_JSON_OBJECT()
    errors = check_value(body)  # the input rule, whatever schema (if any) loads it next
    if errors:
        refuse(errors)
    return body


def check_url(request, path_values):
    """The input rule for the query string and path parameters of every route, before any
    handler sees them (werkzeug decodes %00 to NUL; PostgreSQL refuses it)."""
    values = {key: value for key, value in path_values.items() if isinstance(value, str)}
    for key, items in request.args.lists():
        values[key] = items if len(items) > 1 else items[0]
    errors = check_value(values)
    if errors:
        refuse(errors)


def query_dict(request, list_fields=()):
    """Query string -> dict; list fields accept repeats and commas (status=new,assigned)."""
    out = {}
    for key in request.args:
        if key == "lang":  # response language, not a filter
            continue
        values = request.args.getlist(key)
        if key in list_fields:
            out[key] = [v for value in values for v in value.split(",") if v]
        else:
            out[key] = values[-1]
    return out
