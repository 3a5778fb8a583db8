"""METS round trip: an item read by the real tesseract (with a manual correction) exported as a METS
package and imported into an EMPTY second platform (its own data folder and database) is the same item:
metadata, pages in order with the same image bytes, the same (corrected) text, the same word boxes; and a
package with sections and articles, imported, exported and imported again, keeps its articles."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from library.access import Actor
from library.catalogue.models import Item, Page
from library.catalogue.page_layout import stored
from library.container import build_platform
from library.ingest.service import Upload
from tests.conftest import make_settings
from tests.library.test_exports import read_all
from tests.library.test_jobs import small_scans
from tests.library.test_mets_import import make_package

SYSTEM = Actor.system("tests")
CORRECTED = "Quốc Tử Giám là trường đại học đầu tiên"
ITEM_FIELDS = ("title", "creator", "publisher", "date_text", "date_iso", "languages", "item_type", "subject",
               "rights", "serial_title", "issue_date_text", "issue_number", "description", "identifier")


@pytest.fixture
def two_platforms(tmp_path, database_url):
    """A source platform (SQLite) and an empty one, each with its own data folder and catalogue: the
    target's on SQLite and on PostgreSQL (``database_url``)."""
    made = []
    for name, url in (("source", f"sqlite:///{tmp_path / 'source.sqlite3'}"), ("target", database_url)):
        made.append(build_platform(make_settings(tmp_path / name, database_url=url)))
    yield made
    for p in made:
        p.close()


def item_state(platform, item_id: int) -> dict:
    """What a round trip must keep: the record, and per page its image bytes, label, text and words."""
    with platform.sessions() as s:
        item = s.get(Item, item_id)
        record = {f: getattr(item, f) for f in ITEM_FIELDS}
        record["item_type"] = item.item_type.value
        pages = []
        for page in s.scalars(select(Page).where(Page.item_id == item_id).order_by(Page.sequence)):
            image = platform.store.original_path(page.source_sha256).read_bytes()
            words = stored(s, page.id).words
            pages.append({"sequence": page.sequence, "label": page.label, "size": (page.width, page.height),
                          "image_sha256": hashlib.sha256(image).hexdigest(), "text": page.text,
                          "words": [(w.text, w.x, w.y, w.w, w.h) for w in words],
                          "confidences": [w.confidence for w in words]})
    return {"record": record, "pages": pages}


def import_into(platform, package):
    outcome = platform.mets.import_package(package, actor=SYSTEM)
    assert outcome.status == "created", outcome.as_dict()
    return outcome.item_id


def assert_same_item(before: dict, after: dict) -> None:
    assert after["record"] == before["record"]
    assert len(after["pages"]) == len(before["pages"])
    for old, new in zip(before["pages"], after["pages"]):
        confidences = (old.pop("confidences"), new.pop("confidences"))
        assert new == old
        # ALTO carries WC with two decimals: 0.01 × 100 = one point of confidence at most
        assert all(abs(a - b) <= 0.5 + 1e-6 for a, b in zip(*confidences))


def test_a_read_and_corrected_item_comes_back_the_same_from_its_mets_package(two_platforms, tmp_path):
    source, target = two_platforms
    scans = small_scans(tmp_path, 2)
    report = source.ingest.ingest_item(
        [Upload(p, p.name) for p in scans],
        {"title": "Tin Hà Nội – số 12", "creator": "Nguyễn Văn A", "date": "1935-03-01", "publisher": "Nhà in Hà Nội",
         "languages": "vie+fra", "type": "newspaper", "serial_title": "Tin Hà Nội", "issue_number": "12",
         "issue_date": "1935-03-01", "rights": "Phạm vi công cộng", "subject": "báo chí; Hà Nội",
         "description": "Số báo đầu tháng ba.", "identifier": "HN-BAO-1935-12"}, actor=SYSTEM)
    assert report.ok, report.as_dict()
    item_id = report.items[0].item_id
    read_all(source, item_id)
    page_two = source.catalogue.page_statuses(item_id)[1].page_id
    revision, _lines = source.corrections.lines(page_two)
    source.corrections.correct(SYSTEM, page_two, {0: CORRECTED}, revision=revision)
    before = item_state(source, item_id)
    assert before["pages"][1]["text"].startswith(CORRECTED)  # the correction is what goes out
    assert all(p["words"] for p in before["pages"])

    package = source.exports.export(item_id, "mets").path
    copied = import_into(target, package)
    after = item_state(target, copied)
    assert [p["image_sha256"] for p in after["pages"]] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in scans]
    assert_same_item(before, after)
    assert target.mets.contents(copied) == []  # an item without articles gets none


