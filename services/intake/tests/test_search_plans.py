"""The plan that reads a keyword's page (services/intake/search_plans.py, the slices in
search_slices.py), on SQLite and PostgreSQL (no broker): which plan is chosen, and that
every plan answers the same rows in the same order, for frequent and rare, Chinese and
English keywords."""
import datetime as dt

import pytest
from sqlalchemy import select, text

from gongdan_common.db import Database
from gongdan_common.migrate import upgrade
from services.intake import listing, search, search_plans, search_slices
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
    search_plans.forget()
    yield database
    search_plans.forget()
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
    search_plans.forget()
    monkeypatch.setattr(search_plans, "table_stats", lambda session: {
        "rows": N, "grams": {"登录": 0.6}, "floor": 0.0001})
    assert plan("登录") == "walk" and plan("打印机") == "bitmap"
    assert plan("timeout") == "walk"  # no CJK: no bound, the walk decides
    assert plan("TS20261101") == "planner"  # a number to the day: a few tickets


def test_which_keywords_the_search_keys_narrow_under_a_status_filter():
    """A status filter's bitmap looks the statuses up in the search keys when the keys hold
    what narrows the keyword (its CJK grams); a trigram outside them keeps pg_trgm's."""
    assert search.keyed("登录") and search.keyed("无法 登录") and search.keyed("IE 登录")
    assert not search.keyed("IE11 无法登录") and not search.keyed("timeout")
    with_keys = str(search_plans.bitmap_clause("登录", ("new", "in_progress")).compile(
        compile_kwargs={"literal_binds": True}))
    assert "ticket_search_keys" in with_keys and "#in_progress" in with_keys
    assert "#new" not in str(search_plans.bitmap_clause("登录", ()).compile(
        compile_kwargs={"literal_binds": True}))
    assert "#new" not in str(search_plans.bitmap_clause("timeout", ("new",)).compile(
        compile_kwargs={"literal_binds": True}))


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


