"""The README's first hour: create-admin as written, then `./gongdan demo` with no arguments
(twice, without duplicates); nobody's password changes unless asked (issue 17)."""
import subprocess
import sys

import pytest

from tests.support.system import ROOT, Api

pytestmark = pytest.mark.integration

# exactly the README's command (./gongdan create-admin hands these to `python -m scripts.cli`)
README_ADMIN = ["create-admin", "--email", "admin@example.com", "--phone", "13800000000",
                "--name", "Admin", "--password", "change-me-now"]


def cli(system, *argv):
    return subprocess.run([sys.executable, "-m", "scripts.cli", *argv], cwd=ROOT,
                          env=system.env(), capture_output=True, text=True, timeout=300)


def test_readme_admin_then_demo_then_create_admin_again(system):
    first = cli(system, *README_ADMIN)
    assert first.returncode == 0, first.stdout + first.stderr
    for _ in range(2):
        out = cli(system, "demo")
        assert out.returncode == 0, out.stdout + out.stderr
    # the README's admin still logs in with the README's password
    readme_admin = Api(system.base_url).login("admin@example.com", "change-me-now")
    assert readme_admin.user["role"] == "admin"
    assert "Demo#2026admin" in out.stdout  # the banner names the demo admin it made

    # create-admin again, with another password: nothing changes, and it says so
    again = cli(system, *README_ADMIN[:-1], "another-password-1")
    assert again.returncode == 0 and "password unchanged" in again.stderr
    Api(system.base_url).login("13800000000", "change-me-now")
    # an existing non-admin account is refused, not promoted
    customer = cli(system, "create-admin", "--phone", "13900000001", "--password", "x" * 12)
    assert customer.returncode == 3 and "customer_admin" in customer.stderr
    Api(system.base_url).login("13900000001", "Demo#2026pass")
    # asked explicitly, it resets
    reset = cli(system, *README_ADMIN[:-1], "another-password-1", "--reset-password")
    assert reset.returncode == 0, reset.stderr
    Api(system.base_url).login("admin@example.com", "another-password-1")
    assert Api(system.base_url).post("/auth/login", {
        "login": "admin@example.com", "password": "change-me-now"}).status_code == 401

    boss = Api(system.base_url).login("13900000001", "Demo#2026pass")
    tickets = boss.get("/tickets", params={"page_size": 100}).json()
    assert tickets["total"] == 6  # the company's six tickets, created once
    assert {t["status"] for t in tickets["items"]} >= {
        "in_progress", "needs_info", "cancelled", "closed", "assigned"}
    alice = Api(system.base_url).login("alice@northwind.example", "Demo#2026pass")
    assert alice.get("/tickets").json()["total"] == 1
    agent = Api(system.base_url).login("13900000004", "Demo#2026pass")
    q = agent.get("/qualified-engineers", params={"product_line": "anyshare"}).json()
    assert [e["name"] for e in q["items"]] == ["吴刚"]  # 郑洁's certification lapsed yesterday
