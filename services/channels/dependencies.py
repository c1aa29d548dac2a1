"""Channels' dependencies: intake and the gateway's user directory over RPC (with a deadline,
as nameko 2.14's service-side proxy has none), the object store, and the mail sender that
answers unknown senders.

Config (all optional; see docs/channels.md):

    CHANNELS:
      rpc_timeout: 10         # seconds for each intake / gateway call
"""
import uuid
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from typing import Protocol

import eventlet
from nameko.exceptions import UnknownService
from nameko.extensions import DependencyProvider

from gongdan_common import mail
from gongdan_common.amqp import RpcProxy
from gongdan_common.errors import AppError


class Unavailable(Exception):
    """A service we need is away: leave the mail where it is and try again later."""


class TimedProxy(RpcProxy):
    """`RpcProxy` whose worker-side value calls with a deadline and turns "not there" (no
    answer, unknown service, its own 503) into `Unavailable`."""

    def setup(self):
        cfg = self.container.config.get("CHANNELS") or {}
        self.timeout = float(cfg.get("rpc_timeout", 10))
        self.options = {"expiration": max(1, int(self.timeout * 1000))}

    def get_dependency(self, worker_ctx):
        return TimedClient(super().get_dependency(worker_ctx), self.timeout)


class TimedClient:
    def __init__(self, proxy, timeout):
        self.proxy, self.timeout = proxy, timeout

    def __getattr__(self, method):
        def call(*args):
            timer = eventlet.Timeout(self.timeout)
            try:
                return getattr(self.proxy, method)(*args)
            except eventlet.Timeout as err:
                if err is not timer:
                    raise
                raise Unavailable(f"{self.proxy.service_name}.{method}: no answer") from None
            except UnknownService:
                raise Unavailable(f"{self.proxy.service_name} is not running") from None
            except AppError as err:
                if err.status >= 500:
                    raise Unavailable(f"{self.proxy.service_name}.{method}: {err.code}") from None
                raise
            finally:
                timer.cancel()
        return call


class Replier(Protocol):
    def send(self, to: str, subject: str, text: str, in_reply_to: str | None,
             sender: str) -> None: ...


class SmtpReplier:
    """Sends our few own mails (the answer to an unknown sender) over SMTP, marked so that no
    auto-responder answers them (RFC 3834 Auto-Submitted) and so that, should one come back,
    we know it as ours (Message-ID in our domain)."""

    def __init__(self, host, port, security="none", username=None, password=None,
                 timeout=10):
        self.host, self.port, self.security = host, int(port), security
        self.username, self.password, self.timeout = username or None, password, float(timeout)

    @staticmethod
    def message(to, subject, text, in_reply_to, sender):
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = sender
        msg["To"] = formataddr(parseaddr(to))
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = f"<reply.{uuid.uuid4()}@gongdan.notify>"
        if in_reply_to:
            msg["In-Reply-To"] = f"<{in_reply_to}>"
            msg["References"] = f"<{in_reply_to}>"
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
        msg.set_content(text, charset="utf-8")
        return msg

    def send(self, to, subject, text, in_reply_to, sender):
        with mail.connect(self.host, self.port, self.security, self.username, self.password,
                          self.timeout) as client:
            client.send_message(self.message(to, subject, text, in_reply_to, sender))


class ReplierProvider(DependencyProvider):
    """SMTP settings: CHANNELS.smtp, else notify's (NOTIFY.smtp): one outgoing relay."""

    def setup(self):
        cfg = self.container.config
        smtp = dict(((cfg.get("NOTIFY") or {}).get("smtp") or {}))
        smtp.update((cfg.get("CHANNELS") or {}).get("smtp") or {})
        self.replier = SmtpReplier(smtp.get("host", "127.0.0.1"), smtp.get("port", 25),
                                   smtp.get("security", "none"), smtp.get("username"),
                                   smtp.get("password"), smtp.get("timeout", 10))

    def get_dependency(self, worker_ctx):
        return self.replier
