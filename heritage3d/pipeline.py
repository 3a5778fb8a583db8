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
from typing import TYPE_CHECKING, Callable

import numpy as np

from heritage3d import inputs
from heritage3d.errors import InputError, ReconstructionError
from heritage3d.gltf import COMPRESSIONS, TEXTURE_FORMATS
from heritage3d.mesh import Mesh
from heritage3d.report import BuildReport, LevelRecord

if TYPE_CHECKING:
    from heritage3d.geo import GpsAlignment

log = logging.getLogger(__name__)
PIPELINE_VERSION = "heritage3d-0.2"
Progress = Callable[[str, float], None]
MIN_TEXTURE_PX, MAX_TEXTURE_PX = 256, 8192  # a texture atlas's side; WebGL on phones guarantees 4096 at least
MAX_MOBILE_TEXTURE_PX = 2048
PREVIEW_SHARE = 0.6  # a preview level is kept only when it is at most this share of the level before it
UNSEEN_WARNING = 0.8  # less of the surface than this seen by the photos: said in the report


@dataclass(frozen=True)
class BuildOptions:
    intrinsics: tuple[tuple[float, ...], ...] | None = None  # known 3×3 K (pixels of the original photos)
    sparse_max_image_px: int = 1600
    dense_max_image_px: int = 1024
    tsdf_voxels_per_side: int = 320
    min_photos: int = 3
    min_registered_fraction: float = 0.5  # fewer registered photos than this share: the build fails
    known_distance: tuple[str, str, float] | None = None  # (photo name, photo name, metres between the cameras)
    # "preview": what a phone draws first (web/static/viewer.js loads the smallest level, then the next):
    # on a slow connection its ~0.1 MB reach the screen a second before the mobile level's ~0.3 MB would
    level_faces: tuple[tuple[str, int], ...] = (("high", 400_000), ("medium", 120_000), ("mobile", 40_000),
                                                ("preview", 10_000))
    mobile_max_bytes: int = 1_000_000
    draco: bool = True  # older settings: False meant no compression; ``compression`` says it now
    compression: str = "draco"  # "draco" (DracoPy), "meshopt" (gltfpack, needs node) or "none"
    thumbnail_px: int = 512
    use_gps: bool = True  # metric scale, up and north from the photos' EXIF GPS when it can be trusted
    max_gps_scale_error: float = 0.05  # refuse GPS whose predicted scale error (1-sigma) is larger
    texture: bool = True  # an atlas per level for a model from photos (heritage3d.texture); an imported texture kept
    level_texture_px: tuple[tuple[str, int], ...] = (("high", 4096), ("medium", 2048), ("mobile", 1024),
                                                     ("preview", 512))
    texture_quality: int = 80  # WebP (or JPEG) quality of the atlases
    texture_format: str = "webp"  # "webp" (EXT_texture_webp, 45 % smaller) or "jpeg" (core glTF, any viewer)
    texture_max_image_px: int = 2048  # the photos' longest side when texturing (sharper than the dense step's)

    def __post_init__(self):
        if self.compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {', '.join(COMPRESSIONS)}, not {self.compression!r}")
        for name, px in self.level_texture_px:
            if not (isinstance(px, int) and MIN_TEXTURE_PX <= px <= MAX_TEXTURE_PX and px & (px - 1) == 0):
                raise ValueError(f"the {name} level's texture must be a power of two from {MIN_TEXTURE_PX} to "
                                 f"{MAX_TEXTURE_PX} pixels a side, not {px!r}")
        if dict(self.level_texture_px).get("mobile", 0) > MAX_MOBILE_TEXTURE_PX:
            raise ValueError(f"the mobile level's texture may be at most {MAX_MOBILE_TEXTURE_PX} pixels a side "
                             "(phones refuse larger textures or run out of memory)")
        if self.texture_format not in TEXTURE_FORMATS:
            raise ValueError(f"texture format must be one of {', '.join(TEXTURE_FORMATS)}, not {self.texture_format!r}")
        if not 30 <= self.texture_quality <= 95:
            raise ValueError(f"texture quality must be from 30 to 95, not {self.texture_quality!r}")

    @property
    def codec(self) -> str:
        """The compression the GLB levels get."""
        return "none" if self.compression == "draco" and not self.draco else self.compression

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
    views = None
    if kind == "photos":
        mesh, place, views = _from_photos(paths, work_dir, options, report, progress)
    else:
        with report.stage("read"):
            progress("read", 0.0)
            if kind == "mesh":
                main, companions = paths[0], paths[1:]
                if main.suffix.lower() != ".obj":
                    main = next((p for p in paths if p.suffix.lower() == ".obj"), main)
                    companions = [p for p in paths if p != main]
                mesh = _read_glb(main) if main.suffix.lower() == ".glb" else \
                    inputs.read_mesh(main, companions, report.warnings)
            else:
                pts, col = inputs.read_point_cloud(paths[0])
                mesh = inputs.mesh_from_points(pts, col)
        report.metric_scale, report.scale_source, report.up_source = False, "none", "input"

        def place():  # a made-elsewhere model keeps its frame, unit and up (+Y)
            return Placement(1.0, np.eye(3), None)
    from heritage3d import mesh as mesh_mod

    with report.stage("clean"):
        progress("clean", 0.0)
        placement = place()  # scale, up and north: quick, and nothing to keep on disk
        mesh = mesh_mod.clean(mesh)
        from heritage3d.frame import output_transform

        s, R, t = output_transform(mesh.vertices, placement.rotation, placement.scale)
        mesh = mesh_mod.transformed(mesh, s, R, t)
        report.model_frame_to_output = {"scale": s, "rotation": R.tolist(), "translation": t.tolist()}
        if placement.gps is not None:
            report.georeference = _georeference(placement, t)
    if views is not None:
        from heritage3d.texture import views_in_frame

        views = views_in_frame(views, s, R, t)
    _publish(mesh, Path(out_dir), options, report, progress, views=views)
    progress("done", 1.0)
    return report


