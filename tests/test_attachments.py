"""Attachments: streamed to S3, checked by content, size-limited, linked after an access
check, and a clear 503 when object storage is down."""
import hashlib
import os

import pytest
import requests

from tests.conftest import TEST_UPLOAD_LIMIT

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(200_000)
PDF = b"%PDF-1.7\n" + b"x" * 5000
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(4000)


def upload(api, ticket_id, name, data, raw=False, **params):
    path = f"/tickets/{ticket_id}/attachments"
    if raw:
        return api.post(path, params={"filename": name, **params}, data=data,
                        headers={"Content-Type": "application/octet-stream"})
    return api.post(path, files={"file": (name, data)}, params=params)


def objects(system):
    from minio import Minio
    client = Minio(system.s3.endpoint, access_key="gongdan", secret_key="gongdan-secret",
                   secure=False)
    return {o.object_name for o in client.list_objects("gongdan-attachments", recursive=True)}


def test_upload_records_checksum_and_downloads_by_short_link(system, make_user, new_ticket):
    customer = make_user()
    t = new_ticket(customer)
    r = upload(customer, t["id"], "截图 1.png", PNG)
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["sha256"] == hashlib.sha256(PNG).hexdigest() and att["size"] == len(PNG)
    assert att["content_type"] == "image/png" and att["filename"] == "截图 1.png"
    assert "object_key" not in att
    raw = upload(customer, t["id"], "report.pdf", PDF, raw=True)
    assert raw.status_code == 201 and raw.json()["sha256"] == hashlib.sha256(PDF).hexdigest()
    listed = customer.get(f"/tickets/{t['id']}").json()["attachments"]
    assert {a["filename"] for a in listed} == {"截图 1.png", "report.pdf"}
    link = customer.get(f"/tickets/{t['id']}/attachments/{att['id']}").json()
    body = requests.get(link["url"], timeout=30)
    assert body.status_code == 200 and body.content == PNG
    assert link["expires_in"] <= 300
    assert "filename*=UTF-8''" in body.headers.get("Content-Disposition", "")
    redirect = customer.get(f"/tickets/{t['id']}/attachments/{att['id']}",
                            params={"redirect": "1"}, allow_redirects=False)
    assert redirect.status_code == 302 and redirect.headers["Location"].startswith("http")


def test_other_customers_cannot_attach_or_download(system, make_user, new_ticket):
    owner, stranger = make_user(), make_user()
    t = new_ticket(owner)
    att = upload(owner, t["id"], "a.png", PNG).json()
    before = objects(system)
    assert upload(stranger, t["id"], "b.png", PNG).status_code == 404
    assert stranger.get(f"/tickets/{t['id']}/attachments/{att['id']}").status_code == 404
    assert objects(system) == before  # nothing stored for a refused upload
    other = new_ticket(stranger)
    # a real attachment id under the wrong ticket is not found either
    assert stranger.get(f"/tickets/{other['id']}/attachments/{att['id']}").status_code == 404


def test_refused_uploads_keep_nothing(system, make_user, new_ticket):
    """The RPC that records an attachment authorises it (after the file is stored): what it
    refuses is deleted, with the answer authorize_attachment gave before streaming."""
    customer = make_user()
    t = new_ticket(customer)
    before = objects(system)
    r = upload(customer, t["id"], "report.pdf", PDF, kind="onsite_report")
    assert (r.status_code, r.json()["error"]["code"]) == (403, "report_kind_forbidden")
    r = upload(customer, t["id"], "a.png", PNG, kind="no_such_kind")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "validation_failed")
    assert "kind" in r.json()["error"]["details"]["fields"]
    r = upload(customer, "t" + "0" * 31, "a.png", PNG)  # well formed, no such ticket
    assert (r.status_code, r.json()["error"]["code"]) == (404, "ticket_not_found")
    r = upload(customer, "not a ticket id!", "a.png", PNG)  # asked before streaming
    assert (r.status_code, r.json()["error"]["code"]) == (404, "ticket_not_found")
    assert customer.post(f"/tickets/{t['id']}/cancel", {"reason": "已解决"}).status_code == 200
    r = upload(customer, t["number"], "a.png", PNG)  # by number, as the URL allows
    assert (r.status_code, r.json()["error"]["code"]) == (409, "ticket_closed")
    assert objects(system) == before
    assert customer.get(f"/tickets/{t['id']}").json()["attachments"] == []


@pytest.mark.parametrize("name,data,code", [
    ("setup.png", EXE, "file_type_not_allowed"),        # a renamed .exe
    ("setup.exe", EXE, "file_type_not_allowed"),
    ("notes.txt", b"\x00\x01\x02binary", "file_type_not_allowed"),
    ("noext", b"hello", "file_type_not_allowed"),
    ("fake.pdf", b"<html>not a pdf</html>", "file_type_not_allowed"),
])
def test_disallowed_content_is_refused_and_not_stored(system, make_user, new_ticket, name,
                                                      data, code):
    customer = make_user(lang="zh")
    t = new_ticket(customer)
    before = objects(system)
    r = upload(customer, t["id"], name, data)
    assert r.status_code == 415, r.text
    assert r.json()["error"]["code"] == code and "允许的类型" in r.json()["error"]["message"]
    assert objects(system) == before
    assert customer.get(f"/tickets/{t['id']}").json()["attachments"] == []


def test_text_in_chinese_is_accepted(system, make_user, new_ticket):
    customer = make_user()
    t = new_ticket(customer)
    # ~900 KB of short lines: many 64 KiB parser chunks end on a newline (a regression test
    # for multipart files refused as "too large" at random)
    log = ("2026-11-22 10:00:01 错误：连接数据库超时\n" * 20000).encode("utf-8")
    r = upload(customer, t["id"], "server.log", log)
    assert r.status_code == 201 and r.json()["content_type"].startswith("text/plain")


def test_oversize_files_are_refused(system, make_user, new_ticket):
    customer = make_user()
    t = new_ticket(customer)
    before = objects(system)
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * TEST_UPLOAD_LIMIT
    r = upload(customer, t["id"], "big.png", big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "file_too_large"
    r = upload(customer, t["id"], "big.png", big, raw=True)
    assert r.status_code == 413
    assert objects(system) == before
    assert customer.get(f"/tickets/{t['id']}").json()["attachments"] == []


def test_empty_and_missing_file(system, make_user, new_ticket):
    customer = make_user()
    t = new_ticket(customer)
    assert upload(customer, t["id"], "empty.png", b"").status_code == 400
    r = customer.post(f"/tickets/{t['id']}/attachments", files={"other": ("a.png", PNG)})
    assert r.status_code == 400 and r.json()["error"]["code"] == "file_missing"


def test_storage_down_gives_503_and_tickets_still_work(system, make_user, new_ticket):
    customer = make_user(lang="en")
    t = new_ticket(customer)
    system.stop_s3()
    try:
        r = upload(customer, t["id"], "a.png", PNG)
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "storage_unavailable"
        assert "ticket" in r.json()["error"]["message"]
        assert r.headers.get("Retry-After")
        created = new_ticket(customer, title="存储故障时提交")  # the ticket itself still works
        assert created["status"] == "new"
        assert customer.get(f"/tickets/{t['id']}").json()["attachments"] == []
    finally:
        system.start_s3()
    assert upload(customer, t["id"], "a.png", PNG).status_code == 201
