"""Real photo sets through pycolmap and the whole pipeline (slow: ~30-45 s per reconstruction)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh  # noqa: F401  (the GLB reader for non-Draco files)

from conftest import fountain_truth, photo_set
from heritage3d import colmap
from heritage3d.alignment import aligned_centre_errors_m
from heritage3d.gltf import read_glb
from heritage3d.pipeline import BuildOptions, build_model, read_intrinsics

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fountain_build(tmp_path_factory):
    images = photo_set("fountain-p11") / "images"
    root = tmp_path_factory.mktemp("fountain")
    stages = []
    opts = BuildOptions(intrinsics=read_intrinsics(images / "K.txt"), known_distance=("0000.jpg", "0010.jpg", 1.0))
    report = build_model([images], out_dir=root / "out", work_dir=root / "work", options=opts,
                         progress=lambda s, f: stages.append((s, f)))
    return root, report, stages, opts


def test_fountain_known_intrinsics_centres_within_5mm(fountain_build):
    _, report, _, _ = fountain_build
    assert report.images_registered == report.images_total == 11
    names = [c["name"] for c in report.cameras]
    centres = np.array([c["centre"] for c in report.cameras])
    err = aligned_centre_errors_m(centres, fountain_truth(names))
    assert err.mean() <= 0.005, err
    assert report.mean_reprojection_error_px < 1.0


def test_fountain_build_publishes_levels_thumbnail_and_report(fountain_build):
    root, report, stages, _ = fountain_build
    out = root / "out"
    saved = json.loads((out / "report.json").read_text())
    assert saved["images_registered"] == 11 and saved["metric_scale"] is True
    assert [lv["name"] for lv in saved["levels"]] == ["high", "medium", "mobile", "preview"]
    for lv in saved["levels"]:
        assert (out / lv["file"]).stat().st_size == lv["bytes"]
    # what a phone draws first: at most 10,000 faces on a 512-pixel atlas, well under half the mobile level
    preview, mobile_level = saved["levels"][3], saved["levels"][2]
    assert preview["faces"] <= 10_000 and preview["texture_px"] == 512
    assert preview["bytes"] <= 0.6 * mobile_level["bytes"] and preview["bytes"] <= 150_000, preview
    mobile = read_glb(out / "mobile.glb")
    assert len(mobile.faces) > 10_000 and (out / "mobile.glb").stat().st_size <= 1_000_000
    assert mobile.colors.std() > 5  # real colours (sampled from its atlas), not the default grey
    # every level carries a texture atlas from the photos, sized for it, in the GLB itself
    for lv in saved["levels"]:
        glb = (out / lv["file"]).read_bytes()
        doc = json.loads(glb[20:20 + int.from_bytes(glb[12:16], "little")])
        assert doc["images"][0]["mimeType"] == "image/webp" and lv["texture_bytes"] > 30_000, lv
        assert "EXT_texture_webp" in doc["extensionsRequired"]
        assert lv["texture_seen"] > 0.9 and lv["texture_px"] in (256, 512, 1024, 2048, 4096), lv
    assert saved["levels"][0]["texture_px"] >= saved["levels"][-1]["texture_px"]
    assert 3_000 < (out / "thumbnail.webp").stat().st_size < 60_000  # WebP: the page's first picture stays light
    assert {s for s, _ in stages} >= {"sparse", "dense", "levels", "thumbnail", "done"}
    assert {st["name"] for st in saved["stages"]} >= {"sparse", "dense", "clean", "levels", "thumbnail"}
    assert not list(root.glob(".out.*"))  # no temp folder left behind


def test_fountain_rerun_resumes_finished_stages(fountain_build):
    root, _, _, opts = fountain_build
    report = build_model([photo_set("fountain-p11") / "images"], out_dir=root / "out",
                         work_dir=root / "work", options=opts)
    by_name = {s.name: s for s in report.stages}
    assert by_name["sparse"].resumed and by_name["dense"].resumed
    assert by_name["sparse"].seconds < 5


def test_fountain_exif_centres_within_10mm(tmp_path):
    images = photo_set("fountain-p11") / "images"
    names = sorted(p.name for p in images.glob("*.jpg"))
    sfm = colmap.reconstruct(images, names, tmp_path)
    assert len(sfm.cameras) == 11
    err = aligned_centre_errors_m(np.array([c.centre for c in sfm.cameras]),
                                  fountain_truth([c.name for c in sfm.cameras]))
    assert err.mean() <= 0.010, err


def test_sceaux_registers_every_photo_and_makes_a_clean_mesh(tmp_path):
    d = photo_set("sceaux-castle")
    photos = sorted(d.glob("*.JPG"))
    report = build_model(photos, out_dir=tmp_path / "out", work_dir=tmp_path / "work",
                         options=BuildOptions(intrinsics=read_intrinsics(d / "K.txt")))
    assert report.images_registered == 11
    high = report.levels[0]
    assert high.faces > 50_000
