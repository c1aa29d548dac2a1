"""Dispatch's service layer: plain functions over a unit of work. No nameko here.

The registry of service providers, their engineers and the engineers' certifications, and
the question assignment asks of it: who is qualified for a product line on a day, most
suitable first. Assignment itself is in `assigning`, `routing` and `offers`. Rules live in
`domain`; these functions load input, check the actor, query, and dump.
"""
import datetime as dt
import zoneinfo

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gongdan_common.errors import validation_error
from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, events, exceptions as exc, schemas
from .models import (Certification, Engineer, Provider, line_key, qualified_candidates,
                     qualified_provider_ids)

_provider_out = schemas.ProviderSchema()
_engineer_out = schemas.EngineerSchema()
_cert_out = schemas.CertificationSchema()


def settings_from_config(config):
    """Certificates name calendar days: "today" is a day in the vendor's time zone.

    DISPATCH.offer_timeout_minutes (60): how long a provider has to answer an offer.
    DISPATCH.certification_warning_days (30): certification_expiring goes out this many days
    before a certification's last valid day.
    DISPATCH.auto_offer (false): offer new repair and inspection tickets to a provider at once
    when no routing rule decides (otherwise the desk offers them with `offer`).
    DISPATCH.intake_timeout_seconds (10): how long to wait for intake's `ticket_state`.
    """
    cfg = config.get("DISPATCH") or {}
    return {"tz": zoneinfo.ZoneInfo(config.get("TIMEZONE", "Asia/Shanghai")), "now": utcnow,
            "offer_timeout": dt.timedelta(minutes=float(cfg.get("offer_timeout_minutes", 60))),
            "warning_days": int(cfg.get("certification_warning_days", 30)),
            "auto_offer": _flag(cfg.get("auto_offer", False)),
            "intake_timeout": float(cfg.get("intake_timeout_seconds", 10))}


def _flag(value):
    """YAML gives a bool; an environment override gives text."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _today(settings):
    return domain.local_date(settings["now"](), settings["tz"])


def _require(data, names):
    """Fields an upsert needs only when it creates the row."""
    missing = [n for n in names if n not in data]
    if missing:
        raise validation_error(ValidationError(
            {n: ["Missing data for required field."] for n in missing}))


def _changed(row, data):
    """Fields whose value differs; lists (regions, product lines, skills) are sets."""
    def norm(value):
        return {v.lower() for v in value} if isinstance(value, list) else value
    return {k for k, v in data.items() if norm(getattr(row, k)) != norm(v)}


def _retry_once_on_race(attempt):
    """Two upserts of the same new id: the loser's INSERT fails; run it again as an update."""
    try:
        return attempt()
    except IntegrityError:
        return attempt()


def _engineer(uow, engineer_id):
    engineer = uow.session.get(Engineer, engineer_id) if engineer_id else None
    if engineer is None:
        raise exc.ENGINEER_NOT_FOUND(engineer_id=engineer_id)
    return engineer


def _provider(uow, provider_id):
    provider = uow.session.get(Provider, provider_id)
    if provider is None:
        raise exc.PROVIDER_NOT_FOUND(provider_id=provider_id)
    return provider


def _read_scope(actor, provider_id=None):
    """The provider a read is limited to (None = all), refusing what the actor may not see."""
    if domain.reads_all(actor):
        return provider_id
    own = domain.own_provider(actor)
    if own is None or (provider_id is not None and provider_id != own):
        raise exc.NOT_ALLOWED()
    return own


def _cert_view(cert, day):
    out = _cert_out.dump(cert)
    out["status"] = domain.certification_status(cert, day)
    return out


# ---- providers ----------------------------------------------------------------------------

def upsert_provider(actor, payload, uow):
    data = load(schemas.ProviderInSchema(), payload)
    provider_id = data.pop("id")
    if not domain.may_manage(actor, provider_id):
        raise exc.NOT_ALLOWED()

    def attempt():
        with uow:
            provider = uow.session.get(Provider, provider_id)
            now = utcnow()
            if provider is None:
                if not domain.may_register_provider(actor):
                    raise exc.REGISTER_ADMIN_ONLY()
                _require(data, ("name",))
                provider = Provider(**{"regions": [], "product_lines": [], "active": True,
                                       **data}, id=provider_id, created_at=now, updated_at=now)
                uow.session.add(provider)
            else:
                changed = _changed(provider, data)
                refused = domain.admin_only_changes(actor, changed)
                if refused:
                    raise exc.FIELDS_ADMIN_ONLY(fields=", ".join(sorted(refused)))
                for name in changed:
                    setattr(provider, name, data[name])
                if changed:
                    provider.updated_at = now
            uow.commit()
            return _provider_out.dump(provider)

    return _retry_once_on_race(attempt)


