"""OBJ meshes with their textures (MTL ``map_Kd``): the texture is sampled onto the vertices so the published
GLB is coloured; a missing or corrupt texture gives a warning and grey, never a crash."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image

from heritage3d.gltf import read_glb
from heritage3d.inputs import sample_texture
from heritage3d.pipeline import BuildOptions, build_model

TEX_W, TEX_H = 256, 128
NO_DECIMATION = BuildOptions(level_faces=(("high", 100_000), ("mobile", 100_000)))


def texture(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The test texture's colour (n, 3) float at (u, v): red along u, green along v, a blue wave."""
    return np.stack([255 * u, 255 * v, 128 + 100 * np.sin(2 * np.pi * u)], 1)


def texture_image() -> Image.Image:
    u = (np.arange(TEX_W) + 0.5) / TEX_W
    v = 1 - (np.arange(TEX_H) + 0.5) / TEX_H  # row 0 is the top of the image: v = 1
    uu, vv = np.meshgrid(u, v)
    rgb = texture(uu.ravel(), vv.ravel()).reshape(TEX_H, TEX_W, 3)
    return Image.fromarray(np.clip(np.round(rgb), 0, 255).astype(np.uint8))


def write_obj(folder, *, n=61, texture_name="textures/wall.png", mtl_name="roof.mtl", with_image=True):
    """A wavy 2 m × 1 m roof panel, x along u and z along v, with its MTL and PNG texture."""
    folder.mkdir(parents=True, exist_ok=True)
    xs, zs = np.meshgrid(np.linspace(0, 2, n), np.linspace(0, 1, n))
    v = np.stack([xs.ravel(), 0.15 * np.sin(3 * xs.ravel()) * np.cos(2 * zs.ravel()), zs.ravel()], 1)
    uv = np.stack([xs.ravel() / 2, zs.ravel()], 1)
    lines = [f"mtllib {mtl_name}", "o roof", "usemtl glazed_tile"]
    lines += [f"v {a:.6f} {b:.6f} {c:.6f}" for a, b, c in v]
    lines += [f"vt {a:.6f} {b:.6f}" for a, b in uv]
    for i in range(n - 1):
        for j in range(n - 1):
            a = i * n + j + 1
            b, c, d = a + 1, a + n, a + n + 1
            lines += [f"f {a}/{a} {c}/{c} {b}/{b}", f"f {b}/{b} {c}/{c} {d}/{d}"]
    (folder / "roof.obj").write_text("\n".join(lines) + "\n")
    (folder / mtl_name).write_text(f"newmtl glazed_tile\nKa 1 1 1\nKd 1 1 1\nmap_Kd {texture_name}\n")
    if with_image:
        (folder / texture_name).parent.mkdir(parents=True, exist_ok=True)
        texture_image().save(folder / texture_name)
    return folder / "roof.obj"


def expected_colours(mesh) -> np.ndarray:
    """What the texture says at each output vertex: u and v come back from x and z (the model is only moved)."""
    lo, hi = mesh.vertices.min(0), mesh.vertices.max(0)
    u = (mesh.vertices[:, 0] - lo[0]) / (hi[0] - lo[0])
    v = (mesh.vertices[:, 2] - lo[2]) / (hi[2] - lo[2])
    return texture(u, v)


def _build(tmp_path, inputs, options=NO_DECIMATION):
    return build_model(inputs, out_dir=tmp_path / "out", work_dir=tmp_path / "w", options=options)


def test_texture_colours_reach_the_published_glb(tmp_path):
    obj = write_obj(tmp_path / "roof")
    report = _build(tmp_path, [obj.parent])  # a folder holding the OBJ, its MTL and textures/wall.png
    assert report.input_kind == "mesh" and not report.warnings
    for level in report.levels:
        glb = read_glb(tmp_path / "out" / level.file)
        err = np.abs(glb.colors.astype(float) - expected_colours(glb))
        assert err.mean() < 3 and np.percentile(err, 99) < 12, (level.name, err.mean())
    assert glb.colors[:, 0].std() > 50 and glb.colors[:, 1].std() > 50  # the gradient, not a flat colour


