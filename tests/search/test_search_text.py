"""Vietnamese folding, the query parser, dates and highlight offsets: the rules both engines share."""

from __future__ import annotations

import unicodedata

import pytest

from search import QueryError, parse_query, years_of
from search.highlight import POST_TAG, PRE_TAG, make_snippets, spans_for_query, spans_from_tagged, word_spans
from search.query import MAX_QUERY_CHARS, MAX_TERMS, Phrase, Term
from search.vietnamese import FOLD_TABLE, fold, folding_mappings, nfc, words

VOWELS = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵ"


def test_folding_removes_every_mark_and_keeps_length():
    assert fold(VOWELS) == "a" * 18 + "e" * 12 + "i" * 6 + "o" * 18 + "u" * 12 + "y" * 6
    assert fold(VOWELS.upper()) == fold(VOWELS).upper()
    assert fold("Đình đền") == "Dinh den"
    sample = "Văn Miếu – Quốc Tử Giám, 1070: «Khuê Văn Các» ĐƯỜNG ỒN ÀO ñ ç ø"
    assert len(fold(sample)) == len(sample)
    assert all(len(v) == 1 for v in FOLD_TABLE.values())


def test_folding_rules_for_the_cluster_match_python():
    rules = folding_mappings()
    assert "đ => d" in rules and "ữ => u" in rules and len(rules) == len(FOLD_TABLE)


def test_words_have_offsets_into_the_text():
    text = nfc("«Quốc Tử Giám» (1076), nhà-học; ĐÌNH")
    got = [(text[w.start:w.end], w.exact, w.folded) for w in words(text)]
    assert got == [("Quốc", "quốc", "quoc"), ("Tử", "tử", "tu"), ("Giám", "giám", "giam"), ("1076", "1076", "1076"),
                   ("nhà", "nhà", "nha"), ("học", "học", "hoc"), ("ĐÌNH", "đình", "dinh")]


@pytest.mark.parametrize("date,years", [
    ("1936-01-15", (1936, 1936)), ("1936", (1936, 1936)), ("2005-10", (2005, 2005)), ("1930s", (1930, 1939)),
    ("193x", (1930, 1939)), ("18xx", (1800, 1899)), ("1885–1890", (1885, 1890)), ("khoảng 1930", (1925, 1935)),
    ("c. 1900", (1895, 1905)), ("năm 1070", (1070, 1070)), ("không rõ", (None, None)), ("", (None, None)),
])
def test_years_of_a_catalogued_date(date, years):
    assert years_of(date) == years


def test_query_syntax():
    q = parse_query('Văn "Quốc Tử Giám" Lê OR Lý -Pháp NOT "Tây" Thăng* Giám~')
    assert [[type(i).__name__ for i in g] for g in q.required] == [["Term"], ["Phrase"], ["Term", "Term"],
                                                                   ["Term"], ["Term"]]
    assert [i.text for i in q.excluded] == ["Pháp", "Tây"]
    prefix, fuzzy = q.required[3][0], q.required[4][0]
    assert prefix.prefix and prefix.folded == "thang" and fuzzy.fuzzy and fuzzy.folded == "giam"
    assert q.notices == ()
    joined = parse_query("Quốc-Tử-Giám").required[0][0]
    assert isinstance(joined, Phrase) and [t.folded for t in joined.terms] == ["quoc", "tu", "giam"]
    assert parse_query("").is_empty and parse_query(None).is_empty


def test_query_limits():
    q = parse_query("từ " * 200)
    assert {n.code for n in q.notices} >= {"truncated", "too_many_terms"}
    assert len(q.required) == MAX_TERMS
    assert len(parse_query("Hà Nội " * MAX_QUERY_CHARS).required) <= MAX_TERMS
    with pytest.raises(QueryError):
        parse_query("x" * 5000)  # one 500-letter "word": nothing left to search
    with pytest.raises(QueryError):
        parse_query(42)  # type: ignore[arg-type]