def list_providers(actor, uow):
    scope = _read_scope(actor)
    stmt = select(Provider).order_by(Provider.name, Provider.id)
    if scope is not None:
        stmt = stmt.where(Provider.id == scope)
    with uow:
        return _provider_out.dump(uow.session.scalars(stmt).all(), many=True)


# ---- engineers ----------------------------------------------------------------------------

def upsert_engineer(actor, payload, uow):
    data = load(schemas.EngineerInSchema(), payload)
    engineer_id = data.pop("id")
    if not domain.may_manage_some(actor):
        raise exc.NOT_ALLOWED()

    def attempt():
        with uow:
            engineer = uow.session.get(Engineer, engineer_id)
            now = utcnow()
            if engineer is None:
                _require(data, ("provider_id", "name"))
            # the actor must manage the provider the engineer is with and the one they go to
            current = engineer.provider_id if engineer is not None else None
            target = data.get("provider_id", current)
            if current is not None and not domain.may_manage(actor, current):
                raise exc.NOT_ALLOWED()
            if not domain.may_manage(actor, target):
                raise exc.NOT_ALLOWED()
            if target != current:
                _provider(uow, target)
            if engineer is None:
                engineer = Engineer(**{"skills": [], "availability": domain.ON_DUTY, **data},
                                    id=engineer_id, created_at=now, updated_at=now)
                uow.session.add(engineer)
            else:
                changed = _changed(engineer, data)
                for name in changed:
                    setattr(engineer, name, data[name])
                if changed:
                    engineer.updated_at = now
            uow.commit()
            return _engineer_out.dump(engineer)

    return _retry_once_on_race(attempt)


def set_availability(actor, engineer_id, availability, uow):
    data = load(schemas.AvailabilitySchema(), {"availability": availability})
    if not domain.may_manage_some(actor):
        raise exc.NOT_ALLOWED()
    with uow:
        engineer = _engineer(uow, engineer_id)
        if not domain.may_manage(actor, engineer.provider_id):
            raise exc.NOT_ALLOWED()
        if engineer.availability != data["availability"]:
            engineer.availability = data["availability"]
            engineer.updated_at = utcnow()
            uow.commit()
        return _engineer_out.dump(engineer)


def list_engineers(actor, query, uow, settings):
    """Engineers in the actor's scope, by name, each with the product lines they are
    certified for on `certified_at` (default today): {items, total, page, page_size}."""
    q = load(schemas.EngineerQuerySchema(), query)
    scope = _read_scope(actor, q.get("provider_id"))
    day = domain.local_date(q["certified_at"], settings["tz"]) if "certified_at" in q \
        else _today(settings)
    stmt = select(Engineer)
    if scope is not None:
        stmt = stmt.where(Engineer.provider_id == scope)
    if q.get("availability"):
        stmt = stmt.where(Engineer.availability == q["availability"])
    if q.get("product_line"):
        stmt = stmt.where(_holds_line(q["product_line"]))
    with uow:
        engineers = uow.session.scalars(stmt.order_by(Engineer.name, Engineer.id)).all()
        certs = {}
        for cert in _certs_of(uow, stmt):
            certs.setdefault(cert.engineer_id, []).append(cert)
    if "certified_at" in q:
        if q.get("product_line"):
            engineers = [e for e in engineers if domain.is_certified(
                certs.get(e.id, ()), q["product_line"], day)]
        else:
            engineers = [e for e in engineers if domain.certified_lines(certs.get(e.id, ()), day)]
    start = (q["page"] - 1) * q["page_size"]
    items = []
    for engineer in engineers[start:start + q["page_size"]]:
        out = _engineer_out.dump(engineer)
        out["certified_product_lines"] = domain.certified_lines(certs.get(engineer.id, ()), day)
        items.append(out)
    return {"items": items, "total": len(engineers), "page": q["page"],
            "page_size": q["page_size"]}


def _same_line(product_line):
    return Certification.line_key == line_key(product_line)  # domain.same_line, indexed


def _holds_line(product_line):
    """The engineer holds some certification (of any period) for this product line."""
    return select(Certification.id).where(Certification.engineer_id == Engineer.id,
                                          _same_line(product_line)).exists()


def _certs_of(uow, engineers_stmt, product_line=None):
    """Certifications (of `product_line` when given) of the engineers a query selects."""
    ids = engineers_stmt.with_only_columns(Engineer.id).order_by(None).scalar_subquery()
    stmt = select(Certification).where(Certification.engineer_id.in_(ids))
    if product_line:
        stmt = stmt.where(_same_line(product_line))
    return uow.session.scalars(stmt).all()


# ---- certifications -----------------------------------------------------------------------

_CERT_DETAILS = ("product_line", "certificate_name", "valid_from", "valid_until")


