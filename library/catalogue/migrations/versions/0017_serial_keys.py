"""the serials' shelf pages through indexed keys: ``items.serial_sort`` (``naturalsort.title_key`` of the
serial title) and ``items.serial_slug`` (its URL slug), filled for the items there are, 500 at a time

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

BATCH_ITEMS = 500

_items = sa.table('items', sa.column('id', sa.Integer), sa.column('serial_title', sa.String),
                  sa.column('serial_sort', sa.String), sa.column('serial_slug', sa.String))


def upgrade() -> None:
    from library.catalogue.naturalsort import slugify, title_key

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('serial_sort', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('serial_slug', sa.String(length=100), nullable=True))
    bind = op.get_bind()
    c = _items.c
    last = 0
    while True:
        rows = bind.execute(sa.select(c.id, c.serial_title).where(c.id > last, c.serial_title.is_not(None),
                                                                  c.serial_title != '')
                            .order_by(c.id).limit(BATCH_ITEMS)).all()
        if not rows:
            break
        for item_id, title in rows:
            bind.execute(_items.update().where(c.id == item_id)
                         .values(serial_sort=title_key(title), serial_slug=slugify(title)))
        last = rows[-1][0]
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_serial_sort', ['serial_sort'], unique=False)
        batch_op.create_index('ix_items_serial_slug', ['serial_slug'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_serial_slug')
        batch_op.drop_index('ix_items_serial_sort')
        batch_op.drop_column('serial_slug')
        batch_op.drop_column('serial_sort')
