"""Simple coloured models of two Hanoi monuments, made from primitives, so the demo
(``heritage serve --demo``) has 3D models to build and show without any photo set.

They are sketches at about the right size (metres, +Y up), not surveys:

- Khuê Văn Các (1805): four brick piers carrying a square wooden upper storey with a
  round window on each side, under a two-tier tiled roof;
- Chùa Một Cột: a square wooden shrine on one stone pillar standing in a square pond.

Each part is subdivided so that no part is small enough for the pipeline's floater
cleanup to take it for noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

BRICK = (0.86, 0.80, 0.70)
WOOD = (0.55, 0.16, 0.10)
DARK = (0.18, 0.10, 0.08)
TILE = (0.42, 0.24, 0.18)
STONE = (0.62, 0.60, 0.56)
WATER = (0.22, 0.42, 0.46)
GOLD = (0.80, 0.62, 0.20)


def _coloured(mesh, rgb, *, subdivide: int = 0):
    import trimesh

    for _ in range(subdivide):
        mesh = mesh.subdivide()
    colours = np.tile(np.append(np.asarray(rgb) * 255, 255).astype(np.uint8), (len(mesh.vertices), 1))
    mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=colours)
    return mesh


def _box(size, centre, rgb, subdivide=3):
    import trimesh

    return _coloured(trimesh.creation.box(extents=size, transform=trimesh.transformations.translation_matrix(centre)),
                     rgb, subdivide=subdivide)


def _frustum(bottom_half: float, top_half: float, y0: float, y1: float, rgb, subdivide=3):
    """A square roof tier: a frustum from ``bottom_half`` (half-width) at ``y0`` to ``top_half`` at ``y1``."""
    import trimesh

    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    pts = [(x * bottom_half, y0, z * bottom_half) for x, z in corners] + [(x * top_half, y1, z * top_half)
                                                                          for x, z in corners]
    return _coloured(trimesh.convex.convex_hull(np.array(pts)), rgb, subdivide=subdivide)


def _ring(radius: float, width: float, centre, axis, rgb):
    """A round window frame facing ``axis``."""
    import trimesh

    ring = trimesh.creation.annulus(r_min=radius - width, r_max=radius, height=0.12, sections=48)
    align = trimesh.geometry.align_vectors([0, 0, 1], axis)
    ring.apply_transform(trimesh.transformations.translation_matrix(centre) @ align)
    return _coloured(ring, rgb, subdivide=2)


def khue_van_cac():
    import trimesh

    parts = [_box((9.0, 0.3, 9.0), (0, 0.15, 0), STONE)]  # the platform
    for x in (-3.2, 3.2):
        for z in (-3.2, 3.2):
            parts.append(_box((1.6, 3.6, 1.6), (x, 0.3 + 1.8, z), BRICK))
    parts.append(_box((8.4, 0.35, 8.4), (0, 4.08, 0), BRICK))  # the floor of the upper storey
    parts.append(_box((6.4, 2.6, 6.4), (0, 5.55, 0), WOOD))  # the upper storey
    for axis in ((1, 0, 0), (-1, 0, 0), (0, 0, 1), (0, 0, -1)):
        centre = np.array([0.0, 5.55, 0.0]) + 3.22 * np.array(axis)
        parts.append(_ring(1.0, 0.22, centre, axis, DARK))  # the round windows ("sun" windows)
    parts.append(_frustum(4.6, 3.3, 6.85, 7.6, TILE))  # lower roof tier
    parts.append(_box((3.6, 0.9, 3.6), (0, 8.05, 0), WOOD))
    parts.append(_frustum(3.0, 0.5, 8.5, 9.7, TILE))  # upper roof tier
    return trimesh.util.concatenate(parts)


def chua_mot_cot():
    import trimesh

    parts = [_box((14.0, 0.4, 14.0), (0, 0.2, 0), WATER)]  # the pond
    for x, z, w, d in ((0, 7.3, 15.0, 0.6), (0, -7.3, 15.0, 0.6), (7.3, 0, 0.6, 15.0), (-7.3, 0, 0.6, 15.0)):
        parts.append(_box((w, 0.7, d), (x, 0.35, z), STONE))  # the pond's stone rim
    pillar = trimesh.creation.cylinder(radius=0.6, height=4.0, sections=40,
                                       transform=trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    pillar.apply_translation((0, 2.4, 0))
    parts.append(_coloured(pillar, STONE, subdivide=3))
    parts.append(_box((4.2, 0.3, 4.2), (0, 4.55, 0), WOOD))  # the platform the shrine stands on
    parts.append(_box((3.0, 2.0, 3.0), (0, 5.7, 0), WOOD))  # the shrine
    parts.append(_frustum(2.6, 0.6, 6.7, 8.0, TILE))  # its roof
    parts.append(_box((0.4, 0.5, 0.4), (0, 8.25, 0), GOLD))  # the finial
    return trimesh.util.concatenate(parts)


SCENES = {"khue-van-cac": khue_van_cac, "chua-mot-cot": chua_mot_cot}


def write_scene(name: str, path: Path) -> Path:
    """Write one of :data:`SCENES` as a coloured PLY mesh (what a curator would upload)."""
    path = Path(path)
    SCENES[name]().export(path, file_type="ply")
    return path
