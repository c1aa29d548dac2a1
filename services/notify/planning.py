"""Planning (`ingest`): an event arrives; the rules say who hears it over which channel; the
inbox rows are written and every outgoing message (email, SMS, webhook) is written as a
`deliveries` row, all in one transaction with the processed-event record, so a redelivered
event plans nothing twice (and the unique constraints say so as well).

Hand-off: the caller may offer free send slots (`hand_off`). Up to that many emails and SMS
due now are then written already leased, and handed back (`handed`, after the commit) to
be sent at once: the delivery loop's claim transaction is skipped for them. A process that
dies before sending leaves leased rows, which the loop claims when the lease runs out, as
it does for any send cut short."""
import datetime as dt

from sqlalchemy import bindparam, insert, select

from gongdan_common.events import utcnow
from gongdan_common.outbox import consume_many

from . import domain, events, robots, templates
from .common import _pref_dict, _rule_overrides, template_for
from .daily_digest import record_digest_items
from .digest import item_of as digest_item_of
from .models import Delivery, Notification, Preference, TemplateOverride, Webhook, new_id

CONSUMER = "notify.ingest"


def _active_webhooks(uow):
    return list(uow.session.scalars(select(Webhook).where(Webhook.active.is_(True))))


def configuration(uow):
    """The rules in force, the active webhooks, which templates admins replaced and the
    active IM robots (what `ingest` needs besides people)."""
    with uow:
        return (domain.effective_rules(_rule_overrides(uow)),
                [(h.id, h.url, list(h.event_types)) for h in _active_webhooks(uow)],
                set(uow.session.execute(select(TemplateOverride.kind,
                                               TemplateOverride.language)).tuples()),
                robots.active(uow))


def plan_inputs(envelope, uow, config=None):
    """Matching rules and webhooks; `config` is a recent `configuration(uow)` when the caller
    keeps one (the service does, for a second: an admin's change applies within that)."""
    rules, hooks, overridden, _ = config or configuration(uow)
    return (domain.matching_rules(envelope, rules),
            [(hid, url) for hid, url, types in hooks if domain.webhook_matches(types, envelope)],
            overridden)


def directory_queries(envelope, rules, queries=None):
    queries = [] if queries is None else queries
    for rule in rules:
        for selector in domain.rule_selectors(rule, envelope):
            q = domain.selector_query(selector, envelope)
            if q is not None and q not in queries:
                queries.append(q)
    return queries


def ingest(envelope, uow, directory, settings, now=None, config=None, hand_off=0,
           handed=None):
    """Plan everything one event causes. Returns counts (for logs and tests)."""
    return ingest_many([envelope], uow, directory, settings, now, config, hand_off, handed)


def ingest_many(envelopes, uow, directory, settings, now=None, config=None, hand_off=0,
                handed=None):
    """Plan everything a batch of events causes, in one transaction: one directory call
    (cached), one processed-events INSERT, one preferences SELECT, and the inbox rows,
    deliveries and outbox rows written together at commit. Events handled before (a
    redelivery) plan nothing. Returns counts (for logs and tests); with `hand_off` > 0
    and a list `handed`, appends the deliveries written leased (see the module's doc).
    The inbox rows and deliveries are inserted as rows (one Core INSERT each), not ORM
    objects: the unit of work's bookkeeping per object was most of planning's CPU."""
    config = config or configuration(uow)
    counts = {"inbox": 0, "email": 0, "sms": 0, "webhook": 0, "robot": 0}
    # an event no rule can address to anyone, no webhook, robot or digest wants
    # (sla_clock_updated, an attachment on a ticket nobody handles yet) has no effect to
    # make idempotent: it costs no transaction
    planned = [(e, rules, hooks, overridden)
               for e in envelopes for rules, hooks, overridden in [plan_inputs(e, uow, config)]
               if hooks or directory_queries(e, rules) or digest_item_of(e) is not None
               or domain.event_key(e) in robots.EVENTS]
    if not planned:
        return counts
    envelopes = [p[0] for p in planned]
    queries = []
    for envelope, rules, _, _ in planned:
        directory_queries(envelope, rules, queries)
    people = directory(queries) if queries else {}
    now = now or utcnow()
    leased = _HandOff(hand_off if handed is not None else 0, now, settings)
    with uow:
        fresh = {e["event_id"] for e in consume_many(uow, envelopes, CONSUMER)}
        if not fresh:
            return counts
        record_digest_items(uow, [e for e in envelopes if e["event_id"] in fresh], now)
        counts["robot"] = robots.plan(uow, [e for e in envelopes if e["event_id"] in fresh],
                                      settings, now, robots=config[3])
        user_ids = {u["id"] for users in people.values() for u in users}
        prefs = {p.user_id: _pref_dict(p) for p in uow.session.scalars(
            _PREFERENCES, {"ids": sorted(user_ids)})} if user_ids else {}
        rows = _Rows()
        for envelope, rules, hooks, overridden in planned:
            if envelope["event_id"] in fresh:
                fresh.discard(envelope["event_id"])  # the same event twice in one batch
                _plan_event(uow, envelope, rules, hooks, overridden, people, prefs,
                            settings, now, counts, leased, rows)
        rows.insert(uow)
        uow.commit()
    if handed is not None:
        handed.extend(leased.items)
    return counts


