"""Exports through HTTP with the real system: CSV and XLSX files of the ticket list and the
reports, made by the exports service in the background (docs/exports.md).

What the file holds is what the list would show the requester (a customer admin's export
holds only their company's tickets); only the requester sees a job or its file; a filter the
requester may not use is refused before any job exists; a job survives its service's
restart, and its progress moves."""
import csv
import io
import re
import time
import zipfile
import datetime as dt
from xml.etree import ElementTree

import pytest
import requests

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def wait_done(api, job_id, timeout=60, status=("done", "failed")):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/exports/{job_id}").json()
        if job["status"] in status:
            return job
        time.sleep(0.2)
    raise AssertionError(f"export {job_id} still {job['status']}: {job}")


def export(api, **body):
    r = api.post("/exports", body)
    assert r.status_code == 202, r.text
    return r.json()


def fetch(api, job_id):
    r = api.get(f"/exports/{job_id}/download")
    assert r.status_code == 200, r.text
    link = r.json()
    body = requests.get(link["url"], timeout=30)
    assert body.status_code == 200
    assert body.content and len(body.content) == link["size"]
    return link, body


def csv_rows(content):
    assert content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese right
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_rows(content):
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
                "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml"} <= names
        ElementTree.fromstring(z.read("xl/workbook.xml"))
        sheet = ElementTree.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iterfind(".//m:row", NS):
        cells = {}
        for c in row.iterfind("m:c", NS):
            col = re.match(r"[A-Z]+", c.get("r")).group()
            text = c.find("m:is/m:t", NS)
            cells[col] = text.text if text is not None else c.find("m:v", NS).text
        width = max((ord(k) - 64 for k in cells), default=0)
        rows.append([cells.get(chr(65 + i), "") for i in range(width)])
    return rows


@pytest.fixture(scope="module")
def company_a(make_user, make_company, new_ticket):
    boss = make_user("customer_admin", lang="zh")
    worker = make_user("customer", company=boss.company)
    tickets = [new_ticket(worker, title=f"导出测试 {i}") for i in range(4)]
    tickets.append(new_ticket(boss, title="=HYPERLINK(\"http://evil\")"))
    return boss, worker, tickets


def test_customer_admin_exports_their_company_tickets_as_csv_zh(company_a, make_user,
                                                                  new_ticket):
    boss, _, tickets = company_a
    stranger = make_user("customer")
    theirs = new_ticket(stranger, title="别家公司的工单")
    job = export(boss, kind="tickets", format="csv")
    assert job["status"] in ("queued", "running", "done") and job["lang"] == "zh"
    assert job["rows_total"] == len(tickets)
    job = wait_done(boss, job["id"])
    assert job["status"] == "done", job
    assert job["rows_done"] == len(tickets) and job["file_name"].endswith(".csv")
    link, body = fetch(boss, job["id"])
    rows = csv_rows(body.content)
    assert rows[0][:4] == ["工单编号", "标题", "工单类型", "状态"]
    numbers = [r[0] for r in rows[1:]]
    assert sorted(numbers) == sorted(t["number"] for t in tickets)
    assert theirs["number"] not in numbers
    assert {r[3] for r in rows[1:]} == {"新建"} and {r[2] for r in rows[1:]} == {"缺陷"}
    evil = next(r for r in rows[1:] if "HYPERLINK" in r[1])
    assert evil[1].startswith("'=")  # never a formula in Excel
    assert "filename*=UTF-8''" in body.headers.get("Content-Disposition", "")

    # someone else: as if it did not exist
    for path in (f"/exports/{job['id']}", f"/exports/{job['id']}/download"):
        r = stranger.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "export_not_found"
    assert stranger.delete(f"/exports/{job['id']}").status_code == 404
    assert job["id"] not in [j["id"] for j in stranger.get("/exports").json()["items"]]
    assert job["id"] in [j["id"] for j in boss.get("/exports").json()["items"]]


def test_xlsx_in_english_with_chosen_columns_and_filters(company_a):
    boss, worker, tickets = company_a
    job = export(boss, kind="tickets", format="xlsx", lang="en",
                 columns=["number", "status", "title", "created_at"],
                 filters={"keyword": "导出测试", "status": ["new"]})
    job = wait_done(boss, job["id"])
    assert job["status"] == "done", job
    _, body = fetch(boss, job["id"])
    rows = xlsx_rows(body.content)
    assert rows[0] == ["Number", "Status", "Title", "Created"]
    assert len(rows) == 1 + 4 and {r[1] for r in rows[1:]} == {"New"}
    assert all(r[2].startswith("导出测试") for r in rows[1:])
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r[3]) for r in rows[1:])
    # the list order: newest first
    assert [r[0] for r in rows[1:]] == [t["number"] for t in reversed(tickets[:4])]


