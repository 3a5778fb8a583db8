"""The search contract, run against every engine: tantivy, a real OpenSearch node, Elasticsearch 8 (ES_URL).

The corpus below is small Vietnamese text written for these tests; each case
states what an archivist expects, and every engine must give the same answer.
"""

from __future__ import annotations

import pytest

from search import (
    ItemDoc,
    MonumentDoc,
    PageDoc,
    QueryError,
    SearchRequest,
    SearchUnavailable,
    open_engine,
)
from search.vietnamese import fold
from tests.search.conftest import ENGINES, make_engine

# ------------------------------------------------------------------ corpus
VAN_MIEU = dict(item_id=1, title="Văn Miếu – Quốc Tử Giám", type="book", date="2010", creators=("Nhóm biên soạn",),
                collections=("Sách Hà Nội",), languages=("vi",), subjects=("Văn Miếu", "Quốc Tử Giám"))
NEWS = dict(item_id=2, title="Tin Hà Thành", type="newspaper", date="1936-01-15", creators=("Tòa soạn",),
            collections=("Báo cũ",), languages=("vi", "fr"))
OCR = dict(item_id=3, title="Bản in mờ", type="book", date="1930s", creators=("Khuyết danh",),
           collections=("Sách Hà Nội",), languages=("vi",))
OLD = dict(item_id=4, title="Ký sự đình làng", type="magazine", date="khoảng 1900", creators=("Khuyết danh",),
           collections=("Tạp chí",), languages=("vi",))
RANK = dict(item_id=5, title="Trang thử", type="book", creators=("Nhóm thử",), collections=("Thử",))

PAGES = {
    "page:101": (VAN_MIEU, 1, "Văn Miếu được dựng năm 1070 dưới triều Lý. Quốc Tử Giám là trường đại học "
                              "đầu tiên của nước ta, nơi dạy con em quý tộc."),
    "page:102": (VAN_MIEU, 2, "Khuê Văn Các đứng giữa sân, hai bên là những tấm bia tiến sĩ đặt trên lưng rùa đá."),
    "page:103": (VAN_MIEU, 3, "Chu Văn An từng dạy học ở Quốc Tử Giám và dâng sớ xin chém bảy tên nịnh thần."),
    "page:201": (NEWS, 1, "Hom qua co doan hoc sinh di tham Van Mieu va Quoc Tu Giam. Pho Hang Dao dong nguoi."),
    "page:202": (NEWS, 2, "Xe điện chạy từ Bờ Hồ lên chợ Đồng Xuân, vé hạng nhì giá ba xu."),
    "page:301": (OCR, 1, "Học trò về Quốc Tủ Giárn thi, thầy đồ ngồi chấm bài dưới gốc cây lam."),
    "page:401": (OLD, 1, "Ngôi đình làng cổ có mái cong, dân làng họp việc dưới đình vào ngày rằm."),
    "page:501": (RANK, 1, "Sáng nay chúng tôi đến thăm Văn Miếu cùng các bạn học."),
    "page:502": (RANK, 2, "Sáng nay chúng tôi đến thăm Van Mieu cùng các bạn học."),
    "page:503": (RANK, 3, "Sáng nay chúng tôi đến thăm vạn miếu cùng các bạn học."),
}
TEXTS = {doc_id: text for doc_id, (_, _, text) in PAGES.items()}


def corpus_docs():
    docs = []
    for doc_id, (meta, number, text) in PAGES.items():
        docs.append(PageDoc(access="public", page_id=doc_id.split(":")[1], page_number=number, text=text, **meta))
    for meta in (VAN_MIEU, NEWS, OCR, OLD):
        text = "\n\n".join(t for _, (m, _, t) in PAGES.items() if m is meta)
        docs.append(ItemDoc(access="public", text=text, **meta))
    docs.append(MonumentDoc(monument_id=1, name_vi="Văn Miếu – Quốc Tử Giám", name_en="Temple of Literature",
                            description_vi="Văn Miếu thờ Khổng Tử, Quốc Tử Giám là trường học.",
                            description_en="The Temple of Literature honours Confucius.",
                            lat=21.0293, lon=105.8355, period="Lý", year_start=1070, year_end=1076))
    return docs


