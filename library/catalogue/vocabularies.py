"""The catalogue's controlled words: languages (tesseract codes) and item types, matched from the
names librarians write in English or Vietnamese, without case or diacritics.

:func:`parse_languages` gives tesseract's language string (``vie+fra``);
:func:`parse_item_type` gives one of :data:`ITEM_TYPES`.
"""

from __future__ import annotations

import re
import unicodedata

from library.catalogue.naturalsort import fold_diacritics

__all__ = ["ITEM_TYPES", "LANGUAGES", "parse_languages", "parse_item_type"]

ITEM_TYPES = ("book", "newspaper", "magazine", "manuscript", "other")

# Tesseract language codes and the names librarians use for them, folded
# (no case, no diacritics, "-"/"_" as spaces).
LANGUAGES: dict[str, tuple[str, ...]] = {
    "vie": ("vie", "vi", "vn", "vietnamese", "viet", "tieng viet", "viet ngu", "quoc ngu", "chu quoc ngu"),
    "fra": ("fra", "fre", "fr", "french", "francais", "phap", "tieng phap", "phap ngu", "phap van"),
    "eng": ("eng", "en", "english", "anh", "tieng anh", "anh ngu"),
    # the Hán script of Vietnam's classical texts and stelae: read by the Hán engine (digitize.han, PP-OCR)
    "lzh": ("lzh", "literary chinese", "classical chinese", "han", "chu han", "han van", "han tu", "van ngon",
            "co van"),
    "chi_tra": (
        "chi tra", "zh hant", "zh tw", "zh hk", "traditional chinese", "phon the", "trung phon the",
        "tieng trung phon the",
    ),
    "chi_tra_vert": ("chi tra vert",),
    "chi_sim": ("chi sim", "zh hans", "zh cn", "simplified chinese", "gian the", "trung gian the", "tieng trung gian the"),
    "chi_sim_vert": ("chi sim vert",),
    "deu": ("deu", "ger", "de", "german", "deutsch", "duc", "tieng duc"),
    "rus": ("rus", "ru", "russian", "nga", "tieng nga"),
    "jpn": ("jpn", "ja", "japanese", "nhat", "tieng nhat"),
    "lat": ("lat", "la", "latin", "latinh", "tieng latinh", "tieng la tinh"),
}
_LANGUAGE_CODES = {alias: code for code, aliases in LANGUAGES.items() for alias in aliases}
_AMBIGUOUS_CHINESE = {"zh", "chi", "zho", "chinese", "trung", "tieng trung", "hoa", "tieng hoa", "trung van", "trung quoc"}
_NOM = {"nom", "chu nom", "han nom", "nom na"}
_LANGUAGE_SPLIT = re.compile(r"\s*[+,;/&|]\s*|\s+(?:và|and|et)\s+", re.IGNORECASE)
_LANGUAGE_HELP = (
    "vie (Tiếng Việt), fra (Pháp), eng (Anh), lzh (chữ Hán, Hán văn), chi_tra (zh-Hant), chi_sim (zh-Hans), "
    "deu (Đức), rus (Nga), jpn (Nhật), lat (Latinh); join several with '+', e.g. vie+fra"
)


def _fold(text: str) -> str:
    """Case, diacritics and ``-``/``_``/space runs folded away, for matching words."""
    return " ".join(re.sub(r"[-_\s]+", " ", fold_diacritics(text)).split())


def parse_languages(text: str) -> str:
    """Tesseract's language string for ``text``: ``"Tiếng Việt, Pháp"`` → ``"vie+fra"``.

    Accepts tesseract codes, ISO 639-1/-2 codes (``vi``, ``fre``), BCP 47 tags
    (``zh-Hant``) and English or Vietnamese names, with or without diacritics,
    separated by ``+ , ; / &`` or ``và``/``and``. Raises :class:`ValueError`
    for an unknown or ambiguous language, listing the known ones.
    """
    codes: list[str] = []
    for token in _LANGUAGE_SPLIT.split(unicodedata.normalize("NFC", text).strip()):
        if not token.strip():
            continue
        key = _fold(token)
        code = _LANGUAGE_CODES.get(key) or _LANGUAGE_CODES.get(key.removeprefix("tieng ").removeprefix("chu "))
        if code is None:
            if key in _AMBIGUOUS_CHINESE:
                raise ValueError(
                    f"ambiguous language '{token.strip()}': write chữ Hán (classical texts, lzh), zh-Hant "
                    "(modern traditional, chi_tra) or zh-Hans (simplified, chi_sim)"
                )
            if key in _NOM:
                raise ValueError(
                    f"no OCR model reads chữ Nôm ('{token.strip()}'); for Hán-Nôm texts write lzh (chữ Hán): "
                    "the Hán characters are read, the others marked for a reader"
                )
            raise ValueError(f"unknown language '{token.strip()}'; known: {_LANGUAGE_HELP}")
        if code not in codes:
            codes.append(code)
    if not codes:
        raise ValueError(f"no language given; known: {_LANGUAGE_HELP}")
    return "+".join(codes)


_ITEM_TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "book": ("book", "books", "sach", "cuon sach", "sach in", "monograph"),
    "newspaper": ("newspaper", "newspapers", "bao", "to bao", "nhat bao", "bao chi", "bao giay"),
    "magazine": ("magazine", "magazines", "journal", "periodical", "tap chi", "tap san", "nguyet san", "tuan san"),
    "manuscript": (
        "manuscript", "manuscripts", "ban thao", "thu ban", "ban viet tay", "ban chep tay", "sach chep tay", "ban thu",
    ),
    "other": ("other", "khac", "loai khac"),
}
_ITEM_TYPES = {word: kind for kind, words in _ITEM_TYPE_WORDS.items() for word in words}
_ITEM_TYPE_HELP = "book (sách), newspaper (báo), magazine (tạp chí), manuscript (bản thảo, thủ bản), other (khác)"


def parse_item_type(text: str) -> str:
    """One of :data:`ITEM_TYPES` for an English or Vietnamese word: ``"Tạp chí"`` → ``"magazine"``."""
    kind = _ITEM_TYPES.get(_fold(unicodedata.normalize("NFC", text)))
    if kind is None:
        raise ValueError(f"unknown type '{text.strip()}'; allowed: {_ITEM_TYPE_HELP}")
    return kind
