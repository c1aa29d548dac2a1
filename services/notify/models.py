"""Notify's tables.

- `notifications`: the in-app inbox, one row per (event, user) at most.
- `deliveries`: every message that leaves the system (email, SMS, webhook), at most one per
  (event, recipient, channel); it is also the durable retry schedule (`next_attempt_at`,
  claimed with a lease) and, with `delivery_attempts`, the delivery log.
- `preferences`: per user: language, channels per kind of event, quiet hours.
- `rule_overrides`: admins' changes to the shipped rules (domain.DEFAULT_RULES) and their
  own rules; `template_overrides`: admins' versions of the shipped templates.
- `webhooks`: registered receivers (URL, event types, secret, failure streak).
- `robots`: IM group robots of customer companies and providers; their messages are
  `deliveries` rows (channel `robot`) sent and retried by the same loop.
- `event_bindings`: the routing keys notify bound at run time for rules and webhooks.
- `digest_items`: one compact line per (event, company admin who takes the daily digest),
  until a digest takes it (`digest_id`); `digests`: one row per (recipient, local date), the
  claim that makes each day's digest happen once however many notify replicas run.
The transactional outbox and the processed-events inbox come with `service_metadata()`.
"""
import datetime as dt
import uuid

from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint, false)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gongdan_common.db import service_metadata

metadata = service_metadata()

TZ = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = metadata


def new_id():
    return str(uuid.uuid4())


class Notification(Base):
    __tablename__ = "notifications"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(80))
    ticket_id: Mapped[str | None] = mapped_column(String(36))
    ticket_number: Mapped[str | None] = mapped_column(String(40))
    priority: Mapped[str | None] = mapped_column(String(4))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    read_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    created_at: Mapped[dt.datetime] = mapped_column(TZ)

    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_notifications_event_user"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index("ix_notifications_user_read", "user_id", "read_at"),
    )


class Delivery(Base):
    __tablename__ = "deliveries"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(String(80))
    event_type: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(16))  # email | sms | webhook
    recipient: Mapped[str] = mapped_column(String(36))  # user id, or webhook id
    address: Mapped[str] = mapped_column(String(2048))  # email address, phone, URL
    kind: Mapped[str | None] = mapped_column(String(40))
    ticket_id: Mapped[str | None] = mapped_column(String(36))
    language: Mapped[str | None] = mapped_column(String(5))
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict | None] = mapped_column(JSON)  # webhooks: the event envelope
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    lease_until: Mapped[dt.datetime | None] = mapped_column(TZ)
    last_error: Mapped[str | None] = mapped_column(Text)
    replay_of: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    sent_at: Mapped[dt.datetime | None] = mapped_column(TZ)

    __table_args__ = (
        UniqueConstraint("event_id", "recipient", "channel",
                         name="uq_deliveries_event_recipient_channel"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_recipient_created", "recipient", "created_at"),
    )


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(TZ)
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)


class Preference(Base):
    __tablename__ = "preferences"
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(5))
    channels: Mapped[dict] = mapped_column(JSON, default=dict)  # kind -> [channel]
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "22:00"
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)
    # the daily digest (customer company admins): on/off, local "HH:MM" in `timezone`, the
    # company it is about (the admin's, when they opted in), and since when the setting
    # holds (the first digest comes at the first digest time after it)
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=False,
                                                 server_default=false())
    digest_time: Mapped[str | None] = mapped_column(String(5))
    digest_company_id: Mapped[str | None] = mapped_column(String(36), index=True)
    digest_since: Mapped[dt.datetime | None] = mapped_column(TZ)


class RuleOverride(Base):
    """An admin's version of a shipped rule (same id) or a rule of their own."""
    __tablename__ = "rule_overrides"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule: Mapped[dict] = mapped_column(JSON)
    updated_by: Mapped[str | None] = mapped_column(String(36))
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class TemplateOverride(Base):
    __tablename__ = "template_overrides"
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    language: Mapped[str] = mapped_column(String(5), primary_key=True)
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(36))
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class Webhook(Base):
    __tablename__ = "webhooks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    owner_role: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failure_streak: Mapped[int] = mapped_column(Integer, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class Robot(Base):
    """An IM group robot (WeCom, DingTalk, Feishu) of a customer company or a provider: the
    notices of that company's tickets are posted to its group (services/notify/robots.py).
    `url` carries the platform's key or access token and `secret` the signing secret; both
    are shown back masked."""
    __tablename__ = "robots"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    platform: Mapped[str] = mapped_column(String(16))  # wecom | dingtalk | feishu
    owner_kind: Mapped[str] = mapped_column(String(16))  # customer | provider
    owner_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5))  # zh | en | both
    event_types: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)
    updated_at: Mapped[dt.datetime] = mapped_column(TZ)


class DigestItem(Base):
    """One line of a coming digest: what happened, for whom (the recipient)."""
    __tablename__ = "digest_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(80))
    recipient: Mapped[str] = mapped_column(String(36))
    company_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(24))  # created|status|reply|sla_warning|...
    ticket_id: Mapped[str] = mapped_column(String(36))
    ticket_number: Mapped[str | None] = mapped_column(String(40))
    ticket_title: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[dt.datetime] = mapped_column(TZ)
    recorded_at: Mapped[dt.datetime] = mapped_column(TZ)
    digest_id: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (
        UniqueConstraint("event_id", "recipient", name="uq_digest_items_event_recipient"),
        Index("ix_digest_items_pending", "recipient", "digest_id"),
    )


class Digest(Base):
    """A day's digest for one person: sent, empty (nothing happened) or skipped (no longer
    a company admin). Its unique key is the claim: a replica that cannot insert it leaves
    that digest to the one that did."""
    __tablename__ = "digests"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    recipient: Mapped[str] = mapped_column(String(36))
    digest_date: Mapped[dt.date] = mapped_column(Date)
    company_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16))  # sent | empty | skipped
    items: Mapped[int] = mapped_column(Integer, default=0)
    delivery_id: Mapped[str | None] = mapped_column(String(36))
    notification_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(TZ)

    __table_args__ = (
        UniqueConstraint("recipient", "digest_date", name="uq_digests_recipient_date"),
    )


class EventBinding(Base):
    """A routing key notify bound one of its event queues to at run time, for an admin's
    rule or a webhook (bindings.py): kept so that it is unbound once nothing wants it."""
    __tablename__ = "event_bindings"
    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    routing_key: Mapped[str] = mapped_column(String(130), primary_key=True)
    bound_at: Mapped[dt.datetime] = mapped_column(TZ)
