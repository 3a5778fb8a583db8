"""What an uploaded path holds: the scan files and pages in it, checked and safe.

This is the first stage of ingest and the only one that looks at raw uploaded
bytes. It knows nothing of the database, Flask or Celery:

- :func:`inspect_file` takes one file and returns a :class:`ScanFile` (its
  media type *sniffed from the content*, size, sha256 and one
  :class:`PageRef` per page), or raises :class:`~library.errors.InputRejected`
  (or its subclass :class:`~library.errors.LimitExceeded`) saying what is wrong
  in words a librarian can act on. No other exception escapes it.
- :func:`expand_upload` takes a file, a folder or a zip and returns an
  :class:`Expansion`: the accepted files in page order, and every problem
  found, one per file, so that one bad page does not stop the batch.

Rules this module enforces:

- **Content decides, never the name.** A PNG named ``.jpg`` is accepted as
  ``image/png``; a PDF named ``.png`` is accepted as ``application/pdf``. A
  file whose content is not JPEG, PNG, TIFF, JPEG 2000 or PDF is rejected with
  what it looks like (an HTML page, a program, a zip, a GIF …).
- **Limits before work.** Declared pixel counts are checked before any pixel
  is decoded (decompression bombs), TIFF frames are counted before any is
  decoded, zip headers are checked before anything is extracted, and the real
  bytes are counted again while extracting, since headers can lie.
- **Decode fully.** Every image page is decoded once (``Image.load()``), so a
  truncated or corrupt scan is refused at upload time rather than at OCR time.
- **Nothing is written outside ``staging_dir``.** Zip entries are extracted
  under generated names (``000001.tif``); the entry name is kept only as the
  display name (``original_name``) and never becomes a path.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import re
import stat
import struct
import threading
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, features
from PIL import Jpeg2KImagePlugin, JpegImagePlugin, PngImagePlugin, TiffImagePlugin

from library.errors import InputRejected, LimitExceeded
from library.ingest.filenames import (  # noqa: F401  (re-exported)
    _is_junk,
    _nfc,
    describe_char,
    display_label,
    first_unsafe_char,
    name_problem,
)
from library.catalogue.naturalsort import natural_key, natural_path_key
from library.settings import Limits
from library.ingest.sniffing import _rejected_content, sniff  # noqa: F401  (re-exported)

__all__ = [
    "PageRef",
    "ScanFile",
    "SheetFile",
    "Expansion",
    "inspect_file",
    "expand_upload",
    "natural_key",
    "name_problem",
    "display_label",
    "describe_char",
    "first_unsafe_char",
    "sniff",
    "MEDIA_TYPES",
]

# --------------------------------------------------------------------------- types


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
    :func:`library.catalogue.metadata.read_metadata_sheet`; its ``files`` column refers
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

_KIND = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/tiff": "TIFF",
    "image/jp2": "JPEG 2000",
    "application/pdf": "PDF",
}
_PLUGIN = {
    "image/jpeg": JpegImagePlugin.JpegImageFile,
    "image/png": PngImagePlugin.PngImageFile,
    "image/tiff": TiffImagePlugin.TiffImageFile,
    "image/jp2": Jpeg2KImagePlugin.Jpeg2KImageFile,
}

_HEAD_BYTES = 8192
_CHUNK = 1 << 20
# The expanded/compressed ratio of a zip entry is checked only past this size:
# a few kilobytes of blank page compress far beyond any sane ratio, harmlessly.
_RATIO_CHECK_MIN_BYTES = 1 << 20
# A PDF text layer is only a hint; a hostile page could carry megabytes of it.
_MAX_TEXT_HINT_CHARS = 200_000
# Files a file manager or an OS leaves in folders and zips; skipped silently.

# PDFium is not thread-safe; a threaded web server may inspect two PDFs at once.
_PDFIUM_LOCK = threading.Lock()

# ------------------------------------------------------------------- messages


def _fmt_bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def _fmt_pixels(n: int) -> str:
    return f"{n / 1e6:,.1f} million pixels" if n >= 1_000_000 else f"{n:,} pixels"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = display_label(text.replace("\n", " "))
    return text


# ------------------------------------------------------------------ inspect_file


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


# ---------------------------------------------------------------------- images


def _image_pages(path: Path, media_type: str, label: str, limits: Limits) -> tuple[PageRef, ...]:
    kind = _KIND[media_type]
    if media_type == "image/jp2" and not features.check("jpg_2000"):
        raise InputRejected(
            label, "JPEG 2000 cannot be read on this server (Pillow lacks OpenJPEG); convert the file to TIFF or PNG"
        )
    try:
        with open(path, "rb") as fp, warnings.catch_warnings():
            # Pillow warns about odd metadata ("Corrupt EXIF data") and about
            # sizes past its own bomb threshold. Neither decides here: damaged
            # pixels fail to decode, and our pixel limit is checked before
            # decoding. Ignoring them keeps the verdict the same whether or
            # not warnings are errors (they are under pytest).
            warnings.simplefilter("ignore")
            # The plugin class itself, not Image.open: the sniffed type decides the decoder.
            im = _PLUGIN[media_type](fp, os.fsdecode(path))
            try:
                frames = _count_frames(im, label, limits) if media_type == "image/tiff" else 1
                pages = []
                for index in range(frames):
                    if index:
                        im.seek(index)
                    pages.append(_decode_page(im, index, frames, label, limits))
                return tuple(pages)
            finally:
                im.close()
    except InputRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise LimitExceeded(
            label, f"Pillow refuses to decode it as a possible decompression bomb ({_reason(exc)})"
        ) from None
    except MemoryError:
        raise LimitExceeded(label, f"there is not enough memory to decode this {kind} image") from None
    except Exception as exc:  # Pillow raises many types on hostile bytes; all mean "corrupt"
        raise InputRejected(
            label,
            f"corrupt or truncated {kind} image ({_reason(exc)}); the copy may be incomplete, so export or copy it again",
        ) from None


def _count_frames(im: TiffImagePlugin.TiffImageFile, label: str, limits: Limits) -> int:
    """Number of TIFF frames, found by walking the directory chain (no pixels decoded)."""
    frames = 1
    while True:
        try:
            im.seek(frames)
        except EOFError:
            break
        frames += 1
        if frames > limits.max_pages_per_file:
            raise LimitExceeded(
                label,
                f"the TIFF holds more than {limits.max_pages_per_file:,} pages, the limit per file; "
                "split it into several files",
            )
    im.seek(0)
    return frames


def _decode_page(im: Image.Image, index: int, frames: int, label: str, limits: Limits) -> PageRef:
    width, height = im.size
    where = f"page {index + 1} of {frames}" if frames > 1 else "the image"
    if width <= 0 or height <= 0:
        raise InputRejected(label, f"{where} declares an empty picture ({width} × {height} pixels)")
    pixels = width * height
    if pixels > limits.max_image_pixels:
        raise LimitExceeded(
            label,
            f"{where} declares {width:,} × {height:,} pixels ({_fmt_pixels(pixels)}), over the limit of "
            f"{_fmt_pixels(limits.max_image_pixels)} per page; this may be a decompression bomb, "
            "or a scan at a needlessly high resolution (300–600 dpi is enough)",
        )
    im.load()
    return PageRef(page_index=index, width=width, height=height, dpi=_dpi(im.info), text_hint=None)


def _dpi(info: dict) -> tuple[float, float] | None:
    value = info.get("dpi")
    try:
        x, y = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not (math.isfinite(x) and math.isfinite(y)) or x <= 0 or y <= 0:
        return None
    return (round(x, 2), round(y, 2))  # PNG stores dots per metre: 11811 → 299.9994


# ------------------------------------------------------------------------- PDF


def _pdf_pages(path: Path, label: str, limits: Limits) -> tuple[PageRef, ...]:
    import pypdfium2 as pdfium  # only PDF uploads pay for loading PDFium
    import pypdfium2.raw as pdfium_c

    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(os.fspath(path))
        except pdfium.PdfiumError as exc:
            code = getattr(exc, "err_code", None)
            if code == pdfium_c.FPDF_ERR_PASSWORD:
                raise InputRejected(label, "password-protected PDF: remove the password and upload again") from None
            if code == pdfium_c.FPDF_ERR_SECURITY:
                raise InputRejected(
                    label, "the PDF is encrypted with an unsupported scheme: remove the encryption and upload again"
                ) from None
            if code == pdfium_c.FPDF_ERR_SUCCESS:
                raise InputRejected(label, "the PDF has no pages") from None
            raise InputRejected(
                label, f"broken PDF: it cannot be opened ({_reason(exc)}); export it again from the program that made it"
            ) from None
        except Exception as exc:
            raise InputRejected(label, f"broken PDF: it cannot be opened ({_reason(exc)})") from None
        try:
            count = len(pdf)
            if count > limits.max_pages_per_file:
                raise LimitExceeded(
                    label,
                    f"the PDF has {count:,} pages, over the limit of {limits.max_pages_per_file:,} per file; "
                    "split it into several files",
                )
            return tuple(_pdf_page(pdf, index, count, label, limits) for index in range(count))
        except InputRejected:
            raise
        except MemoryError:
            raise LimitExceeded(label, "there is not enough memory to read this PDF") from None
        except Exception as exc:
            raise InputRejected(label, f"broken PDF: a page cannot be read ({_reason(exc)})") from None
        finally:
            pdf.close()


def _pdf_page(pdf, index: int, count: int, label: str, limits: Limits) -> PageRef:
    page = pdf[index]
    try:
        width_pt, height_pt = page.get_size()
        where = f"page {index + 1} of {count}"
        if not (math.isfinite(width_pt) and math.isfinite(height_pt)) or width_pt <= 0 or height_pt <= 0:
            raise InputRejected(label, f"{where} has no usable size ({width_pt} × {height_pt} points)")
        dpi = limits.pdf_dpi
        width, height = max(1, round(width_pt * dpi / 72)), max(1, round(height_pt * dpi / 72))
        if width * height > limits.max_image_pixels:
            raise LimitExceeded(
                label,
                f"{where} would be {width:,} × {height:,} pixels at {dpi} dpi ({_fmt_pixels(width * height)}), "
                f"over the limit of {_fmt_pixels(limits.max_image_pixels)} per page",
            )
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
        return PageRef(page_index=index, width=width, height=height, dpi=(float(dpi), float(dpi)), text_hint=_clean_hint(text))
    finally:
        page.close()


_HINT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _clean_hint(text: str) -> str | None:
    text = _HINT_CONTROLS.sub("", _nfc(text.replace("\r\n", "\n").replace("\r", "\n")))
    text = text[:_MAX_TEXT_HINT_CHARS].strip()
    return text or None


# ---------------------------------------------------------------- expand_upload


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
        _expand_folder(path, name, limits, expansion)
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
            _expand_zip(path, name, label, staging_dir, limits, expansion)
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


# --------------------------------------------------------------------- folders


def _expand_folder(root: Path, root_name: str, limits: Limits, expansion: Expansion) -> None:
    """Files under ``root``, named ``root_name/relative/path`` (natural order)."""
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
            _expand_one(file_path, name, label, None, limits, expansion, inside="a folder")


# ------------------------------------------------------------------------- zips


class _ZipLied(LimitExceeded):
    """Real bytes went past what the zip's headers allowed: reject the whole archive."""


