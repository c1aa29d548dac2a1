"""Administering mail channels: support mailboxes (admin-made or from config) and the mails
held aside. Plain functions over the unit of work; only the admin role gets past `_admin`."""
import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from gongdan_common.validation import load
from gongdan_common.vault import InvalidToken

from . import exceptions as exc, handlers, imap, mime, schemas
from .models import FetchedMail, Mailbox

_mailbox_out = schemas.MailboxSchema()
_mail_out = schemas.MailSchema()
log = logging.getLogger(__name__)


def _admin(actor):
    if not isinstance(actor, dict) or actor.get("role") != "admin":
        raise exc.ADMIN_ONLY()


def mailbox_dict(box, vault):
    """What the pollers and the pipeline need (the password opened: never leaves the
    service)."""
    out = {c: getattr(box, c) for c in (
        "id", "name", "address", "protocol", "host", "port", "security", "username",
        "folder", "done_folder", "product", "ticket_type", "category", "unknown_sender",
        "enabled")}
    out["password"] = _open_password(box, vault)
    return out


def _open_password(box, vault):
    if not box.password_enc:
        return None
    try:
        return vault.open(box.password_enc)
    except InvalidToken:  # the data key changed: the login fails and says so on the mailbox
        log.warning("mailbox %s: its password was sealed with another key; enter it again",
                    box.name)
        return None


def _set_fields(box, data, vault):
    """Apply loaded fields; the password is kept sealed (gongdan_common/vault.py)."""
    password = data.pop("password", None)
    if password is not None:
        box.password_enc = vault.seal(password) if password else None
    for key, value in data.items():
        setattr(box, key, value)


def _get_box(uow, mailbox_id):
    box = uow.session.get(Mailbox, mailbox_id) if isinstance(mailbox_id, str) else None
    if box is None:
        raise exc.MAILBOX_NOT_FOUND()
    return box


def list_mailboxes(actor, uow):
    _admin(actor)
    with uow:
        boxes = uow.session.scalars(select(Mailbox).order_by(Mailbox.name)).all()
        return {"items": _mailbox_out.dump(boxes, many=True)}


def create_mailbox(actor, payload, uow, now, vault):
    _admin(actor)
    data = load(schemas.MailboxInSchema(), payload)
    data["address"] = data["address"].lower()
    with uow:
        box = Mailbox(source="admin", created_at=now, updated_at=now)
        _set_fields(box, data, vault)
        uow.session.add(box)
        return _save(uow, box)


def _save(uow, box):
    """Commit; a second mailbox with the same name or address is a 409, not a 500."""
    try:
        uow.commit()
    except IntegrityError:
        uow.rollback()
        raise exc.MAILBOX_EXISTS() from None
    return _mailbox_out.dump(box)


def update_mailbox(actor, mailbox_id, payload, uow, now, vault):
    _admin(actor)
    data = load(schemas.MailboxPatchSchema(), payload)
    if data.get("password") is None:
        data.pop("password", None)
    if "address" in data:
        data["address"] = data["address"].lower()
    with uow:
        box = _get_box(uow, mailbox_id)
        _set_fields(box, data, vault)
        box.updated_at = now
        return _save(uow, box)


def delete_mailbox(actor, mailbox_id, uow):
    _admin(actor)
    with uow:
        uow.session.delete(_get_box(uow, mailbox_id))
        uow.commit()
    return {"deleted": mailbox_id}


def test_mailbox(actor, mailbox_id, uow, vault, tester=imap.test_connection):
    """Log in with the stored settings and open the folder; says what failed if it did."""
    _admin(actor)
    with uow:
        box = mailbox_dict(_get_box(uow, mailbox_id), vault)
    if box["protocol"] != "imap":
        return {"ok": True, "message": "LMTP/SMTP mailboxes receive what the mail server "
                                       "pushes; nothing to log in to."}
    return tester(box)


