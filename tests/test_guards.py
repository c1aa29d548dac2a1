"""Guards over the real system: a locked account and a made-up login answer alike (status,
message, time), the lockout names its zone, refresh-token reuse revokes the token family,
archives holding programs are refused, long names keep their extension, security headers."""
import datetime as dt
import io
import re
import statistics
import time
import zipfile

import pytest
import requests

from tests.conftest import unique
from tests.support.system import Api

pytestmark = pytest.mark.integration

WRONG = "wrong-password-1"


def attempts(system, login, n, password=WRONG, lang="en"):
    api = Api(system.base_url, lang=lang)
    out = []
    for _ in range(n):
        started = time.perf_counter()
        r = api.post("/auth/login", {"login": login, "password": password})
        out.append((r, time.perf_counter() - started))
    return out


def shape(r):
    """What a caller sees, minus the lock's clock time (it moves with the request)."""
    err = r.json()["error"]
    message = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "T", err["message"])
    message = re.sub(r"\d+ (min|分钟)", r"N \1", message)
    return r.status_code, err["code"], message, sorted(err["details"])


def test_locked_account_and_unknown_login_are_indistinguishable(system, make_user):
    real = make_user()
    unknown = "135" + unique("")[-8:]
    real_tries = attempts(system, real.phone, 6)
    unknown_tries = attempts(system, unknown, 6)
    assert [shape(r) for r, _ in real_tries] == [shape(r) for r, _ in unknown_tries]
    assert [r.status_code for r, _ in unknown_tries] == [401] * 4 + [423] * 2
    # the right password for a locked account still gets the plain lockout message (the
    # support guide's "this is not a wrong password"); a made-up login gets the same text
    right = attempts(system, real.phone, 1, password=real.password, lang="zh")[0][0]
    guess = attempts(system, unknown, 1, password=real.password, lang="zh")[0][0]
    assert shape(right) == shape(guess)
    assert right.status_code == 423 and "锁定" in right.json()["error"]["message"]


def test_pending_account_locks_like_the_others(system):
    phone = "134" + unique("")[-8:]
    r = Api(system.base_url).post("/auth/register", {
        "name": unique("待审"), "phone": phone, "password": "secret-pass-1",
        "company_name": "x"})
    assert r.status_code == 201, r.text
    assert [r.status_code for r, _ in attempts(system, phone, 5)] == [401] * 4 + [423]


def test_wrong_password_takes_as_long_for_unknown_logins(system, make_user):
    """Interleaved samples, medians compared: a real account's wrong password (one argon2
    verify) and an unknown login's (one verify of a dummy hash) within a generous band."""
    users = [make_user() for _ in range(3)]
    real, fake = [], []
    for _ in range(3):
        for user in users:
            fake_login = "133" + unique("")[-8:]
            real += [t for _, t in attempts(system, user.phone, 1)]
            fake += [t for _, t in attempts(system, fake_login, 1)]
    real_median, fake_median = statistics.median(real), statistics.median(fake)
    print(f"median wrong-password time: account {real_median * 1000:.1f} ms, "
          f"unknown {fake_median * 1000:.1f} ms")
    assert abs(real_median - fake_median) < 0.5 * max(real_median, fake_median) + 0.02
    # both really ran a password hash (argon2id: tens of ms at least, even on a fast machine)
    assert fake_median > 0.01 and real_median > 0.01


def test_the_owner_of_a_locked_account_is_told(system, make_user):
    user = make_user()
    locked = attempts(system, user.phone, 5)[-1][0]
    assert locked.status_code == 423
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        items = user.get("/notifications").json()["items"]
        told = [n for n in items if n["kind"] == "account_locked"]
        if told:
            break
        time.sleep(0.5)
    assert len(told) == 1, items
    until = re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \(Asia/Shanghai, UTC\+08:00\)",
                      locked.json()["error"]["message"]).group(0)
    body = told[0]["body"]  # in the account's language (zh by default)
    assert until in body and ("如果这不是您本人的操作" in body or "If this was not you" in body)
    # a made-up login locks too, and nobody is told anything (there is nobody)
    assert attempts(system, "130" + unique("")[-8:], 5)[-1][0].status_code == 423


def test_lockout_message_names_the_zone(system, make_user):
    user = make_user()
    tries = attempts(system, user.phone, 5)
    locked = tries[-1][0]
    assert locked.status_code == 423
    err = locked.json()["error"]
    until = err["details"]["locked_until"]
    local = dt.datetime.fromisoformat(until).astimezone(dt.timezone(dt.timedelta(hours=8)))
    # the default TIMEZONE is Asia/Shanghai: its wall time, named with zone and offset
    assert f"{local:%Y-%m-%d %H:%M} (Asia/Shanghai, UTC+08:00)" in err["message"], err
    zh = attempts(system, user.phone, 1, lang="zh")[0][0].json()["error"]["message"]
    assert f"{local:%H:%M} (Asia/Shanghai, UTC+08:00)" in zh


