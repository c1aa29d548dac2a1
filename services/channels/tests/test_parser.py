"""The mail parser as real mail arrives: charsets, transfer encodings, encoded headers and
file names, HTML, quoted history in each big client's style, loops and bounces. Pure."""
import base64
import quopri
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from services.channels import domain, htmltext, mime, quotes

NUMBER = domain.number_pattern("TS")
BODY_ZH = "您好，备份任务从昨天开始失败，错误代码 E1024。請協助處理。"


def raw_mail(body, charset, cte, subject="=?utf-8?b?5aSH5Lu95aSx6LSl?=", extra=""):
    data = body.encode(charset)
    if cte == "base64":
        payload = base64.encodebytes(data).decode()
    elif cte == "quoted-printable":
        payload = quopri.encodestring(data).decode()
    else:
        payload = data.decode("latin-1")
    head = (f"From: =?gb2312?b?{base64.b64encode('张三'.encode('gb2312')).decode()}?= "
            f"<Zhang.San@Example.COM>\r\nTo: support@gongdan.test\r\nSubject: {subject}\r\n"
            f"Message-ID: <m1@example.com>\r\n{extra}MIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset={charset}\r\n"
            f"Content-Transfer-Encoding: {cte}\r\n\r\n")
    return (head + payload).encode("latin-1")


@pytest.mark.parametrize("charset", ["utf-8", "gb18030", "gbk", "big5"])
@pytest.mark.parametrize("cte", ["base64", "quoted-printable", "8bit"])
def test_bodies_in_every_charset_and_transfer_encoding(charset, cte):
    body = BODY_ZH if charset != "big5" else "您好，備份任務失敗，請協助處理。"
    mail = mime.parse(raw_mail(body, charset, cte))
    assert mail.text.strip() == body
    assert mail.sender == "zhang.san@example.com"
    assert mail.sender_name == "张三"
    assert mail.subject == "备份失败"
    assert mail.message_id == "m1@example.com"


def test_gb2312_label_on_gbk_text_is_read_as_gb18030():
    # 镕 and 堃 are not in GB2312; Outlook labels such GBK text gb2312 anyway
    body = "朱镕基 王堃 的备份任务"
    raw = raw_mail(body, "gb18030", "base64").replace(b"charset=gb18030", b"charset=gb2312")
    assert mime.parse(raw).text.strip() == body


def test_wrong_or_missing_label_falls_back_to_what_decodes():
    raw = raw_mail(BODY_ZH, "gb18030", "8bit").replace(b"charset=gb18030", b"charset=utf-8")
    assert mime.parse(raw).text.strip() == BODY_ZH
    raw = raw_mail(BODY_ZH, "utf-8", "8bit").replace(b"; charset=utf-8", b"")
    assert mime.parse(raw).text.strip() == BODY_ZH
    raw = raw_mail("abc", "utf-8", "8bit").replace(b"charset=utf-8", b"charset=x-no-such")
    assert mime.parse(raw).text.strip() == "abc"


@pytest.mark.parametrize("header, expected", [
    ("=?GB2312?B?" + base64.b64encode("服务器宕机".encode("gb2312")).decode() + "?=", "服务器宕机"),
    ("=?gbk?Q?" + quopri.encodestring("镕".encode("gbk"), header=True).decode() + "?=", "镕"),
    ("=?big5?B?" + base64.b64encode("伺服器當機".encode("big5")).decode() + "?=", "伺服器當機"),
    ("=?utf-8?B?5aSH5Lu9?= =?utf-8?B?5aSx6LSl?=", "备份失败"),  # adjacent words join
    ("Re: =?utf-8?q?=E5=A4=87=E4=BB=BD?= [TS20261122001]", "Re: 备份 [TS20261122001]"),
    ("=?utf-8?B?broken", "=?utf-8?B?broken"),
    ("plain   subject", "plain subject"),
])
def test_rfc2047_subjects(header, expected):
    assert mime.decode_header(header) == expected


def _with_attachment(filename_header):
    return (b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=BB\r\n\r\n--BB\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n--BB\r\n"
            + filename_header + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(b"log line\n") + b"--BB--\r\n")


@pytest.mark.parametrize("header", [
    # RFC 2231 (Thunderbird, Apple Mail)
    b"Content-Type: text/plain\r\nContent-Disposition: attachment; "
    b"filename*=UTF-8''%E9%94%99%E8%AF%AF%E6%97%A5%E5%BF%97.log",
    # RFC 2231 continuations
    b"Content-Type: text/plain\r\nContent-Disposition: attachment;\r\n"
    b" filename*0*=UTF-8''%E9%94%99%E8%AF%AF;\r\n filename*1*=%E6%97%A5%E5%BF%97.log",
    # RFC 2047 inside the parameter (Outlook, Foxmail), gb2312 labelled
    b"Content-Type: text/plain; name=\"=?gb2312?B?" +
    base64.b64encode("错误日志.log".encode("gb2312")) + b"?=\"\r\n"
    b"Content-Disposition: attachment; filename=\"=?gb2312?B?" +
    base64.b64encode("错误日志.log".encode("gb2312")) + b"?=\"",
    # raw 8-bit UTF-8 in the parameter
    "Content-Type: text/plain\r\nContent-Disposition: attachment; filename=\"错误日志.log\""
    .encode("utf-8"),
])
def test_attachment_file_names(header):
    mail = mime.parse(_with_attachment(header))
    assert [a.filename for a in mail.attachments] == ["错误日志.log"]
    assert mail.attachments[0].data == b"log line\n"
    assert mail.text.strip() == "hello"


