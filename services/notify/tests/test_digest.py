"""The company admin's daily digest: when it is due (time zones, DST, the opt-in), what one
event adds, how lines are grouped and counted, and the pass on a real migrated database
(SQLite and PostgreSQL): once per person and day, also when two replicas run it at once."""
import datetime as dt

import eventlet
import pytest
from sqlalchemy import func, select

from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_extension

from gongdan_common.dependencies import UnitOfWorkProvider
from gongdan_common.errors import AppError
from gongdan_common.events import utcnow
from services.notify import daily_digest, digest, planning, preferences, templates
from services.notify.dependencies import SettingTimer
from services.notify.models import Delivery, Digest, DigestItem, Notification, Preference
from services.notify.service import NotifyService
from services.notify.tests.test_handlers import (  # noqa: F401 (fixtures)
    database, settings, uow_factory)

UTC = dt.timezone.utc
SH = "Asia/Shanghai"
BERLIN = "Europe/Berlin"


def at(*args):
    return dt.datetime(*args, tzinfo=UTC)


# ---- when: pure --------------------------------------------------------------------------

def test_the_hour_comes_in_the_persons_own_zone():
    since = at(2026, 11, 21, 10, 0)  # 18:00 in Shanghai on the 21st
    assert digest.due_slot("08:00", SH, since, at(2026, 11, 21, 23, 59)) is None  # 07:59
    day = dt.date(2026, 11, 22)
    assert digest.due_slot("08:00", SH, since, at(2026, 11, 22, 0, 0)) == (
        day, at(2026, 11, 22, 0, 0))
    # all day long (and past local midnight, until the next 08:00) it is the 22nd's digest
    assert digest.due_slot("08:00", SH, since, at(2026, 11, 22, 15, 0))[0] == day
    assert digest.due_slot("08:00", SH, since, at(2026, 11, 22, 16, 30))[0] == day
    assert digest.due_slot("08:00", SH, since, at(2026, 11, 23, 0, 0))[0] == day + \
        dt.timedelta(days=1)
    # the local date, not the UTC one: 07:00 in Shanghai is 23:00 UTC the day before
    assert digest.due_slot("07:00", SH, since, at(2026, 11, 21, 23, 30)) == (
        day, at(2026, 11, 21, 23, 0))
    # the same instant in Berlin is still the evening before: no digest of the 22nd yet
    assert digest.due_slot("07:00", BERLIN, since, at(2026, 11, 21, 23, 30)) is None
    # no opt-in time (never changed since): the latest slot counts
    assert digest.due_slot("08:00", SH, None, at(2026, 11, 22, 3, 0))[0] == day


def test_the_first_digest_comes_at_the_first_time_after_opting_in():
    opted = at(2026, 11, 22, 2, 0)  # 10:00 in Shanghai, after today's 08:00
    assert digest.due_slot("08:00", SH, opted, at(2026, 11, 22, 3, 0)) is None
    assert digest.due_slot("08:00", SH, opted, at(2026, 11, 22, 23, 59)) is None
    assert digest.due_slot("08:00", SH, opted, at(2026, 11, 23, 0, 0))[0] == dt.date(
        2026, 11, 23)
    # opting in before today's time: today's digest
    assert digest.due_slot("18:00", SH, opted, at(2026, 11, 22, 10, 0))[0] == dt.date(
        2026, 11, 22)
    assert digest.next_slot("08:00", SH, opted) == at(2026, 11, 23, 0, 0)
    assert digest.next_slot("18:00", SH, opted) == at(2026, 11, 22, 10, 0)


