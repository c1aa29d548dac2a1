"""Assignment through the running dispatch service over RabbitMQ, on SQLite and PostgreSQL:
intake's ticket events (published here exactly as intake's outbox does) feed the projection
and trigger automatic dispatch; sla's timer_due times offers out; RPC callers get AppErrors;
every decision is published on `dispatch.events` with the documented data.

Runs on a private vhost (services/conftest.py), so the `intake` stand-in below never answers
another suite's calls."""
import datetime as dt
import secrets

import eventlet
import pytest
from nameko.testing.services import entrypoint_hook
from nameko.testing.utils import get_extension
from sqlalchemy import select

from gongdan_common.dependencies import UnitOfWorkProvider
from gongdan_common.entrypoints import rpc
from gongdan_common.errors import AppError
from gongdan_common.events import utcnow
from services.dispatch.models import TicketProjection

from .conftest import (ADMIN, AGENT, SHANGHAI, provider_admin, ticket_created, ticket_ref,
                       timer_due)

DAY = dt.timedelta(days=1)
PA1, PA2, PA3 = provider_admin("p1"), provider_admin("p2"), provider_admin("p3")


def today():
    return utcnow().astimezone(SHANGHAI).date()


def status(err):
    """nameko 2.14 sends an exception's ints as strings: over RPC the status is "409"."""
    return int(err.value.status)


@pytest.fixture
def call(rpc_proxy):
    return rpc_proxy("dispatch")


def make_registry(dispatch):
    """p1 上海 (Zhang e1 skill AB-7, Li e2), p2 广州 (Wang e3), p3 nationwide (Zhao e4); Qian
    e5 of p1 whose certification ended yesterday; all AnyBackup."""
    d = today()
    for pid, name, regions in [("p1", "华东服务商", ["上海"]), ("p2", "华南服务商", ["广州"]),
                               ("p3", "全国服务商", [])]:
        dispatch.upsert_provider(ADMIN, {"id": pid, "name": name, "regions": regions,
                                         "product_lines": ["AnyBackup"]})
    for eid, pid, name, skills, until in [
            ("e1", "p1", "张三", ["AB-7"], d + 200 * DAY), ("e2", "p1", "李四", [], d + 200 * DAY),
            ("e3", "p2", "王五", [], d + 200 * DAY), ("e4", "p3", "赵六", [], d + 200 * DAY),
            ("e5", "p1", "钱七", [], d - DAY)]:
        dispatch.upsert_engineer(ADMIN, {"id": eid, "provider_id": pid, "name": name,
                                         "skills": skills})
        dispatch.add_certification(ADMIN, eid, {
            "product_line": "AnyBackup", "certificate_no": f"AB-{eid}",
            "valid_from": (d - 300 * DAY).isoformat(), "valid_until": until.isoformat()})


def wait_projected(container, ticket_id, timeout=10):
    database = get_extension(container, UnitOfWorkProvider).database
    with eventlet.Timeout(timeout):
        while True:
            with database.unit_of_work() as uow:
                if uow.session.scalar(select(TicketProjection.id).where(
                        TicketProjection.id == ticket_id)):
                    return
            eventlet.sleep(0.05)


def created(container, publish, **kw):
    ref = ticket_ref(**kw)
    publish("intake", ticket_created(ref))
    wait_projected(container, ref["id"])
    return ref


ASSIGNED_KEYS = {"assignment_id", "ticket_id", "ticket_number", "engineer_id", "engineer_name",
                 "provider_id", "provider_name", "method", "chosen_by", "rule_id", "rule_name",
                 "offer_id", "certification", "open_load", "reason", "ticket"}


