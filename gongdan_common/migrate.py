"""Alembic, driven per service: each service keeps its own `migrations/` folder and database.

    python -m gongdan_common.migrate --config config/gongdan.yaml intake dispatch ...
    python -m gongdan_common.migrate --config ... --revision "add x" intake   # autogenerate
"""
import argparse
import os
import sys

from alembic import command
from alembic.config import Config

from .config import load_config, repo_root, service_db_url

SERVICES = ["gateway", "intake", "dispatch", "worklog", "sla", "notify", "kb", "channels",
            "exports"]


def migrations_dir(service):
    base = repo_root()
    if service == "gateway":
        return os.path.join(base, "gateway", "migrations")
    return os.path.join(base, "services", service, "migrations")


def alembic_config(service, db_url, config=None):
    """`config`: the loaded Gongdan configuration, for data migrations that need a setting
    (channels' 0002 seals mailbox passwords with the data key); see `gongdan_config`."""
    cfg = Config()
    cfg.set_main_option("script_location", migrations_dir(service))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    cfg.attributes["service"] = service
    cfg.attributes["gongdan_config"] = config
    return cfg


def upgrade(service, db_url, config=None):
    command.upgrade(alembic_config(service, db_url, config), "head")


def gongdan_config(alembic_cfg):
    """Inside a migration: the configuration `migrate` was given, else the default file
    (config/gongdan.yaml with the environment's values), as the services read it."""
    return (alembic_cfg.attributes.get("gongdan_config") or
            load_config(os.path.join(repo_root(), "config", "gongdan.yaml")))


def run_env(metadata):
    """Body of every service's migrations/env.py."""
    from alembic import context
    from sqlalchemy import pool

    from .db import make_engine

    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True,
                          render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url, poolclass=pool.NullPool) if url.startswith("sqlite") else \
        __import__("sqlalchemy").create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()


def create_index_concurrently(op, name, definition):
    """In a migration on PostgreSQL: CREATE INDEX CONCURRENTLY `name` ON `definition`
    (outside the migration's transaction, so a running system keeps writing while it
    builds). A build that was interrupted left an INVALID index of that name: it is dropped
    and built again, so running the migration again repairs it."""
    bind = op.get_bind()
    with op.get_context().autocommit_block():
        invalid = bind.exec_driver_sql(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %(n)s AND NOT i.indisvalid", {"n": name}).first()
        if invalid:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Migrate Gongdan service databases")
    parser.add_argument("--config", default=os.path.join(repo_root(), "config", "gongdan.yaml"))
    parser.add_argument("--revision", help="autogenerate a new revision with this message")
    parser.add_argument("services", nargs="*", default=SERVICES)
    args = parser.parse_args(argv)
    config = load_config(args.config)
    for service in args.services:
        url = service_db_url(config, service)
        if args.revision:
            command.revision(alembic_config(service, url), message=args.revision, autogenerate=True)
        else:
            upgrade(service, url, config)
            print(f"migrated {service}", file=sys.stderr)


if __name__ == "__main__":
    main()
