"""Monument pages for tourists: the 3D model's smallest level first, files served safely."""

from __future__ import annotations

import pytest

from library.access import Actor
from library.monuments.service import BuildSource
from tests.library.test_monuments import point_cloud
from web import create_app

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

pytestmark = pytest.mark.slow


@pytest.fixture
def app(settings):
    app = create_app({"TESTING": True}, settings=settings)
    yield app
    app.extensions["heritage"].close()


def test_a_monument_page_shows_its_model(app, tmp_path):
    p = app.extensions["heritage"]
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", name_en="Constellation of Literature Pavilion",
                                    description_vi="Gác Khuê Văn dựng năm 1805.",
                                    description_en="The pavilion was built in 1805.", actor=SYSTEM)
    v = p.monuments.submit_build(m.id, [BuildSource(point_cloud(tmp_path / "gac.xyz"), "gac.xyz")],
                                 title="Khuê Văn Các (mô hình)", licence="CC BY 4.0", actor=SYSTEM)
    p.monuments.build(v.id)
    client = app.test_client()
    assert "Khuê Văn Các" in client.get("/monuments").get_data(as_text=True)
    html = client.get(f"/monuments/{m.slug}").get_data(as_text=True)
    assert "Gác Khuê Văn dựng năm 1805." in html and "<model-viewer" in html and " ar " in html
    published = p.monuments.published(m.id)[0]
    smallest = published.levels[0][1]
    assert smallest == "preview.glb"  # the lightest level goes first: the preview, drawn before the mobile level
    assert [name for name, _, _ in published.levels][:2] == ["preview", "mobile"]
    assert f'src="/models/{v.id}/{smallest}" data-decoder="draco"' in html  # viewer.js preloads the decoder
    assert published.codec == "draco"
    # the viewer's script is not loaded with the page: viewer.js loads it when the visitor asks for 3D,
    # by a button that says what a phone will download (its two smallest levels)
    assert '<script src="/static/viewer.js" data-module="/static/vendor/model-viewer.min.js">' in html
    assert 'type="module"' not in html
    phone_bytes = sum(level[2] for level in published.levels[:2])
    size = f"{phone_bytes / 1e6:.1f} MB" if phone_bytes >= 100_000 else f"{max(1, round(phone_bytes / 1e3))} kB"
    assert f'class="model-start" aria-controls="model-{published.model_id}"' in html
    assert f"Xem mô hình 3D <small>{size.replace('.', ',')}</small></button>" in html
    # the model's picture is an <img> of the page itself (painted before the viewer's script has run),
    # model-viewer's poster once it has
    assert published.thumbnail
    poster = f'<img slot="poster" class="model-poster" src="/models/{v.id}/{published.thumbnail}" alt="" fetchpriority="high">'
    assert poster in html and html.index(poster) < html.index("</model-viewer>")
    with client.get(f"/models/{v.id}/{published.thumbnail}") as picture:
        assert picture.status_code == 200 and picture.mimetype == "image/webp"
    en = client.get(f"/monuments/{m.slug}?lang=en").get_data(as_text=True)
    assert "Constellation of Literature Pavilion" in en and "built in 1805" in en
    assert f"View in 3D <small>{size}</small></button>" in en
    with client.get(f"/models/{v.id}/{smallest}") as glb:
        assert glb.status_code == 200 and glb.data[:4] == b"glTF" and glb.mimetype == "model/gltf-binary"
    for bad in ("..%2Freport.json", "../../secret_key", "report.json%00.glb", "HIGH.GLB", "x" * 60 + ".glb"):
        assert client.get(f"/models/{v.id}/{bad}").status_code == 404
    with client.get(f"/models/{v.id}/report.json") as report:
        assert report.json["input_kind"] == "point_cloud"
    assert client.get("/monuments/khong-co").status_code == 404
    assert client.get(f"/models/{2**40}/mobile.glb").status_code == 404  # not a 32-bit row number
    csp = client.get(f"/monuments/{m.slug}").headers["Content-Security-Policy"]
    assert "'wasm-unsafe-eval'" in csp and "https:" not in csp


