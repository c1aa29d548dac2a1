"""ticket search: an index of the eight-digit windows of every run of digits, for keywords
that are ticket numbers (or their prefix) and serial numbers

Revision ID: 0013
Revises: 0012

pg_trgm answers a keyword such as TS2026112601 by intersecting the posting lists of its
trigrams, and every one of them (202, 026, 611, ...) occurs in nearly every ticket's number:
at 1,000,000 tickets ~1,100 index pages per request, 14–16 ms warm, the one keyword kind
left over the c=10 target (docs/performance.md, "Ticket search"). Here
`ticket_digit_windows(text)` lists the distinct 8-character windows of every run of eight
or more ASCII digits (a number TS20261126001 gives 20261126, 02611260, 26112600, 61126001);
a keyword with such a run is contained only in tickets whose windows include all of its
own, a GIN lookup of a few short posting lists; the ILIKE still decides.

PostgreSQL only (SQLite keeps the scan). The index is over an expression of the columns,
so nothing is rewritten: built CONCURRENTLY (a running system keeps taking tickets; at
1,000,000 tickets about a minute), an interrupted build leaves an INVALID index that a
rerun drops and builds again.
"""
from alembic import op

from gongdan_common.migrate import create_index_concurrently


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

NAME = "ix_tickets_search_digits"
# generate_series from 1 to len - 7: every start of an 8-character window of the run
DIGIT_WINDOWS = """
CREATE OR REPLACE FUNCTION ticket_digit_windows(t text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT substr(m[1], i, 8)), '{}')
  FROM regexp_matches(t, '([0-9]{8,})', 'g') AS m,
       generate_series(1, length(m[1]) - 7) AS i
$$"""
DEFINITION = ("tickets USING gin (ticket_digit_windows(ticket_search_text(number, title, "
              "description, submitter_name, company_name, contact_name)))")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(DIGIT_WINDOWS)
    create_index_concurrently(op, NAME, DEFINITION)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")
    op.execute("DROP FUNCTION IF EXISTS ticket_digit_windows(text)")
