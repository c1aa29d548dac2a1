"""event_bindings: the routing keys notify bound at run time (services/notify/bindings.py)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_bindings',
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('routing_key', sa.String(length=130), nullable=False),
    sa.Column('bound_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', 'routing_key', name=op.f('pk_event_bindings'))
    )


def downgrade():
    op.drop_table('event_bindings')
