"""Reading pages: the use cases behind the OCR and finishing tasks, the
sweeper, retries and status.

A page moves queued → running → done | failed; staff may cancel queued pages
(queued → cancelled: workers skip them) and retry failed or cancelled ones
(→ queued). Running pages hold a lease
(a random token) and send a heartbeat; a page whose heartbeat stops (its
worker died) is requeued by the sweeper. Results are written to the store
under deterministic paths and to the catalogue in one transaction that
replaces any earlier result, so a retried or duplicated task leaves exactly
one correct result.
"""

from __future__ import annotations

import enum
import json
import logging
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from library import leases
from library.access import Actor, require_permission
from library.reading.articles import write_found_articles
from library.reading.confidence import layout_doubtful
from library.catalogue import page_layout
from library.catalogue.page_text import set_page_text
from library.errors import HeritageError, NotFound, OcrFailed, OcrTimeout, StoreFull
from library.catalogue.models import (
    Derivative,
    Transcription,
    Item,
    ItemStatus,
    Page,
    PageStatus,
    as_utc,
    utcnow,
)
from library.queue import FINISH_ITEM, OCR_PAGE, TaskQueue
from library.settings import Settings
from library.store import FULL_ERRNOS, FileStore
from library.unit_of_work import UnitOfWork

WORKER = Actor.system("worker")  # the OCR workers' own changes: a page read, an item finished
log = logging.getLogger(__name__)

# who may retry or cancel OCR work: library.access.PERMISSIONS (librarians, admins and the system)
RETRY_ACTION, CANCEL_ACTION = "retry_ocr_work", "cancel_ocr_work"


class Outcome(str, enum.Enum):
    done = "done"
    already_done = "already_done"
    busy = "busy"  # another worker holds a live lease on the page
    failed = "failed"
    missing = "missing"
    cancelled = "cancelled"  # staff took the page out of the queue: skip it


@dataclass(frozen=True)
class Claim:
    page_id: int
    token: str
    attempt: int


