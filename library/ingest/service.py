"""Ingest: the one use case behind ``heritage ingest``, the JSON API and the
portal's upload form.

Recipe for one item: validate the metadata → expand each upload (file, folder,
zip) into page files in a staging folder → inspect every file → recognise an
identical upload → store the originals once under their sha256 → create the
Item and Page rows and commit → only then enqueue one OCR task per page.

Problems never stop a batch: each one names its file (or sheet row) and what is
wrong, the item it belongs to is not created, and the other items go on.
``dry_run`` runs every check and stores nothing.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from library.catalogue.item_metadata import ItemMetadata, validate_metadata
from library.catalogue.metadata_sheets import read_metadata_sheet
from library.ingest.scan_types import ScanFile
from library.ingest.uploads import expand_upload
from library.ingest.zone_files import read_zone_file
from library.access import Actor, require_permission
from library.errors import InputRejected, LimitExceeded
from library.catalogue.models import Collection, Item, ItemStatus, ItemType, Page, PageStatus, StoredFile, utcnow
from library.catalogue.naturalsort import slugify
from library.catalogue.collections import check_collection_room
from library.queue import OCR_PAGE, TaskQueue
from library.settings import Settings
from library.store import FileStore
from library.unit_of_work import UnitOfWork, Work

log = logging.getLogger(__name__)

INGEST_ACTIONS = ("upload_scans", "publish_inscriptions")
INGEST_ACTION = "upload_scans"  # library.access.PERMISSIONS: librarians and admins (and the system)
OCR_OPTION_KEYS = {"psm", "detect_orientation", "deskew", "binarize", "clean_borders", "target_dpi", "stages_off"}


@dataclass(frozen=True)
class Upload:
    """One thing the user handed in: a file, a folder or a zip."""

    path: Path
    name: str | None = None  # the name the user gave it (a browser upload's file name)


@dataclass
class ItemOutcome:
    source: str
    title: str | None = None
    status: str = "rejected"  # created | duplicate | valid (dry run) | rejected
    item_id: int | None = None
    duplicate_of: int | None = None
    pages: int = 0
    recognised_files: list[str] = field(default_factory=list)  # files already in the store
    problems: list[InputRejected] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "title": self.title,
            "status": self.status,
            "item_id": self.item_id,
            "duplicate_of": self.duplicate_of,
            "pages": self.pages,
            "recognised_files": self.recognised_files,
            "problems": [{"source": p.source, "problem": p.problem} for p in self.problems],
        }


@dataclass
class IngestReport:
    dry_run: bool
    items: list[ItemOutcome] = field(default_factory=list)
    problems: list[InputRejected] = field(default_factory=list)  # problems not tied to one item (the sheet itself)

    @property
    def all_problems(self) -> list[InputRejected]:
        out = list(self.problems)
        for o in self.items:
            out.extend(o.problems)
        return out

    @property
    def ok(self) -> bool:
        return not self.all_problems

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "items": [o.as_dict() for o in self.items],
            "problems": [{"source": p.source, "problem": p.problem} for p in self.problems],
        }


class IngestService:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], store: FileStore, queue: TaskQueue,
                 work: UnitOfWork):
        self.settings = settings
        self.sessions = sessions
        self.store = store
        self.queue = queue
        self.work = work  # commit, then tasks: an item's OCR tasks are sent only once its rows are committed

    # ------------------------------------------------------------------ API
    def ingest_item(
        self,
        uploads: list[Upload],
        raw_metadata: dict[str, str] | None = None,
        *,
        actor: Actor,
        dry_run: bool = False,
        ocr_options: dict | None = None,
        progress: Callable[[str], None] | None = None,
        do_not_ocr: bool = False,
        action: str = INGEST_ACTION,
        within: Callable[[Work, int], None] | None = None,
    ) -> IngestReport:
        """Make one item of ``uploads`` (their pages in the order given) for ``actor`` (required: a
        librarian, an admin or the system). ``do_not_ocr``: sensitive material, never read: its pages
        get their images at once and nothing is queued. ``action``: the permission checked, the ingest's
        own or ``publish_inscriptions`` (a curator publishing a stele's face from its model).
        ``within(work, item_id)``: more of the same change, made in the new item's own transaction (a
        published inscription's links): if it raises, nothing of the item is recorded."""
        if action not in INGEST_ACTIONS:
            raise ValueError(f"an ingest is done under one of {', '.join(INGEST_ACTIONS)}, not {action!r}")
        require_permission(actor, action)
        report = IngestReport(dry_run=dry_run)
        source = ", ".join(u.name or u.path.name for u in uploads) or "(nothing)"
        raw = dict(raw_metadata or {})
        if not raw.get("title") and uploads:
            raw["title"] = _title_from_name(uploads[0].name or uploads[0].path.name)
        meta, problems = validate_metadata(raw, source=source, limits=self.settings.limits)
        outcome = ItemOutcome(source=source, title=meta.title if meta else raw.get("title"))
        outcome.problems.extend(problems)
        report.items.append(outcome)
        if not uploads:
            outcome.problems.append(InputRejected(source, "no files were given"))
        try:
            options = _check_ocr_options(ocr_options or {}, source)
        except InputRejected as exc:
            outcome.problems.append(exc)
            options = {}
        self._ingest_one(outcome, uploads, meta, options, actor, dry_run, progress, do_not_ocr=do_not_ocr,
                         within=within)
        return report

    def ingest_sheet(
        self,
        sheet_path: Path,
        *,
        actor: Actor,
        dry_run: bool = False,
        ocr_options: dict | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> IngestReport:
        """Batch ingest: one item per row of a CSV metadata sheet; files are relative to the sheet."""
        require_permission(actor, INGEST_ACTION)
        report = IngestReport(dry_run=dry_run)
        sheet = read_metadata_sheet(Path(sheet_path), limits=self.settings.limits)
        report.problems.extend(sheet.problems)
        base = Path(sheet_path).resolve().parent
        try:
            options = _check_ocr_options(ocr_options or {}, Path(sheet_path).name)
        except InputRejected as exc:
            report.problems.append(exc)
            return report
        for row in sheet.rows:
            src = f"{Path(sheet_path).name}, row {row.row_number}"
            outcome = ItemOutcome(source=src, title=row.metadata.title)
            report.items.append(outcome)
            uploads = []
            for rel in row.files:
                path = (base / rel).resolve()
                if base not in path.parents:
                    outcome.problems.append(InputRejected(src, f"file {rel!r} is outside the sheet's folder"))
                elif not path.exists():
                    outcome.problems.append(InputRejected(src, f"file {rel!r} does not exist"))
                else:
                    uploads.append(Upload(path, rel))
            if not row.files:
                outcome.problems.append(InputRejected(src, "no file named in the 'file' column"))
            self._ingest_one(outcome, uploads, row.metadata, options, actor, dry_run, progress)
        return report

    # ------------------------------------------------------------- the recipe
    def _ingest_one(self, outcome, uploads, meta, options, actor, dry_run, progress, *, do_not_ocr=False,
                    within=None) -> None:
        staging = self.settings.work_dir / "staging" / uuid.uuid4().hex
        staging.mkdir(parents=True, exist_ok=True)
        try:
            files, packages, zones = self._expand(uploads, staging, outcome)
            if outcome.problems or meta is None:
                outcome.status = "rejected"
                return
            if not files:
                outcome.problems.append(InputRejected(outcome.source, "no page images or PDF pages found"))
                outcome.status = "rejected"
                return
            problem = _missing_language_model(meta.languages)
            if problem:  # refused now (dry run too), not failed later in the worker
                outcome.problems.append(InputRejected("language", problem))
                outcome.status = "rejected"
                return
            outcome.pages = sum(len(f.pages) for f in files)
            if outcome.pages > self.settings.limits.max_pages_per_item:
                outcome.problems.append(LimitExceeded(outcome.source, (
                    f"{outcome.pages} pages is more than one item may hold ({self.settings.limits.max_pages_per_item}, "
                    "HERITAGE_MAX_PAGES_PER_ITEM): split it into volumes or issues")))
                outcome.status = "rejected"
                return
            with self.sessions() as session:
                known = {
                    sha
                    for (sha,) in session.execute(
                        select(StoredFile.sha256).where(StoredFile.sha256.in_([f.sha256 for f in files]))
                    )
                }
                outcome.recognised_files = [f.original_name for f in files if f.sha256 in known]
                outcome.duplicate_of = self._identical_item(session, files)
            if outcome.duplicate_of is not None:
                outcome.status = "duplicate"
                outcome.item_id = outcome.duplicate_of
                return
            if meta.collection:
                with self.sessions() as session:
                    try:
                        self._check_collection_room(session, meta.collection)
                    except LimitExceeded as exc:
                        outcome.problems.append(exc)
                        outcome.status = "rejected"
                        return
            if dry_run:
                outcome.status = "valid"
                return
            if progress:
                progress(f"storing {outcome.source}")
            for f in files + packages:
                self.store.put_original(f.path, f.sha256, f.original_name)
            try:
                item_id, page_ids = self._create_rows(meta, files, packages, zones, options, actor,
                                                      do_not_ocr=do_not_ocr, within=within)
            except LimitExceeded as exc:  # the collection filled up meanwhile: nothing was recorded
                outcome.problems.append(exc)
                outcome.status = "rejected"
                return
            outcome.item_id = item_id
            outcome.status = "created"
            if do_not_ocr:
                self._images_only(item_id, page_ids)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _expand(self, uploads, staging, outcome):
        files: list[ScanFile] = []
        packages: list[ScanFile] = []
        zones_by_sha: dict[str, tuple] = {}
        for n, up in enumerate(uploads):
            sub = staging / f"{n:04d}"
            sub.mkdir()
            try:
                exp = expand_upload(up.path, staging_dir=sub, limits=self.settings.limits, original_name=up.name)
            except InputRejected as exc:
                outcome.problems.append(exc)
                continue
            outcome.problems.extend(exp.problems)
            zone_files = {z.original_name: z.path for z in exp.zone_files}
            if up.path.is_file() and up.path.with_suffix(".uzn").is_file() and exp.files:
                zone_files[_stem(exp.files[0].original_name) + ".uzn"] = up.path.with_suffix(".uzn")
            for f in exp.files:
                zpath = zone_files.pop(_stem(f.original_name) + ".uzn", None)
                if zpath is not None:
                    if len(f.pages) != 1:
                        outcome.problems.append(InputRejected(f.original_name, "zone files apply to single-page images only"))
                        continue
                    try:
                        zones = read_zone_file(zpath, label=_stem(f.original_name) + ".uzn",
                                               width=f.pages[0].width, height=f.pages[0].height)
                    except InputRejected as exc:
                        outcome.problems.append(exc)
                        continue
                    zones_by_sha[f.sha256] = zones
            for orphan in zone_files:
                outcome.problems.append(InputRejected(orphan, "zone file without a page image of the same name"))
            files.extend(exp.files)
            package = getattr(exp, "package", None)
            if package is not None:
                packages.append(package)
        return files, packages, zones_by_sha

    def _identical_item(self, session: Session, files) -> int | None:
        """An existing item whose pages come from exactly these files, in this order."""
        from library.catalogue.duplicates import identical_item

        return identical_item(session, [(f.sha256, p.page_index) for f in files for p in f.pages])

    def _create_rows(self, meta, files, packages, zones, options, actor: Actor, *, do_not_ocr=False,
                     within: Callable[[Work, int], None] | None = None) -> tuple[int, list[int]]:
        """The item's rows committed through the unit of work, with what ``within`` adds to the same
        transaction; its pages' OCR tasks (unless ``do_not_ocr``) are sent after the commit, then marked
        as sent."""
        user_id = actor.user.id if actor.user is not None else None
        for attempt in range(3):
            try:
                with self.work(actor) as work:
                    session = work.session
                    for f in files + packages:
                        if session.get(StoredFile, f.sha256) is None:
                            session.add(StoredFile(
                                sha256=f.sha256, size_bytes=f.size_bytes, media_type=f.media_type,
                                original_name=f.original_name, page_count=len(f.pages),
                                uploaded_by=user_id,
                            ))
                    session.flush()
                    item = _item_from_metadata(meta)
                    item.collection = self._collection(session, meta.collection)
                    item.ocr_options = json.dumps(options, sort_keys=True) if options else None
                    item.created_by = user_id
                    item.package_sha256 = packages[0].sha256 if packages else None
                    item.do_not_ocr = bool(do_not_ocr)
                    seq = 0
                    for f in files:
                        for p in f.pages:
                            seq += 1
                            item.pages.append(Page(
                                sequence=seq, label=str(seq), source_sha256=f.sha256,
                                source_page_index=p.page_index, source_name=_page_name(f, p),
                                text_hint=p.text_hint, zones=_zones_json(zones.get(f.sha256)),
                                status=PageStatus.queued,
                            ))
                    session.add(item)
                    session.flush()
                    item_id, page_ids = item.id, [p.id for p in item.pages]
                    work.audit("ingest", record_id=item_id,
                               detail={"title": item.title, "pages": len(page_ids),
                                       "files": [f.original_name for f in files + packages][:50]})
                    if within is not None:
                        within(work, item_id)
                    if not do_not_ocr:
                        self._send_pages(work, page_ids)
                return item_id, page_ids
            except IntegrityError:
                # two uploads of the same new file at once: the other one stored the row first
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _collection(self, session: Session, name: str | None) -> Collection | None:
        if not name:
            return None
        found = self._find_collection(session, name)
        if found is None:
            found = Collection(slug=slugify(name), name=name)
            session.add(found)
        else:  # checked before the files were stored; again here, where the item is added
            check_collection_room(session, found, 1, self.settings.limits.max_items_per_collection)
        return found

    @staticmethod
    def _find_collection(session: Session, name: str) -> Collection | None:
        # by its name first: staff may have renamed it, or made a second one whose slug took a suffix
        return (session.scalars(select(Collection).where(Collection.name == name).order_by(Collection.id)).first()
                or session.scalars(select(Collection).where(Collection.slug == slugify(name))).first())

    def _check_collection_room(self, session: Session, name: str) -> None:
        found = self._find_collection(session, name)
        if found is not None:
            check_collection_room(session, found, 1, self.settings.limits.max_items_per_collection)

    def _images_only(self, item_id: int, page_ids: list[int]) -> None:
        """An item marked "do not OCR": its pages' images made here, no task queued."""
        from library.reading.ocr_jobs import PageReader

        reader = PageReader(self.settings, self.sessions, self.store, self.queue, self.work)
        for pid in page_ids:
            reader.make_images(pid)
        reader.finish_item(item_id)

    def enqueue_pages(self, page_ids: Iterable[int], *, actor: Actor) -> int:
        """Send one OCR task per queued page (after the unit of work commits) and mark each as sent;
        the number of pages sent. A task the broker did not take is sent again by the sweeper."""
        require_permission(actor, INGEST_ACTION)
        with self.work(actor) as work:
            ids = list(work.session.scalars(select(Page.id).where(Page.id.in_(list(page_ids)),
                                                                  Page.status == PageStatus.queued)))
            self._send_pages(work, ids)
        return len(ids)

    def _send_pages(self, work, page_ids: list[int]) -> None:
        """One OCR task per page, sent once ``work`` has committed; then the pages are marked as sent."""
        for pid in page_ids:
            work.send(OCR_PAGE, pid)
        if page_ids:
            work.then(lambda: self._mark_sent(work.accepted_ids(OCR_PAGE)))

    def _mark_sent(self, page_ids: list[int]) -> None:
        with self.sessions.begin() as session:
            session.execute(update(Page).where(Page.id.in_(page_ids), Page.status == PageStatus.queued)
                            .values(queued_at=utcnow()))


# ---------------------------------------------------------------- helpers
def _item_from_metadata(meta: ItemMetadata) -> Item:
    date_range = meta.date
    issue = meta.issue_date
    return Item(
        title=meta.title, creator=meta.creator, publisher=meta.publisher, languages=meta.languages,
        item_type=ItemType(meta.item_type), subject=meta.subject, identifier=meta.identifier,
        rights=meta.rights, description=meta.description, serial_title=meta.serial_title,
        issue_number=meta.issue_number,
        date_text=date_range.text if date_range else None,
        date_iso=date_range.iso if date_range else None,
        year_start=date_range.year_start if date_range else None,
        year_end=date_range.year_end if date_range else None,
        date_approximate=bool(date_range and date_range.approximate),
        issue_date_text=issue.text if issue else None,
        issue_date=_exact_day(issue),
        status=ItemStatus.processing,
    )


def _exact_day(d) -> date | None:
    if d is None or not d.iso or len(d.iso) != 10:
        return None
    return date.fromisoformat(d.iso)


def _page_name(f, p) -> str:
    if len(f.pages) > 1:
        return f"{f.original_name}#{p.page_index + 1}"
    return f.original_name


def _zones_json(zones) -> str | None:
    return json.dumps([list(z) for z in zones]) if zones else None


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name.rsplit("/", 1)[-1] else name


def _missing_language_model(languages: str) -> str | None:
    """Why ``languages`` ("vie+jpn") cannot be read here, naming the models that are installed (staff
    see this; the public item page never lists the server's models), or None when every model is there."""
    from digitize import han_page, tesseract
    from digitize.errors import EngineMissing

    try:
        wanted = tesseract.split_languages(languages)
        if han_page.LANGUAGE in wanted:  # Hán script: the second engine
            han_page.check_engine()
            wanted = tuple(name for name in wanted if name != han_page.LANGUAGE)
        installed = tesseract.available_languages() if wanted else ()
        missing = [name for name in wanted if name not in installed]
    except EngineMissing as exc:
        return str(exc)
    if not missing:
        return None
    usable = ", ".join(name for name in installed if name != "osd")
    return (f"no OCR model for {', '.join(missing)} is installed on this server; "
            f"installed: {usable}")


def _check_ocr_options(options: dict, source: str) -> dict:
    unknown = set(options) - OCR_OPTION_KEYS
    if unknown:
        raise InputRejected(source, f"unknown OCR option(s) {sorted(unknown)}; allowed: {sorted(OCR_OPTION_KEYS)}")
    out = {}
    for key, value in options.items():
        if key in ("psm", "target_dpi"):
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise InputRejected(source, f"OCR option {key} must be a whole number, not {value!r}") from None
            if key == "psm" and not 1 <= value <= 13:
                raise InputRejected(source, f"page segmentation mode {value} is not between 1 and 13")
            if key == "target_dpi" and not 70 <= value <= 1200:
                raise InputRejected(source, f"target dpi {value} is not between 70 and 1200")
        elif key == "stages_off":
            from digitize.pipeline import OPTIONAL_STAGES  # the engine's own list of stages that may be skipped

            names = value.replace(",", " ").split() if isinstance(value, str) else list(value or ())
            unknown_stages = sorted(set(map(str, names)) - set(OPTIONAL_STAGES))
            if unknown_stages:
                raise InputRejected(source, f"unknown OCR stage(s) {unknown_stages} to skip; "
                                            f"stages that may be skipped: {', '.join(OPTIONAL_STAGES)}")
            value = sorted(set(map(str, names)))
        elif key == "binarize" and (value is None or str(value).lower() in ("", "auto")):
            value = None  # decided per page
        else:
            value = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
        out[key] = value
    return out


def _title_from_name(name: str) -> str:
    stem = Path(name.rstrip("/")).name
    stem = re.sub(r"\.(zip|pdf|tiff?|jpe?g|png|jp2|j2k)$", "", stem, flags=re.I)
    return unicodedata.normalize("NFC", stem.replace("_", " ").strip()) or "Untitled"


