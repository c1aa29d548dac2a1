"""sla's service layer for business calendars, policies and the due-time preview.

Plain functions over a unit of work. Editing a calendar or a policy re-evaluates the open
clocks that depend on it (clocks.reevaluate), in the same transaction.
"""
import datetime as dt

from eventlet import tpool
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, exceptions as exc, schemas
from .calendar import Calendar as BusinessCalendar, CalendarError
from .models import Calendar, Policy

_calendar_out = schemas.CalendarSchema()
_policy_out = schemas.PolicySchema()
SPEC_FIELDS = ("tz", "always_open", "chinese_holidays", "hours", "holidays", "workdays",
               "closures")


def require_admin(actor):
    if (actor or {}).get("role") != "admin":
        raise exc.ADMIN_ONLY()


_BUILT = {}  # (calendar id, updated_at) -> BusinessCalendar: keeps its per-day cache warm


def business_calendar(spec):
    """A BusinessCalendar from a stored row or an API dict, or the matching 400."""
    if isinstance(spec, Calendar):
        key = (spec.id, spec.updated_at)
        if spec.id is None:
            return _build({name: getattr(spec, name) for name in SPEC_FIELDS})
        if key in _BUILT:
            return _BUILT[key]
        built = _build({name: getattr(spec, name) for name in SPEC_FIELDS})
        if len(_BUILT) > 256:
            _BUILT.clear()
        _BUILT[key] = built
        return built
    return _build(spec)


def _build(spec):
    try:
        return BusinessCalendar.from_spec(spec)
    except CalendarError as err:
        raise _calendar_error(err) from None


def _calendar_error(err):
    """The 400 for a CalendarError, naming the field it concerns in details.fields (as
    validation errors do), so a form can show the message next to it."""
    spec = exc.CALENDAR_ERRORS[err.key]
    where = _CALENDAR_ERROR_FIELDS.get(err.key)
    if where == "hours" and err.params.get("day"):
        where = f"hours.{err.params['day']}"
    if not where:
        return spec(**err.params)
    fields = {"en": spec.en.format(**err.params), "zh": spec.zh.format(**err.params)}
    for part in reversed(where.split(".")):
        fields = {part: fields}
    return spec(details={"fields": fields}, **err.params)


_CALENDAR_ERROR_FIELDS = {
    "unknown_time_zone": "tz", "bad_time": "hours", "bad_range": "hours",
    "inverted_hours": "hours", "overlapping_hours": "hours", "bad_weekday": "hours",
    "never_open": "hours", "inverted_closure": "closures",
}


def _stored_spec(data):
    """API dict -> JSON-ready column values (dates and instants as ISO text)."""
    out = {k: data[k] for k in SPEC_FIELDS if k in data}
    if "holidays" in out:
        out["holidays"] = sorted({d.isoformat() for d in out["holidays"]})
    if "workdays" in out:
        out["workdays"] = sorted({d.isoformat() for d in out["workdays"]})
    if "closures" in out:
        out["closures"] = [dict(c, start=c["start"].isoformat(), end=c["end"].isoformat())
                           for c in out["closures"]]
    return out


# ---- calendars -----------------------------------------------------------------------

def list_calendars(uow):
    with uow:
        return _calendar_out.dump(
            uow.session.scalars(select(Calendar).order_by(Calendar.name)).all(), many=True)


def _calendar(uow, calendar_id):
    row = uow.session.get(Calendar, calendar_id)
    if row is None:
        raise exc.CALENDAR_NOT_FOUND()
    return row


def get_calendar(calendar_id, uow):
    with uow:
        return _calendar_out.dump(_calendar(uow, calendar_id))


def put_calendar(actor, calendar_id, payload, uow, reevaluate, now=None):
    """Create (calendar_id None) or change a calendar; re-evaluates its open clocks."""
    require_admin(actor)
    schema = schemas.CalendarInSchema() if calendar_id is None else \
        schemas.CalendarPatchSchema.for_patch()
    data = load(schema, payload)
    now = now or utcnow()
    with uow:
        if calendar_id is None:
            row = Calendar(name=data["name"], created_at=now, updated_at=now,
                           **_stored_spec(schemas.CalendarSpecSchema().load({})))
            uow.session.add(row)
        else:
            row = _calendar(uow, calendar_id)
        for name, value in _stored_spec(data).items():
            setattr(row, name, value)
        if "name" in data:
            row.name = data["name"]
        row.updated_at = now
        business_calendar(row)  # refuse what cannot work before it is stored
        _flush_unique(uow, row.name)
        if calendar_id is not None:
            reevaluate(uow, calendar_id=row.id, now=now)
        uow.commit()
        return _calendar_out.dump(row)


