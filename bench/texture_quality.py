"""Texture atlases against vertex colours (issue #14), measured on photos left out of the texturing.

For each scene and each photo left out in turn: the surface is fused and textured from the *other* photos
(the left-out photo's camera comes from the structure-from-motion of all photos, as a surveyor's control
photo would), then rendered from the left-out camera (ray cast, colours as stored, no lighting) and compared
with the photo itself over the pixels the model covers: PSNR and SSIM (Wang et al. 2004, Gaussian window
σ 1.5, on luma) for

- **vertex colours** at the mobile level (40,000 faces: the baseline, what the platform published before);
- **vertex colours at the textured GLB's size** (as many faces as fit in the bytes the textured mobile
  level takes), so the comparison is at equal download;
- **texture atlas** at the mobile level (40,000 faces, the atlas the pipeline sizes for it).

Then the whole build with and without textures (``heritage3d.build_model``, in child processes so each peak
memory is its own): seconds, peak memory, and the mobile GLB's bytes.

Scenes: ``fountain-p11`` (11 real photos, known camera matrix) and the synthetic pavilion (16 rendered
photos, known cameras); ``stele``: the synthetic stele of ``bench/stele.py`` (24 rendered photos under changing
light, known cameras), which that bench also reads from its model.

Run: .venv/bin/python bench/texture_quality.py [--scenes fountain synthetic stele] [--left-out 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "photogrammetry"

from heritage3d import colmap, dense, gltf, texture  # noqa: E402
from heritage3d.pipeline import photo_views  # noqa: E402
from heritage3d.mesh import Mesh, clean, decimate, from_open3d  # noqa: E402

MOBILE_FACES = 40_000


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    from scipy.ndimage import binary_erosion, gaussian_filter

    def luma(x):
        return x[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])

    x, y = luma(a), luma(b)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = gaussian_filter(x, 1.5), gaussian_filter(y, 1.5)
    sxx = gaussian_filter(x * x, 1.5) - mx * mx
    syy = gaussian_filter(y * y, 1.5) - my * my
    sxy = gaussian_filter(x * y, 1.5) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    inner = binary_erosion(mask, iterations=5)
    return float(s[inner].mean())


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    d = (a[mask].astype(np.float64) - b[mask].astype(np.float64)) ** 2
    return float(10 * np.log10(255 ** 2 / max(d.mean(), 1e-9)))


def fountain_views():
    folder = DATA / "fountain-p11" / "images"
    names = sorted(p.name for p in folder.glob("*.jpg"))
    K = np.loadtxt(folder / "K.txt").reshape(3, 3)
    with tempfile.TemporaryDirectory() as work:
        sfm = colmap.reconstruct(folder, names, Path(work), K=K, max_image_size_px=1600)

    # as the pipeline reads them: 1024 px for the dense step, 2048 px for texturing
    return photo_views(sfm, folder, 1024), photo_views(sfm, folder, 2048), sfm.points, folder


def synthetic_views():
    from heritage3d.synthetic import make_scene

    scene = make_scene(16)
    return scene.views, scene.views, scene.surface_points


def stele_views():
    """The synthetic stele of ``bench/stele.py`` (24 photos under changing light, known cameras)."""
    from bench.stele import TEXT
    from heritage3d.synthetic import stele_scene

    scene = stele_scene(TEXT, n_views=24).scene
    return scene.views, scene.views, scene.surface_points


def glb_bytes(mesh: Mesh, **kw) -> int:
    return len(gltf.to_glb(mesh, compression="draco", **kw))


def vertex_colours_at(mesh: Mesh, target_bytes: int) -> Mesh:
    """The decimation of ``mesh`` whose Draco GLB is closest to ``target_bytes`` (bisection on faces)."""
    lo, hi = 1_000, len(mesh.faces)
    if glb_bytes(mesh) <= target_bytes:
        return mesh
    while hi - lo > max(500, lo // 50):
        mid = (lo + hi) // 2
        if glb_bytes(decimate(mesh, mid)) <= target_bytes:
            lo = mid
        else:
            hi = mid
    return decimate(mesh, lo)


def measure_left_out(views, texture_views, points, left_out: list[int]) -> list[dict]:
    rows = []
    for k in left_out:
        used = [v for i, v in enumerate(views) if i != k]
        held = views[k]
        fused = clean(from_open3d(dense.fuse(used, points, dense.DenseOptions(voxels_per_side=320))))
        mobile = decimate(fused, MOBILE_FACES)
        t0 = time.perf_counter()
        atlas = texture.bake(mobile, [v for i, v in enumerate(texture_views) if i != k], 1024)
        bake_s = time.perf_counter() - t0
        data, mime = gltf.encode_texture(atlas.image, quality=80, fmt="webp")  # as the pipeline writes it
        textured_bytes = glb_bytes(atlas.mesh, texture=gltf.Texture(atlas.uv, data, mime))
        unlevelled = texture.bake(mobile, [v for i, v in enumerate(texture_views) if i != k], 1024, level=False)
        same_size = vertex_colours_at(fused, textured_bytes)
        # the atlas as the viewer shows it: decoded from the JPEG in the GLB
        from io import BytesIO

        from PIL import Image

        shown = np.asarray(Image.open(BytesIO(data)).convert("RGB"))

        def as_shown(image):
            return np.asarray(Image.open(BytesIO(gltf.encode_texture(image, quality=80, fmt="webp")[0])).convert("RGB"))
        renders = {
            "vertex colours (40k faces)": (texture.render(held, mobile), glb_bytes(mobile)),
            "vertex colours (faces for the atlas's bytes)": (texture.render(held, same_size), glb_bytes(same_size)),
            "texture atlas, seams not levelled": (
                texture.render(held, unlevelled.mesh, uv=unlevelled.uv, image=as_shown(unlevelled.image)), textured_bytes),
            "texture atlas (40k faces)": (texture.render(held, atlas.mesh, uv=atlas.uv, image=shown), textured_bytes),
        }
        covered = np.logical_and.reduce([mask for (_, mask), _ in renders.values()])
        for name, ((image, _), size) in renders.items():
            rows.append({"left_out": k, "model": name, "psnr_db": round(psnr(image, held.image, covered), 2),
                         "ssim": round(ssim(image, held.image, covered), 4), "glb_bytes": size,
                         "covered": round(float(covered.mean()), 3), "faces": len(same_size.faces),
                         "bake_s": round(bake_s, 2) if "atlas" in name else None})
    return rows


BUILD = """
import json, sys, time
from pathlib import Path
from heritage3d.pipeline import BuildOptions, build_model, read_intrinsics
from heritage3d.report import peak_rss_mb
folder, out, texture = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "1"
opts = BuildOptions(intrinsics=read_intrinsics(folder / "K.txt"), texture=texture)
t0 = time.perf_counter()
report = build_model([folder], out_dir=out / "model", work_dir=out / "work", options=opts)
print(json.dumps({"seconds": time.perf_counter() - t0, "peak_mb": peak_rss_mb(),
                  "levels": [(lv.name, lv.bytes, lv.texture_px) for lv in report.levels],
                  "stages": {s.name: s.seconds for s in report.stages}}))
