"""Page operations in the JSON API (issue #10): reorder, turn, replace, remove and add pages, delete an
item (administrators only) and read a whole collection again. Each call changes what readers see
(manifest canvases, the IIIF image turned, pages gone or added and queued); a bad order is 422 naming
``order`` with nothing changed. HTTP Basic: anonymous 401, roles without the permission 403. Answers
match ``web/openapi.yaml``. Real scans read by the real tesseract."""

from __future__ import annotations

import io

import pytest

from library.catalogue.models import PageStatus
from tests.library.test_jobs import small_scans
from tests.web.staff_accounts import ACCOUNTS, basic, staffed_app
from tests.web.test_item_pages_portal import canvas_pages, iiif_image, ingest, pages_of, read_all
from tests.web.test_openapi import check


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


@pytest.fixture
def spec(app):
    return app.test_client().get("/api/v1/openapi.json").get_json()


@pytest.fixture
def three(app, tmp_path):
    p = app.extensions["heritage"]
    item_id = ingest(p, small_scans(tmp_path, 3))
    read_all(p, item_id)
    return p, item_id, [x.id for x in pages_of(p, item_id)]


def upload(path, name=None):
    return (io.BytesIO(path.read_bytes()), name or path.name)


def test_reorder_changes_the_manifest_and_a_bad_order_changes_nothing(app, spec, three):
    p, item_id, ids = three
    client = app.test_client()
    for order, said in (([1, 1, 2], "named twice"), ([1, 2], "page 3 is missing"), ([1, 2, 4], "no page 4"),
                        ("3,1,2", "list of page numbers"), ([3, 1, "2"], "list of page numbers"), (None, "list")):
        body = check(spec, "post", "/items/{item_id}/pages/order", client.post(
            f"/api/v1/items/{item_id}/pages/order", headers=basic("librarian"), json={"order": order}), code=422)
        assert body["source"] == "order" and said in body["problem"], (order, body)
    assert canvas_pages(client, item_id) == ids and p.items.history(item_id) == []
    body = check(spec, "post", "/items/{item_id}/pages/order", client.post(
        f"/api/v1/items/{item_id}/pages/order", headers=basic("librarian"), json={"order": [3, 1, 2]}))
    assert body == {"item_id": item_id, "pages": [ids[2], ids[0], ids[1]]}
    assert canvas_pages(client, item_id) == [ids[2], ids[0], ids[1]]
    listed = client.get(f"/api/v1/items/{item_id}").get_json()["pages"]
    assert [(x["id"], x["sequence"]) for x in listed] == [(ids[2], 1), (ids[0], 2), (ids[1], 3)]


def test_rotate_turns_the_iiif_image_once_read_again(app, spec, three):
    p, item_id, ids = three
    client = app.test_client()
    before = iiif_image(client, ids[0])
    for bad in (45, "90", None, True):
        body = check(spec, "post", "/items/{item_id}/pages/{page_number}/rotate", client.post(
            f"/api/v1/items/{item_id}/pages/1/rotate", headers=basic("admin"), json={"degrees": bad}), code=422)
        assert body["source"] == "degrees", bad
    body = check(spec, "post", "/items/{item_id}/pages/{page_number}/rotate", client.post(
        f"/api/v1/items/{item_id}/pages/4/rotate", headers=basic("admin"), json={"degrees": 90}), code=422)
    assert body["source"] == "page" and "no page 4" in body["problem"]
    body = check(spec, "post", "/items/{item_id}/pages/{page_number}/rotate", client.post(
        f"/api/v1/items/{item_id}/pages/1/rotate", headers=basic("librarian"), json={"degrees": 270}), code=202)
    assert body == {"item_id": item_id, "page": 1, "page_id": ids[0], "queued": [ids[0]]}
    assert pages_of(p, item_id)[0].status == PageStatus.queued
    p.reader.read(ids[0])  # the worker
    after = iiif_image(client, ids[0])
    assert after.size == (before.height, before.width)


