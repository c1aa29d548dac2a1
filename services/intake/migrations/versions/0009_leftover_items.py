"""leftover items (遗留问题) and their progress history

Revision ID: 0009_leftover_items
Revises: 0007_tags_views
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_leftover_items'
down_revision = '0007_tags_views'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'leftover_items',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('ticket_id', sa.String(length=36), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('plan', sa.Text(), nullable=False),
        sa.Column('owner_id', sa.String(length=36), nullable=False),
        sa.Column('owner_name', sa.String(length=100), nullable=True),
        sa.Column('owner_role', sa.String(length=32), nullable=True),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('percent', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('remind_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reminders', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.String(length=36), nullable=True),
        sa.Column('created_by_name', sa.String(length=100), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ticket_id', 'seq', name='uq_leftover_items_seq'),
    )
    with op.batch_alter_table('leftover_items', schema=None) as batch_op:
        for column in ('ticket_id', 'owner_id', 'due_at', 'status', 'remind_at'):
            batch_op.create_index(batch_op.f(f'ix_leftover_items_{column}'), [column],
                                  unique=False)
    op.create_table(
        'leftover_updates',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('item_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('percent', sa.Integer(), nullable=True),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('internal', sa.Boolean(), nullable=False),
        sa.Column('actor_id', sa.String(length=36), nullable=True),
        sa.Column('actor_role', sa.String(length=32), nullable=False),
        sa.Column('actor_name', sa.String(length=100), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['leftover_items.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('leftover_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leftover_updates_item_id'), ['item_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('leftover_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leftover_updates_item_id'))
    op.drop_table('leftover_updates')
    with op.batch_alter_table('leftover_items', schema=None) as batch_op:
        for column in ('ticket_id', 'owner_id', 'due_at', 'status', 'remind_at'):
            batch_op.drop_index(batch_op.f(f'ix_leftover_items_{column}'))
    op.drop_table('leftover_items')
