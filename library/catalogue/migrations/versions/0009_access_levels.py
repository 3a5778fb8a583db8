"""access levels: public, reading room, staff only, per collection and per item; an embargo date with the
level that applies after it; "do not OCR / do not index" flags; withdrawn items

Revision ID: 0009
Revises: 0007

Every existing collection and item stays public (the catalogue was all public before).
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None

LEVELS = ('public', 'reading-room', 'staff')


def _level(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.Enum(*LEVELS, name='access_level', native_enum=False, length=20), **kw)


def upgrade() -> None:
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.add_column(_level('access_level', server_default='public', nullable=False))
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(_level('access_level', server_default='public', nullable=False))
        batch_op.add_column(sa.Column('embargo_until', sa.Date(), nullable=True))
        batch_op.add_column(_level('embargo_then', nullable=True))
        batch_op.add_column(sa.Column('do_not_ocr', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('do_not_index', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_reason', sa.Text(), nullable=True))
        batch_op.create_index('ix_items_access_level', ['access_level'], unique=False)
        batch_op.create_index('ix_items_embargo_until', ['embargo_until'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_embargo_until')
        batch_op.drop_index('ix_items_access_level')
        for c in ('withdrawn_reason', 'withdrawn_at', 'do_not_index', 'do_not_ocr', 'embargo_then',
                  'embargo_until', 'access_level'):
            batch_op.drop_column(c)
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.drop_column('access_level')
