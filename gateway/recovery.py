""""Forgot password": a one-time link mailed to the account's address (notify's
`password_reset` rule), then a new password set with the link's token.

Whether an account exists is never told: every well-formed request answers alike. Only the
SHA-256 of a token is stored; asking again replaces the older link; setting the password
uses the link up, clears a lockout and signs every session out."""
import datetime as dt
import secrets

from sqlalchemy import delete, select, update

from gongdan_common.validation import load

from . import auth, domain, events, exceptions as exc, schemas
from .handlers import PRUNE_ONE_IN, _aware, _find_by_login
from .models import PasswordReset, Session, User


def request_reset(payload, uow, settings):
    data = load(schemas.ResetRequestSchema(), payload)
    now = auth.utcnow()
    with uow:
        user = _find_by_login(uow, data["login"])
        # pending, rejected or disabled accounts cannot sign in anyway; no address, no mail
        if user is not None and user.status == "active" and user.email:
            uow.session.execute(update(PasswordReset).where(
                PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                .values(used_at=now))  # the newest link is the only one that works
            token = secrets.token_urlsafe(32)
            minutes = settings["password_reset_minutes"]
            uow.session.add(PasswordReset(user_id=user.id, token_hash=auth.sha256(token),
                                          created_at=now,
                                          expires_at=now + dt.timedelta(minutes=minutes)))
            if secrets.randbelow(PRUNE_ONE_IN) == 0:
                uow.session.execute(delete(PasswordReset).where(
                    PasswordReset.created_at < now - dt.timedelta(days=1)))
            # the token leaves only inside this event, towards the mailbox (see docs/events.md)
            uow.emit(events.PASSWORD_RESET_REQUESTED, {
                "user_id": user.id, "link": f"{settings['public_url']}/#/reset/{token}",
                "minutes": minutes})
            uow.commit()
    return {"accepted": True}


def confirm_reset(payload, uow):
    data = load(schemas.ResetConfirmSchema(), payload)
    new_hash = auth.hash_password(data["new_password"])  # slow: outside the transaction
    now = auth.utcnow()
    with uow:
        link = uow.session.scalar(select(PasswordReset).where(
            PasswordReset.token_hash == auth.sha256(data["token"])))
        user = uow.session.get(User, link.user_id) if link is not None else None
        if (user is None or link.used_at is not None or user.status != "active"
                or _aware(link.expires_at) <= now):
            raise exc.RESET_LINK_INVALID()
        # used up by exactly one of two concurrent confirmations
        taken = uow.session.execute(update(PasswordReset).where(
            PasswordReset.id == link.id, PasswordReset.used_at.is_(None))
            .values(used_at=now)).rowcount
        if taken != 1:
            raise exc.RESET_LINK_INVALID()
        user.password_hash = new_hash
        user.updated_at = now
        domain.register_success(user)  # a lockout ends with the new password
        for session in uow.session.scalars(select(Session).where(
                Session.user_id == user.id, Session.revoked_at.is_(None))):
            session.revoked_at = now  # whoever knew the old password is signed out
        uow.commit()
        user_id = user.id
    auth.forget_actors(user_id)
    return None
