"""IM group robots: WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书) custom robots that post
the notices of a customer company's or a provider's tickets to their group.

- Kept per company: a customer company's admin keeps their company's robots, a provider's
  admin their provider's, an administrator any (the rule: gongdan_common.visibility
  `may_keep_settings_of` / `own_company`, nothing else decides it).
- Planned with everything else an event causes (`plan`, called by `planning.ingest_many`
  in the same transaction) as `deliveries` rows of channel `robot`: the same loop sends
  them, retries them with backoff and writes the same delivery log as webhooks and e-mail.
- Each platform's documented message shape and signing (`RobotSender`):
  WeCom: POST {"msgtype": "markdown", "markdown": {"content": ...}} to the robot's URL, whose
  `key` is its only credential (no signature);
  DingTalk: POST {"msgtype": "markdown", "markdown": {"title", "text"}} to the URL plus
  `timestamp` (ms) and `sign` = urlencode(base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")));
  Feishu: POST {"timestamp": "<s>", "sign": base64(HMAC-SHA256(key="<timestamp>\\n<secret>",
  msg=b"")), "msg_type": "text", "content": {"text": ...}}.
  All three answer HTTP 200 with an error code in the body when they refuse (bad signature,
  rate limit): success is code 0, read from `errcode` (WeCom, DingTalk) or `code` (Feishu).
- Messages are zh, en or both (the robot's `language`), from shipped templates rendered in
  the same sandbox as every other notification template.
"""
import base64
import hashlib
import hmac
import json
import re
import time
import types
import urllib.parse

import requests
from sqlalchemy import func, select, update

from gongdan_common import visibility
from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, exceptions as exc, schemas, templates
from .channels import Outcome
from .models import Delivery, DeliveryAttempt, Robot
from .webhooks import _check_url  # the same SSRF policy and refusal as webhooks

PLATFORMS = ("wecom", "dingtalk", "feishu")
EVENTS = schemas.ROBOT_EVENTS
DEFAULT_EVENTS = ("intake.ticket_created", "intake.ticket_status_changed",
                  "dispatch.ticket_assigned", "sla.sla_breached")
DELETED = "deleted"  # owner_kind of a deleted robot (kept: its delivery log names it)

# ---- messages ---------------------------------------------------------------------------------

_LINE = "\n{{ link }}"
_SOURCES = {
    "intake.ticket_created": (
        "新工单 {{ ticket.number }}（{{ ticket.priority }}）：{{ ticket.title }}",
        "New ticket {{ ticket.number }} ({{ ticket.priority }}): {{ ticket.title }}"),
    "intake.ticket_status_changed": (
        "工单 {{ ticket.number }} 状态：{{ data.from_status }} → {{ data.to_status }}"
        "{% if data.reason %}（{{ data.reason }}）{% endif %}",
        "Ticket {{ ticket.number }} status: {{ data.from_status }} → {{ data.to_status }}"
        "{% if data.reason %} ({{ data.reason }}){% endif %}"),
    "intake.ticket_commented": (
        "{{ actor.name }} 回复了工单 {{ ticket.number }}：{{ (data.body or '')[:300] }}",
        "{{ actor.name }} replied on ticket {{ ticket.number }}: {{ (data.body or '')[:300] }}"),
    "dispatch.ticket_assigned": (
        "工单 {{ ticket.number }} 已指派{% if data.engineer_name %}给 {{ data.engineer_name }}"
        "{% endif %}",
        "Ticket {{ ticket.number }} assigned{% if data.engineer_name %} to "
        "{{ data.engineer_name }}{% endif %}"),
    "sla.sla_warning": ("工单 {{ ticket.number }} 的 SLA 即将超时（{{ data.target }}）",
                        "Ticket {{ ticket.number }} SLA nearly due ({{ data.target }})"),
    "sla.sla_breached": ("工单 {{ ticket.number }} 的 SLA 已超时（{{ data.target }}）",
                         "Ticket {{ ticket.number }} SLA breached ({{ data.target }})"),
    "notify.robot_test": ("Gongdan 工单系统：机器人「{{ data.name }}」配置成功。",
                          "Gongdan: robot \"{{ data.name }}\" is set up."),
}
TEMPLATES = {key: {lang: templates.compile_template({"subject": text, "text": text + _LINE,
                                                      "html": text})
                   for lang, text in zip(("zh", "en"), pair)}
             for key, pair in _SOURCES.items()}


