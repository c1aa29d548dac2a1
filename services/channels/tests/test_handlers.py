"""The mail pipeline over a real database (SQLite and PostgreSQL) with fakes for intake, the
user directory, object storage and the mail sender: what each kind of mail becomes, the
claim that keeps a mail from being taken twice, and the bad mail that is held, never lost."""
import datetime as dt
from email.message import EmailMessage

import pytest
from sqlalchemy import select, text

from gongdan_common import vault

from services.channels import admin, domain, handlers, quotes
from gongdan_common.db import Database
from services.channels.models import FetchedMail, metadata

from .conftest import MAILBOX
from .test_parser import dsn

ADMIN = {"id": "u-admin", "role": "admin"}


def mail(sender="张三 <zhang@example.com>", subject="备份任务失败", body="昨天开始失败。",
         message_id="<m-1@example.com>", attachments=(), **headers):
    msg = EmailMessage()
    if sender:
        msg["From"] = sender
    msg["To"] = MAILBOX["address"]
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    for filename, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream",
                           filename=filename)
    return msg.as_bytes()


def rows(deps):
    with deps.uow as uow:
        return uow.session.scalars(select(FetchedMail)).all()


def test_known_customer_opens_a_ticket(deps):
    out = handlers.ingest(mail(), MAILBOX, "1", deps)
    assert out["status"] == "done" and out["outcome"] == "created"
    (actor, payload), = deps.intake.creates
    assert actor["id"] == "u-zhang"
    assert payload["title"] == "备份任务失败" and payload["description"] == "昨天开始失败。"
    assert payload["product"] == "AB-7" and payload["contact_phone"] == "13800000000"
    assert out["ticket_number"] == "TS20261123001"


def test_same_mail_twice_opens_one_ticket(deps):
    first = handlers.ingest(mail(), MAILBOX, "1", deps)
    again = handlers.ingest(mail(), MAILBOX, "7", deps)  # fetched again, another UID
    assert again == {"status": "done", "outcome": "duplicate", "mail_id": first["mail_id"]}
    assert len(deps.intake.creates) == 1 and len(rows(deps)) == 1


def test_a_claim_in_progress_is_left_alone_until_its_lease_ends(deps):
    raw = mail()
    parsed = handlers.mime.parse(raw)
    key = handlers.message_key(parsed, MAILBOX["id"], "1")
    mail_id, existing = handlers._claim(deps, parsed, key, MAILBOX, "1", len(raw))
    assert existing is None
    assert handlers.ingest(raw, MAILBOX, "1", deps)["status"] == "claimed"  # the other replica
    assert deps.intake.creates == []
    deps.clock["now"] += dt.timedelta(seconds=deps.settings["lease_seconds"] + 1)
    assert handlers.ingest(raw, MAILBOX, "1", deps)["outcome"] == "created"  # it died: taken over
    assert rows(deps)[0].attempts == 2


def test_reply_by_number_in_subject_strips_the_quote(deps):
    ticket = deps.intake.add_ticket({"id": "u-zhang"})
    body = f"重启后仍然失败。\n\n{quotes.MARKER}\n旧内容"
    out = handlers.ingest(mail(subject=f"Re: [{ticket['number']}] 备份任务失败", body=body,
                               message_id="<r-1@example.com>"), MAILBOX, "2", deps)
    assert out["outcome"] == "replied"
    assert deps.intake.comments == [("u-zhang", ticket["id"], "重启后仍然失败。")]
    assert deps.intake.creates == []


def test_reply_by_thread_id_reopens_a_resolved_ticket(deps):
    ticket = deps.intake.add_ticket({"id": "u-zhang"}, status="resolved")
    refs = domain.thread_ids(ticket["id"], "0b6c3f4e-1d2a-4a8b-9c0d-999999999999")
    out = handlers.ingest(mail(subject="还是不行", In_Reply_To=refs["Message-ID"],
                               References=refs["References"]), MAILBOX, "3", deps)
    assert out["outcome"] == "reopened"
    assert deps.intake.tickets[ticket["id"]]["status"] == "in_progress"
    assert deps.intake.comments == [("u-zhang", ticket["id"], "昨天开始失败。")]
    assert deps.intake.transitions[0][1] == "reopen"


