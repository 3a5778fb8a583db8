"""Loading page images safely.

A page arrives as a JPEG, PNG, TIFF (perhaps multi-page), JPEG 2000 or PDF
file, from a librarian or from anyone on the internet. Before any pixel is
decoded, the size the file declares is checked against ``max_pixels``, so a
small hostile file cannot make a worker allocate gigabytes. Whatever Pillow or
PDFium complain about becomes :class:`~digitize.errors.ImageUnreadable` or
:class:`~digitize.errors.ImageTooLarge` with a message naming the problem.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

from PIL import Image, ImageOps

from digitize.errors import ImageTooLarge, ImageUnreadable

DEFAULT_MAX_PIXELS = 120_000_000  # ≈ A1 at 300 dpi
PDF_POINTS_PER_INCH = 72.0

EXIF_ORIENTATION = 0x0112
# clockwise turn that each EXIF orientation asks for (5 and 7 also mirror)
EXIF_ROTATION_DEG = {3: 180, 4: 180, 5: 90, 6: 90, 7: 270, 8: 270}

# what Pillow and its decoders raise on broken or hostile files
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError)


_IMAGE_MAGIC = (
    b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+",
    b"\x00\x00\x00\x0cjP  ", b"\xffO\xffQ", b"GIF8", b"BM", b"RIFF",
)


def is_pdf(path: Path) -> bool:
    """True when the file is a PDF: not an image by its magic number, and a
    PDF header within its first kilobyte (readers allow junk before it)."""
    with open(path, "rb") as f:
        head = f.read(1024)
    return not head.startswith(_IMAGE_MAGIC) and b"%PDF-" in head


def page_count(path: Path | str) -> int:
    """How many pages a file holds: PDF pages, TIFF/GIF frames, otherwise 1."""
    path = Path(path)
    _require_file(path)
    if is_pdf(path):
        pdfium = _pdfium()
        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            raise ImageUnreadable(path.name, f"not a readable PDF ({exc})") from None
        try:
            return len(pdf)
        finally:
            pdf.close()
    with _open_image(path) as image:
        try:
            return int(getattr(image, "n_frames", 1))
        except _DECODE_ERRORS as exc:
            raise ImageUnreadable(path.name, f"cannot count its pages ({exc})") from None


def load_page_image(
    path: Path | str,
    *,
    page_index: int = 0,
    pdf_dpi: int = 300,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    grayscale: bool = False,
) -> Image.Image:
    """Decode one page, upright (EXIF orientation applied).

    ``page_index`` picks a frame of a multi-page TIFF or a page of a PDF; PDF
    pages are rasterised at ``pdf_dpi`` (and carry that in ``info["dpi"]``).
    ``grayscale=True`` lets decoders that can (JPEG, PDF) skip colour work;
    the result may then be mode ``L``.

    Raises ImageTooLarge when the page declares more than ``max_pixels``
    pixels (checked before decoding) and ImageUnreadable for anything else
    that stops the page from being decoded (missing, corrupt or truncated
    file, unknown format, page out of range).
    """
    path = Path(path)
    _require_file(path)
    if page_index < 0:
        raise ImageUnreadable(path.name, f"page index {page_index} is negative")
    if is_pdf(path):
        return _render_pdf_page(
            path, page_index=page_index, dpi=pdf_dpi, max_pixels=max_pixels, grayscale=grayscale
        )
    image = _open_image(path, max_pixels)
    try:
        frames = int(getattr(image, "n_frames", 1))
        if page_index >= frames:
            raise ImageUnreadable(
                path.name,
                f"has {frames} page{'s' if frames != 1 else ''}; page {page_index + 1} does not exist",
            )
        if page_index:
            image.seek(page_index)
        _check_pixels(path.name, image.size, max_pixels)
        if grayscale and image.format == "JPEG" and image.mode in ("RGB", "YCbCr"):
            image.draft("L", image.size)
        image.load()
        page = image.copy() if frames > 1 else image
    except ImageUnreadable:
        image.close()
        raise
    except Image.DecompressionBombError as exc:
        image.close()
        raise _too_large(path.name, exc, max_pixels) from None
    except _DECODE_ERRORS as exc:
        image.close()
        raise ImageUnreadable(path.name, f"the image data is damaged or truncated ({exc})") from None
    if page is not image:
        image.close()
    return upright(page)


def upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation in place and note the clockwise turn it
    made in ``image.info["exif_rotation_deg"]`` (mirroring is applied too
    but only its rotation part is noted)."""
    try:
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
        if orientation != 1:
            ImageOps.exif_transpose(image, in_place=True)
    except _DECODE_ERRORS:  # a damaged EXIF block: show the pixels as stored
        orientation = 1
    image.info["exif_rotation_deg"] = EXIF_ROTATION_DEG.get(orientation, 0)
    return image


