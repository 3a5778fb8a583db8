"""A synthetic monument with known geometry and cameras, rendered by ray casting.

Used to measure surface accuracy (precision, recall, F-score) without survey data:
a small stepped "pavilion" (a plinth, a body and a roof slab) on a ground square, with a
procedural high-frequency colour texture so stereo has something to match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heritage3d.dense import View


@dataclass
class SyntheticScene:
    vertices: np.ndarray  # (n, 3) float64 metres
    faces: np.ndarray  # (m, 3) int64
    views: list[View]
    surface_points: np.ndarray  # (k, 3) float64: visible surface, sampled from the rendered views


def _box(lo, hi) -> tuple[np.ndarray, np.ndarray]:
    import open3d as o3d

    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    b = o3d.geometry.TriangleMesh.create_box(*(hi - lo))
    b.translate(lo)
    return np.asarray(b.vertices), np.asarray(b.triangles)


def pavilion_mesh() -> tuple[np.ndarray, np.ndarray]:
    """Vertices (n, 3) float64 metres and faces (m, 3) int64 of the test monument; z is up."""
    parts = [
        _box([-1.5, -1.5, -0.05], [1.5, 1.5, 0.0]),  # ground
        _box([-0.6, -0.6, 0.0], [0.6, 0.6, 0.3]),  # plinth
        _box([-0.4, -0.4, 0.3], [0.4, 0.4, 0.9]),  # body
        _box([-0.7, -0.7, 0.9], [0.7, 0.7, 1.0]),  # roof slab
        _box([-0.15, -0.15, 1.0], [0.15, 0.15, 1.3]),  # finial
    ]
    verts, faces, off = [], [], 0
    for v, f in parts:
        verts.append(v)
        faces.append(f + off)
        off += len(v)
    return np.concatenate(verts), np.concatenate(faces).astype(np.int64)


def texture_rgb(points: np.ndarray, seed: int = 7) -> np.ndarray:
    """Procedural colour (n, 3) uint8 at world points (n, 3) metres: trilinear value noise at
    three scales (4, 12 and 40 cm), smooth enough not to alias in the rendered photos."""
    rng = np.random.default_rng(seed)
    out = np.zeros((len(points), 3))
    for scale_m, weight in ((0.04, 0.5), (0.12, 0.3), (0.4, 0.2)):
        table = rng.random((64, 64, 64, 3))
        g = points / scale_m
        i0 = np.floor(g).astype(np.int64)
        fr = g - i0
        for corner in range(8):
            o = np.array([(corner >> k) & 1 for k in range(3)])
            wgt = np.prod(np.where(o, fr, 1 - fr), axis=1)
            q = (i0 + o) % 64
            out += weight * wgt[:, None] * table[q[:, 0], q[:, 1], q[:, 2]]
    out = (out - out.mean(0)) * 2.5 + 0.5
    return (np.clip(out, 0, 1) * 255).astype(np.uint8)


def look_at(centre: np.ndarray, target: np.ndarray, up=(0, 0, 1)) -> tuple[np.ndarray, np.ndarray]:
    """World→camera rotation (3, 3) and translation (3,) for an OpenCV camera (x right, y down, z forward)."""
    z = target - centre
    z = z / np.linalg.norm(z)
    x = np.cross(z, up)
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    R = np.stack([x, y, z])
    return R, -R @ centre


def make_scene(n_views: int = 24, width_px: int = 640, height_px: int = 480, radius_m: float = 3.2,
               seed: int = 7) -> SyntheticScene:
    """Render ``n_views`` photos on two rings around the pavilion with known cameras."""
    import open3d as o3d

    verts, faces = pavilion_mesh()
    rc = o3d.t.geometry.RaycastingScene()
    rc.add_triangles(o3d.core.Tensor(verts.astype(np.float32)), o3d.core.Tensor(faces.astype(np.uint32)))
    f = 0.9 * width_px
    K = np.array([[f, 0, width_px / 2], [0, f, height_px / 2], [0, 0, 1.0]])
    views, surface = [], []
    half = n_views // 2
    for k in range(n_views):
        ring = k // half
        az = 2 * np.pi * (k % half) / half + ring * np.pi / half
        elev = np.radians(20 if ring == 0 else 45)
        c = np.array([radius_m * np.cos(az) * np.cos(elev), radius_m * np.sin(az) * np.cos(elev),
                      0.5 + radius_m * np.sin(elev)])
        R, t = look_at(c, np.array([0, 0, 0.5]))
        u, v = np.meshgrid(np.arange(width_px) + 0.5, np.arange(height_px) + 0.5)
        dirs_cam = np.stack([(u - K[0, 2]) / f, (v - K[1, 2]) / f, np.ones_like(u)], -1).reshape(-1, 3)
        dirs = dirs_cam @ R  # camera→world: R.T @ d
        rays = np.concatenate([np.broadcast_to(c, dirs.shape), dirs], 1).astype(np.float32)
        hit = rc.cast_rays(o3d.core.Tensor(rays))
        t_hit = hit["t_hit"].numpy()
        ok = np.isfinite(t_hit)
        pts = c + dirs * t_hit[:, None]
        img = np.full((len(rays), 3), 135, np.uint8)  # grey-blue sky
        img[:, 2] = 200
        img[ok] = texture_rgb(pts[ok], seed)
        views.append(View(img.reshape(height_px, width_px, 3), K, np.zeros(4), R, t))
        surface.append(pts[ok][:: 7])
    return SyntheticScene(verts, faces, views, np.concatenate(surface))
