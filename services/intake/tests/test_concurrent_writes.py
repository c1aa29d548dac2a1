"""Writes that do not depend on what the caller saw (comments, attachments) never fail on a
concurrent write to the same ticket: they wait for its row lock instead of losing the
version check (issue 12: 2 of the uploads at concurrency 20 answered 500)."""
import json
import uuid

import eventlet
import pytest
from sqlalchemy import func, select

from gongdan_common.db import Database
from gongdan_common.errors import AppError
from services.intake import attachments, catalog, tickets
from services.intake.models import Attachment, Comment, Ticket, metadata
from services.intake.tests.test_handlers import ADMIN, CUSTOMER, SETTINGS, payload


@pytest.fixture
def db(service_database):
    url = service_database("intake", migrated=True)
    database = Database(url, metadata)
    catalog.upsert_product(ADMIN, {"code": "P1", "name": "产品", "product_line": "line"},
                            database.unit_of_work())
    yield database
    database.dispose()


def record(n):
    return {"filename": f"f{n}.png", "content_type": "image/png", "size": 10,
            "sha256": "0" * 64, "bucket": "b", "object_key": f"k/{uuid.uuid4().hex}",
            "internal": False, "kind": "intake"}


def test_concurrent_attachments_and_comments_on_one_ticket_all_land(db):
    ticket = tickets.create_ticket(CUSTOMER, payload(), db.unit_of_work(), SETTINGS)
    pool = eventlet.GreenPool(20)
    jobs = [pool.spawn(attachments.add_attachment, CUSTOMER, ticket["id"], record(n),
                       db.unit_of_work()) for n in range(20)]
    jobs += [pool.spawn(tickets.add_comment, CUSTOMER, ticket["id"], {"body": f"c{n}"},
                        db.unit_of_work()) for n in range(10)]
    for job in jobs:
        job.wait()  # raises what the handler raised (StaleDataError before the fix)
    with db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Attachment)) == 20
        assert uow.session.scalar(select(func.count()).select_from(Comment)) == 10
        final = uow.session.get(Ticket, ticket["id"])
        table = metadata.tables["outbox"]
        payloads = [json.loads(p) if isinstance(p, str) else p for p in uow.session.scalars(
            select(table.c.payload).where(table.c.type.in_(("attachment_added",
                                                             "ticket_commented"))))]
    # every write bumped the version once, and its event carries the version it made
    # (events of one ticket are ordered by it)
    versions = sorted(p["data"]["ticket"]["version"] for p in payloads)
    assert versions == list(range(2, 32)) and final.version == 31
    added = [p["data"]["ticket"] for p in payloads if p["type"] == "attachment_added"]
    assert len(added) == 20 and all(a["updated_at"] for a in added)


def _commented_events(db):
    table = metadata.tables["outbox"]
    with db.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(table)
                                  .where(table.c.type == "ticket_commented"))


def test_a_comment_with_a_request_key_lands_once_however_often_it_is_sent(db):
    """A reply retried after a crash (channels re-fetches the mail) or a repeated RPC: one
    comment, one event; sent concurrently too (the row lock / the unique key decide)."""
    ticket = tickets.create_ticket(CUSTOMER, payload(), db.unit_of_work(), SETTINGS)
    body = {"body": "同一封回复 / the same reply", "request_key": "mail-abc"}
    first = tickets.add_comment(CUSTOMER, ticket["id"], body, db.unit_of_work())
    again = tickets.add_comment(CUSTOMER, ticket["number"], body, db.unit_of_work())
    assert again == first
    pool = eventlet.GreenPool(5)
    jobs = [pool.spawn(tickets.add_comment, CUSTOMER, ticket["id"],
                       dict(body, request_key="mail-raced"), db.unit_of_work())
            for _ in range(5)]
    raced = {job.wait()["id"] for job in jobs}
    assert len(raced) == 1
    other = tickets.add_comment(CUSTOMER, ticket["id"], {"body": "x"}, db.unit_of_work())
    assert other["id"] not in raced | {first["id"]}  # no key: always a new comment
    with db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Comment)) == 3
    assert _commented_events(db) == 3
    # the same key on another ticket is another comment; on this one by someone else a 409
    second = tickets.create_ticket(CUSTOMER, payload(), db.unit_of_work(), SETTINGS)
    assert tickets.add_comment(CUSTOMER, second["id"], body,
                               db.unit_of_work())["id"] != first["id"]
    with pytest.raises(AppError) as err:
        tickets.add_comment(ADMIN, ticket["id"], body, db.unit_of_work())
    assert err.value.status == 409 and err.value.code == "request_key_used"
    assert _commented_events(db) == 4


def test_concurrent_creates_get_the_days_numbers_in_order_without_gaps(db):
    """The number counter (on PostgreSQL an upsert committed before the ticket, without
    waiting for its WAL flush): 30 concurrent creates get 30 consecutive numbers, and the
    connection goes back to the pool with synchronous commits on."""
    pool = eventlet.GreenPool(15)
    numbers = sorted(pool.imap(lambda i: tickets.create_ticket(
        CUSTOMER, payload(title=f"t{i}"), db.unit_of_work(), SETTINGS)["number"], range(30)))
    seqs = [int(n[len("TS") + 8:]) for n in numbers]
    assert seqs == list(range(seqs[0], seqs[0] + 30)) and seqs[0] == 1
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
