"""Collections run by staff: create, rename, describe, nest, order their items, move items between them;
and the reader's side of them: a collection's items sorted by title or date, page by page, and the
newspapers and magazines on the shelf by serial title, then year, then issue day.

Every change asks :func:`library.access.require_permission` (``edit_collection``) with an explicit
actor and goes through the unit of work. Every input is checked before anything changes: a refused
change raises :class:`InputRejected` naming the field (``name``, ``description``, ``collection``,
``item``, ``order``, ``position``, ``parent``) and leaves the catalogue as it was. Search documents
carry the collection's name: items whose collection name changes (a rename, a move) are marked for
the index and sent right after the commit, so search finds them under the new name at once.

Reading asks :meth:`library.access.Access.visible` for the actor: lists never hold an item the actor
may not see, and counts never count one.
"""

from __future__ import annotations

import calendar
import json
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping
from urllib.parse import quote

from sqlalchemy import Integer, cast, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from library.access import Access, Actor, require_permission
from library.errors import InputRejected, LimitExceeded
from library.catalogue.naturalsort import name_key, slugify, title_key
from library.catalogue.text_values import validate_text_value
from library.catalogue.models import Collection, Item, ItemChange, utcnow
from library.unit_of_work import UnitOfWork

MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 5_000
MAX_ID = 2**31 - 1
MAX_DEPTH = 50  # parents followed before a chain is taken for a loop
SORTS = ("order", "title", "-title", "date", "-date")
SERIALS_PER_PAGE = 60
SIZE_CAP = 10_000  # a collection's items are counted up to this (the command line says "10000+")
# the next ``n`` serial keys after ``after``: a loose index scan (one seek of ix_items_serial_sort a key),
# the same SQL on SQLite and PostgreSQL
_NEXT_SERIAL_KEYS = text("""
WITH RECURSIVE serial_keys(k, n) AS (
    SELECT (SELECT MIN(serial_sort) FROM items WHERE serial_sort > :after), 1
    UNION ALL
    SELECT (SELECT MIN(serial_sort) FROM items WHERE serial_sort > serial_keys.k), serial_keys.n + 1
    FROM serial_keys WHERE serial_keys.k IS NOT NULL AND serial_keys.n < :n
)
SELECT k FROM serial_keys WHERE k IS NOT NULL LIMIT :n
""")


@dataclass(frozen=True)
class CollectionSummary:
    id: int
    slug: str
    name: str
    description: str | None
    access_level: str
    parent_id: int | None
    items: int  # every item of it (staff count); readers' lists count with their own condition

    def as_dict(self) -> dict:
        return dict(id=self.id, slug=self.slug, name=self.name, description=self.description,
                    access_level=self.access_level, parent_id=self.parent_id, items=self.items)


@dataclass(frozen=True)
class Serial:
    """A newspaper or magazine title on the shelf: how many issues the actor may see, and their years."""

    title: str
    slug: str
    issues: int
    first_year: int | None
    last_year: int | None
    ref: str = ""  # its part of the portal's URL: the slug, or the quoted title where two titles share a slug


@dataclass(frozen=True)
class SerialShelf:
    """One page of the serials' shelf; ``next``: the ``after`` of the following page (None at the end)."""

    serials: list[Serial]
    next: str | None

    def __iter__(self):
        return iter(self.serials)

    def __len__(self):
        return len(self.serials)


@dataclass(frozen=True)
class Issue:
    item_id: int
    title: str
    issue_date: date | None
    issue_number: str | None
    issue_date_text: str | None


@dataclass(frozen=True)
class MonthGrid:
    """One month of a serial's year: ``weeks`` of 7 days (Monday first; 0 outside the month), and the
    issues of each day (``{day: [Issue, …]}``)."""

    year: int
    month: int
    weeks: list[list[int]]
    issues: dict[int, list[Issue]]


def same_name(a: str, b: str) -> bool:
    """Names that readers could not tell apart: case, composed/decomposed accents and spacing aside."""
    def fold(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).casefold().split())
    return fold(a) == fold(b)


