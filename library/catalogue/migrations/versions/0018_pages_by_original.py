"""an index on ``pages.source_sha256``: the pages made from one original — asked by every import (is this
upload an item we already hold?) and by the import's reuse of a viewer image already made from the same
original; without it each of those read the whole pages table

Revision ID: 0018
Revises: 0017
"""
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.create_index('ix_pages_source_sha256', ['source_sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_index('ix_pages_source_sha256')
