"""Sending (`claim_due` + `record_outcome`): a loop claims due deliveries with a lease, sends
them outside any transaction, and records each attempt; failures are retried with
exponential backoff from the database, so a restart loses nothing."""
import collections
import datetime as dt

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import load_only

from gongdan_common import metrics
from gongdan_common.events import utcnow
from gongdan_common.outbox import consume_once

from . import domain, events, robots, templates
from .common import _add_to_inbox, template_for
from .models import Delivery, DeliveryAttempt, Notification, Webhook


def claim_due(uow, settings, limit=100, now=None, in_flight=None):
    """Claim up to `limit` due deliveries with a lease (committed before sending, so two
    loops never send the same row at once) and return them as plain dicts.

    `in_flight` (recipient -> sends under way in this process) caps each recipient at
    NOTIFY.webhooks.max_in_flight: a slow or dead webhook occupies a few send slots, never
    all of them, so it cannot hold up the others."""
    now = now or utcnow()
    in_flight = dict(in_flight or {})
    cap = settings["max_in_flight"]
    with uow:
        stmt = (select(Delivery).where(Delivery.status == "pending",
                                       Delivery.next_attempt_at <= now)
                .where((Delivery.lease_until.is_(None)) | (Delivery.lease_until < now))
                .order_by(Delivery.next_attempt_at).limit(limit * 4))
        busy = [r for r, n in in_flight.items() if n >= cap]
        if busy:
            stmt = stmt.where(Delivery.recipient.notin_(busy))
        if uow.engine is not None and uow.engine.dialect.name != "sqlite":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(uow.session.scalars(stmt))
        out = []
        lease = now + dt.timedelta(seconds=settings["lease_seconds"])
        for d in rows:
            if len(out) >= limit or in_flight.get(d.recipient, 0) >= cap:
                continue  # not leased: the next pass takes it
            in_flight[d.recipient] = in_flight.get(d.recipient, 0) + 1
            item = delivery_dict(d)
            if d.channel == "webhook":
                hook = uow.session.get(Webhook, d.recipient)
                if hook is None or not hook.active:
                    d.status, d.last_error = "failed", "webhook disabled or deleted"
                    continue
                item["secret"], item["address"] = hook.secret, hook.url
            elif d.channel == "robot" and not robots.fill(uow, d, item):
                continue
            d.lease_until = lease
            out.append(item)
        uow.commit()
        return out


def delivery_dict(d):
    return {k: getattr(d, k) for k in ("id", "event_id", "event_type", "channel", "recipient",
                                       "address", "language", "subject", "body_text",
                                       "body_html", "payload", "attempts", "ticket_id")}


_OUTCOME_COLUMNS = (Delivery.id, Delivery.status, Delivery.attempts, Delivery.channel,
                    Delivery.recipient, Delivery.event_id, Delivery.event_type,
                    Delivery.lease_until, Delivery.next_attempt_at, Delivery.last_error,
                    Delivery.sent_at)
_DELIVERIES, _ATTEMPTS = Delivery.__table__, DeliveryAttempt.__table__
# built once (building and keying it was ~0.2 ms a transaction). status = 'pending' in
# the WHERE: a delivery recorded meanwhile (another replica took it after the lease ran
# out and finished first) is not recorded twice
_MARK_SENT = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id.in_(bindparam("ids", expanding=True)),
           _DELIVERIES.c.status == "pending")
    .values(attempts=_DELIVERIES.c.attempts + 1, lease_until=None, status="sent",
            sent_at=bindparam("now", type_=_DELIVERIES.c.sent_at.type), last_error=None)
    .returning(_DELIVERIES.c.id, _DELIVERIES.c.channel, _DELIVERIES.c.recipient,
               _DELIVERIES.c.event_id, _DELIVERIES.c.event_type, _DELIVERIES.c.attempts))
_ADD_ATTEMPTS = insert(_ATTEMPTS)


def record_outcome(uow, delivery_id, outcome, settings, duration_ms, now=None):
    """Record one attempt (see record_outcomes); returns the delivery's status."""
    return record_outcomes(uow, [(delivery_id, outcome, duration_ms)], settings, now)[0]


