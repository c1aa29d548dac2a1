"""engineer open load, last assignment and skill keys; certification line key

The qualified-engineer lookup ranks in one statement (models.qualified_candidates): open
load and the latest assignment are kept on the engineer instead of counted per request,
skills and product lines are matched on normalised keys, and one line's certifications
valid on a day are found through an index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 05:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

SKILL_SEP = "\x1f"
DONE = ("resolved", "closed", "cancelled")


def _skill_keys(skills):
    keys = sorted({s.strip().lower() for s in skills or () if s and s.strip()})
    return SKILL_SEP + "".join(k + SKILL_SEP for k in keys)


def upgrade():
    with op.batch_alter_table('engineers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skill_keys', sa.String(length=4000), nullable=False,
                                      server_default=SKILL_SEP))
        batch_op.add_column(sa.Column('open_load', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('last_assigned_at', sa.DateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('line_key', sa.String(length=64), nullable=False,
                                      server_default=''))

    bind = op.get_bind()
    engineers = sa.table('engineers', sa.column('id', sa.String), sa.column('skills', sa.JSON),
                         sa.column('skill_keys', sa.String))
    for engineer_id, skills in bind.execute(sa.select(engineers.c.id, engineers.c.skills)).all():
        bind.execute(engineers.update().where(engineers.c.id == engineer_id)
                     .values(skill_keys=_skill_keys(skills)))
    # product lines are ASCII codes (schemas.PRODUCT_LINE): SQL lower() equals Python's
    op.execute("UPDATE certifications SET line_key = lower(trim(product_line))")
    done = ", ".join(f"'{s}'" for s in DONE)
    op.execute(f"""UPDATE engineers SET
        open_load = (SELECT count(*) FROM current_assignments ca
                     LEFT JOIN tickets t ON t.id = ca.ticket_id
                     WHERE ca.engineer_id = engineers.id
                       AND (t.status IS NULL OR t.status NOT IN ({done}))),
        last_assigned_at = (SELECT max(a.created_at) FROM assignments a
                            WHERE a.engineer_id = engineers.id)""")

    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.create_index('ix_certifications_line_key_valid_until',
                              ['line_key', 'valid_until'], unique=False)


def downgrade():
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.drop_index('ix_certifications_line_key_valid_until')
        batch_op.drop_column('line_key')
    with op.batch_alter_table('engineers', schema=None) as batch_op:
        batch_op.drop_column('last_assigned_at')
        batch_op.drop_column('open_load')
        batch_op.drop_column('skill_keys')