# ------------------------------------------------------------------ guides on the page
@pytest.fixture
def built(app, tmp_path):
    """Khuê Văn Các with its model built from a point cloud (a 1 m sphere), a point and a tour on it."""
    p = app.extensions["heritage"]
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", name_en="Constellation of Literature Pavilion",
                                    lat=21.0286, lon=105.8356, heritage_rank="special_national", period="nhà Nguyễn", actor=SYSTEM)
    v = p.monuments.submit_build(m.id, [BuildSource(point_cloud(tmp_path / "gac.xyz"), "gac.xyz")], title="Gác", actor=SYSTEM)
    p.monuments.build(v.id)
    model_id = p.monuments.published(m.id)[0].model_id
    return {"monument": m, "model_id": model_id, "version_id": v.id}


def add_pages(app, title, texts):
    from library.catalogue.models import Item, ItemType, Page, PageStatus, StoredFile

    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        s.merge(StoredFile(sha256="d" * 64, size_bytes=1, media_type="image/png", original_name="scan.png"))
        item = Item(title=title, languages="vie", item_type=ItemType.newspaper)
        for n, text in enumerate(texts, 1):
            item.pages.append(Page(sequence=n, source_sha256="d" * 64, source_name="scan.png",
                                   status=PageStatus.done, text=text, index_pending=True))
        s.add(item)
        s.flush()
        return item.id


def test_points_of_interest_and_a_tour_on_the_page_in_either_language(app, built):
    from library.catalogue.models import PointOfInterest

    p = app.extensions["heritage"]
    g = p.guides
    window = g.add_point(built["model_id"], position=(0, 0.2, 1), normal=(0, 0, 1), label_vi="Cửa sổ tròn",
                         label_en="Round window", text_vi="Tượng trưng cho sao Khuê.", text_en="The star Khuê.", actor=SYSTEM)
    g.add_point(built["model_id"], position=(0, 1, 0), label_vi="Đỉnh gác", actor=SYSTEM)  # no English label
    with p.sessions.begin() as s:  # a label that never went through the service (an old import, say)
        s.add(PointOfInterest(model_id=built["model_id"], sequence=3, x=1, y=0, z=0, label_vi="<script>alert(1)</script>",
                              label_en='"><img src=x onerror=alert(2)>'))
    tour = g.add_tour(built["model_id"], title_vi="Quanh gác", title_en="Around the pavilion", actor=SYSTEM)
    g.add_stop(tour.id, poi_id=window.id, orbit=(0, 80, 4), caption_vi="Mặt trước & cửa sổ", caption_en="The front",
               dwell_s=3, actor=SYSTEM)
    g.add_stop(tour.id, orbit=(90, 40, 3.5), target=(0, 0.5, 0), field_of_view_deg=40, actor=SYSTEM)
    g.add_tour(built["model_id"], title_vi="Chưa có điểm dừng", actor=SYSTEM)  # an empty tour is not offered

    client = app.test_client()
    html = " ".join(client.get(f"/monuments/{built['monument'].slug}").get_data(as_text=True).split())
    assert f'slot="hotspot-poi-{window.id}"' in html
    assert 'data-position="0m 0.2m 1m" data-normal="0m 0m 1m"' in html
    assert '<span class="hotspot-label">Cửa sổ tròn</span>' in html and "Tượng trưng cho sao Khuê." in html
    assert '<span class="hotspot-label">Đỉnh gác</span>' in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'data-orbit="0deg 80deg 4m" data-target="0m 0.2m 1m" data-fov="30deg"' in html  # the point's position
    assert 'data-orbit="90deg 40deg 3.5m" data-target="0m 0.5m 0m" data-fov="40deg"' in html
    assert 'data-caption="Mặt trước &amp; cửa sổ"' in html and 'data-dwell="3"' in html
    assert "Tham quan có hướng dẫn: Quanh gác" in html and "Chưa có điểm dừng" not in html
    assert 'class="tour-play" aria-pressed="false"' in html and "Điểm sau" in html and "Điểm trước" in html
    assert "Di tích quốc gia đặc biệt" in html and "nhà Nguyễn" in html
    assert 'slot="ar-button"' in html and "/static/monument.js" in html

    en = " ".join(client.get(f"/monuments/{built['monument'].slug}?lang=en").get_data(as_text=True).split())
    assert '<span class="hotspot-label">Round window</span>' in en and "The star Khuê." in en
    assert '<span class="hotspot-label">Đỉnh gác</span>' in en  # the Vietnamese label when there is no English one
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in en and "<img src=x" not in en
    assert "Guided tour: Around the pavilion" in en and 'data-caption="The front"' in en
    assert "Special national monument" in en and "Play" in en
    # the model's text alternative: what it shows, and where its points are as text
    assert 'alt="3D model of Constellation of Literature Pavilion (' in en
    assert "Its points of interest are listed as text below." in en and 'class="poi-list"' in en
    assert 'alt="Mô hình 3D của Khuê Văn Các (' in html and "được kể bằng chữ bên dưới" in html


