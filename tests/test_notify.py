"""Notifications with every service running: email through a real SMTP server (aiosmtpd, in
its own process so it can go down and come back), the in-app inbox and its live stream,
webhooks to a local receiver that checks signatures, and the bad input the API refuses.

The notify service is restarted for this module with short retry backoffs, the test SMTP
server's port, and 127.0.0.1 allowed by the webhook SSRF policy (see docs/notifications.md).
"""
import datetime as dt
import email
import glob
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import zoneinfo
from email import policy

import pytest
import requests

from services.notify import domain
from tests.conftest import unique
from tests.support.system import ROOT
from scripts._proc import free_port

pytestmark = pytest.mark.integration


def wait_until(check, seconds=20, what="condition"):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what} never held (last: {last!r})")


class SmtpServer:
    def __init__(self, directory):
        self.directory, self.port, self.proc = directory, free_port(), None

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.smtp_sink", "127.0.0.1", str(self.port),
             self.directory], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def messages(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.directory, "*.eml"))):
            with open(path, "rb") as fh:
                out.append(email.message_from_bytes(fh.read(), policy=policy.default))
        return out

    def to(self, address):
        return [m for m in self.messages() if m["To"] == address]


class Receiver(http.server.ThreadingHTTPServer):
    """Webhook receiver: checks every signature; `plan[url_path]` is how many times to
    answer 500 before 200 (per delivery id); -1 = always 500."""
    daemon_threads = True

    def __init__(self, secret_of):
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.secret_of, self.plan, self.calls, self.lock = secret_of, {}, [], threading.Lock()

    def url(self, path):
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def calls_to(self, path):
        with self.lock:
            return [c for c in self.calls if c["path"] == path]


class _ReceiverHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        srv = self.server
        body = self.rfile.read(int(self.headers["Content-Length"]))
        secret = srv.secret_of.get(self.path)
        signed = bool(secret) and domain.verify_signature(
            secret, self.headers["Gongdan-Signature"], body, int(time.time()))
        delivery = self.headers["Gongdan-Delivery"]
        with srv.lock:
            seen = sum(1 for c in srv.calls if c["delivery"] == delivery)
            fails = srv.plan.get(self.path, 0)
            status = 500 if fails == -1 or seen < fails else 200
            srv.calls.append({"path": self.path, "delivery": delivery, "signed": signed,
                              "status": status, "body": json.loads(body),
                              "event_id": self.headers["Gongdan-Event-Id"]})
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok" if status == 200 else b"boom")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def rig(system, tmp_path_factory):
    smtp = SmtpServer(str(tmp_path_factory.mktemp("mail")))
    smtp.start()
    receiver = Receiver({})
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    system.stop_service("notify")
    system.start_service(
        "notify", NOTIFY_SMTP_PORT=str(smtp.port), NOTIFY_WEBHOOK_ALLOW_NETWORKS="127.0.0.1/32",
        NOTIFY_BACKOFF_BASE="0.3", NOTIFY_BACKOFF_CAP="1.5", NOTIFY_POLL_INTERVAL="0.2",
        NOTIFY_DIRECTORY_CACHE="0", NOTIFY_WEBHOOK_DISABLE_AFTER="5",
        NOTIFY_WEBHOOK_MAX_ATTEMPTS="8", NOTIFY_WEBHOOK_TIMEOUT="3",
        GONGDAN_PUBLIC_URL="http://gongdan.test")
    system.wait_service("notify")
    yield smtp, receiver
    receiver.shutdown()
    smtp.stop()
    system.stop_service("notify")  # back to the configuration the other modules expect
    system.start_service("notify")
    system.wait_service("notify")


