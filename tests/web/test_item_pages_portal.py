"""Page operations in the portal (issue #10): on the staff item page librarians and admins reorder, turn,
replace, remove and add pages, and admins delete the item; on the collection page they read a whole
collection again. Each action changes what readers see (manifest order, the IIIF image turned, a page gone
from the item page, a new page queued); a bad order is refused naming the field with nothing changed;
every route refuses every role without the permission. Real scans read by the real tesseract."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageChops
from sqlalchemy import select

from library.access import Actor
from library.catalogue.models import Page, PageStatus
from library.ingest.service import Upload
from tests.library.test_jobs import small_scans
from tests.web.staff_accounts import ACCOUNTS, client_as, staffed_app
from tests.web.test_item_edit_portal import text_of, token
from tests.web.test_portal import csrf_of

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


# ------------------------------------------------------------------ helpers
def ingest(p, paths, **meta) -> int:
    report = p.ingest.ingest_item([Upload(x, x.name) for x in paths], {"title": "Hà Nội xưa", **meta}, actor=SYSTEM)
    assert report.ok, report.as_dict()
    return report.items[0].item_id


def read_all(p, item_id) -> None:
    """What the workers do: read every queued page, finish the item, update search."""
    for row in p.catalogue.page_statuses(item_id):
        if row.status == "queued":
            p.reader.read(row.page_id)
    p.reader.finish_item(item_id)
    p.indexer.flush()


def pages_of(p, item_id) -> list[Page]:
    with p.sessions() as s:
        return list(s.scalars(select(Page).where(Page.item_id == item_id).order_by(Page.sequence)))


def canvas_pages(client, item_id) -> list[int]:
    """The page ids of the manifest's canvases, in their order (from each canvas's IIIF image service)."""
    r = client.get(f"/iiif/{item_id}/manifest")
    assert r.status_code == 200, r.status_code
    ids = []
    for canvas in r.get_json()["items"]:
        service = canvas["items"][0]["items"][0]["body"]["service"][0]["id"]
        ids.append(int(re.search(r"/p(\d+)$", service).group(1)))
    return ids


def iiif_image(client, page_id) -> Image.Image:
    r = client.get(f"/iiif/image/p{page_id}/full/max/0/default.jpg")
    assert r.status_code == 200, r.status_code
    return Image.open(io.BytesIO(r.data)).convert("L")


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two grey images of one size (0–255)."""
    histogram = ImageChops.difference(a, b).histogram()
    return sum(i * n for i, n in enumerate(histogram)) / (a.width * a.height)


def edit_page(client, item_id):
    r = client.get(f"/staff/items/{item_id}/edit")
    assert r.status_code == 200, r.status_code
    return r


def post(client, path, data, item_id=None, **kw):
    """A form sent as the browser sends it, with the CSRF token of the page it is on."""
    csrf = csrf_of(edit_page(client, item_id).get_data(as_text=True)) if item_id else token(client)
    return client.post(path, data={**data, "csrf_token": csrf}, **kw)


@pytest.fixture
def three(app, tmp_path):
    """An item of three read pages: (platform, item id, [page ids in order])."""
    p = app.extensions["heritage"]
    item_id = ingest(p, small_scans(tmp_path, 3))
    read_all(p, item_id)
    return p, item_id, [x.id for x in pages_of(p, item_id)]


# ------------------------------------------------------------------ the section
def test_the_pages_section_lists_every_page_with_its_image_and_forms(app, three):
    p, item_id, ids = three
    page = edit_page(client_as(app, "librarian"), item_id).get_data(as_text=True)
    section = page[page.index('id="pages"'):page.index('id="history"')]
    for n, pid in enumerate(ids, 1):
        assert f'id="page-row-{n}" data-page-id="{pid}"' in section
        assert f'src="/iiif/image/p{pid}/full/!200,200/0/default.jpg"' in section
        assert f'action="/staff/items/{item_id}/pages/{n}/rotate?lang=vi"' in section
        assert f'action="/staff/items/{item_id}/pages/{n}/replace?lang=vi"' in section
        assert f'action="/staff/items/{item_id}/pages/{n}/remove?lang=vi"' in section
    assert 'name="order" value="1,2,3"' in section and 'enctype="multipart/form-data"' in section
    assert "Các trang" in text_of_html(section) and 'id="delete-form"' not in page  # deleting is for admins
    # the thumbnail answers (the same IIIF image the item page uses)
    assert client_as(app, "librarian").get(f"/iiif/image/p{ids[0]}/full/!200,200/0/default.jpg").status_code == 200
    admin_en = client_as(app, "admin").get(f"/staff/items/{item_id}/edit?lang=en").get_data(as_text=True)
    assert 'id="delete-form"' in admin_en and "Delete the item" in admin_en and "Turn clockwise" in admin_en


