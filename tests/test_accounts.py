"""Registration with approval, login, tokens, lockout, roles and masking — over HTTP."""
import datetime as dt

import jwt
import pytest

from tests.conftest import unique
from tests.support.system import SECRET_KEY, Api

pytestmark = pytest.mark.integration


def register(system, **over):
    phone = "137" + unique("")[-8:]
    body = {"name": "王五", "phone": phone, "password": "correct-horse-1",
            "company_name": "某某科技", "national_id": "110101199003071233", "position": "运维"}
    body.update(over)
    return Api(system.base_url).post("/auth/register", body), body


def test_registration_waits_for_approval_then_logs_in(system, admin, make_company):
    r, body = register(system)
    assert r.status_code == 201, r.text
    user = r.json()
    assert user["status"] == "pending" and user["role"] is None
    assert user["national_id"] == "*" * 14 + "1233"  # never in clear, not even to its owner
    assert "110101" not in r.text
    # the identity number is stored encrypted: not in the database in clear either
    stored = system.sql("gateway", "SELECT national_id_enc, national_id_hint FROM users "
                                   "WHERE id = %s", user["id"])[0]
    assert "110101199003071233" not in stored[0] and stored[1] == "1233"

    pending = Api(system.base_url, lang="en").post(
        "/auth/login", {"login": body["phone"], "password": body["password"]})
    assert pending.status_code == 403
    assert pending.json()["error"]["code"] == "account_pending"

    company = make_company("customer")
    r = admin.post(f"/admin/users/{user['id']}/approve",
                   {"company_id": company["id"], "role": "customer_admin"})
    assert r.status_code == 200 and r.json()["status"] == "active"
    again = admin.post(f"/admin/users/{user['id']}/approve",
                       {"company_id": company["id"], "role": "customer"})
    assert again.status_code == 409

    api = Api(system.base_url).login(body["phone"], body["password"])
    me = api.get("/me").json()
    assert me["role"] == "customer_admin" and me["company_id"] == company["id"]
    assert me["phone"] == body["phone"]  # the owner sees their own phone


def test_login_by_email_is_case_insensitive(system, make_user):
    user = make_user()
    api = Api(system.base_url).login(user.phone + "@EXAMPLE.test", user.password)
    assert api.get("/me").status_code == 200


def test_refresh_rotates_and_logout_revokes(system, make_user):
    api = make_user()
    old_refresh = api.refresh_token
    r = Api(system.base_url).post("/auth/refresh", {"refresh_token": old_refresh})
    assert r.status_code == 200, r.text
    new = r.json()
    fresh = Api(system.base_url, token=new["access_token"])
    assert fresh.get("/me").status_code == 200
    # (a refresh token works once: its reuse revokes the family, tests/test_guards.py)
    assert fresh.post("/auth/logout").status_code == 204
    after = fresh.get("/me")
    assert after.status_code == 401 and after.json()["error"]["code"] == "session_revoked"
    dead = Api(system.base_url).post("/auth/refresh", {"refresh_token": new["refresh_token"]})
    assert dead.status_code == 401


def test_lockout_says_locked_not_wrong_password_and_admin_unlocks(system, admin, make_user):
    user = make_user()
    anon = Api(system.base_url, lang="en")
    codes = [anon.post("/auth/login", {"login": user.phone, "password": "wrong-password"})
             for _ in range(5)]
    assert [c.json()["error"]["code"] for c in codes[:4]] == ["invalid_credentials"] * 4
    assert codes[4].status_code == 423 and codes[4].json()["error"]["code"] == "account_locked"
    # the right password while locked: told plainly that the account is locked, until when
    zh = Api(system.base_url, lang="zh-CN").post(
        "/auth/login", {"login": user.phone, "password": user.password})
    assert zh.status_code == 423
    err = zh.json()["error"]
    assert "锁定" in err["message"] and "账号或密码错误" not in err["message"]
    assert err["details"]["locked_until"]
    en = anon.post("/auth/login", {"login": user.phone, "password": user.password}).json()
    assert "locked" in en["error"]["message"] and "until" in en["error"]["message"]

    r = admin.post(f"/admin/users/{user.user['id']}/unlock")
    assert r.status_code == 200 and r.json()["failed_logins"] == 0
    assert Api(system.base_url).post("/auth/login", {"login": user.phone,
                                                     "password": user.password}).status_code == 200


