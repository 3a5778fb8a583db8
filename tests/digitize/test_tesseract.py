"""The tesseract wrapper: probing, errors, time limit (digitize.tesseract)."""

from __future__ import annotations

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


@pytest.fixture
def line_image(tmp_path) -> Path:
    image = Image.new("L", (900, 120), 255)
    ImageDraw.Draw(image).text((20, 30), "Hanoi heritage library", font=ImageFont.load_default(size=48), fill=0)
    path = tmp_path / "line.png"
    image.save(path, dpi=(300, 300))
    return path


def test_version_and_languages_are_probed(tesseract_program):
    assert int(tesseract_version().split(".")[0]) >= 4
    languages = available_languages()
    assert "eng" in languages and "osd" in languages


def test_one_run_writes_every_format_asked_for(tesseract_program, line_image, tmp_path):
    out = tesseract.recognise(line_image, tmp_path / "out", languages="eng", psm=7, timeout_s=60,
                              outputs=("hocr", "alto", "tsv", "txt"))
    assert "Hanoi" in out.txt and "heritage" in out.hocr and "library" in out.alto
    assert out.tsv.startswith("level\tpage_num")
    assert {p.name for p in tmp_path.glob("out.*")} == {"out.hocr", "out.xml", "out.tsv", "out.txt"}
    only_tsv = tesseract.recognise(line_image, tmp_path / "tsv", languages="eng", psm=7, timeout_s=60)
    assert "library" in only_tsv.tsv and only_tsv.hocr is None and only_tsv.alto is None


def test_missing_language_names_the_debian_package(tesseract_program, line_image, tmp_path):
    with pytest.raises(LanguageMissing) as caught:
        read_page(line_image, options=OcrOptions(languages="eng+xyz"), work_dir=tmp_path)
    assert caught.value.language == "xyz"
    assert "tesseract-ocr-xyz" in str(caught.value)
    assert debian_package("chi_tra") == "tesseract-ocr-chi-tra"
    assert debian_package("script/Latin") == "tesseract-ocr-script-latn"
    with pytest.raises(LanguageMissing):
        tesseract.check_languages("eng+../../etc")  # not a language name at all


def test_missing_program(monkeypatch, line_image, tmp_path):
    # the real program cannot be uninstalled for a test: point the wrapper elsewhere
    monkeypatch.setattr(tesseract, "PROGRAM", str(tmp_path / "no-such-tesseract"))
    with pytest.raises(TesseractMissing) as caught:
        read_page(line_image, options=OcrOptions(languages="eng"), work_dir=tmp_path)
    assert "no-such-tesseract" in str(caught.value) and "tesseract-ocr" in str(caught.value)


def test_timeout_kills_tesseract(tesseract_program, line_image, tmp_path):
    started = time.monotonic()
    with pytest.raises(OcrTimeout) as caught:
        tesseract.recognise(line_image, tmp_path / "out", languages="eng", psm=3, timeout_s=0.01)
    assert time.monotonic() - started < 5
    assert caught.value.transient is True
    assert "0.01 s" in str(caught.value)


def test_timeout_through_read_page(tesseract_program, line_image, tmp_path):
    with pytest.raises(OcrTimeout):
        read_page(line_image, options=OcrOptions(languages="eng", timeout_s=0.01), work_dir=tmp_path)


def test_failure_carries_tesseracts_complaint(tesseract_program, tmp_path):
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_bytes(b"no pixels here")
    with pytest.raises(OcrFailed) as caught:
        tesseract.recognise(not_an_image, tmp_path / "out", languages="eng", psm=3, timeout_s=60)
    assert not isinstance(caught.value, OcrTimeout) and caught.value.transient is False
    assert "notes.png" in str(caught.value) and caught.value.stderr_tail


def test_children_run_single_threaded():
    assert tesseract.child_env()["OMP_THREAD_LIMIT"] == "1"
