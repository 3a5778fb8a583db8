"""Search over the catalogue: pages read by OCR are indexed after the commit,
found with and without diacritics, and each hit comes back as the boxes of
the words it covers; when the engine is down nothing is lost."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import uuid

import pytest

from digitize.synthetic import find_vietnamese_font, render_page
from library.access import Actor
from library.container import build_platform
from library.ingest.service import Upload
from library.catalogue.page_layout import stored
from tests.conftest import REPO, free_port, make_settings, settings_env

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

pytestmark = pytest.mark.slow


@pytest.fixture(params=["embedded", pytest.param("opensearch", marks=pytest.mark.integration)])
def settings(request, tmp_path, database_url):
    """The same tests on the embedded index and on a real OpenSearch node (one index per test)."""
    if request.param == "embedded":
        return make_settings(tmp_path / "data", database_url=database_url)
    return make_settings(tmp_path / "data", database_url=database_url,
                         search_url=request.getfixturevalue("opensearch_url"),
                         search_index=f"test-{uuid.uuid4().hex[:10]}")

PAGES = [
    ["Văn Miếu được xây dựng năm 1070", "dưới triều vua Lý Thánh Tông.", "Quốc Tử Giám mở năm 1076."],
    ["Đình làng Hà Nội xưa có mái cong.", "Người Hà Nội gọi nơi ấy là Văn Miếu.", "Khuê Văn Các soi bóng xuống giếng."],
]


@pytest.fixture
def read_item(platform, tmp_path):
    """An item of two rendered Vietnamese pages, read by the real OCR use case and indexed."""
    font = find_vietnamese_font()
    paths = []
    for n, lines in enumerate(PAGES):
        page = render_page(lines, font_path=font, dpi=300, page_width_in=6.0, page_height_in=2.2, margin_in=0.3,
                           font_size_pt=14)
        paths.append(tmp_path / f"trang-{n + 1}.png")
        page.image.save(paths[-1], dpi=(300, 300))
    report = platform.ingest.ingest_item([Upload(p, p.name) for p in paths],
                                         {"title": "Hà Nội xưa", "date": "1930s", "type": "book",
                                          "collection": "Sách cổ"}, actor=SYSTEM)
    item_id = report.items[0].item_id
    for row in platform.catalogue.page_statuses(item_id):
        assert platform.reader.read(row.page_id).value == "done"
    platform.reader.finish_item(item_id)
    flushed = platform.indexer.flush()  # the workers' unit of work has sent them already: nothing is left
    assert flushed.error is None and platform.indexer.pending() == (0, 0)
    return item_id


def test_pages_are_found_with_and_without_diacritics_and_boxed(platform, read_item):
    exact = platform.search.search("Văn Miếu", actor=Actor.system("tests"))
    folded = platform.search.search("Van Mieu", actor=Actor.system("tests"))
    assert exact.total == folded.total == 2
    for res in (exact, folded):
        for hit in res.hits:
            assert hit.item_title == "Hà Nội xưa"
            assert [sp.text for sp in hit.spans] and all(sp.text in ("Văn", "Miếu", "Văn Miếu") for sp in hit.spans)
            assert all(sp.boxes for sp in hit.spans)
        assert res.spans_boxed == res.spans_total > 0
    # the boxes are those of the words the catalogue stored for the page
    hit = next(h for h in exact.hits if h.sequence == 1)
    with platform.sessions() as s:
        van = next(w for w in stored(s, hit.page_id).words if w.text == "Văn")
    assert any(b.x <= van.x and b.y <= van.y and b.x + b.w >= van.x + van.w for sp in hit.spans for b in sp.boxes)

    dinh = platform.search.search("dinh", actor=Actor.system("tests"))
    assert dinh.total == 1 and dinh.hits[0].spans[0].text == "Đình"
    assert platform.search.search("Quoc Tu Giam", actor=Actor.system("tests")).hits[0].sequence == 1
    assert platform.search.search("Văn Miếu", filters={"type": ["newspaper"]}, actor=Actor.system("tests")).total == 0
    assert platform.search.search("Văn Miếu", year_from=1935, year_to=1940, actor=Actor.system("tests")).total == 2


def test_search_within_an_item_and_bad_queries(platform, read_item):
    from library.errors import NotFound

    within = platform.search.search_within(read_item, "Hà Nội", actor=Actor.system("tests"))
    assert [h.sequence for h in within.hits] == [2]
    assert len(within.hits[0].spans) >= 2  # "Hà Nội" twice on page 2
    with pytest.raises(NotFound):
        platform.search.search_within(9999, "x", actor=Actor.system("tests"))
    # malformed queries get a sensible result or a clear message, never an engine error
    from library.errors import InputRejected

    answered = refused = 0
    for q in ['"Văn Miếu', "AND", "*ieu", "-", "\x00\x07Văn", "Văn " * 500, "Văn AND", "((("]:
        try:
            res = platform.search.search(q, actor=Actor.system("tests"))
            answered += 1
            assert res.total >= 0
        except InputRejected as exc:
            refused += 1
            assert exc.source == "query" and len(exc.problem) > 20
            assert not any(w in exc.problem.lower() for w in ("tantivy", "traceback", "exception", "syntaxerror"))
    assert answered >= 4 and platform.search.search('"Văn Miếu', actor=Actor.system("tests")).total == 2


def test_changes_wait_while_the_engine_is_down_and_none_are_lost(tmp_path, database_url):
    port = free_port()  # nothing listens there: a search cluster that is down
    down = make_settings(tmp_path / "data", database_url=database_url, search_url=f"http://127.0.0.1:{port}")
    p = build_platform(down)
    img = tmp_path / "p.png"
    render_page(PAGES[0], font_path=find_vietnamese_font(), dpi=300, page_width_in=6.0, page_height_in=2.2,
                margin_in=0.3, font_size_pt=14).image.save(img, dpi=(300, 300))
    item_id = p.ingest.ingest_item([Upload(img, "p.png")], {"title": "Offline"}, actor=SYSTEM).items[0].item_id
    page_id = p.catalogue.page_statuses(item_id)[0].page_id
    assert p.reader.read(page_id).value == "done"  # OCR succeeds with search down
    p.reader.finish_item(item_id)
    report = p.indexer.flush()
    assert report.error and report.pages == 0
    assert p.indexer.pending() == (1, 1)
    from library.errors import SearchOffline

    with pytest.raises(SearchOffline):
        p.search.search("Văn Miếu", actor=Actor.system("tests"))
    p.close()

    up = dataclasses.replace(down, search_url="")  # the engine is back (the embedded one here)
    p = build_platform(up)
    report = p.indexer.flush()
    assert (report.pages, report.items, report.error) == (1, 1, None)
    assert p.indexer.pending() == (0, 0)
    assert p.search.search("Van Mieu", actor=Actor.system("tests")).total == 1
    p.close()


def test_reindex_and_search_from_the_command_line(platform, read_item, settings):
    env = settings_env(settings)
    env["HERITAGE_DATABASE_URL"] = settings.database_url
    if not settings.search_url:  # an index an earlier version built (another schema) is replaced by reindex
        from search.embedded import VERSION_FILE

        (settings.index_dir / VERSION_FILE).write_text(json.dumps({"schema": 1, "engine": "tantivy"}))
    r = subprocess.run([sys.executable, "-m", "console", "reindex"], env=env, capture_output=True, text=True,
                       cwd=REPO, check=True)
    assert "indexed 3 document(s)" in r.stdout and "reindex: 100%" in r.stderr
    r = subprocess.run([sys.executable, "-m", "console", "search", "van", "mieu", "--json"], env=env,
                       capture_output=True, text=True, cwd=REPO, check=True)
    out = json.loads(r.stdout)
    assert out["total"] == 2 and all(h["spans"] and h["spans"][0]["boxes"] for h in out["hits"])
    r = subprocess.run([sys.executable, "-m", "console", "search", "đình"], env=env, capture_output=True,
                       text=True, cwd=REPO, check=True)
    assert "1 page(s) found" in r.stdout and "[Đình]" in r.stdout


SPELLING_LINES = ["Nước Việt-Nam thời ấy hoà bình.", "Sóng thuỷ triều dâng lên bờ."]


def test_spellings_are_one_word_and_boxed_as_written(platform, tmp_path):
    """Old and new tone-mark placements and hyphenated compounds find the page as OCR read it;
    the spans are the words as written, with their boxes (IIIF Content Search uses the same)."""
    img = tmp_path / "chinh-ta.png"
    render_page(SPELLING_LINES, font_path=find_vietnamese_font(), dpi=300, page_width_in=6.0, page_height_in=1.6,
                margin_in=0.3, font_size_pt=14).image.save(img, dpi=(300, 300))
    item_id = platform.ingest.ingest_item([Upload(img, img.name)], {"title": "Chính tả"}, actor=SYSTEM).items[0].item_id
    page_id = platform.catalogue.page_statuses(item_id)[0].page_id
    assert platform.reader.read(page_id).value == "done"
    platform.reader.finish_item(item_id)
    assert platform.indexer.flush().error is None
    for query, written in [("hòa", ["hoà"]), ("hoà", ["hoà"]), ("thủy", ["thuỷ"]), ('"Việt Nam"', ["Việt", "Nam"]),
                           ("Viet Nam", ["Việt", "Nam"])]:
        found = platform.search.search(query, actor=Actor.system("tests"))
        assert found.total == 1, query
        hit = found.hits[0]
        assert [sp.text for sp in hit.spans] == written, query
        assert all(sp.boxes for sp in hit.spans), query
        assert "".join(written[:1]) in hit.snippets[0].text  # snippets show the text as written
    within = platform.search.search_within(item_id, "thủy", actor=Actor.system("tests"))
    assert [[sp.text for sp in h.spans] for h in within.hits] == [["thuỷ"]] and within.hits[0].spans[0].boxes
