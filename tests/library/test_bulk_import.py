"""Bulk import at the speed #12 needs, without giving up anything: the XML reader (lxml) still refuses
every document type declaration, however the file is encoded; the quick reading of ALTO words gives
exactly what the careful one gives on the real BnL and NDNP files; inside ``Indexer.batched`` search is
told every few seconds instead of per item, a change committed meanwhile stays in the outbox (and is
sent by the next flush, even from another process), and an item's pages are sent to search once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from library.access import Actor
from library.catalogue.models import Item, Page
from library.container import build_platform
from library.errors import InputRejected
from library.ingest import alto_reading
from library.ingest.alto_reading import read_alto
from library.ingest.safe_xml import parse_xml_bytes

from tests.conftest import wait_until
from tests.library.test_mets_import import make_package

SYSTEM = Actor.system("tests")


# ------------------------------------------------------------------ the XML reader
DTDS = {
    "after a comment": b'<?xml version="1.0"?><!-- made by hand --><!DOCTYPE alto [<!ENTITY a "b">]><alto>&a;</alto>',
    "no entity, just a DTD": b'<!DOCTYPE alto SYSTEM "http://example.org/alto.dtd"><alto/>',
    "UTF-16": '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE alto [<!ENTITY a "b">]><alto>&a;</alto>'.encode("utf-16"),
    "UTF-8 with a byte order mark": b'\xef\xbb\xbf<!DOCTYPE alto [<!ENTITY x SYSTEM "file:///etc/passwd">]><alto>&x;</alto>',
}


@pytest.mark.parametrize("case", list(DTDS))
def test_a_document_type_declaration_is_refused_however_the_file_is_written(case):
    with pytest.raises(InputRejected) as caught:
        parse_xml_bytes(DTDS[case], label="alto/p1.xml")
    assert caught.value.source == "alto/p1.xml" and "DTD or entities" in caught.value.problem
    assert "root:" not in caught.value.problem  # nothing of /etc/passwd came through


def test_an_undeclared_entity_is_malformed_and_comments_are_dropped():
    with pytest.raises(InputRejected) as caught:
        parse_xml_bytes(b"<alto>&nbsp;</alto>", label="x.xml")
    assert "malformed XML" in caught.value.problem
    root = parse_xml_bytes(b"<alto><!-- note --><?pi x?><Layout/></alto>", label="x.xml")
    assert [child.tag for child in root] == ["Layout"]


# ------------------------------------------------------------------ ALTO words, quickly and carefully
@pytest.mark.parametrize("alto", ["ocr/bnl-mets-alto-1858", "ocr/ndnp-park-record-1935"])
def test_the_quick_reading_of_words_equals_the_careful_one_on_real_alto(shared_data, alto, monkeypatch):
    files = sorted(p for p in (shared_data / alto).rglob("*.xml") if b"<alto" in p.read_bytes()[:4000])
    assert files, f"no ALTO under {alto}"
    for path in files[:2]:
        quick = read_alto(path, label=path.name)
        monkeypatch.setattr(alto_reading, "_plain_word", lambda *a: None)  # every word read carefully
        careful = read_alto(path, label=path.name)
        monkeypatch.undo()
        assert len(quick.words) > 500
        assert quick.words == careful.words


def test_unusual_word_attributes_still_get_the_careful_answer(tmp_path):
    alto = tmp_path / "p.xml"
    words = ('<String CONTENT="một" HPOS="10" VPOS="10" WIDTH="30" HEIGHT="12" WC=""/>'  # empty WC: unknown
             '<String CONTENT="hai" HPOS=" 50 " VPOS="10" WIDTH="30" HEIGHT="12"/>'
             '<String CONTENT="ba" xmlns:a="urn:x" a:HPOS="90" VPOS="10" WIDTH="30" HEIGHT="12" WC="0.5"/>')
    alto.write_text(f'<alto><Layout><Page WIDTH="200" HEIGHT="100"><PrintSpace><TextBlock ID="B1">'
                    f'<TextLine>{words}</TextLine></TextBlock></PrintSpace></Page></Layout></alto>', encoding="utf-8")
    got = [(w.text, w.x, w.confidence) for w in read_alto(alto, label="p.xml").words]
    assert got == [("một", 10, -1.0), ("hai", 50, -1.0), ("ba", 90, 50.0)]
    alto.write_text(alto.read_text(encoding="utf-8").replace('HPOS="10"', 'HPOS="nan"'), encoding="utf-8")
    with pytest.raises(InputRejected) as caught:
        read_alto(alto, label="p.xml")
    assert "not a finite number" in caught.value.problem


# ------------------------------------------------------------------ search told in batches
def _pending(platform) -> tuple[int, int]:
    with platform.sessions() as s:
        return (s.scalar(select(func.count()).select_from(Page).where(Page.index_pending.is_(True))),
                s.scalar(select(func.count()).select_from(Item).where(Item.index_pending.is_(True))))


def test_inside_a_batch_search_waits_and_nothing_is_lost(settings, tmp_path):
    platform = build_platform(settings)
    try:
        packages = [make_package(tmp_path / "issue")]
        with platform.indexer.batched(every_s=3600):
            outcomes = platform.mets.import_batch(packages[:1], actor=SYSTEM)
            assert outcomes[0].status == "created"
            # committed and in the outbox, not yet in search
            assert _pending(platform) == (2, 1)
            assert platform.search.search("Quốc Tử Giám", actor=SYSTEM).total == 0
        # the block's end told search, once
        assert _pending(platform) == (0, 0)
        assert platform.search.search("Quốc Tử Giám", actor=SYSTEM).total == 1

        # a process that dies inside a batch leaves its changes in the outbox; the next flush sends them
        item_id = outcomes[0].item_id
        with platform.indexer.batched(every_s=3600):
            platform.items.edit(SYSTEM, item_id, {"type": "book"})
            assert _pending(platform) == (2, 1)  # the pages carry the item's record
            assert platform.search.search("Quốc Tử Giám", filters={"type": ["book"]}, actor=SYSTEM).total == 0
            other = build_platform(settings)  # another process: the sweeper, say
            try:
                report = other.indexer.flush()
            finally:
                other.close()
            assert (report.pages, report.items, report.held) == (2, 1, False)  # the item carried its two pages
            assert _pending(platform) == (0, 0)
        # this process's reader follows the other's commit within moments (tantivy reloads on commit)
        wait_until(lambda: platform.search.search("Quốc Tử Giám", filters={"type": ["book"]}, actor=SYSTEM).total == 1,
                   timeout_s=10, what="the other process's flush seen by search here")
    finally:
        platform.close()


def test_a_batch_flushes_when_its_time_comes(settings, tmp_path):
    platform = build_platform(settings)
    try:
        with platform.indexer.batched(every_s=0):  # every change's flush is due at once
            platform.mets.import_package(make_package(tmp_path / "issue"), actor=SYSTEM)
            assert _pending(platform) == (0, 0)
            assert platform.search.search("Văn Miếu", actor=SYSTEM).total >= 1
    finally:
        platform.close()


def test_an_item_sends_its_pages_once(settings, tmp_path):
    platform = build_platform(settings)
    sent: list[list] = []
    try:
        engine = platform.indexer.engine
        real_index = engine.index

        def counting(docs):  # the real engine indexes; this only counts what it was given
            sent.append([type(d).__name__ for d in docs])
            return real_index(docs)

        engine.index = counting
        platform.mets.import_package(make_package(tmp_path / "issue"), actor=SYSTEM)
        kinds = [k for call in sent for k in call]
        assert sorted(kinds) == ["ItemDoc", "PageDoc", "PageDoc"], sent
        assert _pending(platform) == (0, 0)
        assert platform.search.search("Quốc Tử Giám", actor=SYSTEM).hits[0].sequence == 2
    finally:
        platform.close()
        shutil.rmtree(Path(tmp_path / "issue"), ignore_errors=True)
