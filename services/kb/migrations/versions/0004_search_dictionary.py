"""the search dictionary, and every article's index terms recomputed by the new tokenizer

`kb_synonyms` holds the admin-editable dictionary (services/kb/dictionary.py), filled here
with the shipped groups. The tokenizer changed (whole words plus lighter sub-words instead
of jieba's search-mode duplicates, joined model numbers, field weights title 3 / tags 2 /
body 1), so the stored term frequencies every instance builds its index from are recomputed,
in keyset batches; this uses the tokenizer of the code being deployed, which is the point.

Revision ID: 0004
Revises: 0003
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BATCH = 500


def upgrade():
    synonyms = op.create_table(
        'kb_synonyms',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('terms', sa.JSON(), nullable=False),
        sa.Column('weight', sa.Float(), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.Column('updated_by', sa.String(length=36), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_synonyms')))
    from services.kb.dictionary import DEFAULTS
    now = dt.datetime.now(dt.timezone.utc)
    op.bulk_insert(synonyms, [{"terms": terms, "weight": weight, "note": "shipped",
                               "updated_by": None, "updated_at": now}
                              for terms, weight in DEFAULTS])
    _retokenize()


def _retokenize():
    from services.kb.text import document_terms
    articles = sa.table('kb_articles', sa.column('id', sa.String), sa.column('title', sa.String),
                        sa.column('keywords', sa.JSON), sa.column('body_md', sa.Text),
                        sa.column('index_terms', sa.JSON), sa.column('index_length', sa.Float))
    bind = op.get_bind()
    after = ""
    while True:
        rows = bind.execute(sa.select(articles.c.id, articles.c.title, articles.c.keywords,
                                      articles.c.body_md).where(articles.c.id > after)
                            .order_by(articles.c.id).limit(BATCH)).all()
        for row in rows:
            tf, length = document_terms(row.title, row.keywords, row.body_md)
            bind.execute(articles.update().where(articles.c.id == row.id)
                         .values(index_terms=tf, index_length=length))
        if len(rows) < BATCH:
            break
        after = rows[-1].id


def downgrade():
    op.drop_table('kb_synonyms')
