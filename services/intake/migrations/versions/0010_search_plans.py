"""search plans: finer statistics of search_grams (docs/performance.md, "Ticket search")

Revision ID: 0010_search_plans
Revises: 0009_leftover_items

services/intake/search_plans.py bounds a Chinese keyword's matches by the frequency of its
rarest character pair, read from ANALYZE's most common elements of `search_grams`. At the
default statistics target (100) ANALYZE lists only the ~1,000 grams above 1.5 % of the
tickets, so every other pair reads as "up to 1.5 %": too coarse to send a name or a rare
word straight to its GIN bitmap. At 1,000 it samples 300,000 rows and lists every gram above
~0.04 % (1,901 at 1,000,000 tickets; ANALYZE of the column 29 s on a loaded 2-core machine).
SQLite: nothing to do (no statistics of that kind; it keeps the LIKE scan).
"""
from alembic import op


revision = '0010_search_plans'
down_revision = '0009_leftover_items'
branch_labels = None
depends_on = None

TARGET = 1000


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE tickets ALTER COLUMN search_grams SET STATISTICS {TARGET}")
    op.execute("ANALYZE tickets (search_grams)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE tickets ALTER COLUMN search_grams SET STATISTICS -1")
