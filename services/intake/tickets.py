"""Tickets: numbering, create, read, update, comment. Plain functions over a unit of work."""
import collections
import datetime as dt
import time
import types

from eventlet.semaphore import Semaphore
from sqlalchemy import insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from gongdan_common import visibility
from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, events, exceptions as exc, leftovers, merging, schemas, search, tagging
from .catalog import _product_facts
from .common import _comment, _get_visible, _ref, _ticket_out, _view
from .models import (Assignment, Attachment, ClosingReport, Comment, FollowUp, Product, Rating,
                     StatusChange, Suspension, Ticket, TicketCounter, new_id)

_create_in = schemas.TicketCreateSchema()


def next_number_autocommit(engine, prefix, tz, now):
    """PostgreSQL: TSyyyymmddNNN from this process's block of the day's numbers (`_BLOCKS`),
    reserved in one autocommitted upsert outside the ticket's transaction."""
    day = now.astimezone(tz).date()
    return domain.format_number(prefix, day, _BLOCKS.take(engine, day.strftime("%Y%m%d")))


class NumberBlocks:
    """The day's numbers, reserved a block at a time: one upsert adds the block's size to
    the day's counter and the process hands the block out from memory.

    The size follows this process's own rate: the creates of the last second, at least 1
    and at most MAX_BLOCK. A desk creating a ticket now and then reserves one number at a
    time, exactly as before; under load (90 creates/s on two cores) one upsert serves 20
    creates instead of each create paying a transaction of its own (docs/performance.md,
    issue 16). What is given up, only under load and only across processes: numbers
    follow creation order within a process, not between two replicas creating in the same
    second; and a process that stops (or a day that ends) with numbers of its block unused
    leaves that many gaps — at most the creates of its last second. Gaps existed before
    (a create that fails after taking its number); numbers stay unique either way.

    The upsert stays outside the ticket's transaction, so the counter row is locked only
    while it runs, and it commits without waiting for its WAL flush (`SET LOCAL
    synchronous_commit`): nothing durable is given up, as the first ticket using the
    block flushes the WAL up to itself, counter update included; a crash before that
    loses numbers no committed ticket carries, which are then handed out again."""

    MAX_BLOCK = 20

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._lock = Semaphore(1)  # one refill at a time; the others wait for its block
        self._blocks = {}  # (engine url, day) -> [next number, last number of the block]
        self._recent = collections.deque()  # when the last second's numbers were taken

    def size(self):
        now = self.clock()
        self._recent.append(now)
        while self._recent and self._recent[0] < now - 1.0:
            self._recent.popleft()
        return max(1, min(self.MAX_BLOCK, len(self._recent)))

    def take(self, engine, day):
        with self._lock:
            size = self.size()
            key = (str(engine.url), day)
            block = self._blocks.get(key)
            if block is None or block[0] > block[1]:
                if len(self._blocks) > 8:  # days past: their leftovers are gaps
                    self._blocks.clear()
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    last = conn.execute(_RESERVE, {"day": day, "size": size}).scalar_one()
                block = self._blocks[key] = [last - size + 1, last]
            number = block[0]
            block[0] += 1
            return number


_BLOCKS = NumberBlocks()

# as text: SQLAlchemy 2.0 compiles a dialect upsert on every execution, a text statement once
_RESERVE = text("SET LOCAL synchronous_commit TO OFF; "
                "INSERT INTO ticket_counters (day, last) VALUES (:day, :size) "
                "ON CONFLICT (day) DO UPDATE SET last = ticket_counters.last + :size "
                "RETURNING last")


def next_number(uow, prefix, tz, now):
    """Allocate TSyyyymmddNNN inside the unit of work (SQLite, where each process runs one
    unit of work at a time anyway): the counter row's lock serialises concurrent creates."""
    day = now.astimezone(tz).date()
    key = day.strftime("%Y%m%d")
    dialect = uow.session.bind.dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(TicketCounter)
    uow.session.execute(ins.values(day=key, last=0).on_conflict_do_nothing())
    seq = uow.session.execute(
        update(TicketCounter).where(TicketCounter.day == key)
        .values(last=TicketCounter.last + 1).returning(TicketCounter.last)).scalar_one()
    return domain.format_number(prefix, day, seq)


