"""the library item a point of interest opens: ``points_of_interest.item_id`` (nullable; set null when the
item row goes), e.g. the inscription of the stele standing at that point, published from the model (#14)

Revision ID: 0021
Revises: 0020
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('points_of_interest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('item_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_points_of_interest_item_id', ['item_id'], unique=False)
        batch_op.create_foreign_key('fk_points_of_interest_item_id_items', 'items', ['item_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('points_of_interest', schema=None) as batch_op:
        batch_op.drop_constraint('fk_points_of_interest_item_id_items', type_='foreignkey')
        batch_op.drop_index('ix_points_of_interest_item_id')
        batch_op.drop_column('item_id')
