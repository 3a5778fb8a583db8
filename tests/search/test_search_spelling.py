"""One canonical Vietnamese spelling for search: tone-mark placements, ``qui``/``quy``, NFD and
pre-1950 hyphenated compounds are one word, on every engine, with offsets into the text as written.

The corpus is written for these tests (short sentences, each spelling in the same frame so
scores can be compared); the dictionary check uses Debian's hunspell-vi word list, which is
not search text.
"""

from __future__ import annotations

import json
import unicodedata
import urllib.request
import uuid
from pathlib import Path

import pytest

from search import ItemDoc, PageDoc, SearchRequest, open_engine, parse_query
from search.cluster_schema import cluster_record
from search.documents import SPELLING_FIELD, spelled_for_index
from search.engine import rank_suggestions, suggestion_prefix
from search.highlight import spans_for_query
from search.vietnamese import (
    canonical_syllable,
    canonical_text,
    exact_key,
    fold,
    folded_key,
    nfc,
    restore_spelling,
    spelling_changes,
    words,
)
from tests.search.conftest import ENGINES, make_engine

HUNSPELL_VI = Path("/usr/share/hunspell/vi_VN.dic")


# ------------------------------------------------------------------ the rule
@pytest.mark.parametrize("written,canonical", [
    # open oa / oe / uy: the two placements are one word
    ("hoà", "hòa"), ("hòa", "hòa"), ("hoá", "hóa"), ("khoẻ", "khỏe"), ("khỏe", "khỏe"), ("thuỷ", "thủy"),
    ("thủy", "thủy"), ("Uỷ", "Ủy"), ("tuỳ", "tùy"), ("oà", "òa"), ("loè", "lòe"),
    # a quality vowel carries the mark (the later one in ươ)
    ("muốn", "muốn"), ("người", "người"), ("rượu", "rượu"), ("cứu", "cứu"), ("mưa", "mưa"), ("thuở", "thuở"),
    ("thuế", "thuế"), ("khuấy", "khuấy"), ("xoắn", "xoắn"), ("tiếng", "tiếng"), ("yếu", "yếu"), ("Nguyễn", "Nguyễn"),
    # a final consonant: the last vowel
    ("hoàng", "hoàng"), ("toán", "toán"), ("huỳnh", "huỳnh"), ("xoong", "xoong"),
    # open syllables: first of two, middle of three
    ("mía", "mía"), ("múa", "múa"), ("của", "của"), ("tài", "tài"), ("chịu", "chịu"), ("ngoài", "ngoài"),
    ("ngoaì", "ngoài"), ("xoáy", "xoáy"), ("khuỷu", "khuỷu"), ("ngoẹo", "ngoẹo"),
    # gi and qu before a vowel are onsets: their i / u never carry the mark
    ("giả", "giả"), ("gỉa", "giả"), ("gìa", "già"), ("giữa", "giữa"), ("giường", "giường"), ("gìn", "gìn"),
    ("quả", "quả"), ("qủa", "quả"), ("qúa", "quá"), ("quyển", "quyển"), ("quốc", "quốc"),
    # after qu, i and y are one letter
    ("quí", "quý"), ("quý", "quý"), ("qui", "quy"), ("quì", "quỳ"), ("quỉ", "quỷ"), ("quít", "quýt"),
    # case is kept letter by letter
    ("HOÀ", "HÒA"), ("Thuỷ", "Thủy"), ("QUÍ", "QUÝ"), ("HOà", "HÒa"),
    # not one Vietnamese syllable, or two tone marks: left alone
    ("poésie", "poésie"), ("été", "été"), ("café", "café"), ("lý", "lý"), ("kĩ", "kĩ"), ("Hanoi", "Hanoi"),
    ("1070", "1070"), ("hoàà", "hoàà"),
])
def test_one_tone_mark_rule(written, canonical):
    assert canonical_syllable(written) == canonical
    assert canonical_syllable(canonical) == canonical
    assert len(canonical) == len(written)
    assert canonical_syllable(unicodedata.normalize("NFD", written)) == canonical


