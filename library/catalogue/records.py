"""Read-side use cases of the catalogue: items, pages, words and job status."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from library.errors import NotFound
from library.catalogue.models import Collection, Item, Page, PageStatus, Transcription, warning_list
from library.catalogue.page_layout import LayoutWord, stored
from library.store import FileStore


@dataclass(frozen=True)
class PageStatusRow:
    page_id: int
    sequence: int
    source_name: str
    status: str
    reason: str | None
    attempts: int
    mean_confidence: float | None
    needs_review: bool
    width: int | None = None  # of the page's image, once read (a thumbnail's box before it loads)
    height: int | None = None


@dataclass(frozen=True)
class ItemStatusRow:
    item_id: int
    title: str
    status: str
    reason: str | None
    counts: dict[str, int]  # pages per status

    @property
    def total(self) -> int:
        return sum(self.counts.values())


MAX_LIMIT = 100  # the most rows one page of any list gives


@dataclass(frozen=True)
class PageWindow:
    """A screenful of an item's pages: ``rows`` in sequence order, ``texts`` {page id: text or None},
    ``total`` pages of the item, and the first sequence of the previous / next window (None at an end)."""
    rows: list[PageStatusRow]
    texts: dict[int, str | None]
    total: int
    previous_start: int | None
    next_start: int | None


class Catalogue:
    def __init__(self, sessions: sessionmaker[Session], store: FileStore):
        self.sessions = sessions
        self.store = store

    def item_statuses(self, item_ids: list[int] | None = None) -> list[ItemStatusRow]:
        with self.sessions() as s:
            q = select(Item.id, Item.title, Item.status, Item.status_reason).order_by(Item.id)
            if item_ids:
                q = q.where(Item.id.in_(item_ids))
            else:  # the list of all items leaves deleted ones out (asked by id, they still answer)
                q = q.where(Item.deleted_at.is_(None))
            items = s.execute(q).all()
            counted = select(Page.item_id, Page.status, func.count()).group_by(Page.item_id, Page.status)
            if item_ids:  # only the items asked (the pages.item_id index), never the whole pages table
                counted = counted.where(Page.item_id.in_(item_ids))
            counts = s.execute(counted).all()
        per: dict[int, dict[str, int]] = {}
        for item_id, status, n in counts:
            per.setdefault(item_id, {})[PageStatus(status).value] = n
        return [
            ItemStatusRow(i, t, st.value, r, {k: per.get(i, {}).get(k, 0) for k in (s.value for s in PageStatus)})
            for i, t, st, r in items
        ]

    def item_statuses_page(self, *, after_id: int = 0, limit: int = 100) -> tuple[list[ItemStatusRow], int | None]:
        """One page of the items not deleted, by id after ``after_id`` (keyset on the primary key), with
        their pages counted per status for those items only (the ``pages.item_id`` index); and the cursor
        of the next page (the last id shown) or ``None`` at the end. ``limit`` is capped to 1..MAX_LIMIT."""
        limit = max(1, min(int(limit), MAX_LIMIT))
        with self.sessions() as s:
            ids = list(s.scalars(select(Item.id).where(Item.id > after_id, Item.deleted_at.is_(None))
                                 .order_by(Item.id).limit(limit + 1)))
        more = len(ids) > limit
        ids = ids[:limit]
        rows = self.item_statuses(ids) if ids else []
        return rows, (ids[-1] if more else None)

    def page_count(self, item_id: int) -> int:
        """How many pages ``item_id`` has (the pages.item_id index); 0 for an item that is not there."""
        with self.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(Page).where(Page.item_id == item_id)) or 0)

    def page_window(self, item_id: int, *, start: int = 1, count: int = 10) -> "PageWindow":
        """The pages of ``item_id`` from sequence ``start`` on, at most ``count`` (capped to MAX_LIMIT), with
        their text; the window's neighbours and the item's page count. Every query is bounded by the
        (item_id, sequence) unique index: no page outside the window is read."""
        count = max(1, min(int(count), MAX_LIMIT))
        start = max(1, int(start))
        with self.sessions() as s:
            if s.get(Item, item_id) is None:
                raise NotFound(f"no item {item_id}")
            pages = s.scalars(select(Page).where(Page.item_id == item_id, Page.sequence >= start)
                              .order_by(Page.sequence).limit(count + 1)).all()
            before = s.scalars(select(Page.sequence).where(Page.item_id == item_id, Page.sequence < start)
                               .order_by(Page.sequence.desc()).limit(count)).all()
            total = s.scalar(select(func.count()).select_from(Page).where(Page.item_id == item_id))
            rows = [PageStatusRow(p.id, p.sequence, p.source_name, p.status.value, p.status_reason, p.attempts,
                                  p.mean_confidence, p.needs_review, p.width, p.height) for p in pages[:count]]
            texts = {p.id: p.text for p in pages[:count]}
        return PageWindow(rows=rows, texts=texts, total=int(total or 0),
                          previous_start=min(before) if before else None,
                          next_start=pages[count].sequence if len(pages) > count else None)

    def readable_pages(self, item_id: int, *, start: int = 1, count: int = 10) -> list[Page]:
        """Up to ``count`` (capped to MAX_LIMIT) read pages with text of ``item_id``, from sequence ``start``
        on, in order (a range on the (item_id, sequence) index)."""
        count = max(1, min(int(count), MAX_LIMIT))
        with self.sessions() as s:
            return list(s.scalars(select(Page).where(Page.item_id == item_id, Page.sequence >= max(1, int(start)),
                                                     Page.status == PageStatus.done, Page.text.is_not(None),
                                                     Page.text != "")
                                  .order_by(Page.sequence).limit(count)))

    def page_statuses(self, item_id: int) -> list[PageStatusRow]:
        with self.sessions() as s:
            if s.get(Item, item_id) is None:
                raise NotFound(f"no item {item_id}")
            pages = s.scalars(select(Page).where(Page.item_id == item_id).order_by(Page.sequence)).all()
            return [
                PageStatusRow(p.id, p.sequence, p.source_name, p.status.value, p.status_reason, p.attempts,
                              p.mean_confidence, p.needs_review)
                for p in pages
            ]

    def item(self, item_id: int) -> Item:
        with self.sessions() as s:
            item = s.scalars(
                select(Item).where(Item.id == item_id).options(selectinload(Item.pages), selectinload(Item.collection))
            ).first()
            if item is None:
                raise NotFound(f"no item {item_id}")
            return item

    def page(self, page_id: int) -> Page:
        with self.sessions() as s:
            page = s.get(Page, page_id)
            if page is None:
                raise NotFound(f"no page {page_id}")
            return page

    def item_languages(self, item_id: int) -> str:
        """An item's languages (``"vie"``, ``"lzh+vie"``) without loading its pages."""
        with self.sessions() as s:
            row = s.execute(select(Item.languages).where(Item.id == item_id)).first()
        if row is None:
            raise NotFound(f"no item {item_id}")
        return row[0] or ""

    def exists(self, item_id: int) -> bool:
        with self.sessions() as s:
            return s.scalar(select(Item.id).where(Item.id == item_id)) is not None

    def reading_warnings(self, page_id: int) -> tuple[str, ...]:
        """Why the machine reading the page's text comes from may be poor or partial ("white on dark: read
        inverted", …): the warnings of its newest machine version not waiting for staff; () for none."""
        return self.reading_warnings_of([page_id]).get(page_id, ())

    def reading_warnings_of(self, page_ids) -> dict[int, tuple[str, ...]]:
        """:meth:`reading_warnings` of a window of pages (at most MAX_LIMIT) in one query on the versions'
        (page_id, version) index; pages without any are left out."""
        ids = list(page_ids)[:MAX_LIMIT]
        if not ids:
            return {}
        with self.sessions() as s:
            rows = s.execute(select(Transcription.page_id, Transcription.version, Transcription.warnings,
                                    Page.pending_ocr_version).join(Page, Page.id == Transcription.page_id)
                             .where(Transcription.page_id.in_(ids), Transcription.source != "manual")
                             .order_by(Transcription.page_id, Transcription.version.desc())).all()
        newest: dict[int, str | None] = {}
        for page_id, version, warned, pending in rows:
            if page_id not in newest and version != pending:  # a reading waiting for staff is not the one in use
                newest[page_id] = warned
        return {page_id: warning_list(warned) for page_id, warned in newest.items() if warned}

    def words(self, page_id: int) -> list[LayoutWord]:
        """The page's words in reading order (decoded from ``pages.layout``)."""
        with self.sessions() as s:
            return stored(s, page_id).words

    def collections(self) -> list[Collection]:
        with self.sessions() as s:
            return list(s.scalars(select(Collection).order_by(Collection.name)))

    def items(self, *, limit: int = 100, offset: int = 0) -> list[Item]:
        with self.sessions() as s:
            return list(s.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset)
                                  .options(selectinload(Item.collection))))

    def collection(self, collection_id: int) -> Collection:
        with self.sessions() as s:
            coll = s.get(Collection, collection_id)
            if coll is None:
                raise NotFound(f"no collection {collection_id}")
            return coll

    def collection_items(self, collection_id: int, *, limit: int = 100, offset: int = 0) -> list[Item]:
        with self.sessions() as s:
            return list(s.scalars(select(Item).where(Item.collection_id == collection_id).order_by(Item.id)
                                  .limit(limit).offset(offset)))