def test_replace_remove_and_add_pages(app, spec, three, tmp_path):
    p, item_id, ids = three
    client = app.test_client()
    (tmp_path / "moi").mkdir()
    scans = small_scans(tmp_path / "moi", 5)
    body = check(spec, "post", "/items/{item_id}/pages/{page_number}/replace", client.post(
        f"/api/v1/items/{item_id}/pages/2/replace", headers=basic("librarian"),
        data={"file": upload(scans[4], "thay.png")}), code=202)
    assert body["page_id"] == ids[1] and body["queued"] == [ids[1]]
    assert (pages_of(p, item_id)[1].source_name, pages_of(p, item_id)[1].status) == ("thay.png", PageStatus.queued)
    body = check(spec, "post", "/items/{item_id}/pages/{page_number}/replace", client.post(
        f"/api/v1/items/{item_id}/pages/2/replace", headers=basic("librarian"), data={}), code=422)
    assert body["source"] == "file"

    body = check(spec, "delete", "/items/{item_id}/pages/{page_number}", client.delete(
        f"/api/v1/items/{item_id}/pages/3", headers=basic("librarian")))
    assert body == {"item_id": item_id, "removed": ids[2]}
    assert canvas_pages(client, item_id) == ids[:2]
    assert [x["id"] for x in client.get(f"/api/v1/items/{item_id}").get_json()["pages"]] == ids[:2]
    check(spec, "delete", "/items/{item_id}/pages/{page_number}", client.delete(
        f"/api/v1/items/{item_id}/pages/3", headers=basic("librarian")), code=422)

    body = check(spec, "post", "/items/{item_id}/pages", client.post(
        f"/api/v1/items/{item_id}/pages", headers=basic("librarian"),
        data={"file": [upload(scans[3]), upload(scans[2])], "at": "1"}), code=201)
    assert len(body["added"]) == 2 and body["queued"] == body["added"]
    listed = client.get(f"/api/v1/items/{item_id}").get_json()["pages"]
    assert [(x["id"], x["status"]) for x in listed] == [(body["added"][0], "queued"), (body["added"][1], "queued"),
                                                       (ids[0], "done"), (ids[1], "queued")]
    body = check(spec, "post", "/items/{item_id}/pages", client.post(
        f"/api/v1/items/{item_id}/pages", headers=basic("librarian"), data={"file": [upload(scans[0], "z.png")],
                                                                             "at": "9"}), code=422)
    assert body["source"] == "at"
    check(spec, "post", "/items/{item_id}/pages", client.post(
        f"/api/v1/items/{item_id}/pages", headers=basic("librarian"), data={}), code=422)


def test_delete_is_for_administrators_and_the_item_is_gone(app, spec, three):
    p, item_id, ids = three
    client = app.test_client()
    check(spec, "delete", "/items/{item_id}", client.delete(f"/api/v1/items/{item_id}"), code=401)
    for role in ("librarian", "archivist", "curator"):
        check(spec, "delete", "/items/{item_id}", client.delete(f"/api/v1/items/{item_id}", headers=basic(role),
                                                                json={"reason": "x"}), code=403)
    check(spec, "delete", "/items/{item_id}", client.delete(f"/api/v1/items/{item_id}", headers=basic("admin"),
                                                            json={"reason": 3}), code=422)
    assert p.catalogue.item(item_id).deleted_at is None
    body = check(spec, "delete", "/items/{item_id}", client.delete(
        f"/api/v1/items/{item_id}", headers=basic("admin"), json={"reason": "Bản trùng"}))
    assert body["item_id"] == item_id and body["reason"] == "Bản trùng"
    assert client.get(f"/api/v1/items/{item_id}").status_code == 404
    assert client.get(f"/iiif/{item_id}/manifest").status_code == 404
    assert client.get("/api/v1/search?q=Văn+Miếu").get_json()["total"] == 0
    check(spec, "delete", "/items/{item_id}", client.delete(f"/api/v1/items/{item_id}", headers=basic("admin")),
          code=409)
    check(spec, "delete", "/items/{item_id}", client.delete("/api/v1/items/999999", headers=basic("admin")),
          code=404)