def message(key, language, context):
    """(title, text) in zh, en or both."""
    parts = [templates.render(TEMPLATES[key][lang], context)
             for lang in (("zh", "en") if language == "both" else (language,))]
    title = " / ".join(p["subject"] for p in parts)[:templates.MAX_SUBJECT]
    text = "\n\n".join(p["text"].strip() for p in parts)
    return title, text


def body_for(platform, title, text):
    """The platform's message JSON, unsigned (signing needs the time of sending)."""
    if platform == "wecom":  # markdown content: at most 4096 bytes
        return {"msgtype": "markdown",
                "markdown": {"content": _cut(f"**{title}**\n{text}", 4000)}}
    if platform == "dingtalk":
        return {"msgtype": "markdown",
                "markdown": {"title": title[:100], "text": _cut(f"#### {title}\n\n{text}", 18000)}}
    return {"msg_type": "text", "content": {"text": _cut(text, 18000)}}


def _cut(value, limit):
    raw = value.encode()
    return value if len(raw) <= limit else raw[:limit].decode(errors="ignore") + "…"


# ---- signing (what each platform checks) ------------------------------------------------------

def dingtalk_sign(secret, timestamp_ms):
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def feishu_sign(secret, timestamp_s):
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def signed_request(platform, url, secret, body, now=None):
    """(url, body) as sent: DingTalk signs in the query string, Feishu in the body."""
    now = time.time() if now is None else now
    if platform == "dingtalk" and secret:
        ts = int(now * 1000)
        sep = "&" if urllib.parse.urlsplit(url).query else "?"
        return (f"{url}{sep}timestamp={ts}&sign="
                f"{urllib.parse.quote_plus(dingtalk_sign(secret, ts))}", body)
    if platform == "feishu" and secret:
        ts = int(now)
        return url, dict(body, timestamp=str(ts), sign=feishu_sign(secret, ts))
    return url, body


