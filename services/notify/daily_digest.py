"""The daily digest (customer company admins): its lines and its runs.

Pure parts in digest.py. While events arrive, `record_digest_items` (one call in `ingest`,
same transaction) adds a line per opted-in admin of the ticket's company; `run_digests`
(a timer in every replica, or an admin by hand) turns each admin's lines into one email
and one inbox entry at their local digest time.
"""
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import digest, domain, schemas, templates
from .common import _add_to_inbox, _admin, _aware, _pref_dict, template_for
from .models import Delivery, Digest, DigestItem, Notification, Preference, new_id


# built once (record_digest_items runs in every planning transaction)
_READERS = select(Preference.user_id, Preference.digest_company_id).where(
    Preference.digest_enabled.is_(True),
    Preference.digest_company_id.in_(bindparam("companies", expanding=True)))


def record_digest_items(uow, envelopes, now):
    """Inside the caller's transaction (after `consume_many`): one line per company admin
    who takes the digest, for each event about a ticket of their company. One local query
    per batch (the company is kept with the admin's preference), no directory call."""
    items = [(e, item) for e in envelopes if (item := digest.item_of(e)) is not None]
    if not items:
        return 0
    readers = {}
    for user_id, company_id in uow.session.execute(
            _READERS, {"companies": list({i["company_id"] for _, i in items})}):
        readers.setdefault(company_id, []).append(user_id)
    count = 0
    for envelope, item in items:
        for user_id in readers.get(item["company_id"], ()):
            uow.session.add(DigestItem(
                event_id=envelope["event_id"], recipient=user_id,
                company_id=item["company_id"], kind=item["kind"], ticket_id=item["ticket_id"],
                ticket_number=item["ticket_number"],
                ticket_title=(item["ticket_title"] or "")[:300] or None,
                detail=item["detail"], occurred_at=item["occurred_at"] or now,
                recorded_at=now))
            count += 1
    return count


def run_digests(uow, directory, settings, now=None):
    """One pass: every opted-in admin whose local digest time has come (and whose digest of
    that day is not made yet) gets it. Safe in any number of replicas: each digest is
    claimed by inserting its (recipient, date) row; whoever cannot, leaves it. `now` is the
    pass's clock (the admin endpoint may set it); messages are scheduled in real time."""
    real = utcnow()
    now = now or real
    due = {}
    with uow:
        for p in uow.session.scalars(select(Preference).where(
                Preference.digest_enabled.is_(True))):
            slot = digest.due_slot(p.digest_time or digest.DEFAULT_TIME, p.timezone,
                                   _aware(p.digest_since), now)
            if slot is not None:
                due[p.user_id] = (slot[0], _pref_dict(p) | {"company_id": p.digest_company_id})
        if due:
            done = set(uow.session.execute(select(Digest.recipient, Digest.digest_date).where(
                Digest.recipient.in_(list(due)),
                Digest.digest_date.in_({day for day, _ in due.values()}))).tuples())
            due = {u: v for u, v in due.items() if (u, v[0]) not in done}
    counts = {"now": now, "due": len(due), "sent": 0, "empty": 0, "skipped": 0, "taken": 0}
    people = directory([("id", u) for u in due]) if due else {}
    for user_id, (day, pref) in due.items():
        person = (people.get(("id", user_id)) or [None])[0]
        counts[_make_digest(uow, user_id, day, pref, person, settings, now, real)] += 1
    return counts


def _claim_digest(uow, user_id, day, company_id, real):
    """Insert the (recipient, date) row unless it exists; True when this call did."""
    dialect = uow.session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    digest_id = new_id()
    stmt = insert(Digest).values(id=digest_id, recipient=user_id, digest_date=day,
                                 company_id=company_id, status="pending", items=0,
                                 created_at=real).on_conflict_do_nothing()
    return digest_id if uow.session.execute(stmt).rowcount == 1 else None


def _make_digest(uow, user_id, day, pref, person, settings, now, real):
    with uow:
        digest_id = _claim_digest(uow, user_id, day, pref["company_id"], real)
        if digest_id is None:
            return "taken"  # another replica made it (or is making it)
        row = uow.session.get(Digest, digest_id)
        stmt = select(DigestItem).where(DigestItem.recipient == user_id,
                                        DigestItem.digest_id.is_(None),
                                        DigestItem.recorded_at <= now).order_by(DigestItem.id)
        if uow.session.bind.dialect.name != "sqlite":
            stmt = stmt.with_for_update()
        items = list(uow.session.scalars(stmt))
        if items:
            uow.session.execute(update(DigestItem).where(
                DigestItem.id.in_([i.id for i in items])).values(digest_id=digest_id))
        row.items = len(items)
        if not items:
            row.status = "empty"
        elif person is None or person.get("role") != "customer_admin" \
                or person.get("company_id") != pref["company_id"]:
            row.status = "skipped"  # no longer that company's admin: their lines are dropped
            _stop_or_move_digest(uow, user_id, person)
        else:
            row.status = "sent"
            row.notification_id, row.delivery_id = _send_digest(
                uow, user_id, day, pref, person, items, settings, real)
        uow.commit()
        return "sent" if row.status == "sent" else row.status


def _stop_or_move_digest(uow, user_id, person):
    p = uow.session.get(Preference, user_id)
    if person is not None and person.get("role") == "customer_admin" \
            and person.get("company_id"):
        p.digest_company_id = person["company_id"]  # now the admin of another company
    else:
        p.digest_enabled = False


def _send_digest(uow, user_id, day, pref, person, items, settings, real):
    language = pref.get("language") or person.get("language") or settings["default_language"]
    language = language if language in templates.LANGUAGES else "zh"
    lines = [{"kind": i.kind, "ticket_id": i.ticket_id, "ticket_number": i.ticket_number,
              "ticket_title": i.ticket_title, "occurred_at": i.occurred_at,
              "detail": i.detail or {}, "seq": i.id} for i in items]
    composed = digest.compose(lines, language, pref.get("timezone"), settings["public_url"],
                              person.get("company_name"), day, settings["digest_max_lines"])
    context = {"digest": composed, "link": composed["link"], "event": {"type": "digest"},
               "recipient": {"id": user_id, "name": person.get("name")}}
    msg = templates.render(template_for(uow, "digest", language), context)
    channels = [c for c in domain.channels_for(
        {"kind": "digest", "channels": ["inbox", "email"]}, pref, None) if c != "sms"]
    event_id = f"digest:{user_id}:{day.isoformat()}"
    common = {"event_id": event_id, "event_type": "notify.digest", "kind": "digest"}
    notification_id = delivery_id = None
    if "inbox" in channels:
        n = Notification(user_id=user_id, title=msg["subject"], body=msg["text"].strip(),
                         link=composed["link"], created_at=real, **common)
        _add_to_inbox(uow, n)
        notification_id = n.id
    if "email" in channels and person.get("email"):
        delivery_id = new_id()
        uow.session.add(Delivery(
            id=delivery_id, channel="email", recipient=user_id, address=person["email"],
            language=language, subject=msg["subject"], body_text=msg["text"],
            body_html=msg["html"], status="pending", attempts=0,
            next_attempt_at=domain.in_quiet_hours(pref, real, None) or real, created_at=real,
            **common))
    return notification_id, delivery_id


def run_digests_by_hand(actor, payload, uow, directory, settings):
    """POST /admin/notifications/digests/run: the same pass, now or as of `now`."""
    _admin(actor)
    data = load(schemas.DigestRunIn(), payload)
    return schemas.DigestRunOut().dump(run_digests(uow, directory, settings, data.get("now")))
