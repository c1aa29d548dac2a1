"""IM group robots (WeCom, DingTalk, Feishu); service-token owners in their 36-character form

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 23:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('robots',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('owner_kind', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('event_types', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_robots'))
    )
    with op.batch_alter_table('robots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_robots_owner_id'), ['owner_id'], unique=False)

    # a service token's actor id became "svc:" + 32 hex digits (it was "svc:" + the dashed
    # uuid, 40 characters: too wide for the 36-character actor columns of other services);
    # webhooks a token registered follow it, so it still finds them as its own
    op.execute("UPDATE webhooks SET owner_id = 'svc:' || REPLACE(SUBSTR(owner_id, 5), '-', '') "
               "WHERE owner_id LIKE 'svc:%' AND LENGTH(owner_id) = 40")


def downgrade():
    with op.batch_alter_table('robots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_robots_owner_id'))
    op.drop_table('robots')
