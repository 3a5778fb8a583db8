"""What an uploaded path holds: :func:`expand_upload` takes a file, a folder or a zip and returns
an :class:`~library.ingest.scan_types.Expansion`: the accepted files in page order, and every problem
found, one per file, so that one bad page does not stop the batch.

This is the first stage of ingest and the only one that looks at raw uploaded
bytes. It knows nothing of the database, Flask or Celery. Each file is checked
by :func:`library.ingest.scan_files.inspect_file`; folders are walked by
:mod:`library.ingest.folders` and zips opened by :mod:`library.ingest.zips`.
**Nothing is written outside ``staging_dir``.**
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from library.errors import InputRejected
from library.ingest.filenames import _nfc, display_label, name_problem
from library.ingest.folders import _expand_folder
from library.ingest.scan_files import _inspect, _read_head, _regular_file_size
from library.ingest.scan_types import Expansion, SheetFile
from library.ingest.sniffing import sniff
from library.ingest.zips import _NESTED_ZIP, _expand_zip
from library.settings import Limits

__all__ = ["expand_upload"]


def expand_upload(
    path: Path, *, staging_dir: Path, limits: Limits, original_name: str | None = None
) -> Expansion:
    """The scan files an upload holds, in page order.

    - a file: itself;
    - a folder: its files, recursively, in natural order (``p2`` before
      ``p10``), skipping hidden files, ``__MACOSX``, ``Thumbs.db`` and
      ``desktop.ini``; symbolic links are refused, never followed;
    - a zip (recognised by content): its entries, checked against the zip
      limits, then extracted into ``staging_dir`` under generated names
      (``000001.tif``) and inspected; the entry name is only ``original_name``.

    ``.csv`` files beside the scans are returned as :attr:`Expansion.sheets`.
    Problems are collected, one per file; the other files go on. Only
    ``staging_dir`` is ever written to.
    """
    path = Path(path)
    name = _nfc(original_name if original_name is not None else os.fsdecode(path.name or path.resolve().name))
    label = display_label(name)
    expansion = Expansion()
    problem = name_problem(name)
    if problem:
        expansion.problems.append(InputRejected(label, problem))
        return expansion
    try:
        st = os.stat(path)
    except OSError:
        expansion.problems.append(InputRejected(label, "the upload is missing (moved or deleted before it could be read)"))
        return expansion
    if stat.S_ISDIR(st.st_mode):
        _expand_folder(path, name, limits, expansion, _expand_one)
    else:
        _expand_one(path, name, label, Path(staging_dir), limits, expansion, inside=None)
    return expansion


def _expand_one(
    path: Path,
    name: str,
    label: str,
    staging_dir: Path | None,
    limits: Limits,
    expansion: Expansion,
    *,
    inside: str | None,
) -> None:
    """One regular file of an upload: a scan, a sheet, or (at the top level) a zip."""
    try:
        _regular_file_size(path, label, limits)
        head = _read_head(path, label)
    except InputRejected as exc:
        expansion.problems.append(exc)
        return
    media_type, description = sniff(head)
    if media_type is None and description == "a ZIP archive":
        if inside is None and staging_dir is not None:
            _expand_zip(path, name, label, staging_dir, limits, expansion, _expand_one)
        elif inside == "a zip":
            expansion.problems.append(InputRejected(label, _NESTED_ZIP))
        else:
            expansion.problems.append(
                InputRejected(label, "a zip inside a folder is not supported; unpack it into the folder, or upload it on its own")
            )
        return
    if media_type is None and name.lower().endswith(".csv"):
        expansion.sheets.append(SheetFile(path=path, original_name=name))
        return
    if media_type is None and name.lower().endswith(".uzn"):
        expansion.zone_files.append(SheetFile(path=path, original_name=name))
        return
    try:
        expansion.files.append(_inspect(path, name=name, label=label, limits=limits))
    except InputRejected as exc:
        expansion.problems.append(exc)
