"""Vietnamese post-correction (``digitize.postcorrect``) with the real
tesseract, in process through tesserocr (``lstm_choice_mode=2``).

Pages are drawn from the project's held-out *dev* text
(``bench/postcorrect_texts/dev.txt``, written for the project, not in the
lexicon) with ``digitize.synthetic`` in FreeSerif, 12 pt, and spoilt like a
soft, grainy 110-dpi scan (blur 1.8 px, noise σ 25, seed 7), so that
tesseract 5.5.4 confuses marks. Measured on its first page: CER 1.96 % raw,
1.65 % corrected, five words repaired (chí→chỉ, tỉ→ti, thế→thể, bàng→hàng,
tại→tai), none broken. Clean renders of the same text must come back
unchanged.
"""

from __future__ import annotations

import os
import re
import time
import unicodedata
from pathlib import Path

import pytest
import tesserocr
from rapidfuzz.distance import Levenshtein

from digitize.postcorrect import (
    LEXICON_DIR,
    LSTM_CHOICE_VARIABLES,
    CorrectedWord,
    SyllableModel,
    WordReading,
    correct_words,
    load_syllable_model,
    page_words_with_choices,
)
from digitize.quality import cer, comparable_text
from digitize.synthetic import FONT_DIRS, degrade, render_document

REPO = Path(__file__).resolve().parents[2]
DEV_TEXT = REPO / "bench" / "postcorrect_texts" / "dev.txt"
TEST_TEXT = REPO / "bench" / "postcorrect_texts" / "test.txt"
LVT_TEXT = REPO.parent / "shared" / "data" / "text" / "luc-van-tien.quocngu.txt"
TESSDATA = "/usr/share/tesseract-ocr/5/tessdata/"
# years spelt out ("vào năm một nghìn chín trăm...") are the only runs the texts may share
NUMERAL_WORDS = set("vào năm một hai ba bốn tư lăm sáu bảy tám chín mười mươi mốt lẻ trăm nghìn".split())
BLURRED_SCAN = {"blur_radius": 1.8, "noise_sigma": 25.0, "dpi": 110}


def find_font(name: str) -> Path:
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise AssertionError(f"font {name} is not installed (Debian: fonts-freefont-ttf, fonts-noto-core)")


@pytest.fixture(scope="module")
def api():
    os.environ["OMP_THREAD_LIMIT"] = "1"
    with tesserocr.PyTessBaseAPI(path=TESSDATA, lang="vie") as api:
        for name, value in LSTM_CHOICE_VARIABLES.items():
            assert api.SetVariable(name, value)
        yield api


def read(api, page) -> list[WordReading]:
    api.SetImage(page.image)
    api.SetSourceResolution(int(page.dpi))
    api.Recognize()
    return page_words_with_choices(api)


def first_page(font: str, degradation: dict | None):
    text = DEV_TEXT.read_text(encoding="utf-8")
    return render_document(text, pages=1, font_path=find_font(font), degradation=degradation, seed=7)[0]


@pytest.fixture(scope="module")
def blurred_page(api):
    page = first_page("FreeSerif.ttf", BLURRED_SCAN)
    return page, read(api, page)


# ---------------------------------------------------------------- the lexicon


def syllables(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"\w+", unicodedata.normalize("NFC", text))]


def ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return set(zip(*(words[i:] for i in range(n))))


def test_lexicon_loads_fast_once_and_knows_common_syllables():
    start = time.perf_counter()
    model = load_syllable_model()
    first_s = time.perf_counter() - start
    assert load_syllable_model() is model  # cached once per process
    assert isinstance(model, SyllableModel)
    assert first_s < 0.5  # about 15 ms on an idle machine
    assert sum(model.unigrams.values()) > 10_000
    assert len(model.prior_words) > 6_500
    assert all(model.known(k) for k in ("người", "nước", "hòa", "thủy", "nghiêng"))
    assert model.logprob("trăm", "một") > model.logprob("trắm", "một")
    total_bytes = sum(p.stat().st_size for p in LEXICON_DIR.rglob("*") if p.is_file())
    assert total_bytes < 1_000_000


def test_lexicon_provenance_excludes_luc_van_tien_and_the_held_out_texts():
    readme = (LEXICON_DIR / "README.md").read_text(encoding="utf-8")
    assert "written for this project" in readme
    assert "hunspell-vi" in readme
    prose = " ".join(p.read_text(encoding="utf-8") for p in sorted((LEXICON_DIR / "prose").glob("*.txt")))
    prose_words = syllables(prose)
    assert len(prose_words) > 10_000
    # no four syllables in a row of any line of Lục Vân Tiên occur in the prose
    assert LVT_TEXT.is_file(), "../shared/data/text is missing"
    lvt_grams = set().union(*(ngrams(syllables(line), 4) for line in LVT_TEXT.read_text(encoding="utf-8").splitlines()))
    assert not lvt_grams & ngrams(prose_words, 4)
    # the held-out texts share no six-syllable run with the prose, years spelt out aside
    prose_grams = ngrams(prose_words, 6)
    for held_out in (DEV_TEXT, TEST_TEXT):
        shared = ngrams(syllables(held_out.read_text(encoding="utf-8")), 6) & prose_grams
        assert all(set(gram) <= NUMERAL_WORDS for gram in shared), shared


# ---------------------------------------------------------------- the rules


def choices(*symbols: list[tuple[str, float]]) -> tuple:
    return tuple(tuple(s) for s in symbols)


