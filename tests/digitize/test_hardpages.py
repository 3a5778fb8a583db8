"""The hard Vietnamese page set (bench/hardpages): truth that matches what is
printed, fonts that can print it, determinism, disjoint dev/test text, the
declared sizes and dpi tags, column labels, and (slow) that plain tesseract
finds the hard kinds hard and the 150-dpi kind readable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from bench.hardpages import KINDS, HardPage, generate, generate_page, read_manifest
from bench.hardpages import fonts as hp_fonts
from bench.hardpages import texts as hp_texts
from bench.hardpages.__main__ import main as cli_main
from digitize.quality import cer

FAST_KINDS = ("dpi150", "mixed", "newspaper3", "spread", "faded")


@pytest.fixture(scope="module")
def dev_pages(tmp_path_factory) -> dict[str, HardPage]:
    out = tmp_path_factory.mktemp("hardpages-dev")
    return {kind: generate_page(out, split="dev", kind=kind, index=0) for kind in FAST_KINDS}


def test_api_lists_the_eight_kinds():
    assert KINDS == ("dpi150", "spread", "mixed", "newspaper3", "shadow", "bleed", "faded", "phone")


def test_truth_is_nfc_and_every_character_is_in_every_font_used(dev_pages):
    for page in dev_pages.values():
        assert page.lines, page.kind
        assert page.fonts, page.kind
        for line in page.lines:
            assert line == unicodedata.normalize("NFC", line)
            assert line == " ".join(line.split()), "words are joined by single spaces"
        chars = {c for c in page.text if not c.isspace()}
        for key in page.fonts:
            with TTFont(str(hp_fonts.TYPEFACES[key].path), lazy=True) as font:
                cmap = set(font.getBestCmap())
            missing = sorted(c for c in chars if ord(c) not in cmap)
            assert not missing, f"{page.kind}: {key} lacks {missing}"


def test_truth_is_rich_vietnamese(dev_pages):
    text = "".join(p.text for p in dev_pages.values())
    for needed in "đĐơưăâêôờữặểỗịạ" + "0123456789" + ".,:;“”":
        assert needed in text, needed
    assert any(c.isupper() and ord(c) > 127 for c in text)


def test_a_font_without_a_glyph_is_refused():
    with pytest.raises(hp_fonts.GlyphMissingError):
        hp_fonts.require_glyphs("garamond", "Hà Nội 河内")


def test_same_seed_gives_same_pixels(tmp_path, dev_pages):
    again = generate_page(tmp_path, split="dev", kind="dpi150", index=0)
    first = dev_pages["dpi150"]
    assert again.lines == first.lines
    assert again.image_path.read_bytes() == first.image_path.read_bytes()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shot1 = generate_page(tmp_path / "a", split="dev", kind="phone", index=1)
    shot2 = generate_page(tmp_path / "b", split="dev", kind="phone", index=1)
    assert np.array_equal(np.asarray(Image.open(shot1.image_path)), np.asarray(Image.open(shot2.image_path)))


def test_other_index_gives_another_page(tmp_path, dev_pages):
    other = generate_page(tmp_path, split="dev", kind="dpi150", index=1)
    assert other.lines != dev_pages["dpi150"].lines


def test_dev_and_test_share_no_text(tmp_path, dev_pages):
    dev_paragraphs = {p for a in hp_texts.articles("dev") for p in a.paragraphs}
    test_paragraphs = {p for a in hp_texts.articles("test") for p in a.paragraphs}
    assert not dev_paragraphs & test_paragraphs
    words = sum(len(p.split()) for p in dev_paragraphs | test_paragraphs)
    assert words > 5000
    test_page = generate_page(tmp_path, split="test", kind="newspaper3", index=0)
    assert not set(test_page.lines) & set(dev_pages["newspaper3"].lines)


def test_text_files_are_nfc():
    for path in sorted(hp_texts.TEXT_DIR.glob("*.txt")):
        source = path.read_text(encoding="utf-8")
        assert unicodedata.is_normalized("NFC", source), path.name


@pytest.mark.parametrize("kind, width_in, height_in", [
    ("dpi150", 5.5, 8.2), ("mixed", 5.8, 8.6), ("newspaper3", 8.0, 11.0), ("faded", 5.5, 8.2),
])
def test_image_size_and_dpi_tag_as_declared(dev_pages, kind, width_in, height_in):
    page = dev_pages[kind]
    with Image.open(page.image_path) as image:
        assert round(image.info["dpi"][0]) == page.dpi
        assert image.width == pytest.approx(width_in * page.dpi, abs=2)
        assert image.height == pytest.approx(height_in * page.dpi, abs=2)
    assert page.dpi == {"dpi150": 150, "mixed": 200}.get(kind, 300)


def test_spread_is_a_photo_of_two_pages(dev_pages):
    page = dev_pages["spread"]
    with Image.open(page.image_path) as image:
        assert image.mode == "RGB"
        assert round(image.info["dpi"][0]) == page.dpi
        assert image.width > image.height
    assert page.columns is not None and len(page.columns) == len(page.lines)
    assert _runs(page.columns) == [0, 1]


def test_newspaper_columns_in_reading_order(dev_pages):
    page = dev_pages["newspaper3"]
    assert page.columns is not None and len(page.columns) == len(page.lines)
    # masthead and headline, three columns, second headline, three columns
    assert _runs(page.columns) == [-1, 0, 1, 2, -1, 0, 1, 2]
    assert page.lines[0].isupper()


def test_single_column_kinds_have_no_columns(dev_pages):
    for kind in ("dpi150", "mixed", "faded"):
        assert dev_pages[kind].columns is None


def test_mixed_page_has_its_furniture(dev_pages):
    page = dev_pages["mixed"]
    assert page.lines[0].isupper()  # running head
    assert page.lines[1].startswith("Chương ")
    assert page.lines[-1].isdigit()  # page number
    assert any(line.startswith("1 ") for line in page.lines[-4:-1])  # footnote


def test_cli_writes_images_truth_and_manifest(tmp_path):
    assert cli_main([str(tmp_path), "--split", "test", "--pages-per-kind", "1", "--kinds", "dpi150"]) == 0
    pages = read_manifest(tmp_path / "manifest.json")
    assert [p.kind for p in pages] == ["dpi150"]
    assert pages[0].image_path.is_file()
    assert pages[0].image_path.with_suffix(".gt.txt").read_text(encoding="utf-8") == pages[0].text + "\n"
    record = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["pages"][0]
    assert record["split"] == "test" and record["languages"] == "vie"


def test_generate_default_is_three_pages_per_kind(tmp_path):
    pages = generate(tmp_path, split="dev", kinds=("dpi150",))
    assert [(p.kind, p.index) for p in pages] == [("dpi150", 0), ("dpi150", 1), ("dpi150", 2)]


def _runs(columns) -> list[int]:
    runs = []
    for c in columns:
        if not runs or runs[-1] != c:
            runs.append(c)
    return runs


def _plain_tesseract(path: Path) -> str:
    program = shutil.which("tesseract")
    assert program, "tesseract is not installed (Debian: tesseract-ocr, tesseract-ocr-vie)"
    done = subprocess.run([program, str(path), "-", "-l", "vie", "--psm", "3"], capture_output=True,
                          check=True, env=dict(os.environ, OMP_THREAD_LIMIT="1"), timeout=300)
    return done.stdout.decode("utf-8")


@pytest.mark.slow
def test_plain_tesseract_finds_bleed_hard_and_dpi150_readable(tmp_path, dev_pages):
    bleed = generate_page(tmp_path, split="dev", kind="bleed", index=0)
    hard = cer(_plain_tesseract(bleed.image_path), bleed.text)
    readable = cer(_plain_tesseract(dev_pages["dpi150"].image_path), dev_pages["dpi150"].text)
    assert hard > 0.05, f"bleed page too easy: CER {hard:.1%}"
    assert hard < 0.60, f"bleed page hopeless: CER {hard:.1%}"
    assert readable < 0.10, f"dpi150 page unreadable: CER {readable:.1%}"
