"""Security fix of issue #10 (point 6): anonymous IIIF requests cannot fill the tile cache. Only the
tiles and sizes that ``info.json`` advertises are kept, the cache is bounded in bytes (least recently
used evicted first), and one request may ask for at most ``maxArea`` output pixels.

The page is a made-up 1200×1600 px image (a gradient, drawn here) stored as a read page's
normalised image; requests go through the real app and its test client."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from library.discovery.iiif import CACHE_DIR, ImageLimits
from library.catalogue.models import Item, ItemType, Page, PageStatus, StoredFile
from tests.conftest import make_settings
from web import create_app

WIDTH, HEIGHT = 1200, 1600


def _read_page(app) -> int:
    """A read page whose normalised image is a 1200×1600 gradient; returns its id."""
    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        s.merge(StoredFile(sha256="b" * 64, size_bytes=1, media_type="image/png", original_name="trang.png"))
        item = Item(title="Bản đồ Hà Nội", languages="vie", item_type=ItemType.book)
        item.pages.append(Page(sequence=1, source_sha256="b" * 64, source_name="trang.png", status=PageStatus.done,
                               width=WIDTH, height=HEIGHT, text="Hà Nội"))
        s.add(item)
        s.flush()
        item_id, page_id = item.id, item.pages[0].id
    img = Image.linear_gradient("L").resize((WIDTH, HEIGHT)).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    p.store.write_bytes(p.store.page_derivative_relpath(item_id, 1, "normalised"), buf.getvalue())
    return page_id


@pytest.fixture
def app(tmp_path):
    app = create_app({"TESTING": True, "IIIF_LIMITS": ImageLimits(cache_bytes=60_000)},
                     settings=make_settings(tmp_path / "data"))
    yield app
    app.extensions["heritage"].close()


def _cache_files(app) -> list:
    root = app.extensions["heritage"].store.resolve(CACHE_DIR)
    return [f for f in root.rglob("*") if f.is_file() and f.suffix in (".jpg", ".png", ".webp")]


def test_only_advertised_tiles_and_sizes_are_cached(app):
    page_id = _read_page(app)
    client = app.test_client()
    base = f"/iiif/image/p{page_id}"
    info = client.get(f"{base}/info.json").json
    assert info["tiles"][0]["scaleFactors"] == [1, 2, 4]
    advertised = [f"{base}/0,0,512,512/512,/0/default.jpg",  # a tile at scale factor 1
                  f"{base}/1024,1024,176,512/176,/0/default.jpg",  # an edge tile
                  f"{base}/0,0,1024,1024/512,/0/default.jpg",  # a tile at scale factor 2
                  f"{base}/full/{info['sizes'][0]['width']},/0/default.jpg",  # an advertised size
                  f"{base}/full/!200,200/0/default.jpg"]  # the manifests' thumbnail
    for url in advertised:
        assert client.get(url).headers["X-IIIF-Cache"] == "miss", url
        assert client.get(url).headers["X-IIIF-Cache"] == "hit", url
    kept = len(_cache_files(app))
    assert kept == len(advertised)
    arbitrary = [f"{base}/13,17,301,203/77,/0/default.jpg", f"{base}/full/333,/0/default.jpg",
                 f"{base}/0,0,512,512/512,/90/default.jpg", f"{base}/0,0,512,512/512,/0/gray.jpg",
                 f"{base}/pct:10,10,50,50/max/0/default.png"]
    for url in arbitrary:
        for _ in range(2):
            r = client.get(url)
            assert r.status_code == 200 and r.headers["X-IIIF-Cache"] == "miss", url
            assert Image.open(io.BytesIO(r.data)).size[0] > 0
    assert len(_cache_files(app)) == kept  # nothing of these was kept


def test_the_cache_is_bounded_and_evicts_the_least_recently_used(tmp_path):
    app = create_app({"TESTING": True, "IIIF_LIMITS": ImageLimits(cache_bytes=6_000)},
                     settings=make_settings(tmp_path / "bounded"))
    page_id = _read_page(app)
    client = app.test_client()
    base = f"/iiif/image/p{page_id}"
    tiles = [f"{base}/{x},{y},512,512/512,/0/default.png" for y in (0, 512) for x in (0, 512)]
    tiles += [f"{base}/{x},{y},{min(512, WIDTH - x)},{min(512, HEIGHT - y)}/{min(512, WIDTH - x)},/0/default.png"
              for y in (1024, 1536) for x in (0, 512, 1024)]
    for url in tiles:
        assert client.get(url).status_code == 200
    total = sum(f.stat().st_size for f in _cache_files(app))
    assert 0 < total <= 6_000 and len(_cache_files(app)) < len(tiles)  # 10 tiles make about 14 kB
    assert client.get(tiles[-1]).headers["X-IIIF-Cache"] == "hit"  # the newest stayed
    assert client.get(tiles[0]).headers["X-IIIF-Cache"] == "miss"  # the oldest went first
    app.extensions["heritage"].close()


def test_one_request_may_ask_for_at_most_max_area_pixels(app):
    page_id = _read_page(app)
    client = app.test_client()
    info = client.get(f"/iiif/image/p{page_id}/info.json").json
    assert info["maxArea"] <= 16_000_000
    r = client.get(f"/iiif/image/p{page_id}/full/^4500,4500/0/default.jpg")  # 20 million pixels
    assert r.status_code == 400 and "maxArea" in r.json["message"]
    r = client.get(f"/iiif/image/p{page_id}/full/^max/0/default.jpg")
    w, h = Image.open(io.BytesIO(r.data)).size
    assert w * h <= info["maxArea"]
