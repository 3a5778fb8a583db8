"""Texture atlases (issue #14): each face from the photo that sees it best, exposure balanced, packed per level,
written into GLB (plain, Draco, meshopt) and read back; measured against photos left out of the atlas."""

from __future__ import annotations

from dataclasses import replace
import numpy as np
import pytest

from heritage3d import gltf, texture
from heritage3d.mesh import Mesh, from_open3d


def _psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    d = (a[mask].astype(float) - b[mask].astype(float)) ** 2
    return 10 * np.log10(255 ** 2 / d.mean())


@pytest.fixture(scope="module")
def pavilion():
    """The synthetic pavilion's true surface, finely divided, coloured at its vertices from the same
    pattern its photos were rendered with; photos 3 and 10 are left out of every atlas."""
    import open3d as o3d

    from heritage3d.synthetic import make_scene, texture_rgb

    scene = make_scene(14)
    m = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(scene.vertices),
                                  o3d.utility.Vector3iVector(scene.faces.astype(np.int32))).subdivide_midpoint(4)
    mesh = from_open3d(m)
    mesh.colors = texture_rgb(mesh.vertices)
    left_out = [v for i, v in enumerate(scene.views) if i in (3, 10)]
    used = [v for i, v in enumerate(scene.views) if i not in (3, 10)]
    return mesh, used, left_out


def test_an_atlas_shows_photos_left_out_of_it_better_than_vertex_colours(pavilion):
    mesh, used, left_out = pavilion
    atlas = texture.bake(mesh, used, 1024)
    assert atlas.image.shape == (1024, 1024, 3) and atlas.image.dtype == np.uint8
    assert len(atlas.uv) == len(atlas.mesh.vertices) and atlas.uv.min() >= 0 and atlas.uv.max() <= 1
    assert len(atlas.mesh.faces) == len(mesh.faces)
    assert 0.3 < atlas.seen_fraction < 1  # the ground slab's underside and hidden faces are seen by no photo
    for view in left_out:
        plain, covered = texture.render(view, mesh)
        textured, covered_too = texture.render(view, atlas.mesh, uv=atlas.uv, image=atlas.image)
        both = covered & covered_too
        assert both.mean() > 0.2
        assert _psnr(textured, view.image, both) > _psnr(plain, view.image, both) + 6


def test_faces_take_the_photo_that_sees_them_and_hidden_faces_none(pavilion):
    mesh, used, _ = pavilion
    label = texture.select_views(mesh, used)
    normals = np.cross(mesh.vertices[mesh.faces[:, 1]] - mesh.vertices[mesh.faces[:, 0]],
                       mesh.vertices[mesh.faces[:, 2]] - mesh.vertices[mesh.faces[:, 0]])
    centroid = mesh.vertices[mesh.faces].mean(axis=1)
    underside = normals[:, 2] < -0.5 * np.linalg.norm(normals, axis=1)  # faces looking down: under the slab
    assert (label[underside & (centroid[:, 2] < 0)] == -1).all()
    seen = label >= 0
    facing = np.array([np.dot(normals[i], used[label[i]].centre - centroid[i]) > 0 for i in np.flatnonzero(seen)])
    assert facing.all()


def test_a_darker_photo_is_brought_to_the_others_exposure(pavilion):
    mesh, used, _ = pavilion
    dark = [replace(v, image=(v.image.astype(float) * 0.6).astype(np.uint8)) if i == 0 else v
            for i, v in enumerate(used)]
    gains = texture.exposure_gains(mesh, dark)
    others = np.delete(gains, 0, axis=0)
    assert np.allclose(gains[0] / others.mean(axis=0), 1 / 0.6, rtol=0.12)
    assert np.allclose(others, others.mean(axis=0), rtol=0.08)


def test_cameras_follow_the_model_into_the_output_frame(pavilion):
    mesh, used, left_out = pavilion
    angle = 0.7
    rotation = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    moved = Mesh(2.5 * mesh.vertices @ rotation.T + np.array([1.0, -2.0, 0.5]), mesh.faces, mesh.colors)
    view = left_out[0]
    (moved_view,) = texture.views_in_frame([view], 2.5, rotation, np.array([1.0, -2.0, 0.5]))
    before, mask = texture.render(view, mesh)
    after, mask_after = texture.render(moved_view, moved)
    assert (mask == mask_after).mean() > 0.999
    assert np.abs(before.astype(int) - after.astype(int))[mask & mask_after].mean() < 1.0


