"""Pure rules of notify: who hears what over which channel, quiet hours, backoff, webhook
signatures, the SSRF policy and template validation. No broker, no database."""
import datetime as dt
import http.server
import json
import socket
import threading
import time

import pytest

from services.notify import channels, domain, templates

UTC = dt.timezone.utc


def envelope(source, type, data, actor=None, **kw):
    return dict({"event_id": "e-1", "source": source, "type": type, "data": data,
                 "actor": actor}, **kw)


TICKET = {"id": "t-1", "number": "TS20261122001", "priority": "P2", "submitter_id": "u-c",
          "company_id": "c-1", "handler_id": "u-e", "provider_id": "p-1", "title": "x"}


def test_rules_match_events_and_conditions():
    rules = domain.effective_rules([])
    reply = envelope("intake", "ticket_commented",
                     {"internal": False, "author_role": "engineer", "ticket": TICKET})
    assert [r["id"] for r in domain.matching_rules(reply, rules)] == ["reply"]
    note = envelope("intake", "ticket_commented",
                    {"internal": True, "author_role": "engineer", "ticket": TICKET})
    assert domain.matching_rules(note, rules) == []
    by_customer = envelope("intake", "ticket_commented",
                           {"internal": False, "author_role": "customer", "ticket": TICKET})
    assert [r["id"] for r in domain.matching_rules(by_customer, rules)] == ["customer_reply"]
    needs = envelope("intake", "ticket_status_changed", {"to_status": "needs_info",
                                                         "ticket": TICKET})
    assert [r["id"] for r in domain.matching_rules(needs, rules)] == ["needs_info"]
    other = envelope("intake", "ticket_status_changed", {"to_status": "in_progress",
                                                         "ticket": TICKET})
    assert domain.matching_rules(other, rules) == []


def test_admin_overrides_replace_and_disable_shipped_rules():
    custom = {"id": "mine", "event": "worklog.worklog_added", "kind": "reply",
              "recipients": ["agents"], "channels": ["inbox"]}
    off = dict(next(r for r in domain.DEFAULT_RULES if r["id"] == "reply"), enabled=False)
    rules = domain.effective_rules([custom, off])
    by_id = {r["id"]: r for r in rules}
    assert by_id["mine"]["source"] == "custom" and by_id["reply"]["overridden"] is True
    assert by_id["resolved"]["overridden"] is False  # every rule says, not only changed ones
    reply = envelope("intake", "ticket_commented",
                     {"internal": False, "author_role": "agent", "ticket": TICKET})
    assert domain.matching_rules(reply, rules) == []


def test_selectors_read_the_people_from_the_event():
    assigned = envelope("dispatch", "ticket_assigned", {
        "engineer_id": "u-new", "provider_id": "p-9", "ticket_id": "t-1",
        "ticket_number": "TS1"}, ticket_id="t-1", ticket_number="TS1")
    assert domain.selector_query("assignee", assigned) == ("id", "u-new")
    assert domain.selector_query("provider_admins", assigned) == ("role", "provider_admin",
                                                                  "p-9")
    assert domain.selector_query("submitter", assigned) is None  # dispatch does not say
    created = envelope("intake", "ticket_created", {"ticket": TICKET})
    assert domain.selector_query("submitter", created) == ("id", "u-c")
    assert domain.selector_query("company_admins", created) == ("role", "customer_admin", "c-1")
    assert domain.selector_query("agents", created) == ("role", "agent", None)
    assert domain.ticket_of(assigned)["number"] == "TS1"


def test_sla_notices_go_to_whom_the_policy_escalation_names():
    rules = domain.effective_rules([])

    def breach(escalation):
        return envelope("sla", "sla_breached", {
            "ticket_id": "t-1", "number": "TS1", "target": "response", "priority": "P2",
            "provider_id": "p-1", "handler_id": "u-e", "escalation": escalation},
            ticket_id="t-1", ticket_number="TS1")

    named = breach({"action": "notify", "notify": ["support_lead", "provider_admin",
                                                   "engineer", "nobody"]})
    [rule] = domain.matching_rules(named, rules)
    assert rule["id"] == "sla_breached"
    assert domain.rule_selectors(rule, named) == ["admins", "provider_admins", "assignee"]
    assert [domain.selector_query(s, named) for s in domain.rule_selectors(rule, named)] == [
        ("role", "admin", None), ("role", "provider_admin", "p-1"), ("id", "u-e")]
    for silent in (breach(None), breach({"action": "raise_priority"})):
        assert domain.rule_selectors(rule, silent) == ["provider_admins", "agents"]
    assert domain.ticket_of(named)["number"] == "TS1"


