"""Channels' mail pipeline: one mail in, at most one effect on a ticket. No nameko here.

    ingest(raw, mailbox, uid, deps) -> {"status", "outcome", "mail_id", ...}

1. parse (never raises) and claim: INSERT one `channels_mails` row keyed by the Message-ID
   (else mailbox + UID). The instance whose insert commits first processes the mail; any
   other (a second replica, a second fetch, a resend) sees the row and does nothing.
2. act, outside any transaction: ask the gateway who the sender is, then intake (as that
   sender: intake's authorisation decides) to create the ticket or add the reply.
3. record the outcome; only then does the caller flag or move the mail on the server.
A service that is away (`Unavailable`) releases the claim and leaves the mail for the next
poll; anything else that fails holds the mail aside with the reason (its bytes in object
storage) for an administrator to retry or discard. No mail is dropped.

`deps` carries: uow, intake and directory (RPC clients), store, replier, settings.
"""
import dataclasses
import datetime as dt
import hashlib
import io
import logging
import os
import socket

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from gongdan_common import filetypes, vault
from gongdan_common.errors import AppError, unavailable_error
from gongdan_common.events import utcnow
from gongdan_common.storage import HashingReader

from . import domain, events, mime
from .dependencies import Unavailable
from .models import FetchedMail

log = logging.getLogger(__name__)
CUSTOMER_ROLES = ("customer", "customer_admin")


@dataclasses.dataclass
class Deps:
    uow: object
    intake: object
    directory: object
    store: object
    replier: object
    settings: dict


def settings_from_config(config):
    cfg = config.get("CHANNELS") or {}
    gateway = config.get("GATEWAY") or {}
    prefix = (config.get("INTAKE") or {}).get("number_prefix") or "TS"
    smtp_sender = ((config.get("NOTIFY") or {}).get("smtp") or {}).get("sender") or \
        "Gongdan <noreply@gongdan.local>"
    return {
        "number_re": domain.number_pattern(prefix),
        "max_attachments": int(cfg.get("max_attachments", 20)),
        "max_attachment_bytes": int(cfg.get("max_attachment_bytes") or
                                    gateway.get("max_upload_bytes") or 100 * 1024 * 1024),
        "flood_per_minute": int(cfg.get("flood_per_minute", 10)),
        "unknown_sender": _unknown_sender_mode(cfg.get("unknown_sender") or "reply"),
        "lease_seconds": int(cfg.get("lease_seconds", 600)),
        "archive_policy": filetypes.ArchivePolicy.from_config(config.get("UPLOADS")),
        "public_url": str(gateway.get("public_url") or "http://127.0.0.1:8000").rstrip("/"),
        "sender": str(cfg.get("sender") or smtp_sender),
        "own_addresses": {a.strip().lower() for a in
                          str(cfg.get("own_addresses") or "").split(",") if a.strip()} |
                         {a for _, a in mime.addresses(smtp_sender)},
        "bucket": (config.get("OBJECT_STORE") or {}).get("bucket", "gongdan-attachments"),
        "instance": f"{socket.gethostname()}:{os.getpid()}"[:80],
        # mailbox passwords are sealed at rest with the gateway's data key (or one derived)
        "vault": vault.from_config(config, purpose="mailbox-password"),
        "now": utcnow,
    }


def _unknown_sender_mode(value):
    if value not in ("reply", "register"):
        raise ValueError("CHANNELS.unknown_sender (CHANNELS_UNKNOWN_SENDER) must be reply or "
                         f"register, not {value!r}")
    return value


def message_key(mail, mailbox_id, uid):
    """Unique per mail: its Message-ID (one mail sent to two support mailboxes is one
    ticket), else where it was found."""
    if mail.message_id:
        key = "mid:" + mail.message_id.lower()
        return key if len(key) <= 300 else "mid#" + hashlib.sha256(key.encode()).hexdigest()
    return f"uid:{mailbox_id}:{uid}"


# ---- claiming ------------------------------------------------------------------------------