def test_the_items_that_speak_of_the_monument_are_on_its_page(app, built):
    p = app.extensions["heritage"]
    m = built["monument"]
    found = add_pages(app, "Trung Bắc tân văn", ["Tin vặt.", "<script>alert(1)</script> Khue Van Cac mới sửa."])
    linked = add_pages(app, "Hà Nội & <phố> cổ", ["Gác Khuê Văn."])
    add_pages(app, "Chùa Một Cột", ["Chùa dựng trên một cột đá."])
    assert p.indexer.flush().pages == 4
    p.guides.link_item(m.id, linked, page_sequence=1, note="Ảnh gác năm 1930", actor=SYSTEM)
    html = app.test_client().get(f"/monuments/{m.slug}").get_data(as_text=True)
    related = html[html.index('id="related-items"'):]
    assert f'href="/items/{found}/pages/2?lang=vi">Trung Bắc tân văn</a>' in related  # the page, in the reader
    assert f'href="/items/{linked}/pages/1?lang=vi">Hà Nội &amp; &lt;phố&gt; cổ</a>' in related
    assert "Ảnh gác năm 1930" in related and "Chùa Một Cột" not in related
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in related and "<script>alert" not in related
    assert "<mark>Khue</mark>" in related  # found without diacritics, the name marked in the words around it
    assert "Tìm kiếm đang tạm ngừng" not in related


