"""The reader (issue #13, point 1): ``/items/<id>/pages/<n>`` shows one page of an item of any length —
its image viewer, its text, previous/next, first/last, the slider and jump field, the nearby thumbnails,
the table of contents — with a constant number of bounded queries whatever the item's length (a
1,000-page book costs what a 1-page leaflet does); a page out of range answers 404 with a message in
the reader's language; the item's access rules apply; a search inside the item lists its pages with
matches and boxes those of the page shown (real tesseract, real search); an item being read offers its
progress to poll, and neither the reader nor the item page reloads itself. SQLite and PostgreSQL."""

from __future__ import annotations

import html as html_lib
import json
import re
from urllib.parse import quote

import pytest

from library.access import Actor
from sqlalchemy import update

from library.catalogue.models import Item, Page, PageStatus
from library.ingest.service import Upload
from tests.web.staff_accounts import client_as, staffed_app
from tests.web.test_paging import bulk_item, statements

SYSTEM = Actor.system("tests")


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


def test_a_page_of_a_thousand_page_book_costs_what_a_leaflet_does(app):
    book, leaflet = bulk_item(app, "Sách nghìn trang", 1000), bulk_item(app, "Tờ rơi", 1)
    client = app.test_client()
    with statements(app) as big:
        r = client.get(f"/items/{book}/pages/500?lang=en")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Page 500 of 1000" in html and "trang số 500 " in html and "trang số 501 " not in html  # this page's text
    assert f'rel="prev" href="/items/{book}/pages/499?lang=en"' in html
    assert f'rel="next" href="/items/{book}/pages/501?lang=en"' in html
    assert f'href="/items/{book}/pages/1000?lang=en" class="last"' in html
    assert f'data-info="/iiif/image/p' in html and html.count('class="deepzoom') == 1  # one viewer, not one a page
    thumbs = re.findall(rf'href="/items/{book}/pages/(\d+)\?lang=en">\s*<img', html)
    assert thumbs == [str(n) for n in range(495, 506)]
    assert 'http-equiv="refresh"' not in html
    with statements(app) as small:
        r = client.get(f"/items/{leaflet}/pages/1?lang=en")
    assert r.status_code == 200 and "Page 1 of 1" in r.get_data(as_text=True)
    assert len(big) == len(small)  # the same queries, each bounded (see test_paging.statements)
    assert len(r.get_data()) * 3 > len(html.encode())  # the book's page is not bigger for its 999 other pages


def test_jumping_and_a_page_out_of_range(app):
    book = bulk_item(app, "Sách ba mươi trang", 30)
    client = app.test_client()
    r = client.get(f"/items/{book}/pages/3?lang=en&page=17")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/items/{book}/pages/17?lang=en")
    r = client.get(f"/items/{book}/pages/3?page=abc")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/items/{book}/pages/3")
    vi = client.get(f"/items/{book}/pages/31?lang=vi", headers={"Accept": "text/html"})
    assert vi.status_code == 404 and "Tài liệu này không có trang 31: nó có 30 trang." in vi.get_data(as_text=True)
    en = client.get(f"/items/{book}/pages/31?lang=en", headers={"Accept": "text/html"})
    assert en.status_code == 404 and "This item has no page 31: it has 30 pages." in en.get_data(as_text=True)
    assert client.get(f"/items/{book + 100}/pages/1").status_code == 404
    assert client.get(f"/items/{book}/pages/0").status_code == 404


def test_the_reader_follows_the_items_access(app):
    book = bulk_item(app, "Sách nội bộ", 3)
    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        s.get(Item, book).access_level = "staff"
    assert app.test_client().get(f"/items/{book}/pages/1").status_code == 404  # as if missing
    assert app.test_client().get(f"/api/v1/items/{book}/progress").status_code == 404
    librarian = client_as(app, "librarian")
    assert librarian.get(f"/items/{book}/pages/1").status_code == 200


def test_an_item_being_read_offers_its_progress_and_never_reloads(app):
    item_id = bulk_item(app, "Đang đọc", 4, status=PageStatus.queued)
    client = app.test_client()
    for url in (f"/items/{item_id}?lang=en", f"/items/{item_id}/pages/2?lang=en"):
        html = client.get(url).get_data(as_text=True)
        assert 'http-equiv="refresh"' not in html, url
        assert 'id="reading-progress"' in html and "progress.js" in html, url
    home = client.get("/?lang=en").get_data(as_text=True)  # the home page's recent items: polled per row
    assert 'http-equiv="refresh"' not in home and "progress.js" in home
    assert f'class="item-progress" data-item="{item_id}"' in home
    body = client.get(f"/api/v1/items/{item_id}/progress").get_json()
    assert body == {"status": "processing", "pages": {"queued": 4}, "total": 4, "done": 0}
    assert "has not been read yet" in client.get(f"/items/{item_id}/pages/2?lang=en").get_data(as_text=True)


