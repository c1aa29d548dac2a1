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
import uuid
from functools import partial

import eventlet
from eventlet.event import Event
from nameko.web.handlers import HttpRequestHandler
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

from gongdan_common.errors import AppError
from gongdan_common.i18n import pick_language

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


def json_response(status, body, headers=None):
    payload = "" if body is None else json.dumps(body, ensure_ascii=False)
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
