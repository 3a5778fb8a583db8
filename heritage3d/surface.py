"""Surface accuracy against a reference, Tanks-and-Temples style."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class SurfaceScores:
    threshold_m: float
    precision: float  # share of reconstructed points within threshold of the reference
    recall: float  # share of reference points within threshold of the reconstruction
    f_score: float
    accuracy_m: float  # mean distance reconstruction → reference
    completeness_m: float  # mean distance reference → reconstruction

    def as_dict(self) -> dict:
        return asdict(self)


def voxel_downsample(points: np.ndarray, voxel_m: float) -> np.ndarray:
    """One point (the first) per occupied voxel; (n, 3) → (k, 3)."""
    keys = np.floor(points / voxel_m).astype(np.int64)
    _, idx = np.unique(keys, axis=0, return_index=True)
    return points[np.sort(idx)]


def scores(reconstruction: np.ndarray, reference: np.ndarray, threshold_m: float) -> SurfaceScores:
    """Precision/recall/F at ``threshold_m`` between two point sets (n, 3) and (k, 3) float64.

    Both are first thinned to one point per ``threshold_m / 2`` voxel so density does not bias.
    """
    from scipy.spatial import cKDTree

    rec = voxel_downsample(np.asarray(reconstruction, float), threshold_m / 2)
    ref = voxel_downsample(np.asarray(reference, float), threshold_m / 2)
    d_rec, _ = cKDTree(ref).query(rec, workers=-1)
    d_ref, _ = cKDTree(rec).query(ref, workers=-1)
    p = float((d_rec < threshold_m).mean())
    r = float((d_ref < threshold_m).mean())
    f = 0.0 if p + r == 0 else 2 * p * r / (p + r)
    return SurfaceScores(threshold_m, p, r, f, float(d_rec.mean()), float(d_ref.mean()))


def sample_mesh(vertices: np.ndarray, faces: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` points (n, 3) float64 uniformly on the triangles (area-weighted)."""
    rng = np.random.default_rng(seed)
    tri = vertices[faces]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    idx = rng.choice(len(faces), n, p=area / area.sum())
    a, b = rng.random((2, n))
    swap = a + b > 1
    a[swap], b[swap] = 1 - a[swap], 1 - b[swap]
    t = tri[idx]
    return t[:, 0] + a[:, None] * (t[:, 1] - t[:, 0]) + b[:, None] * (t[:, 2] - t[:, 0])
