"""ticket search: the search keys hold the ticket's status too, so that a Chinese keyword
under a status filter is looked up for those statuses only

Revision ID: 0016
Revises: 0015

With 0015's keys (grams + creation month) a keyword under a status filter (the desk's "new
and in progress") read every status's matches and dropped the others on the heap: at
1,000,000 tickets, 90 % of them closed, nine rechecks on random pages for each row of the
page, or the planner ANDed the status btree into the bitmap (100,000 entries read for
"new + in progress"). Here the keys gain `#new`, `#in_progress`, ... (never a CJK gram
nor a month), and `keys @> grams AND keys && months AND keys && '{#new, #in_progress}'`
is one GIN scan that reads only the matches of those statuses in those months
(services/intake/search_slices.py `slice_page`, search_plans.py `bitmap_page`).

The write path pays nothing new: status is in btree indexes (0003, 0014), so a status
change is never a HOT update and already adds an entry to every index of the table, this
one included.

It replaces ix_tickets_search_keys. PostgreSQL only; an index over an expression, so
nothing is rewritten: built CONCURRENTLY (about a minute at 1,000,000 tickets) before the
old one is dropped.
"""
from alembic import op

from gongdan_common.migrate import create_index_concurrently


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

NEW, OLD = "ix_tickets_search_status_keys", "ix_tickets_search_keys"
# 0015's month key, and '#' || status
SEARCH_KEYS = """
CREATE OR REPLACE FUNCTION ticket_search_keys(grams text[], created_at timestamptz,
                                              status text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(grams, '{}') || ARRAY[
      '@' || ((extract(year FROM created_at AT TIME ZONE 'UTC') * 100
               + extract(month FROM created_at AT TIME ZONE 'UTC'))::int)::text,
      '#' || status]
$$"""
DEFINITION = "tickets USING gin (ticket_search_keys(search_grams, created_at, status))"
OLD_DEFINITION = "tickets USING gin (ticket_search_keys(search_grams, created_at))"


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
    create_index_concurrently(op, OLD, OLD_DEFINITION)
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NEW}")
    op.execute("DROP FUNCTION IF EXISTS ticket_search_keys(text[], timestamptz, text)")
