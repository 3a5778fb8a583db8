"""The collection page (description, items sorted by title or date, paged; staff forms with the role
checks) and the shelf of newspapers and magazines (title → year → calendar of issues): what a reader
may not see is never listed, counted or linked."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from library.access import Actor
from library.catalogue.models import AccessLevel, Collection, Item, ItemType
from tests.library.test_collections import add_item, snapshot
from tests.web.staff_accounts import client_as, staffed_app
from tests.web.test_portal import csrf_of
from web import browse

CLI = Actor.system("cli")


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


@pytest.fixture
def platform(app):
    return app.extensions["heritage"]


@pytest.fixture
def shelf(platform):
    """A collection of five items: three public, one staff only, one withdrawn."""
    coll = platform.collections.create(CLI, "Sách Hà Nội", "Sách in ở Hà Nội trước 1945")
    ids = {}
    for title, year in (("Cung oán", 1930), ("An Nam chí", 1910), ("Bích câu", 1920)):
        ids[title] = add_item(platform, title, collection_id=coll.id, year_start=year)
    ids["Bí mật"] = add_item(platform, "Sách kín", collection_id=coll.id, year_start=1900,
                             access_level=AccessLevel.staff)
    ids["rút"] = add_item(platform, "Sách đã rút", collection_id=coll.id, year_start=1925,
                          withdrawn_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), withdrawn_reason="bản quyền")
    return coll, ids


def titles_in(html: str) -> list[str]:
    return re.findall(r"<strong>([^<]+)</strong>", html)


def test_the_collection_page_sorts_pages_and_hides_what_readers_may_not_see(app, shelf, monkeypatch):
    coll, ids = shelf
    client = app.test_client()
    html = client.get(f"/collections/{coll.id}").get_data(as_text=True)
    assert "Sách in ở Hà Nội trước 1945" in html and "3 tài liệu" in html
    assert titles_in(html) == ["Cung oán", "An Nam chí", "Bích câu"]  # the collection's order (by id here)
    assert "Sách kín" not in html and "Sách đã rút" not in html and "Quản lý bộ sưu tập" not in html
    by_title = client.get(f"/collections/{coll.id}?sort=title").get_data(as_text=True)
    assert titles_in(by_title) == ["An Nam chí", "Bích câu", "Cung oán"]
    newest = app.test_client().get(f"/collections/{coll.id}?sort=-date&lang=en").get_data(as_text=True)
    assert titles_in(newest) == ["Cung oán", "Bích câu", "An Nam chí"] and "Newest first" in newest
    assert client.get(f"/collections/{coll.id}?sort=drop").status_code == 200  # nonsense: the default order
    # paged: never every item of a big collection on one page; the sort carries over to the next page
    monkeypatch.setattr(browse, "PER_PAGE", 2)
    first = client.get(f"/collections/{coll.id}?sort=date").get_data(as_text=True)
    assert titles_in(first) == ["An Nam chí", "Bích câu"] and "Trang 1/2" in first
    assert "?page=2&amp;sort=date" in first
    second = client.get(f"/collections/{coll.id}?sort=date&page=2").get_data(as_text=True)
    assert titles_in(second) == ["Cung oán"] and "Sách kín" not in second
    # staff see every item, with their number and position, and the forms
    staff = client_as(app, "archivist").get(f"/collections/{coll.id}?sort=date").get_data(as_text=True)
    assert titles_in(staff) == ["Sách kín", "An Nam chí"] and "Trang 1/3" in staff
    assert "Quản lý bộ sưu tập" not in staff  # archivists may not edit collections
    librarian = client_as(app, "librarian").get(f"/collections/{coll.id}").get_data(as_text=True)
    assert "Quản lý bộ sưu tập" in librarian and f"tài liệu {ids['Cung oán']}, vị trí –" in librarian


def post(client, url, page, **data):
    token = csrf_of(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


@pytest.mark.parametrize("role, status", [(None, 302), ("archivist", 403), ("curator", 403)])
def test_staff_forms_are_refused_to_whoever_may_not_edit_collections(app, platform, shelf, role, status):
    coll, ids = shelf
    client = client_as(app, role)
    before = snapshot(platform)
    page = "/staff/login" if role is None else f"/collections/{coll.id}"
    for url, data in ((f"/collections/{coll.id}/rename", {"name": "Khác"}),
                      (f"/collections/{coll.id}/describe", {"description": "Khác"}),
                      (f"/collections/{coll.id}/place", {"item": ids["Bích câu"], "position": 1}),
                      (f"/collections/{coll.id}/move", {"items": str(ids["Cung oán"]), "to": ""}),
                      ("/collections", {"name": "Mới"})):
        r = post(client, url, page, **data)
        assert r.status_code == status, url
        if role is None:
            assert "/staff/login" in r.headers["Location"]
    assert snapshot(platform) == before


def test_a_librarian_runs_the_collection_from_its_page(app, platform, shelf):
    coll, ids = shelf
    client = client_as(app, "librarian")
    page = f"/collections/{coll.id}"
    r = post(client, f"{page}/rename", page, name="Sách cổ Hà Nội")
    assert r.status_code == 303 and r.headers["Location"].startswith(page)
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "<h2>Sách cổ Hà Nội</h2>" in html and "Đã lưu." in html
    # search follows at once (no worker): the items are found under the new name (the withdrawn one is
    # not in the index at all)
    assert platform.search.search("trang", actor=CLI, filters={"collection": ["Sách cổ Hà Nội"]}).total == 4
    assert platform.search.search("trang", actor=CLI, filters={"collection": ["Sách Hà Nội"]}).total == 0
    assert post(client, f"{page}/describe", page, description="Sách in trước 1945").status_code == 303
    assert post(client, f"{page}/place", page, item=ids["Bích câu"], position=1).status_code == 303
    assert platform.collections.item_ids(coll.id)[0] == ids["Bích câu"]
    other = platform.collections.create(CLI, "Báo")
    r = post(client, f"{page}/move", page, items=f"{ids['Cung oán']}, {ids['An Nam chí']}", to=str(other.id))
    assert r.status_code == 303 and "Đã chuyển 2 tài liệu." in client.get(r.headers["Location"]).get_data(as_text=True)
    assert sorted(platform.collections.item_ids(other.id)) == sorted([ids["Cung oán"], ids["An Nam chí"]])
    # bad input: the page again (422) naming the field, nothing changed
    before = snapshot(platform)
    for url, data, field in ((f"{page}/rename", {"name": "<b>x</b>"}, "name"),
                             (f"{page}/rename", {"name": "báo"}, "name"),  # the other collection's name
                             (f"{page}/place", {"item": ids["Bích câu"], "position": 99}, "position"),
                             (f"{page}/place", {"item": ids["Cung oán"], "position": 1}, "item"),
                             (f"{page}/move", {"items": "999999", "to": ""}, "item"),
                             ("/collections", {"name": ""}, "name")):
        r = post(client, url, page, **data)
        assert r.status_code == 422, url
        assert f"<strong>{field}</strong>" in r.get_data(as_text=True)
    assert snapshot(platform) == before
    r = post(client, "/collections", "/collections", name="Bản đồ", description="Bản đồ cũ")
    assert r.status_code == 303
    with platform.sessions() as s:
        made = s.scalars(select(Collection).where(Collection.name == "Bản đồ")).one()
    assert r.headers["Location"].startswith(f"/collections/{made.id}")
    assert "Bản đồ cũ" in client_as(app, "admin").get(f"/collections/{made.id}").get_data(as_text=True)


def test_serials_by_title_then_year_then_a_calendar_of_issues(app, platform):
    ids = {}
    for day, n in ((dt.date(1936, 3, 2), "1"), (dt.date(1936, 3, 9), "2"), (dt.date(1936, 11, 30), "30"),
                   (dt.date(1937, 1, 4), "40")):
        ids[n] = add_item(platform, f"Ngày nay số {n}", item_type=ItemType.newspaper, serial_title="Ngày nay",
                          issue_date=day, issue_number=n)
    ids["kín"] = add_item(platform, "Ngày nay số kín", item_type=ItemType.newspaper, serial_title="Ngày nay",
                          issue_date=dt.date(1936, 3, 16), access_level=AccessLevel.staff)
    add_item(platform, "Tạp chí kín số 1", item_type=ItemType.magazine, serial_title="Tạp chí kín",
             year_start=1940, access_level=AccessLevel.staff)
    undated = add_item(platform, "Ngày nay số đặc biệt", item_type=ItemType.newspaper, serial_title="Ngày nay",
                       year_start=1936, issue_number="Tết")
    client = app.test_client()
    shelf = client.get("/serials").get_data(as_text=True)
    assert 'href="/serials/ngay-nay?lang=vi">Ngày nay</a> · 5 số · 1936–1937' in shelf
    assert "Tạp chí kín" not in shelf
    assert client.get("/serials/tap-chi-kin").status_code == 404  # not even its existence
    years = client.get("/serials/ngay-nay").get_data(as_text=True)
    assert 'href="/serials/ngay-nay/1936?lang=vi">1936</a> · 4 số' in years and "/serials/ngay-nay/1937" in years
    assert client.get("/serials/Ngày nay").status_code == 200  # by its title too
    cal = client.get("/serials/ngay-nay/1936").get_data(as_text=True)
    assert "Tháng 3 1936" in cal and "Tháng 11 1936" in cal and "Tháng 1 1936" not in cal  # months with issues
    for n, day in (("1", 2), ("2", 9), ("30", 30)):
        assert f'<a href="/items/{ids[n]}?lang=vi" title="Ngày nay số {n}"' in cal and f">{day}</a>" in cal
    assert f"/items/{ids['kín']}" not in cal and f"/items/{ids['40']}" not in cal
    assert f'/items/{undated}?lang=vi">Ngày nay số đặc biệt</a> · số Tết' in cal  # no day: listed below
    assert "<th scope=\"col\">T2</th>" in cal
    en = app.test_client().get("/serials/ngay-nay/1936?lang=en").get_data(as_text=True)
    assert "March 1936" in en and "<th scope=\"col\">Mo</th>" in en
    staff = client_as(app, "archivist").get("/serials/ngay-nay/1936").get_data(as_text=True)
    assert f"/items/{ids['kín']}" in staff
    assert "Tạp chí kín" in client_as(app, "archivist").get("/serials").get_data(as_text=True)
    for url in ("/serials/ngay-nay/1950", "/serials/ngay-nay/99999", "/serials/ngay-nay/0",
                "/serials/khong-co", "/serials/ngay-nay/123456789012345678901234567890"):
        assert client.get(url).status_code == 404, url


def test_an_item_moved_into_a_hidden_collection_leaves_the_readers_lists(app, platform, shelf):
    coll, ids = shelf
    hidden = platform.collections.create(CLI, "Kho kín")
    platform.access_admin.set_collection_access(CLI, hidden.id, "staff")
    platform.collections.move(CLI, [ids["Cung oán"]], hidden.id)
    html = app.test_client().get(f"/collections/{coll.id}").get_data(as_text=True)
    assert "Cung oán" not in html and "2 tài liệu" in html
    assert app.test_client().get(f"/collections/{hidden.id}").status_code == 404
    with platform.sessions() as s:
        assert s.get(Item, ids["Cung oán"]).collection_id == hidden.id


def test_collections_are_cards_with_a_picture_the_reader_may_see(app, platform):
    from library.catalogue.models import Page

    hidden_first = platform.collections.create(CLI, "Bản đồ cổ", "Bản đồ Hà Nội")
    secret = add_item(platform, "Bản đồ mật", collection_id=hidden_first.id, access_level=AccessLevel.staff)
    public = add_item(platform, "Bản đồ 1890", collection_id=hidden_first.id)
    empty = platform.collections.create(CLI, "Chưa có gì", "")
    with platform.sessions() as s:
        page_of = dict(s.execute(select(Page.item_id, Page.id).where(Page.item_id.in_([secret, public]))).all())

    def cover(html: str, coll) -> str | None:
        card = re.search(rf'<li class="card"><a href="/collections/{coll.id}\?lang=vi">(.*?)</li>', html, re.S)
        assert card, coll.name
        found = re.search(r'<img src="/iiif/image/p(\d+)/full/240,/0/default.jpg" alt=""', card.group(1))
        return found and found.group(1)

    for url in ("/collections?lang=vi", "/?lang=vi"):
        html = app.test_client().get(url).get_data(as_text=True)
        assert cover(html, hidden_first) == str(page_of[public]), url  # never the staff-only item's page
    html = app.test_client().get("/collections?lang=vi").get_data(as_text=True)
    assert cover(html, empty) is None  # no item: a card without a picture
    staff_html = client_as(app, "librarian").get("/collections?lang=vi").get_data(as_text=True)
    assert cover(staff_html, hidden_first) == str(page_of[secret])  # staff see the collection's first item
    assert platform.collections.first_items(Actor.system("tests"), []) == {}
