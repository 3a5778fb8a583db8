"""Dublin Core metadata of an item, and the CSV metadata sheet of a batch.

Pure validation: values in, an :class:`ItemMetadata` (or a list of
:class:`~library.errors.InputRejected` problems) out. No database, no Flask.

Every value is NFC-normalised and stripped, then refused when it

- is longer than ``Limits.max_metadata_chars`` (:class:`LimitExceeded`);
- holds a control character (only ``description`` may hold line breaks) or an
  invisible text-direction control;
- holds markup: an HTML tag (``<b>``, ``</i>``, ``<script``), an HTML comment,
  an HTML entity (``&lt;``, ``&#60;``) or a ``javascript:``/``vbscript:``
  link. A lone ``<`` or ``&`` (``a < b``, ``Văn hóa & Thông tin``) is fine;
- could be run as a spreadsheet formula when the catalogue is exported and
  opened in Excel (CSV injection). **The rule:** a value that starts with
  ``=``, ``+``, ``-`` or ``@`` (after stripping), or whose raw cell starts with
  a tab or carriage return, is refused, *unless* the whole value is a plain
  number (``-5``, ``+3.5``, ``1.234,5``) or a telephone number (``+84 24 3825
  1234``): digits, spaces, dots, hyphens and parentheses after one leading
  ``+`` or ``-``. Those cannot call a function. Anything else (``=HYPERLINK(…)``,
  ``-2+3``, ``@SUM(…)``, ``- tập 1``) must lose its leading sign.

Dates, languages and item types are parsed into fixed forms:
:func:`parse_date`, :func:`parse_languages` (tesseract codes such as
``vie+fra``) and :func:`parse_item_type` (one of :data:`ITEM_TYPES`).
"""

from __future__ import annotations

import calendar
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from library.errors import InputRejected, LimitExceeded
from library.catalogue.naturalsort import fold_diacritics
from library.settings import Limits
from library.ingest.sources import describe_char, display_label, first_unsafe_char, name_problem

__all__ = [
    "ITEM_TYPES",
    "LANGUAGES",
    "DateRange",
    "ItemMetadata",
    "SheetRow",
    "Sheet",
    "parse_date",
    "parse_languages",
    "parse_item_type",
    "validate_metadata",
    "read_metadata_sheet",
]

ITEM_TYPES = ("book", "newspaper", "magazine", "manuscript", "other")

# ------------------------------------------------------------------------ dates


@dataclass(frozen=True)
class DateRange:
    """A date as a cataloguer wrote it, and the years it covers.

    ``iso`` is set only for an exact date: ``"1858-07-10"``, ``"1858-07"`` or
    ``"1858"``; decades, centuries, ranges and approximate dates have ``None``.
    """

    text: str  # as written, NFC, stripped
    year_start: int | None
    year_end: int | None
    approximate: bool = False
    iso: str | None = None


@dataclass(frozen=True)
class _Span:
    first: tuple[int, int, int]  # (year, month, day) of the first day covered
    last: tuple[int, int, int]
    approximate: bool = False
    iso: str | None = None


_MONTH_NAMES = calendar.month_name  # English, for messages

