"""Static files of the web client (gateway/web/), served by the gateway itself."""
import mimetypes
import os

from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from . import exceptions as exc

WEB_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web")
_TYPES = {".js": "application/javascript", ".css": "text/css", ".html": "text/html",
          ".svg": "image/svg+xml", ".json": "application/json", ".png": "image/png"}


def asset(name):
    path = safe_join(WEB_ROOT, name)  # None for anything escaping the folder
    if path is None or not os.path.isfile(path):
        raise exc.ROUTE_NOT_FOUND(method="GET", path="/web/" + name)
    ext = os.path.splitext(path)[1]
    mimetype = _TYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    with open(path, "rb") as fh:
        data = fh.read()
    cache = "no-cache" if ext == ".html" else "public, max-age=300"
    return Response(data, mimetype=mimetype, headers={
        "Cache-Control": cache, "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob: http: https:; "
                                   "connect-src 'self'; frame-ancestors 'none'"})
