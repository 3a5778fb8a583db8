"""The METS export of a read item (pages read by the real tesseract, on SQLite and PostgreSQL): a zip
of ``mets.xml`` (valid against the METS 1.x schema that the ``ocrd-validators`` package ships), the
originals as uploaded with their SHA-256, one ALTO per page with the current text (a correction shows
up), the physical structure map in page order and the logical one (with divisions when given); an item
still being read is refused; the command line writes the package."""

from __future__ import annotations

import hashlib
import importlib.util
import unicodedata
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree
from lxml import etree

from library.access import Actor
from library.discovery.exports import ItemNotReady
from library.discovery.mets import LogicalDivision
from library.ingest.service import Upload
from tests.library.test_cli import heritage
from tests.library.test_exports import pages_of, read_all
from tests.library.test_jobs import small_scans

pytestmark = pytest.mark.slow

SYSTEM = Actor.system("tests")
METS = "{http://www.loc.gov/METS/}"
MODS = "{http://www.loc.gov/mods/v3}"
DC = "{http://purl.org/dc/elements/1.1/}"
XLINK = "{http://www.w3.org/1999/xlink}"
ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"
TITLE = "Đại Nam thực lục – tập 1"


def mets_schema() -> etree.XMLSchema:
    """The METS schema as the ocrd-validators package ships it (with its own xlink.xsd: no network)."""
    spec = importlib.util.find_spec("ocrd_validators")  # located, not imported (its imports are heavy)
    assert spec is not None, "install ocrd-validators (pip install --no-deps ocrd-validators==2.67.1)"
    return etree.XMLSchema(etree.parse(str(Path(spec.submodule_search_locations[0]) / "mets.xsd")))


def ingest_pages(platform, tmp_path: Path, n: int, **metadata) -> tuple[int, list[Path]]:
    scans = small_scans(tmp_path, n)
    report = platform.ingest.ingest_item([Upload(p, p.name) for p in scans],
                                         {"title": TITLE, "creator": "Quốc sử quán triều Nguyễn", **metadata},
                                         actor=SYSTEM)
    assert report.ok, report.as_dict()
    return report.items[0].item_id, scans


def read_package(path: Path):
    zf = zipfile.ZipFile(path)
    return zf, ElementTree.fromstring(zf.read("mets.xml"))