def create_ticket(actor, payload, uow, settings):
    data = load(_create_in, payload)
    role = actor["role"]
    if role in domain.CUSTOMER_ROLES:
        company_id, company_name = actor.get("company_id"), actor.get("company_name")
        region = actor.get("company_region")
    elif role in domain.DESK_ROLES or role == "system":  # on a customer company's behalf
        company_id, company_name = data.get("company_id"), data.get("company_name")
        region = data.get("region")
        if not company_id:
            raise exc.COMPANY_REQUIRED()
        if not visibility.may_file_for(actor, company_id):
            raise exc.COMPANY_NOT_ALLOWED()
    else:
        raise exc.NOT_ALLOWED()
    key = data.get("request_key")
    postgres = uow.engine is not None and uow.engine.dialect.name == "postgresql"
    # a key the gateway generated repeats only when the RPC itself is redelivered: the
    # unique constraint catches that (below) without a look-up on every create
    if key and not key.startswith("gw-"):
        with uow:
            existing = _by_request_key(uow, actor, key)
            if existing is not None:
                return _ticket_out.dump(existing)
    product = _product_facts(uow, data["product"])
    if product is None or not product[2]:
        raise exc.PRODUCT_UNKNOWN(product=data["product"])
    product_code, product_line = product[:2]
    now = utcnow()
    number = None
    if postgres:  # before the unit of work: a worker never holds two connections
        number = next_number_autocommit(uow.engine, settings["number_prefix"],
                                        settings["tz"], now)
    row = _new_ticket_row(data, number, product_code, product_line, actor, company_id,
                          company_name, region, key, now)
    ticket = types.SimpleNamespace(**row)  # what the answer and the event are dumped from
    with uow:
        if number is None:
            ticket.number = row["number"] = next_number(
                uow, settings["number_prefix"], settings["tz"], now)
        row["search_grams"] = search.ticket_grams(ticket)  # (models' before_insert, for Core)
        try:
            # Core, not the ORM: a new ticket and its first history row are plain INSERTs
            # of values known here, and the unit of work's flush (state tracking, version
            # counter, mapper events) was most of the create's CPU (docs/performance.md)
            conn = uow.session.connection()
            conn.execute(_INSERT_TICKET, row)
            conn.execute(_INSERT_STATUS, {
                "ticket_id": row["id"], "action": "create", "from_status": None,
                "to_status": "new", "reason": None, "actor_id": actor.get("id"),
                "actor_role": actor["role"], "actor_name": actor.get("name"), "at": now})
            uow.emit(events.TICKET_CREATED, {"ticket": _ref(ticket)}, actor=actor,
                     ticket_id=ticket.id, ticket_number=ticket.number)
            uow.commit()
        except IntegrityError:
            if not key:
                raise
            uow.rollback()  # a redelivery, or the same request racing itself: the first wins
            return _ticket_out.dump(_by_request_key(uow, actor, key))
        return _ticket_out.dump(ticket)


_INSERT_TICKET = insert(Ticket.__table__)
_INSERT_STATUS = insert(StatusChange.__table__)


def _new_ticket_row(data, number, product_code, product_line, actor, company_id,
                    company_name, region, key, now):
    """Every column of a new ticket (the model's defaults included: a Core INSERT of all
    columns compiles once and is cached)."""
    return {
        "id": new_id(), "number": number, "type": data["type"], "title": data["title"],
        "product": product_code, "product_line": product_line,
        "product_version": data.get("product_version"), "category": data["category"],
        "description": data["description"], "steps": data.get("steps"),
        "error_message": data.get("error_message"), "started_at": data.get("started_at"),
        "persistent": data.get("persistent"), "environment": data.get("environment") or {},
        "impact": data["impact"], "urgency": data["urgency"],
        "priority": domain.priority_for(data["impact"], data["urgency"]),
        "device_sn": data.get("device_sn"), "contact_name": data.get("contact_name"),
        "contact_phone": data["contact_phone"], "status": "new", "status_before": None,
        "submitter_id": actor["id"], "submitter_name": actor.get("name"),
        "company_id": company_id, "company_name": company_name, "region": region,
        "provider_id": None, "handler_id": None, "handler_name": None, "request_key": key,
        "suspension_id": None, "resolution_round": 0, "reopen_count": 0,
        "resolved_at": None, "closed_at": None, "merged_into_id": None,
        "merged_into_number": None, "version": 1, "created_at": now, "updated_at": now,
        "sla_due_at": None, "sla_breached": False, "sla_evaluated_at": None,
        "search_grams": None}


