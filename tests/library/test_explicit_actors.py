"""Corrections, readers' feedback and accounts change nothing without an explicit actor (issue #10, point 4):
a call without one, or with ``None``, is a TypeError (``None`` no longer means "trusted"); a role without the
permission in ``library.access.PERMISSIONS`` is refused with PermissionDenied naming the user, and nothing
changes. On SQLite and PostgreSQL (the ``platform`` fixture)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from library.access import PERMISSIONS, Actor
from library.errors import PermissionDenied
from library.discovery.feedback import Submission
from library.catalogue.models import Feedback, Role, Transcription, User
from tests.library.test_feedback import read_item

SYSTEM = Actor.system("tests")
PASSWORD = "mat-khau-dai-lam"


def account(platform, name: str, role: str) -> Actor:
    return Actor.for_user(platform.users.create(SYSTEM, name, PASSWORD, role))


def versions(platform, page_id: int) -> int:
    with platform.sessions() as s:
        return s.scalar(select(func.count()).select_from(Transcription).where(Transcription.page_id == page_id))


def test_the_new_actions_keep_todays_roles():
    assert PERMISSIONS["correct_text"] == {"librarian", "admin"}
    assert PERMISSIONS["moderate_feedback_on_items"] == {"librarian", "admin"}
    assert PERMISSIONS["moderate_feedback_on_monuments"] == {"curator", "admin"}
    assert PERMISSIONS["manage_accounts"] == {"admin"}


def test_a_correction_needs_an_actor_who_may_correct(platform):
    _, page_id = read_item(platform)
    c = platform.corrections
    revision = c.lines(page_id)[0]
    with pytest.raises(TypeError):
        c.correct(page_id, {0: "x"}, revision=revision)  # the old call, without an actor
    with pytest.raises(TypeError):
        c.correct(None, page_id, {0: "x"}, revision=revision)
    for call in (c.accept_machine_reading, c.reject_machine_reading):
        with pytest.raises(TypeError):
            call(page_id)
        with pytest.raises(TypeError):
            call(None, page_id)
    archivist = account(platform, "luu.tru", "archivist")
    with pytest.raises(PermissionDenied, match=r"'luu\.tru' \(archivist\) may not correct text"):
        c.correct(archivist, page_id, {0: "x"}, revision=revision)
    with pytest.raises(PermissionDenied, match="luu.tru"):
        c.accept_machine_reading(archivist, page_id)
    with pytest.raises(PermissionDenied, match="an anonymous reader"):
        c.reject_machine_reading(Actor.anonymous("192.0.2.7"), page_id)
    assert versions(platform, page_id) == 1 and platform.catalogue.page(page_id).corrected is False

    librarian = account(platform, "thu.thu", "librarian")
    assert c.correct(librarian, page_id, {0: "Văn Miếu được xây dựng năm 1076"}, revision=revision) == 2
    assert [v.author for v in c.history(page_id)] == ["machine", "thu.thu"]  # the actor's account is recorded
    hits = platform.search.search("1076", actor=SYSTEM).hits  # through the unit of work: search follows at once
    assert [h.page_id for h in hits] == [page_id]


def test_feedback_is_sent_by_an_actor_and_moderated_only_with_the_permission(platform):
    item_id, _ = read_item(platform)
    fb = platform.feedback
    comment = Submission(kind="comment", item_id=item_id, body="Sách quý.")
    with pytest.raises(TypeError):
        fb.submit(comment)
    with pytest.raises(TypeError):
        fb.submit(None, comment)
    fid = fb.submit(Actor.anonymous("192.0.2.7"), comment)
    report = fb.submit(Actor.anonymous("192.0.2.7"), Submission(kind="text_error", item_id=item_id, page=1,
                                                                quoted="1070", suggestion="1076"))
    staff_calls = {
        "queue": lambda actor: fb.queue(actor),
        "get": lambda actor: fb.get(actor, fid),
        "answer": lambda actor: fb.answer(actor, fid, "Cảm ơn.", publish=True),
        "set_status": lambda actor: fb.set_status(actor, fid, "published"),
        "set_status_many": lambda actor: fb.set_status_many(actor, [fid], "published"),
        "correction_proposal": lambda actor: fb.correction_proposal(actor, report),
        "accept_correction": lambda actor: fb.accept_correction(actor, report, line_number=1, line_text="năm 1076",
                                                                revision=1),
    }
    curator, archivist = account(platform, "bao.tang", "curator"), account(platform, "luu.tru", "archivist")
    for name, call in staff_calls.items():
        with pytest.raises(TypeError):
            call(None)
        with pytest.raises(PermissionDenied, match="luu.tru"):
            call(archivist)
        if name != "queue":  # a curator sees the (empty) queue of monuments' feedback
            with pytest.raises(PermissionDenied, match=r"'bao\.tang' \(curator\) may not"):
                call(curator)
    with pytest.raises(TypeError):
        fb.answer(fid, "Cảm ơn.")  # the old call, without an actor
    with platform.sessions() as s:
        assert s.get(Feedback, fid).status.value == "pending" and s.get(Feedback, fid).answer is None

    fb.answer(SYSTEM, fid, "Cảm ơn.", publish=True)  # the system (the command line) may; no account recorded
    entry = fb.get(account(platform, "thu.thu", "librarian"), fid)
    assert (entry.status, entry.answer, entry.answered_by, entry.moderated_by) == ("published", "Cảm ơn.", None, None)


def test_accounts_are_managed_only_by_an_admin_or_the_system(platform):
    users = platform.users
    with pytest.raises(TypeError):
        users.create("thu.thu", PASSWORD, "librarian")  # the old call, without an actor
    with pytest.raises(TypeError):
        users.create(None, "thu.thu", PASSWORD, "librarian")
    admin = account(platform, "quan.tri", "admin")  # the first admin, made by the system (as the CLI does)
    librarian = account(platform, "thu.thu", "librarian")
    target = librarian.user.id
    calls = {
        "create": lambda actor: users.create(actor, "khach", PASSWORD, "admin"),
        "set_role": lambda actor: users.set_role(actor, target, "admin"),
        "set_active": lambda actor: users.set_active(actor, target, False),
        "reset_password": lambda actor: users.reset_password(actor, target, "mot-cau-rat-dai-khac-han"),
    }
    for call in calls.values():
        with pytest.raises(TypeError):
            call(None)
        with pytest.raises(PermissionDenied, match=r"'thu\.thu' \(librarian\) may not manage accounts"):
            call(librarian)
    with pytest.raises(TypeError):
        users.set_role(target, "admin")
    with platform.sessions() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 2
        assert s.get(User, target).role == Role.librarian and s.get(User, target).active
    assert users.authenticate("thu.thu", PASSWORD) is not None

    assert users.set_role(admin, target, "curator").role == Role.curator
    users.set_active(admin, target, False)
    with pytest.raises(PermissionDenied, match="anonymous"):  # a deactivated account acts as nobody
        users.set_active(Actor.for_user(users.get("thu.thu")), admin.user.id, False)
    assert users.create(admin, "khach", PASSWORD, "archivist").role == Role.archivist
