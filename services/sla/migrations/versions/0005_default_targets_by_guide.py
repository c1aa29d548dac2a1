"""the shipped P1-P4 policies follow the support guide: every level gets a resolution target,
and "respond within 24 h" is one business day, not 1,440 business minutes (issue 17)

Seed 004 names a response limit per level (15 min, 30 min, 1 h, 24 h); the report template
(seed 002) pairs the urgent level with a resolution limit (24 h). P1 runs on the 24x7
calendar, so its targets are wall-clock. P2-P4 run on the China business calendar (8 working
hours a day): their minutes are business minutes, and "24 h" there means "by the same time
next working day" = 480 business minutes (1,440 would be three working days). Resolution
targets for P2-P4 (the guide gives none in numbers) are 2, 5 and 10 business days, see
docs/sla.md. A default policy an administrator has changed is left as it is.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 23:30:00
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

DAY = 480  # business minutes in one working day of cal-china-business
# id -> (response, resolution) before, after
CHANGES = {
    "pol-default-p2": ((30, None), (30, 2 * DAY)),
    "pol-default-p3": ((60, None), (60, 5 * DAY)),
    "pol-default-p4": ((1440, None), (DAY, 10 * DAY)),
}

policies = sa.table("policies", sa.column("id", sa.String), sa.column("response_minutes", sa.Float),
                    sa.column("resolution_minutes", sa.Float),
                    sa.column("updated_at", sa.DateTime(timezone=True)))


def _apply(index_from, index_to):
    now = dt.datetime.now(dt.timezone.utc)
    for pid, states in CHANGES.items():
        (old_response, old_resolution), (response, resolution) = states[index_from], \
            states[index_to]
        cond = (policies.c.id == pid) & (policies.c.response_minutes == old_response) & (
            policies.c.resolution_minutes.is_(None) if old_resolution is None
            else policies.c.resolution_minutes == old_resolution)
        op.execute(policies.update().where(cond).values(
            response_minutes=response, resolution_minutes=resolution, updated_at=now))


def upgrade():
    _apply(0, 1)


def downgrade():
    _apply(1, 0)