def test_channels_follow_rule_priority_and_preference():
    rule = next(r for r in domain.DEFAULT_RULES if r["id"] == "assigned")
    assert domain.channels_for(rule, None, "P2") == ["inbox", "email"]
    assert domain.channels_for(rule, None, "P1") == ["inbox", "email", "sms"]
    pref = {"channels": {"assigned": ["sms"]}}
    assert domain.channels_for(rule, pref, "P3") == ["sms"]
    assert domain.channels_for(rule, {"channels": {"assigned": []}}, "P1") == []


def test_quiet_hours_wrap_midnight_and_p1_ignores_them():
    pref = {"quiet_start": "22:00", "quiet_end": "07:30", "timezone": "Asia/Shanghai"}
    at = dt.datetime(2026, 11, 22, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    assert domain.in_quiet_hours(pref, at, "P2") == dt.datetime(2026, 11, 22, 23, 30,
                                                                tzinfo=UTC)
    assert domain.in_quiet_hours(pref, at, "P1") is None
    noon = dt.datetime(2026, 11, 22, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    assert domain.in_quiet_hours(pref, noon, "P2") is None
    early = dt.datetime(2026, 11, 21, 22, 0, tzinfo=UTC)  # 06:00 on the 22nd
    assert domain.in_quiet_hours(pref, early, "P3") == dt.datetime(2026, 11, 21, 23, 30,
                                                                   tzinfo=UTC)
    day = {"quiet_start": "12:00", "quiet_end": "13:00", "timezone": "UTC"}
    assert domain.in_quiet_hours(day, dt.datetime(2026, 1, 1, 12, 30, tzinfo=UTC), None) == \
        dt.datetime(2026, 1, 1, 13, 0, tzinfo=UTC)


def test_backoff_doubles_up_to_the_cap():
    assert [domain.backoff(n, 30, 300) for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]


def test_signature_round_trip_and_tampering():
    body = b'{"a":1}'
    now = int(time.time())
    header = domain.signature_header("whsec_x", now, body)
    assert header.startswith(f"t={now},v1=")
    assert domain.verify_signature("whsec_x", header, body, now)
    assert not domain.verify_signature("whsec_x", header, b'{"a":2}', now)
    assert not domain.verify_signature("other", header, body, now)
    assert not domain.verify_signature("whsec_x", header, body, now + 3600)  # replayed late


def test_webhook_event_type_filter():
    env = envelope("intake", "ticket_created", {})
    assert domain.webhook_matches([], env) and domain.webhook_matches(["*"], env)
    assert domain.webhook_matches(["intake.ticket_created"], env)
    assert domain.webhook_matches(["ticket_created"], env)
    assert domain.webhook_matches(["intake.*"], env)
    assert not domain.webhook_matches(["dispatch.*", "intake.ticket_closed"], env)


def _resolver(*addresses):
    def resolve(host, port, *a):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in addresses]
    return resolve


@pytest.mark.parametrize("url,addresses,reason", [
    ("ftp://example.com/x", ["93.184.216.34"], "scheme"),
    ("file:///etc/passwd", [], "scheme"),
    ("http://user:pw@example.com/", ["93.184.216.34"], "credentials"),
    ("http://internal/", ["10.0.0.5"], "forbidden_address"),
    ("http://x/", ["127.0.0.1"], "forbidden_address"),
    ("http://x/", ["169.254.169.254"], "forbidden_address"),
    ("http://x/", ["192.168.1.1"], "forbidden_address"),
    ("http://x/", ["100.64.0.1"], "forbidden_address"),
    ("http://x/", ["::1"], "forbidden_address"),
    ("http://x/", ["::ffff:127.0.0.1"], "forbidden_address"),
    ("http://x/", ["fd00::1"], "forbidden_address"),
    ("http://x/", ["93.184.216.34", "10.0.0.1"], "forbidden_address"),  # any one is enough
])
def test_ssrf_policy_refuses(url, addresses, reason):
    with pytest.raises(domain.UrlRefused) as err:
        domain.check_url(url, resolve=_resolver(*addresses))
    assert err.value.code == reason and err.value.zh


def test_ssrf_policy_allows_public_and_allow_listed_addresses():
    assert domain.check_url("https://hooks.example.com/x",
                            resolve=_resolver("93.184.216.34")) == ["93.184.216.34"]
    assert domain.check_url("http://127.0.0.1:9000/x", ["127.0.0.1/32"],
                            resolve=_resolver("127.0.0.1"))
    with pytest.raises(domain.UrlRefused):
        domain.check_url("http://127.0.0.2/x", ["127.0.0.1/32"], resolve=_resolver("127.0.0.2"))

    def broken(*a):
        raise socket.gaierror("no such host")
    with pytest.raises(domain.UrlRefused) as err:
        domain.check_url("http://nowhere.invalid/", resolve=broken)
    assert err.value.code == "unresolvable"


def test_shipped_templates_render_in_both_languages_with_missing_fields():
    for kind in templates.KINDS:
        for lang in templates.LANGUAGES:
            out = templates.render(templates.default_compiled(kind, lang), {"ticket": {}})
            assert out["subject"] and "\n" not in out["subject"]
            assert "{{" not in out["text"] + out["html"]
    out = templates.render(templates.default_compiled("assigned", "en"), {
        "ticket": {"number": "TS1", "title": "<b>bad</b>", "priority": "P1"},
        "recipient": {"name": "Ann"}, "link": "http://x/#/tickets/1", "data": {}})
    assert out["subject"] == "[TS1] Ticket assigned to you: <b>bad</b>"
    assert "&lt;b&gt;bad&lt;/b&gt;" in out["html"] and "<b>bad</b>" not in out["html"]


@pytest.mark.parametrize("parts,part", [
    ({"subject": "{{ ticket.number", "text": "x", "html": "x"}, "subject"),
    ({"subject": "a", "text": "{% if %}", "html": "x"}, "text"),
    ({"subject": "a", "text": "{{ os.environ }}", "html": "x"}, "text"),
    ({"subject": "a", "text": "x", "html": "{{ ''.__class__.__mro__ }}"}, "html"),
    ({"subject": "a", "text": "x" * (templates.MAX_BODY + 1), "html": "x"}, "text"),
    ({"subject": "a\n{{ ticket.number }}\nb", "text": "x", "html": "x"}, "subject"),
    ({"subject": "a", "text": " ", "html": "x"}, "text"),
    ({"subject": "a", "text": "{{ ticket.number | nosuchfilter }}", "html": "x"}, "text"),
])
def test_broken_templates_are_refused_at_load(parts, part):
    with pytest.raises(templates.TemplateInvalid) as err:
        templates.compile_template(parts)
    assert part in err.value.problems
    en, zh = err.value.problems[part]
    assert en and zh


class _SmsGateway(http.server.ThreadingHTTPServer):
    daemon_threads = True


class _SmsHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.got.append((self.headers.get("Authorization"), body))
        self.send_response(self.server.status)
        self.end_headers()
        self.wfile.write(b'{"id": "sms-1"}')

    def log_message(self, *a):
        pass


@pytest.fixture
def sms_gateway():
    srv = _SmsGateway(("127.0.0.1", 0), _SmsHandler)
    srv.got, srv.status = [], 200
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("provider", ["log", "http"])
def test_every_sms_provider_sends_and_reports(provider, sms_gateway):
    """One conformance test for both SmsProvider implementations."""
    cfg = {"provider": provider, "api_key": "k-1",
           "endpoint": f"http://127.0.0.1:{sms_gateway.server_address[1]}/send"}
    sms = channels.sms_provider(cfg)
    delivery = {"id": "d-1", "address": "13800138000", "body_text": "[TS1] P1 工单已指派"}
    out = sms.send(delivery)
    assert out.ok and out.error is None
    if provider == "http":
        assert sms_gateway.got == [("Bearer k-1", {"to": "13800138000",
                                                   "text": "[TS1] P1 工单已指派",
                                                   "reference": "d-1"})]
        sms_gateway.status = 503
        down = sms.send(delivery)
        assert not down.ok and down.retryable and down.status_code == 503
        sms_gateway.status = 400
        assert sms.send(delivery).retryable is False
    else:
        assert "13800138000" in out.response and sms_gateway.got == []


def test_account_lock_goes_to_its_owner_and_never_to_webhooks():
    locked = envelope("gateway", "account_locked", {
        "user_id": "u-7", "locked_until": "2026-12-06T05:15:00Z",
        "until_local": "2026-12-06 13:15 (Asia/Shanghai, UTC+08:00)", "attempts": 5})
    [rule] = domain.matching_rules(locked, domain.effective_rules([]))
    assert rule["kind"] == "account_locked"
    assert domain.selector_query("account_owner", locked) == ("id", "u-7")
    # only the gateway's account events name an owner this way
    other = envelope("intake", "ticket_created", {"ticket": TICKET, "user_id": "u-7"})
    assert domain.selector_query("account_owner", other) is None
    assert not domain.webhook_matches([], locked) and not domain.webhook_matches(["*"], locked)
    assert domain.webhook_matches([], other)