_APPROX_PREFIX = re.compile(
    r"^(?:khoảng(?:\s+chừng)?|chừng|ước\s+chừng|vào\s+khoảng|circa|ca\.?|c\.|approx\.?|about|~)\s*(?P<rest>.+)$"
)
_RANGE_SPLIT = re.compile(r"\s*[–—]\s*|\s+-\s+|\s+(?:đến|tới|to|until)\s+")
_RANGE_FROM = re.compile(r"^(?:từ|from)\s+")
_YEARS_RANGE = re.compile(r"^(\d{3,4})-(\d{3,4})$")
_ISO_INTERVAL = re.compile(r"^(\d{4}(?:-\d{2}){0,2})/(\d{4}(?:-\d{2}){0,2})$")
_CENTURY_VI = re.compile(r"^(?:(?P<part>đầu|giữa|cuối)\s+)?thế\s+k[ỷỉyi]\s+(?P<n>[0-9]+|[ivxlc]+)$")
_CENTURY_EN = re.compile(
    r"^(?:(?P<part>early|mid|late)[\s-]+)?(?P<n>[0-9]+)(?:st|nd|rd|th)[\s-]+(?:century|cent\.?|c\.?)$"
)
_CENTURY_PART = {"đầu": (0, 32), "early": (0, 32), "giữa": (33, 66), "mid": (33, 66), "cuối": (67, 99), "late": (67, 99)}
_DECADE_EN = re.compile(r"^(\d{3,4})\s*'?s$")
_DECADE_VI = re.compile(r"^(?:thập\s+(?:niên|kỷ|kỉ)|những\s+năm)\s+(\d+)$")
_VI_DAY = re.compile(
    r"^(?:ngày|mồng|mùng)\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s*(?:,\s*|\s+)(?:năm\s+)?(\d{1,4})$"
)
_VI_MONTH = re.compile(r"^tháng\s+(\d{1,2})\s*(?:,\s*|\s+|/)(?:năm\s+)?(\d{1,4})$")
_VI_YEAR = re.compile(r"^năm\s+(\d{1,4})$")
_VI_PREFIX = re.compile(r"^(?:ngày|mồng|mùng)\s+(?P<rest>\d.*)$")
_YEAR = re.compile(r"^(\d{1,4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_YMD = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{3,4})$")
_MY = re.compile(r"^(\d{1,2})[-/.](\d{3,4})$")

_DATE_FORMS = "1858, 1858-07-10, 10/7/1858, ngày 10 tháng 7 năm 1858, 1930s, khoảng 1930, 1930–1935 or thế kỷ XIX"


def parse_date(text: str, *, today: date | None = None) -> DateRange:
    """Parse a date as librarians write it, in Vietnamese or English.

    Exact: ``1858``, ``1858-07``, ``1858-07-10``, ``10/7/1858`` and
    ``10-07-1858`` (day first, the Vietnamese order), ``ngày 10 tháng 7 năm
    1858``, ``tháng 7 năm 1858``, ``năm 1858``. Decades: ``1930s``, ``thập
    niên 1930``, ``những năm 1930``. Approximate: ``khoảng 1930``, ``khoảng
    năm 1930``, ``ca. 1930``, ``c. 1930``, ``circa 1930``, ``[1930?]``,
    ``1930?`` (``[1930]``, a date the cataloguer supplied, stays exact).
    Ranges: ``1930-1935``, ``1930–1935``, ``1930 - 1935``, ``từ 1930 đến 1935``.
    Centuries: ``thế kỷ 19``, ``thế kỷ XIX``, ``19th century`` (1800–1899),
    and ``đầu``/``giữa``/``cuối thế kỷ XIX`` or ``early``/``mid``/``late``
    (approximate thirds).

    Raises :class:`ValueError` with a message naming the text and the reason
    for impossible dates (``1858-02-30``, month 13, year 0, a year after next
    year, a range that ends before it starts) and unrecognised ones.
    """
    written = " ".join(unicodedata.normalize("NFC", text).split())
    if not written:
        raise ValueError("the date is empty")
    this_year = (today or date.today()).year
    span = _parse_span(written.casefold(), written, this_year, allow_range=True)
    return DateRange(
        text=written,
        year_start=span.first[0],
        year_end=span.last[0],
        approximate=span.approximate,
        iso=None if span.approximate else span.iso,
    )


def _parse_span(s: str, written: str, this_year: int, *, allow_range: bool) -> _Span:
    if s.startswith("[") and s.endswith("]"):
        inner = s[1:-1].strip()
        return _parse_span(inner, written, this_year, allow_range=allow_range)
    if s.endswith("?"):
        inner = _parse_span(s[:-1].strip(), written, this_year, allow_range=allow_range)
        return _Span(inner.first, inner.last, approximate=True)
    match = _APPROX_PREFIX.match(s)
    if match:
        inner = _parse_span(match["rest"], written, this_year, allow_range=allow_range)
        return _Span(inner.first, inner.last, approximate=True)
    if allow_range:
        span = _parse_range(s, written, this_year)
        if span is not None:
            return span
    for parse in (_parse_century, _parse_decade, _parse_exact):
        span = parse(s, written, this_year)
        if span is not None:
            return span
    raise ValueError(f"unrecognised date '{written}': write it as {_DATE_FORMS}")


