"""The tesseract wrapper: in process and as a program; probing, regions,
word choices, errors, time limits (digitize.tesseract)."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from digitize import (
    LanguageMissing,
    OcrFailed,
    OcrOptions,
    OcrTimeout,
    TesseractMissing,
    available_languages,
    read_page,
    tesseract_version,
)
from digitize import tesseract
from digitize.errors import debian_package
from digitize.reading import parse_tsv, tsv_words

FONT = ImageFont.load_default(size=48)


@pytest.fixture
def line_image(tmp_path) -> Path:
    image = Image.new("L", (900, 120), 255)
    ImageDraw.Draw(image).text((20, 30), "Hanoi heritage library", font=FONT, fill=0)
    path = tmp_path / "line.png"
    image.save(path, dpi=(300, 300))
    return path


@pytest.fixture
def program_only(monkeypatch):
    """The wrapper as it behaves when tesserocr is not installed."""
    monkeypatch.setattr(tesseract, "IN_PROCESS", False)
    yield
    tesseract.clear_probe_cache()


def words_page(words: dict[str, tuple[int, int]], size=(1400, 900)) -> tuple[Image.Image, dict[str, tuple]]:
    """A page with each word drawn at its (x, y); returns the page and each
    word's ink box (x0, y0, x1, y1)."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    boxes = {}
    for word, (x, y) in words.items():
        draw.text((x, y), word, font=FONT, fill=0)
        boxes[word] = draw.textbbox((x, y), word, font=FONT)
    return image, boxes


def text_page(lines: int = 40) -> Image.Image:
    image = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=30)
    for n in range(lines):
        draw.text((80, 80 + n * 50), f"line {n} of the Hanoi library catalogue of old newspapers", font=font, fill=0)
    return image


# --------------------------------------------------------------------- probing
def test_version_and_languages_are_probed(tesseract_program):
    assert tesseract.in_process()
    assert int(tesseract_version().split(".")[0]) >= 5
    languages = available_languages()
    assert "eng" in languages and "osd" in languages and "vie" in languages
    assert (tesseract.tessdata_dir() / "vie.traineddata").is_file()


def test_the_program_is_probed_when_the_library_is_not_used(tesseract_program, program_only):
    assert not tesseract.in_process()
    assert int(tesseract_version().split(".")[0]) >= 4
    assert {"eng", "osd"} <= set(available_languages())


