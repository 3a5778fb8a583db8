"""Texture atlases for models built from photos (issue #14): the photos' own pixels on the surface, not one
colour per vertex.

The method of Waechter, Moehrle and Goesele, *Let There Be Color! Large-Scale Texturing of 3D
Reconstructions* (ECCV 2014; mvs-texturing, which OpenMVS and Meshroom follow), for each level of detail
after its decimation:

1. **view selection**: each face takes the photo that sees it best: visible (a ray from the camera reaches
   that face first), facing the camera, inside the frame, and largest in pixels there (which rewards both a
   square angle and a close, sharp photo); labels are then smoothed so that a face keeps its neighbours'
   photo when that photo sees it too (fewer, larger patches, fewer seams);
2. **patches**: faces joined by an edge with the same photo form a patch; its texture coordinates are the
   photo's own projection of its vertices, so the texels are the photo's pixels, undistorted and not
   re-parametrised (no stretch);
3. **exposure**: each photo's colour gain (per channel) against the fused surface colours, which average all
   photos, measured at the vertices it sees squarely (median of ratios); photos taken at different exposure
   or white balance then meet without a step;
4. **packing**: the patches' rectangles (with a border of real photo pixels, so mipmaps and bilinear
   filtering never bleed across a seam) are scaled by one factor, as large as the level's atlas allows and
   never above the photos' own resolution, and packed in shelves;
5. faces no photo sees get a small block of their fused vertex colour (said in the report as the share of
   the surface the photos saw).

General UV unwrapping (UVAtlas in Open3D, xatlas) was measured first on the fountain-p11 model (195k faces):
166 s and 119 s to unwrap, and Open3D's ``project_images_to_albedo`` 59 s and 4.3 GB at 4096²; this
method takes seconds, because the photos are the charts.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from heritage3d.dense import View
from heritage3d.mesh import Mesh

log = logging.getLogger(__name__)

MIN_GAIN_SAMPLES = 200  # fewer well-seen vertices than this: the photo's gain is left at 1
GAIN_LIMITS = (0.33, 3.0)  # beyond these a photo is not an exposure change but a different subject


class TextureError(RuntimeError):
    """The mesh cannot be given a texture atlas (the reason is in the message)."""


@dataclass(frozen=True)
class Atlas:
    """A textured mesh: ``uv`` (n, 2) float32 per vertex (vertices split where charts meet), ``image``
    (size, size, 3) uint8 RGB; ``mesh`` keeps its vertex colours (the GLB carries the atlas instead)."""

    mesh: Mesh
    uv: np.ndarray
    image: np.ndarray
    seen_fraction: float  # share of the surface (by area) some photo saw
    original: np.ndarray | None = None  # (n,) each vertex's vertex in the model it was made from (seams split them)
    textured: np.ndarray | None = None  # (m,) faces whose texels come from a photo (the others: a colour block)


def views_in_frame(views: list[View], scale: float, rotation: np.ndarray, translation: np.ndarray) -> list[View]:
    """The photos' cameras for a mesh moved by ``scale * rotation @ x + translation`` (the output frame).

    A point of the output frame ``y`` was ``x = rotation.T @ (y - translation) / scale``; the camera sees
    ``Rc x + tc``, which projects like ``scale`` times it: ``Rc rotation.T y + scale tc - Rc rotation.T t``.
    """
    out = []
    for v in views:
        r = v.rotation @ rotation.T
        out.append(View(v.image, v.K, v.dist, r, scale * v.translation - r @ translation))
    return out


def _undistorted(view: View) -> np.ndarray:
    if not np.any(view.dist):
        return np.ascontiguousarray(view.image)
    import cv2

    return cv2.undistort(np.ascontiguousarray(view.image), view.K, np.asarray(view.dist, float))


def undistorted_views(views: list[View]) -> list[View]:
    """The views with their photos undistorted once (pinhole from then on), for texturing several levels."""
    from dataclasses import replace

    return [replace(v, image=_undistorted(v), dist=np.zeros_like(np.asarray(v.dist, float))) for v in views]


def _vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    fn = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    n = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(n, faces[:, k], fn)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def exposure_gains(mesh: Mesh, views: list[View], images: list[np.ndarray] | None = None) -> np.ndarray:
    """(k, 3) per-photo, per-channel gains that bring each photo to the fused colours of the surface it sees
    squarely (normalised so their geometric mean is 1: the model keeps the photos' overall brightness)."""
    images = images if images is not None else [_undistorted(v) for v in views]
    normals = _vertex_normals(mesh.vertices, mesh.faces)
    target = mesh.colors.astype(np.float64) + 1.0
    gains = np.ones((len(views), 3))
    for k, (view, img) in enumerate(zip(views, images)):
        cam = mesh.vertices @ view.rotation.T + view.translation
        z = cam[:, 2]
        front = z > 1e-9
        uvw = cam[front] @ view.K.T
        px = uvw[:, :2] / uvw[:, 2:3]
        h, w = img.shape[:2]
        inside = (px[:, 0] >= 0) & (px[:, 0] < w - 1) & (px[:, 1] >= 0) & (px[:, 1] < h - 1)
        idx = np.flatnonzero(front)[inside]
        to_cam = view.centre - mesh.vertices[idx]
        square = np.einsum("ij,ij->i", normals[idx], to_cam) > 0.7 * np.linalg.norm(to_cam, axis=1)
        idx, p = idx[square], px[inside][square]
        if len(idx) < MIN_GAIN_SAMPLES:
            continue
        seen = img[p[:, 1].round().astype(int), p[:, 0].round().astype(int)].astype(np.float64) + 1.0
        gains[k] = np.clip(np.median(target[idx] / seen, axis=0), *GAIN_LIMITS)
    return gains / np.exp(np.log(gains).mean(axis=0))


def select_views(mesh: Mesh, views: list[View], *, smoothing_rounds: int = 3) -> np.ndarray:
    """(m,) the photo each face is textured from (-1: none sees it)."""
    import open3d as o3d

    v, f = mesh.vertices, mesh.faces
    corners = v[f]  # (m, 3, 3)
    centroid = corners.mean(axis=1)
    normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(v.astype(np.float32)), o3d.core.Tensor(f.astype(np.uint32)))
    score = np.zeros((len(f), len(views)), np.float32)
    for k, view in enumerate(views):
        h, w = view.image.shape[:2]
        centre = view.centre
        to_cam = centre - centroid
        facing = np.einsum("ij,ij->i", normal, to_cam) > 0
        cam = corners.reshape(-1, 3) @ view.rotation.T + view.translation
        z = cam[:, 2].reshape(-1, 3)
        px = (cam @ view.K.T)
        px = (px[:, :2] / np.where(np.abs(px[:, 2:3]) > 1e-12, px[:, 2:3], 1e-12)).reshape(-1, 3, 2)
        inside = ((z > 1e-9).all(1) & (px[..., 0] >= 1).all(1) & (px[..., 0] <= w - 2).all(1)
                  & (px[..., 1] >= 1).all(1) & (px[..., 1] <= h - 2).all(1))
        candidates = np.flatnonzero(facing & inside)
        if not len(candidates):
            continue
        dist = np.linalg.norm(to_cam[candidates], axis=1)
        rays = np.concatenate([np.broadcast_to(centre, (len(candidates), 3)), -to_cam[candidates] / dist[:, None]], 1)
        hit = scene.cast_rays(o3d.core.Tensor(rays.astype(np.float32)))
        first = hit["primitive_ids"].numpy().astype(np.int64)
        t_hit = hit["t_hit"].numpy()
        visible = (first == candidates) | (np.abs(t_hit - dist) <= 1e-3 * dist)
        seen = candidates[visible]
        a, b, c = px[seen, 0], px[seen, 1], px[seen, 2]
        area = 0.5 * np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))
        score[seen, k] = area
    label = np.where(score.max(1) > 0, score.argmax(1), -1)
    neighbours = face_neighbours(f)
    for _ in range(smoothing_rounds):
        changed = 0
        nb_labels = np.where(neighbours >= 0, label[np.maximum(neighbours, 0)], -1)
        for j in range(3):
            other = nb_labels[:, j]
            agree = (other >= 0) & (other != label) & ((nb_labels == other[:, None]).sum(1) >= 2)
            ok = agree & (score[np.arange(len(f)), np.maximum(other, 0)] > 0.25 * score.max(1))
            label = np.where(ok, other, label)
            changed += int(ok.sum())
        if not changed:
            break
    return label


