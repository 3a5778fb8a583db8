"""The viewer image of a page: a tiled, multi-resolution TIFF made with libvips
(pyvips), the form IIIF image servers read. One wrapper per external tool:
every libvips call of the platform is here.

- grey or colour pages: a pyramid (each level half the one before, down to one
  tile) of JPEG-compressed 512 px tiles at ``quality`` (chosen by measurement:
  bench/image_derivatives.py);
- bilevel pages (only black and white pixels): one lossless level, CCITT G4
  compressed, tiled. A 1-bit pyramid costs 2-3x the page in its smaller levels
  (measured on the UNLV pages), so smaller sizes are shrunk from the full level,
  which decodes fast at 1 bit per pixel.

The pixel frame is that of the image it is made from (the normalised page, the
frame of the OCR word boxes); the resolution (dpi) is kept.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

TILE_PX = 512
DEFAULT_QUALITY = 75


def _vips():
    import pyvips  # the library is loaded only where pyramids are made or read

    # no operation cache: a page read again replaces its file under the same name, and a cached open
    # would go on serving the old pixels
    pyvips.cache_set_max(0)
    return pyvips


def is_bilevel(image: Image.Image) -> bool:
    """Whether every pixel of ``image`` is pure black or pure white."""
    if image.mode == "1":
        return True
    if image.mode != "L":
        return False
    hist = image.histogram()
    return sum(hist[1:255]) == 0


def _to_vips(image: Image.Image):
    """A libvips image of a Pillow image in mode 1, L or RGB (others are turned to RGB)."""
    if image.mode == "1":
        image = image.convert("L")
    elif image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    a = np.asarray(image, dtype=np.uint8)
    bands = 1 if a.ndim == 2 else a.shape[2]
    vi = _vips().Image.new_from_memory(np.ascontiguousarray(a).tobytes(), a.shape[1], a.shape[0], bands, "uchar")
    return vi.copy(interpretation="b-w" if bands == 1 else "srgb")


def write_pyramid(image: Image.Image | Path, out: Path, *, quality: int = DEFAULT_QUALITY,
                  tile_px: int = TILE_PX, dpi: float | None = None) -> Path:
    """Write the viewer TIFF of ``image`` (a Pillow image or an image file) to ``out``.

    Bilevel images are kept losslessly (G4, one level); others become a JPEG pyramid at ``quality``.
    ``dpi`` (else the image's own) is written as the TIFF resolution."""
    if not isinstance(image, Image.Image):
        with Image.open(image) as im:
            im.load()
            image = im.copy()
    if dpi is None:
        declared = image.info.get("dpi")
        dpi = float(declared[0]) if declared and declared[0] and declared[0] > 1 else None
    vi = _to_vips(image)
    if dpi:
        px_per_mm = dpi / 25.4
        vi = vi.copy(xres=px_per_mm, yres=px_per_mm)
    out.parent.mkdir(parents=True, exist_ok=True)
    common = dict(tile=True, tile_width=tile_px, tile_height=tile_px, resunit="inch")
    if is_bilevel(image):
        vi.tiffsave(str(out), compression="ccittfax4", bitdepth=1, pyramid=False, **common)
    else:
        vi.tiffsave(str(out), compression="jpeg", Q=int(quality), pyramid=True, **common)
    return out


def levels(path: Path) -> list[tuple[int, int]]:
    """``(width, height)`` of each level of the TIFF at ``path``, the full size first."""
    vips = _vips()
    first = vips.Image.new_from_file(str(path))
    n = first.get("n-pages") if "n-pages" in first.get_fields() else 1
    sizes = [(first.width, first.height)]
    for k in range(1, n):
        im = vips.Image.new_from_file(str(path), page=k)
        sizes.append((im.width, im.height))
    return sizes


def size_of(path: Path) -> tuple[int, int]:
    """``(width, height)`` of the full level."""
    im = _vips().Image.new_from_file(str(path))
    return im.width, im.height


def region(path: Path, box: tuple[int, int, int, int], size: tuple[int, int]) -> Image.Image:
    """The region ``box`` (x, y, w, h in full-level pixels) scaled to ``size`` (w, h), as a Pillow image
    (L or RGB): cut from the smallest level that still has at least the pixels asked for, so only the
    tiles under the region are decoded."""
    vips = _vips()
    x, y, w, h = box
    out_w, out_h = size
    sizes = levels(path)
    full_w, full_h = sizes[0]
    page = 0
    for k, (lw, lh) in enumerate(sizes):
        if lw * w >= out_w * full_w * (1 - 1e-9) and lh * h >= out_h * full_h * (1 - 1e-9):
            page = k
    lw, lh = sizes[page]
    fx, fy = lw / full_w, lh / full_h
    left, top, right, bottom = x * fx, y * fy, (x + w) * fx, (y + h) * fy
    cx, cy = math.floor(left), math.floor(top)
    cw, ch = min(lw, math.ceil(right)) - cx, min(lh, math.ceil(bottom)) - cy
    cw, ch = max(1, cw), max(1, ch)
    level = vips.Image.new_from_file(str(path), page=page, access="random") if page else \
        vips.Image.new_from_file(str(path), access="random")
    cut = level.crop(cx, cy, cw, ch)
    a = cut.numpy()
    img = Image.fromarray(a if a.ndim == 2 or a.shape[2] != 1 else a[:, :, 0])
    if img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    inner = (left - cx, top - cy, min(right - cx, cw), min(bottom - cy, ch))
    if (cw, ch) == (out_w, out_h) and inner == (0, 0, cw, ch):
        return img
    return img.resize((out_w, out_h), Image.Resampling.LANCZOS, box=inner, reducing_gap=3.0)


def full_image(path: Path) -> Image.Image:
    """The full level as a Pillow image (L or RGB)."""
    w, h = size_of(path)
    return region(path, (0, 0, w, h), (w, h))


# ------------------------------------------------------------------ colour in the reading's frame
COLOUR_MIN_CHROMA = 6.0  # mean spread between the channels (0-255) above which a page counts as colour
FRAME_MIN_CORRELATION = 0.9  # the colour page turned into the reading's frame must agree this well with it
_PROBE_PX = 400


def is_colour(image: Image.Image) -> bool:
    """Whether ``image`` has colour worth keeping (not a grey page stored as RGB)."""
    if image.mode not in ("RGB", "RGBA", "P", "CMYK", "YCbCr", "LAB", "HSV"):
        return False
    small = image.convert("RGB")
    small.thumbnail((_PROBE_PX, _PROBE_PX))
    a = np.asarray(small, dtype=np.int16)
    return float((a.max(axis=2) - a.min(axis=2)).mean()) > COLOUR_MIN_CHROMA


def _correlation(a: Image.Image, b: Image.Image) -> float:
    x = np.asarray(a, dtype=float).ravel()
    y = np.asarray(b, dtype=float).ravel()
    if x.std() == 0 or y.std() == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])


