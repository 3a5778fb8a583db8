"""METS/ALTO import: a package already read elsewhere becomes an item whose
pages are done at once — their images stored, the ALTO saved as their first
machine reading (text, words with boxes and confidences, lines and blocks,
transcription version 1) — and nothing queued for OCR (re-reading is a choice
staff make later). The logical structure (sections, articles) is kept as JSON
beside the item: :func:`logical_structure`.

Recipe for one package: open and check it (every reference, every XML file)
→ inspect each page image → read each ALTO onto its image → check the
metadata → [dry run stops here] → store the originals (images, ALTO, METS)
→ in one unit of work: the item, its pages, words, regions, transcriptions and
derivatives, committed and then indexed.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from library.access import Actor, require_permission
from library.catalogue.page_text import set_page_text
from library.catalogue.item_metadata import ItemMetadata, validate_metadata
from library.catalogue.vocabularies import parse_languages
from library.catalogue.models import (Derivative, Item, ItemStatus, Page, PageStatus, StoredFile, Transcription,
                                      utcnow)
from library.errors import InputRejected, LimitExceeded
from library.ingest.alto_reading import AltoPage, page_layout, read_alto
from library.ingest.mets_package import MetsPackage, PackageFile, open_package
from library.reading.confidence import layout_doubtful
from library.reading.articles import STRUCTURE_FILE  # the logical structure, beside the item in the store
from library.catalogue import page_layout as packed_layout
from library.settings import Limits, Settings
from library.store import FileStore, sha256_of
from library.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

INGEST_ACTION = "upload_scans"  # the same permission as any ingest
ENGINE_LABEL_CHARS = 100  # pages.ocr_engine
XML_MEDIA_TYPE = "application/xml"
# zlib level of the normalised page PNG: 1 writes a 4588×7158 grey page ~3× faster than 6 for ~13% more bytes
NORMALISED_PNG_COMPRESSION = 1


@dataclass
class PreparedPage:
    order: int
    label: str
    image: PackageFile
    image_sha256: str
    image_media_type: str
    image_bytes: int
    width_px: int
    height_px: int
    alto: PackageFile
    engine: str  # pages.ocr_engine: "alto import (ABBYY FineReader 8.1)"
    languages: tuple[str, ...]  # the ALTO's language codes, most used first
    regions: tuple[tuple[str, tuple[int, int, int, int], bool], ...]  # the ALTO's text blocks: ID, box, has words
    text: str
    blocks: list  # the layout's blocks (page_layout numbers those that hold words)
    layout_blob: bytes | None  # the words, lines and blocks as pages.layout stores them
    words: int
    doubtful_words: int  # under the low-confidence threshold
    mean_confidence: float | None


@dataclass(frozen=True)
class PackageChecks:
    """What checking a package needs to know of the settings (sent to the checking processes)."""

    limits: Limits
    default_languages: str
    low_confidence: float
    collection: str | None

    @classmethod
    def of(cls, settings: Settings, collection: str | None) -> "PackageChecks":
        return cls(settings.limits, settings.default_languages, settings.low_confidence, collection)


@dataclass
class CheckedPackage:
    """A package read and checked through (nothing stored yet): its pages prepared, its metadata."""

    package: MetsPackage
    pages: list[PreparedPage]
    meta: ItemMetadata


@dataclass
class MetsImportOutcome:
    source: str
    status: str = "rejected"  # created | duplicate | valid (dry run) | rejected
    title: str | None = None
    item_id: int | None = None
    duplicate_of: int | None = None
    pages: int = 0
    words: int = 0
    articles: int = 0
    seconds: float = 0.0
    problems: list[InputRejected] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_ingest_report(self, *, dry_run: bool):
        """The outcome as the ingest's :class:`~library.ingest.service.IngestReport` (one item), so a METS
        package given to ``heritage ingest`` reports like any other upload."""
        from library.ingest.service import IngestReport, ItemOutcome

        item = ItemOutcome(source=self.source, title=self.title, status=self.status, item_id=self.item_id,
                           duplicate_of=self.duplicate_of, pages=self.pages, problems=list(self.problems))
        return IngestReport(dry_run=dry_run, items=[item])

    def as_dict(self) -> dict:
        return {"source": self.source, "status": self.status, "title": self.title, "item_id": self.item_id,
                "duplicate_of": self.duplicate_of, "pages": self.pages, "words": self.words,
                "articles": self.articles, "seconds": round(self.seconds, 2),
                "problems": [{"source": p.source, "problem": p.problem} for p in self.problems]}


class MetsImporter:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], store: FileStore, work: UnitOfWork):
        self.settings = settings
        self.sessions = sessions
        self.store = store
        self.work = work
        self._pool = None  # the checking processes of import_batch(jobs=N), kept between batches
        self._pool_jobs = 0

    def close(self) -> None:
        """Stop the checking processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool, self._pool_jobs = None, 0

    @classmethod
    def of(cls, platform) -> "MetsImporter":
        """The importer of a :class:`library.container.Platform`."""
        return cls(platform.settings, platform.sessions, platform.store, platform.work)

    # ------------------------------------------------------------------ API
    def import_package(self, path: Path, *, actor: Actor, dry_run: bool = False, collection: str | None = None,
                       progress: Callable[[str], None] | None = None, label: str | None = None) -> MetsImportOutcome:
        """Import the METS package at ``path`` (folder, zip, or its METS file) as one item for ``actor``.

        Problems are returned in the outcome (status ``rejected``), each naming its file; nothing is stored
        then. ``dry_run`` checks everything (every image and ALTO read) and stores nothing. ``label``
        names the package in the report (an upload's own name; the path's name by default)."""
        return self._import(path, actor=actor, dry_run=dry_run, collection=collection, progress=progress, label=label)

    def _import(self, path: Path, *, actor: Actor, dry_run: bool, collection: str | None,
                progress: Callable[[str], None] | None, label: str | None = None,
                checking=None, staging: Path | None = None) -> MetsImportOutcome:
        """:meth:`import_package`; ``checking`` is a future of :func:`check_package` already running
        elsewhere on ``path`` with ``staging`` (``import_batch`` with ``jobs``); the package is checked
        here otherwise."""
        require_permission(actor, INGEST_ACTION)
        started = time.monotonic()
        path = Path(path)
        outcome = MetsImportOutcome(source=label or path.name)
        if staging is None:
            staging = self._staging()
        try:
            if checking is not None:
                checked = checking.result()
            else:
                checked = check_package(path, staging, PackageChecks.of(self.settings, collection), progress)
            package, pages, meta = checked.package, checked.pages, checked.meta
            outcome.articles = len(package.articles())
            outcome.pages, outcome.words = len(pages), sum(p.words for p in pages)
            outcome.title = meta.title
            outcome.duplicate_of = self._identical_item(pages)
            if outcome.duplicate_of is not None:
                outcome.status, outcome.item_id = "duplicate", outcome.duplicate_of
                return outcome
            if dry_run:
                outcome.status = "valid"
                return outcome
            if meta.collection:
                with self.sessions() as s:
                    self._collection(s, meta.collection, check_only=True)
            if progress:
                progress(f"storing {outcome.source}")
            originals = self._store_originals(path, package, pages)
            outcome.item_id = self._create_item(meta, package, pages, originals, actor)
            outcome.status = "created"
        except InputRejected as exc:
            outcome.problems.append(exc)
            outcome.status = "rejected"
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            outcome.seconds = time.monotonic() - started
        return outcome

    def _staging(self) -> Path:
        staging = self.settings.work_dir / "staging" / f"mets-{uuid.uuid4().hex}"
        staging.mkdir(parents=True, exist_ok=True)
        return staging

    def import_batch(self, packages, *, actor: Actor, dry_run: bool = False, collection: str | None = None,
                     progress: Callable[[str], None] | None = None,
                     done: Callable[[MetsImportOutcome], None] | None = None, jobs: int = 1) -> list[MetsImportOutcome]:
        """Import many packages (paths, or :class:`library.ingest.mets_batch.BatchPackage` entries), one
        item each, in order: a package with problems is reported in its outcome and the others still go in.
        ``done`` is told each outcome as it is known (a progress bar advances on it).

        ``jobs`` > 1: the packages are read and checked (images inspected, ALTO read, layouts packed — two
        thirds of an import's time) by that many processes ahead of this one, which stores them one after
        the other in the same order, with the same outcomes; this process's ``progress`` then hears of
        packages, not pages."""
        from library.ingest.mets_batch import BatchPackage

        require_permission(actor, INGEST_ACTION)
        entries = [e if isinstance(e, BatchPackage) else BatchPackage(Path(e).name, Path(e)) for e in packages]
        checks = PackageChecks.of(self.settings, collection)
        outcomes = []
        ahead: dict[int, tuple] = {}  # entry number → (future, staging folder) of the packages being checked
        pool = self._checking_pool(jobs) if jobs > 1 and len(entries) > 1 else None
        broken = False

        def start(upto: int) -> None:
            for n in range(len(outcomes), min(upto, len(entries))):
                if n not in ahead and entries[n].problem is None:
                    staging = self._staging()
                    try:
                        ahead[n] = (pool.submit(check_package, entries[n].path, staging, checks), staging)
                    except BaseException:  # the pool is broken
                        shutil.rmtree(staging, ignore_errors=True)
                        raise

        try:
            with self.work.indexer.batched():  # search is told every few seconds, not once per item
                for n, entry in enumerate(entries):
                    if entry.problem is not None:
                        outcome = MetsImportOutcome(source=entry.label, problems=[entry.problem])
                    else:
                        checking, staging = None, None
                        if pool is not None:
                            start(n + 2 * jobs)  # enough ahead to keep every process busy
                            checking, staging = ahead.pop(n)
                        outcome = self._import(entry.path, actor=actor, dry_run=dry_run, collection=collection,
                                               progress=progress, checking=checking, staging=staging)
                        outcome.source = entry.label
                    outcomes.append(outcome)
                    if done:
                        done(outcome)
        except BaseException as exc:
            from concurrent.futures.process import BrokenProcessPool

            broken = isinstance(exc, BrokenProcessPool)  # a checking process died (killed, out of memory)
            raise
        finally:
            for future, _ in ahead.values():  # stopped early: what was checked ahead is dropped
                future.cancel()
            for future, staging in ahead.values():
                with contextlib.suppress(BaseException):
                    future.exception()  # let it finish before its staging folder goes
                shutil.rmtree(staging, ignore_errors=True)
            if broken or (pool is not None and ahead):
                self.close()
        return outcomes

    def _checking_pool(self, jobs: int):
        """``jobs`` checking processes, started once and kept for the next batches."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if self._pool is not None and self._pool_jobs != jobs:
            self.close()
        if self._pool is None:
            # forkserver: the workers inherit neither this process's database connections nor its threads
            self._pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("forkserver"))
            self._pool_jobs = jobs
        return self._pool

    def logical_structure(self, item_id: int) -> dict | None:
        """The item's logical structure as imported (see ``MetsPackage.structure``), or None."""
        return logical_structure(self.store, item_id)

    def divisions(self, item_id: int) -> list[dict]:
        """The item's sections and articles as a METS export writes them
        (:func:`library.ingest.mets_structure.item_divisions`); ``[]`` when it has no structure."""
        from library.ingest.mets_structure import item_divisions

        return item_divisions(self.logical_structure(item_id))

    def contents(self, item_id: int) -> list:
        """The item's table of contents (:class:`library.ingest.mets_structure.ContentsEntry` list)."""
        from library.ingest.mets_structure import table_of_contents

        return table_of_contents(self.logical_structure(item_id))

    def contents_source(self, item_id: int) -> str | None:
        """Who made the item's table of contents: ``"mets"`` (imported with the item), ``"layout"`` (the
        articles the layout analysis of its read pages found, :mod:`library.reading.articles`) or None."""
        from library.reading.articles import SOURCE

        structure = self.logical_structure(item_id)
        if not structure:
            return None
        return SOURCE if structure.get("source") == SOURCE else "mets"

    # ------------------------------------------------------------- the stages
    def _identical_item(self, pages: list[PreparedPage]) -> int | None:
        """An existing (not deleted) item made of exactly these page images, in this order."""
        from library.catalogue.duplicates import identical_item

        with self.sessions() as s:
            return identical_item(s, [(p.image_sha256, 0) for p in pages])

    def _store_originals(self, path: Path, package: MetsPackage, pages: list[PreparedPage]) -> list[tuple]:
        """Copy the images, ALTO files and the METS (or the zip as given) into the store under their sha256;
        ``(sha256, size, media type, name, page count)`` of each."""
        originals = []
        for p in pages:
            self.store.put_original(p.image.path, p.image_sha256, p.image.name)
            originals.append((p.image_sha256, p.image_bytes, p.image_media_type, p.image.name, 1))
        xml_files = [p.alto for p in pages] + [package.mets]
        for f in xml_files:
            digest = sha256_of(f.path)
            self.store.put_original(f.path, digest, f.name, compress=True)  # XML: ~10× smaller gzipped
            originals.append((digest, f.path.stat().st_size, XML_MEDIA_TYPE, f.name, 0))
        if path.is_file() and path.suffix.lower() == ".zip":
            digest = sha256_of(path)
            self.store.put_original(path, digest)
            originals.append((digest, path.stat().st_size, "application/zip", path.name, 0))
        return originals

    def _create_item(self, meta, package: MetsPackage, pages: list[PreparedPage], originals, actor: Actor) -> int:
        from library.ingest.service import _item_from_metadata

        user_id = actor.user.id if actor.user is not None else None
        shas = {name: sha for sha, _, _, name, _ in originals}
        item_id = None
        try:
            with self.work(actor) as work:
                s = work.session
                known = set(s.scalars(select(StoredFile.sha256).where(
                    StoredFile.sha256.in_({sha for sha, *_ in originals}))))  # one query for the package
                for sha, size, media_type, name, count in originals:
                    if sha not in known:
                        known.add(sha)  # a file sent twice in one package is one row
                        s.add(StoredFile(sha256=sha, size_bytes=size, media_type=media_type, original_name=name,
                                         page_count=count, uploaded_by=user_id))
                s.flush()
                item = _item_from_metadata(meta)
                item.collection = self._collection(s, meta.collection)
                item.created_by = user_id
                item.package_sha256 = shas.get(package.label) or shas.get(package.mets.name)
                item.status, item.finished_at = ItemStatus.done, utcnow()
                item.index_pending = True
                s.add(item)
                s.flush()
                item_id = item.id
                self._add_pages(s, item, pages)
                self._write_item_files(item_id, package, pages)
                work.audit("ingest", record_id=item_id,
                           detail={"title": item.title, "pages": len(pages), "format": "METS/ALTO",
                                   "package": package.label, "files": [n for _, _, _, n, _ in originals][:50]})
                work.index()
        except BaseException:
            if item_id is not None:  # the transaction rolled back: no derivative may outlive it
                self.store.remove_tree(f"derivatives/items/{int(item_id)}")
            raise
        return item_id

    def _add_pages(self, s: Session, item: Item, pages: list[PreparedPage]) -> None:
        """The package's pages, each with its first version (the ALTO's text) and its viewer pyramid, written
        in a few statements of many rows (one flush for the pages and their derivatives, the versions at
        commit) rather than two round trips a page; each page's text is set before its row is written."""
        viewers: dict[str, object] = {}  # an original's viewer pyramid, found or made in this package
        rows, firsts = [], []
        for p in pages:
            page = Page(item_id=item.id, sequence=p.order, label=p.label, source_sha256=p.image_sha256,
                        source_page_index=0, source_name=p.image.name, status=PageStatus.done,
                        finished_at=utcnow(), width=p.width_px, height=p.height_px,
                        mean_confidence=p.mean_confidence, ocr_engine=p.engine, attempts=0, index_pending=True,
                        needs_review=p.mean_confidence is None or p.mean_confidence < self.settings.review_confidence,
                        low_confidence_words=p.doubtful_words, layout=p.layout_blob,
                        status_reason=f"imported from {p.alto.name}")
            first = Transcription(version=1, source="ocr", text=p.text, engine=p.engine,
                                  mean_confidence=p.mean_confidence, note=f"imported from {p.alto.name} (METS/ALTO)")
            set_page_text(s, page, p.text, first, new_page=True)
            for kind, written in self._page_derivatives(s, item.id, p, viewers):
                page.derivatives.append(Derivative(kind=kind, relpath=written.relpath, sha256=written.sha256,
                                                   size_bytes=written.size_bytes))
            rows.append(page)
            firsts.append(first)
        s.add_all(rows)
        s.flush()
        for page, first in zip(rows, firsts):
            first.page_id = page.id
        s.add_all(firsts)

    def _page_derivatives(self, s: Session, item_id: int, p: PreparedPage, viewers: dict) -> list[tuple]:
        """The viewer pyramid the portal shows (and the normalised PNG with ``settings.keep_normalised``).
        ``viewers``: the pyramids found or made for this package's originals so far (by sha256)."""
        from digitize.images import load_page_image

        rel = lambda kind: self.store.page_derivative_relpath(item_id, p.order, kind)  # noqa: E731
        if not self.settings.keep_normalised:
            made = viewers.get(p.image_sha256)
            if made is None:
                made = s.scalars(_imported_viewer_query(p.image_sha256)).first()
            if made is not None:  # the same original imported before: its pyramid, linked, not made again
                try:
                    linked = self.store.link_file(made.relpath, rel("viewer"), sha256=made.sha256,
                                                  size_bytes=made.size_bytes)
                    viewers[p.image_sha256] = linked
                    return [("viewer", linked)]
                except FileNotFoundError:
                    pass  # gone or changed since (fixity will say): make it
        work_dir = self.settings.work_dir / "images" / f"mets-{uuid.uuid4().hex[:12]}"
        work_dir.mkdir(parents=True, exist_ok=True)
        try:
            image = load_page_image(self.store.original_path(p.image_sha256),
                                    max_pixels=self.settings.limits.max_image_pixels)
            if image.size != (p.width_px, p.height_px):
                raise InputRejected(p.image.name, f"decodes to {image.size[0]}×{image.size[1]} px, not the "
                                                  f"{p.width_px}×{p.height_px} px its header says")
            from library.reading import pyramid

            viewer = pyramid.write_pyramid(image, work_dir / "viewer.tif",
                                           quality=self.settings.viewer_jpeg_quality)
            # thumbnails are IIIF sizes of the pyramid, the text is the catalogue's: neither is kept twice
            written = [("viewer", self.store.write_file(rel("viewer"), viewer))]
            viewers[p.image_sha256] = written[0][1]
            if self.settings.keep_normalised:
                normalised = work_dir / "normalised.png"
                image.save(normalised, compress_level=NORMALISED_PNG_COMPRESSION)
                written.append(("normalised", self.store.write_file(rel("normalised"), normalised)))
            return written
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)

    def _write_item_files(self, item_id: int, package: MetsPackage, pages: list[PreparedPage]) -> None:
        body = "\n\n".join(f"--- {p.order} ---\n{p.text}" for p in pages) + "\n"
        self.store.write_bytes(self.store.item_derivative_relpath(item_id, "text.txt"), body.encode("utf-8"))
        structure = package.structure()
        structure["item_id"] = item_id
        _place_areas(structure, pages)
        self.store.write_bytes(self.store.item_derivative_relpath(item_id, STRUCTURE_FILE),
                               json.dumps(structure, ensure_ascii=False, indent=1).encode("utf-8"))

    def _collection(self, s: Session, name: str | None, *, check_only: bool = False):
        """The collection named ``name`` (made when new), refused when it is full."""
        if not name:
            return None
        from library.catalogue.collections import check_collection_room
        from library.catalogue.models import Collection
        from library.catalogue.naturalsort import slugify

        found = (s.scalars(select(Collection).where(Collection.name == name).order_by(Collection.id)).first()
                 or s.scalars(select(Collection).where(Collection.slug == slugify(name))).first())
        if found is not None:
            check_collection_room(s, found, 1, self.settings.limits.max_items_per_collection)
        elif not check_only:
            found = Collection(slug=slugify(name), name=name)
            s.add(found)
        return found


