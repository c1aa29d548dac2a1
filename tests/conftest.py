"""Cross-service tests: the real system, started once per database backend.

Every test in tests/ that uses `system` runs against SQLite and again against PostgreSQL,
each time with all services as real `nameko run` processes, a private RabbitMQ vhost and
a private S3 server.
"""
import datetime as dt
import itertools
import os

import pytest

from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD, Api, running
from tests.support.web import browser, open_page  # noqa: F401 - fixtures, one browser a session

# uploads are capped low here so the over-limit path is cheap to test; the production
# default (100 MB) is the same code path with another number
TEST_UPLOAD_LIMIT = 3 * 1024 * 1024


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql",
                                                                 marks=pytest.mark.postgres)])
def system(request):
    with running(f"gongdan-{request.param}-", backend=request.param,
                 env={"MAX_UPLOAD_BYTES": str(TEST_UPLOAD_LIMIT), "LOCKOUT_THRESHOLD": "5",
                      # a few idle connections per process: the suite's many processes share
                      # one PostgreSQL (max_connections 100); benches keep the default
                      "GONGDAN_DB_POOL_SIZE": "4"}) as sys_:
        yield sys_


def pytest_collection_modifyitems(config, items):
    """Browser tests (tests/test_web_*.py) run against PostgreSQL only: a page talks to the
    same HTTP API whichever database is behind it, and every endpoint it uses is tested on
    both backends by the API tests; their SQLite runs cost ~6 of the suite's 33 minutes.
    GONGDAN_WEB_BOTH_BACKENDS=1 runs them on both."""
    if os.environ.get("GONGDAN_WEB_BOTH_BACKENDS") == "1":
        return
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        browser_test = os.path.basename(str(item.fspath)).startswith("test_web_")
        on_sqlite = callspec is not None and callspec.params.get("system") == "sqlite"
        (drop if browser_test and on_sqlite else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


_seq = itertools.count(1)


def unique(prefix):
    return f"{prefix}{os.getpid() % 1000:03d}{next(_seq):05d}"


@pytest.fixture(scope="session")
def admin(system):
    return Api(system.base_url).login(ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture(scope="session")
def product(system, admin):
    code = "AS-" + unique("")
    r = admin.post("/admin/products", {"code": code, "name": "AnyShare 企业网盘",
                                       "product_line": "anyshare", "versions": ["7.0", "8.0"]})
    assert r.status_code == 201, r.text
    return code


@pytest.fixture(scope="session")
def make_company(admin):
    def make(kind="customer", name=None):
        r = admin.post("/admin/companies", {"name": name or unique("公司-"), "kind": kind})
        assert r.status_code == 201, r.text
        return r.json()
    return make


@pytest.fixture(scope="session")
def make_user(system, admin, make_company):
    """Register through the API, approve as admin, log in: an Api for a real account."""
    def make(role="customer", company=None, password="secret-pass-1", lang=None):
        phone = "136" + unique("")[-8:]
        r = Api(system.base_url).post("/auth/register", {
            "name": unique("用户"), "phone": phone, "email": f"{phone}@example.test",
            "password": password, "company_name": "registered-as"})
        assert r.status_code == 201, r.text
        user_id = r.json()["id"]
        kind = {"customer": "customer", "customer_admin": "customer",
                "provider_admin": "provider", "engineer": "provider"}.get(role)
        if kind and company is None:
            company = make_company(kind)
        body = {"role": role, "company_id": company["id"] if company else None}
        r = admin.post(f"/admin/users/{user_id}/approve", body)
        assert r.status_code == 200, r.text
        api = Api(system.base_url, lang=lang).login(phone, password)
        api.company, api.phone, api.password = company, phone, password
        return api
    return make


@pytest.fixture(scope="session")
def new_ticket(product):
    def create(api, **fields):
        body = {"title": "无法登录系统", "type": "defect", "product": product,
                "category": "function", "description": "登录时提示账号被锁定，已持续两天",
                "contact_phone": "13800138000", "impact": "department", "urgency": "high"}
        body.update(fields)
        r = api.post("/tickets", body)
        assert r.status_code == 201, r.text
        return r.json()
    return create


class FieldService:
    """A product line of its own, a provider company covering it, and its people: `engineer`
    certified for the line; `boss` (provider admin) and `lapsed` (an engineer whose
    certification ran out yesterday) when asked for. Unpacks as (company, boss, engineer,
    lapsed)."""

    def __init__(self, company, boss, engineer, lapsed, product, line):
        self.company, self.boss, self.engineer, self.lapsed = company, boss, engineer, lapsed
        self.product, self.line = product, line

    @property
    def good(self):
        return self.engineer

    def __iter__(self):
        return iter((self.company, self.boss, self.engineer, self.lapsed))


@pytest.fixture(scope="session")
def make_field_service(admin, make_company, make_user):
    def make(boss=True, lapsed=True):
        def day(offset):
            return (dt.date.today() + dt.timedelta(days=offset)).isoformat()
        line = unique("line-").lower()
        product = unique("P-")
        assert admin.post("/admin/products", {"code": product, "name": "测试设备",
                                              "product_line": line}).status_code == 201
        company = make_company("provider")
        assert admin.put(f"/providers/{company['id']}", {
            "name": company["name"], "product_lines": [line]}).status_code == 200
        engineers = [(make_user("engineer", company=company), day(365))]
        if lapsed:
            engineers.append((make_user("engineer", company=company), day(-1)))
        for engineer, until in engineers:
            assert admin.put(f"/engineers/{engineer.user['id']}", {
                "provider_id": company["id"], "skills": [line]}).status_code == 200
            r = admin.post(f"/engineers/{engineer.user['id']}/certifications", {
                "product_line": line, "certificate_no": "C-" + engineer.user["id"][:8],
                "valid_from": day(-400), "valid_until": until})
            assert r.status_code == 201, r.text
        return FieldService(company, make_user("provider_admin", company=company) if boss else None,
                            engineers[0][0], engineers[1][0] if lapsed else None, product, line)
    return make