def test_assignment_events_carry_why(start_dispatch, call, publish, inbox):
    container = start_dispatch()
    make_registry(call)
    ref = created(container, publish, type="repair", region="上海")

    out = call.assign(AGENT, ref["id"], {"engineer_id": "e1", "reason": "熟悉客户环境"})
    event = inbox.wait_for("ticket_assigned", ticket_id=ref["id"])
    assert (event["source"], event["ticket_number"], event["actor"]["id"]) == \
        ("dispatch", ref["number"], "u-agent")
    data = event["data"]
    assert set(data) == ASSIGNED_KEYS
    assert data["assignment_id"] == out["id"]
    assert (data["engineer_id"], data["engineer_name"], data["provider_id"], data["method"]) == \
        ("e1", "张三", "p1", "manual")
    assert data["chosen_by"] == {"id": "u-agent", "role": "agent", "name": "Desk"}
    assert data["certification"]["certificate_no"] == "AB-e1"
    assert data["certification"]["valid_until"] == (today() + 200 * DAY).isoformat()
    assert (data["open_load"], data["reason"]) == (0, "熟悉客户环境")

    call.reassign(PA1, ref["id"], {"engineer_id": "e2", "reason": "张三出差"})
    event = inbox.wait_for("ticket_reassigned", ticket_id=ref["id"])
    assert set(event["data"]) == ASSIGNED_KEYS | {"previous_assignment_id",
                                                  "previous_engineer_id"}
    assert (event["data"]["previous_engineer_id"], event["data"]["reason"],
            event["data"]["chosen_by"]["role"]) == ("e1", "张三出差", "provider_admin")

    history = call.assignment_history(AGENT, ref["id"])
    assert [(i["engineer_id"], i["current"]) for i in history["items"]] == \
        [("e1", False), ("e2", True)]
    assert call.qualified_engineers(AGENT, "AnyBackup", provider_id="p1")["items"][0][
        "open_load"] in (0, 1)


def test_installation_is_dispatched_from_intakes_event(start_dispatch, call, publish, inbox):
    container = start_dispatch()
    make_registry(call)
    ref = created(container, publish, type="installation", region="上海", product="AB-7")
    event = inbox.wait_for("ticket_assigned", ticket_id=ref["id"])
    assert (event["data"]["method"], event["data"]["engineer_id"], event["actor"]["role"]) == \
        ("auto_installation", "e1", "system")  # the AB-7 skill; p2 does not cover 上海
    assert event["data"]["chosen_by"] is None

    # a provider can neither change nor cancel it; the desk can
    with pytest.raises(AppError) as err:
        call.reassign(PA1, ref["id"], {"engineer_id": "e2", "reason": "调整"})
    assert (status(err), err.value.code) == (403, "installation_locked")
    assert "服务商无权变更或取消" in err.value.message("zh")
    with pytest.raises(AppError) as err:
        call.unassign(PA1, ref["id"], {"reason": "不做"})
    assert (status(err), err.value.code) == (403, "installation_locked")
    call.reassign(AGENT, ref["id"], {"engineer_id": "e2", "reason": "客户指定"})
    inbox.wait_for("ticket_reassigned", ticket_id=ref["id"])

    # nobody covers AnyRobot: left unassigned, the desk is told why
    lost = created(container, publish, type="installation", product_line="AnyRobot")
    failed = inbox.wait_for("dispatch_failed", ticket_id=lost["id"])
    assert (failed["data"]["reason"], failed["data"]["method"]) == \
        ("no_provider", "auto_installation")
    assert call.assignment_history(AGENT, lost["id"])["items"] == []


def test_offer_declined_goes_to_the_next_provider(start_dispatch, call, publish, inbox):
    container = start_dispatch({"auto_offer": True, "offer_timeout_minutes": 90})
    make_registry(call)
    ref = created(container, publish, type="repair", region="上海")
    first = inbox.wait_for("ticket_offered", ticket_id=ref["id"])
    assert (first["data"]["provider_id"], first["data"]["round"]) == ("p1", 1)  # local first
    timer = inbox.wait_for("timer_requested", ticket_id=ref["id"])
    assert (timer["data"]["kind"], timer["data"]["owner"]) == ("offer_timeout", "dispatch")
    assert timer["data"]["payload"]["offer_id"] == first["data"]["offer_id"]
    due = dt.datetime.fromisoformat(timer["data"]["due_at"].replace("Z", "+00:00"))
    assert dt.timedelta(minutes=89) < due - utcnow() <= dt.timedelta(minutes=90)

    with pytest.raises(AppError) as err:  # only the offered provider sees and answers it
        call.decline_offer(PA3, first["data"]["offer_id"], {})
    assert (status(err), err.value.code) == (404, "offer_not_found")
    call.decline_offer(PA1, first["data"]["offer_id"], {"reason": "人手不足"})
    declined = inbox.wait_for("offer_declined", ticket_id=ref["id"])
    assert declined["data"]["reason"] == "人手不足"
    cancelled = inbox.wait_for("timer_cancelled", ticket_id=ref["id"])
    assert cancelled["data"] == {"key": timer["data"]["key"]}
    second = inbox.wait_for("ticket_offered", ticket_id=ref["id"], provider_id="p3")
    assert (second["data"]["round"], second["data"]["previous_offer_id"]) == \
        (2, first["data"]["offer_id"])

    assert [o["id"] for o in call.list_offers(PA3, {})] == [second["data"]["offer_id"]]
    call.accept_offer(PA3, second["data"]["offer_id"], {"engineer_id": "e4"})
    inbox.wait_for("offer_accepted", ticket_id=ref["id"], engineer_id="e4")
    assigned = inbox.wait_for("ticket_assigned", ticket_id=ref["id"])
    assert (assigned["data"]["method"], assigned["data"]["offer_id"]) == \
        ("offer", second["data"]["offer_id"])


