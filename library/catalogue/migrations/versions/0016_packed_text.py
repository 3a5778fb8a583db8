"""a page's text stored once and compressed: ``pages.text`` and ``transcriptions.text`` become packed
bytes (``library.catalogue.packed_text``: bzip2 behind a format byte); the version in use no longer
repeats the page's text (its ``text`` is NULL and reads through to the page,
``library.catalogue.page_text``); an index on ``pages (status, finished_at)`` for the metrics' reading
rate and recent failures

Revision ID: 0016
Revises: 0015

Pages move 200 at a time, keyset by page id, with their versions: each text is packed into a new column,
then the old columns are dropped and the new ones take their names. Of a page's versions, the newest
whose text equals the page's shares it. Downgrade unpacks both and gives the sharing version its copy.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

BATCH_PAGES = 200

_pages = sa.table('pages', sa.column('id', sa.Integer), sa.column('text', sa.Text),
                  sa.column('text_packed', sa.LargeBinary))
_versions = sa.table('transcriptions', sa.column('id', sa.Integer), sa.column('page_id', sa.Integer),
                     sa.column('version', sa.Integer), sa.column('text', sa.Text),
                     sa.column('text_packed', sa.LargeBinary))
_pages_packed = sa.table('pages', sa.column('id', sa.Integer), sa.column('text', sa.LargeBinary),
                         sa.column('text_plain', sa.Text))
_versions_packed = sa.table('transcriptions', sa.column('id', sa.Integer), sa.column('page_id', sa.Integer),
                            sa.column('text', sa.LargeBinary), sa.column('text_plain', sa.Text))


def _batches(bind, table):
    """``[(page id, text)]`` of the pages, ``BATCH_PAGES`` at a time in page id order."""
    last = 0
    while True:
        rows = bind.execute(sa.select(table.c.id, table.c.text).where(table.c.id > last)
                            .order_by(table.c.id).limit(BATCH_PAGES)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def upgrade() -> None:
    from library.catalogue.packed_text import pack

    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_packed', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('transcriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_packed', sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    v = _versions.c
    for rows in _batches(bind, _pages):
        page_text = dict(rows)
        for pid, text in rows:
            if text is not None:
                bind.execute(_pages.update().where(_pages.c.id == pid).values(text_packed=pack(text)))
        shares = {}  # page id -> the newest version whose text is the page's
        versions = bind.execute(sa.select(v.id, v.page_id, v.version, v.text).where(v.page_id.in_(list(page_text)))
                                .order_by(v.page_id, v.version)).all()
        for tid, pid, _, text in versions:
            if text and text == page_text[pid]:
                shares[pid] = tid
        shared = set(shares.values())
        for tid, _, _, text in versions:
            if tid not in shared:
                bind.execute(_versions.update().where(v.id == tid).values(text_packed=pack(text or "")))
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_column('text')
        batch_op.alter_column('text_packed', new_column_name='text', existing_type=sa.LargeBinary(),
                              existing_nullable=True)
    with op.batch_alter_table('transcriptions', schema=None) as batch_op:
        batch_op.drop_column('text')
        batch_op.alter_column('text_packed', new_column_name='text', existing_type=sa.LargeBinary(),
                              existing_nullable=True)
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.create_index('ix_pages_status_finished', ['status', 'finished_at'], unique=False)


def downgrade() -> None:
    from library.catalogue.packed_text import unpack

    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_index('ix_pages_status_finished')
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_plain', sa.Text(), nullable=True))
    with op.batch_alter_table('transcriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_plain', sa.Text(), nullable=True))
    bind = op.get_bind()
    v = _versions_packed.c
    for rows in _batches(bind, _pages_packed):
        page_text = {pid: (unpack(packed) if packed is not None else None) for pid, packed in rows}
        for pid, text in page_text.items():
            if text is not None:
                bind.execute(_pages_packed.update().where(_pages_packed.c.id == pid).values(text_plain=text))
        for tid, pid, packed in bind.execute(sa.select(v.id, v.page_id, v.text)
                                             .where(v.page_id.in_(list(page_text)))).all():
            text = unpack(packed) if packed is not None else (page_text[pid] or "")
            bind.execute(_versions_packed.update().where(v.id == tid).values(text_plain=text))
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_column('text')
        batch_op.alter_column('text_plain', new_column_name='text', existing_type=sa.Text(), existing_nullable=True)
    with op.batch_alter_table('transcriptions', schema=None) as batch_op:
        batch_op.drop_column('text')
        batch_op.alter_column('text_plain', new_column_name='text', existing_type=sa.Text(), nullable=False)
