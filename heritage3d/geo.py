"""Where the photos were taken: EXIF GPS read, turned into local East-North-Up metres, and the
reconstructed cameras aligned to them by a robust similarity, giving the model metres, up and north.

GPS is only trusted when it can help: a position that is not a number or off the globe is ignored,
and the whole set is refused (with the reason, never a wrong scale) when too few photos carry it, when
the positions spread over less than the receiver's own error, or when they do not agree with the
photos' geometry. The receiver's error is the photo's ``GPSHPositioningError`` tag when it has one,
else :data:`DEFAULT_ACCURACY_M` (a phone in the open); height is taken as 1.5 times worse.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from heritage3d.alignment import umeyama

DEFAULT_ACCURACY_M = 5.0  # horizontal 1-sigma of a phone's GPS when the photo does not say
VERTICAL_FACTOR = 1.5  # GPS heights are about this much worse than positions
_A = 6378137.0  # WGS 84 semi-major axis, metres
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
ENU_TO_GLTF = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])  # (east, north, up) → glTF (x east, y up, z south)


class GpsUnusable(ValueError):
    """One photo's GPS tags cannot be used (missing parts, not numbers, off the globe)."""


@dataclass(frozen=True)
class GpsFix:
    lat_deg: float
    lon_deg: float
    alt_m: float | None  # above sea level (WGS 84 ellipsoid height is not told apart)
    accuracy_m: float | None  # horizontal error the receiver declared (GPSHPositioningError), metres


def read_gps(path: Path) -> GpsFix | None:
    """The GPS position in a photo's EXIF, or None when it has none.

    Raises :class:`GpsUnusable` with the reason when the tags are there but cannot be used.
    """
    from PIL import ExifTags, Image

    try:
        with Image.open(path) as im:
            gps = im.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    except (OSError, SyntaxError, ValueError) as exc:
        raise GpsUnusable(f"the EXIF cannot be read ({exc})") from exc
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat = _dms(gps[2], "latitude") * (-1 if str(gps.get(1, "N")).strip("\0 ").upper() == "S" else 1)
    lon = _dms(gps[4], "longitude") * (-1 if str(gps.get(3, "E")).strip("\0 ").upper() == "W" else 1)
    if not -90 <= lat <= 90 or not -180 <= lon <= 180:
        raise GpsUnusable(f"position {lat:.6f}, {lon:.6f} is not on the globe")
    alt = None
    if 6 in gps:
        alt = _number(gps[6], "altitude")
        ref = gps.get(5, 0)
        if (ref[0] if isinstance(ref, bytes) and ref else ref) in (1, b"\x01"):
            alt = -alt
        if not -500 <= alt <= 10_000:
            raise GpsUnusable(f"altitude {alt:.1f} m is not plausible")
    accuracy = None
    if 31 in gps:
        accuracy = _number(gps[31], "positioning error")
        if accuracy <= 0:
            accuracy = None
    return GpsFix(lat, lon, alt, accuracy)