def test_bad_input_is_refused_before_any_job_exists(system, company_a, make_user,
                                                     make_field_service):
    boss = company_a[0]
    before = len(boss.get("/exports").json()["items"])
    cases = [({"kind": "tickets", "filters": {"status": ["nope"]}}, 400, "validation_failed"),
             ({"kind": "tickets", "filters": {"bogus": "1"}}, 400, "validation_failed"),
             ({"kind": "tickets", "columns": ["number", "salary"]}, 400, "validation_failed"),
             ({"kind": "nope"}, 400, "validation_failed"),
             ({"kind": "tickets", "format": "pdf"}, 400, "validation_failed"),
             # reports are for staff: the owner's own refusal
             ({"kind": "sla"}, 403, None),
             ({"kind": "engineer_time", "filters": {"from": "2026-01-01", "to": "2026-01-31"}},
              403, None)]
    for body, status, code in cases:
        r = boss.post("/exports", body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["error"]["message"]
        if code:
            assert r.json()["error"]["code"] == code
    # an engineer may export only their own time: another engineer's id is refused (403)
    _, _, engineer, lapsed = make_field_service()
    today = dt.date.today().isoformat()
    r = engineer.post("/exports", {"kind": "engineer_time", "filters": {
        "from": today, "to": today, "engineer_id": lapsed.user["id"]}})
    assert r.status_code == 403, r.text
    assert engineer.get("/exports").json()["items"] == []
    assert len(boss.get("/exports").json()["items"]) == before
    # the engineer's own time is fine
    job = export(engineer, kind="engineer_time", format="csv", lang="en",
                 filters={"from": today, "to": today})
    job = wait_done(engineer, job["id"])
    assert job["status"] == "done", job
    assert csv_rows(fetch(engineer, job["id"])[1].content)[0][:3] == ["Ticket", "Engineer", "Start"]


def test_reports_export_for_staff(admin):
    today = dt.date.today().isoformat()
    for kind, filters, first in [("sla", {"created_from": today}, "工单编号"),
                                 ("satisfaction", {}, "工单编号"),
                                 ("engineer_time", {"from": today, "to": today}, "工单编号")]:
        job = export(admin, kind=kind, format="xlsx", lang="zh", filters=filters)
        job = wait_done(admin, job["id"])
        assert job["status"] == "done", job
        rows = xlsx_rows(fetch(admin, job["id"])[1].content)
        assert rows[0][0] == first and len(rows) - 1 == job["rows_done"]


def test_a_job_survives_a_restart_and_its_progress_moves(system, company_a):
    boss, _, tickets = company_a
    system.stop_service("exports")
    # one row a page, slowly, and a short lease: a job we can watch, and take over quickly
    system.start_service("exports", EXPORTS_PAGE_SIZE="1", EXPORTS_PAGE_PAUSE="0.6",
                         EXPORTS_LEASE_SECONDS="2")
    try:
        system.wait_service("exports")
        job = export(boss, kind="tickets", format="csv")
        seen = wait_done(boss, job["id"], status=("running",))
        deadline = time.monotonic() + 30
        while seen["rows_done"] < 1 and time.monotonic() < deadline:
            seen = boss.get(f"/exports/{job['id']}").json()
            time.sleep(0.1)
        assert seen["status"] == "running" and 1 <= seen["rows_done"] < len(tickets), seen
        system.stop_service("exports", kill=True)  # mid-export, no goodbye
        assert boss.get(f"/exports/{job['id']}").status_code == 503  # the service is away
    finally:
        system.stop_service("exports")
        system.start_service("exports")
        system.wait_service("exports")
    job = wait_done(boss, job["id"])
    assert job["status"] == "done", job
    rows = csv_rows(fetch(boss, job["id"])[1].content)
    assert sorted(r[0] for r in rows[1:]) == sorted(t["number"] for t in tickets)  # once each
    # a deleted export is gone, file and all
    assert boss.delete(f"/exports/{job['id']}").status_code == 200
    assert boss.get(f"/exports/{job['id']}").status_code == 404