def face_neighbours(faces: np.ndarray) -> np.ndarray:
    """(m, 3) the face across each edge (edge j from corner j to j+1), -1 where there is none (or more than
    one: a non-manifold edge joins nothing here)."""
    m = len(faces)
    a = faces[:, [0, 1, 2]].reshape(-1)
    b = faces[:, [1, 2, 0]].reshape(-1)
    key = np.minimum(a, b).astype(np.int64) * (int(faces.max()) + 1) + np.maximum(a, b)
    order = np.argsort(key, kind="stable")
    sk = key[order]
    out = np.full(3 * m, -1, np.int64)
    same = sk[1:] == sk[:-1]
    lone_pair = same.copy()
    lone_pair[1:] &= ~same[:-1]  # not the middle of three
    lone_pair[:-1] &= ~same[1:]
    i = np.flatnonzero(lone_pair)
    out[order[i]] = order[i + 1] // 3
    out[order[i + 1]] = order[i] // 3
    return out.reshape(m, 3)


def _patches(faces: np.ndarray, label: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """(m,) patch number of each face: faces joined by an edge with the same photo."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    m = len(faces)
    rows = np.repeat(np.arange(m), 3)
    cols = neighbours.reshape(-1)
    keep = (cols >= 0) & (label[rows] == label[np.maximum(cols, 0)]) & (label[rows] >= 0)
    graph = coo_matrix((np.ones(int(keep.sum()), np.int8), (rows[keep], cols[keep])), shape=(m, m))
    return connected_components(graph, directed=False)[1]


def _shelf_pack(sizes: np.ndarray, side: int) -> np.ndarray | None:
    """Top-left corners (n, 2) for rectangles ``sizes`` (n, 2: w, h) in a ``side``² square, or None when
    they do not fit. Tallest first, left to right in shelves."""
    order = np.argsort(-sizes[:, 1], kind="stable")
    out = np.zeros((len(sizes), 2), np.int64)
    x = y = shelf = 0
    for i in order:
        w, h = int(sizes[i, 0]), int(sizes[i, 1])
        if w > side:
            return None
        if x + w > side:
            x, y, shelf = 0, y + shelf, 0
        if y + h > side:
            return None
        out[i] = (x, y)
        x += w
        shelf = max(shelf, h)
    return out


BORDER_PX = 2  # real photo pixels around each patch (bilinear filtering and the first mipmaps stay inside)
UNSEEN_BLOCK_PX = 4  # a face no photo sees: a block of its fused colour
MIN_ATLAS_PX = 256


def bake(mesh: Mesh, views: list[View], size_px: int, *, gains: np.ndarray | None = None,
         level: bool = True) -> Atlas:
    """An atlas of ``size_px``² texels for ``mesh`` from the calibrated ``views`` (in the mesh's frame)."""
    import cv2

    if not views:
        raise TextureError("no photos to texture the model from")
    if not len(mesh.faces):
        raise TextureError("the model has no faces to texture")
    images = [_undistorted(v) for v in views]
    if gains is None:
        gains = exposure_gains(mesh, views, images)
    label = select_views(mesh, views)
    neighbours = face_neighbours(mesh.faces)
    patch = _patches(mesh.faces, label, neighbours)
    m = len(mesh.faces)
    corner_px = np.zeros((m, 3, 2))
    for k, view in enumerate(views):
        idx = np.flatnonzero(label == k)
        if len(idx):
            cam = mesh.vertices[mesh.faces[idx]].reshape(-1, 3) @ view.rotation.T + view.translation
            p = cam @ view.K.T
            corner_px[idx] = (p[:, :2] / p[:, 2:3]).reshape(-1, 3, 2)
    seen_faces = label >= 0
    # rectangles: one per patch of seen faces (in its photo's pixels, with a border), one block per unseen face
    patch_ids = np.unique(patch[seen_faces])
    rect_of = np.full(patch.max() + 1, -1, np.int64)
    rect_of[patch_ids] = np.arange(len(patch_ids))
    n_rect = len(patch_ids)
    lo = np.full((n_rect, 2), np.inf)
    hi = np.full((n_rect, 2), -np.inf)
    face_rect = rect_of[patch[seen_faces]]
    np.minimum.at(lo, face_rect, corner_px[seen_faces].min(axis=1))
    np.maximum.at(hi, face_rect, corner_px[seen_faces].max(axis=1))
    rect_view = np.zeros(n_rect, np.int64)
    rect_view[face_rect] = label[seen_faces]
    x0 = np.floor(lo).astype(np.int64) - BORDER_PX
    x1 = np.ceil(hi).astype(np.int64) + BORDER_PX
    for r in range(n_rect):  # clip to the photo
        h, w = images[rect_view[r]].shape[:2]
        x0[r] = np.maximum(x0[r], 0)
        x1[r] = np.minimum(x1[r], (w, h))
    src = (x1 - x0).astype(np.float64)  # (w, h) in photo pixels
    unseen = np.flatnonzero(~seen_faces)
    area = float((src[:, 0] * src[:, 1]).sum()) + len(unseen) * UNSEEN_BLOCK_PX ** 2
    # the level's size, or less when the photos hold fewer pixels of this surface (a power of two)
    side = int(min(size_px, max(MIN_ATLAS_PX, 2 ** math.ceil(math.log2(math.sqrt(area / 0.8) + 1)))))
    scale = min(1.0, math.sqrt(0.85 * side * side / max(area, 1.0)))
    while True:
        dst = np.maximum(np.ceil(src * scale).astype(np.int64), 2 * BORDER_PX + 1)
        sizes = np.concatenate([dst, np.full((len(unseen), 2), UNSEEN_BLOCK_PX, np.int64)])
        where = _shelf_pack(sizes, side)
        if where is not None:
            break
        if scale < 1e-3:
            raise TextureError(f"the model's {m} faces do not fit a {side}² texture")
        scale *= 0.93
    while scale < 1.0:  # shelves waste space unevenly: grow the patches while they still fit
        bigger = min(1.0, scale * 1.04)
        dst2 = np.maximum(np.ceil(src * bigger).astype(np.int64), 2 * BORDER_PX + 1)
        where2 = _shelf_pack(np.concatenate([dst2, sizes[n_rect:]]), side)
        if where2 is None:
            break
        scale, dst, where = bigger, dst2, where2
    image = np.zeros((side, side, 3), np.uint8)
    corner_uv = np.zeros((m, 3, 2))
    for r in range(n_rect):
        k = rect_view[r]
        (a, b), (c, d) = x0[r], x1[r]
        crop = np.clip(images[k][b:d, a:c].astype(np.float32) * gains[k][None, None, :], 0, 255).astype(np.uint8)
        w_, h_ = dst[r]
        ax, ay = where[r]
        image[ay:ay + h_, ax:ax + w_] = cv2.resize(crop, (int(w_), int(h_)), interpolation=cv2.INTER_AREA)
    sx = np.zeros(m)
    sy = np.zeros(m)
    rf = np.full(m, -1, np.int64)
    rf[seen_faces] = face_rect
    fr = rf[seen_faces]
    sx[seen_faces] = dst[fr, 0] / src[fr, 0]
    sy[seen_faces] = dst[fr, 1] / src[fr, 1]
    corner_uv[seen_faces, :, 0] = ((corner_px[seen_faces, :, 0] - x0[fr, 0][:, None]) * sx[seen_faces][:, None]
                                   + where[fr, 0][:, None]) / side
    corner_uv[seen_faces, :, 1] = ((corner_px[seen_faces, :, 1] - x0[fr, 1][:, None]) * sy[seen_faces][:, None]
                                   + where[fr, 1][:, None]) / side
    if len(unseen):
        blocks = where[n_rect:]
        colour = mesh.colors[mesh.faces[unseen]].astype(np.float64).mean(axis=1).round().astype(np.uint8)
        for (bx, by), c in zip(blocks, colour):
            image[by:by + UNSEEN_BLOCK_PX, bx:bx + UNSEEN_BLOCK_PX] = c
        centre = (blocks + UNSEEN_BLOCK_PX / 2) / side
        corner_uv[unseen] = centre[:, None, :]
    vertices, faces, colors, uv, original = split_by_uv(mesh, corner_uv, with_original=True)
    if level and seen_faces.any():
        image = level_seams(image, faces, uv, original, seen_faces)
    area = np.linalg.norm(np.cross(mesh.vertices[mesh.faces[:, 1]] - mesh.vertices[mesh.faces[:, 0]],
                                   mesh.vertices[mesh.faces[:, 2]] - mesh.vertices[mesh.faces[:, 0]]), axis=1)
    seen_share = float(area[seen_faces].sum() / max(area.sum(), 1e-12))
    return Atlas(Mesh(vertices, faces, colors), uv.astype(np.float32), image, seen_share, original, seen_faces)


def split_by_uv(mesh: Mesh, corner_uv: np.ndarray, *, with_original: bool = False) -> tuple:
    """glTF has one texture coordinate per vertex: a vertex on a seam between charts becomes one vertex per
    chart. ``corner_uv`` (m, 3, 2) per face corner (glTF's: v down from the image's first row)."""
    corners = mesh.faces.reshape(-1)
    uv = corner_uv.reshape(-1, 2)
    key = np.concatenate([corners[:, None].astype(np.float64), np.round(uv.astype(np.float64) * 2 ** 20)], axis=1)
    unique, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    old = corners[first]
    out = mesh.vertices[old], inverse.reshape(-1, 3).astype(np.int64), mesh.colors[old], uv[first].astype(np.float32)
    return (*out, old) if with_original else out


def _sample(image: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear colours (n, 3) float of ``image`` at glTF texture coordinates ``uv`` (n, 2)."""
    from heritage3d.inputs import bilinear

    h, w = image.shape[:2]
    return bilinear(image, uv[:, 0] * w - 0.5, uv[:, 1] * h - 0.5)


FIELD_STEP = 4  # the seam offsets are computed on a grid this many texels apart
SEAM_SMOOTHNESS = 0.1  # weight of "neighbouring vertices of a patch change alike" against "the two sides of a seam meet"


def seam_pairs(original: np.ndarray, used: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The copies of one model vertex on a seam, as pairs (each copy with the first), among the vertices
    ``used``: (a, b) index arrays into the split mesh's vertices."""
    order = np.argsort(original, kind="stable")
    ids = order[used[order]]
    starts = np.r_[0, np.flatnonzero(np.diff(original[ids])) + 1] if len(ids) else np.zeros(0, np.int64)
    first = np.zeros(len(ids), bool)
    first[starts] = True
    group = np.cumsum(first) - 1
    return ids[starts[group[~first]]], ids[~first]


def level_seams(image: np.ndarray, faces: np.ndarray, uv: np.ndarray, original: np.ndarray,
                textured: np.ndarray) -> np.ndarray:
    """The atlas with a smooth colour offset added to each patch so that the two sides of every seam meet
    (the global seam levelling of Lempitsky & Ivanov 2007 as mvs-texturing uses it): one offset per
    vertex of a patch, found by least squares — equal colours across each seam, offsets changing slowly
    along the patch's edges, small — then interpolated over each triangle's texels.

    ``faces``/``uv`` the split mesh, ``original`` each split vertex's vertex of the model (a vertex on a
    seam appears once per patch), ``textured`` (m,) faces whose texels come from a photo."""
    import open3d as o3d
    from scipy import sparse
    from scipy.sparse.linalg import factorized

    n = len(uv)
    used = np.zeros(n, bool)
    used[faces[textured].reshape(-1)] = True
    colour = _sample(image, uv)
    a_idx, b_idx = seam_pairs(original, used)
    if not len(a_idx):
        return image
    tf = faces[textured]
    edges = np.unique(np.sort(np.concatenate([tf[:, [0, 1]], tf[:, [1, 2]], tf[:, [2, 0]]]), axis=1), axis=0)
    variables = np.flatnonzero(used)
    index = np.full(n, -1, np.int64)
    index[variables] = np.arange(len(variables))
    m_seam, m_edge, m_small = len(a_idx), len(edges), len(variables)
    rows = np.concatenate([np.repeat(np.arange(m_seam), 2), m_seam + np.repeat(np.arange(m_edge), 2),
                           m_seam + m_edge + np.arange(m_small)])
    cols = np.concatenate([np.stack([index[a_idx], index[b_idx]], 1).reshape(-1),
                           index[edges].reshape(-1), np.arange(m_small)])
    w = SEAM_SMOOTHNESS
    vals = np.concatenate([np.tile([1.0, -1.0], m_seam), np.tile([w, -w], m_edge), np.full(m_small, 0.01)])
    A = sparse.csr_matrix((vals, (rows, cols)), shape=(m_seam + m_edge + m_small, len(variables)))
    offset = np.zeros((n, 3))
    rhs = np.zeros((A.shape[0], 3))
    rhs[:m_seam] = colour[b_idx] - colour[a_idx]
    solve = factorized((A.T @ A).tocsc())  # normal equations: positive definite (the small-offset rows)
    at_rhs = A.T @ rhs
    for c in range(3):
        offset[variables, c] = solve(at_rhs[:, c])
    # the offsets change slowly inside a patch: found on a grid a quarter as fine, then spread bilinearly.
    # Each grid texel of a textured triangle takes the offset interpolated from the triangle's corners (a ray
    # cast down onto the flat atlas finds the triangle and the barycentric coordinates)
    h, w_ = image.shape[:2]
    step = FIELD_STEP if min(h, w_) >= 16 * FIELD_STEP else 1
    gh, gw = h // step, w_ // step
    flat = np.concatenate([uv * [gw, gh], np.zeros((n, 1))], axis=1).astype(np.float32)
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(flat), o3d.core.Tensor(tf.astype(np.uint32)))
    ys, xs = np.mgrid[0:gh, 0:gw]
    rays = np.zeros((gh * gw, 6), np.float32)
    rays[:, 0], rays[:, 1], rays[:, 2], rays[:, 5] = xs.ravel() + 0.5, ys.ravel() + 0.5, 1.0, -1.0
    hit = scene.cast_rays(o3d.core.Tensor(rays))
    prim = hit["primitive_ids"].numpy().astype(np.int64)
    inside = prim != o3d.t.geometry.RaycastingScene.INVALID_ID
    bary = hit["primitive_uvs"].numpy()[inside].astype(np.float64)
    corner = tf[prim[inside]]
    weights = np.stack([1 - bary[:, 0] - bary[:, 1], bary[:, 0], bary[:, 1]], 1)
    field = np.zeros((gh * gw, 3), np.float32)
    field[inside] = np.einsum("ij,ijk->ik", weights, offset[corner])
    field = field.reshape(gh, gw, 3)
    covered = inside.reshape(gh, gw)
    if covered.any() and not covered.all():  # texels between triangles (borders, gaps) take the nearest offset
        from scipy import ndimage

        iy, ix = ndimage.distance_transform_edt(~covered, return_distances=False, return_indices=True)
        field = field[iy, ix]
    if step > 1:
        import cv2

        field = cv2.resize(field, (w_, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(image.astype(np.float32) + field, 0, 255).round().astype(np.uint8)


def ray_hits(mesh: Mesh, starts: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where rays (``starts`` and ``directions``, (n, 3) each) first meet ``mesh``: the mask (n,) of those that
    do, and for those the vertex indices (k, 3) of the face met and the barycentric weights (k, 3) of the point."""
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(mesh.vertices.astype(np.float32)),
                        o3d.core.Tensor(mesh.faces.astype(np.uint32)))
    hit = scene.cast_rays(o3d.core.Tensor(np.concatenate([starts, directions], 1).astype(np.float32)))
    ids = hit["primitive_ids"].numpy().astype(np.int64)
    ok = ids != o3d.t.geometry.RaycastingScene.INVALID_ID
    bary = hit["primitive_uvs"].numpy()[ok].astype(np.float64)
    return ok, mesh.faces[ids[ok]], np.stack([1 - bary[:, 0] - bary[:, 1], bary[:, 0], bary[:, 1]], 1)


def render(view: View, mesh: Mesh, *, uv: np.ndarray | None = None, image: np.ndarray | None = None,
           background: tuple[int, int, int] = (0, 0, 0)) -> tuple[np.ndarray, np.ndarray]:
    """What the camera of ``view`` sees of ``mesh`` (ray cast per pixel, no lighting: the colours as
    stored), from the texture when ``uv`` and ``image`` are given, else from the vertex colours; and the
    mask of pixels the model covers. For measuring a model against a photo left out of its build."""
    h, w = view.image.shape[:2]
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    dirs = np.stack([(u - view.K[0, 2]) / view.K[0, 0], (v - view.K[1, 2]) / view.K[1, 1], np.ones_like(u)],
                    -1).reshape(-1, 3) @ view.rotation
    ok, tri, weights = ray_hits(mesh, np.broadcast_to(view.centre, dirs.shape), dirs)
    out = np.tile(np.asarray(background, np.uint8), (h * w, 1))
    if uv is not None and image is not None:
        at = np.einsum("ij,ijk->ik", weights, uv[tri].astype(np.float64))
        th, tw = image.shape[:2]
        col = np.clip((at[:, 0] * tw).astype(int), 0, tw - 1)
        row = np.clip((at[:, 1] * th).astype(int), 0, th - 1)
        out[ok] = image[row, col]
    else:
        out[ok] = np.einsum("ij,ijk->ik", weights, mesh.colors[tri].astype(np.float64)).round().clip(0, 255)
    return out.reshape(h, w, 3), ok.reshape(h, w)
