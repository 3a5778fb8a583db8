"""The portal's first pages: sign-in with CSRF and rate limits, the dashboard and
its retry by role, the public search page, escaping and security headers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from library.access import Actor
from library.catalogue.models import Item, ItemType, Page, PageStatus
from web import create_app

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)


@pytest.fixture
def app(settings):
    app = create_app({"TESTING": True}, settings=settings)
    users = app.extensions["heritage"].users
    users.create(Actor.system("tests"), "thu.thu", "mat-khau-thu-thu", "librarian")
    users.create(Actor.system("tests"), "luu.tru", "mat-khau-luu-tru", "archivist")
    yield app
    app.extensions["heritage"].close()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, user, password):
    token = csrf_of(client.get("/staff/login").get_data(as_text=True))
    return client.post("/staff/login", data={"username": user, "password": password, "csrf_token": token})


def add_failed_item(app, title="Sách lỗi"):
    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        item = Item(title=title, languages="vie", item_type=ItemType.book)
        from library.catalogue.models import StoredFile

        s.merge(StoredFile(sha256="a" * 64, size_bytes=1, media_type="image/png", original_name="x.png"))
        item.pages.append(Page(sequence=1, source_sha256="a" * 64, source_name="x.png", status=PageStatus.failed,
                               status_reason="x.png: the image data is damaged"))
        s.add(item)
        s.flush()
        return item.id


def test_sign_in_dashboard_and_retry_by_role(app):
    client = app.test_client()
    assert client.get("/staff/").status_code == 302  # sign in first
    item_id = add_failed_item(app)
    r = sign_in(client, "thu.thu", "mat-khau-thu-thu")
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/")
    html = client.get("/staff/").get_data(as_text=True)
    assert "Sách lỗi" in html and "1 lỗi" in html and "Thử lại" in html
    # a form without its CSRF token is refused
    assert client.post(f"/staff/items/{item_id}/retry").status_code == 400
    r = client.post(f"/staff/items/{item_id}/retry", data={"csrf_token": csrf_of(html)})
    assert r.status_code == 302
    assert "Đã đưa 1 trang vào hàng đợi" in client.get("/staff/").get_data(as_text=True)
    with app.extensions["heritage"].sessions() as s:
        assert s.scalars(select(Page.status).where(Page.item_id == item_id)).one() == PageStatus.queued

    archivist = app.test_client()
    sign_in(archivist, "luu.tru", "mat-khau-luu-tru")
    html = archivist.get("/staff/").get_data(as_text=True)
    assert "Thử lại" not in html
    r = archivist.post(f"/staff/items/{item_id}/retry", data={"csrf_token": csrf_of(html)})
    assert r.status_code == 403

    token = csrf_of(client.get("/staff/").get_data(as_text=True))
    client.post("/staff/logout", data={"csrf_token": token})
    assert client.get("/staff/").status_code == 302


def test_wrong_passwords_are_rate_limited(app):
    client = app.test_client()
    for _ in range(5):
        r = sign_in(client, "thu.thu", "wrong-password")
        assert r.status_code == 401 and "Sai tên đăng nhập" in r.get_data(as_text=True)
    r = sign_in(client, "thu.thu", "mat-khau-thu-thu")  # even the right password waits now
    assert r.status_code == 429
    assert sign_in(app.test_client(), "luu.tru", "mat-khau-luu-tru").status_code == 302  # others are not blocked


def test_open_redirects_are_refused(app):
    client = app.test_client()
    token = csrf_of(client.get("/staff/login").get_data(as_text=True))
    r = client.post("/staff/login?next=//evil.example/x", data={"username": "thu.thu",
                                                               "password": "mat-khau-thu-thu", "csrf_token": token})
    assert r.headers["Location"].endswith("/staff/")


def test_security_headers_and_cookies(app):
    r = app.test_client().get("/")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert "style=" not in r.get_data(as_text=True)  # the CSP allows no inline styles
    client = app.test_client()
    r = sign_in(client, "thu.thu", "mat-khau-thu-thu")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_search_page_keeps_the_query_in_the_url_and_escapes_ocr_text(app):
    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        from library.catalogue.models import StoredFile

        s.merge(StoredFile(sha256="b" * 64, size_bytes=1, media_type="image/png", original_name="y.png"))
        item = Item(title="Báo <b>Hà Nội</b>", languages="vie", item_type=ItemType.newspaper, year_start=1936,
                    year_end=1936)
        item.pages.append(Page(sequence=1, source_sha256="b" * 64, source_name="y.png", status=PageStatus.done,
                               text="<script>alert(1)</script> Văn Miếu ở Hà Nội", index_pending=True))
        s.add(item)
    assert p.indexer.flush().pages == 1
    client = app.test_client()
    html = client.get("/search?q=van+mieu").get_data(as_text=True)
    assert "Tìm thấy 1 trang" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<mark>Văn</mark>" in html and "<mark>Miếu</mark>" in html
    assert "Báo &lt;b&gt;Hà Nội&lt;/b&gt;" in html
    assert 'href="?q=van+mieu&amp;type=newspaper"' in html  # a facet link keeps the query
    assert ">báo</a> (1)" in html  # facet values in the reader's language
    en = client.get("/search?q=van+mieu&type=newspaper&lang=en").get_data(as_text=True)
    assert "1 pages found" in en
    assert "No page found" in client.get("/search?q=van+mieu&type=book&lang=en").get_data(as_text=True)
    bad = client.get("/search?q=AND").get_data(as_text=True)
    assert 'role="alert"' in bad and "Traceback" not in bad


def test_upload_form_creates_an_item_through_the_ingest_service(app):
    import io

    from PIL import Image

    def png(seed):
        img = Image.new("L", (400, 200), 255)
        img.paste(0, (20 + seed, 50, 200, 90))
        buf = io.BytesIO()
        img.save(buf, "PNG", dpi=(300, 300))
        return buf.getvalue()

    client = app.test_client()
    sign_in(client, "thu.thu", "mat-khau-thu-thu")
    html = client.get("/staff/upload").get_data(as_text=True)
    # the languages offered beside the free field, Hán script among them, named in the page's language
    assert '<option value="lzh">chữ Hán (Hán văn)</option>' in html
    assert '<option value="lzh+vie">chữ Hán (Hán văn) + tiếng Việt</option>' in html and 'list="languages-offered"' in html
    token = csrf_of(html)
    r = client.post("/staff/upload", data={
        "csrf_token": token, "title": "Nam Phong tạp chí", "date": "1917", "type": "magazine", "language": "vie+fra",
        "files": [(io.BytesIO(png(1)), "trang 2.png"), (io.BytesIO(png(2)), "trang 10.png")]},
        content_type="multipart/form-data")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "Đã tạo tài liệu" in body and "(2 trang)" in body
    item_id = int(re.search(r'href="/items/(\d+)', body).group(1))
    pages = app.extensions["heritage"].catalogue.page_statuses(item_id)
    assert [p.source_name for p in pages] == ["trang 2.png", "trang 10.png"]

    bad = client.post("/staff/upload", data={
        "csrf_token": token, "title": "=cmd|' /C calc'!A0",
        "files": [(io.BytesIO(b"<html>not a scan</html>"), "evil<script>.jpg")]}, content_type="multipart/form-data")
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Không nhận" in body and "spreadsheet formula" in body
    assert "evil<script>" not in body and "evil&lt;script&gt;" in body

    archivist = app.test_client()
    sign_in(archivist, "luu.tru", "mat-khau-luu-tru")
    assert archivist.get("/staff/upload").status_code == 403


def test_upload_form_takes_a_metadata_sheet_with_its_files(app):
    import io

    from PIL import Image

    def png(seed):
        img = Image.new("L", (400, 200), 255)
        img.paste(0, (20 + seed, 50, 200, 90))
        buf = io.BytesIO()
        img.save(buf, "PNG", dpi=(300, 300))
        return io.BytesIO(buf.getvalue())

    sheet = ("tệp,nhan đề,năm,loại,bộ sưu tập\n"
             "so-1.png,Trung Bắc tân văn số 1,1936,newspaper,Báo chí Hà Nội\n"
             "so-2a.png;so-2b.png,Trung Bắc tân văn số 2,1936,newspaper,Báo chí Hà Nội\n"
             "khong-co.png,Số thiếu,1936,newspaper,Báo chí Hà Nội\n").encode("utf-8")
    client = app.test_client()
    sign_in(client, "thu.thu", "mat-khau-thu-thu")
    token = csrf_of(client.get("/staff/upload").get_data(as_text=True))
    r = client.post("/staff/upload", data={
        "csrf_token": token, "sheet": (io.BytesIO(sheet), "bang.csv"),
        "files": [(png(1), "so-1.png"), (png(2), "so-2a.png"), (png(3), "so-2b.png")]},
        content_type="multipart/form-data")
    body = r.get_data(as_text=True)
    assert r.status_code == 422  # one row names a file that was not sent: said, the others are stored
    assert body.count("Đã tạo tài liệu") == 2 and "(2 trang)" in body and "khong-co.png" in body
    titles = {i.title: i for i in app.extensions["heritage"].catalogue.items()}
    assert {"Trung Bắc tân văn số 1", "Trung Bắc tân văn số 2"} <= set(titles) and "Số thiếu" not in titles
    assert titles["Trung Bắc tân văn số 2"].collection.name == "Báo chí Hà Nội"

    hostile = client.post("/staff/upload", data={
        "csrf_token": token, "sheet": (io.BytesIO(sheet), "bang.csv"),
        "files": [(png(1), "so-1.png"), (png(4), "so\u202egnp.exe")]}, content_type="multipart/form-data")
    body = hostile.get_data(as_text=True)
    assert hostile.status_code == 422 and "Không nhận" in body and "Đã tạo" not in body
    assert len(app.extensions["heritage"].catalogue.items()) == 2  # nothing more stored


@pytest.mark.slow
def test_correcting_a_page_in_the_portal(app, tmp_path):
    from library.ingest.service import Upload
    from tests.workers.test_ocr_workers import small_pages

    p = app.extensions["heritage"]
    img = tmp_path / "p.png"
    small_pages(1)[0].image.save(img, dpi=(300, 300))
    item_id = p.ingest.ingest_item([Upload(img, "p.png")], {"title": "Sửa"}, actor=SYSTEM).items[0].item_id
    page_id = p.catalogue.page_statuses(item_id)[0].page_id
    p.reader.read(page_id)
    client = app.test_client()
    sign_in(client, "thu.thu", "mat-khau-thu-thu")
    html = client.get(f"/staff/pages/{page_id}/correct").get_data(as_text=True)
    assert 'name="line-0" value="Văn Miếu được xây dựng năm 1070"' in html
    revision = re.search(r'name="revision" value="(\d+)"', html).group(1)
    r = client.post(f"/staff/pages/{page_id}/correct", data={
        "csrf_token": csrf_of(html), "revision": revision, "line-0": "Văn Miếu được dựng năm 1070",
        "line-1": "dưới triều vua Lý Thánh Tông.", "note": "bỏ chữ xây"})
    assert r.status_code == 302
    html = client.get(f"/staff/pages/{page_id}/correct").get_data(as_text=True)
    assert "Đã lưu phiên bản 2" in html and "bỏ chữ xây" in html
    assert p.catalogue.page(page_id).text.startswith("Văn Miếu được dựng năm 1070")
    stale = client.post(f"/staff/pages/{page_id}/correct", data={
        "csrf_token": csrf_of(html), "revision": revision, "line-0": "khác"})
    assert stale.status_code == 409 and "someone changed" in stale.get_data(as_text=True)
    archivist = app.test_client()
    sign_in(archivist, "luu.tru", "mat-khau-luu-tru")
    assert archivist.get(f"/staff/pages/{page_id}/correct").status_code == 403


def test_every_word_of_the_portal_exists_in_both_languages():
    from web.i18n import TEXT

    assert set(TEXT["vi"]) == set(TEXT["en"])
    assert all(TEXT["vi"][k].strip() and TEXT["en"][k].strip() for k in TEXT["vi"])


def test_search_results_export_as_csv_safe_for_spreadsheets(app):
    import csv
    import io

    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        from library.catalogue.models import StoredFile

        s.merge(StoredFile(sha256="c" * 64, size_bytes=1, media_type="image/png", original_name="z.png"))
        item = Item(title="=HYPERLINK(\"http://x\")", languages="vie", item_type=ItemType.book)
        item.pages.append(Page(sequence=3, source_sha256="c" * 64, source_name="z.png", status=PageStatus.done,
                               text="Văn Miếu – Quốc Tử Giám", index_pending=True))
        s.add(item)
    p.indexer.flush()
    client = app.test_client()
    assert "Xuất CSV" in client.get("/search?q=van+mieu").get_data(as_text=True)
    r = client.get("/search.csv?q=van+mieu")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["item_id", "title", "page", "page_id", "matches", "snippet", "link"]
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")"  # never a live formula
    assert rows[1][2] == "3" and rows[1][4] == "Văn Miếu" and "Quốc Tử Giám" in rows[1][5]
    assert client.get("/search.csv?q=AND").status_code == 422


STAFF_ROUTES = [("get", "/staff/"), ("get", "/staff/upload"), ("post", "/staff/upload"),
                ("post", "/staff/items/1/retry"), ("get", "/staff/pages/1/correct"), ("post", "/staff/pages/1/correct")]
ALLOWED = {  # who may use each route; everyone else is refused
    "/staff/": {"librarian", "archivist", "curator", "admin"},
    "/staff/upload": {"librarian", "admin"},
    "/staff/items/1/retry": {"librarian", "admin"},
    "/staff/pages/1/correct": {"librarian", "admin"},
}


@pytest.mark.parametrize("method,path", STAFF_ROUTES)
def test_every_staff_route_refuses_every_role_without_it(app, method, path):
    users = app.extensions["heritage"].users
    for role in ("curator", "admin"):
        users.create(Actor.system("tests"), f"{role}.x", "mat-khau-dai-lam", role)
    anonymous = app.test_client()
    r = getattr(anonymous, method)(path, data={"csrf_token": csrf_of(anonymous.get("/staff/login").get_data(as_text=True))})
    assert r.status_code == 302 and "/staff/login" in r.headers["Location"]  # sign in first
    accounts = {"librarian": ("thu.thu", "mat-khau-thu-thu"), "archivist": ("luu.tru", "mat-khau-luu-tru"),
                "curator": ("curator.x", "mat-khau-dai-lam"), "admin": ("admin.x", "mat-khau-dai-lam")}
    for role, (name, password) in accounts.items():
        client = app.test_client()
        sign_in(client, name, password)
        token = csrf_of(client.get("/staff/login").get_data(as_text=True))
        r = getattr(client, method)(path, data={"csrf_token": token})
        if role in ALLOWED[path]:
            assert r.status_code != 403, (role, method, path)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)