@pytest.fixture(scope="module", params=ENGINES)
def engine(request, tmp_path_factory):
    """Each engine with the corpus indexed once, for read-only tests."""
    e = make_engine(request, request.param, tmp_path_factory.mktemp("corpus"))
    e.index(corpus_docs())
    e.refresh()
    yield e
    e.drop()
    e.close()


def ids(result):
    return [h.id for h in result.hits]


def pages(engine, query, **kw):
    return engine.search(SearchRequest(access_levels=("public",), query=query, kinds=["page"], **kw))


# ------------------------------------------------------------ diacritics (100%)
DIACRITIC_CASES = [
    ("Văn Miếu", {"page:101", "page:201", "page:501", "page:502", "page:503"}),
    ("Van Mieu", {"page:101", "page:201", "page:501", "page:502", "page:503"}),
    ("van mieu", {"page:101", "page:201", "page:501", "page:502", "page:503"}),
    ("VĂN MIẾU", {"page:101", "page:201", "page:501", "page:502", "page:503"}),
    ("Quoc Tu Giam", {"page:101", "page:103", "page:201"}),
    ("Quốc Tử Giám", {"page:101", "page:103", "page:201"}),
    ("dinh", {"page:401"}),
    ("đình", {"page:401"}),
    ("Dong Xuan", {"page:202"}),
    ("Pho Hang Dao", {"page:201"}),
    ("Phố Hàng Đào", {"page:201"}),
    ("Khue Van Cac", {"page:102"}),
    ("rùa", {"page:102"}),
    ("\u0111\u00ecnh", {"page:401"}),
    ("d\u0300inh", {"page:401"}),  # a combining mark with no precomposed form in NFC: folded away
]


@pytest.mark.parametrize("query,expected", DIACRITIC_CASES)
@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_found_with_and_without_diacritics(engine, query, expected, form):
    import unicodedata

    result = pages(engine, unicodedata.normalize(form, query))
    assert set(ids(result)) == expected
    assert result.total == len(expected)


def test_exact_diacritics_rank_first(engine):
    result = pages(engine, "Văn Miếu", item_id=5)
    assert ids(result)[0] == "page:501"
    scores = {h.id: h.score for h in result.hits}
    assert scores["page:501"] > scores["page:502"] and scores["page:501"] > scores["page:503"]
    # typed without marks: the page written without marks comes first
    assert ids(pages(engine, "Van Mieu", item_id=5))[0] == "page:502"


def test_phrases(engine):
    assert set(ids(pages(engine, '"Quốc Tử Giám"'))) == {"page:101", "page:103", "page:201"}
    assert set(ids(pages(engine, '"Quoc Tu Giam"'))) == {"page:101", "page:103", "page:201"}
    assert ids(pages(engine, '"Giám Tử Quốc"')) == []  # order matters
    assert set(ids(pages(engine, '"bia tiến sĩ"'))) == {"page:102"}
    assert ids(pages(engine, '"tiến bia"')) == []


def test_boolean_operators(engine):
    assert set(ids(pages(engine, "Khuê OR Chu"))) == {"page:102", "page:103"}
    assert set(ids(pages(engine, "Quốc Tử Giám -Chu"))) == {"page:101", "page:201"}
    assert set(ids(pages(engine, 'Quốc Tử Giám NOT "Van Mieu"'))) == {"page:103"}
    assert set(ids(pages(engine, "Đồng*"))) == {"page:202", "page:201"}  # Đồng Xuân, "dong nguoi"


