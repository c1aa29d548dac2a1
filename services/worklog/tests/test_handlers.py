"""Worklog handlers against a real database (SQLite and PostgreSQL), no broker: intake's
`ticket_state` is a fake that answers what each test sets."""
import pytest
from sqlalchemy import func, select

from gongdan_common.errors import AppError
from gongdan_common.labels import label
from services.worklog import handlers
from services.worklog.models import Entry, EntryChange, metadata

from .conftest import (ADMIN, AGENT, CUSTOMER, CUSTOMER_ADMIN, ENGINEER, HOUR, MINUTE, NOW,
                       OTHER_CUSTOMER, OTHER_ENGINEER, OTHER_PROVIDER_ADMIN, PROVIDER_ADMIN,
                       iso)


def body(start=NOW - 3 * HOUR, end=NOW - HOUR, **over):
    out = {"started_at": iso(start), "ended_at": iso(end), "title": "现场更换硬盘",
           "description": "更换故障硬盘并重建 RAID; replaced the failed disk, rebuilt RAID 5.",
           "on_site": True}
    out.update(over)
    return out


def add(database, intake, settings, actor=ENGINEER, ticket_id="t-1", **over):
    return handlers.add_entry(actor, ticket_id, body(**over), database.unit_of_work(), intake,
                              settings)


def refused(fn, *args, **kw):
    with pytest.raises(AppError) as err:
        fn(*args, **kw)
    return err.value


def outbox(database):
    table = metadata.tables["outbox"]
    with database.unit_of_work() as uow:
        return [r.payload for r in uow.session.execute(select(table.c.payload)
                                                       .order_by(table.c.id))]


def count(database, model):
    with database.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def t1(intake):
    return intake.set()


# ---- add ----------------------------------------------------------------------------

def test_the_handler_logs_work_and_worklog_added_is_in_the_outbox(database, intake, settings,
                                                                  t1):
    e = add(database, intake, settings)
    assert set(e) == {"id", "ticket_id", "ticket_number", "started_at", "ended_at", "seconds",
                      "minutes", "title", "description", "on_site", "handler", "author",
                      "product_line", "provider_id", "version", "edited", "created_at",
                      "updated_at"}
    assert (e["ticket_id"], e["ticket_number"], e["seconds"], e["minutes"]) == (
        "t-1", "TS20261122001", 7200, 120)
    assert e["started_at"] == iso(NOW - 3 * HOUR) and e["created_at"] == iso(NOW)
    assert e["handler"] == {"id": ENGINEER["id"], "name": "张工"}
    assert e["author"] == {"id": ENGINEER["id"], "role": "engineer", "name": "张工"}
    assert (e["product_line"], e["provider_id"], e["edited"]) == ("AnyBackup", "prov-1", False)
    assert intake.calls == ["t-1"]

    [event] = outbox(database)
    assert (event["type"], event["source"], event["ticket_id"], event["ticket_number"]) == (
        "worklog_added", "worklog", "t-1", "TS20261122001")
    assert event["actor"]["id"] == ENGINEER["id"]
    assert event["data"] == {
        "entry_id": e["id"], "ticket_id": "t-1", "ticket_number": "TS20261122001",
        "handler": {"id": ENGINEER["id"], "name": "张工"}, "started_at": iso(NOW - 3 * HOUR),
        "ended_at": iso(NOW - HOUR), "minutes": 120, "seconds": 7200, "title": "现场更换硬盘",
        "on_site": True, "product_line": "AnyBackup", "provider_id": "prov-1", "version": 1}


def test_long_bilingual_descriptions_are_kept_whole(database, intake, settings, t1):
    text = ("故障现象：备份任务失败。Symptom: backup job fails. " * 800)[:20000].strip()
    e = add(database, intake, settings, description=text)
    assert e["description"] == text
    err = refused(add, database, intake, settings, ENGINEER, "t-1", description="字" * 20001)
    assert err.status == 400
    assert err.details["fields"]["description"][0]["zh"] == "工作描述须为 1 到 20000 个字符。"