class CollectionService:
    def __init__(self, sessions: sessionmaker[Session], work: UnitOfWork, access: Access, *,
                 max_items: int = 100_000):
        self.sessions, self.work, self.access = sessions, work, access
        self.max_items = max_items  # items one collection may hold (settings.limits.max_items_per_collection)

    # ------------------------------------------------------------ checks (before anything changes)
    @staticmethod
    def check_name(name: object) -> str:
        value = validate_text_value(name, field="name", source="name", limit=MAX_NAME_CHARS)
        if value is None:
            raise InputRejected("name", "a collection needs a name")
        return " ".join(value.split())

    @staticmethod
    def check_description(text: object) -> str | None:
        return validate_text_value(text, field="description", source="description", limit=MAX_DESCRIPTION_CHARS)

    @staticmethod
    def _id(value: object, field: str) -> int:
        text = str(value).strip()
        if not text.isdigit() or not 0 < int(text) <= MAX_ID:
            raise InputRejected(field, f"{text[:40]!r} is not an id (a whole number)")
        return int(text)

    @staticmethod
    def find(s: Session, ref: int | str, field: str = "collection", *, lock: bool = False) -> Collection:
        """A collection by its id, slug or name; :class:`InputRejected` naming ``field`` if there is none."""
        text = str(ref).strip()
        coll = None
        if text.isdigit() and 0 < int(text) <= MAX_ID:
            coll = s.get(Collection, int(text), with_for_update=lock)
        if coll is None and text:
            q = select(Collection).where((Collection.slug == text) | (Collection.name == text)).order_by(Collection.id)
            coll = s.scalars(q.with_for_update() if lock else q).first()
        if coll is None:
            raise InputRejected(field, f"no collection {text[:80]!r} (give its id, slug or name)")
        return coll

    @staticmethod
    def _refuse_duplicate(s: Session, name: str, *, other_than: int | None = None) -> None:
        # by the key the unique constraint holds (naturalsort.name_key), so a race is refused there too
        for cid, existing in s.execute(select(Collection.id, Collection.name)
                                       .where(Collection.name_key == name_key(name))):
            if cid != other_than:
                raise InputRejected("name", f"a collection is already named {existing!r} (collection {cid})")

    @staticmethod
    def _free_slug(s: Session, name: str, *, other_than: int | None = None) -> str:
        base = slugify(name)[:100]
        taken = {slug for cid, slug in s.execute(select(Collection.id, Collection.slug).where(
            Collection.slug.like(f"{base}%"))) if cid != other_than}
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        return slug

    # ------------------------------------------------------------ changes
    def create(self, actor: Actor, name: str, description: str | None = None, *,
               parent: int | str | None = None) -> Collection:
        """A new collection; its slug is made from the name (``-2``, ``-3``… when taken)."""
        require_permission(actor, "edit_collection")
        name = self.check_name(name)
        description = self.check_description(description)
        with self.work(actor) as work:
            s = work.session
            self._refuse_duplicate(s, name)
            parent_id = self.find(s, parent, "parent").id if parent not in (None, "") else None
            coll = Collection(slug=self._free_slug(s, name), name=name, description=description, parent_id=parent_id)
            s.add(coll)
            s.flush()
            work.audit("collection_create", record_id=coll.id, detail={"name": name, "parent_id": parent_id})
            s.expunge(coll)
        return coll

    def rename(self, actor: Actor, collection: int | str, new_name: str) -> Collection:
        """A new name (and slug); its items go to search again under it, at once."""
        require_permission(actor, "edit_collection")
        name = self.check_name(new_name)
        with self.work(actor) as work:
            s = work.session
            coll = self.find(s, collection, lock=True)
            if coll.name == name:
                s.expunge(coll)
                return coll
            self._refuse_duplicate(s, name, other_than=coll.id)
            work.audit("collection_rename", record_id=coll.id, detail={"name": [coll.name, name]})
            coll.name, coll.slug = name, self._free_slug(s, name, other_than=coll.id)
            items = list(s.scalars(select(Item).where(Item.collection_id == coll.id)))
            now = self.access.clock()
            for item in items:  # OAI-PMH: their set (collection:<slug>) changed
                item.record_changed_at = now
            _mark_for_index(items)
            if items:
                work.index()
            s.flush()
            s.expunge(coll)
        return coll

    def describe(self, actor: Actor, collection: int | str, text: str | None) -> Collection:
        """The description readers see on the collection's page (empty clears it)."""
        require_permission(actor, "edit_collection")
        description = self.check_description(text)
        with self.work(actor) as work:
            coll = self.find(work.session, collection, lock=True)
            work.audit("collection_describe", record_id=coll.id, detail={"description": [coll.description, description]})
            coll.description = description
            work.session.flush()
            work.session.expunge(coll)
        return coll

    def set_parent(self, actor: Actor, collection: int | str, parent: int | str | None) -> Collection:
        """Put a collection inside another (``None``: at the top); never inside itself or its own."""
        require_permission(actor, "edit_collection")
        with self.work(actor) as work:
            s = work.session
            coll = self.find(s, collection, lock=True)
            if parent in (None, ""):
                coll.parent_id = None
                work.audit("collection_move", record_id=coll.id, detail={"parent_id": None})
            else:
                target = self.find(s, parent, "parent")
                if target.id == coll.id:
                    raise InputRejected("parent", f"collection {coll.name!r} cannot be inside itself")
                ancestor, seen = target, 0
                while ancestor.parent_id is not None and seen < MAX_DEPTH:
                    if ancestor.parent_id == coll.id:
                        raise InputRejected("parent", f"{target.name!r} is inside {coll.name!r}: a collection "
                                                      "cannot be moved into one of its own")
                    ancestor, seen = s.get(Collection, ancestor.parent_id), seen + 1
                coll.parent_id = target.id
            work.audit("collection_move", record_id=coll.id, detail={"parent_id": coll.parent_id})
            s.flush()
            s.expunge(coll)
        return coll

    def order(self, actor: Actor, collection: int | str, order: Iterable[int | str] | Mapping) -> list[int]:
        """Set the order of every item of the collection: a list of its item ids, first to last, or a
        mapping ``{item_id: position}`` with positions 1…n. Every item must appear once, no other item,
        no gap, no position twice. Returns the item ids in their new order."""
        require_permission(actor, "edit_collection")
        if isinstance(order, Mapping):
            pairs = [(self._id(k, "item"), self._position(v)) for k, v in order.items()]
            positions = sorted(p for _, p in pairs)
            twice = sorted({p for p in positions if positions.count(p) > 1})
            if twice:
                raise InputRejected("position", f"position {twice[0]} is given to more than one item")
            if positions != list(range(1, len(positions) + 1)):
                gap = next(n for n in range(1, len(positions) + 2) if n not in positions)
                raise InputRejected("position", f"positions must run 1…{len(positions)} without a gap; "
                                                f"{gap} is missing")
            ids = [i for i, _ in sorted(pairs, key=lambda pair: pair[1])]
        else:
            ids = [self._id(i, "item") for i in order]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise InputRejected("order", f"item {twice[0]} is listed more than once")
        with self.work(actor) as work:
            s = work.session
            coll = self.find(s, collection, lock=True)
            held = set(s.scalars(select(Item.id).where(Item.collection_id == coll.id)))
            strangers = [i for i in ids if i not in held]
            if strangers:
                raise InputRejected("order", f"item {strangers[0]} is not in collection {coll.name!r}")
            missing = sorted(held - set(ids))
            if missing:
                raise InputRejected("order", f"the order leaves out {len(missing)} item(s) of {coll.name!r} "
                                             f"(first: {missing[0]}); list all {len(held)}")
            self._renumber(s, ids)
            work.audit("collection_order", record_id=coll.id, detail={"order": ids})
        return ids

    def place(self, actor: Actor, collection: int | str, item: int | str, position: int | str) -> list[int]:
        """Move one item of the collection to ``position`` (1-based); the others keep their order.
        Returns the item ids in their new order."""
        require_permission(actor, "edit_collection")
        item_id, position = self._id(item, "item"), self._position(position)
        with self.work(actor) as work:
            s = work.session
            coll = self.find(s, collection, lock=True)
            ids = self._ordered_ids(s, coll.id)
            if item_id not in ids:
                raise InputRejected("item", f"item {item_id} is not in collection {coll.name!r}")
            if position > len(ids):
                raise InputRejected("position", f"{position} is past the end: the collection has {len(ids)} items")
            ids.remove(item_id)
            ids.insert(position - 1, item_id)
            self._renumber(s, ids)
            work.audit("collection_order", record_id=coll.id, detail={"item": item_id, "position": position})
        return ids

    def move(self, actor: Actor, items: Iterable[int | str], to: int | str | None) -> list[int]:
        """Move items into collection ``to`` (after its last item), or out of any collection (``None``).
        Each item's change is kept in its history; search finds them under their new collection at once.
        Returns the ids of the items that moved."""
        require_permission(actor, "edit_collection")
        ids = [self._id(i, "item") for i in items]
        if not ids:
            raise InputRejected("item", "name at least one item to move")
        with self.work(actor) as work:
            s = work.session
            target = self.find(s, to, "to", lock=True) if to not in (None, "") else None
            rows = {i.id: i for i in s.scalars(select(Item).where(Item.id.in_(set(ids))).with_for_update())}
            unknown = [i for i in ids if i not in rows]
            if unknown:
                raise InputRejected("item", f"no item {unknown[0]}")
            target_id = target.id if target is not None else None
            moving = [rows[i] for i in dict.fromkeys(ids) if rows[i].collection_id != target_id]
            if not moving:
                return []
            if target is not None:
                check_collection_room(s, target, len(moving), self.max_items)
            names = dict(s.execute(select(Collection.id, Collection.name).where(
                Collection.id.in_({i.collection_id for i in moving if i.collection_id is not None}))).all())
            sources = {i.collection_id for i in moving if i.collection_id is not None}
            for item in moving:
                _record_move(s, item, actor, names.get(item.collection_id), target.name if target else None)
                work.audit("collection_move", record_type="item", record_id=item.id,
                           detail={"collection_id": [item.collection_id, target_id]})
                item.collection_id, item.position = target_id, None
                item.record_changed_at = self.access.clock()  # OAI-PMH: its set changed
            s.flush()
            # the moved items go after the target's last; the collections they left close their gaps
            if target_id is not None:
                kept = [i for i in self._ordered_ids(s, target_id) if i not in {m.id for m in moving}]
                self._renumber(s, kept + [m.id for m in moving])
            for source in sources:
                self._renumber(s, self._ordered_ids(s, source))
            _mark_for_index(moving)
            work.index()
        return [i.id for i in moving]

    @staticmethod
    def _position(value: object) -> int:
        text = str(value).strip()
        if not text.isdigit() or not 0 < int(text) <= MAX_ID:
            raise InputRejected("position", f"{text[:40]!r} is not a position (1, 2, 3…)")
        return int(text)

    @staticmethod
    def _ordered_ids(s: Session, collection_id: int) -> list[int]:
        return list(s.scalars(select(Item.id).where(Item.collection_id == collection_id)
                              .order_by(*catalogue_order())))

    @staticmethod
    def _renumber(s: Session, ids: list[int]) -> None:
        rows = {i.id: i for i in s.scalars(select(Item).where(Item.id.in_(ids)).with_for_update())}
        for n, item_id in enumerate(ids, start=1):
            rows[item_id].position = n

    # ------------------------------------------------------------ reading (staff and the command line)
    def collections(self) -> list[CollectionSummary]:
        """Every collection, by name, with how many items it holds, counted up to ``SIZE_CAP`` + 1 (one
        bounded count per collection on the ``items.collection_id`` index; more means "more than")."""
        with self.sessions() as s:
            out = []
            for c in s.scalars(select(Collection).order_by(Collection.name, Collection.id)):
                some = select(Item.id).where(Item.collection_id == c.id).limit(SIZE_CAP + 1).subquery()
                out.append(CollectionSummary(c.id, c.slug, c.name, c.description, c.access_level.value, c.parent_id,
                                             int(s.scalar(select(func.count()).select_from(some)) or 0)))
            return out

    def get(self, collection: int | str) -> Collection:
        with self.sessions() as s:
            coll = self.find(s, collection)
            s.expunge(coll)
            return coll

    def item_ids(self, collection: int | str) -> list[int]:
        """Every item of the collection in its order (staff view: the order being set)."""
        with self.sessions() as s:
            return self._ordered_ids(s, self.find(s, collection).id)

    # ------------------------------------------------------------ reading (what the actor may see)
    def count(self, actor: Actor, collection_id: int) -> int:
        with self.sessions() as s:
            return s.scalar(select(func.count()).select_from(Item).where(
                Item.collection_id == collection_id, self.access.visible(actor))) or 0

    def items(self, actor: Actor, collection_id: int, *, sort: str = "order", limit: int = 24,
              offset: int = 0) -> list[Item]:
        """One page of the collection's items the actor may see: in the collection's ``order``, by
        ``title`` or by ``date`` (``-`` first for the reverse)."""
        if sort not in SORTS:
            raise InputRejected("sort", f"{sort[:20]!r}: sort by one of {', '.join(SORTS)}")
        with self.sessions() as s:
            q = (select(Item).where(Item.collection_id == collection_id, self.access.visible(actor))
                 .order_by(*_sort_keys(sort)).limit(max(1, min(limit, 200))).offset(max(0, offset)))
            return list(s.scalars(q))

    def first_items(self, actor: Actor, collection_ids: Iterable[int]) -> dict[int, int]:
        """The first item (in the collection's order) the actor may see of each collection: its picture
        stands for the collection on a card. One statement, one index seek per collection."""
        ids = sorted({int(c) for c in collection_ids})[:200]
        if not ids:
            return {}
        first = (select(Item.id).where(Item.collection_id == Collection.id, self.access.visible(actor))
                 .order_by(*_sort_keys("order")).limit(1).correlate(Collection).scalar_subquery())
        with self.sessions() as s:
            rows = s.execute(select(Collection.id, first).where(Collection.id.in_(ids))).all()
        return {cid: item_id for cid, item_id in rows if item_id is not None}

    def serials(self, actor: Actor, *, after: str = "", limit: int = SERIALS_PER_PAGE) -> SerialShelf:
        """One page of the newspaper and magazine titles with the issues the actor may see, by title
        (``naturalsort.title_key``), from the first after ``after`` (a shelf's ``next``). The titles are
        found by a loose scan of ``ix_items_serial_sort`` (one index seek a title, never a read of every
        issue) and only their own issues are counted."""
        limit = max(1, min(limit, 200))
        year = func.coalesce(_issue_year(), Item.year_start)
        with self.sessions() as s:
            keys = list(s.execute(_NEXT_SERIAL_KEYS, {"after": after[:200], "n": limit}).scalars())
            if not keys:
                return SerialShelf([], None)
            rows = s.execute(select(Item.serial_sort, Item.serial_title, Item.serial_slug, func.count(),
                                    func.min(year), func.max(year))
                             .where(Item.serial_sort.in_(keys), self.access.visible(actor))
                             .group_by(Item.serial_sort, Item.serial_title, Item.serial_slug)).all()
            slugs = {r[2] for r in rows}
            shared = set(s.scalars(select(Item.serial_slug).where(Item.serial_slug.in_(slugs))
                                   .group_by(Item.serial_slug)
                                   .having(func.count(func.distinct(Item.serial_title)) > 1)))
        out = [Serial(t, slug, n, lo, hi, slug if slug not in shared else quote(t, safe=""))
               for _, t, slug, n, lo, hi in sorted(rows, key=lambda r: (r[0], r[1]))]
        return SerialShelf(out, keys[-1] if len(keys) == limit else None)

    def serial(self, actor: Actor, ref: str) -> Serial | None:
        """A serial by its exact title or its slug (a slug two titles share names neither); ``None`` if
        the actor sees no issue of it."""
        year = func.coalesce(_issue_year(), Item.year_start)
        ref = ref[:2000]
        with self.sessions() as s:
            titles = set(s.scalars(select(Item.serial_title).where(*_of_serial(ref)).limit(1)))
            if not titles:
                titles = set(s.scalars(select(Item.serial_title).where(Item.serial_slug == ref[:100])
                                       .group_by(Item.serial_title).limit(2)))
                if len(titles) != 1:
                    return None
            title = titles.pop()
            n, lo, hi, slug = s.execute(select(func.count(), func.min(year), func.max(year), func.min(Item.serial_slug))
                                        .where(*_of_serial(title), self.access.visible(actor))).one()
            if not n:
                return None
            others = s.scalar(select(func.count(func.distinct(Item.serial_title)))
                              .where(Item.serial_slug == slug)) or 0
        return Serial(title, slug, n, lo, hi, slug if others <= 1 else quote(title, safe=""))

    def serial_years(self, actor: Actor, title: str) -> list[tuple[int | None, int]]:
        """``[(year, issues)]`` of a serial, oldest first (``None``: issues with no date)."""
        year = func.coalesce(_issue_year(), Item.year_start)
        with self.sessions() as s:
            rows = s.execute(select(year, func.count()).where(*_of_serial(title), self.access.visible(actor))
                             .group_by(year)).all()
        return sorted(((int(y) if y is not None else None, n) for y, n in rows),
                      key=lambda pair: (pair[0] is None, pair[0] or 0))

    def serial_issues(self, actor: Actor, title: str, year: int) -> list[Issue]:
        """The issues of a serial in one year the actor may see, by issue day."""
        with self.sessions() as s:
            in_year = ((Item.issue_date >= date(year, 1, 1)) & (Item.issue_date <= date(year, 12, 31))) | (
                Item.issue_date.is_(None) & (Item.year_start == year))
            rows = s.scalars(select(Item).where(*_of_serial(title), in_year, self.access.visible(actor))
                             .order_by(Item.issue_date.is_(None), Item.issue_date, Item.issue_number, Item.id))
            return [Issue(i.id, i.title, i.issue_date, i.issue_number, i.issue_date_text) for i in rows]


