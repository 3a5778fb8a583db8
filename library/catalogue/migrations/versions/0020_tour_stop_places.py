"""a place on the ground for a tour stop: ``tour_stops.lat`` and ``tour_stops.lon`` (WGS 84 degrees, both
or neither, nullable), where the visitor stands for the stop, so that a tour can be walked from stop to stop

Revision ID: 0020
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('tour_stops', sa.Column('lat', sa.Float(), nullable=True))
    op.add_column('tour_stops', sa.Column('lon', sa.Float(), nullable=True))


def downgrade() -> None:
    # SQLite (3.35 and later) and PostgreSQL both drop a plain column in place: no table is copied
    op.drop_column('tour_stops', 'lon')
    op.drop_column('tour_stops', 'lat')
