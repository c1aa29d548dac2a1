"""The IMAP side against a real server (dovecot): what a poll takes, that a mail is marked
on the server only once its handling is final, moving to a done folder, IDLE waking on new
mail, and the admin's connection test."""
import itertools
import threading
import time

import pytest

from services.channels import imap

_seq = itertools.count(1)


def box(dovecot, user="support@gongdan.test", password="secret-1", **over):
    return {"id": "mb", "name": "support", "address": user, "host": "127.0.0.1",
            "port": dovecot.port, "security": "none", "username": user, "password": password,
            "folder": "INBOX", "done_folder": None, **over}


def raw(subject="hi"):
    return (f"From: a@example.com\r\nSubject: {subject}\r\nMessage-ID: <{next(_seq)}."
            f"{time.time()}@t>\r\n\r\nbody\r\n").encode()


@pytest.fixture
def empty(dovecot):
    """INBOX of the sales mailbox emptied before the test."""
    conn = dovecot.client("sales@gongdan.test")
    conn.select("INBOX")
    conn.uid("STORE", "1:*", "+FLAGS", "(\\Deleted)")
    conn.expunge()
    conn.logout()
    return box(dovecot, "sales@gongdan.test", "secret-2")


def test_poll_takes_each_mail_once_and_marks_only_final_ones(dovecot, empty):
    for subject in ("one", "two", "three"):
        dovecot.append("sales@gongdan.test", raw(subject))
    outcomes = iter([{"status": "done"}, {"status": "released"}, {"status": "held"}])
    seen = []

    def handle(uid, data):
        seen.append(uid)
        return next(outcomes)

    handled, conn = imap.poll(empty, handle)
    imap.close(conn)
    assert handled == 3 and len(seen) == 3
    flags = dovecot.flags("sales@gongdan.test")
    marked = sorted(u for u, f in flags.items() if imap.DONE_FLAG in f)
    assert marked == [seen[0], seen[2]]  # the released one stays for the next poll
    again = []
    handled, conn = imap.poll(empty, lambda uid, data: again.append(uid) or {"status": "done"})
    imap.close(conn)
    assert again == [seen[1]]


def test_done_folder_moves_the_mail(dovecot, empty):
    dovecot.append("sales@gongdan.test", raw())
    moved = dict(empty, done_folder="Processed")
    handled, conn = imap.poll(moved, lambda uid, data: {"status": "done"})
    imap.close(conn)
    assert handled == 1
    assert dovecot.flags("sales@gongdan.test") == {}
    assert len(dovecot.flags("sales@gongdan.test", "Processed")) == 1


def test_idle_wakes_when_mail_arrives(dovecot, empty):
    handled, conn = imap.poll(empty, lambda uid, data: {"status": "done"})
    try:
        assert imap.supports_idle(conn)
        timer = threading.Timer(0.5, lambda: dovecot.append("sales@gongdan.test", raw()))
        timer.start()
        started = time.monotonic()
        assert imap.idle(conn, 20) is True
        assert time.monotonic() - started < 15
        assert imap.idle(conn, 0.3) is False  # nothing new: back after the timeout
        more, conn = imap.poll(empty, lambda uid, data: {"status": "done"}, conn=conn)
        assert more == 1
    finally:
        imap.close(conn)


def test_connection_test_says_what_is_wrong(dovecot):
    ok = imap.test_connection(box(dovecot))
    assert ok["ok"] is True and "IDLE" in ok["capabilities"]
    bad = imap.test_connection(box(dovecot, password="wrong"))
    assert bad["ok"] is False and "AUTHENTICATIONFAILED" in bad["message"].upper()
    nothing = imap.test_connection(dict(box(dovecot), port=1))
    assert nothing["ok"] is False and "refused" in nothing["message"].lower()
    folder = imap.test_connection(box(dovecot, folder="NoSuchFolder"))
    assert folder["ok"] is False