def _number(value, what: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise GpsUnusable(f"the {what} is not a number") from exc
    if not math.isfinite(x):
        raise GpsUnusable(f"the {what} is not a number (NaN)")
    return x


def _dms(value, what: str) -> float:
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise GpsUnusable(f"the {what} is not degrees, minutes, seconds") from exc
    x = d + m / 60 + s / 3600
    if not math.isfinite(x):
        raise GpsUnusable(f"the {what} is not a number (NaN)")
    return x


# ------------------------------------------------------------------ geodesy (WGS 84)


def to_ecef(lat_deg, lon_deg, alt_m) -> np.ndarray:
    """Earth-centred coordinates (n, 3) metres of geodetic positions (arrays of n)."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    h = np.asarray(alt_m, dtype=np.float64)
    n = _A / np.sqrt(1 - _E2 * np.sin(lat) ** 2)
    return np.stack([(n + h) * np.cos(lat) * np.cos(lon), (n + h) * np.cos(lat) * np.sin(lon),
                     (n * (1 - _E2) + h) * np.sin(lat)], -1)


def _enu_basis(lat_deg: float, lon_deg: float) -> np.ndarray:
    """Rows: east, north, up unit vectors (3, 3) in ECEF at a place."""
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    return np.array([[-math.sin(lon), math.cos(lon), 0.0],
                     [-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)],
                     [math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)]])


@dataclass(frozen=True)
class LocalFrame:
    """East-North-Up metres around a reference place."""

    lat_deg: float
    lon_deg: float
    alt_m: float

    def to_enu(self, lat_deg, lon_deg, alt_m) -> np.ndarray:
        """(n, 3) east, north, up metres."""
        d = to_ecef(lat_deg, lon_deg, alt_m) - to_ecef(self.lat_deg, self.lon_deg, self.alt_m)
        return d @ _enu_basis(self.lat_deg, self.lon_deg).T

    def to_geodetic(self, enu: np.ndarray) -> tuple[float, float, float]:
        """(latitude °, longitude °, altitude m) of one local point (3,) (Bowring's iteration)."""
        x, y, z = to_ecef(self.lat_deg, self.lon_deg, self.alt_m) + np.asarray(enu) @ _enu_basis(
            self.lat_deg, self.lon_deg)
        lon = math.atan2(y, x)
        p = math.hypot(x, y)
        lat = math.atan2(z, p * (1 - _E2))
        for _ in range(6):
            n = _A / math.sqrt(1 - _E2 * math.sin(lat) ** 2)
            h = p / math.cos(lat) - n
            lat = math.atan2(z, p * (1 - _E2 * n / (n + h)))
        return math.degrees(lat), math.degrees(lon), h


# ------------------------------------------------------------------ alignment


@dataclass
class GpsAlignment:
    """The similarity ``enu = scale * rotation @ model + translation`` and how far to trust it."""

    scale: float
    rotation: np.ndarray  # (3, 3) model → ENU
    translation: np.ndarray  # (3,)
    frame: LocalFrame
    up_from_gps: bool  # False: up came from the cameras, GPS gave only scale, north and position
    has_altitude: bool  # every fix had an altitude (else heights are not known)
    inliers: list[str]
    outliers: list[str]
    rms_residual_m: float  # horizontal and vertical, over the inliers
    accuracy_m: float  # the GPS error assumed (declared or default)
    scale_error: float  # predicted relative error of the scale (1-sigma)
    tilt_error_deg: float  # predicted error of the up axis from GPS (1-sigma)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {"photos_used": len(self.inliers), "outliers": self.outliers,
                "rms_residual_m": round(self.rms_residual_m, 4), "accuracy_m": self.accuracy_m,
                "scale_error": round(self.scale_error, 5), "tilt_error_deg": round(self.tilt_error_deg, 2),
                "up_from_gps": self.up_from_gps,
                "reference": {"latitude": self.frame.lat_deg, "longitude": self.frame.lon_deg,
                              "altitude_m": self.frame.alt_m}}


class GpsRefused(ValueError):
    """The photos' GPS cannot give a trustworthy scale; ``str()`` says why."""


def align_to_gps(names: list[str], centres: np.ndarray, fixes: list[GpsFix], camera_up: np.ndarray, *,
                 max_scale_error: float = 0.05, max_tilt_error_deg: float = 3.0, seed: int = 0) -> GpsAlignment:
    """Align camera centres (n, 3) in the model frame to their GPS fixes (n), robustly.

    RANSAC over minimal samples (every triple for small sets) with a threshold of 3.5 times the
    GPS error, then least squares (Umeyama) on the inliers. The up axis comes from GPS when the
    positions pin it down (spread in two directions and heights known, predicted tilt within
    ``max_tilt_error_deg``); otherwise from the cameras (``camera_up``, model frame), and GPS gives
    the scale, north and position only. Raises :class:`GpsRefused` when GPS cannot be trusted.
    """
    centres = np.asarray(centres, dtype=np.float64)
    n = len(fixes)
    if n < 3:
        raise GpsRefused(f"only {n} placed photo(s) carry GPS; at least 3 are needed")
    declared = [f.accuracy_m for f in fixes if f.accuracy_m is not None]
    sigma = float(np.median(declared)) if len(declared) * 2 >= n else DEFAULT_ACCURACY_M
    has_alt = all(f.alt_m is not None for f in fixes)
    lat = np.array([f.lat_deg for f in fixes])
    lon = np.array([f.lon_deg for f in fixes])
    alt = np.array([f.alt_m if f.alt_m is not None else 0.0 for f in fixes])
    frame = LocalFrame(float(lat.mean()), float(lon.mean()), float(alt.mean()))
    enu = frame.to_enu(lat, lon, alt)
    spread = _rms_spread(enu[:, :2])
    if spread < sigma:
        where = "at one spot" if spread < 0.01 else f"within {spread:.1f} m"
        raise GpsRefused(f"the photos' GPS positions are {where}, less than the GPS error (about {sigma:g} m): "
                         "they cannot give the model's size")
    model_spread = _rms_spread(centres)
    if model_spread <= 0:
        raise GpsRefused("the cameras are all at one place in the model")
    weights = np.array([1.0, 1.0, 1.0 / VERTICAL_FACTOR]) if has_alt else np.array([1.0, 1.0, 0.0])
    full = has_alt and _tilt_error_deg(enu, sigma) <= max_tilt_error_deg
    R_up = None if full else _rotation_between(camera_up, np.array([0.0, 0, 1]))
    solve = (lambda idx: _similarity_3d(centres[idx], enu[idx])) if full else \
        (lambda idx: _similarity_up_fixed(centres[idx], enu[idx], R_up, has_alt))
    threshold = 3.5 * sigma  # 99 % of inliers for a 3-D Gaussian error
    best: tuple[int, float, np.ndarray] | None = None
    k = 3 if full else 2
    for idx in _samples(n, k, seed):
        sim = solve(np.array(idx))
        if sim is None:
            continue
        r = _residuals(sim, centres, enu, weights)
        inl = r <= threshold
        key = (int(inl.sum()), -float(np.sqrt((r[inl] ** 2).mean())) if inl.any() else 0.0)
        if best is None or key > best[:2]:
            best = (*key, inl)
    if best is None:
        raise GpsRefused("the GPS positions are all on one line or at one spot")
    inl = best[2]
    for _ in range(3):  # least squares on the inliers, then the inliers again
        sim = solve(np.flatnonzero(inl))
        if sim is None:
            break
        r = _residuals(sim, centres, enu, weights)
        new = r <= threshold
        if new.sum() < 3 or (new == inl).all():
            break
        inl = new
    if sim is None or inl.sum() < max(3, math.ceil(n / 2)):
        raise GpsRefused(f"only {int(inl.sum())} of {n} photos' GPS positions agree with the photos' geometry "
                         f"(within {threshold:g} m): the GPS is too unreliable to give a scale")
    if full and _tilt_error_deg(enu[inl], sigma) > max_tilt_error_deg:  # the outliers made the stations look spread
        full = False
        R_up = _rotation_between(camera_up, np.array([0.0, 0, 1]))
        sim = _similarity_up_fixed(centres[inl], enu[inl], R_up, has_alt)
        if sim is None:
            raise GpsRefused("the GPS positions that agree with the photos are all at one spot")
    s, R, t = sim
    rms = float(np.sqrt((_residuals(sim, centres, enu, np.array([1.0, 1.0, float(has_alt)]))[inl] ** 2).mean()))
    effective = max(sigma, rms)  # a receiver that claims more than it delivers is judged by what it delivers
    scale_error = effective / (_rms_spread(enu[inl][:, :2]) * math.sqrt(int(inl.sum())))
    tilt = _tilt_error_deg(enu[inl], effective) if has_alt else float("inf")
    if scale_error > max_scale_error:
        raise GpsRefused(f"the GPS positions spread over {_rms_spread(enu[inl][:, :2]):.1f} m with an error of about "
                         f"{effective:.1g} m: the scale would be uncertain by {100 * scale_error:.0f} % "
                         f"(more than {100 * max_scale_error:.0f} %)")
    notes = []
    if not full:
        notes.append("up from the cameras: " + ("the photos carry no GPS altitude" if not has_alt else
                                                f"GPS heights would tilt the model by ±{tilt:.1f}°"))
    outliers = [nm for nm, ok in zip(names, inl) if not ok]
    if outliers:
        notes.append(f"GPS of {', '.join(outliers)} ignored: more than {threshold:g} m from where the photo was taken")
    return GpsAlignment(s, R, t, frame, full, has_alt, [nm for nm, ok in zip(names, inl) if ok], outliers, rms, sigma,
                        scale_error, tilt if full else float("nan"), notes)


def _rms_spread(x: np.ndarray) -> float:
    return float(np.sqrt(((x - x.mean(0)) ** 2).sum(1).mean()))


def _tilt_error_deg(enu: np.ndarray, sigma: float) -> float:
    """Predicted error of the up axis fitted to positions ``enu`` with horizontal error ``sigma``: height errors
    over the spread in the second-widest direction (a line of stations leaves the tilt across it free)."""
    sv = np.linalg.svd(enu - enu.mean(0), compute_uv=False) / math.sqrt(len(enu))
    if len(sv) < 2 or sv[1] <= 0:
        return float("inf")
    return math.degrees(math.atan(VERTICAL_FACTOR * sigma / (sv[1] * math.sqrt(len(enu)))))


def _samples(n: int, k: int, seed: int, limit: int = 2000):
    combos = math.comb(n, k)
    if combos <= limit:
        yield from itertools.combinations(range(n), k)
        return
    rng = np.random.default_rng(seed)
    for _ in range(limit):
        yield tuple(rng.choice(n, k, replace=False))


def _similarity_3d(src: np.ndarray, dst: np.ndarray):
    if np.linalg.matrix_rank(src - src.mean(0), tol=1e-9 * max(1.0, np.abs(src).max())) < 2 or \
            np.linalg.matrix_rank(dst - dst.mean(0), tol=1e-6) < 2:
        return None
    s, R, t = umeyama(src, dst)
    return (s, R, t) if s > 0 and np.isfinite(s) else None


def _similarity_up_fixed(src: np.ndarray, dst: np.ndarray, R_up: np.ndarray, has_alt: bool):
    """Similarity whose rotation keeps ``R_up`` (model up → +Z) and turns only about the vertical."""
    lifted = src @ R_up.T
    if _rms_spread(lifted[:, :2]) <= 0 or _rms_spread(dst[:, :2]) <= 0:
        return None
    s, R2, t2 = umeyama(lifted[:, :2], dst[:, :2])
    if not (s > 0 and np.isfinite(s)):
        return None
    R = np.eye(3)
    R[:2, :2] = R2
    R = R @ R_up
    tz = float((dst[:, 2] - s * lifted[:, 2]).mean()) if has_alt else float(-s * lifted[:, 2].mean())
    return s, R, np.array([t2[0], t2[1], tz])


def _residuals(sim, src: np.ndarray, dst: np.ndarray, weights: np.ndarray) -> np.ndarray:
    s, R, t = sim
    d = s * src @ R.T + t - dst
    return np.sqrt(((d * weights) ** 2).sum(1))


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from heritage3d.frame import rotation_between

    return rotation_between(np.asarray(a, float), b)
