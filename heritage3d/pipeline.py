"""The recipe: photos (or a point cloud, or a mesh) in, a published web model out.

Each stage reads and writes files in ``work_dir`` so a rerun skips finished stages;
the outputs are written into a temporary folder beside ``out_dir`` and renamed into
place only when everything succeeded, so a failed build publishes nothing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from heritage3d import inputs
from heritage3d.errors import InputError, ReconstructionError
from heritage3d.mesh import Mesh
from heritage3d.report import BuildReport, LevelRecord

log = logging.getLogger(__name__)
PIPELINE_VERSION = "heritage3d-0.1"
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class BuildOptions:
    intrinsics: tuple[tuple[float, ...], ...] | None = None  # known 3×3 K (pixels of the original photos)
    sparse_max_image_px: int = 1600
    dense_max_image_px: int = 1024
    tsdf_voxels_per_side: int = 320
    min_photos: int = 3
    min_registered_fraction: float = 0.5  # fewer registered photos than this share: the build fails
    known_distance: tuple[str, str, float] | None = None  # (photo name, photo name, metres between the cameras)
    level_faces: tuple[tuple[str, int], ...] = (("high", 400_000), ("medium", 120_000), ("mobile", 40_000))
    mobile_max_bytes: int = 1_000_000
    draco: bool = True
    thumbnail_px: int = 512

    def as_dict(self) -> dict:
        return asdict(self)


def read_intrinsics(path: Path) -> tuple[tuple[float, ...], ...]:
    """A 3×3 camera matrix from a text file (whitespace separated)."""
    try:
        K = np.array(Path(path).read_text().split(), dtype=np.float64).reshape(3, 3)
    except ValueError as exc:
        raise InputError(f"{Path(path).name} must hold a 3×3 camera matrix (9 numbers)") from exc
    if K[0, 0] <= 0 or K[1, 1] <= 0 or not np.allclose(K[2], [0, 0, 1]):
        raise InputError(f"{Path(path).name} is not a camera matrix (positive focal lengths, last row 0 0 1)")
    return tuple(map(tuple, K))


def build_model(inputs_: list[Path], *, out_dir: Path, work_dir: Path, options: BuildOptions = BuildOptions(),
                progress: Progress | None = None) -> BuildReport:
    """Build and publish a web model; returns the report (also written as ``out_dir/report.json``)."""
    progress = progress or (lambda stage, fraction: None)
    paths = _expand(inputs_)
    kind = inputs.kind(paths)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    report = BuildReport(input_kind=kind, pipeline_version=PIPELINE_VERSION, options=options.as_dict())
    if options.known_distance is not None:  # check before minutes of work, not after
        a, b, metres = options.known_distance
        names = {p.name for p in paths}
        missing = [n for n in (a, b) if n not in names]
        if kind != "photos" or missing:
            raise InputError(f"known distance: {', '.join(missing) or 'it'} must name photos of this build")
        if not metres > 0:
            raise InputError(f"known distance: {metres} is not a positive number of metres")
    if kind == "photos":
        mesh, up, scale = _from_photos(paths, work_dir, options, report, progress)
    else:
        with report.stage("read"):
            progress("read", 0.0)
            if kind == "mesh":
                mesh = inputs.read_mesh(paths[0]) if paths[0].suffix.lower() != ".glb" else _read_glb(paths[0])
            else:
                pts, col = inputs.read_point_cloud(paths[0])
                mesh = inputs.mesh_from_points(pts, col)
        up, scale = np.array([0.0, 1.0, 0.0]), 1.0  # a made-elsewhere model keeps its frame and unit
        report.metric_scale, report.scale_source = False, None
    from heritage3d import mesh as mesh_mod

    with report.stage("clean"):
        progress("clean", 0.0)
        mesh = mesh_mod.clean(mesh)
        from heritage3d.frame import output_transform

        s, R, t = output_transform(mesh.vertices, up, scale)
        mesh = mesh_mod.transformed(mesh, s, R, t)
        report.model_frame_to_output = {"scale": s, "rotation": R.tolist(), "translation": t.tolist()}
    _publish(mesh, Path(out_dir), options, report, progress)
    progress("done", 1.0)
    return report


def _read_glb(path: Path) -> Mesh:
    from heritage3d.gltf import read_glb

    return read_glb(path)


def _expand(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.iterdir() if q.suffix.lower() in inputs.PHOTO_SUFFIXES)
        elif p.exists():
            out.append(p)
        else:
            raise InputError(f"{p} does not exist")
    if not out:
        raise InputError("no input files")
    return out


def _from_photos(paths, work_dir, options, report, progress):
    from heritage3d import colmap, dense
    from heritage3d.frame import scale_from_known_distance, up_from_cameras
    from heritage3d.mesh import from_open3d

    inputs.check_photos(paths, min_photos=options.min_photos)  # raises with the reason; sizes are not needed here
    image_dir = paths[0].parent
    if any(p.parent != image_dir for p in paths):
        raise InputError("all photos must be in one folder")
    names = [p.name for p in paths]
    sparse_file = work_dir / "sparse.npz"
    with report.stage("sparse", resumed=sparse_file.exists()):
        progress("sparse", 0.0)
        if sparse_file.exists():
            sfm = _load_sparse(sparse_file)
        else:
            K = None if options.intrinsics is None else np.array(options.intrinsics)
            sfm = colmap.reconstruct(image_dir, names, work_dir / "colmap", K=K,
                                     max_image_size_px=options.sparse_max_image_px)
            _save_sparse(sfm, sparse_file)
    report.images_total = len(paths)
    report.images_registered = len(sfm.cameras)
    report.models_found = sfm.n_models
    report.mean_reprojection_error_px = sfm.mean_reprojection_error_px
    report.sparse_points = len(sfm.points)
    report.cameras = [{"name": c.name, "centre": c.centre.tolist(), "rotation": c.rotation.tolist()}
                      for c in sfm.cameras]
    if sfm.n_models > 1:
        report.warnings.append(f"the photos split into {sfm.n_models} separate models; the largest "
                               f"({len(sfm.cameras)} photos) was kept")
    if len(sfm.cameras) < max(3, options.min_registered_fraction * len(paths)):
        raise ReconstructionError(
            f"only {len(sfm.cameras)} of {len(paths)} photos could be placed: the photos do not overlap "
            "enough (or show different subjects); nothing was published")
    dense_file = work_dir / "dense.npz"
    with report.stage("dense", resumed=dense_file.exists()):
        progress("dense", 0.0)
        if dense_file.exists():
            z = np.load(dense_file)
            mesh = Mesh(z["vertices"], z["faces"], z["colors"])
        else:
            views = []
            for cam in sfm.cameras:
                img, s = inputs.load_rgb(image_dir / cam.name, options.dense_max_image_px)
                K = cam.K.copy()
                K[:2] *= np.array([img.shape[1] / cam.width_px, img.shape[0] / cam.height_px])[:, None]
                views.append(dense.View(img, K, cam.dist, cam.rotation, cam.translation))
            o3d_mesh = dense.fuse(views, sfm.points,
                                  dense.DenseOptions(voxels_per_side=options.tsdf_voxels_per_side))
            mesh = from_open3d(o3d_mesh)
            np.savez(dense_file, vertices=mesh.vertices, faces=mesh.faces, colors=mesh.colors)
    up = up_from_cameras(np.array([c.rotation for c in sfm.cameras]))
    scale = 1.0
    if options.known_distance is not None:
        a, b, metres = options.known_distance
        centres = {c.name: c.centre for c in sfm.cameras}
        if a not in centres or b not in centres:
            raise InputError(f"known distance: photos {a} and {b} must both be registered")
        scale = scale_from_known_distance(centres[a], centres[b], metres)
        report.metric_scale, report.scale_source = True, "known_distance"
    else:
        report.warnings.append("no known distance or GPS: the model is to scale but not in metres")
    return mesh, up, scale


def _save_sparse(sfm, path: Path) -> None:
    c = sfm.cameras
    np.savez(path, names=np.array([x.name for x in c]), K=np.array([x.K for x in c]),
             dist=np.array([x.dist for x in c]), wh=np.array([(x.width_px, x.height_px) for x in c]),
             R=np.array([x.rotation for x in c]), t=np.array([x.translation for x in c]),
             points=sfm.points, colors=sfm.colors,
             meta=np.array([sfm.n_images, sfm.n_models, sfm.mean_reprojection_error_px]))


def _load_sparse(path: Path):
    from heritage3d.colmap import SfmCamera, SfmResult

    z = np.load(path)
    cams = [SfmCamera(str(n), K, d, int(wh[0]), int(wh[1]), R, t)
            for n, K, d, wh, R, t in zip(z["names"], z["K"], z["dist"], z["wh"], z["R"], z["t"])]
    n_images, n_models, err = z["meta"]
    return SfmResult(cams, z["points"], z["colors"], int(n_images), int(n_models), float(err))


def _publish(mesh: Mesh, out_dir: Path, options: BuildOptions, report: BuildReport, progress: Progress) -> None:
    from heritage3d import gltf, thumbnail
    from heritage3d.mesh import decimate

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        with report.stage("levels"):
            current = mesh
            for i, (name, faces) in enumerate(options.level_faces):
                progress("levels", i / len(options.level_faces))
                current = decimate(current, faces)
                size = gltf.write_glb(current, tmp / f"{name}.glb", draco=options.draco)
                while name == "mobile" and size > options.mobile_max_bytes and len(current.faces) > 1000:
                    current = decimate(current, len(current.faces) // 2)
                    size = gltf.write_glb(current, tmp / f"{name}.glb", draco=options.draco)
                report.levels.append(LevelRecord(name, f"{name}.glb", len(current.vertices), len(current.faces), size))
        with report.stage("thumbnail"):
            progress("thumbnail", 0.0)
            thumbnail.write_png(current, tmp / "thumbnail.png", size_px=options.thumbnail_px)
            report.thumbnail = "thumbnail.png"
        (tmp / "report.json").write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        if out_dir.exists():
            old = out_dir.with_name(out_dir.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            os.rename(out_dir, old)
            os.rename(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