def _claim(deps, mail, key, mailbox, uid, size):
    """-> (row id, None) when this call now owns the mail, else (row id, existing status)."""
    s, now = deps.settings, deps.settings["now"]()
    uow = deps.uow
    with uow:
        row = FetchedMail(message_key=key, mailbox_id=mailbox and mailbox["id"], uid=uid,
                          message_id=(mail.message_id or "")[:300] or None,
                          sender=mail.sender, subject=mail.subject[:300], size=size,
                          status="claimed", claimed_by=s.get("instance"), claimed_at=now)
        try:
            uow.session.add(row)
            uow.commit()
            return row.id, None
        except IntegrityError:
            uow.rollback()
    with uow:
        row = uow.session.scalar(select(FetchedMail).where(FetchedMail.message_key == key))
        if row is None:  # released between our insert and this read: next poll takes it
            return None, "claimed"
        stale = _aware(row.claimed_at) < now - dt.timedelta(seconds=s["lease_seconds"])
        if row.status != "claimed" or not stale:
            return row.id, row.status
        # the instance that claimed it died mid-way: take it over (one winner: compare-and-set)
        taken = uow.session.execute(
            update(FetchedMail).where(FetchedMail.id == row.id,
                                      FetchedMail.claimed_at == row.claimed_at)
            .values(claimed_at=now, claimed_by=s.get("instance"),
                    attempts=FetchedMail.attempts + 1)).rowcount
        uow.commit()
        return row.id, (None if taken else "claimed")


def _aware(value):
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def _release(deps, mail_id):
    with deps.uow as uow:
        uow.session.execute(FetchedMail.__table__.delete().where(
            FetchedMail.id == mail_id, FetchedMail.status == "claimed"))
        uow.commit()


def _finish(deps, mail_id, status, outcome, reason=None, ticket=None, details=None,
            raw_key=None, emit=None):
    with deps.uow as uow:
        row = uow.session.get(FetchedMail, mail_id)
        row.status, row.outcome, row.reason = status, outcome, reason
        row.details = details
        row.finished_at = deps.settings["now"]()
        if ticket:
            row.ticket_id, row.ticket_number = ticket.get("id"), ticket.get("number")
        if raw_key:
            row.raw_key = raw_key
        for spec, data in emit or ():
            uow.emit(spec, dict(data, mail_id=mail_id))
        uow.commit()
    return {"status": status, "outcome": outcome, "mail_id": mail_id, "reason": reason,
            "ticket_number": ticket.get("number") if ticket else None}


# ---- the pipeline --------------------------------------------------------------------------

class Hold(Exception):
    """This mail cannot be processed as it is: keep it aside, with this reason (en, zh)."""

    def __init__(self, en, zh):
        super().__init__(en)
        self.en, self.zh = en, zh


def ingest(raw, mailbox, uid, deps):
    """One mail from `mailbox` (a dict; None for an admin retry without one). Returns what
    became of it; `status` "claimed" means another instance has it: leave it on the server."""
    mail = mime.parse(raw)
    key = message_key(mail, mailbox and mailbox["id"], uid)
    mail_id, existing = _claim(deps, mail, key, mailbox, uid, len(raw))
    if existing is not None:
        return {"status": existing, "outcome": "duplicate", "mail_id": mail_id}
    return process(mail_id, mail, raw, mailbox, deps)


def process(mail_id, mail, raw, mailbox, deps, held_before=False):
    """Act on a claimed mail. `held_before`: an admin's retry of a held mail, which goes back
    to held (not to the server, where it is no longer) when a service is away."""
    try:
        try:
            return _act(mail_id, mail, mailbox, deps)
        except Exception as err:  # our own database or the broker away: the same as intake
            if unavailable_error(err) is None:
                raise
            raise Unavailable(f"{type(err).__name__}: {err}"[:300]) from None
    except Unavailable as away:
        log.warning("mail %s left for later: %s", mail_id, away)
        if held_before:
            return _finish(deps, mail_id, "held", "retry_later", reason=str(away)[:2000])
        _release(deps, mail_id)
        return {"status": "released", "outcome": "retry_later", "mail_id": mail_id,
                "reason": str(away)}
    except Hold as hold:
        reason = f"{hold.en} / {hold.zh}"
    except AppError as err:
        reason = str(err)
    except Exception as err:  # a bug or a mail nobody foresaw: kept, with what went wrong
        log.exception("mail %s could not be processed", mail_id)
        reason = f"{type(err).__name__}: {err}"[:1000]
    return hold_aside(deps, mail_id, mail, raw, mailbox, reason, held_before)


def hold_aside(deps, mail_id, mail, raw, mailbox, reason, held_before=False):
    key = f"channels/mail/{mail_id}.eml"
    try:
        if not held_before:  # a retried mail's bytes are there already
            deps.store.put_stream(key, io.BytesIO(raw), len(raw), "message/rfc822")
    except AppError:  # storage away too: the mail stays on the server for the next poll
        _release(deps, mail_id)
        return {"status": "released", "outcome": "retry_later", "mail_id": mail_id,
                "reason": "object storage unavailable"}
    return _finish(deps, mail_id, "held", "held", reason=reason[:2000], raw_key=key,
                   emit=[(events.MAIL_HELD, {
                       "mailbox_id": mailbox and mailbox["id"], "sender": mail.sender,
                       "subject": mail.subject[:300], "reason": reason[:2000]})])


