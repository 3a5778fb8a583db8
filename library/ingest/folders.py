"""The files of an uploaded folder: walked recursively in natural order (``p2`` before ``p10``),
skipping hidden files, ``__MACOSX``, ``Thumbs.db`` and ``desktop.ini``; symbolic links are refused,
never followed, and nothing is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from library.catalogue.naturalsort import natural_path_key
from library.errors import InputRejected
from library.ingest.filenames import _is_junk, _nfc, display_label, name_problem
from library.ingest.scan_types import Expansion
from library.settings import Limits


def _expand_folder(
    root: Path, root_name: str, limits: Limits, expansion: Expansion, expand_one: Callable[..., None]
) -> None:
    """Files under ``root``, named ``root_name/relative/path`` (natural order), each given to
    ``expand_one`` (:func:`library.ingest.uploads._expand_one`)."""
    found: list[tuple[str, Path | None, str | None]] = []  # (display name, path, problem)
    pending: list[tuple[Path, str]] = [(root, root_name.rstrip("/") + "/")]
    while pending:
        folder, prefix = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            found.append((prefix.rstrip("/"), None, f"the folder cannot be read ({exc.strerror or exc})"))
            continue
        for entry in entries:
            part = _nfc(os.fsdecode(entry.name))
            if _is_junk(part):
                continue
            name = prefix + part
            problem = name_problem(part)
            if problem:
                found.append((name, None, problem))
            elif entry.is_symlink():
                found.append((name, None, "a symbolic link; links are not followed, so copy the file itself into the folder"))
            elif entry.is_dir(follow_symlinks=False):
                pending.append((Path(entry.path), name + "/"))
            elif entry.is_file(follow_symlinks=False):
                found.append((name, Path(entry.path), None))
            else:
                found.append((name, None, "not a regular file (a device, pipe or socket)"))
    found.sort(key=lambda item: natural_path_key(item[0]))
    for name, file_path, problem in found:
        label = display_label(name)
        if problem is not None:
            expansion.problems.append(InputRejected(label, problem))
        else:
            expand_one(file_path, name, label, None, limits, expansion, inside="a folder")
