"""The progress board: what the workers are doing, per item and page and per 3D
build and stage — queued, running, done, failed (with the reason) or cancelled —
with an estimate of the time left.

The estimate comes from durations measured on this installation: the time a
worker spends per page over the last pages read (from claim to result stored,
or — when pages ended in a steady stream — the interval between pages ending
times the number of workers, which also counts the queue and indexing between
pages) and the mean time of the last builds of the same kind, stage by stage. The work still to do is laid out over
the workers the way the queue hands it out (first sent, first served; each job
to the first worker free), so an item queued behind another waits for it. With
nothing measured yet the estimate is ``None``: the portal says "unknown" rather
than guess.
"""

from __future__ import annotations

import heapq
import json
import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from library.errors import NotFound
from library.catalogue.models import (
    BuildStatus,
    Item,
    ItemStatus,
    ModelVersion,
    Monument,
    MonumentModel,
    Page,
    PageStatus,
    as_utc,
    utcnow,
)
from library.settings import Settings

# the stages heritage3d.build_model reports, in order, per kind of input
BUILD_STAGES = {
    "photos": ("sparse", "dense", "clean", "levels", "thumbnail"),
    "point_cloud": ("read", "clean", "levels", "thumbnail"),
    "mesh": ("read", "clean", "levels", "thumbnail"),
}
RATE_WINDOW = 5_000  # newest finished pages looked at for the reading rate
PAGE_SAMPLE = 50  # pages whose durations make the mean
BUILD_SAMPLE = 10  # builds of a kind whose durations make the means
RECENT_DONE = 20  # finished items and builds kept on the board
MAX_PAGES_SHOWN = 1000  # per item, when one item is asked
BOARD_PAGES_SHOWN = 100  # per item on the whole board
OPEN_ITEMS_SHOWN = 100  # items not done on the whole board (the newest)
MAX_RUNNING_PAGES = 1000  # pages being read read one by one for the estimate (one per worker in practice)


@dataclass(frozen=True)
class Rates:
    """What the estimates rest on."""

    page_seconds: float | None  # seconds a worker spends per page (reading it and between pages); None: not measured
    page_samples: int
    workers: int  # jobs run at once
    build_seconds: dict[str, float]  # kind of input -> mean seconds per build
    build_samples: dict[str, int]


@dataclass(frozen=True)
class PageJob:
    page_id: int
    sequence: int
    source_name: str
    status: str
    reason: str | None
    attempts: int
    seconds: float | None  # how long it took (done, failed) or has been running


@dataclass(frozen=True)
class ItemJob:
    item_id: int
    title: str
    status: str
    reason: str | None
    counts: dict[str, int]  # pages per status
    eta_s: float | None  # seconds until its last page is read; 0 when nothing is left; None: unknown
    pages: list[PageJob] = field(default_factory=list)  # listed while the item is not done

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def open(self) -> int:
        return self.counts.get("queued", 0) + self.counts.get("running", 0)


@dataclass(frozen=True)
class StageJob:
    name: str
    status: str  # queued | running | done | failed | cancelled
    fraction: float | None  # of a running stage
    seconds: float | None  # measured, once done


@dataclass(frozen=True)
class BuildJob:
    version_id: int
    model_id: int
    model_title: str
    number: int
    monument_id: int
    monument_name: str
    monument_slug: str
    input_kind: str
    sources: int
    status: str
    reason: str | None
    stage: str | None
    cancel_requested: bool
    attempts: int
    elapsed_s: float | None
    eta_s: float | None
    stages: list[StageJob]


@dataclass(frozen=True)
class Board:
    items: list[ItemJob]
    builds: list[BuildJob]
    rates: Rates
    generated_at: datetime

    def as_dict(self) -> dict:
        return {
            "generated_at": self.generated_at.isoformat(),
            "rates": asdict(self.rates),
            "items": [dict(asdict(i), total=i.total) for i in self.items],
            "builds": [asdict(b) for b in self.builds],
        }


