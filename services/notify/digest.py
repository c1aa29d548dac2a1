"""The customer company admin's daily digest: the pure parts, no nameko, no sqlalchemy.

- `item_of(envelope)`: what one event adds to a digest (a compact, structured line), or
  None when the digest ignores it. Only events about a ticket of a customer company count:
  ticket created, status changed, public reply, SLA warning and breach. Internal notes never.
- `due_slot(at, timezone, since, now)`: the digest a person is due, if any: the latest local
  "HH:MM" at or before `now`, on condition it comes after `since` (when they opted in or
  last changed the setting), so the first digest comes at the first digest time after the
  opt-in and never "for yesterday".
- `compose(items, language, ...)`: the template context: lines grouped by ticket (ticket
  number, title, link), counts per kind, in the reader's language.
"""
import datetime as dt
import zoneinfo

DEFAULT_TIME = "08:00"
DEFAULT_TIMEZONE = "Asia/Shanghai"
KINDS = ("created", "status", "reply", "sla_warning", "sla_breached")
EXCERPT = 80  # characters of a reply in its line

LABELS = {  # kind -> zh, en (one), en (many)
    "created": ("新建工单", "new ticket", "new tickets"),
    "status": ("状态变更", "status change", "status changes"),
    "reply": ("回复", "reply", "replies"),
    "sla_warning": ("SLA 预警", "SLA warning", "SLA warnings"),
    "sla_breached": ("SLA 超时", "SLA breach", "SLA breaches"),
}
STATUS = {
    "new": ("新建", "new"), "assigned": ("已指派", "assigned"),
    "in_progress": ("处理中", "in progress"), "needs_info": ("待补充信息", "needs information"),
    "suspended": ("已挂起", "suspended"), "resolved": ("已处理待确认", "resolved"),
    "closed": ("已关闭", "closed"), "cancelled": ("已取消", "cancelled"),
}
TARGETS = {"completeness": ("完整性", "completeness"), "response": ("响应", "response"),
           "resolution": ("解决", "resolution"), "update": ("更新", "update")}
ROLES = {"customer": ("客户", "customer"), "customer_admin": ("企业管理员", "company admin"),
         "agent": ("技术支持", "support"), "engineer": ("工程师", "engineer"),
         "provider_admin": ("服务商", "provider"), "admin": ("管理员", "admin")}


def _parse_time(text):
    if isinstance(text, dt.datetime):
        return text
    return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def item_of(envelope):
    """The digest line an event makes, as data (rendered later in the reader's language):
    {kind, company_id, ticket_id, ticket_number, ticket_title, occurred_at, detail};
    None when the digest ignores the event."""
    source, type_ = envelope.get("source"), envelope.get("type")
    data = envelope.get("data") or {}
    ticket = data.get("ticket") or {}
    actor = envelope.get("actor") or {}
    if source == "intake" and type_ == "ticket_created":
        kind, detail = "created", {"priority": ticket.get("priority"),
                                   "by": actor.get("name")}
    elif source == "intake" and type_ == "ticket_status_changed":
        kind, detail = "status", {"from": data.get("from_status"), "to": data.get("to_status"),
                                  "by": actor.get("name"), "reason": data.get("reason")}
    elif source == "intake" and type_ == "ticket_commented":
        if data.get("internal") is not False:  # internal notes (or unknown) never
            return None
        body = " ".join((data.get("body") or "").split())
        kind, detail = "reply", {"by": actor.get("name"), "role": data.get("author_role"),
                                 "excerpt": body[:EXCERPT] + ("…" if len(body) > EXCERPT else "")}
    elif source == "sla" and type_ in ("sla_warning", "sla_breached"):
        kind, detail = type_, {"target": data.get("target"), "priority": data.get("priority")}
    else:
        return None
    company_id = ticket.get("company_id") or data.get("company_id")
    ticket_id = ticket.get("id") or envelope.get("ticket_id") or data.get("ticket_id")
    if not company_id or not ticket_id:
        return None
    return {"kind": kind, "company_id": company_id, "ticket_id": ticket_id,
            "ticket_number": ticket.get("number") or envelope.get("ticket_number")
            or data.get("number"),
            "ticket_title": ticket.get("title"),
            "occurred_at": _parse_time(envelope["occurred_at"]) if envelope.get("occurred_at")
            else None,
            "detail": {k: v for k, v in detail.items() if v is not None}}


# ---- when ---------------------------------------------------------------------------------

def _zone(name):
    return zoneinfo.ZoneInfo(name or DEFAULT_TIMEZONE)


def slot_on(day, at, timezone):
    """The UTC instant of local `at` ("HH:MM") on `day` in `timezone`. A local time that a
    DST change skips is read with the offset before the change (02:30 on a spring-forward
    night is 03:30 summer time); one that happens twice is its first occurrence."""
    h, m = (int(p) for p in at.split(":"))
    local = dt.datetime.combine(day, dt.time(h, m), tzinfo=_zone(timezone))
    return local.astimezone(dt.timezone.utc)


