"""Notify's service layer on a real migrated database (SQLite and PostgreSQL) with a fake
directory and fake senders: planning is idempotent, the retry schedule is durable, a
webhook is disabled after a run of failures, quiet hours delay email but not the inbox."""
import datetime as dt

import pytest
from sqlalchemy import event, func, select

from gongdan_common.db import Database
from gongdan_common.errors import AppError
from services.notify import (common, delivery, domain, inbox, planning, preferences,
                             templates, webhooks)
from services.notify.channels import Outcome
from services.notify.models import (Delivery, DeliveryAttempt, Notification, Webhook,
                                    metadata)

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
ADMIN = {"id": "u-admin", "role": "admin", "name": "Admin"}
SYSTEM = {"id": "svc:crm", "role": "system", "name": "crm"}
PEOPLE = {
    "u-e": {"id": "u-e", "name": "Eve", "email": "eve@x.test", "phone": "13900000001",
            "language": "en", "role": "engineer"},
    "u-c": {"id": "u-c", "name": "张三", "email": "zs@x.test", "phone": None,
            "language": "zh", "role": "customer"},
}


@pytest.fixture
def database(service_database):
    db = Database(service_database("notify", migrated=True), metadata)
    yield db
    db.dispose()


@pytest.fixture
def uow_factory(database):
    return database.unit_of_work


@pytest.fixture
def settings():
    s = common.settings_from_config({"NOTIFY": {"public_url": "http://gd.test",
                                                  "retry": {"backoff_base_seconds": 10,
                                                            "max_attempts": 3},
                                                  "webhooks": {"disable_after_failures": 3,
                                                               "max_attempts": 2}}})
    return s


def directory(queries):
    out = {}
    for q in queries:
        out[q] = [PEOPLE[q[1]]] if q[0] == "id" and q[1] in PEOPLE else []
    return out


def assigned(event_id="11111111-1111-1111-1111-111111111111", priority=None):
    data = {"engineer_id": "u-e", "ticket_id": "t-1", "ticket_number": "TS20261122001",
            "provider_id": "p-1", "reason": None}
    if priority:
        data["priority"] = priority
    return {"event_id": event_id, "source": "dispatch", "type": "ticket_assigned",
            "version": 1, "ticket_id": "t-1", "ticket_number": "TS20261122001",
            "actor": {"id": "u-agent", "role": "agent"}, "data": data}


def count(uow_factory, model, *where):
    with uow_factory() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def test_planning_is_idempotent_and_in_the_recipients_language(uow_factory, settings):
    counts = planning.ingest(assigned(), uow_factory(), directory, settings, NOW)
    assert counts == {"inbox": 1, "email": 1, "sms": 0, "webhook": 0, "robot": 0}
    again = planning.ingest(assigned(), uow_factory(), directory, settings, NOW)
    assert again == {"inbox": 0, "email": 0, "sms": 0, "webhook": 0, "robot": 0}
    assert count(uow_factory, Notification) == 1 and count(uow_factory, Delivery) == 1
    with uow_factory() as uow:
        d = uow.session.scalars(select(Delivery)).one()
        assert d.subject == "[TS20261122001] Ticket assigned to you:"
        assert "http://gd.test/#/tickets/t-1" in d.body_text and d.language == "en"
        assert d.address == "eve@x.test" and d.status == "pending"
        n = uow.session.scalars(select(Notification)).one()
        outbox = uow.session.execute(select(metadata.tables["outbox"].c.type)).scalars().all()
    assert n.user_id == "u-e" and outbox == ["notification_created"]


