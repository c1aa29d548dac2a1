"""Who hears what, over which channel, when: pure rules, no nameko, no sqlalchemy.

A *rule* maps one event (`source.type`, optionally narrowed by a condition on its data) to
recipient *selectors* and *channels*, with the *kind* of message (which template, which
preference). Shipped rules are `DEFAULT_RULES`; admins override them by id or add their own.
"""
import datetime as dt
import ipaddress
import socket
import urllib.parse
import zoneinfo

from gongdan_common import signing

CHANNELS = ("inbox", "email", "sms")          # what a person can receive
SELECTORS = ("assignee", "previous_assignee", "submitter", "company_admins",
             "provider_admins", "agents", "admins", "escalation", "account_owner",
             "item_owner")
# events about a person's account: for that person, never forwarded to webhooks
PRIVATE_SOURCES = ("gateway",)
# "escalation": whom an SLA policy's escalation names (sla_warning / sla_breached carry
# data.escalation.notify as roles); the desk's leads hold the admin role.
ESCALATION_ROLES = {"provider_admin": "provider_admins", "support_lead": "admins",
                    "agent": "agents", "admin": "admins", "engineer": "assignee"}
ESCALATION_FALLBACK = ("provider_admins", "agents")
P1 = "P1"


def _rule(id, event, kind, recipients, channels, when=None, sms_on_p1=False, enabled=True,
          notify_actor=False):
    """`notify_actor`: tell a recipient even when they caused the event (a customer who
    submitted is still told the ticket was accepted); otherwise nobody hears of their own
    actions."""
    return {"id": id, "event": event, "kind": kind, "recipients": list(recipients),
            "channels": list(channels), "when": when or {}, "sms_on_p1": sms_on_p1,
            "enabled": enabled, "notify_actor": notify_actor}


DEFAULT_RULES = [
    _rule("assigned", "dispatch.ticket_assigned", "assigned", ["assignee"],
          ["inbox", "email"], sms_on_p1=True),
    _rule("reassigned", "dispatch.ticket_reassigned", "assigned", ["assignee"],
          ["inbox", "email"], sms_on_p1=True),
    _rule("reassigned_away", "dispatch.ticket_reassigned", "unassigned", ["previous_assignee"],
          ["inbox"]),
    _rule("accepted", "intake.ticket_created", "accepted", ["submitter"], ["inbox", "email"],
          notify_actor=True),
    _rule("new_ticket", "intake.ticket_created", "new_ticket", ["agents"], ["inbox"],
          sms_on_p1=True),
    _rule("reply", "intake.ticket_commented", "reply", ["submitter"], ["inbox", "email"],
          when={"internal": False, "author_role_in": ["agent", "engineer", "provider_admin",
                                                      "admin"]}),
    _rule("customer_reply", "intake.ticket_commented", "customer_reply", ["assignee"],
          ["inbox"], when={"internal": False, "author_role_in": ["customer",
                                                                 "customer_admin"]}),
    _rule("needs_info", "intake.ticket_status_changed", "needs_info", ["submitter"],
          ["inbox", "email"], when={"to_status": "needs_info"}),
    _rule("resolved", "intake.ticket_resolved", "resolved", ["submitter"], ["inbox", "email"]),
    _rule("closed", "intake.ticket_closed", "closed", ["submitter"], ["inbox", "email"],
          notify_actor=True),
    _rule("follow_up_due", "intake.follow_up_due", "follow_up_due", ["agents"],
          ["inbox", "email"]),
    # leftover items (遗留问题): the owner hears of the item, and when it is overdue so do the
    # ticket's provider and the desk
    _rule("leftover_assigned", "intake.leftover_item_added", "leftover_assigned",
          ["item_owner"], ["inbox", "email"]),
    _rule("leftover_overdue", "intake.leftover_item_overdue", "leftover_overdue",
          ["item_owner", "provider_admins", "agents"], ["inbox", "email"]),
    _rule("sla_warning", "sla.sla_warning", "sla_warning", ["escalation"],
          ["inbox", "email"], sms_on_p1=True),
    _rule("sla_breached", "sla.sla_breached", "sla_breached", ["escalation"],
          ["inbox", "email"], sms_on_p1=True),
    _rule("dispatch_failed", "dispatch.dispatch_failed", "dispatch_failed", ["agents"],
          ["inbox"]),
    _rule("offer_exhausted", "dispatch.offer_exhausted", "dispatch_failed", ["agents"],
          ["inbox"]),
    # a low score (either kind of star <= 2) alerts the desk and the ticket's provider, so
    # somebody calls the customer back; admins change the threshold on the rule
    _rule("low_rating", "intake.ticket_rated", "low_rating", ["agents", "provider_admins"],
          ["inbox", "email"], when={"lowest_score_max": 2}),
    _rule("account_locked", "gateway.account_locked", "account_locked", ["account_owner"],
          ["inbox", "email"]),
    # mail only: the link is for the mailbox's owner, and whoever asked may not be signed in
    _rule("password_reset", "gateway.password_reset_requested", "password_reset",
          ["account_owner"], ["email"], notify_actor=True),
]
DEFAULT_IDS = {r["id"] for r in DEFAULT_RULES}

