"""Receiving mail pushed by the organisation's mail server: a small LMTP (RFC 2033) and SMTP
listener as a nameko entrypoint. Each message becomes one worker of the decorated method,
called `(recipients, raw)`; the reply to the mail server waits for that worker, so a mail is
acknowledged (250) only once its ticket committed or it was held aside, and a service that
is away gets a 451 (the mail server keeps the mail and tries again). No relaying: it takes
mail for the support addresses the method accepts and nothing else.

Config: `CHANNELS.lmtp_address` (host:port; empty = no listener),
`CHANNELS.max_message_bytes` (refused beyond, 552).
"""
import logging

import eventlet
from eventlet.event import Event
from nameko.extensions import Entrypoint

log = logging.getLogger(__name__)
CODES = {"accepted": "250 2.0.0 Ok: taken", "retry": "451 4.3.0 Try again later",
         "unknown": "550 5.1.1 No such mailbox here"}


class LmtpServer(Entrypoint):
    def setup(self):
        cfg = self.container.config.get("CHANNELS") or {}
        self.address = str(cfg.get("lmtp_address") or "").strip()
        self.max_bytes = int(cfg.get("max_message_bytes", 80 * 1024 * 1024))
        self.sock = None
        self.port = None

    def start(self):
        if not self.address:
            return
        host, _, port = self.address.rpartition(":")
        self.sock = eventlet.listen((host or "127.0.0.1", int(port)))
        self.port = self.sock.getsockname()[1]
        log.info("mail listener (LMTP/SMTP) on %s:%s", host, self.port)
        self.container.spawn_managed_thread(self._accept, identifier="lmtp-accept")

    def stop(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    kill = stop

    def _accept(self):
        while self.sock is not None:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.container.spawn_managed_thread(lambda c=conn: self._session(c),
                                                identifier="lmtp-session")

    def deliver(self, recipients, raw):
        """Run the worker; -> one of CODES' keys."""
        done = Event()

        def handle_result(worker_ctx, result, exc_info):
            done.send((result, exc_info))
            return result, exc_info

        self.container.spawn_worker(self, (recipients, raw), {}, handle_result=handle_result)
        result, exc_info = done.wait()
        if exc_info is not None:
            return "retry"
        return result

    def _session(self, conn):
        f = conn.makefile("rwb")

        def say(line):
            f.write(line.encode() + b"\r\n")
            f.flush()

        try:
            say("220 gongdan channels ready")
            lmtp, sender, rcpts = False, None, []
            while True:
                line = f.readline(4096)
                if not line:
                    return
                verb = line[:4].upper().decode("ascii", "replace")
                arg = line[4:].strip().decode("utf-8", "replace")
                if verb in ("LHLO", "EHLO"):
                    lmtp = verb == "LHLO"
                    say("250-gongdan")
                    say(f"250-SIZE {self.max_bytes}")
                    say("250-8BITMIME")
                    say("250 PIPELINING")
                elif verb == "HELO":
                    say("250 gongdan")
                elif verb == "MAIL":
                    sender, rcpts = arg, []
                    say("250 2.1.0 Ok")
                elif verb == "RCPT":
                    if sender is None:
                        say("503 5.5.1 MAIL first")
                        continue
                    addr = arg.partition(":")[2].strip().strip("<>").split()[0:1]
                    rcpts.append((addr[0] if addr else "").lower())
                    say("250 2.1.5 Ok")
                elif verb == "DATA":
                    if not rcpts:
                        say("503 5.5.1 RCPT first")
                        continue
                    say("354 End data with <CR><LF>.<CR><LF>")
                    raw = self._read_data(f)
                    if raw is None:
                        codes = ["552 5.3.4 Message too big"]
                    else:
                        codes = [CODES.get(self.deliver(rcpts, raw), CODES["retry"])]
                    for _ in (rcpts if lmtp else [None]):
                        say(codes[0])
                    sender, rcpts = None, []
                elif verb == "RSET":
                    sender, rcpts = None, []
                    say("250 2.0.0 Ok")
                elif verb == "NOOP":
                    say("250 2.0.0 Ok")
                elif verb == "QUIT":
                    say("221 2.0.0 Bye")
                    return
                else:
                    say("502 5.5.2 Command not recognized")
        except OSError:
            return
        finally:
            try:
                f.close()
                conn.close()
            except OSError:
                pass

    def _read_data(self, f):
        """The message up to the lone dot, dot-unstuffed; None (after draining it) when larger
        than max_bytes."""
        chunks, size, too_big = [], 0, False
        while True:
            line = f.readline(1024 * 1024)
            if not line:
                raise OSError("connection closed in DATA")
            if line in (b".\r\n", b".\n"):
                break
            if line.startswith(b".."):
                line = line[1:]
            size += len(line)
            if size > self.max_bytes:
                too_big = True
                chunks = []
            if not too_big:
                chunks.append(line)
        return None if too_big else b"".join(chunks)


lmtp = LmtpServer.decorator
