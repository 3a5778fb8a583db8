"""What an upload is found to hold: its scan files and their pages, metadata sheets and zone files.

Plain records, made by :mod:`library.ingest.scan_files` (one file) and
:mod:`library.ingest.uploads` (a file, folder or zip).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from library.errors import InputRejected

__all__ = ["PageRef", "ScanFile", "SheetFile", "Expansion", "MEDIA_TYPES"]


@dataclass(frozen=True)
class PageRef:
    """One page of one scan file."""

    page_index: int  # 0 for single images; n for the n-th TIFF frame / PDF page (0-based)
    width: int  # pixels (PDF: at Limits.pdf_dpi)
    height: int  # pixels (PDF: at Limits.pdf_dpi)
    dpi: tuple[float, float] | None  # (x, y) dots per inch, when the file says
    text_hint: str | None = None  # PDF text layer of the page, NFC; a hint, never trusted


@dataclass(frozen=True)
class ScanFile:
    """One accepted scan file."""

    path: Path  # where the bytes are now: the upload itself or a staged copy
    original_name: str  # display name (NFC) as the user gave it, e.g. "folder/p2.tif"
    media_type: str  # sniffed from the content: one of MEDIA_TYPES ("application/zip" for Expansion.package)
    size_bytes: int
    sha256: str  # hex
    pages: tuple[PageRef, ...]


@dataclass(frozen=True)
class SheetFile:
    """A ``.csv`` metadata sheet found in a folder or zip (read it with
    :func:`library.catalogue.metadata_sheets.read_metadata_sheet`; its ``files`` column refers
    to the ``original_name`` of the scans beside it)."""

    path: Path
    original_name: str


@dataclass
class Expansion:
    """What :func:`expand_upload` found."""

    files: list[ScanFile] = field(default_factory=list)  # accepted, in page order
    problems: list[InputRejected] = field(default_factory=list)  # one per rejected file
    sheets: list[SheetFile] = field(default_factory=list)  # metadata sheets seen beside the scans
    # UNLV zone files (``p1.uzn`` beside ``p1.tif``): layout hints for OCR, by original name
    zone_files: list[SheetFile] = field(default_factory=list)
    # The zip itself, when the upload was one (media type "application/zip", no
    # pages), so that the package can be kept exactly as it was uploaded.
    package: ScanFile | None = None


MEDIA_TYPES = ("image/jpeg", "image/png", "image/tiff", "image/jp2", "application/pdf")
