"""Rate limits on the endpoints an outsider can flood (login, register, ticket create,
comments, uploads, KB search and suggest, webhook tests).

The `limits` library counts hits in a moving window. Storage is `memory://` (one count per
gateway process) unless `RATE_LIMITS.storage` names a Redis URL, in which case every gateway
instance configured with the same URL and prefix shares one count. If Redis cannot be
reached the request is let through and a warning logged (fail open): a cache outage must not
take the API down with it.

Entrypoints call `self.limits.hit(name, key)`; the decision's `RateLimit-*` headers go on the
response whether it is allowed (the caller can pace itself) or refused (429 `rate_limited`
with `Retry-After`).
"""
import ipaddress
import logging
import math
import time

from limits import parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from nameko.extensions import DependencyProvider

from gongdan_common.errors import ErrorSpec

log = logging.getLogger(__name__)

RATE_LIMITED = ErrorSpec(
    "rate_limited", 429,
    "Too many requests ({limit}); try again in {seconds} s.",
    "请求过于频繁（{limit}），请在 {seconds} 秒后重试。")

# name -> (default limit, what is counted); overridden by RATE_LIMITS.<name>
DEFAULT_LIMITS = {
    "login_account": "10/minute",   # per normalised login (an account, known or not)
    "login_client": "30/minute",    # per client address
    "register": "10/hour",          # per client address
    "password_reset_account": "5/hour",   # per login typed: reset mails to one mailbox
    "password_reset_client": "30/hour",   # per client address
    "ticket_create": "30/minute",   # per actor
    "comment": "60/minute",         # per actor
    "upload": "30/minute",          # per actor
    "kb_search": "120/minute",      # per actor: search and suggest
    "webhook_test": "10/minute",    # per actor: webhook pings
}
_ZH_UNITS = {"second": "秒", "minute": "分钟", "hour": "小时", "day": "天"}


class Decision:
    """One limit's answer for one key."""

    def __init__(self, name, item, allowed, remaining, reset_at):
        self.name, self.item, self.allowed = name, item, allowed
        self.remaining, self.reset_at = remaining, reset_at

    def headers(self, now=None):
        now = time.time() if now is None else now
        reset = max(0, math.ceil(self.reset_at - now))
        out = {"RateLimit-Limit": str(self.item.amount),
               "RateLimit-Remaining": str(max(0, self.remaining)),
               "RateLimit-Reset": str(reset)}
        if not self.allowed:
            out["Retry-After"] = str(max(1, reset))
        return out


def _truthy(value):
    return str(value).strip().lower() not in ("0", "false", "no", "off", "")


def parse_networks(value):
    """'10.0.0.0/8, 127.0.0.1' -> [ip_network, ...] (the proxies whose X-Forwarded-For is
    believed)."""
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return [ipaddress.ip_network(part.strip(), strict=False)
            for part in str(value or "").split(",") if part.strip()]


def client_address(remote_addr, forwarded_for, trusted):
    """The address a request came from. X-Forwarded-For is honoured only when the direct peer
    is a trusted proxy; then the right-most address that is not itself a trusted proxy is the
    client (left-most entries are whatever the client chose to send)."""
    addr = remote_addr or "unknown"
    if not trusted or not forwarded_for or not _in(addr, trusted):
        return addr
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _in(hop, trusted):
            return hop if _is_ip(hop) else addr
    return addr


def _is_ip(value):
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


def _in(addr, networks):
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in net for net in networks)


class RateLimits:
    """The limiter of one process: storage, strategy and the configured limits."""

    def __init__(self, config):
        config = config or {}
        self.enabled = _truthy(config.get("enabled", True))
        uri = str(config.get("storage") or "memory://").strip()
        self.prefix = str(config.get("prefix") or "gongdan")
        self.shared = not uri.startswith("memory://")
        if self.shared:
            # short timeouts: a Redis that hangs must not hold every request hostage
            self.storage = storage_from_string(uri, key_prefix=self.prefix, wrap_exceptions=True,
                                               socket_timeout=0.5, socket_connect_timeout=0.5)
        else:
            self.storage = storage_from_string(uri)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.items = {}
        for name, default in DEFAULT_LIMITS.items():
            self.items[name] = parse(str(config.get(name) or default))
        self.trusted = parse_networks(config.get("trusted_proxies"))
        self._last_warning = 0.0

    def hit(self, name, key):
        """Count one request for `key` against limit `name` -> Decision (None when limits are
        off or the storage is unreachable)."""
        if not self.enabled or key is None:
            return None
        item = self.items[name]
        # the key is namespaced by our prefix too, so memory storage in tests and several
        # systems on one Redis never share counts by accident
        ident = (self.prefix, name, str(key))
        try:
            allowed = self.limiter.hit(item, *ident)
            stats = self.limiter.get_window_stats(item, *ident)
        except (StorageError, ConnectionError, OSError, TimeoutError) as err:
            now = time.monotonic()
            if now - self._last_warning > 30:  # once per 30 s, not once per request
                self._last_warning = now
                log.warning("rate limit storage unavailable, letting requests through: %s", err)
            return None
        return Decision(name, item, allowed, stats.remaining, stats.reset_time)

    def ping(self):
        try:
            return bool(self.storage.check())
        except Exception:  # noqa: BLE001 - a health probe reports, it does not fail
            return False


def describe(item, lang):
    unit = item.GRANULARITY.name
    per = f"{item.multiples} {unit}s" if item.multiples > 1 else unit
    if lang == "zh":
        every = f"每 {item.multiples} " if item.multiples > 1 else "每"
        return f"{every}{_ZH_UNITS.get(unit, unit)} {item.amount} 次"
    return f"{item.amount} per {per}"


def refusal(decision, now=None):
    headers = decision.headers(now)
    seconds = headers["Retry-After"]
    err = RATE_LIMITED(details={"limit": decision.name, "retry_after": int(seconds)},
                       limit="{limit}", seconds=seconds)
    # the message names the limit in the caller's language
    err.payload["message"] = {
        "en": err.payload["message"]["en"].format(limit=describe(decision.item, "en")),
        "zh": err.payload["message"]["zh"].format(limit=describe(decision.item, "zh"))}
    return err


class WorkerLimits:
    """What an entrypoint sees: hit a limit for a key; refused -> raises 429. The headers of
    the tightest decision are left on the worker context for the HTTP handler to send."""

    def __init__(self, limits, worker_ctx):
        self.limits, self.worker_ctx = limits, worker_ctx

    def client(self, request):
        return client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                              self.limits.trusted)

    def hit(self, name, key):
        decision = self.limits.hit(name, key)
        if decision is None:
            return
        headers = decision.headers()
        current = getattr(self.worker_ctx, "response_headers", None) or {}
        # several limits on one request (login: account and client): report the tightest
        if not current or int(headers["RateLimit-Remaining"]) <= \
                int(current.get("RateLimit-Remaining", 1 << 30)) or not decision.allowed:
            self.worker_ctx.response_headers = headers
        if not decision.allowed:
            raise refusal(decision)


class RateLimitProvider(DependencyProvider):
    """One limiter per gateway process, built from config `RATE_LIMITS`."""

    def setup(self):
        self.limits = RateLimits(self.container.config.get("RATE_LIMITS") or {})

    def get_dependency(self, worker_ctx):
        return WorkerLimits(self.limits, worker_ctx)
