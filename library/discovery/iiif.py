"""IIIF Image API 3.0 over the page images (the tiled pyramids of
library.reading.pyramid, or a normalised PNG kept from before them): parse and
check a request (region, size, rotation, quality, format), render it, and
keep every rendered image in a cache on disk under the file store.

No Flask here: the web blueprint turns :class:`ImageRequestError` into a 400
and :class:`~library.errors.NotFound` into a 404.

Pixel frame: every coordinate is in pixels of the *normalised* page image, the
frame the OCR word boxes use. A page is served only once it has been read
(its normalised image exists); before that it is :class:`ImageNotReady`.

Cache layout under the store root::

    derivatives/iiif-cache/items/<item>/pages/<seq>/<kk>/<key>.<format>

``key`` is the sha256 of the canonical request and of the source image's size
and modification time, so a page read again (a new normalised image) gets new
cache entries and a new ETag; old entries are left behind until the item's
cache folder is removed or they are evicted.

Only what ``info.json`` advertises is cached: the tiles of its tile grid at its
scale factors, the full image at its ``sizes`` and the manifests' thumbnail, in
the default quality, unrotated. Any other request is rendered (within the
per-request output limit ``maxArea``) and not kept, so anonymous requests for
arbitrary regions and sizes cannot fill the disk. The cache itself is bounded
(:class:`RenderCache`: bytes, least recently used evicted first).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import math
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, features

from library.errors import InputRejected, NotFound
from library.store import FileStore

CONTEXT = "http://iiif.io/api/image/3/context.json"
PROTOCOL = "http://iiif.io/api/image"
PROFILE = "level2"
CACHE_DIR = "derivatives/iiif-cache"

QUALITIES = ("default", "color", "gray", "bitonal")
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
EXTRA_FEATURES = ["mirroring", "sizeUpscaling", "regionSquare", "canonicalLinkHeader", "profileLinkHeader",
                  "baseUriRedirect", "cors", "jsonldMediaType"]
JPEG_QUALITY = 85

_IDENTIFIER = re.compile(r"p([1-9][0-9]{0,9})")
_NUMBER = r"\d+(?:\.\d+)?"
_XYWH_INT = re.compile(r"(\d{1,9}),(\d{1,9}),(\d{1,9}),(\d{1,9})")
_XYWH_PCT = re.compile(rf"pct:({_NUMBER}),({_NUMBER}),({_NUMBER}),({_NUMBER})")
_SIZE_W = re.compile(r"(\d{1,9}),")
_SIZE_H = re.compile(r",(\d{1,9})")
_SIZE_WH = re.compile(r"(!?)(\d{1,9}),(\d{1,9})")
_SIZE_PCT = re.compile(rf"pct:({_NUMBER})")
_ROTATION = re.compile(rf"(!?)({_NUMBER})")


class ImageRequestError(InputRejected):
    """A malformed or impossible IIIF image request (answered with 400)."""

    def __init__(self, parameter: str, problem: str):
        super().__init__(parameter, problem)


class ImageNotReady(NotFound):
    """The page exists but has not been read yet, so it has no normalised image."""


@dataclass(frozen=True)
class ImageLimits:
    """What the image service will render at most (announced in ``info.json``)."""

    max_width_px: int = 6000
    max_height_px: int = 6000
    max_area_px: int = 16_000_000  # output pixels of one request: the most work one request may ask for
    tile_px: int = 512
    smallest_size_px: int = 64  # the ``sizes`` list stops above this width
    thumbnail_box_px: int = 200  # the manifests' thumbnails (``full/!200,200``), cached like sizes
    cache_bytes: int = 2 * 1024 ** 3  # the rendered-image cache on disk, least recently used evicted first


@dataclass(frozen=True)
class ImageRequest:
    """A checked request, in pixels of the source image.

    ``region`` is ``(x, y, w, h)`` inside the image; ``size`` the ``(w, h)`` of the
    scaled region before rotation; ``rotation_deg`` one of 0, 90, 180, 270.
    """

    region: tuple[int, int, int, int]
    size: tuple[int, int]
    mirror: bool
    rotation_deg: int
    quality: str
    format: str
    full: bool  # the region is the whole image

    @property
    def canonical(self) -> str:
        """The canonical URI path of this request (IIIF Image API 3.0 §4.7)."""
        region = "full" if self.full else ",".join(map(str, self.region))
        rotation = ("!" if self.mirror else "") + str(self.rotation_deg)
        return f"{region}/{self.size[0]},{self.size[1]}/{rotation}/{self.quality}.{self.format}"

    @property
    def output_size(self) -> tuple[int, int]:
        w, h = self.size
        return (h, w) if self.rotation_deg in (90, 270) else (w, h)

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


# ------------------------------------------------------------------ identifiers
def page_id_of(identifier: str) -> int:
    """The page id of an identifier ``p<page id>``; anything else (paths, dots, NUL) is refused."""
    m = _IDENTIFIER.fullmatch(identifier)
    if not m:
        raise ImageRequestError("identifier", f"{identifier[:40]!r} is not an image identifier (p<page number>)")
    return int(m.group(1))


def identifier_of(page_id: int) -> str:
    return f"p{int(page_id)}"


# ------------------------------------------------------------------ parsing
@functools.cache
def formats() -> tuple[str, ...]:
    """The formats this Pillow writes (WebP where it was built with libwebp): asked once a process."""
    return tuple(f for f in MEDIA_TYPES if f != "webp" or features.check("webp"))


def parse_request(region: str, size: str, rotation: str, quality: str, fmt: str, *, width: int, height: int,
                  limits: ImageLimits = ImageLimits()) -> ImageRequest:
    """Check the five request parameters against an image of ``width`` × ``height`` px."""
    box, full = parse_region(region, width, height)
    out = parse_size(size, box[2], box[3], limits)
    mirror, degrees = parse_rotation(rotation)
    if quality not in QUALITIES:
        raise ImageRequestError("quality", f"{quality[:20]!r} is not one of {', '.join(QUALITIES)}")
    if fmt not in formats():
        raise ImageRequestError("format", f"{fmt[:20]!r} is not one of {', '.join(formats())}")
    return ImageRequest(box, out, mirror, degrees, quality, fmt, full)


def parse_region(region: str, width: int, height: int) -> tuple[tuple[int, int, int, int], bool]:
    """``(x, y, w, h)`` in image pixels, clipped to the image, and whether it is the full image."""
    if region == "full":
        return (0, 0, width, height), True
    if region == "square":
        side = min(width, height)
        box = ((width - side) // 2, (height - side) // 2, side, side)
        return box, side == width == height
    if m := _XYWH_INT.fullmatch(region):
        x, y, w, h = (int(g) for g in m.groups())
    elif m := _XYWH_PCT.fullmatch(region):
        px, py, pw, ph = (float(g) for g in m.groups())
        if px > 100 or py > 100:
            raise ImageRequestError("region", f"{region!r} starts outside the image")
        x, y = round(px * width / 100), round(py * height / 100)
        w, h = round(pw * width / 100), round(ph * height / 100)
    else:
        raise ImageRequestError("region", f"{region[:40]!r} is not full, square, x,y,w,h or pct:x,y,w,h")
    if w == 0 or h == 0:
        raise ImageRequestError("region", f"{region!r} has zero width or height")
    if x >= width or y >= height:
        raise ImageRequestError("region", f"{region!r} lies outside the image of {width}×{height} px")
    w, h = min(w, width - x), min(h, height - y)
    return (x, y, w, h), (x, y, w, h) == (0, 0, width, height)


def parse_size(size: str, region_w: int, region_h: int, limits: ImageLimits) -> tuple[int, int]:
    """The ``(w, h)`` the region is scaled to; upscaling only with ``^``; within the limits."""
    up = size.startswith("^")
    spec = size[1:] if up else size
    if spec == "max":
        scale = min(limits.max_width_px / region_w, limits.max_height_px / region_h,
                    math.sqrt(limits.max_area_px / (region_w * region_h)))
        if not up:
            scale = min(scale, 1.0)
        w, h = _scaled(region_w, region_h, scale)
        return _checked(size, w, h, region_w, region_h, up, limits)
    if m := _SIZE_W.fullmatch(spec):
        w = int(m.group(1))
        h = round(region_h * w / region_w)
    elif m := _SIZE_H.fullmatch(spec):
        h = int(m.group(1))
        w = round(region_w * h / region_h)
    elif m := _SIZE_PCT.fullmatch(spec):
        pct = float(m.group(1))
        if pct > 100 and not up:
            raise ImageRequestError("size", f"{size!r} is larger than the region; ask with ^ to upscale")
        w, h = round(region_w * pct / 100), round(region_h * pct / 100)
    elif m := _SIZE_WH.fullmatch(spec):
        confined, bw, bh = m.group(1) == "!", int(m.group(2)), int(m.group(3))
        if confined:
            if bw == 0 or bh == 0:
                raise ImageRequestError("size", f"{size!r} is zero")
            scale = min(bw / region_w, bh / region_h)
            if not up:
                scale = min(scale, 1.0)
            w, h = _scaled(region_w, region_h, scale)
            w, h = min(w, bw), min(h, bh)
        else:
            w, h = bw, bh
    else:
        raise ImageRequestError("size", f"{size[:40]!r} is not max, w,, ,h, pct:n, w,h or !w,h (with ^ to upscale)")
    return _checked(size, w, h, region_w, region_h, up, limits)


def _scaled(w: int, h: int, scale: float) -> tuple[int, int]:
    return max(1, math.floor(w * scale + 1e-9)), max(1, math.floor(h * scale + 1e-9))


def _checked(size: str, w: int, h: int, region_w: int, region_h: int, up: bool,
             limits: ImageLimits) -> tuple[int, int]:
    if w <= 0 or h <= 0:
        raise ImageRequestError("size", f"{size!r} gives an image of zero width or height")
    if not up and (w > region_w or h > region_h):
        raise ImageRequestError("size", f"{size!r} is larger than the region of {region_w}×{region_h} px; "
                                        "ask with ^ to upscale")
    if w > limits.max_width_px or h > limits.max_height_px:
        raise ImageRequestError("size", f"{w}×{h} px is over the limit of {limits.max_width_px}×"
                                        f"{limits.max_height_px} px")
    if w * h > limits.max_area_px:
        raise ImageRequestError("size", f"{w}×{h} px is over the limit of {limits.max_area_px} pixels (maxArea)")
    return w, h


def parse_rotation(rotation: str) -> tuple[bool, int]:
    m = _ROTATION.fullmatch(rotation)
    if not m:
        raise ImageRequestError("rotation", f"{rotation[:20]!r} is not a number of degrees (! to mirror)")
    degrees = float(m.group(2))
    if degrees > 360:
        raise ImageRequestError("rotation", f"{rotation!r} is more than 360 degrees")
    if degrees % 90:
        raise ImageRequestError("rotation", f"{rotation!r}: only 0, 90, 180 and 270 degrees are supported")
    return m.group(1) == "!", int(degrees) % 360


# ------------------------------------------------------------------ rendering
def render(source: Path, req: ImageRequest) -> bytes:
    """The encoded image ``req`` asks for, cut from the image file ``source``."""
    if source.suffix == ".tif":  # the tiled pyramid: only the tiles under the region, at the nearest level
        from library.reading import pyramid

        out = pyramid.region(source, req.region, req.size)
    else:  # a normalised PNG kept from before the pyramids (or by HERITAGE_KEEP_NORMALISED)
        with Image.open(source) as img:
            img.load()
            x, y, w, h = req.region
            out = img.resize(req.size, Image.Resampling.LANCZOS, box=(x, y, x + w, y + h), reducing_gap=3.0) \
                if (w, h) != req.size else img.crop((x, y, x + w, y + h))
    if req.mirror:
        out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if req.rotation_deg:  # IIIF rotates clockwise, Pillow's transposes count counter-clockwise
        out = out.transpose({90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
                             270: Image.Transpose.ROTATE_90}[req.rotation_deg])
    out = _quality(out, req.quality, req.format)
    buf = io.BytesIO()
    if req.format == "jpg":
        out.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif req.format == "png":
        out.save(buf, "PNG", optimize=False, compress_level=6)
    else:
        out.save(buf, "WEBP", quality=JPEG_QUALITY, method=4)
    return buf.getvalue()


def _quality(img: Image.Image, quality: str, fmt: str) -> Image.Image:
    if quality == "gray":
        img = img.convert("L")
    elif quality == "bitonal":
        img = img.convert("L").point(lambda v: 255 if v >= 128 else 0)
        if fmt == "png":
            img = img.convert("1")
    elif quality == "color" or img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    if fmt == "webp" and img.mode != "RGB":
        img = img.convert("RGB")
    return img


# ------------------------------------------------------------------ what info.json advertises
def scale_factors(width: int, height: int, limits: ImageLimits) -> list[int]:
    """The tile grid's scale factors: 1, 2, 4 … until one tile holds the whole image."""
    factors, f = [], 1
    while True:
        factors.append(f)
        if max(width, height) / f <= limits.tile_px:
            return factors
        f *= 2


