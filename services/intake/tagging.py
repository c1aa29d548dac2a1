"""Tags: the support staff's own labels on tickets (issue 14).

Tags are internal: customers neither see them (on the list, the ticket or in an export) nor
filter by them. The desk labels tickets with words it would not show a customer (升级,
重复嫌疑, vip, 催单) and a customer filtering by a tag would learn which of their tickets
carry it. Every staff member who may see a ticket may tag it.

Changing tags does not change the ticket (its version and updated_at stay): tags are kept
beside it, so tagging never makes someone's edit of the ticket stale. The event carries the
whole set after the change, so a subscriber needs no ordering beyond the ticket's lock.
"""
from sqlalchemy import and_, delete, func, select

from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import desk_schemas, domain, events, exceptions as exc
from .common import _get_visible, _ref
from .models import Ticket, TicketTag

_out = desk_schemas.TicketTagsSchema()


def may_tag(actor):
    return actor.get("role") in domain.STAFF_ROLES or actor.get("role") == "system"


def _staff_only(actor):
    if not may_tag(actor):
        raise exc.TAGS_STAFF_ONLY()


def tags_of(uow, ticket_ids):
    """{ticket id: [tag, ...] sorted} for these tickets (absent ids: no tags)."""
    out = {}
    if not ticket_ids:
        return out
    rows = uow.session.execute(select(TicketTag.ticket_id, TicketTag.tag)
                               .where(TicketTag.ticket_id.in_(list(ticket_ids)))
                               .order_by(TicketTag.ticket_id, TicketTag.tag)).all()
    for ticket_id, tag in rows:
        out.setdefault(ticket_id, []).append(tag)
    return out


def tag_clause(tags, mode="any"):
    """The list's `tag` filter: tickets with any (or all) of these tags."""
    if mode == "all":
        return and_(*(Ticket.id.in_(select(TicketTag.ticket_id).where(TicketTag.tag == t))
                      for t in tags))
    return Ticket.id.in_(select(TicketTag.ticket_id).where(TicketTag.tag.in_(tags)))


def change_tags(actor, ticket_id, payload, uow, add=True):
    """Add (or remove) tags of one ticket; one event when something changed. Checked in
    the usual order: the input (400), a ticket the actor cannot see (404, as for a missing
    one), then the role (403)."""
    wanted = sorted(set(load(desk_schemas.TagsChangeSchema(), payload)["tags"]))
    with uow:
        ticket = _get_visible(uow, actor, ticket_id, for_update=True)
        _staff_only(actor)
        current = set(tags_of(uow, [ticket.id]).get(ticket.id, []))
        added = [t for t in wanted if t not in current] if add else []
        removed = [t for t in wanted if t in current] if not add else []
        after = (current | set(added)) - set(removed)
        if len(after) > desk_schemas.TAGS_PER_TICKET:
            raise exc.TOO_MANY_TAGS(limit=desk_schemas.TAGS_PER_TICKET)
        now = utcnow()
        for tag in added:
            uow.session.add(TicketTag(ticket_id=ticket.id, tag=tag, created_by=actor.get("id"),
                                      created_at=now))
        if removed:
            uow.session.execute(delete(TicketTag).where(TicketTag.ticket_id == ticket.id,
                                                        TicketTag.tag.in_(removed)))
        if added or removed:
            uow.flush()
            uow.emit(events.TICKET_TAGS_CHANGED, {
                "ticket": _ref(ticket), "added": added, "removed": removed,
                "tags": sorted(after)}, actor=actor, ticket_id=ticket.id,
                ticket_number=ticket.number)
            uow.commit()
        return _out.dump({"ticket_id": ticket.id, "number": ticket.number,
                          "tags": sorted(after)})


def list_tags(actor, uow):
    """The tags on tickets this actor sees, with counts, most used first (the tag picker)."""
    _staff_only(actor)
    stmt = select(TicketTag.tag, func.count()).join(Ticket, Ticket.id == TicketTag.ticket_id)
    scope = domain.visibility_scope(actor)
    if scope:
        stmt = stmt.where(getattr(Ticket, scope[0]) == scope[1])
    with uow:
        rows = uow.session.execute(stmt.group_by(TicketTag.tag)
                                   .order_by(func.count().desc(), TicketTag.tag)
                                   .limit(200)).all()
        return [{"tag": tag, "count": count} for tag, count in rows]