class JobBoard:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session]):
        self.settings = settings
        self.sessions = sessions

    def board(self, *, item_id: int | None = None, recent: int = RECENT_DONE, now: datetime | None = None) -> Board:
        """Every item and build still in progress, failed or cancelled, and the ``recent`` last done;
        or only ``item_id`` (with all its pages). ``now`` (default: the clock) is the moment the
        estimates count from."""
        now = now or utcnow()
        with self.sessions() as s:
            if item_id is not None and s.get(Item, item_id) is None:
                raise NotFound(f"no item {item_id}")
            rates = self._rates(s)
            build_eta, item_eta = self._schedule(s, now, rates)
            items = self._items(s, now, item_id, recent, item_eta)
            builds = [] if item_id is not None else self._builds(s, now, recent, rates, build_eta)
        return Board(items=items, builds=builds, rates=rates, generated_at=now)

    def build(self, version_id: int) -> BuildJob:
        now = utcnow()
        with self.sessions() as s:
            v = s.get(ModelVersion, version_id)
            if v is None:
                raise NotFound(f"no model version {version_id}")
            rates = self._rates(s)
            build_eta, _ = self._schedule(s, now, rates)
            return self._build_job(s, v, now, rates, build_eta)

    # ---------------------------------------------------------- measurements
    def _rates(self, s: Session) -> Rates:
        # the pages read most recently, among the newest RATE_WINDOW pages finished (a backward range of
        # ix_pages_status_finished): imported pages were never read (no started_at) and are passed over,
        # but never more than RATE_WINDOW of them, however many a bulk import brought
        newest = (select(Page.started_at, Page.finished_at)
                  .where(Page.status == PageStatus.done, Page.finished_at.is_not(None))
                  .order_by(Page.finished_at.desc()).limit(RATE_WINDOW).subquery())
        rows = s.execute(select(newest.c.started_at, newest.c.finished_at)
                         .where(newest.c.started_at.is_not(None))
                         .order_by(newest.c.finished_at.desc()).limit(PAGE_SAMPLE)).all()
        durations = [d for d in ((as_utc(f) - as_utc(b)).total_seconds() for b, f in rows) if d >= 0]
        workers = max(1, self.settings.worker_concurrency)
        page_seconds = sum(durations) / len(durations) if durations else None
        if page_seconds is not None:
            # a worker also spends time between pages (the queue, the index, the item's finishing): while the
            # workers were busy, pages ended every `gap` seconds, so each worker took `workers × gap` per page
            finishes = sorted(as_utc(f) for _, f in rows)
            busy = 3 * page_seconds + 1.0  # a longer gap is a pause in the work, not a page
            gaps = [g for g in ((b - a).total_seconds() for a, b in zip(finishes, finishes[1:])) if g <= busy]
            if len(gaps) >= 3:
                page_seconds = max(page_seconds, workers * statistics.median(gaps))
        build_seconds, build_samples = {}, {}
        for kind in BUILD_STAGES:
            done = s.execute(select(ModelVersion.started_at, ModelVersion.finished_at).where(
                ModelVersion.status == BuildStatus.done, ModelVersion.input_kind == kind,
                ModelVersion.started_at.is_not(None), ModelVersion.finished_at.is_not(None))
                .order_by(ModelVersion.finished_at.desc()).limit(BUILD_SAMPLE)).all()
            secs = [d for d in ((as_utc(f) - as_utc(b)).total_seconds() for b, f in done) if d >= 0]
            if secs:
                build_seconds[kind], build_samples[kind] = sum(secs) / len(secs), len(secs)
        return Rates(page_seconds=page_seconds, page_samples=len(durations), workers=workers,
                     build_seconds=build_seconds, build_samples=build_samples)

    def _stage_means(self, s: Session, kind: str) -> dict[str, float]:
        """Mean seconds of each stage over the last builds of this kind (from their reports)."""
        reports = s.scalars(select(ModelVersion.report).where(
            ModelVersion.status == BuildStatus.done, ModelVersion.input_kind == kind,
            ModelVersion.report.is_not(None)).order_by(ModelVersion.finished_at.desc()).limit(BUILD_SAMPLE)).all()
        sums: dict[str, list[float]] = {}
        for raw in reports:
            try:
                stages = json.loads(raw).get("stages", [])
            except (ValueError, AttributeError):
                continue
            for st in stages:
                if isinstance(st, dict) and not st.get("resumed") and isinstance(st.get("seconds"), (int, float)):
                    sums.setdefault(st["name"], []).append(float(st["seconds"]))
        return {name: sum(v) / len(v) for name, v in sums.items()}

    def _build_remaining(self, s: Session, v: ModelVersion, now: datetime, rates: Rates) -> float | None:
        """Seconds a build still needs: stage means where known, else its kind's mean less the time spent."""
        mean = rates.build_seconds.get(v.input_kind)
        if v.status == BuildStatus.queued:
            return mean
        stages = BUILD_STAGES.get(v.input_kind, ())
        means = self._stage_means(s, v.input_kind)
        if v.stage in stages and all(st in means for st in stages[stages.index(v.stage):]):
            i = stages.index(v.stage)
            fraction = min(max(v.progress or 0.0, 0.0), 1.0)
            return means[v.stage] * (1 - fraction) + sum(means[st] for st in stages[i + 1:])
        if mean is None or v.started_at is None:
            return None
        return max(mean - (now - as_utc(v.started_at)).total_seconds(), 0.0)

    # ------------------------------------------------------------ the queue
    def _schedule(self, s: Session, now, rates: Rates) -> tuple[dict[int, float | None], dict[int, float]]:
        """Lay the open work out over the workers, first sent first served: when each build and
        each item's last page should be done, in seconds from now (items only if pages were measured)."""
        # the pages being read one by one (a handful: one per worker), the queued ones counted per item
        # (one row per item, not per page: the queue is laid out item by item, in the order they were sent)
        running_pages = s.execute(select(Page.item_id, Page.started_at).where(Page.status == PageStatus.running)
                                  .order_by(Page.id).limit(MAX_RUNNING_PAGES)).all()
        queued_items = s.execute(select(Page.item_id, func.count(), func.min(Page.queued_at))
                                 .where(Page.status == PageStatus.queued).group_by(Page.item_id)).all()
        open_builds = s.scalars(select(ModelVersion).where(
            ModelVersion.status.in_([BuildStatus.queued, BuildStatus.running]))).all()
        workers = max(rates.workers, len(running_pages)
                      + sum(1 for b in open_builds if b.status == BuildStatus.running))
        free = [0.0] * workers  # when each worker is next free
        item_eta: dict[int, float] = {}
        build_eta: dict[int, float | None] = {}
        page_s = rates.page_seconds
        busy = []
        for b in open_builds:
            if b.status == BuildStatus.running:
                rem = self._build_remaining(s, b, now, rates)
                build_eta[b.id] = rem
                busy.append(rem or 0.0)
        for item_id, started_at in running_pages:
            elapsed = (now - as_utc(started_at)).total_seconds() if started_at else 0.0
            rem = max(page_s - elapsed, 0.1 * page_s) if page_s is not None else 0.0  # overdue: nearly done
            busy.append(rem)
            if page_s is not None:
                item_eta[item_id] = max(item_eta.get(item_id, 0.0), rem)
        busy.sort(reverse=True)
        for i, rem in enumerate(busy[:workers]):
            free[i] = rem
        heapq.heapify(free)
        far = datetime.max.replace(tzinfo=now.tzinfo)
        queued = [(as_utc(q) if q else far, 0, item_id, n, None) for item_id, n, q in queued_items]
        queued += [(as_utc(b.queued_at) if b.queued_at else far, 1, b.id, 1, b) for b in open_builds
                   if b.status == BuildStatus.queued]
        queued.sort(key=lambda job: job[:3])
        for _when, _kind, job_id, n, build in queued:
            if build is not None:
                start = heapq.heappop(free)
                dur = self._build_remaining(s, build, now, rates)
                build_eta[build.id] = None if dur is None else start + dur
                heapq.heappush(free, start + (dur or 0.0))
            elif page_s is not None:  # unmeasured pages take no time in the layout (their items stay unknown)
                item_eta[job_id] = max(item_eta.get(job_id, 0.0), _lay_out_pages(free, n, page_s))
        return build_eta, item_eta

    # -------------------------------------------------------------- the rows
    def _items(self, s: Session, now, item_id, recent, item_eta) -> list[ItemJob]:
        q = select(Item.id, Item.title, Item.status, Item.status_reason)
        if item_id is not None:
            rows = s.execute(q.where(Item.id == item_id)).all()
        else:
            open_ = [st for st in ItemStatus if st != ItemStatus.done]  # the newest OPEN_ITEMS_SHOWN of them
            rows = s.execute(q.where(Item.status.in_(open_)).order_by(Item.id.desc()).limit(OPEN_ITEMS_SHOWN)).all()
            rows += s.execute(q.where(Item.status == ItemStatus.done)
                              .order_by(Item.finished_at.desc().nulls_last(), Item.id.desc()).limit(recent)).all()
            rows.sort(key=lambda r: r[0], reverse=True)  # newest first
        ids = [r[0] for r in rows]
        counts_of: dict[int, dict[str, int]] = {i: {st.value: 0 for st in PageStatus} for i in ids}
        if ids:  # counted per item on the pages.item_id index, not read page by page
            for iid, st, n in s.execute(select(Page.item_id, Page.status, func.count())
                                        .where(Page.item_id.in_(ids)).group_by(Page.item_id, Page.status)):
                counts_of[iid][PageStatus(st).value] = n
        shown = MAX_PAGES_SHOWN if item_id is not None else BOARD_PAGES_SHOWN
        out = []
        for iid, title, status, reason in rows:
            counts = counts_of[iid]
            listed = []
            if status != ItemStatus.done or item_id is not None:  # the first pages, on (item_id, sequence)
                listed = s.execute(select(Page.id, Page.item_id, Page.sequence, Page.source_name, Page.status,
                                          Page.status_reason, Page.attempts, Page.started_at, Page.finished_at)
                                   .where(Page.item_id == iid).order_by(Page.sequence).limit(shown)).all()
            open_ = counts["queued"] + counts["running"]
            eta = item_eta.get(iid) if open_ else 0.0
            out.append(ItemJob(
                item_id=iid, title=title, status=status.value, reason=reason, counts=counts, eta_s=eta,
                pages=[PageJob(p.id, p.sequence, p.source_name, p.status.value, p.status_reason, p.attempts,
                               _seconds(p.started_at, p.finished_at if p.status != PageStatus.running else now))
                       for p in listed]))
        return out

    def _builds(self, s: Session, now, recent, rates, build_eta) -> list[BuildJob]:
        active = s.scalars(select(ModelVersion).where(ModelVersion.status.in_(
            [BuildStatus.queued, BuildStatus.running, BuildStatus.failed, BuildStatus.cancelled]))
            .order_by(ModelVersion.id.desc())).all()
        done = s.scalars(select(ModelVersion).where(ModelVersion.status == BuildStatus.done)
                         .order_by(ModelVersion.finished_at.desc().nulls_last()).limit(recent)).all()
        versions = sorted({v.id: v for v in [*active, *done]}.values(), key=lambda v: v.id, reverse=True)
        return [self._build_job(s, v, now, rates, build_eta) for v in versions]

    def _build_job(self, s: Session, v: ModelVersion, now, rates, build_eta) -> BuildJob:
        model = s.get(MonumentModel, v.model_id)
        monument = s.get(Monument, model.monument_id)
        try:
            sources = len(json.loads(v.sources or "[]"))
        except ValueError:
            sources = 0
        running = v.status == BuildStatus.running
        if v.status in (BuildStatus.queued, BuildStatus.running):
            eta = build_eta.get(v.id)
        else:
            eta = 0.0
        return BuildJob(
            version_id=v.id, model_id=model.id, model_title=model.title, number=v.number, monument_id=monument.id,
            monument_name=monument.name_vi, monument_slug=monument.slug, input_kind=v.input_kind, sources=sources,
            status=v.status.value, reason=v.status_reason, stage=v.stage, cancel_requested=bool(v.cancel_requested),
            attempts=v.attempts, elapsed_s=_seconds(v.started_at, now if running else v.finished_at)
            if v.status != BuildStatus.queued else None,
            eta_s=eta, stages=_stages(v))


