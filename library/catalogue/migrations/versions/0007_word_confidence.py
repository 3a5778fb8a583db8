"""word confidence people can use: doubtful words per page (the correction queue), the word a reader's
report points at

Revision ID: 0007
Revises: 0006

``pages.low_confidence_words`` is filled here for pages already read, with the default threshold
(60 on tesseract's 0-100 scale, ``HERITAGE_LOW_CONFIDENCE``); a catalogue run with another threshold
recounts with :func:`library.reading.confidence.recount_doubtful_words`.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

DEFAULT_LOW_CONFIDENCE = 60.0


def upgrade() -> None:
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('low_confidence_words', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_pages_review_queue', ['status', 'low_confidence_words', 'id'], unique=False)
    op.execute(sa.text(
        "UPDATE pages SET low_confidence_words = (SELECT count(*) FROM words "
        "WHERE words.page_id = pages.id AND words.confidence < :threshold) "
        "WHERE EXISTS (SELECT 1 FROM words WHERE words.page_id = pages.id)"
    ).bindparams(threshold=DEFAULT_LOW_CONFIDENCE))

    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('word_sequence', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('word_char_start', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('word_char_end', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('word_text', sa.String(length=1000), nullable=True))
        batch_op.create_index('ix_feedback_page_id', ['page_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_page_id')
        batch_op.drop_column('word_text')
        batch_op.drop_column('word_char_end')
        batch_op.drop_column('word_char_start')
        batch_op.drop_column('word_sequence')

    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_index('ix_pages_review_queue')
        batch_op.drop_column('low_confidence_words')
