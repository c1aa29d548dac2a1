"""merge, links and canned replies: tickets.merged_into_*, ticket_links, canned_replies

Revision ID: 0008_links_merge_canned
Revises: 0007_tags_views
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_links_merge_canned'
down_revision = '0007_tags_views'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('merged_into_number', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_tickets_merged_into_id', ['merged_into_id'], unique=False)
    op.create_table(
        'ticket_links',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('ticket_id', sa.String(length=36), nullable=False),
        sa.Column('other_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('actor_id', sa.String(length=36), nullable=True),
        sa.Column('actor_name', sa.String(length=100), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id']),
        sa.ForeignKeyConstraint(['other_id'], ['tickets.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ticket_id', 'other_id', name='uq_ticket_links_pair'))
    op.create_index('ix_ticket_links_ticket_id', 'ticket_links', ['ticket_id'])
    op.create_index('ix_ticket_links_other_id', 'ticket_links', ['other_id'])
    op.create_table(
        'canned_replies',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body_zh', sa.Text(), nullable=True),
        sa.Column('body_en', sa.Text(), nullable=True),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('owner_id', sa.String(length=36), nullable=False),
        sa.Column('owner_name', sa.String(length=100), nullable=True),
        sa.Column('provider_id', sa.String(length=36), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_canned_replies_scope', 'canned_replies', ['scope'])
    op.create_index('ix_canned_replies_owner_id', 'canned_replies', ['owner_id'])
    op.create_index('ix_canned_replies_provider_id', 'canned_replies', ['provider_id'])


def downgrade():
    op.drop_table('canned_replies')
    op.drop_table('ticket_links')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_merged_into_id')
        batch_op.drop_column('merged_into_number')
        batch_op.drop_column('merged_into_id')