def test_prefix(engine):
    assert set(ids(pages(engine, "Xuâ*"))) == {"page:202"}
    assert set(ids(pages(engine, "tiế*"))) == {"page:101", "page:102"}  # tiên, tiến
    assert ids(pages(engine, "Nguyễ*")) == []


def test_fuzzy_only_when_asked(engine):
    assert "page:301" not in ids(pages(engine, "Quốc Tử Giám"))  # "Giárn" is OCR damage
    assert "page:301" in ids(pages(engine, "Quốc Tử Giám", fuzzy=True))
    assert "page:301" in ids(pages(engine, "Quốc Tử Giám~"))
    fuzzy = pages(engine, "Quốc Tử Giám", fuzzy=True)
    order = ids(fuzzy)
    assert order.index("page:301") > max(order.index("page:101"), order.index("page:103"))  # exact first
    assert ids(pages(engine, "trườnq~")) == ["page:101"]  # one letter off, 5+ letters: found
    assert ids(pages(engine, "trườnq")) == []


def test_fuzzy_does_not_flood_short_syllables(engine):
    # "lan" is one edit from "lam" (page 301) but syllables under 5 letters are never fuzzed
    assert ids(pages(engine, "lan~")) == []
    assert ids(pages(engine, "lam~")) == ["page:301"]


# ------------------------------------------------------------ facets, dates, sorting
def test_facets_and_counts(engine):
    result = pages(engine, "", facets=("collection", "type", "language", "decade", "year", "creator"))
    assert result.total == len(PAGES)
    f = {name: {v.value: v.count for v in values} for name, values in result.facets.items()}
    assert f["collection"] == {"Sách Hà Nội": 4, "Báo cũ": 2, "Tạp chí": 1, "Thử": 3}
    assert f["type"] == {"book": 7, "newspaper": 2, "magazine": 1}
    assert f["language"] == {"vi": 7, "fr": 2}
    assert f["year"] == {2010: 3, 1936: 2}
    assert f["decade"] == {2010: 3, 1930: 3, 1890: 1, 1900: 1}
    assert f["creator"]["Khuyết danh"] == 2


def test_filters(engine):
    assert set(ids(pages(engine, "", filters={"type": ["newspaper"]}))) == {"page:201", "page:202"}
    assert set(ids(pages(engine, "", filters={"type": "newspaper", "language": ["fr"]}))) == {"page:201", "page:202"}
    assert set(ids(pages(engine, "", filters={"collection": ["Báo cũ", "Tạp chí"]}))) == {"page:201", "page:202",
                                                                                           "page:401"}
    assert set(ids(pages(engine, "Van Mieu", filters={"year": [1936]}))) == {"page:201"}
    assert set(ids(pages(engine, "", filters={"decade": ["1890"]}))) == {"page:401"}
    assert set(ids(engine.search(SearchRequest(access_levels=("public",), query="Văn Miếu", kinds=["monument"])))) == {"monument:1"}
    assert set(ids(engine.search(SearchRequest(access_levels=("public",), query="Temple Literature")))) == {"monument:1"}
    items = engine.search(SearchRequest(access_levels=("public",), query="Chu Văn An", kinds=["item"]))
    assert ids(items) == ["item:1"]


def test_date_range_includes_approximate_dates(engine):
    # 1930s is 1930–1939, 1936-01-15 is 1936, "khoảng 1900" is 1895–1905
    assert set(ids(pages(engine, "", year_from=1935, year_to=1937))) == {"page:201", "page:202", "page:301"}
    assert set(ids(pages(engine, "", year_from=1898, year_to=1898))) == {"page:401"}
    assert set(ids(pages(engine, "", year_from=2000))) == {"page:101", "page:102", "page:103"}
    assert set(ids(pages(engine, "", year_to=1931))) == {"page:301", "page:401"}


