"""A stele's inscription in Hán, read by the Hán engine and searched in quốc ngữ (issue #14): ``tiến sĩ`` and
``tien si`` find 進士 on the page, each character boxed in the portal's search, the JSON API and IIIF Content
Search; the characters themselves find it too."""

from __future__ import annotations

import pytest

from library.access import Actor
from library.ingest.service import Upload
from tests.digitize.test_han import render
from web import create_app

pytestmark = pytest.mark.slow

SYSTEM = Actor.system("tests")
# the title and first lines of a doctoral stele's inscription as carved at Văn Miếu (public domain, 15th century)
STELE = "大寶三年壬戌科進士題名記國家設科目以取士文廟"


@pytest.fixture
def stele_item(platform, tmp_path):
    image, columns, drawn = render(STELE, vertical=True, per_line=12)
    image.save(tmp_path / "bia.png")
    report = platform.ingest.ingest_item([Upload(tmp_path / "bia.png", "bia.png")],
                                         {"title": "Bia tiến sĩ khoa Nhâm Tuất", "language": "chữ Hán",
                                          "type": "other"}, actor=SYSTEM)
    item_id = report.items[0].item_id
    page_id = platform.catalogue.page_statuses(item_id)[0].page_id
    assert platform.reader.read(page_id).value == "done"
    platform.reader.finish_item(item_id)
    assert platform.indexer.flush().error is None
    text = platform.catalogue.page(page_id).text
    assert "進士" in text and "文廟" in text, text  # the engine read what the test searches for
    return item_id, text, drawn


@pytest.fixture
def client(platform, settings):
    app = create_app({"TESTING": True}, settings=settings)
    yield app.test_client()
    app.extensions["heritage"].close()


def test_a_reading_in_quoc_ngu_finds_the_characters_each_boxed(platform, stele_item):
    item_id, text, drawn = stele_item
    for query in ("tiến sĩ", "tien si", "進士"):
        found = platform.search.search(query, actor=SYSTEM)
        assert found.total == 1, query
        hit = found.hits[0]
        boxed = [(sp.text, box) for sp in hit.spans for box in sp.boxes]
        characters = "".join(t for t, _ in boxed)
        assert set(characters) <= {"進", "士"} and "進" in characters, (query, boxed)
        for _, box in boxed:  # a character's box: about as tall as wide, not a whole column
            assert box.h < 2 * box.w, (query, box)
    far = platform.search.search("văn miếu", actor=SYSTEM).hits[0]
    assert "".join(sp.text for sp in far.spans).replace(" ", "") == "文廟"


def test_iiif_content_search_and_the_api_box_each_character(client, stele_item):
    item_id, text, _ = stele_item
    body = client.get(f'/iiif/{item_id}/search?q="tien si"').json  # the phrase: 進士, not the 士 of 取士
    boxes = [tuple(map(int, a["target"].split("#xywh=")[1].split(","))) for a in body["items"]]
    assert len(boxes) == 2 and all(h < 2 * w for _, _, w, h in boxes), boxes
    assert boxes[1][1] > boxes[0][1]  # 士 under 進: one column, top to bottom
    api = client.get("/api/v1/search?q=van+mieu").json
    assert api["total"] == 1 and all(sp["boxes"] for h in api["hits"] for sp in h["spans"])
    page = client.get("/search?q=tiến+sĩ").get_data(as_text=True)
    assert "Bia tiến sĩ khoa Nhâm Tuất" in page and "進" in page


def test_the_reader_shows_each_characters_reading_above_it(client, stele_item):
    """The page's text with the reading of each Hán character above it (ruby), in the item's language
    (lzh) with the readings in Vietnamese, and a button to hide them; a Vietnamese page has neither."""
    item_id, text, _ = stele_item
    html = client.get(f"/items/{item_id}/pages/1?lang=vi").get_data(as_text=True)
    assert '<pre id="page-text-pre" class="han" lang="lzh">' in html
    assert '<ruby>進<rp>(</rp><rt lang="vi">tiến</rt><rp>)</rp></ruby><ruby>士<rp>(</rp><rt lang="vi">sĩ</rt>' in html
    assert 'id="readings-toggle"' in html and "Ẩn âm Hán Việt" in html
    english = client.get(f"/items/{item_id}/pages/1?lang=en").get_data(as_text=True)
    assert "Hide Sino-Vietnamese readings" in english


def test_the_character_picker_finds_by_reading_and_by_radical(client):
    """The transcriber's picker (API): by reading with or without marks (the marks typed first), by radical
    and strokes; a query that is neither is refused with what to type."""
    by_reading = client.get("/api/v1/han/characters?q=tiến").json["characters"]
    assert by_reading[0]["character"] == "進" and "tiến" in by_reading[0]["readings"]
    assert by_reading[0]["codepoint"] == "U+9032"
    assert "進" in [c["character"] for c in client.get("/api/v1/han/characters?q=tien").json["characters"]]
    nom = [c["character"] for c in client.get("/api/v1/han/characters?q=người").json["characters"]]
    assert "𠊛" in nom  # a Nôm character (Extension B) read "người"
    by_radical = [c["character"] for c in client.get("/api/v1/han/characters?q=162.8").json["characters"]]
    assert "進" in by_radical and "週" in by_radical
    for bad in ("", "999", "a1b", "x" * 40):
        answer = client.get(f"/api/v1/han/characters?q={bad}")
        assert answer.status_code == 422, bad
        assert "162.8" in answer.json["message"] or "1–214" in answer.json["message"], answer.json
