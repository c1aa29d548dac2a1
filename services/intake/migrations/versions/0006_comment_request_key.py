"""comment request key: a retried reply (a mail fetched again, a repeated Idempotency-Key)
returns the first comment instead of adding a second

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # existing comments have no key (NULLs never collide), so the constraint holds at once
    with op.batch_alter_table('ticket_comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint('uq_ticket_comments_request_key',
                                          ['ticket_id', 'request_key'])


def downgrade():
    with op.batch_alter_table('ticket_comments', schema=None) as batch_op:
        batch_op.drop_constraint('uq_ticket_comments_request_key', type_='unique')
        batch_op.drop_column('request_key')