@pytest.mark.parametrize("compression", ["none", "draco", "meshopt"])
@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_a_textured_glb_carries_its_atlas_and_reads_back_with_its_colours(pavilion, tmp_path, compression, fmt):
    import json
    import struct

    from heritage3d.synthetic import texture_rgb

    mesh, used, _ = pavilion
    atlas = texture.bake(mesh, used, 512)
    data, mime = gltf.encode_texture(atlas.image, fmt=fmt)
    assert (data[:3] == b"\xff\xd8\xff" and mime == "image/jpeg") if fmt == "jpeg" else \
        (data[:4] == b"RIFF" and data[8:12] == b"WEBP" and mime == "image/webp")
    path = tmp_path / f"{compression}.glb"
    size = gltf.write_glb(atlas.mesh, path, compression=compression, texture=gltf.Texture(atlas.uv, data, mime))
    raw = path.read_bytes()
    assert size == len(raw)
    doc = json.loads(raw[20:20 + struct.unpack_from("<I", raw, 12)[0]])
    assert doc["images"][0]["mimeType"] == mime and doc["textures"] and doc["samplers"]
    assert ("EXT_texture_webp" in doc.get("extensionsRequired", [])) == (fmt == "webp")
    primitive = doc["meshes"][0]["primitives"][0]
    assert "TEXCOORD_0" in primitive["attributes"] and "COLOR_0" not in primitive["attributes"]
    assert "KHR_materials_unlit" in doc["extensionsUsed"]
    back = gltf.read_glb(path)
    seen = back.colors.astype(float)
    truth = texture_rgb(back.vertices).astype(float)
    # the vertices' colours sampled from the atlas are the pattern's, far closer than chance
    assert np.abs(seen - truth).mean() < 0.6 * np.abs(np.roll(truth, 7, axis=0) - truth).mean()


def test_a_model_no_photo_sees_gets_its_vertex_colours_in_the_atlas(pavilion):
    mesh, used, _ = pavilion
    away = [replace(v, translation=v.translation + np.array([0.0, 0.0, -50.0])) for v in used]  # behind the cameras
    atlas = texture.bake(mesh, away, 512)
    assert atlas.seen_fraction == 0.0
    assert len(np.unique(atlas.uv.round(4), axis=0)) >= len(mesh.faces) * 0.9  # a block per face
    sampled = atlas.image[(atlas.uv[:, 1] * 512).astype(int).clip(0, 511), (atlas.uv[:, 0] * 512).astype(int).clip(0, 511)]
    assert np.abs(sampled.astype(int) - atlas.mesh.colors.astype(int)).mean() < 40


def test_no_photos_is_a_clear_refusal(pavilion):
    mesh, _, _ = pavilion
    with pytest.raises(texture.TextureError, match="no photos"):
        texture.bake(mesh, [], 512)


def test_face_neighbours_join_faces_across_shared_edges():
    faces = np.array([[0, 1, 2], [2, 1, 3], [3, 1, 4]])
    nb = texture.face_neighbours(faces)
    # edge j runs from corner j to corner j + 1: edge 1–2 of face 0 is edge 2–1 of face 1, and so on
    assert nb.tolist() == [[-1, 1, -1], [0, 2, -1], [1, -1, -1]]
    fan = np.array([[0, 1, 2], [0, 2, 1], [0, 1, 3]])  # edge 0–1 shared by three faces: joins none
    nb = texture.face_neighbours(fan)
    assert (nb[0, 0], nb[1, 2], nb[2, 0]) == (-1, -1, -1) and nb[1, 0] == 0


def _seam_mismatch(atlas: texture.Atlas) -> float:
    """Mean colour difference between the copies of a vertex on a seam between two photos' patches."""
    used = np.zeros(len(atlas.uv), bool)
    used[atlas.mesh.faces[atlas.textured].ravel()] = True
    a, b = texture.seam_pairs(atlas.original, used)
    assert len(a) > 200
    colour = texture._sample(atlas.image, atlas.uv)
    return float(np.abs(colour[a] - colour[b]).mean())


