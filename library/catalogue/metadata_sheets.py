"""The CSV metadata sheet of a batch: :func:`read_metadata_sheet` gives one item per row, with the
scan files its ``file`` column lists beside the sheet, and every problem naming the sheet, row and column.

Rows are checked like a form (:func:`library.catalogue.item_metadata.validate_metadata`'s rules).
Pure validation: no database, no Flask.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from library.catalogue.item_metadata import _FIELD_BY_HEADER, FIELD_ALIASES, ItemMetadata, _build_item
from library.catalogue.text_values import _clean_text, _Problem
from library.catalogue.vocabularies import _fold
from library.errors import InputRejected, LimitExceeded
from library.ingest.filenames import display_label, name_problem
from library.settings import Limits

__all__ = ["SheetRow", "Sheet", "read_metadata_sheet"]


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
    without case or diacritics (see :data:`~library.catalogue.item_metadata.FIELD_ALIASES`). The ``file`` cell
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
