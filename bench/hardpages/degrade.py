"""Physical degradations of printed pages and of their capture, as small pure
numpy/OpenCV functions.

Conventions: an *ink* map is (H, W) float32 coverage in [0, 1] (1 = solid
ink); an *image* is (H, W, 3) float32 RGB reflectance in [0, 1]; a *factor*
is (H, W) or (H, W, 3) float32 that multiplies an image. Lengths are pixels
(``_px``) at the array's own resolution. Randomness comes only from the
``rng`` passed in, so the same generator state gives the same pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

RGB = tuple[float, float, float]


# ---------------------------------------------------------------- noise fields


def smooth_noise(shape: tuple[int, int], rng: np.random.Generator, scale_px: float,
                 *, aspect: float = 1.0) -> np.ndarray:
    """(H, W) float32 random field with features about ``scale_px`` across
    (``aspect`` > 1 stretches them horizontally), zero mean, unit std."""
    h, w = shape
    gh = max(2, int(round(h / scale_px)) + 2)
    gw = max(2, int(round(w / (scale_px * aspect))) + 2)
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    field = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    field -= field.mean()
    std = float(field.std())
    return field / std if std > 0 else field


def gaussian(img: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur of an ink map, factor or image (any channels)."""
    if sigma_px <= 0:
        return img
    return cv2.GaussianBlur(img, (0, 0), sigmaX=sigma_px, sigmaY=sigma_px,
                            borderType=cv2.BORDER_REFLECT)


# ---------------------------------------------------------------- paper and ink


def paper(shape: tuple[int, int], rng: np.random.Generator, colour: RGB, *,
          mottle: float = 0.03, fibre: float = 0.01) -> np.ndarray:
    """(H, W, 3) paper of base ``colour`` with cloudy mottling (relative
    amplitude ``mottle``, 40–250 px clouds) and fine fibre grain (``fibre``)."""
    h, w = shape
    clouds = 0.6 * smooth_noise(shape, rng, 250) + 0.4 * smooth_noise(shape, rng, 40)
    grain = rng.standard_normal((h, w)).astype(np.float32)
    grain = gaussian(grain, 0.7)
    grain /= max(float(grain.std()), 1e-6)
    tone = 1.0 + mottle * clouds + fibre * grain
    return np.clip(tone[..., None] * np.asarray(colour, np.float32), 0, 1)


def print_ink(image: np.ndarray, ink: np.ndarray, ink_colour: RGB,
              strength: float | np.ndarray = 1.0) -> np.ndarray:
    """Print ``ink`` on ``image``: where coverage is 1 the reflectance becomes
    paper × ``ink_colour`` (ink is a filter on the paper beneath it).
    ``strength`` (scalar or (H, W)) lightens the ink (0 = no ink)."""
    absorb = 1.0 - np.asarray(ink_colour, np.float32)
    cover = (ink * strength)[..., None]
    return image * (1.0 - cover * absorb)


def show_through(image: np.ndarray, back_ink: np.ndarray, *, strength: float,
                 blur_px: float, tint: RGB = (0.55, 0.45, 0.35)) -> np.ndarray:
    """Ink of the other side of the leaf seen through the paper: ``back_ink``
    (as printed on the back, same shape) mirrored left-right, blurred by the
    paper's thickness and darkened to ``strength`` of full ink, brownish."""
    seen = gaussian(np.ascontiguousarray(back_ink[:, ::-1]), blur_px)
    return print_ink(image, seen, tint, strength)