class PageReader:
    """Staff's changes (:meth:`retry`, :meth:`cancel`) take an explicit :class:`~library.access.Actor` and
    commit through the unit of work; the worker's own steps (:meth:`read`, :meth:`claim`, :meth:`sweep`)
    are the system's and record no one."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], store: FileStore, queue: TaskQueue,
                 work: UnitOfWork):
        self.settings = settings
        self.sessions = sessions
        self.store = store
        self.queue = queue
        self.work = work

    # -------------------------------------------------------------- the task
    def read(self, page_id: int, *, progress: Callable[[str], None] | None = None) -> Outcome:
        """Read one page end to end. Raises transient errors (the caller retries);
        records permanent ones on the page and returns ``Outcome.failed``."""
        claim = self.claim(page_id)
        if isinstance(claim, Outcome):
            return claim
        if self._do_not_ocr(page_id):  # sensitive: its images are made, its text is never read
            outcome = self._images_only(claim)
            self._maybe_finish_item(page_id)
            return outcome
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(claim, stop), daemon=True)
        beat.start()
        work_dir = self.settings.work_dir / "ocr" / f"page-{page_id}-{claim.token[:8]}"
        try:
            try:
                reading = self._run_ocr(page_id, work_dir, progress)
                self._store_result(claim, reading)
            except OSError as exc:  # a work file on a full disk: the page waits for room, it has not failed
                if exc.errno not in FULL_ERRNOS:
                    raise
                raise StoreFull(f"page {page_id}: the data folder's disk is full ({exc.strerror})") from exc
            except Exception as exc:  # libvips says so in its own words
                if type(exc).__name__ == "Error" and "No space left on device" in str(exc):
                    raise StoreFull(f"page {page_id}: the data folder's disk is full (libvips)") from exc
                raise
        except HeritageError as exc:
            if exc.transient:
                self.release(claim, f"will retry: {exc}")
                raise
            self.fail(claim, str(exc))
            return Outcome.failed
        finally:
            stop.set()
            beat.join(timeout=5)
            shutil.rmtree(work_dir, ignore_errors=True)
        self._maybe_finish_item(page_id)
        return Outcome.done

    def claim(self, page_id: int) -> Claim | Outcome:
        now = utcnow()
        stale = now - timedelta(seconds=max(2 * self.settings.heartbeat_s, 5))
        with self.sessions.begin() as s:
            page = s.get(Page, page_id, with_for_update=True)
            if page is None:
                return Outcome.missing
            if page.status == PageStatus.done:
                return Outcome.already_done
            if page.status == PageStatus.cancelled:
                return Outcome.cancelled
            if page.status == PageStatus.running and page.heartbeat_at and as_utc(page.heartbeat_at) > stale:
                return Outcome.busy
            token = leases.new_token()
            # compare-and-set: one claimant wins; nor can a page cancelled meanwhile be claimed
            if not leases.take(s, Page, page_id, seen_token=page.lease_token, seen_status=page.status,
                               values=dict(status=PageStatus.running, lease_token=token, attempts=Page.attempts + 1,
                                           started_at=now, heartbeat_at=now, status_reason=None)):
                return Outcome.busy
            return Claim(page_id, token, page.attempts + 1)

    def release(self, claim: Claim, reason: str) -> None:
        """Give a page back to the queue (a transient failure; the task will retry)."""
        with self.sessions.begin() as s:
            s.execute(
                update(Page).where(Page.id == claim.page_id, Page.lease_token == claim.token)
                .values(status=PageStatus.queued, lease_token=None, status_reason=reason, queued_at=utcnow())
            )

    def fail(self, claim: Claim | int, reason: str) -> None:
        page_id = claim.page_id if isinstance(claim, Claim) else claim
        with self.sessions.begin() as s:
            stmt = update(Page).where(Page.id == page_id, Page.status.not_in([PageStatus.done, PageStatus.cancelled]))
            if isinstance(claim, Claim):
                stmt = stmt.where(Page.lease_token == claim.token)
            s.execute(stmt.values(status=PageStatus.failed, lease_token=None, status_reason=reason[:4000],
                                  finished_at=utcnow()))
        self._maybe_finish_item(page_id)

    def _heartbeat(self, claim: Claim, stop: threading.Event) -> None:
        while not stop.wait(self.settings.heartbeat_s):
            try:
                with self.sessions.begin() as s:
                    s.execute(update(Page).where(Page.id == claim.page_id, Page.lease_token == claim.token)
                              .values(heartbeat_at=utcnow()))
            except Exception as exc:  # a missed beat is not fatal; the next one may get through
                log.warning("heartbeat for page %s failed: %s", claim.page_id, exc)

    # ------------------------------------------------- items marked "do not OCR"
    def make_images(self, page_id: int) -> Outcome:
        """Make a page's viewer image without reading its text (the pages of an item
        marked ``do_not_ocr``; ingest calls it instead of queueing them). Sends no task."""
        claim = self.claim(page_id)
        return claim if isinstance(claim, Outcome) else self._images_only(claim)

    def _do_not_ocr(self, page_id: int) -> bool:
        with self.sessions() as s:
            return bool(s.scalar(select(Item.do_not_ocr).join(Page, Page.item_id == Item.id).where(Page.id == page_id)))

    def _images_only(self, claim: Claim) -> Outcome:
        """The page done as images only (IIIF and thumbnails show it; no text, nothing to search). A
        manual correction already on the page is kept."""
        from digitize import errors as derr

        with self.sessions() as s:
            page = s.get(Page, claim.page_id)
            item_id, seq, source = page.item_id, page.sequence, self.store.original_path(page.source_sha256)
            page_index, rotation, source_name = page.source_page_index, page.rotation_deg or 0, page.source_name
        work_dir = self.settings.work_dir / "images" / f"page-{claim.page_id}-{claim.token[:8]}"
        work_dir.mkdir(parents=True, exist_ok=True)
        try:
            try:
                image = self._page_image(source, page_index, rotation)
            except derr.DigitizeError as exc:
                self.fail(claim, f"{source_name}: {getattr(exc, 'problem', exc)}")
                return Outcome.failed
            normalised = work_dir / "normalised.png"
            image.save(normalised)
            width, height = image.size
            rel = lambda kind: self.store.page_derivative_relpath(item_id, seq, kind)  # noqa: E731
            written = self._store_images(rel, normalised)
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
        with self.sessions.begin() as s:
            page = s.get(Page, claim.page_id, with_for_update=True)
            if page is None or (page.lease_token != claim.token and page.status == PageStatus.done):
                return Outcome.already_done
            s.execute(delete(Derivative).where(Derivative.page_id == page.id))
            s.add_all(Derivative(page_id=page.id, kind=kind, relpath=w.relpath, sha256=w.sha256,
                                 size_bytes=w.size_bytes) for kind, w in written)
            page.status, page.lease_token, page.finished_at = PageStatus.done, None, utcnow()
            page.status_reason = IMAGES_ONLY_REASON
            page.width, page.height = width, height
            page.ocr_engine, page.ocr_seconds, page.needs_review = None, None, False
            if not page.corrected:
                replace_layout(s, page.id, {"words": [], "lines": [], "blocks": []}, None)
                set_page_text(s, page, None)
                page.mean_confidence, page.low_confidence_words = None, 0
            page.revision = (page.revision or 0) + 1
            page.index_pending = True
        return Outcome.done

    def _store_images(self, rel, normalised: Path, colour=None) -> list:
        """Store a page's viewer pyramid (made from ``colour``, the page in colour in the normalised
        frame, else from the normalised work image), and the normalised image itself only
        when ``settings.keep_normalised``; ``[(kind, Written)]``."""
        from PIL import Image

        from library.reading import pyramid

        dpi = None
        if colour is not None:
            with Image.open(normalised) as im:
                declared = im.info.get("dpi")
            dpi = float(declared[0]) if declared and declared[0] and declared[0] > 1 else None
        viewer = pyramid.write_pyramid(colour if colour is not None else normalised,
                                       normalised.with_name("viewer.tif"), quality=self.settings.viewer_jpeg_quality,
                                       dpi=dpi)
        written = [("viewer", self.store.write_file(rel("viewer"), viewer))]
        if self.settings.keep_normalised:
            written.append(("normalised", self.store.write_file(rel("normalised"), normalised)))
        else:  # a page read again without the setting: no stale copy stays behind
            self.store.resolve(rel("normalised")).unlink(missing_ok=True)
        # no longer kept: hOCR, ALTO, TSV and the text are made from the catalogue on demand, thumbnails
        # are IIIF sizes of the pyramid
        for kind in ("hocr", "alto", "tsv", "text", "thumbnail"):
            self.store.resolve(rel(kind)).unlink(missing_ok=True)
        return written

    def _colour_view(self, page_id: int, reading):
        """The page in colour in the reading's frame, for the viewer pyramid; None for a grey or bilevel
        page, or when its colour cannot be put in that frame (the viewer then shows the grey page)."""
        from PIL import Image

        from digitize import errors as derr
        from library.reading import pyramid

        with self.sessions() as s:
            page = s.get(Page, page_id)
            source, page_index, rotation = (self.store.original_path(page.source_sha256), page.source_page_index,
                                            page.rotation_deg or 0)
        try:
            image = self._page_image(source, page_index, rotation)
            if not pyramid.is_colour(image):
                return None
            with Image.open(reading.normalised_image_path) as normalised:
                normalised.load()
                return pyramid.colour_in_frame(image, normalised, reading.skew_deg)
        except (derr.DigitizeError, OSError, ValueError) as exc:
            log.warning("page %s: the viewer image stays grey (%s)", page_id, exc)
            return None

    def _page_image(self, source: Path, page_index: int, rotation_deg: int):
        """One page of an original, decoded upright (EXIF) and turned clockwise by ``rotation_deg``."""
        from digitize.images import load_page_image

        image = load_page_image(source, page_index=page_index, pdf_dpi=self.settings.limits.pdf_dpi,
                                max_pixels=self.settings.limits.max_image_pixels)
        return turned(image, rotation_deg)

    # ------------------------------------------------------------ the stages
    def _run_ocr(self, page_id: int, work_dir: Path, progress):
        import digitize  # the engine is imported only where pages are read
        from digitize import errors as derr

        with self.sessions() as s:
            page = s.get(Page, page_id)
            item = page.item
            options = json.loads(item.ocr_options) if item.ocr_options else {}
            zones = tuple(digitize.Zone(*z) for z in json.loads(page.zones)) if page.zones else ()
            source = self.store.original_path(page.source_sha256)
            page_index = page.source_page_index
            languages = item.languages or self.settings.default_languages
            source_name = page.source_name
            rotation = page.rotation_deg or 0
        if not source.is_file():
            raise OcrFailed(f"the original file of page {page_id} is missing from the store; run 'heritage fixity'")
        subject = source
        if rotation:  # staff turned the page: the engine reads the turned image (the original is untouched)
            from digitize.pipeline import rotate_zone_quarters

            try:
                subject = self._page_image(source, page_index, rotation)
            except derr.DigitizeError as exc:
                raise OcrFailed(f"{source_name}: {getattr(exc, 'problem', exc)}") from exc
            w0, h0 = (subject.height, subject.width) if rotation in (90, 270) else subject.size
            zones = tuple(rotate_zone_quarters(z, rotation, w0, h0) for z in zones)
        try:
            opts = digitize.OcrOptions(languages=languages, zones=zones, timeout_s=self.settings.ocr_timeout_s,
                                       **options)
        except (TypeError, ValueError) as exc:
            raise OcrFailed(f"the item's OCR settings are not valid: {exc}") from exc
        work_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            reading = digitize.read_page(
                subject, options=opts, work_dir=work_dir, page_index=page_index,
                pdf_dpi=self.settings.limits.pdf_dpi, max_pixels=self.settings.limits.max_image_pixels,
                progress=progress,
            )
        except derr.OcrTimeout as exc:
            raise OcrTimeout(f"tesseract took longer than {self.settings.ocr_timeout_s:.0f} s: {exc}") from exc
        except derr.ImageUnreadable as exc:
            # name the file as the librarian knows it, not by its place in the store
            raise OcrFailed(f"{source_name}: {exc.problem}") from exc
        except derr.DigitizeError as exc:
            raise OcrFailed(str(exc)) from exc
        reading.ocr_seconds = time.monotonic() - started
        reading.engine_label = reading.describe_engine(languages, psm=opts.effective_psm, zones=bool(zones))
        return reading

    def _store_result(self, claim: Claim, reading) -> None:
        with self.sessions() as s:
            page = s.get(Page, claim.page_id)
            item_id, seq = page.item_id, page.sequence
        rel = lambda kind: self.store.page_derivative_relpath(item_id, seq, kind)  # noqa: E731
        # hOCR, ALTO and TSV are not kept: exports.page_document makes them from the catalogue's reading
        written = self._store_images(rel, reading.normalised_image_path,
                                     colour=self._colour_view(claim.page_id, reading))

        threshold = self.settings.review_confidence
        with self.work(WORKER) as work:  # commit, then search follows at once
            s = work.session
            page = s.get(Page, claim.page_id, with_for_update=True)
            if page.lease_token != claim.token and page.status == PageStatus.done:
                return  # someone else finished it meanwhile: their identical result stands
            s.execute(delete(Derivative).where(Derivative.page_id == page.id))
            s.add_all(
                Derivative(page_id=page.id, kind=kind, relpath=w.relpath, sha256=w.sha256, size_bytes=w.size_bytes)
                for kind, w in written
            )
            layout = layout_of(reading)
            newest = add_reading_versions(s, page.id, reading, layout if page.corrected else None)
            version = newest.version
            page.ocr_engine = reading.engine_label
            page.ocr_seconds = reading.ocr_seconds
            page.status = PageStatus.done
            page.lease_token = None
            page.finished_at = utcnow()
            if page.corrected:
                # never overwrite a librarian's correction without asking: the new reading waits
                page.pending_ocr_version = version
                page.status_reason = (f"a new machine reading (version {version}) is waiting: the page has manual "
                                      "corrections; accept it or keep the correction")
                return
            replace_layout(s, page.id, layout, reading.text)
            page.low_confidence_words = layout_doubtful(layout, self.settings.low_confidence)
            set_page_text(s, page, reading.text, newest)
            page.width, page.height = reading.width, reading.height
            page.mean_confidence = reading.mean_confidence
            page.needs_review = reading.mean_confidence is None or reading.mean_confidence < threshold
            page.status_reason = None
            page.revision = (page.revision or 0) + 1
            page.index_pending = True
            work.index()

    # ------------------------------------------------------------ the item
    def _maybe_finish_item(self, page_id: int) -> None:
        with self.sessions() as s:
            item_id = s.scalar(select(Page.item_id).where(Page.id == page_id))
            if item_id is None:
                return
            open_pages = s.scalar(select(func.count()).select_from(Page).where(
                Page.item_id == item_id, Page.status.in_([PageStatus.queued, PageStatus.running])))
        if open_pages == 0:
            with self.work(WORKER) as work:
                work.send(FINISH_ITEM, item_id)

    def finish_item(self, item_id: int) -> ItemStatus | None:
        """Once every page is done or failed: write the item's full text and set its status."""
        with self.sessions() as s:
            item = s.get(Item, item_id)
            if item is None:
                return None
            pages = list(item.pages)
            if any(p.status in (PageStatus.queued, PageStatus.running) for p in pages):
                return item.status
            failed = [p for p in pages if p.status == PageStatus.failed]
            cancelled = [p for p in pages if p.status == PageStatus.cancelled]
            read = [(p.sequence, p.text or "", p.layout) for p in pages if p.status == PageStatus.done]
        if read:
            body = "\n\n".join(f"--- {seq} ---\n{text}" for seq, text, _ in read) + "\n"
            self.store.write_bytes(self.store.item_derivative_relpath(item_id, "text.txt"), body.encode("utf-8"))
        # the articles the layout analysis found: the item's table of contents (an imported one stays)
        write_found_articles(self.store, item_id, read)
        with self.work(WORKER) as work:
            s = work.session
            item = s.get(Item, item_id)
            if failed:
                item.status = ItemStatus.failed
                item.status_reason = f"{len(failed)} of {len(pages)} pages failed: " + "; ".join(
                    f"page {p.sequence}: {p.status_reason}" for p in failed[:5])
            elif cancelled:
                item.status = ItemStatus.cancelled
                item.status_reason = (f"{len(cancelled)} of {len(pages)} pages cancelled before they were read; "
                                      "retry puts them back in the queue")
            else:
                item.status = ItemStatus.done
                item.status_reason = None
            item.finished_at = utcnow()
            item.revision = (item.revision or 0) + 1
            item.index_pending = True  # its text is complete: index the item as a whole
            work.index()
            status = item.status
        return status

    # ------------------------------------------------------ sweeper, retry
    def sweep(self) -> dict[str, int]:
        """Requeue pages whose worker stopped sending heartbeats, and send tasks that
        never reached the broker. Safe to run at any time, from any process."""
        now = utcnow()
        stuck_before = now - timedelta(seconds=self.settings.stuck_after_s)
        with self.sessions.begin() as s:
            stuck = s.scalars(select(Page.id).where(
                Page.status == PageStatus.running, Page.heartbeat_at < stuck_before)).all()
            if stuck:
                s.execute(update(Page).where(Page.id.in_(stuck), Page.status == PageStatus.running,
                                             Page.heartbeat_at < stuck_before)
                          .values(status=PageStatus.queued, lease_token=None, queued_at=None,
                                  status_reason="requeued: its worker stopped responding"))
            resend_before = now - timedelta(seconds=self.settings.resend_queued_after_s)
            unsent = s.scalars(select(Page.id).where(
                Page.status == PageStatus.queued,
                (Page.queued_at.is_(None)) | (Page.queued_at < resend_before))).all()
        lost = self._lost_messages(stuck_before, set(unsent))
        unsent = list(unsent) + lost
        sent = 0
        for pid in unsent:
            if self.queue.send(OCR_PAGE, pid):
                sent += 1
                with self.sessions.begin() as s:
                    s.execute(update(Page).where(Page.id == pid, Page.status == PageStatus.queued)
                              .values(queued_at=utcnow()))
        # items whose last page ended while the finishing task could not be sent
        with self.sessions() as s:
            open_items = s.scalars(select(Item.id).where(Item.status == ItemStatus.processing)).all()
            unfinished = [
                i for i in open_items
                if not s.scalar(select(func.count()).select_from(Page).where(
                    Page.item_id == i, Page.status.in_([PageStatus.queued, PageStatus.running])))
            ]
        for item_id in unfinished:
            self.finish_item(item_id)
        return {"requeued": len(stuck), "sent": sent, "lost": len(lost), "finished_items": len(unfinished)}

    def _lost_messages(self, before, already: set[int]) -> list[int]:
        """Queued pages whose message is gone: the broker holds no waiting message at all, yet these were
        sent before ``before`` (``stuck_after_s`` ago) and are still queued. A message is lost that way
        when a worker is killed holding it (prefetched, or a retry it keeps until its time: the broker
        gives it back only after its visibility timeout, half an hour) or when a retry could not be sent
        because the broker was restarting. Sending again is safe: a second delivery of a page already
        read changes nothing (``already_done``). With messages waiting, nothing is concluded: the page
        may simply wait its turn behind them (a long backlog is not a loss)."""
        if self.queue.waiting() != 0:
            return []
        with self.sessions() as s:
            return [pid for pid in s.scalars(select(Page.id).where(
                Page.status == PageStatus.queued, Page.queued_at.is_not(None), Page.queued_at < before)
                .order_by(Page.id).limit(10_000)).all() if pid not in already]

    def retry(self, *, actor: Actor, item_id: int | None = None, page_ids: list[int] | None = None) -> list[int]:
        """Put failed and cancelled pages (of one item, or the given pages, or all) back in the queue:
        committed first, then their tasks sent, then the pages marked as sent."""
        require_permission(actor, RETRY_ACTION)
        with self.work(actor) as work:
            s = work.session
            q = select(Page.id).where(Page.status.in_([PageStatus.failed, PageStatus.cancelled]))
            if item_id is not None:
                if s.get(Item, item_id) is None:
                    raise NotFound(f"no item {item_id}")
                q = q.where(Page.item_id == item_id)
            if page_ids:
                q = q.where(Page.id.in_(page_ids))
            ids = s.scalars(q).all()
            if ids:
                s.execute(update(Page).where(Page.id.in_(ids)).values(
                    status=PageStatus.queued, status_reason="retry requested", queued_at=None, lease_token=None))
                item_ids = s.scalars(select(Page.item_id).where(Page.id.in_(ids)).distinct()).all()
                s.execute(update(Item).where(Item.id.in_(item_ids)).values(
                    status=ItemStatus.processing, status_reason=None))
                for pid in ids:
                    work.send(OCR_PAGE, pid)
                work.then(lambda: self._mark_sent(work.accepted_ids(OCR_PAGE)))
                for iid in item_ids:
                    work.audit("ocr_retry", record_id=iid, detail={"pages": len(ids)})
        return list(ids)

    def _mark_sent(self, page_ids: list[int]) -> None:
        with self.sessions.begin() as s:
            s.execute(update(Page).where(Page.id.in_(page_ids), Page.status == PageStatus.queued)
                      .values(queued_at=utcnow()))

    def cancel(self, item_id: int, *, actor: Actor) -> CancelResult:
        """Take an item's queued pages out of the queue: they become ``cancelled`` and workers skip
        them (a task already sent finds the page cancelled when it tries to claim it). Pages being
        read finish; :meth:`retry` puts cancelled pages back in the queue. A user is named in the
        pages' reason ("cancelled by …")."""
        require_permission(actor, CANCEL_ACTION)
        who = f" by {actor.user.username}" if actor.user is not None else ""
        with self.work(actor) as work:
            s = work.session
            if s.get(Item, item_id) is None:
                raise NotFound(f"no item {item_id}")
            # one statement, its own answer: a page a worker claims while this runs is either cancelled
            # here or running there, never counted as cancelled and read (a SELECT then UPDATE was)
            ids = sorted(s.scalars(
                update(Page).where(Page.item_id == item_id, Page.status == PageStatus.queued)
                .values(status=PageStatus.cancelled, status_reason=f"cancelled{who}", lease_token=None,
                        finished_at=utcnow())
                .returning(Page.id).execution_options(synchronize_session=False)).all())
            if ids:
                work.audit("ocr_cancel", record_id=item_id, detail={"pages": len(ids)})
            running = s.scalar(select(func.count()).select_from(Page).where(
                Page.item_id == item_id, Page.status == PageStatus.running))
        if ids and not running:
            self.finish_item(item_id)  # nothing left to wait for: the item shows cancelled at once
        return CancelResult(item_id=item_id, cancelled=list(ids), still_running=running)