def advertised_sizes(width: int, height: int, limits: ImageLimits) -> list[tuple[int, int]]:
    """The ``sizes`` of ``info.json`` (smallest first): the image at each scale factor, within the limits."""
    sizes = []
    for f in reversed(scale_factors(width, height, limits)):
        w, h = math.ceil(width / f), math.ceil(height / f)
        if w >= limits.smallest_size_px and w <= limits.max_width_px and h <= limits.max_height_px \
                and w * h <= limits.max_area_px:
            sizes.append((w, h))
    return sizes or [(width, height)]


def advertised(req: ImageRequest, width: int, height: int, limits: ImageLimits) -> bool:
    """Whether ``req`` is one that viewers ask for again and again, so worth caching: in the default
    quality, unrotated, a tile of the grid (``x,y,w,h`` on a multiple of the tile span at one of the
    scale factors, scaled by that factor; a height one pixel off is the viewers' rounding), or the full
    image at one of the advertised sizes or at the manifests' thumbnail size."""
    if req.rotation_deg or req.mirror or req.quality != "default":
        return False
    if req.full:
        thumb = parse_size(f"!{limits.thumbnail_box_px},{limits.thumbnail_box_px}", width, height, limits)
        if req.size in advertised_sizes(width, height, limits) or req.size == thumb:
            return True
    x, y, w, h = req.region
    for f in scale_factors(width, height, limits):
        span = limits.tile_px * f
        if x % span or y % span or w != min(span, width - x) or h != min(span, height - y):
            continue
        if req.size[0] == math.ceil(w / f) and abs(req.size[1] - math.ceil(h / f)) <= 1:
            return True
    return False


