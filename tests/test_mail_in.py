"""Mail in with every service running: a real IMAP server (dovecot) watched by channels, the
LMTP path a mail server would push to, and a real SMTP server (aiosmtpd) receiving what
channels answers. A customer's mail opens a ticket, their reply lands on it (quote
stripped), a forged reply and a stranger open nothing, and admins see what was held."""
import base64
import smtplib
from email.message import EmailMessage

import pytest

from scripts._proc import free_port
from services.channels import quotes
from tests.conftest import unique
from tests.support.dovecot import Dovecot, available
from tests.test_notify import SmtpServer, wait_until

pytestmark = pytest.mark.integration
SUPPORT = "support@gongdan.test"


@pytest.fixture(scope="module")
def mailrig(system, admin, product, tmp_path_factory):
    if not available():
        pytest.fail("dovecot is not installed: apt-get install dovecot-imapd")
    smtp = SmtpServer(str(tmp_path_factory.mktemp("answers")))
    smtp.start()
    imap = Dovecot({SUPPORT: "imap-secret"}).start()
    lmtp_port = free_port()
    system.stop_service("channels")
    system.start_service("channels", CHANNELS_LMTP_ADDRESS=f"127.0.0.1:{lmtp_port}",
                         NOTIFY_SMTP_PORT=str(smtp.port), CHANNELS_POLL_INTERVAL="0.3",
                         CHANNELS_IDLE_SECONDS="2", CHANNELS_REFRESH_SECONDS="0.5",
                         GONGDAN_PUBLIC_URL="http://gongdan.test")
    system.wait_service("channels")
    r = admin.post("/admin/mailboxes", {
        "name": unique("support-"), "address": SUPPORT, "host": "127.0.0.1",
        "port": imap.port, "username": SUPPORT, "password": "imap-secret", "product": product})
    assert r.status_code == 201, r.text
    box = r.json()
    assert "password" not in box and box["has_password"] is True
    yield {"imap": imap, "smtp": smtp, "lmtp_port": lmtp_port, "box": box}
    admin.delete(f"/admin/mailboxes/{box['id']}")
    imap.stop()
    smtp.stop()
    system.stop_service("channels")  # back to the configuration the other modules expect
    system.start_service("channels")
    system.wait_service("channels")


def email_of(api):
    return f"{api.phone}@example.test"  # tests/conftest.py's make_user registers this address


def customer_mail(sender, subject, body, message_id, attachments=(), **headers):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = SUPPORT
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body, charset="gb18030")  # as Foxmail and Outlook send Chinese mail
    for filename, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream",
                           filename=filename)
    return msg.as_bytes()


def tickets_of(api, title):
    r = api.get("/tickets", params={"keyword": title})
    assert r.status_code == 200, r.text
    return [t for t in r.json()["items"] if t["title"] == title]


def test_mailbox_connection_test_and_admin_only(system, mailrig, admin, make_user):
    r = admin.post(f"/admin/mailboxes/{mailrig['box']['id']}/test")
    assert r.status_code == 200 and r.json()["ok"] is True, r.text  # logged in: opened
    ((stored,),) = system.sql("channels", "SELECT password_enc FROM channels_mailboxes "
                              "WHERE id = %s", mailrig["box"]["id"])
    assert stored and "imap-secret" not in stored  # sealed at rest
    customer = make_user("customer")
    assert customer.get("/admin/mailboxes").status_code == 403
    assert customer.get("/admin/mails").status_code == 403
    bad = admin.post("/admin/mailboxes", {"name": "x", "address": "not an address",
                                          "product": "p", "port": 70000})
    assert bad.status_code == 400
    assert {"address", "port"} <= set(bad.json()["error"]["details"]["fields"])


