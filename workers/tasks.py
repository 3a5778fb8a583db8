"""Tasks: parse ids, call one use case, translate errors into retry or status.

Retries happen only for transient errors (a tesseract timeout, a database or
broker hiccup), with exponential backoff; a permanent error is recorded on the
page by the use case and the task ends normally.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError

from library.errors import HeritageError
from library.reading.ocr_jobs import Outcome
from library.queue import FINISH_ITEM, OCR_PAGE, SWEEP
from workers.app import platform

log = logging.getLogger(__name__)

MAX_RETRIES = 5  # upper bound; the setting HERITAGE_MAX_RETRIES may lower it


def backoff_s(retries: int) -> float:
    """Exponential backoff: the setting's first delay, doubled per retry, at most 5 minutes."""
    return min(platform().settings.retry_backoff_s * 2**retries, 300.0)


def _max_retries() -> int:
    return min(platform().settings.max_retries, MAX_RETRIES)


@shared_task(name=OCR_PAGE, bind=True, acks_late=True, max_retries=MAX_RETRIES)
def ocr_page(self, page_id: int) -> str:
    page_id = int(page_id)
    reader = platform().reader
    try:
        outcome = reader.read(page_id)
    except SoftTimeLimitExceeded:
        reader.fail(page_id, "reading this page took longer than the task time limit")
        return Outcome.failed.value
    except (HeritageError, OperationalError) as exc:
        transient = isinstance(exc, OperationalError) or exc.transient
        if not transient:
            reader.fail(page_id, str(exc))
            return Outcome.failed.value
        if self.request.retries >= _max_retries():
            reader.fail(page_id, f"gave up after {self.request.retries + 1} attempts: {exc}")
            return Outcome.failed.value
        log.warning("page %s: %s; retrying", page_id, exc)
        raise self.retry(exc=exc, countdown=backoff_s(self.request.retries))
    except Exception as exc:
        # a bug, not bad input: record it on the page so it is visible, then let Celery log it
        log.exception("page %s: unexpected error", page_id)
        reader.fail(page_id, f"internal error ({type(exc).__name__}): {exc}; report it to the platform's maintainers")
        raise
    if outcome is Outcome.done:
        _index_quietly()
    if outcome is Outcome.busy:
        # another worker holds a live lease; look again later (the sweeper also watches it)
        if self.request.retries < _max_retries():
            raise self.retry(countdown=platform().settings.heartbeat_s * 2)
    return outcome.value


@shared_task(name=FINISH_ITEM, bind=True, acks_late=True, max_retries=MAX_RETRIES)
def finish_item(self, item_id: int) -> str | None:
    try:
        status = platform().reader.finish_item(int(item_id))
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=backoff_s(self.request.retries))
    _index_quietly()
    if status is not None and status.value == "done":
        _prepare_pdf_quietly(int(item_id))
    return status.value if status else None


def _prepare_pdf_quietly(item_id: int) -> None:
    """Make the item's searchable PDF now, so the first reader to download it does not wait;
    if it cannot be made here it is made on the first download instead."""
    try:
        platform().exports.export(item_id, "pdf")
    except Exception:  # a download must never turn a finished item into a failed task
        log.exception("the PDF of item %s could not be prepared; it will be made when first downloaded", item_id)


def _index_quietly() -> None:
    """Send what changed to the search index. The page is safely stored already: if the
    engine is down the changes stay pending in the catalogue and the sweeper sends them later."""
    try:
        platform().indexer.flush(limit=1000)
    except Exception:  # never let indexing turn a stored page into a failed task
        log.exception("indexing after OCR failed; changes stay pending")


@shared_task(name="workers.build_model", bind=True, acks_late=True, max_retries=MAX_RETRIES)
def build_model(self, version_id: int) -> str:
    """One 3D build; stage progress, cancel and the failure reason are kept on the version."""
    try:
        status = platform().monuments.build(int(version_id))
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=backoff_s(self.request.retries))
    _index_quietly()
    return status.value


@shared_task(name=SWEEP, acks_late=True)
def sweep() -> dict:
    from library.access import Actor

    report = platform().reader.sweep()
    report["embargoes_lifted"] = platform().access_admin.lift_embargoes(Actor.system("sweeper"))
    return report
