"""The pages of a JPEG, PNG, TIFF or JPEG 2000 scan: counted and decoded in full, limits first.

- **Limits before work.** Declared pixel counts are checked before any pixel
  is decoded (decompression bombs), and TIFF frames are counted before any is
  decoded.
- **Decode fully.** Every image page is decoded once (``Image.load()``), so a
  truncated or corrupt scan is refused at upload time rather than at OCR time.
- The decoder is the one of the *sniffed* type (the plugin class itself, not
  ``Image.open``), never the one the name suggests.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

from PIL import Image, features
from PIL import Jpeg2KImagePlugin, JpegImagePlugin, PngImagePlugin, TiffImagePlugin

from library.errors import InputRejected, LimitExceeded
from library.ingest.messages import _fmt_pixels, _reason
from library.ingest.scan_types import PageRef
from library.settings import Limits

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
    if isinstance(im, JpegImagePlugin.JpegImageFile):
        # libjpeg's DCT scaling: every byte of the entropy-coded data is still decoded (a truncated or
        # damaged file fails as before), the inverse transform runs at 1/8 scale — 4× faster for a scan
        im.draft(im.mode, (max(1, width // 8), max(1, height // 8)))
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
