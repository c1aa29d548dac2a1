"""After resolution: the customer's rating and the follow-up visits."""
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, events, exceptions as exc, schemas
from .common import _cancel_timer, _get_visible, _ref, _view
from .models import FollowUp, Rating, Ticket


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
        uow.emit(events.TICKET_RATED, dict(data, ticket=_ref(ticket), round=rating.round,
                                           lowest_score=min(data["product_score"],
                                                            data["service_score"])),
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