def test_a_batch_is_written_with_one_insert_per_table(database, settings):
    """A batch's inbox rows and deliveries are written as rows, one INSERT per table (a
    webhook's, which carries the event, in one of its own), with every column the ORM
    wrote: the inbox row's link, priority and number, its event naming it; an email's
    payload SQL NULL (not JSON null); the handed-over mail as the senders read it."""
    uow_factory = database.unit_of_work
    settings = dict(settings, allow_networks=["127.0.0.1/32"])
    hook = webhooks.create_webhook(SYSTEM, {"url": "http://127.0.0.1:9/hook",
                                            "event_types": ["dispatch.*"]},
                                   uow_factory(), settings)
    batch = [assigned(f"8888888{n}-8888-8888-8888-888888888888",
                      priority="P1" if n == 0 else None) for n in range(3)]
    statements = []

    def seen(_conn, _cursor, statement, *_):
        statements.append(" ".join(statement.split()).upper())

    handed = []
    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        counts = planning.ingest_many(batch, uow_factory(), directory, settings, NOW,
                                      hand_off=2, handed=handed)
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    assert counts == {"inbox": 3, "email": 3, "sms": 1, "webhook": 3, "robot": 0}
    inserts = [s.split(" (")[0] for s in statements if s.startswith("INSERT")]
    assert sorted(inserts) == sorted([
        "INSERT INTO PROCESSED_EVENTS", "INSERT INTO NOTIFICATIONS", "INSERT INTO DELIVERIES",
        "INSERT INTO DELIVERIES", "INSERT INTO OUTBOX"])
    with uow_factory() as uow:
        notes = {n.event_id: n for n in uow.session.scalars(select(Notification))}
        rows = list(uow.session.scalars(select(Delivery)))
        nulls = set(uow.session.scalars(select(Delivery.id).where(Delivery.payload.is_(None))))
        created = [p["data"] for p in uow.session.execute(
            select(metadata.tables["outbox"].c.payload)).scalars()
            if p["type"] == "notification_created"]
    first = notes[batch[0]["event_id"]]
    assert (first.user_id, first.kind, first.event_type, first.ticket_id, first.ticket_number,
            first.priority, first.link, first.read_at) == (
        "u-e", "assigned", "dispatch.ticket_assigned", "t-1", "TS20261122001", "P1",
        "http://gd.test/#/tickets/t-1", None)
    assert first.title.startswith("[TS20261122001]") and "http://gd.test" in first.body
    assert sorted(c["notification_id"] for c in created) == sorted(n.id for n in notes.values())
    by_channel = {}
    for r in rows:
        by_channel.setdefault(r.channel, []).append(r)
    assert {r.id for r in by_channel["email"] + by_channel["sms"]} <= nulls
    assert all(r.payload["event_id"] == r.event_id and r.recipient == hook["id"]
               and r.id not in nulls for r in by_channel["webhook"])
    assert [r.kind for r in by_channel["email"]] == ["assigned"] * 3
    assert all(r.status == "pending" and r.attempts == 0 for r in rows)
    assert len(handed) == 2 and {h["channel"] for h in handed} <= {"email", "sms"}
    written = {r.id: r for r in rows}
    for item in handed:
        row = written[item["id"]]
        assert row.lease_until is not None
        assert item == delivery.delivery_dict(row)
    assert sum(1 for r in rows if r.lease_until is not None) == 2


def test_an_event_that_concerns_nobody_opens_no_transaction(uow_factory, settings):
    """sla_clock_updated matches no rule, webhook or digest: planning it touches no
    database (a unit of work that is entered fails the test); in a batch beside an event
    that does concern someone, that one is planned as before."""
    clock = {"event_id": "22222222-2222-2222-2222-222222222222", "source": "sla",
             "type": "sla_clock_updated", "version": 1, "ticket_id": "t-1",
             "data": {"ticket_id": "t-1", "next_due_at": None, "breached": False,
                      "evaluated_at": NOW.isoformat(), "clocks": []}}
    config = planning.configuration(uow_factory())

    class Untouchable:
        def __enter__(self):
            raise AssertionError("a transaction for an event that concerns nobody")

    counts = planning.ingest(clock, Untouchable(), directory, settings, NOW, config)
    assert counts == {"inbox": 0, "email": 0, "sms": 0, "webhook": 0, "robot": 0}
    counts = planning.ingest_many([clock, assigned()], uow_factory(), directory, settings, NOW,
                                  config)
    assert counts == {"inbox": 1, "email": 1, "sms": 0, "webhook": 0, "robot": 0}
    with uow_factory() as uow:
        processed = uow.session.execute(
            select(metadata.tables["processed_events"].c.event_id)).scalars().all()
    assert processed == [assigned()["event_id"]]


def test_p1_adds_sms_and_quiet_hours_delay_email_not_the_inbox(uow_factory, settings):
    person = {"id": "u-e"}
    preferences.put_preferences(person, {"quiet_start": "11:00", "quiet_end": "13:00",
                                      "timezone": "Asia/Shanghai"}, uow_factory())
    planning.ingest(assigned(), uow_factory(), directory, settings, NOW)
    planning.ingest(assigned("22222222-2222-2222-2222-222222222222", priority="P1"),
                    uow_factory(), directory, settings, NOW)
    with uow_factory() as uow:
        rows = uow.session.scalars(select(Delivery).order_by(Delivery.channel)).all()
    normal = [r for r in rows if r.event_id.startswith("1")]
    urgent = [r for r in rows if r.event_id.startswith("2")]
    assert [r.channel for r in normal] == ["email"]
    assert normal[0].next_attempt_at.replace(tzinfo=UTC) == dt.datetime(2026, 11, 22, 5, 0,
                                                                        tzinfo=UTC)
    assert sorted(r.channel for r in urgent) == ["email", "sms"]
    assert all(r.next_attempt_at.replace(tzinfo=UTC) == NOW for r in urgent)
    assert count(uow_factory, Notification) == 2  # the inbox is never held back