def record_outcomes(uow, results, settings, now=None):
    """Record attempts, [(delivery_id, outcome, duration_ms)], in one transaction.
    Returns each delivery's status in order (None: not pending any more).

    A send that went through (nearly every one: the created ticket's mail) is recorded
    without loading its row: one `UPDATE … RETURNING` of what its attempt row and event
    name, one INSERT of the attempt rows. A failure (backoff, giving up, a webhook's
    failure streak) and a delivery named twice in one call take the ORM path."""
    now = now or utcnow()
    named = collections.Counter(delivery_id for delivery_id, _, _ in results)
    fast = [n for n, (delivery_id, outcome, _) in enumerate(results)
            if outcome.ok and named[delivery_id] == 1]
    statuses, failed = {}, []
    with uow:
        if fast:  # first: the ORM path below then reads a webhook's streak as it is now
            statuses.update(_record_sent(uow, {n: results[n] for n in fast}, now))
        if len(fast) < len(results):
            ids = sorted({delivery_id for n, (delivery_id, _, _) in enumerate(results)
                          if n not in statuses})
            # what an outcome changes or names, not the bodies and payloads (kilobytes each)
            rows = {d.id: d for d in uow.session.scalars(
                select(Delivery).options(load_only(*_OUTCOME_COLUMNS))
                .where(Delivery.id.in_(ids)).order_by(Delivery.id))}
            for n, (delivery_id, outcome, duration_ms) in enumerate(results):
                if n in statuses:
                    continue  # recorded above
                d = rows.get(delivery_id)
                if d is None or d.status != "pending":
                    statuses[n] = None
                    continue
                _record(uow, d, outcome, settings, duration_ms, now)
                statuses[n] = d.status
                if not outcome.ok:
                    failed.append(d.channel)
        uow.commit()
    for channel in failed:
        metrics.notify_delivery_failed(channel)
    return [statuses[n] for n in range(len(results))]


def _record_sent(uow, results, now):
    """Successful sends of distinct deliveries, {index: (delivery_id, outcome, ms)} ->
    {index: status}; their notification_sent events emitted in index order."""
    ids = sorted(delivery_id for delivery_id, _, _ in results.values())
    sent = {row.id: row for row in uow.session.execute(_MARK_SENT, {"ids": ids, "now": now})}
    if not sent:
        return dict.fromkeys(results)
    hooks = sorted({d.recipient for d in sent.values() if d.channel == "webhook"})
    if hooks:  # a webhook that answers again starts a new failure streak
        uow.session.execute(update(Webhook.__table__)
                            .where(Webhook.__table__.c.id.in_(hooks),
                                   Webhook.__table__.c.failure_streak != 0)
                            .values(failure_streak=0))
    attempts, statuses = [], {}
    for n, (delivery_id, outcome, duration_ms) in sorted(results.items()):
        d = sent.get(delivery_id)
        statuses[n] = None if d is None else "sent"
        if d is None:
            continue
        attempts.append({"delivery_id": d.id, "number": d.attempts, "at": now, "ok": True,
                         "status_code": outcome.status_code, "error": outcome.error,
                         "response": outcome.response or None,
                         "duration_ms": int(duration_ms)})
        uow.emit(events.NOTIFICATION_SENT, {
            "delivery_id": d.id, "channel": d.channel, "recipient": d.recipient,
            "event_id": d.event_id, "event_type": d.event_type, "attempts": d.attempts,
            "error": outcome.error})
    uow.session.execute(_ADD_ATTEMPTS, attempts)
    return statuses


