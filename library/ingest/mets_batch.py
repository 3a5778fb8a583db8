"""A batch of METS packages: which packages one path given to the ingest holds.

Two kinds of batch are recognised, both folders:

- an NDNP-style batch: a ``*batch*.xml`` file at the top whose root is ``<batch>`` and whose ``<issue>``
  elements name each issue's METS file, relative to the batch folder (the Library of Congress delivery
  format, ``../shared/data/ocr/ndnp-park-record-1935/``);
- a folder of packages: no METS file at its top, and among its sub-folders and zips at least one METS
  package; then every sub-folder and zip is taken for a package (one that is not is reported, not skipped).

Nothing here imports anything: :meth:`library.ingest.mets_import.MetsImporter.import_batch` does, one
package at a time, each with its own outcome. Batch files are read with the hardened parser and their
references checked like a METS file's (no URL, no absolute path, nothing outside the batch folder).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from library.errors import InputRejected
from library.ingest.mets_package import find_mets_files, is_mets_package, resolve_href
from library.ingest.safe_xml import descendants, local_name, read_xml

BATCH_FILE_GLOB = "*batch*.xml"
MAX_BATCH_XML_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class BatchPackage:
    """One package of a batch: how reports name it, where it is, or why it cannot even be found."""

    label: str  # its path inside the batch folder: "sn85058233/…/1935080201.xml", "issue-2.zip"
    path: Path | None
    problem: InputRejected | None = None


def batch_packages(path: Path) -> list[BatchPackage] | None:
    """The packages of the batch at ``path`` in order (batch file order, else by name), or None when
    ``path`` is not a batch (a single package, scans, a sheet). A batch file that cannot be read is one
    rejected entry naming it."""
    path = Path(path)
    if not path.is_dir():
        return None
    batch_file = _batch_file(path)
    if batch_file is not None:
        return _issues(batch_file, root=path)
    if any(p.parent == path for p in find_mets_files(path, max_files=2_000)):
        return None  # the folder is itself a package
    candidates = sorted((c for c in path.iterdir() if not c.name.startswith(".")
                         and (c.is_dir() or c.suffix.lower() == ".zip")), key=lambda c: c.name)
    if not any(is_mets_package(c) for c in candidates):
        return None
    return [BatchPackage(c.name, c) for c in candidates]


def _batch_file(folder: Path) -> Path | None:
    for candidate in sorted(folder.glob(BATCH_FILE_GLOB)):
        if not candidate.is_file() or candidate.is_symlink():
            continue
        with open(candidate, "rb") as f:
            head = f.read(2048).decode("utf-8", errors="replace")
        if "<batch" in head or ":batch" in head:
            return candidate
    return None


def _issues(batch_file: Path, *, root: Path) -> list[BatchPackage]:
    root = root.resolve()
    label = batch_file.name
    try:
        doc = read_xml(batch_file, label=label, max_bytes=MAX_BATCH_XML_BYTES)
    except InputRejected as exc:
        return [BatchPackage(label, None, exc)]
    if local_name(doc.tag) != "batch":
        return [BatchPackage(label, None, InputRejected(label, f"not a batch file (root <{local_name(doc.tag)}>)"))]
    out = []
    for n, issue in enumerate(descendants(doc, "issue"), start=1):
        href = "".join(issue.itertext()).strip()
        try:
            name, target = resolve_href(href, root=root, base=batch_file.resolve().parent, label=label)
        except InputRejected as exc:
            out.append(BatchPackage(f"{label} issue {n}", None, exc))
            continue
        if not target.is_file():
            out.append(BatchPackage(name, None, InputRejected(name, f"missing from the batch (issue {n} of {label})")))
            continue
        out.append(BatchPackage(name, target))
    if not out:
        return [BatchPackage(label, None, InputRejected(label, "the batch file names no issue"))]
    return out
