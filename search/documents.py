"""What goes into the index: pages, items and monuments, as flat records.

The catalogue builds these from its rows; the engines only see ``record()``,
one flat dict per document whose keys are the index fields below. Every text
is NFC-normalised here, so character offsets returned by a search are offsets
into the NFC text (the catalogue stores NFC, so they are its offsets too).

Dates are catalogued at the precision known; ``year_start``/``year_end`` hold
the range of years a date may mean (an exact year: start == end; ``1930s``:
1930–1939; ``khoảng 1930``: 1925–1935). A date-range filter keeps a document
whose range overlaps the filter's. Facets: ``year`` only for documents dated
to one year, ``decade`` for every decade the range touches (up to 20).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from search.vietnamese import canonical_spelling, canonical_text, nfc

PAGE, ITEM, MONUMENT = "page", "item", "monument"
KINDS = (PAGE, ITEM, MONUMENT)

#: Facets a request may ask for and filter on, mapped to their index field.
FACETS: dict[str, str] = {
    "collection": "collection",
    "type": "type",
    "language": "language",
    "decade": "decade",
    "year": "year",
    "creator": "creator",
    "subject": "subject",
    "kind": "kind",
    "period": "period",
}
#: Facets whose values are whole numbers.
NUMERIC_FACETS = frozenset({"decade", "year"})

#: Who may see a document (the ``access`` field): every request names the levels its asker may see,
#: and every engine keeps only documents of those levels (results, counts, facets, snippets, suggestions).
#: The catalogue decides an item's effective level; this package only stores and filters the value.
ACCESS_LEVELS = ("public", "reading-room", "staff")

#: Keyword fields (exact values: filters and facets).
KEYWORD_FIELDS = ("id", "kind", "item_id", "collection", "type", "language", "creator", "subject", "period",
                  "access")
#: Whole-number fields.
INTEGER_FIELDS = ("page_number", "year", "decade", "year_start", "year_end")
#: Analysed text fields, each indexed twice: exact (``text``) and folded (``text.folded``).
#: A page is found by its own text only (its item's title and metadata are for display,
#: filters and facets); items and monuments by their heading (title, names) and metadata too.
#: ``reading``: the Sino-Vietnamese readings of the text's Hán characters (``search.han_readings``),
#: made from ``text`` when a document is indexed, never stored.
TEXT_FIELDS = ("heading", "text", "meta", "reading")
READING_FIELD = "reading"
#: Stored for display only.
DISPLAY_FIELDS = ("title", "date", "lat", "lon", "extra", "suggest")
#: How to restore the original spelling of the stored ``text`` (see ``spelled_for_index``).
SPELLING_FIELD = "spelling"

MIN_YEAR, MAX_YEAR = -3000, 3000
MAX_DECADES = 20


def page_doc_id(page_id: int | str) -> str:
    return f"{PAGE}:{page_id}"


def item_doc_id(item_id: int | str) -> str:
    return f"{ITEM}:{item_id}"


def monument_doc_id(monument_id: int | str) -> str:
    return f"{MONUMENT}:{monument_id}"


_YEAR = r"(-?\d{1,4})"
_APPROX = re.compile(r"^\s*(?:c\.|ca\.|circa|khoảng|khoang|~|about)\s*(\d{3,4})\s*$", re.IGNORECASE)
_DECADE = re.compile(r"^\s*(\d{3})(?:0s|0's|x|_|\?)\s*$", re.IGNORECASE)
_CENTURY = re.compile(r"^\s*(\d{1,2})(?:xx|\?\?|__)\s*$", re.IGNORECASE)
_RANGE = re.compile(rf"^\s*{_YEAR}\s*(?:-|–|—|/|\.\.)\s*{_YEAR}\s*$")
_ISO = re.compile(r"^\s*(\d{4})(?:-\d{2}(?:-\d{2})?)?(?:[T ].*)?\s*$")
_ANY_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def years_of(date: str | None, *, approx_years: int = 5) -> tuple[int | None, int | None]:
    """The range of years a catalogued date may mean.

    ``1936-01-15`` → (1936, 1936); ``1930s``/``193x`` → (1930, 1939);
    ``18xx`` → (1800, 1899); ``1885-1890`` → (1885, 1890);
    ``khoảng 1930``/``c. 1930`` → (1925, 1935); unreadable → (None, None).
    """
    if not date:
        return None, None
    text = nfc(str(date)).strip()
    if m := _ISO.match(text):
        y = int(m.group(1))
        return y, y
    if m := _DECADE.match(text):
        y = int(m.group(1)) * 10
        return y, y + 9
    if m := _CENTURY.match(text):
        y = int(m.group(1)) * 100
        return y, y + 99
    if m := _RANGE.match(text):
        a, b = int(m.group(1)), int(m.group(2))
        return min(a, b), max(a, b)
    if m := _APPROX.match(text):
        y = int(m.group(1))
        return y - approx_years, y + approx_years
    found = _ANY_YEAR.findall(text)
    if len(found) == 1:
        y = int(found[0])
        return y, y
    return None, None


def check_access(value: Any) -> str:
    """A document's access level (one of ``ACCESS_LEVELS``); anything else is refused, never taken as public."""
    value = getattr(value, "value", value)  # a str enum of the catalogue gives its value
    if not isinstance(value, str) or value not in ACCESS_LEVELS:
        raise ValueError(f"a document's access must be one of {', '.join(ACCESS_LEVELS)}, not {value!r}")
    return value


