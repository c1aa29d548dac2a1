"""Leftover items (遗留问题): filed with a close (resolve / close) or later, progress, done or
cancelled, the role-scoped list, and the overdue sweep. Rules in leftover_rules."""
import datetime as dt

from sqlalchemy import and_, asc, desc, func, or_, select, update

from gongdan_common import visibility
from gongdan_common.events import utcnow
from gongdan_common.fields import desk_timezone
from gongdan_common.i18n import bi
from gongdan_common.validation import load, refuse

from . import domain, events, exceptions as exc, leftover_rules as rules
from . import leftover_schemas as schemas
from .common import _get_visible, _ref, _view
from .models import LeftoverItem, LeftoverUpdate, Ticket

SYSTEM = {"id": None, "role": "system", "name": "system"}
_item_out = schemas.LeftoverItemOut()
_update_out = schemas.LeftoverUpdateOut(many=True)
_SORT = {"due_date": LeftoverItem.due_date, "created_at": LeftoverItem.created_at}


def _tz(settings):
    return (settings or {}).get("tz") or desk_timezone()


def _refused(refused):
    raise exc.LEFTOVER_ERRORS[refused.key](**refused.params) from None


def _facts(item):
    return {"owner_id": item.owner_id, "status": item.status}


def _event_item(item):
    return {k: getattr(item, k) for k in ("id", "seq", "description", "plan", "owner_id",
                                          "owner_name", "due_date", "status", "percent",
                                          "reason", "reminders")}


def _emit(uow, spec, item, ticket, actor, note=None, internal=False, changes=None):
    uow.emit(spec, {"ticket": _ref(ticket), "item": _event_item(item), "note": note,
                    "internal": internal, "changes": changes or {}},
             actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)


NOT_NAMEABLE = bi("The owner must be an active engineer, provider admin, agent or admin you may "
                  "name.", "责任人必须是您可以指定的在职工程师、服务商管理员、支持人员或管理员。")


def _owner_facts(data):
    """The owner's account as the gateway found it (role, status, provider)."""
    return {"role": data.get("owner_role"), "status": data.get("owner_status"),
            "provider_id": data.get("owner_provider_id")}


def _check_owners(actor, items, field):
    """Refuse (naming each bad item's owner_id) unless the actor may name every owner."""
    bad = {n: {"owner_id": [NOT_NAMEABLE]} for n, data in enumerate(items)
           if not rules.may_name_owner(actor, _owner_facts(data))}
    if bad:
        refuse({field: bad})


def _history(uow, item, actor, kind, now, note=None, percent=None, changes=None,
             internal=False):
    uow.session.add(LeftoverUpdate(
        item_id=item.id, kind=kind, note=note, percent=percent, changes=changes or {},
        internal=internal, actor_id=actor.get("id"), actor_role=actor["role"],
        actor_name=actor.get("name"), at=now))


# ---- filing --------------------------------------------------------------------------------

def file_items(uow, ticket, actor, items, now, settings=None, field="leftover_items"):
    """Record `items` (loaded LeftoverItemIn dicts) on `ticket` in the caller's unit of work:
    a refused item raises before the caller commits, so nothing of the close is written."""
    if not items:
        return []
    _check_owners(actor, items, field)
    tz = _tz(settings)
    existing = uow.session.scalar(select(func.count()).select_from(LeftoverItem)
                                  .where(LeftoverItem.ticket_id == ticket.id)) or 0
    try:
        rules.check_count(existing, len(items))
        for data in items:
            rules.check_due_date(data["due_date"], now, tz)
    except rules.Refused as refused:
        _refused(refused)
    last = uow.session.scalar(select(func.max(LeftoverItem.seq))
                              .where(LeftoverItem.ticket_id == ticket.id)) or 0
    out = []
    for n, data in enumerate(items, start=1):
        due_at = rules.due_instant(data["due_date"], tz)
        item = LeftoverItem(
            ticket_id=ticket.id, seq=last + n, description=data["description"],
            plan=data["plan"], owner_id=data["owner_id"], owner_name=data.get("owner_name"),
            owner_role=data.get("owner_role"), due_date=data["due_date"], due_at=due_at,
            status="open", percent=0, remind_at=due_at, reminders=0,
            created_by_id=actor.get("id"), created_by_name=actor.get("name"), created_at=now,
            updated_at=now)
        uow.session.add(item)
        uow.flush()
        _history(uow, item, actor, "created", now)
        _emit(uow, events.LEFTOVER_ITEM_ADDED, item, ticket, actor)
        out.append(item)
    return out


def add_items(actor, ticket_id, payload, uow, settings=None):
    """Items added to a resolved or closed ticket afterwards (staff)."""
    data = load(schemas.LeftoverAddSchema(), payload)
    with uow:
        ticket = _get_visible(uow, actor, ticket_id, for_update=True)
        try:
            rules.check_add(actor, _view(ticket))
        except rules.Refused as refused:
            _refused(refused)
        now = utcnow()
        items = file_items(uow, ticket, actor, data["items"], now, settings, field="items")
        uow.commit()
        return {"items": [_out(i, ticket, now, _tz(settings)) for i in items]}


