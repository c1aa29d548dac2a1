"""Tickets opened through an IM bridge against the same tickets opened on the portal API.

    .venv/bin/python -m bench.im_inbound [--backend sqlite|postgresql] [--concurrency 1,8]
                                        [--duration 10] [--warmup 2]

See docs/performance.md. One run starts the whole system (tests/support/system.py), makes
a product, an IM bridge, and per client one customer bound to one IM user; then, at each
concurrency (closed loop: N Python threads, each with its own keep-alive connection):

1. portal  POST /api/v1/tickets as the customer (the baseline: the path every channel ends in);
2. im      POST /api/v1/channels/<channel>/messages, signed, from the bound IM user: the
           signature check, the message claim (idempotency), the binding look-up, the same
           intake create as the user, and the answer recorded.

It prints requests/s and p50/p99 latency side by side with the ratio im/portal. It reports,
it does not assert.
"""
import argparse
import json
import threading
import time

import requests

from bench.support import log, pct
from gongdan_common import signing
from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD, Api, running

TICKET = {"title": "打印机卡纸", "type": "consult", "category": "consultation",
          "description": "型号 HP-1020，换了硒鼓也不行", "contact_phone": "13800138000"}


def setup(system, clients):
    admin = Api(system.base_url).login(ADMIN_EMAIL, ADMIN_PASSWORD)
    product = "BENCH-IM"
    admin.post("/admin/products", {"code": product, "name": "bench", "product_line": "bench"})
    company = admin.post("/admin/companies", {"name": "IM 基准公司", "kind": "customer"}).json()
    secret = admin.put("/admin/im-bridges/wecom", {"default_product": product}).json()["secret"]
    people = []
    for i in range(clients):
        phone = f"1370000{i:04d}"
        r = Api(system.base_url).post("/auth/register", {
            "name": f"基准{i}", "phone": phone, "password": "bench-pass-1",
            "company_name": "x"})
        admin.post(f"/admin/users/{r.json()['id']}/approve",
                   {"role": "customer", "company_id": company["id"]})
        api = Api(system.base_url).login(phone, "bench-pass-1")
        code = api.post("/me/im-bindings", {"channel": "wecom",
                                             "im_user_id": f"wx-{i}"}).json()["code"]
        signed(system, secret, f"wx-{i}", f"bind {code}", f"bind-{i}")
        people.append(api)
    return product, secret, people


def signed(system, secret, user, text, message_id, session=requests):
    raw = json.dumps({"message_id": message_id, "user_id": user, "text": text},
                     ensure_ascii=False).encode()
    r = session.post(f"{system.base_url}/api/v1/channels/wecom/messages", data=raw, timeout=60,
                     headers={"Content-Type": "application/json",
                              "Gongdan-Signature": signing.signature_header(
                                  secret, int(time.time()), raw)})
    return r


def load(fn, clients, warmup, duration):
    """Closed loop: each client calls fn(i, n) until the end; latencies of the measured part."""
    start = time.monotonic()
    begin, end = start + warmup, start + warmup + duration
    samples, errors = [], []

    def client(i):
        n = 0
        while time.monotonic() < end:
            t0 = time.monotonic()
            ok = fn(i, n)
            t1 = time.monotonic()
            n += 1
            if t0 >= begin:
                (samples if ok else errors).append(t1 - t0)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples, errors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    with running("gongdan-bench-im-", backend=args.backend,
                 env={"RATE_LIMITS_ENABLED": "false"}) as system:
        log("system up; setting up")
        product, secret, people = setup(system, max(levels))
        sessions = [requests.Session() for _ in people]
        rows = []
        for c in levels:
            def portal(i, n):
                return people[i].post("/tickets", dict(TICKET, product=product)) \
                    .status_code == 201

            def im(i, n):
                r = signed(system, secret, f"wx-{i}", f"{TICKET['title']}\n{n}",
                           f"m-{c}-{i}-{n}", sessions[i])
                return r.status_code == 200 and r.json().get("action") == "ticket_created"

            for name, fn in (("portal", portal), ("im", im)):
                log(f"{name} c={c}")
                ok, bad = load(fn, c, args.warmup, args.duration)
                rows.append((name, c, len(ok) / args.duration, pct(ok, 50) * 1000,
                             pct(ok, 99) * 1000, len(bad)))
    print(f"\n{'path':<8}{'c':>4}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, c, rps, p50, p99, bad in rows:
        print(f"{name:<8}{c:>4}{rps:>9.1f}{p50:>9.1f}{p99:>9.1f}{bad:>8}")
    for c in levels:
        base = next(r for r in rows if r[:2] == ("portal", c))
        mine = next(r for r in rows if r[:2] == ("im", c))
        print(f"c={c}: im/portal throughput {mine[2] / base[2]:.2f}")


if __name__ == "__main__":
    main()