def test_failed_sends_are_retried_from_the_database_then_given_up(uow_factory, settings):
    planning.ingest(assigned(), uow_factory(), directory, settings, NOW)
    [item] = delivery.claim_due(uow_factory(), settings, now=NOW)
    assert delivery.claim_due(uow_factory(), settings, now=NOW) == []  # leased
    down = Outcome(False, error="ConnectionRefusedError: [Errno 111]")
    assert delivery.record_outcome(uow_factory(), item["id"], down, settings, 3, NOW) == \
        "pending"
    assert delivery.claim_due(uow_factory(), settings, now=NOW) == []  # not due yet
    later = NOW + dt.timedelta(seconds=10)
    [again] = delivery.claim_due(uow_factory(), settings, now=later)
    delivery.record_outcome(uow_factory(), again["id"], down, settings, 3, later)
    last = later + dt.timedelta(seconds=20)
    [third] = delivery.claim_due(uow_factory(), settings, now=last)
    assert delivery.record_outcome(uow_factory(), third["id"], down, settings, 3, last) == \
        "failed"
    assert count(uow_factory, DeliveryAttempt) == 3
    detail = webhooks.get_delivery(ADMIN, item["id"], uow_factory())
    assert detail["status"] == "failed" and len(detail["log"]) == 3
    assert "ConnectionRefused" in detail["last_error"]
    # a success after the fact is not recorded twice
    assert delivery.record_outcome(uow_factory(), item["id"], Outcome(True), settings, 1,
                                   last) is None


def test_outcomes_recorded_together_in_one_transaction(uow_factory, settings):
    """The delivery loop records every outcome that is in with one commit: each delivery
    gets its own attempt and status, the same outcome twice is recorded once."""
    planning.ingest(assigned(), uow_factory(), directory, settings, NOW)
    planning.ingest(assigned("33333333-3333-3333-3333-333333333333"), uow_factory(),
                    directory, settings, NOW)
    first, second = delivery.claim_due(uow_factory(), settings, now=NOW)
    down = Outcome(False, error="TimeoutError")
    results = [(first["id"], Outcome(True), 1), (second["id"], down, 2),
               (first["id"], Outcome(True), 1)]
    assert delivery.record_outcomes(uow_factory(), results, settings, NOW) == \
        ["sent", "pending", None]
    assert count(uow_factory, DeliveryAttempt) == 2
    with uow_factory() as uow:
        outbox = uow.session.execute(select(metadata.tables["outbox"].c.type)).scalars().all()
    assert outbox.count("notification_sent") == 1