def _texts(values: Iterable[str] | str | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        if v is None:
            continue
        v = nfc(str(v)).strip()
        if v and v not in out:
            out.append(v)
    return out


def _check_year(name: str, y: Any) -> int | None:
    if y is None:
        return None
    if isinstance(y, bool) or not isinstance(y, int):
        raise ValueError(f"{name} must be a whole number of years, not {y!r}")
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise ValueError(f"{name} {y} is outside {MIN_YEAR}..{MAX_YEAR}")
    return y


@dataclass(frozen=True, kw_only=True)
class Bibliographic:
    """An item's catalogue metadata, carried by its pages too so they can be faceted and filtered."""

    title: str = ""
    creators: tuple[str, ...] = ()
    date: str | None = None
    year_start: int | None = None
    year_end: int | None = None
    type: str | None = None
    languages: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()

    def _years(self) -> tuple[int | None, int | None]:
        start = _check_year("year_start", self.year_start)
        end = _check_year("year_end", self.year_end)
        if start is None and end is None:
            start, end = years_of(self.date)
        if start is None:
            start = end
        if end is None:
            end = start
        if start is not None and end is not None and start > end:
            start, end = end, start
        return start, end

    def _bibliographic_record(self) -> dict[str, Any]:
        start, end = self._years()
        rec: dict[str, Any] = {
            "title": nfc(self.title or "").strip(),
            "creator": _texts(self.creators),
            "date": nfc(self.date).strip() if self.date else None,
            "year_start": start,
            "year_end": end,
            "type": nfc(self.type).strip() if self.type else None,
            "language": _texts(self.languages),
            "collection": _texts(self.collections),
            "subject": _texts(self.subjects),
        }
        if start is not None:
            rec["year"] = [start] if start == end else []
            first, last = math.floor(start / 10) * 10, math.floor(end / 10) * 10
            decades = list(range(first, last + 10, 10))
            rec["decade"] = decades if len(decades) <= MAX_DECADES else []
        rec["meta"] = " \n ".join(rec["creator"] + rec["subject"] + rec["collection"])
        return rec


@dataclass(frozen=True, kw_only=True)
class PageDoc(Bibliographic):
    """One page of an item: its text as read (or corrected), with the item's metadata.

    ``page_id`` is the catalogue's page id (the document id is ``page:<page_id>``);
    ``page_number`` counts from 1 in reading order. ``access``: the item's effective level
    (``ACCESS_LEVELS``), required.
    """

    page_id: int | str
    item_id: int | str
    page_number: int
    text: str
    access: str

    @property
    def doc_id(self) -> str:
        return page_doc_id(self.page_id)

    def record(self) -> dict[str, Any]:
        if isinstance(self.page_number, bool) or not isinstance(self.page_number, int) or self.page_number < 1:
            raise ValueError(f"page_number must be a whole number from 1, not {self.page_number!r}")
        if not isinstance(self.text, str):
            raise ValueError("a page's text must be a string")
        rec = self._bibliographic_record()
        del rec["meta"]
        rec.update(id=self.doc_id, kind=PAGE, item_id=str(self.item_id), page_number=self.page_number,
                   text=nfc(self.text), access=check_access(self.access))
        return _clean(rec)


@dataclass(frozen=True, kw_only=True)
class ItemDoc(Bibliographic):
    """A whole item (book, newspaper issue, …): metadata and all its text, for item-level search.
    ``access``: its effective level (``ACCESS_LEVELS``), required."""

    item_id: int | str
    access: str
    text: str = ""
    page_count: int | None = None

    @property
    def doc_id(self) -> str:
        return item_doc_id(self.item_id)

    def record(self) -> dict[str, Any]:
        rec = self._bibliographic_record()
        suggest = _texts([rec["title"], *rec["creator"], *rec["subject"], *rec["collection"]])
        rec.update(id=self.doc_id, kind=ITEM, item_id=str(self.item_id), text=nfc(self.text or ""), heading=rec["title"],
                   suggest=suggest, access=check_access(self.access), extra={"page_count": self.page_count} if self.page_count is not None else None)
        return _clean(rec)


@dataclass(frozen=True, kw_only=True)
class MonumentDoc:
    """A monument: names and descriptions in Vietnamese and English, location (WGS 84 degrees), period.
    Monuments are public records (``access`` ``public`` unless said otherwise)."""

    monument_id: int | str
    name_vi: str
    name_en: str = ""
    description_vi: str = ""
    description_en: str = ""
    lat: float | None = None
    lon: float | None = None
    period: str | None = None
    year_start: int | None = None
    year_end: int | None = None
    subjects: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    access: str = "public"

    @property
    def doc_id(self) -> str:
        return monument_doc_id(self.monument_id)

    def record(self) -> dict[str, Any]:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("a monument's location needs both lat and lon")
        if self.lat is not None and not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValueError(f"location ({self.lat}, {self.lon}) is not in WGS 84 degrees")
        bib = Bibliographic(title=self.name_vi, year_start=self.year_start, year_end=self.year_end,
                            subjects=self.subjects, collections=self.collections)
        rec = bib._bibliographic_record()
        names = _texts([self.name_vi, self.name_en])
        period = nfc(self.period).strip() if self.period else None
        rec.update(
            id=self.doc_id, kind=MONUMENT, item_id=None,
            title=" / ".join(names), heading=" \n ".join(names),
            text="\n\n".join(t for t in (nfc(self.description_vi or ""), nfc(self.description_en or "")) if t),
            meta=" \n ".join(_texts([*rec["subject"], *rec["collection"], period or ""])),
            period=[period] if period else [],
            access=check_access(self.access),
            lat=self.lat, lon=self.lon,
            suggest=_texts([*names, *rec["subject"]]),
            extra={"name_vi": nfc(self.name_vi), "name_en": nfc(self.name_en or ""),
                   "description_vi_chars": len(nfc(self.description_vi or ""))},
        )
        return _clean(rec)


Document = PageDoc | ItemDoc | MonumentDoc


def _clean(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rec.items() if v is not None and v != [] and v != ""}


def to_record(doc: Document | Mapping[str, Any]) -> dict[str, Any]:
    """A document's flat record; a mapping is taken as a record already made (it must have ``id``,
    ``kind`` and ``access``)."""
    if isinstance(doc, (PageDoc, ItemDoc, MonumentDoc)):
        return doc.record()
    if isinstance(doc, Mapping) and "id" in doc and doc.get("kind") in KINDS:
        rec = dict(doc)
        rec["access"] = check_access(rec.get("access"))
        return rec
    raise ValueError(f"not a search document: {type(doc).__name__}")


def spelled_for_index(rec: Mapping[str, Any]) -> dict[str, Any]:
    """A record as both engines index it: its text fields (``TEXT_FIELDS``) in the canonical
    spelling (``canonical_text``: ``hoà``/``hòa`` and ``Việt-Nam``/``Việt Nam`` alike), and
    under ``SPELLING_FIELD`` what ``restore_spelling`` needs to show the stored ``text`` as it
    was written, and under ``READING_FIELD`` the readings of its Hán characters. The canonical text has the length of the original, so highlight offsets
    found in it are offsets in the original."""
    from search.han_readings import has_han, reading_text

    out = dict(rec)
    out.pop(SPELLING_FIELD, None)
    out.pop(READING_FIELD, None)
    if out.get("text") and has_han(out["text"]):
        reading, _ = reading_text(out["text"])
        if reading:
            out[READING_FIELD] = reading
    for name in TEXT_FIELDS:
        if out.get(name):
            out[name], changes = canonical_spelling(out[name])
            if name == "text" and changes:
                out[SPELLING_FIELD] = changes
    return out


def suggestion_keys(phrases: Iterable[str]) -> list[str]:
    """Suggestion phrases as the index matches them: canonical spelling (display keeps the original)."""
    return [canonical_text(p) for p in phrases]


# record field → display value in a hit (multi-valued fields stay lists)
MULTI_VALUED = frozenset({"creator", "language", "collection", "subject", "year", "decade", "period", "suggest"})