def test_seams_between_photos_of_different_brightness_are_levelled(pavilion):
    mesh, used, _ = pavilion
    # every other photo 40 levels brighter (an offset, which no exposure gain undoes); gains left at 1
    uneven = [replace(v, image=np.clip(v.image.astype(int) + 40 * (i % 2), 0, 255).astype(np.uint8))
              for i, v in enumerate(used)]
    ones = np.ones((len(used), 3))
    raw = texture.bake(mesh, uneven, 1024, gains=ones, level=False)
    levelled = texture.bake(mesh, uneven, 1024, gains=ones)
    assert _seam_mismatch(raw) > 15  # half the seams join a brighter photo to a darker one
    assert _seam_mismatch(levelled) < 0.3 * _seam_mismatch(raw)
    # offsets, not new pictures: the texels change by about half the step between the photos, not more
    changed = np.abs(levelled.image.astype(int) - raw.image.astype(int)).mean(axis=2)
    assert changed[raw.image.max(axis=2) > 0].mean() < 30


@pytest.mark.parametrize("settings, named", [
    ({"level_texture_px": (("high", 5000),)}, "power of two"),
    ({"level_texture_px": (("high", 16384),)}, "power of two from 256 to 8192"),
    ({"level_texture_px": (("mobile", 4096),)}, "mobile level's texture may be at most 2048"),
    ({"texture_quality": 100}, "texture quality"),
    ({"texture_format": "ktx2"}, "texture format must be one of webp, jpeg"),
])
def test_texture_settings_beyond_the_limits_are_refused_by_name(settings, named):
    from heritage3d.pipeline import BuildOptions

    with pytest.raises(ValueError, match=named):
        BuildOptions(**settings)


def test_levels_published_from_photos_that_miss_half_the_surface_say_so(pavilion, tmp_path):
    import json

    from heritage3d.pipeline import BuildOptions, _publish
    from heritage3d.report import BuildReport

    mesh, used, _ = pavilion
    report = BuildReport(input_kind="photos", pipeline_version="test", options={})
    options = BuildOptions(level_faces=(("high", 60_000), ("mobile", 20_000)),
                           level_texture_px=(("high", 1024), ("mobile", 512)))
    _publish(mesh, tmp_path / "out", options, report, lambda stage, fraction: None, views=used)
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [(lv["name"], lv["texture_px"]) for lv in saved["levels"]] == [("high", 1024), ("mobile", 512)]
    assert all(0.3 < lv["texture_seen"] < 0.8 for lv in saved["levels"])
    assert sum("seen by no photo" in w for w in saved["warnings"]) == 1
    back = gltf.read_glb(tmp_path / "out" / "mobile.glb")
    assert len(back.faces) <= 20_000 and back.colors.std() > 20


@pytest.mark.slow
def test_the_command_line_builds_vertex_colours_only_when_asked(tmp_path):
    import json

    from click.testing import CliRunner
    from PIL import Image

    from console import main
    from heritage3d.synthetic import make_scene

    photos = tmp_path / "photos"
    photos.mkdir()
    scene = make_scene(16)
    for i, view in enumerate(scene.views):
        Image.fromarray(view.image).save(photos / f"{i:04d}.jpg", quality=92)
    np.savetxt(tmp_path / "K.txt", scene.views[0].K)
    result = CliRunner().invoke(main, ["model", "build", str(photos), "--out", str(tmp_path / "out"),
                                       "--intrinsics", str(tmp_path / "K.txt"), "--no-texture"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["images_registered"] == 16 and report["options"]["texture"] is False
    assert all(lv["texture_px"] is None for lv in report["levels"])
    glb = (tmp_path / "out" / "mobile.glb").read_bytes()
    doc = json.loads(glb[20:20 + int.from_bytes(glb[12:16], "little")])
    assert "images" not in doc and "COLOR_0" in doc["meshes"][0]["primitives"][0]["attributes"]
