"""reader feedback: error reports, comments, answers, ratings

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('text_error', 'comment', 'rating', name='feedback_kind', native_enum=False, length=20), nullable=False),
    sa.Column('status', sa.Enum('pending', 'published', 'hidden', name='feedback_status', native_enum=False, length=20), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('page_id', sa.Integer(), nullable=True),
    sa.Column('monument_id', sa.Integer(), nullable=True),
    sa.Column('line_number', sa.Integer(), nullable=True),
    sa.Column('quoted', sa.String(length=2000), nullable=True),
    sa.Column('suggestion', sa.String(length=2000), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=200), nullable=True),
    sa.Column('author_email', sa.String(length=320), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('moderated_by', sa.Integer(), nullable=True),
    sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('applied_version', sa.Integer(), nullable=True),
    sa.CheckConstraint('(item_id IS NULL) <> (monument_id IS NULL)', name=op.f('ck_feedback_one_target')),
    sa.CheckConstraint('rating IS NULL OR (rating >= 1 AND rating <= 5)', name=op.f('ck_feedback_rating_range')),
    sa.ForeignKeyConstraint(['answered_by'], ['users.id'], name=op.f('fk_feedback_answered_by_users')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_feedback_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['moderated_by'], ['users.id'], name=op.f('fk_feedback_moderated_by_users')),
    sa.ForeignKeyConstraint(['monument_id'], ['monuments.id'], name=op.f('fk_feedback_monument_id_monuments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['page_id'], ['pages.id'], name=op.f('fk_feedback_page_id_pages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_monument_id'), ['monument_id'], unique=False)
        batch_op.create_index('ix_feedback_status_kind', ['status', 'kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_status_kind')
        batch_op.drop_index(batch_op.f('ix_feedback_monument_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_item_id'))

    op.drop_table('feedback')