def _by_request_key(uow, actor, key):
    return uow.session.scalar(select(Ticket).where(Ticket.submitter_id == actor["id"],
                                                   Ticket.request_key == key))


def ticket_state(ticket_id, uow):
    """For other services (no actor): the facts they authorise against, authoritative now."""
    with uow:
        ticket = uow.session.get(Ticket, ticket_id)
        if ticket is None:
            raise exc.TICKET_NOT_FOUND()
        return events.TicketRef().dump(ticket)


def get_ticket(actor, ticket_id, uow):
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)
        internal_ok = domain.sees_internal(actor)
        comments = uow.session.scalars(
            select(Comment).where(Comment.ticket_id == ticket.id)
            .order_by(Comment.created_at, Comment.id)).all()
        attachments = uow.session.scalars(
            select(Attachment).where(Attachment.ticket_id == ticket.id)
            .order_by(Attachment.created_at)).all()
        history = uow.session.scalars(
            select(StatusChange).where(StatusChange.ticket_id == ticket.id)
            .order_by(StatusChange.id)).all()
        out = _ticket_out.dump(ticket)
        out["comments"] = schemas.CommentSchema(many=True).dump(
            [c for c in comments if internal_ok or not c.internal])
        out["attachments"] = schemas.AttachmentSchema(many=True, exclude=("bucket", "object_key")).dump(
            [a for a in attachments if internal_ok or not a.internal])
        out["history"] = schemas.StatusChangeSchema(many=True).dump(history)
        related = _related(uow, ticket.id)
        out.update({k: v for k, v in related.items()})
        out["leftover_items"] = leftovers.ticket_items(uow, actor, ticket)
        out["allowed_actions"] = allowed_actions(actor, ticket)
        if tagging.may_tag(actor):  # staff labels (services/intake/tagging.py)
            out["tags"] = tagging.tags_of(uow, [ticket.id]).get(ticket.id, [])
        out["timeline"] = _timeline(out)
        merging.add_to_detail(uow, actor, ticket, out)  # links, merged_into
        if not internal_ok:
            out.pop("status_before", None)
        return out


_RELATED = {"assignments": (Assignment, Assignment.at, schemas.AssignmentSchema),
            "suspensions": (Suspension, Suspension.created_at, schemas.SuspensionSchema),
            "closing_reports": (ClosingReport, ClosingReport.round, schemas.ClosingReportSchema),
            "ratings": (Rating, Rating.round, schemas.RatingOutSchema),
            "follow_ups": (FollowUp, FollowUp.round, schemas.FollowUpSchema)}


def _related(uow, ticket_id):
    out = {}
    for name, (model, order, schema) in _RELATED.items():
        rows = uow.session.scalars(select(model).where(model.ticket_id == ticket_id)
                                   .order_by(order)).all()
        out[name] = schema(many=True).dump(rows)
    return out


# status changes made by applying dispatch's assignment (projections.apply_assignment)
_ASSIGNMENT_ACTIONS = ("assign", "reassign")


def _timeline(detail):
    """Everything that happened to the ticket, in order, each with who and when. (The
    gateway adds work-log entries from the worklog service.)"""
    items = []
    for h in detail["history"]:
        if h["action"] in _ASSIGNMENT_ACTIONS and detail["assignments"]:
            continue  # the assignment entry below tells it, with the engineer: one entry each
        items.append({"at": h["at"], "kind": "status", "actor": h["actor_name"] or h["actor_role"],
                      "summary": f"{h['from_status'] or '-'} -> {h['to_status']}",
                      "action": h["action"], "reason": h["reason"]})
    for c in detail["comments"]:
        items.append({"at": c["created_at"], "kind": "note" if c["internal"] else "reply",
                      "actor": c["author_name"] or c["author_role"], "summary": c["body"][:200]})
    for a in detail["attachments"]:
        items.append({"at": a["created_at"], "kind": "attachment", "actor": a["uploaded_by_name"],
                      "summary": a["filename"], "attachment_kind": a["kind"]})
    for a in detail["assignments"]:
        items.append({"at": a["at"], "kind": a["kind"], "actor": (a["actor"] or {}).get("name"),
                      "summary": a["engineer_name"] or a["engineer_id"], "detail": a["detail"]})
    for s_ in detail["suspensions"]:
        items.append({"at": s_["created_at"], "kind": "suspension", "actor": s_["actor_name"],
                      "summary": f"{s_['planned_start']} -> {s_['planned_end']}",
                      "reason": s_["reason"]})
    for r in detail["closing_reports"]:
        items.append({"at": r["created_at"], "kind": "closing_report", "actor": r["author_name"],
                      "summary": r["root_cause"], "reason": r["description"]})
    for r in detail["ratings"]:
        items.append({"at": r["created_at"], "kind": "rating", "actor": r["rater_name"],
                      "summary": f"product {r['product_score']}/5, service {r['service_score']}/5",
                      "reason": r["comment"]})
    items.sort(key=lambda i: i["at"] or "")
    return items


