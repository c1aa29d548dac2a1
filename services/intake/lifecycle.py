"""The ticket lifecycle: actions (start, suspend, resume, resolve, close, confirm, reopen ...),
their effects, the timers they request and the follow-up a close plans."""
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, events, exceptions as exc, leftovers, schemas
from .common import (_cancel_timer, _comment, _get_visible, _record_status, _ref, _request_timer,
                     _ticket_out, _view)
from .models import Attachment, ClosingReport, FollowUp, RootCause, Suspension

_ACTION_SCHEMAS = {"suspend": schemas.SuspendSchema, "resolve": schemas.ResolveSchema,
                   "close": schemas.CloseSchema}


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
    # leftover items (遗留问题) filed with the closing report or the desk's close: in this
    # unit of work, so a refused item refuses the close too
    leftovers.file_items(uow, ticket, actor, data.get("leftover_items"), now, settings)
    return _ticket_out.dump(ticket)


def _no_effect(uow, ticket, actor, data, now, settings, automatic):
    return None


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
