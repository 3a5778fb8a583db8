"""page operations and deleting items: a page's quarter turn before it is read (pages.rotation_deg), and
a deleted item kept as a hidden record until its originals may go (items.deleted_at, deleted_reason,
purged_at)

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rotation_deg', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deleted_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_items_deleted_at', ['deleted_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_deleted_at')
        batch_op.drop_column('purged_at')
        batch_op.drop_column('deleted_reason')
        batch_op.drop_column('deleted_at')
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_column('rotation_deg')
