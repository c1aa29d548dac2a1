"""The gateway's own database: accounts, companies, sessions and service tokens."""
import datetime as dt
import uuid

from sqlalchemy import (JSON, Boolean, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gongdan_common.db import service_metadata

metadata = service_metadata()

TZ = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = metadata


def new_id():
    return str(uuid.uuid4())


class Company(Base):
    """A customer company (企业账号), a service provider (服务商) or the vendor itself."""
    __tablename__ = "companies"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # customer | provider | vendor
    contract_tier: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    position: Mapped[str | None] = mapped_column(String(100))
    company_name_claimed: Mapped[str | None] = mapped_column(String(200))
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending|active|rejected|disabled
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(TZ)
    national_id_enc: Mapped[str | None] = mapped_column(Text)     # Fernet ciphertext
    national_id_hint: Mapped[str | None] = mapped_column(String(8))  # last 4, for masking
    language: Mapped[str] = mapped_column(String(5), default="zh")
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class Session(Base):
    """A login. Access tokens name it (sid); logout or refresh-reuse revokes it."""
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(TZ)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)


class ServiceToken(Base):
    __tablename__ = "service_tokens"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    # customer companies a tickets:create token may file for (visibility.may_file_for)
    companies: Mapped[list | None] = mapped_column(JSON, default=list)
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(TZ)



class LoginFailure(Base):
    """Wrong passwords for a login that has no account: counted and locked exactly like an
    account's (`domain.register_failure` works on both), so that a locked real account and
    a made-up login answer alike. Keyed by the SHA-256 of the normalised login: typed
    identifiers (often someone's real phone or email) are not kept in clear."""
    __tablename__ = "login_failures"
    login_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ, index=True)


class RetiredRefreshToken(Base):
    """A refresh token already rotated away. Presenting one again means it was copied, so
    its session (the token family: every rotation of one login) is revoked."""
    __tablename__ = "retired_refresh_tokens"
    refresh_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    retired_at: Mapped[dt.datetime] = mapped_column(TZ, index=True)


# ---- IM bridges (docs/channels.md, "IM bridges") --------------------------------------------

class ImBridge(Base):
    """A program relaying one IM platform's messages to `POST /api/v1/channels/{channel}/
    messages`; its signing secret is kept sealed (Fernet, like identity numbers): the
    gateway needs it in clear to check signatures, a database dump alone does not reveal it."""
    __tablename__ = "im_bridges"
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_enc: Mapped[str] = mapped_column(Text)
    default_product: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class ImBinding(Base):
    """A portal account bound to an IM user id on one channel. Started on the portal
    (pending, with the hash of a one-time code), confirmed when that IM user sends the code
    through the bridge: only then may the IM user act as the account."""
    __tablename__ = "im_bindings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(32))
    im_user_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # pending | confirmed
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    failed_codes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(TZ)

    __table_args__ = (
        UniqueConstraint("channel", "im_user_id", "user_id", name="uq_im_bindings_identity"),
    )


class ImMessage(Base):
    """An inbound IM message already taken (idempotency: a bridge's retry acts once), with
    the answer it got."""
    __tablename__ = "im_messages"
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    im_user_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[dt.datetime] = mapped_column(TZ, index=True)
    result: Mapped[dict | None] = mapped_column(JSON)


class PasswordReset(Base):
    """A "forgot password" link: only the SHA-256 of its token is kept, it works once and for
    GATEWAY.password_reset_minutes. Accounts made from mail (channels' `unknown_sender:
    register`) have no password until their owner sets one this way."""
    __tablename__ = "password_resets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(TZ, index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(TZ)
    used_at: Mapped[dt.datetime | None] = mapped_column(TZ)
