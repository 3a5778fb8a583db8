"""Keeping the search index in step with the catalogue.

The catalogue is the system of record; the index follows it. Every change
that the index must learn of bumps the row's ``revision`` and sets
``index_pending`` in the same transaction as the change itself (an outbox
kept in the rows). :meth:`Indexer.flush` sends pending rows to the engine and
clears the flag only where the revision is still the one it sent, so a change
made meanwhile is sent again. When the engine is down nothing is lost: the
flags stay set and the next flush (after a page is read, or by the sweeper)
sends them.

Every document carries its item's effective access level (``platform.access.visible_level_of``),
which search filters by. An item's change (``index_pending`` on the item: metadata, access level,
embargo lifted) re-indexes its pages as well, since they carry its level and metadata. Withdrawn
items and items flagged ``do_not_index`` are not indexed: their documents are deleted.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from library.catalogue.models import Item, Monument, Page, PageStatus

#: A rebuild holds the pages of its items in memory this many at a time (or one item's, if it has more).
REBUILD_BATCH_PAGES = 2000


def rebuild_batch(sizes, bound: int) -> list[int]:
    """The first items of ``sizes`` (``[(item id, pages)]``) whose pages add up to at most ``bound``;
    at least the first item, however many pages it has."""
    ids, held = [], 0
    for item_id, pages in sizes:
        if ids and held + pages > bound:
            break
        ids.append(item_id)
        held += pages
    return ids

if TYPE_CHECKING:
    from library.access import Access

log = logging.getLogger(__name__)

BATCH = 500


def _bibliographic(item: Item) -> dict:
    return dict(
        title=item.title or "",
        creators=tuple(x for x in [item.creator] if x),
        date=item.date_text,
        year_start=item.year_start,
        year_end=item.year_end,
        type=item.item_type.value if item.item_type else None,
        languages=tuple(x for x in (item.languages or "").split("+") if x),
        collections=tuple(x for x in [item.collection.name if item.collection else None] if x),
        subjects=tuple(s.strip() for s in (item.subject or "").split(";") if s.strip()),
    )


def page_doc(page: Page, item: Item, level: str):
    """``level``: the item's effective access level (``public``, ``reading-room``, ``staff``)."""
    from search import PageDoc

    return PageDoc(page_id=page.id, item_id=item.id, page_number=page.sequence, text=page.text or "",
                   access=level, **_bibliographic(item))


def item_doc(item: Item, pages: list[Page], level: str):
    """``level``: the item's effective access level (``public``, ``reading-room``, ``staff``)."""
    from search import ItemDoc

    text = "\n\n".join(p.text for p in pages if p.status == PageStatus.done and p.text)
    return ItemDoc(item_id=item.id, text=text, page_count=len(pages), access=level, **_bibliographic(item))


def kept_out_of_index(item: Item) -> bool:
    """Withdrawn, deleted and ``do_not_index`` items have no document in the index."""
    return item.withdrawn_at is not None or item.deleted_at is not None or bool(item.do_not_index)


def monument_doc(m: Monument):
    from search import MonumentDoc

    return MonumentDoc(monument_id=m.id, name_vi=m.name_vi, name_en=m.name_en or "",
                       description_vi=m.description_vi or "", description_en=m.description_en or "",
                       lat=m.lat, lon=m.lon, period=m.period, year_start=m.year_start, year_end=m.year_end)


@dataclass
class FlushReport:
    pages: int = 0
    items: int = 0
    monuments: int = 0
    error: str | None = None  # the engine was unavailable: the changes stay pending
    held: bool = False  # asked for inside Indexer.batched() before its time: the changes stay pending


