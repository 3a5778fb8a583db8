"""Fixity: verify every stored file against the checksum in the catalogue, say which originals are
kept only for deleted items (and from when they may go), and purge those whose retention has passed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from library.catalogue.models import Derivative, Item, ItemChange, ModelVersion, Page, StoredFile, as_utc
from library.store import FileStore, content_sha256


@dataclass(frozen=True)
class FixityProblem:
    kind: str  # "missing" | "mismatch"
    relpath: str
    expected_sha256: str
    actual_sha256: str | None
    what: str  # "original 'p2.tif'" or "alto of page 12"

    def __str__(self) -> str:
        if self.kind == "missing":
            return f"MISSING  {self.relpath}  ({self.what})"
        return f"MISMATCH {self.relpath}  ({self.what}): expected {self.expected_sha256}, found {self.actual_sha256}"


@dataclass(frozen=True)
class RetainedOriginal:
    """An original kept in the store for a deleted item (and no other item): it may go after ``may_go_at``."""

    sha256: str
    original_name: str
    item_id: int
    deleted_at: datetime
    may_go_at: datetime

    def __str__(self) -> str:
        return (f"RETAINED {self.sha256[:16]}…  ({self.original_name!r}) for deleted item {self.item_id} "
                f"(deleted {self.deleted_at:%Y-%m-%d}; may go after {self.may_go_at:%Y-%m-%d})")


@dataclass
class FixityReport:
    checked: int = 0
    problems: list[FixityProblem] = field(default_factory=list)
    retained: list[RetainedOriginal] = field(default_factory=list)  # checked too, kept for deleted items

    @property
    def ok(self) -> bool:
        return not self.problems


def check_fixity(
    sessions: sessionmaker[Session], store: FileStore, *, progress: Callable[[int, int], None] | None = None,
    retention_days: int | None = None,
) -> FixityReport:
    """Recompute the sha256 of every original and derivative; ``progress(done, total)``. With
    ``retention_days``, the report also lists the originals kept only for deleted items."""
    report = FixityReport()
    if retention_days is not None:
        report.retained = retained_originals(sessions, retention_days=retention_days)
    with sessions() as s:
        total = (s.scalar(select(func.count()).select_from(StoredFile)) or 0) + (
            s.scalar(select(func.count()).select_from(Derivative)) or 0)
        originals = s.execute(select(StoredFile.sha256, StoredFile.original_name)).all()
        derivatives = s.execute(select(Derivative.relpath, Derivative.sha256, Derivative.kind, Derivative.page_id)).all()
    entries = [(store.stored_original_relpath(sha), sha, f"original {name!r}") for sha, name in originals]
    entries += [(rel, sha, f"{kind} of page {pid}") for rel, sha, kind, pid in derivatives]
    for n, (rel, expected, what) in enumerate(entries, 1):
        path = store.resolve(rel)
        if not path.is_file():
            report.problems.append(FixityProblem("missing", rel, expected, None, what))
        else:
            actual = content_sha256(path)
            if actual != expected:
                report.problems.append(FixityProblem("mismatch", rel, expected, actual, what))
        report.checked += 1
        if progress:
            progress(n, total)
    return report


# ---------------------------------------------------------------- deleted items
def _referenced(s: Session, items: list[int] | None) -> set[str]:
    """The originals that ``items`` (every item when None) name: their pages, their upload package and
    the scans their history names (pages replaced or removed)."""
    from library.catalogue.page_ops import history_scans

    out: set[str] = set()
    page_q, item_q, change_q = select(Page.source_sha256), select(Item.package_sha256), select(ItemChange.changes)
    if items is not None:
        page_q, item_q = page_q.where(Page.item_id.in_(items)), item_q.where(Item.id.in_(items))
        change_q = change_q.where(ItemChange.item_id.in_(items))
    out |= set(s.scalars(page_q)) | (set(s.scalars(item_q)) - {None})
    for changes in s.scalars(change_q):
        out |= history_scans(changes)
    return out


def _deleted_items(s: Session) -> list[tuple[int, datetime]]:
    return [(i, as_utc(d)) for i, d in s.execute(
        select(Item.id, Item.deleted_at).where(Item.deleted_at.is_not(None), Item.purged_at.is_(None)))]


def _in_use_elsewhere(s: Session, leaving: list[int]) -> set[str]:
    """Originals that items other than ``leaving`` (and 3D builds) still refer to."""
    others = list(s.scalars(select(Item.id).where(Item.id.not_in(leaving) if leaving else Item.id.is_not(None))))
    used = _referenced(s, others)
    for sources in s.scalars(select(ModelVersion.sources)):
        try:
            used |= {x["sha256"] for x in json.loads(sources or "[]") if isinstance(x, dict) and "sha256" in x}
        except (ValueError, TypeError):
            continue
    return used


def retained_originals(sessions: sessionmaker[Session], *, retention_days: int) -> list[RetainedOriginal]:
    """The originals kept in the store only for deleted items, with the day each may go."""
    out: list[RetainedOriginal] = []
    with sessions() as s:
        deleted = _deleted_items(s)
        if not deleted:
            return out
        used = _in_use_elsewhere(s, [i for i, _ in deleted])
        names = dict(s.execute(select(StoredFile.sha256, StoredFile.original_name)).all())
        for item_id, deleted_at in deleted:
            for sha in sorted(_referenced(s, [item_id]) - used):
                if sha in names:
                    out.append(RetainedOriginal(sha, names[sha], item_id, deleted_at,
                                                deleted_at + timedelta(days=retention_days)))
    return out


@dataclass
class PurgeReport:
    items: list[int] = field(default_factory=list)  # deleted items whose pages and files are gone now
    originals: list[str] = field(default_factory=list)  # sha256 of the originals removed from the store
    shared: list[str] = field(default_factory=list)  # kept: another item (or a 3D build) still uses them


def purge_expired(sessions: sessionmaker[Session], store: FileStore, *, retention_days: int, now: datetime
                  ) -> PurgeReport:
    """Remove what deleted items kept once ``retention_days`` have passed since their deletion: their
    pages and derivatives, and their originals that no other item (nor a 3D build) uses. The item row
    stays as a tombstone (``purged_at``) with its history, so its id is never given again."""
    from library.discovery.iiif import CACHE_DIR

    report = PurgeReport()
    limit = now - timedelta(days=retention_days)
    with sessions.begin() as s:
        expired = [i for i, deleted_at in _deleted_items(s) if deleted_at <= limit]
        if not expired:
            return report
        mine = _referenced(s, expired)
        used = _in_use_elsewhere(s, expired)
        report.items, report.shared = expired, sorted(mine & used)
        report.originals = sorted(sha for sha in mine - used if s.get(StoredFile, sha) is not None)
        s.execute(delete(Page).where(Page.item_id.in_(expired)))
        s.execute(update(Item).where(Item.id.in_(expired)).values(purged_at=now, package_sha256=None))
        if report.originals:
            s.execute(delete(StoredFile).where(StoredFile.sha256.in_(report.originals)))
    for sha in report.originals:  # the rows are gone: the files follow
        store.remove_original(sha)
    for item_id in report.items:
        store.remove_tree(f"derivatives/items/{int(item_id)}")
        store.remove_tree(f"{CACHE_DIR}/items/{int(item_id)}")
    return report
