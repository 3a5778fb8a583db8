"""The monument guide without signal, as the server offers it: a manifest in the reader's language with
icons that exist, a service worker limited to the monument pages whose precache names files the portal
serves, the monument page registering it (and no book page doing so), and a signed-in user's pages never
kept by any cache. The worker itself is run in a real browser by tests/e2e/test_browser_offline.py."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from library.access import Actor
from library.monuments.service import BuildSource
from tests.library.test_monuments import point_cloud
from tests.web.staff_accounts import client_as, staffed_app

SYSTEM = Actor.system("tests")

pytestmark = pytest.mark.slow


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


def _worker_settings(source: str) -> dict:
    first, _, body = source.partition("\n")
    assert first.startswith("const SETTINGS = ") and first.endswith(";")
    assert "self.addEventListener(\"fetch\"" in body
    return json.loads(first[len("const SETTINGS = "):-1])


def test_the_manifest_names_the_guide_in_the_readers_language(app):
    client = app.test_client()
    vi = client.get("/manifest.webmanifest?lang=vi")
    assert vi.status_code == 200 and vi.mimetype == "application/manifest+json"
    body = vi.get_json(force=True)
    assert body["name"] == "Di sản Hà Nội số" and body["lang"] == "vi" and body["display"] == "standalone"
    assert body["start_url"] == "/monuments?lang=vi" and body["start_url"].startswith(body["scope"])
    en = client.get("/manifest.webmanifest?lang=en").get_json(force=True)
    assert en["name"] == "Hanoi Heritage Online" and en["start_url"] == "/monuments?lang=en"
    assert "without signal" in en["description"]
    for icon in body["icons"]:
        with client.get(icon["src"]) as r:
            assert r.status_code == 200 and r.mimetype == "image/png"
            size = Image.open(io.BytesIO(r.data)).size
        assert f"{size[0]}x{size[1]}" == icon["sizes"]
    assert {i["sizes"] for i in body["icons"]} == {"192x192", "512x512"}
    with client.get("/favicon.ico") as r:
        assert r.status_code == 200 and r.mimetype == "image/png"


def test_the_service_worker_keeps_only_files_the_portal_serves(app):
    client = app.test_client()
    r = client.get("/sw.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript" and r.headers["Cache-Control"] == "no-cache"
    settings = _worker_settings(r.get_data(as_text=True))
    assert settings["scope"] == "/monuments" and re.fullmatch(r"[0-9a-f]{16}", settings["version"])
    assert "/static/vendor/model-viewer.min.js" in settings["precache"]  # the viewer works offline
    assert "/static/offline.js" in settings["precache"] and "/static/site.css" in settings["precache"]
    for url in settings["precache"]:
        with client.get(url) as r:
            assert r.status_code == 200, url
    assert settings["texts"]["vi"]["off_missing"].startswith("Không có mạng")
    assert settings["texts"]["en"]["off_missing"].startswith("You are offline")


def test_a_monument_page_registers_the_worker_and_a_book_page_does_not(app, tmp_path):
    p = app.extensions["heritage"]
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", name_en="Constellation of Literature Pavilion",
                                    actor=SYSTEM)
    v = p.monuments.submit_build(m.id, [BuildSource(point_cloud(tmp_path / "gac.xyz"), "gac.xyz")],
                                 title="Khuê Văn Các", actor=SYSTEM)
    p.monuments.build(v.id)
    client = app.test_client()
    html = client.get(f"/monuments/{m.slug}?lang=en").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest?lang=en">' in html
    assert "/static/offline.js" in html and 'data-worker="/sw.js"' in html and 'data-scope="/monuments"' in html
    assert 'data-ready="This guide is saved for use without signal."' in html
    listing = client.get("/monuments?lang=en").get_data(as_text=True)  # the manifest's start_url
    assert '<link rel="manifest" href="/manifest.webmanifest?lang=en">' in listing
    vi = client.get(f"/monuments/{m.slug}?lang=vi").get_data(as_text=True)
    assert 'data-ready="Đã lưu hướng dẫn này để xem khi không có mạng."' in vi
    for url in ("/?lang=en", "/search?q=x&lang=en", "/collections?lang=en"):
        page = client.get(url).get_data(as_text=True)
        assert "offline.js" not in page and "manifest.webmanifest" not in page, url
        assert 'http-equiv="refresh"' not in page, url


def test_a_signed_in_users_pages_are_never_kept(app):
    anonymous = app.test_client().get("/monuments?lang=en")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")  # a tourist's copy may be kept
    curator = client_as(app, "curator")
    for url in ("/monuments?lang=en", "/staff/?lang=en"):
        r = curator.get(url)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "private, no-store", url
    assert "no-store" not in curator.get("/sw.js").headers["Cache-Control"]  # not a page: its own rule
