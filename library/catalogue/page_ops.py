"""Page operations on an item after ingest: reorder, turn, replace a scan, remove, add; and deleting an
item (admins only).

Originals are never altered or removed here: a turn is stored on the page (``rotation_deg``) and the
page read again from the turned image; a replaced or removed page's original stays in the store and
is named in the item's history (``ItemChange`` kind ``pages``). A deleted item keeps its row, hidden
everywhere by :mod:`library.access`, so its pages still name their originals: fixity goes on checking
them until the retention setting lets :func:`library.fixity.purge_expired` remove them.

Every operation goes through :func:`library.access.require_permission` and one unit of work (commit,
then search, then the OCR tasks). Files under ``derivatives/items/<item>/pages/<sequence>/`` follow
their page when its number changes. A page being read right now is not moved, turned or removed: the
operation is refused with a reason (try again when it is read).
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from library.access import Access, Actor, require_permission
from library.errors import Conflict, InputRejected, LimitExceeded, NotFound
from library.catalogue.item_edits import ItemEditor
from library.catalogue.models import (Derivative, Item, ItemStatus, MonumentItem, Page, PageStatus, StoredFile,
                                      utcnow)
from library.queue import OCR_PAGE
from library.settings import Settings
from library.store import FileStore
from library.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

QUARTER_TURNS = (90, 180, 270)
OPEN = (PageStatus.queued, PageStatus.running)


@dataclass(frozen=True)
class Move:
    """A page's derivative folder moving from one sequence number to another."""

    page_id: int
    old_sequence: int
    new_sequence: int


def scan_of(page: Page) -> dict:
    """A page's scan as the history keeps it (``sha256`` names the original in the store)."""
    return {"sha256": page.source_sha256, "page_index": page.source_page_index, "name": page.source_name}


