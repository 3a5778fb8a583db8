"""Is an upload an item the library already holds? One question both ingest paths ask (scans, METS).

An item is the same when its pages come from exactly the same originals (and pages within them), in the
same order. The question is answered from the first pages of items (the partial index
``ix_pages_first_by_original``: one row an item), narrowed in the same query to the items that also end
with the same page at the same place — so an original that starts many items, or a scan whose pages
are the pages of thousands of items, costs an index probe an item that starts with it, not a read of
their pages; only an item that passes both is read whole.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, exists, literal_column, select
from sqlalchemy.orm import Session, aliased

from library.catalogue.models import Item, Page


def identical_item(session: Session, pages: Sequence[tuple[str, int]]) -> int | None:
    """The existing, not deleted item whose pages are ``pages`` — ``(original's sha256, page within
    it)`` in reading order — or None."""
    if not pages:
        return None
    wanted = [(sha, int(index)) for sha, index in pages]
    (first_sha, first_index), (last_sha, last_index), n = wanted[0], wanted[-1], len(wanted)
    last, beyond = aliased(Page), aliased(Page)
    candidates = session.scalars(
        select(Page.item_id).join(Item, Item.id == Page.item_id).where(
            Page.source_sha256 == first_sha,
            Page.sequence == literal_column("1"),  # a literal, as the partial index's condition is
            Page.source_page_index == first_index,
            Item.deleted_at.is_(None),  # a deleted item may be uploaded again
            exists().where(and_(last.item_id == Page.item_id, last.sequence == n, last.source_sha256 == last_sha,
                                last.source_page_index == last_index)),
            ~exists().where(and_(beyond.item_id == Page.item_id, beyond.sequence == n + 1)),
        )).all()
    for item_id in candidates:
        have = session.execute(select(Page.source_sha256, Page.source_page_index)
                               .where(Page.item_id == item_id).order_by(Page.sequence)).all()
        if [tuple(p) for p in have] == wanted:
            return item_id
    return None
