"""Exporting a read item: a searchable PDF, its whole text, a zip of ALTO files, a METS package
(:mod:`library.discovery.mets`: the originals, each page's ALTO, the record and the structure maps).

Every export is made from the page's CURRENT text: the words and lines in the
catalogue, which a manual correction replaces (and a later machine reading
replaces only once staff accept it). The files the OCR task wrote at reading
time (``page.alto.xml``, ``text.txt``) are not used: they still hold the
machine's reading after a correction.

An export is made once and kept in the store as a derivative of the item::

    derivatives/items/<item>/export-<key>.pdf | .txt | -alto.zip | -mets.zip

``key`` is a digest of what the file is made from: the item's title, author
and languages, and each page's id, number, label, text revision (bumped by
every correction) and image checksum. A correction therefore gives a new key
and the next export is made afresh; the older file of the same kind is then
removed. Concurrent requests for the same missing export wait on a lock
instead of each building it.

Only a finished item is exported (every page read): a partial PDF would look
complete to whoever downloads it. :class:`ItemNotReady` says how far the
reading has got, or which pages failed.
"""

from __future__ import annotations

import dataclasses
import fcntl
import gzip
import hashlib
import json
import shutil
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from library.errors import Conflict, HeritageError, NotFound, StoreCorrupted
from library.discovery.iiif import RenderCache, identifier_of
from library.catalogue.models import Derivative, Item, ItemStatus, Page, PageStatus
from library.catalogue.page_layout import stored
from library.settings import Settings
from library.store import FileStore

FORMAT_VERSION = 1  # bump when the content of an export changes for the same catalogue state
KINDS = ("pdf", "txt", "alto", "mets")
MEDIA_TYPES = {"pdf": "application/pdf", "txt": "text/plain", "alto": "application/zip",
               "mets": "application/zip"}  # the text is UTF-8
SUFFIXES = {"pdf": ".pdf", "txt": ".txt", "alto": "-alto.zip", "mets": "-mets.zip"}
BCP47 = {"vie": "vi", "eng": "en", "fra": "fr", "deu": "de", "chi_tra": "zh-Hant", "chi_sim": "zh-Hans", "lzh": "lzh"}
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the same pages make the same zip
PAGE_HEADER = "--- {sequence} ---"  # between pages of the text export, as in the item's text.txt

Progress = Callable[[int, int], None]  # (pages done, pages in all)


EXPORTS_CACHE_DIR = "derivatives/exports-cache"  # the index of the kept exports (library.discovery.iiif.RenderCache)

class ItemNotReady(Conflict):
    """The item cannot be exported yet: pages are still being read, or some were not read.

    ``done`` and ``total`` count its pages; ``failed`` lists the numbers of
    pages that could not be read and ``cancelled`` those taken out of the
    queue before they were read (both empty while the reading goes on).
    """

    def __init__(self, item_id: int, *, done: int, total: int, failed: list[int] = (),
                 cancelled: list[int] = (), reasons: list[str] = (), message: str | None = None):
        self.item_id, self.done, self.total = item_id, done, total
        self.failed, self.cancelled = list(failed), list(cancelled)
        if self.failed:
            shown = "; ".join(f"page {n}: {r}" for n, r in zip(self.failed[:3], reasons[:3]))
            message = (f"item {item_id} cannot be exported: {len(self.failed)} of its {total} pages could not be "
                       f"read ({shown}); retry them first")
        elif self.cancelled:
            message = (f"item {item_id} cannot be exported: {len(self.cancelled)} of its {total} pages were "
                       "cancelled before they were read; retry them first")
        elif message is None:
            message = (f"item {item_id} is still being read ({done} of {total} pages done); "
                       "it can be exported once every page is read")
        super().__init__(message)


class ExportFailed(HeritageError):
    """The export file could not be written (a full disk, an unreadable page image)."""


@dataclass(frozen=True)
class ExportFile:
    path: Path  # in the store; read it, never change it
    filename: str  # the name to offer for download
    media_type: str
    etag: str
    size_bytes: int
    from_cache: bool


@dataclass(frozen=True)
class _PageRef:
    page_id: int
    sequence: int
    label: str | None
    revision: int
    image_sha256: str | None
    corrected: bool
    engine: str | None
    width: int | None
    height: int | None


