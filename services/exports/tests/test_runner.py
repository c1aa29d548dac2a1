"""Export jobs on a real database with fake owners and a fake store (no broker): a refused
filter leaves no job; a job runs page by page as its requester; a lease run out is taken
over and started again; deleting stops a run; a refusal fails it, an absence retries it."""
import datetime as dt
import zoneinfo

import pytest
from sqlalchemy import text

from gongdan_common.db import Database
from gongdan_common.errors import FORBIDDEN, AppError
from gongdan_common.migrate import upgrade
from services.exports import exceptions as exc, handlers, runner
from services.exports.models import Job, metadata

ALICE = {"id": "u-alice", "role": "customer_admin", "company_id": "c1", "name": "Alice"}
BOB = {"id": "u-bob", "role": "customer_admin", "company_id": "c2", "name": "Bob"}
SETTINGS = {"tz": zoneinfo.ZoneInfo("Asia/Shanghai"), "page_size": 2, "page_pause": 0,
            "lease_seconds": 60, "keep_days": 7, "max_active": 3, "rpc_timeout": 5,
            "max_attempts": 2, "spool_dir": None, "link_ttl": 60}


class FakeOwners:
    def __init__(self, n=5, refuse=None, fail_at=None):
        self.rows = [{"number": f"TS{i:03d}", "title": f"t{i}", "status": "new",
                      "created_at": "2026-12-07T02:00:00Z"} for i in range(n)]
        self.refuse, self.fail_at, self.calls = refuse, fail_at, []
        self.on_page = None

    def page(self, kind, actor, filters, after, limit):
        self.calls.append((actor["id"], after, limit))
        if self.refuse:
            raise self.refuse
        start = after or 0
        if self.fail_at is not None and start >= self.fail_at:
            raise exc.OWNER_UNAVAILABLE()
        if self.on_page:
            self.on_page(start)
        items = self.rows[start:start + limit]
        out = {"items": items, "next": start + limit if start + limit < len(self.rows) else None}
        if after is None:
            out["total"] = len(self.rows)
        return out


class FakeStore:
    def __init__(self):
        self.objects = {}

    def put_stream(self, key, reader, length, content_type):
        self.objects[key] = reader.read(length)

    def delete(self, key):
        self.objects.pop(key, None)

    def presigned_get(self, key, name, ttl):
        return f"http://s3/{key}?name={name}"


@pytest.fixture
def uow(service_database):
    url = service_database("exports")
    upgrade("exports", url)
    db = Database(url, metadata)
    yield db.unit_of_work
    db.dispose()


def test_a_refused_filter_leaves_no_job(uow):
    owners = FakeOwners(refuse=FORBIDDEN())
    with pytest.raises(AppError) as err:
        handlers.create_export(ALICE, {"kind": "tickets"}, uow(), owners, SETTINGS)
    assert err.value.status == 403
    with pytest.raises(AppError):
        handlers.create_export(ALICE, {"kind": "tickets", "columns": ["nope"]}, uow(),
                               FakeOwners(), SETTINGS)
    assert handlers.list_exports(ALICE, uow())["items"] == []


def test_a_job_runs_as_its_requester_and_only_they_see_it(uow):
    owners, store = FakeOwners(5), FakeStore()
    job = handlers.create_export(ALICE, {"kind": "tickets", "columns": ["number", "status"]},
                                 uow(), owners, SETTINGS)
    assert job["status"] == "queued" and job["rows_total"] == 5
    assert runner.run_all(owners, uow(), store, SETTINGS) == ["done"]
    assert {c[0] for c in owners.calls} == {"u-alice"}
    done = handlers.get_export(ALICE, job["id"], uow())
    assert done["status"] == "done" and done["rows_done"] == 5 and done["expires_at"]
    data = next(iter(store.objects.values())).decode("utf-8-sig").splitlines()
    assert data == ["工单编号,状态"] + [f"TS{i:03d},新建" for i in range(5)]
    for call in (lambda: handlers.get_export(BOB, job["id"], uow()),
                 lambda: handlers.download(BOB, job["id"], uow(), store, SETTINGS),
                 lambda: handlers.delete_export(BOB, job["id"], uow(), store)):
        with pytest.raises(AppError) as err:
            call()
        assert err.value.status == 404
    assert handlers.download(ALICE, job["id"], uow(), store, SETTINGS)["url"].startswith("http")
    assert [e["data"] for e in _events(uow, "export_finished")] == [{
        "job_id": job["id"], "owner_id": "u-alice", "kind": "tickets", "format": "csv",
        "file_name": job["file_name"], "rows": 5, "size": done["size"],
        "expires_at": done["expires_at"]}]
    handlers.delete_export(ALICE, job["id"], uow(), store)
    assert store.objects == {}


