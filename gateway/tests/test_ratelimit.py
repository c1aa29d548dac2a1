"""Rate limits without a broker: the limiter over memory and over the real Redis at
127.0.0.1:6379 (what `./gongdan test` starts), headers, client addresses, fail-open."""
import types
import uuid

import pytest
import redis

from gateway import ratelimit
from gongdan_common.errors import AppError

REDIS = "redis://127.0.0.1:6379/0"


def limits(**over):
    cfg = {"prefix": "gdtest-" + uuid.uuid4().hex[:8], "login_client": "3/minute",
           "ticket_create": "2/minute"}
    cfg.update(over)
    return ratelimit.RateLimits(cfg)


def worker(lim):
    ctx = types.SimpleNamespace()
    return ratelimit.WorkerLimits(lim, ctx), ctx


@pytest.fixture(params=["memory://", REDIS])
def storage(request):
    if request.param == REDIS:
        redis.Redis.from_url(REDIS, socket_timeout=2).ping()  # fails loudly if Redis is absent
    return request.param


def test_limit_allows_then_refuses_with_headers(storage):
    w, ctx = worker(limits(storage=storage))
    for remaining in (2, 1, 0):
        w.hit("login_client", "10.0.0.1")
        assert ctx.response_headers["RateLimit-Limit"] == "3"
        assert ctx.response_headers["RateLimit-Remaining"] == str(remaining)
    with pytest.raises(AppError) as refused:
        w.hit("login_client", "10.0.0.1")
    err = refused.value
    assert err.status == 429 and err.code == "rate_limited"
    headers = ctx.response_headers
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert 0 < int(headers["RateLimit-Reset"]) <= 60 and headers["RateLimit-Remaining"] == "0"
    assert "3 per minute" in err.message("en") and "每分钟 3 次" in err.message("zh")
    # another key has its own count (a new request: a new worker context)
    w2, ctx2 = worker(w.limits)
    w2.hit("login_client", "10.0.0.2")
    assert ctx2.response_headers["RateLimit-Remaining"] == "2"


def test_two_limiters_on_one_redis_share_the_count():
    prefix = "gdtest-" + uuid.uuid4().hex[:8]
    a, _ = worker(limits(storage=REDIS, prefix=prefix))
    b, ctx_b = worker(limits(storage=REDIS, prefix=prefix))
    a.hit("ticket_create", "user-1")
    b.hit("ticket_create", "user-1")
    with pytest.raises(AppError):
        a.hit("ticket_create", "user-1")
    # memory storage is per process: a second limiter starts from zero
    m1, _ = worker(limits(prefix=prefix))
    m2, _ = worker(limits(prefix=prefix))
    m1.hit("ticket_create", "user-1")
    m1.hit("ticket_create", "user-1")
    m2.hit("ticket_create", "user-1")


def test_redis_down_fails_open(caplog):
    w, ctx = worker(limits(storage="redis://127.0.0.1:1/0"))
    for _ in range(10):  # far over 3/minute: still let through
        w.hit("login_client", "10.0.0.1")
    assert not hasattr(ctx, "response_headers")
    assert "letting requests through" in caplog.text
    assert caplog.text.count("letting requests through") == 1  # not once per request


def test_disabled_limits_count_nothing():
    w, ctx = worker(limits(enabled="false"))
    for _ in range(10):
        w.hit("login_client", "10.0.0.1")
    assert not hasattr(ctx, "response_headers")


def test_tightest_limit_is_reported():
    w, ctx = worker(limits(login_account="5/minute"))
    w.hit("login_client", "10.0.0.1")   # 3/minute -> 2 left
    w.hit("login_account", "13900000001")  # 5/minute -> 4 left
    assert ctx.response_headers["RateLimit-Limit"] == "3"
    assert ctx.response_headers["RateLimit-Remaining"] == "2"


def test_client_address_trusts_forwarded_for_only_from_trusted_proxies():
    trusted = ratelimit.parse_networks("10.0.0.0/8, 127.0.0.1")
    # a direct client cannot pick its own address by sending the header
    assert ratelimit.client_address("203.0.113.9", "1.2.3.4", trusted) == "203.0.113.9"
    assert ratelimit.client_address("203.0.113.9", "1.2.3.4", []) == "203.0.113.9"
    # behind our proxies: the right-most address that is not one of them
    assert ratelimit.client_address("127.0.0.1", "1.2.3.4, 198.51.100.7, 10.1.1.1",
                                    trusted) == "198.51.100.7"
    assert ratelimit.client_address("127.0.0.1", "garbage", trusted) == "127.0.0.1"
    assert ratelimit.client_address("127.0.0.1", None, trusted) == "127.0.0.1"


def test_worker_takes_the_client_from_the_request():
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    def request(peer, forwarded):
        env = EnvironBuilder(headers={"X-Forwarded-For": forwarded}).get_environ()
        env["REMOTE_ADDR"] = peer
        return Request(env)

    trusting, _ = worker(limits(trusted_proxies="127.0.0.1"))
    plain, _ = worker(limits())
    assert trusting.client(request("127.0.0.1", "198.51.100.4")) == "198.51.100.4"
    assert trusting.client(request("203.0.113.5", "198.51.100.4")) == "203.0.113.5"
    assert plain.client(request("127.0.0.1", "198.51.100.4")) == "127.0.0.1"
