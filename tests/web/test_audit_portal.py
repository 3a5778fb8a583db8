"""The audit trail in the portal (issue #11): sign-ins, refused sign-ins and sign-outs recorded with
the address; an administrators' page with filters and a CSV export; the item's trail on its staff
page; nothing for other roles, and no route that edits the trail."""

from __future__ import annotations

import csv
import io

import pytest

from library.access import Actor
from library.catalogue.models import Item, ItemType
from tests.web.staff_accounts import ACCOUNTS, client_as, staffed_app
from tests.web.test_portal import csrf_of, sign_in


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


def _make(p, title="Tin Hà Thành") -> int:
    with p.sessions.begin() as s:
        item = Item(title=title, languages="vie", item_type=ItemType.book)
        s.add(item)
        s.flush()
        return item.id


def test_sign_ins_are_recorded_with_their_address_and_refusals_too(app):
    client = app.test_client()
    assert sign_in(client, "Thu.Thu ", "sai-mat-khau-roi").status_code == 401
    assert sign_in(client, *ACCOUNTS["librarian"]).status_code == 302
    token = csrf_of(client.get("/staff/").get_data(as_text=True))
    client.post("/staff/logout", data={"csrf_token": token})
    trail = app.extensions["heritage"].audit.events()
    assert [e.action for e in trail[:3]] == ["sign_out", "sign_in", "sign_in_refused"]
    refused = trail[2]
    assert refused.detail == {"username": "thu.thu"} and refused.address == "127.0.0.1"
    assert refused.actor == "anonymous:127.0.0.1"
    assert trail[1].actor == "user:thu.thu" and trail[1].role == "librarian"


def test_admins_read_filter_and_export_the_trail_others_may_not(app):
    p = app.extensions["heritage"]
    item_id = _make(p, "Đông Dương tạp chí")
    p.access_admin.withdraw(Actor.system("tests"), item_id, "kiểm tra bản quyền")
    admin = client_as(app, "admin")
    html = admin.get("/staff/admin/audit").get_data(as_text=True)
    assert "Nhật ký thao tác" in html and 'class="audit-withdraw"' in html and "kiểm tra bản quyền" in html
    assert 'href="/staff/admin/audit?lang=vi">Nhật ký thao tác</a>' in html  # in the admin's navigation
    only = admin.get(f"/staff/admin/audit?record=item:{item_id}&lang=en").get_data(as_text=True)
    assert "Audit trail" in only and "audit-withdraw" in only and "audit-sign_in" not in only
    signins = admin.get("/staff/admin/audit?user=quan.tri&action=sign_in").get_data(as_text=True)
    assert "audit-sign_in" in signins and "audit-withdraw" not in signins
    bad = admin.get("/staff/admin/audit?since=2026-02-30")
    assert bad.status_code == 400 and "since" in bad.get_data(as_text=True)

    r = admin.get("/staff/admin/audit.csv?action=withdraw")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [(row["action"], row["record_id"], row["actor"]) for row in rows] == [
        ("withdraw", str(item_id), "system:tests")]
    assert "kiểm tra bản quyền" in rows[0]["detail"]

    for role in ("librarian", "archivist", "curator"):
        c = client_as(app, role)
        assert c.get("/staff/admin/audit").status_code == 403
        assert c.get("/staff/admin/audit.csv").status_code == 403
    assert app.test_client().get("/staff/admin/audit").status_code == 302  # to the sign-in page
    # no route edits or deletes an event
    token = csrf_of(admin.get("/staff/admin/users").get_data(as_text=True))
    for method in ("post", "put", "delete", "patch"):
        assert getattr(admin, method)("/staff/admin/audit", data={"csrf_token": token}).status_code in (400, 405)


def test_the_item_staff_page_shows_its_trail_to_admins(app):
    p = app.extensions["heritage"]
    item_id = _make(p)
    p.access_admin.set_item_access(Actor.system("tests"), item_id, "staff")
    html = client_as(app, "admin").get(f"/staff/items/{item_id}/edit").get_data(as_text=True)
    assert 'id="audit-trail"' in html and "audit-item_access" in html
    lib = client_as(app, "librarian").get(f"/staff/items/{item_id}/edit").get_data(as_text=True)
    assert 'id="audit-trail"' not in lib