def test_a_collection_is_read_again_every_item_queued(app, spec, tmp_path):
    p = app.extensions["heritage"]
    a = ingest(p, small_scans(tmp_path, 2), collection="Báo chí")
    (tmp_path / "b").mkdir()
    b = ingest(p, small_scans(tmp_path / "b", 3)[2:], collection="Báo chí")
    (tmp_path / "c").mkdir()
    other = ingest(p, small_scans(tmp_path / "c", 4)[3:], collection="Sách")
    for item_id in (a, b, other):
        read_all(p, item_id)
    coll_id = p.catalogue.item(a).collection_id
    client = app.test_client()
    url = f"/api/v1/collections/{coll_id}/reread"
    check(spec, "post", "/collections/{collection_id}/reread", client.post(url, json={}), code=401)
    for role in ("archivist", "curator"):
        check(spec, "post", "/collections/{collection_id}/reread", client.post(url, headers=basic(role), json={}),
              code=403)
    for bad, field in (({"languages": "jpn"}, "language"), ({"pages": [1]}, "pages"), ({"psm": 99}, "psm"),
                       ({"languages": 3}, "languages")):
        body = check(spec, "post", "/collections/{collection_id}/reread",
                     client.post(url, headers=basic("librarian"), json=bad), code=422)
        assert field in body["source"], (bad, body)
    assert {x.status for i in (a, b) for x in pages_of(p, i)} == {PageStatus.done}
    body = check(spec, "post", "/collections/{collection_id}/reread",
                 client.post(url, headers=basic("librarian"), json={"languages": "vie+eng", "psm": 6}), code=202)
    queued = {x.id for i in (a, b) for x in pages_of(p, i)}
    assert body["collection_id"] == coll_id and set(body["queued"]) == queued and len(queued) == 3
    assert {x.status for i in (a, b) for x in pages_of(p, i)} == {PageStatus.queued}
    assert {x.status for x in pages_of(p, other)} == {PageStatus.done}
    check(spec, "post", "/collections/{collection_id}/reread",
          client.post("/api/v1/collections/999999/reread", headers=basic("admin"), json={}), code=404)


# ------------------------------------------------------------------ who may do what
def _calls(item_id: int, coll_id: int):
    return [  # method, path, keyword arguments, roles allowed
        ("post", f"/api/v1/items/{item_id}/pages/order", {"json": {"order": [1]}}, {"librarian", "admin"}),
        ("post", f"/api/v1/items/{item_id}/pages/1/rotate", {"json": {"degrees": 180}}, {"librarian", "admin"}),
        ("post", f"/api/v1/items/{item_id}/pages/1/replace", {"data": {}}, {"librarian", "admin"}),
        ("delete", f"/api/v1/items/{item_id}/pages/1", {}, {"librarian", "admin"}),
        ("post", f"/api/v1/items/{item_id}/pages", {"data": {}}, {"librarian", "admin"}),
        ("post", f"/api/v1/collections/{coll_id}/reread", {"json": {"languages": "jpn"}}, {"librarian", "admin"}),
    ]


CALL_NAMES = ["order", "rotate", "replace", "remove-page", "add-pages", "collection-reread"]


@pytest.mark.parametrize("call", range(len(CALL_NAMES)), ids=CALL_NAMES)
def test_every_page_call_is_401_anonymous_and_403_without_the_permission(app, tmp_path, call):
    p = app.extensions["heritage"]
    item_id = ingest(p, small_scans(tmp_path, 1), collection="Sách")
    coll_id = p.catalogue.item(item_id).collection_id
    method, path, kw, allowed = _calls(item_id, coll_id)[call]
    client = app.test_client()
    r = getattr(client, method)(path, **kw)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    for role in ACCOUNTS:
        r = getattr(client, method)(path, headers=basic(role), **kw)
        if role in allowed:  # refused input (only page, no file, no model…) or done: the service was reached
            assert r.status_code in (200, 202, 422), (role, path, r.status_code, r.get_json())
        else:
            assert r.status_code == 403 and r.get_json()["error"] == "PermissionDenied", (role, path)
    assert len(pages_of(p, item_id)) == 1 and p.catalogue.item(item_id).deleted_at is None