def test_sent_outcomes_recorded_without_reading_the_deliveries(database, settings):
    """Successful sends are recorded with one UPDATE … RETURNING of the deliveries and one
    INSERT of their attempts, no SELECT of the rows (their bodies): each gets its attempt
    numbered after earlier failures, its status, time and event; a delivery no longer
    pending is not recorded again; a webhook that answers ends its failure streak; a
    failure beside successes is recorded as before."""
    uow_factory = database.unit_of_work
    settings = dict(settings, allow_networks=["127.0.0.1/32"])
    hook = webhooks.create_webhook(SYSTEM, {"url": "http://127.0.0.1:9/hook",
                                            "event_types": ["dispatch.*"]},
                                   uow_factory(), settings)
    for n in range(3):
        planning.ingest(assigned(f"7777777{n}-7777-7777-7777-777777777777"), uow_factory(),
                        directory, settings, NOW)
    items = delivery.claim_due(uow_factory(), settings, limit=50, now=NOW)
    mails = sorted((i for i in items if i["channel"] == "email"), key=lambda i: i["event_id"])
    hooks = sorted((i for i in items if i["channel"] == "webhook"),
                   key=lambda i: i["event_id"])
    assert len(mails) == 3 and len(hooks) == 3
    down = Outcome(False, error="TimeoutError")
    refused = Outcome(False, error="550 no such user", retryable=False)
    assert delivery.record_outcomes(uow_factory(), [
        (mails[0]["id"], down, 2), (hooks[0]["id"], Outcome(False, 500, "HTTP 500"), 2),
        (mails[2]["id"], refused, 2)], settings, NOW) == ["pending", "pending", "failed"]
    with uow_factory() as uow:
        assert uow.session.get(Webhook, hook["id"]).failure_streak == 1

    later = NOW + dt.timedelta(seconds=30)
    statements = []

    def seen(_conn, _cursor, statement, *_):
        statements.append(" ".join(statement.split()).upper())

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        assert delivery.record_outcomes(uow_factory(), [
            (mails[0]["id"], Outcome(True, response="250 queued"), 7),
            (hooks[0]["id"], Outcome(True, status_code=200), 8),
            (mails[1]["id"], Outcome(True), 9),
            (mails[2]["id"], Outcome(True), 1)], settings, later) == \
            ["sent", "sent", "sent", None]
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    assert not [s for s in statements if s.startswith("SELECT")]
    assert [s.split(" SET ")[0] for s in statements if s.startswith("UPDATE")] == \
        ["UPDATE DELIVERIES", "UPDATE WEBHOOKS"]
    assert len([s for s in statements if s.startswith("INSERT INTO DELIVERY_ATTEMPTS")]) == 1

    with uow_factory() as uow:
        rows = {d.id: d for d in uow.session.scalars(select(Delivery))}
        log = {}
        for a in uow.session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)):
            log.setdefault(a.delivery_id, []).append((a.number, a.ok, a.status_code,
                                                      a.response, a.duration_ms))
        sent = [p["data"] for p in uow.session.execute(
            select(metadata.tables["outbox"].c.payload)
            .order_by(metadata.tables["outbox"].c.id)).scalars()
            if p["type"] == "notification_sent"]
        assert uow.session.get(Webhook, hook["id"]).failure_streak == 0
    for item in (mails[0], hooks[0], mails[1]):
        d = rows[item["id"]]
        assert (d.status, d.lease_until, d.last_error) == ("sent", None, None)
        assert d.sent_at.replace(tzinfo=UTC) == later
    assert log[mails[0]["id"]] == [(1, False, None, None, 2), (2, True, None, "250 queued", 7)]
    assert log[hooks[0]["id"]] == [(1, False, 500, None, 2), (2, True, 200, None, 8)]
    assert log[mails[1]["id"]] == [(1, True, None, None, 9)]
    assert rows[mails[2]["id"]].status == "failed" and len(log[mails[2]["id"]]) == 1
    assert [(e["delivery_id"], e["channel"], e["recipient"], e["event_id"], e["attempts"])
            for e in sent] == [
        (mails[0]["id"], "email", "u-e", mails[0]["event_id"], 2),
        (hooks[0]["id"], "webhook", hook["id"], hooks[0]["event_id"], 2),
        (mails[1]["id"], "email", "u-e", mails[1]["event_id"], 1)]
    assert all(e["event_type"] == "dispatch.ticket_assigned" and e["error"] is None
               for e in sent)

    # a failure beside a success: each on its own path, one transaction
    assert delivery.record_outcomes(uow_factory(), [
        (hooks[1]["id"], Outcome(False, 502, "HTTP 502"), 3),
        (hooks[2]["id"], Outcome(True, status_code=204), 4)], settings, later) == \
        ["pending", "sent"]
    with uow_factory() as uow:
        assert uow.session.get(Webhook, hook["id"]).failure_streak == 1
        assert uow.session.get(Delivery, hooks[1]["id"]).last_error == "HTTP 502"


def test_pending_gauge_and_failed_counter_by_channel(uow_factory, settings):
    from gongdan_common import metrics

    def value(metric, channel):
        return metric.labels(metrics.service(), channel)._value.get()

    failed0 = value(metrics.NOTIFY_FAILED, "email")
    planning.ingest(assigned(), uow_factory(), directory, settings, NOW)
    delivery.sample_pending(uow_factory())
    assert value(metrics.NOTIFY_PENDING, "email") == 1
    assert value(metrics.NOTIFY_PENDING, "sms") == 0
    [item] = delivery.claim_due(uow_factory(), settings, now=NOW)
    down = Outcome(False, error="ConnectionRefusedError: [Errno 111]")
    delivery.record_outcome(uow_factory(), item["id"], down, settings, 3, NOW)
    assert value(metrics.NOTIFY_FAILED, "email") == failed0 + 1
    delivery.record_outcome(uow_factory(), item["id"], Outcome(True), settings, 1, NOW)
    delivery.sample_pending(uow_factory())
    assert value(metrics.NOTIFY_PENDING, "email") == 0
    assert value(metrics.NOTIFY_FAILED, "email") == failed0 + 1