def _record(uow, d, outcome, settings, duration_ms, now):
    d.attempts += 1
    d.lease_until = None
    uow.session.add(DeliveryAttempt(
        delivery_id=d.id, number=d.attempts, at=now, ok=outcome.ok,
        status_code=outcome.status_code, error=outcome.error,
        response=(outcome.response or None), duration_ms=int(duration_ms)))
    info = {"delivery_id": d.id, "channel": d.channel, "recipient": d.recipient,
            "event_id": d.event_id, "event_type": d.event_type, "attempts": d.attempts,
            "error": outcome.error}
    hook = uow.session.get(Webhook, d.recipient) if d.channel == "webhook" else None
    if outcome.ok:
        d.status, d.sent_at, d.last_error = "sent", now, None
        if hook is not None:
            hook.failure_streak = 0
        uow.emit(events.NOTIFICATION_SENT, info)
    else:
        d.last_error = outcome.error
        limit = settings["webhook_max_attempts"] if hook is not None else \
            settings["message_max_attempts"]
        if outcome.retryable and d.attempts < limit:
            d.next_attempt_at = now + dt.timedelta(seconds=domain.backoff(
                d.attempts, settings["backoff_base"], settings["backoff_cap"]))
        else:
            d.status = "failed"
            uow.emit(events.DELIVERY_FAILED, info)
        if hook is not None:
            _count_webhook_failure(uow, hook, settings, now)


def record_bounce(uow, envelope):
    """channels.mail_bounced: the mail server gave up on a mail it had taken (a DSN came
    back), so the delivery failed after all. Once per event; nothing for a delivery we do not
    know (a bounce of someone else's mail)."""
    data = envelope.get("data") or {}
    with uow:
        if not consume_once(uow, envelope, "notify.mail_bounced"):
            return None
        d = uow.session.get(Delivery, data.get("delivery_id") or "")
        if d is None or d.channel != "email":
            uow.commit()
            return None
        error = " ".join(x for x in ("bounced:", data.get("status"), data.get("recipient"),
                                     data.get("diagnostic")) if x)[:500]
        d.attempts += 1
        uow.session.add(DeliveryAttempt(delivery_id=d.id, number=d.attempts, at=utcnow(),
                                        ok=False, error=error, duration_ms=0))
        d.status, d.last_error, d.lease_until = "failed", error, None
        uow.emit(events.DELIVERY_FAILED, {
            "delivery_id": d.id, "channel": d.channel, "recipient": d.recipient,
            "event_id": d.event_id, "event_type": d.event_type, "attempts": d.attempts,
            "error": error})
        uow.commit()
    metrics.notify_delivery_failed("email")
    return d.id


def sample_pending(uow):
    """The gauge `gongdan_notify_deliveries_pending{channel}` (every channel, 0 when none)."""
    with uow:
        rows = dict(uow.session.execute(
            select(Delivery.channel, func.count()).where(Delivery.status == "pending")
            .group_by(Delivery.channel)).all())
    for channel in set(rows) | {"email", "sms", "webhook"}:
        metrics.NOTIFY_PENDING.labels(metrics.service(), channel).set(rows.get(channel, 0))


def _count_webhook_failure(uow, hook, settings, now):
    hook.failure_streak += 1
    if not hook.active or hook.failure_streak < settings["webhook_disable_after"]:
        return
    hook.active, hook.updated_at = False, now
    hook.disabled_reason = f"{hook.failure_streak} failed deliveries in a row"
    data = {"webhook_id": hook.id, "owner_id": hook.owner_id, "url": hook.url,
            "failures": hook.failure_streak}
    uow.emit(events.WEBHOOK_DISABLED, data)
    if hook.owner_role != "system":  # a person: tell them in their inbox
        envelope = {"event_id": f"webhook-disabled-{hook.id}-{int(now.timestamp())}",
                    "source": "notify", "type": "webhook_disabled", "data": data}
        context = domain.webhook_disabled_context(envelope, settings["public_url"])
        zh, en = (templates.render(template_for(uow, "webhook_disabled", lang), context)
                  for lang in ("zh", "en"))
        _add_to_inbox(uow, Notification(
            event_id=envelope["event_id"], user_id=hook.owner_id, kind="webhook_disabled",
            event_type="notify.webhook_disabled", title=f"{zh['subject']} / {en['subject']}",
            body=f"{zh['text'].strip()}\n{en['text'].strip()}", created_at=now))
