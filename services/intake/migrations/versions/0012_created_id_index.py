"""the list's order as one index: (created_at, id) replaces (created_at)

Revision ID: 0012
Revises: 0011

Every list is ordered by created_at with the id breaking ties. With an index on created_at
alone, PostgreSQL reads it in order and sorts each run of rows again by id (an incremental
sort of whole tickets: at 1,000,000 tickets 12 of the 30 ms a keyword's walk of 4,000 rows
took, docs/performance.md "Ticket search"). With (created_at, id) the index gives the order
itself. The old index is dropped: every query it served the new one serves.

On PostgreSQL built CONCURRENTLY (outside the migration's transaction), as 0011: a running
system keeps taking tickets; an interrupted build leaves an INVALID index, which a rerun
drops and builds again.
"""
from alembic import op

from gongdan_common.migrate import create_index_concurrently


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

NEW, OLD = "ix_tickets_created_id", "ix_tickets_created_at"


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        op.create_index(NEW, "tickets", ["created_at", "id"])
        op.drop_index(OLD, table_name="tickets")
        return
    create_index_concurrently(op, NEW, "tickets (created_at, id)")
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {OLD}")


def downgrade():
    op.create_index(OLD, "tickets", ["created_at"])
    op.drop_index(NEW, table_name="tickets")
