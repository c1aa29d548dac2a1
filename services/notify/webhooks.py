"""Webhooks: an owner's endpoints, their delivery log, ping and replay."""
import secrets

from sqlalchemy import func, select, update

from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, exceptions as exc, schemas
from .common import _admin
from .models import Delivery, DeliveryAttempt, Webhook

DELETED = "deleted:"  # owner prefix of a deleted webhook (kept for its delivery log)


def _webhook_actor(actor):
    if (actor or {}).get("role") not in ("admin", "system"):
        raise exc.WEBHOOK_FORBIDDEN()


def _own_webhook(uow, actor, webhook_id):
    _webhook_actor(actor)
    hook = uow.session.get(Webhook, webhook_id)
    if hook is None or hook.owner_id.startswith(DELETED) or \
            (actor["role"] != "admin" and hook.owner_id != actor["id"]):
        raise exc.WEBHOOK_NOT_FOUND(id=webhook_id)
    return hook


def _check_url(url, settings):
    try:
        domain.check_url(url, settings["allow_networks"])
    except domain.UrlRefused as err:
        raise exc.URL_REFUSED(reason=err.en, reason_zh=err.zh,
                              details={"fields": {"url": [{"en": err.en, "zh": err.zh}]},
                                       "reason": err.code}) from None


def list_webhooks(actor, uow):
    _webhook_actor(actor)
    with uow:
        stmt = select(Webhook).where(Webhook.owner_id.not_like(DELETED + "%")) \
            .order_by(Webhook.created_at)
        if actor["role"] != "admin":
            stmt = stmt.where(Webhook.owner_id == actor["id"])
        return {"items": schemas.WebhookOut(many=True).dump(uow.session.scalars(stmt))}


def create_webhook(actor, payload, uow, settings):
    _webhook_actor(actor)
    data = load(schemas.WebhookIn(), payload)
    _check_url(data["url"], settings)
    now = utcnow()
    with uow:
        hook = Webhook(owner_id=actor["id"], owner_role=actor["role"], url=data["url"],
                       event_types=data["event_types"],
                       secret=data.get("secret") or "whsec_" + secrets.token_urlsafe(32),
                       description=data.get("description"), active=True, failure_streak=0,
                       created_at=now, updated_at=now)
        uow.session.add(hook)
        uow.commit()
        return schemas.WebhookCreated().dump(hook)


def get_webhook(actor, webhook_id, uow):
    with uow:
        return schemas.WebhookOut().dump(_own_webhook(uow, actor, webhook_id))


def update_webhook(actor, webhook_id, payload, uow, settings):
    data = load(schemas.WebhookPatch(), payload)
    if "url" in data:
        _check_url(data["url"], settings)
    with uow:
        hook = _own_webhook(uow, actor, webhook_id)
        for name in ("url", "event_types", "secret", "description", "active"):
            if name in data:
                setattr(hook, name, data[name])
        if data.get("active"):
            hook.failure_streak, hook.disabled_reason = 0, None
        hook.updated_at = utcnow()
        uow.commit()
        return schemas.WebhookOut().dump(hook)


def delete_webhook(actor, webhook_id, uow):
    with uow:
        hook = _own_webhook(uow, actor, webhook_id)
        hook.active, hook.disabled_reason = False, "deleted"
        out = schemas.WebhookOut().dump(hook)
        uow.session.execute(update(Delivery).where(Delivery.recipient == hook.id,
                                                   Delivery.status == "pending")
                            .values(status="failed", last_error="webhook deleted"))
        # the row stays (its delivery log refers to it) but is no longer listed or used
        hook.owner_id = DELETED + hook.owner_id[:50]
        uow.commit()
        return out


def ping_webhook(actor, webhook_id, uow):
    now = utcnow()
    with uow:
        hook = _own_webhook(uow, actor, webhook_id)
        event_id = "ping-" + secrets.token_hex(8)
        d = Delivery(event_id=event_id, event_type="notify.ping", channel="webhook",
                     recipient=hook.id, address=hook.url, status="pending", attempts=0,
                     payload={"event_id": event_id, "type": "ping", "version": 1,
                              "source": "notify", "occurred_at": now.isoformat(),
                              "data": {"webhook_id": hook.id}},
                     next_attempt_at=now, created_at=now)
        uow.session.add(d)
        uow.commit()
        return schemas.DeliveryOut().dump(d)


def list_deliveries(actor, query, uow, webhook_id=None):
    q = load(schemas.DeliveryQuery(), query)
    with uow:
        stmt = select(Delivery)
        if webhook_id is not None:
            _own_webhook(uow, actor, webhook_id)
            stmt = stmt.where(Delivery.channel == "webhook", Delivery.recipient == webhook_id)
        else:
            _admin(actor)
        for name in ("channel", "status"):
            if q.get(name):
                stmt = stmt.where(getattr(Delivery, name) == q[name])
        total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = uow.session.scalars(stmt.order_by(Delivery.created_at.desc(), Delivery.id)
                                   .offset((q["page"] - 1) * q["page_size"])
                                   .limit(q["page_size"])).all()
        return schemas.DeliveryPage().dump({"items": rows, "total": total, "page": q["page"],
                                            "page_size": q["page_size"]})


def get_delivery(actor, delivery_id, uow, webhook_id=None):
    with uow:
        d = _delivery_of(uow, actor, delivery_id, webhook_id)
        log = uow.session.scalars(select(DeliveryAttempt).where(
            DeliveryAttempt.delivery_id == d.id).order_by(DeliveryAttempt.number)).all()
        out = schemas.DeliveryDetail().dump(d)
        out["log"] = schemas.AttemptOut(many=True).dump(log)
        return out


def _delivery_of(uow, actor, delivery_id, webhook_id):
    if webhook_id is not None:
        _own_webhook(uow, actor, webhook_id)
    else:
        _admin(actor)
    d = uow.session.get(Delivery, delivery_id)
    if d is None or (webhook_id is not None and d.recipient != webhook_id):
        raise exc.DELIVERY_NOT_FOUND(id=delivery_id)
    return d


def replay_delivery(actor, webhook_id, delivery_id, uow):
    """Send a webhook delivery again, as a new delivery (same event id in the body, a new
    Gongdan-Delivery id), whatever became of the first."""
    now = utcnow()
    with uow:
        d = _delivery_of(uow, actor, delivery_id, webhook_id)
        copy = Delivery(event_id="replay-" + secrets.token_hex(8), event_type=d.event_type,
                        channel="webhook", recipient=d.recipient, address=d.address,
                        payload=d.payload, ticket_id=d.ticket_id, status="pending",
                        attempts=0, next_attempt_at=now, created_at=now, replay_of=d.id)
        uow.session.add(copy)
        uow.commit()
        return schemas.DeliveryOut().dump(copy)