def test_a_reply_retried_after_a_crash_lands_once(deps):
    """Intake committed the reply, then this instance died before recording the mail: the
    claim's lease runs out, another fetch takes the mail over and adds no second comment."""
    ticket = deps.intake.add_ticket({"id": "u-zhang"}, status="resolved")
    raw = mail(subject=f"Re: [{ticket['number']}] 备份任务失败", message_id="<r-9@example.com>")
    first = handlers.ingest(raw, MAILBOX, "5", deps)
    assert first["outcome"] == "reopened"
    with deps.uow as uow:  # as if the crash came before _finish: still claimed
        row = uow.session.get(FetchedMail, first["mail_id"])
        row.status, row.outcome = "claimed", None
        uow.commit()
    deps.clock["now"] += dt.timedelta(seconds=deps.settings["lease_seconds"] + 1)
    again = handlers.ingest(raw, MAILBOX, "6", deps)
    assert again["status"] == "done" and again["outcome"] == "replied"  # reopen found done
    assert deps.intake.comments == [("u-zhang", ticket["id"], "昨天开始失败。")]
    assert len(deps.intake.transitions) == 1
    (key,) = deps.intake.comment_keys  # derived from the Message-ID, not where it was found
    assert key == handlers._reply_key("another row", handlers.mime.parse(raw))


def test_forged_reply_to_someone_elses_ticket_opens_nothing(deps):
    theirs = deps.intake.add_ticket({"id": "u-li"})
    out = handlers.ingest(mail(subject=f"Re: [{theirs['number']}] hi"), MAILBOX, "4", deps)
    assert out["status"] == "held" and "may not reply" in out["reason"]
    assert deps.intake.comments == [] and deps.intake.creates == []
    # held aside with its bytes, visible to admins
    listed = admin.list_mails(ADMIN, {}, deps.uow)
    assert [m["id"] for m in listed["items"]] == [out["mail_id"]]
    detail = admin.get_mail(ADMIN, out["mail_id"], deps.uow, deps.store)
    assert detail["text"].strip() == "昨天开始失败。"


def test_reply_to_a_closed_ticket_opens_a_follow_up(deps):
    ticket = deps.intake.add_ticket({"id": "u-zhang"}, status="closed")
    out = handlers.ingest(mail(subject=f"Re: [{ticket['number']}] x"), MAILBOX, "5", deps)
    assert out["outcome"] == "created"
    assert ticket["number"] in deps.intake.creates[0][1]["description"]


def test_unknown_sender_gets_one_polite_answer_and_nothing_is_created(deps):
    out = handlers.ingest(mail(sender="stranger@example.org"), MAILBOX, "6", deps)
    assert out["outcome"] == "unknown_sender"
    (sent,) = deps.replier.sent
    assert sent["to"] == "stranger@example.org" and sent["in_reply_to"] == "m-1@example.com"
    assert "注册" in sent["text"] and "register" in sent["text"]
    assert sent["sender"] == MAILBOX["address"]
    assert deps.intake.creates == []


def test_a_flood_from_one_sender_is_not_answered(deps):
    for i in range(6):
        handlers.ingest(mail(sender="bot@example.org", message_id=f"<f{i}@x>"), MAILBOX,
                        str(i), deps)
    assert len(deps.replier.sent) == 3  # flood_per_minute: 3
    assert [r.outcome for r in rows(deps)].count("flood") == 3


@pytest.mark.parametrize("headers", [{"Auto_Submitted": "auto-replied"},
                                     {"Precedence": "bulk"}, {"X_Autoreply": "yes"}])
def test_auto_replies_open_nothing_and_are_not_answered(deps, headers):
    out = handlers.ingest(mail(sender="stranger@example.org", **headers), MAILBOX, "8", deps)
    assert out["outcome"] == "auto"
    assert deps.replier.sent == [] and deps.intake.creates == []


def test_our_own_message_coming_back_is_ignored(deps):
    out = handlers.ingest(mail(message_id="<0b6c3f4e-1d2a-4a8b-9c0d-000000000009@gongdan.notify>"),
                          MAILBOX, "9", deps)
    assert out["outcome"] == "own" and deps.intake.creates == []


def test_bounce_emits_mail_bounced_for_the_delivery(deps):
    out = handlers.ingest(dsn(), MAILBOX, "10", deps)
    assert out["outcome"] == "bounce"
    with deps.uow as uow:
        (payload,) = uow.session.execute(select(metadata.tables["outbox"].c.payload)).scalars()
    assert payload["type"] == "mail_bounced"
    assert payload["data"]["delivery_id"] == "0b6c3f4e-1d2a-4a8b-9c0d-000000000001"
    assert payload["data"]["status"] == "5.1.1" and payload["data"]["mail_id"] == out["mail_id"]
    assert deps.replier.sent == [] and deps.intake.creates == []