def _texture_at_most(image: np.ndarray, side_px: int) -> np.ndarray:
    """An imported texture scaled down (Lanczos) so that its longer side is at most ``side_px``."""
    h, w = image.shape[:2]
    if max(h, w) <= side_px:
        return image
    from PIL import Image

    scale = side_px / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(np.ascontiguousarray(image)).resize(size, Image.Resampling.LANCZOS))


@dataclass(frozen=True)
class Placement:
    """How the model frame becomes the output frame: ``scale`` (metres per model unit when known) and
    ``rotation`` (3, 3) model → output axes (+Y up; with GPS +X east, +Z south); ``gps`` when it placed it."""

    scale: float
    rotation: np.ndarray
    gps: GpsAlignment | None


def _georeference(placement: Placement, translation: np.ndarray) -> dict:
    """Where the output origin (the base centre of the model) is on Earth."""
    from heritage3d.geo import ENU_TO_GLTF

    g = placement.gps
    enu = -(g.scale / placement.scale) * ENU_TO_GLTF.T @ translation + g.translation
    lat, lon, alt = g.frame.to_geodetic(enu)
    return {"latitude": round(lat, 8), "longitude": round(lon, 8),
            "altitude_m": round(alt, 2) if g.has_altitude else None,
            "crs": "WGS 84", "axes": "x east, y up, z south; metres", "origin": "the centre of the model's base"}


def _read_glb(path: Path) -> Mesh:
    from heritage3d.gltf import read_glb

    return read_glb(path)


