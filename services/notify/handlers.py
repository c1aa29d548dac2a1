"""Notify's service layer: plain functions over a unit of work. No nameko here.

Two halves:
- *planning* (`ingest`): an event arrives; the rules say who hears it over which channel;
  the inbox rows are written and every outgoing message (email, SMS, webhook) is written as
  a `deliveries` row, all in one transaction with the processed-event record, so a
  redelivered event plans nothing twice (and the unique constraints say so as well);
- *sending* (`claim_due` + `record_outcome`): a loop claims due deliveries with a lease,
  sends them outside any transaction, and records each attempt; failures are retried with
  exponential backoff from the database, so a restart loses nothing.
Plus the inbox, preferences, rules, templates and webhooks behind the HTTP API.
"""
import datetime as dt
import hashlib
import secrets

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gongdan_common import metrics
from gongdan_common.errors import VALIDATION_FAILED
from gongdan_common.events import utcnow
from gongdan_common.outbox import consume_many
from gongdan_common.validation import load

from . import digest, domain, events, exceptions as exc, schemas, templates
from .models import (Delivery, DeliveryAttempt, Digest, DigestItem, Notification, Preference,
                     RuleOverride, TemplateOverride, Webhook, new_id)

CONSUMER = "notify.ingest"
DELETED = "deleted:"  # owner prefix of a deleted webhook (kept for its delivery log)


def settings_from_config(config):
    cfg = config.get("NOTIFY") or {}
    smtp = cfg.get("smtp") or {}
    hooks = cfg.get("webhooks") or {}
    retry = cfg.get("retry") or {}
    allow = hooks.get("allow_networks") or ""
    if isinstance(allow, str):
        allow = [n.strip() for n in allow.split(",") if n.strip()]
    public = (cfg.get("public_url") or (config.get("GATEWAY") or {}).get("public_url")
              or "http://127.0.0.1:8000").rstrip("/")
    return {
        "public_url": public,
        "smtp": smtp,
        "sms": cfg.get("sms") or {},
        "allow_networks": allow,
        "webhook_timeout": float(hooks.get("timeout_seconds", 5)),
        "webhook_disable_after": int(hooks.get("disable_after_failures", 10)),
        "webhook_max_attempts": int(hooks.get("max_attempts", 8)),
        "max_in_flight": int(hooks.get("max_in_flight", 4)),
        "message_max_attempts": int(retry.get("max_attempts", 12)),
        "backoff_base": float(retry.get("backoff_base_seconds", 30)),
        "backoff_cap": float(retry.get("backoff_cap_seconds", 3600)),
        "lease_seconds": float(retry.get("lease_seconds", 120)),
        "poll_interval": float(cfg.get("poll_interval_seconds", 1.0)),
        "concurrency": int(cfg.get("send_concurrency", 50)),
        "directory_timeout": float(cfg.get("directory_timeout_seconds", 5)),
        "directory_ttl": float(cfg.get("directory_cache_seconds", 30)),
        "default_language": cfg.get("default_language", "zh"),
        "digest_interval": float((cfg.get("digest") or {}).get("interval_seconds", 60)),
        "digest_max_lines": int((cfg.get("digest") or {}).get("max_lines", 200)),
    }


# ---- planning ------------------------------------------------------------------------------

def _rule_overrides(uow):
    return [row.rule | {"id": row.id} for row in uow.session.scalars(select(RuleOverride))]


def _active_webhooks(uow):
    return list(uow.session.scalars(select(Webhook).where(Webhook.active.is_(True))))


def configuration(uow):
    """The rules in force, the active webhooks and which templates admins replaced (what
    `ingest` needs besides people)."""
    with uow:
        return (domain.effective_rules(_rule_overrides(uow)),
                [(h.id, h.url, list(h.event_types)) for h in _active_webhooks(uow)],
                set(uow.session.execute(select(TemplateOverride.kind,
                                               TemplateOverride.language)).tuples()))


