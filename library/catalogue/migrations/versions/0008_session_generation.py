"""session generation: a number per account that every portal session carries; signing out (or an
administrator ending an account's sessions) raises it, so the sessions opened before end on the server

Revision ID: 0008
Revises: 0009

Chained after 0009 (access levels), which was written at the same time and revises 0007, so that the
catalogue keeps one head. Existing accounts start at generation 0.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
