"""Items after ingest in the JSON API (issue #10): ``PATCH /items/{id}`` with the revision it starts
from (409 on a concurrent edit, 422 naming the field), the item's history, reading again, access,
withdrawal and restore, and using or refusing a waiting machine reading. HTTP Basic: anonymous 401,
roles without the permission 403. Answers match ``web/openapi.yaml``. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from library.access import Actor
from library.catalogue.models import Item, ItemStatus, PageStatus
from tests.library.test_feedback import read_item
from tests.web.staff_accounts import ACCOUNTS, basic, staffed_app
from tests.web.test_openapi import check

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

CLI = Actor.system("cli")


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


@pytest.fixture
def spec(app):
    return app.test_client().get("/api/v1/openapi.json").get_json()


def test_an_edit_through_the_api_is_found_by_search_at_once(app, spec):
    p = app.extensions["heritage"]
    item_id, _ = read_item(p)
    p.indexer.flush()
    client = app.test_client()
    history = check(spec, "get", "/items/{item_id}/history",
                    client.get(f"/api/v1/items/{item_id}/history", headers=basic("archivist")))
    assert history["record"]["metadata_revision"] == 1 and history["changes"] == []
    body = check(spec, "patch", "/items/{item_id}", client.patch(
        f"/api/v1/items/{item_id}", headers=basic("librarian"),
        json={"title": "Đại Việt sử ký toàn thư", "date": "1479", "language": "vie+chi_tra", "type": "manuscript",
              "issue_number": 3, "expected_revision": 1}))
    assert (body["title"], body["date"], body["languages"], body["type"], body["issue_number"],
            body["metadata_revision"]) == ("Đại Việt sử ký toàn thư", "1479", "vie+chi_tra", "manuscript", "3", 2)
    # no worker runs here: search answers with the new record at once
    hits = client.get("/api/v1/search?q=Văn+Miếu").get_json()["hits"]
    assert {h["title"] for h in hits} == {"Đại Việt sử ký toàn thư"}
    assert client.get("/api/v1/search?q=Văn+Miếu&year=1479").get_json()["total"] == 1
    history = check(spec, "get", "/items/{item_id}/history",
                    client.get(f"/api/v1/items/{item_id}/history", headers=basic("admin")))
    (change,) = history["changes"]
    assert change["actor"] == "user:thu.thu" and change["kind"] == "metadata"
    assert change["changes"]["title"] == ["Đại Việt sử ký", "Đại Việt sử ký toàn thư"]
    assert change["changes"]["item_type"] == ["book", "manuscript"]


def test_a_concurrent_edit_is_409_and_a_broken_rule_422_naming_the_field(app, spec):
    p = app.extensions["heritage"]
    item_id, _ = read_item(p)
    client = app.test_client()
    p.items.edit(CLI, item_id, {"creator": "Lê Văn Hưu"})  # someone saved since revision 1
    stale = check(spec, "patch", "/items/{item_id}", client.patch(
        f"/api/v1/items/{item_id}", headers=basic("librarian"), json={"creator": "Ngô Sĩ Liên",
                                                                       "expected_revision": 1}), code=409)
    assert "edited by someone else" in stale["message"]
    assert p.catalogue.item(item_id).creator == "Lê Văn Hưu"
    for fields, named in (({"date": "1858-02-30"}, "date"), ({"language": "klingon"}, "languages"),
                          ({"title": ""}, "title"), ({"title": "x" * 5000}, "title"),
                          ({"colour": "đỏ"}, "colour"), ({"title": ["a"]}, "title")):
        r = client.patch(f"/api/v1/items/{item_id}", headers=basic("admin"), json={**fields, "expected_revision": 2})
        body = check(spec, "patch", "/items/{item_id}", r, code=422)
        assert named in (body.get("field") or body["source"]), (fields, body)
    for bad in ({"title": "x"}, {"expected_revision": 2}, {"title": "x", "expected_revision": "2"}):
        r = client.patch(f"/api/v1/items/{item_id}", headers=basic("admin"), json=bad)
        assert r.status_code == 422, bad
    r = client.patch(f"/api/v1/items/{item_id}", headers=basic("admin"), data="title=x")  # not JSON
    assert r.status_code == 422 and r.get_json()["source"] == "request"
    item = p.catalogue.item(item_id)
    assert (item.title, item.metadata_revision) == ("Đại Việt sử ký", 2)
    assert client.patch("/api/v1/items/999999", headers=basic("admin"),
                        json={"title": "x", "expected_revision": 1}).status_code == 404


def test_a_reread_through_the_api_queues_the_pages_with_the_new_language(app, spec, tmp_path):
    from library.ingest.service import Upload
    from tests.library.test_jobs import small_scans

    p = app.extensions["heritage"]
    report = p.ingest.ingest_item([Upload(f, f.name) for f in small_scans(tmp_path, 1)], {"title": "Sai"}, actor=SYSTEM)
    item_id = report.items[0].item_id
    with p.sessions.begin() as s:
        s.get(Item, item_id).languages = "xyz"
    (page_id,) = [r.page_id for r in p.catalogue.page_statuses(item_id)]
    p.reader.read(page_id)
    p.reader.finish_item(item_id)
    assert p.catalogue.item(item_id).status == ItemStatus.failed
    client = app.test_client()
    missing = check(spec, "post", "/items/{item_id}/reread", client.post(
        f"/api/v1/items/{item_id}/reread", headers=basic("librarian"), json={"languages": "jpn"}), code=422)
    assert "jpn" in missing["message"] and "installed" in missing["message"]
    for bad in ({"pages": "1"}, {"psm": 99}, {"colour": 1}, {"languages": 3}):
        assert client.post(f"/api/v1/items/{item_id}/reread", headers=basic("librarian"),
                           json=bad).status_code == 422, bad
    body = check(spec, "post", "/items/{item_id}/reread", client.post(
        f"/api/v1/items/{item_id}/reread", headers=basic("admin"), json={"languages": "vie", "psm": 6,
                                                                         "pages": [1]}), code=202)
    assert body["queued"] == [page_id]
    item = p.catalogue.item(item_id)
    assert item.languages == "vie" and '"psm": 6' in item.ocr_options
    assert p.catalogue.page(page_id).status == PageStatus.queued
    p.reader.read(page_id)
    p.reader.finish_item(item_id)
    assert p.catalogue.item(item_id).status == ItemStatus.done and "Văn Miếu" in p.catalogue.page(page_id).text


def test_access_withdrawal_and_restore_through_the_api(app, spec):
    p = app.extensions["heritage"]
    item_id, _ = read_item(p)
    client = app.test_client()
    body = check(spec, "post", "/items/{item_id}/access", client.post(
        f"/api/v1/items/{item_id}/access", headers=basic("librarian"),
        json={"level": "staff", "do_not_index": True}))
    assert body["access"]["level"] == "staff" and body["access"]["do_not_index"] is True
    assert client.get(f"/api/v1/items/{item_id}").status_code == 404  # anonymous: as if it did not exist
    for bad in ({"level": "secret"}, {}, {"level": "public", "do_not_ocr": "yes"},
                {"level": "public", "embargo_until": "2001-01-01", "then": "staff"},
                {"level": "public", "embargo_until": "2999-01-01"}):
        r = client.post(f"/api/v1/items/{item_id}/access", headers=basic("librarian"), json=bad)
        check(spec, "post", "/items/{item_id}/access", r, code=422)
    body = check(spec, "post", "/items/{item_id}/access", client.post(
        f"/api/v1/items/{item_id}/access", headers=basic("admin"),
        json={"level": "public", "embargo_until": "2999-01-01", "then": "staff"}))
    assert body["access"]["embargo_until"] == "2999-01-01" and body["access"]["embargo_then"] == "staff"
    assert client.get(f"/api/v1/items/{item_id}").status_code == 200
    check(spec, "post", "/items/{item_id}/withdraw", client.post(
        f"/api/v1/items/{item_id}/withdraw", headers=basic("librarian"), json={"reason": " "}), code=422)
    body = check(spec, "post", "/items/{item_id}/withdraw", client.post(
        f"/api/v1/items/{item_id}/withdraw", headers=basic("librarian"), json={"reason": "Bản quyền chưa rõ"}))
    assert body["access"]["withdrawn_reason"] == "Bản quyền chưa rõ"
    gone = client.get(f"/api/v1/items/{item_id}")
    assert gone.status_code == 410 and gone.get_json()["message"] == "Bản quyền chưa rõ"
    assert client.get(f"/api/v1/items/{item_id}", headers=basic("archivist")).status_code == 200  # staff see it
    check(spec, "post", "/items/{item_id}/withdraw", client.post(
        f"/api/v1/items/{item_id}/withdraw", headers=basic("librarian"), json={"reason": "lần nữa"}), code=409)
    body = check(spec, "post", "/items/{item_id}/restore", client.post(
        f"/api/v1/items/{item_id}/restore", headers=basic("admin")))
    assert body["access"]["withdrawn_at"] is None and client.get(f"/api/v1/items/{item_id}").status_code == 200
    check(spec, "post", "/items/{item_id}/restore", client.post(
        f"/api/v1/items/{item_id}/restore", headers=basic("admin")), code=409)


def test_a_waiting_machine_reading_is_used_or_refused_through_the_api(app, spec, tmp_path):
    from tests.web.test_item_edit_portal import _waiting_machine_reading

    p = app.extensions["heritage"]
    page_id = _waiting_machine_reading(p, tmp_path)
    waiting = p.catalogue.page(page_id).pending_ocr_version
    client = app.test_client()
    check(spec, "post", "/pages/{page_id}/machine-reading", client.post(
        f"/api/v1/pages/{page_id}/machine-reading", headers=basic("librarian"), json={"use": "no"}), code=422)
    body = check(spec, "post", "/pages/{page_id}/machine-reading", client.post(
        f"/api/v1/pages/{page_id}/machine-reading", headers=basic("librarian"), json={"use": False}))
    assert body == {"page_id": page_id, "used": False, "version": waiting}
    page = p.catalogue.page(page_id)
    assert page.text.startswith("Dòng đã sửa tay") and page.pending_ocr_version is None
    assert [v.version for v in p.corrections.history(page_id)][-1] == waiting  # kept in the history
    check(spec, "post", "/pages/{page_id}/machine-reading", client.post(
        f"/api/v1/pages/{page_id}/machine-reading", headers=basic("librarian"), json={"use": True}), code=409)
    p.items.reread(CLI, item_id=page.item_id)
    p.reader.read(page_id)
    body = check(spec, "post", "/pages/{page_id}/machine-reading", client.post(
        f"/api/v1/pages/{page_id}/machine-reading", headers=basic("admin"), json={"use": True}))
    assert body["used"] is True and "Văn Miếu" in p.catalogue.page(page_id).text
    check(spec, "post", "/pages/{page_id}/machine-reading", client.post(
        "/api/v1/pages/999999/machine-reading", headers=basic("admin"), json={"use": True}), code=404)


# ------------------------------------------------------------------ who may do what
def _calls(item_id: int, page_id: int):
    """method, path, JSON body, roles allowed (the others: 403; anonymous: 401)."""
    edit = {"librarian", "admin"}
    return [
        ("patch", f"/api/v1/items/{item_id}", {"subject": "sử", "expected_revision": 1}, edit),
        ("get", f"/api/v1/items/{item_id}/history", None, set(ACCOUNTS)),
        ("post", f"/api/v1/items/{item_id}/reread", {"pages": [1]}, edit),
        ("post", f"/api/v1/items/{item_id}/access", {"level": "public"}, edit),
        ("post", f"/api/v1/items/{item_id}/withdraw", {"reason": "thử"}, edit),
        ("post", f"/api/v1/items/{item_id}/restore", None, edit),
        ("post", f"/api/v1/pages/{page_id}/machine-reading", {"use": False}, edit),
    ]


CALL_NAMES = ["edit", "history", "reread", "access", "withdraw", "restore", "machine-reading"]


@pytest.mark.parametrize("call", range(len(CALL_NAMES)), ids=CALL_NAMES)
def test_every_item_call_refuses_every_role_without_it(app, call):
    p = app.extensions["heritage"]
    item_id, page_id = read_item(p)
    method, path, body, allowed = _calls(item_id, page_id)[call]
    client = app.test_client()
    r = getattr(client, method)(path, json=body)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic"), r.status_code
    for role in ACCOUNTS:
        r = getattr(client, method)(path, json=body, headers=basic(role))
        if role in allowed:
            # 409: the librarian's edit or withdrawal came first; restoring or deciding with nothing to do
            assert r.status_code in (200, 202, 409), (role, method, path, r.status_code, r.get_json())
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)
            assert ACCOUNTS[role][0] in r.get_json()["message"] or "may not" in r.get_json()["message"]
    item = p.catalogue.item(item_id)
    if CALL_NAMES[call] == "edit":
        assert item.subject == "sử" and item.metadata_revision == 2  # once, by the librarian
    if CALL_NAMES[call] == "withdraw":
        assert item.withdrawn_reason == "thử"
