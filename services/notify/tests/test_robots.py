"""IM group robots: who keeps them, what they hear, and what they post - on a real migrated
database (SQLite and PostgreSQL) and, for sending, to a local HTTP receiver that verifies
each platform's signature and message shape (robot_receiver.py, written from the platforms'
documents, not with the sender's code)."""
import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from gongdan_common.errors import AppError
from services.notify import common, delivery, planning, robots
from services.notify.models import Delivery
from services.notify.tests.robot_receiver import RobotReceiver
from services.notify.tests.test_handlers import database, uow_factory  # noqa: F401 - fixtures

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
ADMIN = {"id": "u-admin", "role": "admin", "name": "Admin"}
ACME_ADMIN = {"id": "u-acme", "role": "customer_admin", "company_id": "c-acme"}
OTHER_ADMIN = {"id": "u-other", "role": "customer_admin", "company_id": "c-other"}
CUSTOMER = {"id": "u-cust", "role": "customer", "company_id": "c-acme"}
PROVIDER_ADMIN = {"id": "u-prov", "role": "provider_admin", "provider_id": "p-1"}


@pytest.fixture
def settings():
    return common.settings_from_config({"NOTIFY": {
        "public_url": "http://gd.test", "retry": {"backoff_base_seconds": 10},
        "webhooks": {"allow_networks": "127.0.0.1/32"}}})


@pytest.fixture
def receiver():
    srv = RobotReceiver().start()
    yield srv
    srv.shutdown()


def ticket_event(type_="ticket_created", company="c-acme", provider=None, **data):
    ticket = {"id": "t-1", "number": "TS20261122001", "title": "打印机卡纸", "priority": "P2",
              "company_id": company, "provider_id": provider, "status": "new"}
    return {"event_id": str(uuid.uuid4()), "source": "intake", "type": type_, "version": 1,
            "ticket_id": "t-1", "ticket_number": "TS20261122001",
            "actor": {"id": "u-cust", "role": "customer", "name": "张三"},
            "data": dict(data, ticket=ticket)}


def no_people(queries):
    return {q: [] for q in queries}


def test_who_keeps_robots(uow_factory, settings):
    url = "http://127.0.0.1:9/wecom/send?key=k-1"
    mine = robots.create_robot(ACME_ADMIN, {"platform": "wecom", "name": "群", "url": url},
                               uow_factory(), settings)
    assert (mine["owner_kind"], mine["owner_id"]) == ("customer", "c-acme")
    assert mine["url"] == "http://127.0.0.1:9/wecom/send?key=***"  # the key is not shown
    assert mine["event_types"] == list(robots.DEFAULT_EVENTS)
    # another company's admin cannot see it, nor name the first company as owner
    with pytest.raises(AppError) as err:
        robots.get_robot(OTHER_ADMIN, mine["id"], uow_factory())
    assert err.value.status == 404
    assert robots.list_robots(OTHER_ADMIN, uow_factory()) == {"items": []}
    with pytest.raises(AppError) as err:
        robots.create_robot(OTHER_ADMIN, {"platform": "wecom", "name": "x", "url": url,
                                          "owner_kind": "customer", "owner_id": "c-acme"},
                            uow_factory(), settings)
    assert err.value.status == 403 and "企业管理员" in err.value.message("zh")
    for who in (CUSTOMER, {"id": "svc:x", "role": "system"}):
        with pytest.raises(AppError) as err:
            robots.list_robots(who, uow_factory())
        assert err.value.status == 403
    # an admin names the company; a provider's admin keeps their provider's
    with pytest.raises(AppError) as err:
        robots.create_robot(ADMIN, {"platform": "feishu", "name": "x", "url": url},
                            uow_factory(), settings)
    assert err.value.status == 400
    theirs = robots.create_robot(PROVIDER_ADMIN, {"platform": "dingtalk", "name": "服务商群",
                                                  "url": url, "secret": "SEC-1"},
                                 uow_factory(), settings)
    assert theirs["owner_kind"] == "provider" and theirs["signed"] is True
    assert "secret" not in theirs
    assert {r["id"] for r in robots.list_robots(ADMIN, uow_factory())["items"]} == \
        {mine["id"], theirs["id"]}
    # bad input: a private address (outside the allowed networks), an unknown platform
    with pytest.raises(AppError) as err:
        robots.create_robot(ACME_ADMIN, {"platform": "wecom", "name": "x",
                                         "url": "http://10.0.0.1/x"}, uow_factory(), settings)
    assert err.value.code == "webhook_url_refused"
    with pytest.raises(AppError) as err:
        robots.create_robot(ACME_ADMIN, {"platform": "slack", "name": "x", "url": url},
                            uow_factory(), settings)
    assert "platform" in err.value.details["fields"]
    robots.delete_robot(ACME_ADMIN, mine["id"], uow_factory())
    assert [r["id"] for r in robots.list_robots(ADMIN, uow_factory())["items"]] == \
        [theirs["id"]]


