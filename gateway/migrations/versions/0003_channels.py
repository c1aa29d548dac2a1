"""channels: service tokens' companies, IM bridges, IM identity bindings, IM messages seen

Revision ID: 0003_channels
Revises: 0002_guards
Create Date: 2026-12-06 23:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_channels'
down_revision = '0002_guards'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('service_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('companies', sa.JSON(), nullable=True))

    op.create_table('im_bridges',
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('secret_enc', sa.Text(), nullable=False),
    sa.Column('default_product', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel', name=op.f('pk_im_bridges'))
    )
    op.create_table('im_bindings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('im_user_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('code_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_codes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_im_bindings_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_im_bindings')),
    sa.UniqueConstraint('channel', 'im_user_id', 'user_id', name='uq_im_bindings_identity')
    )
    with op.batch_alter_table('im_bindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_im_bindings_user_id'), ['user_id'], unique=False)
    op.create_table('im_messages',
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=False),
    sa.Column('im_user_id', sa.String(length=128), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('channel', 'message_id', name=op.f('pk_im_messages'))
    )
    with op.batch_alter_table('im_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_im_messages_received_at'), ['received_at'], unique=False)


def downgrade():
    op.drop_table('im_messages')
    op.drop_table('im_bindings')
    op.drop_table('im_bridges')
    with op.batch_alter_table('service_tokens', schema=None) as batch_op:
        batch_op.drop_column('companies')
