"""Word confidence people can use: which words are doubtful, how many a page
holds, and recounting them.

One threshold decides it everywhere (``HERITAGE_LOW_CONFIDENCE``, on
tesseract's 0–100 scale, :attr:`library.settings.Settings.low_confidence`): a
word read with a lower confidence is *doubtful*. Doubtful words are marked on
the correction page, counted per page in ``pages.low_confidence_words`` (the
correction queue's order) and carried, as every word's confidence, in hOCR
(``x_wconf``, 0–100) and ALTO (``WC``, 0–1) by :mod:`digitize.reading`.
A word that staff corrected or confirmed is sure (confidence 100).
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from library.catalogue.models import Page
from library.catalogue.page_layout import stored_many

SURE = 100.0  # the confidence of a word staff have read: corrected or confirmed
LAYOUT_CONFIDENCE = 7  # where a word's confidence sits in a layout row (see library.reading.ocr_jobs.layout_of)


def is_doubtful(confidence: float, threshold: float) -> bool:
    """A word read with less than ``threshold`` (0–100) confidence."""
    return confidence < threshold


def count_doubtful(confidences: Iterable[float], threshold: float) -> int:
    return sum(1 for c in confidences if is_doubtful(c, threshold))


def layout_doubtful(layout: dict, threshold: float) -> int:
    """Doubtful words of a layout (``{"words": [[text, start, end, x, y, w, h, confidence, …]]}``)."""
    return count_doubtful((row[LAYOUT_CONFIDENCE] for row in layout["words"]), threshold)


def recount_doubtful_words(sessions: sessionmaker[Session], threshold: float, *,
                           page_ids: list[int] | None = None, batch: int = 500) -> int:
    """Set ``pages.low_confidence_words`` from the stored words (after the threshold changed);
    ``batch`` pages per transaction. Returns how many pages changed."""
    changed, after = 0, 0
    while True:
        with sessions.begin() as s:
            q = select(Page.id).where(Page.id > after).order_by(Page.id).limit(batch)
            if page_ids is not None:
                q = q.where(Page.id.in_(page_ids))
            ids = s.scalars(q).all()
            if not ids:
                return changed
            counts = _counts(s, ids, threshold)
            for page_id in ids:
                res = s.execute(update(Page).where(Page.id == page_id,
                                                   Page.low_confidence_words != counts.get(page_id, 0))
                                .values(low_confidence_words=counts.get(page_id, 0))
                                .execution_options(synchronize_session=False))
                changed += res.rowcount
            after = ids[-1]


def _counts(s: Session, page_ids: list[int], threshold: float) -> dict[int, int]:
    """Doubtful words of each page, from its stored layout (confidences kept as whole numbers)."""
    return {pid: count_doubtful((w.confidence for w in layout.words if w.confidence is not None), threshold)
            for pid, layout in stored_many(s, page_ids).items()}