class PageOperations:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], store: FileStore, work: UnitOfWork,
                 reader, ingest, access: Access):
        self.settings, self.sessions, self.store, self.work = settings, sessions, store, work
        self.reader, self.ingest, self.access = reader, ingest, access

    # ------------------------------------------------------------ reorder
    def reorder(self, actor: Actor, item_id: int, order: list[int]) -> list[int]:
        """Put the item's pages in a new order: ``order`` lists every current page number once, in the
        new order (``[3, 1, 2]``: page 3 comes first). Returns the page ids in their new order."""
        require_permission(actor, "edit_item")
        with self.work(actor) as work:
            s = work.session
            item, pages = self._lock(s, item_id)
            order = _check_order(order, len(pages))
            if order == list(range(1, len(pages) + 1)):
                return [p.id for p in pages]
            self._refuse_running(pages, "reorder the pages")
            by_number = {p.sequence: p for p in pages}
            new = [by_number[n] for n in order]
            moves = self._renumber(s, item_id, new)
            ItemEditor._record(work, item, "pages", {"order": [list(range(1, len(pages) + 1)), order]}, "page_order")
            self._move_files(item_id, moves)
            work.index()
            ids = [p.id for p in new]
        self._after(actor, item_id)
        return ids

    # ------------------------------------------------------------ turn
    def rotate(self, actor: Actor, item_id: int, page: int, degrees: int) -> int:
        """Turn page number ``page`` clockwise by 90, 180 or 270 degrees (added to any earlier turn) and
        read it again from the turned image; IIIF images and the thumbnail follow. Returns its id."""
        require_permission(actor, "edit_item")
        try:
            degrees = int(degrees)
        except (TypeError, ValueError):
            raise InputRejected("degrees", f"{degrees!r} is not 90, 180 or 270") from None
        if degrees not in QUARTER_TURNS:
            raise InputRejected("degrees", f"a page turns by 90, 180 or 270 degrees (clockwise), not {degrees}")
        with self.work(actor) as work:
            s = work.session
            item, pages = self._lock(s, item_id)
            target = _page_numbered(pages, page)
            self._refuse_running([target], "turn it")
            before = target.rotation_deg or 0
            target.rotation_deg = (before + degrees) % 360
            ItemEditor._record(work, item, "pages", {f"page {page} rotation_deg": [before, target.rotation_deg]}, "page_rotate")
            self._requeue(work, item, target, f"read again: turned {degrees}° clockwise")
            work.index()
            page_id = target.id
        self._mark_sent(work.accepted_ids(OCR_PAGE))
        return page_id

    # ------------------------------------------------------------ replace
    def replace(self, actor: Actor, item_id: int, page: int, upload) -> int:
        """Replace page number ``page``'s scan by ``upload`` (a :class:`library.ingest.service.Upload` of one
        page, checked as at ingest). The former original stays in the store and in the history; the
        page is read again (a manual correction keeps waiting for the corrector). Returns its id."""
        require_permission(actor, "edit_item")
        with self._expanded([upload], "file") as (files, packages, zones):
            pages_in = [(f, p) for f in files for p in f.pages]
            if len(pages_in) != 1:
                raise InputRejected("file", f"{_names(files)} holds {len(pages_in)} pages; a replacement is one "
                                            "page (add the others with add-pages)")
            (scan, scan_page), = pages_in
            with self.work(actor) as work:
                s = work.session
                item, pages = self._lock(s, item_id)
                target = _page_numbered(pages, page)
                self._refuse_running([target], "replace its scan")
                if (target.source_sha256, target.source_page_index) == (scan.sha256, scan_page.page_index):
                    raise InputRejected("file", f"{scan.original_name} is already page {page}'s scan")
                self._store_originals(s, actor, files + packages)
                before = scan_of(target)
                target.source_sha256, target.source_page_index = scan.sha256, scan_page.page_index
                target.source_name = _page_name(scan, scan_page)
                target.text_hint = scan_page.text_hint
                target.zones = _zones_json(zones.get(scan.sha256))
                target.rotation_deg = 0
                ItemEditor._record(work, item, "pages", {f"page {page} scan": [before, scan_of(target)]}, "page_replace")
                self._requeue(work, item, target, "read again: its scan was replaced")
                work.index()
                page_id = target.id
        self._mark_sent(work.accepted_ids(OCR_PAGE))
        return page_id

    # ------------------------------------------------------------ remove
    def remove(self, actor: Actor, item_id: int, page: int) -> int:
        """Take page number ``page`` out of the item: its text, words and derivatives go, and it leaves
        search; its original stays in the store (and in the history). Later pages move up one. Returns
        the removed page's id."""
        require_permission(actor, "edit_item")
        with self.work(actor) as work:
            s = work.session
            item, pages = self._lock(s, item_id)
            target = _page_numbered(pages, page)
            if len(pages) == 1:
                raise InputRejected("page", f"page {page} is the item's only page: delete the item instead")
            self._refuse_running(pages, "remove a page")
            removed = {"page_id": target.id, **scan_of(target)}
            page_id, gone_dir = target.id, self._page_dir(item_id, target.sequence)
            s.delete(target)
            s.flush()
            moves = self._renumber(s, item_id, [p for p in pages if p.id != page_id])
            ItemEditor._record(work, item, "pages", {f"page {page}": [removed, None]}, "page_remove")
            self._discard_dir(gone_dir)
            self._move_files(item_id, moves)
            work.index()
            from search import page_doc_id

            work.unindex([page_doc_id(page_id)])
        self._after(actor, item_id)
        return page_id

    # ------------------------------------------------------------ add
    def add(self, actor: Actor, item_id: int, uploads: list, *, at: int | None = None) -> list[int]:
        """Add the pages of ``uploads`` (files, folders or zips, checked as at ingest) to the item:
        appended, or inserted so that the first new page is number ``at``. They are then read. Returns
        the new pages' ids."""
        require_permission(actor, "edit_item")
        if not uploads:
            raise InputRejected("files", "no files were given")
        with self._expanded(uploads, "files") as (files, packages, zones):
            with self.work(actor) as work:
                s = work.session
                item, pages = self._lock(s, item_id)
                position = len(pages) + 1 if at is None else _check_position(at, len(pages))
                adding, limit = sum(len(f.pages) for f in files), self.settings.limits.max_pages_per_item
                if len(pages) + adding > limit:
                    raise LimitExceeded("files", (
                        f"{adding} more pages would give the item {len(pages) + adding}, more than one item may "
                        f"hold ({limit}, HERITAGE_MAX_PAGES_PER_ITEM)"))
                if position <= len(pages):
                    self._refuse_running(pages, "insert pages")
                self._store_originals(s, actor, files + packages)
                new = [Page(item_id=item_id, sequence=0, label=None, source_sha256=f.sha256,
                            source_page_index=p.page_index, source_name=_page_name(f, p), text_hint=p.text_hint,
                            zones=_zones_json(zones.get(f.sha256)), status=PageStatus.queued)
                       for f in files for p in f.pages]
                order = pages[:position - 1] + new + pages[position - 1:]
                moves = self._renumber(s, item_id, order, new=new)
                added = [{"page": p.sequence, **scan_of(p)} for p in new]
                ItemEditor._record(work, item, "pages", {"pages added": [None, added]}, "page_add")
                for p in new:
                    self._requeue(work, item, p, "added after ingest")
                self._move_files(item_id, moves)
                work.index()
                ids = [p.id for p in new]
        self._mark_sent(work.accepted_ids(OCR_PAGE))
        return ids

    # ------------------------------------------------------------ delete
    def delete_item(self, actor: Actor, item_id: int, reason: str | None = None) -> None:
        """Delete an item (admins only): it leaves the catalogue, search and IIIF at once (404 to all but
        admins); its queued pages are cancelled. Its originals stay in the store, checked by fixity,
        until ``HERITAGE_DELETED_RETENTION_DAYS`` have passed (:func:`library.fixity.purge_expired`)."""
        require_permission(actor, "delete_item")
        text = " ".join((reason or "").split()) or None
        if text and len(text) > self.settings.limits.max_metadata_chars:
            raise InputRejected("reason", f"longer than {self.settings.limits.max_metadata_chars} characters")
        with self.work(actor) as work:
            s = work.session
            item = s.get(Item, item_id, with_for_update=True)
            if item is None or item.purged_at is not None:
                raise NotFound(f"no item {item_id}")
            if item.deleted_at is not None:
                raise Conflict(f"item {item_id} was already deleted on {item.deleted_at:%Y-%m-%d}")
            pages = list(s.scalars(select(Page).where(Page.item_id == item_id).order_by(Page.sequence)))
            now = self.access.clock()
            originals = sorted({p.source_sha256 for p in pages} | ({item.package_sha256} - {None}))
            item.deleted_at, item.deleted_reason = now, text
            item.record_changed_at = now  # OAI-PMH: harvesters see a deleted record
            item.do_not_index = True  # the index drops the item and its pages with the change below
            s.execute(update(Page).where(Page.item_id == item_id, Page.status == PageStatus.queued)
                      .values(status=PageStatus.cancelled, status_reason="the item was deleted", lease_token=None))
            ItemEditor._record(work, item, "delete", {"deleted_at": [None, now.isoformat()],
                                                          "reason": [None, text], "originals_kept": [None, originals]},
                               "delete")
            work.index()
        self._forget_cached_images(item_id)

    # ------------------------------------------------------------ stages
    def _lock(self, s: Session, item_id: int) -> tuple[Item, list[Page]]:
        item = s.get(Item, item_id, with_for_update=True)
        if item is None or item.deleted_at is not None:
            raise NotFound(f"no item {item_id}")
        # the pages locked too: a worker cannot claim one while its number or scan changes
        pages = list(s.scalars(select(Page).where(Page.item_id == item_id).order_by(Page.sequence)
                               .with_for_update()))
        return item, pages

    @staticmethod
    def _refuse_running(pages: list[Page], what: str) -> None:
        running = [p.sequence for p in pages if p.status == PageStatus.running]
        if running:
            raise Conflict(f"page {running[0]} is being read right now: cannot {what} until it is done; "
                           "try again in a moment")

    def _renumber(self, s: Session, item_id: int, order: list[Page], *, new: list[Page] = ()) -> list[Move]:
        """Number ``order`` 1…n (two steps, so the unique (item, sequence) holds throughout); the pages in
        ``new`` are added. Derivative rows follow; returns the folders to move."""
        new_ids = {id(p) for p in new}
        moves: list[Move] = []
        old = [p for p in order if id(p) not in new_ids]
        numbers: dict[int, int] = {}  # old sequence → new, for the pages that stay
        for p in old:
            p.sequence = -p.sequence - 1_000_000
        s.flush()
        for n, p in enumerate(order, 1):
            if id(p) in new_ids:
                p.sequence, p.label = n, str(n)
                s.add(p)
                continue
            before = -p.sequence - 1_000_000
            numbers[before] = n
            p.sequence = n
            if p.label in (None, str(before)):  # a label that was only the number follows it
                p.label = str(n)
            if before != n:
                moves.append(Move(p.id, before, n))
        s.flush()
        for m in moves:
            for d in s.scalars(select(Derivative).where(Derivative.page_id == m.page_id)):
                d.relpath = self.store.page_derivative_relpath(item_id, m.new_sequence, d.kind)
        # monuments' links to a page follow it (a link to a removed page keeps the item, not the page)
        for link in s.scalars(select(MonumentItem).where(MonumentItem.item_id == item_id,
                                                         MonumentItem.page_sequence.is_not(None))):
            link.page_sequence = numbers.get(link.page_sequence)
        return moves

    def _page_dir(self, item_id: int, sequence: int) -> Path:
        return self.store.resolve(self.store.page_derivative_relpath(item_id, sequence, "text")).parent

    def _move_files(self, item_id: int, moves: list[Move]) -> None:
        """Move the derivative folders of renumbered pages (via a staging folder: numbers swap). Done
        last inside the transaction; undone if a move fails."""
        if not moves:
            return
        pages_dir = self._page_dir(item_id, 1).parent
        staging = pages_dir / f".moving-{uuid.uuid4().hex[:8]}"
        staged: list[tuple[Path, Path, Path]] = []  # (from, staged, to)
        try:
            for m in moves:
                src, dst = self._page_dir(item_id, m.old_sequence), self._page_dir(item_id, m.new_sequence)
                if src.is_dir():
                    mid = staging / f"{m.new_sequence:05d}"
                    mid.parent.mkdir(parents=True, exist_ok=True)
                    src.rename(mid)
                    staged.append((src, mid, dst))
            for _src, mid, dst in staged:
                if dst.exists():  # files left by no page (nothing refers to them)
                    shutil.rmtree(dst)
                mid.rename(dst)
        except OSError:
            for src, mid, dst in staged:
                here = mid if mid.exists() else dst
                if here.exists() and not src.exists():
                    here.rename(src)
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._forget_cached_images(item_id)

    def _discard_dir(self, path: Path) -> None:
        if path.is_dir():
            shutil.rmtree(path)

    def _forget_cached_images(self, item_id: int) -> None:
        """Rendered IIIF tiles and sizes of the item are stale once its pages change."""
        from library.discovery.iiif import CACHE_DIR

        self.store.remove_tree(f"{CACHE_DIR}/items/{int(item_id)}")

    def _requeue(self, work, item: Item, page: Page, reason: str) -> None:
        page.status, page.status_reason, page.lease_token, page.queued_at = PageStatus.queued, reason, None, None
        work.session.flush()
        work.send(OCR_PAGE, page.id)
        item.status, item.status_reason, item.finished_at = ItemStatus.processing, None, None

    def _mark_sent(self, page_ids: list[int]) -> None:
        with self.sessions.begin() as s:
            s.execute(update(Page).where(Page.id.in_(page_ids), Page.status == PageStatus.queued)
                      .values(queued_at=utcnow()))

    def _after(self, actor: Actor, item_id: int) -> None:
        """With no page left to read, the item's full text and status follow the change at once."""
        with self.sessions() as s:
            open_pages = s.scalar(select(Page.id).where(Page.item_id == item_id, Page.status.in_(OPEN)).limit(1))
        if open_pages is None:
            self.reader.finish_item(item_id)
            with self.work(actor) as work:
                work.index()
        self._forget_cached_images(item_id)

    def _store_originals(self, s: Session, actor: Actor, files) -> None:
        for f in files:
            self.store.put_original(f.path, f.sha256, f.original_name)
            if s.get(StoredFile, f.sha256) is None:
                s.add(StoredFile(sha256=f.sha256, size_bytes=f.size_bytes, media_type=f.media_type,
                                 original_name=f.original_name, page_count=len(f.pages),
                                 uploaded_by=actor.user.id if actor.user is not None else None))
        s.flush()

    def _expanded(self, uploads, field: str):
        """The uploads checked and expanded as at ingest, in a staging folder removed afterwards."""
        import contextlib

        from library.ingest.service import ItemOutcome

        @contextlib.contextmanager
        def expanded():
            staging = self.settings.work_dir / "staging" / uuid.uuid4().hex
            staging.mkdir(parents=True, exist_ok=True)
            try:
                outcome = ItemOutcome(source=field)
                files, packages, zones = self.ingest._expand(uploads, staging, outcome)
                if outcome.problems:
                    first = outcome.problems[0]
                    raise InputRejected(field, f"{first.source}: {first.problem}")
                if not files:
                    raise InputRejected(field, "no page images or PDF pages found")
                yield files, packages, zones
            finally:
                shutil.rmtree(staging, ignore_errors=True)

        return expanded()