def test_the_mets_package_holds_the_originals_the_current_alto_and_both_structure_maps(platform, tmp_path):
    item_id, scans = ingest_pages(platform, tmp_path, 3, subject="lịch sử; triều Nguyễn", rights="Phạm vi công cộng",
                                  languages="vie+fra", publisher="Quốc sử quán", date="1848")
    read_all(platform, item_id)
    made = platform.exports.export(item_id, "mets")
    assert made.filename == f"dai-nam-thuc-luc-tap-1-{item_id}-mets.zip" and made.media_type == "application/zip"
    zf, root = read_package(made.path)
    mets_schema().assertValid(etree.fromstring(zf.read("mets.xml")))

    # descriptive metadata: MODS and DC, Vietnamese intact (NFC)
    mods = root.find(f"{METS}dmdSec[@ID='DMD_MODS']/{METS}mdWrap/{METS}xmlData/{MODS}mods")
    assert mods.find(f"{MODS}titleInfo/{MODS}title").text == TITLE
    assert unicodedata.is_normalized("NFC", mods.find(f"{MODS}titleInfo/{MODS}title").text)
    assert [t.text for t in mods.iter(f"{MODS}topic")] == ["lịch sử", "triều Nguyễn"]
    assert [t.text for t in mods.iter(f"{MODS}languageTerm")] == ["vi", "fr"]
    assert mods.find(f"{MODS}accessCondition").text == "Phạm vi công cộng"
    dc = root.find(f"{METS}dmdSec[@ID='DMD_DC']/{METS}mdWrap/{METS}xmlData")[0]
    assert dc.find(f"{DC}creator").text == "Quốc sử quán triều Nguyễn" and dc.find(f"{DC}date").text == "1848"
    rights = [r.text for r in root.iter(f"{DC}rights")]
    assert "Phạm vi công cộng" in rights and "access: public" in rights

    # the originals as uploaded, with their checksums and sizes; one ALTO per page
    files = {f.get("ID"): f for f in root.iter(f"{METS}file")}
    groups = {g.get("USE"): [f.get("ID") for f in g] for g in root.iter(f"{METS}fileGrp")}
    assert len(groups["MASTER"]) == 3 and len(groups["FULLTEXT"]) == 3
    for file_id, scan in zip(groups["MASTER"], scans):
        f = files[file_id]
        data = zf.read(f.find(f"{METS}FLocat").get(f"{XLINK}href"))
        assert data == scan.read_bytes()  # the original, byte for byte
        assert f.get("CHECKSUMTYPE") == "SHA-256" and f.get("CHECKSUM") == hashlib.sha256(data).hexdigest()
        assert int(f.get("SIZE")) == len(data) and f.get("MIMETYPE") == "image/png"

    # the physical structure map: pages in order, each with its image and its ALTO
    phys = root.find(f"{METS}structMap[@TYPE='PHYSICAL']/{METS}div")
    assert [(d.get("ORDER"), d.get("ORDERLABEL")) for d in phys] == [("1", "1"), ("2", "2"), ("3", "3")]
    pages = pages_of(platform, item_id)
    for div, master, (page, words) in zip(phys, groups["MASTER"], pages):
        image_id, alto_id = [p.get("FILEID") for p in div.findall(f"{METS}fptr")]
        assert image_id == master and alto_id in groups["FULLTEXT"]
        alto_bytes = zf.read(files[alto_id].find(f"{METS}FLocat").get(f"{XLINK}href"))
        assert files[alto_id].get("CHECKSUM") == hashlib.sha256(alto_bytes).hexdigest()
        alto = ElementTree.fromstring(alto_bytes)
        assert [s.get("CONTENT") for s in alto.iter(f"{ALTO}String")] == [w.text for w in words]
    logical = root.find(f"{METS}structMap[@TYPE='LOGICAL']/{METS}div")
    assert logical.get("TYPE") == "monograph" and logical.get("DMDID") == "DMD_MODS DMD_DC" and len(logical) == 0
    links = [(link.get(f"{XLINK}from"), link.get(f"{XLINK}to")) for link in root.iter(f"{METS}smLink")]
    assert links == [("LOG_00000", f"PHYS_{n:05d}") for n in (1, 2, 3)]
    assert platform.exports.export(item_id, "mets").from_cache

    # a correction: the next package is made anew, with the corrected words in page 2's ALTO
    page = pages[1][0]
    revision, _lines = platform.corrections.lines(page.id)
    platform.corrections.correct(SYSTEM, page.id, {0: "Quốc Tử Giám là trường đại học đầu tiên"}, revision=revision)
    again = platform.exports.export(item_id, "mets")
    assert not again.from_cache and again.etag != made.etag and not made.path.exists()
    zf, root = read_package(again.path)
    alto = ElementTree.fromstring(zf.read("alto/page-00002.xml"))
    corrected = "Quốc Tử Giám là trường đại học đầu tiên".split()  # its first line; the others as they were
    assert [s.get("CONTENT") for s in alto.iter(f"{ALTO}String")][:len(corrected)] == corrected
    assert "corrected by hand" in alto.find(f".//{ALTO}softwareName").text
    alto_file = root.find(f".//{METS}file[@ID='ALTO_00002']")
    assert alto_file.get("CHECKSUM") == hashlib.sha256(zf.read("alto/page-00002.xml")).hexdigest()

    # a logical structure given by whoever keeps it: divisions with their pages
    platform.exports.logical_structure = lambda _id: [
        LogicalDivision("article", "Bài thứ nhất", (1, 2)), {"type": "section", "label": "Phụ lục", "pages": [3]}]
    with_articles = platform.exports.export(item_id, "mets")
    assert not with_articles.from_cache
    zf, root = read_package(with_articles.path)
    mets_schema().assertValid(etree.fromstring(zf.read("mets.xml")))
    parts = root.find(f"{METS}structMap[@TYPE='LOGICAL']/{METS}div")
    assert [(d.get("TYPE"), d.get("LABEL")) for d in parts] == [("article", "Bài thứ nhất"), ("section", "Phụ lục")]
    links = [(link.get(f"{XLINK}from"), link.get(f"{XLINK}to")) for link in root.iter(f"{METS}smLink")]
    assert links[3:] == [("LOG_00001", "PHYS_00001"), ("LOG_00001", "PHYS_00002"), ("LOG_00002", "PHYS_00003")]


def test_an_item_still_being_read_has_no_mets_and_the_command_line_writes_one(settings, platform, tmp_path):
    item_id, _scans = ingest_pages(platform, tmp_path, 2, item_type="newspaper", serial_title="Nam Phong tạp chí",
                                   issue_number="12", issue_date="1918-06-01")
    with pytest.raises(ItemNotReady):
        platform.exports.export(item_id, "mets")
    read_all(platform, item_id)
    out = tmp_path / "goi.zip"
    done = heritage(settings, "export", item_id, "--format", "mets", "--out", out)
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout
    zf, root = read_package(out)
    assert sorted(zf.namelist()) == ["alto/page-00001.xml", "alto/page-00002.xml", "images/00001.png",
                                     "images/00002.png", "mets.xml"]
    host = root.find(f".//{MODS}relatedItem[@type='host']")
    assert host.find(f"{MODS}titleInfo/{MODS}title").text == "Nam Phong tạp chí"
    assert host.find(f"{MODS}part/{MODS}detail[@type='issue']/{MODS}number").text == "12"
    assert root.find(f"{METS}structMap[@TYPE='LOGICAL']/{METS}div").get("TYPE") == "issue"
