"""Exporting a read item, on SQLite and PostgreSQL, from pages read by the real
tesseract: the searchable PDF carries each page's current text (a manual
correction wins over the machine's reading and makes the next export anew),
the text export is the item's text, the ALTO zip holds the corrected words,
and an item still being read is never exported."""

from __future__ import annotations

import subprocess
import unicodedata
import zipfile
from pathlib import Path

import pikepdf
import pytest
from defusedxml import ElementTree

from sqlalchemy import select

from library.access import Actor
from library.errors import NotFound, StoreCorrupted
from library.discovery.exports import ItemNotReady
from library.ingest.service import Upload
from library.catalogue.models import Page
from library.catalogue.page_layout import stored
from tests.digitize.test_pdf import pdf_text, pdf_words
from tests.library.test_cli import heritage
from tests.workers.test_ocr_workers import small_pages

SYSTEM = Actor.system("tests")  # corrections made by the fixtures: the system's, like the command line's

pytestmark = pytest.mark.slow

ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"


def ingest(platform, tmp_path: Path, n: int, title: str = "Văn Miếu – Quốc Tử Giám") -> int:
    tif = tmp_path / "sach.tif"
    pages = small_pages(n)
    pages[0].image.save(tif, save_all=True, append_images=[p.image for p in pages[1:]], dpi=(300, 300))
    report = platform.ingest.ingest_item([Upload(tif, "sách.tif")], {"title": title, "creator": "Ngô Sĩ Liên"}, actor=SYSTEM)
    return report.items[0].item_id


def read_all(platform, item_id: int) -> None:
    for row in platform.catalogue.page_statuses(item_id):
        assert platform.reader.read(row.page_id).value == "done"
    assert platform.reader.finish_item(item_id).value == "done"


@pytest.fixture
def read_item(platform, tmp_path):
    item_id = ingest(platform, tmp_path, 3)
    read_all(platform, item_id)
    return item_id


def pages_of(platform, item_id):
    with platform.sessions() as s:
        pages = s.scalars(select(Page).where(Page.item_id == item_id).order_by(Page.sequence)).all()
        return [(p, stored(s, p.id).words) for p in pages]


def test_the_item_pdf_has_every_page_image_with_its_text_over_the_words(platform, read_item):
    made = platform.exports.export(read_item, "pdf")
    assert made.filename == f"van-mieu-quoc-tu-giam-{read_item}.pdf" and made.media_type == "application/pdf"
    assert not made.from_cache and made.path.is_relative_to(platform.settings.store_dir)
    with pikepdf.open(made.path) as pdf:
        assert pdf.check_pdf_syntax() == [] and len(pdf.pages) == 3
        assert str(pdf.docinfo["/Title"]) == "Văn Miếu – Quốc Tử Giám" and str(pdf.Root.Lang) == "vi"
    images = [line.split() for line in subprocess.run(["pdfimages", "-list", str(made.path)], capture_output=True,
                                                      text=True, check=True).stdout.splitlines()[2:]]
    for n, (page, words) in enumerate(pages_of(platform, read_item), start=1):
        text = pdf_text(made.path, n)
        assert text.split() == page.text.split() and unicodedata.is_normalized("NFC", text)
        assert (int(images[n - 1][3]), int(images[n - 1][4])) == (page.width, page.height)  # the page image, whole
        found = pdf_words(made.path, n)
        for word in words:  # each word's box in the PDF is over the word on the image
            box = next(b for b in found if b.text == word.text and abs(b.x0 - word.x * 0.24) < 0.5)
            assert box.x1 == pytest.approx((word.x + word.w) * 0.24, abs=0.5)
            assert box.y0 <= word.y * 0.24 + 0.5 and box.y1 >= (word.y + word.h) * 0.24 - 0.5
    again = platform.exports.export(read_item, "pdf")
    assert again.from_cache and again.path == made.path and again.etag == made.etag