def test_the_desk_may_log_work_naming_the_engineer(database, intake, settings, t1):
    e = add(database, intake, settings, AGENT, handler={"id": "u-eng-li", "name": "李工"})
    assert e["handler"] == {"id": "u-eng-li", "name": "李工"}
    assert e["author"]["role"] == "agent"
    assert add(database, intake, settings, ADMIN)["handler"]["id"] == ADMIN["id"]


def test_an_engineer_may_not_log_for_someone_else(database, intake, settings, t1):
    err = refused(add, database, intake, settings, ENGINEER, "t-1",
                  handler={"id": "u-eng-li", "name": "李工"})
    assert (err.status, err.code) == (403, "forbidden")


@pytest.mark.parametrize("status, zh, en", [
    ("suspended", "已挂起", "Suspended"), ("assigned", "已指派", "Assigned"),
    ("resolved", "已解决", "Resolved"), ("closed", "已关闭", "Closed")])
def test_only_tickets_in_progress_accept_work(database, intake, settings, status, zh, en):
    intake.set(status=status)
    err = refused(add, database, intake, settings)
    assert (err.status, err.code, err.details) == (409, "ticket_not_in_progress",
                                                  {"status": status})
    assert f"“{en}”" in err.message("en") and f"“{zh}”" in err.message("zh")
    assert outbox(database) == [] and count(database, Entry) == 0


def test_someone_elses_ticket_is_refused(database, intake, settings):
    intake.set(handler_id=OTHER_ENGINEER["id"])
    # an engineer who is not the handler does not see the ticket: not found, as for a
    # ticket that does not exist (no existence oracle)
    err = refused(add, database, intake, settings)
    assert (err.status, err.code) == (404, "ticket_not_found")
    # the desk's refusals name the rule (it sees every ticket)
    intake.set(status="assigned")
    assert refused(add, database, intake, settings, AGENT).status == 409


@pytest.mark.parametrize("actor", [CUSTOMER, CUSTOMER_ADMIN, PROVIDER_ADMIN])
def test_customers_and_provider_admins_cannot_write(database, intake, settings, t1, actor):
    err = refused(add, database, intake, settings, actor)  # they see the ticket: 403
    assert err.status == 403 and label("role", actor["role"], "zh") in err.message("zh")
    intake.set(submitter_id="u-else", company_id="c-else", provider_id="prov-else")
    err = refused(add, database, intake, settings, actor)  # they do not: 404
    assert (err.status, err.code) == (404, "ticket_not_found")


def test_unknown_ticket_is_404(database, intake, settings):
    err = refused(add, database, intake, settings, ENGINEER, "t-missing")
    assert (err.status, err.code) == (404, "ticket_not_found")


def test_end_before_start_is_a_field_error_in_both_languages(database, intake, settings, t1):
    err = refused(add, database, intake, settings, ENGINEER, "t-1",
                  start=NOW - HOUR, end=NOW - 2 * HOUR)
    assert (err.status, err.code) == (400, "validation_failed")
    assert err.details["fields"] == {"ended_at": [{"en": "The end must be after the start.",
                                                   "zh": "结束时间必须晚于开始时间。"}]}
    assert count(database, Entry) == 0 and outbox(database) == []


def test_future_and_too_long_entries_are_refused(database, intake, settings, t1):
    err = refused(add, database, intake, settings, ENGINEER, "t-1",
                  start=NOW - HOUR, end=NOW + 6 * MINUTE)
    assert err.details["fields"]["ended_at"][0]["zh"] == "不能晚于当前时间。"
    err = refused(add, database, intake, settings, ENGINEER, "t-1",
                  start=NOW - 30 * HOUR, end=NOW - 5 * HOUR)
    assert "24" in err.details["fields"]["ended_at"][0]["en"]
    add(database, intake, settings, start=NOW - HOUR, end=NOW + 4 * MINUTE)  # clock skew


