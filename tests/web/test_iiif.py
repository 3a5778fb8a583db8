"""IIIF Image API 3 and Presentation API 3 over real pages: two small Vietnamese
pages are rendered, ingested and read by the real OCR in-process, then served
through Flask's test client; the answers are decoded with Pillow and compared
pixel by pixel with the normalised page image they were cut from.

The request parser is also tested alone, on numbers only (no platform)."""

from __future__ import annotations

import io
import json
import os
import unicodedata

import pytest
from PIL import Image, ImageChops

from library.discovery import iiif
from library.access import Actor
from library.discovery.iiif import ImageLimits, ImageRequestError, parse_request
from library.ingest.service import Upload
from web import create_app
from web import iiif as web_iiif

SYSTEM = Actor.system("tests")  # corrections made by the fixtures: the system's, like the command line's

LINES = [
    ["Văn Miếu được xây dựng năm 1070", "dưới triều vua Lý Thánh Tông."],
    ["Quốc Tử Giám là trường đại học", "đầu tiên của nước ta."],
]
TITLE = "Văn Miếu – Quốc Tử Giám \"Hà Nội\" & 1 < 2"  # JSON is the only escaping


# ------------------------------------------------------------------ the parser alone
def req(region="full", size="max", rotation="0", quality="default", fmt="jpg", w=1500, h=480, limits=ImageLimits()):
    return parse_request(region, size, rotation, quality, fmt, width=w, height=h, limits=limits)


def test_regions_sizes_and_rotations_are_computed_in_source_pixels():
    assert req().region == (0, 0, 1500, 480) and req().size == (1500, 480) and req().full
    assert req("square").region == (510, 0, 480, 480) and not req("square").full
    assert req("100,50,200,100").region == (100, 50, 200, 100)
    assert req("1400,400,500,500").region == (1400, 400, 100, 80)  # clipped at the image edge
    assert req("pct:10,50,20,50").region == (150, 240, 300, 240)
    assert req("0,0,1500,480").full and req("0,0,1500,480").canonical == "full/1500,480/0/default.jpg"
    assert req(size="300,").size == (300, 96) and req(size=",240").size == (750, 240)
    assert req(size="pct:50").size == (750, 240) and req(size="!300,300").size == (300, 96)
    assert req(size="200,200").size == (200, 200)  # w,h may distort
    assert req(size="^3000,").size == (3000, 960) and req(size="^pct:200").size == (3000, 960)
    assert req(size="^!3000,3000").size == (3000, 960) and req(size="!3000,3000").size == (1500, 480)
    small = ImageLimits(max_width_px=1000, max_height_px=1000, max_area_px=200_000)
    assert req(size="max", limits=small).size == (790, 252)  # max respects maxArea
    r = req("10,20,30,40", "15,", "!90", "gray", "png")
    assert (r.mirror, r.rotation_deg, r.output_size) == (True, 90, (20, 15))
    assert r.canonical == "10,20,30,40/15,20/!90/gray.png"
    assert req(rotation="360").rotation_deg == 0 and req(rotation="180.0").rotation_deg == 180


@pytest.mark.parametrize("args, parameter", [
    (dict(region="foo"), "region"),
    (dict(region="0,0,0,10"), "region"),
    (dict(region="1500,0,10,10"), "region"),  # starts outside
    (dict(region="0,480,10,10"), "region"),
    (dict(region="pct:101,0,10,10"), "region"),
    (dict(region="-1,0,10,10"), "region"),
    (dict(size="0,"), "size"),
    (dict(size=",0"), "size"),
    (dict(size="pct:0"), "size"),
    (dict(size="!0,0"), "size"),
    (dict(size="1501,"), "size"),  # upscaling without ^
    (dict(size="pct:101"), "size"),
    (dict(size="^pct:1000"), "size"),  # over maxWidth / maxArea
    (dict(size="^5000,5000"), "size"),
    (dict(size="full"), "size"),  # IIIF 2 syntax, gone in 3
    (dict(size="big"), "size"),
    (dict(rotation="45"), "rotation"),
    (dict(rotation="450"), "rotation"),
    (dict(rotation="-90"), "rotation"),
    (dict(rotation="abc"), "rotation"),
    (dict(quality="sepia"), "quality"),
    (dict(fmt="gif"), "format"),
    (dict(fmt="tif"), "format"),
])
def test_malformed_requests_name_the_parameter(args, parameter):
    with pytest.raises(ImageRequestError) as e:
        req(**args)
    assert e.value.source == parameter and e.value.problem


