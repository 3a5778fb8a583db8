"""The searchable-PDF engine, checked the way readers meet a PDF: poppler
(``pdftotext``, ``pdfimages``, ``pdfinfo``), pdfium (the engine of Chrome's
viewer) and qpdf's structural check, on a page read by the real tesseract."""

from __future__ import annotations

import html
import io
import re
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

from digitize import OcrOptions, read_page
from digitize.errors import ImageUnreadable
from digitize.pdf import PageSource, PdfMetadata, PdfOptions, PdfWriteFailed, write_searchable_pdf
from digitize.synthetic import PRESETS, VIETNAMESE_CHARS, degrade, find_vietnamese_font, render_page
from tests.conftest import REPO

PT_PER_PX_300 = 72 / 300

TEXT = [
    "Văn Miếu – Quốc Tử Giám được xây dựng năm 1070 dưới triều vua Lý Thánh Tông,",
    "thờ Khổng Tử và các bậc tiên hiền. Khuê Văn Các soi bóng xuống giếng Thiên Quang;",
    "tám mươi hai tấm bia tiến sĩ đặt trên lưng rùa đá ghi tên những người đỗ đạt.",
]


def poppler(*args: str) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=True, timeout=60).stdout


@dataclass(frozen=True)
class Box:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


def pdf_words(path: Path, page: int = 1) -> list[Box]:
    """``pdftotext -bbox``: every word poppler finds, with its box in points (top-left origin)."""
    out = poppler("pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-")
    return [Box(html.unescape(m[4]), float(m[0]), float(m[1]), float(m[2]), float(m[3]))
            for m in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
                                out)]


def pdf_text(path: Path, page: int = 1) -> str:
    return poppler("pdftotext", "-raw", "-enc", "UTF-8", "-f", str(page), "-l", str(page), str(path), "-")


def same_words(a: str, b: str) -> bool:
    return a.split() == b.split()


@pytest.fixture(scope="module")
def read_scan(tmp_path_factory):
    """A crooked, noisy Vietnamese page read by tesseract: ``(reading, ground truth)``."""
    tmp = tmp_path_factory.mktemp("scan")
    page = render_page(TEXT, font_path=find_vietnamese_font(), dpi=300, page_width_in=7.5, page_height_in=2.2,
                       margin_in=0.3, font_size_pt=11)
    scan = degrade(page.image, **{**PRESETS["scan"], "jpeg_quality": 90}, seed=3)
    source = tmp / "scan.png"
    scan.save(source, dpi=(300, 300))
    reading = read_page(source, options=OcrOptions(languages="vie"), work_dir=tmp / "ocr")
    assert len(reading.words) > 40, reading.text
    return reading, page.text


