"""Which routing keys notify's event queues are bound to (services/notify/bindings.py)."""
from services.notify import bindings, domain


def test_the_shipped_rules_robots_and_digest_are_bound_and_nothing_else():
    shipped = bindings.static()
    # what the shipped rules, the robots and the digest act on
    assert {"ticket_created", "ticket_status_changed", "ticket_commented"} <= shipped["intake"]
    assert {"sla_warning", "sla_breached"} <= shipped["sla"]
    for rule in domain.DEFAULT_RULES:
        source, type_ = rule["event"].split(".", 1)
        assert type_ in shipped[source], rule["id"]
    # one per created ticket and per clock change, and nothing in notify uses it
    assert "sla_clock_updated" not in shipped["sla"]
    assert all(bindings.ALL not in keys for keys in shipped.values())


def test_rules_and_webhooks_add_their_event_types():
    rules = [{"event": "sla.sla_clock_updated", "enabled": True},
             {"event": "kb.article_published", "enabled": False}]  # disabled: not bound
    want = bindings.needed(rules, [["worklog.*"], ["dispatch.ticket_offered"],
                                   ["ticket_merged"]])
    assert "sla_clock_updated" in want["sla"] and "article_published" not in want["kb"]
    assert want["worklog"] == {bindings.ALL}          # a whole source
    assert "ticket_offered" in want["dispatch"]
    # a bare type: from every public source; the gateway's events are never a webhook's
    assert all("ticket_merged" in want[s] for s in ("intake", "dispatch", "sla", "kb"))
    assert "ticket_merged" not in want["gateway"]
    # no types, or "*": every public source whole (as domain.webhook_matches)
    for hooks in ([[]], [["*"]]):
        want = bindings.needed([], hooks)
        assert want["intake"] == {bindings.ALL} and bindings.ALL not in want["gateway"]


def test_changes_unbind_what_nothing_wants_and_the_old_catch_all():
    want = bindings.needed([], [["sla.sla_clock_updated"]])
    have = {("sla", "sla_clock_updated"), ("kb", "article_viewed")}
    bind, unbind = bindings.changes(want, have)
    assert ("sla", "sla_clock_updated") in bind and ("sla", "sla_breached") in bind
    assert ("kb", "article_viewed") in unbind
    # `#` (the binding queues had before) goes wherever nothing wants a whole source
    assert {(s, "#") for s in bindings.SOURCES} <= set(unbind)
    assert not set(bind) & set(unbind)
    bind, unbind = bindings.changes(bindings.needed([], [["intake.*"]]), set())
    assert ("intake", "#") in bind and ("intake", "#") not in unbind