def test_an_invalid_word_is_repaired_from_tesseracts_alternatives():
    # tesseract's real reading of a blurred "nằm": one vowel read twice
    reading = WordReading(
        "nẵẫm",
        40.7,
        choices(
            [("n", 0.96), ("m", 33.2)],
            [("ẵ", 1.46), ("ẫ", 4.23), ("ằ", 5.42), ("â", 10.29)],
            [("ẫ", 1.89), ("ẵ", 3.58), ("ằ", 4.32), ("ã", 8.48)],
            [("m", 1.34), ("n", 31.7)],
        ),
    )
    context = [WordReading("Hồ", 93.0), WordReading("Gươm", 91.0), reading, WordReading("ở", 95.0)]
    out = correct_words(context)
    assert out[2].text == "nằm"
    assert out[2].original == "nẵẫm" and out[2].changed and out[2].flagged
    assert out[2].reason == "repaired-invalid"
    assert [w.confidence for w in out] == [93.0, 91.0, 40.7, 95.0]


def test_no_evidence_no_change():
    # invalid, but tesseract offered nothing and the marks are confident: flagged only
    out = correct_words([WordReading("đuợc", 95.0)])
    assert out[0] == CorrectedWord("đuợc", "đuợc", 95.0, flagged=True, reason="invalid-syllable")


def test_numbers_punctuation_foreign_words_and_lone_letters_are_kept():
    words = ["Paris,", "merci", "beaucoup", "café", "Eiffel", "UBND", "1945", "3,5%", "–", "ă,", "â", "đ", "Đắk", "Lắk,"]
    readings = [WordReading(w, 20.0) for w in words]  # low confidence: mark variants allowed
    out = correct_words(readings)
    assert [w.text for w in out] == words
    assert not any(w.changed for w in out)


def test_a_capitalised_word_inside_a_line_needs_strong_evidence():
    # "Hắn" (truth "Hán") after "chữ": a known syllable, capitalised mid-sentence
    reading = WordReading("Hắn", 64.0, choices([("H", 0.5)], [("ắ", 1.0), ("á", 9.0)], [("n", 0.7)]))
    out = correct_words([WordReading("chữ", 95.0), reading, WordReading("lẫn", 90.0)])
    assert out[1].text == "Hắn" and not out[1].changed


def test_a_valid_word_the_model_strongly_dislikes_is_changed_only_with_an_alternative():
    plain = [WordReading("một", 96.0), WordReading("trắm", 92.0), WordReading("năm", 96.0)]
    assert not correct_words(plain)[1].changed  # confident, no alternatives: kept
    offered = plain[:1] + [
        WordReading("trắm", 92.0, choices([("t", 0.5)], [("r", 0.4)], [("ắ", 1.2), ("ă", 6.0)], [("m", 0.8)]))
    ] + plain[2:]
    out = correct_words(offered)
    assert out[1].text == "trăm" and out[1].reason == "lexicon-preferred"


# ---------------------------------------------------------------- real tesseract


def test_alternatives_come_from_tesserocr_per_symbol(blurred_page):
    _page, words = blurred_page
    with_choices = [w for w in words if w.choices]
    assert len(with_choices) >= 0.95 * len(words)
    for word in with_choices:
        assert "".join(symbol[0][0] for symbol in word.choices) == word.text
        for symbol in word.choices:
            others = [cost for _text, cost in symbol[1:]]
            assert others == sorted(others)
    # somewhere tesseract offered a mark-only alternative
    assert any(
        len(symbol) > 1 and symbol[0][0] in "ếềểễệ" and symbol[1][0] in "ếềểễệê"
        for word in with_choices
        for symbol in word.choices
    )


def test_correction_fixes_real_tesseract_mistakes(blurred_page):
    page, words = blurred_page
    out = correct_words(words)
    raw = " ".join(w.text for w in words)
    corrected = " ".join(w.text for w in out)
    before, after = cer(raw, page.text), cer(corrected, page.text)
    assert after < before - 0.002, (before, after)
    truth = comparable_text(page.text).split()
    aligned = {}
    for tag, a0, a1, b0, b1 in Levenshtein.opcodes([w.text for w in words], truth):
        if tag in ("equal", "replace") and a1 - a0 == b1 - b0:
            aligned.update({a0 + k: truth[b0 + k] for k in range(a1 - a0)})
    changed = [(i, w) for i, w in enumerate(out) if w.changed]
    right = [w for i, w in changed if aligned.get(i) == w.text]
    broken = [w for i, w in changed if aligned.get(i) == w.original]
    assert len(right) >= 3, changed
    assert not broken, broken
    assert [w.confidence for w in out] == [w.confidence for w in words]
    assert [w.original for w in out] == [w.text for w in words]


@pytest.mark.parametrize("font", ["FreeSerif.ttf", "NotoSerif-Regular.ttf"])
def test_a_clean_page_comes_back_unchanged(api, font):
    page = first_page(font, None)
    words = read(api, page)
    assert cer(" ".join(w.text for w in words), page.text) < 0.005
    out = correct_words(words)
    assert [w.text for w in out] == [w.text for w in words]


def test_correction_costs_little_next_to_tesseract(api, blurred_page):
    page, words = blurred_page
    load_syllable_model()
    correct_words(words)  # warm: rule tables and caches, once per process
    start = time.perf_counter()
    api.SetImage(page.image)
    api.Recognize()
    tesseract_s = time.perf_counter() - start
    start = time.perf_counter()
    correct_words(words)
    correct_s = time.perf_counter() - start
    assert correct_s < 0.05 * tesseract_s, (correct_s, tesseract_s)
