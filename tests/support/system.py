"""The whole Gongdan system as real processes, for cross-service tests and benchmarks.

Starts a private RabbitMQ vhost, a private S3 server (JuiceFS's MinIO gateway) on a free
port, fresh databases (SQLite files, or PostgreSQL databases), migrates them, creates the
first admin with the documented CLI, and runs every service and the gateway with
`nameko run`, exactly as `./gongdan up` does. Nothing is faked.
"""
import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

import psycopg2
import requests

from gongdan_common.migrate import SERVICES as DATABASE_NAMES
from scripts import s3local
from scripts.cli import SERVICES  # one list of what runs, shared with ./gongdan up
from scripts._proc import die_with_parent, free_port, tail, with_quiet_imports
from gateway.ratelimit import DEFAULT_LIMITS

RATE_LIMIT_NAMES = tuple(DEFAULT_LIMITS)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATABASES = list(DATABASE_NAMES)
PG_ADMIN = os.environ.get("GONGDAN_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
SECRET_KEY = "test-secret-key-0123456789abcdef-0123456789"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@gongdan.test", "Admin#pass2026"
BUCKET = "gongdan-attachments"


def _rabbitmqctl(*args):
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True,
                          timeout=60)


@contextlib.contextmanager
def running(prefix, backend="sqlite", **kwargs):
    """A started System in a temporary folder of its own; stopped and removed afterwards
    (also when it fails to start). kwargs go to System."""
    workdir = tempfile.mkdtemp(prefix=prefix)
    system = System(workdir, backend=backend, **kwargs)
    try:
        system.start()
        yield system
    finally:
        system.stop()
        if os.environ.get("GONGDAN_TEST_KEEP"):  # logs and data for a failure's post-mortem
            print(f"kept the system's folder {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


class System:
    def __init__(self, workdir, backend="sqlite", env=None, amqp_uri=None, pg_port=5432):
        """`amqp_uri`: a broker of the test's own (fault tests) instead of a private vhost on
        the shared one; `pg_port`: a PostgreSQL cluster of the test's own on 127.0.0.1."""
        self.workdir, self.backend = workdir, backend
        self.own_amqp_uri, self.pg_port = amqp_uri, pg_port
        self.extra_env = env or {}
        self.procs = {}
        self.ops_ports = {}  # label -> the process's ops port (/metrics /livez /readyz)
        self.pg_databases = []
        self.s3 = None
        self.vhost = None

    # ---- lifecycle ----------------------------------------------------------------

    def start(self, services=tuple(SERVICES)):
        os.makedirs(os.path.join(self.workdir, "logs"), exist_ok=True)
        if self.own_amqp_uri:
            self.amqp_uri = self.own_amqp_uri
        else:
            self._add_vhost()
        self.s3_port = free_port()
        self.start_s3()
        self.gateway_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.gateway_port}"
        self.db_urls = self._create_databases()
        self.run([sys.executable, "-m", "gongdan_common.migrate"], "migrate")
        self.run([sys.executable, "-m", "gateway.cli", "create-admin", "--name", "Admin",
                  "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD], "create-admin")
        for name in services:
            self.start_service(name)
        self.wait_ready(services)
        return self

    def _add_vhost(self):
        self.vhost = "gongdan-test-" + secrets.token_hex(4)
        made = _rabbitmqctl("add_vhost", self.vhost)
        if made.returncode != 0:
            raise RuntimeError("cannot create a RabbitMQ vhost for the tests: " + made.stderr)
        _rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.amqp_uri = "pyamqp://guest:guest@127.0.0.1:5672/" + urllib.parse.quote(self.vhost, safe="")

    def stop(self):
        # every process asked at once, then waited for: each takes seconds to stop
        # gracefully, and one after another that added up for every system of the suite
        procs = [self.procs.pop(name) for name in list(self.procs)]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            _wait_or_kill(proc)
        if self.s3 is not None:
            s3local.stop(self.s3)
        if self.vhost:
            _rabbitmqctl("delete_vhost", self.vhost)
        if self.pg_databases:
            conn = self._pg()
            with conn.cursor() as cur:
                for name in self.pg_databases:
                    cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.close()

    def env(self, **extra):
        env = with_quiet_imports(dict(os.environ))
        env.update({
            "AMQP_URI": self.amqp_uri,
            "GONGDAN_DATA_DIR": os.path.join(self.workdir, "data"),
            "S3_ENDPOINT": f"127.0.0.1:{self.s3_port}",
            "S3_BUCKET": BUCKET,
            "GATEWAY_ADDRESS": f"127.0.0.1:{self.gateway_port}",
            "GONGDAN_SECRET_KEY": SECRET_KEY,
            "OUTBOX_POLL_INTERVAL": "0.5",
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": ROOT,
        })
        # every request of the suite and the benches comes from 127.0.0.1 and a few accounts:
        # limits far above any test's pace (tests/test_limits.py sets low ones on purpose)
        env.update({"RATE_LIMIT_" + name.upper(): "1000000/minute"
                    for name in RATE_LIMIT_NAMES})
        for name, url in self.db_urls.items():
            env[name.upper() + "_DB_URL"] = url
        env.update(self.extra_env)
        env.update(extra)
        return env

    def run(self, argv, label):
        out = subprocess.run(argv, cwd=ROOT, env=self.env(), capture_output=True, text=True,
                             timeout=180)
        if out.returncode != 0:
            raise RuntimeError(f"{label} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def log_path(self, name):
        return os.path.join(self.workdir, "logs", name + ".log")

    def start_service(self, name, label=None, **extra_env):
        """Run one instance of a service; `label` names a second instance ("intake-2") so
        that it is tracked (and stopped) apart from the first."""
        label = label or name
        self.ops_ports[label] = free_port()
        extra_env.setdefault("OPS_ADDRESS", f"127.0.0.1:{self.ops_ports[label]}")
        argv = [sys.executable, "-m", "nameko", "run", SERVICES[name],
                "--config", os.path.join(ROOT, "config", "gongdan.yaml")]
        with open(self.log_path(label), "ab") as log:
            self.procs[label] = subprocess.Popen(
                argv, cwd=ROOT, env=self.env(**extra_env), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, preexec_fn=die_with_parent())
        return self.procs[label]

    def stop_service(self, name, kill=False):
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.kill() if kill else proc.terminate()
        _wait_or_kill(proc)

    def start_s3(self):
        self.s3 = s3local.start(os.path.join(self.workdir, "s3"), address=f"127.0.0.1:{self.s3_port}")
        s3local.ensure_bucket(self.s3.endpoint, s3local.DEFAULT_USER, s3local.DEFAULT_PASSWORD,
                              BUCKET)

    def stop_s3(self):
        s3local.stop(self.s3)
        self.s3 = None

    def wait_ready(self, services=tuple(SERVICES), timeout=60):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n"
                                       + tail(self.log_path(name), 40))
            try:
                r = requests.get(self.base_url + "/readyz?deep=1", timeout=5)
                last = r.text
                checks = r.json().get("checks", {})
                if all(checks.get(s) == "ok" for s in services if s != "gateway") and \
                        checks.get("database") == "ok":
                    return
            except requests.RequestException as err:
                last = str(err)
            time.sleep(0.3)
        raise RuntimeError(f"system not ready after {timeout}s: {last}")

    def wait_service(self, name, timeout=60):
        """Wait until one service answers its health RPC through the gateway's readiness."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base_url + "/readyz?deep=1", timeout=5).json()["checks"].get(name) == "ok":
                    return
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{name} not ready:\n" + tail(self.log_path(name), 40))

    # ---- databases ----------------------------------------------------------------

    def _pg(self):
        conn = psycopg2.connect(PG_ADMIN if self.pg_port == 5432 else
                                f"host=127.0.0.1 port={self.pg_port} user=postgres dbname=postgres")
        conn.autocommit = True
        return conn

    def _create_databases(self):
        if self.backend == "sqlite":
            return {}
        suffix = secrets.token_hex(3)
        conn = self._pg()
        urls = {}
        with conn.cursor() as cur:
            for name in DATABASES:
                db = f"gdt_{name}_{suffix}"
                cur.execute(f'CREATE DATABASE "{db}"')
                self.pg_databases.append(db)
                urls[name] = f"postgresql+psycopg2://postgres@127.0.0.1:{self.pg_port}/{db}"
        conn.close()
        return urls

    def sql(self, service, query, *params, write=False):
        """Read a service's database directly (tests check that nothing was half-written);
        `write`: change it and commit (a test staging a crash's leftovers), -> rows changed."""
        if self.backend == "sqlite":
            import sqlite3
            conn = sqlite3.connect(os.path.join(self.workdir, "data", f"{service}.db"))
            try:
                cur = conn.execute(query.replace("%s", "?"), params)
                if write:
                    conn.commit()
                    return cur.rowcount
                return cur.fetchall()
            finally:
                conn.close()
        dbname = self.db_urls[service].rsplit("/", 1)[1]
        conn = psycopg2.connect(f"host=127.0.0.1 port={self.pg_port} user=postgres dbname={dbname}")
        try:
            with conn.cursor() as cur:
                cur.execute(query, params)
                if write:
                    conn.commit()
                    return cur.rowcount
                return cur.fetchall()
        finally:
            conn.close()


def _wait_or_kill(proc):
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


class Api:
    """A tiny HTTP client for the gateway that remembers its token."""

    def __init__(self, base_url, token=None, lang=None):
        self.base_url, self.token, self.lang = base_url, token, lang
        self.http = requests.Session()
        self.user = None

    def headers(self, extra=None):
        h = {}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if self.lang:
            h["Accept-Language"] = self.lang
        h.update(extra or {})
        return h

    def request(self, method, path, json=None, headers=None, **kw):
        return self.http.request(method, self.base_url + "/api/v1" + path, json=json,
                                 headers=self.headers(headers), timeout=60, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, login, password):
        r = self.post("/auth/login", {"login": login, "password": password})
        assert r.status_code == 200, r.text
        body = r.json()
        self.token, self.user = body["access_token"], body["user"]
        self.refresh_token = body["refresh_token"]
        return self
