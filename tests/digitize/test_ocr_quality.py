"""CER and ALTO ground truth (digitize.quality)."""

from __future__ import annotations

import unicodedata

import pytest

from digitize import alto_text, cer
from digitize.quality import comparable_text, edit_distance


def test_cer_is_zero_for_the_same_text_up_to_white_space_and_normal_form():
    truth = "Văn Miếu –\n  Quốc Tử Giám\n"
    hypothesis = unicodedata.normalize("NFD", " Văn  Miếu – Quốc\tTử Giám")
    assert cer(hypothesis, truth) == 0.0


def test_cer_counts_edits_over_the_truth_length():
    assert cer("dinh", "đình") == pytest.approx(2 / 4)
    assert cer("", "abcd") == 1.0
    assert cer("abcdef", "abc") == pytest.approx(1.0)  # insertions can push it past 1
    assert cer("", "") == 0.0 and cer("x", " ") == 1.0


def test_comparable_text_and_edit_distance():
    assert comparable_text("  a \n\n b\t") == "a b"
    assert edit_distance("a  b", "a b") == 0


def test_alto_text_reads_string_content_line_by_line(bnl_dir):
    text = alto_text(bnl_dir / "gt" / "1.xml")
    lines = text.split("\n")
    assert lines[0] == "»A ce titre, nos lecteurs ne nous en voudront"
    assert len(lines) == 7
    assert lines[-1] == "vados."


def test_alto_text_keeps_hyphenation_marks(tmp_path):
    path = tmp_path / "hyp.xml"
    path.write_text(
        '<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"><Layout><Page><PrintSpace>'
        '<TextBlock><TextLine><String CONTENT="coïnci"/><HYP CONTENT="-"/></TextLine>'
        '<TextLine><String CONTENT="dence"/><SP/><String CONTENT="des"/></TextLine>'
        "</TextBlock></PrintSpace></Page></Layout></alto>",
        encoding="utf-8",
    )
    assert alto_text(path) == "coïnci-\ndence des"


def test_alto_text_refuses_entity_expansion(tmp_path):
    from defusedxml import EntitiesForbidden

    path = tmp_path / "bomb.xml"
    path.write_text('<!DOCTYPE a [<!ENTITY x "xxxx">]><alto>&x;</alto>', encoding="utf-8")
    with pytest.raises(EntitiesForbidden):
        alto_text(path)


def test_wer_counts_word_edits_over_truth_words():
    from digitize.quality import wer

    assert wer("Văn Miếu Quốc Tử Giám", "Văn  Miếu\nQuốc Tử Giám") == 0.0
    assert wer("Văn Mieu Quốc Giám", "Văn Miếu Quốc Tử Giám") == pytest.approx(2 / 5)
    assert wer("", "") == 0.0 and wer("a", "") == 1.0


def test_reading_order_agreement_tells_columns_read_in_order_from_swapped():
    from digitize.quality import reading_order_agreement

    truth = ["Cột thứ nhất nói về Văn Miếu", "và Quốc Tử Giám ở Hà Nội,", "cột thứ hai nói về chùa Một Cột",
             "dựng trên một cột đá giữa hồ."]
    assert reading_order_agreement("\n".join(truth), truth) == 1.0
    swapped = "\n".join(truth[2:] + truth[:2])
    assert reading_order_agreement(swapped, truth) == pytest.approx(2 / 3)
    interleaved = "\n".join([truth[0], truth[2], truth[1], truth[3]])
    assert reading_order_agreement(interleaved, truth) == pytest.approx(2 / 3)
    assert reading_order_agreement("không có gì", truth) is None