def test_canonical_text_is_the_same_length_and_offsets_hold():
    text = nfc("«Nước Việt-Nam» có chữ quốc-ngữ; HOÀ-BÌNH, sức khoẻ, thuỷ‐triều (1930-1940), "
               "của quí, qúa, déjà vu, l'été, Hà Nội—Sài Gòn, x-2, Giám-")
    canon = canonical_text(text)
    assert canon == ("«Nước Việt Nam» có chữ quốc ngữ; HÒA BÌNH, sức khỏe, thủy triều (1930-1940), "
                     "của quý, quá, déjà vu, l'été, Hà Nội—Sài Gòn, x-2, Giám-")
    assert len(canon) == len(text)
    assert canonical_text(canon) == canon
    assert [(w.start, w.end) for w in words(canon)] == [(w.start, w.end) for w in words(text)]
    for w in words(text):  # each word's keys are those of its canonical form, at the same place
        assert w.exact == canon[w.start:w.end].lower()
        assert w.folded == fold(canon[w.start:w.end]).lower()


def test_the_scan_finds_every_word_the_rule_changes():
    """``canonical_text`` looks again only at words its scan finds; on every onset, vowel group,
    final consonant, tone mark on every vowel and letter case, it equals the rule word by word."""
    import itertools

    from search.vietnamese import _VOWEL_GROUPS, _VOWELS, TONE_MARKS, _canonical_word

    samples = []
    for onset, group, coda in itertools.product(["", "b", "g", "gi", "ngh", "q", "qu", "tr"], sorted(_VOWEL_GROUPS),
                                                ["", "c", "ch", "n", "ng"]):
        base = onset + group + coda
        for i in [None] + [i for i, c in enumerate(base) if c in _VOWELS]:
            for tone in TONE_MARKS if i is not None else [""]:
                w = base if i is None else base[:i] + nfc(base[i] + tone) + base[i + 1:]
                samples += [w, w.upper(), w.title()]
    assert len(samples) > 50_000
    text = " ".join(samples) + " " + "-".join(samples[:3000])
    canon = canonical_text(text)
    expected = " ".join(_canonical_word(w) for w in samples) + " " + " ".join(_canonical_word(w) for w in samples[:3000])
    assert canon == expected
    assert sum(a != b for a, b in zip(samples, canon.split(" "))) > 10_000  # the rule did change many


def test_nfd_text_is_left_for_nfc_to_compose():
    nfd = unicodedata.normalize("NFD", "hoà thuỷ")
    assert canonical_text(nfd) == nfd  # decomposed letters are not read as syllables...
    assert canonical_text(nfc(nfd)) == "hòa thủy"  # ...the index and the parser compose them first


def test_the_original_spelling_is_restored_from_the_changes():
    text = nfc("Việt-Nam hoà bình, thuỷ triều, của quí.")
    canon = canonical_text(text)
    changes = spelling_changes(text, canon)
    assert restore_spelling(canon, changes) == text
    assert restore_spelling(canon, changes.encode()) == text
    for cut in range(len(canon) + 1):  # a highlighter's preview cut anywhere
        assert restore_spelling(canon[:cut], changes) == text[:cut]
    assert spelling_changes("Hà Nội", "Hà Nội") == "" and restore_spelling("Hà Nội", "") == "Hà Nội"
    rec = spelled_for_index({"id": "page:1", "kind": "page", "text": text, "heading": "Hoà-Bình"})
    assert rec["text"] == canon and rec["heading"] == "Hòa Bình"
    assert restore_spelling(rec["text"], rec[SPELLING_FIELD]) == text
    assert SPELLING_FIELD not in spelled_for_index({"id": "page:2", "kind": "page", "text": "Hà Nội"})


def test_hunspell_dictionary_words_keep_their_spelling_but_for_the_placement():
    """Every word of Debian's Vietnamese dictionary (which follows the 1980s school placement):
    same length, stable, and changed only where the two placements differ (open oa, oe, uy)
    or where qu is followed by i."""
    assert HUNSPELL_VI.exists(), "install Debian's hunspell-vi (apt-get install hunspell-vi)"
    entries = HUNSPELL_VI.read_text(encoding="utf-8").splitlines()[1:]
    vocabulary = [nfc(line.split("/")[0].strip()) for line in entries if line.strip()]
    changed = {}
    for w in vocabulary:
        c = canonical_syllable(w)
        assert len(c) == len(w) and canonical_syllable(c) == c, w
        assert fold(c).lower() == fold(w).lower() or fold(w).lower().startswith("qui"), w
        if c != w:
            changed[w] = c
    assert len(changed) > 50
    for w, c in changed.items():
        base = fold(w).lower()
        assert base.endswith(("oa", "oe", "uy")) or base.startswith("qui"), (w, c)
    assert changed["hoà"] == "hòa" and changed["thuỷ"] == "thủy" and changed["khoẻ"] == "khỏe"


