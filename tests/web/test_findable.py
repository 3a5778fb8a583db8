"""Findable and citable (issue 11, point 5): the public item page's Dublin Core record, citation and
``citation_*`` meta tags with the public URL (never the Host header); stable page URLs; robots.txt;
the sitemap index and its chunks, which list only what the anonymous public may see; the IIIF
manifest's ``rights``, ``requiredStatement``, ``navDate`` and ``rendering``.

Items are written straight into the real catalogue (SQLite and PostgreSQL); the manifest test reuses
the two pages read by the real OCR of :mod:`tests.web.test_iiif`."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import update

from library.catalogue.models import (AccessLevel, Collection, Item, ItemStatus, ItemType, Monument, Page,
                                      PageStatus, StoredFile)
from library.discovery.citing import citation, nav_date, rights_uri
from tests.conftest import make_settings
from tests.web.test_iiif import read_item  # noqa: F401  (a fixture: two pages read by the real OCR)
from web import create_app

PUBLIC_URL = "https://thuvien.example.vn/so"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def app(tmp_path, database_url):
    app = create_app({"TESTING": True, "SITEMAP_CHUNK_ITEMS": 3},
                     settings=make_settings(tmp_path / "data", database_url=database_url, public_url=PUBLIC_URL,
                                           reading_room="127.0.0.0/8"))  # the test client is in it
    yield app
    app.extensions["heritage"].close()


def add_item(app, title, *, pages=2, collection_id=None, **fields) -> int:
    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        s.merge(StoredFile(sha256="b" * 64, size_bytes=1, media_type="image/png", original_name="x.png"))
        item = Item(title=title, languages=fields.pop("languages", "vie"), item_type=fields.pop("item_type", ItemType.book),
                    status=ItemStatus.done, collection_id=collection_id, **fields)
        for n in range(1, pages + 1):
            item.pages.append(Page(sequence=n, source_sha256="b" * 64, source_name=f"p{n}.png", status=PageStatus.done,
                                   text=f"trang {n}"))
        s.add(item)
        s.flush()
        return item.id


def add_collection(app, name, level=AccessLevel.public) -> int:
    with app.extensions["heritage"].sessions.begin() as s:
        c = Collection(slug=name.lower().replace(" ", "-"), name=name, access_level=level)
        s.add(c)
        s.flush()
        return c.id


# ------------------------------------------------------------------ the pure rules
def test_rights_map_to_standard_uris_only_when_they_name_one():
    assert rights_uri("http://rightsstatements.org/vocab/NoC-NC/1.0/") == "http://rightsstatements.org/vocab/NoC-NC/1.0/"
    assert rights_uri("CC BY-SA 4.0") == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert rights_uri("cc by") == "https://creativecommons.org/licenses/by/4.0/"
    assert rights_uri("Public domain.") == "https://creativecommons.org/publicdomain/mark/1.0/"
    assert rights_uri("In Copyright") == "http://rightsstatements.org/vocab/InC/1.0/"
    for free_text in ("© Nhà xuất bản Hà Nội", "", None, "http://example.org/licence", "CC BY 4.0 trừ ảnh bìa"):
        assert rights_uri(free_text) is None


def test_nav_dates_are_iso_instants_of_the_first_day_known():
    assert nav_date(issue_date=date(1935, 5, 2), date_iso="1935", year_start=1935) == "1935-05-02T00:00:00Z"
    assert nav_date(issue_date=None, date_iso="1858-07", year_start=1858) == "1858-07-01T00:00:00Z"
    assert nav_date(issue_date=None, date_iso="1936", year_start=1936) == "1936-01-01T00:00:00Z"
    assert nav_date(issue_date=None, date_iso=None, year_start=1930) == "1930-01-01T00:00:00Z"  # "1930s"
    assert nav_date(issue_date=None, date_iso=None, year_start=None) is None


def test_a_citation_leaves_out_what_is_missing():
    day = date(2026, 12, 5)
    assert citation(title="Lục Vân Tiên", creator="Nguyễn Đình Chiểu", publisher="Nhà in Rey", date_text="1897",
                    url="https://x.vn/items/1", accessed=day, lang="en") == (
        "Nguyễn Đình Chiểu. Lục Vân Tiên. Nhà in Rey, 1897. Hanoi Library. https://x.vn/items/1, accessed 2026-12-05.")
    assert citation(title="Trung Bắc tân văn", creator=None, publisher=None, date_text=None, serial_title="Trung Bắc",
                    issue_number="12", url="https://x.vn/items/2/pages/3", page=3, accessed=day) == (
        "Trung Bắc tân văn. Trung Bắc, số 12. tr. 3. Thư viện Hà Nội. https://x.vn/items/2/pages/3, "
        "truy cập ngày 2026-12-05.")


# ------------------------------------------------------------------ the item page
def test_the_item_page_shows_the_whole_record_and_a_citation_with_the_public_url(app):
    coll = add_collection(app, "Sách Hà Nội xưa")
    item_id = add_item(app, "Hà Nội băm sáu phố phường", creator="Thạch Lam", date_text="1943", date_iso="1943",
                       year_start=1943, publisher="Đời nay", subject="Hà Nội; phong tục",
                       description="Tùy bút về Hà Nội.", identifier="HN-1943-01", rights="CC BY 4.0",
                       languages="vie+fra", collection_id=coll)
    client = app.test_client()
    r = client.get(f"/items/{item_id}?lang=en", headers={"Host": "evil.example"})
    assert r.status_code == 200
    page = html.unescape(r.get_data(as_text=True))
    record = page[page.index('id="record"'):page.index('id="cite"')]
    rows = dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>(.*?)</dd>", record, re.S))
    assert rows["Title"] == "Hà Nội băm sáu phố phường" and rows["Creator"] == "Thạch Lam"
    assert rows["Date"] == "1943" and rows["Publisher"] == "Đời nay" and rows["Subject"] == "Hà Nội; phong tục"
    assert rows["Description"] == "Tùy bút về Hà Nội." and rows["Language"] == "Vietnamese, French"
    assert rows["Type"] == "book" and rows["Identifier"] == "HN-1943-01" and rows["Collection"] == "Sách Hà Nội xưa"
    assert rows["Rights"] == "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)"
    assert "Serial title" not in rows and "Issue number" not in rows  # unset fields are left out
    url = f"{PUBLIC_URL}/items/{item_id}"
    today = app.extensions["heritage"].access.today().isoformat()
    assert (f'<span id="cite-item" class="cite-text">Thạch Lam. Hà Nội băm sáu phố phường. Đời nay, 1943. '
            f"Hanoi Library. {url}, accessed {today}.</span>") in page
    assert f"{PUBLIC_URL}/items/{item_id}/pages/2, accessed {today}." in page  # each page has its own
    assert "evil.example" not in page
    assert f'<link rel="canonical" href="{url}">' in page
    assert '<meta name="citation_title" content="Hà Nội băm sáu phố phường">' in page
    assert '<meta name="citation_author" content="Thạch Lam">' in page
    assert '<meta name="citation_publication_date" content="1943">' in page
    assert f'<meta name="citation_pdf_url" content="{PUBLIC_URL}/items/{item_id}/download.pdf">' in page
    assert '<script src="/so/static/cite.js">' in page and not re.search(r"<script[^>]*>[^<]", page)
    vi = html.unescape(client.get(f"/items/{item_id}?lang=vi").get_data(as_text=True))
    assert "<dt>Nhan đề</dt>" in vi and "<dt>Bản quyền</dt>" in vi and "truy cập ngày" in vi
    script = client.get("/static/cite.js")
    assert script.status_code == 200 and b"clipboard" in script.data
    script.close()


def test_a_newspaper_issue_shows_its_serial_fields(app):
    item_id = add_item(app, "Trung Bắc tân văn, số 12", item_type=ItemType.newspaper, serial_title="Trung Bắc tân văn",
                       issue_date=date(1935, 5, 2), issue_date_text="2 tháng 5 năm 1935", issue_number="12", pages=1)
    page = html.unescape(app.test_client().get(f"/items/{item_id}?lang=en").get_data(as_text=True))
    rows = dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>(.*?)</dd>", page, re.S))
    assert rows["Serial title"] == "Trung Bắc tân văn" and rows["Issue number"] == "12"
    assert rows["Issue date"] == "2 tháng 5 năm 1935" and rows["Type"] == "newspaper"
    assert '<meta name="citation_publication_date" content="1935/05/02">' in page


def test_stable_page_urls_lead_to_the_page_and_follow_the_access_rules(app):
    item_id = add_item(app, "Sách công khai")
    hidden = add_item(app, "Sách nội bộ", access_level=AccessLevel.staff)
    client = app.test_client()
    r = client.get(f"/items/{item_id}/pages/2")  # the page in the reader, its canonical URL the public one
    assert r.status_code == 200
    assert f'<link rel="canonical" href="{PUBLIC_URL}/items/{item_id}/pages/2">' in r.get_data(as_text=True)
    assert client.get(f"/items/{item_id}/pages/3").status_code == 404
    assert client.get(f"/items/{hidden}/pages/1").status_code == 404
    assert client.get("/items/999/pages/1").status_code == 404


# ------------------------------------------------------------------ robots.txt and sitemaps
def test_robots_txt_keeps_crawlers_out_of_staff_pages_and_tiles(app):
    r = app.test_client().get("/robots.txt", headers={"Host": "evil.example"})
    assert r.status_code == 200 and r.mimetype == "text/plain"
    lines = r.get_data(as_text=True).splitlines()
    assert lines[:2] == ["User-agent: *", "Allow: /"]
    for path in ("/staff/", "/iiif/image/", "/api/v1/jobs", "/api/v1/feedback"):
        assert f"Disallow: {path}" in lines
    assert f"Sitemap: {PUBLIC_URL}/sitemap.xml" in lines


def test_sitemaps_list_only_what_the_public_may_see_in_chunks(app):
    open_coll = add_collection(app, "Bộ công khai")
    closed_coll = add_collection(app, "Bộ nội bộ", AccessLevel.staff)
    ids = {
        "public": add_item(app, "Công khai 1"),
        "reading-room": add_item(app, "Phòng đọc", access_level=AccessLevel.reading_room),
        "staff": add_item(app, "Nội bộ", access_level=AccessLevel.staff),
        "withdrawn": add_item(app, "Đã rút", withdrawn_at=datetime(2026, 1, 1, tzinfo=timezone.utc)),
        "deleted": add_item(app, "Đã xóa", deleted_at=datetime(2026, 1, 1, tzinfo=timezone.utc)),
        "closed collection": add_item(app, "Trong bộ nội bộ", collection_id=closed_coll),
        "public 2": add_item(app, "Công khai 2", collection_id=open_coll),
        "embargo over": add_item(app, "Hết hạn chế", access_level=AccessLevel.staff, embargo_until=date(2020, 1, 1),
                                 embargo_then=AccessLevel.public),
    }
    stamp = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        s.add(Monument(slug="van-mieu", name_vi="Văn Miếu"))
        s.execute(update(Item).where(Item.id == ids["public 2"]).values(updated_at=stamp))
    client = app.test_client()
    # the sitemaps are the anonymous public's whoever asks (here: from the reading room's addresses, too)
    assert client.get(f"/items/{ids['reading-room']}").status_code == 200
    r = client.get("/sitemap.xml", headers={"Host": "evil.example"})
    assert r.status_code == 200 and r.mimetype == "application/xml"
    index = ET.fromstring(r.data)
    assert index.tag == f"{SM}sitemapindex"
    locs = [e.findtext(f"{SM}loc") for e in index.findall(f"{SM}sitemap")]
    assert locs[0] == f"{PUBLIC_URL}/sitemap-pages.xml"
    listed: dict[str, str | None] = {}
    for loc in locs[1:]:
        assert re.fullmatch(rf"{re.escape(PUBLIC_URL)}/sitemap-items-\d+\.xml", loc)
        chunk = client.get(loc.removeprefix(PUBLIC_URL))
        assert chunk.status_code == 200
        urls = ET.fromstring(chunk.data).findall(f"{SM}url")
        assert 0 < len(urls) <= 3  # SITEMAP_CHUNK_ITEMS in this app
        listed.update({u.findtext(f"{SM}loc"): u.findtext(f"{SM}lastmod") for u in urls})
    expected = {f"{PUBLIC_URL}/items/{ids[k]}" for k in ("public", "public 2", "embargo over")}
    assert set(listed) == expected
    assert listed[f"{PUBLIC_URL}/items/{ids['public 2']}"] == "2026-03-04T05:06:07+00:00"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", v) for v in listed.values())
    # chunks are id ranges: 1–3, 4–6, 7–9; the second holds no public item, so it is not in the index
    assert [loc.rsplit("-", 1)[1] for loc in locs[1:]] == ["1.xml", "3.xml"]
    assert client.get("/sitemap-items-2.xml").status_code == 404
    assert client.get("/sitemap-items-0.xml").status_code == 404

    pages = ET.fromstring(client.get("/sitemap-pages.xml").data)
    page_locs = {u.findtext(f"{SM}loc") for u in pages.findall(f"{SM}url")}
    assert {f"{PUBLIC_URL}/", f"{PUBLIC_URL}/collections", f"{PUBLIC_URL}/collections/{open_coll}",
            f"{PUBLIC_URL}/monuments", f"{PUBLIC_URL}/monuments/van-mieu", f"{PUBLIC_URL}/serials"} <= page_locs
    assert f"{PUBLIC_URL}/collections/{closed_coll}" not in page_locs


# ------------------------------------------------------------------ the IIIF manifest
def test_the_manifest_carries_rights_attribution_nav_date_and_downloads(platform, read_item, settings):  # noqa: F811
    item_id, _pages = read_item
    app = create_app({"TESTING": True}, settings=settings)
    try:
        client = app.test_client()
        assert "rendering" not in client.get(f"/iiif/{item_id}/manifest").get_json(force=True)  # not finished
        platform.reader.finish_item(item_id)  # what the worker does once every page is read
        m = client.get(f"/iiif/{item_id}/manifest").get_json(force=True)
        assert m["rights"] == "http://rightsstatements.org/vocab/NoC-NC/1.0/"
        statement = m["requiredStatement"]
        assert statement["label"] == {"vi": ["Ghi nguồn"], "en": ["Attribution"]}
        assert statement["value"]["en"] == ["Source: Hanoi Library. Rights: http://rightsstatements.org/vocab/NoC-NC/1.0/"]
        assert statement["value"]["vi"][0].startswith("Nguồn: Thư viện Hà Nội. Bản quyền: ")
        assert m["navDate"] == "1936-01-01T00:00:00Z"
        formats = {r["format"]: r for r in m["rendering"]}
        assert formats["application/pdf"]["id"] == f"http://localhost/items/{item_id}/download.pdf"
        assert formats["text/plain"]["id"] == f"http://localhost/items/{item_id}/download.txt"
        download = client.get(formats["text/plain"]["id"].removeprefix("http://localhost"))
        assert download.status_code == 200 and "Văn Miếu" in download.get_data(as_text=True)
        download.close()

        from iiif_prezi3 import Manifest

        Manifest(**m)  # still Presentation 3 for the community's models

        with app.extensions["heritage"].sessions.begin() as s:  # rights as free text: no URI, the text is kept
            s.execute(update(Item).where(Item.id == item_id).values(rights="© Nhà xuất bản Hà Nội 1936",
                                                                    date_iso=None, year_start=None))
        m = client.get(f"/iiif/{item_id}/manifest").get_json(force=True)
        assert "rights" not in m and "navDate" not in m
        assert m["requiredStatement"]["value"]["vi"] == ["Nguồn: Thư viện Hà Nội. Bản quyền: © Nhà xuất bản Hà Nội 1936"]
        Manifest(**m)
    finally:
        app.extensions["heritage"].close()