class Indexer:
    """``access``: the platform's access rules (their clock decides embargoes), giving each item's level."""

    def __init__(self, sessions: sessionmaker[Session], engine_factory: Callable[[], object], *, access: "Access"):
        self.sessions = sessions
        self._engine_factory = engine_factory
        self._engine = None
        self.access = access
        self._batch = threading.local()  # Indexer.batched(): this thread's next flush time

    def level_of(self, item: Item) -> str:
        """The access level stored with the item's documents (its collection loaded or lazily loadable)."""
        return self.access.visible_level_of(item, item.collection).value

    @property
    def engine(self):
        if self._engine is None:
            self._engine = self._engine_factory()
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    # -------------------------------------------------------------- outbox
    def pending(self) -> tuple[int, int]:
        with self.sessions() as s:
            pages = s.scalar(select(func.count()).select_from(Page).where(Page.index_pending.is_(True)))
            items = s.scalar(select(func.count()).select_from(Item).where(Item.index_pending.is_(True)))
        return pages or 0, items or 0

    @contextlib.contextmanager
    def batched(self, *, every_s: float = 5.0) -> Iterator[None]:
        """Within this block (in this thread), the flushes that changes ask for after their commit go at
        most every ``every_s`` seconds, and once when the block ends: a bulk import of thousands of
        items commits the search engine a few times a minute, not once or twice an item. A change
        committed meanwhile stays marked pending in the catalogue (the outbox), so nothing is lost if
        the process dies before the next flush: the sweeper sends it."""
        if getattr(self._batch, "next_at", None) is not None:  # nested: the outer block decides
            yield
            return
        self._batch.next_at = time.monotonic() + every_s
        self._batch.every_s = every_s
        try:
            yield
        finally:
            self._batch.next_at = None
            self.flush()

    def flush(self, *, limit: int | None = None) -> FlushReport:
        """Send pending pages and items to the engine. Never raises for an engine that is down.
        Inside :meth:`batched`, a flush before the batch's next time does nothing (``held``)."""
        from search import SearchUnavailable

        next_at = getattr(self._batch, "next_at", None)
        if next_at is not None:
            if time.monotonic() < next_at:
                return FlushReport(held=True)
            self._batch.next_at = time.monotonic() + self._batch.every_s
        report = FlushReport()
        try:
            removed = self._flush_removals()
            while limit is None or report.pages + report.items < limit:
                # items first: an item sends its pages with it, which then need no sending of their own
                n_items, n_carried = self._flush_items()
                n_pages = self._flush_pages() + n_carried
                n_monuments = self._flush_monuments()
                report.pages += n_pages
                report.items += n_items
                report.monuments += n_monuments
                if not n_pages and not n_items and not n_monuments:
                    break
            if removed or report.pages or report.items or report.monuments:
                self.engine.refresh()  # searches from any process see the changes now
        except SearchUnavailable as exc:
            report.error = str(exc)
            log.warning("search engine unavailable, %s: changes stay pending", exc)
        return report

    def _flush_removals(self) -> int:
        """Documents whose rows are gone (removed pages): removed from search, then from the outbox."""
        from library.catalogue.models import IndexRemoval

        done = 0
        while True:
            with self.sessions() as s:
                rows = s.execute(select(IndexRemoval.id, IndexRemoval.doc_id).order_by(IndexRemoval.id)
                                 .limit(BATCH)).all()
            if not rows:
                return done
            self.engine.delete([doc_id for _, doc_id in rows])
            with self.sessions.begin() as s:
                s.execute(delete(IndexRemoval).where(IndexRemoval.id.in_([i for i, _ in rows])))
            done += len(rows)

    def _flush_pages(self) -> int:
        with self.sessions() as s:
            pages = s.scalars(
                select(Page).where(Page.index_pending.is_(True)).order_by(Page.id).limit(BATCH)
                .options(selectinload(Page.item).selectinload(Item.collection))
            ).all()
            shown = [p for p in pages if p.status == PageStatus.done and not kept_out_of_index(p.item)]
            docs = [page_doc(p, p.item, self.level_of(p.item)) for p in shown]
            # a page that lost its text (re-queued for OCR) leaves the index until read again;
            # a page of a withdrawn or not-to-index item never enters it
            gone = [p for p in pages if p not in shown]
            sent = [(p.id, p.revision) for p in pages]
            items_seen = {p.item_id: p.item.revision for p in shown}
        if not sent:
            return 0
        if docs:
            self.engine.index(docs)
        if gone:
            from search import page_doc_id

            self.engine.delete([page_doc_id(p.id) for p in gone])
        with self.sessions.begin() as s:
            for page_id, revision in sent:
                s.execute(update(Page).where(Page.id == page_id, Page.revision == revision)
                          .values(index_pending=False))
            # an item changed (its level, say) while these pages were sent with its former state:
            # send the item again, which re-sends its pages with the new one
            for item_id, revision in items_seen.items():
                s.execute(update(Item).where(Item.id == item_id, Item.revision != revision)
                          .values(index_pending=True))
        return len(sent)

    def _flush_items(self) -> tuple[int, int]:
        """(items sent, pages sent with them)."""
        with self.sessions() as s:
            items = s.scalars(
                select(Item).where(Item.index_pending.is_(True)).order_by(Item.id).limit(50)
                .options(selectinload(Item.pages), selectinload(Item.collection))
            ).all()
            docs = []
            pages_sent: set[tuple[int, int]] = set()
            hidden = [i.id for i in items if kept_out_of_index(i)]
            for i in items:
                if i.id in hidden:
                    continue
                # the pages carry the item's level and metadata: an item's change re-sends them too
                level = self.level_of(i)
                pages = list(i.pages)
                done = [p for p in pages if p.status == PageStatus.done]
                docs += [page_doc(p, i, level) for p in done]
                pages_sent.update((p.id, p.revision) for p in done)
                docs.append(item_doc(i, pages, level))
            sent = [(i.id, i.revision) for i in items]
        if not sent:
            return 0, 0
        for item_id in hidden:  # withdrawn or flagged: the item and its pages leave the index at once
            self.engine.delete_item(item_id)
        if docs:
            self.engine.index(docs)
        with self.sessions.begin() as s:
            for item_id, revision in sent:
                s.execute(update(Item).where(Item.id == item_id, Item.revision == revision)
                          .values(index_pending=False))
            # the pages just sent as they are now need not go again by themselves
            if pages_sent:
                s.connection().execute(
                    update(Page.__table__).where(Page.__table__.c.id == bindparam("pid"),
                                                 Page.__table__.c.revision == bindparam("rev"))
                    .values(index_pending=False),
                    [{"pid": pid, "rev": rev} for pid, rev in pages_sent])
            # a page whose text changed while its former text was sent here goes again (its own flush
            # may have sent the new text before this one landed)
            now = {(pid, rev) for pid, rev in s.execute(
                select(Page.id, Page.revision).where(Page.id.in_([pid for pid, _ in pages_sent])))}
            stale = [pid for pid, _ in pages_sent - now]
            if stale:
                s.execute(update(Page).where(Page.id.in_(stale)).values(index_pending=True))
        return len(sent), len(pages_sent)

    def _flush_monuments(self) -> int:
        with self.sessions() as s:
            monuments = s.scalars(select(Monument).where(Monument.index_pending.is_(True)).limit(BATCH)).all()
            docs = [monument_doc(m) for m in monuments]
            sent = [(m.id, m.revision) for m in monuments]
        if not sent:
            return 0
        self.engine.index(docs)
        with self.sessions.begin() as s:
            for monument_id, revision in sent:
                s.execute(update(Monument).where(Monument.id == monument_id, Monument.revision == revision)
                          .values(index_pending=False))
        return len(sent)

    # ------------------------------------------------------------- rebuild
    def documents(self) -> Iterator:
        """Every page and item of the catalogue as search documents."""
        with self.sessions() as s:
            last = 0
            while True:
                # up to 100 items and about REBUILD_BATCH_PAGES pages in memory at once (a book may have 1,000)
                per_item = select(func.count(Page.id)).where(Page.item_id == Item.id).scalar_subquery()
                sizes = s.execute(select(Item.id, per_item).where(Item.id > last).order_by(Item.id).limit(100)).all()
                if not sizes:
                    break
                ids = rebuild_batch(sizes, REBUILD_BATCH_PAGES)
                items = s.scalars(
                    select(Item).where(Item.id.in_(ids)).order_by(Item.id)
                    .options(selectinload(Item.pages), selectinload(Item.collection))
                ).all()
                for item in items:
                    if kept_out_of_index(item):
                        continue
                    level = self.level_of(item)
                    pages = list(item.pages)
                    for p in pages:
                        if p.status == PageStatus.done:
                            yield page_doc(p, item, level)
                    yield item_doc(item, pages, level)
                last = ids[-1]
                s.expunge_all()
            for m in s.scalars(select(Monument).order_by(Monument.id)):
                yield monument_doc(m)

    def document_count(self) -> int:
        with self.sessions() as s:
            indexed = (Item.withdrawn_at.is_(None), Item.deleted_at.is_(None), Item.do_not_index.is_(False))
            pages = s.scalar(select(func.count()).select_from(Page).join(Item, Page.item_id == Item.id)
                             .where(Page.status == PageStatus.done, *indexed))
            items = s.scalar(select(func.count()).select_from(Item).where(*indexed))
            monuments = s.scalar(select(func.count()).select_from(Monument))
        return (pages or 0) + (items or 0) + (monuments or 0)

    def rebuild(self, *, progress: Callable[[int], None] | None = None) -> int:
        """Rebuild the whole index from the catalogue (searches keep answering meanwhile),
        then apply the changes made while it ran."""
        with self.sessions.begin() as s:  # everything in the new index is current as of now
            s.execute(update(Page).values(index_pending=False))
            s.execute(update(Item).values(index_pending=False))
            s.execute(update(Monument).values(index_pending=False))
        try:
            n = self.engine.rebuild(self.documents(), progress=progress)
        except BaseException:
            with self.sessions.begin() as s:  # nothing may be lost: send everything again later
                s.execute(update(Page).where(Page.status == PageStatus.done).values(index_pending=True))
                s.execute(update(Item).values(index_pending=True))
                s.execute(update(Monument).values(index_pending=True))
            raise
        self.flush()
        return n
