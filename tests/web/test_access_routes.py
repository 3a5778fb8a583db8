"""Access on every route that shows an item: route × level × requester.

Six real items (one-line Vietnamese scans, read in-process by the real tesseract) are set public,
reading room, staff only, embargoed (staff only until a day 30 days ahead, public after it),
withdrawn, and public in a staff-only collection. Three requesters ask for each of them on every
route: an anonymous reader outside (203.0.113.5), a reader in the reading room (10.1.2.3, inside
``HERITAGE_READING_ROOM=10.0.0.0/8``) and a signed-in librarian. What may not be seen answers 404
exactly as a missing item does; a withdrawn item 410 with its reason; lists never name a hidden item.
Then the clock moves past the embargo, the sweeper runs, and the embargoed item is public."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from library.access import Actor
from library.ingest.service import Upload
from tests.conftest import make_settings
from tests.library.test_jobs import small_scans
from tests.web.staff_accounts import ACCOUNTS, basic, client_as
from web import create_app

OUTSIDE = {"REMOTE_ADDR": "203.0.113.5"}
INSIDE = {"REMOTE_ADDR": "10.1.2.3"}
SYSTEM = Actor.system("test")
REASON = "Bản quyền chưa rõ ràng"

# item key: (title, the words its scan reads, collection)
ITEMS = {
    "public": ("Tài liệu công khai", "Văn Miếu", "Báo cũ"),
    "reading-room": ("Tài liệu phòng đọc", "Quốc Tử Giám", "Báo cũ"),
    "staff": ("Tài liệu nội bộ", "Khuê Văn", "Báo cũ"),
    "embargoed": ("Tài liệu phong toả", "Tám mươi", "Báo cũ"),
    "withdrawn": ("Tài liệu đã rút", "Hồ Gươm", "Báo cũ"),
    "in-staff-collection": ("Tài liệu trong kho mật", None, "Kho mật"),
}
SEES = {  # who may read which item
    "anonymous": {"public"},
    "reading-room": {"public", "reading-room"},
    "staff": set(ITEMS),
}


class MovableClock:
    """A clock tests can move (UTC)."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def build_world(data_dir, tmp_path, keys=tuple(ITEMS), restricted_metadata="hidden"):
    settings = make_settings(data_dir, reading_room="10.0.0.0/8, 192.168.5.7",
                             restricted_metadata=restricted_metadata)
    app = create_app({"TESTING": True}, settings=settings)
    p = app.extensions["heritage"]
    clock = MovableClock(dt.datetime.now(dt.timezone.utc))
    p.access.clock = clock  # the platform's settable clock: embargoes follow it
    for role, (name, password) in ACCOUNTS.items():
        p.users.create(Actor.system("tests"), name, password, role)
    scans = small_scans(tmp_path, len(ITEMS))
    items = {}
    for key, scan in zip(ITEMS, scans):
        if key not in keys:
            continue
        title, _words, collection = ITEMS[key]
        report = p.ingest.ingest_item([Upload(scan, scan.name)], {"title": title, "collection": collection,
                                                                  "language": "vie"}, actor=SYSTEM)
        assert report.ok, report.as_dict()
        item_id = report.items[0].item_id
        page_id = p.catalogue.page_statuses(item_id)[0].page_id
        assert p.reader.read(page_id).value == "done"
        p.reader.finish_item(item_id)
        items[key] = (item_id, page_id)
    today = clock().date()
    admin = p.access_admin
    if "reading-room" in items:
        admin.set_item_access(SYSTEM, items["reading-room"][0], "reading-room")
    if "staff" in items:
        admin.set_item_access(SYSTEM, items["staff"][0], "staff")
    if "embargoed" in items:
        admin.set_item_access(SYSTEM, items["embargoed"][0], "staff", embargo_until=today + dt.timedelta(days=30),
                              then="public")
    if "withdrawn" in items:
        admin.withdraw(SYSTEM, items["withdrawn"][0], REASON)
    if "in-staff-collection" in items:
        admin.set_collection_access(SYSTEM, "Kho mật", "staff")
    return app, clock, items


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("access-world")
    app, clock, items = build_world(base / "data", base)
    p = app.extensions["heritage"]
    m = p.monuments.create_monument(name_vi="Quốc Tử Giám", name_en="Imperial Academy", actor=SYSTEM)
    for key in ("public", "staff", "withdrawn", "in-staff-collection"):
        p.guides.link_item(m.id, items[key][0], page_sequence=1, note=f"ghi chú {key}", actor=SYSTEM)
    yield {"app": app, "clock": clock, "items": items, "monument": m}
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
    return {who: requester(world["app"], who) for who in SEES}


