"""the ticket's access facts on articles, ticket links and writing suggestions

Who may read a draft written from a ticket, who is shown an article's tickets and who may see
a writing suggestion follow gongdan_common.visibility over these facts. Rows written before
this migration have none: they stay visible to the desk (and a draft to its author) only.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_ARTICLE = ("source_submitter_id", "source_company_id", "source_provider_id",
            "source_handler_id")
_SUGGESTION = ("submitter_id", "company_id", "provider_id")
_LINK = ("submitter_id", "company_id", "provider_id", "handler_id")


def upgrade():
    with op.batch_alter_table('kb_articles') as batch:
        for name in _ARTICLE:
            batch.add_column(sa.Column(name, sa.String(length=36), nullable=True))
    with op.batch_alter_table('kb_writing_suggestions') as batch:
        for name in _SUGGESTION:
            batch.add_column(sa.Column(name, sa.String(length=36), nullable=True))
    with op.batch_alter_table('kb_ticket_links') as batch:
        for name in _LINK:
            batch.add_column(sa.Column(name, sa.String(length=36), nullable=True))


def downgrade():
    with op.batch_alter_table('kb_ticket_links') as batch:
        for name in _LINK:
            batch.drop_column(name)
    with op.batch_alter_table('kb_writing_suggestions') as batch:
        for name in _SUGGESTION:
            batch.drop_column(name)
    with op.batch_alter_table('kb_articles') as batch:
        for name in _ARTICLE:
            batch.drop_column(name)
