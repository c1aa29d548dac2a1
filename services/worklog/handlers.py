"""Worklog's service layer: plain functions over a unit of work. No nameko here.

`ticket_state(ticket_id) -> dict` is intake's authoritative answer (an RPC in the service, a
fake in tests); it raises `exceptions.TICKET_NOT_FOUND` for an unknown ticket. It is always
called *outside* a unit of work, so no database transaction (or SQLite's process lock) is
held while another service is asked something.
"""
import datetime as dt

from sqlalchemy import case, distinct, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from gongdan_common.errors import FORBIDDEN, AppError
from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, events, exceptions as exc, schemas
from .models import Entry, EntryChange

_entry_out = schemas.EntrySchema()
_ticket_in = schemas.TicketStateSchema()


def settings_from_config(config):
    return {"now": utcnow}


# ---- helpers ----------------------------------------------------------------------------

def _actor(actor):
    """The caller as the gateway authenticated it: at least a role."""
    if not isinstance(actor, dict) or not isinstance(actor.get("role"), str):
        raise FORBIDDEN()
    return actor


def _ticket(ticket_state, ticket_id):
    if not isinstance(ticket_id, str) or not ticket_id or len(ticket_id) > 64:
        raise exc.TICKET_NOT_FOUND()
    return _ticket_in.load(ticket_state(ticket_id))


def _guard(check, *args):
    try:
        return check(*args)
    except domain.Refused as refused:
        raise exc.refused(refused) from None


def _check_times(started_at, ended_at, now, ticket):
    try:
        return domain.check_times(started_at, ended_at, now, not_before=ticket.get("created_at"))
    except domain.InvalidTimes as err:
        raise exc.invalid_times(err) from None