# ---- reading -------------------------------------------------------------------------------

def _out(item, ticket, now, tz, updates=None, internal_ok=True):
    out = _item_out.dump(item)
    out.update(ticket_number=ticket.number, ticket_title=ticket.title,
               company_id=ticket.company_id, company_name=ticket.company_name,
               overdue=rules.is_overdue(item.status, _utc(item.due_at), now),
               days_overdue=rules.days_overdue(item.due_date, now, tz)
               if item.status == "open" else 0)
    if updates is not None:
        out["updates"] = _update_out.dump([u for u in updates if internal_ok or not u.internal])
    return out


def _utc(value):
    # SQLite hands datetimes back naive: UTC by convention
    return value.replace(tzinfo=dt.timezone.utc) if value and value.tzinfo is None else value


def _updates(uow, item_ids):
    rows = uow.session.scalars(select(LeftoverUpdate).where(LeftoverUpdate.item_id.in_(item_ids))
                               .order_by(LeftoverUpdate.id)).all() if item_ids else []
    by_item = {}
    for row in rows:
        by_item.setdefault(row.item_id, []).append(row)
    return by_item


def ticket_items(uow, actor, ticket, settings=None):
    """The items of one ticket the actor already sees (the ticket page), with their history."""
    items = uow.session.scalars(select(LeftoverItem).where(LeftoverItem.ticket_id == ticket.id)
                                .order_by(LeftoverItem.seq)).all()
    history = _updates(uow, [i.id for i in items])
    now, tz, internal_ok = utcnow(), _tz(settings), rules.sees_internal(actor)
    return [_out(i, ticket, now, tz, history.get(i.id, []), internal_ok) for i in items]


def _visible_item(uow, actor, item_id, for_update=False):
    lock = for_update and uow.session.bind.dialect.name == "postgresql"
    item = uow.session.get(LeftoverItem, item_id, with_for_update=lock) if item_id else None
    if item is None:
        raise exc.LEFTOVER_NOT_FOUND()
    ticket = uow.session.get(Ticket, item.ticket_id)
    if not rules.may_see_item(actor, domain.can_view(actor, _view(ticket)), _facts(item)):
        raise exc.LEFTOVER_NOT_FOUND()
    return item, ticket


def get_item(actor, item_id, uow, settings=None):
    with uow:
        item, ticket = _visible_item(uow, actor, item_id)
        history = _updates(uow, [item.id]).get(item.id, [])
        return _out(item, ticket, utcnow(), _tz(settings), history, rules.sees_internal(actor))


def _scope(actor):
    """What the actor's list covers: the items of tickets they see, and (staff) their own."""
    seen = visibility.scope_clause(actor, {f: getattr(Ticket, f) for f in visibility.FACTS})
    if actor["role"] in domain.STAFF_ROLES and actor.get("id"):
        return or_(seen, LeftoverItem.owner_id == actor["id"])
    return seen


def list_items(actor, query, uow, settings=None):
    q = load(schemas.LeftoverQuerySchema(), query)
    now = utcnow()
    stmt = select(LeftoverItem, Ticket).join(Ticket, Ticket.id == LeftoverItem.ticket_id) \
        .where(_scope(actor))
    if q.get("status"):
        stmt = stmt.where(LeftoverItem.status.in_(q["status"]))
    if q.get("overdue") is not None:
        late = and_(LeftoverItem.status == "open", LeftoverItem.due_at <= now)
        stmt = stmt.where(late if q["overdue"] else ~late)
    if q.get("owner"):
        stmt = stmt.where(LeftoverItem.owner_id == (actor.get("id") if q["owner"] == "me"
                                                    else q["owner"]))
    if q.get("company_id"):
        stmt = stmt.where(Ticket.company_id == q["company_id"])
    if q.get("ticket_id"):
        stmt = stmt.where(or_(Ticket.id == q["ticket_id"], Ticket.number == q["ticket_id"]))
    if q.get("due_from"):
        stmt = stmt.where(LeftoverItem.due_date >= q["due_from"])
    if q.get("due_to"):
        stmt = stmt.where(LeftoverItem.due_date <= q["due_to"])
    order = desc if q["sort"].startswith("-") else asc
    column = _SORT[q["sort"].lstrip("-")]
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = uow.session.execute(
            stmt.order_by(order(column), order(LeftoverItem.seq), LeftoverItem.id)
            .offset((q["page"] - 1) * q["page_size"]).limit(q["page_size"])).all()
        tz = _tz(settings)
        return {"items": [_out(item, ticket, now, tz) for item, ticket in rows],
                "total": total, "page": q["page"], "page_size": q["page_size"]}


# ---- progress, done, cancelled -------------------------------------------------------------