def test_customer_mail_opens_a_ticket_and_the_reply_lands_on_it(mailrig, make_user):
    customer = make_user("customer")
    title = unique("邮件报障-")
    raw = customer_mail(email_of(customer), title, "备份任务从昨天开始失败，错误代码 E1024。",
                        f"<{unique('m')}@example.com>",
                        attachments=[("错误日志.log", b"ERROR E1024\n"),
                                     ("tool.exe", b"MZ\x90\x00" + b"\x00" * 64)])
    mailrig["imap"].append(SUPPORT, raw)
    (ticket,) = wait_until(lambda: tickets_of(customer, title), seconds=60,
                           what="the ticket opened by mail")
    detail = customer.get(f"/tickets/{ticket['id']}").json()
    assert detail["description"].startswith("备份任务从昨天开始失败")
    assert "tool.exe" in detail["description"]  # refused, and said so on the ticket
    assert [a["filename"] for a in detail["attachments"]] == ["错误日志.log"]
    # marked on the server only after the ticket committed
    wait_until(lambda: all("$GongdanDone" in f for f in mailrig["imap"].flags(SUPPORT).values()),
               what="the mail marked done on the server")

    reply = customer_mail(email_of(customer), f"回复：[{ticket['number']}] {title}",
                          f"重启后仍然失败。\n\n{quotes.MARKER}\n您的工单有新回复",
                          f"<{unique('r')}@example.com>")
    mailrig["imap"].append(SUPPORT, reply)
    comments = wait_until(lambda: customer.get(f"/tickets/{ticket['id']}").json()["comments"],
                          seconds=60, what="the reply as a comment")
    assert [c["body"] for c in comments] == ["重启后仍然失败。"]
    # the same mail fetched again (a second copy on the server) adds nothing
    mailrig["imap"].append(SUPPORT, reply)
    wait_until(lambda: all("$GongdanDone" in f for f in mailrig["imap"].flags(SUPPORT).values()),
               what="the copy marked done")
    assert len(customer.get(f"/tickets/{ticket['id']}").json()["comments"]) == 1


