"""Writes that do not depend on what the caller saw (comments, attachments) never fail on a
concurrent write to the same ticket: they wait for its row lock instead of losing the
version check (issue 12: 2 of the uploads at concurrency 20 answered 500)."""
import uuid

import eventlet
import pytest
from sqlalchemy import func, select

from gongdan_common.db import Database
from services.intake import attachments, catalog, tickets
from services.intake.models import Attachment, Comment, metadata
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