def inbox(api, **params):
    r = api.get("/notifications", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_email_inbox_live_stream_and_preferences(system, rig, admin, make_user, make_company,
                                                 new_ticket, product):
    smtp, _ = rig
    # an engineer certified for the product's line, who reads English
    company = make_company("provider")
    assert admin.put(f"/providers/{company['id']}", {
        "name": company["name"], "product_lines": ["anyshare"]}).status_code == 200
    engineer = make_user("engineer", company=company)
    assert engineer.patch("/me", {"language": "en"}).status_code == 200
    assert admin.put(f"/engineers/{engineer.user['id']}", {
        "provider_id": company["id"]}).status_code == 200
    assert admin.post(f"/engineers/{engineer.user['id']}/certifications", {
        "product_line": "anyshare", "certificate_no": unique("N-"),
        "valid_from": "2020-01-01", "valid_until": "2099-12-31"}).status_code == 201
    agent = make_user("agent")
    customer = make_user(lang="zh")

    # the customer follows their inbox live while the ticket is submitted
    stream_lines = []
    stream = requests.get(system.base_url + "/api/v1/notifications/stream",
                          params={"access_token": customer.token}, stream=True, timeout=60)
    assert stream.status_code == 200
    assert stream.headers["Content-Type"].startswith("text/event-stream")

    done = threading.Event()

    def follow():  # closes the stream itself (by the next keep-alive) once told to stop
        with stream:
            for line in stream.iter_lines(decode_unicode=True):
                stream_lines.append(line)
                if done.is_set():
                    return
    threading.Thread(target=follow, daemon=True).start()
    wait_until(lambda: any(line.startswith("event: unread") for line in stream_lines),
               what="the stream's first unread event")

    # SMTP is down when the ticket is submitted: the "accepted" email waits and is retried
    smtp.stop()
    ticket = new_ticket(customer, title="邮件通知测试")
    number = ticket["number"]
    delivery = wait_until(lambda: next((d for d in admin.get(
        "/admin/deliveries", params={"channel": "email"}).json()["items"]
        if d["address"] == customer.user["email"] and d["attempts"] >= 1), None),
        what="a failed email attempt in the delivery log")
    assert delivery["status"] == "pending" and delivery["last_error"]
    detail = admin.get(f"/admin/deliveries/{delivery['id']}").json()
    assert detail["log"] and detail["log"][0]["ok"] is False
    # the inbox does not wait for SMTP, and the stream saw it
    item = wait_until(lambda: inbox(customer)["items"], what="the customer's inbox")[0]
    assert item["ticket_number"] == number and "已受理" in item["body"]
    wait_until(lambda: any(number in line for line in stream_lines if line.startswith("data:")),
               what="the live notification")
    smtp.start()
    mails = wait_until(lambda: smtp.to(customer.user["email"]), seconds=30,
                       what="the accepted email after SMTP came back")
    assert number in mails[0]["Subject"] and "我们已收到您的工单" in mails[0]["Subject"]

    # assignment: the engineer gets an English email with the ticket number and a link
    r = agent.post(f"/tickets/{ticket['id']}/assign", {"engineer_id": engineer.user["id"]})
    assert r.status_code == 200, r.text
    mail = wait_until(lambda: smtp.to(engineer.user["email"]), what="the assignment email")[0]
    assert mail["Subject"].startswith(f"[{number}] Ticket assigned to you")
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "was assigned to you" in text and number in text
    assert f"http://gongdan.test/#/tickets/{ticket['id']}" in text
    assert f'href="http://gongdan.test/#/tickets/{ticket["id"]}"' in html
    assert wait_until(lambda: inbox(engineer)["unread"] == 1, what="engineer inbox")

    # a public reply reaches the customer's inbox (and their email), an internal note does not
    unread_before = inbox(customer)["unread"]
    assert engineer.post(f"/tickets/{ticket['id']}/comments", {
        "body": "内部备注", "internal": True}).status_code == 201
    assert engineer.post(f"/tickets/{ticket['id']}/comments", {
        "body": "请提供日志文件"}).status_code == 201
    page = wait_until(lambda: (lambda p: p if p["unread"] == unread_before + 1 else None)(
        inbox(customer)), what="the reply in the inbox")
    assert "请提供日志文件" in page["items"][0]["body"]
    assert all("内部备注" not in i["body"] for i in page["items"])
    wait_until(lambda: any(json.loads(line[5:]).get("kind") == "reply" and
                           json.loads(line[5:])["ticket_number"] == number
                           for line in stream_lines if line.startswith("data:")),
               what="the reply on the live stream")
    wait_until(lambda: len(smtp.to(customer.user["email"])) == 2, what="the reply email")
    time.sleep(1.0)  # nothing is sent twice, not even after a retry
    assert len(smtp.to(customer.user["email"])) == 2
    ids = [m["X-Gongdan-Delivery"] for m in smtp.messages()]
    assert len(ids) == len(set(ids))
    done.set()

    # mark read, mark all read, paging
    first = page["items"][0]
    assert customer.post(f"/notifications/{first['id']}/read").json()["read"] is True
    assert engineer.post(f"/notifications/{first['id']}/read").status_code == 404
    assert customer.get("/notifications/unread-count").json()["unread"] == page["unread"] - 1
    assert customer.post("/notifications/read-all").json()["unread"] == 0
    assert inbox(customer, page_size=1)["total"] == page["total"]
    assert len(inbox(customer, page_size=1)["items"]) == 1

    # preferences: unknown channels and bad quiet hours are refused in the caller's language
    bad = customer.put("/me/preferences", {"channels": {"reply": ["inbox", "pigeon"]}},
                       headers={"Accept-Language": "zh"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "validation_failed"
    assert "pigeon" in json.dumps(bad.json(), ensure_ascii=False)
    assert "未知渠道" in json.dumps(bad.json(), ensure_ascii=False)
    assert customer.put("/me/preferences", {"quiet_start": "25:00", "quiet_end": "07:00"}
                        ).status_code == 400
    assert customer.put("/me/preferences", {"color": "red"}).status_code == 400
    ok = customer.put("/me/preferences", {"language": "en", "channels": {"reply": ["inbox"]},
                                          "quiet_start": "22:00", "quiet_end": "07:00"})
    assert ok.status_code == 200 and ok.json()["channels"] == {"reply": ["inbox"]}
    assert customer.get("/me/preferences").json()["language"] == "en"
    # now a reply is inbox-only and in English
    assert engineer.post(f"/tickets/{ticket['id']}/comments", {"body": "second"}
                         ).status_code == 201
    item = wait_until(lambda: inbox(customer, unread="true")["items"], what="english reply")[0]
    assert item["title"].startswith(f"[{number}] New reply")
    time.sleep(1.0)
    assert len(smtp.to(customer.user["email"])) == 2
    # redelivery of everything planned creates nothing twice (unique per event and person)
    rows = system.sql("notify", "SELECT event_id, user_id, COUNT(*) FROM notifications "
                                "GROUP BY event_id, user_id HAVING COUNT(*) > 1")
    assert rows == []


def test_webhooks_signed_retried_disabled_and_bad_input(system, rig, admin, make_user,
                                                        new_ticket):
    _, receiver = rig
    # bad URLs: another scheme, a private or metadata address, no host
    for url, reason in (("ftp://example.com/hook", "scheme"),
                        ("http://10.1.2.3/hook", "forbidden_address"),
                        ("http://169.254.169.254/latest", "forbidden_address"),
                        ("http://[::1]:8080/x", "forbidden_address"),
                        ("http:///nohost", "host")):
        r = admin.post("/webhooks", {"url": url}, headers={"Accept-Language": "zh"})
        assert r.status_code == 400, (url, r.text)
        assert r.json()["error"]["code"] == "webhook_url_refused"
        assert r.json()["error"]["details"]["reason"] == reason
    customer = make_user()
    assert customer.get("/webhooks").status_code == 403

    # 500 three times, then 200: delivered once, four signed attempts of one delivery
    path = "/hooks/" + unique("h")
    r = admin.post("/webhooks", {"url": receiver.url(path),
                                 "event_types": ["intake.ticket_created"]})
    assert r.status_code == 201, r.text
    hook = r.json()
    assert hook["secret"].startswith("whsec_")
    receiver.secret_of[path] = hook["secret"]
    receiver.plan[path] = 3
    ticket = new_ticket(customer, title="webhook 测试")
    wait_until(lambda: any(c["status"] == 200 for c in receiver.calls_to(path)), seconds=30,
               what="a successful webhook delivery")
    calls = receiver.calls_to(path)
    assert [c["status"] for c in calls] == [500, 500, 500, 200]
    assert all(c["signed"] for c in calls)
    assert len({c["delivery"] for c in calls}) == 1
    body = calls[-1]["body"]
    assert body["type"] == "ticket_created" and body["ticket_number"] == ticket["number"]
    assert calls[-1]["event_id"] == body["event_id"]

    def recorded():  # shortly after the answer (NOTIFY.record_linger_seconds)
        page = admin.get(f"/webhooks/{hook['id']}/deliveries").json()
        return page if page["items"] and page["items"][0]["status"] == "sent" else None

    log = wait_until(recorded, what="the delivery recorded as sent")
    assert log["total"] == 1
    assert log["items"][0]["attempts"] == 4
    detail = admin.get(f"/webhooks/{hook['id']}/deliveries/{log['items'][0]['id']}").json()
    assert [a["status_code"] for a in detail["log"]] == [500, 500, 500, 200]
    time.sleep(1.0)
    assert len(receiver.calls_to(path)) == 4  # not sent again
    receiver.plan[path] = 0  # healthy from now on

    # replay and ping: new deliveries, the replay carries the same event
    replay = admin.post(f"/webhooks/{hook['id']}/deliveries/{log['items'][0]['id']}/replay")
    assert replay.status_code == 202 and replay.json()["replay_of"] == log["items"][0]["id"]
    assert admin.post(f"/webhooks/{hook['id']}/ping").status_code == 202
    wait_until(lambda: len([c for c in receiver.calls_to(path) if c["status"] == 200]) == 3,
               what="replay and ping")
    calls = receiver.calls_to(path)
    assert body["event_id"] in [c["body"]["event_id"] for c in calls[4:]]
    assert "ping" in [c["body"]["type"] for c in calls[4:]]

    # a receiver that always fails is disabled after 5 failures in a row; its owner is told
    dead = "/hooks/" + unique("dead")
    receiver.plan[dead] = -1
    r = admin.post("/webhooks", {"url": receiver.url(dead), "secret": "s" * 20})
    receiver.secret_of[dead] = "s" * 20
    dead_hook = r.json()
    slow_unrelated = new_ticket(customer, title="另一个")
    # the healthy webhook is not held up by the failing one
    wait_until(lambda: any(c["body"].get("ticket_number") == slow_unrelated["number"]
                           and c["status"] == 200 for c in receiver.calls_to(path)),
               what="the healthy webhook's delivery")
    got = wait_until(lambda: (lambda h: h if not h["active"] else None)(
        admin.get(f"/webhooks/{dead_hook['id']}").json()), seconds=40, what="disabled")
    assert got["failure_streak"] >= 5 and "in a row" in got["disabled_reason"]
    notice = wait_until(lambda: [i for i in inbox(admin)["items"]
                                 if i["kind"] == "webhook_disabled"], what="owner notice")
    assert dead in notice[0]["body"] and "停用" in notice[0]["title"]
    assert all(c["signed"] for c in receiver.calls_to(dead))
    assert admin.patch(f"/webhooks/{dead_hook['id']}", {"active": True}).json()["active"]
    assert admin.delete(f"/webhooks/{dead_hook['id']}").status_code == 200
    assert admin.get(f"/webhooks/{dead_hook['id']}").status_code == 404
    assert dead_hook["id"] not in [h["id"] for h in admin.get("/webhooks").json()["items"]]
    assert admin.delete(f"/webhooks/{hook['id']}").status_code == 200

    # templates: broken, unknown names and oversized ones are refused; a good one is used
    for bad in ({"subject": "{{ ticket.number", "text": "x", "html": "x"},
                 {"subject": "ok", "text": "{{ secret_key }}", "html": "x"},
                 {"subject": "ok", "text": "x" * 20_001, "html": "x"},
                 {"subject": "ok", "text": "{% for %}", "html": "x"},
                 {"subject": "ok", "text": "x"}):
        r = admin.put("/admin/notification-templates/reply/en", bad)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["error"]["code"] in ("template_invalid", "validation_failed")
    assert admin.put("/admin/notification-templates/nope/en",
                     {"subject": "a", "text": "b", "html": "c"}).status_code == 404
    good = admin.put("/admin/notification-templates/closed/zh", {
        "subject": "[{{ ticket.number }}] 已关闭 {{ data.missing_field }}",
        "text": "{{ recipient.name }} {{ data.nothing.deeper }}", "html": "<p>{{ link }}</p>"})
    assert good.status_code == 200, good.text
    assert admin.delete("/admin/notification-templates/closed/zh").json()["overridden"] is False

    # rules: listed with their source; overriding and restoring a shipped one
    rules = admin.get("/admin/notification-rules").json()["items"]
    assert {"assigned", "accepted", "reply", "sla_breached"} <= {r["id"] for r in rules}
    r = admin.put("/admin/notification-rules/closed", {
        "event": "intake.ticket_closed", "kind": "closed", "recipients": ["submitter"],
        "channels": ["inbox", "fax"]})
    assert r.status_code == 400
    r = admin.put("/admin/notification-rules/closed", {
        "event": "intake.ticket_closed", "kind": "closed", "recipients": ["submitter"],
        "channels": ["inbox"]})
    assert r.status_code == 200 and r.json()["overridden"] is True
    assert admin.delete("/admin/notification-rules/closed").json()["restored_default"] is True
    assert customer.get("/admin/notification-rules").status_code == 403


def _bindings(system, queue):
    """The routing keys `queue` is bound to on the system's vhost (rabbitmqctl)."""
    from tests.support.system import _rabbitmqctl
    out = _rabbitmqctl("list_bindings", "-p", system.vhost, "source_name", "destination_name",
                       "routing_key")
    assert out.returncode == 0, out.stderr
    rows = [line.split("\t") for line in out.stdout.splitlines() if line.strip()]
    return {r[2] for r in rows if len(r) == 3 and r[1] == queue and r[0]}


SLA_QUEUE = "evt-sla-#--notify.on_sla_event"
WORKLOG_QUEUE = "evt-worklog-#--notify.on_worklog_event"


def test_event_queues_follow_rules_and_webhooks(system, rig, admin, make_user, new_ticket):
    """notify's queues are bound to what its rules, robots, digest and webhooks use: a
    created ticket's sla_clock_updated is not sent to notify until a webhook follows it;
    saving the webhook binds it before the API answers, deleting it unbinds it; the old
    catch-all `#` is removed."""
    from kombu import Connection, Exchange
    _, receiver = rig
    bound = _bindings(system, SLA_QUEUE)
    assert {"sla_warning", "sla_breached"} <= bound
    assert "sla_clock_updated" not in bound and "#" not in bound, bound
    assert _bindings(system, WORKLOG_QUEUE) == set()  # nothing shipped uses worklog's events
    # a queue declared before bindings by type had `#`: the next change removes it
    with Connection(system.amqp_uri) as conn:
        channel = conn.channel()
        Exchange("worklog.events", type="topic", durable=True)(channel).declare()
        channel.queue_bind(WORKLOG_QUEUE, exchange="worklog.events", routing_key="#")
    assert _bindings(system, WORKLOG_QUEUE) == {"#"}

    path = "/hooks/" + unique("clock")
    r = admin.post("/webhooks", {"url": receiver.url(path),
                                 "event_types": ["sla.sla_clock_updated", "worklog.*"]})
    assert r.status_code == 201, r.text
    hook = r.json()
    receiver.secret_of[path] = hook["secret"]
    # bound when the API answered, and remembered for unbinding
    assert "sla_clock_updated" in _bindings(system, SLA_QUEUE)
    assert _bindings(system, WORKLOG_QUEUE) == {"#"}
    assert sorted(system.sql("notify", "SELECT source, routing_key FROM event_bindings")) == \
        [("sla", "sla_clock_updated"), ("worklog", "#")]
    customer = make_user()
    ticket = new_ticket(customer, title="clock 钟")
    wait_until(lambda: [c for c in receiver.calls_to(path)
                        if c["body"]["type"] == "sla_clock_updated"
                        and c["body"]["data"]["ticket_id"] == ticket["id"]],
               seconds=30, what="the ticket's sla_clock_updated at the webhook")

    assert admin.delete(f"/webhooks/{hook['id']}").status_code == 200
    assert "sla_clock_updated" not in _bindings(system, SLA_QUEUE)
    assert _bindings(system, WORKLOG_QUEUE) == set()  # `#` went with the webhook
    assert system.sql("notify", "SELECT source, routing_key FROM event_bindings") == []
    # the shipped ones stay
    assert {"sla_warning", "sla_breached"} <= _bindings(system, SLA_QUEUE)


def test_daily_digest_for_a_company_admin(system, rig, admin, make_user, make_company,
                                          new_ticket):
    """A company admin opts in; a day of their company's tickets (and one of another
    company) becomes one English email and one inbox entry when the pass runs as of a time
    after their digest hour; a second run sends nothing again."""
    smtp, _ = rig
    company = make_company("customer")
    boss = make_user("customer_admin", company=company)
    staff = make_user(company=company)
    stranger = make_user()
    agent = make_user("agent")

    # only company admins, and only a valid time
    r = staff.put("/me/preferences", {"digest": {"enabled": True}},
                  headers={"Accept-Language": "zh"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "digest_not_available"
    assert "企业管理员" in r.json()["error"]["message"]
    for bad in ({"enabled": True, "time": "8:00"}, {"enabled": "sometimes"}, {"time": "08:00"}):
        r = boss.put("/me/preferences", {"digest": bad})
        assert r.status_code == 400 and r.json()["error"]["code"] == "validation_failed", bad
    assert boss.get("/me/preferences").json()["digest"]["enabled"] is False

    # opt in for three hours from now, local time in Shanghai, in English
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    opted = dt.datetime.now(dt.timezone.utc)
    slot_local = (opted + dt.timedelta(hours=3)).astimezone(shanghai)
    r = boss.put("/me/preferences", {"language": "en", "timezone": "Asia/Shanghai",
                                     "digest": {"enabled": True,
                                                "time": slot_local.strftime("%H:%M")}})
    assert r.status_code == 200, r.text
    assert r.json()["digest"]["enabled"] is True
    assert r.json()["digest"]["next_at"].startswith(
        slot_local.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M"))

    # a day at the company: two tickets, a reply, an internal note, a cancellation
    first = new_ticket(staff, title="摘要测试 VPN 断线")
    second = new_ticket(boss, title="摘要测试 打印机")
    elsewhere = new_ticket(stranger, title="别的公司的工单")
    assert agent.post(f"/tickets/{first['id']}/comments",
                      {"body": "Please send the VPN client log"}).status_code == 201
    assert agent.post(f"/tickets/{first['id']}/comments",
                      {"body": "internal: customer is grumpy", "internal": True}
                      ).status_code == 201
    assert boss.post(f"/tickets/{second['id']}/cancel", {"reason": "fixed it"}
                     ).json()["status"] == "cancelled"
    lines = "SELECT COUNT(*) FROM digest_items WHERE recipient = %s"
    wait_until(lambda: system.sql("notify", lines, boss.user["id"])[0][0] == 4,
               what="four digest lines for the admin")
    assert boss.post("/admin/notifications/digests/run", {}).status_code == 403
    assert admin.post("/admin/notifications/digests/run", {"now": "tomorrow"}
                      ).status_code == 400

    # the pass as of four hours from now: the admin's digest hour has come
    now = (opted + dt.timedelta(hours=4)).isoformat()
    r = admin.post("/admin/notifications/digests/run", {"now": now})
    assert r.status_code == 200, r.text
    assert r.json()["sent"] == 1
    subject = f"Daily ticket digest for {company['name']}, {slot_local.date().isoformat()}"
    mails = wait_until(lambda: [m for m in smtp.to(boss.user["email"])
                                if m["Subject"].startswith("Daily ticket digest")],
                       what="the digest email")
    assert [m["Subject"] for m in mails] == [subject]
    text = mails[0].get_body(("plain",)).get_content()
    html = mails[0].get_body(("html",)).get_content()
    assert f"{first['number']} 摘要测试 VPN 断线" in text
    assert f"{second['number']} 摘要测试 打印机" in text
    assert "reply from support" in text and "Please send the VPN client log" in text
    assert "new → cancelled" in text and "fixed it" in text
    assert "2 new tickets, 1 status change, 1 reply" in text
    assert "grumpy" not in text and elsewhere["number"] not in text
    assert f"http://gongdan.test/#/tickets/{first['id']}" in text
    assert f'href="http://gongdan.test/#/tickets/{second["id"]}"' in html
    entry = wait_until(lambda: [i for i in inbox(boss)["items"] if i["kind"] == "digest"],
                       what="the digest in the inbox")
    assert entry[0]["title"] == subject

    # a second run (now, or by the timer) sends nothing twice
    again = admin.post("/admin/notifications/digests/run", {"now": now}).json()
    assert again["sent"] == 0 and again["due"] == 0
    time.sleep(1.0)
    assert len([m for m in smtp.to(boss.user["email"])
                if m["Subject"].startswith("Daily ticket digest")]) == 1
    assert len([i for i in inbox(boss)["items"] if i["kind"] == "digest"]) == 1