def test_identifiers_are_only_page_numbers():
    assert iiif.page_id_of("p12") == 12
    for bad in ("12", "p0", "p-1", "p1.png", "..", "p1/../../etc", "/etc/passwd", "p1\x00", "P1", "p١"):
        with pytest.raises(ImageRequestError):
            iiif.page_id_of(bad)


# ------------------------------------------------------------------ real pages through the web
@pytest.fixture
def read_item(platform, tmp_path):
    """An item of two real Vietnamese pages, read by the real OCR in-process."""
    from digitize.synthetic import find_vietnamese_font, render_page

    font = find_vietnamese_font()
    paths = []
    for n, lines in enumerate(LINES):
        page = render_page(lines, font_path=font, dpi=300, page_width_in=5.0, page_height_in=1.6,
                           margin_in=0.3, font_size_pt=14)
        paths.append(tmp_path / f"trang-{n + 1}.png")
        page.image.save(paths[-1], dpi=(300, 300))
    report = platform.ingest.ingest_item(
        [Upload(p, p.name) for p in paths],
        {"title": TITLE, "creator": "Ngô Sĩ Liên", "date": "1936", "type": "book", "language": "vie",
         "collection": "Sách Hà Nội xưa", "rights": "http://rightsstatements.org/vocab/NoC-NC/1.0/",
         "description": "Sách về Văn Miếu."}, actor=SYSTEM)
    assert report.ok, report.as_dict()
    item_id = report.items[0].item_id
    pages = platform.catalogue.page_statuses(item_id)
    for row in pages:
        assert platform.reader.read(row.page_id).value == "done"
    return item_id, [platform.catalogue.page(r.page_id) for r in pages]


@pytest.fixture
def client(settings):
    app = create_app({"TESTING": True}, settings=settings)
    if "iiif" not in app.blueprints:  # until web/__init__.py registers it
        app.register_blueprint(web_iiif.bp)
    yield app.test_client()
    app.extensions["heritage"].close()


def normalised(platform, page) -> Image.Image:
    """The full level of the page's viewer pyramid (the normalised page, JPEG-compressed), which every
    answer is cut from."""
    from library.reading import pyramid

    path = platform.store.resolve(platform.store.page_derivative_relpath(page.item_id, page.sequence, "viewer"))
    return pyramid.full_image(path).convert("L")


def decode(resp) -> Image.Image:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    img = Image.open(io.BytesIO(resp.data))
    img.load()
    return img