class _HandOff:
    """Which new deliveries are written leased for the caller's free send slots."""

    def __init__(self, slots, now, settings):
        self.slots, self.now, self.items = slots, now, []
        self.lease = now + dt.timedelta(seconds=settings["lease_seconds"])

    def take(self, row):
        """Lease `row` (an email or SMS not yet inserted) if a slot is left and it is due."""
        if len(self.items) >= self.slots or row["next_attempt_at"] != self.now:
            return
        row["lease_until"] = self.lease
        self.items.append({k: row.get(k) for k in _HANDED})


# what the senders read (delivery.delivery_dict of a claimed row)
_HANDED = ("id", "event_id", "event_type", "channel", "recipient", "address", "language",
           "subject", "body_text", "body_html", "payload", "attempts", "ticket_id")
_NOTIFICATIONS, _DELIVERIES = Notification.__table__, Delivery.__table__
# built once: building and keying a statement costs about what running it does here
_PREFERENCES = select(Preference).where(Preference.user_id.in_(bindparam("ids", expanding=True)))
_ADD_NOTIFICATIONS, _ADD_DELIVERIES = insert(_NOTIFICATIONS), insert(_DELIVERIES)


class _Rows:
    """The inbox rows and deliveries one planning transaction writes, as plain rows."""

    def __init__(self):
        self.notifications, self.deliveries = [], []

    def notify(self, uow, row):
        """An inbox row and its notification_created event (gateways push it live)."""
        self.notifications.append(row)
        uow.emit(events.NOTIFICATION_CREATED, {
            k: row[k] for k in ("user_id", "kind", "event_type", "title", "ticket_id",
                                "ticket_number", "created_at")} | {"notification_id": row["id"]})

    def deliver(self, **row):
        # no "payload" key unless given: None would be stored as JSON null, not as NULL
        row = {"id": new_id(), "kind": None, "ticket_id": None, "language": None,
               "subject": None, "body_text": None, "body_html": None, "status": "pending",
               "attempts": 0, "lease_until": None} | row
        self.deliveries.append(row)
        return row

    def insert(self, uow):
        if self.notifications:
            uow.session.execute(_ADD_NOTIFICATIONS, self.notifications)
        shapes = {}  # an INSERT's rows must name the same columns
        for row in self.deliveries:
            shapes.setdefault(tuple(sorted(row)), []).append(row)
        for same in shapes.values():
            uow.session.execute(_ADD_DELIVERIES, same)


def _plan_event(uow, envelope, rules, hooks, overridden, people, prefs, settings, now, counts,
                leased, rows):
    actor_id = (envelope.get("actor") or {}).get("id")
    done = set()
    ticket = domain.ticket_of(envelope)
    for rule in rules:
        for selector in domain.rule_selectors(rule, envelope):
            q = domain.selector_query(selector, envelope)
            for user in people.get(q, []) if q else []:
                if user["id"] in done or (user["id"] == actor_id
                                          and not rule.get("notify_actor")):
                    continue  # nobody is told twice, nor (mostly) of their own action
                done.add(user["id"])
                _plan_for_person(uow, envelope, rule, user, prefs.get(user["id"]), ticket,
                                 settings, now, counts, overridden, leased, rows)
    for hook_id, url in hooks:
        rows.deliver(event_id=envelope["event_id"], event_type=domain.event_key(envelope),
                     channel="webhook", recipient=hook_id, address=url, payload=envelope,
                     ticket_id=ticket.get("id"), next_attempt_at=now, created_at=now)
        counts["webhook"] += 1


def _plan_for_person(uow, envelope, rule, user, pref, ticket, settings, now, counts,
                     overridden, leased, rows):
    priority = ticket.get("priority")
    channels = domain.channels_for(rule, pref, priority)
    if not channels:
        return
    language = (pref or {}).get("language") or user.get("language") or \
        settings["default_language"]
    language = language if language in templates.LANGUAGES else "zh"
    link = f"{settings['public_url']}/#/tickets/{ticket['id']}" if ticket.get("id") else \
        settings["public_url"] + "/"
    context = domain.message_context(envelope, ticket, user, link)
    msg = templates.render(template_for(uow, rule["kind"], language, overridden), context)
    number = ticket.get("number")
    if number and number not in msg["subject"]:
        msg["subject"] = f"[{number}] {msg['subject']}"[:templates.MAX_SUBJECT]
    common = {"event_id": envelope["event_id"], "event_type": domain.event_key(envelope),
              "kind": rule["kind"], "ticket_id": ticket.get("id")}
    if "inbox" in channels:
        rows.notify(uow, {"id": new_id(), "user_id": user["id"], "title": msg["subject"],
                          "body": msg["text"].strip(), "link": link, "priority": priority,
                          "ticket_number": number, "read_at": None, "created_at": now,
                          **common})
        counts["inbox"] += 1
    quiet_until = None if rule["kind"] in domain.ALWAYS_SENT else \
        domain.in_quiet_hours(pref, now, priority)
    for channel, address in (("email", user.get("email")), ("sms", user.get("phone"))):
        if channel not in channels or not address:
            continue
        text = msg["text"] if channel == "email" else f"{msg['subject']} {link}"
        row = rows.deliver(
            channel=channel, recipient=user["id"], address=address, language=language,
            subject=msg["subject"], body_text=text,
            body_html=msg["html"] if channel == "email" else None,
            next_attempt_at=quiet_until or now, created_at=now, **common)
        if leased is not None:
            leased.take(row)
        counts[channel] += 1
