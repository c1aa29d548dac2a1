"""ticket_created consumed in batches (SQLite and PostgreSQL): tickets nothing can dispatch
automatically are projected and recorded in one transaction; one automatic dispatch may
place, or someone already holds, is handled alone as before; redeliveries change nothing."""
from sqlalchemy import event, func, select

from services.dispatch import assigning, routing
from services.dispatch.models import CurrentAssignment, TicketProjection, metadata

from .conftest import ADMIN, AGENT, ticket_created, ticket_ref
from .test_assignment import outbox, registry  # noqa: F401 - fixture

PROCESSED = metadata.tables["processed_events"]


def commits(database):
    seen = []
    event.listen(database.engine, "commit", lambda conn: seen.append(1))
    return seen


def counts(uow):
    with uow:
        return (uow.session.scalar(select(func.count()).select_from(TicketProjection)),
                uow.session.scalar(select(func.count()).select_from(CurrentAssignment)),
                uow.session.scalar(select(func.count()).select_from(PROCESSED)))


def test_quiet_new_tickets_are_one_transaction(database, uow, settings):
    refs = [ticket_ref(type=t) for t in ("defect", "consult", "repair", "defect")]
    seen = commits(database)
    outcomes = routing.tickets_created([ticket_created(r) for r in refs], uow, settings)
    assert outcomes == [] and len(seen) == 1  # no rule, no automatic offer: nothing alone
    assert counts(uow) == (4, 0, 4)


def test_a_mixed_batch_places_what_it_must_and_redelivery_changes_nothing(
        database, uow, registry, settings):  # noqa: F811 - fixture
    quiet = [ticket_ref(type="defect") for _ in range(3)]
    install = ticket_ref(type="installation", region="上海", product="AB-7")
    held = ticket_ref(type="repair")
    assigning.assign(AGENT, held["id"], {"engineer_id": "e3"}, uow, settings,
                     lambda _id: dict(held, created_at=held["created_at"].isoformat(),
                                      updated_at=held["updated_at"].isoformat()))
    events = [ticket_created(r) for r in quiet + [install, held]]
    events.insert(1, events[0])  # the same event twice in one batch
    seen = commits(database)
    outcomes = routing.tickets_created(events, uow, settings)
    assert outcomes == ["assigned", None]  # the installation, then the held ticket, alone
    assert len(seen) == 3  # the batch, then one transaction each
    assert counts(uow) == (5, 2, 5)
    history = assigning.assignment_history(AGENT, install["id"], uow)["items"]
    assert [(h["engineer_id"], h["method"]) for h in history] == [("e1", "auto_installation")]
    assigned = len(outbox(uow, "ticket_assigned"))
    # the whole batch again (a redelivery after a crash before the ack): nothing new
    assert routing.tickets_created(events, uow, settings) == [None, None]
    assert counts(uow) == (5, 2, 5)
    assert len(outbox(uow, "ticket_assigned")) == assigned


def test_a_rule_that_matches_sends_the_ticket_alone(database, uow, registry, settings):  # noqa: F811
    routing.create_rule(ADMIN, {"name": "Defects to Li", "position": 1, "ticket_type": "defect",
                         "engineer_id": "e2"}, uow, settings)
    matched = ticket_ref(type="defect", product_line="AnyBackup")
    other = ticket_ref(type="consult")
    outcomes = routing.tickets_created([ticket_created(other), ticket_created(matched)],
                                       uow, settings)
    assert outcomes == ["assigned"]
    assert counts(uow) == (2, 1, 2)


def test_a_creation_overtaken_by_a_newer_version_keeps_the_newer_facts(
        database, uow, registry, settings):  # noqa: F811 - fixture
    """The batch's one upsert writes only what is newer than stored: an installation
    cancelled (version 2) before its ticket_created (version 1) arrives stays cancelled
    and is not dispatched; a fresh ticket in the same batch is projected as sent."""
    from services.dispatch import projection
    from .conftest import ticket_status_changed
    install = ticket_ref(type="installation", region="上海", product="AB-7")
    cancelled = dict(install, status="cancelled", version=2)
    projection.ticket_changed(ticket_status_changed(cancelled, "new"), uow, settings,
                              "dispatch.ticket_status_changed")
    fresh = ticket_ref(type="consult")
    seen = commits(database)
    outcomes = routing.tickets_created([ticket_created(install), ticket_created(fresh)], uow,
                                       settings)
    assert outcomes == [] and len(seen) == 1  # nothing to place: one transaction
    with uow:
        rows = {r.id: (r.status, r.version, r.type) for r in uow.session.scalars(
            select(TicketProjection))}
    assert rows[install["id"]] == ("cancelled", 2, "installation")
    assert rows[fresh["id"]] == ("new", 1, "consult")
    assert counts(uow) == (2, 0, 3)  # the status change's event is recorded too
