"""What notify's handler modules share: settings, rule overrides, compiled templates, inbox
rows, the person an actor is, preference rows and the admin check."""
import datetime as dt
import hashlib

from sqlalchemy import select

from . import events, exceptions as exc, templates
from .models import RuleOverride, TemplateOverride, new_id


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
        # outcomes finished this close together are recorded in one transaction
        "record_linger": float(cfg.get("record_linger_seconds", 0.05)),
        "directory_timeout": float(cfg.get("directory_timeout_seconds", 5)),
        "directory_ttl": float(cfg.get("directory_cache_seconds", 30)),
        "default_language": cfg.get("default_language", "zh"),
        "digest_interval": float((cfg.get("digest") or {}).get("interval_seconds", 60)),
        "digest_max_lines": int((cfg.get("digest") or {}).get("max_lines", 200)),
    }


def _rule_overrides(uow):
    return [row.rule | {"id": row.id} for row in uow.session.scalars(select(RuleOverride))]


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


def _add_to_inbox(uow, n):
    """An inbox row and its notification_created event (gateways push it live)."""
    n.id = n.id or new_id()  # known now: no flush needed before the event
    uow.session.add(n)
    uow.emit(events.NOTIFICATION_CREATED, {
        "notification_id": n.id, "user_id": n.user_id, "kind": n.kind,
        "event_type": n.event_type, "title": n.title, "ticket_id": n.ticket_id,
        "ticket_number": n.ticket_number, "created_at": n.created_at})


def _person(actor):
    if not actor or actor.get("role") == "system" or not actor.get("id"):
        raise exc.PEOPLE_ONLY()
    return actor["id"]


def _pref_dict(p):
    return {"language": p.language, "channels": p.channels or {}, "quiet_start": p.quiet_start,
            "quiet_end": p.quiet_end, "timezone": p.timezone,
            "digest": {"enabled": bool(p.digest_enabled), "time": p.digest_time,
                       "since": p.digest_since}}


def _admin(actor):
    if (actor or {}).get("role") != "admin":
        raise exc.ADMIN_ONLY()


def _aware(value):
    return value if value is None or value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