class RobotSender:
    """Sends one `robot` delivery (`claim_due` added platform, url and secret)."""

    def __init__(self, allow_networks=(), timeout=5, user_agent="Gongdan-Robots/1"):
        self.allow_networks, self.timeout, self.user_agent = allow_networks, timeout, user_agent

    def send(self, delivery):
        try:
            domain.check_url(delivery["address"], self.allow_networks)
        except domain.UrlRefused as err:
            return Outcome(False, error=f"refused by the SSRF policy: {err.en}", retryable=False)
        url, body = signed_request(delivery["platform"], delivery["address"],
                                   delivery.get("secret"), delivery["payload"])
        try:
            r = requests.post(url, data=json.dumps(body, ensure_ascii=False).encode(),
                              headers={"Content-Type": "application/json; charset=utf-8",
                                       "User-Agent": self.user_agent},
                              timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as err:
            return Outcome(False, error=f"{type(err).__name__}: "
                                        f"{_masked(str(err), url)}"[:500])
        if not 200 <= r.status_code < 300:
            return Outcome(False, status_code=r.status_code, response=r.text[:500],
                           error=f"HTTP {r.status_code}")
        try:
            answer = r.json()
            code = answer.get("errcode", answer.get("code", answer.get("StatusCode")))
        except (ValueError, AttributeError):
            code = "unreadable"
        if code not in (0, None):
            return Outcome(False, status_code=r.status_code, response=r.text[:500],
                           error=f"platform code {code}")
        return Outcome(True, status_code=r.status_code, response=r.text[:500])


# ---- planning (inside ingest's transaction) ---------------------------------------------------

def _matches(robot, envelope, ticket):
    key = domain.event_key(envelope)
    if key not in EVENTS or key not in (robot.event_types or DEFAULT_EVENTS):
        return False
    if robot.owner_kind == "customer":
        if (envelope.get("data") or {}).get("internal"):
            return False  # internal notes never reach a customer's group
        return ticket.get("company_id") == robot.owner_id
    return ticket.get("provider_id") == robot.owner_id


def active(uow):
    """The active robots as plain values: what planning needs of them (the service keeps
    them with the rules and webhooks, re-read at most once a second)."""
    return [types.SimpleNamespace(id=r.id, platform=r.platform, owner_kind=r.owner_kind,
                                  owner_id=r.owner_id, url=r.url, language=r.language,
                                  event_types=list(r.event_types or ()))
            for r in uow.session.scalars(select(Robot).where(Robot.active.is_(True)))]


def plan(uow, envelopes, settings, now, robots=None):
    """A `robot` delivery for every active robot an event concerns (`robots`: a recent
    `active(uow)`, read now when None). Returns how many."""
    if not any(domain.event_key(e) in EVENTS for e in envelopes):
        return 0
    robots = active(uow) if robots is None else robots
    count = 0
    for envelope in envelopes:
        ticket = domain.ticket_of(envelope)
        for robot in robots:
            if not _matches(robot, envelope, ticket):
                continue
            uow.session.add(_delivery(robot, domain.event_key(envelope), envelope, ticket,
                                      settings, now))
            count += 1
    return count


def _delivery(robot, key, envelope, ticket, settings, now, event_id=None):
    link = f"{settings['public_url']}/#/tickets/{ticket['id']}" if ticket.get("id") else \
        settings["public_url"] + "/"
    context = {"ticket": ticket, "data": envelope.get("data") or {}, "link": link,
               "actor": envelope.get("actor") or {}, "event": envelope}
    title, text = message(key, robot.language, context)
    return Delivery(event_id=event_id or envelope["event_id"], event_type=key,
                    channel="robot", recipient=robot.id, address=mask_url(robot.url),
                    kind="robot", ticket_id=ticket.get("id"), language=robot.language,
                    subject=title, body_text=text, payload=body_for(robot.platform, title, text),
                    status="pending", attempts=0, next_attempt_at=now, created_at=now)


def fill(uow, row, item):
    """`claim_due`: the robot's current URL, secret and platform for the sender; a delivery
    of a deleted or switched-off robot fails instead. Returns False then."""
    robot = uow.session.get(Robot, row.recipient)
    if robot is None or not robot.active:
        row.status, row.last_error = "failed", "robot disabled or deleted"
        return False
    item.update(address=robot.url, secret=robot.secret, platform=robot.platform)
    return True


# ---- the HTTP API's handlers ------------------------------------------------------------------

def _masked(text, url):
    """An error text without the URL's credential: requests names the whole URL, or its path
    and query ("url: /robot/send?access_token=…")."""
    parts, masked = urllib.parse.urlsplit(url), urllib.parse.urlsplit(mask_url(url))
    text = text.replace(url, mask_url(url))
    tail = parts.path + ("?" + parts.query if parts.query else "")
    return text.replace(tail, masked.path + ("?" + masked.query if masked.query else ""))


def mask_url(url):
    """The URL without its credential (WeCom `key`, DingTalk `access_token`, Feishu's hook
    id): enough to recognise it, not to post to it."""
    parts = urllib.parse.urlsplit(url)
    query = "&".join(f"{k}=***" for k, _ in urllib.parse.parse_qsl(parts.query))
    path = re.sub(r"(/hook/)[^/]+$", r"\1***", parts.path)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _out(robot):
    out = schemas.RobotOut().dump(robot)
    out["url"] = mask_url(robot.url)
    out["signed"] = bool(robot.secret)
    return out


def _check(actor, kind, owner_id):
    if not visibility.may_keep_settings_of(actor, kind, owner_id):
        raise exc.ROBOT_FORBIDDEN()


def _robot(uow, actor, robot_id):
    robot = uow.session.get(Robot, robot_id)
    if robot is None or robot.owner_kind == DELETED or \
            not visibility.may_keep_settings_of(actor, robot.owner_kind, robot.owner_id):
        raise exc.ROBOT_NOT_FOUND(id=robot_id)  # another company's: as if there were none
    return robot


def list_robots(actor, uow):
    own = visibility.own_company(actor)
    if own is not None and own[1] is None:
        raise exc.ROBOT_FORBIDDEN()
    with uow:
        stmt = select(Robot).where(Robot.owner_kind != DELETED).order_by(Robot.created_at)
        if own is not None:
            stmt = stmt.where(Robot.owner_kind == own[0], Robot.owner_id == own[1])
        return {"items": [_out(r) for r in uow.session.scalars(stmt)]}


def create_robot(actor, payload, uow, settings):
    data = load(schemas.RobotIn(), payload)
    own = visibility.own_company(actor)
    if own is not None and own[1] is not None:  # a company admin: their own company
        data.setdefault("owner_kind", own[0])
        data.setdefault("owner_id", own[1])
    if not data.get("owner_kind") or not data.get("owner_id"):
        raise exc.ROBOT_OWNER_REQUIRED()
    _check(actor, data["owner_kind"], data["owner_id"])
    _check_url(data["url"], settings)
    now = utcnow()
    with uow:
        robot = Robot(platform=data["platform"], owner_kind=data["owner_kind"],
                      owner_id=data["owner_id"], name=data["name"], url=data["url"],
                      secret=data.get("secret") or None, language=data["language"],
                      event_types=data["event_types"] or list(DEFAULT_EVENTS), active=True,
                      created_by=actor.get("id"), created_at=now, updated_at=now)
        uow.session.add(robot)
        uow.commit()
        return _out(robot)


def get_robot(actor, robot_id, uow):
    with uow:
        return _out(_robot(uow, actor, robot_id))


def update_robot(actor, robot_id, payload, uow, settings):
    data = load(schemas.RobotPatch(), payload)
    if "url" in data:
        _check_url(data["url"], settings)
    with uow:
        robot = _robot(uow, actor, robot_id)
        for name in ("name", "url", "secret", "language", "event_types", "active"):
            if name in data:
                setattr(robot, name, data[name] if name != "secret" else data[name] or None)
        robot.updated_at = utcnow()
        uow.commit()
        return _out(robot)


def delete_robot(actor, robot_id, uow):
    with uow:
        robot = _robot(uow, actor, robot_id)
        uow.session.execute(update(Delivery).where(Delivery.recipient == robot.id,
                                                   Delivery.status == "pending")
                            .values(status="failed", last_error="robot deleted"))
        robot.active = False  # kept (its delivery log names it), never listed again
        robot.owner_kind = DELETED
        uow.commit()
    return None


def try_robot(actor, robot_id, uow, settings):
    """Post a test message now (through the delivery loop: logged and retried like any)."""
    now = utcnow()
    with uow:
        robot = _robot(uow, actor, robot_id)
        event_id = f"robot-test-{robot.id[:8]}-{int(now.timestamp() * 1000)}"
        envelope = {"event_id": event_id, "source": "notify", "type": "robot_test",
                    "data": {"name": robot.name}}
        d = _delivery(robot, "notify.robot_test", envelope, {}, settings, now)
        uow.session.add(d)
        uow.commit()
        return schemas.DeliveryOut().dump(d)


def robot_deliveries(actor, robot_id, query, uow):
    q = load(schemas.DeliveryQuery(), query)
    with uow:
        robot = _robot(uow, actor, robot_id)
        stmt = select(Delivery).where(Delivery.channel == "robot",
                                      Delivery.recipient == robot.id)
        if q.get("status"):
            stmt = stmt.where(Delivery.status == q["status"])
        total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = uow.session.scalars(stmt.order_by(Delivery.created_at.desc(), Delivery.id)
                                   .offset((q["page"] - 1) * q["page_size"])
                                   .limit(q["page_size"])).all()
        page = schemas.DeliveryPage().dump({"items": rows, "total": total, "page": q["page"],
                                            "page_size": q["page_size"]})
        attempts = {}
        if rows:
            for a in uow.session.scalars(select(DeliveryAttempt).where(
                    DeliveryAttempt.delivery_id.in_([r.id for r in rows]))
                    .order_by(DeliveryAttempt.number)):
                attempts.setdefault(a.delivery_id, []).append(schemas.AttemptOut().dump(a))
        for item in page["items"]:
            item["log"] = attempts.get(item["id"], [])
        return page

