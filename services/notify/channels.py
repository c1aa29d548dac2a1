"""The ways a message leaves the system. Each sender takes one delivery (a plain dict) and
returns an `Outcome`; none raises for a failed send. Chosen by config (NOTIFY.*).

- `SmtpEmail`: SMTP with STARTTLS or implicit TLS and optional login; multipart text + HTML.
- `SmsProvider` protocol: `LogSms` (the local default: the message is recorded in the
  delivery log only) and `HttpSms` (POSTs JSON to a provider endpoint with a bearer key).
- `WebhookSender`: signed POST, no redirects, the SSRF policy checked again at send time.
All network calls are plain sockets, made cooperative by eventlet's monkey patching.
"""
import base64
import dataclasses
import email
import json
import smtplib
import time
import uuid
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from typing import Protocol

import requests

from gongdan_common import mail

from . import domain


@dataclasses.dataclass
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    response: str | None = None
    retryable: bool = True


class Sender(Protocol):
    def send(self, delivery: dict) -> Outcome: ...


class SmtpEmail:
    """Sessions are kept open and reused (connect, TLS, login and QUIT once per session, not
    per mail): at most MAX_IDLE idle ones, each for MAX_MESSAGES mails. One idle for more
    than CHECK_AFTER seconds is checked with NOOP first, and one idle for IDLE_SECONDS is
    closed, so a session the server dropped is replaced before a mail is given to it.
    Any error closes the session."""
    MAX_IDLE, MAX_MESSAGES, CHECK_AFTER, IDLE_SECONDS = 8, 100, 1.0, 30.0

    def __init__(self, host, port, security="none", username=None, password=None,
                 sender="Gongdan <noreply@gongdan.local>", timeout=10):
        self.host, self.port, self.security = host, int(port), security
        self.username, self.password = username or None, password or None
        self.sender, self.timeout = sender, float(timeout)
        name, self._envelope_from = parseaddr(sender)
        self._from = formataddr((name, self._envelope_from), charset="utf-8")
        self._idle = []  # [client, sent, idle since], the most recent last
        self.connects = 0  # sessions opened (for tests and the curious)

    def _session(self):
        while self._idle:
            session = self._idle.pop()
            idle = time.monotonic() - session[2]
            try:
                if idle < self.CHECK_AFTER or (idle < self.IDLE_SECONDS
                                               and session[0].noop()[0] == 250):
                    return session
            except (smtplib.SMTPException, OSError):
                pass
            _close(session[0])
        client = mail.connect(self.host, self.port, self.security, self.username,
                              self.password, self.timeout)
        self.connects += 1
        return [client, 0, 0.0]

    def _release(self, session):
        session[1] += 1
        if session[1] >= self.MAX_MESSAGES or len(self._idle) >= self.MAX_IDLE:
            _close(session[0], quit=True)
        else:
            session[2] = time.monotonic()
            self._idle.append(session)

    def close(self):
        while self._idle:
            _close(self._idle.pop()[0], quit=True)

    def raw(self, delivery):
        """The mail as CRLF bytes, written directly: the MIME the email package's compat32
        classes wrote (multipart/alternative of base64 UTF-8 text and HTML, the same
        headers), without their per-header parsing and folding and a regex compiled per
        boundary (0.45 ms a mail, the largest share of sending it). A non-ASCII address
        keeps EmailMessage (its SMTPUTF8 headers)."""
        text, html = delivery.get("body_text") or "", delivery.get("body_html")
        if delivery.get("ticket_id"):
            # the marker line on top tells the reader, and channels' quote stripping, where
            # to cut (docs/channels.md)
            text = f"{mail.REPLY_MARKER}\n\n{text}"
            if html:
                html = (f'<p style="color:#888;font-size:12px">{mail.REPLY_MARKER}</p>'
                        + html)
        if not delivery["address"].isascii():
            return self._message_utf8(delivery, text, html).as_bytes(policy=policy.SMTPUTF8)
        if html:
            # "=_" never occurs in base64, so no body can contain the boundary
            boundary = "=_" + uuid.uuid4().hex
            head = [f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"',
                    "MIME-Version: 1.0"]
            body = (f"--{boundary}\r\n{_part('plain', text)}\r\n--{boundary}\r\n"
                    f"{_part('html', html)}\r\n--{boundary}--\r\n")
        else:
            part = _part("plain", text)
            split = part.index("\r\n\r\n")
            head, body = part[:split].split("\r\n"), part[split + 4:]
        head += [f"Subject: {_subject(delivery['subject'] or '')}", f"From: {self._from}",
                 f"To: {_one_line(delivery['address'])}", f"Date: {formatdate()}"]
        head += [f"{name}: {_one_line(value)}" for name, value in self._headers(delivery)]
        return ("\r\n".join(head) + "\r\n\r\n" + body).encode("ascii")

    def message(self, delivery):
        """The mail as an EmailMessage (what a mail program reads from `raw`)."""
        return email.message_from_bytes(self.raw(delivery), policy=policy.default)

    def _headers(self, delivery):
        # the same Message-ID on every attempt: if we crash after the server took the
        # message but before recording it, the resend carries the same id and mail systems
        # drop it
        yield "Message-ID", f"<{delivery['id']}@gongdan.notify>"
        yield "X-Gongdan-Delivery", delivery["id"]
        if delivery.get("ticket_id"):
            # every mail about a ticket refers to one root id, so mail programs thread them
            # and a reply names its ticket (channels reads it back, docs/channels.md)
            root = mail.thread_root(delivery["ticket_id"])
            yield "In-Reply-To", root
            yield "References", root
        if delivery.get("language"):
            yield "Content-Language", "zh-CN" if delivery["language"] == "zh" else "en"

    def _message_utf8(self, delivery, text, html):
        msg = EmailMessage()
        msg["Subject"] = delivery["subject"]
        msg["From"] = self.sender
        msg["To"] = delivery["address"]
        msg.set_content(text, charset="utf-8")
        if html:
            msg.add_alternative(html, subtype="html", charset="utf-8")
        for name, value in self._headers(delivery):  # after the body: set_content drops
            msg[name] = value                          # Content-* headers set before it
        return msg

    def send(self, delivery):
        session = None
        try:
            session = self._session()
            address = delivery["address"]
            refused = session[0].sendmail(
                self._envelope_from, [address], self.raw(delivery),
                mail_options=() if address.isascii() else ("SMTPUTF8",))
            self._release(session)
            session = None
            if refused:
                return Outcome(False, error=f"refused: {refused}", retryable=False)
            return Outcome(True, status_code=250)
        except smtplib.SMTPRecipientsRefused as err:
            return Outcome(False, error=f"recipient refused: {err.recipients}", retryable=False)
        except (smtplib.SMTPException, OSError) as err:
            return Outcome(False, error=f"{type(err).__name__}: {err}"[:500])
        finally:
            if session is not None:  # a failed session is not reused
                _close(session[0])