def plan_inputs(envelope, uow, config=None):
    """Matching rules and webhooks; `config` is a recent `configuration(uow)` when the caller
    keeps one (the service does, for a second: an admin's change applies within that)."""
    rules, hooks, overridden = config or configuration(uow)
    return (domain.matching_rules(envelope, rules),
            [(hid, url) for hid, url, types in hooks if domain.webhook_matches(types, envelope)],
            overridden)


def directory_queries(envelope, rules, queries=None):
    queries = [] if queries is None else queries
    for rule in rules:
        for selector in domain.rule_selectors(rule, envelope):
            q = domain.selector_query(selector, envelope)
            if q is not None and q not in queries:
                queries.append(q)
    return queries


def ingest(envelope, uow, directory, settings, now=None, config=None):
    """Plan everything one event causes. Returns counts (for logs and tests)."""
    return ingest_many([envelope], uow, directory, settings, now, config)


def ingest_many(envelopes, uow, directory, settings, now=None, config=None):
    """Plan everything a batch of events causes, in one transaction: one directory call
    (cached), one processed-events INSERT, one preferences SELECT, and the inbox rows,
    deliveries and outbox rows written together at commit. Events handled before (a
    redelivery) plan nothing. Returns counts (for logs and tests)."""
    config = config or configuration(uow)
    planned = [(e, *plan_inputs(e, uow, config)) for e in envelopes]
    queries = []
    for envelope, rules, _, _ in planned:
        directory_queries(envelope, rules, queries)
    people = directory(queries) if queries else {}
    now = now or utcnow()
    counts = {"inbox": 0, "email": 0, "sms": 0, "webhook": 0}
    with uow:
        fresh = {e["event_id"] for e in consume_many(uow, envelopes, CONSUMER)}
        if not fresh:
            return counts
        record_digest_items(uow, [e for e in envelopes if e["event_id"] in fresh], now)
        user_ids = {u["id"] for users in people.values() for u in users}
        prefs = {p.user_id: _pref_dict(p) for p in uow.session.scalars(
            select(Preference).where(Preference.user_id.in_(user_ids)))} if user_ids else {}
        for envelope, rules, hooks, overridden in planned:
            if envelope["event_id"] in fresh:
                fresh.discard(envelope["event_id"])  # the same event twice in one batch
                _plan_event(uow, envelope, rules, hooks, overridden, people, prefs,
                            settings, now, counts)
        uow.commit()
    return counts


def _plan_event(uow, envelope, rules, hooks, overridden, people, prefs, settings, now, counts):
    actor_id = (envelope.get("actor") or {}).get("id")
    done = set()
    ticket = domain.ticket_of(envelope)
    for rule in rules:
        for selector in domain.rule_selectors(rule, envelope):
            q = domain.selector_query(selector, envelope)
            for user in people.get(q, []) if q else []:
                if user["id"] in done or (user["id"] == actor_id
                                          and not rule.get("notify_actor")):
                    continue  # nobody is told twice, nor (mostly) of their own action
                done.add(user["id"])
                _plan_for_person(uow, envelope, rule, user, prefs.get(user["id"]), ticket,
                                 settings, now, counts, overridden)
    for hook_id, url in hooks:
        uow.session.add(Delivery(
            event_id=envelope["event_id"], event_type=domain.event_key(envelope),
            channel="webhook", recipient=hook_id, address=url, payload=envelope,
            ticket_id=ticket.get("id"), status="pending", attempts=0,
            next_attempt_at=now, created_at=now))
        counts["webhook"] += 1


