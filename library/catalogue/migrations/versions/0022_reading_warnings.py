"""why a machine reading may be poor or partial, kept with the version it made:
``transcriptions.warnings`` (nullable; the engine's warnings, one a line, e.g. "white on dark: read
inverted"), shown to staff on the page's correction view and in the page's API answer (#14)

Revision ID: 0022
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('transcriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warnings', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('transcriptions', schema=None) as batch_op:
        batch_op.drop_column('warnings')
