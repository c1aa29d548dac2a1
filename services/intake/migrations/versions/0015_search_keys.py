"""ticket search: the grams' GIN index keyed by creation month too, so that a Chinese
keyword's matches can be read one month or a few at a time

Revision ID: 0015
Revises: 0014

A keyword in 0.05–4 % of the tickets (a company's or a person's name, most 4-character
words) was read by walking the list's index and matching every ticket on the way: a
company name at 1,000,000 tickets 3,000–7,500 rows to fill a first page — what kept issue
15's c=10 target out of reach. Its GIN bitmap over the whole table rechecks thousands of
rows on random pages instead, and the planner will not AND the bitmap with a range of the
created_at btree reliably (it decides that from pg_trgm's estimate of the keyword, 40 x
low for some names). Here one GIN index holds a ticket's grams and its month (`@202612`,
UTC) as keys of one array, `ticket_search_keys(search_grams, created_at)`: a lookup of the
keyword's grams with the newest months reads only the matches of those months, intersected
inside the index, whatever the planner estimates (services/intake/search_slices.py,
`slice_page`).

It replaces ix_tickets_search_grams (every lookup of the grams goes through the keys now:
services/intake/search.py `keys_contain`). PostgreSQL only; an index over an expression, so
nothing is rewritten: built CONCURRENTLY (about a minute at 1,000,000 tickets) before the
old one is dropped.
"""
from alembic import op

from gongdan_common.migrate import create_index_concurrently


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

NEW, OLD = "ix_tickets_search_keys", "ix_tickets_search_grams"
# IMMUTABLE for the index: extract and AT TIME ZONE 'UTC' of a timestamptz are (to_char is
# not); the year always has four digits, so '@' || year * 100 + month is @YYYYMM
SEARCH_KEYS = """
CREATE OR REPLACE FUNCTION ticket_search_keys(grams text[], created_at timestamptz)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(grams, '{}') || ('@' || ((extract(year FROM created_at AT TIME ZONE 'UTC')
      * 100 + extract(month FROM created_at AT TIME ZONE 'UTC'))::int)::text)
$$"""
DEFINITION = "tickets USING gin (ticket_search_keys(search_grams, created_at))"


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(SEARCH_KEYS)
    create_index_concurrently(op, NEW, DEFINITION)
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {OLD}")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    create_index_concurrently(op, OLD, "tickets USING gin (search_grams)")
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NEW}")
    op.execute("DROP FUNCTION IF EXISTS ticket_search_keys(text[], timestamptz)")
