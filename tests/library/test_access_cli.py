"""`heritage item access|withdraw|restore` and `heritage collection access` as an operator runs them (real
processes on a real catalogue), and `heritage sweep` lifting an embargo whose day has come."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from library.catalogue.models import AccessLevel, Collection, Item
from tests.conftest import make_settings
from tests.library.test_access import add_item
from tests.library.test_cli import heritage


@pytest.fixture
def world(tmp_path):
    from library.container import build_platform

    settings = make_settings(tmp_path / "data")
    p = build_platform(settings)
    try:
        with p.sessions.begin() as s:
            coll = Collection(slug="bao-cu", name="Báo cũ")
            s.add(coll)
            s.flush()
            ids = [add_item(s, title, collection_id=coll.id) for title in ("Trung Bắc tân văn", "Nam Phong")]
    finally:
        p.close()
    return settings, ids


def row(settings, item_id):
    from library.container import build_platform

    p = build_platform(settings, migrate=False)
    try:
        with p.sessions() as s:
            item = s.get(Item, item_id)
            return dict(level=item.access_level, until=item.embargo_until, then=item.embargo_then,
                        withdrawn=item.withdrawn_reason, revision=item.revision, ocr=item.do_not_ocr,
                        coll=item.collection.access_level if item.collection else None)
    finally:
        p.close()


def test_the_command_line_sets_levels_embargoes_and_withdraws(world):
    settings, (a, b) = world
    r = heritage(settings, "item", "access", a, "reading-room")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"item {a}: access reading-room"
    assert row(settings, a)["level"] is AccessLevel.reading_room

    until = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    r = heritage(settings, "item", "access", a, "staff", "--embargo-until", until, "--then", "public", "--do-not-ocr")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"item {a}: access staff, embargoed until {until}, then public, do-not-ocr on"
    got = row(settings, a)
    assert (got["level"], got["until"].isoformat(), got["then"], got["ocr"]) == (
        AccessLevel.staff, until, AccessLevel.public, True)

    r = heritage(settings, "item", "withdraw", b, "--reason", "Bản quyền chưa rõ")
    assert r.returncode == 0 and r.stdout.strip() == f"item {b}: withdrawn (Bản quyền chưa rõ)"
    assert row(settings, b)["withdrawn"] == "Bản quyền chưa rõ"
    r = heritage(settings, "item", "restore", b)
    assert r.returncode == 0 and r.stdout.strip() == f"item {b}: restored"
    assert row(settings, b)["withdrawn"] is None

    r = heritage(settings, "collection", "access", "Báo cũ", "staff")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "collection Báo cũ: access staff (2 item(s) re-indexed)"
    assert row(settings, b)["coll"] is AccessLevel.staff


def test_bad_input_is_a_clear_error_and_changes_nothing(world):
    settings, (a, _b) = world
    before = row(settings, a)
    cases = [
        (("item", "access", a, "secret"), 2, "level: 'secret' is not an access level"),
        (("item", "access", a, "staff", "--embargo-until", "2001-01-01", "--then", "public"), 2,
         "embargo_until: 2001-01-01 is not after today"),
        (("item", "access", a, "staff", "--embargo-until", "2099-13-01", "--then", "public"), 2,
         "embargo_until: '2099-13-01' is not a date"),
        (("item", "access", a, "staff", "--embargo-until", "2099-01-01"), 2, "then: an embargo needs the level"),
        (("item", "access", a, "staff", "--then", "public"), 2, "embargo_until: --then needs an embargo date"),
        (("item", "withdraw", a, "--reason", "   "), 2, "reason: say why the item is withdrawn"),
        (("item", "restore", a), 5, f"item {a} is not withdrawn"),
        (("item", "access", 999999, "staff"), 3, "no item 999999"),
        (("collection", "access", "khong-co", "staff"), 3, "no collection 'khong-co'"),
    ]
    for args, code, message in cases:
        r = heritage(settings, *args)
        assert r.returncode == code, (args, r.returncode, r.stderr)
        assert r.stderr.startswith("error: ") and message in r.stderr, (args, r.stderr)
        assert r.stdout == ""
    assert row(settings, a) == before
    r = heritage(settings, "item", "withdraw", a)  # click itself: the reason is required
    assert r.returncode == 2 and "--reason" in r.stderr


def test_the_sweep_command_lifts_an_embargo_whose_day_has_come(world):
    settings, (a, b) = world
    from library.container import build_platform

    p = build_platform(settings, migrate=False)
    try:  # set as if the embargo had been set long ago and its day has now come
        with p.sessions.begin() as s:
            item = s.get(Item, a)
            item.access_level, item.embargo_until, item.embargo_then = (
                AccessLevel.staff, dt.date.today() - dt.timedelta(days=1), AccessLevel.reading_room)
    finally:
        p.close()
    r = heritage(settings, "sweep")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["embargoes_lifted"] == [a]
    got = row(settings, a)
    assert (got["level"], got["until"], got["then"]) == (AccessLevel.reading_room, None, None)
    assert json.loads(heritage(settings, "sweep").stdout)["embargoes_lifted"] == []
