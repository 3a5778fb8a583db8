"""meshopt compression through gltfpack (npm ``gltfpack``, WebAssembly, run with node) beside Draco."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import trimesh
from scipy.spatial import cKDTree

from heritage3d import errors, gltf, meshopt
from heritage3d.mesh import Mesh
from heritage3d.pipeline import BuildOptions, build_model
from heritage3d.synthetic import pavilion_mesh, texture_rgb


def pavilion(subdivide=4) -> Mesh:
    v, f = pavilion_mesh()
    m = trimesh.Trimesh(v, f, process=False)
    for _ in range(subdivide):
        m = m.subdivide()
    return Mesh(np.asarray(m.vertices), np.asarray(m.faces), texture_rgb(np.asarray(m.vertices)))


def glb_json(data: bytes) -> dict:
    jlen = struct.unpack_from("<I", data, 12)[0]
    return json.loads(data[20:20 + jlen])


def test_meshopt_glb_declares_the_extension_and_decodes_back(tmp_path):
    m = pavilion()
    data = gltf.to_glb(m, compression="meshopt")
    doc = glb_json(data)
    assert doc["asset"]["generator"].startswith("gltfpack")
    assert "EXT_meshopt_compression" in doc["extensionsRequired"]
    assert all("EXT_meshopt_compression" in bv.get("extensions", {}) for bv in doc["bufferViews"])
    (tmp_path / "m.glb").write_bytes(data)
    back = gltf.read_glb(tmp_path / "m.glb")  # decoded by gltfpack itself (-noq), then read as a plain GLB
    assert len(back.faces) == len(m.faces)
    step = (m.vertices.max(0) - m.vertices.min(0)).max() / (2 ** 14 - 1)  # 14-bit positions
    dist, idx = cKDTree(m.vertices).query(back.vertices)
    assert dist.max() <= step  # every decoded vertex is an original one (gltfpack merges duplicates)
    assert cKDTree(back.vertices).query(m.vertices)[0].max() <= step  # and every original one is there
    assert np.abs(back.colors.astype(int) - m.colors[idx].astype(int)).max() <= 1  # 8-bit colours


def test_sizes_of_the_three_compressions(tmp_path):
    m = pavilion()
    sizes = {c: len(gltf.to_glb(m, compression=c)) for c in gltf.COMPRESSIONS}
    assert sizes["draco"] < sizes["meshopt"] < sizes["none"] / 2, sizes


def test_a_build_published_with_meshopt(tmp_path):
    m = pavilion(5)
    trimesh.Trimesh(m.vertices, m.faces, vertex_colors=m.colors, process=False).export(tmp_path / "in.ply")
    report = build_model([tmp_path / "in.ply"], out_dir=tmp_path / "out", work_dir=tmp_path / "w",
                         options=BuildOptions(compression="meshopt", level_faces=(("high", 60_000), ("mobile", 20_000))))
    assert report.options["compression"] == "meshopt"
    for lv in report.levels:
        data = (tmp_path / "out" / lv.file).read_bytes()
        assert "EXT_meshopt_compression" in glb_json(data)["extensionsUsed"] and len(data) == lv.bytes
        back = gltf.read_glb(tmp_path / "out" / lv.file)
        assert len(back.faces) == lv.faces and back.colors.std() > 10


def test_missing_node_or_gltfpack_is_a_clear_error_and_publishes_nothing(tmp_path, monkeypatch):
    m = pavilion(2)
    monkeypatch.setenv("HERITAGE3D_NODE", str(tmp_path / "no-node"))
    with pytest.raises(errors.ToolError, match="meshopt compression needs node, which was not found"):
        gltf.to_glb(m, compression="meshopt")
    trimesh.Trimesh(m.vertices, m.faces, process=False).export(tmp_path / "in.ply")
    with pytest.raises(errors.ToolError, match="scripts/setup.sh"):
        build_model([tmp_path / "in.ply"], out_dir=tmp_path / "out", work_dir=tmp_path / "w",
                    options=BuildOptions(compression="meshopt"))
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.*"))
    monkeypatch.delenv("HERITAGE3D_NODE")
    monkeypatch.setenv("HERITAGE3D_GLTFPACK", str(tmp_path / "node_modules" / "gltfpack" / "cli.js"))
    with pytest.raises(errors.ToolError, match="needs gltfpack, which is not installed"):
        gltf.to_glb(m, compression="meshopt")


def test_gltfpack_is_the_pinned_version():
    assert meshopt.version() == "gltfpack 1.3"
    lock = json.loads((meshopt.NODE_DIR / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/gltfpack"]["version"] == "1.3.0"


def test_an_unknown_compression_is_refused():
    with pytest.raises(ValueError, match="draco, meshopt, none"):
        BuildOptions(compression="zip")
    assert BuildOptions(draco=False).codec == "none"  # settings saved before `compression` existed


def test_a_broken_meshopt_glb_is_a_corrupt_geometry_error(tmp_path):
    data = bytearray(gltf.to_glb(pavilion(2), compression="meshopt"))
    jlen = struct.unpack_from("<I", data, 12)[0]
    data[28 + jlen + 40:28 + jlen + 400] = b"\xff" * 360  # scramble the compressed vertex stream
    (tmp_path / "bad.glb").write_bytes(bytes(data))
    with pytest.raises(errors.CorruptGeometryError, match="bad.glb"):
        gltf.read_glb(tmp_path / "bad.glb")


def test_command_line_compression_choice(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from console import main

    m = pavilion(3)
    trimesh.Trimesh(m.vertices, m.faces, vertex_colors=m.colors, process=False).export(tmp_path / "in.ply")
    monkeypatch.setenv("HERITAGE_DATA_DIR", str(tmp_path / "data"))
    ok = CliRunner().invoke(main, ["model", "build", str(tmp_path / "in.ply"), "--out", str(tmp_path / "out"),
                                   "--compression", "meshopt"])
    assert ok.exit_code == 0, ok.output
    assert "EXT_meshopt_compression" in glb_json((tmp_path / "out" / "mobile.glb").read_bytes())["extensionsUsed"]
    bad = CliRunner().invoke(main, ["model", "build", str(tmp_path / "in.ply"), "--out", str(tmp_path / "o2"),
                                    "--compression", "brotli"])
    assert bad.exit_code == 2 and "brotli" in bad.output and not (tmp_path / "o2").exists()