def sync_config_mailboxes(configured, uow, now, vault):
    """CHANNELS.mailboxes from config: created or updated at start (matched by name);
    config-made mailboxes no longer configured are disabled, never deleted."""
    names = set()
    for entry in configured or ():
        data = load(schemas.MailboxInSchema(), dict(entry))
        data["address"] = data["address"].lower()
        names.add(data["name"])
        with uow:
            box = uow.session.scalar(select(Mailbox).where(Mailbox.name == data["name"]))
            if box is None:
                box = Mailbox(created_at=now)
                uow.session.add(box)
            _set_fields(box, data, vault)
            box.source, box.updated_at = "config", now
            try:
                uow.commit()
            except IntegrityError:  # another replica synced the same entry first
                uow.rollback()
    with uow:
        for box in uow.session.scalars(select(Mailbox).where(Mailbox.source == "config")):
            if box.name not in names and box.enabled:
                box.enabled, box.updated_at = False, now
        uow.commit()


def imap_mailboxes(uow, vault):
    with uow:
        return [mailbox_dict(b, vault) for b in uow.session.scalars(
            select(Mailbox).where(Mailbox.enabled.is_(True), Mailbox.protocol == "imap"))]


def mailbox_for(uow, recipients, vault):
    """The mailbox whose address is among `recipients` (LMTP), or None."""
    with uow:
        box = uow.session.scalar(select(Mailbox).where(
            Mailbox.address.in_([r.lower() for r in recipients]), Mailbox.enabled.is_(True)))
        return mailbox_dict(box, vault) if box is not None else None


def record_poll(uow, mailbox_id, now, error=None):
    with uow:
        box = uow.session.get(Mailbox, mailbox_id)
        if box is not None:
            box.last_polled_at, box.last_error = now, error
            uow.commit()


# ---- held-aside mails ----------------------------------------------------------------------

def list_mails(actor, query, uow):
    _admin(actor)
    q = load(schemas.MailQuerySchema(), query or {})
    stmt = select(FetchedMail)
    if q["status"] != "all":
        stmt = stmt.where(FetchedMail.status == q["status"])
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = uow.session.scalars(stmt.order_by(FetchedMail.claimed_at.desc(), FetchedMail.id)
                                   .limit(q["limit"]).offset(q["offset"])).all()
        return {"items": _mail_out.dump(rows, many=True), "total": total}


def _get_mail(uow, mail_id):
    row = uow.session.get(FetchedMail, mail_id) if isinstance(mail_id, str) else None
    if row is None:
        raise exc.MAIL_NOT_FOUND()
    return row


def get_mail(actor, mail_id, uow, store):
    """One mail's record; for a held one also what it says (text, attachments' names)."""
    _admin(actor)
    with uow:
        row = _get_mail(uow, mail_id)
        out, raw_key = _mail_out.dump(row), row.raw_key
    if raw_key:
        mail = mime.parse(store.get_bytes(raw_key))
        out["text"] = mail.text[:20000]
        out["attachments"] = [{"filename": a.filename, "size": len(a.data)}
                              for a in mail.attachments]
    return out


def _take_held(uow, mail_id, status_to, now):
    with uow:
        row = _get_mail(uow, mail_id)
        if row.status != "held":
            raise exc.MAIL_NOT_HELD(status=row.status)
        row.status = status_to
        if status_to == "claimed":
            row.claimed_at, row.attempts = now, row.attempts + 1
        else:
            row.finished_at = now
        uow.commit()
        return row.raw_key, row.mailbox_id


def retry_mail(actor, mail_id, deps):
    """Process a held mail again (after the sender registered, the product was fixed ...)."""
    _admin(actor)
    now = deps.settings["now"]()
    raw_key, mailbox_id = _take_held(deps.uow, mail_id, "claimed", now)
    try:
        raw = deps.store.get_bytes(raw_key)
    except Exception:
        with deps.uow as uow:
            uow.session.get(FetchedMail, mail_id).status = "held"
            uow.commit()
        raise
    with deps.uow as uow:
        box = uow.session.get(Mailbox, mailbox_id) if mailbox_id else None
        mailbox = mailbox_dict(box, deps.settings["vault"]) if box is not None else None
    return handlers.process(mail_id, mime.parse(raw), raw, mailbox, deps, held_before=True)


def discard_mail(actor, mail_id, uow, now):
    """An admin decided this held mail needs nothing (spam, a test): kept on record."""
    _admin(actor)
    _take_held(uow, mail_id, "discarded", now)
    return {"id": mail_id, "status": "discarded"}
