"""Dense surface on CPU: semi-global matching on rectified neighbour pairs, fused by a TSDF.

COLMAP's PatchMatch stereo needs CUDA, so each photo is paired with a neighbour,
the pair is rectified (OpenCV), matched by StereoSGBM (left-right checked), turned
into a depth map in the rectified camera, and every depth map is integrated into
Open3D's ``UniformTSDFVolume`` (``ScalableTSDFVolume`` returned empty meshes with
open3d 0.20.0). The mesh is marching cubes of the volume, with vertex colours.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from heritage3d.errors import DenseError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class View:
    """A calibrated photo. ``image`` (h, w, 3) uint8 RGB; ``K`` (3, 3) for this image's pixels;
    ``dist`` (4,) OpenCV (k1, k2, p1, p2); ``rotation`` (3, 3) and ``translation`` (3,) world→camera."""

    image: np.ndarray
    K: np.ndarray
    dist: np.ndarray
    rotation: np.ndarray
    translation: np.ndarray

    @property
    def centre(self) -> np.ndarray:
        return -self.rotation.T @ self.translation

    @property
    def axis(self) -> np.ndarray:
        """Viewing direction (3,) unit vector in world."""
        return self.rotation[2]


@dataclass(frozen=True)
class DenseOptions:
    voxels_per_side: int = 320  # TSDF resolution along the longest side of the scene box
    neighbours: int = 2  # stereo partners per photo
    min_angle_deg: float = 4.0
    max_angle_deg: float = 40.0
    block_size_px: int = 5
    min_component_fraction: float = 0.05  # drop mesh pieces with fewer triangles than this share
    min_texture_std: float = 3.0  # grey levels; below it a pixel is too plain to match
    min_consistent_views: int = 1  # a depth must be confirmed by this many other depth maps
    max_relative_depth_diff: float = 0.01


def neighbour_pairs(views: list[View], options: DenseOptions) -> list[tuple[int, int]]:
    """Pairs (i, j), each photo with its nearest partners whose view direction differs
    by ``min_angle_deg``..``max_angle_deg``; each unordered pair once."""
    centres = np.array([v.centre for v in views])
    axes = np.array([v.axis for v in views])
    pairs: set[tuple[int, int]] = set()
    for i in range(len(views)):
        d = np.linalg.norm(centres - centres[i], axis=1)
        angle = np.degrees(np.arccos(np.clip(axes @ axes[i], -1, 1)))
        ok = (angle >= options.min_angle_deg) & (angle <= options.max_angle_deg) & (d > 0)
        for j in [j for j in np.argsort(d) if ok[j]][: options.neighbours]:
            pairs.add((min(i, j), max(i, j)))
    return sorted(pairs)


def _pair_depth(a: View, b: View, scene_points: np.ndarray, options: DenseOptions):
    """Depth map of the pair (a left, b right) after rectification to a common rotation.

    Returns (rgb (h, w, 3) uint8, depth (h, w) float32 in model units, K (3, 3),
    extrinsic (4, 4) world→rectified camera of ``a``), or None when the pair sees too little.
    """
    import cv2

    h, w = a.image.shape[:2]
    ca, cb = a.centre, b.centre
    baseline = float(np.linalg.norm(cb - ca))
    x = (cb - ca) / baseline
    y = np.cross(a.axis + b.axis, x)
    y /= np.linalg.norm(y)
    R = np.stack([x, y, np.cross(x, y)])  # world → rectified
    cam = (scene_points - ca) @ R.T
    cam = cam[cam[:, 2] > 1e-6]
    if len(cam) < 10:
        return None
    f0 = float(a.K[0, 0])
    nx, ny = cam[:, 0] / cam[:, 2], cam[:, 1] / cam[:, 2]
    (x_lo, x_hi), (y_lo, y_hi) = np.percentile(nx, [1, 99]), np.percentile(ny, [1, 99])
    f = min(f0, 0.95 * w / max(x_hi - x_lo, 1e-9), 0.95 * h / max(y_hi - y_lo, 1e-9))
    cx, cy = w / 2 - f * (x_lo + x_hi) / 2, h / 2 - f * (y_lo + y_hi) / 2
    true_disp = f * baseline / cam[:, 2]
    lo, hi = np.percentile(true_disp, [1, 99])
    shift = -float(np.round((lo + hi) / 2))  # d_measured = true_disp + shift, centred on 0
    lo, hi = lo + shift, hi + shift
    span = hi - lo
    lo, hi = lo - 0.2 * span - 8, hi + 0.2 * span + 8
    min_disp = int(np.floor(lo / 16) * 16)
    num_disp = int(np.clip(np.ceil((hi - min_disp) / 16) * 16, 16, 384))
    Ka = np.array([[f, 0, cx], [0, f, cy], [0, 0, 1.0]])
    Kb = Ka.copy()
    Kb[0, 2] -= shift
    m1 = cv2.initUndistortRectifyMap(a.K, a.dist, R @ a.rotation.T, Ka, (w, h), cv2.CV_32FC1)
    m2 = cv2.initUndistortRectifyMap(b.K, b.dist, R @ b.rotation.T, Kb, (w, h), cv2.CV_32FC1)
    left = cv2.remap(a.image, *m1, cv2.INTER_LINEAR)
    right = cv2.remap(b.image, *m2, cv2.INTER_LINEAR)
    log.debug("pair disparities %d..%d", min_disp, min_disp + num_disp)
    bs = options.block_size_px
    sgbm = cv2.StereoSGBM_create(
        minDisparity=min_disp, numDisparities=num_disp, blockSize=bs,
        P1=8 * 3 * bs * bs, P2=32 * 3 * bs * bs, disp12MaxDiff=1, uniquenessRatio=10,
        speckleWindowSize=100, speckleRange=2, mode=cv2.STEREO_SGBM_MODE_SGBM_3WAY)
    gl, gr = (cv2.cvtColor(x_, cv2.COLOR_RGB2GRAY) for x_ in (left, right))
    d = sgbm.compute(gl, gr).astype(np.float32) / 16.0
    valid = d > min_disp
    g = gl.astype(np.float32)
    var = cv2.boxFilter(g * g, -1, (bs + 2, bs + 2)) - cv2.boxFilter(g, -1, (bs + 2, bs + 2)) ** 2
    valid &= var > options.min_texture_std ** 2  # no depth on blank walls or sky
    d = d - shift
    valid &= d > 0.5
    inside = cv2.remap(np.ones((h, w), np.uint8), *m1, cv2.INTER_NEAREST, borderValue=0) > 0
    valid &= cv2.erode(inside.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    depth = np.zeros((h, w), np.float32)
    depth[valid] = f * baseline / d[valid]
    extr = np.eye(4)
    extr[:3, :3] = R
    extr[:3, 3] = -R @ ca
    return left, depth, Ka, extr


def consistent_depths(maps: list, min_views: int, max_rel_diff: float) -> list:
    """Keep only depths confirmed by ``min_views`` other maps (depth within ``max_rel_diff``).

    ``maps``: list of (rgb, depth (h, w) float32, K (3, 3), extrinsic (4, 4)). Returns the same
    list with unconfirmed depths set to 0.
    """
    clouds = []
    for _, depth, K, extr in maps:
        v, u = np.nonzero(depth > 0)
        z = depth[v, u]
        cam = np.stack([(u + 0.5 - K[0, 2]) / K[0, 0] * z, (v + 0.5 - K[1, 2]) / K[1, 1] * z, z], 1)
        world = (cam - extr[:3, 3]) @ extr[:3, :3]
        clouds.append((v, u, world))
    out = []
    for i, (rgb, depth, K, extr) in enumerate(maps):
        v, u, world = clouds[i]
        votes = np.zeros(len(world), np.int32)
        for j, (_, depth_j, K_j, extr_j) in enumerate(maps):
            if j == i:
                continue
            cam = world @ extr_j[:3, :3].T + extr_j[:3, 3]
            z = cam[:, 2]
            front = z > 1e-6
            uj = np.full(len(z), -1, np.int64)
            vj = np.full(len(z), -1, np.int64)
            uj[front] = np.floor(K_j[0, 0] * cam[front, 0] / z[front] + K_j[0, 2]).astype(np.int64)
            vj[front] = np.floor(K_j[1, 1] * cam[front, 1] / z[front] + K_j[1, 2]).astype(np.int64)
            h, w = depth_j.shape
            inside = (uj >= 0) & (uj < w) & (vj >= 0) & (vj < h)
            dj = np.zeros(len(z), np.float32)
            dj[inside] = depth_j[vj[inside], uj[inside]]
            votes += (dj > 0) & (np.abs(dj - z) < max_rel_diff * z)
        kept = np.zeros_like(depth)
        ok = votes >= min_views
        kept[v[ok], u[ok]] = depth[v[ok], u[ok]]
        out.append((rgb, kept, K, extr))
    return out


def scene_box(points: np.ndarray, margin: float = 0.1) -> tuple[np.ndarray, float]:
    """Robust cube around ``points`` (n, 3): returns (origin (3,), side length) in model units."""
    lo, hi = np.percentile(points, [2, 98], axis=0)
    pad = (hi - lo) * margin
    lo, hi = lo - pad, hi + pad
    side = float((hi - lo).max())
    centre = (lo + hi) / 2
    return centre - side / 2, side


def fuse(views: list[View], scene_points: np.ndarray, options: DenseOptions = DenseOptions()):
    """Dense mesh of the scene: returns an ``open3d.geometry.TriangleMesh`` with vertex colours.

    ``scene_points`` (n, 3) float64: points on the surface (the sparse cloud), used for the
    volume bounds and each pair's disparity range.
    """
    import open3d as o3d

    origin, side = scene_box(scene_points)
    voxel = side / options.voxels_per_side
    volume = o3d.pipelines.integration.UniformTSDFVolume(
        length=side, resolution=options.voxels_per_side, sdf_trunc=4 * voxel,
        color_type=o3d.pipelines.integration.TSDFVolumeColorType.RGB8, origin=origin.reshape(3, 1))
    maps = []
    for i, j in neighbour_pairs(views, options):
        got = _pair_depth(views[i], views[j], scene_points, options)
        if got is not None and (got[1] > 0).mean() >= 0.01:
            maps.append(got)
    maps = consistent_depths(maps, options.min_consistent_views, options.max_relative_depth_diff)
    n_used = 0
    for rgb, depth, K, extr in maps:
        h, w = depth.shape
        rgbd = o3d.geometry.RGBDImage.create_from_color_and_depth(
            o3d.geometry.Image(np.ascontiguousarray(rgb)), o3d.geometry.Image(depth),
            depth_scale=1.0, depth_trunc=float(side * 4), convert_rgb_to_intensity=False)
        intr = o3d.camera.PinholeCameraIntrinsic(w, h, K[0, 0], K[1, 1], K[0, 2], K[1, 2])
        volume.integrate(rgbd, intr, extr)
        n_used += 1
    if n_used == 0:
        raise DenseError("no photo pair could be matched densely: the photos need more overlap")
    mesh = volume.extract_triangle_mesh()
    if len(mesh.triangles) == 0:
        raise DenseError("the dense step produced an empty surface")
    log.info("fused %d depth maps into %d triangles", n_used, len(mesh.triangles))
    return mesh