def test_a_reply_retried_after_a_crash_and_a_repeated_key_land_once(system, mailrig, make_user,
                                                                   new_ticket):
    """Intake committed the reply, then channels died before recording the mail: once the
    claim's lease is over the mail is taken again (here: delivered again over LMTP) and
    intake answers the comment it already has. The API's Idempotency-Key does the same."""
    customer = make_user("customer")
    ticket = new_ticket(customer)
    message_id = f"<{unique('crash')}@example.com>"
    reply = customer_mail(email_of(customer), f"Re: [{ticket['number']}] 无法登录系统",
                          "还是被锁定。", message_id)
    assert lmtp_send(mailrig["lmtp_port"], email_of(customer), reply) == {}
    comments = lambda: customer.get(f"/tickets/{ticket['id']}").json()["comments"]  # noqa: E731
    wait_until(comments, seconds=60, what="the reply as a comment")
    staged = system.sql("channels", "UPDATE channels_mails SET status = 'claimed', "
                        "outcome = NULL, claimed_at = %s WHERE message_id = %s",
                        "2020-01-01 00:00:00.000000", message_id.strip("<>"), write=True)
    assert staged == 1
    assert lmtp_send(mailrig["lmtp_port"], email_of(customer), reply) == {}
    rows = system.sql("channels", "SELECT status, outcome, attempts FROM channels_mails "
                      "WHERE message_id = %s", message_id.strip("<>"))
    assert rows == [("done", "replied", 2)]  # taken over and processed a second time
    assert [c["body"] for c in comments()] == ["还是被锁定。"]

    key = {"Idempotency-Key": unique("k-")}
    first = customer.post(f"/tickets/{ticket['id']}/comments", {"body": "补充日志"}, headers=key)
    again = customer.post(f"/tickets/{ticket['id']}/comments", {"body": "补充日志"}, headers=key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert [c["body"] for c in comments()] == ["还是被锁定。", "补充日志"]
    events = system.sql("intake", "SELECT count(*) FROM outbox WHERE type = %s AND "
                        "CAST(payload AS TEXT) LIKE %s", "ticket_commented", f"%{ticket['id']}%")
    assert events == [(2,)]


def test_unknown_sender_register_mode_opens_a_pending_registration(mailrig, admin,
                                                                   make_company):
    """A mailbox set to `unknown_sender: register`: a stranger's mail over LMTP opens a
    pending registration (address and From name), is held "awaiting registration", and the
    answer says so; an auto-reply registers nobody. Approved (and given a phone), the
    admin's retry of the held mail opens the ticket as the new customer."""
    box = mailrig["box"]["id"]
    r = admin.patch(f"/admin/mailboxes/{box}", {"unknown_sender": "register"})
    assert r.status_code == 200 and r.json()["unknown_sender"] == "register", r.text
    try:
        stranger = f"{unique('reg')}@newco.test"
        title = unique("新客户报障-")
        lmtp_send(mailrig["lmtp_port"], stranger,
                  customer_mail(f"赵六 <{stranger}>", title, "存储无法挂载", f"<{unique('n')}@x>"))
        robot = f"{unique('bot')}@newco.test"
        lmtp_send(mailrig["lmtp_port"], robot,
                  customer_mail(robot, "自动回复", "away", f"<{unique('b')}@x>",
                                Auto_Submitted="auto-replied"))
    finally:
        admin.patch(f"/admin/mailboxes/{box}", {"unknown_sender": None})
    def pending(address):
        r = admin.get("/admin/users", params={"status": "pending", "q": address})
        assert r.status_code == 200, r.text
        return [u for u in r.json()["items"] if u["email"] == address]
    (user,) = pending(stranger)
    assert user["name"] == "赵六" and pending(robot) == []
    (answer,) = wait_until(lambda: mailrig["smtp"].to(stranger), what="the answer")
    assert "等待管理员审核" in answer.get_content() and "approval" in answer.get_content()
    held = admin.get("/admin/mails", params={"status": "held"}).json()["items"]
    (mail,) = [m for m in held if m["sender"] == stranger]
    assert "Awaiting registration" in mail["reason"]

    company = make_company()
    r = admin.post(f"/admin/users/{user['id']}/approve",
                   {"role": "customer", "company_id": company["id"]})
    assert r.status_code == 200, r.text
    assert admin.patch(f"/admin/users/{user['id']}", {"phone": "13911112222"}).status_code == 200
    retried = admin.post(f"/admin/mails/{mail['id']}/retry")
    assert retried.status_code == 200 and retried.json()["outcome"] == "created", retried.text
    ticket = admin.get(f"/tickets/{retried.json()['ticket_number']}").json()
    assert ticket["title"] == title and ticket["submitter_name"] == "赵六"


def lmtp_send(port, sender, raw):
    with smtplib.LMTP("127.0.0.1", port) as client:
        return client.sendmail(sender, [SUPPORT], raw)


def test_forged_reply_and_stranger_open_nothing(mailrig, admin, make_user, new_ticket):
    owner, other = make_user("customer"), make_user("customer")
    ticket = new_ticket(owner)
    forged = customer_mail(email_of(other), f"Re: [{ticket['number']}] 我也要看",
                           "let me in", f"<{unique('f')}@example.com>")
    assert lmtp_send(mailrig["lmtp_port"], email_of(other), forged) == {}
    assert owner.get(f"/tickets/{ticket['id']}").json()["comments"] == []
    held = admin.get("/admin/mails", params={"status": "held"}).json()["items"]
    (mail,) = [m for m in held if m["sender"] == email_of(other)]
    assert "may not reply" in mail["reason"]
    detail = admin.get(f"/admin/mails/{mail['id']}").json()
    assert detail["text"].strip() == "let me in"
    r = admin.post(f"/admin/mails/{mail['id']}/discard")
    assert r.status_code == 200 and r.json()["status"] == "discarded"
    assert admin.post(f"/admin/mails/{mail['id']}/retry").status_code == 409

    stranger = f"{unique('who')}@elsewhere.test"
    lmtp_send(mailrig["lmtp_port"], stranger,
              customer_mail(stranger, "求助：无法登录", "hello", f"<{unique('s')}@x>"))
    (answer,) = wait_until(lambda: mailrig["smtp"].to(stranger), what="the answer to a stranger")
    assert answer["Auto-Submitted"] == "auto-replied"
    text = answer.get_content()
    assert "注册" in text and "register" in text and "http://gongdan.test" in text
    # an auto-reply to that answer is never answered again: no loop
    auto = customer_mail(stranger, "自动回复: 求助", "I am away", f"<{unique('a')}@x>",
                         Auto_Submitted="auto-replied")
    lmtp_send(mailrig["lmtp_port"], stranger, auto)
    mails = admin.get("/admin/mails", params={"status": "done", "limit": 200}).json()["items"]
    assert any(m["sender"] == stranger and m["outcome"] == "auto" for m in mails)
    assert len(mailrig["smtp"].to(stranger)) == 1


def test_malformed_mail_is_held_not_lost(mailrig, admin):
    raw = (b"To: support@gongdan.test\r\nSubject: =?gb2312?B?" +
           base64.b64encode("没有发件人".encode("gb2312")) + b"?=\r\n"
           b"Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nbroken")
    assert lmtp_send(mailrig["lmtp_port"], "", raw) == {}
    held = admin.get("/admin/mails").json()["items"]
    assert any(m["subject"] == "没有发件人" and "From" in m["reason"] for m in held)
