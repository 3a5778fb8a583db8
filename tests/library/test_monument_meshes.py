"""A curator uploads a mesh made elsewhere with its material file and textures
(several images among them): the catalogue keeps their names so the OBJ finds its
MTL and the MTL its texture, and the published model carries the texture's colours."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from heritage3d.gltf import read_glb
from library.access import Actor
from library.errors import InputRejected
from library.monuments.service import BuildSource
from tests.heritage3d.test_h3d_obj import expected_colours, write_obj

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)


def test_an_obj_with_its_mtl_and_texture_is_published_coloured(platform, tmp_path):
    obj = write_obj(tmp_path / "roof", texture_name="wall.png")
    Image.new("RGB", (64, 64), (0, 0, 0)).save(tmp_path / "roof" / "decoy.png")  # a second image: names must matter
    m = platform.monuments.create_monument(name_vi="Mái ngói Khuê Văn Các", actor=SYSTEM)
    uploads = [BuildSource(obj.parent / name, name) for name in ("roof.obj", "roof.mtl", "decoy.png", "wall.png")]
    v = platform.monuments.submit_build(m.id, uploads, title="Mái ngói", actor=SYSTEM)
    assert v.input_kind == "mesh"
    assert platform.monuments.build(v.id).value == "done", platform.monuments.version(v.id).status_reason
    published = platform.monuments.published(m.id)[0]
    mesh = read_glb(platform.monuments.model_file(published.version_id, published.levels[0][1]))
    error = np.abs(mesh.colors.astype(float) - expected_colours(mesh)).mean()
    assert error < 12, f"the texture's colours did not reach the model (mean error {error:.1f} of 255)"


def test_two_companions_with_one_name_are_refused(platform, tmp_path):
    obj = write_obj(tmp_path / "roof", texture_name="wall.png")
    m = platform.monuments.create_monument(name_vi="Mái ngói", actor=SYSTEM)
    uploads = [BuildSource(obj, "roof.obj"), BuildSource(obj.parent / "roof.mtl", "roof.mtl"),
               BuildSource(obj.parent / "wall.png", "wall.png"), BuildSource(obj.parent / "wall.png", "WALL.png")]
    with pytest.raises(InputRejected, match="same name"):
        platform.monuments.submit_build(m.id, uploads, actor=SYSTEM)
    with pytest.raises(InputRejected, match="traversal|\\.\\.|path|name"):
        platform.monuments.submit_build(m.id, [BuildSource(obj, "roof.obj"),
                                               BuildSource(obj.parent / "roof.mtl", "../roof.mtl")], actor=SYSTEM)


@pytest.mark.parametrize("suffix", [".stl", ".off"])
def test_a_mesh_in_every_type_the_upload_accepts_is_built(platform, tmp_path, suffix):
    """heritage3d owns the one list of accepted types: what the upload takes, the engine builds."""
    import trimesh

    from heritage3d import inputs

    assert suffix in inputs.MESH_SUFFIXES
    path = tmp_path / f"bia{suffix}"
    trimesh.creation.box(extents=(2.0, 0.3, 1.2)).export(path)  # a stele-shaped box
    m = platform.monuments.create_monument(name_vi="Bia tiến sĩ", actor=SYSTEM)
    v = platform.monuments.submit_build(m.id, [BuildSource(path, path.name)], title="Bia", actor=SYSTEM)
    assert v.input_kind == "mesh"
    assert platform.monuments.build(v.id).value == "done", platform.monuments.version(v.id).status_reason
    published = platform.monuments.published(m.id)[0]
    mesh = read_glb(platform.monuments.model_file(published.version_id, published.levels[0][1]))
    extent = mesh.vertices.max(0) - mesh.vertices.min(0)
    assert sorted(np.round(extent, 2)) == [0.3, 1.2, 2.0]


def test_a_type_the_engine_cannot_read_is_refused_at_upload(platform, tmp_path):
    path = tmp_path / "scan.pts"
    path.write_text("3\n0 0 0\n1 0 0\n0 1 0\n")
    m = platform.monuments.create_monument(name_vi="Khuê Văn Các", actor=SYSTEM)
    with pytest.raises(InputRejected) as refused:
        platform.monuments.submit_build(m.id, [BuildSource(path, path.name)], actor=SYSTEM)
    assert "scan.pts" in str(refused.value)
    assert platform.monuments.models(m.id) == []  # nothing was stored for the refused upload