def test_info_json_describes_the_normalised_page(platform, read_item, client):
    item_id, pages = read_item
    page = pages[0]
    r = client.get(f"/iiif/image/p{page.id}/info.json")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Content-Type"].startswith("application/json") and "max-age" in r.headers["Cache-Control"]
    info = r.json
    assert info["@context"] == "http://iiif.io/api/image/3/context.json"
    assert info["id"] == f"http://localhost/iiif/image/p{page.id}"
    assert (info["type"], info["protocol"], info["profile"]) == ("ImageService3", "http://iiif.io/api/image",
                                                                 "level2")
    assert (info["width"], info["height"]) == normalised(platform, page).size == (page.width, page.height)
    assert info["maxWidth"] > 0 and info["maxArea"] > 0
    assert info["tiles"][0]["width"] == 512 and info["tiles"][0]["scaleFactors"][0] == 1
    assert info["sizes"][-1] == {"width": page.width, "height": page.height}
    assert {"color", "gray", "bitonal"} <= set(info["extraQualities"])
    ld = client.get(f"/iiif/image/p{page.id}/info.json", headers={"Accept": "application/ld+json"})
    assert ld.headers["Content-Type"].startswith("application/ld+json")
    again = client.get(f"/iiif/image/p{page.id}/info.json", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    base = client.get(f"/iiif/image/p{page.id}")
    assert base.status_code == 303 and base.headers["Location"].endswith(f"/iiif/image/p{page.id}/info.json")


def test_regions_sizes_rotations_and_qualities_match_the_page_pixels(platform, read_item, client):
    _, pages = read_item
    page = pages[0]
    src = normalised(platform, page)
    base = f"/iiif/image/p{page.id}"

    full = decode(client.get(f"{base}/full/max/0/default.png"))
    assert full.size == src.size and ImageChops.difference(full.convert("L"), src).getbbox() is None

    crop = decode(client.get(f"{base}/100,40,300,120/max/0/default.png"))
    assert crop.size == (300, 120)
    assert ImageChops.difference(crop.convert("L"), src.crop((100, 40, 400, 160))).getbbox() is None

    tile = decode(client.get(f"{base}/0,0,512,512/256,/0/default.jpg"))
    assert tile.format == "JPEG" and tile.size == (256, min(512, src.height) // 2)

    assert decode(client.get(f"{base}/full/300,/0/default.jpg")).size == (300, round(src.height * 300 / src.width))
    assert decode(client.get(f"{base}/full/!200,200/0/default.jpg")).size[0] == 200
    assert decode(client.get(f"{base}/full/pct:50/0/default.webp")).format == "WEBP"
    assert decode(client.get(f"{base}/square/max/0/default.jpg")).size == (src.height, src.height)
    assert decode(client.get(f"{base}/full/^pct:150/0/default.jpg")).size == (
        round(src.width * 1.5), round(src.height * 1.5))

    rotated = decode(client.get(f"{base}/100,40,300,120/max/90/default.png"))
    assert rotated.size == (120, 300)
    expected = src.crop((100, 40, 400, 160)).transpose(Image.Transpose.ROTATE_270)  # 90° clockwise
    assert ImageChops.difference(rotated.convert("L"), expected).getbbox() is None
    mirrored = decode(client.get(f"{base}/100,40,300,120/max/!0/default.png"))
    expected = src.crop((100, 40, 400, 160)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    assert ImageChops.difference(mirrored.convert("L"), expected).getbbox() is None
    assert decode(client.get(f"{base}/full/max/180/default.png")).size == src.size

    assert decode(client.get(f"{base}/full/300,/0/gray.jpg")).mode == "L"
    assert decode(client.get(f"{base}/full/300,/0/color.jpg")).mode == "RGB"
    bitonal = decode(client.get(f"{base}/full/max/0/bitonal.png"))
    levels = {v for v, n in enumerate(bitonal.convert("L").histogram()) if n}
    assert levels == {0, 255}


def test_a_repeated_tile_is_served_from_the_cache(platform, read_item, client):
    _, pages = read_item
    page = pages[1]
    h = min(512, client.get(f"/iiif/image/p{page.id}/info.json").json["height"])
    url = f"/iiif/image/p{page.id}/0,0,512,512/512,/0/default.jpg"  # a tile that info.json advertises
    first = client.get(url)
    assert first.status_code == 200 and first.headers["X-IIIF-Cache"] == "miss"
    assert first.headers["Content-Type"] == "image/jpeg" and "public" in first.headers["Cache-Control"]
    cached = list((platform.store.root / "derivatives" / "iiif-cache").rglob("*.jpg"))
    assert len(cached) == 1 and cached[0].read_bytes() == first.data
    assert first.headers["Link"].endswith(f'/iiif/image/p{page.id}/0,0,512,{h}/512,{h}/0/default.jpg>;rel="canonical"')

    second = client.get(url)
    assert second.headers["X-IIIF-Cache"] == "hit" and second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    # the same image asked another way is the same canonical request, hence the same cache file
    same = client.get(f"/iiif/image/p{page.id}/0,0,512,{h}/,{h}/0/default.jpg")
    assert same.headers["X-IIIF-Cache"] == "hit" and same.data == first.data
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert len(list((platform.store.root / "derivatives" / "iiif-cache").rglob("*.jpg"))) == 1
    assert not list((platform.store.root / "derivatives" / "iiif-cache").rglob(".tmp-*"))

    # a page read again has a new normalised image: the old cache entry and ETag no longer apply
    source = platform.store.resolve(platform.store.page_derivative_relpath(page.item_id, page.sequence, "viewer"))
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    fresh = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.headers["X-IIIF-Cache"] == "miss"
    assert fresh.headers["ETag"] != first.headers["ETag"]


def test_bad_requests_get_400_with_the_reason_and_traversal_reads_nothing(platform, read_item, client, tmp_path):
    _, pages = read_item
    base = f"/iiif/image/p{pages[0].id}"
    for path, word in [
        ("foo/max/0/default.jpg", "region"),
        ("5000,5000,10,10/max/0/default.jpg", "outside"),
        ("full/0,/0/default.jpg", "zero"),
        ("full/^pct:5000/0/default.jpg", "limit"),
        ("full/max/45/default.jpg", "90"),
        ("full/max/0/sepia.jpg", "sepia"),
        ("full/max/0/default.gif", "gif"),
        ("full/max/0/default", "format"),
    ]:
        r = client.get(f"{base}/{path}")
        assert r.status_code == 400, (path, r.status_code)
        assert word in r.json["message"], (path, r.json)

    secret = tmp_path / "secret.png"
    Image.new("L", (10, 10)).save(secret)
    for ident in ("..", "%2e%2e", "%2E%2E%2F%2E%2E", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "p1%00",
                  "%00", "p1%2F..", str(secret).replace("/", "%2F"), "p99999", "p0", "../p1"):
        for suffix in ("/info.json", "/full/max/0/default.png"):
            r = client.get(f"/iiif/image/{ident}{suffix}")
            assert r.status_code in (400, 404), (ident, suffix, r.status_code)
            assert not r.data.startswith(b"\x89PNG"), (ident, suffix)
    assert client.get("/iiif/image/p99999/info.json").status_code == 404
    assert "not an image identifier" in client.get("/iiif/image/%2e%2e/info.json").json["message"]


def test_a_page_not_read_yet_is_404_not_ready(platform, client, tmp_path):
    Image.new("L", (300, 200), 255).save(tmp_path / "a.png", dpi=(300, 300))
    report = platform.ingest.ingest_item([Upload(tmp_path / "a.png", "a.png")], {"title": "Chưa đọc"}, actor=SYSTEM)
    item_id = report.items[0].item_id
    page_id = platform.catalogue.page_statuses(item_id)[0].page_id
    r = client.get(f"/iiif/image/p{page_id}/info.json")
    assert r.status_code == 404 and "not ready" in r.json["message"]
    assert client.get(f"/iiif/image/p{page_id}/full/max/0/default.jpg").status_code == 404
    assert client.get(f"/iiif/{item_id}/manifest").status_code == 404


def test_the_manifest_paints_every_read_page_with_the_image_service(platform, read_item, client):
    item_id, pages = read_item
    r = client.get(f"/iiif/{item_id}/manifest")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/ld+json")
    assert r.headers["Access-Control-Allow-Origin"] == "*" and r.headers.get("ETag")
    raw = r.get_data(as_text=True)
    assert '\\"Hà Nội\\" & 1 < 2' in raw  # escaped only by JSON
    m = json.loads(raw)
    assert m["@context"][-1] == "http://iiif.io/api/presentation/3/context.json"
    assert m["id"] == f"http://localhost/iiif/{item_id}/manifest" and m["type"] == "Manifest"
    assert m["label"] == {"vi": [TITLE]} and unicodedata.is_normalized("NFC", raw)
    labels = {row["label"]["en"][0]: row for row in m["metadata"]}
    assert labels["Creator"]["label"]["vi"] == ["Tác giả"] and labels["Creator"]["value"] == {"none": ["Ngô Sĩ Liên"]}
    assert labels["Type"]["value"] == {"vi": ["sách"], "en": ["book"]}
    assert labels["Language"]["value"] == {"vi": ["tiếng Việt"], "en": ["Vietnamese"]}
    assert labels["Collection"]["value"] == {"none": ["Sách Hà Nội xưa"]}
    assert m["rights"] == "http://rightsstatements.org/vocab/NoC-NC/1.0/" and m["summary"] == {"vi": ["Sách về Văn Miếu."]}
    services = {s.get("type") or s.get("@type"): s for s in m["service"]}
    assert services["SearchService2"]["id"] == f"http://localhost/iiif/{item_id}/search"
    assert services["SearchService1"]["@id"] == f"http://localhost/iiif/{item_id}/search1"

    assert [c["id"] for c in m["items"]] == [f"http://localhost/iiif/{item_id}/canvas/p{p.sequence}" for p in pages]
    for canvas, page in zip(m["items"], pages):
        assert canvas["type"] == "Canvas" and (canvas["width"], canvas["height"]) == (page.width, page.height)
        [anno_page] = canvas["items"]
        assert anno_page["type"] == "AnnotationPage"
        [anno] = anno_page["items"]
        assert (anno["type"], anno["motivation"], anno["target"]) == ("Annotation", "painting", canvas["id"])
        body = anno["body"]
        assert body["type"] == "Image" and body["format"] == "image/jpeg"
        [service] = body["service"]
        assert service == {"id": f"http://localhost/iiif/image/p{page.id}", "type": "ImageService3",
                           "profile": "level2"}
        # every URI the viewer will follow answers
        assert client.get(service["id"].removeprefix("http://localhost") + "/info.json").status_code == 200
        assert decode(client.get(body["id"].removeprefix("http://localhost"))).size == (page.width, page.height)
        thumb = canvas["thumbnail"][0]
        assert decode(client.get(thumb["id"].removeprefix("http://localhost"))).size == (thumb["width"],
                                                                                          thumb["height"])
        formats = {s["format"]: s for s in canvas["seeAlso"]}
        hocr = client.get(formats["text/vnd.hocr+html"]["id"].removeprefix("http://localhost"))
        assert hocr.status_code == 200 and "ocr_page" in hocr.get_data(as_text=True)
        alto = client.get(formats["application/xml"]["id"].removeprefix("http://localhost"))
        assert alto.status_code == 200 and b"alto" in alto.data
        text = client.get(formats["text/plain"]["id"].removeprefix("http://localhost"))
        assert text.get_data(as_text=True).strip() == (page.text or "").strip()
        assert client.get(canvas["id"].removeprefix("http://localhost")).status_code == 200

    coll_id = m["partOf"][0]["id"].removeprefix("http://localhost")
    coll = client.get(coll_id).json
    assert coll["type"] == "Collection" and coll["label"] == {"none": ["Sách Hà Nội xưa"]}
    assert [i["id"] for i in coll["items"]] == [m["id"]] and coll["items"][0]["type"] == "Manifest"
    top = client.get("/iiif/collection/top").json
    assert [c["id"] for c in top["items"]] == [m["partOf"][0]["id"]]
    assert client.get("/iiif/collection/999").status_code == 404
    assert client.get("/iiif/999/manifest").status_code == 404
    assert client.get(f"/iiif/{item_id}/canvas/p99/hocr").status_code == 404


def test_page_text_alto_and_hocr_follow_a_correction(platform, read_item, client):
    item_id, pages = read_item
    revision, lines = platform.corrections.lines(pages[0].id)
    before = client.get(f"/iiif/{item_id}/canvas/p1/alto").get_data(as_text=True)
    assert 'CONTENT="Miếu"' in before and "Thăng" not in before
    platform.corrections.correct(SYSTEM, pages[0].id, {0: "Thăng Long ngàn năm văn hiến"}, revision=revision)
    alto = client.get(f"/iiif/{item_id}/canvas/p1/alto").get_data(as_text=True)
    assert 'CONTENT="Thăng"' in alto and 'CONTENT="hiến"' in alto and "corrected by hand" in alto
    hocr = client.get(f"/iiif/{item_id}/canvas/p1/hocr").get_data(as_text=True)
    assert ">Thăng<" in hocr and ">hiến<" in hocr
    text = client.get(f"/iiif/{item_id}/canvas/p1/text").get_data(as_text=True)
    assert text.splitlines()[0] == "Thăng Long ngàn năm văn hiến"
    assert client.get(f"/iiif/{item_id}/canvas/p2/text").get_data(as_text=True).strip() == (pages[1].text or "").strip()