def _expand_zip(
    path: Path, zip_name: str, zip_label: str, staging_dir: Path, limits: Limits, expansion: Expansion
) -> None:
    declared = _declared_entry_count(path, stop_after=limits.max_zip_entries)
    if declared is not None and declared > limits.max_zip_entries:
        expansion.problems.append(_too_many_entries(zip_label, limits))
        return
    try:
        archive = zipfile.ZipFile(path)
    except Exception as exc:  # BadZipFile, OSError, ValueError, struct.error … on hostile bytes
        expansion.problems.append(
            InputRejected(zip_label, f"corrupt zip archive ({_reason(exc)}); make the zip again")
        )
        return
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_zip_entries:
            expansion.problems.append(_too_many_entries(zip_label, limits))
            return
        plan, problems = _plan_zip(infos, zip_label, limits)
        expansion.problems.extend(problems)
        declared_total = sum(info.file_size for info, _, _ in plan)
        if declared_total > limits.max_zip_total_bytes:
            expansion.problems.append(
                LimitExceeded(
                    zip_label,
                    f"the zip expands to {_fmt_bytes(declared_total)}, over the limit of "
                    f"{_fmt_bytes(limits.max_zip_total_bytes)} per zip; split it into several zips",
                )
            )
            return
        try:
            size, digest = _sha256(path, zip_label, limits)
        except InputRejected as exc:
            expansion.problems.append(exc)
            return
        expansion.package = ScanFile(
            path=path, original_name=zip_name, media_type="application/zip", size_bytes=size, sha256=digest, pages=()
        )
        _extract_zip(archive, plan, zip_label, Path(staging_dir), limits, expansion)


