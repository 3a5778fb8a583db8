"""A page in a script its item did not declare (issue #14, bad input): a page of Hán read in an item of
quốc ngữ (tesseract finds nothing or reads it poorly) and a page of quốc ngữ read as Hán (the Hán engine
reads its letters without diacritics) each say so in a warning naming what to declare; the text is what
the engine read, nothing invented. Poorly read Vietnamese pages — a degraded page, hard pages of the
test split — and a page of noise are not taken for Hán."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from digitize import OcrOptions, read_page
from digitize.reading import is_han
from tests.digitize.test_han import TEXT, render

pytestmark = pytest.mark.slow

ANOTHER = "another script:"


def _another(reading) -> list[str]:
    return [w for w in reading.warnings if w.startswith(ANOTHER)]


@pytest.mark.parametrize("kind", ["ink", "rubbing"])
def test_a_page_of_han_in_an_item_of_quoc_ngu_says_so(tmp_path, kind):
    page, _, _ = render(TEXT, vertical=True)
    if kind == "rubbing":
        page = ImageOps.invert(page.convert("RGB"))
    page.save(tmp_path / "han.png")
    reading = read_page(tmp_path / "han.png", options=OcrOptions(languages="vie"), work_dir=tmp_path / "w")
    (said,) = _another(reading)
    assert said.startswith("another script: the page reads as Hán (") and "declare lzh" in said
    assert int(said.split("(")[1].split()[0]) >= 40  # most of the page's 84 characters read surely
    assert not any(is_han(ch) for ch in reading.text)  # tesseract's reading stays; no Hán is invented


def _vietnamese_page(tmp_path, degraded: bool = False):
    from digitize import synthetic

    lines = ["Trước đèn xem truyện Tây Minh,", "Gẫm cười hai chữ nhân tình éo le.",
             "Hỡi ai lẳng lặng mà nghe,", "Dữ răn việc trước, lành dè thân sau."] * 6
    page = synthetic.render_page(lines, font_path=synthetic.find_vietnamese_font(), dpi=300)
    image = page.image
    if degraded:
        # so blurred and noisy that tesseract finds no text: the Hán engine is asked, and must not see Hán
        image = synthetic.degrade(image, skew_deg=2.5, blur_radius=4.0, noise_sigma=70.0, dpi=100, jpeg_quality=30,
                                  seed=1)
    path = tmp_path / ("poor.png" if degraded else "viet.png")
    image.save(path, dpi=(100, 100) if degraded else (300, 300))
    return path


def test_a_page_of_quoc_ngu_read_as_han_says_so(tmp_path):
    reading = read_page(_vietnamese_page(tmp_path), options=OcrOptions(languages="lzh"), work_dir=tmp_path / "w")
    (said,) = _another(reading)
    assert said.startswith("another script: the page reads as Latin letters (") and "declare vie" in said
    han_page = read_page(_han_path(tmp_path), options=OcrOptions(languages="lzh"), work_dir=tmp_path / "w2")
    assert _another(han_page) == []  # a page of Hán declared Hán: nothing to say


def _han_path(tmp_path):
    page, _, _ = render(TEXT, vertical=True)
    page.save(tmp_path / "han-lzh.png")
    return tmp_path / "han-lzh.png"


def test_poor_vietnamese_pages_and_noise_are_not_taken_for_han(tmp_path):
    from bench.hardpages import generate_page

    poor = read_page(_vietnamese_page(tmp_path, degraded=True), options=OcrOptions(languages="vie"),
                     work_dir=tmp_path / "w")
    assert _another(poor) == [], poor.warnings
    assert "script_check" in poor.timings_s  # the Hán engine looked at it
    (tmp_path / "hard").mkdir()
    for kind in ("phone", "spread", "newspaper3", "faded"):  # hard kinds tesseract reads least surely
        hard = generate_page(tmp_path / "hard", split="test", kind=kind, index=0)
        reading = read_page(hard.image_path, options=OcrOptions(languages="vie"), work_dir=tmp_path / kind)
        assert _another(reading) == [], (kind, reading.warnings)  # (read surely enough not to be asked)
    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 256, (1200, 900), dtype=np.uint8)).save(tmp_path / "noise.png")
    noise = read_page(tmp_path / "noise.png", options=OcrOptions(languages="vie"), work_dir=tmp_path / "wn")
    assert _another(noise) == [], noise.warnings
    assert "script_check" in noise.timings_s