def test_sort_by_date(engine):
    oldest = pages(engine, "", sort="date", filters={"collection": ["Sách Hà Nội", "Báo cũ", "Tạp chí"]})
    assert [h.year_start for h in oldest.hits] == sorted(h.year_start for h in oldest.hits)
    assert oldest.hits[0].id == "page:401"
    newest = pages(engine, "", sort="-date", per_page=3)
    assert {h.id for h in newest.hits} == {"page:101", "page:102", "page:103"}
    undated = pages(engine, "", sort="date")
    assert {h.id for h in undated.hits[-3:]} == {"page:501", "page:502", "page:503"}  # no date: last


# ------------------------------------------------------------ highlights
HIGHLIGHT_CASES = [
    ("Văn Miếu", {"Văn", "Miếu", "Van", "Mieu", "vạn", "miếu"}),
    ("Van Mieu", {"Văn", "Miếu", "Van", "Mieu", "vạn", "miếu"}),
    ("Quoc Tu Giam", {"Quốc", "Tử", "Giám", "Quoc", "Tu", "Giam"}),
    ('"tấm bia"', {"tấm", "bia"}),
    ("dinh", {"đình"}),
    ("Giám~", {"Giám", "Giam", "Giárn"}),
]


@pytest.mark.parametrize("query,words", HIGHLIGHT_CASES)
def test_highlights_are_offsets_of_the_matched_words(engine, query, words):
    result = pages(engine, query)
    assert result.hits
    for hit in result.hits:
        text = TEXTS[hit.id]
        assert hit.highlights, hit.id
        got = [text[s:e] for s, e in hit.highlights]
        assert set(got) <= words, (hit.id, got)
        assert hit.highlights == sorted(hit.highlights)
        for snippet in hit.snippets:
            assert text[snippet.start:snippet.start + len(snippet.text)] == snippet.text
            for s, e in snippet.highlights:
                assert snippet.text[s:e] in words


def test_highlights_of_a_phrase_cover_only_the_phrase(engine):
    hit = pages(engine, '"Văn Miếu"', item_id=1).hits[0]
    assert hit.id == "page:101"
    assert [TEXTS[hit.id][s:e] for s, e in hit.highlights] == ["Văn", "Miếu"]


def test_highlights_for_every_occurrence(engine):
    hit = pages(engine, "đình").hits[0]
    text = TEXTS[hit.id]
    expected = [(i, i + 4) for i in range(len(text)) if text.startswith("đình", i)]
    assert len(expected) == 2 and hit.highlights == expected
    assert all(fold(text)[s:e] == "dinh" for s, e in hit.highlights)


def test_search_within_one_item(engine):
    result = engine.search_within(1, "Quoc Tu Giam", access_levels=("public",))
    assert [h.page_number for h in result.hits] == [1, 3]
    assert all(h.item_id == "1" and h.kind == "page" for h in result.hits)
    for h in result.hits:
        assert {TEXTS[h.id][s:e] for s, e in h.highlights} == {"Quốc", "Tử", "Giám"}
    assert engine.search_within(1, "Xe điện", access_levels=("public",)).hits == []
    assert engine.search_within("no-such-item", "Văn", access_levels=("public",)).total == 0


def test_suggestions(engine):
    assert engine.suggest("quoc t", access_levels=("public",))[0].text == "Quốc Tử Giám"
    assert engine.suggest("Văn M", access_levels=("public",))[0].text in ("Văn Miếu", "Văn Miếu – Quốc Tử Giám")
    assert {s.text for s in engine.suggest("van mi", access_levels=("public",))} >= {"Văn Miếu", "Văn Miếu – Quốc Tử Giám"}
    assert engine.suggest("Temple", access_levels=("public",))[0].text == "Temple of Literature"
    assert engine.suggest("zzz", access_levels=("public",)) == []
    assert engine.suggest("", access_levels=("public",)) == [] and engine.suggest("  --  ", access_levels=("public",)) == []


# ------------------------------------------------------------ bad input
ENGINE_WORDS = ("tantivy", "opensearch", "elasticsearch", "exception", "traceback", "lucene", "error:")


