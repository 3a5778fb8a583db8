"""compact page layouts: a page's words, lines and blocks as one blob (``pages.layout``, format of
``library.catalogue.page_layout``) instead of a ``words`` row a word and a ``text_regions`` row a line
or block; a waiting OCR reading's layout (``transcriptions.layout``, JSON text) becomes a blob of the
same format in the new column ``transcriptions.layout_blob``

Revision ID: 0014
Revises: 0013

Pages move 200 at a time, keyset by page id, so a big catalogue is never read whole. Word text equal to
the page text at the word's offsets is not stored again; confidences are kept as whole numbers
(``floor``, so ``confidence < threshold`` keeps its answer for a whole-number threshold).

``transcriptions.layout`` moves to a new column rather than being converted in place: the type changes
(text to bytes), and a new name says the content changed (no reader can mistake a blob for JSON).

Downgrade rebuilds the ``words`` and ``text_regions`` rows and the JSON layouts from the blobs (the
confidences stay whole numbers: the fractions are gone).
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BATCH_PAGES = 200

_pages = sa.table('pages', sa.column('id', sa.Integer), sa.column('text', sa.Text),
                  sa.column('layout', sa.LargeBinary))
_words = sa.table('words', sa.column('id', sa.Integer), sa.column('page_id', sa.Integer),
                  sa.column('sequence', sa.Integer), sa.column('text', sa.String), sa.column('char_start', sa.Integer),
                  sa.column('char_end', sa.Integer), sa.column('x', sa.Integer), sa.column('y', sa.Integer),
                  sa.column('w', sa.Integer), sa.column('h', sa.Integer), sa.column('confidence', sa.Float),
                  sa.column('block', sa.Integer), sa.column('paragraph', sa.Integer), sa.column('line', sa.Integer))
_regions = sa.table('text_regions', sa.column('id', sa.Integer), sa.column('page_id', sa.Integer),
                    sa.column('kind', sa.String), sa.column('block', sa.Integer),
                    sa.column('paragraph', sa.Integer), sa.column('line', sa.Integer), sa.column('x', sa.Integer),
                    sa.column('y', sa.Integer), sa.column('w', sa.Integer), sa.column('h', sa.Integer),
                    sa.column('char_start', sa.Integer), sa.column('char_end', sa.Integer))
_transcriptions = sa.table('transcriptions', sa.column('id', sa.Integer), sa.column('text', sa.Text),
                           sa.column('layout', sa.Text), sa.column('layout_blob', sa.LargeBinary))


def upgrade() -> None:
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('layout', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('transcriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('layout_blob', sa.LargeBinary(), nullable=True))
    _pack_pages()
    _pack_transcriptions()
    with op.batch_alter_table('transcriptions', schema=None) as batch_op:
        batch_op.drop_column('layout')
    with op.batch_alter_table('words', schema=None) as batch_op:
        batch_op.drop_index('ix_words_page_chars')
    op.drop_table('words')
    with op.batch_alter_table('text_regions', schema=None) as batch_op:
        batch_op.drop_index('ix_text_regions_page_kind')
    op.drop_table('text_regions')


def _page_batches(bind, where=None):
    """``[(page id, text)]`` of the pages, ``BATCH_PAGES`` at a time in page id order."""
    last = 0
    while True:
        q = sa.select(_pages.c.id, _pages.c.text).where(_pages.c.id > last)
        if where is not None:
            q = q.where(where)
        rows = bind.execute(q.order_by(_pages.c.id).limit(BATCH_PAGES)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _pack_pages() -> None:
    from library.catalogue.page_layout import encode

    bind = op.get_bind()
    for rows in _page_batches(bind):
        ids = [r[0] for r in rows]
        layouts = {pid: {"words": [], "lines": [], "blocks": []} for pid in ids}
        w = _words.c
        for r in bind.execute(sa.select(w.page_id, w.text, w.char_start, w.char_end, w.x, w.y, w.w, w.h, w.confidence,
                                         w.block, w.paragraph, w.line)
                              .where(w.page_id.in_(ids)).order_by(w.page_id, w.sequence)):
            layouts[r[0]]["words"].append(list(r[1:]))
        g = _regions.c
        for r in bind.execute(sa.select(g.page_id, g.kind, g.block, g.paragraph, g.line, g.x, g.y, g.w, g.h,
                                         g.char_start, g.char_end)
                              .where(g.page_id.in_(ids)).order_by(g.page_id, g.id)):
            pid, kind, b, p, ln, x, y, ww, hh, cs, ce = r
            if kind == "line":
                layouts[pid]["lines"].append([b, p, ln, x, y, ww, hh, cs, ce])
            else:
                layouts[pid]["blocks"].append([b, x, y, ww, hh, cs, ce])
        for pid, text in rows:
            layout = layouts[pid]
            if layout["words"] or layout["lines"] or layout["blocks"]:
                bind.execute(_pages.update().where(_pages.c.id == pid).values(layout=encode(layout, text)))


def _pack_transcriptions() -> None:
    from library.catalogue.page_layout import encode

    bind = op.get_bind()
    t = _transcriptions.c
    last = 0
    while True:
        rows = bind.execute(sa.select(t.id, t.text, t.layout).where(t.id > last, t.layout.is_not(None))
                            .order_by(t.id).limit(BATCH_PAGES)).all()
        if not rows:
            return
        for tid, text, layout in rows:
            bind.execute(_transcriptions.update().where(t.id == tid)
                         .values(layout_blob=encode(json.loads(layout), text)))
        last = rows[-1][0]


def downgrade() -> None:
    op.create_table(
        'words',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('page_id', sa.Integer(), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('text', sa.String(length=1000), nullable=False),
        sa.Column('char_start', sa.Integer(), nullable=False),
        sa.Column('char_end', sa.Integer(), nullable=False),
        sa.Column('x', sa.Integer(), nullable=False),
        sa.Column('y', sa.Integer(), nullable=False),
        sa.Column('w', sa.Integer(), nullable=False),
        sa.Column('h', sa.Integer(), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('block', sa.Integer(), nullable=False),
        sa.Column('paragraph', sa.Integer(), nullable=False),
        sa.Column('line', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['page_id'], ['pages.id'], name=op.f('fk_words_page_id_pages'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_words')),
        sa.UniqueConstraint('page_id', 'sequence', name='uq_words_page_sequence'),
    )
    with op.batch_alter_table('words', schema=None) as batch_op:
        batch_op.create_index('ix_words_page_chars', ['page_id', 'char_start'], unique=False)
    op.create_table(
        'text_regions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('page_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('block', sa.Integer(), nullable=False),
        sa.Column('paragraph', sa.Integer(), nullable=True),
        sa.Column('line', sa.Integer(), nullable=True),
        sa.Column('x', sa.Integer(), nullable=False),
        sa.Column('y', sa.Integer(), nullable=False),
        sa.Column('w', sa.Integer(), nullable=False),
        sa.Column('h', sa.Integer(), nullable=False),
        sa.Column('char_start', sa.Integer(), nullable=False),
        sa.Column('char_end', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['page_id'], ['pages.id'], name=op.f('fk_text_regions_page_id_pages'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_text_regions')),
    )
    with op.batch_alter_table('text_regions', schema=None) as batch_op:
        batch_op.create_index('ix_text_regions_page_kind', ['page_id', 'kind'], unique=False)
    with op.batch_alter_table('transcriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('layout', sa.Text(), nullable=True))
    _unpack()
    with op.batch_alter_table('transcriptions', schema=None) as batch_op:
        batch_op.drop_column('layout_blob')
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_column('layout')


def _unpack() -> None:
    """The rows and JSON layouts back from the blobs, a batch of pages at a time."""
    from library.catalogue.page_layout import decode

    bind = op.get_bind()
    for rows in _page_batches(bind, _pages.c.layout.is_not(None)):
        blobs = dict(bind.execute(sa.select(_pages.c.id, _pages.c.layout)
                                  .where(_pages.c.id.in_([r[0] for r in rows]))).all())
        words, regions = [], []
        for pid, text in rows:
            layout = decode(blobs[pid], text)
            words += [dict(page_id=pid, sequence=w.sequence, text=w.text, char_start=w.char_start, char_end=w.char_end,
                           x=w.x, y=w.y, w=w.w, h=w.h, confidence=w.confidence if w.confidence is not None else -1.0,
                           block=w.block, paragraph=w.paragraph, line=w.line) for w in layout.words]
            regions += [dict(page_id=pid, kind=r.kind, block=r.block, paragraph=r.paragraph, line=r.line, x=r.x,
                             y=r.y, w=r.w, h=r.h, char_start=r.char_start, char_end=r.char_end)
                        for r in layout.blocks + layout.lines]
        if words:
            bind.execute(_words.insert(), words)
        if regions:
            bind.execute(_regions.insert(), regions)
    t = _transcriptions.c
    last = 0
    while True:
        rows = bind.execute(sa.select(t.id, t.text, t.layout_blob).where(t.id > last, t.layout_blob.is_not(None))
                            .order_by(t.id).limit(BATCH_PAGES)).all()
        if not rows:
            return
        for tid, text, blob in rows:
            layout = decode(blob, text).as_dict()
            bind.execute(_transcriptions.update().where(t.id == tid)
                         .values(layout=json.dumps(layout, ensure_ascii=False)))
        last = rows[-1][0]