def test_a_zone_with_daylight_saving_time():
    # Berlin: CET (+1) on 28 March 2026, CEST (+2) from 29 March; back on 25 October
    assert digest.slot_on(dt.date(2026, 3, 28), "08:00", BERLIN) == at(2026, 3, 28, 7, 0)
    assert digest.slot_on(dt.date(2026, 3, 29), "08:00", BERLIN) == at(2026, 3, 29, 6, 0)
    assert digest.slot_on(dt.date(2026, 10, 25), "08:00", BERLIN) == at(2026, 10, 25, 7, 0)
    # 02:30 does not exist on 29 March: read with the winter offset (= 03:30 summer time)
    assert digest.slot_on(dt.date(2026, 3, 29), "02:30", BERLIN) == at(2026, 3, 29, 1, 30)
    # 02:30 happens twice on 25 October: the first time
    assert digest.slot_on(dt.date(2026, 10, 25), "02:30", BERLIN) == at(2026, 10, 25, 0, 30)
    since = at(2026, 3, 28, 12, 0)
    assert digest.due_slot("08:00", BERLIN, since, at(2026, 3, 29, 5, 59)) is None
    assert digest.due_slot("08:00", BERLIN, since, at(2026, 3, 29, 6, 0))[0] == dt.date(
        2026, 3, 29)
    # Shanghai has no DST: 08:00 is 00:00 UTC the whole year
    for month in (1, 3, 7, 10):
        assert digest.slot_on(dt.date(2026, month, 15), "08:00", SH) == at(2026, month, 15)


# ---- what: pure --------------------------------------------------------------------------

TICKET = {"id": "t-1", "number": "TS20261122001", "title": "无法登录", "priority": "P2",
          "company_id": "c-1", "status": "new"}


def event(source, type_, data, event_id="e-1", actor=None, occurred="2026-11-22T01:00:00Z",
          **kw):
    return dict({"event_id": event_id, "source": source, "type": type_, "data": data,
                 "actor": actor or {"id": "u-x", "name": "李雷", "role": "customer"},
                 "occurred_at": occurred}, **kw)


def test_which_events_make_a_line():
    created = digest.item_of(event("intake", "ticket_created", {"ticket": TICKET}))
    assert created["kind"] == "created" and created["company_id"] == "c-1"
    assert created["ticket_number"] == "TS20261122001" and created["ticket_title"] == "无法登录"
    assert created["occurred_at"] == at(2026, 11, 22, 1, 0)
    assert created["detail"] == {"priority": "P2", "by": "李雷"}
    status = digest.item_of(event("intake", "ticket_status_changed", {
        "ticket": TICKET, "from_status": "in_progress", "to_status": "needs_info",
        "reason": "请提供日志", "action": "request_info"}))
    assert status["kind"] == "status" and status["detail"]["to"] == "needs_info"
    reply = digest.item_of(event("intake", "ticket_commented", {
        "ticket": TICKET, "internal": False, "author_role": "engineer", "body": "x" * 100}))
    assert reply["kind"] == "reply" and reply["detail"]["excerpt"] == "x" * 80 + "…"
    note = event("intake", "ticket_commented", {"ticket": TICKET, "internal": True,
                                                "author_role": "engineer", "body": "内部"})
    assert digest.item_of(note) is None  # internal notes never reach a customer
    breach = digest.item_of(event("sla", "sla_breached", {
        "ticket_id": "t-1", "number": "TS20261122001", "company_id": "c-1",
        "target": "response", "priority": "P2"}, ticket_id="t-1"))
    assert breach["kind"] == "sla_breached" and breach["ticket_id"] == "t-1"
    assert breach["ticket_title"] is None
    # not about a customer company's ticket, or not a digest event: nothing
    assert digest.item_of(event("intake", "ticket_created",
                                {"ticket": dict(TICKET, company_id=None)})) is None
    assert digest.item_of(event("intake", "ticket_resolved", {"ticket": TICKET})) is None
    assert digest.item_of(event("kb", "article_published", {"article_id": "a"})) is None


def _item(kind, ticket_id, hour, detail=None, number=None, title=None, day=22):
    return {"kind": kind, "ticket_id": ticket_id, "ticket_number": number or f"N-{ticket_id}",
            "ticket_title": title, "occurred_at": at(2026, 11, day, hour, 0),
            "detail": detail or {}}