def test_bad_input_is_400_with_field_messages(database, intake, settings, t1):
    err = refused(handlers.add_entry, ENGINEER, "t-1",
                  {"started_at": "yesterday", "title": "  ", "colour": "red"},
                  database.unit_of_work(), intake, settings)
    fields = err.details["fields"]
    assert set(fields) == {"started_at", "ended_at", "title", "description", "colour"}
    assert fields["ended_at"][0]["zh"] == "缺少必填字段。"
    assert refused(handlers.add_entry, ENGINEER, "t-1", ["x"], database.unit_of_work(),
                   intake, settings).status == 400
    assert refused(handlers.add_entry, None, "t-1", body(), database.unit_of_work(),
                   intake, settings).status == 403


def test_a_retried_add_with_the_same_request_key_returns_the_first_entry(database, intake,
                                                                          settings, t1):
    a = add(database, intake, settings, request_key="k-1")
    intake.set(status="suspended")  # whatever happened since, the retry gets its answer
    b = add(database, intake, settings, request_key="k-1")
    assert a == b and count(database, Entry) == 1 and len(outbox(database)) == 1


# ---- correct ------------------------------------------------------------------------

def update(database, intake, settings, actor, entry_id, patch):
    return handlers.update_entry(actor, entry_id, patch, database.unit_of_work(), intake,
                                 settings)


def delete(database, intake, settings, actor, entry_id):
    return handlers.delete_entry(actor, entry_id, database.unit_of_work(), intake, settings)


def history(database, intake, actor, entry_id):
    return handlers.entry_history(actor, entry_id, database.unit_of_work(), intake)["items"]


def test_the_author_corrects_an_entry_and_the_change_is_kept(database, intake, settings, t1):
    e = add(database, intake, settings)
    out = update(database, intake, settings, ENGINEER, e["id"],
                 {"ended_at": iso(NOW - 2 * HOUR), "title": "更换硬盘", "expected_version": 1})
    assert (out["minutes"], out["title"], out["version"], out["edited"]) == (60, "更换硬盘", 2,
                                                                             True)
    changes = history(database, intake, ENGINEER, e["id"])
    assert [c["action"] for c in changes] == ["create", "update"]
    assert changes[1]["actor"] == {"id": ENGINEER["id"], "role": "engineer", "name": "张工"}
    assert changes[1]["at"] == iso(NOW)
    assert (changes[1]["before"]["ended_at"], changes[1]["after"]["ended_at"]) == (
        iso(NOW - HOUR), iso(NOW - 2 * HOUR))
    assert changes[1]["before"]["title"] == "现场更换硬盘"
    event = outbox(database)[-1]
    assert event["type"] == "worklog_updated" and event["ticket_number"] == "TS20261122001"
    assert event["data"]["changes"] == {"ended_at": [iso(NOW - HOUR), iso(NOW - 2 * HOUR)],
                                        "title": ["现场更换硬盘", "更换硬盘"]}
    assert (event["data"]["minutes"], event["data"]["version"]) == (60, 2)


def test_a_correction_that_changes_nothing_records_nothing(database, intake, settings, t1):
    e = add(database, intake, settings)
    out = update(database, intake, settings, ENGINEER, e["id"], {"title": e["title"]})
    assert out["version"] == 1 and len(outbox(database)) == 1
    assert len(history(database, intake, ENGINEER, e["id"])) == 1


def test_corrected_times_are_checked_again(database, intake, settings, t1):
    e = add(database, intake, settings)
    err = refused(update, database, intake, settings, ENGINEER, e["id"],
                  {"started_at": iso(NOW - 30 * MINUTE)})  # after the stored end
    assert err.details["fields"]["ended_at"][0]["en"] == "The end must be after the start."
    assert refused(update, database, intake, settings, ENGINEER, e["id"], {}).status == 400