def test_a_correction_shows_up_in_the_next_export(platform, read_item):
    first = {kind: platform.exports.export(read_item, kind) for kind in ("pdf", "txt", "alto")}
    page, _ = pages_of(platform, read_item)[1]
    revision, lines = platform.corrections.lines(page.id)
    platform.corrections.correct(SYSTEM, page.id, {0: "Quốc Tử Giám là trường đại học đầu tiên ở Việt Nam"},
                                 revision=revision)

    pdf = platform.exports.export(read_item, "pdf")
    assert not pdf.from_cache and pdf.etag != first["pdf"].etag
    assert not first["pdf"].path.exists()  # the stale PDF is gone from the store
    assert "trường đại học đầu tiên ở Việt Nam" in " ".join(pdf_text(pdf.path, 2).split())
    assert pdf_text(pdf.path, 1).split() == pages_of(platform, read_item)[0][0].text.split()  # others unchanged
    line = lines[0]
    added = [b for b in pdf_words(pdf.path, 2) if b.text in ("ở", "Việt", "Nam")]
    assert len(added) == 3
    for box in added:  # the corrected words lie within the corrected line on the image (a few points)
        assert line.x * 0.24 - 2 <= box.x0 <= box.x1 <= (line.x + line.w) * 0.24 + 2
        assert box.y0 == pytest.approx(line.y * 0.24, abs=0.5)

    text = platform.exports.export(read_item, "txt")
    assert text.etag != first["txt"].etag
    body = text.path.read_text(encoding="utf-8")
    assert "--- 2 ---\nQuốc Tử Giám là trường đại học đầu tiên ở Việt Nam\n" in body

    alto = platform.exports.export(read_item, "alto")
    with zipfile.ZipFile(alto.path) as zf:
        names = zf.namelist()
        assert names == [f"van-mieu-quoc-tu-giam-{read_item}/page-{n:05d}.alto.xml" for n in (1, 2, 3)]
        root = ElementTree.fromstring(zf.read(names[1]))
    contents = [s.get("CONTENT") for s in root.iter(f"{ALTO}String")]
    assert contents[:10] == "Quốc Tử Giám là trường đại học đầu tiên ở Việt Nam".split()[:10]
    assert "corrected by hand" in root.find(f".//{ALTO}softwareName").text
    page_el = root.find(f".//{ALTO}Page")
    assert (int(page_el.get("WIDTH")), int(page_el.get("HEIGHT"))) == (page.width, page.height)
    assert platform.exports.export(read_item, "alto").from_cache


def test_the_text_export_is_the_whole_item_in_nfc(platform, read_item):
    made = platform.exports.export(read_item, "txt")
    body = made.path.read_bytes().decode("utf-8")
    assert made.media_type == "text/plain" and made.filename.endswith(f"-{read_item}.txt")
    pages = pages_of(platform, read_item)
    assert body == "\n".join(f"--- {p.sequence} ---\n{p.text}\n" for p, _ in pages)
    assert unicodedata.is_normalized("NFC", body) and "Văn Miếu" in body and "\r" not in body

    # a page image gone from the store: a clear error naming the page, and no partial PDF kept
    store = platform.store
    store.resolve(store.page_derivative_relpath(read_item, 2, "viewer")).unlink()
    with pytest.raises(StoreCorrupted, match="page image of page 2 of item .* is missing.*heritage fixity"):
        platform.exports.export(read_item, "pdf")
    assert not list(made.path.parent.glob("export-*.pdf"))
    assert platform.exports.export(read_item, "txt").from_cache  # the text does not need the images


def test_an_item_still_being_read_or_failed_is_not_exported(platform, tmp_path):
    item_id = ingest(platform, tmp_path, 2, title="Đang đọc")
    with pytest.raises(ItemNotReady, match="still being read \\(0 of 2 pages done\\)") as caught:
        platform.exports.export(item_id, "pdf")
    assert (caught.value.done, caught.value.total, caught.value.failed) == (0, 2, [])
    first, second = platform.catalogue.page_statuses(item_id)
    assert platform.reader.read(first.page_id).value == "done"
    with pytest.raises(ItemNotReady, match="1 of 2 pages done"):
        platform.exports.export(item_id, "txt")
    platform.reader.fail(second.page_id, "sách.tif#2: the image data is damaged")
    platform.reader.finish_item(item_id)
    with pytest.raises(ItemNotReady, match="page 2: sách.tif#2: the image data is damaged") as caught:
        platform.exports.export(item_id, "alto")
    assert caught.value.failed == [2]
    assert not list((platform.settings.store_dir / "derivatives" / "items" / str(item_id)).glob("export-*"))
    with pytest.raises(NotFound, match="no item 999"):
        platform.exports.export(999, "pdf")


def test_heritage_export_writes_the_file(tmp_path):
    from library.container import build_platform
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data")
    p = build_platform(settings)
    try:
        item_id = ingest(p, tmp_path, 2, title="Hồ Gươm")
        read_all(p, item_id)
        first_page = pages_of(p, item_id)[0][0].text
    finally:
        p.close()
    out = tmp_path / "hồ gươm.pdf"
    r = heritage(settings, "export", item_id, "--format", "pdf", "--out", out)
    assert r.returncode == 0, r.stderr
    assert f"wrote {out}" in r.stdout and "export pdf" in r.stderr  # the progress bar
    assert "Hồ Gươm" in subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    assert pdf_text(out, 1).split() == first_page.split() and "Miếu" in first_page
    r = heritage(settings, "export", item_id, "--format", "txt", "--out", tmp_path / "a.txt")
    assert r.returncode == 0 and "made earlier" not in r.stdout
    assert (tmp_path / "a.txt").read_text(encoding="utf-8").startswith("--- 1 ---\nVăn Miếu")
    missing = heritage(settings, "export", 99, "--format", "alto", "--out", tmp_path / "x.zip")
    assert missing.returncode == 3 and "no item 99" in missing.stderr and not (tmp_path / "x.zip").exists()
    bad = heritage(settings, "export", item_id, "--format", "docx")
    assert bad.returncode == 2 and "docx" in bad.stderr