def _clean_message(msg: str) -> None:
    assert msg and not any(w in msg.lower() for w in ENGINE_WORDS), msg


@pytest.mark.parametrize("query", [
    'title:(Văn', '"Quốc Tử Giám', "Văn Miếu)", "AND Văn", "Văn OR", "Văn AND OR Miếu", "*iếu", "?an",
    "V*n", "Văn\x00Miếu\x1b[31m", "Văn\u200bMiếu", "Văn " * 400, "x" * 5000, "--Văn", "Văn~~", "Văn^2",
    "[Văn TO Miếu]", "{!lucene}Văn", "Văn && Miếu || Giám", "\\Văn", "/Văn.*/", "Văn:", "🙂 Văn",
])
def test_bad_queries_get_a_sensible_result(engine, query):
    try:
        result = pages(engine, query)
    except QueryError as e:
        _clean_message(str(e))
        return
    assert result.total >= 0
    for n in result.notices:
        _clean_message(n.message)


@pytest.mark.parametrize("query", ["AND", "OR", "NOT", "-", "+", "!!!", "*", '""', "( )", "\x00\x01"])
def test_nothing_to_search_for_is_a_clear_message(engine, query):
    with pytest.raises(QueryError) as e:
        pages(engine, query)
    _clean_message(str(e.value))
    assert "word" in str(e.value)


def test_repairs_are_told(engine):
    codes = lambda q: {n.code for n in pages(engine, q).notices}  # noqa: E731
    assert "unbalanced_quote" in codes('"Quốc Tử Giám')
    assert "lone_operator" in codes("Văn OR")
    assert "leading_wildcard" in codes("*iếu")
    assert "control_characters" in codes("Văn\x07")
    assert "truncated" in codes("Văn " * 400)
    assert set(ids(pages(engine, '"Quốc Tử Giám'))) == {"page:101", "page:103", "page:201"}


def test_bad_paging(engine):
    r = pages(engine, "", page=0)
    assert r.page == 1 and {n.code for n in r.notices} == {"page_out_of_range"}
    r = pages(engine, "", page=-3, per_page=5)
    assert r.page == 1 and len(r.hits) == 5
    r = pages(engine, "", page=50, per_page=5)
    assert r.hits == [] and r.total == len(PAGES) and "page_out_of_range" in {n.code for n in r.notices}
    assert "last page (2)" in r.notices[-1].message
    r = pages(engine, "", per_page=0)  # the default page size instead
    assert len(r.hits) == len(PAGES) and "per_page" in {n.code for n in r.notices}
    r = pages(engine, "", per_page=10_000)
    assert len(r.hits) == len(PAGES)
    with pytest.raises(QueryError):
        pages(engine, "", page=10**9)
    with pytest.raises(QueryError):
        pages(engine, "", page="abc")


def test_bad_filters(engine):
    r = pages(engine, "Văn", filters={"collection": ["Không có"]})
    assert r.total == 0 and r.notices[-1].code == "unknown_value" and "Không có" in r.notices[-1].message
    for bad in ({"colour": ["red"]}, {"year": ["nineteen"]}):
        with pytest.raises(QueryError) as e:
            pages(engine, "Văn", filters=bad)
        _clean_message(str(e.value))
    with pytest.raises(QueryError):
        pages(engine, "Văn", sort="title")
    with pytest.raises(QueryError):
        pages(engine, "Văn", year_from="long ago")
    with pytest.raises(QueryError):
        engine.search(SearchRequest(access_levels=("public",), query="Văn", kinds=["scroll"]))
    with pytest.raises(QueryError):
        pages(engine, "Văn", facets=("colour",))
    r = pages(engine, "", year_from=1940, year_to=1930)
    assert "years_swapped" in {n.code for n in r.notices} and r.total == 3
    with pytest.raises(QueryError):
        pages(engine, "Văn", sort="page")  # page order needs an item