def test_only_the_author_or_the_desk_corrects(database, intake, settings, t1):
    e = add(database, intake, settings)
    intake.set(handler_id=OTHER_ENGINEER["id"])  # reassigned: the new handler is not the author
    err = refused(update, database, intake, settings, OTHER_ENGINEER, e["id"], {"title": "x"})
    assert (err.status, err.code) == (403, "not_author")
    assert refused(delete, database, intake, settings, CUSTOMER, e["id"]).status == 403
    # someone who may not see the ticket is not told the entry exists
    err = refused(delete, database, intake, settings, OTHER_CUSTOMER, e["id"])
    assert (err.status, err.code) == (404, "worklog_entry_not_found")
    assert update(database, intake, settings, AGENT, e["id"], {"on_site": False})["on_site"] \
        is False
    # the author still may, though no longer the handler
    assert update(database, intake, settings, ENGINEER, e["id"], {"title": "y"})["title"] == "y"


def test_no_corrections_once_the_ticket_left_in_progress(database, intake, settings, t1):
    e = add(database, intake, settings)
    intake.set(status="suspended")
    err = refused(update, database, intake, settings, ENGINEER, e["id"], {"title": "x"})
    assert (err.status, err.details) == (409, {"status": "suspended"})
    assert refused(delete, database, intake, settings, AGENT, e["id"]).status == 409


def test_a_stale_version_is_refused(database, intake, settings, t1):
    e = add(database, intake, settings)
    update(database, intake, settings, AGENT, e["id"], {"title": "desk fix"})
    err = refused(update, database, intake, settings, ENGINEER, e["id"],
                  {"title": "mine", "expected_version": 1})
    assert (err.status, err.code) == (409, "stale_version")


def test_delete_stops_the_entry_counting_but_keeps_its_history(database, intake, settings, t1):
    keep = add(database, intake, settings, start=NOW - 5 * HOUR, end=NOW - 4 * HOUR)
    gone = add(database, intake, settings)
    out = delete(database, intake, settings, ENGINEER, gone["id"])
    assert out == {"id": gone["id"], "ticket_id": "t-1", "deleted": True, "deleted_at": iso(NOW)}
    listed = handlers.list_entries(CUSTOMER, "t-1", database.unit_of_work(), intake)
    assert [i["id"] for i in listed["items"]] == [keep["id"]]
    spent = handlers.ticket_time(AGENT, "t-1", database.unit_of_work(), intake)
    assert (spent["minutes"], spent["entries"]) == (60, 1)
    changes = history(database, intake, AGENT, gone["id"])
    assert [c["action"] for c in changes] == ["create", "delete"]
    assert changes[1]["after"] is None and changes[1]["before"]["title"] == "现场更换硬盘"
    event = outbox(database)[-1]
    assert (event["type"], event["data"]["entry_id"], event["data"]["version"]) == (
        "worklog_deleted", gone["id"], 2)
    err = refused(delete, database, intake, settings, ENGINEER, gone["id"])
    assert (err.status, err.code) == (404, "worklog_entry_not_found")
    assert count(database, EntryChange) == 3


# ---- read ---------------------------------------------------------------------------

def listing(database, intake, actor, ticket_id="t-1"):
    return handlers.list_entries(actor, ticket_id, database.unit_of_work(), intake)


