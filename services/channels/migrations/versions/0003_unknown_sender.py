"""mailbox setting unknown_sender: reply | register (NULL = CHANNELS.unknown_sender)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('channels_mailboxes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unknown_sender', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('channels_mailboxes', schema=None) as batch_op:
        batch_op.drop_column('unknown_sender')
