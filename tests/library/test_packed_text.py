"""A page's text stored once and compressed (migration 0016), on SQLite and PostgreSQL: the bytes in the
catalogue are packed, the version in use shares the page's text, a correction gives the old version its
own copy, every version still reads back exactly, and the migration goes down and up again unchanged."""
import bz2

import pytest
from sqlalchemy import text

from library.access import Actor
from library.catalogue import db
from library.catalogue.models import Item, ItemType, Page, PageStatus, StoredFile, Transcription
from library.catalogue.packed_text import pack, unpack
from library.catalogue.page_layout import encode
from library.catalogue.page_text import set_page_text
from tests.library.test_compact_layouts_migration import LAYOUT, TEXT, _downgrade

# a long page: the shared quốc ngữ text when it is there would tie the test to a file; this is written out
LONG = ("Văn Miếu được xây dựng năm 1070 dưới thời vua Lý Thánh Tông, thờ Khổng Tử và các bậc hiền triết. "
        "Năm 1076 Quốc Tử Giám được lập bên cạnh, là trường đại học đầu tiên của nước ta. ") * 30


def test_pack_keeps_every_text_exactly_and_compresses_long_ones():
    for value in ("", "a", "Văn Miếu", LONG, "𠀀 chữ Nôm", "line\r\nbreaks\x00kept"):
        assert unpack(pack(value)) == value
    assert pack("") == b"\x00" and pack("Huế") == b"\x00" + "Huế".encode()
    packed = pack(LONG)
    assert packed[0] == 0x01 and bz2.decompress(packed[1:]).decode() == LONG
    assert len(packed) < len(LONG.encode()) / 4  # a repetitive page; real pages keep about 35–46 %
    with pytest.raises(ValueError, match="unknown packed text format 0x07"):
        unpack(b"\x07abc")
    with pytest.raises(ValueError, match="never empty"):
        unpack(b"")


def _page_with_first_version(platform, page_text: str) -> int:
    with platform.sessions.begin() as s:
        s.merge(StoredFile(sha256="d" * 64, size_bytes=1, media_type="image/png", original_name="p.png"))
        item = Item(title="Bia tiến sĩ", languages="vie", item_type=ItemType.book)
        page = Page(sequence=1, source_sha256="d" * 64, source_name="p.png", status=PageStatus.done,
                    layout=encode(LAYOUT, page_text))
        item.pages.append(page)
        s.add(item)
        s.flush()
        first = Transcription(page_id=page.id, version=1, source="ocr", text=page_text)
        s.add(first)
        set_page_text(s, page, page_text, first)
        return page.id


def _raw(platform, page_id):
    with platform.engine.connect() as conn:
        page = conn.execute(text("SELECT text FROM pages WHERE id = :p"), {"p": page_id}).scalar_one()
        versions = conn.execute(text("SELECT version, text FROM transcriptions WHERE page_id = :p ORDER BY version"),
                                {"p": page_id}).all()
    return (bytes(page) if page is not None else None), [(v, bytes(t) if t is not None else None) for v, t in versions]


def test_the_version_in_use_shares_the_page_text_and_a_correction_gives_it_its_own_copy(platform):
    page_id = _page_with_first_version(platform, TEXT)
    page_raw, versions = _raw(platform, page_id)
    assert unpack(page_raw) == TEXT and versions == [(1, None)]  # stored once
    assert platform.corrections.text_of(page_id, 1) == TEXT

    revision = platform.catalogue.page(page_id).revision
    version = platform.corrections.correct(Actor.system("tests"), page_id, {1: "được dựng năm 1076"},
                                           revision=revision)
    corrected = "Văn Miếu Quốc Tử Giám\nđược dựng năm 1076"
    assert version == 2 and platform.catalogue.page(page_id).text == corrected
    page_raw, versions = _raw(platform, page_id)
    assert unpack(page_raw) == corrected
    assert [(v, unpack(t) if t is not None else None) for v, t in versions] == [(1, TEXT), (2, None)]
    assert [platform.corrections.text_of(page_id, n) for n in (1, 2)] == [TEXT, corrected]


def test_a_long_page_is_stored_compressed(platform):
    page_id = _page_with_first_version(platform, LONG)
    page_raw, versions = _raw(platform, page_id)
    assert page_raw[0] == 0x01 and len(page_raw) < len(LONG.encode()) / 4 and versions == [(1, None)]
    assert platform.catalogue.page(page_id).text == LONG


def test_migration_0016_goes_down_to_plain_text_and_up_to_packed_and_shared(platform):
    page_id = _page_with_first_version(platform, TEXT)
    platform.corrections.correct(Actor.system("tests"), page_id, {0: "Văn Miếu – Quốc Tử Giám"},
                                 revision=platform.catalogue.page(page_id).revision)
    corrected = "Văn Miếu – Quốc Tử Giám\nđược dựng năm 1070"

    _downgrade(platform, "0015")
    with platform.engine.connect() as conn:
        assert conn.execute(text("SELECT text FROM pages WHERE id = :p"), {"p": page_id}).scalar_one() == corrected
        assert conn.execute(text("SELECT version, text FROM transcriptions WHERE page_id = :p ORDER BY version"),
                            {"p": page_id}).all() == [(1, TEXT), (2, corrected)]

    db.upgrade(platform.engine)
    assert db.current_revision(platform.engine) == db.head_revision()
    page_raw, versions = _raw(platform, page_id)
    assert unpack(page_raw) == corrected
    assert [(v, unpack(t) if t is not None else None) for v, t in versions] == [(1, TEXT), (2, None)]
    assert [platform.corrections.text_of(page_id, n) for n in (1, 2)] == [TEXT, corrected]
