"""Intake's service layer: plain functions over a unit of work. No nameko here."""
import datetime as dt
import time
import uuid
import zoneinfo

from sqlalchemy import asc, desc, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from gongdan_common.events import utcnow
from gongdan_common.outbox import consume_once
from gongdan_common.validation import load

from . import domain, events, exceptions as exc, schemas
from .models import (Assignment, Attachment, ClosingReport, Comment, FollowUp, Product, Rating,
                     RootCause, StatusChange, Suspension, Ticket, TicketCounter)

_ticket_out = schemas.TicketSchema()
_summary_out = schemas.TicketSummarySchema()
_create_in = schemas.TicketCreateSchema()

# Products change rarely and every create reads one: (database url, code) -> (expires,
# (code, product_line, active)). `upsert_product` forgets its entry at once in this process;
# another intake replica sees a change within PRODUCT_CACHE_SECONDS.
PRODUCT_CACHE_SECONDS = 30.0
_products = {}


def _product_facts(uow, code):
    """(code, product_line, active) of a product, or None when there is none."""
    key = (str(uow.engine.url) if uow.engine is not None else None, code)
    hit = _products.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    with uow:
        product = uow.session.get(Product, code)
        facts = None if product is None else (product.code, product.product_line,
                                              product.active)
    if facts is not None:
        if len(_products) > 10000:
            _products.clear()
        _products[key] = (now + PRODUCT_CACHE_SECONDS, facts)
    return facts


def _ref(ticket):
    return ticket  # dumped through events.TicketRef when the envelope is built


def _view(ticket):
    return {c: getattr(ticket, c) for c in ("submitter_id", "company_id", "provider_id",
                                            "handler_id", "status", "status_before")}


def _get_visible(uow, actor, ticket_id, for_update=False):
    """The ticket if this actor may see it; otherwise 404, so ids cannot be probed.

    for_update: lock the row (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises) for
    writes that do not depend on what the caller saw (a comment, an attachment): the
    version read is then current, so a concurrent write to the same ticket makes this one
    wait instead of failing the version check (StaleDataError answered 500 to 2 of the
    uploads at concurrency 20)."""
    lock = bool(for_update) and uow.session.bind.dialect.name == "postgresql"
    ticket = uow.session.get(Ticket, ticket_id, with_for_update=lock) if ticket_id else None
    if ticket is None:
        stmt = select(Ticket).where(Ticket.number == ticket_id)
        ticket = uow.session.scalar(stmt.with_for_update() if lock else stmt)
    if ticket is None or not domain.can_view(actor, _view(ticket)):
        raise exc.TICKET_NOT_FOUND()
    return ticket


def _record_status(uow, ticket, action, from_status, to_status, actor, reason=None, at=None):
    uow.session.add(StatusChange(
        ticket_id=ticket.id, action=action, from_status=from_status, to_status=to_status,
        reason=reason, actor_id=actor.get("id"), actor_role=actor["role"],
        actor_name=actor.get("name"), at=at or utcnow()))


def next_number_autocommit(engine, prefix, tz, now):
    """PostgreSQL: allocate TSyyyymmddNNN in one autocommitted upsert, before the ticket's
    transaction, so the day's counter row is locked only while that statement runs (inside
    the ticket's transaction it serialised every create; measured in docs/performance.md).
    A create that fails afterwards leaves a gap in the day's sequence; numbers stay unique."""
    day = now.astimezone(tz).date()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        seq = conn.execute(_NEXT_NUMBER, {"day": day.strftime("%Y%m%d")}).scalar_one()
        return domain.format_number(prefix, day, seq)


