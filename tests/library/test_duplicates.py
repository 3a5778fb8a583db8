"""Is an upload an item already held (``library.catalogue.duplicates``): answered from the first pages of
items and, for an original that starts many items, without reading their pages — on SQLite and PostgreSQL.
The platform's own ingest paths (scans, METS) are tested for duplicates in their modules; here the
question itself at the shape the scale bench gives it (thousands of items made of one shared image)."""

from __future__ import annotations

from sqlalchemy import event, insert

from library.catalogue.duplicates import identical_item
from library.catalogue.models import Item, ItemStatus, ItemType, Page, PageStatus, StoredFile

SHARED, OTHER = "a" * 64, "b" * 64


def _hold(platform, items: list[list[tuple[str, int]]]) -> list[int]:
    """Items made of the given (sha256, page index) pages, inserted as rows; their ids."""
    ids = []
    with platform.sessions.begin() as s:
        for sha in (SHARED, OTHER):
            s.add(StoredFile(sha256=sha, size_bytes=1, media_type="image/png", original_name="p.png"))
        s.flush()
        for n, pages in enumerate(items):
            item = Item(title=f"số {n}", item_type=ItemType.newspaper, status=ItemStatus.done)
            s.add(item)
            s.flush()
            ids.append(item.id)
            s.execute(insert(Page), [dict(item_id=item.id, sequence=k, source_sha256=sha, source_page_index=index,
                                          source_name="p.png", status=PageStatus.done)
                                     for k, (sha, index) in enumerate(pages, start=1)])
    return ids


def test_an_item_is_found_only_when_every_page_matches_in_order(platform):
    ids = _hold(platform, [[(SHARED, 0), (OTHER, 0)], [(SHARED, 0), (OTHER, 0), (SHARED, 0)],
                           [(SHARED, 0), (SHARED, 0), (OTHER, 0)], [(SHARED, 1), (OTHER, 0)]])
    with platform.sessions() as s:
        assert identical_item(s, [(SHARED, 0), (OTHER, 0)]) == ids[0]
        assert identical_item(s, [(SHARED, 0), (OTHER, 0), (SHARED, 0)]) == ids[1]
        assert identical_item(s, [(SHARED, 0), (SHARED, 0), (OTHER, 0)]) == ids[2]
        assert identical_item(s, [(SHARED, 1), (OTHER, 0)]) == ids[3]  # another page of the same scan
        assert identical_item(s, [(SHARED, 0)]) is None
        assert identical_item(s, [(OTHER, 0), (SHARED, 0)]) is None
        assert identical_item(s, [(SHARED, 0), (SHARED, 0), (SHARED, 0)]) is None
        assert identical_item(s, []) is None


def test_a_shared_first_image_costs_no_read_of_the_items_it_starts(platform):
    """3,000 items start with the same image, none of them is the upload: one query answers, and on
    SQLite it reads the first pages through the partial index, never the pages table."""
    _hold(platform, [[(SHARED, 0)] * 3 + [(OTHER, 0)] * (k % 5) for k in range(3000)])
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(platform.engine, "before_cursor_execute", listener)
    try:
        with platform.sessions() as s:
            assert identical_item(s, [(SHARED, 0)] * 3 + [(OTHER, 0)] * 7) is None
    finally:
        event.remove(platform.engine, "before_cursor_execute", listener)
    assert len(statements) == 1
    if platform.engine.dialect.name == "sqlite":
        with platform.engine.connect() as conn:
            plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statements[0][0],
                                                            statements[0][1])]
        assert any("ix_pages_first_by_original" in line for line in plan), plan
        assert not [line for line in plan if line.startswith("SCAN ") and "INDEX" not in line], plan