def _lay_out_pages(free: list[float], n: int, page_s: float) -> float:
    """Give ``n`` pages of ``page_s`` seconds each to the first worker free, one after the other, as the
    queue does; ``free`` (a heap of the seconds from now when each worker is next free) is updated in
    place. Returns when the last of them ends. Once the workers are free within ``page_s`` of each other,
    each round of ``len(free)`` pages gives one to every worker, so rounds are laid out at once: the cost
    is bounded by the number of workers, not by ``n``."""
    last = 0.0
    while n > 0 and (n < len(free) or max(free) - free[0] > page_s):
        start = heapq.heappop(free)
        heapq.heappush(free, start + page_s)
        last, n = max(last, start + page_s), n - 1
    if n > 0:
        rounds, rest = divmod(n, len(free))
        ends = sorted(v + rounds * page_s for v in free)
        last = max(last, ends[-1]) if rounds else last
        for i in range(rest):
            ends[i] += page_s
            last = max(last, ends[i])
        free[:] = ends
        heapq.heapify(free)
    return last


def _seconds(start, end) -> float | None:
    if start is None or end is None:
        return None
    return max((as_utc(end) - as_utc(start)).total_seconds(), 0.0)


def _stages(v: ModelVersion) -> list[StageJob]:
    names = BUILD_STAGES.get(v.input_kind, ())
    measured: dict[str, float] = {}
    if v.report:
        try:
            for st in json.loads(v.report).get("stages", []):
                measured[st["name"]] = float(st["seconds"])
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
    if v.status == BuildStatus.done or v.stage in ("done", "published"):
        return [StageJob(n, "done", None, measured.get(n)) for n in names]
    if v.status == BuildStatus.queued or v.stage not in names:
        # not started, or stopped before its first stage (e.g. its inputs were refused)
        first = {BuildStatus.failed: "failed", BuildStatus.cancelled: "cancelled"}.get(v.status)
        if first and names and v.stage is None and v.started_at is not None:
            return [StageJob(n, first if i == 0 else "queued", None, None) for i, n in enumerate(names)]
        return [StageJob(n, "queued", None, None) for n in names]
    current = names.index(v.stage)
    now_status = {BuildStatus.running: "running", BuildStatus.failed: "failed",
                  BuildStatus.cancelled: "cancelled"}[v.status]
    return [StageJob(n, "done" if i < current else now_status if i == current else "queued",
                     (v.progress if now_status == "running" else None) if i == current else None,
                     measured.get(n) if i < current else None)
            for i, n in enumerate(names)]
