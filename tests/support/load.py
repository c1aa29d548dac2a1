"""Ticket creation under load for the fault tests, and the checks that nothing was lost or
duplicated.

Each creator thread creates tickets one after another, each with its own Idempotency-Key,
and retries a create that failed in a retryable way (503, a dropped connection, a timeout)
with the *same* key, as a well-behaved client does. Every status seen is counted.
"""
import collections
import contextlib
import glob
import os
import secrets
import shutil
import signal
import tempfile
import threading
import time
import uuid

import requests

from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD, Api, System

RETRYABLE = {502, 503, 504}


def product_and_company(admin, prefix="FAULT", name="故障"):
    """A product (code `PREFIX-xxxxxx`) and a customer company, made by a signed-in admin."""
    tag = secrets.token_hex(3)
    code = f"{prefix}-{tag.upper()}"
    r = admin.post("/admin/products", {"code": code, "name": "AnyShare 企业网盘",
                                       "product_line": "anyshare", "versions": ["7.0"]})
    assert r.status_code == 201, r.text
    r = admin.post("/admin/companies", {"name": f"{name}公司-{tag}", "kind": "customer"})
    assert r.status_code == 201, r.text
    return code, r.json()


def customer(system, prefix="FAULT", name="故障"):
    """A product, a customer company and a logged-in customer of it: (api, product code).
    The fault tests and the benches (bench/ticket_create.py) start from this."""
    admin = Api(system.base_url).login(ADMIN_EMAIL, ADMIN_PASSWORD)
    code, company = product_and_company(admin, prefix, name)
    phone = "13" + str(secrets.randbelow(10 ** 9)).zfill(9)
    password = prefix.lower() + "-pass-1"
    r = Api(system.base_url).post("/auth/register", {
        "name": name + "用户", "phone": phone, "email": f"{phone}@{prefix.lower()}.test",
        "password": password, "company_name": company["name"]})
    assert r.status_code == 201, r.text
    r = admin.post(f"/admin/users/{r.json()['id']}/approve",
                   {"role": "customer", "company_id": company["id"]})
    assert r.status_code == 200, r.text
    return Api(system.base_url).login(phone, password), code


class Load:
    def __init__(self, api, product, threads=4, total=None, retry_for=150.0):
        self.api, self.product, self.threads = api, product, threads
        self.total, self.retry_for = total, retry_for
        self.created = {}            # idempotency key -> ticket id (first 201)
        self.gave_up = []            # keys never acknowledged within retry_for
        self.statuses = collections.Counter()
        self.bad = []                # (status, body) of non-retryable failures (500 ...)
        self.retry_after_missing = 0
        self.latencies = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._abort = threading.Event()  # join's deadline passed: every creator gives up
        self._issued = 0
        self._workers = []

    def body(self):
        return {"title": "故障演练 fault drill", "type": "defect", "product": self.product,
                "category": "function", "description": "created while a fault is injected",
                "contact_phone": "13800138000", "impact": "department", "urgency": "high"}

    def _next(self):
        with self._lock:
            if self._stop.is_set() or self._abort.is_set() or (self.total is not None and self._issued >= self.total):
                return None
            self._issued += 1
            return "fault-" + uuid.uuid4().hex

    def _create(self, http, key):
        deadline = time.monotonic() + self.retry_for
        start = time.monotonic()
        while time.monotonic() < deadline and not self._abort.is_set():
            try:
                r = http.post(self.api.base_url + "/api/v1/tickets", json=self.body(),
                              headers=self.api.headers({"Idempotency-Key": key}), timeout=45)
            except requests.RequestException as exc:
                with self._lock:
                    self.statuses[type(exc).__name__] += 1
                time.sleep(0.5)
                continue
            with self._lock:
                self.statuses[r.status_code] += 1
            if r.status_code == 201:
                with self._lock:
                    self.created[key] = r.json()["id"]
                    self.latencies.append(time.monotonic() - start)
                return
            if r.status_code in RETRYABLE:
                if r.status_code == 503 and not r.headers.get("Retry-After"):
                    with self._lock:
                        self.retry_after_missing += 1
                time.sleep(0.5)
                continue
            with self._lock:
                self.bad.append((r.status_code, r.text[:300]))
            return
        with self._lock:
            self.gave_up.append(key)

    def _worker(self):
        http = requests.Session()
        while True:
            key = self._next()
            if key is None:
                return
            self._create(http, key)

    def start(self):
        for _ in range(self.threads):
            t = threading.Thread(target=self._worker, daemon=True)
            t.start()
            self._workers.append(t)
        return self

    def stop(self, within=None):
        """No new tickets; wait for the ones under way (they retry until acknowledged)."""
        self._stop.set()
        self.join(within)

    def join(self, within=None):
        """Wait for every creator to finish, `within` seconds in all (default: one create's
        retries and a request's timeout). When time is up the creators give up and an
        AssertionError says how far they got - a test never waits on them without end."""
        within = self.retry_for + 60 if within is None else within
        deadline = time.monotonic() + within
        for t in self._workers:
            t.join(max(0.0, deadline - time.monotonic()))
        busy = sum(t.is_alive() for t in self._workers)
        if busy:
            self._abort.set()
            raise AssertionError(
                f"ticket creation did not finish within {within:.0f}s: {busy} of "
                f"{len(self._workers)} creators still busy; {self.progress()}")

    def progress(self):
        with self._lock:
            return (f"{len(self.created)} tickets acknowledged of {self._issued} started"
                    f"{'' if self.total is None else f' ({self.total} to make)'}, "
                    f"{len(self.gave_up)} given up; statuses {dict(self.statuses)}")

    def count(self):
        with self._lock:
            return len(self.created)

    def wait_count(self, n, timeout):
        """Wait until `n` tickets were acknowledged or `timeout` seconds passed; returns the
        count (callers assert on it)."""
        deadline = time.monotonic() + timeout
        while self.count() < n and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.count()

    def require_count(self, n, timeout, what="tickets"):
        """`wait_count`, failing with the load's progress when `n` is not reached in time."""
        count = self.wait_count(n, timeout)
        assert count >= n, f"{what}: {n} tickets wanted within {timeout:.0f}s; " \
                           f"{self.progress()}"
        return count