def test_without_tesserocr_the_program_reads_the_page(tesseract_program, line_image, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tesserocr", None)  # import tesserocr now raises ImportError
    tesseract.clear_probe_cache()
    try:
        assert not tesseract.in_process()
        reading = read_page(line_image, options=OcrOptions(languages="eng", psm=7), work_dir=tmp_path / "w")
        assert reading.text == "Hanoi heritage library"
        assert reading.tesseract_version == tesseract_version()
    finally:
        tesseract.clear_probe_cache()


def test_in_process_library_has_no_openmp_threads(tesseract_program, line_image):
    tesseract.recognise(line_image, languages="eng", psm=7, timeout_s=60)
    assert os.environ.get("OMP_THREAD_LIMIT") is not None
    with open("/proc/self/maps") as maps:
        libraries = {line.split()[-1] for line in maps if "libtesseract" in line}
    assert libraries, "libtesseract is not loaded in this process"
    for library in libraries:
        assert b"libgomp" not in Path(library).read_bytes()  # built without OpenMP: one thread
    assert tesseract.child_env()["OMP_THREAD_LIMIT"] == "1"  # and the program's children run with one


# --------------------------------------------------------------------- reading
def test_a_pil_image_is_read_in_process_without_files(tesseract_program, line_image, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    with Image.open(line_image) as image:
        for mode in ("L", "1", "RGB"):
            out = tesseract.recognise(image.convert(mode), languages="eng", psm=7, timeout_s=60, dpi=300)
            assert out.tsv.startswith("level\tpage_num")
            assert parse_tsv(out.tsv).text == "Hanoi heritage library", mode
            assert out.choices is None
    assert not list(scratch.iterdir())


def test_the_program_writes_every_format_asked_for(tesseract_program, line_image, tmp_path):
    out = tesseract.recognise_file(line_image, tmp_path / "out", languages="eng", psm=7, timeout_s=60,
                                   outputs=("hocr", "alto", "tsv", "txt"))
    assert "Hanoi" in out.txt and "heritage" in out.hocr and "library" in out.alto
    assert out.tsv.startswith("level\tpage_num")
    assert {p.name for p in tmp_path.glob("out.*")} == {"out.hocr", "out.xml", "out.tsv", "out.txt"}
    only_tsv = tesseract.recognise_file(line_image, tmp_path / "tsv", languages="eng", psm=7, timeout_s=60)
    assert "library" in only_tsv.tsv and only_tsv.hocr is None and only_tsv.alto is None


def test_regions_are_read_in_their_order_with_whole_image_boxes(tesseract_program):
    page, boxes = words_page({"BRAVO": (120, 120), "ALPHA": (800, 600), "CHARLIE": (700, 150)})
    # reading order given by the regions, not by the page: ALPHA first; CHARLIE is left out
    regions = (tesseract.Region(760, 560, 400, 140, psm=7), tesseract.Region(80, 80, 420, 140, psm=6))
    out = tesseract.recognise(page, languages="eng", timeout_s=60, regions=regions)
    parsed = parse_tsv(out.tsv)
    assert parsed.text == "ALPHA\n\nBRAVO"
    assert [b.block for b in parsed.blocks] == [0, 1]
    assert [r.block_num for r in tsv_words(out.tsv)] == [1, 2]
    for word in parsed.words:
        x0, y0, x1, y1 = boxes[word.text]
        assert abs(word.x - x0) <= 6 and abs(word.y - y0) <= 6
        assert abs(word.x + word.w - x1) <= 6 and abs(word.y + word.h - y1) <= 6
    page_row = out.tsv.splitlines()[1].split("\t")
    assert page_row[:2] == ["1", "1"] and page_row[8:10] == ["1400", "900"]


@pytest.mark.parametrize("psms", [(6, 6), (7, 6)])
def test_regions_with_the_program_give_the_same_reading(tesseract_program, program_only, psms):
    # one psm for all: one run with a zone file; mixed: one run per region
    page, boxes = words_page({"BRAVO": (120, 120), "ALPHA": (800, 600)})
    regions = (tesseract.Region(760, 560, 400, 140, psm=psms[0]), tesseract.Region(80, 80, 420, 140, psm=psms[1]))
    out = tesseract.recognise(page, languages="eng", timeout_s=60, regions=regions)
    parsed = parse_tsv(out.tsv)
    assert parsed.text == "ALPHA\n\nBRAVO"
    for word in parsed.words:
        x0, y0, _, _ = boxes[word.text]
        assert abs(word.x - x0) <= 6 and abs(word.y - y0) <= 6


def test_word_choices_follow_the_word_rows(tesseract_program):
    page, _ = words_page({"Hanoi heritage": (60, 100), "library 1935": (60, 300)})
    out = tesseract.recognise(page, languages="eng", psm=4, timeout_s=60, choices=True)
    rows = tsv_words(out.tsv)
    word_rows = [row for row in out.tsv.splitlines() if row.startswith("5\t")]
    assert len(out.choices) == len(word_rows) and [r.text for r in rows] == ["Hanoi", "heritage", "library", "1935"]
    for row in rows:
        symbols = out.choices[row.index]
        # the symbols tesseract chose spell the word; the other alternatives follow, cheapest first
        assert "".join(alternatives[0][0] for alternatives in symbols) == row.text
        for alternatives in symbols:
            costs = [cost for _, cost in alternatives[1:]]
            assert costs == sorted(costs) and all(cost >= 0 for _, cost in alternatives)
    # a plain "1": its rivals cost far more
    one = out.choices[rows[3].index][0]
    assert one[0][0] == "1" and one[0][1] < 5.0 and all(cost > one[0][1] + 5.0 for _, cost in one[1:])


def test_word_choices_on_demand_only_for_the_words_asked(tesseract_program):
    page, _ = words_page({"Hanoi heritage": (60, 100), "library 1935": (60, 300)})
    full = tesseract.recognise(page, languages="eng", psm=4, timeout_s=60, choices=True)
    asked = []

    def wanted(text: str, confidence: float) -> bool:
        asked.append((text, confidence))
        return text in ("heritage", "1935")

    some = tesseract.recognise(page, languages="eng", psm=4, timeout_s=60, choices=wanted)
    assert some.tsv == tesseract.recognise(page, languages="eng", psm=4, timeout_s=60).tsv  # the page reads the same
    rows = tsv_words(some.tsv)
    assert [text for text, _ in asked] == ["Hanoi", "heritage", "library", "1935"]
    assert all(0 <= confidence <= 100 for _, confidence in asked)
    assert len(some.choices) == len(rows)
    assert some.choices[rows[0].index] is None and some.choices[rows[2].index] is None
    for row in (rows[1], rows[3]):  # the words asked for: read again alone, their symbols spell them
        symbols = some.choices[row.index]
        assert "".join(alternatives[0][0] for alternatives in symbols) == row.text
        assert [a[0][0] for a in symbols] == [a[0][0] for a in full.choices[row.index]]
    # the setting is back for the next reading (alternatives cost 15–30 % of tesseract's time)
    assert tesseract._api("eng").GetVariableAsString("lstm_choice_mode") == "0"


def test_word_choices_are_lined_up_with_the_word():
    steps = [[(" ", 0.1), ("i", 9.0)], [("l", 1.0), ("1", 4.0)], [("u", 0.5), ("ừ", 3.5)], [("a", 0.2)]]
    # the steps' best spell the word: the blank step before it goes
    assert tesseract.word_choices("lua", steps) == ((("l", 1.0), ("1", 4.0)), (("u", 0.5), ("ừ", 3.5)),
                                                    (("a", 0.2),))
    # the dictionary overruled a step's raw best: the word's own symbol comes first
    assert tesseract.word_choices("lừa", steps) == ((("l", 1.0), ("1", 4.0)), (("ừ", 3.5), ("u", 0.5)),
                                                    (("a", 0.2),))
    assert tesseract.word_choices("lữa", steps) is None  # "ữ" is no alternative of its symbol
    assert tesseract.word_choices("lu", steps) is None


def test_config_holds_for_one_reading_only(tesseract_program, line_image):
    digits = tesseract.recognise(line_image, languages="eng", psm=7, timeout_s=60,
                                 config={"tessedit_char_whitelist": "0123456789"})
    assert not any(ch.isalpha() for ch in parse_tsv(digits.tsv).text)
    again = tesseract.recognise(line_image, languages="eng", psm=7, timeout_s=60)
    assert parse_tsv(again.tsv).text == "Hanoi heritage library"
    with pytest.raises(ValueError):
        tesseract.recognise(line_image, languages="eng", psm=7, timeout_s=60, config={"no_such_setting": "1"})


def test_each_thread_reads_with_its_own_engine(tesseract_program):
    pages = {name: words_page({name: (60, 60)}, size=(700, 200))[0] for name in ("Saigon", "Hanoi", "Hue", "Danang")}
    serial = {name: parse_tsv(tesseract.recognise(p, languages="eng", psm=7, timeout_s=60).tsv).text
              for name, p in pages.items()}
    found: dict[str, str] = {}

    def read(name: str) -> None:
        for _ in range(3):
            found[name] = parse_tsv(tesseract.recognise(pages[name], languages="eng", psm=7, timeout_s=60).tsv).text

    threads = [threading.Thread(target=read, args=(name,)) for name in pages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == serial == {name: name for name in pages}


def test_orientation_in_process_agrees_with_the_program(tesseract_program, bnl_dir, program_only, monkeypatch):
    with Image.open(bnl_dir / "images" / "2.tif") as block:
        sideways = block.convert("L").transpose(Image.Transpose.ROTATE_90)  # turned a quarter anticlockwise
    by_program = tesseract.detect_orientation(sideways, timeout_s=60)
    monkeypatch.setattr(tesseract, "IN_PROCESS", True)
    in_process = tesseract.detect_orientation(sideways, timeout_s=60)
    assert by_program.rotate_deg == in_process.rotate_deg == 90
    assert in_process.confidence > 5 and in_process.script == "Latin"
    blank = tesseract.detect_orientation(Image.new("L", (800, 600), 255), timeout_s=60)
    assert (blank.rotate_deg, blank.confidence) == (0, 0.0)


# ---------------------------------------------------------------------- errors
def test_missing_language_names_the_debian_package(tesseract_program, line_image, tmp_path):
    with pytest.raises(LanguageMissing) as caught:
        read_page(line_image, options=OcrOptions(languages="eng+xyz"), work_dir=tmp_path)
    assert caught.value.language == "xyz"
    assert "tesseract-ocr-xyz" in str(caught.value)
    assert debian_package("chi_tra") == "tesseract-ocr-chi-tra"
    assert debian_package("script/Latin") == "tesseract-ocr-script-latn"
    with pytest.raises(LanguageMissing):
        tesseract.check_languages("eng+../../etc")  # not a language name at all


def test_missing_program(monkeypatch, program_only, line_image, tmp_path):
    # the real program cannot be uninstalled for a test: point the wrapper elsewhere
    monkeypatch.setattr(tesseract, "PROGRAM", str(tmp_path / "no-such-tesseract"))
    with pytest.raises(TesseractMissing) as caught:
        read_page(line_image, options=OcrOptions(languages="eng"), work_dir=tmp_path)
    assert "no-such-tesseract" in str(caught.value) and "tesseract-ocr" in str(caught.value)


def test_timeout_in_process_stops_the_reading(tesseract_program):
    page = text_page()
    started = time.monotonic()
    with pytest.raises(OcrTimeout) as caught:
        tesseract.recognise(page, languages="eng", psm=3, timeout_s=0.05)
    assert time.monotonic() - started < 5
    assert caught.value.transient is True
    assert "0.05 s" in str(caught.value)
    # the engine is usable again at once
    out = tesseract.recognise(page.crop((0, 0, 1700, 200)), languages="eng", psm=6, timeout_s=60)
    assert "Hanoi library" in parse_tsv(out.tsv).text


def test_timeout_kills_the_program(tesseract_program, program_only, line_image):
    started = time.monotonic()
    with pytest.raises(OcrTimeout) as caught:
        tesseract.recognise(line_image, languages="eng", psm=3, timeout_s=0.01)
    assert time.monotonic() - started < 5
    assert caught.value.transient is True


def test_timeout_through_read_page(tesseract_program, tmp_path):
    with pytest.raises(OcrTimeout):
        read_page(text_page(), options=OcrOptions(languages="eng", timeout_s=0.05), work_dir=tmp_path)


@pytest.mark.parametrize("in_process", [True, False])
def test_failure_carries_the_complaint(tesseract_program, tmp_path, monkeypatch, in_process):
    monkeypatch.setattr(tesseract, "IN_PROCESS", in_process)
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_bytes(b"no pixels here")
    with pytest.raises(OcrFailed) as caught:
        tesseract.recognise(not_an_image, languages="eng", psm=3, timeout_s=60)
    assert not isinstance(caught.value, OcrTimeout) and caught.value.transient is False
    assert "notes.png" in str(caught.value) and caught.value.stderr_tail
