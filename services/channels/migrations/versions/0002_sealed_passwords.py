"""mailbox passwords sealed at rest: `password` (plain) -> `password_enc` (Fernet, with
GATEWAY.data_key or the key derived from GATEWAY.secret_key: gongdan_common/vault.py)

Revision ID: 0002
Revises: 0001

Existing passwords are sealed here with the key of the configuration `migrate` runs with
(the one the services run with), so run it with the production settings.
"""
from alembic import context, op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_boxes = sa.table("channels_mailboxes", sa.column("id", sa.String),
                  sa.column("password", sa.String), sa.column("password_enc", sa.Text))


def _vault():
    from gongdan_common import vault
    from gongdan_common.migrate import gongdan_config
    return vault.from_config(gongdan_config(context.config), purpose="mailbox-password")


def _convert(source, target, how):
    """Write how(source) into target for every row that has a source value."""
    conn = op.get_bind()
    rows = conn.execute(sa.select(_boxes.c.id, source)
                        .where(source.isnot(None), source != "")).all()
    if rows:
        box = _vault()
        for mailbox_id, value in rows:
            conn.execute(_boxes.update().where(_boxes.c.id == mailbox_id)
                         .values({target: getattr(box, how)(value)}))


def upgrade():
    with op.batch_alter_table('channels_mailboxes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_enc', sa.Text(), nullable=True))
    _convert(_boxes.c.password, "password_enc", "seal")
    with op.batch_alter_table('channels_mailboxes', schema=None) as batch_op:
        batch_op.drop_column('password')


def downgrade():
    with op.batch_alter_table('channels_mailboxes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password', sa.String(length=500), nullable=True))
    _convert(_boxes.c.password_enc, "password", "open")
    with op.batch_alter_table('channels_mailboxes', schema=None) as batch_op:
        batch_op.drop_column('password_enc')
