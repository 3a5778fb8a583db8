"""Access on the routes: load the item a URL names (by its id or one of its pages') and ask
``platform.access`` with the request's actor (:func:`web.viewer.current_actor`); lists keep the items
that :func:`library.access.visible_condition` lets through. No rule lives here, only the asking.

An item refused with 404 answers exactly as a missing one (the same :class:`NotFound` message), so
a hidden item cannot be told from an id never used; 403 and 410 carry their reason
(:class:`library.access.Refused`, turned into a page or JSON by :mod:`web.errors`).
"""

from __future__ import annotations

from typing import Iterable

from flask import current_app
from sqlalchemy import func, select

from library.access import Decision, Refused, load_item
from library.errors import NotFound
from library.catalogue.models import AccessLevel, Collection, Item
from web.viewer import current_actor


def _platform():
    return current_app.extensions["heritage"]


MAX_ID = 2**31 - 1  # the catalogue's integer keys; a larger number names nothing


def _load(*, item_id: int | None = None, page_id: int | None = None) -> Item | None:
    if not 0 < int(item_id if item_id is not None else page_id) <= MAX_ID:
        return None
    with _platform().sessions() as s:
        return load_item(s, item_id=item_id, page_id=page_id)


def _require(item: Item | None, missing: str, *, content: bool) -> Decision:
    access = _platform().access
    decision = access.decide(current_actor(), item)
    allowed = decision.content if content else decision.record
    if allowed:
        return decision
    if decision.status == 404:
        raise NotFound(missing)
    raise Refused(decision)


def item_content(item_id: int, *, missing: str | None = None) -> tuple[Item, Decision]:
    """The item (with its collection) when the actor may read its images and text; NotFound, 403 or 410
    otherwise."""
    item = _load(item_id=item_id)
    return item, _require(item, missing or f"no item {item_id}", content=True)


def item_record(item_id: int, *, missing: str | None = None) -> tuple[Item, Decision]:
    """The item when the actor may see its catalogue record (``restricted_metadata = shown`` shows the
    record of an item whose content is refused: ``decision.content`` says which)."""
    item = _load(item_id=item_id)
    return item, _require(item, missing or f"no item {item_id}", content=False)


def page_content(page_id: int, *, missing: str | None = None) -> tuple[Item, Decision]:
    """The item of page ``page_id`` when the actor may read its content (before any image work)."""
    item = _load(page_id=page_id)
    return item, _require(item, missing or f"no page {page_id}", content=True)


def visible_item_ids(item_ids: Iterable[int]) -> set[int]:
    """Those of ``item_ids`` the actor may see."""
    ids = sorted({int(i) for i in item_ids})
    if not ids:
        return set()
    p = _platform()
    with p.sessions() as s:
        q = select(Item.id).where(p.access.visible(current_actor()))
        if len(ids) <= 500:  # a long list is intersected here, not sent as bound parameters
            q = q.where(Item.id.in_(ids))
        return set(s.scalars(q)) & set(ids)


def visible_items():
    """The SQL condition on :class:`Item` for the current actor."""
    return _platform().access.visible(current_actor())


def visible_collections():
    """The SQL condition on :class:`Collection` for the current actor."""
    return _platform().access.visible_collections(current_actor())


def collection_shown(collection: Collection) -> bool:
    """May the actor see this collection (its name, description and list)?"""
    if current_actor().is_staff:
        return True
    return collection.access_level in _platform().access.levels(current_actor())


def keep_private(resp, item: Item, decision: Decision):
    """A response about an item that is not public for everyone is never kept by shared caches."""
    if decision.level != AccessLevel.public or item.withdrawn_at is not None:
        resp.cache_control.public = False
        resp.cache_control.private = True
    return resp


def personal() -> bool:
    """Does the answer depend on who asks beyond an anonymous reader outside the reading room (then
    shared caches must not keep it)?"""
    actor = current_actor()
    return actor.is_staff or actor.in_reading_room


SIZE_CAP = 10_000  # a collection's items are counted up to this; above it the portal says "10000+"


def collection_sizes(collection_ids: Iterable[int] | None = None, *, cap: int | None = None) -> dict[int, int]:
    """How many items of each collection (those of ``collection_ids``, or every one) the actor may see,
    counted up to ``cap`` + 1 (a number above ``cap`` means "more than cap"): one bounded count per
    collection on the ``items.collection_id`` index, never a count over the whole items table."""
    cap = SIZE_CAP if cap is None else cap
    p = _platform()
    with p.sessions() as s:
        ids = list(collection_ids) if collection_ids is not None else list(s.scalars(select(Collection.id)))
        sizes = {}
        for cid in ids:
            some = select(Item.id).where(Item.collection_id == cid, visible_items()).limit(cap + 1).subquery()
            sizes[cid] = int(s.scalar(select(func.count()).select_from(some)) or 0)
    return sizes


MAX_LIST_PAGES = 100  # numbered pages of a list go this deep (a bounded OFFSET)


def collections_page(page: int = 1, per_page: int = 50, *, parent_id: int | None = None
                     ) -> tuple[list[Collection], bool]:
    """One page of the collections the actor may see, by name then id (``parent_id``: only its
    sub-collections), at most 100 a page and MAX_LIST_PAGES deep; and whether a next page exists."""
    per_page = max(1, min(int(per_page), 100))
    page = max(1, min(int(page), MAX_LIST_PAGES))
    q = select(Collection).where(visible_collections())
    if parent_id is not None:
        q = q.where(Collection.parent_id == parent_id)
    with _platform().sessions() as s:
        rows = list(s.scalars(q.order_by(Collection.name, Collection.id).limit(per_page + 1)
                              .offset((page - 1) * per_page)))
    return rows[:per_page], len(rows) > per_page and page < MAX_LIST_PAGES


def size_text(n: int, cap: int | None = None) -> str:
    """A collection size for people: the number, or ``"<cap>+"`` when it was counted past the cap."""
    cap = SIZE_CAP if cap is None else cap
    return f"{cap}+" if n > cap else str(n)


def collection_items(collection_id: int, *, limit: int = 100, offset: int = 0,
                     after_id: int | None = None) -> list[Item]:
    """The items of a collection the actor may see, in catalogue order (id); ``after_id``: keyset paging."""
    q = select(Item).where(Item.collection_id == collection_id, visible_items())
    if after_id is not None:
        q = q.where(Item.id > after_id)
    with _platform().sessions() as s:
        return list(s.scalars(q.order_by(Item.id).limit(limit).offset(offset)))


def visible_item_ids_after(after_id: int, limit: int) -> tuple[list[int], int | None]:
    """Up to ``limit`` ids of items (not deleted) the actor may see, after ``after_id`` in id order (keyset
    on the primary key), and the cursor of the next page (the last id given) or None at the end."""
    with _platform().sessions() as s:
        ids = list(s.scalars(select(Item.id).where(Item.id > after_id, Item.deleted_at.is_(None), visible_items())
                             .order_by(Item.id).limit(limit + 1)))
    return ids[:limit], (ids[limit - 1] if len(ids) > limit else None)


def recent_items(limit: int) -> list[Item]:
    """The newest items the actor may see."""
    with _platform().sessions() as s:
        return list(s.scalars(select(Item).where(visible_items()).order_by(Item.id.desc()).limit(limit)))
