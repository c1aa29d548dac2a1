"""A PostgreSQL cluster of a test's own (Debian's pg_createcluster), on a spare port on
127.0.0.1 with trust authentication, that the test may stop and start at will - never the
shared one on 5432.

    pg = PgCluster.create(); pg.start() ... pg.stop(); pg.start() ... pg.destroy()
"""
import secrets
import subprocess
import time

from scripts._proc import free_port, port_open

VERSION = "15"


def _run(*argv, timeout=120):
    out = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {out.stdout}{out.stderr}")
    return out.stdout


class PgCluster:
    def __init__(self, name, port):
        self.name, self.port = name, port
        self.created = False

    @classmethod
    def create(cls, durable=False):
        """`durable`: fsync on, as in production (bench/ticket_create.py --own-postgres);
        the tests run without it."""
        pg = cls("gdt" + secrets.token_hex(3), free_port())
        _run("pg_createcluster", VERSION, pg.name, "--port", str(pg.port),
             "--start-conf", "manual",
             "-o", "max_connections=200", "-o", f"fsync={'on' if durable else 'off'}",
             "--", "--auth-host=trust", "--auth-local=trust")  # (listens on localhost)
        pg.created = True
        return pg

    def start(self, timeout=60):
        _run("pg_ctlcluster", VERSION, self.name, "start")
        deadline = time.monotonic() + timeout
        while not port_open("127.0.0.1", self.port) and time.monotonic() < deadline:
            time.sleep(0.2)
        return self

    def stop(self):
        """Fast shutdown: every session is cut, as a crash or failover would."""
        _run("pg_ctlcluster", VERSION, self.name, "stop", "-m", "fast")

    def destroy(self):
        if self.created:
            subprocess.run(["pg_dropcluster", "--stop", VERSION, self.name],
                           capture_output=True, timeout=120)
            self.created = False
