"""Readers' feedback in the system of record: stored exactly as sent (NFC) or refused
with a reason, held for moderation, moderated by the right role, answered and
published; ratings summed up; a suggested correction made a new transcription
version that search follows. On SQLite and PostgreSQL (the ``platform`` fixture)."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import inspect, select

from library.access import Actor
from library.errors import Conflict, NotFound, PermissionDenied
from library.discovery.feedback import FeedbackRejected, Submission
from library.catalogue.models import Feedback, Item, ItemType, Page, PageStatus, StoredFile, Transcription
from library.reading.ocr_jobs import replace_layout

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

LINES = ["Văn Miếu được xây dựng năm 1070", "dưới triều vua Lý Thánh Tông."]
READER = Actor.anonymous("192.0.2.7")  # readers send feedback without an account


def read_item(platform, title="Đại Việt sử ký", lines=LINES) -> tuple[int, int]:
    """An item with one page read as the OCR would leave it (text, lines, words, version 1): (item id, page id)."""
    text = "\n".join(lines)
    with platform.sessions.begin() as s:
        s.merge(StoredFile(sha256="f" * 64, size_bytes=1, media_type="image/png", original_name="p.png"))
        item = Item(title=title, languages="vie", item_type=ItemType.book)
        page = Page(sequence=1, source_sha256="f" * 64, source_name="p.png", status=PageStatus.done, text=text,
                    width=1500, height=480)
        item.pages.append(page)
        s.add(item)
        s.flush()
        pos, layout = 0, {"words": [], "lines": [], "blocks": []}
        for n, line in enumerate(lines):
            layout["lines"].append([0, 0, n, 90, 90 + 60 * n, 1300, 50, pos, pos + len(line)])
            x, start = 90, pos
            for token in line.split(" "):
                layout["words"].append([token, start, start + len(token), x, 90 + 60 * n, 30 * len(token), 50, 90.0,
                                        0, 0, n])
                x += 30 * len(token) + 20
                start += len(token) + 1
            pos += len(line) + 1
        replace_layout(s, page.id, layout, text)
        s.add(Transcription(page_id=page.id, version=1, source="ocr", text=text))
        return item.id, page.id


@pytest.fixture
def staff(platform):
    """Each role's actor (the accounts made by the fixtures, acting as the system)."""
    u, system = platform.users, Actor.system("tests")
    return {role: Actor.for_user(u.create(system, name, "mat-khau-dai-lam", role))
            for role, name in (("librarian", "thu.thu"), ("curator", "bao.tang"), ("admin", "quan.tri"),
                               ("archivist", "luu.tru"))}


@pytest.fixture
def monument_id(platform):
    return platform.monuments.create_monument(name_vi="Chùa Một Cột", name_en="One Pillar Pagoda", actor=SYSTEM).id


def count_feedback(platform) -> int:
    with platform.sessions() as s:
        return len(s.scalars(select(Feedback.id)).all())


def test_a_report_is_held_until_staff_answer_and_publish_it(platform, staff):
    item_id, page_id = read_item(platform)
    fb = platform.feedback
    fid = fb.submit(READER, Submission(kind="text_error", item_id=item_id, page="1", line="1", quoted="xây dựng",
                               suggestion="dựng", body="Sách gốc in là “dựng”.", name="Nguyễn Văn An",
                               email="an@example.vn"))
    assert fb.board(item_id=item_id).entries == []  # held for moderation
    queued = fb.queue(staff["librarian"], status="pending")
    assert [e.id for e in queued.entries] == [fid] and queued.pending == {"item": 1}
    e = queued.entries[0]
    assert (e.kind, e.page, e.line, e.quoted, e.suggestion, e.email, e.item_title, e.page_id) == (
        "text_error", 1, 1, "xây dựng", "dựng", "an@example.vn", "Đại Việt sử ký", page_id)

    fb.answer(staff["librarian"], fid, "Cảm ơn bạn, thư viện đã sửa.")
    assert fb.board(item_id=item_id).entries == []  # answered but not yet published
    fb.answer(staff["librarian"], fid, "Cảm ơn bạn, thư viện đã sửa.", publish=True)
    board = fb.board(item_id=item_id)
    assert board.total == 1
    public = board.entries[0]
    assert (public.author, public.answer, public.page, public.quoted) == (
        "Nguyễn Văn An", "Cảm ơn bạn, thư viện đã sửa.", 1, "xây dựng")
    assert "an@example.vn" not in repr(public.as_dict())  # never public
    staff_view = fb.get(staff["admin"], fid)
    assert staff_view.answered_by == "thu.thu" and staff_view.moderated_by == "thu.thu"
    assert staff_view.status == "published" and staff_view.answered_at is not None

    fb.set_status(staff["admin"], fid, "hidden")
    assert fb.board(item_id=item_id).entries == []
    assert fb.queue(staff["librarian"], status="hidden").total == 1