def test_offer_timeout_from_slas_timer(start_dispatch, call, publish, inbox):
    container = start_dispatch({"auto_offer": True})
    make_registry(call)
    ref = created(container, publish, type="inspection", region="广州")
    first = inbox.wait_for("ticket_offered", ticket_id=ref["id"])["data"]
    assert first["provider_id"] == "p2"
    key = f"dispatch:offer:{first['offer_id']}"
    # sla fires the timer (twice: delivery is at least once); it is acted on once
    envelope = timer_due(key, "offer_timeout", "dispatch", {"offer_id": first["offer_id"]},
                         ticket_id=ref["id"])
    publish("sla", envelope)
    publish("sla", envelope)
    expired = inbox.wait_for("offer_expired", ticket_id=ref["id"])
    assert expired["data"]["offer_id"] == first["offer_id"]
    second = inbox.wait_for("ticket_offered", ticket_id=ref["id"], provider_id="p3")["data"]
    # another service's timer is not ours
    publish("sla", timer_due(f"dispatch:offer:{second['offer_id']}", "offer_timeout", "intake",
                             {"offer_id": second["offer_id"]}))
    publish("sla", timer_due(f"dispatch:offer:{second['offer_id']}", "offer_timeout",
                             "dispatch", {"offer_id": second["offer_id"]}))
    exhausted = inbox.wait_for("offer_exhausted", ticket_id=ref["id"])
    assert exhausted["data"]["tried_provider_ids"] == ["p2", "p3"]  # p1 does not cover 广州
    assert len(inbox.of("offer_expired", ticket_id=ref["id"])) == 2
    assert [o["status"] for o in call.list_offers(AGENT, {"ticket_id": ref["id"]})] == \
        ["expired", "expired"]


def test_racing_assignments_one_wins(start_dispatch, call, rpc_proxy, publish, inbox):
    container = start_dispatch()
    make_registry(call)
    ref = created(container, publish, type="repair")
    callers = [rpc_proxy("dispatch"), rpc_proxy("dispatch")]
    results = []

    def run(proxy, actor, engineer_id):
        try:
            results.append(("ok", proxy.assign(actor, ref["id"], {"engineer_id": engineer_id})))
        except AppError as err:
            results.append((int(err.status), err.code))
    pool = [eventlet.spawn(run, callers[0], AGENT, "e1"),
            eventlet.spawn(run, callers[1], ADMIN, "e3")]
    for gt in pool:
        gt.wait()
    assert sorted(r[0] for r in results if r[0] != "ok") == [409], results
    assert [r[1] for r in results if r[0] != "ok"][0] in ("already_assigned",
                                                           "assignment_conflict")
    winner = [r[1] for r in results if r[0] == "ok"][0]
    event = inbox.wait_for("ticket_assigned", ticket_id=ref["id"])
    assert event["data"]["assignment_id"] == winner["id"]
    assert len(inbox.of("ticket_assigned", ticket_id=ref["id"])) == 1