def test_missing_from_is_held(deps):
    out = handlers.ingest(mail(sender=None), MAILBOX, "11", deps)
    assert out["status"] == "held" and "From" in out["reason"]


def test_attachments_pass_the_web_forms_whitelist(deps):
    out = handlers.ingest(mail(attachments=[("日志.log", b"ERROR 1\n"),
                                            ("setup.exe", b"MZ\x90\x00" + b"\x00" * 100),
                                            ("empty.txt", b"")]), MAILBOX, "12", deps)
    assert out["outcome"] == "created"
    assert [r["filename"] for _, r in deps.intake.attachments] == ["日志.log"]
    description = deps.intake.creates[0][1]["description"]
    assert "setup.exe" in description and "empty.txt" in description
    assert "未接收的附件" in description
    key = deps.intake.attachments[0][1]["object_key"]
    assert deps.store.objects[key] == b"ERROR 1\n"


def test_two_hundred_attachments_stop_at_the_limit(deps):
    files = [(f"f{i}.txt", f"line {i}\n".encode()) for i in range(200)]
    out = handlers.ingest(mail(attachments=files), MAILBOX, "13", deps)
    assert out["outcome"] == "created"
    assert len(deps.intake.attachments) == deps.settings["max_attachments"]
    assert "more than 20 attachments" in deps.intake.creates[0][1]["description"]


def test_a_50_mb_attachment_is_stored_under_the_limit_and_refused_over_it(deps):
    big = b"x" * (50 * 1024 * 1024)
    out = handlers.ingest(mail(attachments=[("big.log", big)]), MAILBOX, "14", deps)
    assert out["outcome"] == "created" and len(deps.intake.attachments) == 1
    deps.settings["max_attachment_bytes"] = 10 * 1024 * 1024
    out = handlers.ingest(mail(message_id="<m-2@example.com>", attachments=[("big.log", big)]),
                          MAILBOX, "15", deps)
    assert out["outcome"] == "created" and len(deps.intake.attachments) == 1
    assert "larger than 10 MB" in deps.intake.creates[-1][1]["description"]


def test_intake_away_leaves_the_mail_for_later(deps):
    deps.intake.away = True
    out = handlers.ingest(mail(), MAILBOX, "16", deps)
    assert out["status"] == "released" and rows(deps) == []
    deps.intake.away = False
    assert handlers.ingest(mail(), MAILBOX, "16", deps)["outcome"] == "created"


def test_held_mail_retried_after_the_cause_is_fixed(deps):
    made = admin.create_mailbox(ADMIN, {"name": "support", "address": "Support@Gongdan.test",
                                        "host": "127.0.0.1", "port": 143, "product": "AB-7"},
                                deps.uow, deps.clock["now"], deps.settings["vault"])
    assert made["address"] == "support@gongdan.test" and made["has_password"] is False
    (box,) = admin.imap_mailboxes(deps.uow, deps.settings["vault"])
    out = handlers.ingest(mail(sender="new@example.com"), box, "17", deps)
    assert out["outcome"] == "unknown_sender"  # not held: answered
    held = handlers.ingest(mail(sender="eng@example.com", message_id="<e@x>"), box, "18",
                           deps)
    assert held["status"] == "held" and "Only customers" in held["reason"]
    deps.directory.users["eng@example.com"] = {"id": "u-eng2", "role": "customer",
                                               "company_id": "c-1"}
    with pytest.raises(Exception):
        admin.retry_mail({"role": "customer"}, held["mail_id"], deps)  # admins only
    retried = admin.retry_mail(ADMIN, held["mail_id"], deps)
    assert retried["outcome"] == "created"
    with pytest.raises(Exception):
        admin.retry_mail(ADMIN, held["mail_id"], deps)  # done now, not held


def test_discard_keeps_the_record(deps):
    held = handlers.ingest(mail(sender=None), MAILBOX, "19", deps)
    assert admin.discard_mail(ADMIN, held["mail_id"], deps.uow, deps.clock["now"]) == {
        "id": held["mail_id"], "status": "discarded"}
    assert admin.list_mails(ADMIN, {"status": "discarded"}, deps.uow)["total"] == 1


