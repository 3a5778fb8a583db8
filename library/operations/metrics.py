"""The figures a monitoring system scrapes (``GET /metrics``), read from the catalogue at scrape time, so
every web process answers the same: the OCR queue, the reading rate, failures, how far the search index
lags behind the catalogue, and the 3D builds.

Every query is bounded and walks an index (checked with ``EXPLAIN QUERY PLAN`` in the tests):

- counts of pages and builds by status use ``ix_pages_status`` / ``ix_model_versions_status`` (done pages
  are never counted: at a million pages that is a million index entries per scrape);
- the reading rate and the recent failures count the pages of that status finished in the period: a
  range of ``ix_pages_status_finished`` (status, finished_at), exact, as long as the pages of five
  minutes (or of a failed hour) are;
- the index lag counts rows marked ``index_pending`` (``ix_pages_index_pending``, ``ix_items_index_pending``,
  ``ix_monuments_index_pending``) and the outbox ``index_removals``; its age is taken over the
  ``AGE_SAMPLE`` oldest pending rows (by id) of each kind.

Nothing here knows Prometheus: :mod:`web.metrics` turns :class:`Figures` into its text format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from library.catalogue.models import (BuildStatus, IndexRemoval, Item, ModelVersion, Monument, Page, PageStatus,
                                      Transcription, as_utc, utcnow)

AGE_SAMPLE = 100  # oldest pending rows of each kind looked at for the index lag's age
READ_PERIOD = timedelta(minutes=5)
FAILED_PERIOD = timedelta(hours=1)
PAGE_STATUSES = (PageStatus.queued, PageStatus.running, PageStatus.failed, PageStatus.cancelled)
BUILD_STATUSES = (BuildStatus.queued, BuildStatus.running, BuildStatus.failed)


@dataclass(frozen=True)
class Figures:
    """One scrape's figures. ``pages``: pages by status (queued, running, failed, cancelled; never done);
    ``index_pending``: rows waiting for the search index by kind (page, item, monument, removal)."""

    pages: dict[str, int]
    pages_read_last_5_min: int
    pages_failed_last_hour: int
    index_pending: dict[str, int]
    index_oldest_pending_age_s: float  # 0.0 when nothing is pending
    builds: dict[str, int] = field(default_factory=dict)  # 3D builds by status (queued, running, failed)

    @property
    def pages_read_per_minute(self) -> float:
        return self.pages_read_last_5_min / (READ_PERIOD.total_seconds() / 60)


def read_figures(sessions: sessionmaker[Session], *, now: datetime | None = None) -> Figures:
    """The figures as the catalogue has them now (UTC ``now``, for tests)."""
    now = now or utcnow()
    with sessions() as s:
        pages = {st.value: _count(s, Page, Page.status == st) for st in PAGE_STATUSES}
        read = _recent(s, PageStatus.done, now - READ_PERIOD)
        failed = _recent(s, PageStatus.failed, now - FAILED_PERIOD)
        pending = {
            "page": _count(s, Page, Page.index_pending.is_(True)),
            "item": _count(s, Item, Item.index_pending.is_(True)),
            "monument": _count(s, Monument, Monument.index_pending.is_(True)),
            "removal": _count(s, IndexRemoval),
        }
        oldest = _oldest_pending(s, pending)
        builds = {st.value: _count(s, ModelVersion, ModelVersion.status == st) for st in BUILD_STATUSES}
    age_s = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    return Figures(pages=pages, pages_read_last_5_min=read, pages_failed_last_hour=failed,
                   index_pending=pending,
                   index_oldest_pending_age_s=age_s, builds=builds)


# ------------------------------------------------------------------ the queries
def _count(s: Session, model, *where) -> int:
    return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def recent_query(status: PageStatus, since: datetime):
    """How many pages of ``status`` finished since ``since`` (a range of ``ix_pages_status_finished``)."""
    return select(func.count()).select_from(Page).where(Page.status == status, Page.finished_at >= since)


def _recent(s: Session, status: PageStatus, since: datetime) -> int:
    return s.scalar(recent_query(status, since)) or 0


def _oldest_pending(s: Session, pending: dict[str, int]) -> datetime | None:
    """When the oldest change still waiting for the index was made (over AGE_SAMPLE rows of each kind):
    a page's reading or its newest transcription, an item's last update, a removal's time."""
    times: list[datetime] = []
    if pending["page"]:
        newest_text = (select(func.max(Transcription.created_at)).where(Transcription.page_id == Page.id)
                       .scalar_subquery())
        ids = select(Page.id).where(Page.index_pending.is_(True)).order_by(Page.id).limit(AGE_SAMPLE)
        for finished, written in s.execute(select(Page.finished_at, newest_text).where(Page.id.in_(ids))):
            stamps = [as_utc(t) for t in (finished, written) if t is not None]
            if stamps:
                times.append(max(stamps))
    if pending["item"]:
        ids = select(Item.id).where(Item.index_pending.is_(True)).order_by(Item.id).limit(AGE_SAMPLE)
        times += [as_utc(t) for t in s.scalars(select(Item.updated_at).where(Item.id.in_(ids))) if t]
    if pending["removal"]:
        first = s.scalar(select(IndexRemoval.created_at).order_by(IndexRemoval.id).limit(1))
        if first:
            times.append(as_utc(first))
    return min(times) if times else None
