"""Monuments and their 3D builds in the catalogue: validation, versions, cancel and retry, roles."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from library.errors import Conflict, InputRejected, PermissionDenied
from library.models import BuildStatus, StoredFile
from library.monuments import BuildSource


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
        period="nhà Lý", year_start=1070, heritage_rank="special_national", address="58 Quốc Tử Giám, Đống Đa")


def test_monument_is_created_and_searchable(platform, van_mieu):
    from search import SearchRequest

    assert van_mieu.slug == "van-mieu-quoc-tu-giam"
    with pytest.raises(Conflict):
        platform.monuments.create_monument(name_vi="Văn Miếu – Quốc Tử Giám")
    with pytest.raises(InputRejected, match="name_vi.*markup"):
        platform.monuments.create_monument(name_vi="<script>alert(1)</script>")
    with pytest.raises(InputRejected, match="WGS 84"):
        platform.monuments.create_monument(name_vi="Chùa Một Cột", lat=210.0, lon=105.8)
    with pytest.raises(InputRejected, match="heritage_rank"):
        platform.monuments.create_monument(name_vi="Chùa Một Cột", heritage_rank="famous")
    assert platform.indexer.flush().monuments == 1
    res = platform.indexer.engine.search(SearchRequest(query="Temple of Literature", kinds=["monument"]))
    assert [h.id for h in res.hits] == [f"monument:{van_mieu.id}"]
    assert platform.indexer.engine.search(SearchRequest(query="van mieu", kinds=["monument"])).total == 1


def test_builds_are_versions_with_their_sources_kept(platform, van_mieu, tmp_path):
    photos = [BuildSource(photo(tmp_path / f"khue-van-cac-{n}.jpg", n), f"khue-van-cac-{n}.jpg") for n in range(3)]
    with pytest.raises(InputRejected, match="too few"):
        platform.monuments.submit_build(van_mieu.id, photos[:2])
    ply = tmp_path / "cloud.ply"
    ply.write_text("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
                   "property float z\nend_header\n0 0 0\n")
    with pytest.raises(InputRejected, match="not a mix"):
        platform.monuments.submit_build(van_mieu.id, photos + [BuildSource(ply, "cloud.ply")])

    v1 = platform.monuments.submit_build(van_mieu.id, photos, title="Khuê Văn Các", licence="CC BY 4.0",
                                         settings={"max_image_px": 1600})
    assert (v1.number, v1.status, v1.input_kind) == (1, BuildStatus.queued, "photos")
    assert v1.queued_at is not None  # the build task was sent
    names = [s["name"] for s in json.loads(v1.sources)]
    assert names == ["khue-van-cac-0.jpg", "khue-van-cac-1.jpg", "khue-van-cac-2.jpg"]
    for src in json.loads(v1.sources):
        assert platform.store.original_path(src["sha256"]).read_bytes() == (tmp_path / src["name"]).read_bytes()
    v2 = platform.monuments.submit_build(van_mieu.id, [BuildSource(ply, "cloud.ply")], model_id=v1.model_id)
    assert (v2.number, v2.input_kind, v2.model_id) == (2, "point_cloud", v1.model_id)
    with platform.sessions() as s:
        assert s.get(StoredFile, json.loads(v2.sources)[0]["sha256"]).original_name == "cloud.ply"

    cancelled = platform.monuments.cancel(v1.id)
    assert cancelled.status == BuildStatus.cancelled and "before it started" in cancelled.status_reason
    with pytest.raises(Conflict):
        platform.monuments.cancel(v1.id)
    again = platform.monuments.retry(v1.id)
    assert again.status == BuildStatus.queued and again.cancel_requested is False


def test_hostile_or_empty_3d_files_are_refused(platform, van_mieu, tmp_path):
    empty = tmp_path / "empty.glb"
    empty.write_bytes(b"")
    with pytest.raises(InputRejected, match="empty"):
        platform.monuments.submit_build(van_mieu.id, [BuildSource(empty, "empty.glb")])
    bad = tmp_path / "x.ply"
    bad.write_bytes(b"ply\n")
    with pytest.raises(InputRejected, match="control character|LINE FEED|direction"):
        platform.monuments.submit_build(van_mieu.id, [BuildSource(bad, "evil\n.ply")])


def test_only_curators_and_admins_manage_monuments(platform, van_mieu, tmp_path):
    librarian = platform.users.create("thu.thu", "mat-khau-dai-lam", "librarian")
    curator = platform.users.create("bao.tang", "mat-khau-dai-lam", "curator")
    with pytest.raises(PermissionDenied, match="may not manage"):
        platform.monuments.create_monument(name_vi="Chùa Một Cột", actor=librarian)
    photos = [BuildSource(photo(tmp_path / f"p{n}.jpg", n), f"p{n}.jpg") for n in range(3)]
    with pytest.raises(PermissionDenied):
        platform.monuments.submit_build(van_mieu.id, photos, actor=librarian)
    v = platform.monuments.submit_build(van_mieu.id, photos, actor=curator)
    with pytest.raises(PermissionDenied):
        platform.monuments.cancel(v.id, actor=librarian)
    assert platform.monuments.cancel(v.id, actor=curator).status == BuildStatus.cancelled