def _imported_viewer_query(image_sha256: str):
    """The viewer derivative of a page imported (not read again, not turned) from the original
    ``image_sha256``: its pyramid is the original's own pixels, in the frame the ALTO boxes use. The first
    such page in the order of ``ix_pages_source_sha256`` (page id): the search stops at it, where ordering
    by the derivative sorted every page of that original first (at 100k pages made of six shared images,
    17,000 rows a page imported: the import slowed from 44 to 29 pages/s)."""
    return (select(Derivative).join(Page, Page.id == Derivative.page_id)
            .where(Page.source_sha256 == image_sha256, Page.rotation_deg == 0,
                   Page.status_reason.like("imported from %"), Derivative.kind == "viewer")
            .order_by(Page.id).limit(1))


def logical_structure(store: FileStore, item_id: int) -> dict | None:
    """The logical structure stored beside an item (``{"divisions": [{"type", "label", "order", "pages",
    "areas": [{"page", "block"}], "children"}], "pages": [...]}``: imported with it, or ``"source":
    "layout"`` for articles found on its read pages), or None when it has none."""
    path = store.resolve(store.item_derivative_relpath(item_id, STRUCTURE_FILE))
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return _parsed_structure(str(path), st.st_mtime_ns, st.st_size)


# ------------------------------------------------------------------ checking (here or in a checking process)
def check_package(path: Path, staging: Path, checks: PackageChecks,
                  progress: Callable[[str], None] | None = None) -> CheckedPackage:
    """Open the package at ``path`` (a zip extracted into ``staging``), check it through and prepare its
    pages; InputRejected at the first problem. Touches neither the catalogue nor the store."""
    package = open_package(path, staging_dir=staging, limits=checks.limits)
    limit = checks.limits.max_pages_per_item
    if len(package.pages) > limit:
        raise LimitExceeded(package.mets.name, (
            f"{len(package.pages)} pages is more than one item may hold ({limit}, "
            "HERITAGE_MAX_PAGES_PER_ITEM): split the package into volumes or issues"))
    pages = [_prepare_page(p, package, checks, progress) for p in package.pages]
    return CheckedPackage(package, pages, _metadata(package, pages, checks))