def _too_many_entries(zip_label: str, limits: Limits) -> LimitExceeded:
    return LimitExceeded(
        zip_label,
        f"the zip holds more than {limits.max_zip_entries:,} entries, the limit per zip; split it into several zips",
    )


_DRIVE = re.compile(r"^[A-Za-z]:")


def _zip_path_problem(raw_name: str) -> str | None:
    """Why a zip entry's path is hostile, or ``None``. Backslashes count as separators."""
    if "\x00" in raw_name:
        return "the entry name contains a NUL byte (U+0000), a trick to hide its real name"
    if raw_name.startswith(("/", "\\")):
        return "the entry has an absolute path; zips must hold relative paths only"
    if _DRIVE.match(raw_name):
        return "the entry path starts with a drive letter; zips must hold relative paths only"
    if ".." in re.split(r"[\\/]", raw_name):
        return "the entry path contains '..', which would climb out of the folder; zips must not do that"
    return None


def _plan_zip(
    infos: list[zipfile.ZipInfo], zip_label: str, limits: Limits
) -> tuple[list[tuple[zipfile.ZipInfo, str, str]], list[InputRejected]]:
    """The entries worth extracting, ``(info, display name, label)`` in natural order, and the problems."""
    plan: list[tuple[zipfile.ZipInfo, str, str]] = []
    problems: list[tuple[str, InputRejected]] = []
    seen: set[str] = set()
    for info in infos:
        raw = _nfc(info.orig_filename)
        parts = [p for p in re.split(r"[\\/]", raw) if p not in ("", ".")]
        name = "/".join(parts)
        label = f"{display_label(raw)} (in {zip_label})"
        verdict = _entry_verdict(info, raw, parts, limits)
        if verdict is None and name in seen:
            verdict = (InputRejected, "the zip holds two entries with this name; only the first is used")
        if verdict == _SKIP:
            continue
        if verdict is not None:
            cls, problem = verdict
            problems.append((name, cls(label, problem)))
            continue
        seen.add(name)
        plan.append((info, name, label))
    plan.sort(key=lambda item: natural_path_key(item[1]))
    problems.sort(key=lambda item: natural_path_key(item[0]))
    return plan, [problem for _, problem in problems]


