"""Parsing tesseract's output into words, lines and blocks (digitize.reading)."""

from __future__ import annotations

import unicodedata

from defusedxml import ElementTree

from digitize.reading import alto_document, hocr_document, parse_tsv, rescale_tsv, scale_box

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


def test_tsv_is_rescaled_into_the_normalised_frame():
    out = rescale_tsv(SAMPLE, scale=2.0, frame_w=340, frame_h=400)
    rows = [r.split("\t") for r in out.splitlines()]
    assert rows[0][6] == "left"  # the header stays
    assert rows[1][6:10] == ["0", "0", "340", "400"]  # page 1000 × 800 clipped to the frame
    assert rows[5][6:10] == ["5", "5", "50", "20"]
    assert unicodedata.is_normalized("NFC", out)
    assert rescale_tsv(SAMPLE, scale=1.0, frame_w=1, frame_h=1) == unicodedata.normalize("NFC", SAMPLE)


def test_hocr_holds_the_words_with_their_boxes():
    parsed = parse_tsv(SAMPLE)
    hocr = hocr_document(parsed, width=1000, height=800, image_name='a "quoted" & odd name.png',
                         languages="vie+fra", engine="tesseract 5.3.0", dpi=300)
    root = ElementTree.fromstring(hocr.encode("utf-8"))
    assert root.get("lang") == "vi"
    elements = {cls: [e for e in root.iter() if e.get("class") == cls]
                for cls in ("ocr_page", "ocr_carea", "ocr_par", "ocr_line", "ocrx_word")}
    assert elements["ocr_page"][0].get("title") == 'image "a "quoted" & odd name.png"; bbox 0 0 1000 800; ppageno 0; scan_res 300 300'
    assert [len(elements[c]) for c in ("ocr_carea", "ocr_par", "ocr_line", "ocrx_word")] == [2, 3, 4, 5]
    words = elements["ocrx_word"]
    assert [w.text for w in words] == [w.text for w in parsed.words]
    assert words[0].get("title") == "bbox 10 10 110 50; x_wconf 96"
    assert [w.get("id") for w in words] == [f"word_1_{i}" for i in range(1, 6)]
    assert elements["ocr_par"][0].get("title") == "bbox 10 10 220 100" and elements["ocr_par"][0].get("lang") == "vie"


def test_alto_holds_the_words_with_their_boxes():
    parsed = parse_tsv(SAMPLE)
    alto = alto_document(parsed, width=1000, height=800, image_name="n.png", languages="vie",
                         engine="tesseract 5.3.0", page_number=3)
    root = ElementTree.fromstring(alto.encode("utf-8"))
    ns = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
    page = root.find(".//a:Page", ns)
    assert (page.get("WIDTH"), page.get("HEIGHT"), page.get("PHYSICAL_IMG_NR")) == ("1000", "800", "3")
    strings = root.findall(".//a:String", ns)
    assert [s.get("CONTENT") for s in strings] == [w.text for w in parsed.words]
    assert [strings[0].get(k) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT", "WC")] == ["10", "10", "100", "40", "0.96"]
    assert len(root.findall(".//a:ComposedBlock", ns)) == 2 and len(root.findall(".//a:TextBlock", ns)) == 3
    sp = root.find(".//a:SP", ns)
    assert (sp.get("HPOS"), sp.get("WIDTH")) == ("110", "10")
    assert root.find(".//a:fileName", ns).text == "n.png"
