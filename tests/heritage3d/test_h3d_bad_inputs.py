"""Bad input: a clear heritage3d error, and nothing published."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from heritage3d import errors
from heritage3d.pipeline import BuildOptions, build_model


def _build(tmp_path, inputs):
    return build_model(inputs, out_dir=tmp_path / "out", work_dir=tmp_path / "w", options=BuildOptions())


def _noise_photos(folder, n, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir()
    paths = []
    for i in range(n):
        p = folder / f"{i}.jpg"
        Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    return paths


def test_too_few_photos(tmp_path):
    with pytest.raises(errors.InputError, match="at least"):
        _build(tmp_path, _noise_photos(tmp_path / "p", 2))
    assert not (tmp_path / "out").exists()


def test_corrupt_photo(tmp_path):
    paths = _noise_photos(tmp_path / "p", 4)
    paths[2].write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(errors.CorruptImageError, match="2.jpg"):
        _build(tmp_path, paths)


def test_photos_that_do_not_overlap_publish_nothing(tmp_path):
    paths = _noise_photos(tmp_path / "p", 5)
    with pytest.raises(errors.ReconstructionError, match="overlap"):
        _build(tmp_path, paths)
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_absurd_ply_vertex_count(tmp_path):
    p = tmp_path / "huge.ply"
    p.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 4000000000\nproperty float x\n"
                  b"property float y\nproperty float z\nend_header\n" + b"\0" * 120)
    with pytest.raises(errors.CorruptGeometryError, match="cannot hold"):
        _build(tmp_path, [p])


def test_nan_coordinates(tmp_path):
    pts = np.random.default_rng(0).random((500, 3))
    pts[10, 1] = np.nan
    np.savetxt(tmp_path / "c.xyz", pts)
    with pytest.raises(errors.CorruptGeometryError, match="NaN"):
        _build(tmp_path, [tmp_path / "c.xyz"])


def test_out_of_range_face_index(tmp_path):
    (tmp_path / "m.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\nf 1 2 9\n")
    with pytest.raises(errors.CorruptGeometryError):
        _build(tmp_path, [tmp_path / "m.obj"])


def test_corrupt_glb(tmp_path):
    (tmp_path / "m.glb").write_bytes(b"glTF\x02\x00\x00\x00\xff\xff\x00\x00garbage")
    with pytest.raises(errors.CorruptGeometryError, match="GLB"):
        _build(tmp_path, [tmp_path / "m.glb"])


def test_bad_intrinsics_file(tmp_path):
    from heritage3d.pipeline import read_intrinsics

    (tmp_path / "K.txt").write_text("1 2 3\n")
    with pytest.raises(errors.InputError, match="3×3"):
        read_intrinsics(tmp_path / "K.txt")