def test_lines_are_grouped_by_ticket_and_counted_per_kind():
    items = [_item("reply", "t-2", 3, {"by": "张工", "role": "engineer", "excerpt": "好的"},
                   title="打印失败"),
             _item("created", "t-1", 1, {"priority": "P1", "by": "李雷"}, title="无法登录"),
             _item("status", "t-1", 2, {"from": "new", "to": "assigned"}),
             _item("sla_breached", "t-2", 15, {"target": "resolution"}, day=21),
             _item("reply", "t-2", 5, {"by": "李雷", "role": "customer", "excerpt": "谢谢"})]
    out = digest.compose(items, "en", SH, "http://gd.test", "示例科技", dt.date(2026, 11, 22))
    assert [t["id"] for t in out["tickets"]] == ["t-2", "t-1"]  # first activity first
    t2, t1 = out["tickets"]
    assert t2["title"] == "打印失败" and t2["link"] == "http://gd.test/#/tickets/t-2"
    # another day's line shows its date; times are local (Shanghai, +8)
    assert [(i["time"], i["kind"]) for i in t2["lines"]] == [
        ("11-21 23:00", "sla_breached"), ("11:00", "reply"), ("13:00", "reply")]
    assert t1["lines"][0]["line"] == "created (P1) by 李雷"
    assert t1["lines"][1]["line"] == "status: new → assigned"
    assert {c["kind"]: c["count"] for c in out["counts"]} == {
        "created": 1, "status": 1, "reply": 2, "sla_breached": 1}
    assert out["counts_text"] == ("1 new ticket, 1 status change, 2 replies, 1 SLA breach")
    zh = digest.compose(items, "zh", SH, "http://gd.test", "示例科技", dt.date(2026, 11, 22))
    assert zh["counts_text"] == "新建工单 1，状态变更 1，回复 2，SLA 超时 1"
    assert zh["tickets"][0]["lines"][1]["line"] == "工程师 张工 回复：好的"
    # a limit on lines, not on counts
    short = digest.compose(items, "en", SH, "u", "c", dt.date(2026, 11, 22), limit=2)
    assert short["total"] == 5 and short["more"] == 3
    assert sum(len(t["lines"]) for t in short["tickets"]) == 2
    empty = digest.compose([], "zh", SH, "u", "c", dt.date(2026, 11, 22))
    assert empty["tickets"] == [] and empty["total"] == 0 and empty["counts_text"] == ""


def test_the_shipped_digest_templates_render_both_languages():
    items = [_item("created", "t-1", 1, {"priority": "P2"}, number="TS20261122001",
                   title="无法登录")]
    for language, subject, phrase in (
            ("zh", "示例科技 工单每日摘要 2026-11-22", "新建工单（P2）"),
            ("en", "Daily ticket digest for 示例科技, 2026-11-22", "created (P2)")):
        ctx = {"digest": digest.compose(items, language, SH, "http://gd.test", "示例科技",
                                        dt.date(2026, 11, 22)),
               "recipient": {"name": "王总"}}
        msg = templates.render(templates.default_compiled("digest", language), ctx)
        templates.render_strict("digest", language, ctx)  # no empty value shown (issue 17)
        assert msg["subject"] == subject
        assert "TS20261122001 无法登录" in msg["text"] and phrase in msg["text"]
        assert "http://gd.test/#/tickets/t-1" in msg["text"]
        assert 'href="http://gd.test/#/tickets/t-1"' in msg["html"]


# ---- the pass on a real database -----------------------------------------------------------

CA = {"id": "u-ca", "role": "customer_admin", "name": "王总", "company_id": "c-1"}
OTHER_CA = {"id": "u-cb", "role": "customer_admin", "name": "赵总", "company_id": "c-2"}
PERSON = {"id": "u-ca", "name": "王总", "email": "wang@c1.test", "phone": None,
          "language": "zh", "role": "customer_admin", "company_id": "c-1",
          "company_name": "示例科技"}


def people(*persons):
    by_id = {p["id"]: p for p in persons}
    calls = []

    def lookup(queries):
        calls.append(list(queries))
        return {q: [by_id[q[1]]] if q[0] == "id" and q[1] in by_id else [] for q in queries}
    lookup.calls = calls
    return lookup