def test_html_only_mail_becomes_safe_text():
    html = ("<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
            "<p>第一行 &amp; more</p><div>second<br>third</div>"
            "<div class=\"gmail_quote\">On Mon wrote:<blockquote>old</blockquote></div>"
            "<img src=x onerror=alert(2)></body></html>")
    msg = MIMEText(html, "html", "utf-8")
    msg["From"] = "a@example.com"
    text = mime.parse(msg.as_bytes()).text
    assert text == "第一行 & more\n\nsecond\nthird"
    assert "<" not in text and "alert" not in text and "old" not in text


def test_html_keeps_quotes_when_asked_and_survives_garbage():
    assert "old" in htmltext.to_text("<blockquote type=cite>old</blockquote>", keep_quotes=True)
    assert htmltext.to_text("<div><p>unclosed <b>bold") == "unclosed bold"
    assert htmltext.to_text("") == ""


def test_plain_part_preferred_over_html():
    msg = MIMEMultipart("alternative")
    msg["From"] = "a@example.com"
    msg.attach(MIMEText("plain 文本", "plain", "utf-8"))
    msg.attach(MIMEText("<p>html</p>", "html", "utf-8"))
    assert mime.parse(msg.as_bytes()).text == "plain 文本"


@pytest.mark.parametrize("raw", [
    b"",
    b"garbage without headers",
    b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nno end",
    b"From: a@example.com\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n"
    b"\r\n!!!not base64!!!",
    b"Subject: =?utf-8?b?\xff\xfe?=\r\nFrom: <<<>>>\r\n\r\n\xff\xfe\x00body",
])
def test_malformed_mime_never_raises(raw):
    mail = mime.parse(raw)
    assert isinstance(mail.text, str) and isinstance(mail.subject, str)


def test_missing_from_is_invalid():
    mail = mime.parse(b"To: support@gongdan.test\r\nSubject: hi\r\n\r\nbody")
    assert mail.sender is None
    assert domain.classify(mail, set(), NUMBER) == "invalid"


# ---- quoted history ---------------------------------------------------------------------

NEW = "新的情况：重启后仍然失败。"
STYLES = {
    "marker": f"{NEW}\n\n{quotes.MARKER}\n您的工单 TS20261122001 有新回复",
    "outlook_en": f"{NEW}\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nold",
    "outlook_zh": f"{NEW}\n\n-----原始邮件-----\n发件人: 技术支持\n发送时间: 2026年11月22日\nold",
    "outlook_rule": f"{NEW}\n________________________________\nFrom: Support <s@x>\n"
                    "Sent: Monday, November 23, 2026 9:00 AM\nTo: me\nold",
    "outlook_header_block": f"{NEW}\n\n发件人: 技术支持 <s@x>\n发送时间: 2026年11月22日 10:00\n"
                            "收件人: 我\n主题: 回复: 备份失败\nold",
    "foxmail": f"{NEW}\n\n------------------ Original ------------------\nFrom: \"Support\"\n"
               "Date: Mon, Nov 23, 2026\nold",
    "qq": f"{NEW}\n\n------------------&nbsp;原始邮件&nbsp;------------------\n发件人: x\nold"
          .replace("&nbsp;", " "),
    "gmail_en": f"{NEW}\n\nOn Mon, Nov 23, 2026 at 9:00 AM Support <s@x> wrote:\n> old\n> older",
    "gmail_wrapped": f"{NEW}\n\nOn Mon, Nov 23, 2026 at 9:00 AM Gongdan Support Desk\n"
                     "<support@gongdan.test> wrote:\n> old",
    "gmail_zh": f"{NEW}\n\n技术支持 <s@x> 于2026年11月23日周一 09:00写道：\n> old",
    "apple_zh": f"{NEW}\n\n2026年11月23日 09:00，技术支持 <s@x> 写道：\n\n> old",
    "quoted_tail": f"{NEW}\n\n> old line\n> another\n",
}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_quoted_history_is_stripped(style):
    assert quotes.strip_quoted(STYLES[style]) == NEW


def test_inline_quote_with_answer_below_is_kept():
    text = "> is it broken?\nyes, since Monday"
    assert quotes.strip_quoted(text) == text


def test_only_quote_keeps_everything():
    assert quotes.strip_quoted("> only old text") == "> only old text"


def test_marker_wins_over_later_styles():
    text = f"top\n{quotes.MARKER}\n-----Original Message-----\nx"
    assert quotes.strip_quoted(text) == "top"


