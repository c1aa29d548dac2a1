"""The plan that reads a keyword's page (services/intake/search_plans.py), on SQLite and
PostgreSQL (no broker): which plan is chosen, and that every plan answers the same rows in
the same order, for frequent and rare, Chinese and English keywords."""
import datetime as dt

import pytest
from sqlalchemy import text

from gongdan_common.db import Database
from gongdan_common.migrate import upgrade
from services.intake import listing, search_plans
from services.intake.models import Ticket, metadata

ADMIN = {"id": "adm", "role": "admin", "name": "Admin"}
T0 = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
# (title, description): 登录 and timeout frequent, 锁定 / E4021 / 打印 rare
KINDS = [("无法登录系统", "登录时提示账号被锁定"),
         ("Export times out", "Export to Excel: timeout after 60 seconds"),
         ("无法登录 VPN", "VPN login fails with error E4021"),
         ("登录后页面空白", "Login works, then a blank page; gateway timeout 504"),
         ("打印机卡纸", "打印预览正常")]
N = 60


@pytest.fixture
def db(service_database):
    url = service_database("intake")
    upgrade("intake", url)
    database = Database(url, metadata)
    with database.unit_of_work() as uow:
        for i in range(N):
            title, description = KINDS[i % len(KINDS)] if i < N - 5 else KINDS[i % 2]
            if i == 3:  # the rare ones also once among the oldest
                title, description = KINDS[4]
            uow.session.add(Ticket(
                number=f"TS20261101{i:03d}", type="defect", title=f"{title} #{i}",
                product="P1", product_line="line", category="function",
                description=description, environment={}, impact="individual",
                urgency="low", priority="P4", contact_phone="138",
                status=("closed", "new", "in_progress")[i % 3], submitter_id=f"u{i % 4}",
                submitter_name="程丽" if i % 4 == 0 else "Alice Chen",
                company_id=f"c{i % 2}", company_name="杭州云启科技有限公司",
                # pairs of tickets share a creation time: the id breaks the tie
                created_at=T0 + dt.timedelta(hours=i // 2), updated_at=T0))
        uow.commit()
    if database.engine.dialect.name == "postgresql":
        with database.engine.begin() as conn:
            conn.execute(text("ANALYZE tickets"))
    search_plans._stats.clear()
    yield database
    search_plans._stats.clear()
    database.dispose()


def read(db, keyword, mode="indexed", **query):
    q = {"keyword": keyword, "page_size": 5, **query}
    q.setdefault("sort", "-created_at")
    q = listing.load(listing.schemas.ListQuerySchema(), q)
    with db.unit_of_work() as uow:
        base = listing.list_query(ADMIN, q, uow.session.bind.dialect.name, keyword=False)
        page = search_plans.read_page(uow.session, base, keyword, q["sort"],
                                      (q["page"] - 1) * q["page_size"], q["page_size"], mode,
                                      listing.split_of(q))
        return page.plan, [t.number for t in page.rows], page.total, page.exact


def test_choice_of_plan():
    choose = search_plans.choose
    assert choose("sqlite", "indexed", "-created_at", "登录") == "scan"
    assert choose("postgresql", "scan", "-created_at", "登录") == "scan"
    assert choose("postgresql", "indexed", "-created_at", "登录") == "walk"
    assert choose("postgresql", "indexed", "number", "timeout") == "walk"
    assert choose("postgresql", "indexed", "-updated_at", "登录") == "planner"  # no btree
    assert choose("postgresql", "indexed", "-created_at", "IE") == "planner"    # no index key
    assert choose("postgresql", "indexed", "-created_at", "") == "planner"
    assert choose("postgresql", "indexed", "-created_at", "ts20261101") == "planner"
    assert choose("postgresql", "planner", "-created_at", "登录") == "planner"
    assert search_plans.budget(20) == 10_000 and search_plans.budget(10_000) == 25_000


def test_plan_per_keyword(db, monkeypatch):
    postgres = db.engine.dialect.name == "postgresql"
    plan = lambda keyword, **q: read(db, keyword, **q)[0]  # noqa: E731
    if not postgres:  # SQLite: one LIKE scan, whatever the keyword
        assert {plan("登录"), plan("E4021"), plan("锁")} == {"scan"}
        return
    assert plan("登录") == "walk" and plan("timeout") == "walk"
    # a keyword the walk's budget does not find enough of: handed to the bitmap
    monkeypatch.setattr(search_plans, "WALK_ROWS_PER_ROW", 2)
    monkeypatch.setattr(search_plans, "PROBE_ROWS_PER_ROW", 1)
    assert plan("打印") == "bitmap" and plan("E4021") == "bitmap"
    monkeypatch.undo()
    # the grams' statistics: ANALYZE listed the pairs, and a pair they call rare goes
    # to the bitmap without walking
    with db.unit_of_work() as uow:
        stats = search_plans.table_stats(uow.session)
    assert stats["rows"] == N and stats["grams"]["登录"] > 0.5 and 0 < stats["floor"] <= 1
    search_plans._stats.clear()
    monkeypatch.setattr(search_plans, "table_stats", lambda session: {
        "rows": N, "grams": {"登录": 0.6}, "floor": 0.0001})
    assert plan("登录") == "walk" and plan("打印机") == "bitmap"
    assert plan("timeout") == "walk"  # no CJK: no bound, the walk decides
    assert plan("TS20261101") == "planner"  # a number to the day: a few tickets


def test_walk_stages():
    assert search_plans.stages(20) == (500, 2_500, 10_000)
    assert search_plans.stages(1_000) == (25_000,)  # the probe is the budget: one stage


def test_a_lucky_hit_in_the_probe_costs_one_stage_not_the_budget(db, monkeypatch):
    """One match among the newest tickets and no other: the probe finds it, the next stage
    finds nothing more and the walk hands over to the bitmap there, without walking the
    rest of the budget."""
    with db.unit_of_work() as uow:
        uow.session.add(Ticket(
            number="TS20261201001", type="defect", title="独一无二 Zyxwv", product="P1",
            product_line="line", category="function", description="-", environment={},
            impact="individual", urgency="low", priority="P4", contact_phone="138",
            status="new", submitter_id="u9", submitter_name="Zed", company_id="c1",
            company_name="云启", created_at=T0 + dt.timedelta(days=30), updated_at=T0))
        uow.commit()
    if db.engine.dialect.name != "postgresql":  # no walk: one LIKE scan finds it
        assert read(db, "zyxwv") == ("scan", ["TS20261201001"], 1, True)
        return
    walked = []
    real = search_plans.walk_statement
    # each stage's end: the rows walked before it plus its own
    monkeypatch.setattr(search_plans, "walk_statement",
                        lambda *a: walked.append(a[5] + a[6]) or real(*a))
    monkeypatch.setattr(search_plans, "match_bound", lambda stats, term: None)
    monkeypatch.setattr(search_plans, "PROBE_ROWS_PER_ROW", 1)   # probe: 5 rows
    monkeypatch.setattr(search_plans, "STAGE_GROWTH", 3)         # then 15, 45
    monkeypatch.setattr(search_plans, "WALK_ROWS_PER_ROW", 12)   # budget: 60
    assert search_plans.stages(5) == (5, 15, 45, 60)
    plan, numbers, total, exact = read(db, "zyxwv")
    assert (plan, numbers, total, exact) == ("bitmap", ["TS20261201001"], 1, True)
    assert walked == [5, 15]  # (before the stages: 5, then the whole 60)


def test_a_walk_that_runs_out_of_rows_counts_its_matches_without_the_bitmap(db, monkeypatch):
    """The budget is larger than the table: the last stage walks every ticket, so the page
    and its total are complete without a bitmap; each stage starts after the last row the
    one before walked (numbered on from it), not again from the first."""
    if db.engine.dialect.name != "postgresql":
        return
    stages = []
    real = search_plans.walk_statement
    monkeypatch.setattr(search_plans, "walk_statement",
                        lambda *a: stages.append((a[5], a[6], a[7] is not None)) or real(*a))
    monkeypatch.setattr(search_plans, "match_bound", lambda stats, term: None)
    monkeypatch.setattr(search_plans, "PROBE_ROWS_PER_ROW", 1)   # probe: 15 rows
    monkeypatch.setattr(search_plans, "STAGE_GROWTH", 3)         # then 45
    monkeypatch.setattr(search_plans, "WALK_ROWS_PER_ROW", 20)   # budget: 300 > N
    scan = read(db, "锁定", "scan", page=3)
    assert read(db, "锁定", page=3) == ("walk", *scan[1:]) and scan[2] == 13 and scan[1]
    # (rows walked before, rows in the stage, after a keyset edge)
    assert stages == [(0, 15, False), (15, 30, True), (45, 90, True)]  # ran out at N


PLANS = {  # how each plan is forced (PostgreSQL)
    "walk": {"match_bound": lambda stats, term: None},
    "bitmap": {"match_bound": lambda stats, term: 0.0},
    # a probe of one row per row wanted: the budget's walk goes on after it
    "walk on": {"match_bound": lambda stats, term: None, "PROBE_ROWS_PER_ROW": 1},
}


@pytest.mark.parametrize("keyword", ["登录", "timeout", "锁定", "E4021", "4021", "TS20261101013",
                                     "20261101", "打印机", "程丽",
                                     "alice", "ALICE chen", "export TO", "云启"])
def test_every_plan_answers_the_same(db, monkeypatch, keyword):
    postgres = db.engine.dialect.name == "postgresql"
    for query in ({}, {"page": 2}, {"sort": "number"}, {"sort": "created_at"},
                  {"status": ["new"]}, {"company_id": "c1", "page": 2},
                  # a walk merged from each status's rows (split), on to page 2
                  {"status": ["new", "in_progress"]},
                  {"status": ["in_progress", "closed", "new"], "page": 2},
                  {"status": ["new", "closed"], "sort": "number"},  # not split
                  {"status": ["new", "new", "in_progress"]}):  # each status once
        scan = read(db, keyword, "scan", **query)
        answers = {"scan": scan}
        if postgres:
            answers["planner"] = read(db, keyword, "planner", **query)
            for name, patches in PLANS.items():
                with monkeypatch.context() as m:
                    for attr, value in patches.items():
                        m.setattr(search_plans, attr, value)
                    answers[name] = read(db, keyword, **query)
            if answers["walk"][0] == "walk":  # a full page: its total is the rate's
                assert answers["walk"][2] >= len(answers["walk"][1])
            # a ticket or serial number keeps one statement (the planner's: a few tickets)
            forced = "planner" if search_plans._IDENTIFIER.search(keyword) else "bitmap"
            assert answers["bitmap"][0] == forced and answers["bitmap"][2:] == scan[2:]
        rows = {name: a[1] for name, a in answers.items()}
        assert all(r == scan[1] for r in rows.values()), (keyword, query, rows)
        assert scan[1] or query.get("page") or keyword in ("打印机",), (keyword, query)


def test_a_status_filter_is_walked_status_by_status_and_merged(db):
    """With several statuses the walk reads each status's rows from the (status, created_at,
    id) btree and merges them; one status, or a sort that btree does not serve, is not
    split."""
    order = search_plans.ordering("-created_at")
    base = listing.list_query(ADMIN, {"status": ["new", "closed"]}, "postgresql",
                              keyword=False)
    split = search_plans.splittable(("status", ["new", "closed"]), "-created_at")
    sql = str(search_plans.walk_statement(base, "登录", order, 0, 5, 0, 100, None, split)
              .compile(dialect=db.engine.dialect))
    assert split == ("status", ("new", "closed")) and sql.count("UNION ALL") == 1
    assert search_plans.splittable(("status", ["new"]), "-created_at") is None
    assert search_plans.splittable(("status", ["new", "new"]), "-created_at") is None
    assert search_plans.splittable(("status", ["new", "closed", "new"]), "-created_at") == \
        ("status", ("new", "closed"))
    assert search_plans.splittable(("status", ["new", "closed"]), "number") is None
    if db.engine.dialect.name != "postgresql":
        return
    with db.unit_of_work() as uow:
        conn = uow.session.connection()
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # (60 rows: a scan is cheaper)
        compiled = search_plans.walk_statement(base, "登录", order, 0, 5, 0, 100, None, split) \
            .compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
        plan = "\n".join(conn.exec_driver_sql("EXPLAIN " + str(compiled)).scalars())
    assert "Merge Append" in plan, plan  # (which index: the data's size decides; the bench shows it)


def test_list_tickets_through_the_plans(db):
    """The list handler: items in order, totals exact under the cap."""
    page = listing.list_tickets(ADMIN, {"keyword": "E4021", "page_size": 3},
                                db.unit_of_work())
    assert page["total_exact"] is True and page["total"] == len(
        read(db, "E4021", "scan", page_size=100)[1])
    page = listing.list_tickets(ADMIN, {"keyword": "登录", "page_size": 3, "page": 99},
                                db.unit_of_work())
    assert page["items"] == [] and page["total_exact"] is True and page["total"] > 3