def delete_calendar(actor, calendar_id, uow):
    require_admin(actor)
    with uow:
        row = _calendar(uow, calendar_id)
        users = uow.session.scalars(select(Policy.name).where(
            Policy.calendar_id == calendar_id)).all()
        if users:
            raise exc.CALENDAR_IN_USE(names=", ".join(sorted(users)))
        out = _calendar_out.dump(row)
        uow.session.delete(row)
        uow.commit()
        return out


def _flush_unique(uow, name):
    try:
        with uow.session.begin_nested():
            uow.flush()
    except IntegrityError:
        raise exc.NAME_TAKEN(name=name) from None


# ---- policies ------------------------------------------------------------------------

def list_policies(uow):
    with uow:
        return _policy_out.dump(uow.session.scalars(
            select(Policy).order_by(Policy.rank, Policy.name)).all(), many=True)


def _policy(uow, policy_id):
    row = uow.session.get(Policy, policy_id)
    if row is None:
        raise exc.POLICY_NOT_FOUND()
    return row


def get_policy(policy_id, uow):
    with uow:
        return _policy_out.dump(_policy(uow, policy_id))


def check_policy(uow, data):
    """Refuse a policy that can never apply or states no target."""
    if data.get("priority") not in (None, "") and data["priority"] not in domain.PRIORITIES:
        raise exc.POLICY_MATCHES_NOTHING(
            why=f"there is no priority '{data['priority']}' (P1-P4)",
            why_zh=f"不存在优先级“{data['priority']}”（P1-P4）")
    if data.get("ticket_type") not in (None, "") and \
            data["ticket_type"] not in domain.TICKET_TYPES:
        raise exc.POLICY_MATCHES_NOTHING(
            why=f"there is no ticket type '{data['ticket_type']}'",
            why_zh=f"不存在工单类型“{data['ticket_type']}”")
    if not data.get("active", True):
        return
    if not any(data.get(f"{t}_minutes") for t in domain.TARGETS):
        raise exc.NO_TARGET()
    if uow.session.get(Calendar, data["calendar_id"]) is None:
        raise exc.CALENDAR_NOT_FOUND()


def policy_row_values(data):
    return {k: (v or None) if k in ("company_id", "ticket_type", "priority") else v
            for k, v in data.items()}


def put_policy(actor, policy_id, payload, uow, reevaluate, now=None):
    require_admin(actor)
    schema = schemas.PolicyInSchema() if policy_id is None else \
        schemas.PolicyInSchema.for_patch()
    data = load(schema, payload)
    now = now or utcnow()
    with uow:
        if policy_id is None:
            row = Policy(created_at=now)
            uow.session.add(row)
        else:
            row = _policy(uow, policy_id)
        for name, value in policy_row_values(data).items():
            setattr(row, name, value)
        row.updated_at = now
        with uow.session.no_autoflush:
            check_policy(uow, _policy_out.dump(row))
        _flush_unique(uow, row.name)
        reevaluate(uow, policy_id=row.id, now=now)
        uow.commit()
        return _policy_out.dump(row)


def delete_policy(actor, policy_id, uow, reevaluate, now=None):
    require_admin(actor)
    with uow:
        row = _policy(uow, policy_id)
        out = _policy_out.dump(row)
        uow.session.delete(row)
        uow.flush()
        reevaluate(uow, policy_id=policy_id, now=now or utcnow())
        uow.commit()
        return out


def load_policies(uow):
    """Every policy as a dict with its BusinessCalendar (for matching and evaluation)."""
    calendars = {c.id: c for c in uow.session.scalars(select(Calendar)).all()}
    out = []
    for row in uow.session.scalars(select(Policy)).all():
        policy = _policy_out.dump(row)
        cal = calendars.get(row.calendar_id)
        if cal is None:
            continue
        policy["business_calendar"] = business_calendar(cal)
        policy["business_calendar"].calendar_id = cal.id
        out.append(policy)
    return out


# ---- preview -------------------------------------------------------------------------

def preview(payload, uow):
    data = load(schemas.PreviewSchema(), payload)
    if data.get("calendar_id"):
        with uow:
            cal = business_calendar(_calendar(uow, data["calendar_id"]))
    else:
        cal = business_calendar(data["calendar"])
    out = {"start": data["start"], "tz": cal.tz}
    if "minutes" in data or "business_days" in data:
        try:  # years of business time take a second of pure Python: off the eventlet hub
            due = tpool.execute(cal.add, data["start"], dt.timedelta(minutes=data["minutes"])) \
                if "minutes" in data else tpool.execute(cal.add_business_days, data["start"],
                                                        data["business_days"])
        except CalendarError as err:
            raise _calendar_error(err) from None
        out.update({k: data[k] for k in ("minutes", "business_days") if k in data},
                   due_at=due, due_at_local=due.astimezone(cal.zone).isoformat())
    else:
        out.update(end=data["end"],
                   business_minutes=cal.between(data["start"], data["end"]).total_seconds() / 60)
    return schemas.PreviewResultSchema().dump(out)