def _expand(paths: list[Path]) -> list[Path]:
    """Files of the inputs: a folder gives its photos, or its one OBJ (whose MTL and textures are found beside it)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            objs = sorted(q for q in p.iterdir() if q.suffix.lower() == ".obj" and q.is_file())
            if len(objs) > 1:
                raise InputError(f"the folder {p.name} holds {len(objs)} OBJ meshes "
                                 f"({', '.join(q.name for q in objs[:3])}…); give one")
            out += objs or sorted(q for q in p.iterdir() if q.suffix.lower() in inputs.PHOTO_SUFFIXES)
        elif p.exists():
            out.append(p)
        else:
            raise InputError(f"{p} does not exist")
    if not out:
        raise InputError("no input files")
    return out


def _from_photos(paths, work_dir, options, report, progress):
    from heritage3d import colmap, dense
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
    views = None

    with report.stage("dense", resumed=dense_file.exists()):
        progress("dense", 0.0)
        if dense_file.exists():
            z = np.load(dense_file)
            mesh = Mesh(z["vertices"], z["faces"], z["colors"])
        else:
            o3d_mesh = dense.fuse(photo_views(sfm, image_dir, options.dense_max_image_px), sfm.points,
                                  dense.DenseOptions(voxels_per_side=options.tsdf_voxels_per_side))
            mesh = from_open3d(o3d_mesh)
            np.savez(dense_file, vertices=mesh.vertices, faces=mesh.faces, colors=mesh.colors)
    if options.texture:
        with report.stage("texture_photos"):
            views = photo_views(sfm, image_dir, options.texture_max_image_px)
    return mesh, lambda: _place(sfm, image_dir, options, report), (views if options.texture else None)


def photo_views(sfm, image_dir: Path, max_px: int) -> list:
    """The registered photos as calibrated views (``dense.View``), read with their longest side at most
    ``max_px`` (the camera matrices scaled to match)."""
    from heritage3d import dense

    out = []
    for cam in sfm.cameras:
        img, _ = inputs.load_rgb(image_dir / cam.name, max_px)
        K = cam.K.copy()
        K[:2] *= np.array([img.shape[1] / cam.width_px, img.shape[0] / cam.height_px])[:, None]
        out.append(dense.View(img, K, cam.dist, cam.rotation, cam.translation))
    return out


def _place(sfm, image_dir: Path, options: BuildOptions, report: BuildReport) -> Placement:
    """Scale, up and (with GPS) north of a photo model: a known distance sets the scale when the curator
    gives one; GPS sets scale, up and north when it can be trusted; else the cameras give up only."""
    from heritage3d import geo
    from heritage3d.frame import rotation_between, scale_from_known_distance, up_from_cameras

    camera_up = up_from_cameras(np.array([c.rotation for c in sfm.cameras]))
    gps = None
    if options.use_gps:
        names, centres, fixes = [], [], []
        for cam in sfm.cameras:
            try:
                fix = geo.read_gps(image_dir / cam.name)
            except geo.GpsUnusable as exc:
                report.warnings.append(f"GPS of {cam.name} ignored: {exc}")
                continue
            if fix is not None:
                names.append(cam.name)
                centres.append(cam.centre)
                fixes.append(fix)
        if fixes:
            try:
                gps = geo.align_to_gps(names, np.array(centres), fixes, camera_up,
                                       max_scale_error=options.max_gps_scale_error)
            except geo.GpsRefused as exc:
                report.warnings.append(f"GPS not used: {exc}")
                report.gps = {"photos_with_gps": len(fixes), "refused": str(exc)}
            else:
                report.gps = {"photos_with_gps": len(fixes), **gps.summary()}
                report.warnings += gps.notes
    if options.known_distance is not None:
        a, b, metres = options.known_distance
        centres_by_name = {c.name: c.centre for c in sfm.cameras}
        if a not in centres_by_name or b not in centres_by_name:
            raise InputError(f"known distance: photos {a} and {b} must both be registered")
        scale = scale_from_known_distance(centres_by_name[a], centres_by_name[b], metres)
        report.metric_scale, report.scale_source = True, "known_distance"
        if gps is not None:
            ratio = gps.scale / scale
            report.gps["scale_vs_known_distance"] = round(ratio, 5)
            if abs(ratio - 1) > max(3 * gps.scale_error, 0.02):
                report.warnings.append(f"GPS gives a size {100 * (ratio - 1):+.1f} % off the known distance; "
                                       "the known distance was used")
    elif gps is not None:
        scale = gps.scale
        report.metric_scale, report.scale_source = True, "gps"
        report.scale_residual_m = round(gps.rms_residual_m, 4)
    else:
        scale = 1.0
        report.metric_scale, report.scale_source = False, "none"
        report.warnings.append("no known distance or usable GPS: the model is to scale but not in metres")
    if gps is not None:
        from heritage3d.geo import ENU_TO_GLTF

        report.up_source = "gps" if gps.up_from_gps else "cameras"
        return Placement(scale, ENU_TO_GLTF @ gps.rotation, gps)
    report.up_source = "cameras"
    return Placement(scale, rotation_between(camera_up, np.array([0.0, 1.0, 0.0])), None)


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


def _publish(mesh: Mesh, out_dir: Path, options: BuildOptions, report: BuildReport, progress: Progress,
             views=None) -> None:
    from heritage3d import gltf, thumbnail
    from heritage3d.mesh import decimate

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    texture_px = dict(options.level_texture_px)
    textured = bool(views)
    if textured:
        from heritage3d.texture import undistorted_views

        views = undistorted_views(views)  # once for every level's atlas

    gains = None  # each photo's exposure gains, measured once on the finest level textured

    def write(level: Mesh, name: str) -> LevelRecord:
        nonlocal textured, gains
        path = tmp / f"{name}.glb"
        if level.textured and options.texture:  # imported with its texture: the image, at most the level's size
            image = _texture_at_most(level.texture, texture_px.get(name, max(texture_px.values(), default=4096)))
            data, mime = gltf.encode_texture(image, quality=options.texture_quality, fmt=options.texture_format)
            size = gltf.write_glb(level, path, compression=options.codec, texture=gltf.Texture(level.uv, data, mime))
            return LevelRecord(name, path.name, len(level.vertices), len(level.faces), size,
                               texture_px=int(max(image.shape[:2])), texture_bytes=len(data))
        if textured and name in texture_px:
            from heritage3d import texture

            try:
                if gains is None:
                    gains = texture.exposure_gains(level, views)
                atlas = texture.bake(level, views, texture_px[name], gains=gains)
            except texture.TextureError as exc:
                report.warnings.append(f"no texture: {exc}; the model keeps its vertex colours")
                textured = False
            else:
                data, mime = gltf.encode_texture(atlas.image, quality=options.texture_quality,
                                                 fmt=options.texture_format)
                size = gltf.write_glb(atlas.mesh, path, compression=options.codec,
                                      texture=gltf.Texture(atlas.uv, data, mime))
                if atlas.seen_fraction < UNSEEN_WARNING and not any("seen by no photo" in w for w in report.warnings):
                    report.warnings.append(f"{1 - atlas.seen_fraction:.0%} of the surface is seen by no photo; "
                                           "it keeps the fused colours (take more photos around it)")
                return LevelRecord(name, path.name, len(atlas.mesh.vertices), len(level.faces), size,
                                   texture_px=int(atlas.image.shape[0]), texture_bytes=len(data),
                                   texture_seen=round(atlas.seen_fraction, 4))
        size = gltf.write_glb(level, path, compression=options.codec)
        return LevelRecord(name, path.name, len(level.vertices), len(level.faces), size)

    try:
        with report.stage("levels"):
            current = pictured = mesh
            for i, (name, faces) in enumerate(options.level_faces):
                progress("levels", i / len(options.level_faces))
                current = decimate(current, faces)
                if name != "preview":
                    pictured = current  # the thumbnail is drawn from the lightest full level
                record = write(current, name)
                while name == "mobile" and record.bytes > options.mobile_max_bytes and len(current.faces) > 1000:
                    before = len(current.faces)
                    current = decimate(current, before // 2)
                    if len(current.faces) >= before and (record.texture_px or 0) <= 256:
                        break  # nothing more to take away
                    if record.texture_px and record.texture_bytes > options.mobile_max_bytes // 2:
                        texture_px[name] = max(256, record.texture_px // 2)
                    record = write(current, name)
                if name == "preview" and report.levels and record.bytes > PREVIEW_SHARE * report.levels[-1].bytes:
                    (tmp / record.file).unlink()  # too little lighter than the level before to be worth a download
                    continue
                report.levels.append(record)
        with report.stage("thumbnail"):
            progress("thumbnail", 0.0)
            thumbnail.write(pictured, tmp / "thumbnail.webp", size_px=options.thumbnail_px)
            report.thumbnail = "thumbnail.webp"
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
