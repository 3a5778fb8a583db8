"""the audit trail of staff work (audit_events, append-only), search documents to remove whose rows are
gone (index_removals: the outbox of a removed page), and the date an item's public record last
changed (items.record_changed_at: metadata, access, withdrawal, deletion, collection), which harvesters
see as the OAI-PMH datestamp

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('role', sa.String(length=20), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('record_type', sa.String(length=20), nullable=True),
        sa.Column('record_id', sa.Integer(), nullable=True),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_audit_events_user_id_users'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_events_at', 'audit_events', ['at'], unique=False)
    op.create_index('ix_audit_events_user', 'audit_events', ['user_id', 'id'], unique=False)
    op.create_index('ix_audit_events_record', 'audit_events', ['record_type', 'record_id', 'id'], unique=False)
    op.create_index('ix_audit_events_action', 'audit_events', ['action', 'id'], unique=False)
    _append_only()
    op.create_table(
        'index_removals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('doc_id', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_changed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE items SET record_changed_at = updated_at")
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_record_changed', ['record_changed_at', 'id'], unique=False)
        batch_op.add_column(sa.Column('title_sort', sa.String(length=200), nullable=True))
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=500), nullable=True))
    _fill_keys()
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_title_sort', ['title_sort'], unique=False)
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_collections_name_key', ['name_key'])


def _fill_keys() -> None:
    """Sort keys of the titles and collection names already catalogued, a thousand rows at a time; a
    collection whose name another one already has (possible before this revision) keeps its id in
    its key, so the unique constraint holds."""
    from library.catalogue.naturalsort import name_key, title_key

    bind = op.get_bind()
    items = sa.table('items', sa.column('id', sa.Integer), sa.column('title', sa.String),
                     sa.column('title_sort', sa.String))
    last = 0
    while True:
        rows = bind.execute(sa.select(items.c.id, items.c.title).where(items.c.id > last)
                            .order_by(items.c.id).limit(1000)).all()
        if not rows:
            break
        for item_id, title in rows:
            bind.execute(items.update().where(items.c.id == item_id).values(title_sort=title_key(title)))
        last = rows[-1][0]
    collections = sa.table('collections', sa.column('id', sa.Integer), sa.column('name', sa.String),
                           sa.column('name_key', sa.String))
    seen: set[str] = set()
    for coll_id, name in bind.execute(sa.select(collections.c.id, collections.c.name).order_by(collections.c.id)):
        key = name_key(name)
        if key in seen:
            key = f"{key} #{coll_id}"
        seen.add(key)
        bind.execute(collections.update().where(collections.c.id == coll_id).values(name_key=key))


def _append_only() -> None:
    """The trail cannot be edited or deleted, not even by SQL run against the catalogue by mistake."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                       "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END")
    else:
        op.execute("CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   "BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$")
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()")


def downgrade() -> None:
    op.drop_table('index_removals')
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.drop_constraint('uq_collections_name_key', type_='unique')
        batch_op.drop_column('name_key')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_title_sort')
        batch_op.drop_column('title_sort')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_record_changed')
        batch_op.drop_column('record_changed_at')
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    else:
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    op.drop_index('ix_audit_events_action', table_name='audit_events')
    op.drop_index('ix_audit_events_record', table_name='audit_events')
    op.drop_index('ix_audit_events_user', table_name='audit_events')
    op.drop_index('ix_audit_events_at', table_name='audit_events')
    op.drop_table('audit_events')
