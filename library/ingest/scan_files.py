"""One uploaded file checked: :func:`inspect_file` returns a :class:`~library.ingest.scan_types.ScanFile`.

It sniffs the media type *from the content* (never the name), counts the size
and sha256, and describes every page (images by :mod:`library.ingest.images`,
PDFs by :mod:`library.ingest.pdfs`), or raises
:class:`~library.errors.InputRejected` (or its subclass
:class:`~library.errors.LimitExceeded`) saying what is wrong in words a
librarian can act on. No other exception escapes it. It knows nothing of the
database, Flask or Celery.

**Content decides, never the name.** A PNG named ``.jpg`` is accepted as
``image/png``; a PDF named ``.png`` is accepted as ``application/pdf``. A file
whose content is not JPEG, PNG, TIFF, JPEG 2000 or PDF is rejected with what it
looks like (an HTML page, a program, a zip, a GIF …).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from library.errors import InputRejected, LimitExceeded
from library.ingest.filenames import _nfc, display_label, name_problem
from library.ingest.images import _image_pages
from library.ingest.messages import _fmt_bytes
from library.ingest.pdfs import _pdf_pages
from library.ingest.scan_types import ScanFile
from library.ingest.sniffing import _rejected_content, sniff
from library.settings import Limits

__all__ = ["inspect_file"]

_HEAD_BYTES = 8192
_CHUNK = 1 << 20


def inspect_file(path: Path, *, original_name: str | None = None, limits: Limits) -> ScanFile:
    """Check one uploaded file and describe its pages.

    ``original_name`` is the name to show (the user's name of an upload kept
    under a temporary name; defaults to ``path.name``). Raises
    :class:`InputRejected` (or :class:`LimitExceeded`) naming the file; no
    other exception escapes.
    """
    path = Path(path)
    name = _nfc(original_name if original_name is not None else os.fsdecode(path.name))
    label = display_label(name)
    problem = name_problem(name)
    if problem:
        raise InputRejected(label, problem)
    return _inspect(path, name=name, label=label, limits=limits)


def _inspect(path: Path, *, name: str, label: str, limits: Limits) -> ScanFile:
    size = _regular_file_size(path, label, limits)
    head = _read_head(path, label)
    media_type, description = sniff(head)
    if media_type is None:
        raise InputRejected(label, _rejected_content(name, description))
    size, digest = _sha256(path, label, limits)
    if size == 0:  # shrank while we read it
        raise InputRejected(label, "the file is empty (0 bytes); upload it again")
    if media_type == "application/pdf":
        pages = _pdf_pages(path, label, limits)
    else:
        pages = _image_pages(path, media_type, label, limits)
    return ScanFile(
        path=path,
        original_name=name,
        media_type=media_type,
        size_bytes=size,
        sha256=digest,
        pages=pages,
    )


def _regular_file_size(path: Path, label: str, limits: Limits) -> int:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputRejected(label, "the file is missing (moved or deleted before it could be read)") from None
    except OSError as exc:
        raise InputRejected(label, f"the file cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputRejected(label, "not a regular file (a folder, device or pipe)")
    if st.st_size == 0:
        raise InputRejected(label, "the file is empty (0 bytes); the upload may have failed, so upload it again")
    if st.st_size > limits.max_file_bytes:
        raise LimitExceeded(
            label,
            f"the file is {_fmt_bytes(st.st_size)}, over the limit of {_fmt_bytes(limits.max_file_bytes)} per file",
        )
    return st.st_size


def _read_head(path: Path, label: str) -> bytes:
    try:
        with open(path, "rb") as fp:
            return fp.read(_HEAD_BYTES)
    except OSError as exc:
        raise InputRejected(label, f"the file cannot be read ({exc.strerror or exc})") from None


def _sha256(path: Path, label: str, limits: Limits) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as fp:
            while chunk := fp.read(_CHUNK):
                size += len(chunk)
                if size > limits.max_file_bytes:  # grew while we read it
                    raise LimitExceeded(
                        label, f"the file is over the limit of {_fmt_bytes(limits.max_file_bytes)} per file"
                    )
                digest.update(chunk)
    except OSError as exc:
        raise InputRejected(label, f"the file cannot be read ({exc.strerror or exc})") from None
    return size, digest.hexdigest()