_SKIP = ("skip", "")


def _entry_verdict(
    info: zipfile.ZipInfo, raw: str, parts: list[str], limits: Limits
) -> tuple[type[InputRejected], str] | tuple[str, str] | None:
    """``None`` to extract the entry, :data:`_SKIP` to pass over it quietly, or ``(error class, problem)``."""
    problem = _zip_path_problem(raw) or (name_problem("/".join(parts)) if parts else None)
    if problem:
        return InputRejected, problem
    if not parts or any(_is_junk(p) for p in parts):
        return _SKIP
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return InputRejected, "a symbolic link inside the zip; links are not extracted, so zip the file itself"
    if raw.endswith(("/", "\\")) or stat.S_ISDIR(mode):
        return _SKIP  # folders are implied by their files' names; none is created
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        return InputRejected, "not a regular file (a device, pipe or socket entry)"
    if info.flag_bits & 0x1:
        return InputRejected, "the entry is encrypted (the zip has a password); make the zip again without a password"
    if parts[-1].lower().endswith(".zip"):
        return InputRejected, _NESTED_ZIP
    if info.file_size == 0:
        return InputRejected, "the file is empty (0 bytes)"
    if info.file_size > limits.max_file_bytes:
        return LimitExceeded, (
            f"the file is {_fmt_bytes(info.file_size)}, over the limit of {_fmt_bytes(limits.max_file_bytes)} per file"
        )
    if info.file_size > _RATIO_CHECK_MIN_BYTES and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1):
        return LimitExceeded, _ratio_problem(info.compress_size, info.file_size, limits)
    return None


