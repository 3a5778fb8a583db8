"""Correcting OCR text line by line: every version kept, boxes kept, search updated,
and a later machine reading never overwrites a correction without asking."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from library.access import Actor
from library.errors import Conflict, InputRejected, PermissionDenied
from library.ingest.service import Upload
from library.catalogue.models import Page, PageStatus
from library.catalogue.page_layout import stored
from tests.workers.test_ocr_workers import small_pages

SYSTEM = Actor.system("tests")  # corrections made by the fixtures: the system's, like the command line's

pytestmark = pytest.mark.slow


@pytest.fixture
def read_page_id(platform, tmp_path):
    img = tmp_path / "p.png"
    small_pages(1)[0].image.save(img, dpi=(300, 300))
    item_id = platform.ingest.ingest_item([Upload(img, "p.png")], {"title": "Sửa lỗi"}, actor=SYSTEM).items[0].item_id
    page_id = platform.catalogue.page_statuses(item_id)[0].page_id
    assert platform.reader.read(page_id).value == "done"
    platform.indexer.flush()
    return page_id


def words_of(platform, page_id):
    with platform.sessions() as s:
        return stored(s, page_id).words


def test_a_line_is_corrected_and_everything_follows(platform, read_page_id):
    c = platform.corrections
    revision, lines = c.lines(read_page_id)
    assert lines[0].text.startswith("Văn Miếu") and len(lines) == 2
    first_line_box = (lines[0].x, lines[0].y, lines[0].w, lines[0].h)
    version = c.correct(SYSTEM, read_page_id, {0: "Văn Miếu – Quốc Tử Giám được dựng năm 1070"},
                        revision=revision, note="thêm tên Quốc Tử Giám")
    page = platform.catalogue.page(read_page_id)
    assert page.text.splitlines()[0] == "Văn Miếu – Quốc Tử Giám được dựng năm 1070"
    assert page.text.splitlines()[1] == lines[1].text  # the other line is untouched
    assert page.corrected and version == 2
    words = words_of(platform, read_page_id)
    assert all(page.text[w.char_start:w.char_end] == w.text for w in words)
    giam = next(w for w in words if w.text == "Giám")
    x, y, w, h = first_line_box
    assert x <= giam.x and giam.x + giam.w <= x + w + 2 and giam.y == y  # inside the corrected line
    assert [v.source for v in c.history(read_page_id)] == ["ocr", "manual"]
    assert c.text_of(read_page_id, 1).startswith("Văn Miếu được xây dựng")

    # search follows the correction, with boxes: already sent by the correction's unit of work
    assert platform.indexer.flush().pages == 0
    hit = platform.search.search("Quoc Tu Giam", actor=Actor.system("tests")).hits[0]
    assert hit.page_id == read_page_id and all(sp.boxes for sp in hit.spans)

    with pytest.raises(Conflict, match="someone changed"):
        c.correct(SYSTEM, read_page_id, {0: "x"}, revision=revision)  # the old revision
    with pytest.raises(InputRejected, match="line 1.*line break"):
        c.correct(SYSTEM, read_page_id, {0: "a\nb"}, revision=page.revision)
    with pytest.raises(InputRejected, match="no line 9"):
        c.correct(SYSTEM, read_page_id, {8: "x"}, revision=page.revision)


def test_a_new_machine_reading_waits_for_staff(platform, read_page_id):
    c = platform.corrections
    revision, _ = c.lines(read_page_id)
    c.correct(SYSTEM, read_page_id, {1: "dưới triều vua Lý Thánh Tông (1054–1072)."}, revision=revision)
    with platform.sessions.begin() as s:  # a re-OCR is asked for
        s.execute(update(Page).where(Page.id == read_page_id).values(status=PageStatus.queued))
    assert platform.reader.read(read_page_id).value == "done"
    page = platform.catalogue.page(read_page_id)
    assert "(1054–1072)" in page.text  # the correction stands
    assert page.pending_ocr_version == 3 and "waiting" in page.status_reason
    assert [v.pending for v in c.history(read_page_id)] == [False, False, True]
    assert c.accept_machine_reading(SYSTEM, read_page_id) == 3
    page = platform.catalogue.page(read_page_id)
    assert "(1054–1072)" not in page.text and not page.corrected and page.pending_ocr_version is None
    assert all(page.text[w.char_start:w.char_end] == w.text for w in words_of(platform, read_page_id))
    with pytest.raises(Conflict):
        c.accept_machine_reading(SYSTEM, read_page_id)


def test_only_librarians_and_admins_correct(platform, read_page_id):
    archivist = platform.users.create(Actor.system("tests"), "luu.tru", "mat-khau-dai-lam", "archivist")
    revision, _ = platform.corrections.lines(read_page_id)
    with pytest.raises(PermissionDenied):
        platform.corrections.correct(Actor.for_user(archivist), read_page_id, {0: "x"}, revision=revision)
    assert platform.catalogue.page(read_page_id).corrected is False