def test_a_read_page_becomes_a_pdf_whose_text_lies_over_its_words(read_scan, tmp_path):
    reading, _truth = read_scan
    out = tmp_path / "trang.pdf"
    report = write_searchable_pdf([PageSource(reading.normalised_image_path, reading.words)], out,
                                  metadata=PdfMetadata(title="Văn Miếu – Quốc Tử Giám", author="Ngô Sĩ Liên",
                                                       language="vi"))
    assert report.pages == 1 and report.words == len(reading.words)
    with pikepdf.open(out) as pdf:
        assert pdf.check_pdf_syntax() == []  # qpdf finds the file sound: xref, objects, streams
        assert str(pdf.Root.Lang) == "vi"

    # the text poppler extracts is the page's text, diacritics and all, NFC
    extracted = pdf_text(out)
    assert same_words(extracted, reading.text), (extracted, reading.text)
    assert unicodedata.is_normalized("NFC", extracted) and "Miếu" in extracted and "Thánh" in extracted
    info = poppler("pdfinfo", "-enc", "UTF-8", str(out))
    assert "Title:           Văn Miếu – Quốc Tử Giám" in info and "Author:          Ngô Sĩ Liên" in info

    # the image is in the PDF at its own size and resolution, filling the page
    width, height = reading.width, reading.height
    images = poppler("pdfimages", "-list", str(out)).splitlines()[2:]
    assert len(images) == 1
    fields = images[0].split()
    assert (int(fields[3]), int(fields[4]), fields[5], int(fields[12]), int(fields[13])) == (
        width, height, "gray", 300, 300), images[0]
    assert f"Page size:       {width * PT_PER_PX_300:.2f}"[:22] in info.replace("  pts", "")

    # every word's box in the PDF lies over the same word's box on the image (points, top-left origin)
    found = pdf_words(out)
    assert sorted(b.text for b in found) == sorted(w.text for w in reading.words)
    line_of = {(ln.block, ln.paragraph, ln.line): ln for ln in reading.lines}
    for word in reading.words:
        cx, cy = (word.x + word.w / 2) * PT_PER_PX_300, (word.y + word.h / 2) * PT_PER_PX_300
        box = min((b for b in found if b.text == word.text),
                  key=lambda b: abs((b.x0 + b.x1) / 2 - cx) + abs((b.y0 + b.y1) / 2 - cy))
        assert box.x0 == pytest.approx(word.x * PT_PER_PX_300, abs=0.5), word
        assert box.x1 == pytest.approx((word.x + word.w) * PT_PER_PX_300, abs=0.5), word
        line = line_of[(word.block, word.paragraph, word.line)]  # as tall as its line, so selection covers it
        assert box.y0 == pytest.approx(line.y * PT_PER_PX_300, abs=0.5), word
        assert box.y1 == pytest.approx((line.y + line.h) * PT_PER_PX_300, abs=0.5), word

    # pdfium (Chrome's viewer) finds a phrase across words and shows exactly the scan: the text is invisible
    doc = pdfium.PdfDocument(str(out))
    try:
        text_page = doc[0].get_textpage()
        assert same_words(text_page.get_text_range(), reading.text)
        start, count = text_page.search("Quốc Tử Giám").get_next()
        assert text_page.get_text_range(start, count) == "Quốc Tử Giám"
        # a selection is highlighted over the word, as tall as its line
        quoc = next(w for w in reading.words if w.text == "Quốc")
        line = line_of[(quoc.block, quoc.paragraph, quoc.line)]
        left, bottom, _right, top = text_page.get_charbox(start)
        page_h = height * PT_PER_PX_300
        assert left == pytest.approx(quoc.x * PT_PER_PX_300, abs=0.5)
        assert top == pytest.approx(page_h - line.y * PT_PER_PX_300, abs=0.5)
        assert bottom == pytest.approx(page_h - (line.y + line.h) * PT_PER_PX_300, abs=0.5)
        scale = width / doc[0].get_width() * (1 - 1e-6)  # a hair under, so pdfium's rounding up gives width × height
        rendered = np.asarray(doc[0].render(scale=scale, grayscale=True).to_pil().convert("L"), dtype=np.int16)
    finally:
        doc.close()
    with Image.open(reading.normalised_image_path) as im:
        jpeg = io.BytesIO()
        im.convert("L").save(jpeg, format="JPEG", quality=PdfOptions().jpeg_quality)
    expected = np.asarray(Image.open(jpeg), dtype=np.int16)
    assert rendered.shape == (height, width)
    assert np.abs(rendered - expected).mean() < 0.5  # the scan pixel for pixel (after JPEG): no text drawn
    for word in reading.words:  # and under each word's PDF box there is ink
        assert rendered[word.y:word.y + word.h, word.x:word.x + word.w].min() < 128, word


def test_every_vietnamese_letter_and_other_scripts_read_back_exactly(tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (2400, 900), 255).save(blank, dpi=(300, 300))
    letters = VIETNAMESE_CHARS
    tokens = [letters[i:i + 10] for i in range(0, len(letters), 10)] + ["Đường", "phố", "Hàng", "Bạc", "文廟",
                                                                        "élève", "Ngõ", "3/5", "x<y&z>w", "ở", "à", "-"]
    words = []
    for n, token in enumerate(tokens):
        line, col = divmod(n, 6)
        words.append(_Word(token, 40 + col * 390, 40 + line * 110, 360, 80, 0, 0, line))
    out = tmp_path / "chu.pdf"
    write_searchable_pdf([PageSource(blank, words)], out)
    expected = " ".join(w.text for w in words)
    assert " ".join(pdf_text(out).split()) == expected
    assert sorted(b.text for b in pdf_words(out)) == sorted(w.text for w in words)
    doc = pdfium.PdfDocument(str(out))
    try:
        assert " ".join(doc[0].get_textpage().get_text_range().split()) == expected
    finally:
        doc.close()


@dataclass(frozen=True)
class _Word:
    text: str
    x: int
    y: int
    w: int
    h: int
    block: int
    paragraph: int
    line: int


def test_bilevel_and_lossless_pages_keep_every_pixel(tmp_path):
    rng = np.random.default_rng(7)
    bilevel = Image.fromarray(rng.integers(0, 2, (333, 517), dtype=np.uint8) * 255).convert("1")
    gray = Image.fromarray(rng.integers(0, 256, (200, 301), dtype=np.uint8))
    bilevel.save(tmp_path / "bw.png", dpi=(400, 400))
    gray.save(tmp_path / "gray.png", dpi=(150, 150))
    out = tmp_path / "lossless.pdf"
    report = write_searchable_pdf([PageSource(tmp_path / "bw.png"), PageSource(tmp_path / "gray.png")], out,
                                  options=PdfOptions(lossless=True))
    assert report.page_sizes_pt == [(pytest.approx(517 * 72 / 400), pytest.approx(333 * 72 / 400)),
                                    (pytest.approx(301 * 72 / 150), pytest.approx(200 * 72 / 150))]
    listed = [line.split() for line in poppler("pdfimages", "-list", str(out)).splitlines()[2:]]
    assert [(f[3], f[4], f[7], f[8]) for f in listed] == [("517", "333", "1", "image"), ("301", "200", "8", "image")]
    subprocess.run(["pdfimages", "-png", str(out), str(tmp_path / "back")], check=True)
    with Image.open(tmp_path / "back-000.png") as back:
        assert np.array_equal(np.asarray(back.convert("L")), np.asarray(bilevel.convert("L")))
    with Image.open(tmp_path / "back-001.png") as back:
        assert np.array_equal(np.asarray(back.convert("L")), np.asarray(gray))


