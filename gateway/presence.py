"""Who is replying to a ticket right now ("张三 正在回复…"), shared by the gateway's processes.

A browser whose user types in a ticket's reply box pings (POST .../presence) every few
seconds; each ping holds a mark for TTL seconds. The ticket page's presence stream reads the
marks of its ticket about once a second. Storage follows the rate limits' choice
(gateway/ratelimit.py): in this process (`memory://`) unless `PRESENCE.storage` — or, when
that is empty, `RATE_LIMITS.storage` — names a Redis URL, which every gateway instance then
shares. Presence is a courtesy: if Redis cannot be reached, pings are dropped and nobody is
shown (logged), the API keeps working.
"""
import json
import logging
import threading
import time
from typing import Protocol

from nameko.extensions import DependencyProvider

log = logging.getLogger(__name__)
TTL_SECONDS = 8


class PresenceStore(Protocol):
    def mark(self, ticket_id: str, user_id: str, info: dict, ttl: float) -> None: ...
    def clear(self, ticket_id: str, user_id: str) -> None: ...
    def who(self, ticket_id: str) -> list: ...


class MemoryPresence:
    """ticket id -> user id -> (expires at, info), in this process."""

    def __init__(self, clock=time.monotonic):
        self.clock, self.marks, self.lock = clock, {}, threading.Lock()

    def mark(self, ticket_id, user_id, info, ttl):
        with self.lock:
            self.marks.setdefault(ticket_id, {})[user_id] = (self.clock() + ttl, dict(info))

    def clear(self, ticket_id, user_id):
        with self.lock:
            self.marks.get(ticket_id, {}).pop(user_id, None)

    def who(self, ticket_id):
        now = self.clock()
        with self.lock:
            marks = self.marks.get(ticket_id) or {}
            for uid in [u for u, (until, _) in marks.items() if until <= now]:
                del marks[uid]
            if not marks:
                self.marks.pop(ticket_id, None)
            return [dict(info, user_id=uid) for uid, (_, info) in sorted(marks.items())]


class RedisPresence:
    """One hash per ticket (user id -> {info, until}), expiring with its last mark."""

    def __init__(self, url, prefix="gongdan", client=None):
        import redis
        self.redis = client or redis.Redis.from_url(url, socket_timeout=1,
                                                    socket_connect_timeout=1)
        self.prefix = prefix

    def _key(self, ticket_id):
        return f"{self.prefix}:presence:{ticket_id}"

    def mark(self, ticket_id, user_id, info, ttl):
        value = json.dumps(dict(info, until=time.time() + ttl), ensure_ascii=False)
        pipe = self.redis.pipeline()
        pipe.hset(self._key(ticket_id), user_id, value)
        pipe.expire(self._key(ticket_id), int(ttl) + 1)
        pipe.execute()

    def clear(self, ticket_id, user_id):
        self.redis.hdel(self._key(ticket_id), user_id)

    def who(self, ticket_id):
        now, out = time.time(), []
        for uid, raw in sorted(self.redis.hgetall(self._key(ticket_id)).items()):
            info = json.loads(raw)
            if info.pop("until", 0) > now:
                out.append(dict(info, user_id=uid.decode() if isinstance(uid, bytes) else uid))
        return out


class FailOpen:
    """Any store, with its failures logged and swallowed."""

    def __init__(self, store):
        self.store = store

    def __getattr__(self, name):
        method = getattr(self.store, name)

        def safe(*args):
            try:
                return method(*args)
            except Exception as err:  # noqa: BLE001 - a courtesy feature never fails a request
                log.warning("presence storage unavailable: %s", err)
                return [] if name == "who" else None
        return safe


def store_from_config(config):
    presence = config.get("PRESENCE") or {}
    limits = config.get("RATE_LIMITS") or {}
    uri = str(presence.get("storage") or limits.get("storage") or "memory://").strip()
    prefix = str(presence.get("prefix") or limits.get("prefix") or "gongdan")
    if uri.startswith(("redis://", "rediss://")):
        return FailOpen(RedisPresence(uri, prefix))
    return FailOpen(MemoryPresence())


def visible_to(viewer_sees_internal, viewer_id, marks):
    """The marks a viewer is shown: not their own, and internal-note typing only to staff."""
    return [{"user_id": m["user_id"], "name": m.get("name"), "internal": bool(m.get("internal"))}
            for m in marks if m["user_id"] != viewer_id
            and (viewer_sees_internal or not m.get("internal"))]


class PresenceProvider(DependencyProvider):
    """One presence store per gateway process."""

    def setup(self):
        self.store = store_from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.store