def _plan_for_person(uow, envelope, rule, user, pref, ticket, settings, now, counts,
                     overridden):
    priority = ticket.get("priority")
    channels = domain.channels_for(rule, pref, priority)
    if not channels:
        return
    language = (pref or {}).get("language") or user.get("language") or \
        settings["default_language"]
    language = language if language in templates.LANGUAGES else "zh"
    link = f"{settings['public_url']}/#/tickets/{ticket['id']}" if ticket.get("id") else \
        settings["public_url"] + "/"
    context = domain.message_context(envelope, ticket, user, link)
    msg = templates.render(template_for(uow, rule["kind"], language, overridden), context)
    number = ticket.get("number")
    if number and number not in msg["subject"]:
        msg["subject"] = f"[{number}] {msg['subject']}"[:templates.MAX_SUBJECT]
    common = {"event_id": envelope["event_id"], "event_type": domain.event_key(envelope),
              "kind": rule["kind"], "ticket_id": ticket.get("id")}
    if "inbox" in channels:
        _add_to_inbox(uow, Notification(
            user_id=user["id"], title=msg["subject"], body=msg["text"].strip(), link=link,
            priority=priority, ticket_number=number, created_at=now, **common))
        counts["inbox"] += 1
    quiet_until = domain.in_quiet_hours(pref, now, priority)
    for channel, address in (("email", user.get("email")), ("sms", user.get("phone"))):
        if channel not in channels or not address:
            continue
        text = msg["text"] if channel == "email" else f"{msg['subject']} {link}"
        uow.session.add(Delivery(
            channel=channel, recipient=user["id"], address=address, language=language,
            subject=msg["subject"], body_text=text,
            body_html=msg["html"] if channel == "email" else None, status="pending",
            attempts=0, next_attempt_at=quiet_until or now, created_at=now, **common))
        counts[channel] += 1


_compiled_cache = {}


def template_for(uow, kind, language, overridden=None):
    """The admin's version if there is one, else the shipped one. `overridden` (the keys of
    admins' templates, from `configuration`) saves the lookup when there is none."""
    if overridden is not None and (kind, language) not in overridden:
        return templates.default_compiled(kind, language)
    row = uow.session.get(TemplateOverride, (kind, language))
    if row is None:
        return templates.default_compiled(kind, language)
    key = hashlib.sha256("\x00".join((row.subject, row.text, row.html)).encode()).hexdigest()
    if key not in _compiled_cache:
        _compiled_cache[key] = templates.compile_template(
            {"subject": row.subject, "text": row.text, "html": row.html})
    return _compiled_cache[key]


# ---- sending -------------------------------------------------------------------------------

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
            item = _delivery_dict(d)
            if d.channel == "webhook":
                hook = uow.session.get(Webhook, d.recipient)
                if hook is None or not hook.active:
                    d.status, d.last_error = "failed", "webhook disabled or deleted"
                    continue
                item["secret"], item["address"] = hook.secret, hook.url
            d.lease_until = lease
            out.append(item)
        uow.commit()
        return out


def _delivery_dict(d):
    return {k: getattr(d, k) for k in ("id", "event_id", "event_type", "channel", "recipient",
                                       "address", "language", "subject", "body_text",
                                       "body_html", "payload", "attempts")}


def record_outcome(uow, delivery_id, outcome, settings, duration_ms, now=None):
    now = now or utcnow()
    with uow:
        d = uow.session.get(Delivery, delivery_id)
        if d is None or d.status != "pending":
            return None
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
        uow.commit()
    if not outcome.ok:
        metrics.notify_delivery_failed(info["channel"])
    return d.status


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


def _add_to_inbox(uow, n):
    """An inbox row and its notification_created event (gateways push it live)."""
    n.id = n.id or new_id()  # known now: no flush needed before the event
    uow.session.add(n)
    uow.emit(events.NOTIFICATION_CREATED, {
        "notification_id": n.id, "user_id": n.user_id, "kind": n.kind,
        "event_type": n.event_type, "title": n.title, "ticket_id": n.ticket_id,
        "ticket_number": n.ticket_number, "created_at": n.created_at})


# ---- the inbox -----------------------------------------------------------------------------

def _person(actor):
    if not actor or actor.get("role") == "system" or not actor.get("id"):
        raise exc.PEOPLE_ONLY()
    return actor["id"]