class RenderCache:
    """Rendered images kept under the store, at most ``max_bytes`` in all; the least recently used
    go first. An index in SQLite (``iiif-cache/index.sqlite3``: relpath, bytes, last use in Unix s),
    shared by every process of the machine, keeps the total without walking the folder."""

    TOUCH_EVERY_S = 60.0  # a hit records its use at most this often (a write per tile is too many)
    _open: dict[tuple[Path, int], "RenderCache"] = {}
    _open_lock = threading.Lock()

    @classmethod
    def of(cls, store: FileStore, max_bytes: int, folder: str = CACHE_DIR) -> "RenderCache":
        """One cache object per store folder and size in this process (it keeps no open connection);
        ``folder`` holds its index (the exports keep theirs apart from the tiles')."""
        key = (store.resolve(folder), max_bytes)
        with cls._open_lock:
            if key not in cls._open:
                cls._open[key] = cls(store, max_bytes, folder)
            return cls._open[key]

    def __init__(self, store: FileStore, max_bytes: int, folder: str = CACHE_DIR):
        self.store, self.max_bytes = store, max_bytes
        self.index_path = store.resolve(f"{folder}/index.sqlite3")
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("CREATE TABLE IF NOT EXISTS entries (rel TEXT PRIMARY KEY, bytes INTEGER NOT NULL, "
                       "used_at REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS entries_used_at ON entries (used_at)")
            # the running total, kept in step by every change (an index made before it had none: summed once)
            db.execute("CREATE TABLE IF NOT EXISTS total (id INTEGER PRIMARY KEY CHECK (id = 1), "
                       "bytes INTEGER NOT NULL)")
            db.execute("INSERT OR IGNORE INTO total (id, bytes) SELECT 1, coalesce(sum(bytes), 0) FROM entries")
            db.execute("COMMIT")

    def _db(self):
        db = sqlite3.connect(self.index_path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return contextlib.closing(db)

    def get(self, rel: str) -> bytes | None:
        try:
            data = self.store.resolve(rel).read_bytes()
        except FileNotFoundError:
            return None
        now = time.time()
        with self._db() as db:
            db.execute("UPDATE entries SET used_at = ? WHERE rel = ? AND used_at < ?",
                       (now, rel, now - self.TOUCH_EVERY_S))
        return data

    def touch(self, rel: str) -> None:
        """``rel`` was used now (a hit on a file kept elsewhere, e.g. an export)."""
        now = time.time()
        with self._db() as db:
            db.execute("UPDATE entries SET used_at = ? WHERE rel = ? AND used_at < ?",
                       (now, rel, now - self.TOUCH_EVERY_S))

    def put(self, rel: str, data: bytes) -> None:
        """Keep ``data`` at ``rel`` (written atomically), then evict the least recently used past the bound."""
        if len(data) > self.max_bytes:
            return
        self.store.write_bytes(rel, data)
        self.record(rel, len(data))

    def record(self, rel: str, size_bytes: int) -> None:
        """Count the file at ``rel`` (already written) in the cache, then evict the least recently used
        past the bound — never ``rel`` itself, which its caller is about to serve (a file larger than
        the bound goes at the next one)."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            before = db.execute("SELECT bytes FROM entries WHERE rel = ?", (rel,)).fetchone()
            db.execute("INSERT INTO entries (rel, bytes, used_at) VALUES (?, ?, ?) ON CONFLICT (rel) "
                       "DO UPDATE SET bytes = excluded.bytes, used_at = excluded.used_at", (rel, size_bytes, time.time()))
            total = db.execute("UPDATE total SET bytes = bytes + ? RETURNING bytes",
                               (size_bytes - (before[0] if before else 0),)).fetchone()[0]
            evicted: list[str] = []
            while total > self.max_bytes:  # the least recently used first, a batch at a time (never all rows)
                batch = db.execute("SELECT rel, bytes FROM entries WHERE rel != ? ORDER BY used_at LIMIT 64",
                                   (rel,)).fetchall()
                if not batch:
                    break
                gone = []
                for old, size in batch:
                    gone.append(old)
                    total -= size
                    if total <= self.max_bytes:
                        break
                db.executemany("DELETE FROM entries WHERE rel = ?", [(r,) for r in gone])
                evicted += gone
            db.execute("UPDATE total SET bytes = ?", (total,))
            db.execute("COMMIT")
        for old in evicted:
            self.store.resolve(old).unlink(missing_ok=True)

    def forget(self, rel: str) -> None:
        """``rel`` was removed by its owner (an export made again): no longer counted."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            before = db.execute("DELETE FROM entries WHERE rel = ? RETURNING bytes", (rel,)).fetchone()
            if before:
                db.execute("UPDATE total SET bytes = bytes - ?", (before[0],))
            db.execute("COMMIT")

    def total_bytes(self) -> int:
        """The bytes counted now (the running total: no walk over the entries)."""
        with self._db() as db:
            return db.execute("SELECT bytes FROM total").fetchone()[0]


# ------------------------------------------------------------------ the service
def viewer_image_path(store: FileStore, item_id: int, sequence: int) -> Path | None:
    """The image a page is shown from: its tiled pyramid, else a normalised PNG kept from before the
    pyramids (or by HERITAGE_KEEP_NORMALISED); None when the page has no image yet."""
    for kind in ("viewer", "normalised"):
        path = store.resolve(store.page_derivative_relpath(item_id, sequence, kind))
        if path.is_file():
            return path
    return None


@dataclass(frozen=True)
class PageImage:
    """A page's normalised image as the image service sees it."""

    page_id: int
    item_id: int
    sequence: int
    path: Path
    width: int
    height: int


@dataclass(frozen=True)
class Rendered:
    path: Path | None  # the cache file; None when the request is not one that is cached
    media_type: str
    etag: str
    canonical: str  # the canonical request path after the identifier
    from_cache: bool
    data: bytes


class ImageService:
    """Finds page images in the store, describes them, renders and caches requests."""

    def __init__(self, catalogue, store: FileStore, limits: ImageLimits = ImageLimits()):
        self.catalogue = catalogue
        self.store = store
        self.limits = limits

    def page_image(self, identifier: str) -> PageImage:
        page_id = page_id_of(identifier)
        page = self.catalogue.page(page_id)  # NotFound for an unknown page
        path = viewer_image_path(self.store, page.item_id, page.sequence)
        if path is None:
            raise ImageNotReady(f"page {page_id} has not been read yet: its image is not ready")
        width, height = page.width, page.height
        if not width or not height:
            if path.suffix == ".tif":
                from library.reading import pyramid

                width, height = pyramid.size_of(path)
            else:
                with Image.open(path) as img:
                    width, height = img.size
        return PageImage(page_id, page.item_id, page.sequence, path, width, height)

    def info(self, image: PageImage, service_id: str) -> dict:
        """The ``info.json`` of ``image`` whose service lives at ``service_id``."""
        lim = self.limits
        factors = scale_factors(image.width, image.height, lim)
        sizes = [{"width": w, "height": h} for w, h in advertised_sizes(image.width, image.height, lim)]
        return {
            "@context": CONTEXT,
            "id": service_id,
            "type": "ImageService3",
            "protocol": PROTOCOL,
            "profile": PROFILE,
            "width": image.width,
            "height": image.height,
            "maxWidth": lim.max_width_px,
            "maxHeight": lim.max_height_px,
            "maxArea": lim.max_area_px,
            "tiles": [{"width": lim.tile_px, "height": lim.tile_px, "scaleFactors": factors}],
            "sizes": sizes or [{"width": image.width, "height": image.height}],
            "extraQualities": [q for q in QUALITIES if q != "default"],
            "extraFormats": [f for f in formats() if f not in ("jpg", "png")],
            "extraFeatures": EXTRA_FEATURES,
        }

    def parse(self, image: PageImage, region: str, size: str, rotation: str, quality: str,
              fmt: str) -> ImageRequest:
        return parse_request(region, size, rotation, quality, fmt, width=image.width, height=image.height,
                             limits=self.limits)

    def cache_relpath(self, image: PageImage, req: ImageRequest) -> tuple[str, str]:
        """``(relpath, key)`` of the cache file of ``req``."""
        st = image.path.stat()
        key = hashlib.sha256(f"{req.canonical}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
        rel = (f"{CACHE_DIR}/items/{image.item_id}/pages/{image.sequence:05d}/{key[:2]}/"
               f"{key}.{req.format}")
        return rel, key

    def rendered(self, image: PageImage, req: ImageRequest) -> Rendered:
        """The image ``req`` asks for: from the cache, or rendered (and kept if it is advertised)."""
        rel, key = self.cache_relpath(image, req)
        if not advertised(req, image.width, image.height, self.limits):
            return Rendered(None, req.media_type, key, req.canonical, False, render(image.path, req))
        cache = RenderCache.of(self.store, self.limits.cache_bytes)
        data = cache.get(rel)
        hit = data is not None
        if data is None:
            data = render(image.path, req)
            cache.put(rel, data)
        return Rendered(self.store.resolve(rel), req.media_type, key, req.canonical, hit, data)

    def cache_folder(self, item_id: int) -> str:
        """The cache folder of one item, to remove when its pages change or it is deleted."""
        return f"{CACHE_DIR}/items/{int(item_id)}"
