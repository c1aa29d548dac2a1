"""The gateway's HTTP entrypoint: JSON in and out, one error shape, CORS, size limits.

`@api(method, path, **doc)` is Nameko's `http` entrypoint plus:
- every error becomes `{error: {code, message, details}}` in the caller's language
  (Accept-Language zh or en), with the status the error carries; unknown failures are a
  logged 500 with a reference, never a stack trace;
- CORS headers for the configured web and mobile origins;
- the documentation metadata the OpenAPI document is generated from (`ROUTES`).
"""
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

from gongdan_common import logs, tracing
from gongdan_common.errors import AppError
from gongdan_common.i18n import pick_language

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


def json_response(status, body, headers=None):
    payload = "" if body is None else json.dumps(body, ensure_ascii=False)
    return Response(payload, status=status, headers=headers,
                    mimetype="application/json" if body is not None else None)


class ApiHandler(HttpRequestHandler):
    def __init__(self, method, url, upload=False, doc=None, **kwargs):
        super().__init__(method, url, expected_exceptions=(AppError,), **kwargs)
        self.upload = upload
        if doc is not None and not any(r[:2] == (method, url) for r in ROUTES):
            ROUTES.append((method, url, doc))  # once: nameko re-instantiates on bind

    def setup(self):
        super().setup()
        gw = self.container.config.get("GATEWAY") or {}
        self.max_json = int(gw.get("max_json_bytes", 1024 * 1024))
        self.max_upload = int(gw.get("max_upload_bytes", 100 * 1024 * 1024))
        origins = str(gw.get("cors_origins", "*"))
        self.cors_origins = [o.strip() for o in origins.split(",") if o.strip()]

    def handle_request(self, request):
        request.shallow = False
        lang = request_language(request)
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
            event = Event()
            self.container.spawn_worker(self, args, kwargs, context_data=context,
                                        handle_result=partial(self.handle_result, event))
            result = event.wait()
            response = self.response_from_result(result)
        except Exception as error:  # noqa: BLE001 - every failure gets the one error shape
            response = self.error_response(error, lang, request_id)
        tracing.end_server_span(span, response.status_code)
        response.headers["X-Request-ID"] = request_id
        self.add_cors(request, response)
        self.log_request(request, response, context, kwargs, started)
        return response

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
        response.headers["Access-Control-Expose-Headers"] = \
            "Content-Disposition, Retry-After, X-Request-ID"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = \
                "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = \
                "Authorization, Content-Type, Accept-Language, Idempotency-Key, X-Request-ID"
            response.headers["Access-Control-Max-Age"] = "600"


api = ApiHandler.decorator


def json_body(request, required=True):
    """The request's JSON object, or the right 4xx."""
    raw = request.get_data(cache=False)
    if not raw.strip():
        if required:
            raise exc.NOT_JSON_OBJECT()
        return {}
    if request.mimetype not in ("application/json", ""):
        raise exc.UNSUPPORTED_MEDIA()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise exc.BAD_JSON(problem=str(err)[:120]) from None
    if not isinstance(body, dict):
        raise exc.NOT_JSON_OBJECT()
    return body


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