def test_articles_survive_an_import_export_import(two_platforms, tmp_path):
    """A package with a section holding two articles (and an article of its own) → platform one → METS →
    platform two: the same table of contents, text and words."""
    source, target = two_platforms
    folder = make_package(tmp_path / "issue")
    mets = (folder / "mets.xml").read_text(encoding="utf-8")
    one = '<div TYPE="ARTICLE" DMDID="ART1" ORDER="1">'
    assert one in mets
    logical = ('<div TYPE="SECTION" LABEL="Tin trong nước" ORDER="1">'
               '<div TYPE="ARTICLE" DMDID="ART1" ORDER="1"><div TYPE="HEADING"><fptr><area FILEID="ALTO1" '
               'BEGIN="P1_TB1"/></fptr></div></div>'
               '<div TYPE="ARTICLE" LABEL="Quốc Tử Giám" ORDER="2"><fptr><area FILEID="ALTO2" BEGIN="P2_TB1"/></fptr>'
               '</div></div><div TYPE="ADVERTISEMENT" ORDER="2"><fptr><area FILEID="ALTO2"/></fptr></div>')
    start = mets.index(one)
    end = mets.index("</div>", start) + len("</div>")
    (folder / "mets.xml").write_text(mets[:start] + logical + mets[end:], encoding="utf-8")

    first = import_into(source, folder)
    contents = [e.as_dict() for e in source.mets.contents(first)]
    assert contents == [
        {"depth": 0, "type": "section", "label": "Tin trong nước", "pages": [1, 2]},
        {"depth": 1, "type": "article", "label": "Văn Miếu và Quốc Tử Giám", "pages": [1]},
        {"depth": 1, "type": "article", "label": "Quốc Tử Giám", "pages": [2]},
        {"depth": 0, "type": "advertisement", "label": None, "pages": [2]}]
    before = item_state(source, first)

    package = source.exports.export(first, "mets").path
    second = import_into(target, package)
    assert [e.as_dict() for e in target.mets.contents(second)] == contents
    assert_same_item(before, item_state(target, second))
    # and out again from the second platform: the same divisions go out
    assert target.mets.divisions(second) == source.mets.divisions(first)


def test_the_bnl_issue_structure_becomes_a_table_of_sections_and_articles(shared_data, tmp_path):
    """The real BnL issue (parsed, its images are not included): wrappers (newspaper, volume, issue,
    CONTENT) and pieces (headings, bodies, paragraphs) left out; its sections, articles and
    advertisements kept, nested, with their pages."""
    from library.ingest.mets_package import open_package
    from library.ingest.mets_structure import item_divisions, table_of_contents

    package = open_package(shared_data / "ocr/bnl-mets-alto-1858", staging_dir=tmp_path, require_images=False)
    contents = table_of_contents(package.structure())
    assert {e.type for e in contents} == {"section", "article", "advertisement"}
    assert sum(e.type == "article" for e in contents) == len(package.articles()) == 17
    by_label = {e.label: e for e in contents if e.label}
    assert (by_label["Amtlicher Theil."].depth, by_label["Zeitungsnachrichten."].depth) == (0, 1)
    assert (by_label["Kölnische Zeitung."].depth, by_label["Kölnische Zeitung."].pages) == (2, (1, 2))
    assert contents[0].label == "Amtlicher Theil." and contents[-1].type == "advertisement"
    assert len(item_divisions(package.structure())) == sum(e.depth == 0 for e in contents)