def test_a_lease_run_out_is_taken_over_and_started_again(uow):
    owners, store = FakeOwners(5), FakeStore()
    job = handlers.create_export(ALICE, {"kind": "tickets"}, uow(), owners, SETTINGS)
    first = runner.claim(uow(), SETTINGS)  # a worker that dies holding it
    assert first["id"] == job["id"]
    assert runner.claim(uow(), SETTINGS) is None  # leased
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=61)
    second = runner.claim(uow(), SETTINGS, now=later)
    assert second["id"] == job["id"] and second["attempt"] == 2
    assert runner.run(second, owners, uow(), store, SETTINGS) == "done"
    # the first worker, come back, may not write over it
    with pytest.raises(runner.Stopped):
        runner._progress(uow(), first, SETTINGS, rows_done=1)


def test_deleting_stops_a_run_and_stopping_hands_it_back(uow):
    owners, store = FakeOwners(6), FakeStore()
    job = handlers.create_export(ALICE, {"kind": "tickets"}, uow(), owners, SETTINGS)
    owners.on_page = lambda start: start == 2 and handlers.delete_export(
        ALICE, job["id"], uow(), store)
    assert runner.run_all(owners, uow(), store, SETTINGS) == ["stopped"]
    assert store.objects == {}
    job = handlers.create_export(ALICE, {"kind": "tickets"}, uow(), FakeOwners(), SETTINGS)
    owners = FakeOwners(6)
    assert runner.run_all(owners, uow(), store, SETTINGS,
                          stopping=lambda: bool(owners.calls)) == ["released"]
    back = handlers.get_export(ALICE, job["id"], uow())
    assert back["status"] == "queued" and back["rows_done"] == 0
    assert runner.claim(uow(), SETTINGS)["attempt"] == 1  # a hand-back is not an attempt


def test_a_refusal_fails_and_an_absence_retries(uow):
    store = FakeStore()
    job = handlers.create_export(ALICE, {"kind": "tickets"}, uow(), FakeOwners(), SETTINGS)
    assert runner.run_all(FakeOwners(refuse=FORBIDDEN()), uow(), store, SETTINGS) == ["failed"]
    failed = handlers.get_export(ALICE, job["id"], uow())
    assert failed["status"] == "failed" and failed["error"]["zh"] and failed["error"]["en"]
    job = handlers.create_export(ALICE, {"kind": "tickets"}, uow(), FakeOwners(), SETTINGS)
    away = FakeOwners(5, fail_at=2)
    assert runner.run_all(away, uow(), store, SETTINGS) == ["retry"]
    assert handlers.get_export(ALICE, job["id"], uow())["status"] == "queued"
    with uow() as u:  # its retry time has come
        u.session.get(Job, job["id"]).lease_until = None
        u.commit()
    assert runner.run_all(away, uow(), store, SETTINGS) == ["failed"]  # max_attempts 2
    assert handlers.get_export(ALICE, job["id"], uow())["error"]["code"] == "service_unavailable"
    assert [e["data"]["error"]["code"] for e in _events(uow, "export_failed")] == [
        "forbidden", "service_unavailable"]


def _events(uow, kind):
    import json
    with uow() as u:
        rows = u.session.execute(text("SELECT type, payload FROM outbox ORDER BY id")).all()
    payloads = [p if isinstance(p, dict) else json.loads(p) for t, p in rows if t == kind]
    return payloads


def test_too_many_at_once_and_expiry(uow):
    owners, store = FakeOwners(), FakeStore()
    for _ in range(3):
        handlers.create_export(ALICE, {"kind": "tickets"}, uow(), owners, SETTINGS)
    with pytest.raises(AppError) as err:
        handlers.create_export(ALICE, {"kind": "tickets"}, uow(), owners, SETTINGS)
    assert err.value.status == 429
    runner.run_all(owners, uow(), store, SETTINGS)
    assert len(store.objects) == 3
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=8)
    assert handlers.expire(uow(), store, now=later) == 3
    assert store.objects == {}
    assert {j["status"] for j in handlers.list_exports(ALICE, uow())["items"]} == {"expired"}