def list_notifications(actor, query, uow):
    user_id = _person(actor)
    q = load(schemas.InboxQuery(), query)
    with uow:
        base = select(Notification).where(Notification.user_id == user_id)
        if q["unread"]:
            base = base.where(Notification.read_at.is_(None))
        total = uow.session.scalar(select(func.count()).select_from(base.subquery()))
        rows = uow.session.scalars(base.order_by(Notification.created_at.desc(),
                                                 Notification.id.desc())
                                   .offset((q["page"] - 1) * q["page_size"])
                                   .limit(q["page_size"])).all()
        unread = _unread(uow, user_id)
    return schemas.InboxPage().dump({"items": rows, "total": total, "unread": unread,
                                     "page": q["page"], "page_size": q["page_size"]})


def _unread(uow, user_id):
    return uow.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)))


def unread_count(actor, uow):
    user_id = _person(actor)
    with uow:
        return {"unread": _unread(uow, user_id)}


def mark_read(actor, notification_id, uow):
    user_id = _person(actor)
    with uow:
        n = uow.session.get(Notification, notification_id)
        if n is None or n.user_id != user_id:
            raise exc.NOTIFICATION_NOT_FOUND(id=notification_id)
        if n.read_at is None:
            n.read_at = utcnow()
        uow.commit()
        return schemas.NotificationSchema().dump(n)


def mark_all_read(actor, uow):
    user_id = _person(actor)
    with uow:
        result = uow.session.execute(update(Notification).where(
            Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=utcnow()))
        uow.commit()
        return {"marked": result.rowcount, "unread": 0}


# ---- preferences ---------------------------------------------------------------------------

def _pref_dict(p):
    return {"language": p.language, "channels": p.channels or {}, "quiet_start": p.quiet_start,
            "quiet_end": p.quiet_end, "timezone": p.timezone,
            "digest": {"enabled": bool(p.digest_enabled), "time": p.digest_time,
                       "since": p.digest_since}}


def _pref_out(d, now=None):
    out = dict(d, kinds=list(templates.KINDS), available_channels=list(domain.CHANNELS))
    dig = d.get("digest") or {}
    if dig.get("enabled"):
        now = now or utcnow()
        after = max(now, _aware(dig.get("since")) or now)
        out["digest"] = dict(dig, next_at=digest.next_slot(dig["time"], d.get("timezone"),
                                                           after))
    return schemas.PreferencesOut().dump(out)


def get_preferences(actor, uow):
    user_id = _person(actor)
    with uow:
        p = uow.session.get(Preference, user_id)
        return _pref_out(_pref_dict(p) if p else {"language": None, "channels": {},
                                                  "quiet_start": None, "quiet_end": None,
                                                  "timezone": None,
                                                  "digest": {"enabled": False, "time": None}})


def put_preferences(actor, payload, uow):
    user_id = _person(actor)
    data = load(schemas.PreferencesSchema(), payload)
    now = utcnow()
    with uow:
        p = uow.session.get(Preference, user_id)
        if p is None:
            p = Preference(user_id=user_id, channels={}, digest_enabled=False)
            uow.session.add(p)
        old_timezone = p.timezone
        for name in ("language", "channels", "quiet_start", "quiet_end", "timezone"):
            if name in data:
                setattr(p, name, data[name] if name != "channels" else dict(data[name]))
        if "digest" in data:
            _set_digest(uow, p, actor, data["digest"], now)
        if p.digest_enabled and p.timezone != old_timezone:
            p.digest_since = now  # the new local time counts from now on
        p.updated_at = now
        uow.commit()
        return _pref_out(_pref_dict(p), now)


# ---- rules and templates (admin) -----------------------------------------------------------

def _admin(actor):
    if (actor or {}).get("role") != "admin":
        raise exc.ADMIN_ONLY()