def _parse_range(s: str, written: str, this_year: int) -> _Span | None:
    match = _YEARS_RANGE.match(s) or _ISO_INTERVAL.match(s)
    if match:
        left, right = match[1], match[2]
    else:
        parts = _RANGE_SPLIT.split(_RANGE_FROM.sub("", s), maxsplit=1)
        if len(parts) != 2:
            return None
        left, right = parts
    start = _parse_span(left.strip(), written, this_year, allow_range=False)
    end = _parse_span(right.strip(), written, this_year, allow_range=False)
    if start.first > end.last:
        raise ValueError(f"impossible date range '{written}': it starts after it ends")
    return _Span(start.first, end.last, approximate=start.approximate or end.approximate)


def _roman(numeral: str) -> int:
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
    total = 0
    for i, ch in enumerate(numeral):
        value = values[ch]
        total += -value if i + 1 < len(numeral) and values[numeral[i + 1]] > value else value
    return total


def _parse_century(s: str, written: str, this_year: int) -> _Span | None:
    match = _CENTURY_VI.match(s) or _CENTURY_EN.match(s)
    if not match:
        return None
    n = int(match["n"]) if match["n"].isdigit() else _roman(match["n"])
    if n < 1:
        raise ValueError(f"impossible date '{written}': there is no century {n}")
    start = (n - 1) * 100
    if start > this_year + 1:
        raise ValueError(f"impossible date '{written}': that century has not begun")
    lo, hi = _CENTURY_PART.get(match["part"] or "", (0, 99))
    return _Span((max(start + lo, 1), 1, 1), (start + hi, 12, 31), approximate=bool(match["part"]))


def _parse_decade(s: str, written: str, this_year: int) -> _Span | None:
    match = _DECADE_EN.match(s) or _DECADE_VI.match(s)
    if not match:
        return None
    digits = match[1]
    if len(digits) <= 2:
        raise ValueError(
            f"ambiguous decade '{written}': write the whole year, e.g. những năm 19{digits.zfill(2)}"
        )
    year = int(digits)
    if year % 10:
        raise ValueError(f"impossible date '{written}': a decade starts at a year ending in 0 (e.g. {year - year % 10})")
    _check_year(year or 1, written, this_year)
    return _Span((max(year, 1), 1, 1), (year + 9, 12, 31))


def _parse_exact(s: str, written: str, this_year: int) -> _Span | None:
    if m := _VI_DAY.match(s):
        return _day(int(m[3]), int(m[2]), int(m[1]), written, this_year)
    prefixed = _VI_PREFIX.match(s)
    if prefixed:  # "ngày 10/7/1858"
        s = prefixed["rest"]
    if m := _VI_MONTH.match(s):
        return _month(int(m[2]), int(m[1]), written, this_year)
    if m := (_VI_YEAR.match(s) or _YEAR.match(s)):
        if len(m[1]) < 3 and not s.startswith("năm"):
            raise ValueError(f"incomplete date '{written}': write the year in full (e.g. 18{m[1].zfill(2)} or 19{m[1].zfill(2)})")
        return _year(int(m[1]), written, this_year)
    if m := _YMD.match(s):
        return _day(int(m[1]), int(m[3]), int(m[4]), written, this_year)
    if m := _DMY.match(s):
        return _day(int(m[4]), int(m[3]), int(m[1]), written, this_year)
    if m := _YEAR_MONTH.match(s):
        return _month(int(m[1]), int(m[2]), written, this_year)
    if m := _MY.match(s):
        return _month(int(m[2]), int(m[1]), written, this_year)
    return None


def _check_year(year: int, written: str, this_year: int) -> None:
    if year == 0:
        raise ValueError(f"impossible date '{written}': there is no year 0 (1 BC is followed by AD 1)")
    if year > this_year + 1:
        raise ValueError(f"impossible date '{written}': {year} is in the future")


