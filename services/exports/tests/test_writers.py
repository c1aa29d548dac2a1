"""The CSV and XLSX writers and the cells (no broker): what Excel opens, labels not codes,
no formula ever, memory flat (an XLSX sheet streamed into the zip)."""
import csv
import io
import zipfile
import zoneinfo
from xml.etree import ElementTree

import pytest

from services.exports import domain, writers

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
ITEM = {"number": "TS20261207001", "title": "=1+2 无法登录", "type": "defect", "status": "new",
        "category": "network", "created_at": "2026-12-07T02:00:00Z", "sla_breached": False,
        "priority": None, "company_name": "@SUM(A1)\x01 公司"}


def test_cells_are_labels_in_the_language_and_local_times():
    cols = ["number", "type", "status", "category", "created_at", "sla_breached", "priority"]
    assert domain.headers("tickets", cols, "zh")[:3] == ["工单编号", "工单类型", "状态"]
    assert domain.headers("tickets", cols, "en")[:3] == ["Number", "Type", "Status"]
    assert domain.row_writer("tickets", cols, "zh", TZ)(ITEM) == [
        "TS20261207001", "缺陷", "新建", "网络", "2026-12-07 10:00:00", "否", None]
    assert domain.row_writer("tickets", cols, "en", TZ)(ITEM)[1:6] == [
        "Defect", "New", "Network", "2026-12-07 10:00:00", "No"]
    assert domain.local_time("2026-12-07T02:00:00", TZ) == "2026-12-07 10:00:00"  # naive: UTC
    assert domain.unknown_columns("tickets", ["number", "salary"]) == ["salary"]
    assert set(domain.KINDS) == set(domain.COLUMNS) == set(domain.SOURCES) == set(domain.DEFAULTS)


@pytest.mark.parametrize("value", ["=1+2", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_formulas_never_run(value):
    assert domain.safe_text(value).startswith("'")
    assert domain.safe_text("无法登录 = 1") == "无法登录 = 1"


def test_csv_has_a_bom_and_escapes_formulas():
    buf = io.BytesIO()
    w = writers.open_writer("csv", buf, ["标题", "Title"])
    w.row(["=1+2 无法登录", None])
    w.row(["a,b\n\"c\"", 5])
    w.close()
    data = buf.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["标题", "Title"], ["'=1+2 无法登录", ""], ["a,b\n\"c\"", "5"]]


def _sheet(z, n):
    return ElementTree.fromstring(z.read(f"xl/worksheets/sheet{n}.xml"))


def test_xlsx_is_a_valid_package_with_inline_strings(monkeypatch):
    buf = io.BytesIO()
    w = writers.open_writer("xlsx", buf, ["工单编号", "数量"], "工单列表")
    w.row(["=cmd|' /C calc'!A0", 3])
    w.row(["控制字符\x01<&>", None])
    w.close()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        assert z.testzip() is None
        types = z.read("[Content_Types].xml").decode()
        assert "worksheet+xml" in types and "sheet.main+xml" in types
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        assert [s.get("name") for s in book.iterfind(".//m:sheet", NS)] == ["工单列表"]
        cells = [[c for c in r.iterfind("m:c", NS)] for r in _sheet(z, 1).iterfind(".//m:row", NS)]
    text = lambda c: c.find("m:is/m:t", NS).text  # noqa: E731
    assert [text(c) for c in cells[0]] == ["工单编号", "数量"]
    assert text(cells[1][0]) == "'=cmd|' /C calc'!A0" and cells[1][1].find("m:v", NS).text == "3"
    assert text(cells[2][0]) == "控制字符<&>" and len(cells[2]) == 1  # an empty cell is left out


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(monkeypatch):
    monkeypatch.setattr(writers, "SHEET_ROWS", 2)
    buf = io.BytesIO()
    w = writers.open_writer("xlsx", buf, ["n"], "Sheet")
    for i in range(5):
        w.row([i])
    w.close()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        assert [s.get("name") for s in book.iterfind(".//m:sheet", NS)] == [
            "Sheet 1", "Sheet 2", "Sheet 3"]
        counts = [len(list(_sheet(z, n).iterfind(".//m:row", NS))) for n in (1, 2, 3)]
    assert counts == [3, 3, 2]  # each sheet starts with the header row
