"""Fetching from a support mailbox over IMAP (imaplib, made cooperative by eventlet's monkey
patching), with IDLE where the server offers it (imaplib has no IDLE: `idle()` below speaks
RFC 2177 over imaplib's own connection).

A poll takes the mails not yet marked done (`UNKEYWORD $GongdanDone`, so a mail a person
reads in their mail program is still taken), hands each to `handle(uid, raw)` and marks it
on the server only after that returned a final status: moved to `done_folder` when one is
set, else flagged `\\Seen $GongdanDone` in place.
"""
import imaplib
import logging
import re
import select
import ssl
import time

import eventlet

log = logging.getLogger(__name__)
DONE_FLAG = "$GongdanDone"
FINAL = ("done", "held", "discarded")


class ImapError(Exception):
    pass


def connect(mailbox, timeout=30):
    host, port = mailbox["host"], int(mailbox.get("port") or 0)
    security = mailbox.get("security") or "none"
    try:
        if security == "ssl":
            conn = imaplib.IMAP4_SSL(host, port or 993, ssl_context=ssl.create_default_context(),
                                     timeout=timeout)
        else:
            conn = imaplib.IMAP4(host, port or 143, timeout=timeout)
            if security == "starttls":
                conn.starttls(ssl_context=ssl.create_default_context())
        conn.login(mailbox.get("username") or mailbox["address"], mailbox.get("password") or "")
        typ, data = conn.capability()  # servers announce more (MOVE, IDLE) once logged in
        if typ == "OK" and data and data[-1]:
            conn.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())
        return conn
    except (imaplib.IMAP4.error, OSError) as err:
        raise ImapError(f"{type(err).__name__}: {err}"[:300]) from None


def test_connection(mailbox):
    """-> {"ok", "message", "capabilities", "messages"}: log in and look at the folder."""
    try:
        conn = connect(mailbox, timeout=10)
    except ImapError as err:
        return {"ok": False, "message": str(err)}
    try:
        typ, data = conn.select(_quote(mailbox.get("folder") or "INBOX"), readonly=True)
        if typ != "OK":
            return {"ok": False, "message": f"cannot open folder: {data!r}"[:300]}
        return {"ok": True, "message": "OK", "messages": int(data[0] or 0),
                "capabilities": sorted(conn.capabilities)}
    finally:
        _logout(conn)


def _quote(folder):
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _logout(conn):
    try:
        conn.logout()
    except (imaplib.IMAP4.error, OSError):
        pass


_UID = re.compile(rb"UID (\d+)")


def pending_uids(conn):
    typ, data = conn.uid("SEARCH", None, "UNKEYWORD", DONE_FLAG, "UNDELETED")
    if typ != "OK":
        raise ImapError(f"SEARCH failed: {data!r}")
    return [u.decode() for u in (data[0] or b"").split()]


def fetch(conn, uid):
    typ, data = conn.uid("FETCH", uid, "(BODY.PEEK[])")
    if typ != "OK":
        raise ImapError(f"FETCH {uid} failed: {data!r}")
    for item in data:
        if isinstance(item, tuple) and _UID.search(item[0]):
            return item[1]
    return None  # expunged meanwhile


def mark_done(conn, uid, done_folder):
    if done_folder:
        if "MOVE" in conn.capabilities:
            typ, data = conn.uid("MOVE", uid, _quote(done_folder))
            if typ == "OK":
                return
        typ, data = conn.uid("COPY", uid, _quote(done_folder))
        if typ != "OK":
            raise ImapError(f"COPY {uid} to {done_folder} failed: {data!r}")
        conn.uid("STORE", uid, "+FLAGS", f"(\\Deleted \\Seen {DONE_FLAG})")
        conn.expunge()
        return
    conn.uid("STORE", uid, "+FLAGS", f"(\\Seen {DONE_FLAG})")


def poll(mailbox, handle, max_mails=500, conn=None, concurrency=1):
    """Take what is waiting in `mailbox`; -> (number handled, connection for idle()).

    Mails are fetched `concurrency` at a time (so memory holds at most that many) and
    handled concurrently, each `handle(uid, raw)` in its own green thread; the IMAP
    connection itself is used by this thread only, for fetching and marking."""
    own = conn is None
    conn = conn or connect(mailbox)
    try:
        if own:
            typ, data = conn.select(_quote(mailbox.get("folder") or "INBOX"))
            if typ != "OK":
                raise ImapError(f"cannot open folder {mailbox.get('folder')}: {data!r}")
            if mailbox.get("done_folder"):
                conn.create(_quote(mailbox["done_folder"]))  # NO when it exists: fine
        handled = 0
        pool = eventlet.GreenPool(max(1, concurrency))
        uids = pending_uids(conn)[:max_mails]
        for start in range(0, len(uids), max(1, concurrency)):
            batch = [(uid, fetch(conn, uid)) for uid in uids[start:start + max(1, concurrency)]]
            batch = [(uid, raw) for uid, raw in batch if raw is not None]  # expunged meanwhile
            for (uid, _), result in zip(batch, pool.imap(lambda item: handle(*item), batch)):
                if result.get("status") in FINAL:
                    mark_done(conn, uid, mailbox.get("done_folder"))
                handled += 1
        return handled, conn
    except (imaplib.IMAP4.error, OSError) as err:
        _logout(conn)
        raise ImapError(f"{type(err).__name__}: {err}"[:300]) from None
    except BaseException:
        _logout(conn)
        raise


def supports_idle(conn):
    return "IDLE" in conn.capabilities


def idle(conn, seconds):
    """RFC 2177 IDLE: wait up to `seconds` for the server to announce new mail.
    -> True when something arrived (EXISTS/RECENT), False on timeout."""
    tag = conn._new_tag()
    conn.send(tag + b" IDLE\r\n")
    line = conn.readline()
    if not line.startswith(b"+"):
        raise ImapError(f"IDLE refused: {line!r}")
    arrived = False
    deadline = time.monotonic() + seconds
    # wait on the socket, not with a socket timeout: a timed-out read leaves imaplib's
    # buffered file unusable
    while not arrived:
        left = deadline - time.monotonic()
        buffered = conn.sock.pending() if hasattr(conn.sock, "pending") else 0  # TLS
        if left <= 0:
            break
        if not buffered and not select.select([conn.sock], [], [], left)[0]:
            break
        line = conn.readline()
        if not line:
            raise ImapError("connection closed during IDLE")
        arrived = bool(re.match(rb"\* \d+ (EXISTS|RECENT)", line))
    conn.send(b"DONE\r\n")
    while True:  # the tagged end of IDLE (untagged lines may come first)
        line = conn.readline()
        if not line:
            raise ImapError("connection closed ending IDLE")
        if line.startswith(tag):
            break
    return arrived


def close(conn):
    _logout(conn)