def text_of_html(fragment: str) -> str:
    import html

    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


# ------------------------------------------------------------------ reorder
def test_reorder_by_field_and_by_buttons_changes_the_manifest_and_search(app, three):
    p, item_id, ids = three
    client = client_as(app, "librarian")
    reader = app.test_client()
    assert canvas_pages(reader, item_id) == ids
    r = post(client, f"/staff/items/{item_id}/pages/order", {"order": "3, 1,2"}, item_id)
    assert r.status_code == 303 and r.headers["Location"].endswith("#pages")
    assert "Đã sắp xếp lại các trang." in text_of(client.get(r.headers["Location"]))
    assert canvas_pages(reader, item_id) == [ids[2], ids[0], ids[1]]
    hit = p.search.search("Khuê Văn Các", actor=SYSTEM, kinds=("page",)).hits[0]
    assert (hit.page_id, hit.sequence) == (ids[2], 1)  # search followed at once, no worker ran
    r = post(client, f"/staff/items/{item_id}/pages/order", {"page": "3", "move": "up"}, item_id)
    assert r.status_code == 303
    assert canvas_pages(reader, item_id) == [ids[2], ids[1], ids[0]]
    r = post(client, f"/staff/items/{item_id}/pages/order", {"page": "1", "move": "up"}, item_id)
    assert r.status_code == 422 and "trang 1" in text_of(r)
    assert canvas_pages(reader, item_id) == [ids[2], ids[1], ids[0]]


@pytest.mark.parametrize("order, said", [("1,1,2", "named twice"), ("1,2", "page 3 is missing"),
                                         ("1,2,4", "no page 4"), ("3,1,x", "3,1,x"), ("", "không phải")])
def test_a_bad_order_is_refused_naming_the_field_and_nothing_changes(app, three, order, said):
    p, item_id, ids = three
    client = client_as(app, "librarian")
    r = post(client, f"/staff/items/{item_id}/pages/order", {"order": order}, item_id)
    assert r.status_code == 422
    error = text_of_html(re.search(r'id="pages-error">(.*?)</p>', r.get_data(as_text=True), re.S).group(1))
    assert error.startswith("Chưa làm được: order:") and said in error, error
    assert canvas_pages(app.test_client(), item_id) == ids and p.items.history(item_id) == []


# ------------------------------------------------------------------ turn
def test_turning_a_page_turns_its_iiif_image_once_read_again(app, three):
    p, item_id, ids = three
    reader = app.test_client()
    before = iiif_image(reader, ids[1])
    assert before.width > 2 * before.height  # a wide one-line page
    client = client_as(app, "librarian")
    for bad in ("45", "ngang", ""):
        r = post(client, f"/staff/items/{item_id}/pages/2/rotate", {"degrees": bad}, item_id)
        assert r.status_code == 422 and "degrees" in text_of(r)
    with p.sessions.begin() as s:  # a worker is reading page 3 right now
        s.get(Page, ids[2]).status = PageStatus.running
    r = post(client, f"/staff/items/{item_id}/pages/3/rotate", {"degrees": "90"}, item_id)
    assert r.status_code == 409 and "page 3 is being read right now" in text_of(r)
    assert pages_of(p, item_id)[2].rotation_deg == 0
    r = post(client, f"/staff/items/{item_id}/pages/2/rotate", {"degrees": "90"}, item_id)
    assert r.status_code == 303
    assert "Đã xoay trang 2 90°" in text_of(client.get(r.headers["Location"]))
    page = pages_of(p, item_id)[1]
    assert (page.rotation_deg, page.status) == (90, PageStatus.queued)
    p.reader.read(page.id)  # the worker
    after = iiif_image(reader, ids[1])
    assert after.size == (before.height, before.width)
    turned = before.rotate(-90, expand=True)  # clockwise
    assert difference(after, turned) < difference(after, turned.rotate(180)) / 2
    info = reader.get(f"/iiif/image/p{ids[1]}/info.json").get_json()
    assert (info["width"], info["height"]) == (before.height, before.width)


