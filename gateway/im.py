"""IM bridges: a signed inbound endpoint, and the identity binding that lets an IM user act
as their portal account (docs/channels.md, "IM bridges").

Identity lives here (the gateway owns the accounts); tickets live in intake. A message
from a bound IM user becomes one intake call made *as that user's actor*, so the same
rules and authorization apply as on the portal: `create_ticket`, or `add_comment` when the
message names a ticket (its number in the text, or `reply_to`).

Binding, safe against hijack: the customer starts it on the portal (channel + their IM
user id) and is shown a one-time code; the binding is *pending* and can do nothing. It is
confirmed only when that same IM user id sends `bind <code>` through the signed bridge, which
proves the person holding the portal session also holds the IM account. Somebody typing a
victim's IM user id gets a code they cannot send from the victim's account; somebody in
IM cannot bind to an account whose portal code they never saw. Codes are kept hashed, live
CODE_MINUTES, and CODE_TRIES wrong codes from one IM user end that user's pending bindings.
Unbound users get instructions (zh/en) and nothing is created.
"""
import datetime as dt
import re
import secrets

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from gongdan_common import signing
from gongdan_common.validation import load

from . import auth, exceptions as exc, schemas
from .handlers import actor_for, require_role
from .models import Company, ImBinding, ImBridge, ImMessage, User

CODE_MINUTES = 10
CODE_TRIES = 5
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, typed on phones
CODE_LENGTH = 8
IN_PROGRESS_SECONDS = 60  # a claimed message with no answer after this is taken again
KEEP_MESSAGES_DAYS = 7  # how long a message id is remembered (a bridge retries within minutes)
PRUNE_ONE_IN = 200
BIND_COMMAND = re.compile(r"^\s*(?:/?bind|绑定)\s*[:：]?\s*([A-Za-z0-9]{4,16})\s*$", re.I)


def _now():
    return auth.utcnow()


def _aware(value):
    return value if value is None or value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


# ---- bridges (admin) -------------------------------------------------------------------------

def _bridge_out(bridge):
    return schemas.ImBridgeOut().dump(bridge)


def list_bridges(actor, uow):
    require_role(actor, "admin")
    with uow:
        return [_bridge_out(b) for b in uow.session.scalars(
            select(ImBridge).order_by(ImBridge.channel))]


def put_bridge(actor, channel, payload, uow, settings):
    """Create or change a bridge. A new bridge (or `rotate_secret`) gets a fresh secret,
    shown in this answer only."""
    require_role(actor, "admin")
    data = load(schemas.ImBridgeIn(), dict(payload, channel=channel))
    now = _now()
    secret = None
    with uow:
        bridge = uow.session.get(ImBridge, data["channel"])
        if bridge is None or data.get("rotate_secret"):
            secret = "imb_" + secrets.token_urlsafe(32)
        if bridge is None:
            bridge = ImBridge(channel=data["channel"], created_by=actor["id"], created_at=now,
                              secret_enc=settings["vault"].seal(secret))
            uow.session.add(bridge)
        elif secret:
            bridge.secret_enc = settings["vault"].seal(secret)
        for name in ("default_product", "active"):
            if name in data:
                setattr(bridge, name, data[name])
        if bridge.active is None:
            bridge.active = True
        bridge.updated_at = now
        uow.commit()
        out = _bridge_out(bridge)
    if secret:
        out["secret"] = secret
    return out


def delete_bridge(actor, channel, uow):
    require_role(actor, "admin")
    with uow:
        bridge = uow.session.get(ImBridge, channel)
        if bridge is None:
            raise exc.CHANNEL_NOT_FOUND(channel=channel)
        uow.session.delete(bridge)
        uow.commit()
    return None


# ---- binding (the customer, on the portal) ------------------------------------------------

def _person(actor):
    if actor.get("role") == "system":
        raise exc.ROLE_REQUIRED(roles="a person's account")
    return actor["id"]


def list_bindings(actor, uow):
    user_id = _person(actor)
    with uow:
        rows = uow.session.scalars(select(ImBinding).where(ImBinding.user_id == user_id)
                                   .order_by(ImBinding.created_at)).all()
        return [schemas.ImBindingOut().dump(r) for r in rows]


def bindable_channels(actor, uow):
    """The active bridges' channel names, for the binding form's choice (no settings leak)."""
    _person(actor)
    with uow:
        return [{"channel": c} for c in uow.session.scalars(
            select(ImBridge.channel).where(ImBridge.active.is_(True)).order_by(ImBridge.channel))]