def list_rules(actor, uow):
    _admin(actor)
    with uow:
        rules = domain.effective_rules(_rule_overrides(uow))
    return {"items": schemas.RuleOut(many=True).dump(rules)}


def put_rule(actor, rule_id, payload, uow):
    _admin(actor)
    if not rule_id or len(rule_id) > 64:
        raise VALIDATION_FAILED(details={"fields": {"id": [{"en": "1 to 64 characters.",
                                                            "zh": "长度须为 1 到 64。"}]}})
    data = load(schemas.RuleSchema(), payload)
    with uow:
        row = uow.session.get(RuleOverride, rule_id)
        if row is None:
            row = RuleOverride(id=rule_id)
            uow.session.add(row)
        row.rule, row.updated_by, row.updated_at = data, actor["id"], utcnow()
        uow.commit()
        rules = domain.effective_rules(_rule_overrides(uow))
    return schemas.RuleOut().dump(next(r for r in rules if r["id"] == rule_id))


def delete_rule(actor, rule_id, uow):
    """A custom rule is removed; a shipped rule goes back to its default."""
    _admin(actor)
    with uow:
        row = uow.session.get(RuleOverride, rule_id)
        if row is None and rule_id not in domain.DEFAULT_IDS:
            raise exc.RULE_NOT_FOUND(id=rule_id)
        if row is not None:
            uow.session.delete(row)
        uow.commit()
    return {"id": rule_id, "restored_default": rule_id in domain.DEFAULT_IDS}


def list_templates(actor, uow):
    _admin(actor)
    with uow:
        rows = {(r.kind, r.language): r for r in uow.session.scalars(select(TemplateOverride))}
    items = []
    for kind, langs in templates.DEFAULTS.items():
        for lang, parts in langs.items():
            row = rows.get((kind, lang))
            src = {"subject": row.subject, "text": row.text, "html": row.html} if row else parts
            items.append(dict(src, kind=kind, language=lang, overridden=row is not None))
    return {"items": schemas.TemplateOut(many=True).dump(items)}


def _check_kind(kind, language):
    if kind not in templates.KINDS or language not in templates.LANGUAGES:
        raise exc.TEMPLATE_NOT_FOUND(kind=kind, language=language)


def put_template(actor, kind, language, payload, uow):
    _admin(actor)
    _check_kind(kind, language)
    data = load(schemas.TemplateSchema(), payload)
    try:
        templates.compile_template(data)
    except templates.TemplateInvalid as err:
        raise exc.TEMPLATE_INVALID(details={"fields": {
            part: [{"en": en, "zh": zh}] for part, (en, zh) in err.problems.items()}}) from None
    with uow:
        row = uow.session.get(TemplateOverride, (kind, language))
        if row is None:
            row = TemplateOverride(kind=kind, language=language)
            uow.session.add(row)
        row.subject, row.text, row.html = data["subject"], data["text"], data["html"]
        row.updated_by, row.updated_at = actor["id"], utcnow()
        uow.commit()
    return schemas.TemplateOut().dump(dict(data, kind=kind, language=language, overridden=True))


def delete_template(actor, kind, language, uow):
    _admin(actor)
    _check_kind(kind, language)
    with uow:
        row = uow.session.get(TemplateOverride, (kind, language))
        if row is not None:
            uow.session.delete(row)
        uow.commit()
    parts = templates.DEFAULTS[kind][language]
    return schemas.TemplateOut().dump(dict(parts, kind=kind, language=language,
                                           overridden=False))


# ---- webhooks ------------------------------------------------------------------------------

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


# ---- the daily digest (customer company admins) ----------------------------------------------
# Pure parts in digest.py. While events arrive, `record_digest_items` (one call in `ingest`,
# same transaction) adds a line per opted-in admin of the ticket's company; `run_digests`
# (a timer in every replica, or an admin by hand) turns each admin's lines into one email
# and one inbox entry at their local digest time.

