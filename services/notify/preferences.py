"""A person's notification preferences: channels per kind, quiet hours, the daily digest."""
from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import digest, domain, exceptions as exc, schemas, templates
from .common import _aware, _person, _pref_dict
from .models import DigestItem, Preference


def _pref_out(d, now=None):
    out = dict(d, kinds=[k for k in templates.KINDS if k not in domain.ALWAYS_SENT], available_channels=list(domain.CHANNELS))
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
