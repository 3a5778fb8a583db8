"""Synthetic Vietnamese scans: font coverage, exact ground truth, degradation, real OCR.

The OCR tests run the real tesseract (``-l vie``, one thread) on rendered
pages of the project's own demo text and of *Lục Vân Tiên* from the shared
test data (``../shared/data/text``, skipped when absent). CER is the edit
distance between NFC strings with white space folded, over the truth length.
Measured with tesseract 5.3.0 and DejaVu Serif, 2 pages each:

    preset    demo text   Lục Vân Tiên
    clean     0.14 %      0.00 %
    scan      0.10 %      0.06 %
    low_dpi   0.10 %      0.00 %
    poor      2.7 %       3.9 %

Tesseract's Vietnamese model was trained on rendered text, so clean synthetic
pages read almost perfectly; the bounds below leave room for other fonts and
tesseract builds while still catching a broken font or a wrong language.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from digitize import synthetic
from digitize.errors import DigitizeError
from digitize.synthetic import (
    PRESETS,
    VIETNAMESE_CHARS,
    FontNotFound,
    MissingGlyphs,
    degrade,
    find_vietnamese_font,
    missing_glyphs,
    render_document,
    render_page,
)

REPO = Path(__file__).resolve().parents[2]
DEMO_TEXTS = REPO / "library" / "demo_texts"
SHARED_TEXT = REPO.parent / "shared" / "data" / "text"
HEADER = re.compile(r"^# ([a-z_]+): (.+)$")


def read_demo_text(path: Path) -> tuple[dict[str, str], str]:
    """Header fields and body of a demo text (format in library/demo_texts/README.md)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    meta: dict[str, str] = {}
    while lines and lines[0].startswith("# "):
        match = HEADER.match(lines.pop(0))
        assert match, f"{path.name}: malformed header line"
        meta[match[1]] = match[2].strip()
    return meta, "\n".join(lines).strip("\n")


def fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def cer(truth: str, ocr: str) -> float:
    from rapidfuzz.distance import Levenshtein

    truth, ocr = fold(truth), fold(ocr)
    return Levenshtein.distance(truth, ocr) / len(truth)


@pytest.fixture(scope="module")
def font() -> Path:
    return find_vietnamese_font()


@pytest.fixture(scope="module")
def font_without_o_horn(tmp_path_factory, font) -> Path:
    """DejaVu Serif cut down to Vietnamese minus 'ơ' (U+01A1), named like the real one."""
    from fontTools import subset

    options = subset.Options()
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in VIETNAMESE_CHARS + " .,:" if c != "ơ"])
    folder = tmp_path_factory.mktemp("fonts")
    target = folder / "DejaVuSerif.ttf"
    with subset.load_font(str(font), options) as ttfont:
        subsetter.subset(ttfont)
        subset.save_font(ttfont, str(target), options)
    return target


# ---------------------------------------------------------------- fonts


def test_vietnamese_chars_cover_every_toned_vowel_in_both_cases():
    assert unicodedata.is_normalized("NFC", VIETNAMESE_CHARS)
    assert len(set(VIETNAMESE_CHARS)) == len(VIETNAMESE_CHARS) == 2 * (12 * 6 + 1 + 20)
    for word in ("Đặng", "Nguyễn", "người", "ƯỚC", "Ỹ", "ổ", "Quốc", "Tử", "Giám"):
        assert set(word) <= set(VIETNAMESE_CHARS), word
    assert {"ă", "ằ", "ắ", "ẳ", "ẵ", "ặ", "ơ", "ợ", "Ự", "đ", "Đ"} <= set(VIETNAMESE_CHARS)


def test_found_font_covers_every_vietnamese_letter(font):
    assert font.is_file()
    assert missing_glyphs(font, VIETNAMESE_CHARS) == set()
    assert find_vietnamese_font("sans").is_file()
    with pytest.raises(ValueError):
        find_vietnamese_font("gothic")


def test_font_without_a_glyph_is_detected(font_without_o_horn):
    assert missing_glyphs(font_without_o_horn, VIETNAMESE_CHARS) == {"ơ"}
    # NFD input is normalised first; white space is never "missing"
    assert missing_glyphs(font_without_o_horn, unicodedata.normalize("NFD", "bơ vơ\n\t")) == {"ơ"}
    assert missing_glyphs(font_without_o_horn, "Hà Nội") == set()


def test_search_skips_fonts_without_vietnamese_and_says_what_to_install(font_without_o_horn):
    with pytest.raises(FontNotFound, match="fonts-dejavu-core") as caught:
        find_vietnamese_font(font_dirs=[font_without_o_horn.parent])
    assert isinstance(caught.value, DigitizeError)


