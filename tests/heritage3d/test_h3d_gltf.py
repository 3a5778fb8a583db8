"""GLB round trips and publishing of made-elsewhere meshes and point clouds."""

from __future__ import annotations

import json

import numpy as np
import trimesh

from heritage3d import gltf
from heritage3d.mesh import Mesh
from heritage3d.pipeline import BuildOptions, build_model
from heritage3d.synthetic import pavilion_mesh, texture_rgb


def _pavilion(subdivide: int = 4) -> Mesh:
    v, f = pavilion_mesh()
    m = trimesh.Trimesh(v, f, process=False)
    for _ in range(subdivide):
        m = m.subdivide()
    return Mesh(np.asarray(m.vertices), np.asarray(m.faces), texture_rgb(np.asarray(m.vertices)))


def test_plain_glb_round_trips_through_trimesh(tmp_path):
    m = _pavilion(2)
    gltf.write_glb(m, tmp_path / "m.glb", draco=False)
    back = trimesh.load(tmp_path / "m.glb", force="mesh", process=False)
    assert len(back.faces) == len(m.faces) and len(back.vertices) == len(m.vertices)
    assert np.array_equal(np.asarray(back.visual.vertex_colors)[:, :3], m.colors)


def test_draco_glb_round_trips_and_is_small(tmp_path):
    m = _pavilion(4)
    size = gltf.write_glb(m, tmp_path / "m.glb", draco=True)
    plain = gltf.write_glb(m, tmp_path / "p.glb", draco=False)
    back = gltf.read_glb(tmp_path / "m.glb")
    assert len(back.faces) == len(m.faces)
    assert size < plain / 4
    assert np.abs(back.vertices.min(0) - m.vertices.min(0)).max() < 1e-3
    doc = json.loads((tmp_path / "m.glb").read_bytes()[20:20 + int.from_bytes((tmp_path / "m.glb").read_bytes()[12:16], "little")])
    assert doc["extensionsRequired"] == ["KHR_draco_mesh_compression"]


def test_mesh_input_is_cleaned_decimated_and_published(tmp_path):
    m = _pavilion(5)
    trimesh.Trimesh(m.vertices, m.faces, vertex_colors=m.colors, process=False).export(tmp_path / "in.ply")
    report = build_model([tmp_path / "in.ply"], out_dir=tmp_path / "out", work_dir=tmp_path / "w",
                         options=BuildOptions(level_faces=(("high", 100_000), ("mobile", 20_000))))
    assert report.input_kind == "mesh"
    assert [lv.faces <= n for lv, n in zip(report.levels, (100_000, 20_000))] == [True, True]
    assert (tmp_path / "out" / "mobile.glb").stat().st_size <= 1_000_000
    assert (tmp_path / "out" / "thumbnail.webp").exists()
    assert gltf.read_glb(tmp_path / "out" / "mobile.glb").colors.std() > 10  # the PLY's vertex colours kept


def test_plain_glb_read_back_keeps_its_vertex_colours(tmp_path):
    m = _pavilion(2)
    gltf.write_glb(m, tmp_path / "m.glb", compression="none")
    back = gltf.read_glb(tmp_path / "m.glb")
    assert np.array_equal(back.colors, m.colors) and np.allclose(back.vertices, m.vertices, atol=1e-6)


def test_point_cloud_input_is_meshed_and_published(tmp_path, synthetic_scene):
    pts = synthetic_scene.surface_points[::5]
    cols = texture_rgb(pts)
    np.savetxt(tmp_path / "cloud.xyz", np.hstack([pts, cols]), fmt="%.5f")
    report = build_model([tmp_path / "cloud.xyz"], out_dir=tmp_path / "out", work_dir=tmp_path / "w",
                         options=BuildOptions(level_faces=(("mobile", 30_000),)))
    assert report.input_kind == "point_cloud" and report.levels[0].faces > 5_000



def test_draco_extension_names_the_attributes_by_their_ids_in_the_draco_data():
    """Viewers (three.js's DRACOLoader) look attributes up by these ids: a wrong one turns colours into positions."""
    import json
    import struct

    import DracoPy
    import numpy as np
    import trimesh

    from heritage3d.gltf import to_glb
    from heritage3d.mesh import Mesh

    s = trimesh.creation.icosphere(subdivisions=2)
    v = np.asarray(s.vertices)
    data = to_glb(Mesh(v, np.asarray(s.faces), (np.abs(v) * 255).astype(np.uint8)), draco=True)
    jlen = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20:20 + jlen])
    blen = struct.unpack_from("<I", data, 20 + jlen)[0]
    decoded = DracoPy.decode(data[28 + jlen:28 + jlen + blen])
    by_id = {a["unique_id"]: a for a in decoded.attributes}
    ext = doc["meshes"][0]["primitives"][0]["extensions"]["KHR_draco_mesh_compression"]["attributes"]
    assert by_id[ext["POSITION"]]["attribute_type"] == 0  # draco POSITION
    assert by_id[ext["COLOR_0"]]["attribute_type"] == 2  # draco COLOR
    positions = np.asarray(by_id[ext["POSITION"]]["data"], dtype=float)
    assert np.allclose(np.abs(positions).max(), 1.0, atol=1e-3)