def allowed_actions(actor, ticket):
    view = _view(ticket)
    out = []
    for action in domain.TRANSITIONS:
        try:
            domain.plan_transition(actor, view, action, reason="x")
            out.append(action)
        except domain.TransitionRefused:
            pass
    return out


def update_ticket(actor, ticket_id, patch, uow):
    data = load(schemas.TicketPatchSchema(), patch)
    reason = data.pop("reason", None)
    expected = data.pop("expected_version", None)
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)
        if expected is not None and expected != ticket.version:
            raise exc.STALE_VERSION()
        allowed = domain.editable_fields(actor, _view(ticket))
        refused = sorted(set(data) - allowed)
        if refused:
            raise exc.FIELDS_NOT_EDITABLE(status=ticket.status, fields=", ".join(refused))
        if "product" in data:
            product = uow.session.get(Product, data["product"])
            if product is None or not product.active:
                raise exc.PRODUCT_UNKNOWN(product=data["product"])
            data["product_line"] = product.product_line
        if ("impact" in data or "urgency" in data) and "priority" not in data:
            data["priority"] = domain.priority_for(data.get("impact", ticket.impact),
                                                   data.get("urgency", ticket.urgency))
        changes = {}
        for name, value in data.items():
            old = getattr(ticket, name)
            if old != value:
                changes[name] = [_plain(old), _plain(value)]
                setattr(ticket, name, value)
        if not changes:
            return _ticket_out.dump(ticket)
        ticket.updated_at = utcnow()
        try:
            uow.flush()
        except StaleDataError:
            raise exc.STALE_VERSION() from None
        uow.emit(events.TICKET_UPDATED, {"ticket": _ref(ticket), "changes": changes,
                                         "reason": reason},
                 actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()
        return _ticket_out.dump(ticket)


def _plain(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def add_comment(actor, ticket_id, payload, uow):
    data = load(schemas.CommentCreateSchema(), payload)
    key = data.get("request_key")
    with uow:
        ticket = _get_visible(uow, actor, ticket_id, for_update=True)  # 404 before any 403
        if key:  # a repeat returns the first comment, whatever happened to the ticket since
            existing = _comment_by_key(uow, actor, ticket.id, key)
            if existing is not None:
                return schemas.CommentSchema().dump(existing)
        if data["internal"] and not domain.sees_internal(actor):
            raise exc.NOTE_NOT_ALLOWED()
        if ticket.status in ("closed", "cancelled") and not data["internal"]:
            raise exc.TICKET_CLOSED(status=ticket.status)
        ticket_pk = ticket.id
        try:
            comment = _comment(uow, ticket, actor, data["body"], data["internal"], key)
            uow.commit()
        except IntegrityError:
            if not key:
                raise
            uow.rollback()  # the same request racing itself (SQLite only): the first wins
            return schemas.CommentSchema().dump(_comment_by_key(uow, actor, ticket_pk, key))
        return schemas.CommentSchema().dump(comment)


def _comment_by_key(uow, actor, ticket_id, key):
    comment = uow.session.scalar(select(Comment).where(Comment.ticket_id == ticket_id,
                                                       Comment.request_key == key))
    if comment is not None and comment.author_id != actor.get("id"):
        raise exc.REQUEST_KEY_USED()  # never hand back someone else's comment
    return comment