def start_load(system, threads=4, total=None, first=0, within=60):
    """A customer's creators (Load) on `system`, returned once `first` tickets were
    acknowledged (asserted; `within` seconds at most)."""
    api, product = customer(system)
    load = Load(api, product, threads=threads, total=total).start()
    load.require_count(first, within, "the load's start")
    return load


def wait_until(check, timeout, interval=0.5):
    """Poll `check()` (returns a value, truthy when done) until it is done or time is up;
    returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def event_effects(system, ticket_ids):
    """How many of these tickets each ticket_created consumer has handled: sla (a
    `created:` step per ticket) and dispatch (its processed_events record)."""
    ids = set(ticket_ids)
    sla = {row[0].split(":", 1)[1] for row in system.sql(
        "sla", "SELECT key FROM sla_steps WHERE key LIKE 'created:%%'")}
    dispatch = {row[0] for row in system.sql(
        "dispatch", "SELECT event_id FROM processed_events WHERE consumer = %s",
        "dispatch.ticket_created")}
    intake_events = {row[0]: row[1] for row in system.sql(
        "intake", "SELECT event_id, payload FROM outbox WHERE type = %s", "ticket_created")}
    return {"sla": len(ids & sla), "dispatch": len(dispatch & set(intake_events)),
            "outbox_rows": len(intake_events)}


def check_tickets(system, load):
    """(tickets in intake for our keys, keys with more than one ticket)."""
    keys = list(load.created)
    rows = system.sql("intake", "SELECT request_key, count(*) FROM tickets "
                                "WHERE request_key LIKE 'fault-%%' GROUP BY request_key")
    counts = dict(rows)
    missing = [k for k in keys if k not in counts]
    duplicated = [k for k, n in counts.items() if n > 1]
    unknown = [k for k in counts if k not in load.created]
    return missing, duplicated, unknown


@contextlib.contextmanager
def fault_system(prefix, **kwargs):
    """A started System (kwargs go to System) in a temporary folder of its own, for a fault
    test; when anything fails, starting included, the ERROR lines of its logs are printed
    and the logs kept. Stopped and removed afterwards."""
    workdir = tempfile.mkdtemp(prefix=prefix)
    system = System(workdir, **kwargs)
    try:
        system.start()
        yield system
    except BaseException:
        print_errors(system)
        raise
    finally:
        system.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def check_nothing_lost(system, load, events_within=90, diagnose=None):
    """After a fault under load, with the load stopped: no service process exited; no
    create was refused for good (no 500), each was acknowledged in the end and every 503 said
    when to retry; every acknowledged ticket exists once (no ticket for a key never
    acknowledged); its ticket_created event left intake's outbox and reached sla and
    dispatch within `events_within` seconds. When they did not, `diagnose()` (the broker's
    view of the queues, say) goes into the failure, and every service logs its green
    threads' stacks (SIGUSR1) into the logs the failure keeps."""
    exited = {n: p.returncode for n, p in system.procs.items() if p.poll() is not None}
    assert exited == {}, f"processes exited: {exited}"
    assert load.bad == [], load.bad[:5]
    assert load.gave_up == []
    assert load.retry_after_missing == 0, load.statuses
    missing, duplicated, unknown = check_tickets(system, load)
    assert (missing, duplicated, unknown) == ([], [], [])

    ids = set(load.created.values())
    effects = wait_until(lambda: (lambda e: e if e["sla"] == e["dispatch"] == len(ids)
                                  else None)(event_effects(system, ids)), events_within)
    if not effects:
        for proc in system.procs.values():
            proc.send_signal(signal.SIGUSR1)
        seen = diagnose() if diagnose is not None else ""
        time.sleep(1)  # the dumps reach the logs
        raise AssertionError(f"events not handled: {event_effects(system, ids)} of "
                             f"{len(ids)}\n{seen}")
    assert effects["outbox_rows"] == len(ids)
    # consumers may see an event a moment before the relay marks it published
    unpublished = wait_until(lambda: system.sql(
        "intake", "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0] == 0, 10)
    assert unpublished, "outbox rows left unpublished"


def print_errors(system, lines=60):
    """On a failure: the ERROR lines (with the traceback that follows) of every log; the
    logs themselves are kept in a directory named here."""
    kept = tempfile.mkdtemp(prefix="gongdan-fault-logs-")
    shutil.copytree(os.path.join(system.workdir, "logs"), kept, dirs_exist_ok=True)
    print(f"==== logs kept in {kept}")
    for path in sorted(glob.glob(os.path.join(system.workdir, "logs", "*.log"))):
        with open(path, errors="replace") as fh:
            text = fh.read().splitlines()
        picked, keep = [], 0
        for line in text:
            if " ERROR " in line or "CRITICAL" in line:
                keep = 25
            if keep:
                picked.append(line)
                keep -= 1
        if picked:
            print(f"==== {os.path.basename(path)}\n" + "\n".join(picked[-lines:]))