def test_page_labels_size_without_resolution_and_words_off_the_image(tmp_path):
    Image.new("RGB", (600, 300), (250, 240, 220)).save(tmp_path / "no-dpi.png")  # says nothing of its dpi
    Image.new("L", (600, 300), 255).save(tmp_path / "72.png", dpi=(1, 1))  # an unbelievable 1 dpi
    words = [_Word("ngoài", 550, 250, 400, 90, 0, 0, 0), _Word("trống", 10, 10, 0, 0, 0, 0, 1)]
    out = tmp_path / "nhan.pdf"
    report = write_searchable_pdf([PageSource(tmp_path / "no-dpi.png", words, label="iv"),
                                   PageSource(tmp_path / "72.png", label=None)], out)
    assert report.page_sizes_pt == [(144.0, 72.0), (144.0, 72.0)]  # 300 dpi assumed
    assert pdf_text(out, 1).split() == ["ngoài", "trống"]  # a box past the edge or of no size still reads
    assert all(0 <= b.x0 <= b.x1 <= 144.05 and 0 <= b.y0 <= b.y1 <= 72.05 for b in pdf_words(out))  # on the page
    doc = pdfium.PdfDocument(str(out))
    try:
        assert [doc.get_page_label(0), doc.get_page_label(1)] == ["iv", "2"]
    finally:
        doc.close()
    assert poppler("pdfimages", "-list", str(out)).splitlines()[2].split()[5:7] == ["rgb", "3"]  # RGB stays RGB


def test_bad_pages_leave_no_partial_pdf(tmp_path):
    good = tmp_path / "ok.png"
    Image.new("L", (100, 100), 255).save(good)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    out = tmp_path / "out.pdf"
    for pages, error, message in [
        ([PageSource(good), PageSource(tmp_path / "missing.png")], ImageUnreadable, "missing.png: the page image is missing"),
        ([PageSource(good), PageSource(broken)], ImageUnreadable, "broken.png: the page image cannot be read"),
        ([], PdfWriteFailed, "no pages to write"),
    ]:
        with pytest.raises(error, match=message):
            write_searchable_pdf(pages, out)
        assert not out.exists()
    with pytest.raises(ValueError, match="jpeg_quality"):
        PdfOptions(jpeg_quality=0)
    with pytest.raises(PdfWriteFailed, match="could not be written"):
        write_searchable_pdf([PageSource(good)], tmp_path / "no-such-folder" / "out.pdf")


def test_pages_are_written_as_they_come(tmp_path):
    """The pages iterable is consumed one page at a time, each written before the next is asked for."""
    image = tmp_path / "p.png"
    Image.new("L", (50, 50), 255).save(image)
    events = []

    def pages():
        for n in range(1, 6):
            events.append(f"asked {n}")
            yield PageSource(image)

    write_searchable_pdf(pages(), tmp_path / "out.pdf", progress=lambda n: events.append(f"written {n}"))
    assert events == [e for n in range(1, 6) for e in (f"asked {n}", f"written {n}")]


MEMORY_PROBE = """
import sys
from pathlib import Path
from heritage3d.report import peak_rss_mb
from digitize.pdf import PageSource, write_searchable_pdf
n, folder = int(sys.argv[1]), Path(sys.argv[2])
image = folder / "noise.png"
report = write_searchable_pdf((PageSource(image) for _ in range(n)), folder / f"{n}.pdf")
print(report.size_bytes, int(peak_rss_mb() * 1024 * 1024))
"""


@pytest.mark.slow
def test_a_big_item_costs_the_memory_of_one_page(tmp_path):
    # noise: the JPEG of each page is about as large as its pixels (≈ 5 MB at 300 dpi, US letter)
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (3300, 2550), dtype=np.uint8)).save(
        tmp_path / "noise.png", dpi=(300, 300), compress_level=1)

    def run(pages: int) -> tuple[int, int]:
        out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(pages), str(tmp_path)], capture_output=True,
                             text=True, check=True, cwd=REPO, timeout=300).stdout.split()
        return int(out[0]), int(out[1])

    small_size, small_peak = run(2)
    big_size, big_peak = run(24)
    assert big_size - small_size > 80e6  # 22 more pages of about 5 MB each
    # a writer that kept the pages would grow by that much; this one grows by (almost) nothing
    assert big_peak - small_peak < 0.1 * (big_size - small_size), (small_peak, big_peak)
