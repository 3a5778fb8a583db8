"""The layout of a page whose light was flattened is found on the page as
it was (issue #9), found on dev page 36 of ``bench/hardpages`` (kind
``newspaper3``, dev split; never the test split).

Flattening the uneven paper turned the half-tone photograph into a pale
mottle: the layout analysis no longer saw a picture, took its pieces for
text, headlines and captions, and let the column beside it run into it.
Read by those regions the page came out at 22.6 % CER (plain tesseract
7.3 %), and the reading without flattening, read on its own layout, was
only just the less sure of the two, so the broken one was kept. Both
readings now share the layout found on the page before flattening (no
pixel moves), and differ only in the pixels read.

This page's darkest paper stays clear of the ink threshold, so the pipeline
no longer flattens it at all (``test_enhance_needless_flattening.py``); the
test makes flattening unconditional again to keep the shared layout of a
flattened page tested.
"""

from __future__ import annotations

import os

import pytest

from bench.hardpages import generate_page
from digitize import OcrOptions, read_page
from digitize import enhance
from digitize.quality import cer

PAGE_INDEX = 36  # dev split


@pytest.mark.slow  # two readings of a whole newspaper page
def test_a_flattened_newspaper_page_keeps_its_picture_and_columns(tmp_path, monkeypatch):
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    monkeypatch.setattr(enhance, "SHADE_CLEARANCE", float("inf"))  # flattened whatever its light
    page = generate_page(tmp_path, split="dev", kind="newspaper3", index=PAGE_INDEX)
    reading = read_page(page.image_path, options=OcrOptions(languages="vie"), work_dir=tmp_path / "work")
    assert any("background flattened" in reason for reason in reading.enhancements), reading.enhancements  # the case in point
    assert cer(reading.text, page.text) < 0.09
    # column 0 before the boxed article at the head of column 2
    assert 0 <= reading.text.find("Ngày nay cầm một tờ báo") < reading.text.find("Khai trương phòng đọc sách")