def test_query_words_have_canonical_keys():
    def keys(q):
        out = []
        for group in parse_query(q).required:
            for item in group:
                out.append([(t.exact, t.folded) for t in getattr(item, "terms", (item,))])
        return out

    assert keys("hoà") == keys("hòa") == keys(unicodedata.normalize("NFD", "hoà")) == [[("hòa", "hoa")]]
    assert keys("quí") == keys("quý") == [[("quý", "quy")]] and keys("qui") == [[("quy", "quy")]]
    assert keys("Việt-Nam") == keys('"Việt Nam"') == [[("việt", "viet"), ("nam", "nam")]]
    assert keys("quốc-ngữ") == keys('"quốc ngữ"') == [[("quốc", "quoc"), ("ngữ", "ngu")]]
    assert exact_key("Thuỷ") == "thủy" and folded_key("QUÍ") == "quy"
    assert parse_query("thuỷ").required[0][0].text == "thuỷ"  # as typed, for display


def test_highlight_matcher_on_the_canonical_text_gives_offsets_in_the_original():
    text = nfc("Sóng thuỷ triều và thủy triều; của quí; Việt-Nam.")
    canon = canonical_text(text)
    for query, expected in [("thủy", ["thuỷ", "thủy"]), ("thuy", ["thuỷ", "thủy"]), ("quy", ["quí"]),
                            ('"Việt Nam"', ["Việt", "Nam"]), ('"thuỷ triều"', ["thuỷ", "triều", "thủy", "triều"])]:
        assert [text[s:e] for s, e in spans_for_query(canon, parse_query(query))] == expected, query


def test_spellings_of_a_phrase_are_one_suggestion():
    phrases = ["Hoà Bình xưa", "Hòa Bình xưa", "Hòa Bình xưa", "Hoà-Bình xưa", "Hoa Binh", "Thuỷ Tạ"]
    got = rank_suggestions(suggestion_prefix("hoà b"), phrases, 10)
    assert [(s.text, s.count) for s in got] == [("Hòa Bình xưa", 4), ("Hoa Binh", 1)]
    got = rank_suggestions(suggestion_prefix("thủy"), phrases, 10)
    assert [s.text for s in got] == ["Thuỷ Tạ"]
    # a last word still being typed keeps its marks where the user put them: toà… may become toàn
    got = rank_suggestions(suggestion_prefix("toà"), ["Toàn tập", "Tòa án", "Toa tàu"], 10)
    assert [s.text for s in got][:2] == ["Tòa án", "Toàn tập"]


# ------------------------------------------------------------------ every engine
FRAME = "Ngày ấy cả làng mừng {} bình và đi xem {} triều."
PAGES = {
    "page:701": FRAME.format("hoà", "thuỷ"),   # the 1980s school placement
    "page:702": FRAME.format("hòa", "thủy"),   # the common placement
    "page:703": FRAME.format("hoa", "thuy"),   # no marks
    "page:704": "Nước Việt-Nam dùng chữ quốc-ngữ từ lâu.",
    "page:705": "Nước Việt Nam dùng chữ quốc ngữ từ lâu.",
    "page:706": "Trong nhà có của quí.",
    "page:707": "Trong nhà có của quý.",
    "page:708": unicodedata.normalize("NFD", "Ông cụ vẫn còn khoẻ mạnh."),
    "page:709": "Ông cụ vẫn còn khỏe mạnh.",
}
TEXTS = {k: nfc(v) for k, v in PAGES.items()}
BOOK = dict(item_id=7, type="book", collections=("Chính tả",), languages=("vi",))


