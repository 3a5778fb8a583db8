"""A doubtful page is read again with tessdata's larger models (issue #9).

Debian's ``tesseract-ocr-vie``/``-fra`` are ``tessdata_fast`` networks. ``scripts/models.sh`` (run by
``scripts/setup.sh``) unpacks the larger integerised "best" networks of npm's ``@tesseract.js-data``
packages into ``digitize/models/tessdata_best``, beside links to the system's other models. The pipeline
reads with the fast models and reads a page again with the larger ones when 2 % or more of its
characters are in words read below confidence 60 (``digitize.pipeline.better_model``; chosen on the hard
set's dev pages: 5.27 → 4.46 % CER, every kind better or equal, 1.3× the CPU of those pages; clean pages
are not read again). Pages here are dev pages of ``bench/hardpages`` and text written for the test.
"""

from __future__ import annotations

import pytest

from bench.hardpages import generate_page
from digitize import tesseract
from digitize.errors import EngineMissing
from digitize.pipeline import OcrOptions, read_page
from digitize.quality import cer
from digitize.synthetic import render_document


def test_the_larger_models_are_installed_for_vietnamese_and_french_beside_the_system_ones():
    folder = tesseract.BEST_MODELS_DIR
    for language in ("vie", "fra"):
        model = folder / f"{language}.traineddata"
        assert model.is_file() and not model.is_symlink(), f"{model}: run scripts/models.sh"
        system = tesseract.tessdata_dir() / f"{language}.traineddata"
        assert model.stat().st_size > system.stat().st_size  # a larger network than Debian's fast one
        assert tesseract.best_models(language) == folder
    # a reading in Vietnamese and English: the larger Vietnamese model beside the system's English one
    assert tesseract.best_models("vie+eng") == folder
    assert (folder / "eng.traineddata").resolve() == (tesseract.tessdata_dir() / "eng.traineddata").resolve()
    assert tesseract.best_models("eng") is None  # only a link: nothing larger to read with
    assert tesseract.best_models("xyz") is None
    assert tesseract.best_models("vie+../x") is None


def test_asking_for_a_larger_model_that_does_not_exist_is_refused_before_any_work(tmp_path):
    page = render_document("Một dòng chữ.", pages=1, dpi=300, page_width_in=3.0, page_height_in=1.5, margin_in=0.2)[0]
    with pytest.raises(EngineMissing, match="no larger tesseract model for 'eng'.*scripts/models.sh"):
        tesseract.recognise(page.image, languages="eng", timeout_s=60, model=tesseract.BEST)
    with pytest.raises(ValueError, match="model must be"):
        tesseract.recognise(page.image, languages="vie", timeout_s=60, model="huge")


@pytest.fixture(scope="module")
def faded_page(tmp_path_factory):
    return generate_page(tmp_path_factory.mktemp("faded"), split="dev", kind="faded", index=4)


@pytest.mark.slow
@pytest.mark.parametrize("in_process", [True, False], ids=["tesserocr", "program"])
def test_the_larger_model_reads_a_faded_page_better_in_process_and_through_the_program(
        faded_page, monkeypatch, in_process):
    monkeypatch.setattr(tesseract, "IN_PROCESS", in_process)
    from digitize.reading import parse_tsv

    errors = {}
    for model in (tesseract.FAST, tesseract.BEST):
        out = tesseract.recognise(faded_page.image_path, languages="vie", timeout_s=300, model=model)
        errors[model] = cer(faded_page.text, parse_tsv(out.tsv).text)
    assert errors[tesseract.BEST] < errors[tesseract.FAST] - 0.01, errors


@pytest.mark.slow
def test_a_doubtful_page_is_read_again_with_the_larger_models_and_says_so(faded_page, tmp_path):
    fast = read_page(faded_page.image_path, options=OcrOptions(languages="vie", stages_off={"model"}),
                     work_dir=tmp_path / "fast")
    full = read_page(faded_page.image_path, options=OcrOptions(languages="vie"), work_dir=tmp_path / "full")
    assert fast.model == "fast" and full.model == "best"
    assert cer(faded_page.text, full.text) < cer(faded_page.text, fast.text) - 0.02
    assert "best models" in full.alto and "best models" in full.hocr
    assert "best models" not in fast.alto
    assert "better_model" in full.timings_s


@pytest.mark.slow
def test_a_clean_page_is_not_read_again(tmp_path):
    text = ("Thư viện thành phố mở cửa mọi ngày trong tuần.\n"
            "Bạn đọc có thể mượn sách, đọc báo cũ và xem ảnh tư liệu.\n"
            "Những trang báo in trước năm một nghìn chín trăm năm mươi được số hoá dần.\n")
    page = render_document(text, pages=1, dpi=300, page_width_in=6.0, page_height_in=2.0, font_size_pt=12)[0]
    reading = read_page(page.image, options=OcrOptions(languages="vie"), work_dir=tmp_path)
    assert reading.model == "fast"
    assert cer(page.text, reading.text) < 0.02
    assert "best models" not in reading.alto