def _aware(value):
    return value if value is None or value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _set_digest(uow, p, actor, wanted, now):
    """Turn the digest on (customer company admins only: it is about their company) or off
    (lines not yet sent are dropped: off means nothing arrives later)."""
    if wanted and wanted["enabled"]:
        if actor.get("role") != "customer_admin" or not actor.get("company_id"):
            raise exc.DIGEST_NOT_AVAILABLE()
        if not (p.digest_enabled and p.digest_time == wanted["time"]
                and p.digest_company_id == actor["company_id"]):
            p.digest_since = now  # the first digest comes at the next digest time
        p.digest_enabled, p.digest_time = True, wanted["time"]
        p.digest_company_id = actor["company_id"]
        return
    if p.digest_enabled:
        uow.session.execute(DigestItem.__table__.delete().where(
            DigestItem.recipient == p.user_id, DigestItem.digest_id.is_(None)))
    p.digest_enabled, p.digest_since = False, None


def record_digest_items(uow, envelopes, now):
    """Inside the caller's transaction (after `consume_many`): one line per company admin
    who takes the digest, for each event about a ticket of their company. One local query
    per batch (the company is kept with the admin's preference), no directory call."""
    items = [(e, item) for e in envelopes if (item := digest.item_of(e)) is not None]
    if not items:
        return 0
    readers = {}
    for user_id, company_id in uow.session.execute(select(
            Preference.user_id, Preference.digest_company_id).where(
            Preference.digest_enabled.is_(True),
            Preference.digest_company_id.in_({i["company_id"] for _, i in items}))):
        readers.setdefault(company_id, []).append(user_id)
    count = 0
    for envelope, item in items:
        for user_id in readers.get(item["company_id"], ()):
            uow.session.add(DigestItem(
                event_id=envelope["event_id"], recipient=user_id,
                company_id=item["company_id"], kind=item["kind"], ticket_id=item["ticket_id"],
                ticket_number=item["ticket_number"],
                ticket_title=(item["ticket_title"] or "")[:300] or None,
                detail=item["detail"], occurred_at=item["occurred_at"] or now,
                recorded_at=now))
            count += 1
    return count


def run_digests(uow, directory, settings, now=None):
    """One pass: every opted-in admin whose local digest time has come (and whose digest of
    that day is not made yet) gets it. Safe in any number of replicas: each digest is
    claimed by inserting its (recipient, date) row; whoever cannot, leaves it. `now` is the
    pass's clock (the admin endpoint may set it); messages are scheduled in real time."""
    real = utcnow()
    now = now or real
    due = {}
    with uow:
        for p in uow.session.scalars(select(Preference).where(
                Preference.digest_enabled.is_(True))):
            slot = digest.due_slot(p.digest_time or digest.DEFAULT_TIME, p.timezone,
                                   _aware(p.digest_since), now)
            if slot is not None:
                due[p.user_id] = (slot[0], _pref_dict(p) | {"company_id": p.digest_company_id})
        if due:
            done = set(uow.session.execute(select(Digest.recipient, Digest.digest_date).where(
                Digest.recipient.in_(list(due)),
                Digest.digest_date.in_({day for day, _ in due.values()}))).tuples())
            due = {u: v for u, v in due.items() if (u, v[0]) not in done}
    counts = {"now": now, "due": len(due), "sent": 0, "empty": 0, "skipped": 0, "taken": 0}
    people = directory([("id", u) for u in due]) if due else {}
    for user_id, (day, pref) in due.items():
        person = (people.get(("id", user_id)) or [None])[0]
        counts[_make_digest(uow, user_id, day, pref, person, settings, now, real)] += 1
    return counts


def _claim_digest(uow, user_id, day, company_id, real):
    """Insert the (recipient, date) row unless it exists; True when this call did."""
    dialect = uow.session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    digest_id = new_id()
    stmt = insert(Digest).values(id=digest_id, recipient=user_id, digest_date=day,
                                 company_id=company_id, status="pending", items=0,
                                 created_at=real).on_conflict_do_nothing()
    return digest_id if uow.session.execute(stmt).rowcount == 1 else None


