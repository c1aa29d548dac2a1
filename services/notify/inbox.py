"""The in-app inbox: list, unread count, mark read."""
from sqlalchemy import func, select, update

from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import exceptions as exc, schemas
from .common import _person
from .models import Notification


def list_notifications(actor, query, uow):
    user_id = _person(actor)
    q = load(schemas.InboxQuery(), query)
    with uow:
        base = select(Notification).where(Notification.user_id == user_id)
        if q["unread"]:
            base = base.where(Notification.read_at.is_(None))
        total = uow.session.scalar(select(func.count()).select_from(base.subquery()))
        rows = uow.session.scalars(base.order_by(Notification.created_at.desc(),
                                                 Notification.id.desc())
                                   .offset((q["page"] - 1) * q["page_size"])
                                   .limit(q["page_size"])).all()
        unread = _unread(uow, user_id)
    return schemas.InboxPage().dump({"items": rows, "total": total, "unread": unread,
                                     "page": q["page"], "page_size": q["page_size"]})


def _unread(uow, user_id):
    return uow.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)))


def unread_count(actor, uow):
    user_id = _person(actor)
    with uow:
        return {"unread": _unread(uow, user_id)}


def mark_read(actor, notification_id, uow):
    user_id = _person(actor)
    with uow:
        n = uow.session.get(Notification, notification_id)
        if n is None or n.user_id != user_id:
            raise exc.NOTIFICATION_NOT_FOUND(id=notification_id)
        if n.read_at is None:
            n.read_at = utcnow()
        uow.commit()
        return schemas.NotificationSchema().dump(n)


def mark_all_read(actor, uow):
    user_id = _person(actor)
    with uow:
        result = uow.session.execute(update(Notification).where(
            Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=utcnow()))
        uow.commit()
        return {"marked": result.rowcount, "unread": 0}