@pytest.mark.slow
def test_a_search_inside_the_item_lists_its_pages_and_boxes_the_matches_here(app, tmp_path):
    from tests.library.test_jobs import small_scans

    p = app.extensions["heritage"]
    paths = small_scans(tmp_path, 3)
    report = p.ingest.ingest_item([Upload(x, x.name) for x in paths], {"title": "Hà Nội xưa"}, actor=SYSTEM)
    item_id = report.items[0].item_id
    for row in p.catalogue.page_statuses(item_id):
        p.reader.read(row.page_id)
    p.reader.finish_item(item_id)
    p.indexer.flush()
    pages = p.catalogue.page_window(item_id, start=1, count=3)
    page_one = pages.texts[pages.rows[0].page_id].lower()
    word = max((w for w in pages.texts[pages.rows[1].page_id].split() if w.isalpha() and w.lower() not in page_one),
               key=len)  # on page 2, not on page 1
    client = app.test_client()
    html = client.get(f"/items/{item_id}/pages/2?lang=en&q={word}").get_data(as_text=True)
    q = quote(word)
    assert "Found on" in html and f'href="/items/{item_id}/pages/2?lang=en&amp;q={q}"' in html
    boxes = json.loads(re.search(r'<script type="application/json" id="hit-boxes">(.*?)</script>', html).group(1))
    assert boxes and all(w > 0 and h > 0 for _x, _y, w, h in boxes)
    assert f'href="/items/{item_id}/pages/2?lang=en&amp;q={q}#hit-1"' in html  # each match its own URL
    r = client.get(f"/items/{item_id}/pages/1?lang=en&go=first&q={q}")  # the item page's search form
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/items/{item_id}/pages/2?lang=en&q={q}")
    item_page = client.get(f"/items/{item_id}?lang=en").get_data(as_text=True)
    assert 'name="go" value="first"' in item_page and f'action="/items/{item_id}/pages/1"' in item_page
    none = client.get(f"/items/{item_id}/pages/2?lang=en&q=zzqxv").get_data(as_text=True)
    assert "“zzqxv” is not in this item." in none and "[]" in none

    # the page carries its image's info.json, and its facing page's: what the image service answers for
    # them, so the viewer asks for tiles at once (no round trip first)
    def carried(page_html: str, key: str) -> dict:
        return json.loads(re.search(rf'<script type="application/json" id="{key}">(.*?)</script>', page_html).group(1))

    own, other = carried(html, "zoom-info"), carried(html, "zoom-facing-info")
    for info, row in ((own, pages.rows[1]), (other, pages.rows[2])):
        served = client.get(f"/iiif/image/p{row.page_id}/info.json")
        assert served.status_code == 200 and served.json == info
        assert (info["width"], info["height"]) == (row.width, row.height) and info["tiles"]
        tile = client.get(f"{info['id'].removeprefix('http://localhost')}/full/{info['sizes'][0]['width']},"
                          f"/0/default.jpg")
        assert tile.status_code == 200 and tile.mimetype == "image/jpeg"


def test_facing_pages_are_offered_for_a_wide_screen(app):
    book, leaflet = bulk_item(app, "Sách mười trang", 10), bulk_item(app, "Hai tờ", 2)
    client = app.test_client()

    def facing(item_id: int, n: int) -> dict:
        html = client.get(f"/items/{item_id}/pages/{n}?lang=en").get_data(as_text=True)
        found = dict(re.findall(r'data-facing-(\w+)="([^"]*)"', html))
        assert ('id="spread-toggle"' in html) == bool(found)
        return found

    assert facing(book, 1) == {}  # page 1 stands alone, as the first recto of a book
    two = facing(book, 2)
    assert two["side"] == "right" and two["sequence"] == "3" and two["where"] == "Pages 2–3 of 10"
    assert two["info"].startswith("/iiif/image/p") and two["label"] == "Images of pages 2 and 3"
    three = facing(book, 3)
    assert three["side"] == "left" and three["sequence"] == "2" and three["where"] == "Pages 2–3 of 10"
    assert facing(book, 9)["sequence"] == "8"
    assert facing(book, 10) == {}  # the last page is a left-hand page with nothing on its right
    assert facing(leaflet, 2) == {}  # two pages are not a book's spread
    html = client.get(f"/items/{book}/pages/4?lang=vi").get_data(as_text=True)
    assert 'data-facing-where="Trang 4–5 / 10"' in html and ">Hai trang</button>" in html
    p = app.extensions["heritage"]
    with p.sessions.begin() as s:  # a facing page not read yet is not shown beside it
        s.execute(update(Page).where(Page.item_id == book, Page.sequence == 7).values(status=PageStatus.queued))
    assert facing(book, 6) == {}


def test_every_page_describes_itself_for_search_engines(app):
    book = bulk_item(app, "Sách mô tả", 3)
    client = app.test_client()

    def description(url: str) -> str:
        html = client.get(url).get_data(as_text=True)
        found = re.findall(r'<meta name="description" content="([^"]*)">', html)
        assert len(found) == 1, url
        return html_lib.unescape(found[0])

    assert description("/?lang=vi").startswith("Sách, báo và tạp chí của thư viện Hà Nội")
    assert description("/search?lang=en").startswith("The Hanoi library's books, newspapers and magazines")
    page = description(f"/items/{book}/pages/2?lang=en")
    assert page.startswith("Sách mô tả – Page 2 of 3: trang số 2 chữ") and page.endswith("…") and len(page) < 200
    assert description(f"/items/{book}?lang=vi").startswith("Sách mô tả – Sách, báo")
    # the reader's thumbnails keep their box before they load (no layout shift): a width from the page's size
    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        s.execute(update(Page).where(Page.item_id == book).values(width=1240, height=1754))
    html = client.get(f"/items/{book}/pages/2?lang=en").get_data(as_text=True)
    assert 'loading="lazy" height="120" width="85"' in html
    assert html.count('accesskey="n"') == 1 and html.count('accesskey="p"') == 1
