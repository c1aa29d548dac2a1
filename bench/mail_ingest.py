"""Mail in: ingest N mails from a real IMAP server (dovecot) into tickets, beside a baseline of
fetching the same mails raw from the same server in the same run.

    .venv/bin/python -m bench.mail_ingest [--mails 1000] [--customers 20] [--backend sqlite|postgresql]

The whole system runs as real processes (tests/support/system.py: every service and the
gateway, a private RabbitMQ vhost, fresh databases, a private S3 server); dovecot runs on a
free port with a private mail directory (tests/support/dovecot.py). `--customers` customers
are registered and approved through the API; the mails (from them, in turn, each a new
ticket with a Chinese GB18030 text body) are APPENDed to the mailbox before the clock starts.

- baseline: one imaplib connection fetching every mail (UID SEARCH, then BODY.PEEK[] one
  by one: what the adapter's poll does) and nothing else: mails/s.
- ceiling: `--web` tickets created over HTTP by the same
  customers at the same concurrency (POST /tickets, as the web form does): what intake
  itself manages on this machine at this moment, which mail-in cannot exceed.
- ingest: the support mailbox is added through the admin API; the clock runs from then to
  the moment channels reports every mail done (each one: claim row, sender looked up at the
  gateway, ticket created by intake, record committed, mail flagged on the server).
  Figures: mails/s, and the channels process's peak resident memory (VmHWM) beside its
  resident memory before the run.
It reports, it does not assert (the goal is >= 20 mails/s on the 2-core test machine).
"""
import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from email.message import EmailMessage  # noqa: E402

from bench.support import log  # noqa: E402
from tests.support.dovecot import Dovecot  # noqa: E402
from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD, Api, running  # noqa: E402

SUPPORT = "support@gongdan.test"


def proc_kb(pid, field):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def make_mail(i, sender):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = SUPPORT
    msg["Subject"] = f"备份任务失败 #{i}"
    msg["Message-ID"] = f"<bench-{i}-{time.time_ns()}@example.com>"
    msg.set_content(f"第 {i} 封：备份任务从昨天开始失败，错误代码 E1024。\n" * 5, charset="gb18030")
    return msg.as_bytes()


def baseline(imap, n):
    conn = imap.client(SUPPORT)
    started = time.monotonic()
    conn.select("INBOX", readonly=True)
    typ, data = conn.uid("SEARCH", None, "ALL")
    uids = data[0].split()
    size = 0
    for uid in uids:
        typ, got = conn.uid("FETCH", uid, "(BODY.PEEK[])")
        size += len(got[0][1])
    elapsed = time.monotonic() - started
    conn.logout()
    assert len(uids) == n, (len(uids), n)
    return n / elapsed, size


def web_ceiling(system, senders, n, concurrency):
    from concurrent.futures import ThreadPoolExecutor
    apis = [Api(system.base_url).login(email, "bench-pass-1") for email in senders]

    def create(i):
        r = apis[i % len(apis)].post("/tickets", {
            "title": f"网页提交 #{i}", "type": "consult", "product": "MAIL-B",
            "category": "consultation", "description": "备份任务失败", "contact_phone": "13900000000"})
        return r.status_code == 201

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        ok = sum(pool.map(create, range(n)))
    return ok / (time.monotonic() - started), ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--concurrency", type=int, default=8,
                        help="CHANNELS_INGEST_CONCURRENCY for the channels service")
    parser.add_argument("--web", type=int, default=200,
                        help="tickets created over HTTP for the ceiling figure (0 = skip)")
    parser.add_argument("--logs", help="copy the processes' logs to this folder")
    args = parser.parse_args(argv)

    with Dovecot({SUPPORT: "bench-secret"}) as imap, \
            running("gongdan-bench-mail-", backend=args.backend,
                    env={"CHANNELS_REFRESH_SECONDS": "0.5", "CHANNELS_POLL_INTERVAL": "0.5",
                         "CHANNELS_IDLE_SECONDS": "5",
                         "CHANNELS_INGEST_CONCURRENCY": str(args.concurrency)}) as system:
        admin = Api(system.base_url).login(ADMIN_EMAIL, ADMIN_PASSWORD)
        r = admin.post("/admin/products", {"code": "MAIL-B", "name": "Bench 产品",
                                           "product_line": "bench"})
        assert r.status_code == 201, r.text
        company = admin.post("/admin/companies", {"name": "邮件压测公司", "kind": "customer"}).json()
        senders = []
        for i in range(args.customers):
            phone = f"1390000{i:04d}"
            email = f"bench{i}@example.test"
            r = Api(system.base_url).post("/auth/register", {
                "name": f"客户{i}", "phone": phone, "email": email, "password": "bench-pass-1",
                "company_name": "x"})
            assert r.status_code == 201, r.text
            admin.post(f"/admin/users/{r.json()['id']}/approve",
                       {"role": "customer", "company_id": company["id"]})
            senders.append(email)
        log(f"appending {args.mails} mails to dovecot")
        conn = imap.client(SUPPORT)
        for i in range(args.mails):
            imap.append(SUPPORT, make_mail(i, senders[i % len(senders)]), conn=conn)
        conn.logout()

        rate, size = baseline(imap, args.mails)
        log(f"baseline raw IMAP fetch: {rate:.0f} mails/s ({size / args.mails / 1024:.1f} KB each)")

        if args.web:
            web_rate, ok = web_ceiling(system, senders, args.web, args.concurrency)
            log(f"ceiling, tickets over HTTP at concurrency {args.concurrency}: "
                f"{web_rate:.1f} tickets/s ({ok} created)")
            os.system("uptime")

        pid = system.procs["channels"].pid
        rss_before = proc_kb(pid, "VmRSS")
        started = time.monotonic()
        r = admin.post("/admin/mailboxes", {"name": "bench", "address": SUPPORT,
                                            "host": "127.0.0.1", "port": imap.port,
                                            "username": SUPPORT, "password": "bench-secret",
                                            "product": "MAIL-B"})
        assert r.status_code == 201, r.text
        done = 0
        while done < args.mails:
            time.sleep(0.5)
            page = admin.get("/admin/mails", params={"status": "done", "limit": 1})
            if page.status_code != 200:  # the gateway busy (503 while a dependency lags)
                log(f"admin/mails answered {page.status_code}: {page.text[:200]}")
                continue
            done = page.json()["total"]
            held = admin.get("/admin/mails", params={"status": "held", "limit": 1}).json().get("total")
            if held:
                raise SystemExit(f"{held} mails held: {admin.get('/admin/mails').json()}")
        elapsed = time.monotonic() - started
        peak = proc_kb(pid, "VmHWM")
        flagged = sum("$GongdanDone" in f for f in imap.flags(SUPPORT).values())
        log(f"ingest through channels: {args.mails / elapsed:.1f} mails/s "
            f"({elapsed:.1f} s for {args.mails}; {flagged} flagged done on the server)")
        log(f"channels memory: {rss_before / 1024:.0f} MB resident before, "
            f"peak {peak / 1024:.0f} MB (VmHWM)")
        if args.logs:
            import shutil
            shutil.copytree(os.path.join(system.workdir, "logs"), args.logs, dirs_exist_ok=True)


if __name__ == "__main__":
    main()