def test_webhooks_get_events_and_are_disabled_after_failures(uow_factory, settings):
    settings = dict(settings, allow_networks=["127.0.0.1/32"])
    hook = webhooks.create_webhook(SYSTEM, {"url": "http://127.0.0.1:9/hook",
                                            "event_types": ["dispatch.*"]},
                                   uow_factory(), settings)
    assert hook["secret"].startswith("whsec_") and hook["owner_id"] == "svc:crm"
    with pytest.raises(AppError) as err:
        webhooks.get_webhook({"id": "svc:other", "role": "system"}, hook["id"], uow_factory())
    assert err.value.status == 404
    with pytest.raises(AppError) as err:
        webhooks.create_webhook({"id": "u-c", "role": "customer"}, {"url": "http://a.b/"},
                                uow_factory(), settings)
    assert err.value.status == 403
    fail = Outcome(False, status_code=500, error="HTTP 500")
    for n in range(3):
        eid = f"3333333{n}-3333-3333-3333-333333333333"
        planning.ingest(assigned(eid), uow_factory(), directory, settings, NOW)
        items = [i for i in delivery.claim_due(uow_factory(), settings, now=NOW)
                 if i["channel"] == "webhook"]
        assert items and items[0]["secret"] == hook["secret"]
        delivery.record_outcome(uow_factory(), items[0]["id"], fail, settings, 5, NOW)
    with uow_factory() as uow:
        row = uow.session.get(Webhook, hook["id"])
        assert row.active is False and row.failure_streak == 3
        types = uow.session.execute(select(metadata.tables["outbox"].c.type)).scalars().all()
    assert "webhook_disabled" in types
    # the owner's notice shows every value, link included (issue 17)
    with uow_factory() as uow:
        (disabled,) = [p for p in uow.session.execute(select(
            metadata.tables["outbox"].c.payload)).scalars() if p["type"] == "webhook_disabled"]
    for language in templates.LANGUAGES:
        templates.render_strict("webhook_disabled", language, domain.webhook_disabled_context(
            disabled, settings["public_url"]))
    # a disabled webhook gets nothing new
    planning.ingest(assigned("44444444-4444-4444-4444-444444444444"), uow_factory(), directory,
                    settings, NOW)
    assert count(uow_factory, Delivery, Delivery.channel == "webhook",
                 Delivery.event_id.like("4444%")) == 0
    # switched on again by a change that names nothing else: the rest stays as it was
    again = webhooks.update_webhook(SYSTEM, hook["id"], {"active": True}, uow_factory(),
                                    settings)
    assert again["active"] and again["failure_streak"] == 0
    assert again["event_types"] == ["dispatch.*"] and again["url"] == "http://127.0.0.1:9/hook"


def test_inbox_paging_and_marking(uow_factory, settings):
    for n in range(3):
        planning.ingest(assigned(f"5555555{n}-5555-5555-5555-555555555555"), uow_factory(),
                        directory, settings, NOW + dt.timedelta(seconds=n))
    eve = {"id": "u-e", "role": "engineer"}
    page = inbox.list_notifications(eve, {"page_size": 2}, uow_factory())
    assert page["total"] == 3 and page["unread"] == 3 and len(page["items"]) == 2
    inbox.mark_read(eve, page["items"][0]["id"], uow_factory())
    assert inbox.unread_count(eve, uow_factory()) == {"unread": 2}
    with pytest.raises(AppError):
        inbox.mark_read({"id": "u-c", "role": "customer"}, page["items"][1]["id"],
                           uow_factory())
    assert inbox.mark_all_read(eve, uow_factory())["marked"] == 2
    assert inbox.list_notifications(eve, {"unread": "true"}, uow_factory())["total"] == 0
    with pytest.raises(AppError) as err:
        inbox.list_notifications(SYSTEM, {}, uow_factory())
    assert err.value.status == 403


