"""a partial index on ``pages.source_sha256`` of first pages only (``sequence = 1``): the items that start
with an original — asked by every import (is this upload, or this METS package, an item we already hold?).
``ix_pages_source_sha256`` holds every page of an original (a shared image, a 1,000-page TIFF), so that
question walked them all; this one holds one row an item

Revision ID: 0019
Revises: 0018
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_pages_first_by_original', 'pages', ['source_sha256'], unique=False,
                    sqlite_where=sa.text('sequence = 1'), postgresql_where=sa.text('sequence = 1'))


def downgrade() -> None:
    op.drop_index('ix_pages_first_by_original', table_name='pages')