def _act(mail_id, mail, mailbox, deps):
    s = deps.settings
    own = s["own_addresses"] | ({mailbox["address"].lower()} if mailbox else set())
    kind = domain.classify(mail, own, s["number_re"])
    if kind == "own":
        return _finish(deps, mail_id, "done", "own", "our own message came back")
    if kind == "bounce":
        b = domain.bounce(mail)
        return _finish(deps, mail_id, "done", "bounce", b.status, details=dataclasses.asdict(b),
                       emit=[(events.MAIL_BOUNCED, dataclasses.asdict(b))])
    if kind == "invalid":
        raise Hold("The mail has no usable sender (From).", "邮件没有可用的发件人（From）。")
    if kind == "auto":
        return _finish(deps, mail_id, "done", "auto", domain.auto_reason(mail))
    who = deps.directory.mail_sender(mail.sender) or {}
    if who.get("status") != "active":
        return _unknown_sender(mail_id, mail, mailbox, who, deps)
    actor = who["actor"]
    if kind == "reply":
        return _reply(mail_id, mail, mailbox, actor, who, deps)
    return _new_ticket(mail_id, mail, mailbox, actor, who, deps)


def _flooding(deps, sender):
    since = deps.settings["now"]() - dt.timedelta(minutes=1)
    with deps.uow as uow:
        recent = uow.session.scalar(select(func.count()).select_from(FetchedMail).where(
            FetchedMail.sender == sender, FetchedMail.claimed_at >= since))
    return recent > deps.settings["flood_per_minute"]


def _unknown_sender(mail_id, mail, mailbox, who, deps):
    if _flooding(deps, mail.sender):
        return _finish(deps, mail_id, "done", "flood",
                       "more mails a minute than CHANNELS.flood_per_minute: not answered")
    status = who.get("status") or "unknown"
    mode = (mailbox and mailbox.get("unknown_sender")) or deps.settings["unknown_sender"]
    if mode == "register" and status == "unknown":  # the same pending state as the web form's
        status = deps.directory.register_mail_sender(mail.sender, mail.sender_name).get(
            "status") or status
    held = mode == "register" and status == "pending"
    subject, text = domain.unknown_sender_reply(mail, mailbox, status,
                                                deps.settings["public_url"], held=held)
    sender = (mailbox and mailbox["address"]) or deps.settings["sender"]
    try:
        deps.replier.send(mail.sender, subject, text, mail.message_id, sender)
    except OSError as err:  # no answer sent is not worth holding the mail for
        log.warning("could not answer unknown sender %s: %s", mail.sender, err)
    if held:  # kept, so that an admin retries it once the registration is approved
        raise Hold("Awaiting registration: the sender's registration awaits an "
                   "administrator's approval; retry this mail once approved.",
                   "等待注册审核：发件人的注册申请正在等待管理员审核，审核通过后请重试此邮件。")
    return _finish(deps, mail_id, "done", "unknown_sender",
                   f"sender not registered ({status}); answered")


def _new_ticket(mail_id, mail, mailbox, actor, who, deps, follow_up_of=None):
    if actor.get("role") not in CUSTOMER_ROLES:
        raise Hold("Only customers open tickets by mail; the sender's role is "
                   f"{actor.get('role')}.", f"只有客户可以通过邮件提交工单；发件人角色为 {actor.get('role')}。")
    if mailbox is None:
        raise Hold("The mailbox this mail came from no longer exists.", "该邮件所属的邮箱已不存在。")
    phone = who.get("phone")
    if not phone:
        raise Hold("The sender's account has no phone number, which a ticket needs.",
                   "发件人账号没有手机号，提交工单需要联系电话。")
    accepted, refused = _check_attachments(mail, deps.settings)
    description = domain.description(mail, refused)
    if follow_up_of:
        description = (f"关于已关闭工单 {follow_up_of} 的后续 / Follow-up to closed ticket "
                       f"{follow_up_of}\n\n{description}")[:20000]
    payload = {"title": domain.title_from(mail.subject, deps.settings["number_re"]),
               "description": description, "type": mailbox["ticket_type"],
               "category": mailbox["category"], "product": mailbox["product"],
               "contact_phone": phone, "contact_name": actor.get("name"),
               "request_key": "mail-" + hashlib.sha256(mail_id.encode()).hexdigest()[:40]}
    ticket = deps.intake.create_ticket(actor, payload)
    stored = _store_attachments(deps, actor, ticket["id"], accepted)
    return _finish(deps, mail_id, "done", "created", ticket=ticket,
                   details={"attachments": stored, "refused": [r[0] for r in refused]})


