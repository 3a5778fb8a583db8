"""Word confidence people can use, in the system of record: doubtful words (below
HERITAGE_LOW_CONFIDENCE) counted per page, the correction queue ordered by that count
through an index (paged, never reading every page), the count following corrections,
confirmations and accepted machine readings, recounts for a new threshold, and the
migration that fills the count for pages read before it. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from library.catalogue import db
from library.access import Actor
from library.reading.confidence import recount_doubtful_words
from library.reading.corrections import CorrectionService, queue_select
from library.errors import NotFound
from library.discovery.feedback import Submission
from library.catalogue.models import Item, ItemType, Page, PageStatus, StoredFile, Transcription
from library.catalogue.page_layout import encode
from library.reading.ocr_jobs import replace_layout

SYSTEM = Actor.system("tests")  # corrections made by the fixtures: the system's, like the command line's
READER = Actor.anonymous("192.0.2.7")  # readers send feedback without an account

# a page of two lines; each word with the confidence tesseract gave it
TWO_LINES = [[("Văn", 95.0), ("Miếu", 41.0), ("được", 88.0), ("xây", 97.0), ("dựng", 30.0), ("năm", 90.0),
              ("1070", 55.0)],
             [("dưới", 93.0), ("triều", 92.0), ("vua", 59.9), ("Lý", 60.0), ("Thánh", 91.0), ("Tông.", 96.0)]]


def read_page(platform, lines=TWO_LINES, *, item_id: int | None = None, title="Đại Việt sử ký", sequence=1,
              status=PageStatus.done, threshold: float | None = None) -> tuple[int, int]:
    """An item's page read as the OCR leaves it: text, line regions, words with these confidences,
    version 1, and its count of doubtful words (recounted by the service). Returns (item id, page id)."""
    texts = [" ".join(w for w, _ in line) for line in lines]
    text = "\n".join(texts)
    with platform.sessions.begin() as s:
        s.merge(StoredFile(sha256="e" * 64, size_bytes=1, media_type="image/png", original_name="p.png"))
        if item_id is None:
            item = Item(title=title, languages="vie", item_type=ItemType.book)
            s.add(item)
            s.flush()
            item_id = item.id
        page = Page(item_id=item_id, sequence=sequence, source_sha256="e" * 64, source_name=f"p{sequence}.png",
                    status=status, text=text, width=1500, height=90 + 60 * len(lines), mean_confidence=77.0)
        s.add(page)
        s.flush()
        pos, layout = 0, {"words": [], "lines": [], "blocks": []}
        for n, line in enumerate(lines):
            layout["lines"].append([0, 0, n, 90, 90 + 60 * n, 1300, 50, pos, pos + len(texts[n])])
            x, start = 90, pos
            for token, confidence in line:
                layout["words"].append([token, start, start + len(token), x, 90 + 60 * n, 30 * len(token), 50,
                                        confidence, 0, 0, n])
                x += 30 * len(token) + 20
                start += len(token) + 1
            pos += len(texts[n]) + 1
        replace_layout(s, page.id, layout, text)
        s.add(Transcription(page_id=page.id, version=1, source="ocr", text=text))
        page_id = page.id
    recount_doubtful_words(platform.sessions, threshold or platform.settings.low_confidence, page_ids=[page_id])
    return item_id, page_id


def doubtful_count(platform, page_id) -> int:
    with platform.sessions() as s:
        return s.get(Page, page_id).low_confidence_words


def line_of(n_doubtful: int, start: int = 0) -> list[tuple[str, float]]:
    return [(f"chữ{start + k}", 20.0 if k < n_doubtful else 95.0) for k in range(max(n_doubtful, 1) + 1)]


def test_the_threshold_is_one_setting_read_from_the_environment():
    from library.settings import Settings

    assert Settings.from_env({}, data_dir="/tmp/x").low_confidence == 60.0
    assert Settings.from_env({"HERITAGE_LOW_CONFIDENCE": "72.5"}, data_dir="/tmp/x").low_confidence == 72.5


def test_doubtful_words_are_counted_and_flagged_below_the_threshold(platform):
    _, page_id = read_page(platform)
    # 41, 30, 55 and 59.9 are below 60; 60.0 itself is not
    assert doubtful_count(platform, page_id) == 4
    review = platform.corrections.review(page_id)
    assert review.threshold == 60.0 and review.doubtful == 4 and review.words == 13
    assert [ln.doubtful for ln in review.lines] == [3, 1]
    first = review.lines[0]
    assert [(w.text, w.doubtful) for w in first.words if w.doubtful] == [("Miếu", True), ("dựng", True),
                                                                         ("1070", True)]
    assert [w.text for w in review.lines[1].words if w.doubtful] == ["vua"]
    # the line cut at its words, offsets within the line
    assert "".join(text for text, _ in first.pieces()) == first.text
    miếu = next(w for w in first.words if w.text == "Miếu")
    assert first.text[miếu.start:miếu.end] == "Miếu" and (miếu.x, miếu.y) == (90 + 30 * 3 + 20, 90)

    strict = CorrectionService(platform.sessions, low_confidence=92.0)
    assert strict.review(page_id).doubtful == 8  # the same words, another threshold
    assert recount_doubtful_words(platform.sessions, 92.0) == 1 and doubtful_count(platform, page_id) == 8
    assert recount_doubtful_words(platform.sessions, 92.0) == 0  # nothing changes twice


def test_the_queue_lists_read_pages_most_doubtful_first_a_page_at_a_time(platform):
    a, a1 = read_page(platform, [line_of(3)], title="Báo Trung Bắc")
    _, a2 = read_page(platform, [line_of(7)], item_id=a, sequence=2)
    _, a3 = read_page(platform, [line_of(0)], item_id=a, sequence=3)  # nothing doubtful: not listed
    b, b1 = read_page(platform, [line_of(5)], title="Nam Phong")
    _, b2 = read_page(platform, [line_of(3)], item_id=b, sequence=2)
    _, queued = read_page(platform, [line_of(9)], item_id=b, sequence=3, status=PageStatus.queued)
    platform.feedback.submit(READER, Submission(kind="text_error", item_id=a, page=1, quoted="chữ0", suggestion="chữ"))

    q = platform.corrections.queue(limit=10)
    assert q.total == 4 and q.threshold == 60.0
    assert [e.page_id for e in q.entries] == [a2, b1, b2, a1]  # ties: the newest page first
    first = q.entries[0]
    assert (first.item_title, first.sequence, first.doubtful, first.words) == ("Báo Trung Bắc", 2, 7, 8)
    assert first.share == pytest.approx(7 / 8)
    assert {e.page_id: e.reports for e in q.entries}[a1] == 1 and first.reports == 0

    pages = [platform.corrections.queue(limit=3, offset=o) for o in (0, 3)]
    assert [[e.page_id for e in p.entries] for p in pages] == [[a2, b1, b2], [a1]]
    assert all(p.total == 4 for p in pages)
    only_b = platform.corrections.queue(item_id=b)
    assert [e.page_id for e in only_b.entries] == [b1, b2] and only_b.total == 2
    assert queued not in [e.page_id for e in q.entries] and a3 not in [e.page_id for e in q.entries]
    with pytest.raises(NotFound):
        platform.corrections.queue(item_id=999_999)


def test_the_queue_is_read_through_its_index_without_sorting_every_page(platform):
    read_page(platform, [line_of(2)])
    stmt = queue_select().limit(30).offset(0)
    sql = str(stmt.compile(dialect=platform.engine.dialect, compile_kwargs={"literal_binds": True}))
    with platform.engine.connect() as conn:
        if platform.engine.dialect.name == "sqlite":
            plan = " | ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "ix_pages_review_queue" in plan, plan
            assert "TEMP B-TREE" not in plan, plan  # the index gives the order
        else:
            # a tiny table is cheaper to read whole; forbid that to see what the index can do
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_sort = off")
            plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {sql}"))
            assert "ix_pages_review_queue" in plan and "Backward" in plan, plan
            assert "Sort" not in plan, plan


def test_corrections_and_confirmations_take_words_out_of_the_count(platform):
    _, page_id = read_page(platform)
    c = platform.corrections
    revision = c.review(page_id).revision
    version = c.correct(SYSTEM, page_id, {0: "Văn Miếu được xây dựng năm 1070"}, revision=revision)
    assert version == 1  # the same text: no new version, the words stay doubtful
    assert doubtful_count(platform, page_id) == 4
    version = c.correct(SYSTEM, page_id, {0: "Văn Miếu được xây dựng năm 1076"}, revision=revision)
    assert version == 2 and doubtful_count(platform, page_id) == 1  # the corrected line's words are sure now
    review = c.review(page_id)
    assert review.lines[0].doubtful == 0 and [w.text for w in review.lines[1].words if w.doubtful] == ["vua"]

    # a line read right is confirmed: its words are sure, the text and its versions stay as they are
    version = c.correct(SYSTEM, page_id, {}, revision=review.revision, confirmed=[1])
    page = platform.catalogue.page(page_id)
    assert version == 2 and doubtful_count(platform, page_id) == 0 and page.revision == review.revision + 1
    assert page.text.splitlines()[1] == "dưới triều vua Lý Thánh Tông."
    assert [v.version for v in c.history(page_id)] == [1, 2]
    words = platform.catalogue.words(page_id)
    assert all(page.text[w.char_start:w.char_end] == w.text for w in words)
    assert [(w.x, w.w) for w in words[7:]] == [(90, 120), (230, 150), (400, 90), (510, 60), (590, 150),
                                               (760, 150)]  # boxes kept
    assert platform.corrections.queue().total == 0


def test_accepting_a_waiting_machine_reading_recounts_from_its_words(platform):
    _, page_id = read_page(platform)
    c = platform.corrections
    c.correct(SYSTEM, page_id, {0: "Văn Miếu được xây dựng năm 1076"}, revision=c.review(page_id).revision)
    assert doubtful_count(platform, page_id) == 1
    layout = {"words": [["Văn", 0, 3, 90, 90, 90, 50, 12.0, 0, 0, 0], ["Miếu", 4, 8, 200, 90, 120, 50, 35.0, 0, 0, 0]],
              "lines": [[0, 0, 0, 90, 90, 400, 50, 0, 8]], "blocks": [[0, 90, 90, 400, 50, 0, 8]]}
    with platform.sessions.begin() as s:
        s.add(Transcription(page_id=page_id, version=3, source="ocr", text="Văn Miếu",
                            layout_blob=encode(layout, "Văn Miếu")))
        s.get(Page, page_id).pending_ocr_version = 3
    assert c.accept_machine_reading(SYSTEM, page_id) == 3
    assert doubtful_count(platform, page_id) == 2
    assert [w.confidence for w in platform.catalogue.words(page_id)] == [12.0, 35.0]  # as read


def _fill(table: sa.Table, **values) -> dict:
    """A row for ``table`` with a plain value in every required column, then ``values``."""
    row = {}
    for col in table.columns:
        if col.primary_key or col.nullable or col.server_default is not None:
            continue
        kind = col.type.python_type
        row[col.name] = {int: 0, float: 0.0, bool: False, str: "x", datetime: datetime.now(timezone.utc)}.get(kind)
    row.update(values)
    return row


def test_the_migration_counts_the_doubtful_words_of_pages_read_before_it(settings):
    engine = db.make_engine(settings.catalogue_url)
    try:
        db.upgrade(engine, "0006")
        with engine.begin() as conn:
            meta = sa.MetaData()
            t = {n: sa.Table(n, meta, autoload_with=conn) for n in ("stored_files", "items", "pages", "words")}
            conn.execute(t["stored_files"].insert().values(_fill(t["stored_files"], sha256="a" * 64)))
            item_id = conn.execute(t["items"].insert().values(_fill(t["items"], title="Cũ", status="done"))
                                   ).inserted_primary_key[0]
            pages = [conn.execute(t["pages"].insert().values(_fill(
                t["pages"], item_id=item_id, sequence=n, source_sha256="a" * 64, status="done"))
            ).inserted_primary_key[0] for n in (1, 2)]
            for seq, confidence in enumerate([10.0, 59.0, 60.0, 99.0]):
                conn.execute(t["words"].insert().values(_fill(t["words"], page_id=pages[0], sequence=seq,
                                                              confidence=confidence)))
        db.upgrade(engine)
        with engine.connect() as conn:
            counts = dict(conn.execute(sa.text("SELECT id, low_confidence_words FROM pages")).all())
        assert counts == {pages[0]: 2, pages[1]: 0}
    finally:
        engine.dispose()
