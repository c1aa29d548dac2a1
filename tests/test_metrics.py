"""Metrics and health of every real process: traffic over HTTP moves the counters each
process serves on its own ops port; /livez and /readyz answer per process, and /readyz
fails while the process's database is away."""
import os
import shutil
import time

import psycopg2
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.system import PG_ADMIN

pytestmark = pytest.mark.integration


def scrape(url):
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    return [s for family in text_string_to_metric_families(r.text) for s in family.samples]


def value(samples, name, **labels):
    """Sum of the samples called `name` whose labels include `labels` (0 when none)."""
    return sum(s.value for s in samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def ops_url(system, label, path="/metrics"):
    return f"http://127.0.0.1:{system.ops_ports[label]}{path}"


def wait_for(check, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        failures = check()
        if not failures or time.monotonic() > deadline:
            return failures
        time.sleep(0.3)


def test_traffic_moves_every_process_counters(system, make_user, new_ticket):
    customer = make_user()
    gateway_url = system.base_url + "/metrics"
    before = {"gateway": scrape(gateway_url),
              **{name: scrape(ops_url(system, name)) for name in ("intake", "dispatch", "sla")}}
    tickets = [new_ticket(customer, title=f"指标 {i}") for i in range(3)]
    assert customer.get("/tickets/00000000-0000-0000-0000-000000000000").status_code == 404

    # (process, metric, labels, at least this much more than before)
    expected = [
        ("gateway", "gongdan_http_requests_total",
         dict(route="/api/v1/tickets", method="POST", status="201"), 3),
        ("gateway", "gongdan_http_request_duration_seconds_count",
         dict(route="/api/v1/tickets", method="POST"), 3),
        ("intake", "gongdan_rpc_calls_total", dict(method="create_ticket", outcome="ok"), 3),
        ("intake", "gongdan_rpc_duration_seconds_count", dict(method="create_ticket"), 3),
        ("intake", "gongdan_rpc_calls_total", dict(method="get_ticket", outcome="refused"), 1),
        ("intake", "gongdan_outbox_published_total", dict(service="intake"), 3),
        ("dispatch", "gongdan_events_handled_total",
         dict(handler="on_ticket_created", outcome="ok"), 3),
        ("sla", "gongdan_events_handled_total",
         dict(handler="on_ticket_created", outcome="ok"), 3),
        ("sla", "gongdan_event_batch_size_sum", dict(handler="on_ticket_created"), 3),
        ("sla", "gongdan_event_handle_duration_seconds_count",
         dict(handler="on_ticket_created"), 1),
    ]

    def check():
        now = {"gateway": scrape(gateway_url),
               **{n: scrape(ops_url(system, n)) for n in ("intake", "dispatch", "sla")}}
        return [(proc, name, labels, value(before[proc], name, **labels),
                 value(now[proc], name, **labels))
                for proc, name, labels, moved in expected
                if value(now[proc], name, **labels) < value(before[proc], name, **labels) + moved]

    assert wait_for(check) == []
    assert len(tickets) == 3

    def outbox_drained():
        samples = scrape(ops_url(system, "intake"))
        return [] if value(samples, "gongdan_outbox_unpublished") == 0 else ["backlog"]
    assert wait_for(outbox_drained) == []

    intake = scrape(ops_url(system, "intake"))
    for name in ("gongdan_outbox_oldest_age_seconds", "gongdan_db_pool_in_use",
                 "gongdan_hub_lag_seconds"):
        assert any(s.name == name and s.labels["service"] == "intake" for s in intake), name
    assert value(intake, "gongdan_db_reachable", service="intake") == 1
    sla = scrape(ops_url(system, "sla"))
    assert any(s.name == "gongdan_sla_timers_due" for s in sla)
    notify = scrape(ops_url(system, "notify"))
    assert {s.labels["channel"] for s in notify
            if s.name == "gongdan_notify_deliveries_pending"} >= {"email", "sms", "webhook"}


def test_each_process_answers_livez_and_readyz(system):
    for label in system.procs:
        for path in ("/livez", "/readyz"):
            r = requests.get(ops_url(system, label, path), timeout=10)
            assert r.status_code == 200, (label, path, r.text)
            assert r.json()["status"] == "ok"
        metrics = requests.get(ops_url(system, label), timeout=10)
        assert "gongdan_hub_lag_seconds" in metrics.text
    for path in ("/livez", "/readyz", "/metrics"):
        assert requests.get(system.base_url + path, timeout=10).status_code == 200, path


def test_readyz_fails_while_the_database_is_away_and_recovers(system):
    """worklog's own database goes away (SQLite: the file is moved; PostgreSQL: the
    database refuses connections and its sessions are terminated): worklog is not ready,
    the others are; it is ready again when the database is back."""
    url = ops_url(system, "worklog", "/readyz")
    assert requests.get(url, timeout=10).status_code == 200
    with database_away(system, "worklog"):
        r = requests.get(url, timeout=10)
        assert r.status_code == 503, r.text
        assert r.json()["checks"]["database"] == "unreachable"
        assert requests.get(ops_url(system, "intake", "/readyz"), timeout=10).status_code == 200
        assert value(scrape(ops_url(system, "worklog")), "gongdan_db_reachable") == 0
        # not ready is not dead: liveness stays up
        assert requests.get(ops_url(system, "worklog", "/livez"), timeout=10).status_code == 200
    assert wait_for(lambda: [] if requests.get(url, timeout=10).status_code == 200
                    else ["not ready"]) == []


class database_away:
    def __init__(self, system, service):
        self.system, self.service = system, service

    def __enter__(self):
        if self.system.backend == "sqlite":
            self.path = os.path.join(self.system.workdir, "data", f"{self.service}.db")
            shutil.move(self.path, self.path + ".away")
        else:
            self.db = self.system.db_urls[self.service].rsplit("/", 1)[1]
            self._pg(f'ALTER DATABASE "{self.db}" ALLOW_CONNECTIONS false',
                     "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     f"WHERE datname = '{self.db}'")

    def __exit__(self, *exc):
        if self.system.backend == "sqlite":
            shutil.move(self.path + ".away", self.path)
        else:
            self._pg(f'ALTER DATABASE "{self.db}" ALLOW_CONNECTIONS true')

    def _pg(self, *statements):
        conn = psycopg2.connect(PG_ADMIN)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                for sql in statements:
                    cur.execute(sql)
        finally:
            conn.close()
