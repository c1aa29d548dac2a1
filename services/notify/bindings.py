"""Which event types notify's queues are bound to (docs/notifications.md, "Which events
notify receives").

notify used to bind its six queues with `#`: every event of gateway, intake, dispatch,
worklog, sla and kb reached it, and most of them only to be dropped (`sla_clock_updated`,
one per created ticket and per clock change; worklog entries; kb reads). Now each queue is
bound to the routing keys something in notify can use:

- the shipped rules' events, the IM robots' (`schemas.ROBOT_EVENTS`) and the digest's
  (`STATIC`): bound when the queue is declared, so a fresh broker gets them with the queue;
- admins' rules (any `source.type`) and webhooks (`*`, `source.*`, `source.type` or a bare
  type, for every source but the private ones): bound at run time by `Bindings` (see
  dependencies.py) when a rule or webhook changes, and on every start and every
  `RECONCILE_SECONDS`, so a change made through another replica, or a broker that lost a
  binding, catches up.

The bindings notify added at run time are kept in `event_bindings`, so that a removed
webhook's keys are unbound again; `#` (the old binding of an existing queue) is unbound
whenever nothing wants a whole source. A binding added after an event was published does
not bring that event back: a new webhook follows events published after it was saved (the
RPC that saves it returns once the binding is in place).
"""
from . import domain, schemas

SOURCES = ("gateway", "intake", "dispatch", "worklog", "sla", "kb")
ALL = "#"
DIGEST = ("intake.ticket_created", "intake.ticket_status_changed", "intake.ticket_commented",
          "sla.sla_warning", "sla.sla_breached")  # digest.item_of's kinds
RECONCILE_SECONDS = 30.0


def _add(out, key):
    source, _, type_ = key.partition(".")
    if source in out and type_:
        out[source].add(ALL if type_ == "*" else type_)


def needed(rules, hooks):
    """{source: routing keys} for rules (dicts with "event" and "enabled") and webhooks'
    event type lists; `ALL` in a set: the whole source."""
    out = {source: set() for source in SOURCES}
    for key in (*DIGEST, *schemas.ROBOT_EVENTS):
        _add(out, key)
    for rule in rules:
        if rule.get("enabled", True) and rule.get("event"):
            _add(out, rule["event"])
    public = [s for s in SOURCES if s not in domain.PRIVATE_SOURCES]
    for types in hooks:  # mirrors domain.webhook_matches
        for t in (types or [ALL]):
            if t in ("*", ALL):
                for source in public:
                    out[source].add(ALL)
            elif "." in t:
                if t.split(".", 1)[0] in public:
                    _add(out, t)
            else:  # a bare type: that type from every public source
                for source in public:
                    out[source].add(t)
    return {source: _narrow(keys) for source, keys in out.items()}


def _narrow(keys):
    return frozenset({ALL}) if ALL in keys else frozenset(keys)


def static():
    """The keys of the shipped rules, the robots and the digest: declared with the queues."""
    return needed(domain.DEFAULT_RULES, [])


def changes(want, have):
    """-> (to bind, to unbind): [(source, key)], from what is wanted and what notify bound
    at run time before (`have`: {(source, key)}). `#` is unbound from a source unless
    wanted, whether or not notify remembers binding it (queues declared before bindings by
    type had it)."""
    wanted = {(s, k) for s, keys in want.items() for k in keys}
    bind = sorted(wanted)
    unbind = sorted((set(have) | {(s, ALL) for s in want}) - wanted)
    return bind, unbind


def reconcile(uow, broker, now):
    """Bind what rules and webhooks want, unbind what nothing wants any more, in one
    transaction that holds a lock (PostgreSQL: an advisory lock), so that two replicas
    reconciling at once apply their changes one after the other: the one that saw a new
    webhook comes last. `broker(bind, unbind)` applies [(source, key)] lists. Returns them."""
    from sqlalchemy import delete, select, text

    from .common import _rule_overrides
    from .models import EventBinding, Webhook

    with uow:
        session = uow.session
        if session.bind.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext('notify.bindings'))"))
        have = {(r.source, r.routing_key) for r in session.scalars(select(EventBinding))}
        rules = domain.effective_rules(_rule_overrides(uow))
        hooks = [list(h.event_types or []) for h in
                 session.scalars(select(Webhook).where(Webhook.active.is_(True)))]
        want = needed(rules, hooks)
        bind, unbind = changes(want, have)
        broker(bind, unbind)
        shipped = static()
        dynamic = {(s, k) for s, k in bind if k not in shipped[s]}
        gone = have - dynamic
        for source, key in gone:
            session.execute(delete(EventBinding).where(EventBinding.source == source,
                                                       EventBinding.routing_key == key))
        for source, key in sorted(dynamic - have):
            session.add(EventBinding(source=source, routing_key=key, bound_at=now))
        uow.commit()
    return bind, unbind
