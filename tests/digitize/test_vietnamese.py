"""Vietnamese syllable structure (``digitize.vietnamese``): which strings are
syllables, how they parse, what a token on a page is, and how the rules
compare with Debian's hunspell-vi word list (installed by the set-up)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from digitize.vietnamese import (
    fold_diacritics,
    is_valid_syllable,
    is_vietnamese_word,
    mark_variants,
    parse_syllable,
    place_tone,
    split_token,
    strip_tone,
    token_kind,
    valid_syllables,
)

HUNSPELL_VI = Path("/usr/share/hunspell/vi_VN.dic")

VALID = [
    # both tone placements of oa, oe, uy
    "hòa", "hoà", "thủy", "thuỷ", "khỏe", "khoẻ", "Hòa", "HOÀ",
    # qu and gi
    "quả", "quý", "quốc", "quyết", "quên", "quỳnh", "gì", "gìn", "giếng", "già", "giữ", "gieo",
    # k, gh, ngh before front vowels; c, g, ng elsewhere
    "kẻ", "kiếm", "ghế", "ghi", "nghiêng", "nghệ", "cá", "gà", "ngà", "ngoài", "nguy",
    # diphthongs and glides
    "người", "được", "rượu", "khuỷu", "khuya", "xoáy", "kìa", "của", "mưa", "tiếng", "muối",
    # y and i
    "kỳ", "kì", "lý", "lí", "Mỹ", "y", "ý", "yêu", "yên", "uyên",
    # stop codas with sắc or nặng
    "bóp", "học", "ếch", "hoạch", "huých", "tắt", "Việt", "mật",
    # rarer but real
    "boong", "soóc", "thuở", "gửi", "hừm", "quắp", "đi",
]  # fmt: skip

INVALID = [
    "qủa",  # the u of qu never carries the tone
    "hoaì",  # tone on the glide
    "nẵẫm",  # two tone marks (tesseract reading one blurred vowel twice)
    "ghà", "ngha", "kan", "cê", "ghoa",  # gh/ngh/k only before e ê i; c not before ê
    "tat", "tàc", "hoạchx",  # stop coda with a tone other than sắc/nặng; a stray letter
    "iên", "tyên", "tyn",  # iê needs an onset, yê none; y takes no coda after a consonant
    "gìa", "giin",  # gi + a carries the tone on a; the i of gi is not doubled
    "boa", "voan",  # labials take no glide (loanwords)
    "ăngh", "â", "ă",  # no such coda; â and ă need a coda
    "street", "wifi", "Paris", "",
]  # fmt: skip


@pytest.mark.parametrize("syllable", VALID)
def test_valid_syllables_are_accepted(syllable):
    assert is_valid_syllable(syllable), syllable
    assert is_valid_syllable(unicodedata.normalize("NFD", syllable)), "decomposed input is normalised"


@pytest.mark.parametrize("text", INVALID)
def test_invalid_syllables_are_rejected(text):
    assert not is_valid_syllable(text), text


@pytest.mark.parametrize(
    ("syllable", "parts"),
    [
        ("nghiêng", ("ngh", "", "iê", "ng", "ngang")),
        ("Quốc", ("q", "u", "ô", "c", "sac")),
        ("giếng", ("gi", "", "iê", "ng", "sac")),
        ("gì", ("gi", "", "i", "", "huyen")),
        ("hoà", ("h", "o", "a", "", "huyen")),
        ("hòa", ("h", "o", "a", "", "huyen")),
        ("thuở", ("th", "u", "ơ", "", "hoi")),
        ("người", ("ng", "", "ươ", "i", "huyen")),
        ("khuya", ("kh", "u", "ya", "", "ngang")),
        ("ạ", ("", "", "a", "", "nang")),
    ],
)
def test_parse_gives_onset_medial_nucleus_coda_tone(syllable, parts):
    parsed = parse_syllable(syllable)
    assert parsed is not None
    assert (parsed.onset, parsed.medial, parsed.nucleus, parsed.coda, parsed.tone_name) == parts


def test_tone_placement_can_be_moved_between_styles():
    assert place_tone("hoà") == "hòa"
    assert place_tone("Thủy", "new") == "Thuỷ"
    assert place_tone("người", "new") == "người"  # one placement only
    assert place_tone("xyz") == "xyz"


def test_letters_tone_and_folding():
    assert strip_tone("Người Việt") == "Ngươi Viêt"
    assert fold_diacritics("Đường phố Hà Nội") == "duong pho ha noi"
    assert "ể" in mark_variants("ế") and "ê" in mark_variants("ế") and "e" in mark_variants("ế")
    assert mark_variants("đ") == ("d",) and mark_variants("D") == ("Đ",)
    assert "Ờ" in mark_variants("Ơ")
    assert mark_variants("b") == ()


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        ("Việt-Nam", "vietnamese"),
        ("(Hà", "vietnamese"),
        ("NỘI,", "vietnamese"),
        ("“Hồ", "vietnamese"),
        ("1945", "number"),
        ("3,5%", "number"),
        ("12.000", "number"),
        ("−5°C", "number"),
        ("a12", "foreign"),
        ("SE19", "foreign"),
        ("–", "punctuation"),
        ("...", "punctuation"),
        ("Paris", "foreign"),
        ("merci", "foreign"),
        ("café", "foreign"),  # f
        ("été", "foreign"),  # French accents that spell no Vietnamese syllable
        ("Eiffel", "foreign"),
        ("UBND", "foreign"),  # an abbreviation
        ("XIX", "foreign"),  # a Roman numeral
        ("Internet", "foreign"),
        ("Đắk", "foreign"),  # minority-language names written with Vietnamese letters
        ("Lắk,", "foreign"),
        ("Krông", "foreign"),
        ("Nẵẫm", "broken"),  # capitalised, but its consonants are Vietnamese: marks misread
        ("nẵẫm", "broken"),  # marks only Vietnamese writes
        ("tiéng", "broken"),  # shared accent, but tiếng without its marks
        ("ViệT", "broken"),  # odd case inside a syllable
        ("đuợc", "broken"),
    ],
)
def test_token_kind(token, kind):
    assert token_kind(token) == kind
    assert is_vietnamese_word(token) == (kind == "vietnamese")


def test_split_token_keeps_punctuation_apart():
    assert split_token("(Hà,") == ("(", "Hà", ",")
    assert split_token("“Việt-Nam”.") == ("“", "Việt-Nam", "”.")
    assert split_token("...") == ("...", "", "")


def test_the_set_of_valid_syllables_is_closed_and_consistent():
    syllables = valid_syllables()
    assert 15_000 < len(syllables) < 18_000  # both tone placements of oa/oe/uy counted
    assert {"hòa", "hoà", "nghiêng", "quốc", "người"} <= syllables
    assert not {"qủa", "hoaì", "iên", "tat"} & syllables
    sample = sorted(syllables)[::97]
    assert all(is_valid_syllable(s) for s in sample)


# Every lower-case entry of hunspell-vi the rules reject, and why: loanwords
# that break the native rules (a glide after a labial, g before e, a stop coda
# without sắc/nặng), multi-syllable loans written as one word, irregular or
# dialect spellings, one misspelling (têt for tết) and a letter name.
HUNSPELL_REJECTED = {
    "buýt": "loan: glide after a labial (bus)",
    "moay": "loan: glide after a labial (moay-ơ)",
    "phuy": "loan: glide after a labial (fût)",
    "voan": "loan: glide after a labial (voile)",
    "gen": "loan: g before e (gene)",
    "gip": "loan: stop coda without sắc/nặng (jeep)",
    "xit": "stop coda without sắc/nặng",
    "ka": "loan: k before a",
    "basoi": "loan written as one word",
    "email": "loan written as one word",
    "internet": "loan written as one word",
    "intranet": "loan written as one word",
    "tivi": "loan written as one word",
    "palăng": "loan written as one word",
    "ping": "loan: ng after i",
    "gram": "loan: consonant cluster",
    "tout": "French",
    "web": "English",
    "giê": "gi + open ê (Giê-su)",
    "giề": "gi + open ê",
    "quoàng": "dialect: two glides",
    "quoạng": "dialect: two glides",
    "quoắt": "dialect: two glides",
    "quấc": "dialect: qu + âc",
    "têt": "misspelling of tết: stop coda without sắc/nặng",
    "v": "a letter name",
}


def test_rules_against_hunspell_vi():
    assert HUNSPELL_VI.is_file(), "Debian's hunspell-vi is not installed (apt-get install hunspell-vi)"
    lines = HUNSPELL_VI.read_text(encoding="utf-8").splitlines()[1:]
    words = {unicodedata.normalize("NFC", line.split("/")[0].strip()) for line in lines}
    lower = {w for w in words if w == w.lower()}
    rejected = {w for w in lower if not is_valid_syllable(w)}
    assert rejected == set(HUNSPELL_REJECTED)
    accepted = lower - rejected
    assert len(accepted) > 6_500
    assert accepted <= valid_syllables()