def check_collection_room(s: Session, collection: Collection, adding: int, max_items: int) -> None:
    """Refuse (``LimitExceeded``) ``adding`` items to ``collection`` past ``max_items``: one count on the
    ``items.collection_id`` index, bounded by the limit."""
    some = select(Item.id).where(Item.collection_id == collection.id).limit(max_items + 1).subquery()
    held = int(s.scalar(select(func.count()).select_from(some)) or 0)
    if held + adding > max_items:
        raise LimitExceeded("collection", (
            f"{collection.name!r} holds {held} items; {adding} more would pass its limit of {max_items} "
            "(HERITAGE_MAX_ITEMS_PER_COLLECTION): make sub-collections (e.g. by year)"))


def _of_serial(title: str) -> tuple:
    """The issues of the serial ``title``, found through ``ix_items_serial_sort``."""
    return Item.serial_sort == title_key(title), Item.serial_title == title


def calendar_of(year: int, issues: list[Issue]) -> list[MonthGrid]:
    """The twelve months of ``year`` with the days that have an issue (issues with no day are left out)."""
    weeks = calendar.Calendar(firstweekday=0)
    months = []
    for month in range(1, 13):
        days: dict[int, list[Issue]] = {}
        for issue in issues:
            if issue.issue_date is not None and (issue.issue_date.year, issue.issue_date.month) == (year, month):
                days.setdefault(issue.issue_date.day, []).append(issue)
        months.append(MonthGrid(year, month, weeks.monthdayscalendar(year, month), days))
    return months