@dataclass(frozen=True)
class CancelResult:
    item_id: int
    cancelled: list[int]  # page ids taken out of the queue
    still_running: int  # pages being read now; they finish


IMAGES_ONLY_REASON = "images only: the item is marked 'do not OCR'"

# PIL's transposes for a clockwise turn (its ROTATE_90 turns counter-clockwise)
_CLOCKWISE = {90: "ROTATE_270", 180: "ROTATE_180", 270: "ROTATE_90"}


def turned(image, rotation_deg: int):
    """``image`` turned clockwise by 0, 90, 180 or 270 degrees (its info, e.g. dpi, kept)."""
    from PIL import Image

    turn = int(rotation_deg) % 360
    if turn == 0:
        return image
    if turn not in _CLOCKWISE:
        raise ValueError(f"a page turns by quarter turns only (90, 180, 270), not {rotation_deg}")
    out = image.transpose(getattr(Image.Transpose, _CLOCKWISE[turn]))
    out.info = dict(image.info)
    return out


def layout_of(reading) -> dict:
    """The words, lines and blocks of a reading as plain data (offsets into its text, boxes in pixels);
    a block that lies in a region of the page's layout analysis (``reading.regions``) carries that
    region's kind (headline, text, caption …) and newspaper article."""
    from digitize.reading import region_of

    regions = getattr(reading, "regions", ()) or ()

    def block_row(b) -> list:
        row = [b.block, b.x, b.y, b.w, b.h, b.char_start, b.char_end]
        region = region_of(b, regions) if regions else None
        return row + [region.kind, region.article] if region is not None else row

    return {
        "words": [[w.text, w.char_start, w.char_end, w.x, w.y, w.w, w.h, w.confidence, w.block, w.paragraph, w.line]
                  for w in reading.words],
        "lines": [[ln.block, ln.paragraph, ln.line, ln.x, ln.y, ln.w, ln.h, ln.char_start, ln.char_end]
                  for ln in reading.lines],
        "blocks": [block_row(b) for b in reading.blocks],
    }


