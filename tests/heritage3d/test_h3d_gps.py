"""Metric scale, up and north from the photos' EXIF GPS.

The shared photo sets carry no GPS, so the tests write it: copies of the fountain-P11 photos get
GPS EXIF (piexif, inserted without re-encoding the pixels) computed from the surveyed camera centres
placed at Văn Miếu (21.0293 N, 105.8356 E), turned by a known heading, with the survey's own up
(its -z: every camera's image "down" is +z) made the local vertical. The build must find the survey's
size and vertical from that GPS alone.
"""

from __future__ import annotations

import math
import shutil

import numpy as np
import piexif
import pytest

from conftest import photo_set
from heritage3d import geo
from heritage3d.alignment import umeyama
from heritage3d.pipeline import BuildOptions, build_model, read_intrinsics

VAN_MIEU = (21.0293, 105.8356, 14.0)  # latitude, longitude, ground altitude (m)
HEADING_DEG = 35.0  # the survey's x axis points 35° north of east


def _survey_to_enu() -> np.ndarray:
    flip = np.diag([1.0, -1.0, -1.0])  # survey up is -z: turn it to +z (a proper rotation about x)
    a = math.radians(HEADING_DEG)
    yaw = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    return yaw @ flip


SURVEY_TO_ENU = _survey_to_enu()


def survey(names):
    """Surveyed camera centres (n, 3) and rotations (n, 3, 3) camera → world, from the Strecha files."""
    d = photo_set("fountain-p11") / "gt_cameras"
    raw = [np.array((d / f"{n}.camera").read_text().split(), float) for n in names]
    return np.array([r[21:24] for r in raw]), np.array([r[12:21].reshape(3, 3) for r in raw])


def local_to_geodetic(enu: np.ndarray, origin=VAN_MIEU) -> np.ndarray:
    """Small-area conversion (meridian and prime-vertical radii of WGS 84), independent of heritage3d.geo."""
    lat0, lon0, alt0 = origin
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    s = math.sin(math.radians(lat0))
    m = a * (1 - e2) / (1 - e2 * s * s) ** 1.5
    n = a / math.sqrt(1 - e2 * s * s)
    lat = lat0 + np.degrees(enu[:, 1] / m)
    lon = lon0 + np.degrees(enu[:, 0] / (n * math.cos(math.radians(lat0))))
    return np.stack([lat, lon, alt0 + enu[:, 2]], 1)


def _rational(x: float, denominator: int) -> tuple[int, int]:
    return int(round(x * denominator)), denominator


def gps_exif(lat: float, lon: float, alt: float | None, accuracy_m: float | None) -> bytes:
    def dms(v):
        v = abs(v)
        d = int(v)
        m = int((v - d) * 60)
        return ((d, 1), (m, 1), _rational((v - d - m / 60) * 3600, 1_000_000))

    gps = {piexif.GPSIFD.GPSVersionID: (2, 3, 0, 0),
           piexif.GPSIFD.GPSLatitudeRef: b"N" if lat >= 0 else b"S", piexif.GPSIFD.GPSLatitude: dms(lat),
           piexif.GPSIFD.GPSLongitudeRef: b"E" if lon >= 0 else b"W", piexif.GPSIFD.GPSLongitude: dms(lon)}
    if alt is not None:
        gps[piexif.GPSIFD.GPSAltitudeRef] = 0
        gps[piexif.GPSIFD.GPSAltitude] = _rational(alt, 1000)
    if accuracy_m is not None:
        gps[piexif.GPSIFD.GPSHPositioningError] = _rational(accuracy_m, 1000)
    return piexif.dump({"0th": {}, "Exif": {}, "GPS": gps, "1st": {}, "thumbnail": None})


def tagged_copy(folder, fixes: dict, *, accuracy_m=0.02):
    """fountain-P11 photos copied into ``folder`` with GPS EXIF; ``fixes``: name → (lat, lon, alt) or raw EXIF bytes."""
    images = photo_set("fountain-p11") / "images"
    folder.mkdir()
    for p in sorted(images.glob("*.jpg")):
        shutil.copy(p, folder / p.name)
        fix = fixes.get(p.name)
        if isinstance(fix, bytes):
            piexif.insert(fix, str(folder / p.name))
        elif fix is not None:
            piexif.insert(gps_exif(*fix, accuracy_m), str(folder / p.name))
    return folder


