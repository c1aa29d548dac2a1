"""Notification fan-out: events -> in-app inboxes at a target rate, and webhook delivery
latency, beside a baseline of raw event consumption in the same run.

    .venv/bin/python -m bench.notify_fanout [--backend postgresql|sqlite] [--rate 1000]
                                            [--seconds 10] [--users 50] [--hooks-events 300]
                                            [--hooks-rate 50]

The real notify service and gateway (tests/support/system.py: `nameko run` processes, a
private RabbitMQ vhost, fresh databases); the other services are not needed and not run.
The bench publishes synthetic `intake.ticket_commented` envelopes (a public reply on one of
`--users` customers' tickets) straight to `intake.events`, paced at `--rate` per second for
`--seconds`, as intake's outbox relay would (persistent, one per message). The shipped
"reply" rule is narrowed to the inbox for the run (no SMTP server here).

- inbox fan-out: notify plans each event (rule match, directory lookup - cached -, template
  render in the customer's language, inbox row + notification_created in the outbox) in one
  transaction. Figures: events published per second, inbox rows written per second while
  the run lasted (first publish -> last row), and lag = row's created_at - publish time
  (p50/p99/max).
- baseline: a bare kombu consumer in this process with its own durable queue bound to the
  same exchange and routing key receives the same messages and acks them; its lag is
  receive time - publish time. The difference is what notify's planning costs.
- webhooks: a local receiver (allowed by NOTIFY_WEBHOOK_ALLOW_NETWORKS) registered for
  `intake.ticket_commented`, and a second one that answers only after 3 s (a slow
  receiver); `--hooks-events` events are published at `--hooks-rate`/s and the healthy
  receiver's latency (receive - publish) is reported, p50/p99.
It reports, it does not assert.
"""
import argparse
import datetime as dt
import http.server
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from kombu import Connection, Exchange, Producer, Queue  # noqa: E402

from bench.support import pct  # noqa: E402
from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD, Api, System  # noqa: E402


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def make_users(system, admin, n):
    company = admin.post("/admin/companies", {"name": "bench-" + uuid.uuid4().hex[:6],
                                              "kind": "customer"}).json()
    users = []
    for i in range(n):
        phone = "135" + uuid.uuid4().int.__str__()[:8]
        r = Api(system.base_url).post("/auth/register", {
            "name": f"客户{i}", "phone": phone, "email": f"{phone}@bench.test",
            "password": "secret-pass-1", "company_name": "bench"})
        uid = r.json()["id"]
        admin.post(f"/admin/users/{uid}/approve", {"role": "customer",
                                                   "company_id": company["id"]})
        users.append(uid)
    return users, company["id"]


def envelope(user_id, company_id, n):
    now = dt.datetime.now(dt.timezone.utc)
    tid = str(uuid.uuid4())
    ticket = {"id": tid, "number": f"TS20261122{n:05d}", "type": "defect", "title": "性能测试",
              "product": "AS-1", "product_line": "anyshare", "category": "function",
              "priority": "P3", "status": "in_progress", "company_id": company_id,
              "region": None, "submitter_id": user_id, "provider_id": None,
              "handler_id": None, "version": 3, "created_at": now.isoformat(),
              "updated_at": now.isoformat()}
    return {"event_id": str(uuid.uuid4()), "type": "ticket_commented", "version": 1,
            "occurred_at": now.isoformat(), "source": "intake",
            "actor": {"id": "bench-engineer", "role": "engineer", "name": "Bench"},
            "ticket_id": tid, "ticket_number": ticket["number"],
            "data": {"comment_id": str(uuid.uuid4()), "internal": False,
                     "author_id": "bench-engineer", "author_role": "engineer",
                     "body": "请查看最新的补丁", "ticket": ticket}}


def publish_paced(amqp, envelopes, rate, sent_at):
    exchange = Exchange("intake.events", type="topic", durable=True)
    with Connection(amqp) as conn:
        producer = Producer(conn.channel(), exchange=exchange)
        start = time.monotonic()
        for i, env in enumerate(envelopes):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent_at[env["event_id"]] = time.time()
            producer.publish(env, routing_key=env["type"], serializer="json",
                             delivery_mode=2, declare=[exchange])
        return time.monotonic() - start


class RawConsumer(threading.Thread):
    """The baseline: receive and ack, nothing else."""

    def __init__(self, amqp, expected):
        super().__init__(daemon=True)
        self.amqp, self.expected, self.received = amqp, expected, {}
        self.ready = threading.Event()

    def run(self):
        exchange = Exchange("intake.events", type="topic", durable=True)
        queue = Queue("bench-raw-" + uuid.uuid4().hex[:6], exchange=exchange,
                      routing_key="ticket_commented", durable=True, auto_delete=True)

        def on_message(body, message):
            self.received[body["event_id"]] = time.time()
            message.ack()

        with Connection(self.amqp) as conn:
            with conn.Consumer(queue, callbacks=[on_message], accept=["json"]) as consumer:
                consumer.qos(prefetch_count=100)
                self.ready.set()
                deadline = time.monotonic() + 600
                while len(self.received) < self.expected and time.monotonic() < deadline:
                    try:
                        conn.drain_events(timeout=1)
                    except TimeoutError:
                        pass


class Hooks(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, delay):
        super().__init__(("127.0.0.1", 0), _HookHandler)
        self.delay, self.got = delay, {}


class _HookHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.got.setdefault(body["event_id"], time.time())
        if self.server.delay:
            time.sleep(self.server.delay)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


