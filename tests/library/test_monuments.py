"""Monuments and their 3D builds in the catalogue: validation, versions, cancel and retry, roles."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from library.access import Actor
from library.errors import Conflict, InputRejected, PermissionDenied
from library.catalogue.models import BuildStatus, StoredFile
from library.monuments.service import BuildSource

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)


def photo(path, seed):
    img = Image.new("RGB", (320, 240), (seed * 40 % 255, 120, 200))
    img.paste((10, 10, 10), (20 + seed * 5, 30, 120, 90))
    img.save(path, "JPEG", quality=90)
    return path


@pytest.fixture
def van_mieu(platform):
    return platform.monuments.create_monument(
        name_vi="Văn Miếu – Quốc Tử Giám", name_en="Temple of Literature",
        description_vi="Văn Miếu được xây dựng năm 1070 dưới triều vua Lý Thánh Tông.",
        description_en="Founded in 1070 under Emperor Lý Thánh Tông.", lat=21.0285, lon=105.8355,
        period="nhà Lý", year_start=1070, heritage_rank="special_national", address="58 Quốc Tử Giám, Đống Đa", actor=SYSTEM)


def test_monument_is_created_and_searchable(platform, van_mieu):
    from search import SearchRequest

    assert van_mieu.slug == "van-mieu-quoc-tu-giam"
    with pytest.raises(Conflict):
        platform.monuments.create_monument(name_vi="Văn Miếu – Quốc Tử Giám", actor=SYSTEM)
    with pytest.raises(InputRejected, match="name_vi.*markup"):
        platform.monuments.create_monument(name_vi="<script>alert(1)</script>", actor=SYSTEM)
    with pytest.raises(InputRejected, match="WGS 84"):
        platform.monuments.create_monument(name_vi="Chùa Một Cột", lat=210.0, lon=105.8, actor=SYSTEM)
    with pytest.raises(InputRejected, match="heritage_rank"):
        platform.monuments.create_monument(name_vi="Chùa Một Cột", heritage_rank="famous", actor=SYSTEM)
    # found at once: the unit of work sent the new monument to search when it committed
    assert platform.indexer.flush().monuments == 0
    res = platform.indexer.engine.search(SearchRequest(access_levels=("public",), query="Temple of Literature", kinds=["monument"]))
    assert [h.id for h in res.hits] == [f"monument:{van_mieu.id}"]
    assert platform.indexer.engine.search(SearchRequest(access_levels=("public",), query="van mieu", kinds=["monument"])).total == 1


def test_builds_are_versions_with_their_sources_kept(platform, van_mieu, tmp_path):
    photos = [BuildSource(photo(tmp_path / f"khue-van-cac-{n}.jpg", n), f"khue-van-cac-{n}.jpg") for n in range(3)]
    with pytest.raises(InputRejected, match="too few"):
        platform.monuments.submit_build(van_mieu.id, photos[:2], actor=SYSTEM)
    ply = tmp_path / "cloud.ply"
    ply.write_text("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
                   "property float z\nend_header\n0 0 0\n")
    with pytest.raises(InputRejected, match="not a mix"):
        platform.monuments.submit_build(van_mieu.id, photos + [BuildSource(ply, "cloud.ply")], actor=SYSTEM)

    v1 = platform.monuments.submit_build(van_mieu.id, photos, title="Khuê Văn Các", licence="CC BY 4.0",
                                         settings={"sparse_max_image_px": 1600}, actor=SYSTEM)
    assert (v1.number, v1.status, v1.input_kind) == (1, BuildStatus.queued, "photos")
    assert v1.queued_at is not None  # the build task was sent
    names = [s["name"] for s in json.loads(v1.sources)]
    assert names == ["khue-van-cac-0.jpg", "khue-van-cac-1.jpg", "khue-van-cac-2.jpg"]
    for src in json.loads(v1.sources):
        assert platform.store.original_path(src["sha256"]).read_bytes() == (tmp_path / src["name"]).read_bytes()
    v2 = platform.monuments.submit_build(van_mieu.id, [BuildSource(ply, "cloud.ply")], model_id=v1.model_id, actor=SYSTEM)
    assert (v2.number, v2.input_kind, v2.model_id) == (2, "point_cloud", v1.model_id)
    with platform.sessions() as s:
        assert s.get(StoredFile, json.loads(v2.sources)[0]["sha256"]).original_name == "cloud.ply"

    cancelled = platform.monuments.cancel(v1.id, actor=SYSTEM)
    assert cancelled.status == BuildStatus.cancelled and "before it started" in cancelled.status_reason
    with pytest.raises(Conflict):
        platform.monuments.cancel(v1.id, actor=SYSTEM)
    again = platform.monuments.retry(v1.id, actor=SYSTEM)
    assert again.status == BuildStatus.queued and again.cancel_requested is False


def test_hostile_or_empty_3d_files_are_refused(platform, van_mieu, tmp_path):
    empty = tmp_path / "empty.glb"
    empty.write_bytes(b"")
    with pytest.raises(InputRejected, match="empty"):
        platform.monuments.submit_build(van_mieu.id, [BuildSource(empty, "empty.glb")], actor=SYSTEM)
    bad = tmp_path / "x.ply"
    bad.write_bytes(b"ply\n")
    with pytest.raises(InputRejected, match="control character|LINE FEED|direction"):
        platform.monuments.submit_build(van_mieu.id, [BuildSource(bad, "evil\n.ply")], actor=SYSTEM)


def test_only_curators_and_admins_manage_monuments(platform, van_mieu, tmp_path):
    librarian = platform.users.create(Actor.system("tests"), "thu.thu", "mat-khau-dai-lam", "librarian")
    curator = platform.users.create(Actor.system("tests"), "bao.tang", "mat-khau-dai-lam", "curator")
    with pytest.raises(PermissionDenied, match=r"'thu.thu' \(librarian\) may not manage monuments"):
        platform.monuments.create_monument(name_vi="Chùa Một Cột", actor=Actor.for_user(librarian))
    with pytest.raises(PermissionDenied, match="'thu.thu'"):
        platform.monuments.update_monument(van_mieu.id, name_vi="Chùa Một Cột", actor=Actor.for_user(librarian))
    photos = [BuildSource(photo(tmp_path / f"p{n}.jpg", n), f"p{n}.jpg") for n in range(3)]
    with pytest.raises(PermissionDenied, match=r"'thu.thu' \(librarian\) may not manage 3d builds"):
        platform.monuments.submit_build(van_mieu.id, photos, actor=Actor.for_user(librarian))
    # no actor, None, or a bare user is refused: nobody is trusted by default
    for bad in ({}, {"actor": None}, {"actor": curator}):
        with pytest.raises(TypeError):
            platform.monuments.create_monument(name_vi="Chùa Một Cột", **bad)
        with pytest.raises(TypeError):
            platform.monuments.update_monument(van_mieu.id, name_vi="Chùa Một Cột", **bad)
        with pytest.raises(TypeError):
            platform.monuments.submit_build(van_mieu.id, photos, **bad)
    assert [m.name_vi for m in platform.monuments.monuments()] == ["Văn Miếu – Quốc Tử Giám"]
    v = platform.monuments.submit_build(van_mieu.id, photos, actor=Actor.for_user(curator))
    assert platform.monuments.version(v.id).created_by == curator.id
    for bad in ({}, {"actor": None}):
        with pytest.raises(TypeError):
            platform.monuments.cancel(v.id, **bad)
        with pytest.raises(TypeError):
            platform.monuments.retry(v.id, **bad)
    with pytest.raises(PermissionDenied, match="'thu.thu'"):
        platform.monuments.cancel(v.id, actor=Actor.for_user(librarian))
    assert platform.monuments.cancel(v.id, actor=Actor.for_user(curator)).status == BuildStatus.cancelled


def point_cloud(path, n=4000, seed=1):
    """A coloured sphere of radius 1 m as an ASCII XYZ point cloud."""
    import numpy as np

    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(n, 3))
    pts /= np.linalg.norm(pts, axis=1, keepdims=True)
    np.savetxt(path, pts, fmt="%.5f")
    return path


@pytest.mark.slow
def test_a_build_is_published_with_its_report_or_fails_with_nothing_published(platform, van_mieu, tmp_path):
    import trimesh

    cloud = point_cloud(tmp_path / "bia.xyz")
    v = platform.monuments.submit_build(van_mieu.id, [BuildSource(cloud, "bia.xyz")], title="Bia tiến sĩ",
                                        settings={"draco": False}, actor=SYSTEM)
    assert platform.monuments.build(v.id) == BuildStatus.done
    done = platform.monuments.version(v.id)
    assert done.status == BuildStatus.done and done.stage == "published" and done.progress == 1.0
    report = json.loads(done.report)
    assert report["input_kind"] == "point_cloud" and [lv["name"] for lv in report["levels"]]
    out = platform.store.resolve(done.output_relpath)
    mobile = next(lv for lv in report["levels"] if lv["name"] == "mobile")
    glb = out / mobile["file"]
    assert glb.is_file() and glb.stat().st_size <= 1_000_000
    mesh = trimesh.load(glb, force="mesh")
    extent = mesh.bounds[1] - mesh.bounds[0]
    assert len(mesh.faces) > 100 and all(1.5 < e < 2.5 for e in extent)  # the sphere, 2 m across
    assert (out / "report.json").is_file()
    with platform.sessions() as s:
        from library.catalogue.models import Monument

        assert s.get(Monument, van_mieu.id).index_pending  # the monument's entry will show its model

    broken = tmp_path / "broken.ply"
    broken.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 4000000000\nproperty float x\n"
                       b"property float y\nproperty float z\nend_header\n\x00\x00")
    with pytest.raises(InputRejected) as refused:  # refused at the upload, before anything is stored
        platform.monuments.submit_build(van_mieu.id, [BuildSource(broken, "broken.ply")], actor=SYSTEM)
    assert "4000000000" in str(refused.value).replace(",", "")
    nan = tmp_path / "nan.xyz"  # a well-formed file whose coordinates are not numbers: the build fails
    nan.write_text("".join(f"{i % 97} {i // 97} {(i * 7) % 13} \n" for i in range(5000)) + "nan nan nan\n")
    bad = platform.monuments.submit_build(van_mieu.id, [BuildSource(nan, "nan.xyz")], actor=SYSTEM)
    assert platform.monuments.build(bad.id) == BuildStatus.failed
    failed = platform.monuments.version(bad.id)
    assert failed.status_reason and "nan" in failed.status_reason.lower()
    assert failed.output_relpath is None and not platform.store.resolve(f"derivatives/models/{bad.id}").exists()


@pytest.mark.slow
def test_a_running_build_stops_when_cancelled(platform, van_mieu, tmp_path):
    from sqlalchemy import update

    from library.catalogue.models import ModelVersion

    v = platform.monuments.submit_build(van_mieu.id, [BuildSource(point_cloud(tmp_path / "c.xyz"), "c.xyz")], actor=SYSTEM)
    with platform.sessions.begin() as s:  # the curator presses cancel while the build runs
        s.execute(update(ModelVersion).where(ModelVersion.id == v.id).values(cancel_requested=True))
    assert platform.monuments.build(v.id) == BuildStatus.cancelled
    got = platform.monuments.version(v.id)
    assert got.status == BuildStatus.cancelled and got.status_reason.startswith("cancelled during")
    assert got.output_relpath is None


@pytest.mark.slow
def test_a_photo_build_in_the_catalogue_takes_the_curators_known_distance(tmp_path, shared_data):
    # one catalogue is enough here: the database plays no part in the half minute of reconstruction
    from library.container import build_platform
    from tests.conftest import make_settings

    platform = build_platform(make_settings(tmp_path / "data"))
    monument = platform.monuments.create_monument(name_vi="Giếng Thiên Quang", actor=SYSTEM)
    images = sorted((shared_data / "photogrammetry" / "fountain-p11" / "images").glob("*.jpg"))
    v = platform.monuments.submit_build(monument.id, [BuildSource(p, p.name) for p in images],
                                        settings={"known_distance": ["0000.jpg", "0010.jpg", 4.0]}, actor=SYSTEM)
    assert platform.monuments.build(v.id) == BuildStatus.done, platform.monuments.version(v.id).status_reason
    report = json.loads(platform.monuments.version(v.id).report)
    assert report["images_registered"] == 11 and report["metric_scale"] and report["scale_source"] == "known_distance"
    platform.close()
