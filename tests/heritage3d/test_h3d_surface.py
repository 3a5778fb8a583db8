"""Surface accuracy on a synthetic monument rendered with known cameras (Tanks-and-Temples style)."""

from __future__ import annotations

import numpy as np

from heritage3d import dense, mesh as mesh_mod
from heritage3d.alignment import umeyama
from heritage3d.surface import sample_mesh, scores


def test_umeyama_recovers_a_similarity():
    rng = np.random.default_rng(0)
    src = rng.random((10, 3))
    a = 0.3
    R = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    dst = 2.5 * src @ R.T + [1, 2, 3]
    s, R2, t = umeyama(src, dst)
    assert np.isclose(s, 2.5) and np.allclose(R2, R) and np.allclose(t, [1, 2, 3])


def test_web_mesh_of_synthetic_scene_meets_f_score_and_precision(synthetic_scene):
    s = synthetic_scene
    raw = mesh_mod.from_open3d(dense.fuse(s.views, s.surface_points[::50]))
    web = mesh_mod.decimate(mesh_mod.clean(raw), 40_000)  # the mobile level
    diag = float(np.linalg.norm(s.surface_points.max(0) - s.surface_points.min(0)))
    result = scores(sample_mesh(web.vertices, web.faces, 300_000), s.surface_points, 0.005 * diag)
    assert result.f_score >= 0.85, result
    assert result.precision >= 0.85, result