def surveyed_fixes(noise_m=0.01, outlier=None, seed=3):
    names = [f"{i:04d}.jpg" for i in range(11)]
    centres, _ = survey(names)
    enu = centres @ SURVEY_TO_ENU.T + [0, 0, 1.6]  # cameras held 1.6 m above the ground
    enu += np.random.default_rng(seed).normal(0, noise_m, enu.shape)
    if outlier:
        enu[names.index(outlier)] += [30.0, 0, 0]  # a GPS jump (multipath between buildings)
    return {n: tuple(g) for n, g in zip(names, local_to_geodetic(enu))}


@pytest.fixture(scope="module")
def gps_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("gps")
    fixes = surveyed_fixes(outlier="0005.jpg")
    exif = piexif.load(gps_exif(*fixes["0003.jpg"], 0.02))  # photo 0003's latitude minutes become 0/0: NaN
    exif["GPS"][piexif.GPSIFD.GPSLatitude] = ((21, 1), (0, 0), (0, 1))
    fixes["0003.jpg"] = piexif.dump(exif)
    photos = tagged_copy(root / "photos", fixes)
    images = photo_set("fountain-p11") / "images"
    opts = BuildOptions(intrinsics=read_intrinsics(images / "K.txt"))
    report = build_model([photos], out_dir=root / "out", work_dir=root / "work", options=opts)
    return root, report, opts


def _truth_in_model_frame(report):
    """Survey similarity of the model (from the reported cameras): survey = s R model + t."""
    names = [c["name"] for c in report.cameras]
    centres = np.array([c["centre"] for c in report.cameras])
    truth, _ = survey(names)
    return umeyama(centres, truth)


def test_gps_gives_metric_scale_up_and_north(gps_build):
    root, report, _ = gps_build
    assert report.scale_source == "gps" and report.metric_scale and report.up_source == "gps"
    s_true, R_true, _ = _truth_in_model_frame(report)
    scale = report.model_frame_to_output["scale"]
    assert abs(scale / s_true - 1) < 0.02, (scale, s_true)  # the survey's size within 2 %
    R_out = np.array(report.model_frame_to_output["rotation"])  # model → output (x east, y up, z south)
    up_model = R_out.T @ [0, 1, 0]
    up_truth = R_true.T @ [0, 0, -1.0]  # the survey's up, in the model frame
    assert math.degrees(math.acos(np.clip(up_model @ up_truth, -1, 1))) < 2.0
    east_truth = R_true.T @ (SURVEY_TO_ENU.T @ [1.0, 0, 0])
    assert math.degrees(math.acos(np.clip((R_out.T @ [1.0, 0, 0]) @ east_truth, -1, 1))) < 2.0
    gps = report.gps
    assert gps["outliers"] == ["0005.jpg"] and gps["photos_used"] == 9 and gps["photos_with_gps"] == 10
    assert report.scale_residual_m is not None and report.scale_residual_m < 0.1
    assert any("0003.jpg" in w and "NaN" in w for w in report.warnings)
    geo_ref = report.georeference
    assert abs(geo_ref["latitude"] - VAN_MIEU[0]) < 3e-4 and abs(geo_ref["longitude"] - VAN_MIEU[1]) < 3e-4
    saved = (root / "out" / "report.json").read_text()
    assert '"scale_source": "gps"' in saved and '"up_source": "gps"' in saved


def _rebuild(gps_build, name, fixes, tmp_path, **kw):
    root, _, opts = gps_build
    shutil.copytree(root / "work", tmp_path / "work")  # the sparse and dense stages resume
    photos = tagged_copy(tmp_path / name, fixes, **{k: v for k, v in kw.items() if k == "accuracy_m"})
    options = BuildOptions(**{**opts.as_dict(), **{k: v for k, v in kw.items() if k != "accuracy_m"}})
    return build_model([photos], out_dir=tmp_path / "out", work_dir=tmp_path / "work", options=options)


def test_gps_all_at_one_spot_is_refused_with_a_warning(gps_build, tmp_path):
    spot = {f"{i:04d}.jpg": VAN_MIEU for i in range(11)}
    report = _rebuild(gps_build, "one_spot", spot, tmp_path)
    assert report.scale_source == "none" and not report.metric_scale and report.up_source == "cameras"
    assert any("GPS not used" in w and "at one spot" in w for w in report.warnings), report.warnings
    assert report.model_frame_to_output["scale"] == 1.0 and report.georeference is None


def test_phone_grade_gps_over_a_small_baseline_is_refused(gps_build, tmp_path):
    """The same positions without a declared accuracy are judged as a phone's (±5 m): the 15 m walk is too short."""
    report = _rebuild(gps_build, "phone", surveyed_fixes(noise_m=0.0), tmp_path, accuracy_m=None)
    assert report.scale_source == "none"
    assert any("GPS not used" in w and "error of about 5 m" in w and "uncertain by" in w for w in report.warnings), \
        report.warnings