class Answer:
    """A response read whole and closed (file responses hold their file open until closed)."""

    def __init__(self, client, url, **kw):
        with client.get(url, **kw) as r:
            self.status_code, self.headers, self.data = r.status_code, r.headers, r.get_data()
            self.json = r.get_json(silent=True)

    def get_data(self, as_text=False):
        return self.data.decode("utf-8", "replace") if as_text else self.data


def item_routes(item_id: int, page_id: int) -> dict[str, int]:
    """Every route that shows the item's record or content → the status when it may be seen."""
    return {
        f"/items/{item_id}": 200,
        f"/items/{item_id}/mirador": 200,
        f"/items/{item_id}/download.txt": 200,
        f"/items/{item_id}/download-alto.zip": 200,
        f"/items/{item_id}/download.pdf": 200,
        f"/items/{item_id}/report?page=1": 200,
        f"/iiif/{item_id}/manifest": 200,
        f"/iiif/{item_id}/canvas/p1": 200,
        f"/iiif/{item_id}/canvas/p1/text": 200,
        f"/iiif/{item_id}/canvas/p1/hocr": 200,
        f"/iiif/{item_id}/canvas/p1/alto": 200,
        f"/iiif/{item_id}/search?q=ai": 200,
        f"/iiif/{item_id}/search1?q=ai": 200,
        f"/iiif/image/p{page_id}": 303,
        f"/iiif/image/p{page_id}/info.json": 200,
        f"/iiif/image/p{page_id}/full/max/0/default.jpg": 200,
        f"/iiif/image/p{page_id}/0,0,256,256/128,/0/default.png": 200,  # a tile
        f"/iiif/image/p{page_id}/full/!200,200/0/default.jpg": 200,  # the thumbnail size of the manifest
        f"/api/v1/items/{item_id}": 200,
        f"/api/v1/pages/{page_id}": 200,
        f"/api/v1/feedback/board?item_id={item_id}": 200,
    }


@pytest.mark.parametrize("who", list(SEES))
@pytest.mark.parametrize("key", list(ITEMS))
def test_every_item_route_answers_by_level_and_requester(world, clients, who, key):
    item_id, page_id = world["items"][key]
    client = clients[who]
    missing = {url: Answer(client, other) for url, other in zip(item_routes(item_id, page_id),
                                                             item_routes(999_999, 999_999))
               } if key == "staff" and who == "anonymous" else {}
    for url, ok in item_routes(item_id, page_id).items():
        r = Answer(client, url)
        body = r.get_data()
        if key in SEES[who]:
            assert r.status_code == ok, (url, r.status_code, body[:300])
        elif key == "withdrawn":
            assert r.status_code == 410, (url, r.status_code)
            if url.startswith(("/api/", "/iiif/")):
                assert r.json["message"] == REASON, url
            else:
                assert REASON in r.get_data(as_text=True), url
        else:
            assert r.status_code == 404, (url, r.status_code)
        if key not in SEES[who]:
            title, words, _ = ITEMS[key]
            text = body.decode("utf-8", "replace")
            assert title not in text, url
            assert not words or words not in text, url
            if url in missing:  # a hidden item cannot be told from one that does not exist
                other = missing[url].get_data(as_text=True).replace("999999", "N")
                assert missing[url].status_code == 404, url
                assert other == text.replace(str(page_id), "N").replace(str(item_id), "N"), url