def add_certification(actor, engineer_id, payload, uow, settings):
    """Record a certification and emit engineer_certified in the same transaction.

    Recording the same certificate number again with the same details returns the first
    record (a retry, no second event); with other details it is a conflict."""
    data = load(schemas.CertificationInSchema(), payload)
    if not domain.may_manage_some(actor):
        raise exc.NOT_ALLOWED()

    def attempt():
        with uow:
            engineer = _engineer(uow, engineer_id)
            if not domain.may_manage(actor, engineer.provider_id):
                raise exc.NOT_ALLOWED()
            existing = uow.session.scalar(select(Certification).where(
                Certification.engineer_id == engineer.id,
                Certification.certificate_no == data["certificate_no"]))
            if existing is not None:
                if any(getattr(existing, k) != data.get(k) for k in _CERT_DETAILS):
                    raise exc.CERTIFICATE_CONFLICT(certificate_no=data["certificate_no"])
                return _cert_view(existing, _today(settings))
            cert = Certification(engineer_id=engineer.id, created_at=utcnow(), **data)
            uow.session.add(cert)
            uow.flush()
            uow.emit(events.ENGINEER_CERTIFIED, {
                "certification_id": cert.id, "engineer_id": engineer.id,
                "engineer_name": engineer.name, "provider_id": engineer.provider_id,
                "product_line": cert.product_line, "certificate_no": cert.certificate_no,
                "certificate_name": cert.certificate_name, "valid_from": cert.valid_from,
                "valid_until": cert.valid_until}, actor=actor)
            uow.commit()
            return _cert_view(cert, _today(settings))

    return _retry_once_on_race(attempt)


def list_certifications(actor, engineer_id, uow, settings):
    """An engineer's certifications, by product line and start, each with its status today."""
    with uow:
        engineer = _engineer(uow, engineer_id)
        if not domain.may_read_engineer(actor, engineer):
            raise exc.NOT_ALLOWED()
        certs = uow.session.scalars(
            select(Certification).where(Certification.engineer_id == engineer.id)
            .order_by(Certification.product_line, Certification.valid_from,
                      Certification.id)).all()
    today = _today(settings)
    return [_cert_view(c, today) for c in certs]


# ---- qualification ------------------------------------------------------------------------

def best_candidate(uow, product_line, day, provider_ids=None, wanted_skills=()):
    """The most suitable qualified engineer (see `qualified_candidates`) as a
    domain.Candidate of ORM rows, for assignment to place; None when nobody qualifies."""
    rows, _ = qualified_candidates(uow.session, product_line, day, provider_ids,
                                   wanted_skills, limit=1)
    if not rows:
        return None
    row = rows[0]
    return domain.Candidate(uow.session.get(Engineer, row["id"]),
                            uow.session.get(Certification, row["cert_id"]), row["skill_match"])


def providers_with_qualified(uow, product_line, day, provider_ids=None):
    """The providers (of `provider_ids`) with an engineer qualified for the line on `day`."""
    return qualified_provider_ids(uow.session, product_line, day, provider_ids)


def _candidate_item(row, day):
    """One answer item of qualified_engineers, built from the lookup's row as the
    EngineerSchema / CertificationSchema dumps plus the ranking's reasons."""
    cert = {name: row["cert_" + name] for name in (
        "id", "engineer_id", "product_line", "certificate_no", "certificate_name")}
    cert.update(valid_from=row["cert_valid_from"].isoformat(),
                valid_until=row["cert_valid_until"].isoformat(),
                created_at=schemas.utc_iso(row["cert_created_at"]),
                status=domain.certification_status(domain.Certification(
                    row["cert_engineer_id"], row["cert_product_line"], row["cert_valid_from"],
                    row["cert_valid_until"]), day))
    return {"id": row["id"], "provider_id": row["provider_id"], "name": row["name"],
            "skills": list(row["skills"] or ()), "availability": row["availability"],
            "created_at": schemas.utc_iso(row["created_at"]),
            "updated_at": schemas.utc_iso(row["updated_at"]),
            "skill_match": row["skill_match"], "open_load": row["open_load"],
            "last_assigned_at": schemas.utc_iso(row["last_assigned_at"]),
            "certification": cert}


def qualified_engineers(actor, query, uow, settings):
    """On-duty engineers of active providers certified for `product_line` on day `at`
    (default today), most suitable first, at most `limit` (default 20): {product_line, at,
    total, items}; each item says its skill match, open load and when it was last assigned
    (the ranking's reasons). One SQL statement ranks and limits (models.qualified_candidates)."""
    q = load(schemas.QualifiedQuerySchema(), query)
    scope = _read_scope(actor, q.get("provider_id"))
    day = domain.local_date(q["at"], settings["tz"]) if "at" in q else _today(settings)
    with uow:
        rows, total = qualified_candidates(uow.session, q["product_line"], day,
                                           None if scope is None else [scope], q["skills"],
                                           limit=q["limit"])
        items = [_candidate_item(row, day) for row in rows]
    return {"product_line": q["product_line"], "at": day.isoformat(), "total": total,
            "items": items}