def colour_in_frame(colour: Image.Image, normalised: Image.Image, skew_deg: float) -> Image.Image | None:
    """``colour`` (the page as decoded, EXIF and staff turns applied) turned into the frame of
    ``normalised`` (the reading's upright, deskewed grey page, ``width`` x ``height``): the quarter
    turn, mirroring and skew (either sign) whose result agrees best with ``normalised``, tried on small
    copies. None when ``colour`` is not colour, or no turn gives the same size and agrees well (a
    rectified photo, say): the viewer then shows the grey normalised page."""
    if not is_colour(colour):
        return None
    colour = colour.convert("RGB")
    target = normalised.convert("L")
    probe_scale = _PROBE_PX / max(target.size)
    probe_size = (max(1, round(target.width * probe_scale)), max(1, round(target.height * probe_scale)))
    probe_target = target.resize(probe_size, Image.Resampling.BILINEAR)
    small = colour.resize((max(1, round(colour.width * probe_scale)), max(1, round(colour.height * probe_scale))),
                          Image.Resampling.BILINEAR).convert("L")
    turns = [None, Image.Transpose.ROTATE_270, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_90]
    best, best_r = None, FRAME_MIN_CORRELATION
    for mirror in (False, True):
        for turn in turns:
            for angle in sorted({skew_deg, -skew_deg}):
                full_size = _turned_size(colour.size, turn, angle)
                if abs(full_size[0] - target.width) > 2 or abs(full_size[1] - target.height) > 2:
                    continue
                cand = _apply(small, mirror, turn, angle, fill=255).resize(probe_size, Image.Resampling.BILINEAR)
                r = _correlation(cand, probe_target)
                if r > best_r:
                    best, best_r = (mirror, turn, angle), r
    if best is None:
        return None
    mirror, turn, angle = best
    out = _apply(colour, mirror, turn, angle, fill=(255, 255, 255))
    if out.size != target.size:  # rounding of the rotated frame: the normalised page's size wins
        out = out.crop((0, 0) + target.size) if out.width >= target.width and out.height >= target.height \
            else out.resize(target.size, Image.Resampling.BILINEAR)
    return out


def _turned_size(size: tuple[int, int], turn, angle: float) -> tuple[int, int]:
    w, h = size if turn in (None, Image.Transpose.ROTATE_180) else (size[1], size[0])
    if not angle:
        return w, h
    return Image.new("1", (w, h)).rotate(angle, expand=True).size


def _apply(image: Image.Image, mirror: bool, turn, angle: float, fill) -> Image.Image:
    if mirror:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if turn is not None:
        image = image.transpose(turn)
    if angle:
        image = image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True,
                             fillcolor=fill if image.mode == "RGB" else 255)
    return image