def test_decimated_level_keeps_the_texture_colours(tmp_path):
    obj = write_obj(tmp_path / "roof")
    report = _build(tmp_path, [obj], BuildOptions(level_faces=(("mobile", 1_500),)))
    glb = read_glb(tmp_path / "out" / "mobile.glb")
    assert report.levels[0].faces <= 1_500
    assert np.abs(glb.colors.astype(float) - expected_colours(glb)).mean() < 8


def test_files_renamed_on_upload_still_find_their_material_and_texture(tmp_path):
    """The catalogue stages uploads as 00000.obj, 00001.mtl, 00002.png: the only MTL and the only image are used."""
    obj = write_obj(tmp_path / "orig")
    staged = tmp_path / "staged"
    staged.mkdir()
    for i, src in enumerate([obj, obj.parent / "roof.mtl", obj.parent / "textures" / "wall.png"]):
        shutil.copy(src, staged / f"{i:05d}{src.suffix}")
    report = _build(tmp_path, sorted(staged.iterdir()))
    glb = read_glb(tmp_path / "out" / "high.glb")
    assert not report.warnings and np.abs(glb.colors.astype(float) - expected_colours(glb)).mean() < 3


@pytest.mark.parametrize("damage, reason", [
    ("missing", "is missing"),
    ("truncated", "cannot be read"),
    ("not_an_image", "not an image"),
])
def test_a_missing_or_corrupt_texture_is_a_warning_and_grey(tmp_path, damage, reason):
    obj = write_obj(tmp_path / "roof")
    png = obj.parent / "textures" / "wall.png"
    if damage == "missing":
        png.unlink()
    elif damage == "truncated":
        png.write_bytes(png.read_bytes()[:300])
    else:
        png.write_text("<html><body>404 Not Found</body></html>")
    report = _build(tmp_path, [obj.parent])
    assert any("textures/wall.png" in w and reason in w and "grey" in w for w in report.warnings), report.warnings
    glb = read_glb(tmp_path / "out" / "high.glb")
    assert (glb.colors == 180).all()  # grey, and the model is published all the same
    assert '"warnings"' in (tmp_path / "out" / "report.json").read_text()


def test_a_texture_outside_the_models_folder_is_not_read(tmp_path):
    obj = write_obj(tmp_path / "model", texture_name="../secret.png", with_image=False)
    texture_image().save(tmp_path / "secret.png")
    report = _build(tmp_path, [obj])
    assert any("outside the model's folder" in w for w in report.warnings), report.warnings
    assert (read_glb(tmp_path / "out" / "high.glb").colors == 180).all()


def test_a_plain_material_colour_is_used_when_there_is_no_texture(tmp_path):
    obj = write_obj(tmp_path / "roof", with_image=False)
    (obj.parent / "roof.mtl").write_text("newmtl glazed_tile\nKd 0.8 0.1 0.1\n")
    _build(tmp_path, [obj])
    colours = read_glb(tmp_path / "out" / "high.glb").colors
    assert np.abs(colours.astype(int) - [204, 25, 25]).max() <= 1


def test_an_obj_zip_through_the_command_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from console import main

    obj = write_obj(tmp_path / "roof")
    with zipfile.ZipFile(tmp_path / "roof.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(obj.parent.rglob("*")):
            if p.is_file():
                z.write(p, f"Mái ngói/{p.relative_to(obj.parent).as_posix()}")
    monkeypatch.setenv("HERITAGE_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["model", "build", str(tmp_path / "roof.zip"), "--out", str(tmp_path / "out"),
                                       "--compression", "none"])
    assert result.exit_code == 0, result.output
    glb = read_glb(tmp_path / "out" / "mobile.glb")
    assert np.abs(glb.colors.astype(float) - expected_colours(glb)).mean() < 3


def test_sample_texture_is_bilinear_and_repeats():
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[0, 0] = rgb[1, 1] = 200  # top-left and bottom-right
    got = sample_texture(rgb, np.array([[0.25, 0.75], [0.5, 0.5], [1.25, -0.25], [np.nan, 0.0]]))
    assert got[0, 0] == 200 and got[1, 0] == 100 and got[2, 0] == 200 and got.shape == (4, 3)