def test_the_page_works_and_shows_the_curators_links_when_search_is_down(tmp_path, database_url):
    from tests.conftest import free_port, make_settings

    settings = make_settings(tmp_path / "data", database_url=database_url,
                             search_url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    app = create_app({"TESTING": True}, settings=settings)
    try:
        p = app.extensions["heritage"]
        m = p.monuments.create_monument(name_vi="Chùa Trấn Quốc", actor=SYSTEM)
        item_id = add_pages(app, "Chùa Hà Nội", ["Chùa Trấn Quốc bên Hồ Tây."])
        p.guides.link_item(m.id, item_id, actor=SYSTEM)
        r = app.test_client().get(f"/monuments/{m.slug}")
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and "Tìm kiếm đang tạm ngừng" in html
        assert f'href="/items/{item_id}?lang=vi">Chùa Hà Nội</a>' in html
        assert "Mô hình 3D của di tích này đang được dựng." in html  # no model yet
        body = app.test_client().get(f"/api/v1/monuments/{m.slug}").json
        assert body["search_offline"] is True and [i["item_id"] for i in body["items"]] == [item_id]
    finally:
        app.extensions["heritage"].close()


def test_the_map_needs_no_tile_server(app, built):
    """Without tiles the server draws a plan of the site (tests/web/test_site_plan.py): no Leaflet."""
    p = app.extensions["heritage"]
    p.monuments.create_monument(name_vi="Đình <làng> Kim Liên", actor=SYSTEM)  # no coordinates: listed, not on the map
    r = app.test_client().get("/monuments")
    html = r.get_data(as_text=True)
    assert 'id="site-plan"' in html and 'id="monument-map"' not in html and "leaflet" not in html
    assert html.count('<a class="plan-mark" href="/monuments/khue-van-cac?lang=vi">') == 1
    assert html.count('class="plan-mark"') == 1  # only the monument with coordinates is drawn
    assert "Đình &lt;làng&gt; Kim Liên" in html and html.count("data-lat=") == 1
    assert "/static/map.js" not in html
    assert "http://" not in html.replace("http://localhost", "").replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html  # nothing from elsewhere
    assert "img-src 'self' data: blob:;" in r.headers["Content-Security-Policy"]
    en = app.test_client().get("/monuments?lang=en").get_data(as_text=True)
    assert 'data-name="Constellation of Literature Pavilion"' in en and "Special national monument" in en
    assert ">Constellation of Literature Pavilion</text>" in en and ">Site plan</title>" in en


def test_a_tile_server_from_the_settings_is_allowed_and_credited(tmp_path):
    from tests.conftest import make_settings

    for tiles, origin in [("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
                          ("javascript:alert(1)//{z}", None)]:
        settings = make_settings(tmp_path / f"data-{bool(origin)}", map_tiles=tiles,
                                 map_attribution="© Bản đồ <Hà Nội>")
        app = create_app({"TESTING": True}, settings=settings)
        try:
            app.extensions["heritage"].monuments.create_monument(name_vi="Hồ Gươm", lat=21.0288, lon=105.8525, actor=SYSTEM)
            r = app.test_client().get("/monuments")
            html = r.get_data(as_text=True)
            csp = r.headers["Content-Security-Policy"]
            if origin:
                assert f'data-tiles="{tiles}"' in html and f"img-src 'self' {origin} data: blob:" in csp
                assert 'data-attribution="© Bản đồ &lt;Hà Nội&gt;"' in html and "no-tiles" not in html
            else:  # not a web address: no tile layer, the plan of the site instead
                assert "javascript:" not in html and "javascript" not in csp and "leaflet" not in html
                assert 'id="site-plan"' in html and "không có bản đồ nền" in html
        finally:
            app.extensions["heritage"].close()


def test_monuments_as_json(app, built):
    p = app.extensions["heritage"]
    g = p.guides
    point = g.add_point(built["model_id"], position=(0, 1, 0), label_vi="Đỉnh gác", label_en="Top", actor=SYSTEM)
    tour = g.add_tour(built["model_id"], title_vi="Quanh gác", actor=SYSTEM)
    g.add_stop(tour.id, poi_id=point.id, orbit=(30, 60, 4), caption_en="From above", actor=SYSTEM)
    client = app.test_client()
    listing = client.get("/api/v1/monuments").json["monuments"]
    assert [(m["slug"], m["name_vi"], m["lat"], m["heritage_rank"]) for m in listing] == [
        ("khue-van-cac", "Khuê Văn Các", 21.0286, "special_national")]
    assert listing[0]["api"].endswith("/api/v1/monuments/khue-van-cac")
    body = client.get(listing[0]["api"]).json
    assert body["name_en"] == "Constellation of Literature Pavilion" and body["items"] == []
    (model,) = body["models"]
    assert model["model_id"] == built["model_id"] and model["version_id"] == built["version_id"]
    sizes = [lv["bytes"] for lv in model["levels"]]
    assert sizes == sorted(sizes) and all(lv["url"].endswith(".glb") for lv in model["levels"])  # smallest first
    with client.get(model["levels"][0]["url"]) as glb:
        assert glb.data[:4] == b"glTF"
    assert model["points"] == [{"id": point.id, "sequence": 1, "position": [0.0, 1.0, 0.0], "normal": [0.0, 1.0, 0.0],
                                "label_vi": "Đỉnh gác", "label_en": "Top", "text_vi": None, "text_en": None, "item": None}]
    (stop,) = model["tours"][0]["stops"]
    assert stop["orbit"] == {"theta_deg": 30.0, "phi_deg": 60.0, "radius_m": 4.0} and stop["target"] == [0.0, 1.0, 0.0]
    assert stop["caption_en"] == "From above" and stop["poi_id"] == point.id
    missing = client.get("/api/v1/monuments/khong-co")
    assert missing.status_code == 404 and missing.json["error"] == "NotFound"