def catalogue_order():
    """The collection's own order: positioned items first, by position, then the others by id."""
    return (Item.position.is_(None), Item.position, Item.id)


def _issue_year():
    return cast(func.extract("year", Item.issue_date), Integer)


def _sort_keys(sort: str):
    if sort == "order":
        return catalogue_order()
    if sort in ("title", "-title"):
        key = Item.title_sort  # folded in Python (naturalsort.title_key): Đ sorts with D, not after Z
        return (key.desc() if sort[0] == "-" else key, Item.id)
    # by date: the item's year (or its issue's), then its issue day; undated items last either way
    year = func.coalesce(Item.year_start, _issue_year())
    day = Item.issue_date
    if sort == "-date":
        return (year.is_(None), year.desc(), day.is_(None), day.desc(), Item.id.desc())
    return (year.is_(None), year, day.is_(None), day, Item.id)


def _mark_for_index(items: list[Item]) -> None:
    """Their documents carry the collection's name: send them (and their pages) to search again."""
    for item in items:
        item.revision = (item.revision or 0) + 1
        item.index_pending = True


def _record_move(s: Session, item: Item, actor: Actor, before: str | None, after: str | None) -> None:
    s.add(ItemChange(item_id=item.id, metadata_revision=item.metadata_revision or 1, kind="collection",
                     changes=json.dumps({"collection": [before, after]}, ensure_ascii=False), actor=actor.label,
                     changed_by=actor.user.id if actor.user is not None else None, changed_at=utcnow()))