def _prepare_page(page, package: MetsPackage, checks: PackageChecks, progress) -> PreparedPage:
    from library.ingest.scan_files import inspect_file

    if progress:
        progress(f"checking page {page.order} of {package.label}")
    scan = inspect_file(page.image.path, original_name=page.image.name, limits=checks.limits)
    if len(scan.pages) != 1:
        raise InputRejected(page.image.name, f"a page image must hold one page, not {len(scan.pages)}")
    ref = scan.pages[0]
    dpi = ref.dpi[0] if ref.dpi else None
    alto = read_alto(page.alto.path, label=page.alto.name, image_size_px=(ref.width, ref.height), image_dpi=dpi)
    if page.alto_page_id and alto.page_id and page.alto_page_id != alto.page_id:
        raise InputRejected(page.alto.name, f"the METS points to ALTO page {page.alto_page_id!r} but the file "
                                            f"holds page {alto.page_id!r}")
    text, layout, mean = page_layout(alto)
    if len(layout["words"]) > checks.limits.max_words_per_page:
        raise LimitExceeded(page.alto.name, (
            f"{len(layout['words'])} words on one page is more than a page may hold "
            f"({checks.limits.max_words_per_page}, HERITAGE_MAX_WORDS_PER_PAGE)"))
    empty = not (layout["words"] or layout["lines"] or layout["blocks"])
    return PreparedPage(order=page.order, label=page.label, image=page.image, image_sha256=scan.sha256,
                        image_media_type=scan.media_type, image_bytes=scan.size_bytes, width_px=ref.width,
                        height_px=ref.height, alto=page.alto, engine=_engine_label(alto), languages=alto.languages,
                        regions=tuple((b.block_id, (b.x, b.y, b.w, b.h), any(ln.words for ln in b.lines))
                                      for b in alto.blocks), text=text,
                        blocks=layout["blocks"], layout_blob=None if empty else packed_layout.encode(layout, text),
                        words=len(layout["words"]), doubtful_words=layout_doubtful(layout, checks.low_confidence),
                        mean_confidence=mean)