def test_a_company_robot_hears_its_own_tickets_only(uow_factory, settings):
    url = "http://127.0.0.1:9/feishu/hook/abc"
    acme = robots.create_robot(ACME_ADMIN, {
        "platform": "feishu", "name": "acme", "url": url, "secret": "s", "language": "en",
        "event_types": ["intake.ticket_created", "intake.ticket_commented"]},
        uow_factory(), settings)
    robots.create_robot(OTHER_ADMIN, {"platform": "feishu", "name": "other", "url": url},
                        uow_factory(), settings)
    events = [ticket_event(), ticket_event("ticket_commented", body="请重启", internal=False),
              ticket_event("ticket_commented", body="内部：客户很急", internal=True),
              ticket_event("ticket_status_changed", from_status="new", to_status="assigned")]
    counts = planning.ingest_many(events, uow_factory(), no_people, settings, NOW)
    assert counts["robot"] == 2  # created + the public reply; not the note, not unsubscribed
    with uow_factory() as uow:
        rows = uow.session.scalars(select(Delivery).where(Delivery.channel == "robot")
                                   .order_by(Delivery.event_type)).all()
        assert {r.recipient for r in rows} == {acme["id"]}
        texts = {r.event_type: r.payload["content"]["text"] for r in rows}
    assert set(texts) == {"intake.ticket_created", "intake.ticket_commented"}
    assert texts["intake.ticket_created"].startswith("New ticket TS20261122001 (P2): 打印机卡纸")
    assert "http://gd.test/#/tickets/t-1" in texts["intake.ticket_created"]
    assert "张三 replied on ticket TS20261122001: 请重启" in texts["intake.ticket_commented"]
    assert not any("内部" in t for t in texts.values())
    # a redelivered batch plans nothing twice
    assert planning.ingest_many(events, uow_factory(), no_people, settings, NOW)["robot"] == 0


def test_robots_are_read_with_the_rules_not_per_batch(database, settings, monkeypatch):
    """Planning takes the active robots from the configuration the service keeps (re-read
    at most once a second), not from a SELECT per batch: a robot made after that read is
    planned once the configuration is read again, and the service's robot changes make
    this process read it again at once."""
    from sqlalchemy import event
    from nameko.testing.services import worker_factory
    from services.notify.service import NotifyService

    uow_factory = database.unit_of_work
    url = "http://127.0.0.1:9/feishu/hook/abc"
    robots.create_robot(ACME_ADMIN, {"platform": "feishu", "name": "acme", "url": url,
                                     "secret": "s"}, uow_factory(), settings)
    config = planning.configuration(uow_factory())
    later = robots.create_robot(ACME_ADMIN, {"platform": "wecom", "name": "later",
                                             "url": "http://127.0.0.1:9/wecom/send?key=k"},
                                uow_factory(), settings)
    statements = []

    def seen(_conn, _cursor, statement, *_):
        statements.append(" ".join(statement.split()).upper())

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        counts = planning.ingest_many([ticket_event()], uow_factory(), no_people, settings,
                                      NOW, config)
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    assert counts["robot"] == 1 and not [s for s in statements if "FROM ROBOTS" in s]
    fresh = planning.configuration(uow_factory())
    assert planning.ingest_many([ticket_event()], uow_factory(), no_people, settings, NOW,
                                fresh)["robot"] == 2
    with uow_factory() as uow:
        assert later["id"] in set(uow.session.scalars(select(Delivery.recipient).where(
            Delivery.channel == "robot")))

    service = worker_factory(NotifyService)
    for name, args in (("create_robot", (ACME_ADMIN, {})), ("update_robot", (ACME_ADMIN, "r", {})),
                       ("delete_robot", (ACME_ADMIN, "r"))):
        monkeypatch.setattr(robots, name, lambda *a: {"id": "r"})
        service.directory.forget_configuration.reset_mock()
        getattr(service, name)(*args)
        assert service.directory.forget_configuration.called, name


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_each_platform_signed_and_shaped_as_documented(platform, receiver):
    path = {"wecom": "/wecom/send", "dingtalk": "/dingtalk/send",
            "feishu": "/feishu/hook/h-1"}[platform]
    query = {"wecom": "?key=wk-1", "dingtalk": "?access_token=at-1", "feishu": ""}[platform]
    receiver.keys[path], receiver.secrets[path] = "wk-1", "SECret+/=1"
    title, text = robots.message("intake.ticket_created", "both", {
        "ticket": {"number": "TS1", "title": "标题 & <b>", "priority": "P1"}, "link": "L"})
    assert title.startswith("新工单 TS1（P1）：标题 & <b> / New ticket TS1 (P1)")
    delivery = {"address": receiver.base() + path + query, "platform": platform,
                "secret": None if platform == "wecom" else "SECret+/=1",
                "payload": robots.body_for(platform, title, text)}
    sender = robots.RobotSender(allow_networks=["127.0.0.1/32"], timeout=5)
    outcome = sender.send(delivery)
    [call] = receiver.calls_to(path)
    assert call["ok"], call["problem"]
    assert outcome.ok and outcome.status_code == 200
    # a wrong secret (or key): the platform answers 200 with an error code; not a success
    wrong = dict(delivery, secret="other") if platform != "wecom" else \
        dict(delivery, address=receiver.base() + path + "?key=stolen")
    bad = sender.send(wrong)
    assert not bad.ok and bad.error == "platform code 310000" and bad.retryable


