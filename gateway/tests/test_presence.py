"""Presence storage: one conformance test for both stores (in-process and Redis, shared by
gateway instances), and who a viewer is shown."""
import time
import uuid

import pytest
import redis

from gateway import presence

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return presence.MemoryPresence()
    redis.Redis.from_url(REDIS, socket_timeout=2).ping()  # fails loudly if Redis is absent
    return presence.RedisPresence(REDIS, prefix="test-" + uuid.uuid4().hex[:8])


def test_marks_expire_clear_and_stay_per_ticket(store):
    store.mark("t1", "u1", {"name": "张三", "internal": False}, 1.2)
    store.mark("t1", "u2", {"name": "Li", "internal": True}, 30)
    store.mark("t2", "u3", {"name": "x", "internal": False}, 30)
    assert [(m["user_id"], m["name"], m["internal"]) for m in store.who("t1")] == \
        [("u1", "张三", False), ("u2", "Li", True)]
    store.clear("t1", "u2")
    assert [m["user_id"] for m in store.who("t1")] == ["u1"]
    time.sleep(1.4)
    assert store.who("t1") == []
    assert [m["user_id"] for m in store.who("t2")] == ["u3"]


def test_two_gateways_share_one_redis():
    redis.Redis.from_url(REDIS, socket_timeout=2).ping()
    prefix = "test-" + uuid.uuid4().hex[:8]
    one, two = presence.RedisPresence(REDIS, prefix), presence.RedisPresence(REDIS, prefix)
    one.mark("t", "u", {"name": "A"}, 10)
    assert [m["name"] for m in two.who("t")] == ["A"]


def test_redis_down_fails_open():
    store = presence.store_from_config({"PRESENCE": {"storage": "redis://127.0.0.1:1/0"}})
    store.mark("t", "u", {"name": "A"}, 10)  # logged, not raised
    assert store.who("t") == []


def test_config_follows_rate_limit_storage_unless_told():
    assert isinstance(presence.store_from_config({}).store, presence.MemoryPresence)
    shared = presence.store_from_config({"RATE_LIMITS": {"storage": REDIS}})
    assert isinstance(shared.store, presence.RedisPresence)
    own = presence.store_from_config({"RATE_LIMITS": {"storage": REDIS},
                                      "PRESENCE": {"storage": "memory://"}})
    assert isinstance(own.store, presence.MemoryPresence)


def test_viewers_never_see_themselves_and_customers_no_internal_notes():
    marks = [{"user_id": "me", "name": "Me", "internal": False},
             {"user_id": "a", "name": "A", "internal": True},
             {"user_id": "b", "name": "B", "internal": False}]
    assert [m["name"] for m in presence.visible_to(True, "me", marks)] == ["A", "B"]
    assert [m["name"] for m in presence.visible_to(False, "me", marks)] == ["B"]