def _check_month(month: int, written: str) -> None:
    if not 1 <= month <= 12:
        raise ValueError(f"impossible date '{written}': there is no month {month}")


def _year(year: int, written: str, this_year: int) -> _Span:
    _check_year(year, written, this_year)
    return _Span((year, 1, 1), (year, 12, 31), iso=f"{year:04d}")


def _month(year: int, month: int, written: str, this_year: int) -> _Span:
    _check_year(year, written, this_year)
    _check_month(month, written)
    last = calendar.monthrange(year, month)[1]
    return _Span((year, month, 1), (year, month, last), iso=f"{year:04d}-{month:02d}")


def _day(year: int, month: int, day: int, written: str, this_year: int) -> _Span:
    _check_year(year, written, this_year)
    _check_month(month, written)
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise ValueError(f"impossible date '{written}': {_MONTH_NAMES[month]} has {last} days in {year}")
    return _Span((year, month, day), (year, month, day), iso=f"{year:04d}-{month:02d}-{day:02d}")


# -------------------------------------------------------- languages and types

# Tesseract language codes and the names librarians use for them, folded
# (no case, no diacritics, "-"/"_" as spaces).
LANGUAGES: dict[str, tuple[str, ...]] = {
    "vie": ("vie", "vi", "vn", "vietnamese", "viet", "tieng viet", "viet ngu", "quoc ngu", "chu quoc ngu"),
    "fra": ("fra", "fre", "fr", "french", "francais", "phap", "tieng phap", "phap ngu", "phap van"),
    "eng": ("eng", "en", "english", "anh", "tieng anh", "anh ngu"),
    "chi_tra": (
        "chi tra", "zh hant", "zh tw", "zh hk", "lzh", "traditional chinese", "classical chinese",
        "han", "chu han", "han van", "han tu", "phon the", "trung phon the", "tieng trung phon the",
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
    "vie (Tiếng Việt), fra (Pháp), eng (Anh), chi_tra (chữ Hán, zh-Hant), chi_sim (zh-Hans), "
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
                    f"ambiguous language '{token.strip()}': write zh-Hant or chữ Hán (traditional, chi_tra) "
                    "or zh-Hans (simplified, chi_sim)"
                )
            if key in _NOM:
                raise ValueError(
                    f"no OCR model reads chữ Nôm ('{token.strip()}'); for Hán-Nôm texts write chi_tra (chữ Hán)"
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


# --------------------------------------------------------------- item metadata


@dataclass(frozen=True)
class ItemMetadata:
    """Dublin Core description of one item (book, newspaper issue, …)."""

    title: str
    creator: str | None = None
    date: DateRange | None = None
    publisher: str | None = None
    languages: str = "vie"  # tesseract language string: "vie", "vie+fra", "chi_tra" …
    item_type: str = "book"  # one of ITEM_TYPES
    subject: str | None = None
    identifier: str | None = None
    rights: str | None = None
    serial_title: str | None = None  # the newspaper or magazine an issue belongs to
    issue_date: DateRange | None = None
    issue_number: str | None = None
    collection: str | None = None  # collection name or slug
    description: str | None = None


# Field names, and the column headers (English or Vietnamese) that mean them;
# headers match without case, diacritics or "_"/"-" (serial_title = Serial Title).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "files": ("file", "files", "tệp", "tệp tin", "tập tin", "tên tệp", "filename", "file name", "path", "đường dẫn"),
    "title": ("title", "nhan đề", "tiêu đề", "tên tài liệu", "nhan đề chính"),
    "creator": ("creator", "author", "tác giả"),
    "date": ("date", "ngày", "năm", "year", "thời gian", "năm xuất bản"),
    "publisher": ("publisher", "nhà xuất bản", "nxb"),
    "languages": ("language", "languages", "ngôn ngữ", "lang"),
    "item_type": ("type", "item type", "loại", "loại tài liệu", "kiểu tài liệu"),
    "subject": ("subject", "subjects", "chủ đề"),
    "identifier": ("identifier", "id", "ký hiệu", "kí hiệu", "số hiệu", "call number", "mã"),
    "rights": ("rights", "bản quyền"),
    "serial_title": ("serial title", "serial", "tên báo", "tên tạp chí"),
    "issue_date": ("issue date", "ngày phát hành", "ngày ra", "ngày ra báo"),
    "issue_number": ("issue number", "issue", "số", "số báo", "số phát hành"),
    "collection": ("collection", "bộ sưu tập", "sưu tập"),
    "description": ("description", "mô tả", "ghi chú", "notes"),
}
_FIELD_BY_HEADER = {_fold(alias): name for name, aliases in FIELD_ALIASES.items() for alias in aliases}
_METADATA_FIELDS = tuple(name for name in FIELD_ALIASES if name != "files")

_FORMULA_START = ("=", "+", "-", "@")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*")
_PHONE_NUMBER = re.compile(r"[+-]?\(?\d[\d .()-]*\d")
_MARKUP = re.compile(
    r"</?[a-z][a-z0-9-]*(?=[\s/>]|$)"  # a tag: <b>, </i>, <script, <img src=…
    r"|<!--|<!\[cdata\[|<\?"
    r"|(?:javascript|vbscript|livescript)\s*:"
    r"|data\s*:\s*text/html"
    r"|&(?:#[0-9]+|#x[0-9a-f]+|[a-z][a-z0-9]{1,31});",  # an entity: &lt; &#60; &amp;
    re.IGNORECASE | re.ASCII,
)


class _Problem(Exception):
    """One value's problem, raised inside validation and turned into InputRejected by the caller."""

    def __init__(self, problem: str, limit: bool = False):
        super().__init__(problem)
        self.problem = problem
        self.limit = limit


def _clean_text(field_name: str, raw: object, *, limits: Limits) -> str | None:
    """The value NFC-normalised and stripped (``None`` when empty), or :class:`_Problem`."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _Problem("the value must be text")
    value = unicodedata.normalize("NFC", raw)
    multiline = field_name == "description"
    if multiline:
        value = value.replace("\r\n", "\n")
    if value[:1] in ("\t", "\r"):
        raise _Problem("possible spreadsheet formula: the value starts with a tab or carriage return; remove it")
    value = value.strip()
    if not value:
        return None
    if len(value) > limits.max_metadata_chars:
        raise _Problem(
            f"the value is {len(value):,} characters long, over the limit of {limits.max_metadata_chars:,}", limit=True
        )
    bad = first_unsafe_char(value, allow="\n" if multiline else "")
    if bad is not None:
        kind = "a text-direction control" if unicodedata.category(bad) == "Cf" else "a control character"
        raise _Problem(f"the value contains {kind} ({describe_char(bad)}); remove it")
    if value[0] in _FORMULA_START and not (_PLAIN_NUMBER.fullmatch(value) or _PHONE_NUMBER.fullmatch(value)):
        raise _Problem(f"possible spreadsheet formula; remove the leading '{value[0]}'")
    markup = _MARKUP.search(value)
    if markup:
        raise _Problem(
            f"the value contains markup ('{display_label(markup.group(0))}'); write plain text, "
            "without HTML tags, entities or script links"
        )
    return value


def _field_value(field_name: str, raw: object, *, limits: Limits, today: date | None):
    """A field's typed value (str, DateRange, …) or ``None``; raises :class:`_Problem`."""
    value = _clean_text(field_name, raw, limits=limits)
    if value is None:
        return None
    try:
        if field_name in ("date", "issue_date"):
            return parse_date(value, today=today)
        if field_name == "languages":
            return parse_languages(value)
        if field_name == "item_type":
            return parse_item_type(value)
    except ValueError as exc:
        raise _Problem(str(exc)) from None
    return value


def _build_item(
    values: dict[str, tuple[str, object]],
    *,
    source: str,
    where: str,
    limits: Limits,
    default_languages: str,
    today: date | None,
) -> tuple[ItemMetadata | None, list[InputRejected]]:
    """``values`` maps field name → (label to show, raw value). ``where`` is
    ``"field"`` or ``"column"``, the word for a label in messages."""
    problems: list[InputRejected] = []
    fields: dict[str, object] = {}
    for name, (label, raw) in values.items():
        try:
            value = _field_value(name, raw, limits=limits, today=today)
        except _Problem as exc:
            cls = LimitExceeded if exc.limit else InputRejected
            problems.append(cls(source, f"{where} '{label}': {exc.problem}"))
            fields[name] = None  # refused, not missing
            continue
        if value is not None:
            fields[name] = value
    if "title" not in fields:
        label = values["title"][0] if "title" in values else "title"
        problems.append(InputRejected(source, f"{where} '{label}': the title is missing; every item needs one"))
    if problems:
        return None, problems
    fields.setdefault("languages", default_languages)
    return ItemMetadata(**fields), []


def validate_metadata(
    raw: dict[str, str],
    *,
    source: str,
    limits: Limits,
    default_languages: str = "vie",
    today: date | None = None,
) -> tuple[ItemMetadata | None, list[InputRejected]]:
    """Check one item's metadata, as given by a form or an API call.

    ``raw`` maps field names (``title``, ``creator``, ``date``, ``publisher``,
    ``languages``, ``item_type``, ``subject``, ``identifier``, ``rights``,
    ``serial_title``, ``issue_date``, ``issue_number``, ``collection``,
    ``description``, or any of their column-header aliases such as
    ``language``, ``type`` or ``nhan đề``) to text. Empty values count as
    absent. Returns the metadata and no problems, or ``None`` and every
    problem found, each naming ``source`` and the field.
    """
    problems: list[InputRejected] = []
    values: dict[str, tuple[str, object]] = {}
    for key, value in raw.items():
        name = _FIELD_BY_HEADER.get(_fold(str(key)))
        label = display_label(str(key))
        if name is None or name == "files":
            problems.append(InputRejected(source, f"unknown field '{label}'; known fields: {', '.join(_METADATA_FIELDS)}"))
            continue
        if name in values:
            problems.append(
                InputRejected(source, f"fields '{values[name][0]}' and '{label}' both give the {name}; keep one")
            )
            continue
        values[name] = (label, value)
    item, value_problems = _build_item(
        values, source=source, where="field", limits=limits, default_languages=default_languages, today=today
    )
    problems.extend(value_problems)
    return (None, problems) if problems else (item, [])


# ------------------------------------------------------------------ the sheet


@dataclass
class SheetRow:
    row_number: int  # as a spreadsheet shows it: the header is row 1
    files: list[str]  # paths relative to the sheet, "/"-separated, NFC
    metadata: ItemMetadata


@dataclass
class Sheet:
    rows: list[SheetRow] = field(default_factory=list)  # accepted rows only
    problems: list[InputRejected] = field(default_factory=list)


_FILES_SPLIT = re.compile(r"[;|\n]")
_DRIVE = re.compile(r"^[A-Za-z]:")
_LEGACY_HINT = "it looks like a legacy encoding such as Windows-1258, VNI, TCVN3 or Latin-1"


def read_metadata_sheet(
    path: Path,
    *,
    limits: Limits,
    original_name: str | None = None,
    default_languages: str = "vie",
    today: date | None = None,
) -> Sheet:
    """Read a CSV metadata sheet: one item per row, its scan files in the ``file`` column.

    Accepted: UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode
    text"); ``,``, ``;`` or tab as delimiter (from the header line, or an
    Excel ``sep=;`` first line); headers in English or Vietnamese, matched
    without case or diacritics (see :data:`FIELD_ALIASES`). The ``file`` cell
    may list several files separated by ``;`` or ``|``; each must be a
    relative path inside the sheet's folder (backslashes are read as ``/``).

    Problems that spoil the whole sheet (not UTF-8, no ``file`` or ``title``
    column, too many rows) leave ``rows`` empty. Any other problem rejects only
    its row; every problem names the sheet, the row and the column.
    """
    name = unicodedata.normalize("NFC", original_name if original_name is not None else Path(path).name)
    label = display_label(name)
    sheet = Sheet()
    try:
        size = Path(path).stat().st_size
        if size > limits.max_file_bytes:
            sheet.problems.append(LimitExceeded(label, f"the sheet is larger than {limits.max_file_bytes:,} bytes"))
            return sheet
        data = Path(path).read_bytes()
    except OSError as exc:
        sheet.problems.append(InputRejected(label, f"the sheet cannot be read ({exc.strerror or exc})"))
        return sheet
    text, problem = _decode_sheet(data)
    if problem:
        sheet.problems.append(InputRejected(label, problem))
        return sheet
    header_row = 1
    first_line, _, rest = text.partition("\n")
    sep = re.fullmatch(r'"?sep=(.)"?\r?', first_line, re.IGNORECASE)
    if sep:
        text, first_line, header_row = rest, rest.partition("\n")[0], 2
    delimiter = sep[1] if sep else _guess_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        sheet.problems.append(InputRejected(f"{label}, row {header_row}", f"the header is not valid CSV ({exc})"))
        return sheet
    if header is None or not any(cell.strip() for cell in header):
        sheet.problems.append(InputRejected(label, "the sheet is empty: the first row must name the columns"))
        return sheet
    columns, fatal = _map_header(header, f"{label}, row {header_row}", sheet.problems)
    if fatal:
        return sheet
    _read_rows(reader, columns, len(header), label, header_row, limits, default_languages, today, sheet)
    return sheet


def _decode_sheet(data: bytes) -> tuple[str, str | None]:
    """The sheet's text, or a problem saying how to save it properly."""
    fix = "save it as CSV UTF-8"
    if data.startswith(b"PK\x03\x04"):
        return "", "this is an Excel workbook (.xlsx) or another zip, not a CSV file; in Excel choose Save As → CSV UTF-8"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "", "this is an old Excel workbook (.xls), not a CSV file; in Excel choose Save As → CSV UTF-8"
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "", f"the sheet is UTF-32, which is not accepted; {fix}"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError as exc:
            return "", f"the sheet is not valid UTF-16 (bytes at offset {exc.start}); {fix}"
    offset = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    body = data[offset:]
    if b"\x00" in body:
        return "", f"the sheet contains NUL bytes (it may be UTF-16 without a byte-order mark); {fix}"
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        byte = body[exc.start]
        return "", f"sheet is not UTF-8 (byte 0x{byte:02x} at offset {offset + exc.start}; {_LEGACY_HINT}); {fix}"


def _guess_delimiter(header_line: str) -> str:
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _map_header(header: list[str], where: str, problems: list[InputRejected]) -> tuple[dict[int, tuple[str, str]], bool]:
    """Column index → (field name, header as written); ``True`` when the sheet cannot be read."""
    columns: dict[int, tuple[str, str]] = {}
    by_field: dict[str, str] = {}
    fatal = False
    for index, cell in enumerate(header):
        written = unicodedata.normalize("NFC", cell).strip().lstrip("\ufeff")
        if not written:
            continue
        shown = display_label(written)
        name = _FIELD_BY_HEADER.get(_fold(written))
        if name is None:
            problems.append(
                InputRejected(
                    where,
                    f"column '{shown}' (column {index + 1}) is not a known column and is ignored; known columns: "
                    + ", ".join("file" if n == "files" else n for n in FIELD_ALIASES),
                )
            )
            continue
        if name in by_field:
            problems.append(InputRejected(where, f"columns '{by_field[name]}' and '{shown}' both give the {name}; keep one"))
            fatal = True
            continue
        by_field[name] = shown
        columns[index] = (name, shown)
    for required, vietnamese in (("files", "tệp"), ("title", "nhan đề")):
        if required not in by_field:
            word = "file" if required == "files" else required
            problems.append(
                InputRejected(where, f"the sheet has no '{word}' column (or '{vietnamese}'); the first row must name it")
            )
            fatal = True
    return columns, fatal


def _read_rows(
    reader,
    columns: dict[int, tuple[str, str]],
    width: int,
    label: str,
    header_row: int,
    limits: Limits,
    default_languages: str,
    today: date | None,
    sheet: Sheet,
) -> None:
    listed: dict[str, int] = {}  # file → the row that listed it first
    count = 0
    row_number = header_row
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            sheet.problems.append(
                InputRejected(f"{label}, row {row_number + 1}", f"not valid CSV ({exc}); the rows after it were not read")
            )
            return
        if cells is None:
            return
        row_number += 1
        if not any(cell.strip() for cell in cells):
            continue
        count += 1
        if count > limits.max_sheet_rows:
            sheet.rows.clear()
            sheet.problems.append(
                LimitExceeded(
                    label, f"the sheet has more than {limits.max_sheet_rows:,} rows, the limit; split it into several sheets"
                )
            )
            return
        source = f"{label}, row {row_number}"
        problems: list[InputRejected] = []
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            problems.append(InputRejected(source, f"the row has {len(cells)} cells but the header names only {width} columns"))
        values: dict[str, tuple[str, object]] = {}
        files_cell: tuple[str, str] | None = None
        for index, (name, shown) in columns.items():
            cell = cells[index] if index < len(cells) else ""
            if name == "files":
                files_cell = (shown, cell)
            else:
                values[name] = (shown, cell)
        files = _row_files(files_cell, source, limits, listed, row_number, problems)
        item, item_problems = _build_item(
            values, source=source, where="column", limits=limits, default_languages=default_languages, today=today
        )
        problems.extend(item_problems)
        if problems:
            sheet.problems.extend(problems)
            continue
        for file in files:
            listed.setdefault(file, row_number)
        sheet.rows.append(SheetRow(row_number=row_number, files=files, metadata=item))


def _row_files(
    cell: tuple[str, str] | None,
    source: str,
    limits: Limits,
    listed: dict[str, int],
    row_number: int,
    problems: list[InputRejected],
) -> list[str]:
    shown, raw = cell if cell is not None else ("file", "")
    where = f"column '{shown}'"
    try:
        value = _clean_text("files", raw.replace("\n", ";"), limits=limits)
    except _Problem as exc:
        problems.append((LimitExceeded if exc.limit else InputRejected)(source, f"{where}: {exc.problem}"))
        return []
    if value is None:
        problems.append(InputRejected(source, f"{where}: no file listed; every row needs at least one scan file"))
        return []
    files: list[str] = []
    for part in _FILES_SPLIT.split(value):
        written = part.strip()
        if not written:
            continue
        problem = _relative_path_problem(written)
        clean = "/".join(p for p in written.replace("\\", "/").split("/") if p not in ("", "."))
        if problem is None and clean and (name_error := name_problem(clean)):
            problem = f"is refused: {name_error}"
        if problem is None and clean in files:
            problem = "is listed twice in this row"
        if problem is None and clean in listed:
            problem = f"is already listed in row {listed[clean]}"
        if problem:
            problems.append(InputRejected(source, f"{where}: '{display_label(written)}' {problem}"))
            continue
        files.append(clean)
    if not files and not problems:
        problems.append(InputRejected(source, f"{where}: no file listed; every row needs at least one scan file"))
    return files


def _relative_path_problem(written: str) -> str | None:
    if "://" in written:
        return "is a web address; list files that sit beside the sheet instead"
    if written.startswith(("/", "\\")) or _DRIVE.match(written):
        return "is an absolute path; write the path relative to the sheet's folder (e.g. scans/p1.tif)"
    if ".." in re.split(r"[\\/]", written):
        return "leaves the sheet's folder ('..'); list only files inside it"
    return None


def validate_text_value(raw: object, *, field: str, source: str, limit: int = 2_000) -> str | None:
    """One free-text value (a monument's name, a label) checked like catalogue metadata:
    NFC, stripped, no control characters, markup or spreadsheet formulas, at most ``limit``
    characters. ``None`` when empty; :class:`InputRejected` naming the field otherwise."""
    from dataclasses import replace

    try:
        multiline = "description" if field.startswith("description") else field
        return _clean_text(multiline, raw, limits=replace(Limits(), max_metadata_chars=limit))
    except _Problem as exc:
        cls = LimitExceeded if exc.limit else InputRejected
        raise cls(source, f"{field}: {exc.problem}") from None
