"""Read-side use cases of the catalogue: items, pages, words and job status."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from library.errors import NotFound
from library.catalogue.models import Collection, Item, Page, PageStatus, Word
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
            counts = s.execute(select(Page.item_id, Page.status, func.count()).group_by(Page.item_id, Page.status)).all()
        per: dict[int, dict[str, int]] = {}
        for item_id, status, n in counts:
            per.setdefault(item_id, {})[PageStatus(status).value] = n
        return [
            ItemStatusRow(i, t, st.value, r, {k: per.get(i, {}).get(k, 0) for k in (s.value for s in PageStatus)})
            for i, t, st, r in items
        ]

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

    def words(self, page_id: int) -> list[Word]:
        with self.sessions() as s:
            return list(s.scalars(select(Word).where(Word.page_id == page_id).order_by(Word.sequence)))

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

    def collection_sizes(self) -> dict[int, int]:
        """How many items each collection holds."""
        with self.sessions() as s:
            return dict(s.execute(select(Item.collection_id, func.count()).where(Item.collection_id.is_not(None))
                                  .group_by(Item.collection_id)).all())

    def collection_items(self, collection_id: int, *, limit: int = 100, offset: int = 0) -> list[Item]:
        with self.sessions() as s:
            return list(s.scalars(select(Item).where(Item.collection_id == collection_id).order_by(Item.id)
                                  .limit(limit).offset(offset)))