def test_what_is_served_is_the_real_content(world, clients):
    item_id, page_id = world["items"]["reading-room"]
    client = clients["reading-room"]
    assert "Quốc Tử Giám" in Answer(client, f"/items/{item_id}/download.txt").get_data(as_text=True)
    assert "Quốc Tử Giám" in client.get(f"/iiif/{item_id}/canvas/p1/text").get_data(as_text=True)
    assert "Quốc Tử Giám" in client.get(f"/api/v1/pages/{page_id}").json["text"]
    img = Image.open(io.BytesIO(client.get(f"/iiif/image/p{page_id}/full/max/0/default.png").data))
    assert img.size[0] > 1000  # the 5-inch scan at 300 dpi
    info = client.get(f"/iiif/image/p{page_id}/info.json")
    assert "private" in info.headers["Cache-Control"] and "public" not in info.headers["Cache-Control"]
    public_id, public_page = world["items"]["public"]
    assert "public" in clients["anonymous"].get(f"/iiif/image/p{public_page}/info.json").headers["Cache-Control"]
    manifest = client.get(f"/iiif/{item_id}/manifest")
    assert "private" in manifest.headers["Cache-Control"]


def test_staff_see_the_access_state_on_the_item_page_and_in_the_api(world, clients):
    items = world["items"]
    html = clients["staff"].get(f"/items/{items['embargoed'][0]}?lang=en").get_data(as_text=True)
    until = (world["clock"]().date() + dt.timedelta(days=30)).isoformat()
    assert f"embargoed until {until}, then: public" in html and "staff only" in html
    html = clients["staff"].get(f"/items/{items['withdrawn'][0]}?lang=en").get_data(as_text=True)
    assert "withdrawn" in html and REASON in html
    assert 'id="access-state"' not in clients["anonymous"].get(f"/items/{items['public'][0]}").get_data(as_text=True)
    body = world["app"].test_client().get(f"/api/v1/items/{items['embargoed'][0]}", headers=basic("archivist")).json
    assert body["access"]["level"] == "staff" and body["access"]["embargo_until"] == until
    assert body["access"]["embargo_then"] == "public"
    assert "access" not in clients["anonymous"].get(f"/api/v1/items/{items['public'][0]}").json


def titles_in(text: str) -> set[str]:
    return {key for key, (title, _, _) in ITEMS.items() if title in text}


@pytest.mark.parametrize("who", list(SEES))
def test_lists_name_only_the_items_the_requester_may_see(world, clients, who):
    client = clients[who]
    app = world["app"]
    p = app.extensions["heritage"]
    colls = {c.name: c.id for c in p.catalogue.collections()}
    seen = SEES[who]
    pages = ["/", "/?lang=en", "/collections", f"/collections/{colls['Báo cũ']}", "/api/v1/items",
             "/api/v1/collections", f"/api/v1/collections/{colls['Báo cũ']}", "/iiif/collection/top",
             f"/iiif/collection/{colls['Báo cũ']}", f"/monuments/{world['monument'].slug}",
             f"/api/v1/monuments/{world['monument'].slug}"]
    everything = set()
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        found = titles_in(r.get_data(as_text=True))
        assert found <= seen, (url, found - seen)
        everything |= found
    assert everything == seen
    # the staff-only collection itself
    for url in (f"/collections/{colls['Kho mật']}", f"/api/v1/collections/{colls['Kho mật']}",
                f"/iiif/collection/{colls['Kho mật']}"):
        assert client.get(url).status_code == (200 if who == "staff" else 404), url
    named = "Kho mật" in client.get("/api/v1/collections").get_data(as_text=True)
    assert named == (who == "staff")
    # counts follow what is visible
    sizes = {c["name"]: c["items"] for c in client.get("/api/v1/collections").json["collections"]}
    assert sizes["Báo cũ"] == len(seen & {"public", "reading-room", "staff", "embargoed", "withdrawn"})
    # the monument's curator links: only the visible ones, with their notes
    mon = client.get(f"/api/v1/monuments/{world['monument'].slug}").json
    linked = {i["item_id"] for i in mon["items"] if i["how"] == "linked"}
    assert linked == {world["items"][k][0] for k in ("public", "staff", "withdrawn", "in-staff-collection")
                      if k in seen}