def make_thumbnail(image_path: Path | str, max_px: int = 400) -> Image.Image:
    """A small RGB (or L) preview whose longer side is at most ``max_px``."""
    path = Path(image_path)
    _require_file(path)
    if is_pdf(path):
        pdfium = _pdfium()
        try:
            pdf = pdfium.PdfDocument(str(path))
            try:
                width_pt, height_pt = pdf[0].get_size()
            finally:
                pdf.close()
        except pdfium.PdfiumError as exc:
            raise ImageUnreadable(path.name, f"not a readable PDF ({exc})") from None
        dpi = max(1, int(max_px * PDF_POINTS_PER_INCH / max(width_pt, height_pt, 1.0)))
        image = _render_pdf_page(path, page_index=0, dpi=dpi, max_pixels=DEFAULT_MAX_PIXELS)
    else:
        image = _open_image(path, DEFAULT_MAX_PIXELS)
        try:
            _check_pixels(path.name, image.size, DEFAULT_MAX_PIXELS)
            if image.format == "JPEG":
                image.draft("RGB", (max_px, max_px))  # decode at 1/2, 1/4 or 1/8 scale
            image.load()
        except Image.DecompressionBombError as exc:
            image.close()
            raise _too_large(path.name, exc, DEFAULT_MAX_PIXELS) from None
        except _DECODE_ERRORS as exc:
            image.close()
            raise ImageUnreadable(path.name, f"the image data is damaged or truncated ({exc})") from None
        except ImageUnreadable:
            image.close()
            raise
        image = upright(image)
    if image.mode not in ("RGB", "L"):
        image = flatten_to(image, "RGB")
    image.thumbnail((max_px, max_px), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return image


def flatten_to(image: Image.Image, mode: str) -> Image.Image:
    """Convert to ``mode`` ("L" or "RGB"), compositing transparency over white
    and scaling 16-bit samples down to 8 bits."""
    if image.mode == mode:
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        import numpy as np

        values = np.asarray(image, dtype=np.float32)
        peak = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        gray = Image.fromarray(np.clip(values * (255.0 / peak), 0, 255).astype(np.uint8), "L")
        return gray if mode == "L" else gray.convert(mode)
    if image.mode == "F":
        image = image.convert("L")
        return image if mode == "L" else image.convert(mode)
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        return background.convert(mode)
    return image.convert(mode)


def save_png(image: Image.Image, path: Path, *, dpi: float | None = None, compress_level: int = 1) -> Path:
    """Write a gray ("L") or bilevel ("1") image as PNG, fast.

    Pillow's encoder tries every PNG filter on every row, which costs more
    than all the OCR preprocessing on a noisy 300-dpi scan; scanned pages
    compress about as well unfiltered with run-length deflate, at a third
    of the CPU. Other modes are left to Pillow. ``dpi`` is recorded in a
    ``pHYs`` chunk.
    """
    import struct
    import zlib

    import numpy as np

    if image.mode not in ("1", "L"):
        image.save(path, format="PNG", compress_level=compress_level, **({"dpi": (dpi, dpi)} if dpi else {}))
        return path
    pixels = np.asarray(image)
    if image.mode == "1":
        rows, bit_depth = np.packbits(pixels, axis=1), 1  # PNG gray 1 bit: 1 = white, first pixel in the high bit
    else:
        rows, bit_depth = pixels, 8
    raw = np.empty((rows.shape[0], rows.shape[1] + 1), np.uint8)
    raw[:, 0] = 0  # filter type None on every row
    raw[:, 1:] = rows

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    parts = [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", struct.pack(">IIBBBBB", image.width, image.height, bit_depth, 0, 0, 0, 0))]
    if dpi:
        per_metre = round(dpi / 0.0254)
        parts.append(chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)))
    # run-length matching only: on scans (long runs of paper, noisy gray) it
    # is both faster and smaller than zlib's default search
    packer = zlib.compressobj(compress_level, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    parts += [chunk(b"IDAT", packer.compress(raw.tobytes()) + packer.flush()), chunk(b"IEND", b"")]
    with open(path, "wb") as f:
        f.writelines(parts)
    return path


# --------------------------------------------------------------------- helpers
def _require_file(path: Path) -> None:
    if not path.is_file():
        raise ImageUnreadable(path.name, "the file does not exist")


def _open_image(path: Path, max_pixels: int | None = None) -> Image.Image:
    """Image.open with every failure translated; the caller closes the image.

    Pillow's own decompression-bomb warning is silenced here because the
    caller checks its own, configurable, ``max_pixels`` before decoding.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(path)
    except Image.DecompressionBombError as exc:
        raise _too_large(path.name, exc, max_pixels) from None
    except Image.UnidentifiedImageError:
        raise ImageUnreadable(
            path.name, "not an image in a format we can read (JPEG, PNG, TIFF, JPEG 2000, PDF)"
        ) from None
    except _DECODE_ERRORS as exc:
        raise ImageUnreadable(path.name, f"the image header is damaged ({exc})") from None


def _check_pixels(name: str, size: tuple[int, int], max_pixels: int, detail: str = "") -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageUnreadable(name, f"declares an empty image ({width}×{height} pixels)")
    if width * height > max_pixels:
        raise ImageTooLarge(name, width * height, max_pixels, f" ({width}×{height}{detail})")


def _too_large(name: str, exc: Exception, max_pixels: int | None) -> ImageTooLarge:
    """Translate Pillow's DecompressionBombError, keeping the declared size."""
    numbers = [int(n) for n in re.findall(r"\d+", str(exc))]
    pixels = numbers[0] if numbers else 0
    limit = max_pixels if max_pixels is not None else (numbers[1] if len(numbers) > 1 else 0)
    return ImageTooLarge(name, pixels, limit)


def _pdfium():
    import pypdfium2

    return pypdfium2


def _render_pdf_page(
    path: Path, *, page_index: int, dpi: int, max_pixels: int, grayscale: bool = False
) -> Image.Image:
    pdfium = _pdfium()
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise ImageUnreadable(path.name, f"not a readable PDF ({exc})") from None
    try:
        pages = len(pdf)
        if page_index >= pages:
            raise ImageUnreadable(
                path.name,
                f"has {pages} page{'s' if pages != 1 else ''}; page {page_index + 1} does not exist",
            )
        page = pdf[page_index]
        try:
            width_pt, height_pt = page.get_size()
            scale = dpi / PDF_POINTS_PER_INCH
            size = (math.ceil(width_pt * scale), math.ceil(height_pt * scale))
            _check_pixels(path.name, size, max_pixels, f" at {dpi} dpi")
            bitmap = page.render(scale=scale, grayscale=grayscale)
            try:
                image = bitmap.to_pil().copy()  # to_pil shares PDFium's buffer
            finally:
                bitmap.close()
        finally:
            page.close()
    except pdfium.PdfiumError as exc:
        raise ImageUnreadable(path.name, f"PDF page {page_index + 1} cannot be rendered ({exc})") from None
    finally:
        pdf.close()
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    image.info["dpi"] = (dpi, dpi)
    return image