def test_unknown_account_and_wrong_password_look_the_same(system, make_user):
    user = make_user()
    a = Api(system.base_url).post("/auth/login", {"login": "19999999999", "password": "x"})
    b = Api(system.base_url).post("/auth/login", {"login": user.phone, "password": "x"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


@pytest.mark.parametrize("token", [
    "not-a-jwt",
    jwt.encode({"sub": "x", "sid": "y", "typ": "access", "exp": 9999999999}, "forged-key-" * 4,
               algorithm="HS256"),
    "gds_not-a-real-service-token",
])
def test_forged_tokens_are_refused(system, token):
    r = Api(system.base_url, token=token).get("/me")
    assert r.status_code == 401
    assert r.json()["error"]["code"] in ("token_invalid",)


def test_expired_token_is_refused_with_its_own_code(system, make_user):
    api = make_user()
    claims = jwt.decode(api.token, SECRET_KEY, algorithms=["HS256"])
    claims["exp"] = int((dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)).timestamp())
    expired = jwt.encode(claims, SECRET_KEY, algorithm="HS256")
    r = Api(system.base_url, token=expired, lang="zh").get("/me")
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"
    assert "过期" in r.json()["error"]["message"]


def test_missing_token(system):
    r = Api(system.base_url).get("/tickets")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("body,field", [
    ({"name": "x", "password": "long-enough-1", "company_name": "c"}, "phone"),
    ({"name": "x", "phone": "abc", "password": "long-enough-1", "company_name": "c"}, "phone"),
    ({"name": "x", "phone": "13712345678", "password": "short", "company_name": "c"}, "password"),
    ({"name": "", "phone": "13712345679", "password": "long-enough-1", "company_name": "c"}, "name"),
    ({"name": "x", "phone": "13712345670", "password": "long-enough-1", "company_name": "c",
      "role": "admin"}, "role"),
    ({"name": 5, "phone": "13712345671", "password": "long-enough-1", "company_name": "c"}, "name"),
])
def test_registration_bad_input(system, body, field):
    before = system.sql("gateway", "SELECT count(*) FROM users")[0][0]
    r = Api(system.base_url, lang="zh").post("/auth/register", body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_failed" and field in err["details"]["fields"]
    assert system.sql("gateway", "SELECT count(*) FROM users")[0][0] == before


def test_duplicate_phone_is_a_conflict(system):
    r, body = register(system)
    assert r.status_code == 201
    again, _ = register(system, phone=body["phone"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "account_exists"


def test_malformed_json_and_wrong_content_type(system):
    api = Api(system.base_url)
    r = api.http.post(system.base_url + "/api/v1/auth/login", data="{not json",
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    r = api.http.post(system.base_url + "/api/v1/auth/login", data="login=a&password=b",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    r = api.http.post(system.base_url + "/api/v1/auth/login", json=["a", "b"])
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"


def test_body_size_limit(system):
    r = Api(system.base_url).post("/auth/register", {"name": "x" * (2 * 1024 * 1024)})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_roles_are_enforced_on_admin_endpoints(system, make_user):
    customer = make_user()
    for method, path in [("GET", "/admin/companies"), ("POST", "/admin/companies"),
                         ("POST", "/admin/service-tokens"), ("GET", "/admin/service-tokens")]:
        r = customer.request(method, path, json={"name": "x", "kind": "customer"})
        assert r.status_code == 403, (path, r.text)


def test_customer_admin_sees_own_company_users_masked(system, make_user):
    boss = make_user("customer_admin")
    colleague = make_user("customer", company=boss.company)
    make_user("customer")  # another company
    r = boss.get("/admin/users")
    assert r.status_code == 200
    items = r.json()["items"]
    assert {u["company_id"] for u in items} == {boss.company["id"]}
    mine = next(u for u in items if u["id"] == colleague.user["id"])
    assert mine["phone"] != colleague.phone and "****" in mine["phone"]


def test_approval_checks_company_kind(system, admin, make_company):
    r, _ = register(system)
    provider = make_company("provider")
    bad = admin.post(f"/admin/users/{r.json()['id']}/approve",
                     {"company_id": provider["id"], "role": "customer"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "company_kind_mismatch"


def test_service_token_scopes(system, admin, make_user, new_ticket):
    r = admin.post("/admin/service-tokens", {"name": unique("crm-"), "scopes": ["tickets:read"]})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    svc = Api(system.base_url, token=token)
    customer = make_user()
    ticket = new_ticket(customer)
    assert svc.get(f"/tickets/{ticket['id']}").status_code == 200
    write = svc.post(f"/tickets/{ticket['id']}/comments", {"body": "from CRM"})
    assert write.status_code == 403
    assert admin.delete(f"/admin/service-tokens/{r.json()['id']}").status_code == 200
    assert svc.get(f"/tickets/{ticket['id']}").status_code == 401


def test_disabling_a_user_ends_their_sessions(system, admin, make_user):
    user = make_user()
    assert user.get("/me").status_code == 200  # the gateway now holds the verified actor
    r = admin.patch(f"/admin/users/{user.user['id']}", {"status": "disabled"})
    assert r.status_code == 200
    assert user.get("/me").status_code == 401


def test_national_id_is_checked_and_can_be_required(system):
    """Issue 17: 15 digits, or 18 with the ISO 7064 MOD 11-2 check character (X allowed);
    REQUIRE_NATIONAL_ID makes it mandatory (the OceanBase flow's real-name verification)."""
    for bad, zh in (("110101199003071234", "校验位不正确"), ("12345", "18 位"),
                    ("11010119900307123Y", "18 位")):
        r, _ = register(system, national_id=bad)
        assert r.status_code == 400, r.text
        fields = r.json()["error"]["details"]["fields"]
        assert "check" in fields["national_id"][0] or "identity card" in fields["national_id"][0]
        zh_r = Api(system.base_url, lang="zh").post("/auth/register", dict(_, national_id=bad))
        assert zh in zh_r.json()["error"]["details"]["fields"]["national_id"][0]
    r, _ = register(system, national_id="11010519491231002x")  # a lower-case x is the X
    assert r.status_code == 201 and r.json()["national_id"].endswith("002X"), r.text
    r, _ = register(system, national_id="110105491231002")  # the old 15 digits
    assert r.status_code == 201, r.text
    r, _ = register(system, national_id=None)  # optional by default
    assert r.status_code == 201, r.text

    from tests.test_limits import start_gateway
    try:
        base = start_gateway(system, "gateway-real-name", REQUIRE_NATIONAL_ID="true")
        body = dict(_, phone="136" + unique("")[-8:])
        del body["national_id"]
        r = Api(base, lang="zh").post("/auth/register", body)
        assert r.status_code == 400 and r.json()["error"]["details"]["fields"]["national_id"] \
            == ["实名认证需要填写身份证号码。"], r.text
        r = Api(base).post("/auth/register", dict(body, national_id="440304198510103211"))
        assert r.status_code == 201 and r.json()["national_id"] == "*" * 14 + "3211", r.text
    finally:
        system.stop_service("gateway-real-name")
