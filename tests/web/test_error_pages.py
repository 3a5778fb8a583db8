"""People get error pages in their language; programs keep getting JSON."""

from __future__ import annotations

import pytest

from web import create_app


@pytest.fixture
def client(settings):
    app = create_app({"TESTING": True}, settings=settings)
    yield app.test_client()
    app.extensions["heritage"].close()


def test_a_missing_page_is_explained_in_vietnamese_or_english(client):
    r = client.get("/collections/424242", headers={"Accept": "text/html"})
    assert r.status_code == 404 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "Không tìm thấy trang" in html and "Về trang chủ" in html and 'lang="vi"' in html
    en = client.get("/no/such/page?lang=en", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Page not found" in en and "Back to the home page" in en


def test_programs_still_get_json(client):
    r = client.get("/api/v1/items/424242", headers={"Accept": "text/html"})
    assert r.status_code == 404 and r.is_json and r.json["error"] == "NotFound"
    assert client.get("/iiif/image/p424242/info.json").status_code == 404
    r = client.get("/items/424242/download.pdf", headers={"Accept": "application/json"})
    assert r.status_code == 404


def test_a_refused_upload_says_why_on_a_page(client, settings):
    r = client.post("/staff/login", data={"username": "x"}, headers={"Accept": "text/html"})
    assert r.status_code == 400 and "Yêu cầu không hợp lệ" in r.get_data(as_text=True)  # no CSRF token
    assert "CSRF" in r.get_data(as_text=True)