"""


def whole_build(folder: Path, texture_on: bool) -> dict:
    with tempfile.TemporaryDirectory() as out:
        r = subprocess.run([sys.executable, "-c", BUILD, str(folder), out, "1" if texture_on else "0"],
                           capture_output=True, text=True, cwd=REPO, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenes", nargs="+", default=["fountain", "synthetic"], choices=["fountain", "synthetic", "stele"])
    ap.add_argument("--left-out", type=int, default=3, help="photos left out in turn per scene")
    ap.add_argument("--no-builds", action="store_true", help="skip the whole builds (time and memory)")
    args = ap.parse_args()
    for scene in args.scenes:
        if scene == "fountain":
            views, texture_views, points, folder = fountain_views()
        else:
            views, texture_views, points = synthetic_views() if scene == "synthetic" else stele_views()
            folder = None
        picks = np.linspace(1, len(views) - 2, args.left_out).round().astype(int).tolist()
        rows = measure_left_out(views, texture_views, points, picks)
        print(f"\n== {scene}: photos left out {picks} (of {len(views)}), rendered from their cameras")
        print(f"{'model':42s} {'PSNR dB':>8s} {'SSIM':>7s} {'GLB bytes':>10s}")
        for name in dict.fromkeys(r["model"] for r in rows):
            mine = [r for r in rows if r["model"] == name]
            print(f"{name:42s} {np.mean([r['psnr_db'] for r in mine]):8.2f} {np.mean([r['ssim'] for r in mine]):7.4f} "
                  f"{int(np.mean([r['glb_bytes'] for r in mine])):10,d}")
        bakes = [r["bake_s"] for r in rows if r["bake_s"] is not None]
        print(f"atlas of the mobile level: {np.mean(bakes):.2f} s per bake; vertex colours at the atlas's bytes: "
              f"{int(np.mean([r['faces'] for r in rows])):,d} faces; model covers {np.mean([r['covered'] for r in rows]):.0%} "
              "of the left-out photos")
        if folder is not None and not args.no_builds:
            for on in (False, True):
                b = whole_build(folder, on)
                mobile = dict((n, (size, px)) for n, size, px in b["levels"])["mobile"]
                print(f"whole build, texture {'on ' if on else 'off'}: {b['seconds']:6.1f} s, peak {b['peak_mb']:6.0f} MB, "
                      f"levels stage {b['stages'].get('levels', 0):5.1f} s, mobile GLB {mobile[0]:,d} bytes"
                      + (f" (atlas {mobile[1]} px)" if mobile[1] else ""))


if __name__ == "__main__":
    main()
