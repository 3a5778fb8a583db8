"""Fixity: verify every stored file against the checksum in the catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from library.models import Derivative, StoredFile
from library.store import FileStore, sha256_of


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


@dataclass
class FixityReport:
    checked: int = 0
    problems: list[FixityProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_fixity(
    sessions: sessionmaker[Session], store: FileStore, *, progress: Callable[[int, int], None] | None = None
) -> FixityReport:
    """Recompute the sha256 of every original and derivative; ``progress(done, total)``."""
    report = FixityReport()
    with sessions() as s:
        total = (s.scalar(select(func.count()).select_from(StoredFile)) or 0) + (
            s.scalar(select(func.count()).select_from(Derivative)) or 0)
        originals = s.execute(select(StoredFile.sha256, StoredFile.original_name)).all()
        derivatives = s.execute(select(Derivative.relpath, Derivative.sha256, Derivative.kind, Derivative.page_id)).all()
    entries = [(store.original_relpath(sha), sha, f"original {name!r}") for sha, name in originals]
    entries += [(rel, sha, f"{kind} of page {pid}") for rel, sha, kind, pid in derivatives]
    for n, (rel, expected, what) in enumerate(entries, 1):
        path = store.resolve(rel)
        if not path.is_file():
            report.problems.append(FixityProblem("missing", rel, expected, None, what))
        else:
            actual = sha256_of(path)
            if actual != expected:
                report.problems.append(FixityProblem("mismatch", rel, expected, actual, what))
        report.checked += 1
        if progress:
            progress(n, total)
    return report