def test_failure_retry_then_delivered_with_the_log(uow_factory, settings, receiver):
    path = "/dingtalk/send"
    receiver.secrets[path] = "SEC-abc"
    receiver.fail[path] = 1  # the first attempt gets a 500
    robot = robots.create_robot(ACME_ADMIN, {
        "platform": "dingtalk", "name": "钉钉群", "url": receiver.base() + path +
        "?access_token=tok", "secret": "SEC-abc", "language": "zh"}, uow_factory(), settings)
    planning.ingest(ticket_event(), uow_factory(), no_people, settings, NOW)
    sender = robots.RobotSender(settings["allow_networks"], 5)
    [item] = delivery.claim_due(uow_factory(), settings, now=NOW)
    assert item["channel"] == "robot" and item["secret"] == "SEC-abc"
    assert item["address"].endswith("access_token=tok")  # the real URL, for the sender only
    first = sender.send(item)
    assert not first.ok and first.status_code == 500
    assert delivery.record_outcome(uow_factory(), item["id"], first, settings, 5, NOW) == \
        "pending"
    later = NOW + dt.timedelta(seconds=10)  # the backoff
    [again] = delivery.claim_due(uow_factory(), settings, now=later)
    assert delivery.record_outcome(uow_factory(), again["id"], sender.send(again), settings,
                                   5, later) == "sent"
    page = robots.robot_deliveries(ACME_ADMIN, robot["id"], {}, uow_factory())
    [d] = page["items"]
    assert d["status"] == "sent" and d["attempts"] == 2
    assert d["address"].endswith("access_token=***")  # the log does not keep the token
    assert [(a["ok"], a["status_code"]) for a in d["log"]] == [(False, 500), (True, 200)]
    assert [c["ok"] for c in receiver.calls_to(path)] == [True, True]
    assert receiver.calls_to(path)[1]["body"]["markdown"]["title"].startswith("新工单")
    # the test button: one more delivery through the same loop
    test = robots.try_robot(ACME_ADMIN, robot["id"], uow_factory(), settings)
    assert test["channel"] == "robot" and test["status"] == "pending"
    with pytest.raises(AppError):
        robots.robot_deliveries(OTHER_ADMIN, robot["id"], {}, uow_factory())


def test_switched_off_robot_fails_its_pending_messages(uow_factory, settings):
    robot = robots.create_robot(ACME_ADMIN, {"platform": "wecom", "name": "x",
                                             "url": "http://127.0.0.1:9/wecom/send?key=k"},
                                uow_factory(), settings)
    planning.ingest(ticket_event(), uow_factory(), no_people, settings, NOW)
    robots.update_robot(ACME_ADMIN, robot["id"], {"active": False}, uow_factory(), settings)
    assert delivery.claim_due(uow_factory(), settings, now=NOW) == []
    [d] = robots.robot_deliveries(ADMIN, robot["id"], {}, uow_factory())["items"]
    assert d["status"] == "failed" and d["last_error"] == "robot disabled or deleted"
    with pytest.raises(AppError) as err:  # the platform is fixed once created
        robots.update_robot(ACME_ADMIN, robot["id"], {"platform": "feishu"}, uow_factory(),
                            settings)
    assert err.value.status == 400


def test_masking():
    assert robots.mask_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc") == \
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"
    assert robots.mask_url("https://open.feishu.cn/open-apis/bot/v2/hook/1234-abcd") == \
        "https://open.feishu.cn/open-apis/bot/v2/hook/***"


def test_an_unreachable_robot_fails_retryably_without_showing_its_key():
    """A connection error names the URL; the log keeps it masked (the key posts as the bot)."""
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    delivery = {"platform": "dingtalk", "address": f"http://127.0.0.1:{port}/robot/send"
                "?access_token=SECRETTOKEN", "secret": "SEC-abc",
                "payload": robots.body_for("dingtalk", "t", "x")}
    outcome = robots.RobotSender(allow_networks=["127.0.0.1/32"], timeout=2).send(delivery)
    assert not outcome.ok and outcome.error.startswith("ConnectionError")
    assert "SECRETTOKEN" not in outcome.error and "access_token=***" in outcome.error
