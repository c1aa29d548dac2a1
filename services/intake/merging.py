"""Merging a duplicate into another ticket, links between tickets, and what the ticket page
shows of both. Plain functions over a unit of work; the rules are in relations.py."""
from sqlalchemy import or_, select

from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, events, exceptions as exc, relation_schemas as rs, relations
from .common import _cancel_timer, _get_visible, _record_status, _ref, _ticket_out, _view
from .models import Suspension, Ticket, TicketLink

_link_out = rs.LinkSchema()


def _facts(ticket):
    return dict(_view(ticket), id=ticket.id, merged_into_id=ticket.merged_into_id)


def _refuse(key, **params):
    raise exc.RELATION_ERRORS[key](**params)


def _other(ticket):
    return {"id": ticket.id, "number": ticket.number, "title": ticket.title}


def merge(actor, ticket_id, payload, uow):
    """Close `ticket_id` as a duplicate of `payload.into` (same company). Both tickets are
    locked and checked before anything is written: a refusal changes nothing."""
    data = load(rs.MergeSchema(), payload)
    with uow:
        source = _get_visible(uow, actor, ticket_id, for_update=True)
        target = _get_visible(uow, actor, data["into"], for_update=True)
        problem = relations.merge_problem(actor, _facts(source), _facts(target))
        if problem:
            _refuse(problem[0], **problem[1])
        now = utcnow()
        from_status = source.status
        _stop_timers(uow, source)
        source.status, source.status_before, source.closed_at = "closed", None, now
        source.merged_into_id, source.merged_into_number = target.id, target.number
        source.updated_at = target.updated_at = now
        reason = data.get("reason") or f"→ {target.number}"
        _record_status(uow, source, "merge", from_status, "closed", actor, reason=reason, at=now)
        uow.session.add(TicketLink(ticket_id=source.id, other_id=target.id,
                                   kind=relations.MERGED, actor_id=actor.get("id"),
                                   actor_name=actor.get("name"), created_at=now))
        uow.flush()
        # sla stops the duplicate's clocks, dispatch takes back its offer and load, digests
        # list it: all from the ordinary status event
        uow.emit(events.TICKET_STATUS_CHANGED, {
            "action": "merge", "from_status": from_status, "to_status": "closed",
            "reason": reason, "ticket": _ref(source)},
            actor=actor, ticket_id=source.id, ticket_number=source.number)
        for side, ticket in (("duplicate", source), ("target", target)):
            uow.emit(events.TICKET_MERGED, {
                "ticket": _ref(ticket), "side": side, "duplicate": _other(source),
                "into": _other(target), "reason": data.get("reason")},
                actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()
        return _ticket_out.dump(source)


def _stop_timers(uow, ticket):
    """A merged ticket neither resumes nor closes by itself later."""
    if ticket.status == "suspended" and ticket.suspension_id:
        suspension = uow.session.get(Suspension, ticket.suspension_id)
        if suspension is not None:
            _cancel_timer(uow, ticket, f"intake:auto_resume:{suspension.id}")
        ticket.suspension_id = None
    if ticket.status == "resolved":
        _cancel_timer(uow, ticket, f"intake:auto_confirm:{ticket.id}:{ticket.resolution_round}")


# ---- links ----------------------------------------------------------------------------

def add_link(actor, ticket_id, payload, uow):
    data = load(rs.LinkCreateSchema(), payload)
    with uow:
        ticket = _get_visible(uow, actor, ticket_id, for_update=True)
        other = _get_visible(uow, actor, data["other"])
        rows = uow.session.scalars(select(TicketLink).where(or_(
            TicketLink.ticket_id.in_((ticket.id, other.id)),
            TicketLink.other_id.in_((ticket.id, other.id))))).all()
        pairs = {frozenset((r.ticket_id, r.other_id)) for r in rows}
        problem = relations.link_problem(actor, ticket.id, other.id, data["kind"], pairs,
                                         _parents(uow))
        if problem:
            _refuse(problem)
        child, parent, kind = relations.stored_link(ticket.id, other.id, data["kind"])
        link = TicketLink(ticket_id=child, other_id=parent, kind=kind,
                          actor_id=actor.get("id"), actor_name=actor.get("name"),
                          created_at=utcnow())
        uow.session.add(link)
        ticket.updated_at = link.created_at
        uow.flush()
        uow.emit(events.TICKET_LINKED, {"ticket": _ref(ticket), "link_id": link.id,
                                        "kind": data["kind"], "other": _other(other)},
                 actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()
        return _link_out.dump(_as_seen(link, ticket.id, other))


def _parents(uow):
    """child -> parent of every parent link (small: parent links are made by hand)."""
    return dict(uow.session.execute(select(TicketLink.ticket_id, TicketLink.other_id)
                                    .where(TicketLink.kind == "parent")).all())


def remove_link(actor, ticket_id, link_id, uow):
    with uow:
        ticket = _get_visible(uow, actor, ticket_id, for_update=True)
        link = uow.session.get(TicketLink, link_id) if link_id else None
        if link is None or ticket.id not in (link.ticket_id, link.other_id):
            raise exc.LINK_NOT_FOUND()
        other = _get_visible(uow, actor, link.other_id if link.ticket_id == ticket.id
                             else link.ticket_id)
        if actor["role"] not in relations.LINK_ROLES:
            _refuse("link_role")
        if link.kind == relations.MERGED:
            raise exc.MERGE_LINK_FIXED()
        seen = _as_seen(link, ticket.id, other)
        uow.session.delete(link)
        ticket.updated_at = utcnow()
        uow.flush()
        uow.emit(events.TICKET_UNLINKED, {"ticket": _ref(ticket), "link_id": link_id,
                                          "kind": seen["kind"], "other": _other(other)},
                 actor=actor, ticket_id=ticket.id, ticket_number=ticket.number)
        uow.commit()
        return _link_out.dump(seen)


def _as_seen(link, from_id, other):
    """The link as seen from ticket `from_id`: its kind says what `other` is to it."""
    if link.kind == "parent":
        kind = "parent" if link.ticket_id == from_id else "child"
    elif link.kind == relations.MERGED:
        kind = "merged_into" if link.ticket_id == from_id else "merged_from"
    else:
        kind = link.kind
    return {"id": link.id, "kind": kind, "ticket": other, "actor_name": link.actor_name,
            "created_at": link.created_at}


def visible_links(uow, actor, ticket):
    """The ticket's links whose other end this actor may open (nothing else leaks)."""
    rows = uow.session.scalars(select(TicketLink).where(or_(
        TicketLink.ticket_id == ticket.id, TicketLink.other_id == ticket.id))
        .order_by(TicketLink.created_at)).all()
    ids = {r.other_id if r.ticket_id == ticket.id else r.ticket_id for r in rows}
    others = {t.id: t for t in uow.session.scalars(select(Ticket).where(Ticket.id.in_(ids)))} \
        if ids else {}
    out = []
    for r in rows:
        other = others.get(r.other_id if r.ticket_id == ticket.id else r.ticket_id)
        if other is not None and domain.can_view(actor, _view(other)):
            out.append(_link_out.dump(_as_seen(r, ticket.id, other)))
    return out


def list_links(actor, ticket_id, uow):
    with uow:
        return {"items": visible_links(uow, actor, _get_visible(uow, actor, ticket_id))}


def add_to_detail(uow, actor, ticket, out):
    """get_ticket's part: merged_into, links (filtered) and their timeline entries."""
    links = visible_links(uow, actor, ticket)
    out["links"] = links
    seen = next((l["ticket"] for l in links if l["kind"] == "merged_into"), None)
    # a customer who may not open the other ticket still learns its number, never more
    out["merged_into"] = ({"id": seen["id"], "number": seen["number"], "can_open": True}
                          if seen else {"id": None, "number": ticket.merged_into_number,
                                        "can_open": False} if ticket.merged_into_id else None)
    for l in links:
        if l["kind"] == "merged_from":
            out["timeline"].append({"at": l["created_at"], "kind": "merged_from",
                                    "actor": l["actor_name"], "summary": l["ticket"]["number"],
                                    "ticket_id": l["ticket"]["id"]})
    out["timeline"].sort(key=lambda i: i["at"] or "")