# ------------------------------------------------------------------ replace, remove, add
def test_replacing_a_scan_reads_the_new_one(app, three, tmp_path):
    p, item_id, ids = three
    client = client_as(app, "librarian")
    (tmp_path / "moi").mkdir()
    new = small_scans(tmp_path / "moi", 5)[4]  # another line of text than page 1's
    r = post(client, f"/staff/items/{item_id}/pages/1/replace",
             {"file": (io.BytesIO(new.read_bytes()), "trang-moi.png")}, item_id,
             content_type="multipart/form-data")
    assert r.status_code == 303, text_of(r)[:300]
    page = pages_of(p, item_id)[0]
    assert (page.id, page.source_name, page.status) == (ids[0], "trang-moi.png", PageStatus.queued)
    p.reader.read(page.id)
    assert pages_of(p, item_id)[0].text != pages_of(p, item_id)[1].text
    r = post(client, f"/staff/items/{item_id}/pages/1/replace", {}, item_id, content_type="multipart/form-data")
    assert r.status_code == 422 and "file" in text_of(r)


def test_removing_a_page_needs_the_confirmation_and_takes_it_off_the_item_page(app, three):
    p, item_id, ids = three
    client = client_as(app, "librarian")
    shown = app.test_client().get(f"/items/{item_id}").get_data(as_text=True)
    assert f'src="/iiif/image/p{ids[2]}/full/,240/0/default.jpg"' in shown
    r = post(client, f"/staff/items/{item_id}/pages/3/remove", {}, item_id)
    assert r.status_code == 422 and "confirm" in text_of(r)
    assert [x.id for x in pages_of(p, item_id)] == ids
    r = post(client, f"/staff/items/{item_id}/pages/3/remove", {"confirm": "1"}, item_id)
    assert r.status_code == 303
    assert "Đã bỏ trang 3" in text_of(client.get(r.headers["Location"]))
    shown = app.test_client().get(f"/items/{item_id}").get_data(as_text=True)
    assert f"/iiif/image/p{ids[2]}/" not in shown and 'id="page-3"' not in shown and 'id="page-2"' in shown
    assert canvas_pages(app.test_client(), item_id) == ids[:2]
    r = post(client, f"/staff/items/{item_id}/pages/7/remove", {"confirm": "1"}, item_id)
    assert r.status_code == 422 and "no page 7" in text_of(r)


def test_added_pages_appear_on_the_item_page_queued(app, three, tmp_path):
    p, item_id, ids = three
    client = client_as(app, "librarian")
    (tmp_path / "them").mkdir()
    extra = small_scans(tmp_path / "them", 5)[3:]
    files = [(io.BytesIO(x.read_bytes()), x.name) for x in extra]
    r = post(client, f"/staff/items/{item_id}/pages/add", {"files": files, "at": "2"}, item_id,
             content_type="multipart/form-data")
    assert r.status_code == 303, text_of(r)[:300]
    assert "Đã thêm 2 trang" in text_of(client.get(r.headers["Location"]))
    pages = pages_of(p, item_id)
    assert [x.id for x in pages][0] == ids[0] and [x.id for x in pages][3:] == ids[1:]
    assert [(x.sequence, x.source_name, x.status) for x in pages[1:3]] == [
        (2, "trang-4.png", PageStatus.queued), (3, "trang-5.png", PageStatus.queued)]
    shown = text_of(client.get(f"/items/{item_id}"))
    assert "Trang 2 (trang-4.png)" in shown and "Trang 3 (trang-5.png)" in shown
    again = [(io.BytesIO(extra[0].read_bytes()), extra[0].name)]
    r = post(client, f"/staff/items/{item_id}/pages/add", {"files": again, "at": "9"}, item_id,
             content_type="multipart/form-data")
    assert r.status_code == 422 and "at:" in text_of(r)


def test_file_routes_take_uploads_larger_than_the_small_body_limit(app, three, tmp_path):
    """Replace and add use the upload limit; every other form the small one (here 1000 bytes)."""
    p, item_id, ids = three
    app.config["HERITAGE_SMALL_BODY_BYTES"] = 1000
    client = client_as(app, "librarian")
    (tmp_path / "lon").mkdir()
    scan = small_scans(tmp_path / "lon", 5)[4]
    assert scan.stat().st_size > 1000
    r = post(client, f"/staff/items/{item_id}/pages/2/replace", {"file": (io.BytesIO(scan.read_bytes()), "x.png")},
             item_id, content_type="multipart/form-data")
    assert r.status_code == 303
    r = post(client, f"/staff/items/{item_id}/pages/1/rotate", {"degrees": "90", "pad": "x" * 2000}, item_id)
    assert r.status_code == 413


