"""The email a delivery becomes: a retry of the same delivery carries the same Message-ID
(so a resend after a crash between "server accepted" and "recorded as sent" is recognisable
as the same message), another delivery a different one."""
from gongdan_common.mail import REPLY_MARKER
from services.notify.channels import SmtpEmail


def _delivery(id):
    return {"id": id, "subject": "[TS20261122001] 已受理", "address": "c@example.com",
            "body_text": "您的工单已受理", "body_html": "<p>您的工单已受理</p>", "language": "zh"}


def test_message_id_is_stable_per_delivery():
    smtp = SmtpEmail("127.0.0.1", 25, "none", None, None, "Gongdan <noreply@x>", 5)
    first, again = smtp.message(_delivery("d-1")), smtp.message(_delivery("d-1"))
    other = smtp.message(_delivery("d-2"))
    assert first["Message-ID"] == again["Message-ID"] == "<d-1@gongdan.notify>"
    assert other["Message-ID"] != first["Message-ID"]
    assert first["X-Gongdan-Delivery"] == "d-1" and first["Content-Language"] == "zh-CN"


def test_mail_about_a_ticket_threads_and_carries_the_reply_marker():
    from gongdan_common.mail import REPLY_MARKER
    smtp = SmtpEmail("127.0.0.1", 25, "none", None, None, "Gongdan <noreply@x>", 5)
    msg = smtp.message(dict(_delivery("d-1"), ticket_id="t-9"))
    assert msg["In-Reply-To"] == msg["References"] == "<ticket.t-9@gongdan.notify>"
    assert msg.get_body(("plain",)).get_content().startswith(REPLY_MARKER)
    assert REPLY_MARKER in msg.get_body(("html",)).get_content()
    plain = smtp.message(_delivery("d-2"))  # not about a ticket (an account mail): no thread
    assert plain["References"] is None
    assert not plain.get_body(("plain",)).get_content().startswith(REPLY_MARKER)


def test_smtp_sessions_are_reused_and_a_dropped_one_is_replaced(tmp_path):
    """Three mails, one SMTP session; the server restarts (every session dropped): the
    idle session fails its NOOP and a new one carries the next mail; nothing is lost."""
    from tests.test_notify import SmtpServer
    server = SmtpServer(str(tmp_path))
    server.start()
    smtp = SmtpEmail("127.0.0.1", server.port, "none", None, None, "Gongdan <noreply@x>", 5)
    try:
        for n in range(3):  # the first long: a real mail's lines, not one line of it all
            long = {"body_text": "您的工单已受理。\n" * 300} if n == 0 else {}
            outcome = smtp.send(dict(_delivery(f"d-{n}"), **long))
            assert outcome.ok, outcome.error
        assert smtp.connects == 1 and len(server.messages()) == 3
        got = next(m for m in server.messages() if m["Message-ID"] == "<d-1@gongdan.notify>")
        assert got["Subject"] == "[TS20261122001] 已受理" and got["To"] == "c@example.com"
        assert got["From"].addresses[0].addr_spec == "noreply@x" and got["Date"]
        assert got.get_body(("plain",)).get_content().strip() == "您的工单已受理"
        assert got.get_body(("html",)).get_content().strip() == "<p>您的工单已受理</p>"
        server.stop()
        server.start()
        smtp.CHECK_AFTER = 0  # idle "long enough" to be checked before use
        outcome = smtp.send(_delivery("d-3"))
        assert outcome.ok, outcome.error
        assert smtp.connects == 2
        assert sorted(m["Message-ID"] for m in server.messages()) == [
            f"<d-{n}@gongdan.notify>" for n in range(4)]
        server.stop()  # down for good: a failed attempt, and the session is not kept
        failed = smtp.send(_delivery("d-4"))
        assert not failed.ok and failed.retryable and smtp._idle == []
    finally:
        smtp.close()
        server.stop()


def test_chinese_sender_name_and_an_address_with_chinese_characters():
    smtp = SmtpEmail("127.0.0.1", 25, "none", None, None, "工单系统 <noreply@x>", 5)
    msg = smtp.message(_delivery("d-1"))
    assert str(msg["From"]) == "工单系统 <noreply@x>"
    assert msg.get_body(("plain",)).get_content().strip() == "您的工单已受理"
    utf8 = smtp.message(dict(_delivery("d-2"), address="张三@例子.中国"))
    assert utf8["To"] == "张三@例子.中国" and utf8["Subject"] == "[TS20261122001] 已受理"
    assert utf8["Message-ID"] == "<d-2@gongdan.notify>"


def test_the_mail_is_written_as_the_email_package_reads_it():
    """`raw` writes the MIME itself: CRLF lines only, headers within 78 characters, a long
    Chinese subject in encoded words that read back whole, both bodies back exactly, a
    mail without HTML a single text part, and no line break in a value makes a header."""
    from email import policy
    from email.parser import BytesParser

    smtp = SmtpEmail("127.0.0.1", 25, "none", None, None, "工单系统 <noreply@x>", 5)
    subject = "[TS20261122001] 您的工单已受理：无法登录系统，" + "请等待处理，" * 12
    text, html = "第一行\n第二行 with ASCII\n" * 40, "<p>您的工单已受理</p>\n" * 40
    for delivery in (dict(_delivery("d-1"), subject=subject, body_text=text, body_html=html),
                     dict(_delivery("d-2"), subject="Ticket accepted", body_text=text,
                          body_html=None, ticket_id="t-9"),
                     dict(_delivery("d-3"), subject="Hi\r\nBcc: evil@x.test",
                          language="en")):
        raw = smtp.raw(delivery)
        assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
        head = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        assert all(len(line) <= 78 for line in head), head
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        assert not msg.defects and msg["Bcc"] is None
        assert msg["Subject"] == " ".join(delivery["subject"].split())
        assert str(msg["From"]) == "工单系统 <noreply@x>" and msg["To"] == "c@example.com"
        assert msg["Message-ID"] == f"<{delivery['id']}@gongdan.notify>" and msg["Date"]
        prefix = f"{REPLY_MARKER}\n\n" if delivery.get("ticket_id") else ""
        assert msg.get_body(("plain",)).get_content() == prefix + delivery["body_text"]
        if delivery["body_html"]:
            assert msg.get_content_type() == "multipart/alternative"
            assert msg.get_body(("html",)).get_content() == delivery["body_html"]
        else:
            assert msg.get_content_type() == "text/plain" and not msg.is_multipart()
