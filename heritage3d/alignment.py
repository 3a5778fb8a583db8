"""Similarity alignment of two point sets (Umeyama 1991) and camera-centre errors."""

from __future__ import annotations

import numpy as np


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity (s, R, t) minimising ``|| dst - (s R src + t) ||``.

    ``src``, ``dst``: (n, d) float64 (d = 3, or 2 for a similarity in a plane), rows in correspondence.
    Returns scale (float), rotation (d, d) float64 (proper: no reflection), translation (d,) float64.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    xs, xd = src - mu_s, dst - mu_d
    cov = xd.T @ xs / len(src)
    U, S, Vt = np.linalg.svd(cov)
    D = np.eye(src.shape[1])
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        D[-1, -1] = -1
    R = U @ D @ Vt
    var_s = (xs ** 2).sum() / len(src)
    s = float(np.trace(np.diag(S) @ D) / var_s)
    t = mu_d - s * R @ mu_s
    return s, R, t


def aligned_centre_errors_m(centres: np.ndarray, reference_m: np.ndarray) -> np.ndarray:
    """Per-camera distance (n,) float64 in the reference's unit after a similarity alignment."""
    s, R, t = umeyama(centres, reference_m)
    return np.linalg.norm((s * (R @ np.asarray(centres).T)).T + t - reference_m, axis=1)
