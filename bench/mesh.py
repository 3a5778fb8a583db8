"""Benchmark of heritage3d on the shared photo sets and the synthetic scene.

Prints camera-centre errors on fountain-P11 (after a similarity alignment to the survey),
surface precision/recall/F-score on the synthetic monument, stage timings and peak memory,
each beside a baseline from the same run:

- poses: pycolmap's incremental mapper (through heritage3d.colmap, images capped at 1600 px) with
  the known camera matrix held fixed vs the same mapper starting from EXIF with intrinsics refined;
- surface: the delivered mobile web mesh and the raw TSDF mesh vs pycolmap's sparse point cloud
  of the same synthetic photos (aligned to the truth by its camera centres);
- size of the mobile level: Draco (DracoPy) vs meshopt (gltfpack) vs no compression, raw and gzipped.

Run: .venv/bin/python bench/mesh.py
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "photogrammetry"

from heritage3d import colmap, dense, mesh as mesh_mod  # noqa: E402
from heritage3d.alignment import aligned_centre_errors_m, umeyama  # noqa: E402
from heritage3d.pipeline import BuildOptions, build_model, read_intrinsics  # noqa: E402
from heritage3d.surface import sample_mesh, scores  # noqa: E402
from heritage3d.synthetic import make_scene  # noqa: E402


def truth(names):
    d = DATA / "fountain-p11" / "gt_cameras"
    return np.array([np.array((d / f"{n}.camera").read_text().split(), float)[21:24] for n in names])


def poses(tmp: Path) -> None:
    images = DATA / "fountain-p11" / "images"
    names = sorted(p.name for p in images.glob("*.jpg"))
    print("== fountain-P11 camera centres (mm, after similarity alignment) ==")
    for label, K in (("ours, known K", np.loadtxt(images / "K.txt")), ("EXIF only, K refined", None)):
        t = time.perf_counter()
        sfm = colmap.reconstruct(images, names, tmp / label.replace(" ", "_").replace(",", ""), K=K)
        e = aligned_centre_errors_m(np.array([c.centre for c in sfm.cameras]),
                                    truth([c.name for c in sfm.cameras])) * 1000
        print(f"{label:26s} registered {len(sfm.cameras)}/11  mean {e.mean():.2f}  max {e.max():.2f}  "
              f"reproj {sfm.mean_reprojection_error_px:.3f} px  {time.perf_counter() - t:.1f} s")


def surface(tmp: Path) -> None:
    from PIL import Image

    print("== synthetic monument: surface at 0.5 % of the bbox diagonal ==")
    s = make_scene()
    diag = float(np.linalg.norm(s.surface_points.max(0) - s.surface_points.min(0)))
    tau = 0.005 * diag
    t = time.perf_counter()
    raw = mesh_mod.from_open3d(dense.fuse(s.views, s.surface_points[::50]))
    t_dense = time.perf_counter() - t
    web = mesh_mod.decimate(mesh_mod.clean(raw), 40_000)
    for label, m in (("raw TSDF mesh", raw), ("web mesh (mobile, 40k)", web)):
        r = scores(sample_mesh(m.vertices, m.faces, 300_000), s.surface_points, tau)
        print(f"{label:26s} P {r.precision:.3f}  R {r.recall:.3f}  F {r.f_score:.3f}  "
              f"acc {r.accuracy_m * 1000:.1f} mm  compl {r.completeness_m * 1000:.1f} mm")
    print(f"(dense on {len(s.views)} views of 640x480: {t_dense:.1f} s; tau {tau * 1000:.1f} mm)")
    img_dir = tmp / "synthetic"
    img_dir.mkdir()
    names = []
    for i, v in enumerate(s.views):
        names.append(f"{i:03d}.png")
        Image.fromarray(v.image).save(img_dir / names[-1])
    sfm = colmap.reconstruct(img_dir, names, tmp / "synthetic_sfm", K=s.views[0].K)
    idx = [names.index(c.name) for c in sfm.cameras]
    sc, R, tr = umeyama(np.array([c.centre for c in sfm.cameras]), np.array([s.views[i].centre for i in idx]))
    pts = sc * sfm.points @ R.T + tr
    r = scores(pts, s.surface_points, tau)
    print(f"{'pycolmap sparse cloud':26s} P {r.precision:.3f}  R {r.recall:.3f}  F {r.f_score:.3f}  "
          f"({len(sfm.points)} points, {len(sfm.cameras)}/{len(names)} registered)")


def pipeline(tmp: Path) -> None:
    images = DATA / "fountain-p11" / "images"
    t = time.perf_counter()
    rep = build_model([images], out_dir=tmp / "out", work_dir=tmp / "work",
                      options=BuildOptions(intrinsics=read_intrinsics(images / "K.txt")))
    print(f"== fountain-P11 photos to web model: {time.perf_counter() - t:.1f} s ==")
    for st in rep.stages:
        print(f"  {st.name:10s} {st.seconds:7.2f} s   peak RSS {st.peak_rss_mb:7.0f} MB")
    for lv in rep.levels:
        print(f"  level {lv.name:7s} {lv.faces:8d} faces  {lv.bytes / 1e6:.2f} MB")
    compression(tmp / "out" / "mobile.glb")


def compression(mobile_glb: Path) -> None:
    """The mobile level encoded three ways; gzip -9 beside each, as a web server would send it."""
    import gzip

    from heritage3d import gltf, meshopt

    mesh = gltf.read_glb(mobile_glb)
    print(f"== mobile level ({len(mesh.faces)} faces, {len(mesh.vertices)} vertices) by compression ==")
    for codec in gltf.COMPRESSIONS:
        t = time.perf_counter()
        try:
            data = gltf.to_glb(mesh, compression=codec)
        except Exception as exc:  # meshopt needs node and gltfpack
            print(f"  {codec:8s} unavailable: {exc}")
            continue
        seconds = time.perf_counter() - t
        print(f"  {codec:8s} {len(data) / 1e6:6.3f} MB   gzip -9 {len(gzip.compress(data, 9)) / 1e6:6.3f} MB   "
              f"encode {seconds:.2f} s" + (f"   ({meshopt.version()})" if codec == "meshopt" else ""))


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as d:
        poses(Path(d))
        surface(Path(d))
        pipeline(Path(d))
