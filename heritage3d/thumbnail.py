"""A thumbnail of a mesh (WebP, or PNG), ray cast on the CPU (no GPU or EGL needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heritage3d.mesh import Mesh


def render(mesh: Mesh, *, size_px: int = 512, up=(0.0, 1.0, 0.0)) -> np.ndarray:
    """Image (size, size, 3) uint8: the mesh from 30° above, front-right, vertex colours with soft shading."""
    import open3d as o3d

    v = mesh.vertices.astype(np.float32)
    rc = o3d.t.geometry.RaycastingScene()
    rc.add_triangles(o3d.core.Tensor(v), o3d.core.Tensor(mesh.faces.astype(np.uint32)))
    lo, hi = mesh.bounds
    centre, radius = (lo + hi) / 2, np.linalg.norm(hi - lo) / 2
    up = np.asarray(up, float)
    side = np.cross(up, [0.0, 0.0, 1.0]) if abs(up[2]) < 0.9 else np.array([1.0, 0, 0])
    side /= np.linalg.norm(side)
    fwd = np.cross(side, up)
    direction = np.cos(np.radians(30)) * (np.cos(0.6) * fwd + np.sin(0.6) * side) + np.sin(np.radians(30)) * up
    eye = centre + direction * radius * 2.6
    rays = o3d.t.geometry.RaycastingScene.create_rays_pinhole(
        fov_deg=45, center=centre.tolist(), eye=eye.tolist(), up=up.tolist(),
        width_px=size_px, height_px=size_px)
    hit = rc.cast_rays(rays)
    prim = hit["primitive_ids"].numpy().ravel()
    uv = hit["primitive_uvs"].numpy().reshape(-1, 2)
    normal = hit["primitive_normals"].numpy().reshape(-1, 3)
    ok = prim != o3d.t.geometry.RaycastingScene.INVALID_ID
    img = np.full((size_px * size_px, 3), 245.0)
    tri = mesh.faces[prim[ok]]
    w = np.stack([1 - uv[ok, 0] - uv[ok, 1], uv[ok, 0], uv[ok, 1]], 1)
    col = (mesh.colors[tri].astype(float) * w[:, :, None]).sum(1)
    ray_dir = rays.numpy().reshape(-1, 6)[ok, 3:]
    ray_dir /= np.linalg.norm(ray_dir, axis=1, keepdims=True)
    shade = 0.55 + 0.45 * np.abs((normal[ok] * ray_dir).sum(1))
    img[ok] = col * shade[:, None]
    # Open3D's pinhole rays start at the bottom-right pixel: turn the image upright
    return np.clip(img, 0, 255).astype(np.uint8).reshape(size_px, size_px, 3)[::-1, ::-1]


THUMBNAIL_QUALITY = 80  # WebP: a 512-px picture of a model in about 10 KB, where PNG took about 60 KB


def write(mesh: Mesh, path: Path, **kw) -> int:
    """The thumbnail written to ``path``, as WebP (lossy, :data:`THUMBNAIL_QUALITY`) or PNG by its suffix:
    the monument page's first picture, which a phone on a slow connection waits for."""
    from PIL import Image

    image = Image.fromarray(render(mesh, **kw))
    if Path(path).suffix.lower() == ".webp":
        image.save(path, "WEBP", quality=THUMBNAIL_QUALITY, method=6)
    else:
        image.save(path, optimize=True)
    return Path(path).stat().st_size

