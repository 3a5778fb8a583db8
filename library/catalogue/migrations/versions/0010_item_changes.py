"""items after ingest: every metadata edit kept with its previous values (item_changes), and the item's
metadata revision that a concurrent edit must name (the later of two edits is refused, never lost)

Revision ID: 0010
Revises: 0008 (which follows 0009)
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metadata_revision', sa.Integer(), server_default='1', nullable=False))
    op.create_table(
        'item_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('metadata_revision', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('changes', sa.Text(), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('changed_by', sa.Integer(), nullable=True),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_changes_item_id_items'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['changed_by'], ['users.id'], name=op.f('fk_item_changes_changed_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_item_changes')),
    )
    with op.batch_alter_table('item_changes', schema=None) as batch_op:
        batch_op.create_index('ix_item_changes_item_id', ['item_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('item_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_item_changes_item_id')
    op.drop_table('item_changes')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('metadata_revision')
