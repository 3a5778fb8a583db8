"""LAS/LAZ point clouds (laspy with the lazrs backend): real files written by laspy, read with their
colours, and every way a file can lie refused with the reason before anything is allocated."""

from __future__ import annotations

import struct

import laspy
import numpy as np
import pytest

from heritage3d import errors
from heritage3d.gltf import read_glb
from heritage3d.inputs import read_las
from heritage3d.pipeline import BuildOptions, build_model
from heritage3d.synthetic import texture_rgb

# byte offsets in a LAS 1.2 public header block
LEGACY_POINT_COUNT = 107
X_SCALE = 131


def write_las(path, points, colors=None, *, point_format=3, sixteen_bit=True):
    header = laspy.LasHeader(point_format=point_format, version="1.2")
    header.scales = np.array([0.0001, 0.0001, 0.0001])
    header.offsets = points.min(0)
    las = laspy.LasData(header)
    las.x, las.y, las.z = points[:, 0], points[:, 1], points[:, 2]
    if colors is not None:
        c = colors.astype(np.uint16) * (257 if sixteen_bit else 1)
        las.red, las.green, las.blue = c[:, 0], c[:, 1], c[:, 2]
    las.write(path)  # .laz compresses through lazrs
    return path


def sphere(n=20_000, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.normal(size=(n, 3))
    return p / np.linalg.norm(p, axis=1, keepdims=True) + [500_000.0, 2_300_000.0, 12.0]  # UTM-like offsets


@pytest.mark.parametrize("suffix", [".las", ".laz"])
@pytest.mark.parametrize("sixteen_bit", [True, False])
def test_las_and_laz_are_read_with_their_colours(tmp_path, suffix, sixteen_bit):
    pts = sphere()
    cols = texture_rgb(pts - pts.mean(0))
    path = write_las(tmp_path / f"cloud{suffix}", pts, cols, sixteen_bit=sixteen_bit)
    got, got_cols = read_las(path)
    assert np.abs(got - pts).max() < 1e-4  # the file's 0.1 mm grid
    assert np.array_equal(got_cols, cols)
    with laspy.open(path) as r:
        assert r.header.are_points_compressed == (suffix == ".laz")


def test_a_cloud_without_colour_fields_is_grey(tmp_path):
    got, got_cols = read_las(write_las(tmp_path / "plain.laz", sphere(), point_format=1))
    assert len(got) == 20_000 and got_cols is None


def test_a_laz_cloud_is_built_into_a_coloured_model(tmp_path, synthetic_scene):
    pts = synthetic_scene.surface_points[::5]
    cols = texture_rgb(pts)
    path = write_las(tmp_path / "pavilion.laz", pts, cols)
    report = build_model([path], out_dir=tmp_path / "out", work_dir=tmp_path / "w",
                         options=BuildOptions(level_faces=(("mobile", 30_000),)))
    assert report.input_kind == "point_cloud" and report.levels[0].faces > 5_000
    mobile = read_glb(tmp_path / "out" / "mobile.glb")
    assert mobile.colors.std() > 10  # the cloud's colours, not the default grey


def _patched(src, dst, offset, fmt, value):
    data = bytearray(src.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    dst.write_bytes(bytes(data))
    return dst


@pytest.mark.parametrize("suffix", [".las", ".laz"])
def test_an_absurd_declared_count_is_refused_before_reading(tmp_path, suffix):
    good = write_las(tmp_path / f"good{suffix}", sphere(2000))
    bad = _patched(good, tmp_path / f"bad{suffix}", LEGACY_POINT_COUNT, "<I", 4_000_000_000)
    with pytest.raises(errors.CorruptGeometryError, match="4,000,000,000 points"):
        read_las(bad)


@pytest.mark.parametrize("suffix", [".las", ".laz"])
def test_a_count_the_file_cannot_hold_is_refused(tmp_path, suffix):
    good = write_las(tmp_path / f"good{suffix}", sphere(2000))
    bad = _patched(good, tmp_path / f"bad{suffix}", LEGACY_POINT_COUNT, "<I", 30_000_000)
    with pytest.raises(errors.CorruptGeometryError, match="30,000,000 points.*truncated or its header is wrong"):
        read_las(bad)


@pytest.mark.parametrize("suffix", [".las", ".laz"])
def test_a_truncated_file_is_refused_with_the_reason(tmp_path, suffix):
    good = write_las(tmp_path / f"good{suffix}", sphere(20_000))
    data = good.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(errors.CorruptGeometryError, match="truncated"):
        build_model([cut], out_dir=tmp_path / "out", work_dir=tmp_path / "w", options=BuildOptions())
    assert not (tmp_path / "out").exists()


def test_nan_scale_in_the_header_is_refused(tmp_path):
    good = write_las(tmp_path / "good.las", sphere(2000))
    bad = _patched(good, tmp_path / "nan.las", X_SCALE, "<d", float("nan"))
    with pytest.raises(errors.CorruptGeometryError, match="NaN"):
        read_las(bad)


def test_not_a_las_file(tmp_path):
    p = tmp_path / "fake.laz"
    p.write_bytes(b"<html>not a point cloud</html>" * 10)
    with pytest.raises(errors.CorruptGeometryError, match="not a readable LAS/LAZ"):
        read_las(p)