# ------------------------------------------------------------------ delete
def test_only_admins_delete_and_the_item_is_gone_for_readers(app, three):
    p, item_id, ids = three
    assert app.test_client().get(f"/items/{item_id}").status_code == 200
    r = post(client_as(app, "librarian"), f"/staff/items/{item_id}/delete", {"confirm": "1"}, item_id)
    assert r.status_code == 403
    admin = client_as(app, "admin")
    r = post(admin, f"/staff/items/{item_id}/delete", {"reason": "trùng"}, item_id)
    assert r.status_code == 422 and p.catalogue.item(item_id).deleted_at is None
    r = post(admin, f"/staff/items/{item_id}/delete", {"reason": "Bản trùng", "confirm": "1"}, item_id)
    assert r.status_code == 303
    after = text_of(admin.get(r.headers["Location"]))
    assert "Đã xoá tài liệu." in after and "Lý do: Bản trùng" in after
    assert app.test_client().get(f"/items/{item_id}").status_code == 404
    assert app.test_client().get(f"/iiif/{item_id}/manifest").status_code == 404
    assert p.catalogue.item(item_id).deleted_reason == "Bản trùng"


# ------------------------------------------------------------------ a collection read again
def test_a_whole_collection_is_read_again_from_its_page(app, tmp_path):
    p = app.extensions["heritage"]
    a = ingest(p, small_scans(tmp_path, 2), collection="Sách cổ")
    (tmp_path / "b").mkdir()
    b = ingest(p, small_scans(tmp_path / "b", 3)[2:], collection="Sách cổ")
    (tmp_path / "c").mkdir()
    other = ingest(p, small_scans(tmp_path / "c", 4)[3:])
    for item_id in (a, b, other):
        read_all(p, item_id)
    coll_id = p.catalogue.item(a).collection_id
    path = f"/collections/{coll_id}"
    for role in (None, "archivist", "curator"):
        assert 'id="collection-reread-form"' not in client_as(app, role).get(path).get_data(as_text=True)
    client = client_as(app, "librarian")
    page = client.get(path).get_data(as_text=True)
    assert f'action="/staff/collections/{coll_id}/reread?lang=vi"' in page
    r = client.post(f"/staff/collections/{coll_id}/reread", data={"csrf_token": csrf_of(page), "languages": "jpn"})
    assert r.status_code == 422 and "language" in text_of(r)
    assert {x.status for i in (a, b) for x in pages_of(p, i)} == {PageStatus.done}
    r = client.post(f"/staff/collections/{coll_id}/reread",
                    data={"csrf_token": csrf_of(page), "languages": "vie+eng", "psm": "6"})
    assert r.status_code == 303
    assert "Đã xếp 3 trang vào hàng chờ đọc lại." in text_of(client.get(r.headers["Location"]))
    assert {x.status for i in (a, b) for x in pages_of(p, i)} == {PageStatus.queued}
    assert {x.status for x in pages_of(p, other)} == {PageStatus.done}
    assert p.catalogue.item(b).languages == "vie+eng"


# ------------------------------------------------------------------ who may do what
def _routes(item_id: int, coll_id: int):
    return [  # path, form data, the permission's roles
        (f"/staff/items/{item_id}/pages/order", {"order": "1"}, {"librarian", "admin"}),
        (f"/staff/items/{item_id}/pages/1/rotate", {"degrees": "90"}, {"librarian", "admin"}),
        (f"/staff/items/{item_id}/pages/1/replace", {}, {"librarian", "admin"}),
        (f"/staff/items/{item_id}/pages/1/remove", {}, {"librarian", "admin"}),
        (f"/staff/items/{item_id}/pages/add", {}, {"librarian", "admin"}),
        (f"/staff/items/{item_id}/delete", {}, {"admin"}),
        (f"/staff/collections/{coll_id}/reread", {"languages": "jpn"}, {"librarian", "admin"}),
    ]


ROUTE_NAMES = ["order", "rotate", "replace", "remove", "add", "delete", "collection-reread"]


@pytest.mark.parametrize("route", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
def test_every_page_action_refuses_every_role_without_it(app, tmp_path, route):
    p = app.extensions["heritage"]
    item_id = ingest(p, small_scans(tmp_path, 1), collection="Sách")
    coll_id = p.catalogue.item(item_id).collection_id
    path, data, allowed = _routes(item_id, coll_id)[route]
    anonymous = app.test_client()
    r = anonymous.post(path, data={**data, "csrf_token": token(anonymous)})
    assert r.status_code == 302 and "/staff/login" in r.headers["Location"]  # sign in first
    for role in ACCOUNTS:
        client = client_as(app, role)
        r = client.post(path, data={**data, "csrf_token": token(client)})
        if role in allowed:  # the forms here are refused (no file, no confirmation…) but reach the service
            assert r.status_code in (303, 409, 422), (role, path, r.status_code)
        else:
            assert r.status_code == 403, (role, path, r.status_code)
    item = p.catalogue.item(item_id)
    assert item.deleted_at is None and len(pages_of(p, item_id)) == 1
    assert client_as(app, "admin").post(path, data=data).status_code == 400  # no form without its CSRF token
