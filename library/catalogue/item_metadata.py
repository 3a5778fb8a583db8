"""Dublin Core metadata of an item: :func:`validate_metadata` turns the values of a form or an API
call into an :class:`ItemMetadata`, or into every :class:`~library.errors.InputRejected` problem found.

Each value is checked by :mod:`library.catalogue.text_values`; dates, languages and
item types are parsed into fixed forms by :mod:`library.catalogue.dates` and
:mod:`library.catalogue.vocabularies`. Field names and their column-header aliases
(English or Vietnamese) are :data:`FIELD_ALIASES`. No database, no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from library.catalogue.dates import DateRange, parse_date
from library.catalogue.text_values import _clean_text, _Problem
from library.catalogue.vocabularies import _fold, parse_item_type, parse_languages
from library.errors import InputRejected, LimitExceeded
from library.ingest.filenames import display_label
from library.settings import Limits

__all__ = ["ItemMetadata", "FIELD_ALIASES", "validate_metadata"]


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
