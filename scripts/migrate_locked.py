"""Migrate service databases to head, one migrator per database at a time.

    python -m scripts.migrate_locked --config config/gongdan.yaml intake [--wait 600]

Every Kubernetes Deployment runs this as its initContainer, so a pod serves only once its
database is at the schema head, and `kubectl apply` never needs a Job deleted first. Replicas
start together: on PostgreSQL each run holds a session advisory lock (one key per service)
around `alembic upgrade head`; the others wait, then find the schema at head and do nothing.
On SQLite (one process, one file) it just migrates.
"""
import argparse
import hashlib
import os
import sys
import time

from sqlalchemy import create_engine, pool, text

from gongdan_common.config import load_config, repo_root, service_db_url
from gongdan_common.migrate import SERVICES, upgrade

POLL = 0.5  # seconds between tries for the lock


def lock_key(service):
    """A stable signed 64-bit advisory lock key for one service's migrations."""
    digest = hashlib.sha256(f"gongdan-migrate:{service}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def migrate_locked(service, db_url, wait=600.0, log=print):
    """Upgrade `service`'s database to head; on PostgreSQL under its advisory lock.

    Raises TimeoutError when another migrator holds the lock longer than `wait` seconds."""
    if not db_url.startswith("postgresql"):
        upgrade(service, db_url)
        return
    engine = create_engine(db_url, poolclass=pool.NullPool)
    key = lock_key(service)
    try:
        # the lock is the session's: it lives exactly as long as this connection, so a
        # migrator killed mid-way (OOM, node lost) frees it without anyone's help
        with engine.connect() as conn:
            deadline = time.monotonic() + wait
            said = False
            while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                conn.rollback()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{service}: another migrator held the lock for "
                                       f"{wait:.0f} s")
                if not said:
                    log(f"{service}: another migration is running; waiting for it")
                    said = True
                time.sleep(POLL)
            conn.commit()
            try:
                upgrade(service, db_url)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
    finally:
        engine.dispose()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m scripts.migrate_locked",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=os.environ.get("GONGDAN_CONFIG") or
                        os.path.join(repo_root(), "config", "gongdan.yaml"))
    parser.add_argument("--wait", type=float, default=600.0,
                        help="seconds to wait for another migrator's lock (default 600)")
    parser.add_argument("services", nargs="*", default=SERVICES)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        parser.error(f"unknown service(s): {', '.join(unknown)}")
    config = load_config(args.config)

    def log(message):
        print(message, file=sys.stderr, flush=True)

    for service in args.services:
        try:
            migrate_locked(service, service_db_url(config, service), wait=args.wait, log=log)
        except TimeoutError as exc:
            log(f"error: {exc}")
            return 1
        log(f"migrated {service} (schema at head)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
