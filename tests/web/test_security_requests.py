"""Security fixes of issue #10 (point 6) on requests of any kind, through the real app and its test
client: small bodies except on upload routes (refused before reading), ids past 2⁶³ and huge numbers
answer 404/400, absolute URLs come from ``HERITAGE_PUBLIC_URL`` and not the Host header, the catalogue
and the data folder's secrets are the owner's only, and a search outage is a clear 503."""

from __future__ import annotations

import base64
import io
import stat

import pytest
from library.access import Actor

from tests.conftest import free_port, make_settings
from web import create_app

PASSWORD = "mat-khau-thu-thu"
BASIC = {"Authorization": "Basic " + base64.b64encode(f"thu.thu:{PASSWORD}".encode()).decode()}


def _app(data_dir, **overrides):
    return create_app({"TESTING": True}, settings=make_settings(data_dir, **overrides))


@pytest.fixture
def app(tmp_path):
    app = _app(tmp_path / "data")
    app.extensions["heritage"].users.create(Actor.system("tests"), "thu.thu", PASSWORD, "librarian")
    yield app
    app.extensions["heritage"].close()


def body(size: int) -> io.BytesIO:
    """A request body of ``size`` bytes; its position afterwards tells how much the server read."""
    return io.BytesIO(b"a" * size)


# ------------------------------------------------------------------ 4. body sizes
@pytest.mark.parametrize("path", ["/staff/login", "/search", "/api/v1/search", "/items/1/report"])
def test_a_large_body_is_refused_before_it_is_read(app, path):
    stream = body(8 * 1024 * 1024)
    r = app.test_client().post(path, input_stream=stream, headers={
        "Content-Length": str(8 * 1024 * 1024), "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    assert stream.tell() == 0
    text = r.get_data(as_text=True)
    assert "larger than the limit of 1 MB" in text or "1 MB" in text


def test_a_body_without_a_length_stops_at_the_limit(app):
    stream = body(8 * 1024 * 1024)
    r = app.test_client().post("/staff/login", input_stream=stream, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked"},
        environ_base={"wsgi.input_terminated": True})  # as a server that passes a chunked body on
    assert r.status_code in (400, 413)  # werkzeug stops reading at the limit; the form is then incomplete
    assert stream.tell() <= 1024 * 1024 + 64 * 1024


def test_upload_routes_keep_the_large_limit(app):
    big = b"\x00" * (3 * 1024 * 1024)  # not an image: refused by the ingest, not by the size
    multipart = (b"--b0undary\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nThu\r\n"
                 b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"trang.png\"\r\n"
                 b"Content-Type: image/png\r\n\r\n" + big + b"\r\n--b0undary--\r\n")
    r = app.test_client().post("/api/v1/items", headers=BASIC, data=multipart,
                               content_type="multipart/form-data; boundary=b0undary")
    assert r.status_code == 422, r.get_data(as_text=True)[:300]


# ------------------------------------------------------------------ 9. ids and numbers
@pytest.mark.parametrize("path", ["/api/v1/items/9223372036854775808", "/api/v1/items/99999999999999999999999",
                                  "/items/18446744073709551616", "/api/v1/pages/" + "9" * 5000,
                                  "/iiif/9223372036854775808/manifest"])
def test_ids_past_two_to_the_63_answer_404(app, path):
    r = app.test_client().get(path)
    assert r.status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/search?q=a&from=99999999999999999999",
                                  "/api/v1/search?q=a&to=-99999999999999999999",
                                  "/api/v1/search?q=a&page=99999999999999999999",
                                  "/api/v1/collections/1?page=99999999999999999999",
                                  "/search?q=a&from=99999999999999999999",
                                  "/search?q=a&year=99999999999999999999"])
def test_huge_numbers_answer_a_clear_400_or_empty_result(app, path):
    r = app.test_client().get(path)
    assert r.status_code in (200, 400, 404, 422), (path, r.status_code)
    if r.status_code >= 400 and path.startswith("/api/"):
        assert r.json["message"]


# ------------------------------------------------------------------ 10. public base URL
def test_absolute_urls_come_from_the_public_url_not_the_host_header(tmp_path):
    app = _app(tmp_path / "data", public_url="https://thuvien.example.vn/cong")
    try:
        client = app.test_client()
        r = client.get("/iiif/collection/top", headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
        assert r.status_code == 200
        assert r.json["id"] == "https://thuvien.example.vn/cong/iiif/collection/top"
        spec = client.get("/api/v1/openapi.json", headers={"Host": "evil.example"}).json
        assert spec["servers"][0]["url"] == "https://thuvien.example.vn/cong/api/v1"
        assert "evil.example" not in client.get("/api/v1/collections", headers={"Host": "evil.example"}
                                                ).get_data(as_text=True)
    finally:
        app.extensions["heritage"].close()


def test_a_public_url_that_is_not_http_is_refused(tmp_path):
    with pytest.raises(ValueError, match="HERITAGE_PUBLIC_URL"):
        _app(tmp_path / "data", public_url="thuvien.example.vn")


# ------------------------------------------------------------------ 11. file modes
def test_the_catalogue_and_the_secrets_are_the_owners_only(app):
    data = app.config["HERITAGE_SETTINGS"].data_dir
    app.test_client().get("/")  # every file the portal makes on its first request
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("catalogue.sqlite3", "secret_key", "rate-limits.sqlite"):
        mode = stat.S_IMODE((data / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))
    for wal in data.glob("catalogue.sqlite3-*"):
        assert stat.S_IMODE(wal.stat().st_mode) & 0o077 == 0, wal.name


def test_an_existing_catalogue_readable_by_others_is_closed(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "catalogue.sqlite3").touch(mode=0o644)
    (data / "catalogue.sqlite3").chmod(0o644)
    app = _app(data)
    try:
        assert stat.S_IMODE((data / "catalogue.sqlite3").stat().st_mode) == 0o600
    finally:
        app.extensions["heritage"].close()


# ------------------------------------------------------------------ 12. search outage
def test_a_search_outage_is_a_clear_503(tmp_path):
    app = _app(tmp_path / "data", search_url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    try:
        client = app.test_client()
        api = client.get("/api/v1/search?q=chùa")
        assert api.status_code == 503 and "try again" in api.json["message"]
        page = client.get("/search?q=chùa", headers={"Accept": "text/html"})
        assert page.status_code == 503 and "thử lại" in page.get_data(as_text=True)
    finally:
        app.extensions["heritage"].close()