_NESTED_ZIP = "zip inside a zip is not supported; unpack the inner zip and add its pages instead"


def _ratio_problem(compressed: int, expanded: int, limits: Limits) -> str:
    ratio = expanded / max(compressed, 1)
    return (
        f"the entry expands from {_fmt_bytes(compressed)} to {_fmt_bytes(expanded)} (ratio {ratio:,.0f}:1, "
        f"the limit is {limits.max_zip_ratio}:1); it looks like a zip bomb"
    )


def _extract_zip(
    archive: zipfile.ZipFile,
    plan: list[tuple[zipfile.ZipInfo, str, str]],
    zip_label: str,
    staging_dir: Path,
    limits: Limits,
    expansion: Expansion,
) -> None:
    staging_dir.mkdir(parents=True, exist_ok=True)
    extracted: list[Path] = []
    first_file = len(expansion.files)
    first_sheet = len(expansion.sheets)
    written_total = 0
    numbers = itertools.count(sum(1 for _ in os.scandir(staging_dir)) + 1)
    for info, name, label in plan:
        try:
            target, size = _extract_entry(
                archive,
                info,
                staging_dir,
                label,
                limits,
                budget=limits.max_zip_total_bytes - written_total,
                numbers=numbers,
            )
        except _ZipLied as lie:
            # The archive's headers lied: nothing from it is trusted.
            for done in extracted:
                done.unlink(missing_ok=True)
            del expansion.files[first_file:]
            del expansion.sheets[first_sheet:]
            expansion.package = None
            expansion.problems.append(LimitExceeded(zip_label, lie.problem))
            return
        except InputRejected as exc:
            expansion.problems.append(exc)
            continue
        written_total += size
        extracted.append(target)
        before = len(expansion.files) + len(expansion.sheets)
        _expand_one(target, name, label, staging_dir, limits, expansion, inside="a zip")
        if len(expansion.files) + len(expansion.sheets) == before:  # rejected: do not keep its bytes
            target.unlink(missing_ok=True)
            extracted.remove(target)


