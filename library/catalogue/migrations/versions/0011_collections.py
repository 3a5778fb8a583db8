"""collections run by staff: the order of the items in their collection (``items.position``, 1-based;
empty puts an item after the ordered ones, by id) and collections inside collections (``parent_id``)

Revision ID: 0011
Revises: 0010

Existing items keep no position (their collection lists them by id, as before) until staff order it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.Integer(), nullable=True))
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_collections_parent_id_collections'), 'collections',
                                    ['parent_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_collections_parent_id'), ['parent_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collections_parent_id'))
        batch_op.drop_constraint(batch_op.f('fk_collections_parent_id_collections'), type_='foreignkey')
        batch_op.drop_column('parent_id')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('position')
