"""The documented demo data loads into a running system, twice without duplicates."""
import subprocess
import sys

import pytest

from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD, ROOT, Api

pytestmark = pytest.mark.integration


def test_demo_data_loads_and_is_idempotent(system):
    argv = [sys.executable, "-m", "scripts.demo_data", "--base-url", system.base_url,
            "--admin-login", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD]
    for _ in range(2):
        out = subprocess.run(argv, cwd=ROOT, env=system.env(), capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
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