def test_bad_paths_are_app_errors(start_dispatch, call, publish):
    container = start_dispatch()
    make_registry(call)
    call.upsert_provider(ADMIN, {"id": "p1", "product_lines": ["AnyBackup", "AnyShare"]})
    repair = created(container, publish, type="repair", provider_id="p1")

    def refused(fn, *args):
        with pytest.raises(AppError) as err:
            fn(*args)
        return status(err), err.value.code, err.value

    share = created(container, publish, type="repair", product_line="AnyShare")
    code = refused(call.assign, AGENT, share["id"], {"engineer_id": "e1"})
    assert code[:2] == (409, "engineer_not_certified")
    code = refused(call.assign, AGENT, repair["id"], {"engineer_id": "e5"})
    assert code[:2] == (409, "certification_expired")
    assert (today() - DAY).isoformat() in code[2].message("en")
    code = refused(call.assign, PA1, repair["id"], {"engineer_id": "e3"})
    assert code[:2] == (403, "engineer_of_other_provider")
    code = refused(call.assign, PA2, repair["id"], {"engineer_id": "e3"})
    assert code[:2] == (404, "ticket_not_found")  # not p2's: p2 does not see it
    call.assign(PA1, repair["id"], {"engineer_id": "e1"})
    code = refused(call.reassign, PA1, repair["id"], {"engineer_id": "e2"})
    assert code[:2] == (400, "validation_failed")
    assert code[2].render("zh")["error"]["details"]["fields"]["reason"] == \
        ["请填写变更指派的原因。"]
    code = refused(call.assign, {"id": "c", "role": "customer"}, repair["id"],
                   {"engineer_id": "e1"})
    assert code[:2] == (404, "ticket_not_found")  # someone else's ticket: not seen
    code = refused(call.assign, {"id": "u-cust", "role": "customer"}, repair["id"],
                   {"engineer_id": "e1"})
    assert code[0] == 403  # the ticket's own customer sees it, and may not dispatch
    code = refused(call.create_rule, AGENT, {"name": "x", "provider_id": "p1"})
    assert code[0] == 403


class FakeIntake:
    """Stands in for intake's `ticket_state` on the test's private vhost."""
    name = "intake"
    tickets = {}

    @rpc
    def ticket_state(self, ticket_id):
        if ticket_id not in self.tickets:
            raise AppError({"code": "ticket_not_found", "status": 404,
                            "message": {"en": "Ticket not found.", "zh": "工单不存在。"}})
        return self.tickets[ticket_id]


def test_a_ticket_not_projected_yet_is_asked_of_intake(start_dispatch, call, container_factory,
                                                       rabbit_config, inbox):
    start_dispatch({"intake_timeout_seconds": 1})
    make_registry(call)
    ref = ticket_ref(type="repair", status="new", version=4)
    ref = dict(ref, created_at=ref["created_at"].isoformat(),
               updated_at=ref["updated_at"].isoformat())
    with pytest.raises(AppError) as err:  # intake is not running
        call.assign(AGENT, ref["id"], {"engineer_id": "e1"})
    assert (status(err), err.value.code) == (503, "intake_unavailable")

    FakeIntake.tickets = {ref["id"]: ref}
    intake = container_factory(FakeIntake, {"AMQP_URI": rabbit_config["AMQP_URI"]})
    intake.start()
    out = call.assign(AGENT, ref["id"], {"engineer_id": "e1"})
    assert out["ticket_number"] == ref["number"]
    inbox.wait_for("ticket_assigned", ticket_id=ref["id"])
    with pytest.raises(AppError) as err:
        call.assign(AGENT, "t-" + secrets.token_hex(6), {"engineer_id": "e1"})
    assert (status(err), err.value.code) == (404, "ticket_not_found")


def test_certification_expiring_is_sent_once(start_dispatch, call, inbox):
    container = start_dispatch({"certification_warning_days": 30})
    call.upsert_provider(ADMIN, {"id": "p1", "name": "P", "product_lines": ["AnyBackup"]})
    call.upsert_engineer(ADMIN, {"id": "e1", "provider_id": "p1", "name": "张三"})
    made = call.add_certification(ADMIN, "e1", {
        "product_line": "AnyBackup", "certificate_no": "AB-END",
        "valid_from": (today() - 300 * DAY).isoformat(),
        "valid_until": (today() + 10 * DAY).isoformat()})
    for _ in range(2):  # the daily check, run twice (or by two replicas)
        with entrypoint_hook(container, "check_certifications") as check:
            check()
    event = inbox.wait_for("certification_expiring", certification_id=made["id"])
    assert (event["data"]["days_left"], event["data"]["engineer_name"]) == (10, "张三")
    assert len(inbox.of("certification_expiring")) == 1