def update_item(actor, item_id, payload, uow, settings=None):
    """定期更新进度: a note and/or percentage; or a new plan, due date (reminders start over)
    or owner."""
    data = load(schemas.LeftoverUpdateIn(), payload)
    tz = _tz(settings)
    with uow:
        item, ticket = _visible_item(uow, actor, item_id, for_update=True)
        now = utcnow()
        try:
            rules.check_update(actor, _view(ticket), _facts(item))
            rules.check_progress(data)
            if data.get("owner_id") and not rules.may_name_owner(actor, _owner_facts(data)):
                refuse({"owner_id": [NOT_NAMEABLE]})
            if data.get("due_date") and data["due_date"] != item.due_date:
                rules.check_due_date(data["due_date"], now, tz)
        except rules.Refused as refused:
            _refused(refused)
        changes = {}
        for name in ("plan", "due_date", "owner_id", "percent"):
            if data.get(name) is not None and data[name] != getattr(item, name):
                old = getattr(item, name)
                changes[name] = [old.isoformat() if isinstance(old, dt.date) else old,
                                 data[name].isoformat() if isinstance(data[name], dt.date)
                                 else data[name]]
                setattr(item, name, data[name])
        if "owner_id" in changes:
            item.owner_name, item.owner_role = data.get("owner_name"), data.get("owner_role")
        if "due_date" in changes:
            item.due_at = item.remind_at = rules.due_instant(item.due_date, tz)
            item.reminders = 0
        item.updated_at = now
        note = data.get("note") or None
        _history(uow, item, actor, "progress", now, note=note, percent=data.get("percent"),
                 changes=changes, internal=bool(data.get("internal")))
        _emit(uow, events.LEFTOVER_ITEM_UPDATED, item, ticket, actor, note=note,
              internal=bool(data.get("internal")), changes=changes)
        uow.commit()
        history = _updates(uow, [item.id]).get(item.id, [])
        return _out(item, ticket, now, tz, history, rules.sees_internal(actor))


def finish_item(actor, item_id, status, payload, uow, settings=None):
    """done (solved for good, 100 %) or cancelled (with the reason)."""
    data = load(schemas.LeftoverFinishSchema(), payload or {})
    with uow:
        item, ticket = _visible_item(uow, actor, item_id, for_update=True)
        try:
            rules.check_update(actor, _view(ticket), _facts(item))
            if status == "cancelled" and not data.get("note"):
                raise rules.Refused("reason_required")
        except rules.Refused as refused:
            _refused(refused)
        now = utcnow()
        changes = {"status": [item.status, status]}
        if status == "done" and item.percent != 100:
            changes["percent"] = [item.percent, 100]
            item.percent = 100
        item.status, item.reason = status, data.get("note")
        item.finished_at = item.updated_at = now
        item.remind_at = None
        _history(uow, item, actor, status, now, note=data.get("note"),
                 percent=item.percent, changes=changes)
        spec = events.LEFTOVER_ITEM_DONE if status == "done" else events.LEFTOVER_ITEM_CANCELLED
        _emit(uow, spec, item, ticket, actor, note=data.get("note"), changes=changes)
        uow.commit()
        history = _updates(uow, [item.id]).get(item.id, [])
        return _out(item, ticket, now, _tz(settings), history, rules.sees_internal(actor))


# ---- the overdue sweep ---------------------------------------------------------------------

def sweep_overdue(uow, settings=None, now=None, limit=200):
    """leftover_item_overdue for every open item whose reminder is due: once when it passes
    its due date, then every INTAKE.leftover_remind_days days while it stays open.

    Runs on a timer in every intake instance: each reminder is claimed by a conditional
    update (the item's reminder count still as read, its reminder still due) in the same
    transaction as its event, so however many instances sweep at once, and however often,
    one reminder goes out per item and round. PostgreSQL also skips rows another sweep holds."""
    settings = settings or {}
    now = now or utcnow()
    tz = _tz(settings)
    every = settings.get("leftover_remind_days", rules.DEFAULT_REMIND_DAYS)
    with uow:
        stmt = select(LeftoverItem).where(LeftoverItem.status == "open",
                                          LeftoverItem.remind_at <= now) \
            .order_by(LeftoverItem.remind_at, LeftoverItem.id).limit(limit)
        if uow.session.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        sent = 0
        for item in uow.session.scalars(stmt).all():
            reminder = item.reminders + 1
            claimed = uow.session.execute(
                update(LeftoverItem).where(LeftoverItem.id == item.id,
                                           LeftoverItem.status == "open",
                                           LeftoverItem.reminders == item.reminders,
                                           LeftoverItem.remind_at <= now)
                .values(reminders=reminder, remind_at=rules.next_reminder(now, every))
                .execution_options(synchronize_session=False)).rowcount == 1
            if not claimed:
                continue
            ticket = uow.session.get(Ticket, item.ticket_id)
            data = dict(_event_item(item), reminders=reminder)
            uow.emit(events.LEFTOVER_ITEM_OVERDUE, {
                "ticket": _ref(ticket), "item": data, "reminder": reminder,
                "days_overdue": rules.days_overdue(item.due_date, now, tz)},
                actor=SYSTEM, ticket_id=ticket.id, ticket_number=ticket.number)
            sent += 1
        uow.commit()
        return sent


def sweep(actor, uow, settings=None):
    """An administrator runs the sweep now (operators; tests)."""
    if actor.get("role") not in ("admin", "system"):
        raise exc.LEFTOVER_ERRORS["not_allowed"]()
    return {"reminded": sweep_overdue(uow, settings)}