def inbox_rows(system):
    out = {}
    for event_id, created in system.sql("notify", "SELECT event_id, created_at FROM "
                                                  "notifications"):
        if isinstance(created, str):
            created = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
        if created.tzinfo is None:
            created = created.replace(tzinfo=dt.timezone.utc)
        out[event_id] = created.timestamp()
    return out


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--backend", default="postgresql", choices=("postgresql", "sqlite"))
    p.add_argument("--rate", type=float, default=1000)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--hooks-events", type=int, default=300)
    p.add_argument("--hooks-rate", type=float, default=50)
    p.add_argument("--slow-seconds", type=float, default=3.0,
                   help="how long the slow receiver takes to answer (0: no slow receiver)")
    args = p.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="bench-notify-")
    system = System(workdir, backend=args.backend, env={
        "NOTIFY_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32", "NOTIFY_POLL_INTERVAL": "0.2",
        "LOG_LEVEL": "WARNING"})
    try:
        log(f"starting notify + gateway on {args.backend}")
        system.start(services=("notify", "gateway"))
        amqp = system.amqp_uri.replace("pyamqp://", "amqp://")
        admin = Api(system.base_url).login(ADMIN_EMAIL, ADMIN_PASSWORD)
        r = admin.put("/admin/notification-rules/reply", {
            "event": "intake.ticket_commented", "kind": "reply", "recipients": ["submitter"],
            "channels": ["inbox"], "when": {"internal": False}})
        assert r.status_code == 200, r.text
        users, company_id = make_users(system, admin, args.users)
        log(f"{len(users)} customers ready")

        # warm up: every user once (directory cache, connections)
        warm = [envelope(u, company_id, i) for i, u in enumerate(users)]
        publish_paced(amqp, warm, 200, {})
        deadline = time.monotonic() + 60
        while len(inbox_rows(system)) < len(warm) and time.monotonic() < deadline:
            time.sleep(0.5)

        # 1) inbox fan-out at --rate, with the raw consumer beside it
        n = int(args.rate * args.seconds)
        events = [envelope(users[i % len(users)], company_id, 1000 + i) for i in range(n)]
        raw = RawConsumer(amqp, n)
        raw.start()
        raw.ready.wait(10)
        sent = {}
        log(f"publishing {n} events at {args.rate:.0f}/s")
        elapsed = publish_paced(amqp, events, args.rate, sent)
        deadline = time.monotonic() + 300
        rows = {}
        while time.monotonic() < deadline:
            rows = inbox_rows(system)
            if all(e["event_id"] in rows for e in events):
                break
            time.sleep(1)
        raw.join(30)
        ids = [e["event_id"] for e in events]
        done = [i for i in ids if i in rows]
        lag = [rows[i] - sent[i] for i in done]
        raw_lag = [raw.received[i] - sent[i] for i in ids if i in raw.received]
        first = min(sent.values())
        span = max(rows[i] for i in done) - first if done else float("nan")
        raw_span = max(raw.received.values()) - first if raw.received else float("nan")

        # 2) webhook latency with a slow receiver registered beside the healthy one
        fast, slow = Hooks(0), Hooks(args.slow_seconds)
        for srv in (fast, slow) if args.slow_seconds else (fast,):
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            r = admin.post("/webhooks", {"url": f"http://127.0.0.1:{srv.server_address[1]}/h",
                                         "event_types": ["intake.ticket_commented"]})
            assert r.status_code == 201, r.text
        hook_events = [envelope(users[i % len(users)], company_id, 50000 + i)
                       for i in range(args.hooks_events)]
        hook_sent = {}
        log(f"publishing {len(hook_events)} events at {args.hooks_rate:.0f}/s to 2 webhooks")
        publish_paced(amqp, hook_events, args.hooks_rate, hook_sent)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and \
                not all(e["event_id"] in fast.got for e in hook_events):
            time.sleep(0.5)
        hook_lat = [fast.got[e["event_id"]] - hook_sent[e["event_id"]] for e in hook_events
                    if e["event_id"] in fast.got]
        slow_n = sum(1 for e in hook_events if e["event_id"] in slow.got)

        ms = lambda v: f"{v * 1000:8.1f}"  # noqa: E731
        print(f"\nnotify fan-out, backend={args.backend}, {n} events at {args.rate:.0f}/s "
              f"for {args.seconds:.0f} s (published in {elapsed:.2f} s), {len(users)} users")
        print(f"{'':28}{'events':>8}{'rate/s':>10}{'lag p50 ms':>12}{'p99 ms':>10}"
              f"{'max ms':>10}")
        print(f"{'baseline: raw consume+ack':28}{len(raw_lag):8d}{len(raw_lag) / raw_span:10.0f}"
              f"{ms(pct(raw_lag, 50)):>12}{ms(pct(raw_lag, 99)):>10}{ms(max(raw_lag)):>10}")
        print(f"{'notify: event -> inbox row':28}{len(done):8d}{len(done) / span:10.0f}"
              f"{ms(pct(lag, 50)):>12}{ms(pct(lag, 99)):>10}{ms(max(lag)):>10}")
        if not hook_lat:
            print("\nwebhooks: no deliveries measured")
        else:
            print(f"\nwebhooks: {len(hook_events)} events at {args.hooks_rate:.0f}/s; healthy "
                  f"receiver got {len(hook_lat)}, latency p50 {ms(pct(hook_lat, 50)).strip()} "
                  f"ms, p99 {ms(pct(hook_lat, 99)).strip()} ms, max "
                  f"{ms(max(hook_lat)).strip()} ms; "
                  + (f"a receiver answering after {args.slow_seconds:g} s got {slow_n} "
                     "meanwhile" if args.slow_seconds else "no slow receiver"))
        fast.shutdown()
        slow.shutdown()
    finally:
        system.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