def due_slot(at, timezone, since, now):
    """(local date, UTC instant) of the digest due at `now`: the latest local `at` at or
    before `now`, if it comes after `since`; else None ("the hour has not come")."""
    today = now.astimezone(_zone(timezone)).date()
    for day in (today, today - dt.timedelta(days=1)):
        slot = slot_on(day, at, timezone)
        if slot <= now:
            break
    else:  # pragma: no cover - yesterday's slot is always before now
        return None
    if since is not None and slot <= _aware(since):
        return None
    return day, slot


def next_slot(at, timezone, after):
    """The first digest time strictly after `after` (shown to the person)."""
    day = after.astimezone(_zone(timezone)).date()
    for offset in range(3):
        slot = slot_on(day + dt.timedelta(days=offset), at, timezone)
        if slot > after:
            return slot
    return None  # pragma: no cover


def _aware(value):
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


# ---- what ---------------------------------------------------------------------------------

def line(item, language):
    """One compact line for one item, in `language`."""
    zh = language == "zh"
    d = item.get("detail") or {}
    kind = item["kind"]
    if kind == "created":
        by = d.get("by") or ""
        if zh:
            return f"新建工单（{d.get('priority') or '-'}）" + (f"，提交人 {by}" if by else "")
        return f"created ({d.get('priority') or '-'})" + (f" by {by}" if by else "")
    if kind == "status":
        to = STATUS.get(d.get("to"), (d.get("to"), d.get("to")))[0 if zh else 1]
        frm = STATUS.get(d.get("from"), (d.get("from"), d.get("from")))[0 if zh else 1]
        by = d.get("by")
        reason = d.get("reason")
        if zh:
            return (f"状态：{frm} → {to}" + (f"（{by}）" if by else "")
                    + (f"：{reason}" if reason else ""))
        return (f"status: {frm} → {to}" + (f" by {by}" if by else "")
                + (f": {reason}" if reason else ""))
    if kind == "reply":
        role = ROLES.get(d.get("role"), (d.get("role"), d.get("role")))[0 if zh else 1]
        who = " ".join(p for p in (role, d.get("by")) if p)
        if zh:
            return f"{who} 回复：{d.get('excerpt') or ''}"
        return f"reply from {who}: {d.get('excerpt') or ''}"
    target = TARGETS.get(d.get("target"), (d.get("target"), d.get("target")))[0 if zh else 1]
    if kind == "sla_warning":
        return f"SLA 预警：{target}时限即将到期" if zh else f"SLA warning: {target} target nearly used"
    return f"SLA 超时：{target}时限已超过" if zh else f"SLA breached: {target} target exceeded"


def compose(items, language, timezone, public_url, company, day, limit=200):
    """The `digest` template context: items (dicts as `item_of` makes them) grouped by
    ticket in order of first activity, each ticket's `lines` in time order, counts per kind
    (of all items, even past `limit` lines; `more` says how many were left out)."""
    tz = _zone(timezone)
    order = sorted(items, key=lambda i: (_aware(i["occurred_at"]), i.get("seq") or 0))
    counts = {k: 0 for k in KINDS}
    tickets, shown = {}, 0
    for item in order:
        counts[item["kind"]] = counts.get(item["kind"], 0) + 1
        group = tickets.get(item["ticket_id"])
        if group is None:
            group = tickets[item["ticket_id"]] = {
                "id": item["ticket_id"], "number": item.get("ticket_number") or "",
                "title": item.get("ticket_title") or "", "lines": [],
                "link": f"{public_url}/#/tickets/{item['ticket_id']}"}
        group["number"] = group["number"] or item.get("ticket_number") or ""
        group["title"] = group["title"] or item.get("ticket_title") or ""
        if shown < limit:
            at = _aware(item["occurred_at"]).astimezone(tz)
            # the digest may span days (since the last one): other days show their date
            shown_at = at.strftime("%H:%M" if at.date() == day else "%m-%d %H:%M")
            group["lines"].append({"kind": item["kind"], "time": shown_at,
                                   "date": at.date().isoformat(),
                                   "line": line(item, language)})
            shown += 1
    zh = language == "zh"
    count_list = [{"kind": k, "count": n,
                   "label": LABELS[k][0] if zh else LABELS[k][1 if n == 1 else 2]}
                  for k, n in counts.items() if n]
    counts_text = ("，" if zh else ", ").join(
        f"{c['label']} {c['count']}" if zh else f"{c['count']} {c['label']}"
        for c in count_list)
    return {"company": company or "", "date": day.isoformat(), "total": len(order),
            "more": len(order) - shown, "counts": count_list, "counts_text": counts_text,
            "tickets": [g for g in tickets.values() if g["lines"]],
            "ticket_count": len(tickets), "link": f"{public_url}/#/tickets"}
