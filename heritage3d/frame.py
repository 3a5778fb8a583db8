"""The output frame: glTF's +Y up, metres when a scale is known, the model standing on the origin;
with GPS, +X east and +Z south as well."""

from __future__ import annotations

import numpy as np


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation (3, 3) taking unit vector ``a`` onto unit vector ``b`` (Rodrigues)."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    v, c = np.cross(a, b), float(a @ b)
    if c < -0.999999:
        axis = np.cross(a, [1.0, 0, 0]) if abs(a[0]) < 0.9 else np.cross(a, [0, 1.0, 0])
        axis /= np.linalg.norm(axis)
        return 2 * np.outer(axis, axis) - np.eye(3)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


def up_from_cameras(rotations: np.ndarray) -> np.ndarray:
    """Up (3,) in the model frame: photographers hold cameras upright, and a camera's image y
    axis points down. ``rotations`` (n, 3, 3) world→camera."""
    up = -np.asarray(rotations)[:, 1, :].mean(0)
    return up / np.linalg.norm(up)


def scale_from_known_distance(p: np.ndarray, q: np.ndarray, distance_m: float) -> float:
    """Metres per model unit from two model points (3,) the curator measured ``distance_m`` apart."""
    d = float(np.linalg.norm(np.asarray(p) - np.asarray(q)))
    if d <= 0 or distance_m <= 0:
        raise ValueError("a known distance needs two distinct points and a positive length")
    return distance_m / d


def output_transform(vertices: np.ndarray, rotation: np.ndarray, scale: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(scale, rotation (3, 3), translation (3,)) putting the model in the output frame: ``rotation`` (model →
    output axes, +Y up) and ``scale`` as given, the translation so the base centre sits at the origin."""
    R = np.asarray(rotation, dtype=np.float64)
    v = scale * vertices @ R.T
    lo, hi = v.min(0), v.max(0)
    t = -np.array([(lo[0] + hi[0]) / 2, lo[1], (lo[2] + hi[2]) / 2])
    return scale, R, t
