"""Parsing tesseract's output into words, lines and blocks (digitize.reading)."""

from __future__ import annotations

import unicodedata

from defusedxml import ElementTree

from digitize.reading import parse_tsv, rescale_alto, rescale_hocr, scale_box

HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"


def tsv(*rows: tuple) -> str:
    return "\n".join([HEADER, *("\t".join(str(v) for v in row) for row in rows)]) + "\n"


def word(block, par, line, num, left, top, width, height, conf, text):
    return (5, 1, block, par, line, num, left, top, width, height, conf, text)


SAMPLE = tsv(
    (1, 1, 0, 0, 0, 0, 0, 0, 1000, 800, -1, ""),
    (2, 1, 1, 0, 0, 0, 10, 10, 500, 100, -1, ""),
    (3, 1, 1, 1, 0, 0, 10, 10, 500, 100, -1, ""),
    (4, 1, 1, 1, 1, 0, 10, 10, 500, 40, -1, ""),
    word(1, 1, 1, 1, 10, 10, 100, 40, 96.5, unicodedata.normalize("NFD", "Văn")),
    word(1, 1, 1, 2, 120, 10, 100, 40, 91.0, "Miếu"),
    word(1, 1, 1, 3, 230, 10, 20, 40, 95.0, " "),  # an empty word: skipped
    word(1, 1, 2, 1, 10, 60, 100, 40, 80.0, "Quốc"),
    word(1, 2, 1, 1, 10, 120, 100, 40, -1, "Tử"),  # no confidence given
    word(2, 1, 1, 1, 600, 10, 100, 40, 70.0, "Giám"),
)


def test_text_joins_words_lines_and_paragraphs():
    parsed = parse_tsv(SAMPLE)
    assert parsed.text == "Văn Miếu\nQuốc\n\nTử\n\nGiám"
    assert unicodedata.is_normalized("NFC", parsed.text)


def test_every_word_knows_its_offsets():
    parsed = parse_tsv(SAMPLE)
    assert [w.text for w in parsed.words] == ["Văn", "Miếu", "Quốc", "Tử", "Giám"]
    for w in parsed.words:
        assert parsed.text[w.char_start : w.char_end] == w.text
    for line in parsed.lines:
        words = [w for w in parsed.words if (w.block, w.paragraph, w.line) == (line.block, line.paragraph, line.line)]
        assert parsed.text[line.char_start : line.char_end] == " ".join(w.text for w in words)


def test_numbers_run_page_wide_from_zero():
    parsed = parse_tsv(SAMPLE)
    assert [(w.block, w.paragraph, w.line) for w in parsed.words] == [
        (0, 0, 0), (0, 0, 0), (0, 0, 1), (0, 1, 2), (1, 2, 3)
    ]
    assert [(l.block, l.paragraph, l.line) for l in parsed.lines] == [(0, 0, 0), (0, 0, 1), (0, 1, 2), (1, 2, 3)]
    assert [b.block for b in parsed.blocks] == [0, 1]
    assert parsed.blocks[0].char_start == 0 and parsed.text[parsed.blocks[1].char_start :] == "Giám"


def test_boxes_and_confidences():
    parsed = parse_tsv(SAMPLE)
    first = parsed.words[0]
    assert (first.x, first.y, first.w, first.h, first.confidence) == (10, 10, 100, 40, 96.5)
    assert parsed.words[3].confidence == 0.0  # TSV conf -1
    assert parsed.mean_confidence == (96.5 + 91.0 + 80.0 + 70.0) / 4  # -1 left out
    assert (parsed.lines[0].x, parsed.lines[0].w) == (10, 210)  # union of its words


def test_boxes_are_scaled_into_the_normalised_frame_and_clipped():
    parsed = parse_tsv(SAMPLE, scale=2.0, frame_w=340, frame_h=400)
    first, last = parsed.words[0], parsed.words[-1]
    assert (first.x, first.y, first.w, first.h) == (5, 5, 50, 20)
    assert last.x == 300 and last.x + last.w == 340  # 600..700 / 2 clipped to 340
    assert scale_box(3, 3, 3, 3, scale=2.0, frame_w=None, frame_h=None) == (1, 1, 2, 2)  # grown outwards


def test_empty_output_gives_no_words_and_no_confidence():
    parsed = parse_tsv(HEADER + "\n1\t1\t0\t0\t0\t0\t0\t0\t10\t10\t-1\t\n")
    assert parsed.text == "" and parsed.words == [] and parsed.mean_confidence is None


HOCR = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><body>
<div class='ocr_page' id='page_1' title='image "/work/p-ocr.png"; bbox 0 0 2000 1000; ppageno 0; scan_res 600 600'>
<span class='ocr_line' id='line_1_1' title="bbox 100 200 900 260; baseline 0.01 -12; x_size 40; x_descenders 10; x_ascenders 10">
<span class='ocrx_word' id='word_1_1' title='bbox 100 200 400 260; x_wconf 95'>bbox 1 2 3 4</span>
</span></div></body></html>"""


def test_hocr_is_rescaled_and_renamed():
    out = rescale_hocr(HOCR, scale=2.0, frame_w=1000, frame_h=500, image_name="page-00000-normalised.png")
    root = ElementTree.fromstring(out)
    titles = [e.get("title") for e in root.iter() if e.get("title")]
    assert titles[0] == 'image "page-00000-normalised.png"; bbox 0 0 1000 500; ppageno 0; scan_res 300 300'
    assert titles[1].startswith("bbox 50 100 450 130; baseline 0.01 -6; x_size 20;")
    assert titles[2] == "bbox 50 100 200 130; x_wconf 95"
    assert "bbox 1 2 3 4</span>" in out  # word text is not touched


ALTO = """<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"><Description><sourceImageInformation>
<fileName>/work/p-ocr.png</fileName></sourceImageInformation></Description>
<Layout><Page WIDTH="2001" HEIGHT="1001" PHYSICAL_IMG_NR="0" ID="page_0">
<PrintSpace HPOS="0" VPOS="0" WIDTH="2001" HEIGHT="1001"><TextBlock ID="b" HPOS="100" VPOS="200" WIDTH="800" HEIGHT="60">
<TextLine ID="l" HPOS="100" VPOS="200" WIDTH="800" HEIGHT="60">
<String ID="s" HPOS="100" VPOS="200" WIDTH="300" HEIGHT="60" WC="0.95" CONTENT="Huế"/><SP WIDTH="20" VPOS="200" HPOS="400"/>
</TextLine></TextBlock></PrintSpace></Page></Layout></alto>"""


def test_alto_is_rescaled_and_renamed():
    out = rescale_alto(
        unicodedata.normalize("NFD", ALTO), scale=2.0, frame_w=1000, frame_h=500, image_name="n.png"
    )
    root = ElementTree.fromstring(out.encode("utf-8"))
    ns = {"a": "http://www.loc.gov/standards/alto/ns-v3#"}
    page = root.find(".//a:Page", ns)
    assert (page.get("WIDTH"), page.get("HEIGHT")) == ("1000", "500")
    string = root.find(".//a:String", ns)
    assert [string.get(k) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")] == ["50", "100", "150", "30"]
    assert string.get("CONTENT") == "Huế" and unicodedata.is_normalized("NFC", string.get("CONTENT"))
    assert root.find(".//a:fileName", ns).text == "n.png"