def _part(subtype, content):
    """A text part, UTF-8 in base64 lines of 76 characters (what MIMEText wrote)."""
    lines = base64.encodebytes(content.encode()).decode("ascii").replace("\n", "\r\n")
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{lines}")


def _subject(subject):
    subject = _one_line(subject)
    if subject.isascii() and len(subject) <= 68:
        return subject
    # RFC 2047 encoded words of at most 75 characters on folded lines (long ASCII
    # subjects are folded the same way, as compat32 did)
    return Header(subject, "utf-8" if not subject.isascii() else "us-ascii",
                  header_name="Subject").encode(linesep="\r\n")


def _one_line(value):
    """A header value cannot carry a line break (it would end the header)."""
    value = str(value)
    return " ".join(value.split()) if "\r" in value or "\n" in value else value


def _close(client, quit=False):
    try:
        if quit:
            client.quit()
        else:
            client.close()
    except (smtplib.SMTPException, OSError):
        client.close()


class SmsProvider(Protocol):
    def send(self, delivery: dict) -> Outcome: ...


class LogSms:
    """No provider configured: the text is kept in the delivery log (`response`)."""

    def send(self, delivery):
        return Outcome(True, response=f"[log-only SMS to {delivery['address']}] "
                                      f"{delivery.get('body_text') or ''}"[:1000])


class HttpSms:
    """A generic HTTP SMS gateway: POST {to, text, reference} with `Authorization: Bearer`."""

    def __init__(self, endpoint, api_key=None, timeout=10):
        self.endpoint, self.api_key, self.timeout = endpoint, api_key, float(timeout)

    def send(self, delivery):
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            r = requests.post(self.endpoint, json={
                "to": delivery["address"], "text": delivery.get("body_text") or "",
                "reference": delivery["id"]}, headers=headers, timeout=self.timeout)
        except requests.RequestException as err:
            return Outcome(False, error=f"{type(err).__name__}: {err}"[:500])
        ok = 200 <= r.status_code < 300
        return Outcome(ok, status_code=r.status_code, response=r.text[:500],
                       error=None if ok else f"HTTP {r.status_code}",
                       retryable=r.status_code >= 500 or r.status_code == 429)


def sms_provider(cfg):
    if (cfg or {}).get("provider", "log") == "http":
        return HttpSms(cfg["endpoint"], cfg.get("api_key"), cfg.get("timeout", 10))
    return LogSms()


class WebhookSender:
    def __init__(self, allow_networks=(), timeout=5, user_agent="Gongdan-Webhooks/1"):
        self.allow_networks, self.timeout, self.user_agent = allow_networks, timeout, user_agent

    def send(self, delivery):
        try:
            domain.check_url(delivery["address"], self.allow_networks)
        except domain.UrlRefused as err:
            return Outcome(False, error=f"refused by the SSRF policy: {err.en}", retryable=False)
        body = json.dumps(delivery["payload"], ensure_ascii=False, separators=(",", ":"),
                          sort_keys=True).encode()
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": self.user_agent,
            "Gongdan-Event": delivery["event_type"],
            "Gongdan-Event-Id": str((delivery.get("payload") or {}).get("event_id")
                                    or delivery["event_id"]),
            "Gongdan-Delivery": delivery["id"],
            "Gongdan-Signature": domain.signature_header(delivery["secret"], ts, body),
        }
        try:
            r = requests.post(delivery["address"], data=body, headers=headers,
                              timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as err:
            return Outcome(False, error=f"{type(err).__name__}: {err}"[:500])
        ok = 200 <= r.status_code < 300
        return Outcome(ok, status_code=r.status_code, response=r.text[:500],
                       error=None if ok else f"HTTP {r.status_code}")