def test_storage_away_while_holding_leaves_the_mail_on_the_server(deps):
    deps.store.down = True
    out = handlers.ingest(mail(sender=None), MAILBOX, "20", deps)
    assert out["status"] == "released" and rows(deps) == []


def test_our_database_away_mid_way_leaves_the_mail_for_later(deps, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def too_many_clients(*args):
        raise OperationalError("SELECT", {}, Exception("FATAL: sorry, too many clients already"))

    monkeypatch.setattr(handlers, "_flooding", too_many_clients)
    out = handlers.ingest(mail(sender="stranger@example.org"), MAILBOX, "21", deps)
    assert out["status"] == "released" and "too many clients" in out["reason"]
    assert rows(deps) == []  # not held: taken again at the next poll


def test_mailbox_admin_refuses_duplicates_and_non_admins(deps):
    body = {"name": "support", "address": "support@gongdan.test", "host": "h", "product": "P"}
    admin.create_mailbox(ADMIN, body, deps.uow, deps.clock["now"], deps.settings["vault"])
    with pytest.raises(Exception) as dup:
        admin.create_mailbox(ADMIN, dict(body, name="other"), deps.uow, deps.clock["now"],
                             deps.settings["vault"])
    assert dup.value.code == "mailbox_exists"
    (box,) = admin.list_mailboxes(ADMIN, deps.uow)["items"]
    other = admin.create_mailbox(ADMIN, dict(body, name="sales", address="sales@gongdan.test"),
                                 deps.uow, deps.clock["now"], deps.settings["vault"])
    with pytest.raises(Exception) as clash:
        admin.update_mailbox(ADMIN, other["id"], {"address": "SUPPORT@gongdan.test"}, deps.uow,
                             deps.clock["now"], deps.settings["vault"])
    assert clash.value.code == "mailbox_exists"
    with pytest.raises(Exception) as refused:
        admin.list_mailboxes({"id": "u", "role": "agent"}, deps.uow)
    assert refused.value.code == "forbidden"
    with pytest.raises(Exception) as bad:
        admin.create_mailbox(ADMIN, {"name": "", "address": "x", "product": "P", "extra": 1},
                             deps.uow, deps.clock["now"], deps.settings["vault"])
    assert set(bad.value.details["fields"]) >= {"name", "address", "extra"}
    assert box["has_password"] is False and "password" not in box


def test_mailbox_passwords_are_sealed_at_rest(deps, database):
    """The stored column is never the password; the pollers get it back; a change of data
    key fails the login (on the mailbox), never the service."""
    key = deps.settings["vault"]
    body = {"name": "support", "address": "support@gongdan.test", "host": "h", "product": "P",
            "password": "imap-秘密-secret"}
    made = admin.create_mailbox(ADMIN, body, deps.uow, deps.clock["now"], key)
    assert made["has_password"] is True and "password" not in made
    with database.engine.connect() as conn:
        (stored,) = conn.execute(text("SELECT password_enc FROM channels_mailboxes")).one()
    assert "imap-" not in stored and "secret" not in stored
    (box,) = admin.imap_mailboxes(deps.uow, key)
    assert box["password"] == "imap-秘密-secret"
    admin.update_mailbox(ADMIN, made["id"], {"host": "h2"}, deps.uow, deps.clock["now"], key)
    assert admin.mailbox_for(deps.uow, ["support@gongdan.test"], key)["password"] == \
        "imap-秘密-secret"  # a change without a password keeps it
    other = vault.Vault(None, "another secret key", purpose="mailbox-password")
    assert admin.imap_mailboxes(deps.uow, other)[0]["password"] is None
    admin.update_mailbox(ADMIN, made["id"], {"password": ""}, deps.uow, deps.clock["now"], key)
    assert admin.list_mailboxes(ADMIN, deps.uow)["items"][0]["has_password"] is False


def test_the_migration_seals_the_passwords_already_stored(service_database):
    """A database from before 0002 with a plain password: after the upgrade the column is
    gone and the sealed value opens, with the key of the configuration migrate ran with."""
    from alembic import command
    from gongdan_common.migrate import alembic_config
    url = service_database("channels")
    command.upgrade(alembic_config("channels", url), "0001")
    engine = Database(url, metadata).engine
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO channels_mailboxes (id, name, address, protocol, security, username, "
            "password, folder, product, ticket_type, category, enabled, source, created_at, "
            "updated_at) VALUES ('b1', 'old', 'old@x.test', 'imap', 'none', 'u', 'plain-pw', "
            "'INBOX', 'P', 'consult', 'consultation', true, 'admin', :t, :t)"),
            {"t": dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)})
    config = {"GATEWAY": {"secret_key": "production-secret-" * 3}}
    command.upgrade(alembic_config("channels", url, config), "head")
    with engine.connect() as conn:
        (sealed,) = conn.execute(text("SELECT password_enc FROM channels_mailboxes")).one()
    assert "plain-pw" not in sealed
    assert vault.from_config(config, "mailbox-password").open(sealed) == "plain-pw"
    engine.dispose()