# P1..P4 first response targets of the shipped SLA policies (support guide, seed 004; see
# docs/sla.md: P1 around the clock, P2-P4 in working hours), for the "accepted" message
RESPONSE_TARGETS = {"P1": {"en": "15 minutes", "zh": "15 分钟"},
                    "P2": {"en": "30 minutes of working hours", "zh": "30 分钟（工作时间）"},
                    "P3": {"en": "1 working hour", "zh": "1 个工作小时"},
                    "P4": {"en": "1 business day", "zh": "1 个工作日"}}


def effective_rules(overrides):
    """Shipped rules with admins' overrides (same id) applied, plus admins' own rules."""
    by_id = {r["id"]: dict(r, source="default", overridden=False) for r in DEFAULT_RULES}
    for rule in overrides:
        by_id[rule["id"]] = dict(rule, source="default" if rule["id"] in DEFAULT_IDS
                                 else "custom", overridden=rule["id"] in DEFAULT_IDS)
    return list(by_id.values())


def event_key(envelope):
    return f"{envelope.get('source')}.{envelope.get('type')}"


def matching_rules(envelope, rules):
    key = event_key(envelope)
    return [r for r in rules if r.get("enabled", True) and r["event"] == key
            and condition_holds(r.get("when") or {}, envelope.get("data") or {})]


def condition_holds(when, data):
    """{field: value} equals, {field_in: [..]} one of, {field_max: n} / {field_min: n} a
    number at most / at least n (a missing or non-numeric field fails)."""
    for name, want in when.items():
        if name.endswith("_in"):
            if data.get(name[:-3]) not in want:
                return False
        elif name.endswith(("_max", "_min")) and name not in data:
            have = data.get(name[:-4])
            if not _number(have) or not _number(want):
                return False
            if (have > want) if name.endswith("_max") else (have < want):
                return False
        elif data.get(name) != want:
            return False
    return True


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def ticket_of(envelope):
    """The ticket as far as the event tells: intake events carry it whole, dispatch's carry
    ids and the number."""
    data = envelope.get("data") or {}
    ticket = dict(data.get("ticket") or {})
    ticket.setdefault("id", envelope.get("ticket_id") or data.get("ticket_id"))
    ticket.setdefault("number", envelope.get("ticket_number") or data.get("ticket_number"))
    for name in ("priority", "title", "company_id", "provider_id", "submitter_id",
                 "handler_id"):
        if name not in ticket and data.get(name) is not None:
            ticket[name] = data[name]
    if "provider_id" not in ticket and data.get("provider_id"):
        ticket["provider_id"] = data["provider_id"]
    return ticket


def message_context(envelope, ticket, user, link):
    """What a template may read for one recipient of one event (templates.SAMPLE_CONTEXT
    names the same roots)."""
    return {"ticket": ticket, "data": envelope.get("data") or {}, "link": link,
            "recipient": {"id": user["id"], "name": user.get("name")},
            "actor": envelope.get("actor") or {}, "event": envelope,
            "response_target": RESPONSE_TARGETS.get(ticket.get("priority"))}


def webhook_disabled_context(envelope, public_url):
    """The webhook owner's notice: the link leads to their webhooks."""
    return {"data": envelope["data"], "event": envelope, "link": public_url + "/#/webhooks"}


def rule_selectors(rule, envelope):
    """The rule's selectors with "escalation" replaced by the roles the event's SLA
    escalation names (provider admins and agents when it names none)."""
    out = []
    for selector in rule["recipients"]:
        if selector == "escalation":
            named = ((envelope.get("data") or {}).get("escalation") or {}).get("notify") or []
            expanded = [ESCALATION_ROLES[r] for r in named if r in ESCALATION_ROLES]
            out.extend(expanded or ESCALATION_FALLBACK)
        else:
            out.append(selector)
    return list(dict.fromkeys(out))