def _make_digest(uow, user_id, day, pref, person, settings, now, real):
    with uow:
        digest_id = _claim_digest(uow, user_id, day, pref["company_id"], real)
        if digest_id is None:
            return "taken"  # another replica made it (or is making it)
        row = uow.session.get(Digest, digest_id)
        stmt = select(DigestItem).where(DigestItem.recipient == user_id,
                                        DigestItem.digest_id.is_(None),
                                        DigestItem.recorded_at <= now).order_by(DigestItem.id)
        if uow.session.bind.dialect.name != "sqlite":
            stmt = stmt.with_for_update()
        items = list(uow.session.scalars(stmt))
        if items:
            uow.session.execute(update(DigestItem).where(
                DigestItem.id.in_([i.id for i in items])).values(digest_id=digest_id))
        row.items = len(items)
        if not items:
            row.status = "empty"
        elif person is None or person.get("role") != "customer_admin" \
                or person.get("company_id") != pref["company_id"]:
            row.status = "skipped"  # no longer that company's admin: their lines are dropped
            _stop_or_move_digest(uow, user_id, person)
        else:
            row.status = "sent"
            row.notification_id, row.delivery_id = _send_digest(
                uow, user_id, day, pref, person, items, settings, real)
        uow.commit()
        return "sent" if row.status == "sent" else row.status


def _stop_or_move_digest(uow, user_id, person):
    p = uow.session.get(Preference, user_id)
    if person is not None and person.get("role") == "customer_admin" \
            and person.get("company_id"):
        p.digest_company_id = person["company_id"]  # now the admin of another company
    else:
        p.digest_enabled = False


def _send_digest(uow, user_id, day, pref, person, items, settings, real):
    language = pref.get("language") or person.get("language") or settings["default_language"]
    language = language if language in templates.LANGUAGES else "zh"
    lines = [{"kind": i.kind, "ticket_id": i.ticket_id, "ticket_number": i.ticket_number,
              "ticket_title": i.ticket_title, "occurred_at": i.occurred_at,
              "detail": i.detail or {}, "seq": i.id} for i in items]
    composed = digest.compose(lines, language, pref.get("timezone"), settings["public_url"],
                              person.get("company_name"), day, settings["digest_max_lines"])
    context = {"digest": composed, "link": composed["link"], "event": {"type": "digest"},
               "recipient": {"id": user_id, "name": person.get("name")}}
    msg = templates.render(template_for(uow, "digest", language), context)
    channels = [c for c in domain.channels_for(
        {"kind": "digest", "channels": ["inbox", "email"]}, pref, None) if c != "sms"]
    event_id = f"digest:{user_id}:{day.isoformat()}"
    common = {"event_id": event_id, "event_type": "notify.digest", "kind": "digest"}
    notification_id = delivery_id = None
    if "inbox" in channels:
        n = Notification(user_id=user_id, title=msg["subject"], body=msg["text"].strip(),
                         link=composed["link"], created_at=real, **common)
        _add_to_inbox(uow, n)
        notification_id = n.id
    if "email" in channels and person.get("email"):
        delivery_id = new_id()
        uow.session.add(Delivery(
            id=delivery_id, channel="email", recipient=user_id, address=person["email"],
            language=language, subject=msg["subject"], body_text=msg["text"],
            body_html=msg["html"], status="pending", attempts=0,
            next_attempt_at=domain.in_quiet_hours(pref, real, None) or real, created_at=real,
            **common))
    return notification_id, delivery_id


def run_digests_by_hand(actor, payload, uow, directory, settings):
    """POST /admin/notifications/digests/run: the same pass, now or as of `now`."""
    _admin(actor)
    data = load(schemas.DigestRunIn(), payload)
    return schemas.DigestRunOut().dump(run_digests(uow, directory, settings, data.get("now")))