def count(uow_factory, model, *where):  # noqa: F811 - the fixture, passed in
    with uow_factory() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def company_events(n=0):
    t2 = dict(TICKET, id="t-2", number="TS20261122002", title="打印失败")
    other = dict(TICKET, id="t-9", number="TS20261122009", title="别家的", company_id="c-2")
    return [
        event("intake", "ticket_created", {"ticket": TICKET}, event_id=f"a{n}"),
        event("intake", "ticket_commented", {"ticket": TICKET, "internal": False,
                                             "author_role": "engineer", "body": "请提供日志"},
              event_id=f"b{n}", actor={"id": "u-e", "name": "张工", "role": "engineer"}),
        event("intake", "ticket_commented", {"ticket": TICKET, "internal": True,
                                             "author_role": "engineer", "body": "内部备注"},
              event_id=f"c{n}"),
        event("intake", "ticket_status_changed", {"ticket": t2, "from_status": "resolved",
                                                  "to_status": "closed", "action": "close"},
              event_id=f"d{n}"),
        event("sla", "sla_warning", {"ticket_id": "t-2", "number": "TS20261122002",
                                     "company_id": "c-1", "target": "response"},
              event_id=f"e{n}", ticket_id="t-2"),
        event("intake", "ticket_created", {"ticket": other}, event_id=f"f{n}"),
    ]


def test_opting_in_is_for_company_admins_and_validated(uow_factory):  # noqa: F811
    uow = uow_factory()
    with pytest.raises(AppError) as refused:
        preferences.put_preferences({"id": "u-c", "role": "customer", "company_id": "c-1"},
                                 {"digest": {"enabled": True}}, uow)
    assert refused.value.code == "digest_not_available"
    assert refused.value.status == 403
    for bad in ({"digest": {"enabled": True, "time": "8am"}},
                {"digest": {"enabled": True, "time": "24:00"}},
                {"digest": {"time": "08:00"}},
                {"digest": {"enabled": True, "hour": 8}},
                {"digest": "daily"}):
        with pytest.raises(AppError) as err:
            preferences.put_preferences(CA, bad, uow)
        assert err.value.code == "validation_failed", bad
        assert "digest" in err.value.payload["details"]["fields"]
    # anyone may say "off"
    assert preferences.put_preferences({"id": "u-c", "role": "customer"}, {"digest": None},
                                    uow)["digest"] == {"enabled": False, "time": None}
    assert preferences.get_preferences(CA, uow)["digest"] == {"enabled": False, "time": None}
    out = preferences.put_preferences(CA, {"digest": {"enabled": True}, "timezone": SH}, uow)
    assert out["digest"]["enabled"] is True and out["digest"]["time"] == "08:00"
    next_at = dt.datetime.fromisoformat(out["digest"]["next_at"].replace("Z", "+00:00"))
    assert next_at.astimezone(digest._zone(SH)).strftime("%H:%M") == "08:00"
    assert dt.timedelta(0) < next_at - utcnow() <= dt.timedelta(days=1)
    assert preferences.get_preferences(CA, uow)["digest"]["next_at"] == out["digest"]["next_at"]
    # the digest time is read in the person's time zone
    moved = preferences.put_preferences(CA, {"timezone": BERLIN}, uow)["digest"]["next_at"]
    moved = dt.datetime.fromisoformat(moved.replace("Z", "+00:00"))
    assert moved.astimezone(digest._zone(BERLIN)).strftime("%H:%M") == "08:00"


