"""A hard set of Vietnamese page images with exact ground truth, for
developing and measuring OCR (issue #9, point 1).

Eight kinds of page model what real library scans and photographs of
1920s–1990s Vietnamese books and newspapers show (see README.md beside this
file): a 150-dpi scan, an open book photographed, mixed type with page
furniture, a three-column newspaper, a page under a shadow, a leaf with
bleed-through and stains, worn faded type, and a phone photo.

Two splits use different texts and seeds: ``dev`` is for tuning, ``test``
for reporting only. Pages are deterministic: the same split, kind and index
always give the same pixels.

    pages = generate(Path("out"), split="dev", pages_per_kind=3)
    for page in pages:
        page.image_path, page.text, page.columns
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from . import fonts
from .kinds import RECIPES, Capture
from .texts import SPLITS

KINDS: tuple[str, ...] = ("dpi150", "spread", "mixed", "newspaper3", "shadow", "bleed", "faded", "phone")

__all__ = ["KINDS", "SPLITS", "HardPage", "generate", "generate_page", "page_seed"]


@dataclass(frozen=True)
class HardPage:
    """One generated page and its ground truth.

    ``lines``: every printed line, in reading order, NFC, exactly as printed
    (words joined by single spaces). ``columns``: for multi-column kinds
    (spread, newspaper3) the column of each line (0, 1, 2 from the left; -1 for
    a line spanning the columns: masthead, headlines), else None. ``dpi``: the
    resolution tagged in the image file. ``fonts``: keys of
    ``bench.hardpages.fonts.TYPEFACES`` used on the page.
    """

    kind: str
    split: str
    index: int
    image_path: Path
    lines: tuple[str, ...]
    columns: tuple[int, ...] | None
    dpi: int
    languages: str = "vie"
    fonts: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def page_seed(split: str, kind: str, index: int) -> int:
    """The 64-bit seed of one page (stable across Python versions and runs)."""
    digest = hashlib.sha256(f"hardpages/{split}/{kind}/{index}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def generate_page(out_dir: Path, *, split: str, kind: str, index: int) -> HardPage:
    """Make one page: write its image into ``out_dir`` and return it."""
    if kind not in RECIPES:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    rng = np.random.default_rng(page_seed(split, kind, index))
    hint = KINDS.index(kind) + 2 * index  # which article the page starts in
    capture = RECIPES[kind](split, index, rng, hint)
    lines, columns = _truth(capture)
    _check_glyphs(lines, capture.sheet.canvas.fonts_used)
    suffix = ".png" if capture.file_format == "png" else ".jpg"
    path = Path(out_dir) / f"{split}-{kind}-{index:02d}{suffix}"
    _write_image(capture, path)
    return HardPage(kind=kind, split=split, index=index, image_path=path, lines=lines,
                    columns=columns, dpi=capture.dpi, fonts=tuple(sorted(capture.sheet.canvas.fonts_used)))


def generate(out_dir: Path, *, split: str = "test", pages_per_kind: int = 3,
             kinds: Sequence[str] = KINDS) -> list[HardPage]:
    """Make ``pages_per_kind`` pages of each kind of ``split`` in ``out_dir`` (created
    if needed), write ``manifest.json`` and a ``.gt.txt`` truth file per page,
    and return the pages in kind order."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = [generate_page(out_dir, split=split, kind=kind, index=i)
             for kind in kinds for i in range(pages_per_kind)]
    for page in pages:
        page.image_path.with_suffix(".gt.txt").write_text(page.text + "\n", encoding="utf-8")
    write_manifest(out_dir / "manifest.json", pages)
    return pages


def write_manifest(path: Path, pages: Sequence[HardPage]) -> None:
    """``manifest.json``: one record per page (the HardPage fields, image path
    relative to the manifest)."""
    records = []
    for page in pages:
        record = asdict(page)
        record["image_path"] = os.path.relpath(page.image_path, path.parent)
        records.append(record)
    _atomic_write(path, json.dumps({"pages": records}, ensure_ascii=False, indent=1).encode())


def read_manifest(path: Path) -> list[HardPage]:
    """The pages listed in a ``manifest.json`` written by ``generate``."""
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    pages = []
    for r in data["pages"]:
        pages.append(HardPage(
            kind=r["kind"], split=r["split"], index=r["index"],
            image_path=path.parent / r["image_path"], lines=tuple(r["lines"]),
            columns=tuple(r["columns"]) if r["columns"] is not None else None,
            dpi=r["dpi"], languages=r["languages"], fonts=tuple(r["fonts"])))
    return pages


def _truth(capture: Capture) -> tuple[tuple[str, ...], tuple[int, ...] | None]:
    printed = capture.sheet.lines
    lines = tuple(unicodedata.normalize("NFC", ln.text) for ln in printed)
    if any(not ln.strip() for ln in lines):
        raise AssertionError("an empty line was recorded as printed")
    if not capture.sheet.multi_column:
        return lines, None
    return lines, tuple(-1 if ln.column is None else ln.column for ln in printed)


def _check_glyphs(lines: Sequence[str], fonts_used: set[str]) -> None:
    """Every font on the page must have every character of the page: a missing
    glyph would print a box and fake an OCR error."""
    text = "".join(lines)
    for key in fonts_used:
        fonts.require_glyphs(key, text)


def _write_image(capture: Capture, path: Path) -> None:
    image = Image.fromarray(capture.pixels)
    options: dict = {"dpi": (capture.dpi, capture.dpi)}
    if capture.file_format == "jpeg":
        options.update(quality=capture.jpeg_quality, subsampling=2, optimize=False)
        fmt = "JPEG"
    else:
        options.update(compress_level=6)
        fmt = "PNG"
    tmp = tempfile.NamedTemporaryFile(dir=path.parent, suffix=path.suffix, delete=False)
    try:
        with tmp:
            image.save(tmp, format=fmt, **options)
        os.replace(tmp.name, path)
    except BaseException:
        Path(tmp.name).unlink(missing_ok=True)
        raise


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
