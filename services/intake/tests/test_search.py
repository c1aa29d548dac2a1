"""Keyword search and list totals, on SQLite and PostgreSQL (no broker): the same answers
from the LIKE scan (SQLite) and the GIN-indexed path (PostgreSQL)."""
import json
import zoneinfo

import pytest
from sqlalchemy import update

from gongdan_common.db import Database
from gongdan_common.migrate import upgrade
from services.intake import catalog, listing, search, tickets
from services.intake.models import Ticket, metadata

SETTINGS = {"number_prefix": "TS", "tz": zoneinfo.ZoneInfo("Asia/Shanghai")}
ADMIN = {"id": "adm", "role": "admin", "name": "Admin"}
ACME = {"id": "u-acme", "role": "customer", "name": "程丽", "company_id": "c-acme",
        "company_name": "杭州云启科技有限公司"}
ACME_ADMIN = {"id": "u-acme-adm", "role": "customer_admin", "name": "Alice Chen",
              "company_id": "c-acme", "company_name": "杭州云启科技有限公司"}
OTHER = {"id": "u-other", "role": "customer", "name": "王伟", "company_id": "c-other",
         "company_name": "北京鼎新软件有限公司"}

TICKETS = [  # (who, title, description)
    (ACME, "无法登录系统", "登录时提示账号被锁定，已持续两天"),
    (ACME, "导出报表超时", "Export to Excel times out after 60 seconds"),
    (ACME_ADMIN, "Sync stops at 20%", "The RAID rebuild 同步 stalls; 100%_done never shows"),
    (OTHER, "无法登录 VPN", "VPN login fails with error E40213"),
    (OTHER, "打印机卡纸", "打印预览正常，打印时卡纸"),
]


def test_grams_are_cjk_characters_and_pairs():
    assert search.grams("无法登录 VPN", None, "锁") == sorted(
        {"无", "法", "登", "录", "无法", "法登", "登录", "锁"})
    assert search.query_grams("法登") == ["法登"]
    assert search.query_grams("锁") == ["锁"]
    assert search.query_grams("IE 登录 锁") == ["登录", "锁"]
    assert search.query_grams("timeout") == []


@pytest.fixture
def db(service_database):
    url = service_database("intake")
    upgrade("intake", url)
    database = Database(url, metadata)
    catalog.upsert_product(ADMIN, {"code": "P1", "name": "产品", "product_line": "line"},
                            database.unit_of_work())
    numbers = {}
    for who, title, description in TICKETS:
        t = tickets.create_ticket(who, {
            "title": title, "type": "defect", "product": "P1", "category": "function",
            "description": description, "contact_phone": "13800138000"},
            database.unit_of_work(), SETTINGS)
        numbers[title] = t["number"]
    database.numbers = numbers
    yield database
    database.dispose()


def titles(db, actor, **query):
    page = listing.list_tickets(actor, query, db.unit_of_work())
    assert page["total"] == len(page["items"]) and page["total_exact"] is True
    return sorted(i["title"] for i in page["items"])


def test_keyword_semantics(db):
    cases = {
        "无法登录": ["无法登录 VPN", "无法登录系统"],          # zh word
        "法登": ["无法登录 VPN", "无法登录系统"],              # 2-char substring across words
        "锁": ["无法登录系统"],                               # 1 character
        "被锁定，已": ["无法登录系统"],                        # with punctuation
        "EXCEL": ["导出报表超时"],                            # case-insensitive
        "times out": ["导出报表超时"],                        # en words with a space
        "e4021": ["无法登录 VPN"],                            # part of an error code
        "20%": ["Sync stops at 20%"],                         # LIKE wildcards are literal
        "100%_d": ["Sync stops at 20%"],
        "0%_d": ["Sync stops at 20%"],
        "1%": [],
        "程丽": ["导出报表超时", "无法登录系统"],              # the submitter's name
        "alice": ["Sync stops at 20%"],
        "云启科技": ["Sync stops at 20%", "导出报表超时", "无法登录系统"],  # company name
        "鼎新": ["无法登录 VPN", "打印机卡纸"],
        "步 stop": [],                                        # not a substring anywhere
        "统登": [],                                           # title + description joined? no
    }
    for keyword, expected in cases.items():
        assert titles(db, ADMIN, keyword=keyword) == sorted(expected), keyword
    number = db.numbers["打印机卡纸"]
    assert titles(db, ADMIN, keyword=number) == ["打印机卡纸"]
    assert "打印机卡纸" in titles(db, ADMIN, keyword=number[:-1].lower())  # a number prefix
    digits = number.lstrip("TS")
    assert titles(db, ADMIN, keyword=digits[-8:]) == ["打印机卡纸"]  # 8 digits inside it
    assert "打印机卡纸" in titles(db, ADMIN, keyword=digits[:8])       # the day's tickets
    assert titles(db, ADMIN, keyword=digits[-8:] + "x") == []


def test_digit_windows_in_python_and_in_the_database(db):
    """The keyword's windows (Python) must be a subset of the ticket text's windows
    (ticket_digit_windows, the index's expression) whenever the text contains it."""
    from sqlalchemy import text
    samples = ["TS20261126001", "SN 123456789 and 20261126", "1234567", "",
               "电话 13800138000，工单 TS20261101012"]
    for sample in samples:
        expected = search.digit_windows(sample)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                got = conn.execute(text("SELECT ticket_digit_windows(:t)"), {"t": sample}).scalar()
            assert sorted(got) == expected, sample
    assert search.digit_windows("TS20261126001") == ["02611260", "20261126", "26112600",
                                                     "61126001"]
    assert search.digit_windows("1234567") == [] and search.digit_windows("") == []