def test_a_day_of_events_becomes_one_digest_once(uow_factory, settings):  # noqa: F811
    uow = uow_factory()
    # the digest hour 12 h from now: opting in never straddles it, whatever the clock says
    hour = (utcnow() + dt.timedelta(hours=20)).hour  # UTC+8 plus 12 h
    when = f"{hour:02d}:00"
    preferences.put_preferences(CA, {"digest": {"enabled": True, "time": when},
                                  "timezone": SH}, uow)
    preferences.put_preferences(OTHER_CA, {"digest": {"enabled": True}}, uow)
    directory = people(PERSON)
    for envelope in company_events():
        planning.ingest(envelope, uow_factory(), directory, settings)
    planning.ingest(company_events()[0], uow_factory(), directory, settings)  # redelivered
    # 4 lines for the c-1 admin (no internal note), 1 for the c-2 admin
    assert count(uow_factory, DigestItem, DigestItem.recipient == "u-ca") == 4
    assert count(uow_factory, DigestItem, DigestItem.recipient == "u-cb") == 1

    opted = utcnow()
    # the hour has not come yet: nothing due (the next 08:00 after opting in is ahead)
    early = daily_digest.run_digests(uow, directory, settings, now=opted)
    assert early["due"] == 0 and count(uow_factory, Digest) == 0
    now = opted + dt.timedelta(days=1)
    day = digest.due_slot(when, SH, opted, now)[0]
    got = daily_digest.run_digests(uow, people(PERSON), settings, now=now)
    # the c-2 admin is not an admin any more (the directory does not know them)
    assert (got["due"], got["sent"], got["skipped"]) == (2, 1, 1)
    with uow_factory() as u:
        mail = u.session.scalars(select(Delivery).where(Delivery.kind == "digest")).one()
        assert mail.address == "wang@c1.test" and mail.language == "zh"
        assert mail.event_id == f"digest:u-ca:{day.isoformat()}"
        assert mail.subject == f"示例科技 工单每日摘要 {day.isoformat()}"
        assert mail.status == "pending"  # sent by the delivery loop, in real time
        text = mail.body_text
        assert "TS20261122001 无法登录" in text and "TS20261122002 打印失败" in text
        assert "工程师 张工 回复：请提供日志" in text and "已处理待确认 → 已关闭" in text
        assert "SLA 预警：响应时限即将到期" in text
        assert "新建工单 1，状态变更 1，回复 1，SLA 预警 1" in text
        assert "内部备注" not in text and "TS20261122009" not in text
        assert "http://gd.test/#/tickets/t-1" in text
        inbox = u.session.scalars(select(Notification).where(
            Notification.kind == "digest")).one()
        assert inbox.user_id == "u-ca" and inbox.title == mail.subject
        rows = {d.recipient: d for d in u.session.scalars(select(Digest))}
        assert rows["u-ca"].status == "sent" and rows["u-ca"].items == 4
        assert rows["u-ca"].delivery_id == mail.id and rows["u-cb"].status == "skipped"
        assert u.session.get(Preference, "u-cb").digest_enabled is False
    assert count(uow_factory, DigestItem, DigestItem.digest_id.is_(None)) == 0

    # run again, now or a bit later the same day: nothing twice
    for later in (now, now + dt.timedelta(minutes=5)):
        again = daily_digest.run_digests(uow, people(PERSON), settings, now=later)
        assert again["sent"] == 0
    assert count(uow_factory, Delivery, Delivery.kind == "digest") == 1
    # the next day with nothing new: nothing is sent, the day is done
    quiet = daily_digest.run_digests(uow, people(PERSON), settings,
                                 now=now + dt.timedelta(days=1))
    assert (quiet["due"], quiet["empty"], quiet["sent"]) == (1, 1, 0)
    assert count(uow_factory, Delivery, Delivery.kind == "digest") == 1
    assert count(uow_factory, Notification, Notification.kind == "digest") == 1


def test_two_replicas_at_once_make_one_digest(uow_factory, settings):  # noqa: F811
    uow = uow_factory()
    preferences.put_preferences(CA, {"digest": {"enabled": True}}, uow)
    planning.ingest(company_events()[0], uow_factory(), people(PERSON), settings)
    now = utcnow() + dt.timedelta(days=1)

    def slow_directory(queries):  # both passes pick the admin before either claims
        eventlet.sleep(0.2)
        return people(PERSON)(queries)
    passes = [eventlet.spawn(daily_digest.run_digests, uow_factory(), slow_directory, settings,
                             now) for _ in range(2)]
    results = [p.wait() for p in passes]
    assert sorted((r["due"], r["sent"], r["taken"]) for r in results) == [(1, 0, 1),
                                                                          (1, 1, 0)]
    assert count(uow_factory, Delivery, Delivery.kind == "digest") == 1
    assert count(uow_factory, Notification, Notification.kind == "digest") == 1