def _staged_suffix(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".bin"


def _create_staged_file(staging_dir: Path, suffix: str, numbers: Iterator[int]) -> tuple[int, Path]:
    """A new, empty file directly in ``staging_dir`` under a generated name, opened exclusively.

    The name is only digits and a short suffix, so it cannot point anywhere
    else; ``O_EXCL | O_NOFOLLOW`` refuses to reuse or follow anything already there.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for number in numbers:
        target = staging_dir / f"{number:06d}{suffix}"
        try:
            return os.open(target, flags, 0o600), target
        except FileExistsError:
            continue
    raise AssertionError("unreachable: the numbers never run out")


def _extract_entry(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    staging_dir: Path,
    label: str,
    limits: Limits,
    *,
    budget: int,
    numbers: Iterator[int],
) -> tuple[Path, int]:
    """Copy one entry into ``staging_dir``, counting real bytes against every limit."""
    fd, target = _create_staged_file(staging_dir, _staged_suffix(info.filename), numbers)
    written = 0
    try:
        with os.fdopen(fd, "wb") as out, archive.open(info) as entry:
            while chunk := entry.read(_CHUNK):
                written += len(chunk)
                if written > budget:
                    raise _ZipLied(
                        label,
                        "the zip holds more bytes than its headers declare (past the limit of "
                        f"{_fmt_bytes(limits.max_zip_total_bytes)} per zip); it looks like a zip bomb and was not extracted",
                    )
                if written > limits.max_file_bytes:
                    raise LimitExceeded(
                        label, f"the file is over the limit of {_fmt_bytes(limits.max_file_bytes)} per file"
                    )
                if written > info.file_size:
                    raise _ZipLied(label, "an entry holds more bytes than its header declares; the zip was not extracted")
                if written > _RATIO_CHECK_MIN_BYTES and written > limits.max_zip_ratio * max(info.compress_size, 1):
                    raise LimitExceeded(label, _ratio_problem(info.compress_size, written, limits))
                out.write(chunk)
    except InputRejected:
        target.unlink(missing_ok=True)
        raise
    except BaseException as exc:
        target.unlink(missing_ok=True)
        if not isinstance(exc, Exception):
            raise
        raise InputRejected(
            label, f"the entry cannot be extracted ({_reason(exc)}); the zip may be damaged, so make it again"
        ) from None
    return target, written


def _declared_entry_count(path: Path, *, stop_after: int) -> int | None:
    """Entries in a zip's central directory, counted without building them.

    :class:`zipfile.ZipFile` reads the whole central directory into objects;
    a hostile zip could declare millions of entries. This walks the records
    and stops after ``stop_after``. ``None`` when the layout is not understood
    (then ``zipfile`` decides, and its count is checked too).
    """
    try:
        with open(path, "rb") as fp:
            fp.seek(0, os.SEEK_END)
            size = fp.tell()
            tail_size = min(size, 22 + 0xFFFF)
            fp.seek(size - tail_size)
            tail = fp.read(tail_size)
            at = tail.rfind(b"PK\x05\x06")
            if at < 0 or len(tail) - at < 22:
                return None
            _, _, _, _, total, cd_size, _, _ = struct.unpack("<4s4H2LH", tail[at : at + 22])
            end_of_cd = size - tail_size + at
            if total == 0xFFFF or cd_size == 0xFFFFFFFF:
                locator = tail[at - 20 : at] if at >= 20 else b""
                if not locator.startswith(b"PK\x06\x07"):
                    return None
                _, _, record_at, _ = struct.unpack("<4sLQL", locator)
                fp.seek(record_at)
                record = fp.read(56)
                if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
                    return None
                fields = struct.unpack("<4sQ2H2L4Q", record)
                total, cd_size, end_of_cd = fields[7], fields[8], record_at
            if total > stop_after:
                return total
            fp.seek(max(0, end_of_cd - cd_size))
            count = 0
            while count <= stop_after:
                header = fp.read(46)
                if len(header) < 46 or not header.startswith(b"PK\x01\x02"):
                    break
                name_len, extra_len, comment_len = struct.unpack("<3H", header[28:34])
                fp.seek(name_len + extra_len + comment_len, os.SEEK_CUR)
                count += 1
            return max(count, total)
    except (OSError, struct.error, ValueError, OverflowError):
        return None


# ------------------------------------------------------------------ zone files

MAX_ZONES = 500


def read_zone_file(path: Path, *, label: str, width: int, height: int) -> tuple[tuple[int, int, int, int], ...]:
    """Zones of a UNLV ``.uzn`` file (``x y w h Type`` per line, pixels), checked
    against the page's size. Raises :class:`InputRejected` naming the line."""
    try:
        raw = path.read_bytes()[: 200_000].decode("ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputRejected(label, f"not a UNLV zone file ({exc})") from None
    zones = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            x, y, w, h = (int(v) for v in parts[:4])
        except ValueError:
            raise InputRejected(label, f"line {n}: expected 'x y width height type', got {line[:60]!r}") from None
        if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > width or y + h > height:
            raise InputRejected(label, f"line {n}: zone {x} {y} {w} {h} lies outside the {width}×{height} page")
        zones.append((x, y, w, h))
        if len(zones) > MAX_ZONES:
            raise LimitExceeded(label, f"more than {MAX_ZONES} zones")
    if not zones:
        raise InputRejected(label, "the zone file lists no zones")
    return tuple(zones)