def _metadata(package: MetsPackage, pages: list[PreparedPage], checks: PackageChecks) -> ItemMetadata:
    d = package.description
    raw = {"title": d.title or package.label, "creator": d.creator, "publisher": d.publisher, "date": d.date,
           "identifier": d.identifier, "serial_title": d.serial_title, "issue_date": d.issue_date,
           "issue_number": d.issue_number, "type": d.item_type, "collection": checks.collection,
           "subject": "; ".join(d.subjects), "rights": d.rights, "description": d.abstract,
           "language": _languages(d.languages or _alto_languages(pages))}
    raw = {k: v for k, v in raw.items() if v}
    meta, problems = validate_metadata(raw, source=package.mets.name, limits=checks.limits,
                                       default_languages=checks.default_languages)
    if problems:
        raise problems[0]
    return meta


@functools.lru_cache(maxsize=64)
def _parsed_structure(path: str, mtime_ns: int, size: int) -> dict:
    """The structure file parsed once per version of it (a 1,000-page book's is ~70 KB of JSON, read on
    every view of its item page); shared by every caller: read it, never change it."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _place_areas(structure: dict, pages: list[PreparedPage]) -> None:
    """Give every area of the logical structure that names an ALTO text block its box on the page image
    (``box``: [x, y, w, h] px) and its place in the page's text (``chars``: [start, end]), so an article's
    text and outline can be shown without reading the ALTO again."""
    places: dict[tuple[int, str], dict] = {}
    for p in pages:
        numbered = iter(p.blocks)  # page_layout numbers the blocks that hold words, in order
        for block_id, box, has_words in p.regions:
            place = {"box": list(box)}
            if has_words:
                _, _, _, _, _, start, end = next(numbered)
                place["chars"] = [start, end]
            places[(p.order, block_id)] = place

    def visit(division: dict) -> None:
        for area in division["areas"]:
            area.update(places.get((area["page"], area["block"]), {}))
        for child in division["children"]:
            visit(child)

    for top in structure["divisions"]:
        visit(top)


def _engine_label(alto: AltoPage) -> str:
    vendor = alto.software or "unknown software"
    return f"alto import ({vendor})"[:ENGINE_LABEL_CHARS]


def _languages(codes) -> str | None:
    """Tesseract's language string for the codes a METS or ALTO gives, leaving out those it has no name for."""
    known = []
    for code in codes:
        try:
            known.append(parse_languages(code))
        except ValueError:
            log.info("language %r of a METS package is not known here; left out", code)
    return "+".join(dict.fromkeys(known)) or None


def _alto_languages(pages: list[PreparedPage]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(code for p in pages for code in p.languages))