def test_opting_out_drops_lines_and_channels_narrow_it(uow_factory, settings):  # noqa: F811
    uow = uow_factory()
    preferences.put_preferences(CA, {"digest": {"enabled": True}}, uow)
    planning.ingest(company_events(1)[0], uow_factory(), people(PERSON), settings)
    preferences.put_preferences(CA, {"digest": None}, uow)
    assert count(uow_factory, DigestItem) == 0
    planning.ingest(company_events(2)[0], uow_factory(), people(PERSON), settings)
    assert count(uow_factory, DigestItem) == 0  # off: nothing is collected
    # on again, inbox only; the admin moved to company c-3 meanwhile: nothing of c-1 goes
    preferences.put_preferences(CA, {"digest": {"enabled": True, "time": "07:30"},
                                  "channels": {"digest": ["inbox"]}}, uow)
    planning.ingest(company_events(3)[0], uow_factory(), people(PERSON), settings)
    now = utcnow() + dt.timedelta(days=1)
    moved = dict(PERSON, company_id="c-3", company_name="新公司")
    got = daily_digest.run_digests(uow, people(moved), settings, now=now)
    assert got["skipped"] == 1 and count(uow_factory, Notification) == 0
    with uow_factory() as u:
        p = u.session.get(Preference, "u-ca")
        assert p.digest_enabled is True and p.digest_company_id == "c-3"
    planning.ingest(company_events(4)[0], uow_factory(), people(PERSON), settings)
    assert count(uow_factory, DigestItem, DigestItem.digest_id.is_(None)) == 0
    planning.ingest(event("intake", "ticket_created",
                          {"ticket": dict(TICKET, id="t-3", company_id="c-3")},
                          event_id="g"), uow_factory(), people(PERSON), settings)
    got = daily_digest.run_digests(uow, people(moved), settings, now=now + dt.timedelta(days=1))
    assert got["sent"] == 1
    assert count(uow_factory, Delivery, Delivery.kind == "digest") == 0  # inbox only
    with uow_factory() as u:
        n = u.session.scalars(select(Notification)).one()
        assert n.title.startswith("新公司 工单每日摘要") and "t-3" in n.body


def test_running_the_pass_by_hand_is_for_admins(uow_factory, settings):  # noqa: F811
    uow = uow_factory()
    with pytest.raises(AppError) as err:
        daily_digest.run_digests_by_hand(CA, {}, uow, people(), settings)
    assert err.value.status == 403
    admin = {"id": "u-admin", "role": "admin"}
    for bad in ({"now": "yesterday"}, {"when": "2026-11-22T00:00:00Z"}):
        with pytest.raises(AppError) as err:
            daily_digest.run_digests_by_hand(admin, bad, uow, people(), settings)
        assert err.value.code == "validation_failed"
    out = daily_digest.run_digests_by_hand(admin, {"now": "2026-11-22T08:00:00+08:00"}, uow,
                                       people(), settings)
    assert out == {"now": "2026-11-22T00:00:00Z", "due": 0, "sent": 0, "empty": 0,
                   "skipped": 0, "taken": 0}


@pytest.mark.parametrize("interval", [0.05, 0])
def test_the_pass_runs_on_the_configured_timer(container_factory, rabbit_config,
                                              service_database, interval):
    url = service_database("notify", migrated=True)
    container = container_factory(NotifyService, {
        "AMQP_URI": rabbit_config["AMQP_URI"], "DATABASES": {"notify": url},
        "NOTIFY": {"deliver": False, "digest": {"interval_seconds": interval}}})
    container.start()
    try:
        timer = get_extension(container, SettingTimer)
        assert timer.interval == interval
        if interval:
            with entrypoint_waiter(container, "digest_tick", timeout=5) as tick:
                pass
            assert tick.get()["due"] == 0  # it fired: a pass over an empty database
        else:
            assert timer.gt is None  # 0: never started; the endpoint is the only way
    finally:
        container.stop()
        get_extension(container, UnitOfWorkProvider).database.dispose()