# ---------------------------------------------------------------- checks
def _check_order(order, count: int) -> list[int]:
    try:
        numbers = [int(n) for n in order]
    except (TypeError, ValueError):
        raise InputRejected("order", f"{order!r} is not a list of page numbers") from None
    seen, duplicates = set(), []
    for n in numbers:
        if n in seen:
            duplicates.append(n)
        seen.add(n)
    if duplicates:
        raise InputRejected("order", f"page {duplicates[0]} is named twice; name each of pages 1–{count} once")
    unknown = sorted(n for n in numbers if not 1 <= n <= count)
    if unknown:
        raise InputRejected("order", f"the item has no page {unknown[0]} (it has pages 1–{count})")
    missing = sorted(set(range(1, count + 1)) - seen)
    if missing:
        raise InputRejected("order", f"page {missing[0]} is missing from the order; name each of pages "
                                     f"1–{count} once")
    return numbers


def _check_position(at, count: int) -> int:
    try:
        position = int(at)
    except (TypeError, ValueError):
        raise InputRejected("at", f"{at!r} is not a page number") from None
    if not 1 <= position <= count + 1:
        raise InputRejected("at", f"new pages go at a position from 1 to {count + 1}, not {position}")
    return position


def _page_numbered(pages: list[Page], number) -> Page:
    try:
        n = int(number)
    except (TypeError, ValueError):
        raise InputRejected("page", f"{number!r} is not a page number") from None
    for p in pages:
        if p.sequence == n:
            return p
    raise InputRejected("page", f"the item has no page {n} (it has pages 1–{len(pages)})")


def _names(files) -> str:
    return ", ".join(f.original_name for f in files)


def _page_name(f, p) -> str:
    from library.ingest.service import _page_name as ingest_name

    return ingest_name(f, p)


def _zones_json(zones) -> str | None:
    from library.ingest.service import _zones_json as ingest_zones

    return ingest_zones(zones)


def scans_named(value) -> set[str]:
    """Every ``sha256`` named in a history entry's JSON (the originals a change refers to)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "sha256" and isinstance(v, str):
                found.add(v)
            else:
                found |= scans_named(v)
    elif isinstance(value, list):
        for v in value:
            found |= scans_named(v)
    return found


def history_scans(changes_json: str) -> set[str]:
    try:
        return scans_named(json.loads(changes_json))
    except ValueError:
        return set()
