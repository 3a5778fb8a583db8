"""The live progress dashboard: items with their pages and 3D builds with their stages,
the time left (unknown until measured), retry and cancel by role, the JSON its script
polls, the jobs API, and every new staff route refused to every role without it."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from library.access import Actor
from library.catalogue.models import BuildStatus, ItemStatus, ModelVersion, Page, PageStatus, utcnow
from tests.library.test_jobs import add_build, add_item
from tests.web.test_portal import csrf_of
from tests.web.staff_accounts import ACCOUNTS, basic, client_as, staffed_app

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)



@pytest.fixture
def app(settings):
    yield from staffed_app(settings)




@pytest.fixture
def work(app):
    """An item being read (one page failed with a hostile reason, two queued), a monument with a
    queued build and a running one."""
    p = app.extensions["heritage"]
    item_id = add_item(p, "<script>alert('tựa')</script> Sách", [PageStatus.failed, PageStatus.queued,
                                                                   PageStatus.queued])
    with p.sessions.begin() as s:
        page = s.scalars(select(Page).where(Page.item_id == item_id, Page.sequence == 1)).one()
        page.status_reason = "<img src=x onerror=alert(1)>.png: the image data is damaged"
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", name_en="Constellation of Literature Pavilion", actor=SYSTEM)
    queued = add_build(p, m.id, status=BuildStatus.queued)
    running = add_build(p, m.id, status=BuildStatus.running, stage="levels", progress=0.25,
                        started=utcnow() - timedelta(seconds=30))
    return {"item": item_id, "queued": queued, "running": running, "monument": m}


def test_dashboard_shows_pages_and_build_stages_escaped_in_both_languages(app, work):
    html = client_as(app, "librarian").get("/staff/").get_data(as_text=True)
    row = re.search(rf'<tr id="item-{work["item"]}".*?</tr>', html, re.S).group(0)
    assert "&lt;script&gt;alert(&#39;tựa&#39;)&lt;/script&gt; Sách" in row and "<script>alert" not in html
    assert "0/3 · 0 đang đọc · 2 đang chờ · " in row and "1 lỗi" in row
    assert "chưa rõ" in row  # no page timed yet: no guess
    assert "Chưa đo được thời gian đọc trang nào" in html
    pages = re.search(rf'<tr class="pages-row" id="item-{work["item"]}-pages">.*?</details>', html, re.S).group(0)
    assert "&lt;img src=x onerror=alert(1)&gt;.png: the image data is damaged" in pages
    assert pages.count('data-status="queued"') == 2 and "Từng trang (3)" in pages
    assert f'action="/staff/items/{work["item"]}/retry?lang=vi"' in row
    assert f'action="/staff/items/{work["item"]}/cancel?lang=vi"' in row
    build = re.search(rf'<tr id="build-{work["running"]}".*?</tr>', html, re.S).group(0)
    assert "Khuê Văn Các" in build and "đang dựng" in build
    assert "đọc dữ liệu: xong" in build and "các mức chi tiết: đang dựng 25 %" in build
    assert "ảnh đại diện: đang chờ" in build
    assert "/staff/builds/" not in html  # a librarian may not act on builds
    assert 'src="/static/dashboard.js"' in html and "<script>" not in html  # no inline script (CSP)

    en = client_as(app, "curator").get("/staff/?lang=en").get_data(as_text=True)
    assert "0/3 · 0 reading · 2 queued" in en and "levels of detail: building 25 %" in en
    assert "No page has been timed yet" in en and "unknown" in en
    assert f'action="/staff/builds/{work["running"]}/cancel?lang=en"' in en
    assert "/staff/items/" not in en  # a curator may not act on items
    archivist = client_as(app, "archivist").get("/staff/").get_data(as_text=True)
    assert "Khuê Văn Các" in archivist and "<form method=\"post\" action=\"/staff/items" not in archivist
    assert "/staff/builds/" not in archivist


def test_the_estimate_appears_once_pages_are_timed(app, work):
    p = app.extensions["heritage"]
    now = utcnow()
    add_item(p, "Đã đọc", [PageStatus.done] * 2,
             timings=[(now - timedelta(seconds=20), now - timedelta(seconds=8))] * 2)
    html = client_as(app, "librarian").get("/staff/").get_data(as_text=True)
    assert "Ước tính từ 2 trang gần nhất: trung bình 12.0 giây mỗi trang, 2 trang đọc cùng lúc." in html
    row = re.search(rf'<tr id="item-{work["item"]}".*?</tr>', html, re.S).group(0)
    assert '<td class="eta" data-label="Còn lại">khoảng 12 giây</td>' in row  # two queued pages, two workers: one round
    en = client_as(app, "librarian").get("/staff/?lang=en").get_data(as_text=True)
    assert '<td class="eta" data-label="Time left">about 12 s</td>' in en


def test_the_script_polls_json_with_the_board_its_rights_and_its_words(app, work):
    anonymous = app.test_client().get("/staff/jobs.json")
    assert anonymous.status_code == 302 and "/staff/login" in anonymous.headers["Location"]
    r = client_as(app, "curator").get("/staff/jobs.json?lang=en")
    assert r.status_code == 200 and r.mimetype == "application/json" and "no-store" in r.headers["Cache-Control"]
    body = r.get_json()
    assert body["can"] == {"items": False, "builds": True}
    assert body["words"]["cancelled"] == "cancelled" and body["words"]["eta_unknown"] == "unknown"
    item = next(i for i in body["items"] if i["item_id"] == work["item"])
    assert item["title"] == "<script>alert('tựa')</script> Sách"  # raw in JSON; the script sets it as text
    assert item["counts"]["queued"] == 2 and item["eta_s"] is None and len(item["pages"]) == 3
    build = next(b for b in body["builds"] if b["version_id"] == work["running"])
    assert build["stage"] == "levels" and [s["status"] for s in build["stages"]] == ["done", "done", "running",
                                                                                      "queued"]
    assert client_as(app, "librarian").get("/staff/jobs.json").get_json()["can"] == {"items": True, "builds": False}
    assert client_as(app, "librarian").get("/staff/jobs.json").get_json()["words"]["cancelled"] == "đã huỷ"


def test_librarians_cancel_and_retry_an_items_pages(app, work):
    p = app.extensions["heritage"]
    client = client_as(app, "librarian")
    token = csrf_of(client.get("/staff/").get_data(as_text=True))
    assert client.post(f"/staff/items/{work['item']}/cancel").status_code == 400  # no CSRF token
    r = client.post(f"/staff/items/{work['item']}/cancel", data={"csrf_token": token})
    assert r.status_code == 302
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Đã huỷ 2 trang trong hàng đợi." in html
    assert [r.status for r in p.catalogue.page_statuses(work["item"])] == ["failed", "cancelled", "cancelled"]
    assert p.catalogue.item(work["item"]).status == ItemStatus.failed  # finished at once: page 1 had failed
    again = client.post(f"/staff/items/{work['item']}/cancel", data={"csrf_token": token})
    assert again.status_code == 409 and "Không còn trang nào trong hàng đợi để huỷ." in again.get_data(as_text=True)
    missing = client.post("/staff/items/999999/cancel?lang=en", data={"csrf_token": token})
    assert missing.status_code == 404 and "There is no item 999999." in missing.get_data(as_text=True)

    r = client.post(f"/staff/items/{work['item']}/retry?lang=vi", data={"csrf_token": token})  # the language is kept
    assert "Đã đưa 3 trang vào hàng đợi." in client.get(r.headers["Location"]).get_data(as_text=True)
    assert {r.status for r in p.catalogue.page_statuses(work["item"])} == {"queued"}
    r = client.post(f"/staff/items/{work['item']}/retry", data={"csrf_token": token})
    assert "Không có trang lỗi hay đã huỷ nào để thử lại." in client.get(r.headers["Location"]).get_data(as_text=True)
    assert client.post("/staff/items/999999/retry", data={"csrf_token": token}).status_code == 404


def test_curators_cancel_and_retry_builds(app, work):
    p = app.extensions["heritage"]
    client = client_as(app, "curator")
    token = csrf_of(client.get("/staff/").get_data(as_text=True))
    r = client.post(f"/staff/builds/{work['queued']}/cancel", data={"csrf_token": token})
    assert f"Đã huỷ bản dựng {work['queued']}." in client.get(r.headers["Location"]).get_data(as_text=True)
    assert p.monuments.version(work["queued"]).status == BuildStatus.cancelled
    r = client.post(f"/staff/builds/{work['running']}/cancel?lang=en", data={"csrf_token": token})
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert f"Build {work['running']} will stop when its current stage ends." in html
    assert "(stopping)" in html
    with p.sessions() as s:
        assert s.get(ModelVersion, work["running"]).cancel_requested
    busy = client.post(f"/staff/builds/{work['running']}/retry?lang=vi", data={"csrf_token": token})
    assert busy.status_code == 409
    assert f"Bản dựng {work['running']} đang ở trạng thái “đang dựng”" in busy.get_data(as_text=True)
    r = client.post(f"/staff/builds/{work['queued']}/retry", data={"csrf_token": token})
    assert f"Đã đưa bản dựng {work['queued']} vào hàng đợi." in client.get(r.headers["Location"]).get_data(as_text=True)
    assert p.monuments.version(work["queued"]).status == BuildStatus.queued
    assert client.post("/staff/builds/999999/cancel", data={"csrf_token": token}).status_code == 404


def test_the_jobs_api_with_http_basic_by_role(app, work):
    client = app.test_client()
    assert client.get("/api/v1/jobs").status_code == 401  # staff only: sign in first
    body = client.get("/api/v1/jobs", headers=basic("archivist")).get_json()
    assert {i["item_id"] for i in body["items"]} == {work["item"]}
    assert {b["version_id"] for b in body["builds"]} == {work["queued"], work["running"]}
    one = client.get(f"/api/v1/jobs/items/{work['item']}", headers=basic("archivist")).get_json()
    assert one["item_id"] == work["item"] and len(one["pages"]) == 3 and "page_seconds" in one["rates"]
    assert client.get("/api/v1/jobs/items/999999", headers=basic("archivist")).status_code == 404
    b = client.get(f"/api/v1/jobs/builds/{work['running']}", headers=basic("archivist")).get_json()
    assert b["stage"] == "levels" and b["status"] == "running"

    r = client.post(f"/api/v1/items/{work['item']}/cancel", headers=basic("curator"))
    assert r.status_code == 403 and "may not cancel OCR work" in r.get_json()["message"]
    r = client.post(f"/api/v1/items/{work['item']}/cancel", headers=basic("librarian"))
    assert r.status_code == 200 and len(r.get_json()["cancelled"]) == 2 and r.get_json()["still_running"] == 0
    r = client.post(f"/api/v1/items/{work['item']}/retry", headers=basic("admin"))
    assert r.status_code == 200 and len(r.get_json()["requeued"]) == 3
    assert client.post("/api/v1/items/999999/retry", headers=basic("admin")).status_code == 404

    r = client.post(f"/api/v1/builds/{work['queued']}/cancel", headers=basic("librarian"))
    assert r.status_code == 403 and "may not manage 3D builds" in r.get_json()["message"]
    r = client.post(f"/api/v1/builds/{work['queued']}/cancel", headers=basic("curator"))
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    r = client.post(f"/api/v1/builds/{work['running']}/retry", headers=basic("curator"))
    assert r.status_code == 409 and "only failed or cancelled builds" in r.get_json()["message"]
    r = client.post(f"/api/v1/builds/{work['queued']}/retry", headers=basic("admin"))
    assert r.status_code == 200 and r.get_json()["status"] == "queued"


# every staff route this feature adds, and who may use it; everyone else is refused
STAFF_ROUTES = [("get", "/staff/jobs.json", {"librarian", "archivist", "curator", "admin"}),
                ("post", "/staff/items/1/cancel", {"librarian", "admin"}),
                ("post", "/staff/items/1/retry", {"librarian", "admin"}),
                ("post", "/staff/builds/1/cancel", {"curator", "admin"}),
                ("post", "/staff/builds/1/retry", {"curator", "admin"})]
API_ROUTES = [("get", "/api/v1/jobs", {"librarian", "archivist", "curator", "admin"}),
              ("get", "/api/v1/jobs/items/1", {"librarian", "archivist", "curator", "admin"}),
              ("get", "/api/v1/jobs/builds/1", {"librarian", "archivist", "curator", "admin"}),
              ("post", "/api/v1/items/1/cancel", {"librarian", "admin"}),
              ("post", "/api/v1/items/1/retry", {"librarian", "admin"}),
              ("post", "/api/v1/builds/1/cancel", {"curator", "admin"}),
              ("post", "/api/v1/builds/1/retry", {"curator", "admin"})]


@pytest.mark.parametrize("method,path,allowed", STAFF_ROUTES)
def test_every_new_staff_route_refuses_every_role_without_it(app, method, path, allowed):
    anonymous = app.test_client()
    token = csrf_of(anonymous.get("/staff/login").get_data(as_text=True))
    r = getattr(anonymous, method)(path, data={"csrf_token": token})
    assert r.status_code == 302 and "/staff/login" in r.headers["Location"]  # sign in first
    for role in ACCOUNTS:
        client = client_as(app, role)
        token = csrf_of(client.get("/staff/login").get_data(as_text=True))
        r = getattr(client, method)(path, data={"csrf_token": token})
        if role in allowed:
            assert r.status_code != 403, (role, method, path)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)
            assert "Tài khoản của bạn không có quyền này." in r.get_data(as_text=True)


@pytest.mark.parametrize("method,path,allowed", API_ROUTES)
def test_every_new_api_route_refuses_every_role_without_it(app, method, path, allowed):
    client = app.test_client()
    assert getattr(client, method)(path).status_code == 401  # no credentials
    wrong = {"Authorization": "Basic " + base64.b64encode(b"thu.thu:wrong-password").decode()}
    assert getattr(client, method)(path, headers=wrong).status_code == 401
    for role in ACCOUNTS:
        r = getattr(client, method)(path, headers=basic(role))
        if role in allowed:
            assert r.status_code != 403, (role, method, path)
        else:
            assert r.status_code == 403 and r.get_json()["error"] == "PermissionDenied", (role, method, path)
