"""Keeping the search index in step with the catalogue.

The catalogue is the system of record; the index follows it. Every change
that the index must learn of bumps the row's ``revision`` and sets
``index_pending`` in the same transaction as the change itself (an outbox
kept in the rows). :meth:`Indexer.flush` sends pending rows to the engine and
clears the flag only where the revision is still the one it sent, so a change
made meanwhile is sent again. When the engine is down nothing is lost: the
flags stay set and the next flush (after a page is read, or by the sweeper)
sends them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Iterator

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from library.models import Item, Monument, Page, PageStatus

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


def page_doc(page: Page, item: Item):
    from search import PageDoc

    return PageDoc(page_id=page.id, item_id=item.id, page_number=page.sequence, text=page.text or "",
                   **_bibliographic(item))


def item_doc(item: Item, pages: list[Page]):
    from search import ItemDoc

    text = "\n\n".join(p.text for p in pages if p.status == PageStatus.done and p.text)
    return ItemDoc(item_id=item.id, text=text, page_count=len(pages), **_bibliographic(item))


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


class Indexer:
    def __init__(self, sessions: sessionmaker[Session], engine_factory: Callable[[], object]):
        self.sessions = sessions
        self._engine_factory = engine_factory
        self._engine = None

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

    def flush(self, *, limit: int | None = None) -> FlushReport:
        """Send pending pages and items to the engine. Never raises for an engine that is down."""
        from search import SearchUnavailable

        report = FlushReport()
        try:
            while limit is None or report.pages + report.items < limit:
                n_pages = self._flush_pages()
                n_items = self._flush_items()
                n_monuments = self._flush_monuments()
                report.pages += n_pages
                report.items += n_items
                report.monuments += n_monuments
                if not n_pages and not n_items and not n_monuments:
                    break
            if report.pages or report.items or report.monuments:
                self.engine.refresh()  # searches from any process see the changes now
        except SearchUnavailable as exc:
            report.error = str(exc)
            log.warning("search engine unavailable, %s: changes stay pending", exc)
        return report

    def _flush_pages(self) -> int:
        with self.sessions() as s:
            pages = s.scalars(
                select(Page).where(Page.index_pending.is_(True)).order_by(Page.id).limit(BATCH)
                .options(selectinload(Page.item).selectinload(Item.collection))
            ).all()
            docs = [page_doc(p, p.item) for p in pages if p.status == PageStatus.done]
            gone = [p for p in pages if p.status != PageStatus.done]
            sent = [(p.id, p.revision) for p in pages]
        if not sent:
            return 0
        if docs:
            self.engine.index(docs)
        if gone:  # a page that lost its text (re-queued for OCR) leaves the index until read again
            from search import page_doc_id

            self.engine.delete([page_doc_id(p.id) for p in gone])
        with self.sessions.begin() as s:
            for page_id, revision in sent:
                s.execute(update(Page).where(Page.id == page_id, Page.revision == revision)
                          .values(index_pending=False))
        return len(sent)

    def _flush_items(self) -> int:
        with self.sessions() as s:
            items = s.scalars(
                select(Item).where(Item.index_pending.is_(True)).order_by(Item.id).limit(50)
                .options(selectinload(Item.pages), selectinload(Item.collection))
            ).all()
            docs = [item_doc(i, list(i.pages)) for i in items]
            sent = [(i.id, i.revision) for i in items]
        if not sent:
            return 0
        self.engine.index(docs)
        with self.sessions.begin() as s:
            for item_id, revision in sent:
                s.execute(update(Item).where(Item.id == item_id, Item.revision == revision)
                          .values(index_pending=False))
        return len(sent)

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
                items = s.scalars(
                    select(Item).where(Item.id > last).order_by(Item.id).limit(100)
                    .options(selectinload(Item.pages), selectinload(Item.collection))
                ).all()
                if not items:
                    break
                for item in items:
                    pages = list(item.pages)
                    for p in pages:
                        if p.status == PageStatus.done:
                            yield page_doc(p, item)
                    yield item_doc(item, pages)
                last = items[-1].id
                s.expunge_all()
            for m in s.scalars(select(Monument).order_by(Monument.id)):
                yield monument_doc(m)

    def document_count(self) -> int:
        with self.sessions() as s:
            pages = s.scalar(select(func.count()).select_from(Page).where(Page.status == PageStatus.done))
            items = s.scalar(select(func.count()).select_from(Item))
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