def test_bad_cursors(engine):
    first = pages(engine, "", per_page=3)
    with pytest.raises(QueryError):
        pages(engine, "", per_page=3, cursor="not-a-cursor")
    with pytest.raises(QueryError) as e:
        pages(engine, "Văn", per_page=3, cursor=first.next_cursor)
    assert "another search" in str(e.value)


# ------------------------------------------------------------ paging
def test_paging_and_cursor(engine):
    by_number = []
    for page in (1, 2, 3, 4):
        r = pages(engine, "", per_page=3, page=page, sort="date")
        by_number += ids(r)
    assert len(by_number) == len(PAGES) == len(set(by_number))
    by_cursor, cursor = [], None
    while True:
        r = pages(engine, "", per_page=3, sort="date", cursor=cursor)
        by_cursor += ids(r)
        cursor = r.next_cursor
        if cursor is None:
            break
    assert by_cursor == by_number
    relevance = [pages(engine, "Văn Miếu", per_page=2, page=p) for p in (1, 2, 3)]
    assert sum((ids(r) for r in relevance), []) == ids(pages(engine, "Văn Miếu", per_page=10))


# ------------------------------------------------------------ writing
def page(n: int, text: str, item: int = 9, **meta) -> PageDoc:
    return PageDoc(access="public", page_id=n, item_id=item, page_number=n, text=text, title="Thử", **meta)


def test_index_update_delete(empty_engine):
    e = empty_engine
    e.index([page(1, "Hồ Hoàn Kiếm có Tháp Rùa.")])
    e.refresh()
    assert ids(pages(e, "Thap Rua")) == ["page:1"]
    e.index([page(1, "Đền Ngọc Sơn nối với bờ bằng cầu Thê Húc.")])  # update replaces
    e.refresh()
    assert ids(pages(e, "Thap Rua")) == [] and ids(pages(e, "cau The Huc")) == ["page:1"]
    assert e.count() == 1
    e.delete(["page:1", "page:404"])
    e.refresh()
    assert e.count() == 0 and ids(pages(e, "cau The Huc")) == []


def test_bulk_and_delete_item(empty_engine):
    e = empty_engine
    n = e.index(page(i, f"Trang số {i} nói về chùa Một Cột.", item=1 + i % 2) for i in range(1, 301))
    e.index([ItemDoc(access="public", item_id=1, title="Chùa Một Cột"), ItemDoc(access="public", item_id=2, title="Chùa Trấn Quốc")])
    e.refresh()
    assert n == 300 and e.count() == 302 and e.count("page") == 300 and e.count("item") == 2
    assert pages(e, "chua Mot Cot").total == 300
    e.delete_item(2)
    e.refresh()
    assert e.count("page") == 150 and e.count("item") == 1
    e.clear()
    e.refresh()
    assert e.count() == 0


def test_a_word_in_any_field_matches_and_scores_by_field(empty_engine):
    """Which documents a word matches is decided by one clause over the folded words of every searched field
    (the heading, the other metadata, the text, the readings of Hán characters); the fields still weigh."""
    e = empty_engine
    e.index([ItemDoc(access="public", item_id=11, title="Đình Bảng", text="Trang đầu của sách.",
                     creators=("Lê Quý Đôn",), subjects=("kiến trúc",)),
             ItemDoc(access="public", item_id=12, title="Chùa Keo", text="Làng Đình Bảng có ngôi đình cổ."),
             ItemDoc(access="public", item_id=13, title="Sách Hán", text="文廟"),
             ItemDoc(access="public", item_id=14, title="Sách khác", text="Không có gì.")])
    e.refresh()

    def items(query, **kw):
        return e.search(SearchRequest(access_levels=("public",), query=query, kinds=["item"], **kw))

    assert ids(items("bang")) == ["item:11", "item:12"]  # in the heading (weight 2) before the text
    assert ids(items("Bảng")) == ["item:11", "item:12"]
    assert ids(items("Le Quy Don")) == ["item:11"]  # the creators only
    assert ids(items("kien truc")) == ["item:11"]  # the subjects only
    assert ids(items("kiế*")) == ["item:11"]  # a prefix, in the subjects only
    assert ids(items("van mieu")) == ["item:13"]  # the readings of 文廟 only
    assert set(ids(items("sach -bang"))) == {"item:13", "item:14"}  # excluded wherever it is
    assert set(ids(items("Keo OR Don"))) == {"item:11", "item:12"}
    assert items("bang").total == 2 and items("chùa").total == 1
    assert items("bang").hits[0].score > items("bang").hits[1].score > 0


