"""Search over HTTP: the JSON API and IIIF Content Search 2.0 and 1.0 inside an item."""

from __future__ import annotations

import pytest

from tests.library.test_search_integration import read_item  # noqa: F401  (fixture)
from web import create_app

pytestmark = pytest.mark.slow


@pytest.fixture
def client(platform, settings):
    app = create_app({"TESTING": True}, settings=settings)
    yield app.test_client()
    app.extensions["heritage"].close()


def test_search_api_without_diacritics(client, read_item):  # noqa: F811
    r = client.get("/api/v1/search?q=van+mieu&type=book")
    assert r.status_code == 200
    body = r.json
    assert body["total"] == 2 and {h["page"] for h in body["hits"]} == {1, 2}
    assert all(sp["boxes"] for h in body["hits"] for sp in h["spans"])
    assert {f["value"] for f in body["facets"]["type"]} == {"book"}
    bad = client.get("/api/v1/search?q=AND")
    assert bad.status_code == 422 and "word" in bad.json["message"]
    assert client.get("/api/v1/search?q=x&page=abc").status_code == 422


def test_iiif_content_search_2_and_1(client, read_item):  # noqa: F811
    v2 = client.get(f"/iiif/{read_item}/search?q=Ha+Noi")
    assert v2.status_code == 200 and v2.mimetype == "application/ld+json"
    body = v2.json
    assert body["type"] == "AnnotationPage" and body["@context"] == "http://iiif.io/api/search/2/context.json"
    targets = [a["target"] for a in body["items"]]
    assert targets and all(f"/iiif/{read_item}/canvas/p2#xywh=" in t for t in targets)
    x, y, w, h = map(int, targets[0].split("#xywh=")[1].split(","))
    assert w > 0 and h > 0
    quotes = [a["target"]["selector"][0] for a in body["annotations"][0]["items"]]
    assert any(q["exact"] in ("Hà Nội", "Hà", "Nội") for q in quotes)

    v1 = client.get(f"/iiif/{read_item}/search1?q=Văn Miếu").json
    assert v1["@type"] == "sc:AnnotationList" and v1["within"]["total"] >= 2
    assert all(r["on"].split("#")[0].endswith(("/canvas/p1", "/canvas/p2")) for r in v1["resources"])
    assert {h["match"] for h in v1["hits"]} <= {"Văn Miếu", "Văn", "Miếu"}
    assert client.get("/iiif/9999/search?q=x").status_code == 404
    assert client.get(f"/iiif/{read_item}/search?q=" + "a" * 600).status_code == 422


def test_suggestions_as_the_user_types(client, read_item):  # noqa: F811
    r = client.get("/api/v1/suggest?q=ha+no")
    assert r.status_code == 200
    texts = [s["text"] for s in r.json["suggestions"]]
    assert "Hà Nội xưa" in texts
    assert "Sách cổ" in [s["text"] for s in client.get("/api/v1/suggest?q=Sach").json["suggestions"]]
    assert client.get("/api/v1/suggest?q=").status_code in (200, 422)


def test_search_page_boxes_each_hit_on_the_page_image(client, read_item):  # noqa: F811
    import re

    html = client.get("/search?q=quoc+tu+giam").get_data(as_text=True)
    rects = re.findall(r'<rect class="hitbox" x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"><title>([^<]+)</title>',
                       html)
    assert rects and {r[4] for r in rects} <= {"Quốc", "Tử", "Giám", "Quốc Tử Giám"}
    api = client.get("/api/v1/search?q=quoc+tu+giam").json
    boxes = {tuple(b) for h in api["hits"] for sp in h["spans"] for b in sp["boxes"]}
    assert {tuple(int(v) for v in r[:4]) for r in rects} == boxes
    # each hit's page picture: an <img> of a size info.json advertises (so the image service caches it:
    # the second view of the search renders nothing), with a width and height (no layout shift), the
    # boxes drawn over it; the pictures after the first two load lazily
    pictures = re.findall(r'<div class="page-thumb"><img src="(/iiif/image/p\d+/full/(\d+),(\d+)/0/default\.webp)" '
                          r'srcset="([^"]+)" sizes="200px" width="200" height="(\d+)" alt=""( fetchpriority="high"| loading="lazy")?',
                          html)
    assert pictures and len(pictures) == html.count('class="hit"')
    # the first asked for before the rest (the phone's largest paint), the next eager, the others lazy
    assert pictures[0][5] == ' fetchpriority="high"' and all(p[5] == "" for p in pictures[1:2])
    assert all(p[5] == ' loading="lazy"' for p in pictures[2:])
    for src, w, h, srcset, shown_h, _ in pictures[:2]:
        page_id = int(re.search(r"/p(\d+)/", src).group(1))
        info = client.get(f"/iiif/image/p{page_id}/info.json").json
        assert {"width": int(w), "height": int(h)} in info["sizes"] and int(w) <= 512
        assert srcset.startswith(f"{src} {w}w") and abs(int(shown_h) - 200 * int(h) / int(w)) <= 1.5
        for expected in ("miss", "hit"):
            got = client.get(src)
            assert got.status_code == 200 and got.mimetype == "image/webp" and got.data[8:12] == b"WEBP"
            assert got.headers["X-IIIF-Cache"] == expected
