"""guards: login failures of unknown logins, retired refresh tokens

Revision ID: 0002_guards
Revises: 0001
Create Date: 2026-12-06 20:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_guards'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_failures',
    sa.Column('login_hash', sa.String(length=64), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('login_hash', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failures_updated_at'), ['updated_at'], unique=False)

    op.create_table('retired_refresh_tokens',
    sa.Column('refresh_hash', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_retired_refresh_tokens_session_id_sessions')),
    sa.PrimaryKeyConstraint('refresh_hash', name=op.f('pk_retired_refresh_tokens'))
    )
    with op.batch_alter_table('retired_refresh_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retired_refresh_tokens_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retired_refresh_tokens_retired_at'), ['retired_at'], unique=False)


def downgrade():
    with op.batch_alter_table('retired_refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retired_refresh_tokens_retired_at'))
        batch_op.drop_index(batch_op.f('ix_retired_refresh_tokens_session_id'))
    op.drop_table('retired_refresh_tokens')
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_updated_at'))
    op.drop_table('login_failures')
