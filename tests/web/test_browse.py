"""Browsing: the home page (search box, monuments with their model's picture,
collections, recent items) and the collections page by page, with escaping."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from library.access import Actor
from library.monuments.service import BuildSource
from markupsafe import escape

from tests.web.test_iiif import TITLE, read_item  # noqa: F401  (a fixture: two pages read by the real OCR)

SHOWN_TITLE = str(escape(TITLE))  # '"Hà Nội" & 1 < 2' escaped in HTML
from web import browse, create_app

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)


@pytest.fixture
def app(settings):
    app = create_app({"TESTING": True}, settings=settings)
    yield app
    app.extensions["heritage"].close()


@pytest.fixture
def platform(app):  # the app's own platform, so read_item fills what the pages show
    return app.extensions["heritage"]


def test_home_shows_search_monuments_collections_and_recent_items(app, platform, read_item, tmp_path):
    from heritage3d.demo_scenes import write_scene

    item_id, pages = read_item
    platform.reader.finish_item(item_id)
    m = platform.monuments.create_monument(name_vi="Văn Miếu – Quốc Tử Giám", name_en="Temple of Literature",
                                           period="nhà Lý, 1070", heritage_rank="special_national", actor=SYSTEM)
    mesh = write_scene("khue-van-cac", tmp_path / "kvc.ply")
    v = platform.monuments.submit_build(m.id, [BuildSource(mesh, mesh.name)], title="Khuê Văn Các", actor=SYSTEM)
    assert platform.monuments.build(v.id).value == "done"
    platform.monuments.create_monument(name_vi='Đền Quán Thánh "Trấn Vũ" & hồ Tây', actor=SYSTEM)  # no model yet
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    assert 'action="/search"' in html and 'name="q"' in html
    assert "Văn Miếu – Quốc Tử Giám" in html and "Di tích quốc gia đặc biệt" in html and "Xem mô hình 3D" in html
    assert f'src="/models/{v.id}/thumbnail.webp"' in html
    assert html.index("Văn Miếu – Quốc Tử Giám") < html.index("Đền Quán Thánh &#34;Trấn Vũ&#34; &amp; hồ Tây")
    assert "Sách Hà Nội xưa" in html and "1 tài liệu" in html
    assert SHOWN_TITLE in html and f'/iiif/image/p{pages[0].id}/full/80,/0/default.jpg' in html and "xong" in html
    en = client.get("/?lang=en").get_data(as_text=True)
    assert "Temple of Literature" in en and "Special national monument" in en and "1 items" in en
    with client.get(f"/models/{v.id}/thumbnail.webp") as thumb:
        assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.data)).size == (512, 512)


def test_collections_are_browsed_page_by_page_with_covers(app, platform, read_item, monkeypatch):
    item_id, pages = read_item
    second = platform.ingest  # a second, unread item in the same collection
    from library.ingest.service import Upload

    page_image = platform.store.original_path(pages[0].source_sha256)
    report = second.ingest_item([Upload(page_image, "trang.png")],
                                {"title": 'Báo "Trung Bắc" & phụ trương', "type": "newspaper", "language": "vie",
                                 "collection": "Sách Hà Nội xưa", "serial_title": "Trung Bắc", "issue_date": "1936-05-01"}, actor=SYSTEM)
    assert report.ok, report.as_dict()
    client = app.test_client()
    listing = client.get("/collections").get_data(as_text=True)
    coll_id = int(listing.split('href="/collections/')[1].split("?")[0])
    assert "Sách Hà Nội xưa" in listing and "2 tài liệu" in listing
    monkeypatch.setattr(browse, "PER_PAGE", 1)
    first = client.get(f"/collections/{coll_id}").get_data(as_text=True)
    assert SHOWN_TITLE in first and "Trung Bắc" not in first and "Trang sau" in first
    assert f"/iiif/image/p{pages[0].id}/full/240,/0/default.jpg" in first and "1936" in first
    assert 'name="collection" value="Sách Hà Nội xưa"' in first  # search within the collection
    with client.get(f"/iiif/image/p{pages[0].id}/full/240,/0/default.jpg") as cover:
        assert cover.status_code == 200 and Image.open(io.BytesIO(cover.data)).width == 240
    second_page = client.get(f"/collections/{coll_id}?page=2").get_data(as_text=True)
    assert "Báo &#34;Trung Bắc&#34; &amp; phụ trương" in second_page and SHOWN_TITLE not in second_page
    assert "báo" in second_page and "Trang trước" in second_page
    assert client.get(f"/collections/{coll_id}?page=-3").status_code == 200  # nonsense paging → the first page
    assert client.get("/collections/999999").status_code == 404