def test_render_refuses_a_font_that_would_draw_boxes(font_without_o_horn):
    with pytest.raises(MissingGlyphs, match="U\\+01A1") as caught:
        render_page(["Bơ vơ cảnh cũ khôn tìm cây xưa"], font_path=font_without_o_horn)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, DigitizeError)
    assert caught.value.chars == {"ơ"}
    with pytest.raises(MissingGlyphs):
        render_document("Hà Nội", title="Bơ vơ", font_path=font_without_o_horn)
    page = render_page(["Hà Nội"], font_path=font_without_o_horn)
    assert page.text == "Hà Nội"


# ---------------------------------------------------------------- rendering

LINES = [
    "Văn Miếu – Quốc Tử Giám được dựng năm 1070 dưới triều vua Lý Thánh Tông, "
    "sáu năm sau Quốc Tử Giám ra đời, trở thành trường đại học đầu tiên.",
    "",
    "Tám mươi hai tấm bia tiến sĩ đặt trên lưng rùa đá.",
]


def test_render_is_deterministic_and_sized_by_dpi(font):
    first = render_page(LINES, font_path=font)
    second = render_page(LINES, font_path=font)
    assert first.image.mode == "L"
    assert first.image.size == (1800, 2550)  # 6 x 8.5 in at 300 dpi
    assert first.image.info["dpi"] == (300, 300)
    assert first.dpi == 300
    assert first.image.tobytes() == second.image.tobytes()
    assert first.text == second.text
    small = render_page(LINES, font_path=font, dpi=150)
    assert small.image.size == (900, 1275)


def test_ground_truth_is_nfc_and_exactly_what_is_drawn(font):
    nfd_lines = [unicodedata.normalize("NFD", line) for line in LINES]
    page = render_page(nfd_lines, font_path=font)
    assert unicodedata.is_normalized("NFC", page.text)
    assert page.lines_used == len(LINES)
    rows = page.text.split("\n")
    assert len(rows) > len(LINES)  # the first line was wrapped at a space
    assert fold(page.text) == fold("\n".join(LINES))
    # drawing the ground truth row by row gives the very same pixels
    again = render_page(rows, font_path=font)
    assert again.text == page.text
    assert again.image.tobytes() == page.image.tobytes()
    # and there is ink on the page
    assert page.image.getextrema() == (0, 255)


def test_title_is_drawn_first_and_is_part_of_the_truth(font):
    page = render_page(["Hồ Gươm"], font_path=font, title="Hồ Hoàn Kiếm")
    assert page.text == "Hồ Hoàn Kiếm\n\nHồ Gươm"
    assert page.lines_used == 1


def test_page_takes_only_whole_lines_that_fit(font):
    lines = [f"Dòng thứ {n}: người Hà Nội" for n in range(1, 101)]
    page = render_page(lines, font_path=font)
    assert 10 < page.lines_used < 100
    assert page.text.split("\n") == lines[: page.lines_used]
    with pytest.raises(ValueError, match="render_document"):
        render_page([" ".join(["chữ"] * 2000)], font_path=font)


def test_document_is_paginated_without_losing_text(font):
    sentence = "Hồ Hoàn Kiếm và đền Ngọc Sơn ở giữa lòng Hà Nội."
    text = "\n".join(f"Câu thứ {n}. {sentence}" for n in range(120))
    pages = render_document(text, font_path=font, title="Hồ Gươm")
    assert len(pages) > 2
    assert pages[0].text.startswith("Hồ Gươm\n\n")
    assert not any(p.text.startswith("Hồ Gươm") for p in pages[1:])
    drawn = " ".join(p.text for p in pages).removeprefix("Hồ Gươm")
    assert fold(drawn) == fold(text)
    assert len(render_document(text, font_path=font, pages=2)) == 2
    with pytest.raises(ValueError):
        render_document(text, font_path=font, pages=0)


def test_document_pages_are_degraded_with_distinct_seeds(font):
    text = "\n".join(["Hoàng thành Thăng Long"] * 60)
    pages = render_document(text, font_path=font, degradation="low_dpi", pages=2)
    assert [p.image.info["dpi"] for p in pages] == [(150, 150), (150, 150)]
    assert pages[0].image.size == (900, 1275)
    again = render_document(text, font_path=font, degradation=PRESETS["low_dpi"], pages=2)
    assert [p.image.tobytes() for p in pages] == [p.image.tobytes() for p in again]
    assert pages[0].image.tobytes() != pages[1].image.tobytes()  # same text, other noise
    with pytest.raises(ValueError, match="preset"):
        render_document(text, font_path=font, degradation="microfilm")


# ---------------------------------------------------------------- degradation


@pytest.fixture(scope="module")
def clean_page(font):
    return render_page(LINES, font_path=font)


