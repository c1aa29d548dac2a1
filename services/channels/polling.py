"""One turn of watching an IMAP mailbox: take what waits, then (where the server offers it)
IDLE until new mail arrives or `idle_seconds` pass, and take that too."""
import dataclasses
import logging

from . import admin, handlers, imap

log = logging.getLogger(__name__)


def watch_mailbox(mailbox_id, deps, idle_seconds, new_uow=None, concurrency=1):
    """`new_uow()` gives each concurrently handled mail a unit of work of its own."""
    boxes = {b["id"]: b for b in admin.imap_mailboxes(deps.uow, deps.settings["vault"])}
    box = boxes.get(mailbox_id)
    if box is None:
        return {"handled": 0, "idled": False}

    def handle(uid, raw):
        mine = dataclasses.replace(deps, uow=new_uow()) if new_uow else deps
        return handlers.ingest(raw, box, uid, mine)

    conn = None
    try:
        handled, conn = imap.poll(box, handle, concurrency=concurrency)
        idled = False
        if idle_seconds > 0 and imap.supports_idle(conn):
            idled = True
            if imap.idle(conn, idle_seconds):
                more, conn = imap.poll(box, handle, conn=conn, concurrency=concurrency)
                handled += more
        admin.record_poll(deps.uow, mailbox_id, deps.settings["now"]())
        return {"handled": handled, "idled": idled}
    except imap.ImapError as err:
        log.warning("mailbox %s: %s", box["name"], err)
        admin.record_poll(deps.uow, mailbox_id, deps.settings["now"](), error=str(err))
        return {"handled": 0, "idled": False, "error": str(err)}
    finally:
        if conn is not None:
            imap.close(conn)