def spelling_docs():
    docs = [PageDoc(access="public", page_id=doc_id.split(":")[1], page_number=n, text=text, title="Chính tả", **BOOK)
            for n, (doc_id, text) in enumerate(PAGES.items(), 1)]
    docs += [ItemDoc(access="public", item_id=71, title="Hoà Bình xưa", subjects=("Hồ Thuỷ Tạ",)),
             ItemDoc(access="public", item_id=72, title="Hòa Bình xưa", subjects=("Hồ Thủy Tạ",)),
             ItemDoc(access="public", item_id=73, title="Hòa-Bình xưa")]
    return docs


@pytest.fixture(scope="module", params=ENGINES)
def engine(request, tmp_path_factory):
    e = make_engine(request, request.param, tmp_path_factory.mktemp("spelling"))
    e.index(spelling_docs())
    e.refresh()
    yield e
    e.drop()
    e.close()


def search(engine, query, **kw):
    return engine.search(SearchRequest(access_levels=("public",), query=query, kinds=["page"], per_page=50, **kw))


def scores(result):
    return {h.id: h.score for h in result.hits}


@pytest.mark.parametrize("query", ["hòa", "hoà", "HÒA", unicodedata.normalize("NFD", "hoà"), '"hòa bình"',
                                   "thủy", "thuỷ", '"thuỷ triều"'])
def test_both_placements_are_found_in_the_exact_tier(engine, query):
    result = search(engine, query)
    assert set(h.id for h in result.hits) == {"page:701", "page:702", "page:703"}
    s = scores(result)
    assert s["page:701"] == pytest.approx(s["page:702"], rel=1e-4)  # one word: the same score
    assert min(s["page:701"], s["page:702"]) > s["page:703"] * 1.5  # unmarked: the folded tier only


@pytest.mark.parametrize("query", ["hoa", "thuy", '"hoa bình"'])
def test_unmarked_queries_find_both_placements_after_the_unmarked_page(engine, query):
    result = search(engine, query)
    assert [h.id for h in result.hits][0] == "page:703"
    s = scores(result)
    assert s["page:701"] == pytest.approx(s["page:702"], rel=1e-4) and s["page:703"] > s["page:701"] * 1.5


@pytest.mark.parametrize("query", ["Việt Nam", '"Việt Nam"', "Việt-Nam", '"Viet Nam"', "quốc-ngữ",
                                   '"quoc ngu"', '"Việt-Nam dùng chữ quốc-ngữ"'])
def test_hyphenated_compounds_match_their_modern_spelling(engine, query):
    result = search(engine, query)
    assert set(h.id for h in result.hits) == {"page:704", "page:705"}
    s = scores(result)
    assert s["page:704"] == pytest.approx(s["page:705"], rel=1e-4)


@pytest.mark.parametrize("query", ["quý", "quí", "quy", "qui", "QUÍ"])
def test_qui_and_quy_are_one_word(engine, query):
    result = search(engine, query)
    assert set(h.id for h in result.hits) == {"page:706", "page:707"}
    s = scores(result)
    assert s["page:706"] == pytest.approx(s["page:707"], rel=1e-4)


def test_nfd_documents_and_queries(engine):
    for query in ("khỏe", "khoẻ", unicodedata.normalize("NFD", "khỏe"), "khoe"):
        assert set(h.id for h in search(engine, query).hits) == {"page:708", "page:709"}


@pytest.mark.parametrize("query,page,expected", [
    ("thủy", "page:701", ["thuỷ"]), ("thuỷ", "page:702", ["thủy"]), ("hoa", "page:701", ["hoà"]),
    ('"hòa bình"', "page:701", ["hoà", "bình"]), ("Việt Nam", "page:704", ["Việt", "Nam"]),
    ('"quốc ngữ"', "page:704", ["quốc", "ngữ"]), ("quý", "page:706", ["quí"]), ("khỏe", "page:708", ["khoẻ"]),
])
def test_highlights_and_snippets_show_the_text_as_written(engine, query, page, expected):
    hit = next(h for h in search(engine, query).hits if h.id == page)
    text = TEXTS[page]
    assert [text[s:e] for s, e in hit.highlights] == expected
    assert hit.snippets and hit.snippets[0].text == text  # not the canonical spelling
    assert [hit.snippets[0].text[s:e] for s, e in hit.snippets[0].highlights] == expected
    assert SPELLING_FIELD not in hit.fields