def _find_ticket(deps, actor, ref):
    """The referenced ticket as the sender may see it, or None (unknown, or not theirs)."""
    kind, value = ref
    try:
        if kind == "id":
            return deps.intake.get_ticket(actor, value)
        items = deps.intake.list_tickets(actor, {"number": value}).get("items") or []
        return next((t for t in items if t.get("number") == value), None)
    except AppError as err:
        if err.status in (403, 404):
            return None
        raise


def _reply(mail_id, mail, mailbox, actor, who, deps):
    ref = domain.referenced_ticket(mail, deps.settings["number_re"])
    ticket = _find_ticket(deps, actor, ref)
    if ticket is None:  # forged, mistyped, or someone else's ticket: nothing happens on it
        raise Hold(f"The sender may not reply on the ticket this mail names ({ref[1]}).",
                   f"发件人无权回复该邮件所指的工单（{ref[1]}）。")
    if ticket.get("status") in ("closed", "cancelled"):
        return _new_ticket(mail_id, mail, mailbox, actor, who, deps,
                           follow_up_of=ticket.get("number"))
    accepted, refused = _check_attachments(mail, deps.settings)
    body = domain.reply_body(mail, refused)
    # the reply first, keyed by the mail: a retry after a crash between intake's commit and
    # ours returns the comment already made; then the reopen, which a retry finds done (409)
    deps.intake.add_comment(actor, ticket["id"], {"body": body,
                                                  "request_key": _reply_key(mail_id, mail)})
    outcome = "replied"
    if ticket.get("status") == "resolved":  # reopen where the lifecycle lets this sender
        try:
            deps.intake.transition(actor, ticket["id"], "reopen",
                                   {"reason": "客户邮件回复 / customer replied by mail"})
            outcome = "reopened"
        except AppError as err:
            if err.status not in (403, 409):
                raise
    stored = _store_attachments(deps, actor, ticket["id"], accepted)
    return _finish(deps, mail_id, "done", outcome, ticket=ticket,
                   details={"attachments": stored, "refused": [r[0] for r in refused]})


def _reply_key(mail_id, mail):
    """Intake's request key for this mail's reply: from its Message-ID (where it was found
    otherwise), so every delivery and fetch of the mail names the same comment."""
    source = ("mid:" + mail.message_id.lower()) if mail.message_id else mail_id
    return "mail-" + hashlib.sha256(source.encode()).hexdigest()[:40]


# ---- attachments: the web form's whitelist, size limit and object storage ------------------

def _check_attachments(mail, settings):
    """-> (accepted [(safe name, content type, bytes)], refused [(name, en, zh)])."""
    accepted, refused = [], []
    limit, most = settings["max_attachment_bytes"], settings["max_attachments"]
    for att in mail.attachments:
        name = filetypes.safe_filename(att.filename)
        if len(accepted) >= most:
            refused.append((name, f"more than {most} attachments in one mail",
                            f"一封邮件最多 {most} 个附件"))
            continue
        if not att.data:
            refused.append((name, "the file is empty", "文件为空"))
            continue
        if len(att.data) > limit:
            refused.append((name, f"larger than {limit // (1024 * 1024)} MB",
                            f"超过 {limit // (1024 * 1024)} MB"))
            continue
        try:
            content_type = filetypes.check(name, att.data[:filetypes.HEAD_BYTES])
            ext = filetypes.extension(name)
            if ext in filetypes.ARCHIVES:
                filetypes.check_archive(ext, io.BytesIO(att.data), settings["archive_policy"])
        except filetypes.Refused as why:
            refused.append((name, why.en, why.zh))
            continue
        accepted.append((name, content_type, att.data))
    return accepted, refused


def _store_attachments(deps, actor, ticket_id, accepted):
    stored = []
    for name, content_type, data in accepted:
        key = f"tickets/{ticket_id}/{hashlib.sha256(data).hexdigest()[:32]}/{name}"
        reader = HashingReader(io.BytesIO(data), limit=len(data))
        deps.store.put_stream(key, reader, len(data), content_type)
        record = {"filename": name, "content_type": content_type, "size": reader.size,
                  "sha256": reader.sha256.hexdigest(), "bucket": deps.settings["bucket"],
                  "object_key": key, "internal": False, "kind": "intake"}
        try:
            deps.intake.add_attachment(actor, ticket_id, record)
        except Exception:
            deps.store.delete(key)  # no orphan object without a record
            raise
        stored.append(name)
    return stored