def test_rebuild_swaps_in_one_step(empty_engine):
    e = empty_engine
    e.index([page(1, "bản cũ")])
    e.refresh()
    seen = []
    n = e.rebuild((page(i, f"bản mới {i}") for i in range(1, 51)), progress=seen.append)
    e.refresh()
    assert n == 50 and seen[-1] == 50
    assert e.count() == 50 and ids(pages(e, "cũ")) == [] and pages(e, "mới").total == 50


def test_bad_documents_are_refused(empty_engine):
    with pytest.raises(ValueError):
        empty_engine.index([PageDoc(access="public", page_id=1, item_id=1, page_number=0, text="x")])
    with pytest.raises(ValueError):
        empty_engine.index([{"no": "id"}])
    with pytest.raises(ValueError):
        empty_engine.index([MonumentDoc(monument_id=1, name_vi="x", lat=200.0, lon=0.0)])


def test_text_is_nfc_normalised(empty_engine):
    import unicodedata

    e = empty_engine
    nfd = unicodedata.normalize("NFD", "Văn Miếu")
    e.index([page(1, f"Thăm {nfd} hôm nay")])
    e.refresh()
    hit = pages(e, "Văn Miếu").hits[0]
    nfc_text = unicodedata.normalize("NFC", f"Thăm {nfd} hôm nay")
    assert [nfc_text[s:e_] for s, e_ in hit.highlights] == ["Văn", "Miếu"]


def test_han_characters_are_words_and_found_as_a_phrase_each_highlighted(empty_engine):
    """Hán has no spaces: each character is a word, a run of them a phrase; the highlights are the
    characters, one each (their boxes on the page are a character's each)."""
    e = empty_engine
    stele = "大寶三年壬戌科進士題名記\n國家設科目以取士"
    e.index([page(1, stele), page(2, "Bia tiến sĩ khoa Nhâm Tuất (進士題名記) ở Văn Miếu 文廟"), page(3, "士進")])
    e.refresh()
    assert set(ids(pages(e, "進士"))) == {"page:1", "page:2"}  # 士進 is not the phrase
    hit = [h for h in pages(e, "進士").hits if h.id == "page:1"][0]
    assert [stele[s:e_] for s, e_ in hit.highlights] == ["進", "士"]
    assert ids(pages(e, "科目")) == ["page:1"] and ids(pages(e, "目科")) == []
    assert ids(pages(e, "士")) and set(ids(pages(e, "士"))) == {"page:1", "page:2", "page:3"}
    mixed = [h for h in pages(e, "Văn Miếu 文廟").hits]
    assert [h.id for h in mixed] == ["page:2"]
    text = "Bia tiến sĩ khoa Nhâm Tuất (進士題名記) ở Văn Miếu 文廟"
    assert [text[s:e_] for s, e_ in mixed[0].highlights] == ["Văn", "Miếu", "文", "廟"]