def test_search_within_an_item_gives_offsets_in_the_text_as_written(engine):
    result = engine.search_within(7, "thủy", access_levels=("public",))
    assert [h.page_number for h in result.hits] == [1, 2, 3]
    assert [[TEXTS[h.id][s:e] for s, e in h.highlights] for h in result.hits] == [["thuỷ"], ["thủy"], ["thuy"]]


def test_suggestions_treat_the_spellings_as_one(engine):
    got = engine.suggest("hoà b", access_levels=("public",))
    assert [(s.text, s.count) for s in got] == [("Hòa Bình xưa", 3)]
    assert [(s.text, s.count) for s in engine.suggest("hồ thuỷ", access_levels=("public",))] == [("Hồ Thủy Tạ", 2)]
    assert [s.text for s in engine.suggest("hoa binh", access_levels=("public",))] == ["Hòa Bình xưa"]


# ------------------------------------------------------------------ the cluster agrees with Python
ANALYZED = nfc("Nước Việt-Nam: HOÀ BÌNH, thuỷ‐triều, của quí; qúa khoẻ; Đình LÀNG; poésie été 1930-1940")
AGREEMENT_QUERIES = ["hòa", "hoà", "hoa", '"hòa bình"', "thuỷ triều", "Việt Nam", '"Viet-Nam"', "quí", "khoẻ*",
                     "thủy~", "quốc-ngữ OR quý"]


@pytest.fixture(scope="module")
def both(opensearch_url, tmp_path_factory):
    tantivy = open_engine(tmp_path_factory.mktemp("agree-spelling") / "index")
    cluster = open_engine(opensearch_url, index=f"test-spelling-{uuid.uuid4().hex[:8]}")
    for e in (tantivy, cluster):
        e.index(spelling_docs())
        e.refresh()
    yield tantivy, cluster
    cluster.drop()
    cluster.close()


@pytest.mark.integration
def test_the_cluster_analyzers_give_the_python_keys(both):
    """The cluster's own analysis of the text sent to it gives the keys and offsets Python gives."""
    _, cluster = both
    sent = cluster_record({"id": "page:1", "kind": "page", "text": ANALYZED})["text"]
    expected = list(words(ANALYZED))
    for analyzer, key in (("vi_exact", "exact"), ("vi_folded", "folded")):
        req = urllib.request.Request(f"{cluster.url}/{cluster.alias}/_analyze",
                                     data=json.dumps({"analyzer": analyzer, "text": sent}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:
            tokens = json.loads(resp.read())["tokens"]
        assert [t["token"] for t in tokens] == [getattr(w, key) for w in expected]
        assert [(t["start_offset"], t["end_offset"]) for t in tokens] == [(w.start, w.end) for w in expected]
    assert [w.exact for w in expected][:4] == ["nước", "việt", "nam", "hòa"]


@pytest.mark.integration
@pytest.mark.parametrize("query", AGREEMENT_QUERIES)
def test_both_engines_agree_on_spellings(both, query):
    tantivy, cluster = both
    a = tantivy.search(SearchRequest(access_levels=("public",), query=query, kinds=["page"], per_page=50))
    b = cluster.search(SearchRequest(access_levels=("public",), query=query, kinds=["page"], per_page=50))
    assert a.total == b.total > 0
    assert {h.id: h.highlights for h in a.hits} == {h.id: h.highlights for h in b.hits}
    assert {h.id: [sn.text for sn in h.snippets] for h in a.hits} == {h.id: [sn.text for sn in h.snippets]
                                                                       for h in b.hits}


def test_an_index_built_before_the_canonical_spelling_must_be_rebuilt(tmp_path):
    from search import IndexIncompatible
    from search.cluster_schema import CLUSTER_SCHEMA_VERSION
    from search.embedded import SCHEMA_VERSION, VERSION_FILE

    assert SCHEMA_VERSION >= 2 and CLUSTER_SCHEMA_VERSION >= 2
    folder = tmp_path / "index"
    open_engine(folder).close()
    (folder / VERSION_FILE).write_text(json.dumps({"schema": 1, "engine": "tantivy"}))
    engine = open_engine(folder)
    with pytest.raises(IndexIncompatible, match="reindex"):
        engine.search(SearchRequest(access_levels=("public",), query="hòa"))
    engine.rebuild(spelling_docs())
    assert {h.id for h in search(engine, "hòa").hits} == {"page:701", "page:702", "page:703"}
