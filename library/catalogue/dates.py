"""Dates as librarians write them, in Vietnamese or English, parsed into a :class:`DateRange`.

:func:`parse_date` reads exact dates, decades, centuries, ranges and approximate
dates, and refuses impossible ones with a message naming the text and the reason.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

__all__ = ["DateRange", "parse_date"]


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
