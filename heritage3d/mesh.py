"""Triangle meshes as plain arrays, their validation and cleanup.

A mesh here is ``vertices`` (n, 3) float64 (model units, metres once scaled), ``faces``
(m, 3) int64 and ``colors`` (n, 3) uint8 RGB; no library object crosses module borders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heritage3d.errors import CorruptGeometryError


@dataclass
class Mesh:
    vertices: np.ndarray  # (n, 3) float64
    faces: np.ndarray  # (m, 3) int64
    colors: np.ndarray  # (n, 3) uint8

    def __post_init__(self):
        validate(self.vertices, self.faces)
        if self.colors is None or len(self.colors) != len(self.vertices):
            self.colors = np.full((len(self.vertices), 3), 180, np.uint8)

    @property
    def bounds(self) -> np.ndarray:
        """(2, 3) float64: min and max corner."""
        return np.stack([self.vertices.min(0), self.vertices.max(0)])


def validate(vertices: np.ndarray, faces: np.ndarray) -> None:
    """Raise CorruptGeometryError on NaN/inf coordinates or face indices out of range."""
    if vertices.ndim != 2 or vertices.shape[1] != 3 or len(vertices) == 0:
        raise CorruptGeometryError("the model has no vertices")
    if not np.isfinite(vertices).all():
        raise CorruptGeometryError("the model has NaN or infinite coordinates")
    if faces.size and (faces.ndim != 2 or faces.shape[1] != 3):
        raise CorruptGeometryError("faces must be triangles")
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise CorruptGeometryError(
            f"face indices out of range: {faces.min()}..{faces.max()} for {len(vertices)} vertices")


def from_open3d(m) -> Mesh:
    v = np.asarray(m.vertices, dtype=np.float64)
    c = np.asarray(m.vertex_colors)
    colors = (np.clip(c, 0, 1) * 255).round().astype(np.uint8) if len(c) == len(v) else None
    return Mesh(v, np.asarray(m.triangles, dtype=np.int64), colors)


def to_open3d(mesh: Mesh):
    import open3d as o3d

    m = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(mesh.vertices),
                                  o3d.utility.Vector3iVector(mesh.faces.astype(np.int32)))
    m.vertex_colors = o3d.utility.Vector3dVector(mesh.colors.astype(np.float64) / 255)
    return m


def clean(mesh: Mesh, *, min_component_fraction: float = 0.02) -> Mesh:
    """Drop floaters (connected pieces with fewer than ``min_component_fraction`` of the largest
    piece's triangles), degenerate and duplicate triangles, and unused vertices."""
    m = to_open3d(mesh)
    m.remove_duplicated_vertices()
    m.remove_degenerate_triangles()
    m.remove_duplicated_triangles()
    if len(m.triangles):
        labels, counts, _ = m.cluster_connected_triangles()
        labels, counts = np.asarray(labels), np.asarray(counts)
        small = counts < min_component_fraction * counts.max()
        m.remove_triangles_by_mask(small[labels])
    m.remove_unreferenced_vertices()
    out = from_open3d(m)
    if len(out.faces) == 0:
        raise CorruptGeometryError("nothing is left of the model after cleanup")
    return out


def decimate(mesh: Mesh, target_faces: int) -> Mesh:
    """Quadric decimation (Open3D) to at most ``target_faces`` triangles; colours are carried."""
    if len(mesh.faces) <= target_faces:
        return mesh
    m = to_open3d(mesh).simplify_quadric_decimation(int(target_faces))
    m.remove_unreferenced_vertices()
    return from_open3d(m)


def transformed(mesh: Mesh, scale: float, rotation: np.ndarray, translation: np.ndarray) -> Mesh:
    """``scale * rotation @ v + translation`` for every vertex."""
    v = scale * mesh.vertices @ rotation.T + translation
    return Mesh(v, mesh.faces, mesh.colors)