def test_known_distance_wins_over_gps(gps_build, tmp_path):
    names = ["0000.jpg", "0010.jpg"]
    truth, _ = survey(names)
    metres = float(np.linalg.norm(truth[0] - truth[1]))
    report = _rebuild(gps_build, "both", surveyed_fixes(), tmp_path, known_distance=(*names, metres))
    assert report.scale_source == "known_distance" and report.up_source == "gps"
    assert abs(report.gps["scale_vs_known_distance"] - 1) < 0.02
    s_true, _, _ = _truth_in_model_frame(report)
    assert abs(report.model_frame_to_output["scale"] / s_true - 1) < 0.02


# ------------------------------------------------------------ the alignment on its own (fast)


def _ring(n=12, radius=15.0, height_jitter=0.0, seed=0):
    rng = np.random.default_rng(seed)
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([radius * np.cos(a), radius * np.sin(a), 1.6 + rng.normal(0, height_jitter, n)], 1)


def _fixes(enu, accuracy=None):
    g = local_to_geodetic(enu)
    return [geo.GpsFix(la, lo, al, accuracy) for la, lo, al in g]


def _model_of(enu, scale=0.2, seed=1):
    """A model frame: the ENU positions turned, shrunk and moved; returns centres and the rotation ENU → model."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    return scale * enu @ q.T + [3, -1, 2], q


def test_alignment_recovers_scale_and_up_of_a_walk_around():
    enu = _ring(height_jitter=0.5)
    centres, q = _model_of(enu)
    g = geo.align_to_gps([f"{i}" for i in range(len(enu))], centres, _fixes(enu, 0.05), q @ [0, 0, 1.0])
    assert g.up_from_gps and abs(g.scale - 5.0) < 0.01 and not g.outliers
    assert np.allclose(g.rotation @ q, np.eye(3), atol=1e-3)


def test_alignment_takes_up_from_the_cameras_when_the_stations_are_on_a_line():
    enu = np.stack([np.linspace(0, 40, 10), np.zeros(10), np.full(10, 1.6)], 1)
    centres, q = _model_of(enu)
    g = geo.align_to_gps([f"{i}" for i in range(10)], centres, _fixes(enu, 0.5), q @ [0, 0, 1.0])
    assert not g.up_from_gps and abs(g.scale - 5.0) < 0.01
    assert np.allclose(g.rotation @ q, np.eye(3), atol=1e-3)  # north still found from the line
    assert any("up from the cameras" in n for n in g.notes)


def test_alignment_refuses_gps_that_disagrees_with_the_geometry():
    enu = _ring()
    centres, q = _model_of(enu)
    wild = enu + np.random.default_rng(5).normal(0, 40, enu.shape)  # positions unrelated to the cameras
    with pytest.raises(geo.GpsRefused, match="agree|uncertain"):
        geo.align_to_gps([f"{i}" for i in range(len(enu))], centres, _fixes(wild, 0.5), q @ [0, 0, 1.0])


def test_too_few_fixes_are_refused():
    enu = _ring(n=2)
    with pytest.raises(geo.GpsRefused, match="at least 3"):
        geo.align_to_gps(["a", "b"], enu, _fixes(enu), np.array([0, 0, 1.0]))


def test_local_frame_round_trips_through_geodetic():
    frame = geo.LocalFrame(*VAN_MIEU)
    enu = np.array([[120.0, -35.0, 4.0]])
    lat, lon, alt = local_to_geodetic(enu)[0]
    back = frame.to_enu(np.array([lat]), np.array([lon]), np.array([alt]))[0]
    assert np.allclose(back, enu[0], atol=0.01)  # the test's small-area formula and WGS 84 agree to 1 cm
    assert np.allclose(frame.to_geodetic(back), (lat, lon, alt), atol=1e-7)


def test_read_gps_rejects_nan_and_reads_south_west(tmp_path):
    from PIL import Image

    p = tmp_path / "a.jpg"
    Image.new("RGB", (8, 8)).save(p)
    piexif.insert(gps_exif(-33.5, -70.25, 520.0, None), str(p))
    fix = geo.read_gps(p)
    assert fix.lat_deg == pytest.approx(-33.5) and fix.lon_deg == pytest.approx(-70.25) and fix.alt_m == 520.0
    exif = piexif.load(str(p))
    exif["GPS"][piexif.GPSIFD.GPSLongitude] = ((0, 0), (0, 1), (0, 1))
    piexif.insert(piexif.dump(exif), str(p))
    with pytest.raises(geo.GpsUnusable, match="NaN"):
        geo.read_gps(p)
