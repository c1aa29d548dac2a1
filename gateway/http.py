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
import uuid
from functools import partial

import eventlet
from eventlet.event import Event
from nameko.web.handlers import HttpRequestHandler
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

from gongdan_common.errors import AppError
from gongdan_common.i18n import pick_language
from gongdan_common.validation import TOO_DEEP, check_value, refuse, too_deep

from . import exceptions as exc

log = logging.getLogger(__name__)

ROUTES = []  # (method, path, doc) for the OpenAPI document
RPC_TIMEOUT = float(os.environ.get("GATEWAY_RPC_TIMEOUT", "30"))


def call(service, method, *args):
    """An RPC with a deadline: Nameko 2.14's proxy would otherwise wait forever."""
    with eventlet.Timeout(RPC_TIMEOUT, exc.SERVICE_UNAVAILABLE(service=service.service_name)):
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
            self.container.spawn_worker(self, args, kwargs, context_data={"language": lang},
                                        handle_result=partial(self.handle_result, event))
            result = event.wait()
            response = self.response_from_result(result)
        except Exception as error:  # noqa: BLE001 - every failure gets the one error shape
            response = self.error_response(error, lang)
        self.add_cors(request, response)
        return response

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, body = result if isinstance(result, tuple) else (200, result)
        return json_response(status, body)

    def error_response(self, error, lang):
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
                                                                 error.__traceback__))
            error = exc.INTERNAL(ref=ref)
        headers = {"Retry-After": "5"} if error.status == 503 else None
        return json_response(error.status, error.render(lang), headers)

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
        response.headers["Access-Control-Expose-Headers"] = "Content-Disposition, Retry-After"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = \
                "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = \
                "Authorization, Content-Type, Accept-Language, Idempotency-Key"
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