# as text: SQLAlchemy 2.0 compiles a dialect upsert on every execution, a text statement once
_NEXT_NUMBER = text("INSERT INTO ticket_counters (day, last) VALUES (:day, 1) "
                    "ON CONFLICT (day) DO UPDATE SET last = ticket_counters.last + 1 "
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
    elif role in domain.DESK_ROLES:
        company_id, company_name = data.get("company_id"), data.get("company_name")
        region = data.get("region")
        if not company_id:
            raise exc.COMPANY_REQUIRED()
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
    with uow:
        if number is None:
            number = next_number(uow, settings["number_prefix"], settings["tz"], now)
        ticket = Ticket(
            number=number,
            type=data["type"], title=data["title"], product=product_code,
            product_line=product_line, product_version=data.get("product_version"),
            category=data["category"], description=data["description"],
            steps=data.get("steps"), error_message=data.get("error_message"),
            started_at=data.get("started_at"), persistent=data.get("persistent"),
            environment=data.get("environment") or {}, impact=data["impact"],
            urgency=data["urgency"], priority=domain.priority_for(data["impact"], data["urgency"]),
            device_sn=data.get("device_sn"), contact_name=data.get("contact_name"),
            contact_phone=data["contact_phone"], status="new",
            submitter_id=actor["id"], submitter_name=actor.get("name"),
            company_id=company_id, company_name=company_name, region=region, request_key=key,
            created_at=now, updated_at=now)
        try:
            uow.session.add(ticket)
            uow.flush()
            _record_status(uow, ticket, "create", None, "new", actor, at=now)
            uow.emit(events.TICKET_CREATED, {"ticket": _ref(ticket)}, actor=actor,
                     ticket_id=ticket.id, ticket_number=ticket.number)
            uow.commit()
        except IntegrityError:
            if not key:
                raise
            uow.rollback()  # a redelivery, or the same request racing itself: the first wins
            return _ticket_out.dump(_by_request_key(uow, actor, key))
        return _ticket_out.dump(ticket)


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
        out["allowed_actions"] = allowed_actions(actor, ticket)
        out["timeline"] = _timeline(out)
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


def _timeline(detail):
    """Everything that happened to the ticket, in order, each with who and when. (The
    gateway adds work-log entries from the worklog service.)"""
    items = []
    for h in detail["history"]:
        items.append({"at": h["at"], "kind": "status", "actor": h["actor_name"] or h["actor_role"],
                      "summary": f"{h['from_status'] or '-'} -> {h['to_status']}",
                      "action": h["action"], "reason": h["reason"]})
    for c in detail["comments"]:
        items.append({"at": c["created_at"], "kind": "note" if c["internal"] else "reply",
                      "actor": c["author_name"] or c["author_role"], "summary": c["body"][:200]})
    for a in detail["attachments"]:
        items.append({"at": a["created_at"], "kind": "attachment", "actor": a["uploaded_by_name"],
                      "summary": f"{a['filename']} ({a['kind']})"})
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


_SORT = {"created_at": Ticket.created_at, "updated_at": Ticket.updated_at,
         "number": Ticket.number, "priority": Ticket.priority, "sla_due_at": Ticket.sla_due_at}


def _like(term):
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_tickets(actor, query, uow):
    q = load(schemas.ListQuerySchema(), query)
    stmt = select(Ticket)
    scope = domain.visibility_scope(actor)
    if scope:
        stmt = stmt.where(getattr(Ticket, scope[0]) == scope[1])
    if q.get("number"):
        stmt = stmt.where(Ticket.number.like(_like(q["number"].strip().upper()), escape="\\"))
    for name in ("status", "type", "priority"):
        if q.get(name):
            stmt = stmt.where(getattr(Ticket, name).in_(q[name]))
    for name in ("product_line", "product", "company_id", "device_sn", "handler_id",
                 "submitter_id"):
        if q.get(name):
            stmt = stmt.where(getattr(Ticket, name) == q[name])
    if q.get("created_from"):
        stmt = stmt.where(Ticket.created_at >= q["created_from"])
    if q.get("created_to"):
        stmt = stmt.where(Ticket.created_at < q["created_to"])
    if q.get("sla_due_before"):
        stmt = stmt.where(Ticket.sla_due_at < q["sla_due_before"])
    if q.get("sla_breached") is not None:
        stmt = stmt.where(Ticket.sla_breached.is_(q["sla_breached"]))
    if q.get("keyword"):
        # LIKE on substrings works for Chinese, which has no spaces between words
        pattern = _like(q["keyword"].strip())
        stmt = stmt.where(or_(Ticket.title.ilike(pattern, escape="\\"),
                              Ticket.description.ilike(pattern, escape="\\"),
                              Ticket.number.ilike(pattern, escape="\\")))
    sort = q["sort"]
    column = _SORT[sort.lstrip("-")]
    order = desc if sort.startswith("-") else asc
    # tickets without a running SLA clock sort after those with one, either way
    nulls = (Ticket.sla_due_at.is_(None),) if column is Ticket.sla_due_at else ()
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = uow.session.scalars(
            stmt.order_by(*nulls, order(column), order(Ticket.id))
            .offset((q["page"] - 1) * q["page_size"]).limit(q["page_size"])).all()
        return {"items": _summary_out.dump(rows, many=True), "total": total,
                "page": q["page"], "page_size": q["page_size"]}


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
    with uow:
        ticket = _get_visible(uow, actor, ticket_id, for_update=True)  # 404 before any 403
        if data["internal"] and not domain.sees_internal(actor):
            raise exc.NOTE_NOT_ALLOWED()
        if ticket.status in ("closed", "cancelled") and not data["internal"]:
            raise exc.TICKET_CLOSED(status=ticket.status)
        comment = _comment(uow, ticket, actor, data["body"], data["internal"])
        uow.commit()
        return schemas.CommentSchema().dump(comment)


def _comment(uow, ticket, actor, body, internal):
    now = utcnow()
    comment = Comment(ticket_id=ticket.id, body=body, internal=internal,
                      author_id=actor.get("id"), author_role=actor["role"],
                      author_name=actor.get("name"), created_at=now)
    uow.session.add(comment)
    ticket.updated_at = now
    uow.flush()
    uow.emit(events.TICKET_COMMENTED, {
        "comment_id": comment.id, "internal": internal, "author_id": actor.get("id"),
        "author_role": actor["role"], "body": body, "ticket": _ref(ticket)},
        actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
    return comment


_ACTION_SCHEMAS = {"suspend": schemas.SuspendSchema, "resolve": schemas.ResolveSchema}


def transition(actor, ticket_id, action, payload, uow, settings=None):
    """One status action by a person (or by the system, for timers and assignments)."""
    settings = settings or {}
    data = load(_ACTION_SCHEMAS.get(action, schemas.TransitionSchema)(), payload)
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)
        out = _apply(uow, ticket, actor, action, data, settings)
        uow.commit()
        return out


def _apply(uow, ticket, actor, action, data, settings, automatic=False):
    try:
        from_status, to_status = domain.plan_transition(
            actor, _view(ticket), action, reason=data.get("reason"))
    except domain.TransitionRefused as refused:
        raise exc.TRANSITION_ERRORS[refused.key](**refused.params) from None
    now = utcnow()
    step = _EFFECTS.get(action, _no_effect)(uow, ticket, actor, data, now, settings, automatic)
    ticket.status_before = from_status if to_status == "needs_info" else (
        "assigned" if action == "assign" and from_status == "needs_info" else None)
    ticket.status = to_status
    ticket.updated_at = now
    _record_status(uow, ticket, action, from_status, to_status, actor,
                   reason=data.get("reason"), at=now)
    if data.get("comment"):
        _comment(uow, ticket, actor, data["comment"], internal=False)
    try:
        uow.flush()
    except StaleDataError:
        raise exc.STALE_VERSION() from None
    uow.emit(events.TICKET_STATUS_CHANGED, {
        "action": action, "from_status": from_status, "to_status": to_status,
        "reason": data.get("reason"), "ticket": _ref(ticket)},
        actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
    if step is not None:
        spec, extra = step
        uow.emit(spec, dict(extra, ticket=_ref(ticket), reason=data.get("reason")),
                 actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
    return _ticket_out.dump(ticket)


def _no_effect(uow, ticket, actor, data, now, settings, automatic):
    return None


def _request_timer(uow, ticket, kind, key, due_at, payload):
    uow.emit(events.TIMER_REQUESTED, {"key": key, "kind": kind, "owner": "intake",
                                      "due_at": due_at, "ticket_id": ticket.id,
                                      "payload": payload},
             ticket_id=ticket.id, ticket_number=ticket.number)


def _cancel_timer(uow, ticket, key):
    uow.emit(events.TIMER_CANCELLED, {"key": key}, ticket_id=ticket.id,
             ticket_number=ticket.number)


def _start(uow, ticket, actor, data, now, settings, automatic):
    return events.TICKET_STARTED, {}


def _suspend(uow, ticket, actor, data, now, settings, automatic):
    if data["planned_end"] <= now:
        raise exc.PLANNED_END_PAST()
    suspension = Suspension(ticket_id=ticket.id, planned_start=data.get("planned_start") or now,
                            planned_end=data["planned_end"], reason=data["reason"],
                            actor_id=actor.get("id"), actor_name=actor.get("name"),
                            created_at=now)
    uow.session.add(suspension)
    uow.flush()
    ticket.suspension_id = suspension.id
    # the automatic resume is a durable timer in sla: it survives restarts of everything
    _request_timer(uow, ticket, "auto_resume", f"intake:auto_resume:{suspension.id}",
                   suspension.planned_end, {"suspension_id": suspension.id})
    return events.TICKET_SUSPENDED, {"suspension_id": suspension.id,
                                     "planned_start": suspension.planned_start,
                                     "planned_end": suspension.planned_end}


def _resume(uow, ticket, actor, data, now, settings, automatic):
    suspension = uow.session.get(Suspension, ticket.suspension_id) if ticket.suspension_id \
        else None
    if suspension is not None:
        suspension.resumed_at = now
        suspension.resumed_by = "timer" if automatic else (actor.get("name") or actor.get("id"))
        if not automatic:
            _cancel_timer(uow, ticket, f"intake:auto_resume:{suspension.id}")
    ticket.suspension_id = None
    return events.TICKET_RESUMED, {"suspension_id": suspension.id if suspension else "",
                                   "automatic": automatic}


def _resolve(uow, ticket, actor, data, now, settings, automatic):
    cause = uow.session.get(RootCause, data["root_cause"])
    if cause is None or not cause.active:
        raise exc.ROOT_CAUSE_UNKNOWN(code=data["root_cause"])
    if domain.needs_visit_time(ticket.type) and not data.get("visited_at"):
        raise exc.VISIT_TIME_REQUIRED()
    reports = uow.session.scalars(select(Attachment).where(
        Attachment.ticket_id == ticket.id, Attachment.kind.in_(domain.REPORT_KINDS))).all()
    missing = domain.missing_reports(ticket.type, [r.kind for r in reports])
    if missing:
        raise exc.REPORTS_MISSING(details={"missing": missing}, type=ticket.type,
                                  missing=", ".join(missing))
    ticket.resolution_round += 1
    ticket.resolved_at = now
    report = ClosingReport(ticket_id=ticket.id, round=ticket.resolution_round,
                           root_cause=cause.code, description=data["description"],
                           completed_at=data["completed_at"], visited_at=data.get("visited_at"),
                           report_ids=[r.id for r in reports], author_id=actor.get("id"),
                           author_name=actor.get("name"), created_at=now)
    uow.session.add(report)
    confirm_by = now + dt.timedelta(hours=settings.get("auto_confirm_hours", 72))
    _request_timer(uow, ticket, "auto_confirm",
                   f"intake:auto_confirm:{ticket.id}:{ticket.resolution_round}", confirm_by,
                   {"round": ticket.resolution_round})
    return events.TICKET_RESOLVED, {
        "round": report.round, "root_cause": report.root_cause,
        "description": report.description, "completed_at": report.completed_at,
        "visited_at": report.visited_at, "report_ids": report.report_ids,
        "confirm_by": confirm_by}


def _close(uow, ticket, actor, data, now, settings, automatic):
    ticket.closed_at = now
    if not automatic:
        _cancel_timer(uow, ticket, f"intake:auto_confirm:{ticket.id}:{ticket.resolution_round}")
    due = None
    if ticket.priority in domain.FOLLOW_UP_PRIORITIES:
        due = _follow_up(uow, ticket, now, settings)
    return events.TICKET_CLOSED, {"automatic": automatic, "follow_up_due": due}


def _confirm(uow, ticket, actor, data, now, settings, automatic):
    _close(uow, ticket, actor, data, now, settings, automatic)
    return events.TICKET_CONFIRMED, {}


def _reopen(uow, ticket, actor, data, now, settings, automatic):
    ticket.reopen_count += 1
    _cancel_timer(uow, ticket, f"intake:auto_confirm:{ticket.id}:{ticket.resolution_round}")
    return events.TICKET_REOPENED, {"reopen_count": ticket.reopen_count}


def _follow_up(uow, ticket, now, settings):
    """Due at the end of the third business day after closing (vendor's time zone)."""
    tz = settings.get("tz") or dt.timezone.utc
    is_workday = settings.get("is_workday") or (lambda d: d.weekday() < 5)
    day = domain.add_business_days(now.astimezone(tz).date(), domain.FOLLOW_UP_BUSINESS_DAYS,
                                   is_workday)
    due = dt.datetime.combine(day, dt.time(18, 0), tzinfo=tz).astimezone(dt.timezone.utc)
    follow_up = FollowUp(ticket_id=ticket.id, round=ticket.resolution_round, due_at=due,
                         status="open", created_at=now)
    uow.session.add(follow_up)
    uow.flush()
    _request_timer(uow, ticket, "follow_up_due", f"intake:follow_up:{follow_up.id}", due,
                   {"follow_up_id": follow_up.id})
    uow.emit(events.FOLLOW_UP_CREATED, {"ticket": _ref(ticket), "follow_up_id": follow_up.id,
                                        "due_at": due, "status": "open"},
             ticket_id=ticket.id, ticket_number=ticket.number)
    return due


_EFFECTS = {"start": _start, "suspend": _suspend, "resume": _resume, "resolve": _resolve,
            "confirm": _confirm, "reopen": _reopen, "close": _close}

SYSTEM = {"id": None, "role": "system", "name": "system"}


def apply_assignment(envelope, uow):
    """dispatch decided who works on the ticket: keep the copy, move new -> assigned."""
    data = envelope["data"]
    kind = "reassigned" if envelope["type"] == "ticket_reassigned" else "assigned"
    with uow:
        if not consume_once(uow, envelope, "intake.assignment"):
            return
        ticket = uow.session.get(Ticket, data["ticket_id"])
        if ticket is None:
            return
        at = _parse_time(envelope["occurred_at"])
        latest = uow.session.scalar(select(func.max(Assignment.at)).where(
            Assignment.ticket_id == ticket.id))
        uow.session.add(Assignment(
            id=data["assignment_id"], ticket_id=ticket.id, kind=kind,
            engineer_id=data["engineer_id"], engineer_name=data.get("engineer_name"),
            provider_id=data.get("provider_id"), method=data.get("method"),
            detail={k: data.get(k) for k in ("certification", "open_load", "reason", "rule_id",
                                             "previous_engineer_id") if k in data},
            actor=envelope.get("actor"), at=at))
        if latest is not None and _aware(latest) > at:
            uow.commit()  # an older decision arriving late: history only
            return
        ticket.handler_id = data["engineer_id"]
        ticket.handler_name = data.get("engineer_name")
        ticket.provider_id = data.get("provider_id")
        actor = dict(envelope.get("actor") or SYSTEM, role="system")
        if ticket.status == "needs_info":
            ticket.status_before = "assigned"  # provide_info goes to assigned
            ticket.updated_at = utcnow()
        elif (kind == "assigned" and ticket.status == "new") or \
                (kind == "reassigned" and ticket.status in ("assigned", "in_progress")):
            _apply(uow, ticket, actor, "assign" if kind == "assigned" else "reassign",
                   {"reason": data.get("reason")}, {})
        else:
            ticket.updated_at = utcnow()
            uow.flush()
            uow.emit(events.TICKET_UPDATED, {"ticket": _ref(ticket), "changes": {
                "handler_id": [None, ticket.handler_id]}, "reason": "assignment"},
                actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()


def apply_provider_change(envelope, uow):
    """Offers and un-assignment from dispatch: who (which provider) may see the ticket, and
    a ticket taken back from its engineer returns to new."""
    data, kind = envelope["data"], envelope["type"]
    with uow:
        if not consume_once(uow, envelope, "intake.dispatch"):
            return
        ticket = uow.session.get(Ticket, data["ticket_id"])
        if ticket is None:
            return
        if kind == "ticket_offered":
            ticket.provider_id = data["provider_id"]
        elif kind in ("offer_declined", "offer_expired", "offer_exhausted"):
            if ticket.handler_id is None and ticket.provider_id == data.get("provider_id", ticket.provider_id):
                ticket.provider_id = None
        elif kind == "ticket_unassigned":
            ticket.handler_id, ticket.handler_name = None, None
            if not data.get("provider_keeps_ticket"):
                ticket.provider_id = None
            if ticket.status == "assigned":
                actor = dict(envelope.get("actor") or SYSTEM, role="system")
                _apply(uow, ticket, actor, "unassign", {"reason": data.get("reason")}, {})
                uow.commit()
                return
        ticket.updated_at = utcnow()
        uow.flush()
        uow.emit(events.TICKET_UPDATED, {"ticket": _ref(ticket), "changes": {
            "provider_id": [None, ticket.provider_id]}, "reason": kind},
            actor=envelope.get("actor"), ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()


def _parse_time(value):
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _aware(value):
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def timer_due(envelope, uow, settings):
    """A deadline intake asked sla for has come (auto-resume, auto-confirm, follow-up)."""
    data = envelope["data"]
    if data.get("owner") != "intake":
        return
    with uow:
        if not consume_once(uow, envelope, "intake.timer"):
            return
        ticket = uow.session.get(Ticket, envelope.get("ticket_id")) \
            if envelope.get("ticket_id") else None
        kind, payload = data["kind"], data.get("payload") or {}
        if kind == "auto_resume" and ticket is not None and ticket.status == "suspended" \
                and ticket.suspension_id == payload.get("suspension_id"):
            _apply(uow, ticket, SYSTEM, "resume", {"reason": "planned end reached"}, settings,
                   automatic=True)
        elif kind == "auto_confirm" and ticket is not None and ticket.status == "resolved" \
                and ticket.resolution_round == payload.get("round"):
            _apply(uow, ticket, SYSTEM, "close",
                   {"reason": "not confirmed in time: closed automatically"}, settings,
                   automatic=True)
        elif kind == "follow_up_due":
            follow_up = uow.session.get(FollowUp, payload.get("follow_up_id"))
            if follow_up is not None and follow_up.status == "open":
                follow_up.status = "overdue"
                uow.emit(events.FOLLOW_UP_DUE, {
                    "ticket": _ref(ticket), "follow_up_id": follow_up.id,
                    "due_at": follow_up.due_at, "status": "overdue"},
                    ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()


def rate(actor, ticket_id, payload, uow):
    data = load(schemas.RatingSchema(), payload)
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)
        if not domain.is_requester(actor, _view(ticket)) or \
                ticket.status not in ("resolved", "closed") or ticket.resolution_round < 1:
            raise exc.NOT_RATEABLE()
        if uow.session.scalar(select(Rating.id).where(
                Rating.ticket_id == ticket.id, Rating.round == ticket.resolution_round)):
            raise exc.ALREADY_RATED()
        rating = Rating(ticket_id=ticket.id, round=ticket.resolution_round,
                        rater_id=actor["id"], rater_role=actor["role"],
                        rater_name=actor.get("name"), created_at=utcnow(), **data)
        uow.session.add(rating)
        try:
            uow.flush()
        except IntegrityError:  # two raters at once: one wins
            raise exc.ALREADY_RATED() from None
        uow.emit(events.TICKET_RATED, dict(data, ticket=_ref(ticket), round=rating.round),
                 actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()
        return schemas.RatingOutSchema().dump(rating)


def list_follow_ups(actor, query, uow):
    if actor["role"] not in domain.DESK_ROLES:
        raise exc.NOT_ALLOWED()
    q = load(schemas.FollowUpQuerySchema(), query)
    stmt = select(FollowUp, Ticket.number, Ticket.title, Ticket.priority).join(
        Ticket, Ticket.id == FollowUp.ticket_id)
    if q.get("status"):
        stmt = stmt.where(FollowUp.status == q["status"])
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = uow.session.execute(stmt.order_by(FollowUp.due_at)
                                   .offset((q["page"] - 1) * q["page_size"])
                                   .limit(q["page_size"])).all()
        items = []
        for follow_up, number, title, priority in rows:
            item = schemas.FollowUpSchema().dump(follow_up)
            item.update(ticket_number=number, ticket_title=title, priority=priority)
            items.append(item)
        return {"items": items, "total": total, "page": q["page"], "page_size": q["page_size"]}


def complete_follow_up(actor, follow_up_id, payload, uow):
    if actor["role"] not in domain.DESK_ROLES:
        raise exc.NOT_ALLOWED()
    data = load(schemas.FollowUpDoneSchema(), payload)
    with uow:
        follow_up = uow.session.get(FollowUp, follow_up_id)
        if follow_up is None:
            raise exc.FOLLOW_UP_NOT_FOUND()
        if follow_up.status != "done":
            follow_up.status, follow_up.note = "done", data["note"]
            follow_up.done_by, follow_up.done_at = actor["id"], utcnow()
            ticket = uow.session.get(Ticket, follow_up.ticket_id)
            _cancel_timer(uow, ticket, f"intake:follow_up:{follow_up.id}")
            uow.commit()
        return schemas.FollowUpSchema().dump(follow_up)


def list_root_causes(uow, include_inactive=False):
    with uow:
        stmt = select(RootCause).order_by(RootCause.sort, RootCause.code)
        if not include_inactive:
            stmt = stmt.where(RootCause.active.is_(True))
        return schemas.RootCauseOutSchema(many=True).dump(uow.session.scalars(stmt).all())


def put_root_cause(actor, payload, uow):
    if actor["role"] != "admin":
        raise exc.NOT_ALLOWED()
    data = load(schemas.RootCauseSchema(), payload)
    with uow:
        cause = uow.session.get(RootCause, data["code"]) or RootCause(code=data["code"])
        for k, v in data.items():
            setattr(cause, k, v)
        uow.session.add(cause)
        uow.commit()
        return schemas.RootCauseOutSchema().dump(cause)


# ---- attachments -------------------------------------------------------------------

def authorize_attachment(actor, ticket_id, uow, kind="intake"):
    """Before the gateway streams a file: may this actor attach this kind to this ticket?"""
    load(schemas.AttachmentKindSchema(), {"kind": kind})
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)  # 404 before any 403: no probing
        if kind in domain.REPORT_KINDS and actor["role"] not in domain.STAFF_ROLES:
            raise exc.REPORT_KIND_STAFF_ONLY()
        if ticket.status in ("closed", "cancelled"):
            raise exc.TICKET_CLOSED(status=ticket.status)
        return {"ticket_id": ticket.id, "number": ticket.number}


def add_attachment(actor, ticket_id, record, uow):
    data = load(schemas.AttachmentRecordSchema(), record)
    with uow:
        ticket = _get_visible(uow, actor, ticket_id, for_update=True)  # 404 before any 403
        if data["internal"] and not domain.sees_internal(actor):
            raise exc.NOTE_NOT_ALLOWED()
        if data["kind"] in domain.REPORT_KINDS and actor["role"] not in domain.STAFF_ROLES:
            raise exc.REPORT_KIND_STAFF_ONLY()
        if ticket.status in ("closed", "cancelled"):
            raise exc.TICKET_CLOSED(status=ticket.status)
        att = Attachment(ticket_id=ticket.id, uploaded_by=actor.get("id"),
                         uploaded_by_name=actor.get("name"), created_at=utcnow(), **data)
        uow.session.add(att)
        ticket.updated_at = att.created_at
        uow.flush()
        uow.emit(events.ATTACHMENT_ADDED, {
            "attachment_id": att.id, "kind": att.kind, "filename": att.filename,
            "content_type": att.content_type, "size": att.size, "sha256": att.sha256,
            "internal": att.internal, "ticket": _ref(ticket)},
            actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()
        return schemas.AttachmentSchema().dump(att)


def get_attachment(actor, ticket_id, attachment_id, uow):
    with uow:
        ticket = _get_visible(uow, actor, ticket_id)
        att = uow.session.get(Attachment, attachment_id)
        if att is None or att.ticket_id != ticket.id or \
                (att.internal and not domain.sees_internal(actor)):
            raise exc.ATTACHMENT_NOT_FOUND()
        return schemas.AttachmentSchema().dump(att)


# ---- products ----------------------------------------------------------------------

def list_products(uow, include_inactive=False):
    with uow:
        stmt = select(Product).order_by(Product.product_line, Product.code)
        if not include_inactive:
            stmt = stmt.where(Product.active.is_(True))
        return schemas.ProductOutSchema(many=True).dump(uow.session.scalars(stmt).all())


def upsert_product(actor, payload, uow, create_only=False):
    if actor["role"] != "admin":
        raise exc.NOT_ALLOWED()
    data = load(schemas.ProductSchema(), payload)
    with uow:
        product = uow.session.get(Product, data["code"])
        if product is not None and create_only:
            raise exc.PRODUCT_EXISTS(code=data["code"])
        if product is None:
            product = Product(code=data["code"])
            uow.session.add(product)
        for k, v in data.items():
            setattr(product, k, v)
        try:
            uow.commit()
        except IntegrityError:
            raise exc.PRODUCT_EXISTS(code=data["code"]) from None
        _products.pop((str(uow.engine.url) if uow.engine is not None else None,
                       data["code"]), None)
        return schemas.ProductOutSchema().dump(product)


def settings_from_config(config):
    from gongdan_common.businessdays import china_workday as is_workday

    intake = config.get("INTAKE") or {}
    return {"number_prefix": intake.get("number_prefix", "TS"),
            "tz": zoneinfo.ZoneInfo(config.get("TIMEZONE", "Asia/Shanghai")),
            "auto_confirm_hours": float(intake.get("auto_confirm_hours", 72)),
            "is_workday": is_workday}


# ---- SLA (the sla service owns clocks; intake keeps what lists need) ---------------------

def apply_sla_clock(envelope, uow):
    """sla_clock_updated: keep the ticket's nearest due time and breach flag, for filtering
    and sorting lists. An older evaluation than the one kept is ignored (events of one
    ticket may arrive out of order). Not a change of the ticket: no version, no event."""
    data = envelope["data"]
    evaluated = _aware(_parse_time(data["evaluated_at"]))
    with uow:
        if not consume_once(uow, envelope, "intake.sla_clock"):
            return
        ticket = uow.session.get(Ticket, data["ticket_id"])
        if ticket is not None and (ticket.sla_evaluated_at is None
                                   or _aware(ticket.sla_evaluated_at) <= evaluated):
            due = data.get("next_due_at")
            uow.session.execute(update(Ticket).where(Ticket.id == ticket.id).values(
                sla_due_at=_parse_time(due) if due else None,
                sla_breached=bool(data["breached"]), sla_evaluated_at=evaluated)
                .execution_options(synchronize_session=False))
        uow.commit()


def apply_sla_breach(envelope, uow):
    """sla_breached with escalation raise_priority: the ticket becomes one level more
    urgent (ticket_updated with the reason), which sla uses to recompute its clocks."""
    data = envelope["data"]
    if (data.get("escalation") or {}).get("action") != "raise_priority":
        return
    # once per ticket and target: an update-interval clock breaches once per missed cycle,
    # and a ticket that keeps missing them must not climb from P4 to P1 on that alone
    once = {"event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sla-raise:{data['ticket_id']}:"
                                                          f"{data['target']}"))}
    with uow:
        if not consume_once(uow, envelope, "intake.sla_breach") or \
                not consume_once(uow, once, "intake.sla_raise"):
            uow.commit()  # (the breach is recorded as handled either way)
            return
        ticket = uow.session.get(Ticket, data["ticket_id"])
        if ticket is None or ticket.status not in domain.OPEN_STATUSES:
            uow.commit()
            return
        new = domain.raised_priority(ticket.priority)
        if new != ticket.priority:
            old, ticket.priority, ticket.updated_at = ticket.priority, new, utcnow()
            uow.flush()
            uow.emit(events.TICKET_UPDATED, {
                "ticket": _ref(ticket), "changes": {"priority": [old, new]},
                "reason": f"SLA {data['target']} target breached: priority raised "
                          f"(SLA {data['target']} 超时，优先级已提升)"},
                actor=SYSTEM, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()