def test_what_is_sent_is_kept_as_sent_in_nfc_or_refused_with_a_reason(platform, monument_id):
    item_id, _ = read_item(platform)
    fb = platform.feedback
    nfd = unicodedata.normalize("NFD", "Chùa  Một Cột\r\nđẹp lắm!  ")
    fid = fb.submit(READER, Submission(kind="comment", monument_id=monument_id, body=nfd, name=" Lê Thị Bình "))
    with platform.sessions() as s:
        row = s.get(Feedback, fid)
        assert row.body == "Chùa  Một Cột\r\nđẹp lắm!  " and unicodedata.is_normalized("NFC", row.body)
        assert row.author_name == " Lê Thị Bình " and row.author_email is None and row.language == "vi"

    def refused(reason, field, **values):
        before = count_feedback(platform)
        values.setdefault("kind", "comment")
        if "monument_id" not in values:
            values.setdefault("item_id", item_id)
        with pytest.raises(FeedbackRejected) as caught:
            fb.submit(READER, Submission(**values))
        assert (caught.value.reason, caught.value.field) == (reason, field), caught.value
        assert count_feedback(platform) == before  # nothing stored
        return caught.value

    exc = refused("too_long", "body", body="ơ" * 4001)
    assert exc.params == {"max": 4000, "length": 4001} and "at most 4000" in str(exc)
    refused("required", "body", body="   \n ")
    refused("control_char", "body", body="chữ\x00ẩn")
    assert "RIGHT-TO-LEFT OVERRIDE" in str(refused("control_char", "name", body="x", name="abc\u202egpj"))
    refused("control_char", "quoted", kind="text_error", page=1, quoted="xây\ndựng", suggestion="dựng")
    refused("bad_email", "email", body="x", email="không phải thư")
    refused("too_long", "name", body="x", name="A" * 101)
    refused("bad_kind", "kind", kind="spam")
    refused("one_target", "target", body="x", item_id=item_id, monument_id=monument_id)
    refused("text_error_on_item", "kind", kind="text_error", item_id=None, monument_id=monument_id, body="x")
    refused("unexpected", "rating", body="x", rating=5)
    refused("required", "rating", kind="rating", rating="")
    refused("out_of_range", "rating", kind="rating", rating="6")
    refused("out_of_range", "rating", kind="rating", rating=0)
    refused("not_number", "rating", kind="rating", rating="bốn")
    refused("not_number", "rating", kind="rating", rating=True)
    refused("not_text", "body", body=["x"])
    refused("required", "page", kind="text_error", suggestion="x")
    refused("no_page", "page", kind="text_error", page=9, suggestion="x")
    assert refused("no_line", "line", kind="text_error", page=1, line=3, suggestion="x").params == {"line": 3, "count": 2}
    refused("quoted_not_found", "quoted", kind="text_error", page=1, line=2, quoted="Văn Miếu", suggestion="x")
    refused("nothing_to_report", "suggestion", kind="text_error", page=1, quoted="Văn Miếu")
    refused("bad_language", "language", body="x", language="fr")
    with pytest.raises(NotFound):
        fb.submit(READER, Submission(kind="comment", item_id=99_999, body="x"))
    # the quoted words are found whatever their case; NFD input matches the NFC page
    fb.submit(READER, Submission(kind="text_error", item_id=item_id, page=1,
                                 quoted=unicodedata.normalize("NFD", "VĂN MIẾU"), suggestion="Văn Miếu", language="en"))