def start_binding(actor, payload, uow):
    """A pending binding and its one-time code (shown once; the IM user sends it)."""
    user_id = _person(actor)
    data = load(schemas.ImBindingIn(), payload)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = _now()
    with uow:
        if uow.session.get(ImBridge, data["channel"]) is None:
            raise exc.CHANNEL_NOT_FOUND(channel=data["channel"])
        row = uow.session.scalar(select(ImBinding).where(
            ImBinding.channel == data["channel"], ImBinding.im_user_id == data["im_user_id"],
            ImBinding.user_id == user_id))
        if row is None:
            row = ImBinding(channel=data["channel"], im_user_id=data["im_user_id"],
                            user_id=user_id, created_at=now)
            uow.session.add(row)
        # a new start (or a restart) needs a new confirmation, even of a confirmed binding
        row.status, row.confirmed_at = "pending", None
        row.code_hash = auth.sha256(code)
        row.code_expires_at = now + dt.timedelta(minutes=CODE_MINUTES)
        row.failed_codes = 0
        try:
            uow.commit()
        except IntegrityError:  # the same start twice at once: one wins
            raise exc.BINDING_CONFLICT() from None
        out = schemas.ImBindingOut().dump(row)
    out["code"] = code
    out["instructions"] = {
        "zh": f"请在 {CODE_MINUTES} 分钟内用该 IM 账号向机器人发送：绑定 {code}",
        "en": f"Within {CODE_MINUTES} minutes, send this from that IM account to the bot: "
              f"bind {code}"}
    return out


def delete_binding(actor, binding_id, uow):
    user_id = _person(actor)
    with uow:
        row = uow.session.get(ImBinding, binding_id)
        if row is None or row.user_id != user_id:
            raise exc.BINDING_NOT_FOUND()
        uow.session.delete(row)
        uow.commit()
    return None


# ---- the inbound endpoint ---------------------------------------------------------------------

def bridge_secret(channel, uow, settings):
    """The channel's bridge secret in clear; 404 for an unknown or switched-off channel."""
    with uow:
        bridge = uow.session.get(ImBridge, channel)
        if bridge is None or not bridge.active:
            raise exc.CHANNEL_NOT_FOUND(channel=channel)
        return settings["vault"].open(bridge.secret_enc), bridge.default_product


def verify(secret, header, body, now_ts):
    """401 unless the bridge signed this body within the tolerance."""
    problem = signing.check(secret, header, body, now_ts)
    if problem == "stale":
        raise exc.SIGNATURE_STALE(seconds=signing.TOLERANCE_SECONDS)
    if problem is not None:
        raise exc.SIGNATURE_INVALID()


def claim_message(channel, data, uow):
    """None when this message is new (claimed now), else the answer it got before."""
    now = _now()
    with uow:
        seen = uow.session.get(ImMessage, (channel, data["message_id"]))
        if seen is not None:
            if seen.result is not None:
                return dict(seen.result, duplicate=True)
            if _aware(seen.received_at) > now - dt.timedelta(seconds=IN_PROGRESS_SECONDS):
                raise exc.MESSAGE_IN_PROGRESS()
            seen.received_at = now  # abandoned (the gateway died mid-way): take it again
            uow.commit()
            return None
        uow.session.add(ImMessage(channel=channel, message_id=data["message_id"],
                                  im_user_id=data["user_id"], received_at=now))
        if secrets.randbelow(PRUNE_ONE_IN) == 0:
            uow.session.execute(delete(ImMessage).where(
                ImMessage.received_at < now - dt.timedelta(days=KEEP_MESSAGES_DAYS)))
        try:
            uow.commit()
        except IntegrityError:  # the same message racing itself
            raise exc.MESSAGE_IN_PROGRESS() from None
    return None


def finish_message(channel, message_id, result, uow):
    with uow:
        row = uow.session.get(ImMessage, (channel, message_id))
        if row is not None:
            row.result = result
            uow.commit()
    return result


def forget_message(channel, message_id, uow):
    """The message failed (a refused ticket, a service away): a retry may try again."""
    with uow:
        uow.session.execute(delete(ImMessage).where(ImMessage.channel == channel,
                                                    ImMessage.message_id == message_id))
        uow.commit()


def _reply(action, zh, en, **extra):
    return dict(extra, action=action, reply={"zh": zh, "en": en})


UNBOUND = _reply(
    "unbound",
    "您的 IM 账号尚未绑定工单系统账号。请登录门户，在“偏好设置 → IM 绑定”中填写您的 IM 用户 ID，"
    "然后按页面提示向机器人发送“绑定 验证码”。绑定完成后，直接发送问题即可提交工单，"
    "在消息中写上工单编号即可回复该工单。",
    "Your IM account is not linked to a Gongdan account yet. Sign in to the portal, open "
    "Preferences → IM binding, enter your IM user id, then send the bot \"bind <code>\" as the "
    "page says. Once linked, any message opens a ticket, and a message naming a ticket number "
    "replies to that ticket.")