POSTCORRECTION_SOURCE = "auto"  # a version made by the machine's post-correction of its own reading


def add_reading_versions(s: Session, page_id: int, reading, pending_layout: dict | None) -> Transcription:
    """Add a reading to the page's history; returns the version (row) of the text the reading gives.

    When post-correction changed the words (``reading.raw_text`` is the text before it), the raw
    machine text comes first (source ``ocr``) and the corrected text second (source ``auto``: the
    post-correction is its author); otherwise the reading is one ``ocr`` version. ``pending_layout``
    (the reading's words and lines, with every word's confidence as read) is kept with the version
    when the reading waits for staff instead of replacing a correction."""
    version = (s.scalar(select(func.max(Transcription.version)).where(Transcription.page_id == page_id)) or 0) + 1
    raw_text = getattr(reading, "raw_text", None)  # set by post-correction, None when it changed nothing
    warned = reading_warnings(reading)
    if raw_text is not None and raw_text != reading.text:
        s.add(Transcription(page_id=page_id, version=version, source="ocr", text=raw_text,
                            engine=reading.engine_label, mean_confidence=reading.mean_confidence,
                            note="machine reading before post-correction", warnings=warned))
        version += 1
        newest = Transcription(page_id=page_id, version=version, source=POSTCORRECTION_SOURCE, text=reading.text,
                               engine=reading.engine_label, mean_confidence=reading.mean_confidence,
                               layout_blob=_pending_blob(pending_layout, reading.text),
                               note="post-correction of the machine reading", warnings=warned)
    else:
        newest = Transcription(page_id=page_id, version=version, source="ocr", text=reading.text,
                               engine=reading.engine_label, mean_confidence=reading.mean_confidence,
                               layout_blob=_pending_blob(pending_layout, reading.text), warnings=warned)
    s.add(newest)
    return newest


def reading_warnings(reading) -> str | None:
    """The reading's warnings as kept with its version: one a line, each as the engine said it (at most
    1,000 characters each; None when there are none)."""
    said = [" ".join(str(w).split())[:1000] for w in getattr(reading, "warnings", ()) or ()]
    said = [w for w in dict.fromkeys(said) if w]
    return "\n".join(said) or None


def _pending_blob(layout: dict | None, text: str) -> bytes | None:
    return page_layout.encode(layout, text) if layout is not None else None


def replace_layout(s: Session, page_id: int, layout: dict, text: str | None) -> None:
    """Replace a page's words, lines and blocks by ``layout`` (see :func:`layout_of`), whose offsets
    point into ``text`` (the page text it goes with): one blob in ``pages.layout``."""
    page = s.get(Page, page_id)
    empty = not (layout["words"] or layout["lines"] or layout["blocks"])
    page.layout = None if empty else page_layout.encode(layout, text)