def test_ratings_are_summed_up_once_published(platform, staff, monument_id):
    fb = platform.feedback
    ids = [fb.submit(READER, Submission(kind="rating", monument_id=monument_id, rating=stars))
           for stars in (5, 5, 4, 2, "5")]
    with_comment = fb.submit(READER, Submission(kind="rating", monument_id=monument_id, rating=1,
                                                body="Quá đông người."))
    empty = fb.rating_summary(monument_id=monument_id)
    assert (empty.count, empty.mean) == (0, None)
    assert fb.set_status_many(staff["curator"], ids + [with_comment], "published") == 6
    summary = fb.rating_summary(monument_id=monument_id)
    assert summary.count == 6 and summary.mean == pytest.approx(22 / 6, abs=0.01)
    assert summary.distribution == {1: 1, 2: 1, 3: 0, 4: 1, 5: 3}
    board = fb.board(monument_id=monument_id)
    assert [e.body for e in board.entries] == ["Quá đông người."]  # ratings without words only count
    fb.set_status(staff["admin"], ids[0], "hidden")
    assert fb.rating_summary(monument_id=monument_id).count == 5


def test_each_role_moderates_only_its_own_feedback(platform, staff, monument_id):
    item_id, _ = read_item(platform)
    fb = platform.feedback
    on_item = fb.submit(READER, Submission(kind="comment", item_id=item_id, body="Sách quý."))
    on_monument = fb.submit(READER, Submission(kind="comment", monument_id=monument_id, body="Đẹp."))
    assert [e.id for e in fb.queue(staff["librarian"]).entries] == [on_item]
    assert [e.id for e in fb.queue(staff["curator"]).entries] == [on_monument]
    assert {e.id for e in fb.queue(staff["admin"]).entries} == {on_item, on_monument}
    assert fb.queue(staff["admin"]).pending == {"item": 1, "monument": 1}
    with pytest.raises(PermissionDenied):
        fb.queue(staff["archivist"])
    with pytest.raises(PermissionDenied):
        fb.queue(staff["librarian"], target="monument")
    for actor, fid in (("librarian", on_monument), ("curator", on_item), ("archivist", on_item)):
        with pytest.raises(PermissionDenied):
            fb.answer(staff[actor], fid, "x", publish=True)
        with pytest.raises(PermissionDenied):
            fb.set_status(staff[actor], fid, "published")
        with pytest.raises(PermissionDenied):
            fb.get(staff[actor], fid)
    with pytest.raises(PermissionDenied):  # all or none
        fb.set_status_many(staff["librarian"], [on_item, on_monument], "published")
    assert fb.queue(staff["admin"], status="published").total == 0
    with pytest.raises(NotFound):
        fb.set_status_many(staff["admin"], [on_item, 12345], "published")
    with pytest.raises(FeedbackRejected):
        fb.set_status(staff["admin"], on_item, "deleted")
    with pytest.raises(FeedbackRejected, match="at most 4000"):
        fb.answer(staff["admin"], on_item, "x" * 4001)


def test_the_queue_filters_by_kind_status_and_target(platform, staff, monument_id):
    item_id, _ = read_item(platform)
    other_id, _ = read_item(platform, title="Sách khác")
    fb = platform.feedback
    a = fb.submit(READER, Submission(kind="comment", item_id=item_id, body="một"))
    b = fb.submit(READER, Submission(kind="rating", item_id=item_id, rating=4))
    c = fb.submit(READER, Submission(kind="text_error", item_id=other_id, page=1, suggestion="x"))
    d = fb.submit(READER, Submission(kind="rating", monument_id=monument_id, rating=3))
    fb.set_status(staff["admin"], b, "published")
    admin = staff["admin"]

    def ids(**filters):
        return sorted(e.id for e in fb.queue(admin, **filters).entries)

    assert ids() == [a, b, c, d]
    assert ids(kind="rating") == [b, d]
    assert ids(status="pending") == [a, c, d]
    assert ids(target="monument") == [d]
    assert ids(target="item", kind="rating") == [b]
    assert ids(item_id=other_id) == [c]
    assert ids(monument_id=monument_id, status="published") == []
    page = fb.queue(admin, limit=2)
    assert page.total == 4 and len(page.entries) == 2
    assert [e.id for e in fb.queue(admin, limit=2, offset=2).entries] == [b, a]  # newest first
    with pytest.raises(FeedbackRejected):
        fb.queue(admin, kind="spam")
    with pytest.raises(FeedbackRejected):
        fb.queue(admin, target="collection")