def test_everyone_who_may_see_the_ticket_reads_its_work_log(database, intake, settings, t1):
    a = add(database, intake, settings, start=NOW - 2 * HOUR, end=NOW - HOUR)
    b = add(database, intake, settings, AGENT, start=NOW - 6 * HOUR, end=NOW - 5 * HOUR)
    for actor in (CUSTOMER, CUSTOMER_ADMIN, PROVIDER_ADMIN, ENGINEER, AGENT, ADMIN):
        out = listing(database, intake, actor)
        assert [i["id"] for i in out["items"]] == [b["id"], a["id"]], actor  # by start
        assert (out["ticket_number"], out["ticket_status"], out["total"]) == (
            "TS20261122001", "in_progress", 2)
    assert [i["can_edit"] for i in listing(database, intake, ENGINEER)["items"]] == [False,
                                                                                    True]
    assert [i["can_edit"] for i in listing(database, intake, AGENT)["items"]] == [True, True]
    assert [i["can_edit"] for i in listing(database, intake, CUSTOMER)["items"]] == [False,
                                                                                    False]
    assert listing(database, intake, ENGINEER)["can_add"] is True
    assert listing(database, intake, CUSTOMER)["can_add"] is False


@pytest.mark.parametrize("actor", [OTHER_CUSTOMER, OTHER_ENGINEER, OTHER_PROVIDER_ADMIN])
def test_others_get_404_for_tickets_they_may_not_see(database, intake, settings, t1, actor):
    e = add(database, intake, settings)
    for fn, arg in ((handlers.list_entries, "t-1"), (handlers.ticket_time, "t-1"),
                    (handlers.entry_history, e["id"])):
        err = refused(fn, actor, arg, database.unit_of_work(), intake)
        assert err.status == 404


def test_time_spent_on_a_ticket(database, intake, settings, t1):
    add(database, intake, settings, start=NOW - 10 * HOUR, end=NOW - 8 * HOUR)
    add(database, intake, settings, start=NOW - 3 * HOUR, end=NOW - 150 * MINUTE, on_site=False)
    add(database, intake, settings, AGENT, start=NOW - 4 * HOUR, end=NOW - 3 * HOUR,
        handler={"id": "u-eng-li", "name": "李工"})
    intake.set(status="closed")  # reading a closed ticket's time is fine
    out = handlers.ticket_time(CUSTOMER, "t-1", database.unit_of_work(), intake)
    assert out == {
        "ticket_id": "t-1", "ticket_number": "TS20261122001", "seconds": 3.5 * 3600,
        "minutes": 210, "entries": 3, "on_site_entries": 2,
        "first_started_at": iso(NOW - 10 * HOUR), "last_ended_at": iso(NOW - 150 * MINUTE),
        "engineers": [
            {"engineer_id": ENGINEER["id"], "engineer_name": "张工", "seconds": 9000,
             "minutes": 150, "entries": 2, "on_site_entries": 1,
             "first_started_at": iso(NOW - 10 * HOUR), "last_ended_at": iso(NOW - 150 * MINUTE)},
            {"engineer_id": "u-eng-li", "engineer_name": "李工", "seconds": 3600, "minutes": 60,
             "entries": 1, "on_site_entries": 1, "first_started_at": iso(NOW - 4 * HOUR),
             "last_ended_at": iso(NOW - 3 * HOUR)}]}


def test_time_spent_on_a_ticket_without_entries(database, intake, t1):
    out = handlers.ticket_time(ENGINEER, "t-1", database.unit_of_work(), intake)
    assert (out["minutes"], out["entries"], out["first_started_at"], out["engineers"]) == (
        0, 0, None, [])


# ---- engineer time ------------------------------------------------------------------

def report(database, actor, **query):
    query.setdefault("from", iso(NOW - 7 * 24 * HOUR))
    query.setdefault("to", iso(NOW))
    return handlers.engineer_time(actor, query, database.unit_of_work())


