"""Search over HTTP follows access levels: /search, /search.csv, /api/v1/search, /api/v1/suggest and
IIIF Content Search show an anonymous reader, a reader in the reading room and a librarian exactly
what each may see — results, totals, facet counts, snippets, CSV rows and suggestions.

Three items (public, reading room, staff only), each with a word of its own on its page and the
shared word ``chung``. The pages are given their text directly in the catalogue (as a finished
reading would) and sent to the embedded index by the indexer, so no OCR runs here."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from library.access import Actor
from library.ingest.service import Upload
from library.catalogue.models import AccessLevel, Item, ItemStatus, Page, PageStatus
from tests.conftest import make_settings
from tests.library.test_jobs import small_scans
from tests.web.staff_accounts import ACCOUNTS, basic, client_as
from web import create_app

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

OUTSIDE = {"REMOTE_ADDR": "203.0.113.5"}
INSIDE = {"REMOTE_ADDR": "10.1.2.3"}

# level: (title, collection, its own word)
ITEMS = {
    "public": ("Sách Mở Cửa", "Kho Mở", "longbien"),
    "reading-room": ("Sách Phòng Đọc", "Kho Phòng Đọc", "thanhtri"),
    "staff": ("Sách Mật Nội Bộ", "Kho Mật", "tayho"),
}
SEES = {"anonymous": {"public"}, "reading-room": {"public", "reading-room"}, "staff": set(ITEMS)}


def make_read_item(p, scan, level: str, title: str, collection: str, word: str) -> int:
    """An item whose one page reads ``… chung … <word> …``, at ``level``, sent to search."""
    report = p.ingest.ingest_item([Upload(scan, scan.name)], {"title": title, "collection": collection,
                                                              "language": "vie"}, actor=SYSTEM)
    assert report.ok, report.as_dict()
    item_id = report.items[0].item_id
    with p.sessions.begin() as s:
        item = s.get(Item, item_id)
        item.status = ItemStatus.done
        item.access_level = AccessLevel(level)
        item.revision += 1
        item.index_pending = True
        for page in s.scalars(select(Page).where(Page.item_id == item_id)):
            page.status = PageStatus.done
            page.text = f"Trang chung của {title}: chữ {word} ở đây."
            page.revision += 1
            page.index_pending = True
    return item_id


def change_item(p, item_id: int, **values) -> None:
    """Change an item in the catalogue as a service does (revision bumped, marked for the index),
    then let the indexer send it."""
    with p.sessions.begin() as s:
        item = s.get(Item, item_id)
        for name, value in values.items():
            setattr(item, name, value)
        item.revision += 1
        item.index_pending = True
    report = p.indexer.flush()
    assert report.error is None and report.items == 1


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("search-access")
    app = create_app({"TESTING": True}, settings=make_settings(base / "data", reading_room="10.0.0.0/8"))
    p = app.extensions["heritage"]
    for role, (name, password) in ACCOUNTS.items():
        p.users.create(Actor.system("tests"), name, password, role)
    scans = small_scans(base, len(ITEMS))
    ids = {key: make_read_item(p, scan, key, *ITEMS[key]) for key, scan in zip(ITEMS, scans)}
    report = p.indexer.flush()
    assert report.error is None and report.items == 3
    yield app, ids
    p.close()


def requester(app, who):
    if who == "staff":
        client = client_as(app, "librarian")
        client.environ_base.update(OUTSIDE)
        return client
    client = app.test_client()
    client.environ_base.update(INSIDE if who == "reading-room" else OUTSIDE)
    return client


@pytest.fixture(scope="module")
def clients(world):
    app, _ids = world
    return {who: requester(app, who) for who in SEES}


WHO = list(SEES)


@pytest.mark.parametrize("who", WHO)
def test_api_search_results_counts_facets_and_snippets(world, clients, who):
    _app, ids = world
    body = clients[who].get("/api/v1/search?q=chung&per_page=50").json
    assert {h["item_id"] for h in body["hits"]} == {ids[k] for k in SEES[who]}
    assert body["total"] == len(SEES[who])
    assert {f["value"]: f["count"] for f in body["facets"]["collection"]} == {ITEMS[k][1]: 1 for k in SEES[who]}
    snippets = " ".join(sn["text"] for h in body["hits"] for sn in h["snippets"])
    for key, (title, _collection, word) in ITEMS.items():
        assert (word in snippets) == (key in SEES[who]), (who, key)
        own = clients[who].get(f"/api/v1/search?q={word}").json
        assert own["total"] == (1 if key in SEES[who] else 0), (who, key)


def test_api_search_with_staff_credentials_sees_everything(world):
    app, ids = world
    client = app.test_client()
    client.environ_base.update(OUTSIDE)
    body = client.get("/api/v1/search?q=chung", headers=basic("librarian")).json
    assert {h["item_id"] for h in body["hits"]} == set(ids.values()) and body["total"] == 3


@pytest.mark.parametrize("who", WHO)
def test_search_page_shows_only_what_may_be_seen(clients, who):
    html = clients[who].get("/search?q=chung").get_data(as_text=True)
    for key, (title, collection, word) in ITEMS.items():
        shown = key in SEES[who]
        assert (title in html) == shown, (who, key)
        assert (word in html) == shown, (who, key)
        assert (collection in html) == shown, (who, key)  # the facet value with its count
    hidden = clients[who].get("/search?q=tayho").get_data(as_text=True)
    assert ("Sách Mật Nội Bộ" in hidden) == (who == "staff")


@pytest.mark.parametrize("who", WHO)
def test_csv_export_has_only_what_may_be_seen(world, clients, who):
    _app, ids = world
    r = clients[who].get("/search.csv?q=chung")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert {int(row["item_id"]) for row in rows} == {ids[k] for k in SEES[who]}
    text = r.get_data(as_text=True)
    for key, (title, _collection, word) in ITEMS.items():
        assert (word in text) == (key in SEES[who]) and (title in text) == (key in SEES[who])


@pytest.mark.parametrize("who", WHO)
def test_suggestions_only_from_what_may_be_seen(clients, who):
    texts = {s["text"] for s in clients[who].get("/api/v1/suggest?q=sách&limit=20").json["suggestions"]}
    assert {ITEMS[k][0] for k in ITEMS} & texts == {ITEMS[k][0] for k in SEES[who]}
    collections = {s["text"] for s in clients[who].get("/api/v1/suggest?q=kho").json["suggestions"]}
    assert collections == {ITEMS[k][1] for k in SEES[who]}


@pytest.mark.parametrize("who", WHO)
def test_content_search_inside_an_item(world, clients, who):
    _app, ids = world
    for key, (_title, _collection, word) in ITEMS.items():
        r = clients[who].get(f"/iiif/{ids[key]}/search?q={word}")
        if key in SEES[who]:
            assert r.status_code == 200 and r.json["type"] == "AnnotationPage"
        else:
            assert r.status_code == 404, (who, key)


def test_a_level_change_and_a_withdrawal_reach_search_at_once(tmp_path):
    app = create_app({"TESTING": True}, settings=make_settings(tmp_path / "data", reading_room="10.0.0.0/8"))
    p = app.extensions["heritage"]
    try:
        for role, (name, password) in ACCOUNTS.items():
            p.users.create(Actor.system("tests"), name, password, role)
        scans = small_scans(tmp_path, len(ITEMS))
        ids = {key: make_read_item(p, scan, key, *ITEMS[key]) for key, scan in zip(ITEMS, scans)}
        assert p.indexer.flush().items == 3
        anonymous = requester(app, "anonymous")
        staff = requester(app, "staff")

        def anonymous_total(word):
            return anonymous.get(f"/api/v1/search?q={word}").json["total"]

        assert anonymous_total("tayho") == 0
        change_item(p, ids["staff"], access_level=AccessLevel.public)
        assert anonymous_total("tayho") == 1  # no worker, no wait: the indexer's flush sent it
        assert "Sách Mật Nội Bộ" in {s["text"] for s in anonymous.get("/api/v1/suggest?q=sách").json["suggestions"]}

        change_item(p, ids["public"], access_level=AccessLevel.reading_room)
        assert anonymous_total("longbien") == 0
        inside = requester(app, "reading-room")
        assert inside.get("/api/v1/search?q=longbien").json["total"] == 1

        change_item(p, ids["reading-room"], withdrawn_at=datetime.now(timezone.utc), withdrawn_reason="sai sót")
        assert staff.get("/api/v1/search?q=thanhtri").json["total"] == 0  # gone for everyone, staff too
        assert "Sách Phòng Đọc" not in {s["text"] for s in staff.get("/api/v1/suggest?q=sách").json["suggestions"]}
        change_item(p, ids["reading-room"], withdrawn_at=None, withdrawn_reason=None)  # restored
        assert staff.get("/api/v1/search?q=thanhtri").json["total"] == 1

        change_item(p, ids["staff"], do_not_index=True)
        assert staff.get("/api/v1/search?q=tayho").json["total"] == 0
        assert p.indexer.document_count() == 2 * 2  # two items and their pages
    finally:
        p.close()


def test_an_embargo_lifted_by_the_sweeper_reaches_search(tmp_path):
    import datetime as dt

    from library.access import Actor

    app = create_app({"TESTING": True}, settings=make_settings(tmp_path / "data"))
    p = app.extensions["heritage"]
    now = [dt.datetime.now(dt.timezone.utc)]
    p.access.clock = lambda: now[0]  # the platform's settable clock: the indexer and the sweeper follow it
    try:
        item_id = make_read_item(p, small_scans(tmp_path, 1)[0], "public", "Báo Phong Toả", "Kho Báo", "hoankiem")
        assert p.indexer.flush().items == 1
        p.access_admin.set_item_access(Actor.system("tests"), item_id, "staff",
                                       embargo_until=now[0].date() + dt.timedelta(days=30), then="public")
        p.indexer.flush()
        anonymous = requester(app, "anonymous")
        assert anonymous.get("/api/v1/search?q=hoankiem").json["total"] == 0
        now[0] += dt.timedelta(days=31)
        assert p.access_admin.lift_embargoes(Actor.system("sweeper")) == [item_id]
        p.indexer.flush()  # (the unit of work has already sent it; a flush more changes nothing)
        assert anonymous.get("/api/v1/search?q=hoankiem").json["total"] == 1
        assert "Báo Phong Toả" in {s["text"] for s in anonymous.get("/api/v1/suggest?q=báo").json["suggestions"]}
    finally:
        p.close()


def test_a_page_changed_while_its_item_was_sent_is_sent_again(tmp_path):
    """An item's flush re-sends its pages; a page corrected meanwhile (its new text already sent by its
    own flush) must not be left in the index with the text the item's flush read before."""
    app = create_app({"TESTING": True}, settings=make_settings(tmp_path / "data"))
    p = app.extensions["heritage"]
    try:
        item_id = make_read_item(p, small_scans(tmp_path, 1)[0], "public", "Sách Sửa", "Kho Sửa", "cũcũ")
        assert p.indexer.flush().items == 1
        engine = p.indexer.engine
        original = engine.index
        corrected = []

        def index_while_a_correction_lands(docs, **kw):
            if not corrected:  # the correction commits after the item's flush read the page
                corrected.append(True)
                with p.sessions.begin() as s:
                    page = s.scalars(select(Page).where(Page.item_id == item_id)).one()
                    page.text = "Trang đã sửa: mớimới."
                    page.revision += 1
                    page.index_pending = True
                assert p.indexer._flush_pages() == 1  # another process sends the corrected page first
            return original(docs, **kw)

        with p.sessions.begin() as s:  # an edit of the item: it (and its pages) go to the index again
            item = s.get(Item, item_id)
            item.title = "Sách Đã Sửa"
            item.revision += 1
            item.index_pending = True
        engine.index = index_while_a_correction_lands
        try:
            p.indexer.flush()
        finally:
            engine.index = original
        anonymous = requester(app, "anonymous")
        assert anonymous.get("/api/v1/search?q=mớimới").json["total"] == 1
        assert anonymous.get("/api/v1/search?q=cũcũ").json["total"] == 0
        assert p.indexer.pending() == (0, 0)
    finally:
        p.close()