def _utc(value):
    """SQLite hands datetimes back naive; they are UTC by convention."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def _iso(value):
    value = _utc(value)
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z") \
        if value is not None else None


_SNAPSHOT = ("started_at", "ended_at", "title", "description", "on_site", "handler_id",
             "handler_name")


def _snapshot(entry):
    out = {name: getattr(entry, name) for name in _SNAPSHOT}
    out["started_at"], out["ended_at"] = _iso(entry.started_at), _iso(entry.ended_at)
    return out


def _record(uow, entry, action, actor, before, after, at):
    uow.session.add(EntryChange(
        entry_id=entry.id, ticket_id=entry.ticket_id, action=action,
        actor_id=actor.get("id"), actor_role=actor["role"], actor_name=actor.get("name"),
        at=at, before=before, after=after))


def _event_data(entry):
    return {"entry_id": entry.id, "ticket_id": entry.ticket_id,
            "ticket_number": entry.ticket_number,
            "handler": {"id": entry.handler_id, "name": entry.handler_name},
            "started_at": _utc(entry.started_at), "ended_at": _utc(entry.ended_at),
            "minutes": domain.minutes(entry.duration_seconds),
            "seconds": entry.duration_seconds, "title": entry.title, "on_site": entry.on_site,
            "product_line": entry.product_line, "provider_id": entry.provider_id,
            "version": entry.version}


def _emit(uow, spec, entry, actor, **extra):
    uow.emit(spec, {**_event_data(entry), **extra}, actor=actor,
             ticket_id=entry.ticket_id, ticket_number=entry.ticket_number)


def _entry_view(entry):
    return {"id": entry.id, "ticket_id": entry.ticket_id, "author_id": entry.author_id,
            "version": entry.version, "started_at": _utc(entry.started_at),
            "ended_at": _utc(entry.ended_at)}


def _live_entry(uow, entry_id):
    entry = uow.session.get(Entry, entry_id) if isinstance(entry_id, str) and entry_id else None
    if entry is None or entry.deleted_at is not None:
        raise exc.ENTRY_NOT_FOUND()
    return entry


def _by_request_key(uow, actor, key):
    return uow.session.scalar(select(Entry).where(
        Entry.author_id == actor.get("id"), Entry.request_key == key))


# ---- writing ----------------------------------------------------------------------------

def add_entry(actor, ticket_id, payload, uow, ticket_state, settings):
    """写日志: record work on a ticket in progress, as its handler or as the desk."""
    _actor(actor)
    data = load(schemas.EntryCreateSchema(), payload)
    key = data.get("request_key")
    if key:  # a retry of an add that succeeded gets the same entry, whatever happened since
        with uow:
            existing = _by_request_key(uow, actor, key)
            if existing is not None:
                return _entry_out.dump(existing)
    ticket = _visible_ticket(actor, ticket_id, ticket_state)  # 404 before any 403
    _guard(domain.check_add, actor, ticket)
    handler = _guard(domain.handler_for, actor, data.get("handler"))
    now = settings["now"]()
    seconds = _check_times(data["started_at"], data["ended_at"], now, ticket)
    with uow:
        entry = Entry(
            ticket_id=ticket["id"], ticket_number=ticket["number"],
            started_at=data["started_at"], ended_at=data["ended_at"], duration_seconds=seconds,
            title=data["title"], description=data["description"], on_site=data["on_site"],
            handler_id=handler["id"], handler_name=handler["name"],
            product_line=ticket.get("product_line"), provider_id=ticket.get("provider_id"),
            author_id=actor["id"], author_role=actor["role"], author_name=actor.get("name"),
            request_key=key, created_at=now, updated_at=now)
        uow.session.add(entry)
        uow.flush()
        _record(uow, entry, "create", actor, None, _snapshot(entry), now)
        _emit(uow, events.WORKLOG_ADDED, entry, actor)
        try:
            uow.commit()
        except IntegrityError:
            if not key:
                raise
            uow.rollback()  # the same request raced itself: hand back the winner
            return _entry_out.dump(_by_request_key(uow, actor, key))
        return _entry_out.dump(entry)


def _prepare_correction(actor, entry_id, uow, ticket_state, expected_version):
    """Read the entry, ask intake about its ticket, check the actor may correct it now. An
    entry of a ticket the actor may not see is not found (404 before any 403)."""
    with uow:
        seen = _entry_view(_live_entry(uow, entry_id))
    ticket = _ticket(ticket_state, seen["ticket_id"])
    # the author knows the entry (and may still correct it after the ticket moved on)
    if not domain.can_view(actor, ticket) and \
            not (actor.get("id") and seen["author_id"] == actor["id"]):
        raise exc.ENTRY_NOT_FOUND()
    _guard(domain.check_correct, actor, seen, ticket)
    if expected_version is not None and expected_version != seen["version"]:
        raise exc.STALE_ENTRY()
    return seen, ticket


def _reload(uow, entry_id, seen):
    entry = _live_entry(uow, entry_id)
    if entry.version != seen["version"]:  # changed while intake was being asked
        raise exc.STALE_ENTRY()
    return entry


def update_entry(actor, entry_id, payload, uow, ticket_state, settings):
    """Correct an entry: its author or the desk, while the ticket is in progress."""
    _actor(actor)
    data = load(schemas.EntryPatchSchema(), payload)
    seen, ticket = _prepare_correction(actor, entry_id, uow, ticket_state,
                                       data.pop("expected_version", None))
    if "handler" in data:
        requested = data.pop("handler")
        if requested is not None:
            handler = _guard(domain.handler_for, actor, requested)
            data["handler_id"], data["handler_name"] = handler["id"], handler["name"]
    now = settings["now"]()
    if "started_at" in data or "ended_at" in data:
        data["duration_seconds"] = _check_times(
            data.get("started_at", seen["started_at"]), data.get("ended_at", seen["ended_at"]),
            now, ticket)
    with uow:
        entry = _reload(uow, entry_id, seen)
        before = _snapshot(entry)
        changes = {}
        for name, value in data.items():
            old = getattr(entry, name)
            if isinstance(old, dt.datetime):
                old = _utc(old)
            if old != value:
                changes[name] = [_plain(old), _plain(value)]
                setattr(entry, name, value)
        changes.pop("duration_seconds", None)
        if not changes:
            return _entry_out.dump(entry)
        entry.updated_at = now
        try:
            uow.flush()
        except StaleDataError:
            raise exc.STALE_ENTRY() from None
        _record(uow, entry, "update", actor, before, _snapshot(entry), now)
        _emit(uow, events.WORKLOG_UPDATED, entry, actor, changes=changes)
        uow.commit()
        return _entry_out.dump(entry)


def _plain(value):
    return _iso(value) if isinstance(value, dt.datetime) else value


def delete_entry(actor, entry_id, uow, ticket_state, settings):
    """Delete an entry (it stops counting; its history stays): author or desk, in progress."""
    _actor(actor)
    seen, _ticket_facts = _prepare_correction(actor, entry_id, uow, ticket_state, None)
    now = settings["now"]()
    with uow:
        entry = _reload(uow, entry_id, seen)
        before = _snapshot(entry)
        entry.deleted_at = now
        entry.updated_at = now
        try:
            uow.flush()
        except StaleDataError:
            raise exc.STALE_ENTRY() from None
        _record(uow, entry, "delete", actor, before, None, now)
        _emit(uow, events.WORKLOG_DELETED, entry, actor)
        uow.commit()
        return {"id": entry.id, "ticket_id": entry.ticket_id, "deleted": True,
                "deleted_at": _iso(now)}


# ---- reading ----------------------------------------------------------------------------

def _visible_ticket(actor, ticket_id, ticket_state):
    ticket = _ticket(ticket_state, ticket_id)
    if not domain.can_view(actor, ticket):
        raise exc.TICKET_NOT_FOUND()  # as intake does: ids cannot be probed
    return ticket


def _entries_of(uow, ticket_id):
    return uow.session.scalars(
        select(Entry).where(Entry.ticket_id == ticket_id, Entry.deleted_at.is_(None))
        .order_by(Entry.started_at, Entry.created_at, Entry.id)).all()


def list_entries(actor, ticket_id, uow, ticket_state):
    """A ticket's work log, oldest work first, for anyone who may see the ticket."""
    _actor(actor)
    ticket = _visible_ticket(actor, ticket_id, ticket_state)
    with uow:
        rows = _entries_of(uow, ticket["id"])
        items = _entry_out.dump(rows, many=True)
    for item in items:
        item["can_edit"] = domain.can_correct(actor, {"author_id": item["author"]["id"]}, ticket)
    return {"ticket_id": ticket["id"], "ticket_number": ticket["number"],
            "ticket_status": ticket["status"],
            "can_add": _allowed(domain.check_add, actor, ticket),
            "items": items, "total": len(items)}