def test_degrade_is_deterministic_for_a_seed(clean_page):
    options = PRESETS["scan"]
    first = degrade(clean_page.image, **options, seed=7)
    second = degrade(clean_page.image, **options, seed=7)
    other = degrade(clean_page.image, **options, seed=8)
    assert first.tobytes() == second.tobytes()
    assert first.tobytes() != other.tobytes()
    assert first.mode == "L" and first.size == clean_page.image.size
    assert first.info["dpi"] == (300, 300)


def test_degrade_leaves_the_input_alone_and_clean_is_a_copy(clean_page):
    before = clean_page.image.tobytes()
    copy = degrade(clean_page.image, **PRESETS["clean"])
    degrade(clean_page.image, **PRESETS["poor"])
    assert clean_page.image.tobytes() == before
    assert copy is not clean_page.image and copy.tobytes() == before


def test_degrade_resamples_to_a_lower_dpi_and_records_it(clean_page):
    low = degrade(clean_page.image, dpi=150)
    assert low.size == (900, 1275)
    assert low.info["dpi"] == (150, 150)
    with pytest.raises(ValueError):
        degrade(clean_page.image, dpi=600)
    bare = Image.new("L", (100, 100), 255)
    with pytest.raises(ValueError, match="dpi"):
        degrade(bare, dpi=150)


def test_each_degradation_changes_the_image(clean_page):
    image = clean_page.image
    for options in ({"skew_deg": 1.5}, {"blur_radius": 1.0}, {"noise_sigma": 10.0}, {"jpeg_quality": 50}):
        out = degrade(image, **options)
        assert out.size == image.size and out.mode == "L", options
        assert out.tobytes() != image.tobytes(), options
    # rotation fills the uncovered corners with white paper, not black
    assert degrade(image, skew_deg=3.0).getpixel((0, 0)) == 255


# ---------------------------------------------------------------- demo texts


@pytest.mark.parametrize("path", sorted(DEMO_TEXTS.glob("*.txt")), ids=lambda p: p.name)
def test_demo_texts_are_well_formed_and_renderable(path, font):
    raw = path.read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", raw)
    meta, body = read_demo_text(path)
    assert {"title", "type", "date", "creator"} <= meta.keys()
    assert meta["type"] in {"book", "newspaper", "magazine"}
    assert re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", meta["date"])
    assert 40 <= len(raw.splitlines()) <= 80
    assert missing_glyphs(font, body + meta["title"]) == set()
    pages = render_document(body, font_path=font, title=meta["title"])
    assert 2 <= len(pages) <= 4


def test_there_are_demo_texts_of_each_kind():
    kinds = {read_demo_text(p)[0]["type"] for p in DEMO_TEXTS.glob("*.txt")}
    assert kinds == {"book", "newspaper", "magazine"}


# ---------------------------------------------------------------- real OCR


def _tesseract_vie() -> bool:
    if shutil.which("tesseract") is None:
        return False
    import pytesseract

    return "vie" in pytesseract.get_languages(config="")


needs_tesseract = pytest.mark.skipif(not _tesseract_vie(), reason="tesseract with 'vie' data not installed")


def _source_text(name: str) -> tuple[str, str | None]:
    if name == "demo":
        meta, body = read_demo_text(DEMO_TEXTS / "van-mieu-quoc-tu-giam.txt")
        return body, meta["title"]
    path = SHARED_TEXT / "luc-van-tien.quocngu.txt"
    if not path.is_file():
        pytest.skip(f"shared test data absent: {path}")
    return path.read_text(encoding="utf-8"), None


# (preset, bound on the CER of two pages): tight for clean pages, loose for degraded ones
OCR_BOUNDS = [("clean", 0.01), ("scan", 0.03), ("low_dpi", 0.03), ("poor", 0.15)]


@pytest.mark.slow
@needs_tesseract
@pytest.mark.parametrize("source", ["demo", "luc-van-tien"])
@pytest.mark.parametrize(("preset", "bound"), OCR_BOUNDS, ids=[p for p, _ in OCR_BOUNDS])
def test_tesseract_reads_synthetic_pages(source, preset, bound, font, monkeypatch):
    import pytesseract

    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    text, title = _source_text(source)
    pages = render_document(text, pages=2, font_path=font, title=title, degradation=preset)
    assert len(pages) == 2
    truth = "\n".join(page.text for page in pages)
    read = "\n".join(
        pytesseract.image_to_string(
            page.image, lang="vie", config=f"--psm 3 --dpi {round(page.dpi)}", timeout=60
        )
        for page in pages
    )
    error_rate = cer(truth, read)
    print(f"{source} {preset}: CER {error_rate:.2%} over {len(fold(truth))} characters")
    assert error_rate < bound


def test_module_does_not_import_the_library_package():
    source = Path(synthetic.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+(library|web|workers|flask|celery|sqlalchemy)\b", source, re.M)
