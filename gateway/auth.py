"""Passwords, tokens and the protection of identity data.

Argon2id hashing is deliberately slow (tens of ms of CPU), so it runs in eventlet's
native thread pool: the hub keeps serving other requests meanwhile.
"""
import datetime as dt
import hashlib
import secrets
import time
import uuid
import weakref

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from eventlet.event import Event

from . import exceptions as exc

_hasher = PasswordHasher()  # argon2id, library defaults (t=3, m=64 MiB, p=4)
SERVICE_TOKEN_PREFIX = "gds_"


def hash_password(password):
    return tpool.execute(_hasher.hash, password)


def verify_password(password_hash, password):
    try:
        return tpool.execute(_hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A real hash to verify against when the account does not exist, so that an unknown
# login takes as long as a wrong password (no account enumeration by timing).
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def burn_time(password):
    verify_password(_DUMMY_HASH, password)


def sha256(value):
    return hashlib.sha256(value.encode()).hexdigest()


def new_refresh_token():
    return secrets.token_urlsafe(32)


def new_service_token():
    return SERVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


class TokenCodec:
    def __init__(self, secret_key, access_ttl):
        if len(secret_key) < 32:
            raise ValueError("GATEWAY.secret_key must be at least 32 characters")
        self.secret_key = secret_key
        self.access_ttl = int(access_ttl)

    def issue_access(self, user_id, session_id, now):
        claims = {"sub": user_id, "sid": session_id, "typ": "access", "jti": str(uuid.uuid4()),
                  "iat": int(now.timestamp()), "exp": int(now.timestamp()) + self.access_ttl}
        return jwt.encode(claims, self.secret_key, algorithm="HS256")

    def decode_access(self, token):
        try:
            claims = jwt.decode(token, self.secret_key, algorithms=["HS256"],
                                options={"require": ["sub", "sid", "exp", "typ"]})
        except jwt.ExpiredSignatureError:
            raise exc.TOKEN_EXPIRED() from None
        except jwt.PyJWTError:
            raise exc.TOKEN_INVALID() from None
        if claims.get("typ") != "access":
            raise exc.TOKEN_INVALID()
        return claims


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


# ---- the verified actor, cached per process for a few seconds -------------------------------

_CACHES = weakref.WeakSet()


class ActorCache:
    """Actors that `handlers.authenticate` verified against the database, kept for `ttl`
    seconds so a burst of requests with one token costs one look-up, not one each.

    The bound on revocation: this process forgets the entries a change concerns at once
    (`forget`, called by logout, password change, user and company administration, service
    token revocation), so through the gateway that made the change a revoked session or a
    disabled account stops working immediately; another gateway replica (or a change made in
    the database by hand) keeps accepting it for at most `ttl` seconds. `ttl` 0 turns the
    cache off. An access token's own expiry is still checked on every request (the token is
    decoded before the cache is asked)."""

    def __init__(self, ttl, max_entries=10000, clock=time.monotonic):
        self.ttl = float(ttl)
        self.max_entries = max_entries
        self.clock = clock
        self._entries = {}     # key -> (expires, actor)
        self._looking = {}     # key -> Event of the look-up under way
        self.generation = 0    # bumped by every forget: a look-up older than that is not kept
        _CACHES.add(self)

    def fetch(self, key, look_up):
        """The cached actor, or `look_up()`'s. Requests that miss while a look-up of the same
        key is under way wait for it instead of each asking the database: when an entry
        expires under load, every request in flight with that token missed at once (half
        the creates of a loaded bench run made a look-up). A waiter takes the answer only
        if nothing was forgotten since that look-up began (else the waiters ask again,
        together); a refusal or an error is not shared (each asks for itself)."""
        actor = self.get(key)
        if actor is not None:
            return actor
        under_way = self._looking.get(key) if self.ttl > 0 else None
        if under_way is not None:
            generation, answer = under_way.wait()
            if answer is None:  # refused or failed: ask for ourselves
                return look_up()
            if generation != self.generation:  # forgotten meanwhile: ask again, together
                return self.fetch(key, look_up)
            return _copy(answer)
        done = Event()
        self._looking[key] = done
        generation, answer = self.generation, None
        try:
            answer = look_up()
        finally:
            if self._looking.get(key) is done:
                del self._looking[key]
            done.send((generation, None if answer is None else _copy(answer)))
        self.put(key, answer, generation)
        return answer

    def get(self, key):
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            self._entries.pop(key, None)
            return None
        return _copy(entry[1])

    def put(self, key, actor, generation):
        """Keep `actor` unless something was forgotten since `generation` was read (the
        look-up may have read what that change revoked)."""
        if self.ttl <= 0 or generation != self.generation:
            return
        if len(self._entries) >= self.max_entries:
            now = self.clock()
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
        self._entries[key] = (self.clock() + self.ttl, _copy(actor))

    def forget(self, user_id=None, everything=False):
        self.generation += 1
        if everything or user_id is None:
            self._entries.clear()
            return
        self._entries = {k: v for k, v in self._entries.items() if v[1].get("id") != user_id}


def _copy(actor):
    return {k: list(v) if isinstance(v, list) else v for k, v in actor.items()}


def forget_actors(user_id=None, everything=False):
    """A change to accounts, sessions, companies or service tokens: every actor cache of this
    process drops what it concerns (the user's entries, or all)."""
    for cache in list(_CACHES):
        cache.forget(user_id=user_id, everything=everything)
