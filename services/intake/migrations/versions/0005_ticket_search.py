"""ticket search: pg_trgm and CJK-gram GIN indexes (docs/performance.md, "Ticket search")

Revision ID: 0005
Revises: 0004

On PostgreSQL this needs the pg_trgm extension: it is a trusted extension (PostgreSQL >= 13),
so the database owner may create it without superuser rights. The indexes are built with
CREATE INDEX CONCURRENTLY (outside the migration's transaction), so an existing database
keeps taking tickets while they build: about 5 minutes for 1,000,000 tickets on the
reference machine (docs/performance.md). A build that was interrupted leaves an INVALID
index; running the migration again drops and rebuilds it. On SQLite only the column is added
(SQLite keeps the LIKE scan).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

FIELDS = ("number", "title", "description", "submitter_name", "company_name", "contact_name")
BATCH = 5000

SEARCH_TEXT = """
CREATE OR REPLACE FUNCTION ticket_search_text(number text, title text, description text,
                                              submitter_name text, company_name text,
                                              contact_name text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(number, '') || chr(31) || coalesce(title, '') || chr(31)
      || coalesce(description, '') || chr(31) || coalesce(submitter_name, '') || chr(31)
      || coalesce(company_name, '') || chr(31) || coalesce(contact_name, '')
$$"""
INDEXES = {
    "ix_tickets_search_trgm": "tickets USING gin (ticket_search_text(number, title, "
                              "description, submitter_name, company_name, contact_name) "
                              "gin_trgm_ops)",
    "ix_tickets_search_grams": "tickets USING gin (search_grams)",
}


def upgrade():
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    # a rerun after an interrupted index build finds the column (and part of the backfill)
    # already committed: the autocommit block below committed them
    if "search_grams" not in {c["name"] for c in sa.inspect(bind).get_columns("tickets")}:
        with op.batch_alter_table('tickets', schema=None) as batch_op:
            batch_op.add_column(sa.Column(
                'search_grams', sa.JSON().with_variant(postgresql.ARRAY(sa.Text()),
                                                       "postgresql"), nullable=True))
    backfill(bind, postgres)
    if not postgres:
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(SEARCH_TEXT)
    with op.get_context().autocommit_block():
        for name, definition in INDEXES.items():
            invalid = bind.exec_driver_sql(
                "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = %(n)s AND NOT i.indisvalid", {"n": name}).first()
            if invalid:
                op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def backfill(bind, postgres):
    """search_grams of the tickets already there, in batches (Python computes them, as the
    write path does)."""
    from services.intake.search import grams

    tickets = sa.table("tickets", sa.column("id"), *(sa.column(f) for f in FIELDS),
                       sa.column("search_grams", sa.JSON().with_variant(
                           postgresql.ARRAY(sa.Text()), "postgresql")))
    last = ""
    while True:
        rows = bind.execute(sa.select(tickets.c.id, *(tickets.c[f] for f in FIELDS))
                            .where(tickets.c.id > last, tickets.c.search_grams.is_(None))
                            .order_by(tickets.c.id).limit(BATCH)).all()
        if not rows:
            return
        bind.execute(tickets.update().where(tickets.c.id == sa.bindparam("_id"))
                     .values(search_grams=sa.bindparam("_grams")),
                     [{"_id": r[0], "_grams": grams(*r[1:])} for r in rows])
        last = rows[-1][0]


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name in INDEXES:
                op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        op.execute("DROP FUNCTION IF EXISTS ticket_search_text(text, text, text, text, text, text)")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('search_grams')