def stains(shape: tuple[int, int], rng: np.random.Generator, *, count: int,
           radius_px: tuple[float, float], colour: RGB = (0.78, 0.62, 0.40),
           strength: tuple[float, float] = (0.2, 0.5)) -> np.ndarray:
    """(H, W, 3) factor of water or grease stains: irregular blobs tinted
    ``colour`` with a darker tide mark at their rim."""
    h, w = shape
    factor = np.ones((h, w, 3), np.float32)
    absorb = 1.0 - np.asarray(colour, np.float32)
    for _ in range(count):
        r = float(rng.uniform(*radius_px))
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        x0, x1 = int(max(0, cx - 1.6 * r)), int(min(w, cx + 1.6 * r))
        y0, y1 = int(max(0, cy - 1.6 * r)), int(min(h, cy + 1.6 * r))
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        stretch = rng.uniform(0.6, 1.5)
        d = np.sqrt(((xx - cx) / (r * stretch)) ** 2 + ((yy - cy) * stretch / r) ** 2)
        wobble = smooth_noise((y1 - y0, x1 - x0), rng, max(8.0, r / 3))
        mask = np.clip((1.0 - d + 0.18 * wobble) * 6.0, 0, 1)
        mask = gaussian(mask, max(1.0, r / 40))
        rim = np.clip(4.0 * mask * (1.0 - mask), 0, 1)
        s = float(rng.uniform(*strength))
        dark = np.clip(s * (0.5 * mask + 0.45 * rim), 0, 0.9)
        factor[y0:y1, x0:x1] *= 1.0 - dark[..., None] * absorb
    return factor


def foxing(shape: tuple[int, int], rng: np.random.Generator, *, clusters: int,
           spots_per_cluster: tuple[int, int] = (4, 20),
           colour: RGB = (0.62, 0.42, 0.22)) -> np.ndarray:
    """(H, W, 3) factor of foxing: clusters of small rusty-brown spots."""
    h, w = shape
    spots = np.zeros((h, w), np.float32)
    for _ in range(clusters):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        spread = rng.uniform(20, 120)
        for _ in range(int(rng.integers(*spots_per_cluster))):
            x = int(cx + rng.normal(0, spread))
            y = int(cy + rng.normal(0, spread))
            if 0 <= x < w and 0 <= y < h:
                cv2.circle(spots, (x, y), int(rng.integers(2, 9)), float(rng.uniform(0.3, 0.8)), -1)
    spots = gaussian(spots, 2.0)
    absorb = 1.0 - np.asarray(colour, np.float32)
    return 1.0 - np.clip(spots, 0, 0.9)[..., None] * absorb


def speckle(shape: tuple[int, int], rng: np.random.Generator, *, dots_per_mpx: float,
            radius_px: tuple[int, int] = (1, 3)) -> np.ndarray:
    """(H, W) ink map of dust and dirt specks (scanner dust, paper flecks)."""
    h, w = shape
    ink = np.zeros((h, w), np.float32)
    n = int(dots_per_mpx * h * w / 1e6)
    xs = rng.integers(0, w, n)
    ys = rng.integers(0, h, n)
    rs = rng.integers(radius_px[0], radius_px[1] + 1, n)
    vs = rng.uniform(0.4, 1.0, n)
    for x, y, r, v in zip(xs, ys, rs, vs):
        cv2.circle(ink, (int(x), int(y)), int(r), float(v), -1)
    return gaussian(ink, 0.6)


# ---------------------------------------------------------------- worn type


def wear_type(ink: np.ndarray, rng: np.random.Generator, *, thin_fraction: float,
              thick_fraction: float, gap_fraction: float, contrast: tuple[float, float],
              patch_px: float = 90.0) -> np.ndarray:
    """Worn letterpress: in patches (about ``patch_px`` across) strokes are
    eroded (thin, broken: ``thin_fraction`` of the area) or swollen and filled
    in (over-inked: ``thick_fraction``); ``gap_fraction`` of the type loses ink
    in small blotches; the ink's darkness wanders within ``contrast``.
    Returns the new (H, W) ink map."""
    shape = ink.shape
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    thin = cv2.erode(ink, kernel)
    thin = np.where(thin > 0.35, thin, 0).astype(np.float32)
    thick = gaussian(cv2.dilate(ink, kernel, iterations=1), 0.8)
    thick = np.clip(thick * 1.2, 0, 1)
    field = smooth_noise(shape, rng, patch_px)
    lo, hi = np.quantile(field[::8, ::8], [thin_fraction, 1.0 - thick_fraction])
    w_thin = np.clip((lo - field) / 0.25 + 0.5, 0, 1)
    w_thick = np.clip((field - hi) / 0.25 + 0.5, 0, 1)
    out = ink * (1 - w_thin - w_thick).clip(0, 1) + thin * w_thin + thick * w_thick
    holes = smooth_noise(shape, rng, 2.5)
    where = smooth_noise(shape, rng, patch_px * 0.7)
    gap_level = np.quantile(holes[::4, ::4], 1.0 - gap_fraction * 3)
    gaps = (holes > gap_level) & (where > 0.0)
    out = out * np.where(gaps, 0.1, 1.0).astype(np.float32)
    darkness = smooth_noise(shape, rng, 45)
    level = contrast[0] + (contrast[1] - contrast[0]) * np.clip(0.5 + 0.3 * darkness, 0, 1)
    return (out * level).astype(np.float32)


