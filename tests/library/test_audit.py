"""The audit trail (issue #11): every staff action recorded once, in the transaction of the change,
with who, when, from where, what and on which record; none for reads; nothing for a change that was
refused; and a table that refuses UPDATE and DELETE (SQLite triggers, a PostgreSQL trigger)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DatabaseError

from library.access import Actor
from library.audit import Filters
from library.catalogue.models import AuditEvent
from library.errors import Conflict, InputRejected
from tests.library.test_item_edits import SYSTEM, _read_item


def _actions(platform) -> list[tuple[str, str | None, int | None, str]]:
    with platform.sessions() as s:
        return [(e.action, e.record_type, e.record_id, e.actor)
                for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def _count(platform) -> int:
    with platform.sessions() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent))


def test_each_staff_action_is_recorded_once_with_who_and_where_and_reads_are_not(platform, tmp_path):
    admin_user = platform.users.create(SYSTEM, "quan.tri", "mat-khau-quan-tri", "admin")
    lib_user = platform.users.create(SYSTEM, "thu.thu", "mat-khau-thu-thu", "librarian")
    librarian = Actor.for_user(lib_user, "10.0.0.7")
    admin = Actor.for_user(admin_user, "10.0.0.1")
    item_id = _read_item(platform, tmp_path, count=2)
    start = _count(platform)

    platform.items.edit(librarian, item_id, {"title": "Đông Dương tạp chí"})
    platform.access_admin.set_item_access(librarian, item_id, "reading-room")
    platform.access_admin.withdraw(librarian, item_id, "bản quyền chưa rõ")
    platform.access_admin.restore(librarian, item_id)
    coll = platform.collections.create(librarian, "Báo chí Hà Nội")
    platform.collections.rename(librarian, coll.id, "Báo chí Hà Nội xưa")
    platform.collections.move(librarian, [item_id], coll.id)
    page_id = platform.catalogue.page_statuses(item_id)[0].page_id
    revision, lines = platform.corrections.lines(page_id)
    platform.corrections.correct(librarian, page_id, {0: lines[0].text + " x"}, revision=revision)
    platform.pages.rotate(librarian, item_id, 2, 90)
    platform.users.set_role(admin, lib_user.id, "archivist")

    # reads leave nothing
    platform.catalogue.item(item_id)
    platform.search.search("Văn Miếu", actor=librarian)
    platform.items.history(item_id)
    platform.corrections.history(page_id)

    events = _actions(platform)[start:]
    assert [e[0] for e in events] == [
        "item_edit", "item_access", "withdraw", "restore", "collection_create", "collection_rename",
        "collection_move", "correction", "page_rotate", "user_role"]
    assert all(actor == "user:thu.thu" for *_, actor in events[:-1]) and events[-1][3] == "user:quan.tri"
    assert events[0][1:3] == ("item", item_id) and events[7][1:3] == ("page", page_id)
    trail = platform.audit.events(Filters(record_type="item", record_id=item_id))
    assert {e.action for e in trail} >= {"item_edit", "item_access", "withdraw", "restore", "page_rotate", "ingest"}
    edit = next(e for e in trail if e.action == "item_edit")
    assert edit.address == "10.0.0.7" and edit.role == "librarian"
    assert edit.detail["title"] == ["Hà Nội xưa", "Đông Dương tạp chí"]  # before → after
    access = next(e for e in trail if e.action == "item_access")
    assert access.detail == {"access_level": ["public", "reading-room"]}
    role = platform.audit.events(Filters.parse(action="user_role"))[0]
    assert role.detail["role"] == ["librarian", "archivist"] and role.record_id == lib_user.id
    # filters: one person, one period
    assert {e.action for e in platform.audit.events(Filters.parse(user="QUAN.TRI "))} == {"user_role"}
    today = date.today().isoformat()
    assert len(platform.audit.events(Filters.parse(since=today, until=today), limit=1000)) == len(events) + start
    assert platform.audit.events(Filters.parse(until="2000-01-01")) == []
    assert platform.audit.events(Filters.parse(user="nobody")) == []


def test_a_refused_change_leaves_no_event(platform, tmp_path):
    item_id = _read_item(platform, tmp_path)
    before = _count(platform)
    with pytest.raises(InputRejected):
        platform.items.edit(SYSTEM, item_id, {"date": "1858-02-30"})
    opened = platform.catalogue.item(item_id).metadata_revision
    platform.items.edit(SYSTEM, item_id, {"creator": "Phạm Quỳnh"}, expected_revision=opened)
    with pytest.raises(Conflict):  # rolled back after the event was added: the event goes with it
        platform.items.edit(SYSTEM, item_id, {"creator": "Nguyễn Văn Vĩnh"}, expected_revision=opened)
    with pytest.raises(Conflict):
        platform.access_admin.restore(SYSTEM, item_id)  # not withdrawn
    assert [a for a, *_ in _actions(platform)[before:]] == ["item_edit"]


def test_the_trail_refuses_updates_and_deletes(platform, tmp_path):
    _read_item(platform, tmp_path)
    assert _count(platform) >= 1
    for statement in (update(AuditEvent).values(actor="someone else"), delete(AuditEvent)):
        with pytest.raises(DatabaseError, match="append-only"):
            with platform.sessions.begin() as s:
                s.execute(statement)
    if platform.engine.dialect.name == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"):
            with platform.sessions.begin() as s:
                s.execute(text("TRUNCATE audit_events"))
    assert _count(platform) >= 1 and {a for _, _, _, a in _actions(platform)} == {"system:tests"}


def test_filters_refuse_what_they_cannot_mean():
    for kwargs, field in (({"action": "drop_table"}, "action"), ({"record": "tàu:1"}, "record"),
                          ({"record": "item:x"}, "record"), ({"since": "2026-13-01"}, "since"),
                          ({"until": "99999-01-01"}, "until")):
        with pytest.raises(InputRejected) as refused:
            Filters.parse(**kwargs)
        assert refused.value.source == field


def test_csv_export_streams_every_event_and_defuses_formulas(platform, tmp_path, monkeypatch):
    import library.audit as audit_module

    monkeypatch.setattr(audit_module, "PAGE_ROWS", 3)  # several pages of the export
    item_id = _read_item(platform, tmp_path)
    for n in range(4):
        platform.items.edit(SYSTEM, item_id, {"title": f"Số {n}"})
    lines = "".join(platform.audit.csv_lines()).splitlines()
    assert lines[0] == "id,at,actor,role,address,action,record_type,record_id,detail"
    assert len(lines) == 1 + _count(platform)
    edits = [line for line in lines if ",item_edit," in line]
    assert len(edits) == 4 and "Số 3" in edits[-1]
    assert audit_module._cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"  # a spreadsheet shows it, never runs it
    assert audit_module._cell("-1") == "'-1" and audit_module._cell("Số 3") == "Số 3"


def test_heritage_audit_lists_the_trail(platform, tmp_path, settings):
    from tests.library.test_cli import heritage

    item_id = _read_item(platform, tmp_path)
    platform.access_admin.withdraw(SYSTEM, item_id, "đang kiểm tra")
    out = heritage(settings, "audit", "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["action"] for r in rows[:2]] == ["withdraw", "ingest"]  # newest first
    assert rows[0]["record_id"] == item_id and rows[0]["detail"] == {"reason": "đang kiểm tra"}
    plain = heritage(settings, "audit", "--action", "withdraw", "--since", date.today().isoformat())
    assert plain.returncode == 0 and "\twithdraw\titem:" in plain.stdout and "ingest" not in plain.stdout
    bad = heritage(settings, "audit", "--since", "hôm qua")
    assert bad.returncode != 0 and "since" in bad.stderr + bad.stdout