PLANS = {  # how each plan is forced (PostgreSQL): {"module.name": value}
    "walk": {"search_plans.match_bound": lambda stats, term: None},
    "bitmap": {"search_plans.match_bound": lambda stats, term: 0.0},
    # a probe of one row per row wanted: the budget's walk goes on after it
    "walk on": {"search_plans.match_bound": lambda stats, term: None,
                "search_plans.PROBE_ROWS_PER_ROW": 1},
    # month by month from the search keys (a bound under the probe's, and no bitmap)
    "slices": {"search_plans.match_bound": lambda stats, term: 0.03,
               "search_plans.BITMAP_ROW_COST": 1000,
               "search_slices.worth_slicing": lambda *a: True},
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
                    for target, value in patches.items():
                        m.setattr(f"services.intake.{target}", value)
                    answers[name] = read(db, keyword, **query)
            # (a status filter too: its statuses are keys of the same index, 0016)
            if query.get("sort", "-created_at") == "-created_at" \
                    and search_plans.choose("postgresql", "indexed", "-created_at",
                                            keyword) == "walk":
                assert answers["slices"][0] == "slices" and answers["slices"][2:] == scan[2:], \
                    (query, answers["slices"], scan)
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


# ---- slices: a Chinese keyword's matches month by month (migration 0015) ---------------------

MONTHS = 9  # 2026-01 .. 2026-09


@pytest.fixture
def months_db(service_database):
    """Tickets over nine months, the keyword 云启 in some of them and none in months 3-5:
    4 in January, then 1, 2, 0, 0, 0, 6, 1, 3 (at the month's first and last second too)."""
    url = service_database("intake")
    upgrade("intake", url)
    database = Database(url, metadata)
    per_month = [4, 1, 2, 0, 0, 0, 6, 1, 3]
    n = 0
    with database.unit_of_work() as uow:
        for month, hits in enumerate(per_month, start=1):
            start = dt.datetime(2026, month, 1, tzinfo=dt.timezone.utc)
            end = dt.datetime(2026, month + 1, 1, tzinfo=dt.timezone.utc) - \
                dt.timedelta(seconds=1)
            for i in range(8):
                # hits at the edges of the month first (UTC: +08:00 is the next month)
                at = (start, end)[i] if i < 2 else start + dt.timedelta(days=i * 3)
                hit = i < hits
                uow.session.add(Ticket(
                    number=f"TS2026{month:02d}01{i:03d}", type="defect",
                    title=("云启平台登录慢 platform" if hit else "打印机卡纸") + f" #{n}",
                    product="P1", product_line="line", category="function",
                    description="-", environment={}, impact="individual", urgency="low",
                    priority="P4", contact_phone="138", status=("new", "closed")[n % 2],
                    submitter_id="u1", submitter_name="程丽", company_id=f"c{n % 2}",
                    company_name="某公司", created_at=at, updated_at=at))
                n += 1
        uow.commit()
    with database.engine.begin() as conn:
        if database.engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE tickets"))
    search_plans.forget()
    yield database
    search_plans.forget()
    database.dispose()


def test_month_keys_and_spans():
    """The key of a month is its UTC month, as ticket_search_keys computes it."""
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert search.month_key(dt.datetime(2026, 12, 1, 7, 59, tzinfo=shanghai)) == "@202611"
    assert search.month_key(dt.datetime(2026, 12, 1, 8, 0, tzinfo=shanghai)) == "@202612"
    spans = search_slices.month_spans(dt.datetime(2025, 11, 16, tzinfo=dt.timezone.utc),
                                      dt.datetime(2026, 2, 2, tzinfo=dt.timezone.utc))
    assert [k for k, _ in spans] == ["@202511", "@202512", "@202601", "@202602"]
    assert [s / 86400 for _, s in spans] == [15, 31, 31, 1]


def test_search_keys_in_the_database_are_the_month_and_status_keys(months_db):
    """The keys hold the grams, the UTC month and the status, and follow a status change
    (a ticket closed is found under "closed" and no longer under "new")."""
    if months_db.engine.dialect.name != "postgresql":
        return
    with months_db.engine.connect() as conn:
        rows = conn.execute(text("SELECT created_at, status, ticket_search_keys(search_grams, "
                                 "created_at, status) FROM tickets"))
        for created_at, status, keys in rows:
            assert [k for k in keys if k.startswith("@")] == [search.month_key(created_at)]
            assert [k for k in keys if k.startswith("#")] == [search.status_key(status)]
            assert "云启" in keys or "打印" in keys
    scan = lambda status: read(months_db, "云启", "scan", status=[status], page_size=100)[1:]  # noqa
    indexed = lambda status: read(months_db, "云启", status=[status], page_size=100)[1:]  # noqa
    before = scan("new")
    assert before[0] and indexed("new") == before
    with months_db.unit_of_work() as uow:
        uow.session.execute(text("UPDATE tickets SET status = 'closed' WHERE number = :n"),
                            {"n": before[0][0]})
        uow.commit()
    after = scan("new")
    assert after[0] == before[0][1:] and indexed("new") == after
    assert before[0][0] in scan("closed")[0] and indexed("closed") == scan("closed")
    with months_db.unit_of_work() as uow:  # through the index alone: the keys changed
        with search_plans.bitmap_only(uow.session):
            found = uow.session.scalars(select(Ticket.number).where(
                search_slices.keys_match("云启", ["new"]))).all()
    assert before[0][0] not in found and sorted(found) == sorted(after[0])


def read_slices(db, monkeypatch, keyword, **query):
    """read() with the plan forced to the slices; -> (its answer, statements)."""
    chunks = []
    real = search_plans.counted_page
    with monkeypatch.context() as m:
        m.setattr(search_plans, "match_bound", lambda stats, term: 0.03)
        m.setattr(search_plans, "BITMAP_ROW_COST", 100_000)  # never the whole bitmap
        m.setattr(search_slices, "worth_slicing", lambda *a: True)
        m.setattr(search_plans, "counted_page", lambda *a: chunks.append(a) or real(*a))
        return read(db, keyword, **query), len(chunks)


@pytest.mark.parametrize("page_size", [1, 2, 3, 5, 20])
def test_slices_answer_as_the_scan_on_every_page(months_db, monkeypatch, page_size):
    """Pages that end inside a month, at its edge, past months without a match, in both
    orders and with filters: the rows and the totals of the scan."""
    if months_db.engine.dialect.name != "postgresql":
        return
    for query in ({}, {"sort": "created_at"}, {"status": ["new"]}, {"company_id": "c1"},
                  {"status": ["closed", "new"], "sort": "created_at"}):
        pages = 17 // page_size + 2  # on past the last match
        for page in range(1, pages + 1):
            scan = read(months_db, "云启", "scan", page=page, page_size=page_size, **query)
            (plan, *answer), _ = read_slices(months_db, monkeypatch, "云启", page=page,
                                             page_size=page_size, **query)
            assert plan == "slices" and answer[0] == scan[1], (query, page, answer, scan)
            if answer[2]:  # exact: the scan's total
                assert answer[1] == scan[2], (query, page)
            else:  # an estimate, never below what was seen
                assert answer[1] >= (page - 1) * page_size + len(answer[0])
    assert read(months_db, "云启", "scan", page_size=100)[2] == 17


def test_slices_read_as_many_months_as_the_rate_says(months_db, monkeypatch):
    """Each statement asks for as many months as the rate says hold the rest of the page:
    the bound first, then the matches seen a second; every month read, the total is
    exact, else an estimate from the time read."""
    if months_db.engine.dialect.name != "postgresql":
        return
    chunks = []
    real = search.keys_overlap
    monkeypatch.setattr(search_slices, "worth_slicing", lambda *a: True)
    monkeypatch.setattr(search, "keys_overlap", lambda t, keys: chunks.append(
        [k for k in keys]) or real(t, keys))

    def page(bound, offset, limit, base=select(Ticket)):
        chunks.clear()
        with months_db.unit_of_work() as uow:
            got = search_slices.slice_page(uow.session, base, "云启", "-created_at",
                                           offset, limit, bound, 72)
            return [t.number for t in got.rows], got.total, got.exact

    # a bound of 5 says 40 a month: one month at a time; September holds 3, then the rate
    # seen (3 a month) asks for one more month at a time: August 1, July 6
    numbers, total, exact = page(5, 0, 5)
    assert numbers == ["TS20260901001", "TS20260901002", "TS20260901000",
                       "TS20260801000", "TS20260701001"]
    # (and few, by the rate: the months not read are counted, so the total is exact)
    rest = ["@202606", "@202605", "@202604", "@202603", "@202602", "@202601"]
    assert chunks == [["@202609"], ["@202608"], ["@202607"], rest]
    assert (total, exact) == (17, True)
    # a bound that says 1 a month: three months for a page of 3
    numbers, total, exact = page(0.125, 0, 3)
    assert chunks == [["@202609", "@202608", "@202607"], rest] and len(numbers) == 3
    # many, by the rate: an estimate from the time read, not counted
    cap = search.COUNT_CAP
    monkeypatch.setattr(search, "COUNT_CAP", 10)
    numbers, total, exact = page(0.125, 0, 3)
    assert chunks == [["@202609", "@202608", "@202607"]] and not exact and total >= 10
    monkeypatch.setattr(search, "COUNT_CAP", cap)
    # a bound far too low: every month at once, the total exact; past the last match the
    # months are counted
    assert page(0.001, 0, 3)[1:] == (17, True) and len(chunks) == 1 and len(chunks[0]) == 9
    assert page(0.001, 18, 3) == ([], 17, True)
    # nothing seen (a filter leaves the newest months empty): each next statement reaches
    # four times as far as the rate said: 40 a month, 10, 2.5 (two months for 3)
    numbers, total, exact = page(5, 0, 3, select(Ticket).where(
        Ticket.created_at < dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc)))
    assert chunks[:3] == [["@202609"], ["@202608"], ["@202607", "@202606"]]
    assert numbers == ["TS20260301001", "TS20260301000", "TS20260201000"]