# ---------------------------------------------------------------- light


def light_gradient(shape: tuple[int, int], rng: np.random.Generator, *,
                   low: float, high: float) -> np.ndarray:
    """(H, W) factor: light falling linearly from ``high`` to ``low`` across the
    frame in a random direction, bent slightly like a lamp's fall-off."""
    h, w = shape
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx - w / 2) * np.cos(angle) + (yy - h / 2) * np.sin(angle)
    t = (t - t.min()) / max(float(np.ptp(t)), 1.0)
    t = t ** rng.uniform(0.7, 1.4)
    return (high - (high - low) * t).astype(np.float32)


def vignette(shape: tuple[int, int], *, depth: float) -> np.ndarray:
    """(H, W) factor darkening the corners by ``depth`` (lens fall-off)."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    return (1.0 - depth * np.clip(r2 / 2, 0, 1)).astype(np.float32)


def cast_shadow(shape: tuple[int, int], rng: np.random.Generator, *, softness_px: float,
                kind: str) -> np.ndarray:
    """(H, W) mask in [0, 1] of a shadow thrown on the page: ``kind`` "hand"
    (an arm and hand reaching in from one edge), "band" (a straight band, e.g.
    the edge of a book or a ruler) or "edge" (everything beyond a slanted line,
    e.g. the photographer's head and shoulders). Penumbra ``softness_px``."""
    h, w = shape
    mask = np.zeros((h, w), np.float32)
    if kind == "hand":
        side = int(rng.integers(0, 4))
        along = rng.uniform(0.25, 0.75)
        reach = rng.uniform(0.25, 0.45)
        width = rng.uniform(0.10, 0.16) * min(h, w)
        if side in (0, 1):  # from the left or right edge
            y = along * h
            x_edge = 0 if side == 0 else w
            x_tip = reach * w if side == 0 else w - reach * w
            start, tip = (x_edge, y + rng.uniform(-0.1, 0.1) * h), (x_tip, y)
        else:  # from the top or bottom edge
            x = along * w
            y_edge = 0 if side == 2 else h
            y_tip = reach * h if side == 2 else h - reach * h
            start, tip = (x + rng.uniform(-0.1, 0.1) * w, y_edge), (x, y_tip)
        cv2.line(mask, tuple(int(v) for v in start), tuple(int(v) for v in tip), 1.0,
                 int(width))
        cv2.ellipse(mask, (int(tip[0]), int(tip[1])), (int(width * 0.9), int(width * 0.7)),
                    float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    elif kind == "band":
        angle = rng.uniform(-0.6, 0.6) + (np.pi / 2 if rng.random() < 0.5 else 0)
        cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
        half = rng.uniform(0.06, 0.12) * min(h, w)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        d = (xx - cx) * np.sin(angle) - (yy - cy) * np.cos(angle)
        mask = (np.abs(d) < half).astype(np.float32)
    elif kind == "edge":
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        d = (xx - w / 2) * np.cos(angle) + (yy - h / 2) * np.sin(angle)
        cut = np.quantile(d[::8, ::8], rng.uniform(0.80, 0.88))
        mask = (d > cut).astype(np.float32)
    else:
        raise ValueError(f"unknown shadow kind {kind!r}")
    return np.clip(gaussian(mask, softness_px), 0, 1)


# ---------------------------------------------------------------- geometry


def rotate(image: np.ndarray, degrees: float, border: RGB | float) -> np.ndarray:
    """Rotate about the centre by ``degrees`` (counter-clockwise), same size,
    corners filled with ``border``."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    value = tuple(float(v) for v in border) if isinstance(border, tuple) else float(border)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=value)


def book_curl_maps(width_px: int, height_px: int, *, gutter_right: bool, lift_px: float,
                   rise_px: float, camera_px: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse maps (for cv2.remap) that bend one flat page of a bound book as a
    camera above the spread's centre sees it: the paper rises from the gutter
    (height ``lift_px``·(1 − exp(−s/``rise_px``)) at arc length s from the
    gutter), so it is foreshortened near the gutter and magnified where it is
    high, curving the text lines. ``camera_px`` is the camera's height.
    Returns (map_x, map_y, s_px): (H, W) float32 source coordinates for each
    output pixel, and the arc length from the gutter of each output column
    (NaN outside the page)."""
    s = np.linspace(0, width_px, 4 * width_px + 1, dtype=np.float64)
    z = lift_px * (1 - np.exp(-s / rise_px))
    dz = np.gradient(z, s)
    dx = np.sqrt(np.clip(1 - dz ** 2, 0.05, 1))
    x_proj = np.concatenate([[0], np.cumsum(0.5 * (dx[1:] + dx[:-1]) * np.diff(s))])
    mag = camera_px / (camera_px - z)
    cy = height_px / 2
    # image x measured from the gutter outwards, magnified about the gutter line
    x_img = x_proj * mag
    out_w = width_px
    cols = np.arange(out_w, dtype=np.float64)
    dist = (out_w - 1 - cols) if gutter_right else cols  # output distance from gutter
    s_of_col = np.interp(dist, x_img, s, right=np.nan)
    mag_col = np.interp(np.nan_to_num(s_of_col, nan=width_px), s, mag)
    src_x = (width_px - 1 - s_of_col) if gutter_right else s_of_col
    rows = np.arange(height_px, dtype=np.float64)
    src_y = cy + (rows[:, None] - cy) / mag_col[None, :]
    map_x = np.broadcast_to(src_x[None, :], (height_px, out_w)).astype(np.float32)
    map_x = np.nan_to_num(map_x, nan=-10.0)
    return map_x, src_y.astype(np.float32), s_of_col.astype(np.float32)


def warp_perspective(image: np.ndarray, corners_dst: np.ndarray, out_size: tuple[int, int],
                     background: np.ndarray) -> np.ndarray:
    """Project ``image`` so its corners (TL, TR, BR, BL) land on ``corners_dst``
    ((4, 2) pixels) in an image of ``out_size`` (W, H), over ``background``
    ((H, W, 3), same size). Edges are antialiased."""
    h, w = image.shape[:2]
    src = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    matrix = cv2.getPerspectiveTransform(src, np.float32(corners_dst))
    warped = cv2.warpPerspective(image, matrix, out_size, flags=cv2.INTER_AREA
                                 if _shrinks(src, corners_dst) else cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    alpha = cv2.warpPerspective(np.ones((h, w), np.float32), matrix, out_size,
                                flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=0)
    alpha = alpha[..., None]
    return warped * alpha + background * (1 - alpha)


def _shrinks(src: np.ndarray, dst: np.ndarray) -> bool:
    return float(np.ptp(np.asarray(dst)[:, 0])) < float(np.ptp(src[:, 0]))


def resize(image: np.ndarray, scale: float) -> np.ndarray:
    """Scale by ``scale`` (area averaging when shrinking, as a sensor does)."""
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=method)


# ---------------------------------------------------------------- capture


def sensor(image: np.ndarray, rng: np.random.Generator, *, noise: float,
           chroma: float = 0.0) -> np.ndarray:
    """Sensor noise: signal-dependent grey noise of std ``noise`` (at full white)
    plus colour noise ``chroma``, each a little blurred as a demosaic does."""
    h, w = image.shape[:2]
    grey = gaussian(rng.standard_normal((h, w)).astype(np.float32), 0.5)
    out = image + (noise * np.sqrt(np.clip(image, 0.02, 1)) * grey[..., None] if image.ndim == 3
                   else noise * np.sqrt(np.clip(image, 0.02, 1)) * grey)
    if chroma and image.ndim == 3:
        colour = gaussian(rng.standard_normal((h, w, 3)).astype(np.float32), 1.2)
        out = out + chroma * colour
    return np.clip(out, 0, 1)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """[0, 1] float image as uint8, rounded."""
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)


def to_grey(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB reflectance to (H, W) luminance (Rec. 601 weights)."""
    return (image @ np.float32([0.299, 0.587, 0.114])).astype(np.float32)
