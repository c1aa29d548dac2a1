"""The projection of intake's tickets: kept from events, fetched by the `ticket_state` RPC
when a ticket is unknown."""
from sqlalchemy import bindparam, select, text

from gongdan_common.errors import AppError
from gongdan_common.outbox import consume_once
from gongdan_common.validation import load

from . import domain, exceptions as exc, schemas
from .common import _current, _holding, _retry_on_conflict, _save, _withdraw_pending
from .models import TicketProjection, refresh_engineers

_ticket_ref_in = schemas.TicketRefIn()


def _facts(row):
    return domain.Ticket(id=row.id, number=row.number, type=row.type, status=row.status,
                         product_line=row.product_line, product=row.product,
                         category=row.category, region=row.region, provider_id=row.provider_id,
                         submitter_id=row.submitter_id, company_id=row.company_id,
                         handler_id=row.handler_id, title=row.title, priority=row.priority)


_UPSERTS = {}


def _projection_upsert(dialect, names):
    """INSERT .. ON CONFLICT (id) DO UPDATE the given columns WHERE the stored version is
    lower, RETURNING the row, mapped to TicketProjection. Written as text, one per set of
    columns: SQLAlchemy 2.0 compiles a dialect upsert on every execution (it has no cache
    key), a text statement once. Same SQL on PostgreSQL and SQLite (>= 3.35)."""
    stmt = _UPSERTS.get(names)
    if stmt is None:
        table = TicketProjection.__table__
        cols = sorted(names)
        sql = (f"INSERT INTO tickets ({', '.join(cols)}) "
               f"VALUES ({', '.join(':' + c for c in cols)}) "
               f"ON CONFLICT (id) DO UPDATE SET "
               + ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
               + " WHERE tickets.version < excluded.version RETURNING "
               + ", ".join(c.name for c in table.c))
        raw = text(sql).bindparams(*[bindparam(c, type_=table.c[c].type) for c in cols]) \
            .columns(*table.c)
        stmt = _UPSERTS[names] = select(TicketProjection).from_statement(raw)
    return stmt


def _project(uow, ticket_payload, now):
    """Store intake's ticket facts unless a higher version is already stored (an upsert, so
    two events of one ticket projected at once cannot collide). Returns the stored row."""
    return _project_current(uow, ticket_payload, now)[0]


def _project_row(uow, ticket_payload, now):
    """Upsert the ticket's facts; returns the stored row (this version or a newer one)."""
    ref = load(_ticket_ref_in, ticket_payload)
    values = dict(ref, projected_at=now)
    stmt = _projection_upsert(uow.session.bind.dialect.name, frozenset(values))
    # the stored row comes back when this version was written; otherwise it is read
    row = uow.session.scalars(stmt, values,
                              execution_options={"populate_existing": True}).first()
    if row is None:
        row = uow.session.get(TicketProjection, ref["id"], populate_existing=True)
    return row


_BATCH_UPSERTS = {}


def _batch_upsert(names, count):
    """`_projection_upsert` for `count` tickets in one statement (a multi-row VALUES),
    returning the rows it wrote as plain rows. Text, cached per (columns, count)."""
    stmt = _BATCH_UPSERTS.get((names, count))
    if stmt is None:
        table = TicketProjection.__table__
        cols = sorted(names)
        rows = ", ".join("(" + ", ".join(f":{c}_{i}" for c in cols) + ")" for i in range(count))
        sql = (f"INSERT INTO tickets ({', '.join(cols)}) VALUES {rows} "
               f"ON CONFLICT (id) DO UPDATE SET "
               + ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
               + " WHERE tickets.version < excluded.version RETURNING "
               + ", ".join(c.name for c in table.c))
        stmt = _BATCH_UPSERTS[names, count] = text(sql).bindparams(
            *[bindparam(f"{c}_{i}", type_=table.c[c].type)
              for i in range(count) for c in cols]).columns(*table.c)
        if len(_BATCH_UPSERTS) > 400:  # batch sizes vary; keep the cache bounded
            _BATCH_UPSERTS.clear()
    return stmt


def _project_rows(uow, ticket_payloads, now):
    """`_project_row` for a batch, without the ORM: one upsert per set of columns (intake's
    references all carry the same), the highest version of a ticket seen twice, then one
    read of the tickets whose stored version was not lower. Returns {ticket id: row} (plain
    rows with the projection's columns as attributes, for `_facts`)."""
    refs = {}
    for payload in ticket_payloads:
        ref = load(_ticket_ref_in, payload)
        kept = refs.get(ref["id"])
        if kept is None or kept["version"] <= ref["version"]:
            refs[ref["id"]] = ref  # one row per ticket: an upsert may not touch a row twice
    groups = {}
    for ticket_id in sorted(refs):  # rows locked in ticket order
        values = dict(refs[ticket_id], projected_at=now)
        groups.setdefault(frozenset(values), []).append(values)
    out = {}
    conn = uow.session.connection()
    for names, group in groups.items():
        params = {f"{c}_{i}": v for i, values in enumerate(group) for c, v in values.items()}
        out.update((r.id, r) for r in conn.execute(_batch_upsert(names, len(group)), params))
    missing = sorted(set(refs) - set(out))
    if missing:  # this version or a newer one was already stored
        table = TicketProjection.__table__
        out.update((r.id, r) for r in conn.execute(
            select(table).where(table.c.id.in_(missing))))
    return out


def _project_current(uow, ticket_payload, now):
    """`_project`, returning (the stored row, who holds the ticket or None): the holder is
    looked up once, for the caller too (a look-up that finds nothing is not remembered by
    the session, so a second one would cost another round trip)."""
    row = _project_row(uow, ticket_payload, now)
    current = _current(uow, row.id)
    if current is not None and current.engineer_id:  # the status may end (or reopen) it
        refresh_engineers(uow.session, [current.engineer_id], domain.DONE_STATUSES)
    return row, current


def _ticket(uow, tickets, ticket_id, settings, fits=None):
    """The ticket's facts: from the projection; from intake (`tickets`, the ticket_state RPC)
    when the projection has not seen the ticket, or when its status does not fit `fits` — to
    be sure the projection is not merely behind before refusing."""
    with uow:
        row = uow.session.get(TicketProjection, ticket_id) if ticket_id else None
        facts = _facts(row) if row is not None else None
        holding = _holding(uow, _current(uow, ticket_id)) if row is not None else None
    if facts is not None and (tickets is None or fits is None or facts.status in fits or
                              domain.effective_status(facts.status, holding) in fits):
        return facts
    if tickets is None:
        raise exc.TICKET_NOT_FOUND(ticket_id=ticket_id)
    try:
        ref = tickets(ticket_id)
    except AppError as err:
        if err.code == "ticket_not_found":
            raise exc.TICKET_NOT_FOUND(ticket_id=ticket_id) from None
        if facts is not None:  # intake unreachable: decide on what the projection knows
            return facts
        raise
    with uow:
        row = _project(uow, ref, settings["now"]())
        uow.commit()
        return _facts(row)


def ticket_changed(envelope, uow, settings, consumer):
    """intake's ticket_updated / ticket_status_changed: keep the projection current; a
    ticket that ended while offered to a provider takes the offer back."""
    def attempt():
        now = settings["now"]()
        with uow:
            if not consume_once(uow, envelope, consumer):
                return
            row, current = _project_current(uow, envelope["data"]["ticket"], now)
            if row.status in domain.DONE_STATUSES:
                if current is not None and current.offer_id:
                    _withdraw_pending(uow, current, now)
                    _save(uow)
            uow.commit()
    return _retry_on_conflict(attempt)
