"""METS/ALTO import: the real BnL issue parsed (pages, articles, ALTO words), the
real NDNP issue imported whole with its JPEG 2000 pages, packages made here
(folder and zip) imported, and hostile or broken packages refused, naming the
file, with nothing stored. Provenance of the real data: ../shared/data/README.md."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from library.access import Actor
from library.catalogue.models import Derivative, Item, ItemStatus, ItemType, Page, PageStatus, Transcription
from library.catalogue.page_layout import stored
from library.container import build_platform
from library.errors import InputRejected
from library.ingest.alto_reading import page_layout, read_alto
from library.ingest.mets_import import MetsImporter, logical_structure
from library.ingest.mets_package import is_mets_package, open_package

SYSTEM = Actor.system("tests")
BNL = "ocr/bnl-mets-alto-1858"
NDNP = "ocr/ndnp-park-record-1935"


class RecordingQueue:
    """Takes every task (the broker is not under test) and remembers it: an import must send none."""

    def __init__(self):
        self.sent: list[tuple] = []

    def send(self, task_name: str, *args) -> bool:
        self.sent.append((task_name, *args))
        return True

    def waiting(self) -> int | None:
        return None  # cannot count: the sweeper concludes nothing is lost

    def close(self) -> None:
        pass


@pytest.fixture
def queue():
    return RecordingQueue()


@pytest.fixture
def platform(settings, queue):
    p = build_platform(settings, queue=queue)
    yield p
    p.close()


@pytest.fixture
def importer(platform) -> MetsImporter:
    return MetsImporter.of(platform)


# ------------------------------------------------------------------ packages made here
PAGE_WORDS = {1: ["Văn", "Miếu", "Hà", "Nội"], 2: ["Quốc", "Tử", "Giám", "1076"]}
IMAGE_PX = (400, 200)  # at 300 dpi; the ALTO measures in inch1200, so 4 units per pixel


def alto_xml(page: int, *, size_units=(1600, 800), unit="inch1200", doctype: str = "") -> str:
    words = "".join(
        f'<String ID="P{page}_W{n}" CONTENT="{w}" HPOS="{200 + 300 * n}" VPOS="200" WIDTH="240" HEIGHT="120" '
        f'WC="{0.5 + 0.1 * n:.2f}"/><SP/>' for n, w in enumerate(PAGE_WORDS[page]))
    return (f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
            '<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"><Description>'
            f'<MeasurementUnit>{unit}</MeasurementUnit><OCRProcessing ID="O1"><ocrProcessingStep><processingSoftware>'
            '<softwareName>TestOCR</softwareName><softwareVersion>2.0</softwareVersion></processingSoftware>'
            '</ocrProcessingStep></OCRProcessing></Description><Layout>'
            f'<Page ID="P{page}" WIDTH="{size_units[0]}" HEIGHT="{size_units[1]}" PHYSICAL_IMG_NR="{page}">'
            f'<PrintSpace><TextBlock ID="P{page}_TB1" HPOS="180" VPOS="180" WIDTH="1300" HEIGHT="160" LANG="vi">'
            f'<TextLine HPOS="180" VPOS="180" WIDTH="1300" HEIGHT="160">{words}</TextLine>'
            '</TextBlock></PrintSpace></Page></Layout></alto>')


def mets_xml(*, hrefs: dict[str, str] | None = None, doctype: str = "") -> str:
    hrefs = {"IMG1": "images/p1.png", "IMG2": "images/p2.png", "ALTO1": "alto/p1.xml", "ALTO2": "file://./alto/p2.xml",
             **(hrefs or {})}

    def file(fid, mime):
        return (f'<file ID="{fid}" MIMETYPE="{mime}"><FLocat LOCTYPE="URL" xlink:href="{hrefs[fid]}"/></file>')

    return f'''<?xml version="1.0" encoding="UTF-8"?>{doctype}
<mets xmlns="http://www.loc.gov/METS/" xmlns:mods="http://www.loc.gov/mods/v3"
      xmlns:xlink="http://www.w3.org/1999/xlink" TYPE="Newspaper" LABEL="Tin Hà Nội, số 12, 1935-03-01">
  <dmdSec ID="ISSUE"><mdWrap MDTYPE="MODS"><xmlData><mods:mods>
    <mods:titleInfo><mods:title>Tin Hà Nội</mods:title></mods:titleInfo>
    <mods:name><mods:namePart>Nguyễn Văn A</mods:namePart></mods:name>
    <mods:originInfo><mods:publisher>Nhà in Hà Nội</mods:publisher>
      <mods:dateIssued keyDate="yes">1935-03-01</mods:dateIssued></mods:originInfo>
    <mods:language><mods:languageTerm type="code">vi</mods:languageTerm></mods:language>
    <mods:relatedItem type="host"><mods:titleInfo><mods:title>Tin Hà Nội</mods:title></mods:titleInfo>
      <mods:part><mods:detail type="issue"><mods:number>12</mods:number></mods:detail></mods:part>
    </mods:relatedItem>
  </mods:mods></xmlData></mdWrap></dmdSec>
  <dmdSec ID="ART1"><mdWrap MDTYPE="MODS"><xmlData><mods:mods>
    <mods:titleInfo><mods:title>Văn Miếu và Quốc Tử Giám</mods:title></mods:titleInfo>
  </mods:mods></xmlData></mdWrap></dmdSec>
  <fileSec>
    <fileGrp USE="Images">{file("IMG1", "image/png")}{file("IMG2", "image/png")}</fileGrp>
    <fileGrp USE="Text">{file("ALTO1", "text/xml")}{file("ALTO2", "text/xml")}</fileGrp>
  </fileSec>
  <structMap TYPE="PHYSICAL"><div TYPE="Newspaper" DMDID="ISSUE">
    <div TYPE="PAGE" ORDER="2"><fptr><area FILEID="IMG2"/></fptr><fptr><area FILEID="ALTO2" BEGIN="P2"/></fptr></div>
    <div TYPE="PAGE" ORDER="1"><fptr><area FILEID="IMG1"/></fptr><fptr><area FILEID="ALTO1" BEGIN="P1"/></fptr></div>
  </div></structMap>
  <structMap TYPE="LOGICAL"><div TYPE="ISSUE" DMDID="ISSUE">
    <div TYPE="ARTICLE" DMDID="ART1" ORDER="1">
      <fptr><seq><area FILEID="ALTO1" BEGIN="P1_TB1"/><area FILEID="ALTO2" BEGIN="P2_TB1"/></seq></fptr>
    </div>
  </div></structMap>
</mets>'''


def make_package(folder: Path, *, alto_sizes=None, hrefs=None, mets_doctype="", alto_doctype="") -> Path:
    """A two-page newspaper issue: PNG pages (400×200 px, 300 dpi), ALTO in inch1200, METS with MODS."""
    (folder / "images").mkdir(parents=True)
    (folder / "alto").mkdir()
    for page in (1, 2):
        img = Image.new("L", IMAGE_PX, 255)
        img.paste(0, (40 * page, 60, 40 * page + 30, 90))
        img.save(folder / "images" / f"p{page}.png", dpi=(300, 300))
        size = (alto_sizes or {}).get(page, (1600, 800))
        (folder / "alto" / f"p{page}.xml").write_text(alto_xml(page, size_units=size, doctype=alto_doctype),
                                                      encoding="utf-8")
    (folder / "mets.xml").write_text(mets_xml(hrefs=hrefs, doctype=mets_doctype), encoding="utf-8")
    return folder


def zip_folder(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, f"issue/{path.relative_to(folder).as_posix()}")
    return dest


def items_and_originals(platform) -> tuple[int, list[Path]]:
    with platform.sessions() as s:
        items = s.scalar(select(func.count()).select_from(Item))
    root = platform.store.root / "originals"
    return items, ([p for p in root.rglob("*") if p.is_file()] if root.exists() else [])


# ------------------------------------------------------------------ the real BnL issue (parse only)
def test_bnl_issue_parses_into_pages_articles_and_alto_words(shared_data, tmp_path):
    folder = shared_data / BNL
    package = open_package(folder, staging_dir=tmp_path, require_images=False)  # its images are not included
    d = package.description
    assert d.title == "Luxemburger Zeitung – Journal de Luxembourg 1858-07-10_01"
    assert d.serial_title == "Luxemburger Zeitung – Journal de Luxembourg"
    assert (d.date, d.issue_date, d.publisher, d.item_type) == ("1858-07-10", "1858-07-10", "Victor Bück", "newspaper")
    assert d.languages == ("fr", "de") and d.identifier == "https://persist.lu/ark:70795/4b7rzq"
    assert [p.order for p in package.pages] == [1, 2, 3, 4]
    assert [p.alto_page_id for p in package.pages] == ["P1", "P2", "P3", "P4"]
    assert [p.alto.name for p in package.pages] == [f"text/1858-07-10_01-0000{n}.xml" for n in (1, 2, 3, 4)]
    assert all(p.image is None for p in package.pages)

    articles = package.articles()
    titles = [a.label for a in articles if a.label]
    assert len(articles) == 17 and len(titles) >= 12
    assert {"Revue politique.", "Le Nord.", "Kölnische Zeitung.", "Verschiedenes."} <= set(titles)
    kolnische = next(a for a in articles if a.label == "Kölnische Zeitung.")
    assert kolnische.pages == [1, 2]  # an article running over a page break
    blocks = [b for _, b in kolnische.all_areas()]
    assert blocks and all(re.fullmatch(r"P[12]_TB\d{5}", b) for b in blocks)
    sections = [d for top in package.logical for d in top.walk() if d.type == "SECTION"]
    assert any(s.label == "Amtlicher Theil." for s in sections)

    for page in package.pages:
        alto = read_alto(page.alto.path, label=page.alto.name)
        in_file = len(re.findall(r"<String\b", page.alto.path.read_text(encoding="utf-8")))
        assert alto.unit == "mm10" and alto.page_id == page.alto_page_id
        assert 0.98 * in_file <= len(alto.words) <= in_file  # every word that has content
        text, layout, mean = page_layout(alto)
        assert len(layout["words"]) == len(alto.words) and 50 < mean <= 100
        start, end = layout["words"][0][1:3]
        assert text[start:end] == layout["words"][0][0]
    first = page_layout(read_alto(package.pages[0].alto.path, label="p1"))[0]
    assert first.startswith("Nr. 161. — Samstag, 10. Juli 1858.")


def test_bnl_issue_without_its_images_is_refused_for_import(shared_data, tmp_path):
    with pytest.raises(InputRejected) as caught:
        open_package(shared_data / BNL, staging_dir=tmp_path)
    assert caught.value.source == "images/1858-07-10_01-00001.tif" and "missing" in caught.value.problem


# ------------------------------------------------------------------ the real NDNP issue, whole
@pytest.mark.slow
def test_ndnp_issue_is_imported_whole_as_already_read_pages(shared_data, platform, importer, queue):
    outcome = importer.import_package(shared_data / NDNP, actor=SYSTEM)
    assert outcome.status == "created", outcome.as_dict()
    assert outcome.pages == 2 and outcome.words > 8000
    assert queue.sent == []  # no OCR: the ALTO is the reading
    with platform.sessions() as s:
        item = s.get(Item, outcome.item_id)
        assert item.title == "The Park Record (Park City, UT), 1935-08-02, Main Edition"
        assert item.item_type == ItemType.newspaper and item.status == ItemStatus.done
        assert str(item.issue_date) == "1935-08-02" and item.issue_number == "27" and item.languages == "eng"
        pages = s.scalars(select(Page).where(Page.item_id == item.id).order_by(Page.sequence)).all()
        assert [p.source_name.rsplit("/", 1)[-1] for p in pages] == ["1292.jp2", "1289.jp2"]  # METS order
        assert all(p.status == PageStatus.done and p.queued_at is None for p in pages)
        assert [(p.width, p.height) for p in pages] == [(4588, 7158), (4552, 7218)]
        assert pages[0].ocr_engine.startswith("alto import (") and "Park" in pages[0].text
        for page in pages:
            words = stored(s, page.id).words
            assert len(words) > 4000
            assert all(0 <= w.x and w.x + w.w <= page.width + 1 and 0 <= w.y and w.y + w.h <= page.height + 1
                       for w in words)
            assert all(0 <= w.confidence <= 100 for w in words)
            versions = s.scalars(select(Transcription).where(Transcription.page_id == page.id)).all()
            assert [(v.version, v.source) for v in versions] == [(1, "ocr")]
            kinds = set(s.scalars(select(Derivative.kind).where(Derivative.page_id == page.id)))
            assert kinds == {"viewer"}  # no normalised PNG, thumbnail or text file kept
            assert platform.store.has_original(page.source_sha256)
        park = next(w for w in stored(s, pages[0].id).words if w.text == "Park")
    # "Park" in the masthead, top of page one: its box was scaled from 1/1200 inch to pixels
    assert park.y < 7158 * 0.2 and park.w > 100
    found = platform.search.search("Park City", actor=SYSTEM)
    assert found.total >= 1 and {h.item_title for h in found.hits} == {item.title}
    assert logical_structure(platform.store, outcome.item_id)["pages"][0]["label"] == "1"
    again = importer.import_package(shared_data / NDNP, actor=SYSTEM)
    assert again.status == "duplicate" and again.duplicate_of == outcome.item_id


# ------------------------------------------------------------------ packages made here
@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_own_package_becomes_an_item_with_its_reading_and_articles(platform, importer, queue, tmp_path, as_zip):
    folder = make_package(tmp_path / "issue")
    given = zip_folder(folder, tmp_path / "issue.zip") if as_zip else folder
    assert is_mets_package(given)
    checked = importer.import_package(given, actor=SYSTEM, dry_run=True)
    assert checked.status == "valid" and checked.pages == 2 and checked.words == 8, checked.as_dict()
    assert items_and_originals(platform) == (0, [])

    outcome = importer.import_package(given, actor=SYSTEM, collection="Báo chí")
    assert outcome.status == "created", outcome.as_dict()
    assert queue.sent == []
    with platform.sessions() as s:
        item = s.get(Item, outcome.item_id)
        assert (item.title, item.serial_title, item.issue_number) == ("Tin Hà Nội, số 12, 1935-03-01", "Tin Hà Nội", "12")
        assert (item.creator, item.publisher, item.languages, item.date_iso) == (
            "Nguyễn Văn A", "Nhà in Hà Nội", "vie", "1935-03-01")
        assert item.collection.name == "Báo chí"
        pages = s.scalars(select(Page).where(Page.item_id == item.id).order_by(Page.sequence)).all()
        assert [p.text for p in pages] == ["Văn Miếu Hà Nội", "Quốc Tử Giám 1076"]  # ORDER, not document order
        assert pages[0].source_name.endswith("images/p1.png")
        words = stored(s, pages[0].id).words
    # inch1200 at 300 dpi: 4 units a pixel
    assert [(w.text, w.x, w.y, w.w, w.h) for w in words][:2] == [("Văn", 50, 50, 60, 30), ("Miếu", 125, 50, 60, 30)]
    assert [w.confidence for w in words] == [50.0, 60.0, 70.0, 80.0]
    structure = importer.logical_structure(outcome.item_id)
    article = structure["divisions"][0]["children"][0]
    assert (article["type"], article["label"], article["pages"]) == ("ARTICLE", "Văn Miếu và Quốc Tử Giám", [1, 2])
    assert [a["block"] for a in article["areas"]] == ["P1_TB1", "P2_TB1"]
    assert article["areas"][0]["box"] == [45, 45, 325, 40] and article["areas"][0]["chars"] == [0, 15]
    found = platform.search.search("Quoc Tu Giam", actor=SYSTEM)
    assert [h.sequence for h in found.hits] == [2]


# ------------------------------------------------------------------ bad packages
BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')
EXTERNAL_ENTITY = '<!DOCTYPE alto [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _missing_alto(folder):
    (folder / "alto" / "p2.xml").unlink()


def _missing_image(folder):
    (folder / "images" / "p1.png").unlink()


def _malformed_alto(folder):
    (folder / "alto" / "p1.xml").write_text("<alto><Layout><Page></Layout>", encoding="utf-8")


BAD = {
    "missing ALTO": (dict(), _missing_alto, "alto/p2.xml", "missing"),
    "missing image": (dict(), _missing_image, "images/p1.png", "missing"),
    "ALTO size mismatch": (dict(alto_sizes={2: (2400, 800)}), None, "alto/p2.xml", "do not belong together"),
    "../ href": (dict(hrefs={"ALTO1": "../outside.xml"}), None, "mets.xml", "outside the package"),
    "absolute path": (dict(hrefs={"IMG1": "/etc/hostname"}), None, "mets.xml", "absolute path"),
    "file:/// URL": (dict(hrefs={"IMG1": "file:///etc/hostname"}), None, "mets.xml", "absolute path"),
    "http URL": (dict(hrefs={"IMG2": "http://example.org/p2.png"}), None, "mets.xml", "URL"),
    "billion laughs": (dict(mets_doctype=BILLION_LAUGHS), None, "mets.xml", "entit"),
    "external entity": (dict(alto_doctype=EXTERNAL_ENTITY), None, "alto/p1.xml", "entit"),
    "malformed ALTO": (dict(), _malformed_alto, "alto/p1.xml", "malformed XML"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_package_is_refused_naming_the_file_and_nothing_is_stored(platform, importer, tmp_path, case):
    options, spoil, named, words = BAD[case]
    (tmp_path / "outside.xml").write_text(alto_xml(1), encoding="utf-8")
    folder = make_package(tmp_path / "issue", **options)
    if spoil:
        spoil(folder)
    outcome = importer.import_package(folder, actor=SYSTEM)
    assert outcome.status == "rejected" and len(outcome.problems) == 1
    problem = outcome.problems[0]
    assert problem.source == named and words in problem.problem, str(problem)
    assert items_and_originals(platform) == (0, [])
    assert not (platform.store.root / "derivatives").exists() or not any((platform.store.root / "derivatives").rglob("*.*"))


def test_xml_beyond_the_size_limit_is_refused_before_parsing(tmp_path):
    folder = make_package(tmp_path / "issue")
    with pytest.raises(InputRejected) as caught:
        open_package(folder, staging_dir=tmp_path / "staging", max_xml_bytes=1000)
    assert caught.value.source == "mets.xml" and "over the limit" in caught.value.problem


def test_zip_with_a_climbing_entry_is_refused(tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("mets.xml", mets_xml())
        z.writestr("../evil.xml", "<alto/>")
    with pytest.raises(InputRejected) as caught:
        open_package(bad, staging_dir=tmp_path / "staging")
    assert "../evil.xml" in caught.value.source and "climb" in caught.value.problem
    assert not (tmp_path / "evil.xml").exists()


# ------------------------------------------------------------------ heritage ingest
def test_heritage_ingest_recognises_a_mets_package_and_dry_run_stores_nothing(tmp_path):
    import json
    import subprocess
    import sys

    from tests.conftest import REPO, make_settings, settings_env

    settings = make_settings(tmp_path / "data")
    package = zip_folder(make_package(tmp_path / "issue"), tmp_path / "issue.zip")

    def heritage(*args):
        return subprocess.run([sys.executable, "-m", "console", *map(str, args)], env=settings_env(settings),
                              capture_output=True, text=True, cwd=REPO, timeout=300)

    checked = heritage("ingest", "--dry-run", "--json", package)
    assert checked.returncode == 0, checked.stderr
    [report] = json.loads(checked.stdout)
    assert report["dry_run"] and report["items"][0]["status"] == "valid" and report["items"][0]["pages"] == 2
    assert not (settings.store_dir / "originals").exists()

    done = heritage("ingest", "--json", package)
    assert done.returncode == 0, done.stderr
    item_id = json.loads(done.stdout)[0]["items"][0]["item_id"]
    p = build_platform(settings)
    try:
        with p.sessions() as s:
            item = s.get(Item, item_id)
            assert item.title == "Tin Hà Nội, số 12, 1935-03-01" and item.status == ItemStatus.done
            assert [pg.status for pg in item.pages] == [PageStatus.done, PageStatus.done]
    finally:
        p.close()

    bad = make_package(tmp_path / "bad", hrefs={"IMG1": "../../etc/hostname"})
    refused = heritage("ingest", bad)
    assert refused.returncode == 2 and "mets.xml" in refused.stderr and "outside the package" in refused.stderr


# ------------------------------------------------------------------ Dublin Core, units
def test_dublin_core_description_and_mm10_alto_are_read(tmp_path):
    folder = make_package(tmp_path / "book")
    mets = (folder / "mets.xml").read_text(encoding="utf-8")
    dc = ('<dmdSec ID="DC1"><mdWrap MDTYPE="DC"><xmlData><dc:dc xmlns:dc="http://purl.org/dc/elements/1.1/">'
          '<dc:title>Lục Vân Tiên</dc:title><dc:creator>Nguyễn Đình Chiểu</dc:creator><dc:date>1889</dc:date>'
          '<dc:language>vi</dc:language><dc:identifier>LVT-1889</dc:identifier></dc:dc></xmlData></mdWrap></dmdSec>')
    mets = re.sub(r"<dmdSec ID=\"ISSUE\">.*?</dmdSec>", dc, mets, flags=re.S).replace('DMDID="ISSUE"', 'DMDID="DC1"')
    mets = mets.replace('TYPE="Newspaper" LABEL="Tin Hà Nội, số 12, 1935-03-01"', 'TYPE="Monograph"')
    (folder / "mets.xml").write_text(mets, encoding="utf-8")
    d = open_package(folder, staging_dir=tmp_path / "staging").description
    assert (d.title, d.creator, d.date, d.languages, d.identifier, d.item_type, d.source) == (
        "Lục Vân Tiên", "Nguyễn Đình Chiểu", "1889", ("vi",), "LVT-1889", "book", "DC")

    # mm10 at 300 dpi: 254 units an inch, so the 400×200 px page is 338.67×169.33 mm10
    alto = folder / "alto" / "p1.xml"
    alto.write_text(alto_xml(1, unit="mm10", size_units=(338.67, 169.33)), encoding="utf-8")
    page = read_alto(alto, label="p1.xml", image_size_px=IMAGE_PX, image_dpi=300)
    first = page.words[0]
    assert (first.x, first.w) == (round(200 * 400 / 338.67), round(240 * 400 / 338.67))
    with pytest.raises(InputRejected, match="do not belong together"):
        read_alto(alto, label="p1.xml", image_size_px=IMAGE_PX, image_dpi=150)  # half the size at 150 dpi
    # no dpi: only the shape can be checked
    assert read_alto(alto, label="p1.xml", image_size_px=IMAGE_PX).words[0].x == first.x
    with pytest.raises(InputRejected, match="different shapes"):
        read_alto(alto, label="p1.xml", image_size_px=(400, 400))


def test_a_folder_of_scans_is_not_a_mets_package(tmp_path):
    (tmp_path / "scans").mkdir()
    Image.new("L", (50, 50), 255).save(tmp_path / "scans" / "p1.png")
    (tmp_path / "scans" / "notes.xml").write_text("<notes/>", encoding="utf-8")
    assert not is_mets_package(tmp_path / "scans")
    assert is_mets_package(make_package(tmp_path / "issue"))


def test_struct_links_give_logical_divisions_their_pages(tmp_path):
    folder = make_package(tmp_path / "issue")
    mets = (folder / "mets.xml").read_text(encoding="utf-8")
    mets = mets.replace('<div TYPE="PAGE" ORDER="2">', '<div ID="PHYS2" TYPE="PAGE" ORDER="2">')
    mets = mets.replace('<div TYPE="ISSUE" DMDID="ISSUE">', '<div ID="LOG0" TYPE="ISSUE" DMDID="ISSUE">')
    mets = mets.replace("</mets>", '<structLink><smLink xlink:from="LOG0" xlink:to="PHYS2"/></structLink></mets>')
    (folder / "mets.xml").write_text(mets, encoding="utf-8")
    [issue] = open_package(folder, staging_dir=tmp_path / "staging").logical
    assert issue.areas == ((2, None),) and issue.pages == [1, 2]


def test_an_original_imported_again_shares_its_viewer_image(platform, importer, tmp_path):
    """A second package holding page images already imported (here the same two pages in the other order:
    another item) links their pyramids instead of making them again; the bytes are kept once, each item
    keeps its file when the other is deleted, and fixity is clean."""
    import os
    import shutil

    from library.fixity import check_fixity
    from library.store import sha256_of

    first = make_package(tmp_path / "a")
    second = tmp_path / "b"
    shutil.copytree(first, second)
    for name in ("p1.png", "p2.png"):
        (second / "images" / name).rename(second / "images" / f"{name}.x")
    (second / "images" / "p1.png.x").rename(second / "images" / "p2.png")
    (second / "images" / "p2.png.x").rename(second / "images" / "p1.png")
    a = importer.import_package(first, actor=SYSTEM)
    b = importer.import_package(second, actor=SYSTEM)
    assert (a.status, b.status) == ("created", "created") and a.item_id != b.item_id

    def viewer(item_id, seq):
        return platform.store.resolve(platform.store.page_derivative_relpath(item_id, seq, "viewer"))

    assert os.stat(viewer(b.item_id, 1)).st_ino == os.stat(viewer(a.item_id, 2)).st_ino  # one file, two names
    assert os.stat(viewer(b.item_id, 2)).st_ino == os.stat(viewer(a.item_id, 1)).st_ino
    with platform.sessions() as s:
        rows = {(d.page_id, d.sha256) for d in s.scalars(select(Derivative).where(Derivative.kind == "viewer"))}
    assert len(rows) == 4 and len({sha for _, sha in rows}) == 2
    assert check_fixity(platform.sessions, platform.store).ok
    platform.store.remove_tree(f"derivatives/items/{a.item_id}")  # the first item's files go (as a purge does)
    with platform.sessions() as s:
        kept = {d.relpath: d.sha256 for d in s.scalars(select(Derivative).join(Page, Page.id == Derivative.page_id)
                                                       .where(Page.item_id == b.item_id))}
    assert len(kept) == 2 and all(sha256_of(platform.store.resolve(rel)) == sha for rel, sha in kept.items())


def test_one_image_on_two_pages_of_a_package_is_stored_once_with_one_pyramid(platform, importer, tmp_path):
    """Pages of one package sharing an image (a plate printed twice, a blank verso scanned once): one stored
    original, one pyramid made and linked for the other page — found in the package's own uncommitted work,
    which a lookup in another session could not see."""
    import os
    import shutil

    from library.catalogue.models import StoredFile, Transcription
    from library.fixity import check_fixity
    from library.store import sha256_of

    folder = make_package(tmp_path / "issue")
    shutil.copyfile(folder / "images" / "p1.png", folder / "images" / "p2.png")
    outcome = importer.import_package(folder, actor=SYSTEM)
    assert outcome.status == "created" and outcome.pages == 2
    viewers = [platform.store.resolve(platform.store.page_derivative_relpath(outcome.item_id, n, "viewer"))
               for n in (1, 2)]
    assert os.stat(viewers[0]).st_ino == os.stat(viewers[1]).st_ino  # made once, linked
    image = sha256_of(folder / "images" / "p1.png")
    with platform.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StoredFile).where(StoredFile.sha256 == image)) == 1
        pages = s.scalars(select(Page).where(Page.item_id == outcome.item_id).order_by(Page.sequence)).all()
        assert [p.source_sha256 for p in pages] == [image, image]
        versions = {v.page_id: v for v in s.scalars(select(Transcription).where(
            Transcription.page_id.in_([p.id for p in pages])))}
        assert all(p.text and versions[p.id].version == 1 and versions[p.id].text == p.text for p in pages)
        derivatives = s.scalars(select(Derivative).where(Derivative.page_id.in_([p.id for p in pages]))).all()
        assert len(derivatives) == 2 and len({d.sha256 for d in derivatives}) == 1
    assert check_fixity(platform.sessions, platform.store).ok


def test_imported_alto_and_mets_are_kept_gzipped_and_come_back_unchanged(platform, importer, tmp_path):
    """The package's XML (each page's ALTO, the METS) is kept gzipped in the store — about a tenth of its
    bytes at a page's size; the store gives the ALTO back byte for byte, fixity is clean, and a damaged
    compressed copy is a fixity mismatch named by its file."""
    import os

    from library.catalogue.models import StoredFile
    from library.fixity import check_fixity

    folder = make_package(tmp_path / "issue")
    sent = {name: (folder / "alto" / name).read_bytes() for name in ("p1.xml", "p2.xml")}
    out = importer.import_package(folder, actor=SYSTEM)
    assert out.status == "created"
    with platform.sessions() as s:
        xml = {f.original_name: f.sha256 for f in s.scalars(select(StoredFile)
                                                             .where(StoredFile.media_type == "application/xml"))}
    assert set(xml) == {"alto/p1.xml", "alto/p2.xml", "mets.xml"}
    for name, sha in xml.items():
        rel = platform.store.stored_original_relpath(sha)
        assert rel.endswith(".gz") and not platform.store.original_path(sha).exists(), name
    assert check_fixity(platform.sessions, platform.store).ok

    for name in ("p1.xml", "p2.xml"):
        with platform.store.open_original(xml[f"alto/{name}"]) as f:
            assert f.read() == sent[name]  # the ALTO as it was sent
    assert platform.store.root.joinpath(platform.store.stored_original_relpath(xml["alto/p1.xml"])).stat().st_size \
        < len(sent["p1.xml"])

    damaged = platform.store.root / platform.store.stored_original_relpath(xml["alto/p1.xml"])
    os.chmod(damaged, 0o644)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    report = check_fixity(platform.sessions, platform.store)
    assert not report.ok and [p.relpath for p in report.problems] == [platform.store.stored_original_relpath(xml["alto/p1.xml"])]