def test_ocr_variants():
    assert "giarn" in Term("Giám", "giám", "giam", fuzzy=True).ocr_variants()
    assert "giam" in Term("Giárn", "giárn", "giarn", fuzzy=True).ocr_variants()
    assert not Term("lan", "lan", "lan", fuzzy=True).edit_fuzzy
    assert Term("trường", "trường", "truong", fuzzy=True).edit_fuzzy


def test_highlight_matcher():
    text = "Văn Miếu và Van Mieu, vạn miếu; Quốc Tủ Giárn; Giám"
    spans = spans_for_query(text, parse_query("Văn Miếu"))
    assert [text[s:e] for s, e in spans] == ["Văn", "Miếu", "Van", "Mieu", "vạn", "miếu"]
    spans = spans_for_query(text, parse_query('"Van Mieu"'))
    assert [text[s:e] for s, e in spans] == ["Văn", "Miếu", "Van", "Mieu", "vạn", "miếu"]
    spans = spans_for_query(text, parse_query("Giám~"))
    assert [text[s:e] for s, e in spans] == ["Giárn", "Giám"]
    assert spans_for_query(text, parse_query("-Giám")) == []


def test_spans_from_tags_and_word_spans():
    tagged = f"{PRE_TAG}Văn Miếu{POST_TAG} và {PRE_TAG}Giám{POST_TAG}"
    plain, spans = spans_from_tagged(tagged)
    assert plain == "Văn Miếu và Giám" and spans == [(0, 8), (12, 16)]
    assert word_spans(plain, spans) == [(0, 3), (4, 8), (12, 16)]


def test_snippets():
    text = ("Lời mở đầu. " * 30) + "Văn Miếu được dựng năm 1070. " + ("Chuyện khác. " * 30) + "Lại nói Văn Miếu."
    spans = spans_for_query(text, parse_query("Văn Miếu"))
    snippets = make_snippets(text, spans, max_snippets=3, width=120)
    assert len(snippets) == 2
    for s in snippets:
        assert text[s.start:s.start + len(s.text)] == s.text and len(s.text) <= 130
        assert [s.text[a:b] for a, b in s.highlights] == ["Văn", "Miếu"]
    assert snippets[0].cut_before and snippets[0].cut_after
    assert make_snippets("ngắn", [], max_snippets=1)[0].text == "ngắn"


def test_nfd_queries_are_nfc():
    q = parse_query(unicodedata.normalize("NFD", "Quốc Tử Giám"))
    assert [g[0].exact for g in q.required] == ["quốc", "tử", "giám"]


def test_a_plain_word_matches_by_one_clause_and_scores_by_field():
    """The plan: a plain or prefix word's documents are one ``ANY_FOLDED`` clause; the per-field clauses only
    score and are dropped when only counting; a fuzzy word or a phrase keeps its union (no one clause holds it)."""
    from search.plan import ANY_FOLDED, BoolQ, PrefixQ, TermQ, matching_only, text_query

    plan = text_query(parse_query("Văn Miếu"))
    assert len(plan.must) == 2 and len(plan.should) == 2  # two words; the proximity phrases score
    for word, clause in zip(("van", "mieu"), plan.must):
        assert clause.filter == (TermQ(ANY_FOLDED, word),) and len(clause.should) == 8
    counted = matching_only(plan)
    assert counted == BoolQ(must=(BoolQ(filter=(TermQ(ANY_FOLDED, "van"),)), BoolQ(filter=(TermQ(ANY_FOLDED, "mieu"),))))
    assert matching_only(text_query(parse_query("Miế*"))).must[0].filter == (PrefixQ(ANY_FOLDED, "mie"),)
    fuzzy = text_query(parse_query("Giám~"))
    assert fuzzy.must[0].filter == () and matching_only(fuzzy) == fuzzy
    either = matching_only(text_query(parse_query("Khuê OR Chu -Lý")))
    assert either.must[0].should == (BoolQ(filter=(TermQ(ANY_FOLDED, "khue"),)), BoolQ(filter=(TermQ(ANY_FOLDED, "chu"),)))
    assert either.must_not == (BoolQ(filter=(TermQ(ANY_FOLDED, "ly"),)),)
    phrase = text_query(parse_query('"Quốc Tử Giám"'))
    assert phrase.must[0].filter == () and len(phrase.must[0].should) == 8
