"""library.access (who may see what) alone, its SQL condition against decide() on real rows, and the
AccessAdmin service: who may change access, what input it refuses (nothing changed), what a change
does to the rows and to the search index outbox, and the sweeper lifting embargoes."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from library.access import (Access, Actor, ReadingRoom, decide, effective_level, levels_seen_by, parse_level,
                            visible_condition)
from library.errors import Conflict, InputRejected, NotFound, PermissionDenied
from library.catalogue.models import AccessLevel, Collection, Item, ItemType, Page, PageStatus, Role, StoredFile, User

TODAY = dt.date(2030, 6, 15)
L = AccessLevel


def user(role="librarian", active=True):
    return User(username=f"u-{role}", password_hash="x", role=Role(role), active=active)


ROOM = ReadingRoom("10.0.0.0/8, 2001:db8::/32")
ANON = Actor.anonymous("203.0.113.5", reading_room=ROOM)
IN_ROOM = Actor.anonymous("10.1.2.3", reading_room=ROOM)
STAFF = Actor.for_user(user("archivist"), "203.0.113.5", reading_room=ROOM)


def test_actors_are_explicit_and_the_reading_room_is_decided_by_address():
    assert ROOM.contains("10.200.0.1") and ROOM.contains("2001:db8::1")
    assert not ROOM.contains("11.0.0.1") and not ROOM.contains(None) and not ROOM.contains("not-an-ip")
    assert not ReadingRoom("").contains("10.0.0.1")
    with pytest.raises(InputRejected) as e:
        ReadingRoom("10.0.0.0/8, thư viện")
    assert e.value.source == "reading_room"
    assert IN_ROOM.in_reading_room and not ANON.in_reading_room
    assert Actor.for_user(user(active=False), "10.1.2.3", reading_room=ROOM).is_staff is False
    assert Actor.system("sweeper").is_staff and Actor.system("sweeper").label == "system:sweeper"
    with pytest.raises(ValueError):
        Actor.system("")
    assert levels_seen_by(ANON) == {L.public}
    assert levels_seen_by(IN_ROOM) == {L.public, L.reading_room}
    assert levels_seen_by(STAFF) == set(AccessLevel)


def test_levels_are_parsed_by_their_words():
    assert parse_level("reading_room") is L.reading_room and parse_level(" Staff ") is L.staff
    with pytest.raises(InputRejected) as e:
        parse_level("secret", "then")
    assert e.value.source == "then" and "public, reading-room, staff" in e.value.problem


def test_the_effective_level_is_the_narrowest_and_follows_the_embargo():
    coll = Collection(id=1, slug="c", name="C", access_level=L.reading_room)
    item = Item(id=1, title="t", access_level=L.public, collection_id=1)
    assert effective_level(item, coll, today=TODAY) is L.reading_room  # never wider than its collection
    item = Item(id=2, title="t", access_level=L.staff, embargo_until=TODAY, embargo_then=L.public)
    assert effective_level(item, today=TODAY - dt.timedelta(days=1)) is L.staff
    assert effective_level(item, today=TODAY) is L.public  # from the embargo day on


def test_decisions_say_how_to_answer():
    staff_only = Item(id=1, title="t", access_level=L.staff, embargo_until=TODAY, embargo_then=L.public)
    d = decide(ANON, staff_only, today=TODAY - dt.timedelta(days=3))
    assert (d.record, d.content, d.status) == (False, False, 404) and d.reason == "staff only until 2030-06-15"
    d = decide(ANON, staff_only, today=TODAY - dt.timedelta(days=3), restricted_metadata="shown")
    assert (d.record, d.content, d.status) == (True, False, 403)
    gone = Item(id=2, title="t", withdrawn_at=dt.datetime(2030, 1, 1), withdrawn_reason="bản quyền")
    assert decide(IN_ROOM, gone, today=TODAY).status == 410 and decide(IN_ROOM, gone, today=TODAY).reason == "bản quyền"
    assert decide(STAFF, gone, today=TODAY).content
    assert decide(ANON, None, today=TODAY).status == 404


# ------------------------------------------------------------------ rows: the SQL condition
def add_item(s, title, **fields) -> int:
    s.merge(StoredFile(sha256="e" * 64, size_bytes=1, media_type="image/png", original_name="x.png"))
    item = Item(title=title, languages="vie", item_type=ItemType.book, **fields)
    item.pages.append(Page(sequence=1, source_sha256="e" * 64, source_name="x.png", status=PageStatus.done,
                           text=f"chữ của {title}"))
    s.add(item)
    s.flush()
    return item.id


@pytest.fixture
def rows(platform):
    """Items of every level, embargo and collection combination the rule knows."""
    with platform.sessions.begin() as s:
        colls = {level: Collection(slug=f"c-{level.value}", name=f"Bộ {level.value}", access_level=level)
                 for level in AccessLevel}
        s.add_all(colls.values())
        s.flush()
        for n, (own, coll, embargo, withdrawn) in enumerate(itertools.product(
                list(AccessLevel), [None, *AccessLevel], [None, "past", "future"], [False, True])):
            fields = dict(access_level=own, collection_id=colls[coll].id if coll else None)
            if embargo:
                fields.update(embargo_until=TODAY + dt.timedelta(days=-1 if embargo == "past" else 1),
                              embargo_then=L.public if own != L.public else L.staff)
            if withdrawn:
                fields.update(withdrawn_at=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc), withdrawn_reason="rút")
            add_item(s, f"item {n}", **fields)
    return platform


@pytest.mark.parametrize("actor", [ANON, IN_ROOM, STAFF, Actor.system("cli")], ids=["anon", "room", "staff", "cli"])
def test_the_sql_condition_agrees_with_decide_on_every_row(rows, actor):
    with rows.sessions() as s:
        items = s.scalars(select(Item)).all()
        expected = {i.id for i in items if decide(actor, i, today=TODAY).content}
        got = set(s.scalars(select(Item.id).where(visible_condition(actor, TODAY))))
    assert len(items) == 72 and got == expected
    # anonymous: public now (public, public with a future embargo, or narrower with a past one: 4 cases),
    # in no collection or a public one (2), not withdrawn; the reading room: 6 cases × 3 collections
    assert len(got) == {"anon": 8, "room": 6 * 3, "staff": 72, "cli": 72}[
        "cli" if actor.system_name else "staff" if actor.user else "room" if actor.in_reading_room else "anon"]


# ------------------------------------------------------------------ the service
@pytest.fixture
def one_item(platform):
    with platform.sessions.begin() as s:
        coll = Collection(slug="bao-cu", name="Báo cũ")
        s.add(coll)
        s.flush()
        item_id = add_item(s, "Trung Bắc tân văn", collection_id=coll.id)
    platform.indexer.flush()
    return item_id


def state(platform, item_id):
    with platform.sessions() as s:
        item = s.get(Item, item_id)
        pages = s.scalars(select(Page.index_pending).where(Page.item_id == item_id)).all()
        return dict(level=item.access_level, until=item.embargo_until, then=item.embargo_then,
                    withdrawn=item.withdrawn_at is not None, reason=item.withdrawn_reason, revision=item.revision,
                    ocr=item.do_not_ocr, index=item.do_not_index, pending=item.index_pending, pages_pending=pages)


def test_only_librarians_admins_and_the_system_change_access(platform, one_item):
    admin = platform.access_admin
    for role in ("archivist", "curator"):
        with pytest.raises(PermissionDenied):
            admin.set_item_access(Actor.for_user(user(role)), one_item, "staff")
    with pytest.raises(PermissionDenied):
        admin.withdraw(ANON, one_item, "vì sao")
    with pytest.raises(TypeError):
        admin.restore(None, one_item)
    assert state(platform, one_item)["level"] is L.public
    admin.set_item_access(Actor.for_user(user("librarian")), one_item, "reading-room")
    assert state(platform, one_item)["level"] is L.reading_room


@pytest.mark.parametrize("kwargs, field", [
    (dict(level="secret"), "level"),
    (dict(level="staff", embargo_until="2020-01-01", then="public"), "embargo_until"),
    (dict(level="staff", embargo_until="TODAY", then="public"), "embargo_until"),
    (dict(level="staff", embargo_until="15/06/2031", then="public"), "embargo_until"),
    (dict(level="staff", embargo_until="2031-01-01"), "then"),
    (dict(level="staff", embargo_until="2031-01-01", then="everyone"), "then"),
    (dict(level="staff", then="public"), "embargo_until"),
])
def test_bad_input_names_the_field_and_changes_nothing(platform, one_item, kwargs, field):
    kwargs = dict(kwargs)  # the parameter is shared by the sqlite and postgresql runs
    if kwargs.get("embargo_until") == "TODAY":
        kwargs["embargo_until"] = platform.access.today().isoformat()
    before = state(platform, one_item)
    level = kwargs.pop("level")
    with pytest.raises(InputRejected) as e:
        platform.access_admin.set_item_access(Actor.system("test"), one_item, level, **kwargs)
    assert e.value.source == field
    assert state(platform, one_item) == before


def test_withdraw_needs_a_reason_and_restore_undoes_it(platform, one_item):
    admin, system = platform.access_admin, Actor.system("test")
    before = state(platform, one_item)
    for reason in ("", "   ", None, "x" * 2001):
        with pytest.raises(InputRejected) as e:
            admin.withdraw(system, one_item, reason)
        assert e.value.source == "reason"
    with pytest.raises(NotFound):
        admin.withdraw(system, 999_999, "không có")
    assert state(platform, one_item) == before
    admin.withdraw(system, one_item, "  Bản quyền\nchưa rõ  ")
    after = state(platform, one_item)
    assert after["withdrawn"] and after["reason"] == "Bản quyền chưa rõ" and after["revision"] == before["revision"] + 1
    with pytest.raises(Conflict):
        admin.withdraw(system, one_item, "lần nữa")
    admin.restore(system, one_item)
    assert not state(platform, one_item)["withdrawn"]
    with pytest.raises(Conflict):
        admin.restore(system, one_item)


def test_a_change_bumps_the_revision_and_reaches_the_index_outbox_then_search(platform, one_item):
    before = state(platform, one_item)
    assert not before["pending"] and before["pages_pending"] == [False]
    change = platform.access_admin.set_item_access(Actor.system("test"), one_item, "staff",
                                                   embargo_until=platform.access.today() + dt.timedelta(days=9),
                                                   then="reading-room", do_not_index=True)
    assert change.describe().startswith("access staff, embargoed until") and "do-not-index on" in change.describe()
    after = state(platform, one_item)
    assert after["level"] is L.staff and after["then"] is L.reading_room and after["index"] and not after["ocr"]
    assert after["revision"] == before["revision"] + 1
    # the unit of work flushed right after the commit: nothing is left pending
    assert platform.indexer.pending() == (0, 0)


def test_a_collection_level_applies_to_its_items(platform, one_item):
    change = platform.access_admin.set_collection_access(Actor.system("test"), "bao-cu", "reading-room")
    assert change.item_ids == [one_item]
    with platform.sessions() as s:
        item = s.get(Item, one_item)
        assert effective_level(item, item.collection, today=TODAY) is L.reading_room
    with pytest.raises(NotFound):
        platform.access_admin.set_collection_access(Actor.system("test"), "khong-co", "staff")
    with pytest.raises(InputRejected):
        platform.access_admin.set_collection_access(Actor.system("test"), "Báo cũ", "hidden")


def test_the_sweeper_lifts_embargoes_whose_day_has_come(platform, one_item):
    now = [dt.datetime(2030, 6, 15, 12, tzinfo=dt.timezone.utc)]
    platform.access.clock = lambda: now[0]
    admin = platform.access_admin
    admin.set_item_access(Actor.system("test"), one_item, "staff", embargo_until="2030-07-01", then="public")
    with pytest.raises(PermissionDenied):
        admin.lift_embargoes(ANON)
    assert admin.lift_embargoes(Actor.system("sweeper")) == []
    now[0] = dt.datetime(2030, 7, 1, 0, 5, tzinfo=dt.timezone.utc)
    revision = state(platform, one_item)["revision"]
    assert admin.lift_embargoes(Actor.system("sweeper")) == [one_item]
    after = state(platform, one_item)
    assert (after["level"], after["until"], after["then"]) == (L.public, None, None)
    assert after["revision"] == revision + 1
    assert admin.lift_embargoes(Actor.system("sweeper")) == []


def test_access_settings_are_checked():
    with pytest.raises(InputRejected):
        Access(restricted_metadata="sometimes")
    assert Access("10.0.0.0/8").actor(None, "10.9.9.9").in_reading_room


def test_search_stores_the_narrower_level_while_an_embargo_is_set():
    """The index may keep a level until the next sweep: an item that closes on its embargo day must not
    stay findable in between, so the narrower of now and after is what search stores."""
    from datetime import date, datetime, timezone

    from library.access import Access
    from library.catalogue.models import AccessLevel, Item

    access = Access(clock=lambda: datetime(2026, 12, 5, tzinfo=timezone.utc))
    closing = Item(title="x", access_level=AccessLevel.public, embargo_until=date(2026, 12, 6),
                   embargo_then=AccessLevel.staff)
    opening = Item(title="y", access_level=AccessLevel.staff, embargo_until=date(2026, 12, 6),
                   embargo_then=AccessLevel.public)
    plain = Item(title="z", access_level=AccessLevel.reading_room)
    assert access.visible_level_of(closing) == AccessLevel.staff
    assert access.visible_level_of(opening) == AccessLevel.staff
    assert access.visible_level_of(plain) == AccessLevel.reading_room