@dataclass(frozen=True)
class _Snapshot:
    item_id: int
    title: str
    creator: str | None
    subject: str | None
    languages: str
    pages: tuple[_PageRef, ...]

    def key(self, kind: str, options: dict) -> str:
        basis = {
            "format": FORMAT_VERSION, "kind": kind, "options": options,
            "item": [self.item_id, self.title, self.creator, self.subject, self.languages],
            "pages": [[p.page_id, p.sequence, p.label, p.revision, p.image_sha256] for p in self.pages],
        }
        return hashlib.sha256(json.dumps(basis, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:24]


class ExportService:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], store: FileStore, *,
                 jpeg_quality: int = 85):
        self.settings = settings
        self.sessions = sessions
        self.store = store
        self.pdf_options = {"jpeg_quality": jpeg_quality}

    @property
    def cache(self) -> RenderCache:
        """Exports are kept within ``settings.exports_cache_bytes``, least recently used out first, made
        again on demand (an index beside the IIIF cache's, in the same form; made at the first export)."""
        return RenderCache.of(self.store, self.settings.exports_cache_bytes, folder=EXPORTS_CACHE_DIR)

    def export(self, item_id: int, kind: str, *, progress: Progress | None = None) -> ExportFile:
        """The item's export of ``kind`` ("pdf", "txt" or "alto"), made now or taken from the store.

        Raises :class:`~library.errors.NotFound` for an unknown item,
        :class:`ItemNotReady` while pages are being read or after some failed.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        snapshot = self._snapshot(item_id)
        key = snapshot.key(kind, self.pdf_options if kind == "pdf" else self._mets_basis(item_id) if kind == "mets" else {})
        relpath = self.store.item_derivative_relpath(item_id, f"export-{key}{SUFFIXES[kind]}")
        path = self.store.resolve(relpath)
        if path.is_file():
            self.cache.touch(relpath)
            return self._file(snapshot, kind, key, path, from_cache=True)
        locks = self.settings.work_dir / "exports"
        locks.mkdir(parents=True, exist_ok=True)
        with _locked(locks / f"item-{item_id}-{kind}.lock"):
            if path.is_file():  # made by whoever held the lock before us
                return self._file(snapshot, kind, key, path, from_cache=True)
            work = Path(tempfile.mkdtemp(prefix=f"item-{item_id}-{kind}-", dir=locks))
            try:
                made = work / path.name
                {"pdf": self._write_pdf, "txt": self._write_text, "alto": self._write_alto,
                 "mets": self._write_mets}[kind](
                    snapshot, made, progress)
                written = self.store.write_file(relpath, made)
            except OSError as exc:
                raise ExportFailed(f"the {kind} export of item {item_id} could not be written: {exc}") from exc
            finally:
                shutil.rmtree(work, ignore_errors=True)
            self._remove_older(item_id, kind, keep=path)
            self.cache.record(relpath, written.size_bytes)  # the least recently used exports go past the bound
        return self._file(snapshot, kind, key, path, from_cache=False)

    # ------------------------------------------------------------------ what is exported
    def _snapshot(self, item_id: int) -> _Snapshot:
        with self.sessions() as s:
            item = s.get(Item, item_id)
            if item is None:
                raise NotFound(f"no item {item_id}")
            pages = s.execute(
                select(Page.id, Page.sequence, Page.label, Page.status, Page.status_reason, Page.revision,
                       Page.corrected, Page.ocr_engine, Page.width, Page.height)
                .where(Page.item_id == item_id).order_by(Page.sequence)).all()
            images = dict(s.execute(
                select(Derivative.page_id, Derivative.sha256).join(Page, Page.id == Derivative.page_id)
                .where(Page.item_id == item_id, Derivative.kind.in_(("viewer", "normalised")))).all())
            status = item.status
            snapshot = _Snapshot(item_id, item.title, item.creator, item.subject, item.languages or "", tuple(
                _PageRef(p.id, p.sequence, p.label, p.revision, images.get(p.id), p.corrected, p.ocr_engine,
                         p.width, p.height) for p in pages))
        if not pages:
            raise NotFound(f"item {item_id} has no pages")
        failed = [p for p in pages if p.status == PageStatus.failed]
        cancelled = [p.sequence for p in pages if p.status.value == "cancelled"]
        done = sum(p.status == PageStatus.done for p in pages)
        if status != ItemStatus.done or done < len(pages):
            raise ItemNotReady(item_id, done=done, total=len(pages), failed=[p.sequence for p in failed],
                               cancelled=cancelled, reasons=[p.status_reason or "no reason recorded" for p in failed])
        return snapshot

    def _page_words(self, s: Session, item_id: int, page: _PageRef) -> list:
        """The page's current words as the engine's :class:`digitize.reading.Word`, in reading order."""
        from digitize.reading import Word as EngineWord

        status = s.scalar(select(Page.status).where(Page.id == page.page_id))
        if status != PageStatus.done:  # a retry started since the snapshot
            raise self._not_ready_now(item_id)
        rows = stored(s, page.page_id).words
        return [EngineWord(w.text, w.char_start, w.char_end, w.x, w.y, w.w, w.h, w.confidence, w.block,
                           w.paragraph, w.line) for w in rows]

    def _image_path(self, snapshot: _Snapshot, page: _PageRef) -> Path:
        from library.discovery.iiif import viewer_image_path

        path = viewer_image_path(self.store, snapshot.item_id, page.sequence)  # the pyramid's full level
        if path is None:
            raise StoreCorrupted(f"the page image of page {page.sequence} of item {snapshot.item_id} is missing "
                                 "from the store; run 'heritage fixity' and read the page again")
        return path

    # ------------------------------------------------------------------ the three kinds
    def _write_pdf(self, snapshot: _Snapshot, out: Path, progress: Progress | None) -> None:
        from digitize.errors import ImageUnreadable
        from digitize.pdf import PageSource, PdfMetadata, PdfOptions, PdfWriteFailed, write_searchable_pdf

        total = len(snapshot.pages)

        def pages() -> Iterator[PageSource]:
            for page in snapshot.pages:  # one page's words and image at a time
                with self.sessions() as s:
                    words = self._page_words(s, snapshot.item_id, page)
                yield PageSource(self._image_path(snapshot, page), words, label=page.label)

        metadata = PdfMetadata(title=_nfc(snapshot.title), author=_nfc(snapshot.creator),
                               subject=_nfc(snapshot.subject), language=_bcp47(snapshot.languages))
        try:
            write_searchable_pdf(pages(), out, options=PdfOptions(**self.pdf_options), metadata=metadata,
                                 progress=(lambda n: progress(n, total)) if progress else None)
        except ImageUnreadable as exc:
            raise StoreCorrupted(f"item {snapshot.item_id}: a stored page image cannot be read ({exc}); "
                                 "run 'heritage fixity'") from exc
        except PdfWriteFailed as exc:
            raise ExportFailed(f"the PDF of item {snapshot.item_id} could not be written: {exc}") from exc

    def _write_text(self, snapshot: _Snapshot, out: Path, progress: Progress | None) -> None:
        """The whole item's text, UTF-8 and NFC, each page after a ``--- n ---`` line."""
        total = len(snapshot.pages)
        with open(out, "w", encoding="utf-8", newline="\n") as fh:
            for n, page in enumerate(snapshot.pages, start=1):
                with self.sessions() as s:
                    status, text = s.execute(select(Page.status, Page.text).where(Page.id == page.page_id)).one()
                if status != PageStatus.done:
                    raise self._not_ready_now(snapshot.item_id)
                if n > 1:
                    fh.write("\n")
                fh.write(PAGE_HEADER.format(sequence=page.sequence) + "\n" + _nfc(text or "") + "\n")
                if progress:
                    progress(n, total)

    def _write_alto(self, snapshot: _Snapshot, out: Path, progress: Progress | None) -> None:
        """One ALTO 4 file per page, written from the page's current words and lines."""
        total = len(snapshot.pages)
        folder = _slug(snapshot.title, snapshot.item_id)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for n, page in enumerate(snapshot.pages, start=1):
                xml = self._page_xml(snapshot.item_id, snapshot.languages, page, "alto")
                entry = zipfile.ZipInfo(f"{folder}/page-{page.sequence:05d}.alto.xml", date_time=ZIP_DATE)
                entry.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(entry, xml.encode("utf-8"))
                if progress:
                    progress(n, total)

    # ------------------------------------------------------------------ METS package (library.discovery.mets)
    # the item's logical structure (articles, sections) for the METS export: item id → divisions; set by
    # whoever keeps it (a METS import); none: the item is one division
    logical_structure: Callable[[int], list] | None = None

    def _mets_basis(self, item_id: int) -> dict:
        """What the METS holds beyond the snapshot (the whole record, the originals, the structure): part
        of its key, so an edit of any of them makes the next METS export anew."""
        record, originals = self._mets_record(item_id)
        divisions = self.logical_structure(item_id) if self.logical_structure else []
        return {"record": dataclasses.asdict(record), "originals": originals, "base_url": self.settings.public_url,
                "divisions": [d if isinstance(d, dict) else dataclasses.asdict(d) for d in divisions]}

    def _mets_record(self, item_id: int):
        """The item's export record and, per page in order, ``[sha256, media type, size, name]`` of its original."""
        from datetime import datetime, timezone

        from library.access import effective_level
        from library.catalogue.models import Collection, StoredFile
        from library.discovery.metadata_export import item_record

        with self.sessions() as s:
            item = s.get(Item, item_id)
            if item is None:
                raise NotFound(f"no item {item_id}")
            name = s.scalar(select(Collection.name).where(Collection.id == item.collection_id)) \
                if item.collection_id else None
            rows = s.execute(select(StoredFile.sha256, StoredFile.media_type, StoredFile.size_bytes,
                                    StoredFile.original_name)
                             .join(Page, Page.source_sha256 == StoredFile.sha256)
                             .where(Page.item_id == item_id).order_by(Page.sequence)).all()
            record = item_record(item, collection_name=name, pages=len(rows))
            level = effective_level(item, today=datetime.now(timezone.utc).date())  # as its collection narrows it
            record = dataclasses.replace(record, access_level=level.value)
        return record, [list(r) for r in rows]

    def _write_mets(self, snapshot: _Snapshot, out: Path, progress: Progress | None) -> None:
        """A METS package: ``mets.xml``, ``images/`` the originals as uploaded (checksums checked while
        copied), ``alto/`` each page's current ALTO (corrections included)."""
        from datetime import datetime, timezone

        from library.discovery.mets import (IMAGE_GROUP, TEXT_GROUP, LogicalDivision, PackageFile, PackagePage,
                                            mets_document)

        record, originals = self._mets_record(snapshot.item_id)
        divisions = self.logical_structure(snapshot.item_id) if self.logical_structure else []
        divisions = [d if isinstance(d, LogicalDivision) else LogicalDivision.from_dict(d) for d in divisions]
        total = len(snapshot.pages)
        files: list[PackageFile] = []
        image_ids: dict[str, str] = {}
        pages: list[PackagePage] = []
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for n, (page, (sha, media_type, size, name)) in enumerate(zip(snapshot.pages, originals), start=1):
                if sha not in image_ids:  # a multi-page original is one file shared by its pages
                    image_ids[sha] = f"IMG_{len(image_ids) + 1:05d}"
                    href = f"images/{page.sequence:05d}{Path(name or '').suffix.lower()[:10]}"
                    self._copy_original(zf, sha, href, snapshot.item_id)
                    files.append(PackageFile(image_ids[sha], IMAGE_GROUP, href, media_type, size, sha))
                alto = self._page_xml(snapshot.item_id, snapshot.languages, page, "alto").encode("utf-8")
                alto_id, href = f"ALTO_{page.sequence:05d}", f"alto/page-{page.sequence:05d}.xml"
                entry = zipfile.ZipInfo(href, date_time=ZIP_DATE)
                entry.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(entry, alto)
                files.append(PackageFile(alto_id, TEXT_GROUP, href, "text/xml", len(alto),
                                         hashlib.sha256(alto).hexdigest()))
                pages.append(PackagePage(page.sequence, page.label, image_ids[sha], alto_id))
                if progress:
                    progress(n, total)
            xml = mets_document(record, files, pages, divisions=divisions, created=datetime.now(timezone.utc),
                                base_url=self.settings.public_url)
            entry = zipfile.ZipInfo("mets.xml", date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(entry, xml.encode("utf-8"))

    def _copy_original(self, zf: zipfile.ZipFile, sha256: str, href: str, item_id: int) -> None:
        entry = zipfile.ZipInfo(href, date_time=ZIP_DATE)
        entry.compress_type = zipfile.ZIP_STORED  # scans are compressed already
        digest = hashlib.sha256()
        try:
            with self.store.open_original(sha256) as src, zf.open(entry, "w", force_zip64=True) as dst:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    dst.write(chunk)
        except FileNotFoundError:
            raise StoreCorrupted(f"an original of item {item_id} is missing from the store ({sha256[:12]}…); "
                                 "run 'heritage fixity'") from None
        except (EOFError, gzip.BadGzipFile, zlib.error):  # an original kept gzipped, damaged: the checksum below tells
            digest.update(b"unreadable")
        if digest.hexdigest() != sha256:
            raise StoreCorrupted(f"an original of item {item_id} no longer matches its checksum ({sha256[:12]}…); "
                                 "run 'heritage fixity'")

    def page_document(self, item_id: int, sequence: int, kind: str) -> tuple[str, int]:
        """One read page's current ALTO, hOCR or text (corrections included) and its text revision,
        for the per-page downloads; :class:`~library.errors.NotFound` until the page is read."""
        if kind not in ("alto", "hocr", "text"):
            raise ValueError(f"kind must be alto, hocr or text, not {kind!r}")
        with self.sessions() as s:
            row = s.execute(
                select(Page.id, Page.label, Page.status, Page.revision, Page.corrected, Page.ocr_engine, Page.width,
                       Page.height, Page.text, Item.languages)
                .join(Item, Item.id == Page.item_id).where(Page.item_id == item_id, Page.sequence == sequence)).first()
        if row is None or row.status != PageStatus.done:
            raise NotFound(f"page {sequence} of item {item_id} has no {kind} yet")
        if kind == "text":
            return _nfc(row.text or ""), row.revision
        page = _PageRef(row.id, sequence, row.label, row.revision, None, row.corrected, row.ocr_engine, row.width,
                        row.height)
        return self._page_xml(item_id, row.languages or "", page, kind), row.revision

    def _page_xml(self, item_id: int, languages: str, page: _PageRef, kind: str) -> str:
        from digitize.reading import ParsedText, TextBlock, TextLine, alto_document, hocr_document

        with self.sessions() as s:
            words = self._page_words(s, item_id, page)
            layout = stored(s, page.page_id)
            regions = sorted(layout.blocks + layout.lines, key=lambda r: r.char_start)
            text = s.scalar(select(Page.text).where(Page.id == page.page_id)) or ""
        lines = [TextLine(r.block, r.paragraph, r.line, r.x, r.y, r.w, r.h, r.char_start, r.char_end)
                 for r in regions if r.kind == "line"]
        blocks = [TextBlock(r.block, r.x, r.y, r.w, r.h, r.char_start, r.char_end)
                  for r in regions if r.kind == "block"]
        engine = (page.engine or "tesseract") + ("; corrected by hand" if page.corrected else "")
        parsed = ParsedText(text, words, lines, blocks, None)
        common = dict(width=page.width or 0, height=page.height or 0, image_name=identifier_of(page.page_id),
                      languages=languages or "vie", engine=engine)
        if kind == "hocr":
            return hocr_document(parsed, **common)
        # the layout analysis's kinds and articles, kept with the blocks: ALTO TYPE and TAGREFS
        typed = [_TypedBox(r.x, r.y, r.w, r.h, r.role, r.article) for r in layout.blocks if r.role is not None]
        return alto_document(parsed, **common, page_number=page.sequence, regions=typed)

    # ------------------------------------------------------------------ helpers
    def _not_ready_now(self, item_id: int) -> ItemNotReady:
        try:
            self._snapshot(item_id)
        except ItemNotReady as exc:
            return exc
        return ItemNotReady(item_id, done=0, total=0, message=(
            f"item {item_id} changed while it was being exported (a page was read again); try again"))

    def _file(self, snapshot: _Snapshot, kind: str, key: str, path: Path, *, from_cache: bool) -> ExportFile:
        return ExportFile(path, _slug(snapshot.title, snapshot.item_id) + SUFFIXES[kind], MEDIA_TYPES[kind], key,
                          path.stat().st_size, from_cache)

    def _remove_older(self, item_id: int, kind: str, *, keep: Path) -> None:
        for old in keep.parent.glob(f"export-*{SUFFIXES[kind]}"):
            if old != keep:
                old.unlink(missing_ok=True)  # a download already under way keeps its open file
                self.cache.forget(self.store.item_derivative_relpath(item_id, old.name))


class _TypedBox(NamedTuple):
    """A stored block as :func:`digitize.reading.alto_document` takes a region: its box, kind, article."""

    x: int
    y: int
    w: int
    h: int
    kind: str
    article: int | None


@contextmanager
def _locked(path: Path):
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _nfc(text: str | None) -> str | None:
    return unicodedata.normalize("NFC", text) if text else text


def _bcp47(languages: str) -> str | None:
    first = (languages or "").split("+")[0]
    return BCP47.get(first)


def _slug(title: str, item_id: int, max_chars: int = 60) -> str:
    """A file name from the title, plain ASCII: ``van-mieu-quoc-tu-giam-12``."""
    plain = unicodedata.normalize("NFKD", (title or "").replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).encode("ascii", "ignore").decode().lower()
    words = "".join(c if c.isalnum() else " " for c in plain).split()
    stem = "-".join(words)[:max_chars].strip("-")
    return f"{stem}-{item_id}" if stem else f"item-{item_id}"
