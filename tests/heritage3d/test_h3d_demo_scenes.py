"""The demo's monument sketches go through the same pipeline as any uploaded mesh:
their colours survive into the GLB and the thumbnail stands upright."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from PIL import Image

from heritage3d import BuildOptions, build_model
from heritage3d.demo_scenes import BRICK, TILE, WOOD, write_scene
from library.access import Actor

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)


def _near(pixels: np.ndarray, rgb, tol: float = 40.0) -> np.ndarray:
    return np.linalg.norm(pixels.astype(float) - np.asarray(rgb) * 255, axis=-1) < tol


@pytest.mark.parametrize("scene", ["khue-van-cac", "chua-mot-cot"])
def test_demo_scene_builds_coloured_and_upright(tmp_path, scene):
    mesh = write_scene(scene, tmp_path / f"{scene}.ply")
    report = build_model([mesh], out_dir=tmp_path / "out", work_dir=tmp_path / "work", options=BuildOptions())
    glb = trimesh.load(tmp_path / "out" / "mobile.glb", force="mesh")
    colours = np.asarray(glb.visual.vertex_colors)[:, :3]
    assert _near(colours, TILE).mean() > 0.02 and _near(colours, WOOD).mean() > 0.02  # colours kept, not grey
    assert 7.5 < glb.bounds[1][1] - glb.bounds[0][1] < 10.5  # metres, +Y up, as drawn
    assert report.levels[-1].bytes < 1_000_000
    thumb = np.asarray(Image.open(tmp_path / "out" / "thumbnail.webp").convert("RGB"))
    roof_rows = np.nonzero(_near(thumb, TILE, 60))[0]
    base_rows = np.nonzero(_near(thumb, BRICK if scene == "khue-van-cac" else (0.22, 0.42, 0.46), 60))[0]
    assert len(roof_rows) > 500 and len(base_rows) > 500
    assert roof_rows.mean() < base_rows.mean()  # the roof is at the top of the picture


def test_a_ply_mesh_is_catalogued_as_a_mesh_and_a_broken_one_refused(platform, tmp_path):
    from library.errors import InputRejected
    from library.monuments.service import BuildSource

    mesh = write_scene("chua-mot-cot", tmp_path / "chua.ply")
    m = platform.monuments.create_monument(name_vi="Chùa Một Cột", actor=SYSTEM)
    assert platform.monuments.submit_build(m.id, [BuildSource(mesh, mesh.name)], actor=SYSTEM).input_kind == "mesh"
    broken = tmp_path / "hong.ply"
    broken.write_bytes(b"not a ply at all")
    with pytest.raises(InputRejected, match="not a PLY"):
        platform.monuments.submit_build(m.id, [BuildSource(broken, broken.name)], actor=SYSTEM)
