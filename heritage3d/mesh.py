"""Triangle meshes as plain arrays, their validation and cleanup.

A mesh here is ``vertices`` (n, 3) float64 (model units, metres once scaled), ``faces``
(m, 3) int64 and ``colors`` (n, 3) uint8 RGB; a mesh imported with its texture also has ``uv`` (n, 2)
(glTF's: v down from the image's first row) and ``texture`` (h, w, 3) uint8, its colours then being the
texture's at the vertices. No library object crosses module borders.
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
    uv: np.ndarray | None = None  # (n, 2) float64, glTF's (v down); with ``texture``
    texture: np.ndarray | None = None  # (h, w, 3) uint8

    def __post_init__(self):
        validate(self.vertices, self.faces)
        if self.colors is None or len(self.colors) != len(self.vertices):
            self.colors = np.full((len(self.vertices), 3), 180, np.uint8)
        if (self.uv is None) != (self.texture is None):
            raise ValueError("a textured mesh needs both its texture coordinates and its image")
        if self.uv is not None:
            self.uv = np.asarray(self.uv, dtype=np.float64)
            if self.uv.shape != (len(self.vertices), 2) or not np.isfinite(self.uv).all():
                raise CorruptGeometryError("the texture coordinates do not match the vertices")

    @property
    def textured(self) -> bool:
        return self.texture is not None

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
    if mesh.textured:
        return _clean_textured(mesh, min_component_fraction)
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


def _clean_textured(mesh: Mesh, min_component_fraction: float) -> Mesh:
    """:func:`clean` for a textured mesh: vertices merged only where position *and* texture coordinates
    agree (a texture's seams stay cut), but pieces, degenerate and duplicate triangles judged on the
    surface welded by position (Open3D's cleanup would weld the seams and lose the texture's layout)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    key = np.concatenate([mesh.vertices, mesh.uv], axis=1)
    key, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    vertices, uv, colors = key[:, :3], key[:, 3:], mesh.colors[first]
    faces = inverse.reshape(-1)[mesh.faces]
    _, weld = np.unique(vertices, axis=0, return_inverse=True)
    weld = weld.reshape(-1)
    wf = weld[faces]
    ok = (wf[:, 0] != wf[:, 1]) & (wf[:, 1] != wf[:, 2]) & (wf[:, 0] != wf[:, 2])
    faces, wf = faces[ok], wf[ok]
    _, once = np.unique(np.sort(wf, axis=1), axis=0, return_index=True)
    once.sort()
    faces, wf = faces[once], wf[once]
    if len(faces):
        n = int(weld.max()) + 1
        edges = np.concatenate([wf[:, [0, 1]], wf[:, [1, 2]]])
        graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
        piece = labels[wf[:, 0]]
        counts = np.bincount(piece)
        faces = faces[counts[piece] >= min_component_fraction * counts.max()]
    if len(faces) == 0:
        raise CorruptGeometryError("nothing is left of the model after cleanup")
    used, faces = np.unique(faces, return_inverse=True)
    return Mesh(vertices[used], faces.reshape(-1, 3).astype(np.int64), colors[used], uv[used], mesh.texture)


def decimate(mesh: Mesh, target_faces: int) -> Mesh:
    """Quadric decimation to at most ``target_faces`` triangles; colours are carried. A textured mesh is
    simplified by meshoptimizer (gltfpack ``-si``), which moves vertices along the texture's seams only,
    so the texture coordinates stay right; Open3D's decimation would drop them."""
    if len(mesh.faces) <= target_faces:
        return mesh
    if mesh.textured:
        return _decimate_textured(mesh, target_faces)
    m = to_open3d(mesh).simplify_quadric_decimation(int(target_faces))
    m.remove_unreferenced_vertices()
    return from_open3d(m)


def _decimate_textured(mesh: Mesh, target_faces: int) -> Mesh:
    import io

    import trimesh

    from heritage3d import gltf, meshopt
    from heritage3d.inputs import sample_texture

    tiny, mime = gltf.encode_texture(np.full((4, 4, 3), 128, np.uint8), fmt="jpeg")  # only the layout matters
    glb = gltf.to_glb(mesh, compression="none", texture=gltf.Texture(mesh.uv, tiny, mime))
    ratio = target_faces / len(mesh.faces)

    def simplified(aggressive: bool):
        out = meshopt.simplify(glb, ratio, aggressive=aggressive)
        return trimesh.load(io.BytesIO(out), file_type="glb", force="mesh", process=False, validate=False)

    out = simplified(False)
    if len(out.faces) > 1.25 * target_faces:  # the texture's seams held it back: let it move them
        out = simplified(True)
    vertices = np.asarray(out.vertices, dtype=np.float64)
    faces = np.asarray(out.faces, dtype=np.int64).reshape(-1, 3)
    uv_up = np.asarray(out.visual.uv, dtype=np.float64)  # trimesh's: v up
    uv = np.stack([uv_up[:, 0], 1.0 - uv_up[:, 1]], axis=1)
    return Mesh(vertices, faces, sample_texture(mesh.texture, uv_up), uv, mesh.texture)


def transformed(mesh: Mesh, scale: float, rotation: np.ndarray, translation: np.ndarray) -> Mesh:
    """``scale * rotation @ v + translation`` for every vertex."""
    v = scale * mesh.vertices @ rotation.T + translation
    return Mesh(v, mesh.faces, mesh.colors, mesh.uv, mesh.texture)