def try_bind(channel, data, uow):
    """`bind <code>` from an IM user: confirms that user's pending binding with this code.
    Returns the answer, or None when the text is not a bind command."""
    match = BIND_COMMAND.match(data["text"])
    if match is None:
        return None
    digest = auth.sha256(match.group(1).upper())
    now = _now()
    with uow:
        pending = uow.session.scalars(select(ImBinding).where(
            ImBinding.channel == channel, ImBinding.im_user_id == data["user_id"],
            ImBinding.status == "pending")).all()
        hit = next((b for b in pending if b.code_hash == digest
                    and _aware(b.code_expires_at) > now), None)
        if hit is None:
            # each wrong code shortens every pending binding of this IM user; CODE_TRIES
            # wrong ones end them (a guesser gets a handful of tries, never thousands)
            for b in pending:
                b.failed_codes = (b.failed_codes or 0) + 1
                if b.failed_codes >= CODE_TRIES:
                    uow.session.delete(b)
            uow.commit()
            return _reply("bind_failed", "验证码无效或已过期，请在门户重新获取。",
                          "That code is wrong or has expired; get a new one on the portal.")
        # this IM user now speaks for this account alone: older bindings of the IM id go
        for other in uow.session.scalars(select(ImBinding).where(
                ImBinding.channel == channel, ImBinding.im_user_id == data["user_id"],
                ImBinding.id != hit.id)):
            uow.session.delete(other)
        hit.status, hit.confirmed_at = "confirmed", now
        hit.code_hash, hit.code_expires_at = None, None
        user = uow.session.get(User, hit.user_id)
        uow.commit()
        return _reply("bound", f"绑定成功：此后您在此发送的消息将以 {user.name} 的身份提交。",
                      f"Linked: your messages here now act as {user.name}.")


def bound_actor(channel, im_user_id, uow):
    """The actor of the account this IM user is (confirmed) bound to, or None."""
    with uow:
        row = uow.session.execute(
            select(User, Company).join(ImBinding, ImBinding.user_id == User.id)
            .outerjoin(Company, Company.id == User.company_id)
            .where(ImBinding.channel == channel, ImBinding.im_user_id == im_user_id,
                   ImBinding.status == "confirmed")).first()
        if row is None or row[0].status != "active":
            return None, None
        user, company = row
        return actor_for(user, company), user.phone


def ticket_number(data, prefix):
    """The ticket a message answers: `reply_to`, else the first ticket number in the text."""
    if data.get("reply_to"):
        return data["reply_to"].strip().upper()
    match = re.search(rf"(?<![A-Za-z0-9]){re.escape(prefix)}\d{{11,}}(?![0-9])",
                      data["text"], re.I)
    return match.group(0).upper() if match else None


def ticket_fields(data, phone, default_product):
    """An IM message as intake's create payload: first line the title, all of it the
    description; product from the message or the bridge's default."""
    text = data["text"].strip()
    title = text.splitlines()[0].strip()[:80] or text[:80]
    return {"title": title, "description": text, "type": data.get("type") or "consult",
            "category": data.get("category") or "consultation",
            "product": data.get("product") or default_product or "",
            "contact_phone": phone or "", "impact": "individual", "urgency": "medium"}


def _answer(result, language):
    reply = result["reply"]
    result["text"] = reply.get(language) if language in ("zh", "en") else \
        f"{reply['zh']}\n{reply['en']}"
    return result


def receive(channel, data, default_product, uow, intake, prefix, limit=None):
    """One signed message from a bridge -> bind, or open a ticket, or reply to one, as the
    bound user. `intake(method, *args)` calls intake over RPC (AppErrors pass through, in
    the one error shape); `limit(name, actor)` applies the portal's rate limit of that name
    to the user (429 passes through too). A retried message id gets the first answer again."""
    done = claim_message(channel, data, uow)
    if done is not None:
        return done
    try:
        result = try_bind(channel, data, uow)
        if result is not None:
            return finish_message(channel, data["message_id"], _answer(result, None), uow)
        actor, phone = bound_actor(channel, data["user_id"], uow)
        if actor is None:
            return finish_message(channel, data["message_id"], _answer(dict(UNBOUND), None),
                                  uow)
        actor = dict(actor, via=f"im:{channel}")
        number = ticket_number(data, prefix)
        if limit is not None:  # the same limits as the user's portal requests
            limit("comment" if number else "ticket_create", actor)
        if number:
            comment = intake("add_comment", actor, number, {"body": data["text"]})
            result = _reply("replied", f"已添加到工单 {number}。", f"Added to ticket {number}.",
                            ticket={"number": number}, comment_id=comment.get("id"))
        else:
            body = ticket_fields(data, phone, default_product)
            body["request_key"] = f"im-{channel}-{data['message_id']}"[:80]
            t = intake("create_ticket", actor, body)
            result = _reply(
                "ticket_created",
                f"已创建工单 {t['number']}：{t['title']}。回复时请在消息中带上工单编号。",
                f"Ticket {t['number']} opened: {t['title']}. Name the ticket number when you "
                f"reply.", ticket={"id": t["id"], "number": t["number"], "status": t["status"]})
    except Exception:
        forget_message(channel, data["message_id"], uow)
        raise
    return finish_message(channel, data["message_id"], _answer(result, actor.get("language")),
                          uow)