def test_one_recipient_never_takes_every_send_slot(uow_factory, settings):
    settings = dict(settings, allow_networks=["127.0.0.1/32"], max_in_flight=2)
    slow = webhooks.create_webhook(ADMIN, {"url": "http://127.0.0.1:9/slow"}, uow_factory(),
                                   settings)
    for n in range(5):
        planning.ingest(assigned(f"6666666{n}-6666-6666-6666-666666666666"), uow_factory(),
                        directory, settings, NOW)
    first = delivery.claim_due(uow_factory(), settings, limit=50, now=NOW)
    hooks = [i for i in first if i["recipient"] == slow["id"]]
    assert len(hooks) == 2  # capped, and so are the emails to the one engineer
    assert len([i for i in first if i["channel"] == "email"]) == 2
    busy = {slow["id"]: 2}
    second = delivery.claim_due(uow_factory(), settings, limit=50, now=NOW, in_flight=busy)
    assert [i["channel"] for i in second] == ["email", "email"]  # only the other recipient
    more = delivery.claim_due(uow_factory(), settings, limit=50, now=NOW,
                              in_flight={slow["id"]: 1})
    assert [i["recipient"] for i in more if i["channel"] == "webhook"] == [slow["id"]]


def test_a_bounce_marks_the_sent_email_failed_once(uow_factory, settings):
    planning.ingest(assigned(), uow_factory(), directory, settings, NOW)
    [item] = [i for i in delivery.claim_due(uow_factory(), settings, now=NOW)
              if i["channel"] == "email"]
    assert item["ticket_id"] == "t-1"  # what the email channel threads by
    delivery.record_outcome(uow_factory(), item["id"], Outcome(True), settings, 1, NOW)
    bounce = {"event_id": "22222222-2222-2222-2222-222222222222", "source": "channels",
              "type": "mail_bounced", "version": 1, "actor": None,
              "data": {"delivery_id": item["id"], "recipient": "eve@x.test", "status": "5.1.1",
                       "diagnostic": "smtp; 550 user unknown", "mail_id": "m-1",
                       "original_message_id": f"{item['id']}@gongdan.notify"}}
    assert delivery.record_bounce(uow_factory(), bounce) == item["id"]
    assert delivery.record_bounce(uow_factory(), bounce) is None  # redelivered: once
    detail = webhooks.get_delivery(ADMIN, item["id"], uow_factory())
    assert detail["status"] == "failed" and "5.1.1" in detail["last_error"]
    assert len(detail["log"]) == 2
    stranger = dict(bounce, event_id="33333333-3333-3333-3333-333333333333",
                    data=dict(bounce["data"], delivery_id="not-ours"))
    assert delivery.record_bounce(uow_factory(), stranger) is None


def test_deliveries_handed_to_free_send_slots_are_written_leased(uow_factory, settings):
    """With free send slots, planning writes an email due now already leased and hands it
    back: the loop's claim does not see it (no second send), the outcome records it as
    any other; if the process died before sending, the loop takes it when the lease ends.
    Without slots (or held by quiet hours) nothing is handed and the loop claims it."""
    handed = []
    counts = planning.ingest(assigned(), uow_factory(), directory, settings, NOW,
                             hand_off=5, handed=handed)
    assert counts["email"] == 1 and [h["address"] for h in handed] == ["eve@x.test"]
    with uow_factory() as uow:
        row = uow.session.get(Delivery, handed[0]["id"])
        assert row.status == "pending" and row.lease_until is not None
    assert delivery.claim_due(uow_factory(), settings, now=NOW) == []  # leased at birth
    later = NOW + dt.timedelta(seconds=settings["lease_seconds"] + 1)
    [again] = delivery.claim_due(uow_factory(), settings, now=later)  # a crash: taken later
    assert again["id"] == handed[0]["id"]
    assert delivery.record_outcomes(uow_factory(), [(handed[0]["id"], Outcome(True), 1)],
                                    settings, NOW) == ["sent"]

    none = []
    planning.ingest(assigned("44444444-4444-4444-4444-444444444444"), uow_factory(),
                    directory, settings, NOW, hand_off=0, handed=none)
    assert none == []
    [claimed] = delivery.claim_due(uow_factory(), settings, now=NOW)
    assert claimed["event_id"].startswith("4")

    preferences.put_preferences({"id": "u-e"}, {"quiet_start": "11:00", "quiet_end": "13:00",
                                               "timezone": "Asia/Shanghai"}, uow_factory())
    quiet = []
    planning.ingest(assigned("55555555-5555-5555-5555-555555555555"), uow_factory(),
                    directory, settings, NOW, hand_off=5, handed=quiet)
    assert quiet == []  # held by quiet hours: not due, not handed
