"""Service providers, engineers and certifications through the gateway (dispatch's registry)."""
import datetime as dt

import pytest

pytestmark = pytest.mark.integration

TODAY = dt.date.today()


def day(offset):
    return (TODAY + dt.timedelta(days=offset)).isoformat()


@pytest.fixture
def provider(admin, make_company, make_user):
    company = make_company("provider")
    r = admin.put(f"/providers/{company['id']}", {"name": company["name"],
                                                  "product_lines": ["anyshare"],
                                                  "regions": ["华东"]})
    assert r.status_code == 200, r.text
    boss = make_user("provider_admin", company=company)
    engineers = [make_user("engineer", company=company) for _ in range(2)]
    for e in engineers:
        r = admin.put(f"/engineers/{e.user['id']}", {"provider_id": company["id"],
                                                     "skills": ["anyshare", "linux"]})
        assert r.status_code == 200, r.text
    return company, boss, engineers


def test_certified_engineers_are_qualified_only_while_valid(admin, provider):
    company, boss, (fresh, lapsed) = provider
    ok = boss.post(f"/engineers/{fresh.user['id']}/certifications", {
        "product_line": "anyshare", "certificate_no": "AS-001", "valid_from": day(-30),
        "valid_until": day(365)})
    assert ok.status_code == 201, ok.text
    assert ok.json()["status"] == "valid"
    old = admin.post(f"/engineers/{lapsed.user['id']}/certifications", {
        "product_line": "anyshare", "certificate_no": "AS-002", "valid_from": day(-400),
        "valid_until": day(-1)})  # valid until yesterday
    assert old.status_code == 201 and old.json()["status"] == "expired"
    q = admin.get("/qualified-engineers", params={"product_line": "anyshare",
                                                  "provider_id": company["id"]}).json()
    assert [e["id"] for e in q["items"]] == [fresh.user["id"]]
    earlier = admin.get("/qualified-engineers", params={
        "product_line": "anyshare", "provider_id": company["id"], "at": day(-10)}).json()
    assert {e["id"] for e in earlier["items"]} == {fresh.user["id"], lapsed.user["id"]}
    listed = boss.get("/engineers", params={"provider_id": company["id"]}).json()
    assert {e["id"] for e in listed["items"]} == {fresh.user["id"], lapsed.user["id"]}
    assert admin.post(f"/engineers/{fresh.user['id']}/availability",
                      {"availability": "on_leave"}).status_code == 200
    q = admin.get("/qualified-engineers", params={"product_line": "anyshare",
                                                  "provider_id": company["id"]}).json()
    assert q["items"] == []


def test_registry_bad_input(admin, provider, make_company, make_user):
    company, boss, (engineer, _) = provider
    inverted = admin.post(f"/engineers/{engineer.user['id']}/certifications", {
        "product_line": "anyshare", "certificate_no": "X", "valid_from": day(10),
        "valid_until": day(1)})
    assert inverted.status_code == 400
    assert "valid_until" in inverted.json()["error"]["details"]["fields"]
    customer_company = make_company("customer")
    r = admin.put(f"/providers/{customer_company['id']}", {"name": "not a provider"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "provider_company_required"
    customer = make_user("customer")
    r = admin.put(f"/engineers/{customer.user['id']}", {"provider_id": company["id"]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "engineer_account_required"
    # another provider's admin cannot touch these engineers
    other = make_company("provider")
    admin.put(f"/providers/{other['id']}", {"name": other["name"]})
    stranger = make_user("provider_admin", company=other)
    r = stranger.post(f"/engineers/{engineer.user['id']}/certifications", {
        "product_line": "anyshare", "certificate_no": "Y", "valid_from": day(0),
        "valid_until": day(10)})
    assert r.status_code in (403, 404)
    assert customer.get("/engineers").status_code == 403
    r = admin.get("/qualified-engineers")
    assert r.status_code == 400 and "product_line" in r.json()["error"]["details"]["fields"]