def test_han_characters_are_found_by_their_sino_vietnamese_reading_with_or_without_marks(empty_engine):
    """``tiến sĩ`` or ``tien si`` finds 進士, ``văn miếu`` finds 文廟 (Unihan's kVietnamese readings), the
    hit boxed on the characters; a page that has the words written out ranks above one with the
    characters; the readings follow the characters' order (士進, ``sĩ tiến``, has both words but is not the
    phrase ``"tiến sĩ"``)."""
    e = empty_engine
    stele = "大寶三年壬戌科進士題名記\n" + "國家設科目以取士" * 40 + "\n文廟"  # the temple's name far down the page
    e.index([page(1, stele), page(2, "Bia tiến sĩ ở Văn Miếu"), page(3, "士進")])
    e.refresh()
    for query in ("tiến sĩ", "tien si", "TIẾN SĨ"):
        found = pages(e, query)
        assert found.hits[0].id == "page:2" and set(ids(found)) == {"page:1", "page:2", "page:3"}, query
        on_stele = [h for h in found.hits if h.id == "page:1"][0]
        assert (7, 8) in on_stele.highlights and (8, 9) in on_stele.highlights, query  # 進士 in the title line
        assert {stele[s:e_] for s, e_ in on_stele.highlights} == {"進", "士"}, query  # and every other 士
    assert ids(pages(e, '"tiến sĩ"')) == ["page:2", "page:1"]
    assert "page:3" not in ids(pages(e, '"tiến sĩ"'))  # 士進 reads "sĩ tiến"
    far = [h for h in pages(e, "văn miếu").hits if h.id == "page:1"][0]
    assert [stele[s:e_] for s, e_ in far.highlights] == ["文", "廟"]
    assert far.snippets and "文廟" in "".join(sn.text for sn in far.snippets)


def test_paging_beyond_ten_thousand_hits(empty_engine):
    e = empty_engine
    total = 10_030
    e.index(PageDoc(access="public", page_id=i, item_id=1, page_number=i, text=f"trang {i}", date=str(1000 + i // 10))
            for i in range(1, total + 1))
    e.refresh()
    # exhaustive: page through every match (the embedded engine answers 10,030 matches from a sample otherwise)
    r = pages(e, "trang", sort="date", per_page=20, page=501, exhaustive=True)  # hits 10,001–10,020
    assert r.total == total and len(r.hits) == 20
    assert [h.year_start for h in r.hits] == sorted(h.year_start for h in r.hits)
    assert all(h.year_start >= 1000 + 10_000 // 10 - 1 for h in r.hits)
    seen = set(ids(r))
    cursor = r.next_cursor
    while cursor:
        nxt = pages(e, "trang", sort="date", per_page=20, cursor=cursor, exhaustive=True)
        seen |= set(ids(nxt))
        cursor = nxt.next_cursor
    assert len(seen) == total - 10_000
    last = pages(e, "trang", per_page=20, page=502, exhaustive=True)
    assert len(last.hits) == 10


# ------------------------------------------------------------ engine down
def test_a_cluster_that_is_down_is_unavailable_not_broken():
    e = open_engine("http://127.0.0.1:9", index="heritage", timeout_s=2)
    with pytest.raises(SearchUnavailable):
        e.index([page(1, "x")])
    with pytest.raises(SearchUnavailable):
        e.search(SearchRequest(access_levels=("public",), query="x"))
    assert e.health().ok is False


def test_open_engine_chooses_by_location(tmp_path):
    from search.cluster import ClusterEngine
    from search.embedded import TantivyEngine

    assert isinstance(open_engine(tmp_path / "a"), TantivyEngine)
    assert isinstance(open_engine(f"tantivy://{tmp_path / 'b'}"), TantivyEngine)
    assert isinstance(open_engine("https://search.example:9200"), ClusterEngine)
    with pytest.raises(ValueError):
        open_engine("ftp://x")


def test_unique_ids_per_kind():
    from search import item_doc_id, monument_doc_id, page_doc_id

    assert (page_doc_id(3), item_doc_id(3), monument_doc_id(3)) == ("page:3", "item:3", "monument:3")
