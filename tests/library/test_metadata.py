"""library.catalogue dates, vocabularies, text_values, item_metadata and metadata_sheets: dates, languages,
types, every metadata value, and the CSV sheet.

Every bad sheet is written here in ``tmp_path``: legacy encodings, formula
injection, markup, over-long values, impossible dates, unknown types.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from library.errors import InputRejected, LimitExceeded
from library.catalogue.dates import DateRange, parse_date
from library.catalogue.item_metadata import FIELD_ALIASES, ItemMetadata, validate_metadata
from library.catalogue.metadata_sheets import read_metadata_sheet
from library.catalogue.vocabularies import ITEM_TYPES, parse_item_type, parse_languages
from library.catalogue.naturalsort import fold_diacritics
from library.settings import Limits

LIMITS = Limits()
TODAY = date(2026, 5, 1)


# -------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "start", "end", "approximate", "iso"),
    [
        ("1858", 1858, 1858, False, "1858"),
        ("1858-07", 1858, 1858, False, "1858-07"),
        ("1858-07-10", 1858, 1858, False, "1858-07-10"),
        ("10/7/1858", 1858, 1858, False, "1858-07-10"),
        ("10-07-1858", 1858, 1858, False, "1858-07-10"),
        ("10.07.1858", 1858, 1858, False, "1858-07-10"),
        ("ngày 10 tháng 7 năm 1858", 1858, 1858, False, "1858-07-10"),
        ("Ngày 10/7/1858", 1858, 1858, False, "1858-07-10"),
        ("mồng 5 tháng 1 năm 1900", 1900, 1900, False, "1900-01-05"),
        ("tháng 7 năm 1858", 1858, 1858, False, "1858-07"),
        ("năm 1858", 1858, 1858, False, "1858"),
        ("[1858]", 1858, 1858, False, "1858"),
        ("1930s", 1930, 1939, False, None),
        ("thập niên 1930", 1930, 1939, False, None),
        ("những năm 1930", 1930, 1939, False, None),
        ("khoảng 1930", 1930, 1930, True, None),
        ("khoảng năm 1930", 1930, 1930, True, None),
        ("ca. 1930", 1930, 1930, True, None),
        ("c. 1930", 1930, 1930, True, None),
        ("circa 1930", 1930, 1930, True, None),
        ("[1930?]", 1930, 1930, True, None),
        ("1930?", 1930, 1930, True, None),
        ("1930-1935", 1930, 1935, False, None),
        ("1930–1935", 1930, 1935, False, None),
        ("1930 - 1935", 1930, 1935, False, None),
        ("từ 1930 đến 1935", 1930, 1935, False, None),
        ("khoảng 1930 – 1935", 1930, 1935, True, None),
        ("thế kỷ 19", 1800, 1899, False, None),
        ("thế kỷ XIX", 1800, 1899, False, None),
        ("Thế kỉ xx", 1900, 1999, False, None),
        ("19th century", 1800, 1899, False, None),
        ("cuối thế kỷ XIX", 1867, 1899, True, None),
        ("early 20th century", 1900, 1932, True, None),
        ("  1858  ", 1858, 1858, False, "1858"),
    ],
)
def test_dates_librarians_write(text, start, end, approximate, iso):
    parsed = parse_date(text, today=TODAY)
    assert (parsed.year_start, parsed.year_end, parsed.approximate, parsed.iso) == (start, end, approximate, iso)
    assert parsed.text == text.strip()


def test_date_text_is_nfc():
    import unicodedata

    parsed = parse_date(unicodedata.normalize("NFD", "năm 1858"), today=TODAY)
    assert parsed == DateRange(text="năm 1858", year_start=1858, year_end=1858, approximate=False, iso="1858")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1858-02-30", "impossible date '1858-02-30': February has 28 days in 1858"),
        ("30/2/1858", "February has 28 days in 1858"),
        ("29/2/1900", "February has 28 days in 1900"),
        ("31/4/1930", "April has 30 days in 1930"),
        ("ngày 32 tháng 1 năm 1930", "January has 31 days in 1930"),
        ("1858-13", "there is no month 13"),
        ("tháng 13 năm 1858", "there is no month 13"),
        ("0000", "there is no year 0"),
        ("2028", "2028 is in the future"),
        ("1935-1930", "impossible date range '1935-1930': it starts after it ends"),
        ("1858-07-20 – 1858-07-10", "starts after it ends"),
        ("thế kỷ 22", "has not begun"),
        ("thập niên 1935", "a decade starts at a year ending in 0"),
        ("những năm 30", "ambiguous decade"),
        ("58", "write the year in full"),
        ("hôm qua", "unrecognised date 'hôm qua'"),
        ("", "empty"),
    ],
)
def test_impossible_dates_say_why(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("?", r"\?")):
        parse_date(text, today=TODAY)


def test_leap_day_and_next_year_are_possible():
    assert parse_date("29/2/2000", today=TODAY).iso == "2000-02-29"
    assert parse_date("2027", today=TODAY).iso == "2027"


# ---------------------------------------------------------- languages, types


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("vie", "vie"),
        ("vi", "vie"),
        ("Vietnamese", "vie"),
        ("tiếng Việt", "vie"),
        ("Tieng Viet", "vie"),
        ("vie+fra", "vie+fra"),
        ("Tiếng Việt, Pháp", "vie+fra"),
        ("vi; fr; en", "vie+fra+eng"),
        ("Vietnamese and French", "vie+fra"),
        ("tiếng Việt và tiếng Pháp", "vie+fra"),
        ("zh-Hant", "chi_tra"),
        ("chữ Hán", "lzh"),
        ("Hán văn", "lzh"),
        ("classical Chinese", "lzh"),
        ("chi_tra", "chi_tra"),
        ("zh-Hans", "chi_sim"),
        ("vi+vie", "vie"),
    ],
)
def test_languages_map_to_tesseract_codes(text, codes):
    assert parse_languages(text) == codes


@pytest.mark.parametrize(
    ("text", "message"),
    [("klingon", "unknown language 'klingon'; known: vie"), ("zh", "ambiguous"), ("chữ Nôm", "Nôm")],
)
def test_unknown_languages_list_the_known_ones(text, message):
    with pytest.raises(ValueError, match=message):
        parse_languages(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("book", "book"), ("Sách", "book"), ("sach", "book"), ("báo", "newspaper"), ("Newspaper", "newspaper"),
        ("tạp chí", "magazine"), ("Tap chi", "magazine"), ("bản thảo", "manuscript"), ("thủ bản", "manuscript"),
        ("khác", "other"),
    ],
)
def test_item_types_in_english_and_vietnamese(text, kind):
    assert parse_item_type(text) == kind and kind in ITEM_TYPES


def test_unknown_item_type_lists_the_allowed_ones():
    with pytest.raises(ValueError, match=r"unknown type 'poem'; allowed: book \(sách\), newspaper \(báo\)"):
        parse_item_type("poem")


def test_header_aliases_do_not_collide():
    folded = [" ".join(fold_diacritics(a).replace("_", " ").split()) for aliases in FIELD_ALIASES.values() for a in aliases]
    assert len(folded) == len(set(folded))


# ------------------------------------------------------------- metadata values


def problems_of(raw: dict, limits: Limits = LIMITS) -> list[InputRejected]:
    meta, problems = validate_metadata(raw, source="form", limits=limits)
    assert (meta is None) == bool(problems)
    return problems


def test_valid_metadata_is_normalised():
    import unicodedata

    raw = {
        "title": "  " + unicodedata.normalize("NFD", "Truyện Kiều") + " ",
        "creator": "Nguyễn Du",
        "date": "khoảng 1820",
        "type": "Sách",
        "language": "Tiếng Việt, chữ Hán",
        "publisher": "",
        "identifier": "-5",
        "rights": "+84 24 3825 1234",
        "description": "Dòng một\r\nDòng hai",
        "subject": "Văn hóa & Thông tin; a < b",
        "collection": "Văn Miếu – Quốc Tử Giám",
    }
    meta, problems = validate_metadata(raw, source="form", limits=LIMITS)
    assert problems == []
    assert meta == ItemMetadata(
        title="Truyện Kiều",
        creator="Nguyễn Du",
        date=DateRange("khoảng 1820", 1820, 1820, True, None),
        languages="vie+lzh",
        item_type="book",
        identifier="-5",
        rights="+84 24 3825 1234",
        description="Dòng một\nDòng hai",
        subject="Văn hóa & Thông tin; a < b",
        collection="Văn Miếu – Quốc Tử Giám",
    )


def test_defaults_and_missing_title():
    meta, _ = validate_metadata({"title": "A"}, source="form", limits=LIMITS)
    assert (meta.languages, meta.item_type, meta.date) == ("vie", "book", None)
    (problem,) = problems_of({"title": "   ", "creator": "X"})
    assert problem.source == "form" and "title is missing" in problem.problem


@pytest.mark.parametrize(
    "value",
    ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "=1+1", " =1", "\t=cmd", "\rfoo",
     "- tập 1"],
)
def test_formula_injection_is_refused(value):
    (problem,) = problems_of({"title": value})
    assert problem.problem.startswith("field 'title': possible spreadsheet formula")


@pytest.mark.parametrize("value", ["-5", "+84", "+84 912 345 678", "-3.5", "1.234,5", "(024) 3825-1234"])
def test_plain_numbers_are_not_formulas(value):
    assert problems_of({"title": "T", "issue_number": value}) == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("Sách <b>đẹp</b>", "<b"),
        ("<img src=x onerror=alert(1)>", "<img"),
        ("&lt;script&gt;", "&lt;"),
        ("&#60;script", "&#60;"),
        ("javascript:alert(1)", "javascript:"),
        ("JavaScript :void(0)", "JavaScript :"),
        ("<!-- hidden -->", "<!--"),
    ],
)
def test_markup_is_refused_naming_the_field(value, shown):
    (problem,) = problems_of({"title": "T", "creator": value})
    assert problem.problem.startswith("field 'creator': the value contains markup") and shown in problem.problem


@pytest.mark.parametrize("value", ["a < b", "Văn hóa & Thông tin", "<<Truyện Kiều>>", "x<3", "AT&T"])
def test_lone_angle_brackets_and_ampersands_are_text(value):
    assert problems_of({"title": value}) == []


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("title", "Dòng\nhai", "U+000A LINE FEED"),
        ("creator", "a\x00b", "U+0000 NUL"),
        ("subject", "x\x1b[31m", "U+001B"),
        ("publisher", "abc\u202edef", "text-direction control (U+202E RIGHT-TO-LEFT OVERRIDE)"),
        ("description", "tab\there", "U+0009 TAB"),
    ],
)
def test_control_characters_are_refused(field, value, says):
    (problem,) = problems_of({"title": "T", field: value} if field != "title" else {field: value})
    assert problem.problem.startswith(f"field '{field}'") and says in problem.problem


def test_over_long_value_is_a_limit_naming_the_field():
    (problem,) = problems_of({"title": "T", "description": "x" * 101}, Limits(max_metadata_chars=100))
    assert isinstance(problem, LimitExceeded)
    assert problem.problem == "field 'description': the value is 101 characters long, over the limit of 100"


def test_every_problem_is_reported_at_once():
    problems = problems_of({
        "title": "=cmd", "date": "1858-02-30", "type": "poem", "language": "klingon", "issue_date": "1858-13",
        "colour": "red",
    })
    text = "\n".join(str(p) for p in problems)
    assert len(problems) == 6
    for expected in ("unknown field 'colour'", "field 'title': possible spreadsheet formula",
                     "field 'date': impossible date '1858-02-30'", "field 'type': unknown type 'poem'",
                     "field 'language': unknown language 'klingon'", "field 'issue_date': impossible date"):
        assert f"form: {expected}" in text
    assert "title is missing" not in text  # refused, not missing


def test_vietnamese_field_names_are_accepted_and_duplicates_refused():
    meta, problems = validate_metadata({"nhan đề": "A", "tác giả": "B", "năm": "1930"}, source="f", limits=LIMITS)
    assert problems == [] and (meta.title, meta.creator, meta.date.iso) == ("A", "B", "1930")
    problems = problems_of({"title": "A", "Tiêu đề": "B"})
    assert "both give the title" in problems[0].problem


# ---------------------------------------------------------------------- sheets


def sheet_file(tmp_path: Path, content: str | bytes, name: str = "sheet.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def read(path: Path, limits: Limits = LIMITS):
    return read_metadata_sheet(path, limits=limits, today=TODAY)


def texts(sheet) -> str:
    return "\n".join(str(p) for p in sheet.problems)


def test_vietnamese_headers_semicolons_and_bom(tmp_path):
    content = (
        "\ufeffTệp;Nhan đề;Tác giả;Năm;Loại;Ngôn ngữ;Tên báo;Ngày phát hành;Số;Bộ sưu tập;Mô tả;Ký hiệu;Bản quyền;"
        "Chủ đề;Nhà xuất bản\r\n"
        "so1/p1.tif | so1/p2.tif;Trung Bắc tân văn, số 1;;1930;báo;vi+fr;Trung Bắc tân văn;ngày 10 tháng 7 năm 1930;"
        "1;Báo chí Hà Nội;\"Dòng một\r\nDòng hai; có dấu chấm phẩy\";TB-1;Công cộng;Thời sự;Trung Bắc\r\n"
        ";;;;;;;;;;;;;;\r\n"
        "so2\\p1.tif;Số 2;;;;;;;;;;;;;\r\n"
    )
    sheet = read(sheet_file(tmp_path, content))
    assert sheet.problems == []
    first, second = sheet.rows
    assert (first.row_number, first.files) == (2, ["so1/p1.tif", "so1/p2.tif"])
    meta = first.metadata
    assert (meta.title, meta.item_type, meta.languages, meta.serial_title, meta.issue_number) == (
        "Trung Bắc tân văn, số 1", "newspaper", "vie+fra", "Trung Bắc tân văn", "1")
    assert meta.issue_date.iso == "1930-07-10" and meta.date.iso == "1930" and meta.creator is None
    assert meta.description == "Dòng một\nDòng hai; có dấu chấm phẩy"
    assert (meta.identifier, meta.rights, meta.subject, meta.publisher, meta.collection) == (
        "TB-1", "Công cộng", "Thời sự", "Trung Bắc", "Báo chí Hà Nội")
    assert (second.row_number, second.files, second.metadata.title) == (4, ["so2/p1.tif"], "Số 2")


def test_english_headers_without_diacritics_or_case(tmp_path):
    content = "FILE,Title,AUTHOR,date,Serial Title,issue_date,nhan de\n"
    sheet = read(sheet_file(tmp_path, content))
    assert "columns 'Title' and 'nhan de' both give the title" in texts(sheet)
    sheet = read(sheet_file(tmp_path, "FILE,Title,AUTHOR,tieu de x\np.tif,T,A,\n"))
    assert [r.metadata.creator for r in sheet.rows] == ["A"]
    assert "column 'tieu de x' (column 4) is not a known column and is ignored" in texts(sheet)


def test_utf16_with_bom_and_tabs_as_excel_unicode_text_saves_it(tmp_path):
    content = "file\ttitle\tdate\np1.tif\tHà Nội xưa\t1930s\n"
    sheet = read(sheet_file(tmp_path, content.encode("utf-16")))
    assert sheet.problems == [] and sheet.rows[0].metadata.title == "Hà Nội xưa"


def test_excel_sep_line(tmp_path):
    sheet = read(sheet_file(tmp_path, "sep=;\nfile;title\np1.tif;A, B\n"))
    assert sheet.problems == [] and (sheet.rows[0].row_number, sheet.rows[0].metadata.title) == (3, "A, B")


@pytest.mark.parametrize(
    ("data", "byte", "offset"),
    [
        ("file,title\np1.tif,Hà Đông\n".encode("cp1258"), "0xe0", 19),
        ("file,title\np1.tif,Café\n".encode("latin-1"), "0xe9", 21),
        (b"\xef\xbb\xbffile,title\np1.tif,Caf\xe9\n", "0xe9", 24),
    ],
    ids=["cp1258", "latin-1", "bom-then-latin-1"],
)
def test_legacy_encodings_are_refused_never_guessed(tmp_path, data, byte, offset):
    sheet = read(sheet_file(tmp_path, data))
    assert sheet.rows == []
    (problem,) = sheet.problems
    assert problem.source == "sheet.csv"
    assert problem.problem.startswith(f"sheet is not UTF-8 (byte {byte} at offset {offset}")
    assert problem.problem.endswith("save it as CSV UTF-8")


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"PK\x03\x04" + b"\x00" * 40, "Excel workbook (.xlsx)"),
        ("file,title\n".encode("utf-16-le"), "NUL bytes"),
        (b"", "the sheet is empty"),
        (b"\n\n", "the sheet is empty"),
    ],
)
def test_sheets_that_are_not_csv(tmp_path, data, says):
    sheet = read(sheet_file(tmp_path, data))
    assert sheet.rows == [] and says in texts(sheet)


@pytest.mark.parametrize(
    ("header", "missing"), [("title,creator", "no 'file' column (or 'tệp')"), ("tệp,tác giả", "no 'title' column")]
)
def test_missing_required_columns_are_fatal(tmp_path, header, missing):
    sheet = read(sheet_file(tmp_path, f"{header}\na.tif,b\n"))
    assert sheet.rows == [] and missing in texts(sheet) and "sheet.csv, row 1" in texts(sheet)


def test_bad_rows_are_rejected_with_row_and_column_and_the_rest_go_on(tmp_path):
    content = (
        "tệp,nhan đề,năm,loại,ngôn ngữ,mô tả\n"
        "p1.tif,Sách một,1925,sách,vi,\n"                       # row 2: fine
        "p2.tif,=HYPERLINK(\"http://evil\"),1926,sách,vi,\n"    # row 3: formula
        "p3.tif,<b>Sách</b>,1926,sách,vi,\n"                    # row 4: markup
        "p4.tif,Sách bốn,1858-02-30,sách,vi,\n"                 # row 5: impossible date
        "p5.tif,Sách năm,1930,thơ,vi,\n"                        # row 6: unknown type
        "p6.tif,Sách sáu,1930,sách,klingon,\n"                  # row 7: unknown language
        f"p7.tif,Sách bảy,1930,sách,vi,{'x' * 60}\n"            # row 8: over-long value
        ",Không tệp,1930,sách,vi,\n"                             # row 9: no file
        "/etc/passwd,Tuyệt đối,1930,sách,vi,\n"                  # row 10: absolute path
        "../ngoài.tif,Ra ngoài,1930,sách,vi,\n"                  # row 11: leaves the folder
        "C:\\scans\\p.tif,Ổ đĩa,1930,sách,vi,\n"                # row 12: drive letter
        "http://x.org/p.tif,Web,1930,sách,vi,\n"                 # row 13: URL
        "p1.tif,Lặp lại,1930,sách,vi,\n"                         # row 14: file already in row 2
        "p8.tif,,1930,sách,vi,\n"                                # row 15: no title
        "p9.tif,Sách chín,1930,sách,vi,,thừa\n"                  # row 16: extra cell
        "p10.tif;p11.tif,Sách mười,khoảng 1930,báo,vie+fra,\n"   # row 17: fine
    )
    sheet = read(sheet_file(tmp_path, content), Limits(max_metadata_chars=50))
    assert [(r.row_number, r.files) for r in sheet.rows] == [(2, ["p1.tif"]), (17, ["p10.tif", "p11.tif"])]
    expected = {
        3: "column 'nhan đề': possible spreadsheet formula; remove the leading '='",
        4: "column 'nhan đề': the value contains markup ('<b')",
        5: "column 'năm': impossible date '1858-02-30': February has 28 days in 1858",
        6: "column 'loại': unknown type 'thơ'; allowed:",
        7: "column 'ngôn ngữ': unknown language 'klingon'",
        8: "column 'mô tả': the value is 60 characters long, over the limit of 50",
        9: "column 'tệp': no file listed",
        10: "column 'tệp': '/etc/passwd' is an absolute path",
        11: "column 'tệp': '../ngoài.tif' leaves the sheet's folder",
        12: "column 'tệp': 'C:\\scans\\p.tif' is an absolute path",
        13: "column 'tệp': 'http://x.org/p.tif' is a web address",
        14: "column 'tệp': 'p1.tif' is already listed in row 2",
        15: "column 'nhan đề': the title is missing",
        16: "the row has 7 cells but the header names only 6 columns",
    }
    assert len(sheet.problems) == len(expected), texts(sheet)
    for row, says in expected.items():
        assert any(str(p).startswith(f"sheet.csv, row {row}: {says}") for p in sheet.problems), (row, texts(sheet))
    assert isinstance(next(p for p in sheet.problems if "row 8" in p.source), LimitExceeded)


def test_too_many_rows_is_fatal(tmp_path):
    rows = "".join(f"p{n}.tif,Sách {n}\n" for n in range(6))
    sheet = read(sheet_file(tmp_path, "file,title\n" + rows), Limits(max_sheet_rows=5))
    assert sheet.rows == []
    (problem,) = sheet.problems
    assert isinstance(problem, LimitExceeded) and "more than 5 rows" in problem.problem
    assert len(read(sheet_file(tmp_path, "file,title\n" + rows), Limits(max_sheet_rows=6)).rows) == 6


def test_hostile_file_names_in_the_sheet(tmp_path):
    content = "file,title\n\"p1\u202egnp.tif\",A\n" + "x" * 300 + ".tif,B\n" + "...,C\n" + "./ok/./p.tif,D\n"
    sheet = read(sheet_file(tmp_path, content))
    assert [(r.row_number, r.files) for r in sheet.rows] == [(5, ["ok/p.tif"])]
    text = texts(sheet)
    assert "row 2: column 'file': the value contains a text-direction control" in text
    assert "row 3: column 'file': 'xxx" in text and "304 bytes long" in text
    assert "row 4: column 'file': '...' is refused: the file name '...' is only dots" in text


def test_unknown_columns_and_headerless_values_do_not_stop_the_sheet(tmp_path):
    sheet = read(sheet_file(tmp_path, "file,title,màu sắc\np.tif,T,đỏ\n"))
    assert [r.metadata.title for r in sheet.rows] == ["T"]
    (problem,) = sheet.problems
    assert problem.source == "sheet.csv, row 1" and "'màu sắc' (column 3) is not a known column" in problem.problem


def test_sheet_display_name_can_be_given(tmp_path):
    sheet = read_metadata_sheet(sheet_file(tmp_path, b"\xff", name="000007.csv"), limits=LIMITS, original_name="lô 3.csv")
    assert sheet.problems[0].source == "lô 3.csv"