def test_refresh_token_reuse_revokes_the_family(system, make_user):
    api = make_user()
    first = api.refresh_token
    anon = Api(system.base_url)
    r1 = anon.post("/auth/refresh", {"refresh_token": first})
    assert r1.status_code == 200, r1.text
    r2 = anon.post("/auth/refresh", {"refresh_token": r1.json()["refresh_token"]})
    assert r2.status_code == 200, r2.text
    newest = r2.json()
    assert Api(system.base_url, token=newest["access_token"]).get("/me").status_code == 200
    # the first token, already rotated twice, comes back: someone copied it
    replay = anon.post("/auth/refresh", {"refresh_token": first})
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "refresh_invalid"
    # the whole family is gone: the newest refresh token and its access token too
    after = anon.post("/auth/refresh", {"refresh_token": newest["refresh_token"]})
    assert after.status_code == 401 and after.json()["error"]["code"] == "refresh_invalid"
    me = Api(system.base_url, token=newest["access_token"]).get("/me")
    assert me.status_code == 401 and me.json()["error"]["code"] == "session_revoked"
    # another login of the same account is another family, untouched
    assert Api(system.base_url).login(api.phone, api.password).get("/me").status_code == 200


def zipped(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def upload(api, ticket_id, name, data, raw=False):
    path = f"/tickets/{ticket_id}/attachments"
    if raw:
        return api.post(path, params={"filename": name}, data=data,
                        headers={"Content-Type": "application/octet-stream"})
    return api.post(path, files={"file": (name, data)})


@pytest.mark.parametrize("raw", [False, True], ids=["multipart", "raw"])
def test_zip_holding_a_program_is_refused(system, make_user, new_ticket, raw):
    customer = make_user()
    t = new_ticket(customer)
    bad = zipped({"logs/server.log": b"ok\n" * 1000, "tools/fix.exe": b"MZ\x90\x00" * 100})
    r = upload(customer, t["id"], "logs.zip", bad, raw=raw)
    assert r.status_code == 415, r.text
    err = r.json()["error"]
    assert err["code"] == "file_type_not_allowed" and "tools/fix.exe" in err["message"]
    nested = zipped({"inner.zip": zipped({"run.bat": b"@echo off"})})
    assert upload(customer, t["id"], "nested.zip", nested, raw=raw).status_code == 415
    good = zipped({"logs/server.log": b"ok\n" * 1000})
    r = upload(customer, t["id"], "logs.zip", good, raw=raw)
    assert r.status_code == 201, r.text
    assert r.json()["size"] == len(good)
    # what was stored is the whole file, byte for byte (the listing did not eat its head)
    link = customer.get(f"/tickets/{t['id']}/attachments/{r.json()['id']}").json()
    assert requests.get(link["url"], timeout=30).content == good


def test_long_file_name_keeps_its_extension(system, make_user, new_ticket):
    customer = make_user()
    t = new_ticket(customer)
    name = "服务器日志" * 30 + "x" * 146 + ".log"
    assert len(name) == 300
    r = upload(customer, t["id"], name, b"line one\nline two\n")
    assert r.status_code == 201, r.text
    stored = r.json()["filename"]
    assert stored.endswith(".log") and len(stored) == 200 and stored.startswith("服务器日志")


def test_security_headers_on_every_kind_of_response(system, make_user, new_ticket):
    customer = make_user()
    t = new_ticket(customer)
    att = upload(customer, t["id"], "a.txt", b"hello").json()
    responses = [
        customer.get("/me"),                                             # JSON
        Api(system.base_url).get("/me"),                                 # an error
        requests.get(system.base_url + "/", timeout=30),                 # the web client
        requests.get(system.base_url + "/api/v1/openapi.json", timeout=30),
        customer.get(f"/tickets/{t['id']}/attachments/{att['id']}",      # download redirect
                     params={"redirect": "1"}, allow_redirects=False),
    ]
    for r in responses:
        assert r.headers.get("X-Content-Type-Options") == "nosniff", r.url
        assert r.headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", r.url
        assert "Strict-Transport-Security" not in r.headers  # no TLS configured here
    # the download itself is served by object storage from the presigned link, with headers
    # the gateway cannot add (S3 lets a link override only a few); it is always an
    # attachment with the type checked at upload, so a browser saves it and never renders it
    link = customer.get(f"/tickets/{t['id']}/attachments/{att['id']}").json()
    download = requests.get(link["url"], timeout=30)
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Content-Type"].startswith("text/plain")


def test_rate_limit_headers_on_allowed_responses(system, make_user):
    customer = make_user()
    r = Api(system.base_url).post("/auth/login", {"login": customer.phone,
                                                  "password": customer.password})
    assert r.status_code == 200
    assert int(r.headers["RateLimit-Limit"]) >= 1000
    assert int(r.headers["RateLimit-Remaining"]) < int(r.headers["RateLimit-Limit"])
    assert "RateLimit-Reset" in r.headers