# ---- threading, loops, bounces ------------------------------------------------------------

def _mail(**headers):
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Cust <cust@example.com>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("body")
    return mime.parse(msg.as_bytes())


TID = "0b6c3f4e-1d2a-4a8b-9c0d-123456789abc"


def test_reply_found_by_our_thread_id_even_with_edited_subject():
    mail = _mail(Subject="something else", In_Reply_To="<d1@gongdan.notify>",
                 References=f"<ticket.{TID}@gongdan.notify> <d1@gongdan.notify>")
    assert domain.referenced_ticket(mail, NUMBER) == ("id", TID)
    assert domain.classify(mail, set(), NUMBER) == "reply"


def test_reply_found_by_number_in_subject():
    mail = _mail(Subject="回复：[TS20261122001] 备份失败")
    assert domain.referenced_ticket(mail, NUMBER) == ("number", "TS20261122001")
    assert domain.title_from(mail.subject, NUMBER) == "备份失败"


def test_thread_ids_round_trip():
    ids = domain.thread_ids(TID, "d-1")
    assert domain.ticket_ref_id(mime.message_ids(ids["References"])[0]) == TID


@pytest.mark.parametrize("subject, title", [
    ("Re: RE: Fwd: 备份失败", "备份失败"),
    ("回复: 答复：转发: 服务器宕机", "服务器宕机"),
    ("", "（无主题）/ (no subject)"),
    ("Re:", "（无主题）/ (no subject)"),
    ("x" * 300, "x" * 200),
])
def test_titles(subject, title):
    assert domain.title_from(subject, NUMBER) == title


@pytest.mark.parametrize("headers", [
    {"Auto_Submitted": "auto-replied"},
    {"Auto_Submitted": "auto-generated"},
    {"Precedence": "bulk"}, {"Precedence": "list"}, {"Precedence": "junk"},
    {"X_Autoreply": "yes"},
    {"X_Auto_Response_Suppress": "All"},
    {"List_Id": "<support.lists.example.com>"},
    {"From": "MAILER-DAEMON@example.com"},
])
def test_auto_replies_are_never_answered(headers):
    mail = _mail(Subject="Out of office", **headers)
    assert domain.classify(mail, set(), NUMBER) in ("auto", "bounce")
    assert domain.auto_reason(mail)


def test_auto_submitted_no_is_a_person():
    assert domain.classify(_mail(Subject="hi", Auto_Submitted="no"), set(), NUMBER) == "new"


def test_our_own_messages_are_recognised():
    assert domain.classify(_mail(Message_ID="<abc@gongdan.notify>"), set(), NUMBER) == "own"
    assert domain.classify(_mail(From="support@gongdan.test"), {"support@gongdan.test"},
                           NUMBER) == "own"


def dsn(delivery_id="0b6c3f4e-1d2a-4a8b-9c0d-000000000001"):
    """A bounce as Postfix sends it (RFC 3464)."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n"
        "--R\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--R\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        "--R\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{delivery_id}@gongdan.notify>\r\nSubject: x\r\n\r\n--R--\r\n"
    ).encode()


def test_dsn_names_the_failed_delivery():
    mail = mime.parse(dsn())
    assert domain.classify(mail, set(), NUMBER) == "bounce"
    b = domain.bounce(mail)
    assert b.delivery_id == "0b6c3f4e-1d2a-4a8b-9c0d-000000000001"
    assert b.recipient == "gone@example.com"
    assert b.status == "5.1.1"
    assert "user unknown" in b.diagnostic
    assert mail.attachments == []  # the report parts are not attachments


def test_plain_bounce_quoting_our_message_id():
    msg = EmailMessage()
    msg["From"] = "postmaster@example.com"
    msg.set_content("delivery failed\n\nMessage-ID: <0b6c3f4e-1d2a-4a8b-9c0d-000000000002"
                    "@gongdan.notify>\n")
    b = domain.bounce(mime.parse(msg.as_bytes()))
    assert b.delivery_id == "0b6c3f4e-1d2a-4a8b-9c0d-000000000002"


def test_unknown_sender_reply_is_bilingual_and_points_to_registration():
    mail = _mail(Subject="求助")
    subject, text = domain.unknown_sender_reply(mail, {"address": "support@gongdan.test"},
                                                "unknown", "https://desk.example.com")
    assert "求助" in subject
    assert "注册" in text and "register" in text and "https://desk.example.com" in text
    _, pending = domain.unknown_sender_reply(mail, None, "pending", "u")
    assert "审核" in pending and "approval" in pending


def test_eight_bit_header_values_do_not_break_the_loop_checks():
    raw = ("From: a@example.com\r\nPrecedence: 批量\r\nAuto-Submitted: no\r\n"
           "Subject: 你好\r\n\r\nbody").encode("utf-8")
    mail = mime.parse(raw)
    assert domain.auto_reason(mail) is None
    assert domain.classify(mail, set(), NUMBER) == "new"