def selector_query(selector, envelope):
    """What to ask the directory for: ("id", user_id) or ("role", role, company_id|None);
    None when the event does not name anyone for this selector."""
    data = envelope.get("data") or {}
    ticket = ticket_of(envelope)
    if selector == "assignee":
        uid = data.get("engineer_id") or ticket.get("handler_id")
        return ("id", uid) if uid else None
    if selector == "previous_assignee":
        uid = data.get("previous_engineer_id")
        return ("id", uid) if uid else None
    if selector == "submitter":
        uid = ticket.get("submitter_id")
        return ("id", uid) if uid else None
    if selector == "company_admins":
        cid = ticket.get("company_id")
        return ("role", "customer_admin", cid) if cid else None
    if selector == "provider_admins":
        pid = ticket.get("provider_id") or data.get("provider_id")
        return ("role", "provider_admin", pid) if pid else None
    if selector == "agents":
        return ("role", "agent", None)
    if selector == "admins":
        return ("role", "admin", None)
    if selector == "item_owner":
        uid = (data.get("item") or {}).get("owner_id")
        return ("id", uid) if uid else None
    if selector == "account_owner" and envelope.get("source") in PRIVATE_SOURCES:
        uid = data.get("user_id")
        return ("id", uid) if uid else None
    return None


# asked for by the person this minute: no preference turns them off, no quiet hours hold them
ALWAYS_SENT = frozenset({"password_reset"})


def channels_for(rule, preference, priority):
    """The rule's channels (plus SMS for P1 where the rule says so), narrowed or widened
    by the person's preference for this kind of message."""
    channels = list(rule["channels"])
    if rule["kind"] in ALWAYS_SENT:
        return [c for c in CHANNELS if c in channels]
    if rule.get("sms_on_p1") and priority == P1 and "sms" not in channels:
        channels.append("sms")
    chosen = (preference or {}).get("channels", {}).get(rule["kind"])
    if chosen is not None:
        channels = list(chosen)
    return [c for c in CHANNELS if c in channels]


def in_quiet_hours(preference, at, priority):
    """Is `at` inside the person's quiet hours? P1 ignores them. Returns when they end
    (UTC), or None."""
    pref = preference or {}
    start, end = pref.get("quiet_start"), pref.get("quiet_end")
    if not start or not end or priority == P1:
        return None
    tz = zoneinfo.ZoneInfo(pref.get("timezone") or "Asia/Shanghai")
    local = at.astimezone(tz)
    s, e = _hm(start), _hm(end)
    now_m = local.hour * 60 + local.minute
    s_m, e_m = s[0] * 60 + s[1], e[0] * 60 + e[1]
    inside = (s_m <= now_m < e_m) if s_m < e_m else (now_m >= s_m or now_m < e_m)
    if not inside:
        return None
    end_local = local.replace(hour=e[0], minute=e[1], second=0, microsecond=0)
    if end_local <= local:
        end_local += dt.timedelta(days=1)
    return end_local.astimezone(dt.timezone.utc)


def _hm(text):
    h, m = text.split(":")
    return int(h), int(m)


def backoff(attempts, base, cap):
    """Seconds to wait after the `attempts`-th failed attempt: base, 2*base, 4*base ... cap."""
    return min(cap, base * (2 ** max(0, attempts - 1)))


# ---- webhooks ------------------------------------------------------------------------------

# one signing scheme for webhooks out and IM bridges in (gongdan_common/signing.py)
signature = signing.signature
signature_header = signing.signature_header
verify_signature = signing.verify_signature


def webhook_matches(event_types, envelope):
    if envelope.get("source") in PRIVATE_SOURCES:
        return False
    if not event_types:
        return True
    key = event_key(envelope)
    return any(t in ("*", key, envelope.get("type"), f"{envelope.get('source')}.*")
               for t in event_types)


class UrlRefused(ValueError):
    def __init__(self, code, en, zh):
        super().__init__(en)
        self.code, self.en, self.zh = code, en, zh


def check_url(url, allow_networks=(), resolve=socket.getaddrinfo):
    """The SSRF policy: http(s) only, a host name, and every address it resolves to public,
    unless inside an allowed network (NOTIFY.webhook_allow_networks, for local receivers).
    Returns the resolved addresses."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https"):
        raise UrlRefused("scheme", "Only http and https URLs are allowed.",
                         "只允许 http 和 https 地址。")
    if not parsed.hostname:
        raise UrlRefused("host", "The URL has no host.", "地址缺少主机名。")
    if parsed.username or parsed.password:
        raise UrlRefused("credentials", "Credentials in the URL are not allowed.",
                         "地址中不允许包含用户名或密码。")
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        infos = resolve(parsed.hostname, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, ValueError, UnicodeError):
        raise UrlRefused("unresolvable", "The host name does not resolve.",
                         "主机名无法解析。") from None
    addresses = sorted({info[4][0] for info in infos})
    networks = [ipaddress.ip_network(n, strict=False) for n in allow_networks]
    for text in addresses:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
        if getattr(ip, "ipv4_mapped", None):
            ip = ip.ipv4_mapped
        if any(ip in n for n in networks):
            continue
        if not ip.is_global or ip.is_multicast:
            raise UrlRefused("forbidden_address",
                             f"The URL points at a forbidden address ({ip}).",
                             f"该地址指向禁止访问的网段（{ip}）。")
    return addresses
