"""HMAC-SHA256 request signing shared by Gongdan's two directions: notify signs the webhooks
it sends, the gateway checks what IM bridges send in. One scheme, so a bridge author
implements it once: header `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`
(as Stripe does; the timestamp inside the MAC makes a replay past the tolerance useless)."""
import hashlib
import hmac

TOLERANCE_SECONDS = 300


def signature(secret, timestamp, body):
    """HMAC-SHA256 over "<timestamp>.<body>", hex."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def signature_header(secret, timestamp, body):
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def parse_header(header):
    """(timestamp, hex signature) from a signature header, or (None, None) if malformed."""
    try:
        parts = dict(p.strip().split("=", 1) for p in (header or "").split(",") if "=" in p)
        return int(parts["t"]), parts.get("v1") or ""
    except (KeyError, ValueError):
        return None, None


def check(secret, header, body, now_ts, tolerance=TOLERANCE_SECONDS):
    """None when the header signs `body` with `secret` within `tolerance` seconds of now;
    else why not: "malformed", "stale" or "mismatch"."""
    ts, sig = parse_header(header)
    if ts is None:
        return "malformed"
    if abs(now_ts - ts) > tolerance:
        return "stale"
    if not hmac.compare_digest(sig, signature(secret, ts, body)):
        return "mismatch"
    return None


def verify_signature(secret, header, body, now_ts, tolerance=TOLERANCE_SECONDS):
    """What a receiver does (and what the tests do)."""
    return check(secret, header, body, now_ts, tolerance) is None
