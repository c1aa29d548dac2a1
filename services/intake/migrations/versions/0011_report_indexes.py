"""report indexes: the charts' GROUP BYs (services/intake/reports.py) stay index-bounded at a
million tickets — tickets resolved in a period, the open backlog by status x priority, the
ratings given in a period

Revision ID: 0011
Revises: 0009_leftover_items

On PostgreSQL the indexes are built CONCURRENTLY (outside the migration's transaction), so a
running system keeps taking tickets while they build; an interrupted build leaves an INVALID
index, which a rerun drops and builds again.
"""
from alembic import op


revision = '0011'
down_revision = '0009_leftover_items'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tickets_resolved_at": ("tickets", ["resolved_at"]),
    "ix_tickets_status_priority": ("tickets", ["status", "priority"]),
    "ix_ticket_ratings_created_at": ("ticket_ratings", ["created_at"]),
}


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        for name, (table, columns) in INDEXES.items():
            op.create_index(name, table, columns)
        return
    with op.get_context().autocommit_block():
        for name, (table, columns) in INDEXES.items():
            invalid = bind.exec_driver_sql(
                "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = %(n)s AND NOT i.indisvalid", {"n": name}).first()
            if invalid:
                op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} "
                       f"({', '.join(columns)})")


def downgrade():
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
