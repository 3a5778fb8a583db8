"""indexes behind the lists that page with keys: the jobs board (items by status, queued pages per
item), a collection's items, the collections and monuments lists, the feedback queue

Revision ID: 0015
Revises: 0014
"""
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_items_status_id', 'items', ['status', 'id']),
    ('ix_items_status_finished', 'items', ['status', 'finished_at', 'id']),
    ('ix_items_collection_id_id', 'items', ['collection_id', 'id']),
    ('ix_pages_status_item_queued', 'pages', ['status', 'item_id', 'queued_at']),
    ('ix_collections_name_id', 'collections', ['name', 'id']),
    ('ix_monuments_name_vi_id', 'monuments', ['name_vi', 'id']),
    ('ix_feedback_status_created', 'feedback', ['status', 'created_at', 'id']),
    ('ix_feedback_created', 'feedback', ['created_at', 'id']),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