def test_a_suggested_correction_becomes_a_version_of_the_page(platform, staff):
    item_id, page_id = read_item(platform)
    fb = platform.feedback
    fid = fb.submit(READER, Submission(kind="text_error", item_id=item_id, page=1, quoted="1070", suggestion="1076",
                               name="Trần Hùng"))
    proposal = fb.correction_proposal(staff["librarian"], fid)
    assert proposal.line_number == 1  # found by the quoted words
    assert proposal.proposed == "Văn Miếu được xây dựng năm 1076"
    assert [ln.text for ln in proposal.lines] == LINES
    for who in ("curator", "archivist"):
        with pytest.raises(PermissionDenied):
            fb.accept_correction(staff[who], fid, line_number=1, line_text=proposal.proposed,
                                 revision=proposal.revision)
    with pytest.raises(FeedbackRejected) as unchanged:
        fb.accept_correction(staff["librarian"], fid, line_number=1, line_text=LINES[0], revision=proposal.revision)
    assert unchanged.value.reason == "unchanged"
    with pytest.raises(FeedbackRejected):
        fb.accept_correction(staff["librarian"], fid, line_number=7, line_text="x", revision=proposal.revision)

    version = fb.accept_correction(staff["librarian"], fid, line_number=1,
                                   line_text="Văn Miếu được xây dựng năm 1070 (1076?)", revision=proposal.revision,
                                   note="góp ý số 1")
    assert version == 2
    page = platform.catalogue.page(page_id)
    assert page.text.splitlines() == ["Văn Miếu được xây dựng năm 1070 (1076?)", LINES[1]] and page.corrected
    history = platform.corrections.history(page_id)
    assert [(v.version, v.source, v.note) for v in history] == [(1, "ocr", None), (2, "manual", "góp ý số 1")]
    assert fb.get(staff["admin"], fid).applied_version == 2
    with pytest.raises(Conflict, match="already in version 2"):
        fb.accept_correction(staff["admin"], fid, line_number=1, line_text="y", revision=page.revision)

    other = fb.submit(READER, Submission(kind="text_error", item_id=item_id, page=1, line=2, suggestion="Lý Thái Tông"))
    with pytest.raises(Conflict, match="someone changed"):  # the page changed since this revision
        fb.accept_correction(staff["admin"], other, line_number=2, line_text="dưới triều Lý Thái Tông.",
                             revision=proposal.revision)
    fresh = fb.correction_proposal(staff["admin"], other)
    assert fresh.line_number == 2 and fresh.proposed == LINES[1]  # no quoted words: the line as it reads
    comment = fb.submit(READER, Submission(kind="comment", item_id=item_id, body="x"))
    with pytest.raises(Conflict):
        fb.correction_proposal(staff["admin"], comment)

    # search follows the correction at once (the correction's unit of work sent it after its commit)
    assert platform.indexer.flush().pages == 0
    hit = platform.search.search("1076", actor=Actor.system("tests")).hits
    assert [h.page_id for h in hit] == [page_id]


def test_the_migration_goes_down_and_up(platform):
    from alembic import command

    from library.catalogue import db

    cfg = db.alembic_config(platform.engine.url.render_as_string(hide_password=False))
    with platform.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    assert "feedback" not in inspect(platform.engine).get_table_names()
    db.upgrade(platform.engine)
    assert "feedback" in inspect(platform.engine).get_table_names()
    assert db.current_revision(platform.engine) == db.head_revision()