def test_feedback_is_taken_only_on_items_the_sender_may_read(world, clients):
    items = world["items"]
    comment = {"kind": "comment", "body": "Cảm ơn thư viện.", "language": "vi"}
    r = clients["anonymous"].post("/api/v1/feedback", json={**comment, "item_id": items["reading-room"][0]})
    assert r.status_code == 404
    r = clients["anonymous"].post("/api/v1/feedback", json={**comment, "item_id": items["withdrawn"][0]})
    assert r.status_code == 410
    r = clients["reading-room"].post("/api/v1/feedback", json={**comment, "item_id": items["reading-room"][0]})
    assert r.status_code == 201


def test_metadata_only_display_shows_the_record_and_refuses_the_content(tmp_path):
    app, _clock, items = build_world(tmp_path / "data", tmp_path, keys=("reading-room", "withdrawn"),
                                     restricted_metadata="shown")
    try:
        client = requester(app, "anonymous")
        item_id, page_id = items["reading-room"]
        html = client.get(f"/items/{item_id}?lang=en")
        text = html.get_data(as_text=True)
        assert html.status_code == 200 and "Tài liệu phòng đọc" in text and "reading room" in text
        assert "Quốc Tử Giám" not in text and "/manifest" not in text and "download.pdf" not in text
        api = client.get(f"/api/v1/items/{item_id}")
        assert api.status_code == 200 and api.json["title"] == "Tài liệu phòng đọc" and api.json["pages"] == []
        for url in (f"/iiif/{item_id}/manifest", f"/iiif/image/p{page_id}/info.json", f"/api/v1/pages/{page_id}",
                    f"/iiif/{item_id}/canvas/p1/text"):
            r = client.get(url)
            assert r.status_code == 403 and r.json["message"] == "only in the reading room", url
        assert Answer(client, f"/items/{item_id}/download.txt").status_code == 403
        assert client.get(f"/items/{items['withdrawn'][0]}").status_code == 410  # withdrawn stays gone
    finally:
        app.extensions["heritage"].close()


def test_the_embargo_passes_when_the_clock_moves_and_the_sweeper_runs(tmp_path):
    app, clock, items = build_world(tmp_path / "data", tmp_path, keys=("embargoed", "withdrawn"))
    p = app.extensions["heritage"]
    try:
        client = requester(app, "anonymous")
        item_id, page_id = items["embargoed"]
        assert client.get(f"/items/{item_id}").status_code == 404
        assert "Tài liệu phong toả" not in client.get("/api/v1/items").get_data(as_text=True)
        assert p.access_admin.lift_embargoes(Actor.system("sweeper")) == []  # not yet

        clock.now += dt.timedelta(days=31)
        # the day has come: the level after the embargo applies at once...
        assert client.get(f"/items/{item_id}").status_code == 200
        assert "Tài liệu phong toả" in client.get("/api/v1/items").get_data(as_text=True)
        assert client.get(f"/iiif/image/p{page_id}/full/max/0/default.jpg").status_code == 200
        # ...and the sweeper makes it the item's level, clears the embargo and tells search
        assert p.access_admin.lift_embargoes(Actor.system("sweeper")) == [item_id]
        item = p.catalogue.item(item_id)
        assert item.access_level.value == "public" and item.embargo_until is None and item.embargo_then is None
        assert p.access_admin.lift_embargoes(Actor.system("sweeper")) == []

        wd_id, wd_page = items["withdrawn"]
        assert client.get(f"/iiif/image/p{wd_page}/info.json").status_code == 410
        p.access_admin.restore(SYSTEM, wd_id)
        assert client.get(f"/items/{wd_id}").status_code == 200
        assert "Hồ Gươm" in Answer(client, f"/items/{wd_id}/download.txt").get_data(as_text=True)
    finally:
        p.close()
