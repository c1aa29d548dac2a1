"""tags, list settings, saved views and bulk requests (issue 14: the desk's daily tools)

Revision ID: 0007_tags_views
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_tags_views'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bulk_requests',
    sa.Column('actor_id', sa.String(length=36), nullable=False),
    sa.Column('request_key', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('actor_id', 'request_key', name=op.f('pk_bulk_requests'))
    )
    op.create_table('list_settings',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_list_settings'))
    )
    op.create_table('saved_views',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('owner_id', sa.String(length=36), nullable=False),
    sa.Column('owner_name', sa.String(length=100), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=True),
    sa.Column('sort', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views'))
    )
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_views_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_saved_views_shared'), ['shared'], unique=False)

    op.create_table('ticket_tags',
    sa.Column('ticket_id', sa.String(length=36), nullable=False),
    sa.Column('tag', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_tags_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('ticket_id', 'tag', name=op.f('pk_ticket_tags'))
    )
    with op.batch_alter_table('ticket_tags', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_tags_tag', ['tag', 'ticket_id'], unique=False)



def downgrade():
    with op.batch_alter_table('ticket_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_tags_tag')

    op.drop_table('ticket_tags')
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_views_shared'))
        batch_op.drop_index(batch_op.f('ix_saved_views_owner_id'))

    op.drop_table('saved_views')
    op.drop_table('list_settings')
    op.drop_table('bulk_requests')