def _allowed(check, *args):
    try:
        check(*args)
    except domain.Refused:
        return False
    return True


def entry_history(actor, entry_id, uow, ticket_state):
    """Every create, correction and deletion of one entry: who, when, before and after."""
    _actor(actor)
    with uow:
        entry = uow.session.get(Entry, entry_id) if isinstance(entry_id, str) and entry_id \
            else None
        if entry is None:
            raise exc.ENTRY_NOT_FOUND()
        ticket_id = entry.ticket_id
    try:
        _visible_ticket(actor, ticket_id, ticket_state)
    except AppError as err:
        if err.code == "ticket_not_found":
            raise exc.ENTRY_NOT_FOUND() from None
        raise
    with uow:
        changes = uow.session.scalars(select(EntryChange).where(EntryChange.entry_id == entry_id)
                                      .order_by(EntryChange.id)).all()
        return {"entry_id": entry_id, "ticket_id": ticket_id,
                "items": schemas.ChangeSchema(many=True).dump(changes)}


def ticket_time(actor, ticket_id, uow, ticket_state):
    """Time spent on one ticket: total, count, on-site count, first start, last end, and the
    same per engineer."""
    _actor(actor)
    ticket = _visible_ticket(actor, ticket_id, ticket_state)
    with uow:
        rows = [{"started_at": _utc(e.started_at), "ended_at": _utc(e.ended_at),
                 "on_site": e.on_site, "handler_id": e.handler_id,
                 "handler_name": e.handler_name} for e in _entries_of(uow, ticket["id"])]
    out = domain.totals(rows)
    out.update(ticket_id=ticket["id"], ticket_number=ticket["number"])
    return schemas.TicketTimeSchema().dump(out)


def report_scope(actor, query):
    """(query, filters, where clauses) of an engineer-time report over [from, to), scoped by
    role (the report and its export, services/worklog/exports.py)."""
    _actor(actor)
    q = load(schemas.ReportQuerySchema(), query)
    try:
        domain.check_period(q["from_"], q["to"])
    except domain.InvalidTimes as err:
        raise exc.invalid_times(err) from None
    filters = _guard(domain.report_filters, actor, q)
    where = [Entry.deleted_at.is_(None), Entry.started_at >= q["from_"],
             Entry.started_at < q["to"]]
    if filters.get("engineer_id"):
        where.append(Entry.handler_id == filters["engineer_id"])
    if filters.get("provider_id"):
        where.append(Entry.provider_id == filters["provider_id"])
    if filters.get("product_line"):
        where.append(Entry.product_line == filters["product_line"])
    return q, filters, where


def engineer_time(actor, query, uow):
    """Time per engineer over [from, to) (by the entries' start), scoped by role: engineers
    their own, provider admins their provider's, the desk everyone's; optional filters
    engineer_id, provider_id and product_line (as the ticket was when the work was logged)."""
    q, filters, where = report_scope(actor, query)
    sums = select(
        Entry.handler_id.label("engineer_id"), func.max(Entry.handler_name).label("engineer_name"),
        Entry.product_line.label("product_line"),
        func.sum(Entry.duration_seconds).label("seconds"), func.count().label("entries"),
        func.sum(case((Entry.on_site.is_(True), 1), else_=0)).label("on_site_entries"),
        func.min(Entry.started_at).label("first_started_at"),
        func.max(Entry.ended_at).label("last_ended_at"),
    ).where(*where).group_by(Entry.handler_id, Entry.product_line)
    tickets = select(Entry.handler_id, func.count(distinct(Entry.ticket_id))) \
        .where(*where).group_by(Entry.handler_id)
    all_tickets = select(func.count(distinct(Entry.ticket_id))).where(*where)
    with uow:
        rows = [dict(r._mapping) for r in uow.session.execute(sums)]
        per_engineer = dict(uow.session.execute(tickets).all())
        ticket_count = uow.session.scalar(all_tickets)
    for row in rows:
        row["first_started_at"] = _utc(row["first_started_at"])
        row["last_ended_at"] = _utc(row["last_ended_at"])
    totals, engineers = domain.fold_report(rows, per_engineer)
    totals["tickets"] = ticket_count
    return schemas.EngineerTimeSchema().dump({
        "from_": q["from_"], "to": q["to"], "filters": filters, "totals": totals,
        "engineers": engineers})
