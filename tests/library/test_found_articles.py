"""Articles of an OCR'd newspaper page (issue #9, point 3): the layout analysis's regions — each block's
kind and article — are kept in the catalogue with the page's words, come back in the page's ALTO
(``TYPE``, ``TAGREFS`` to ``StructureTag``s), survive a correction, and the item's table of contents
lists the articles under their headlines as read, on the item page (vi/en) and in the API. An item
imported with its own structure keeps it. A real page of the hard development set read by the real
tesseract, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from bench.hardpages import texts as hp_texts
from digitize import cer
from library.access import Actor
from library.catalogue.models import Page
from library.catalogue.page_layout import ROLES, encode, stored
from library.ingest.service import Upload
from library.reading.articles import SOURCE, STRUCTURE_FILE, item_structure, write_found_articles
from library.store import FileStore
from tests.web.staff_accounts import staffed_app

SYSTEM = Actor.system("tests")


@pytest.fixture(scope="module")
def newspaper_page(tmp_path_factory):
    from bench.hardpages import generate

    return generate(tmp_path_factory.mktemp("pages"), split="dev", pages_per_kind=1, kinds=["newspaper3"])[0]


@pytest.mark.slow
def test_a_read_newspaper_page_keeps_its_articles_and_the_item_lists_them(settings, newspaper_page):
    app = next(staffed_app(settings))
    p = app.extensions["heritage"]
    try:
        report = p.ingest.ingest_item([Upload(newspaper_page.image_path, "bao-1935.png")],
                                      {"title": "Tin Hà Nội", "type": "newspaper"}, actor=SYSTEM)
        assert report.ok, report.as_dict()
        item_id = report.items[0].item_id
        (row,) = p.catalogue.page_statuses(item_id)
        assert p.reader.read(row.page_id).value == "done"
        assert p.reader.finish_item(item_id).value == "done"

        # the catalogue keeps each block's role and article
        with p.sessions() as s:
            page = s.scalars(select(Page).where(Page.item_id == item_id)).one()
            layout, text = stored(s, page.id), page.text
        roles = {b.role for b in layout.blocks}
        assert "headline" in roles and "text" in roles and roles <= set(ROLES) | {None}
        articles = layout.articles()
        assert len(articles) >= 2

        # the table of contents: one entry per article, named by its headline as read
        contents = p.mets.contents(item_id)
        assert p.mets.contents_source(item_id) == SOURCE
        assert len(contents) == len(articles) and {e.type for e in contents} == {"article"}
        assert all(e.pages == (1,) for e in contents)
        titles = [a.title for a in hp_texts.articles("dev")]
        for e in contents:
            assert e.label and e.label in " ".join(text.split())
        named = [e for e in contents if min(cer(e.label.lower(), t.lower()) for t in titles) < 0.1]
        assert len(named) >= 0.75 * len(contents), ([e.label for e in contents], titles)
        masthead = newspaper_page.lines[0]  # the paper's name over its dateline: no article
        assert all(cer(e.label, masthead) > 0.5 for e in contents)

        # the page's ALTO types its blocks and tags its articles
        alto, _ = p.exports.page_document(item_id, 1, "alto")
        assert 'TYPE="headline"' in alto
        tags = set(re.findall(r'<StructureTag ID="(article_\d+)" TYPE="article"', alto))
        assert tags == {f"article_{a}" for a in articles} == set(re.findall(r'TAGREFS="(article_\d+)"', alto))

        # the item page (vi, en) and the API show them
        client = app.test_client()
        html = client.get(f"/items/{item_id}?lang=vi").get_data(as_text=True)
        assert "Mục lục" in html and "Các bài do máy nhận ra" in html
        for e in contents:
            assert f'/items/{item_id}/pages/1?lang=vi">{_escaped(e.label)}</a>' in html
        assert "Articles found by the machine" in client.get(f"/items/{item_id}?lang=en").get_data(as_text=True)
        body = client.get(f"/api/v1/items/{item_id}").get_json()
        assert body["articles_source"] == "layout" and [a["label"] for a in body["articles"]] == [
            e.label for e in contents]

        # a librarian's correction of a line keeps the blocks' roles and articles
        first = min(layout.lines, key=lambda r: r.char_start)
        line_text = text[first.char_start:first.char_end]
        p.corrections.correct(SYSTEM, page.id, {0: line_text + " x"}, revision=page.revision)
        with p.sessions() as s:
            after = stored(s, page.id)
        assert [(b.block, b.role, b.article) for b in after.blocks] == [
            (b.block, b.role, b.article) for b in layout.blocks]
    finally:
        app.extensions["heritage"].close()


def test_an_imported_structure_is_never_replaced_by_found_articles(tmp_path):
    store = FileStore(tmp_path)
    text = "TIN HÀ NỘI\n\nHôm qua trời mưa."
    layout = {"words": [], "lines": [], "blocks": [[1, 0, 0, 500, 40, 0, 10, "headline", 0],
                                                    [2, 0, 50, 500, 40, 12, len(text), "text", 0]]}
    pages = [(1, text, encode(layout, text))]
    rel = store.item_derivative_relpath(7, STRUCTURE_FILE)

    assert write_found_articles(store, 7, pages)
    found = json.loads(store.resolve(rel).read_bytes())
    assert found["source"] == SOURCE and [d["label"] for d in found["divisions"]] == ["TIN HÀ NỘI"]
    assert found["divisions"][0]["areas"] == [{"page": 1, "block": 1}, {"page": 1, "block": 2}]

    imported = {"divisions": [{"type": "article", "label": "Tin trong nước", "pages": [1], "children": []}]}
    store.write_bytes(rel, json.dumps(imported).encode())
    assert not write_found_articles(store, 7, pages)
    assert json.loads(store.resolve(rel).read_bytes()) == imported


def test_found_articles_go_when_the_pages_no_longer_have_them(tmp_path):
    store = FileStore(tmp_path)
    text = "TIN HÀ NỘI"
    with_article = {"words": [], "lines": [], "blocks": [[1, 0, 0, 500, 40, 0, 10, "headline", 0]]}
    without = {"words": [], "lines": [], "blocks": [[1, 0, 0, 500, 40, 0, 10]]}
    assert write_found_articles(store, 3, [(2, text, encode(with_article, text))])
    assert not write_found_articles(store, 3, [(2, text, encode(without, text))])
    assert not store.resolve(store.item_derivative_relpath(3, STRUCTURE_FILE)).exists()
    assert item_structure([(1, "", None)]) is None


def test_articles_of_several_pages_are_in_page_then_reading_order_and_long_headlines_are_cut():
    long = "TIN " * 60
    a = {"words": [], "lines": [], "blocks": [[1, 0, 0, 9, 9, 0, 3, "headline", 1], [2, 0, 0, 9, 9, 4, 7, "headline", 0]]}
    b = {"words": [], "lines": [], "blocks": [[1, 0, 0, 9, 9, 0, len(long), "headline", 0]]}
    structure = item_structure([(2, long, encode(b, long)), (1, "MỘT HAI", encode(a, "MỘT HAI"))])
    labels = [(d["pages"], d["label"], d["order"]) for d in structure["divisions"]]
    assert labels[:2] == [([1], "MỘT", 1), ([1], "HAI", 2)]
    assert labels[2][0] == [2] and len(labels[2][1]) == 160 and labels[2][1].endswith("…")


def _escaped(label: str) -> str:
    from markupsafe import escape

    return str(escape(label))
