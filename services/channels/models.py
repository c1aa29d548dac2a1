"""Channels' tables: the support mailboxes, one row per mail taken in (the claim that keeps
N instances from taking one mail twice, and the record of what became of it), plus the
outbox and processed-events inbox every service has.

A mail that could not be processed stays a `held` row with its reason; its raw bytes are in
object storage (`raw_key`) so an admin can retry it after fixing the cause, or discard it.
"""
import datetime as dt
import uuid

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gongdan_common.db import service_metadata

metadata = service_metadata()


class Base(DeclarativeBase):
    metadata = metadata


def new_id():
    return str(uuid.uuid4())


TZ = DateTime(timezone=True)


class Mailbox(Base):
    __tablename__ = "channels_mailboxes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)  # the support address
    protocol: Mapped[str] = mapped_column(String(8))   # imap | lmtp (pushed to us)
    host: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    security: Mapped[str] = mapped_column(String(10), default="none")  # none|starttls|ssl
    username: Mapped[str | None] = mapped_column(String(254))
    # Fernet-sealed (gongdan_common/vault.py, GATEWAY.data_key): a dump shows no password
    password_enc: Mapped[str | None] = mapped_column(Text)
    folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    # where processed mail goes on the server; empty = flagged \Seen + $Gongdan in place
    done_folder: Mapped[str | None] = mapped_column(String(200))
    # what a new mail's ticket gets (a mail says nothing about product or category)
    product: Mapped[str] = mapped_column(String(64))
    ticket_type: Mapped[str] = mapped_column(String(32), default="consult")
    category: Mapped[str] = mapped_column(String(32), default="consultation")
    # an unknown sender's mail: reply (how to register) | register (a pending registration,
    # the mail held aside until approved); NULL = CHANNELS.unknown_sender
    unknown_sender: Mapped[str | None] = mapped_column(String(10))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(10), default="admin")  # admin | config
    last_polled_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class FetchedMail(Base):
    """One per mail: `message_key` (its Message-ID, else mailbox + UID) is unique, so the
    instance whose INSERT commits first is the one that processes it."""
    __tablename__ = "channels_mails"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    message_key: Mapped[str] = mapped_column(String(300), unique=True)
    mailbox_id: Mapped[str | None] = mapped_column(String(36), index=True)
    uid: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(300))
    sender: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(Integer, default=0)
    # claimed (being processed) | done | held | discarded
    status: Mapped[str] = mapped_column(String(12), index=True)
    # created | replied | reopened | unknown_sender | auto | own | bounce | duplicate ...
    outcome: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSON)
    ticket_id: Mapped[str | None] = mapped_column(String(36))
    ticket_number: Mapped[str | None] = mapped_column(String(32))
    raw_key: Mapped[str | None] = mapped_column(String(300))  # held mail's bytes in S3
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[dt.datetime] = mapped_column(TZ)
    finished_at: Mapped[dt.datetime | None] = mapped_column(TZ)

    __table_args__ = (
        # the flood check counts one sender's recent mails
        Index("ix_channels_mails_sender_claimed", "sender", "claimed_at"),
    )