def test_keyword_with_filters_and_visibility(db):
    assert titles(db, ADMIN, keyword="无法登录", company_id="c-other") == ["无法登录 VPN"]
    assert titles(db, ADMIN, keyword="登录", status=["closed"]) == []
    assert titles(db, ADMIN, keyword="登录", status=["new"]) == ["无法登录 VPN", "无法登录系统"]
    # a customer finds only their own tickets, whatever the keyword names
    assert titles(db, ACME, keyword="无法登录") == ["无法登录系统"]
    assert titles(db, ACME, keyword="鼎新") == []
    assert titles(db, OTHER, keyword="云启") == []
    assert titles(db, ACME_ADMIN, keyword="登录") == ["无法登录系统"]
    assert titles(db, ACME_ADMIN, keyword="  ") == sorted(t for w, t, _ in TICKETS
                                                        if w["company_id"] == "c-acme")


def test_edited_title_is_found_by_its_new_words(db):
    with db.unit_of_work() as uow:
        ticket = uow.session.query(Ticket).filter_by(title="打印机卡纸").one()
        ticket.title = "扫描仪无响应"
        uow.commit()
    assert titles(db, ADMIN, keyword="扫描") == ["扫描仪无响应"]
    assert titles(db, ADMIN, keyword="打印机") == []


def test_total_past_the_cap_is_an_estimate(db, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    page = listing.list_tickets(ADMIN, {"page_size": 1}, db.unit_of_work())
    dialect = db.engine.dialect.name
    assert len(page["items"]) == 1
    if dialect == "postgresql":
        assert page["total_exact"] is False and page["total"] >= 3
    else:  # SQLite counts exactly (docs/performance.md)
        assert page["total_exact"] is True and page["total"] == len(TICKETS)
    monkeypatch.setattr(search, "COUNT_CAP", 1)  # and with a keyword (its estimate too)
    page = listing.list_tickets(ADMIN, {"page_size": 1, "keyword": "登录"}, db.unit_of_work())
    assert page["total_exact"] is (dialect != "postgresql") and page["total"] >= 2
    monkeypatch.undo()
    # under the cap it is exact everywhere, also for a customer (their tickets only)
    page = listing.list_tickets(ACME, {"page_size": 1}, db.unit_of_work())
    assert (page["total"], page["total_exact"]) == (2, True)
    page = listing.list_tickets(OTHER, {"page_size": 1, "keyword": "无法"}, db.unit_of_work())
    assert (page["total"], page["total_exact"]) == (1, True)
    # a page past the end still says how many there are
    page = listing.list_tickets(ADMIN, {"page": 9, "keyword": "登录"}, db.unit_of_work())
    assert (page["items"], page["total"], page["total_exact"]) == ([], 2, True)


def test_scan_mode_answers_the_same(db):
    """INTAKE_SEARCH=scan (the benchmark's baseline) finds the same tickets."""
    for keyword in ("法登", "EXCEL", "云启科技", "20%"):
        fast = listing.list_tickets(ADMIN, {"keyword": keyword}, db.unit_of_work())
        slow = listing.list_tickets(ADMIN, {"keyword": keyword}, db.unit_of_work(),
                                    {"search": "scan"})
        assert fast["items"] == slow["items"] and fast["total"] == slow["total"], keyword


def test_migration_fills_search_grams_of_existing_tickets(service_database):
    """0005 on a database that already holds tickets: their grams are filled, the indexes
    are valid, and the search finds them."""
    from alembic import command
    from sqlalchemy import create_engine, pool, text

    from gongdan_common.migrate import alembic_config

    url = service_database("intake")
    command.upgrade(alembic_config("intake", url), "0004")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO tickets (id, number, type, title, product, product_line, category, "
            "description, environment, impact, urgency, priority, contact_phone, status, "
            "submitter_id, submitter_name, company_id, company_name, version, "
            "resolution_round, reopen_count, sla_breached, created_at, updated_at) VALUES "
            "('t1', 'TS20260101001', 'defect', '无法登录系统', 'P1', 'line', 'function', "
            "'账号被锁定', '{}', 'individual', 'low', 'P4', '138', 'new', 'u1', '程丽', 'c1', "
            "'杭州云启科技有限公司', 1, 0, 0, false, '2026-01-01 00:00:00+00', "
            "'2026-01-01 00:00:00+00')"))
    upgrade("intake", url)
    with engine.connect() as conn:
        grams = conn.execute(text("SELECT search_grams FROM tickets")).scalar()
        if engine.dialect.name == "postgresql":
            assert conn.execute(text(
                "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname LIKE 'ix_tickets_search_%' AND i.indisvalid")).scalar() == 3
    engine.dispose()
    grams = json.loads(grams) if isinstance(grams, str) else grams  # SQLite: JSON text
    assert "登录" in grams and "程丽" in grams and "云启" in grams
    database = Database(url, metadata)
    try:
        assert titles(database, ADMIN, keyword="锁") == ["无法登录系统"]
        assert titles(database, ADMIN, keyword="程丽") == ["无法登录系统"]
    finally:
        database.dispose()