@pytest.fixture
def worked(database, intake, settings):
    """Zhang: 2 h on t-1 (AnyBackup, prov-1, on site), 1 h on t-2 (AnyShare, prov-1).
    Li: 30 min on t-3 (AnyBackup, prov-2). One more of Zhang's, 9 days ago, outside the week."""
    intake.set()
    intake.set(ticket_id="t-2", number="TS20261122002", product_line="AnyShare")
    intake.set(ticket_id="t-3", number="TS20261122003", provider_id="prov-2",
               handler_id=OTHER_ENGINEER["id"], created_at=iso(NOW - 30 * 24 * HOUR))
    add(database, intake, settings)
    add(database, intake, settings, ticket_id="t-2", start=NOW - 5 * HOUR, end=NOW - 4 * HOUR,
        on_site=False)
    add(database, intake, settings, OTHER_ENGINEER, ticket_id="t-3", start=NOW - 2 * HOUR,
        end=NOW - 90 * MINUTE, on_site=False)
    add(database, intake, settings, OTHER_ENGINEER, ticket_id="t-3",
        start=NOW - 9 * 24 * HOUR, end=NOW - 9 * 24 * HOUR + HOUR)
    # the ticket moving to another provider later does not move the logged time
    intake.set(provider_id="prov-9")


def test_the_desk_sees_every_engineer(database, worked):
    out = report(database, AGENT)
    assert (out["from"], out["to"], out["filters"]) == (iso(NOW - 7 * 24 * HOUR), iso(NOW), {})
    assert out["totals"] == {"seconds": 3.5 * 3600, "minutes": 210, "entries": 3,
                             "on_site_entries": 1, "tickets": 3,
                             "first_started_at": iso(NOW - 5 * HOUR),
                             "last_ended_at": iso(NOW - HOUR)}
    zhang, li = out["engineers"]
    assert (zhang["engineer_id"], zhang["engineer_name"], zhang["minutes"], zhang["tickets"],
            zhang["on_site_entries"]) == (ENGINEER["id"], "张工", 180, 2, 1)
    assert zhang["product_lines"] == [
        {"product_line": "AnyBackup", "seconds": 7200, "minutes": 120, "entries": 1},
        {"product_line": "AnyShare", "seconds": 3600, "minutes": 60, "entries": 1}]
    assert (li["engineer_id"], li["minutes"]) == (OTHER_ENGINEER["id"], 30)


def test_filters_by_product_line_and_provider(database, worked):
    out = report(database, ADMIN, product_line="AnyBackup")
    assert [(e["engineer_id"], e["minutes"]) for e in out["engineers"]] == [
        (ENGINEER["id"], 120), (OTHER_ENGINEER["id"], 30)]
    out = report(database, ADMIN, provider_id="prov-2")
    assert [e["engineer_id"] for e in out["engineers"]] == [OTHER_ENGINEER["id"]]


def test_an_engineer_sees_only_their_own_time(database, worked):
    out = report(database, ENGINEER)
    assert [e["engineer_id"] for e in out["engineers"]] == [ENGINEER["id"]]
    assert out["filters"] == {"engineer_id": ENGINEER["id"]}
    err = refused(report, database, ENGINEER, engineer_id=OTHER_ENGINEER["id"])
    assert err.status == 403


def test_a_provider_admin_sees_their_providers_engineers(database, worked):
    out = report(database, PROVIDER_ADMIN)
    assert [e["engineer_id"] for e in out["engineers"]] == [ENGINEER["id"]]
    assert out["totals"]["minutes"] == 180
    assert refused(report, database, PROVIDER_ADMIN, provider_id="prov-2").status == 403
    assert report(database, OTHER_PROVIDER_ADMIN)["totals"]["minutes"] == 30


def test_customers_get_no_engineer_time_and_periods_are_checked(database, worked):
    assert refused(report, database, CUSTOMER_ADMIN).status == 403
    err = refused(report, database, AGENT, to=iso(NOW - 8 * 24 * HOUR))
    assert err.details["fields"]["to"][0]["zh"] == "结束时间（to）必须晚于开始时间（from）。"
    assert refused(report, database, AGENT, **{"from": "soon"}).status == 400
    assert "from" in refused(handlers.engineer_time, AGENT, {"to": iso(NOW)},
                             database.unit_of_work()).details["fields"]
