"""A local stand-in for the WeCom, DingTalk and Feishu robot endpoints. It checks what each
platform checks, written here from the platforms' documents (not with Gongdan's code):

- /wecom/send?key=K: the key must be the robot's; body {"msgtype": "markdown",
  "markdown": {"content": str}};
- /dingtalk/send?access_token=T&timestamp=ms&sign=S: S = urlencode(base64(HMAC-SHA256(
  secret, "<ms>\\n<secret>"))), timestamp within an hour; body {"msgtype": "markdown",
  "markdown": {"title": str, "text": str}};
- /feishu/hook/<id>: body {"timestamp": "<s>", "sign": base64(HMAC-SHA256(key="<s>\\n<secret>",
  msg="")), "msg_type": "text", "content": {"text": str}}.

A bad signature or shape is answered as the platforms do: HTTP 200 with a non-zero code.
`fail[path_prefix]` = how many requests to answer 500 first (-1: always).
"""
import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
import urllib.parse


def _b64_hmac(key, msg):
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


class RobotReceiver(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secrets, self.keys, self.fail = {}, {}, {}
        self.calls, self.lock = [], threading.Lock()

    def base(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def calls_to(self, prefix):
        with self.lock:
            return [c for c in self.calls if c["path"].startswith(prefix)]

    def check(self, path, query, body):
        """(ok, problem) for one request."""
        now = time.time()
        if path.startswith("/wecom/"):
            want = self.keys.get(path)
            if query.get("key") != want:
                return False, "invalid webhook key"
            return (body.get("msgtype") == "markdown"
                    and isinstance(body.get("markdown", {}).get("content"), str)), "shape"
        if path.startswith("/dingtalk/"):
            secret = self.secrets.get(path)
            ts, sign = query.get("timestamp"), query.get("sign")
            if not (secret and ts and sign):
                return False, "unsigned"
            if abs(now * 1000 - int(ts)) > 3600 * 1000:
                return False, "stale"
            # parse_qs already url-decoded `sign` once, as DingTalk's server does
            if not hmac.compare_digest(sign, _b64_hmac(secret.encode(),
                                                       f"{ts}\n{secret}".encode())):
                return False, "sign mismatch"
            md = body.get("markdown") or {}
            return (body.get("msgtype") == "markdown" and isinstance(md.get("title"), str)
                    and isinstance(md.get("text"), str)), "shape"
        if path.startswith("/feishu/"):
            secret = self.secrets.get(path)
            ts, sign = body.get("timestamp"), body.get("sign")
            if not (secret and isinstance(ts, str) and sign):
                return False, "unsigned"
            if abs(now - int(ts)) > 3600:
                return False, "stale"
            if not hmac.compare_digest(sign, _b64_hmac(f"{ts}\n{secret}".encode(), b"")):
                return False, "sign mismatch"
            return (body.get("msg_type") == "text"
                    and isinstance(body.get("content", {}).get("text"), str)), "shape"
        return False, "unknown path"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        srv = self.server
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        ok, problem = srv.check(parts.path, query, body)
        with srv.lock:
            prefix = "/" + parts.path.split("/")[1]
            seen = len([c for c in srv.calls if c["path"] == parts.path])
            fails = srv.fail.get(parts.path, 0)
            status = 500 if fails == -1 or seen < fails else 200
            srv.calls.append({"path": parts.path, "ok": ok, "problem": None if ok else problem,
                              "status": status, "body": body, "prefix": prefix})
        code = 0 if ok else 310000
        answer = {"code": code, "msg": "success" if ok else problem} if prefix == "/feishu" \
            else {"errcode": code, "errmsg": "ok" if ok else problem}
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass
