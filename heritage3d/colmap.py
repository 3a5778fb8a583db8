"""The one wrapper around pycolmap: version probe, options, and error translation.

Nothing else in heritage3d imports pycolmap.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heritage3d.errors import ReconstructionError, ToolError

log = logging.getLogger(__name__)

SUPPORTED_MAJOR = (3, 4)


def _pycolmap():
    try:
        import pycolmap
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ToolError("pycolmap is not installed: pip install 'pycolmap>=3.12'") from exc
    major = int(pycolmap.__version__.split(".")[0])
    if major not in SUPPORTED_MAJOR:
        raise ToolError(f"pycolmap {pycolmap.__version__} is untested; heritage3d supports 3.x and 4.x")
    return pycolmap


@contextmanager
def quiet(pycolmap, level: int = 2):
    """Keep COLMAP's own log (glog: one line per image, per match, per bundle adjustment) off the
    terminal while we work: only its errors (``level`` 2) get through. heritage3d's own progress and
    log lines are unaffected. Set ``HERITAGE3D_COLMAP_LOG=1`` to see everything again."""
    import os

    glog = getattr(pycolmap, "logging", None)
    if glog is None or os.environ.get("HERITAGE3D_COLMAP_LOG"):
        yield
        return
    before = glog.minloglevel
    glog.minloglevel = max(before, level)
    try:
        yield
    finally:
        glog.minloglevel = before


def version() -> str:
    """pycolmap's version string, e.g. ``'4.2.1'``."""
    return _pycolmap().__version__


@dataclass(frozen=True)
class SfmCamera:
    """One registered photo. ``rotation`` (3, 3) float64 world→camera; ``centre_m`` (3,) float64 in the model frame."""

    name: str
    K: np.ndarray  # (3, 3) float64, pixels of the original photo, undistorted pinhole
    dist: np.ndarray  # (k,) float64 OpenCV-order distortion (k1, k2, p1, p2) or zeros
    width_px: int
    height_px: int
    rotation: np.ndarray
    translation: np.ndarray  # (3,) world→camera
    @property
    def centre(self) -> np.ndarray:
        return -self.rotation.T @ self.translation


@dataclass
class SfmResult:
    cameras: list[SfmCamera]
    points: np.ndarray  # (n, 3) float64 sparse points
    colors: np.ndarray  # (n, 3) uint8
    n_images: int
    n_models: int
    mean_reprojection_error_px: float


def _camera_to_opencv(cam) -> tuple[np.ndarray, np.ndarray]:
    """pycolmap camera → (K (3,3), dist (4,)) in OpenCV order."""
    model = cam.model.name
    p = np.asarray(cam.params, dtype=np.float64)
    dist = np.zeros(4)
    if model == "SIMPLE_PINHOLE":
        f, cx, cy = p
        fx = fy = f
    elif model == "PINHOLE":
        fx, fy, cx, cy = p
    elif model == "SIMPLE_RADIAL":
        f, cx, cy, k1 = p
        fx = fy = f
        dist[0] = k1
    elif model == "RADIAL":
        f, cx, cy, k1, k2 = p
        fx = fy = f
        dist[:2] = (k1, k2)
    elif model == "OPENCV":
        fx, fy, cx, cy, k1, k2, p1, p2 = p
        dist[:] = (k1, k2, p1, p2)
    else:
        raise ToolError(f"camera model {model} is not handled")
    K = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], dtype=np.float64)
    return K, dist


def reconstruct(
    image_dir: Path,
    image_names: list[str],
    work_dir: Path,
    *,
    K: np.ndarray | None = None,
    max_image_size_px: int = 1600,
    num_threads: int = -1,
    seed: int = 0,
) -> SfmResult:
    """Features (SIFT, CPU), exhaustive matching, incremental mapping; keep the largest model.

    ``K``: (3, 3) known camera matrix in pixels of the original photos (one camera shared by all),
    or None to start from EXIF focal length. Writes ``database.db`` and ``sparse/`` in ``work_dir``.
    """
    pycolmap = _pycolmap()
    work_dir.mkdir(parents=True, exist_ok=True)
    db = work_dir / "database.db"
    if db.exists():
        db.unlink()
    pycolmap.set_random_seed(seed)
    reader = pycolmap.ImageReaderOptions()
    camera_mode = pycolmap.CameraMode.AUTO
    if K is not None:
        reader.camera_model = "PINHOLE"
        reader.camera_params = ",".join(str(float(v)) for v in (K[0, 0], K[1, 1], K[0, 2], K[1, 2]))
        camera_mode = pycolmap.CameraMode.SINGLE
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.max_image_size = max_image_size_px
    extraction.num_threads = num_threads
    extraction.use_gpu = False
    matching = pycolmap.FeatureMatchingOptions()
    matching.use_gpu = False
    matching.num_threads = num_threads
    opts = pycolmap.IncrementalPipelineOptions()
    opts.num_threads = num_threads
    opts.random_seed = seed
    opts.min_model_size = 3
    if K is not None:
        opts.ba_refine_focal_length = False
        opts.ba_refine_principal_point = False
        opts.ba_refine_extra_params = False
        opts.mapper.abs_pose_refine_focal_length = False
        opts.mapper.abs_pose_refine_extra_params = False
    sparse_dir = work_dir / "sparse"
    sparse_dir.mkdir(exist_ok=True)
    try:
        with quiet(pycolmap):
            pycolmap.extract_features(
                db, image_dir, image_names=image_names, camera_mode=camera_mode,
                reader_options=reader, extraction_options=extraction, device=pycolmap.Device.cpu,
            )
            if len(image_names) <= 60:
                pycolmap.match_exhaustive(db, matching_options=matching, device=pycolmap.Device.cpu)
            else:
                pycolmap.match_sequential(db, matching_options=matching, device=pycolmap.Device.cpu)
            models = pycolmap.incremental_mapping(db, image_dir, sparse_dir, options=opts)
    except (RuntimeError, ValueError) as exc:
        raise ToolError(f"pycolmap failed: {exc}") from exc
    if not models:
        raise ReconstructionError(
            "the photos do not overlap enough to reconstruct anything: take photos that share "
            "at least half their view with their neighbours"
        )
    largest = max(models.values(), key=lambda r: r.num_reg_images())
    if len(models) > 1:
        log.warning("photos split into %d separate models; keeping the largest (%d images)",
                    len(models), largest.num_reg_images())
    return _result_from(largest, len(image_names), len(models))


def _result_from(rec, n_images: int, n_models: int) -> SfmResult:
    cameras = []
    for image in sorted(rec.images.values(), key=lambda im: im.name):
        if not image.has_pose:
            continue
        cam = rec.cameras[image.camera_id]
        K, dist = _camera_to_opencv(cam)
        pose = image.cam_from_world() if callable(image.cam_from_world) else image.cam_from_world
        cameras.append(SfmCamera(
            name=image.name, K=K, dist=dist, width_px=int(cam.width), height_px=int(cam.height),
            rotation=np.asarray(pose.rotation.matrix(), dtype=np.float64),
            translation=np.asarray(pose.translation, dtype=np.float64),
        ))
    pts = list(rec.points3D.values())
    points = np.array([p.xyz for p in pts], dtype=np.float64).reshape(-1, 3)
    colors = np.array([p.color for p in pts], dtype=np.uint8).reshape(-1, 3)
    return SfmResult(cameras, points, colors, n_images, n_models,
                     float(rec.compute_mean_reprojection_error()))