def test_a_keyword_in_few_tickets_a_month_is_sliced_not_walked(months_db, monkeypatch):
    """Unpatched: a bound that says ~0.5 % (a company's name) at a million tickets over
    three years is sliced; one that says 3 % is walked; the walk's figures decide."""
    if months_db.engine.dialect.name != "postgresql":
        return
    with months_db.unit_of_work() as uow:
        stats = search_plans.table_stats(uow.session)
        assert stats["oldest"] == dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        stats = dict(stats, oldest=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1000))
        monkeypatch.setattr(search_plans, "table_stats", lambda session: stats)
        worth = lambda bound: search_slices.worth_slicing(uow.session, bound, 1e6, 20)  # noqa
        assert worth(0.005) and worth(0.001) and not worth(0.03)
        # 0.9 % is worth slicing over 1,000 days, not over the database's own ~340 (its
        # months hold 3x the rows): the patched span is the one read
        assert worth(0.009)


def test_a_probe_that_finds_few_hands_over_to_the_slices(months_db, monkeypatch):
    """A Chinese keyword whose grams' bound is loose (pairs frequent apart, rare together)
    walks its probe first; the rate the probe saw then decides, and the slices read the
    page; an English keyword (no months in pg_trgm's index) goes on walking."""
    if months_db.engine.dialect.name != "postgresql":
        return
    walked, rates = [], []
    real_walk, real_slice = search_plans.walk_statement, search_slices.slice_page
    monkeypatch.setattr(search_plans, "walk_statement",
                        lambda *a: walked.append(a[6]) or real_walk(*a))
    monkeypatch.setattr(search_slices, "slice_page",
                        lambda *a: rates.append(a[6]) or real_slice(*a))
    monkeypatch.setattr(search_plans, "match_bound", lambda stats, term: 0.5)
    monkeypatch.setattr(search_plans, "PROBE_ROWS_PER_ROW", 2)   # a probe of 10 rows
    monkeypatch.setattr(search_slices, "worth_slicing", lambda s, bound, *a: bound < 0.35)
    scan = read(months_db, "云启", "scan")
    assert read(months_db, "云启") == ("slices", *scan[1:])
    # the probe's 10 newest rows (September's 8, August's last 2) hold September's 3
    # matches: a rate of 0.3, not the bound's 0.5
    assert walked == [10] and rates == [0.3]
    walked.clear(), rates.clear()
    monkeypatch.setattr(search_plans, "match_bound", lambda stats, term: None)
    scan = read(months_db, "platform", "scan")
    assert read(months_db, "platform")[1:] == scan[1:] and rates == [] and len(walked) > 1