REGISTER = dict(MAILBOX, unknown_sender="register")


def test_register_mode_opens_a_pending_registration_and_holds_the_mail(deps):
    """A stranger's mail to a `register` mailbox: one pending registration (address and From
    name), the mail held "awaiting registration", the answer says approval is pending; a
    second mail while pending registers nothing new; after approval an admin's retry opens
    the ticket as the new customer."""
    admin.create_mailbox(ADMIN, {"name": "support", "address": MAILBOX["address"],
                                 "host": "h", "product": "AB-7", "unknown_sender": "register"},
                         deps.uow, deps.clock["now"], deps.settings["vault"])
    (box,) = admin.imap_mailboxes(deps.uow, deps.settings["vault"])
    assert box["unknown_sender"] == "register"
    raw = mail(sender="王五 <wangwu@newco.cn>", message_id="<reg-1@newco.cn>")
    out = handlers.ingest(raw, box, "30", deps)
    assert out["status"] == "held" and "Awaiting registration" in out["reason"]
    assert "等待注册审核" in out["reason"]
    assert deps.directory.registrations == [("wangwu@newco.cn", "王五")]
    (sent,) = deps.replier.sent
    assert "等待管理员审核" in sent["text"] and "awaits an administrator's approval" in sent["text"]
    assert "no need to send it again" in sent["text"] and deps.intake.creates == []
    again = handlers.ingest(mail(sender="wangwu@newco.cn", message_id="<reg-2@newco.cn>"),
                            box, "31", deps)
    assert again["status"] == "held" and len(deps.directory.registrations) == 1
    # the admin approves (the gateway's approve_user), then retries the held mail
    deps.directory.users["wangwu@newco.cn"] = {"id": "u-wang", "role": "customer",
                                               "name": "王五", "company_id": "c-3"}
    retried = admin.retry_mail(ADMIN, out["mail_id"], deps)
    assert retried["outcome"] == "created" and deps.intake.creates[0][0]["id"] == "u-wang"


@pytest.mark.parametrize("kind,headers", [
    ("auto", {"Auto_Submitted": "auto-replied"}),
    ("auto", {"Precedence": "bulk"}),
])
def test_register_mode_never_registers_auto_replies_or_bulk(deps, kind, headers):
    out = handlers.ingest(mail(sender="robot@newco.cn", **headers), REGISTER, "32", deps)
    assert out["outcome"] == kind
    assert deps.directory.registrations == [] and deps.replier.sent == []


def test_register_mode_never_registers_a_flood_or_a_bounce(deps):
    for n in range(deps.settings["flood_per_minute"] + 2):
        handlers.ingest(mail(sender="loop@newco.cn", message_id=f"<f{n}@newco.cn>"),
                        dict(REGISTER, unknown_sender="reply"), str(40 + n), deps)
    flood = handlers.ingest(mail(sender="loop@newco.cn", message_id="<f-last@newco.cn>"),
                            REGISTER, "60", deps)
    assert flood["outcome"] == "flood" and deps.directory.registrations == []
    bounce = handlers.ingest(dsn(), REGISTER, "61", deps)
    assert bounce["outcome"] == "bounce" and deps.directory.registrations == []


def test_reply_mode_and_the_global_setting(deps):
    out = handlers.ingest(mail(sender="stranger@newco.cn"), MAILBOX, "62", deps)
    assert out["outcome"] == "unknown_sender" and deps.directory.registrations == []
    deps.settings["unknown_sender"] = "register"  # CHANNELS.unknown_sender, no mailbox value
    out = handlers.ingest(mail(sender="other@newco.cn", message_id="<g@x>"), MAILBOX, "63",
                          deps)
    assert out["status"] == "held" and deps.directory.registrations == [("other@newco.cn", "")]
    with pytest.raises(ValueError):
        handlers.settings_from_config({"CHANNELS": {"unknown_sender": "maybe"}})
