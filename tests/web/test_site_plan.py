"""The plan of the site when no map tile server is configured (web/site_plan.py, site_plan.html): the
monuments of the page placed by their coordinates on an SVG the server draws, each a link, with a north
arrow and a round scale bar; no Leaflet at all then, and Leaflet as before when tiles are set. The
geometry is checked as functions, the page through the real Flask app on a real SQLite catalogue."""

from __future__ import annotations

import html as html_lib
import math
import re
import xml.etree.ElementTree as ET

import pytest

from library.access import Actor
from web import site_plan as sp
from web.site_plan import Place, project, scale_bar, site_plan

SYSTEM = Actor.system("tests")
SVG = "{http://www.w3.org/2000/svg}"
ROUND = {10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000}

# (name_vi, name_en, lat, lon): Hà Nội's old quarter and around
VAN_MIEU = ("Văn Miếu – Quốc Tử Giám", "Temple of Literature", 21.0277, 105.8355)
MOT_COT = ("Chùa Một Cột", "One Pillar Pagoda", 21.0359, 105.8337)  # the northernmost
HO_GUOM = ("Hồ Gươm", "Hoan Kiem Lake", 21.0288, 105.8525)
NHA_HAT = ("Nhà hát Lớn", "Opera House", 21.0245, 105.8577)  # the easternmost, the southernmost


# ------------------------------------------------------------------ the geometry, as functions
def test_the_projection_keeps_east_and_north_and_the_distances():
    lat0, lon0 = 21.03, 105.845
    x_w, y_w = project(*VAN_MIEU[2:], lat0, lon0)
    x_e, y_e = project(*NHA_HAT[2:], lat0, lon0)
    x_n, y_n = project(*MOT_COT[2:], lat0, lon0)
    assert x_e > x_w and y_n < y_w and y_n < y_e  # east is right, north is up (SVG's y grows down)
    assert project(lat0, lon0, lat0, lon0) == (0.0, 0.0)
    for a, b in ((VAN_MIEU, NHA_HAT), (MOT_COT, HO_GUOM), (VAN_MIEU, MOT_COT)):
        (xa, ya), (xb, yb) = project(*a[2:], lat0, lon0), project(*b[2:], lat0, lon0)
        true = sp.haversine_m(*a[2:], *b[2:])
        assert abs(math.hypot(xa - xb, ya - yb) - true) < 0.002 * true  # a few metres in 2.5 km
    assert abs(sp.haversine_m(21.0, 105.0, 21.001, 105.0) - 111.195) < 0.01  # a thousandth of a degree north


def test_the_scale_bar_is_a_round_length_a_quarter_to_a_third_of_the_width():
    for units_per_metre in (5.0, 1.3, 0.587, 0.2, 0.07, 0.013, 0.004, 0.0011, 0.0004):
        bar = scale_bar(units_per_metre)
        assert bar.metres in ROUND and abs(bar.length - bar.metres * units_per_metre) < 0.06
        assert 0.18 * sp.WIDTH <= bar.length <= 0.46 * sp.WIDTH, (units_per_metre, bar)
        assert re.fullmatch(r"(10|20|50|100|200|500) m|(1|2|5|10|20|50|100|200|500) km", bar.label)
    assert scale_bar(117.3 / 200).label == "200 m" and scale_bar(0.1).label == "1 km"
    # a bar of exactly a quarter or a third of the width is kept
    assert scale_bar(sp.WIDTH / 4 / 500).metres == 500 and scale_bar(sp.WIDTH / 3 / 2000).metres == 2000


def test_a_single_monument_is_in_the_middle_with_a_200_m_bar():
    plan = site_plan([Place("Khuê Văn Các", "/monuments/khue-van-cac?lang=vi", 21.0286, 105.8356)])
    (mark,) = plan.marks
    assert (mark.x, mark.y) == ((sp.PLOT_LEFT + sp.PLOT_RIGHT) / 2, (sp.PLOT_TOP + sp.PLOT_BOTTOM) / 2)
    assert plan.scale.metres == 200 and plan.scale.label == "200 m"
    assert sp.WIDTH / 4 <= plan.scale.length <= sp.WIDTH / 3
    assert mark.label.text == "Khuê Văn Các" and not mark.label.crowded


def test_the_points_fill_the_plot_with_the_aspect_ratio_kept():
    places = [Place(n, f"/m/{i}", lat, lon) for i, (n, _, lat, lon) in enumerate((VAN_MIEU, MOT_COT, HO_GUOM, NHA_HAT))]
    plan = site_plan(places + [Place("Không có toạ độ", "/m/x", None, None)])
    assert plan.unplaced == 1 and [m.name for m in plan.marks] == [p.name for p in places]
    xs, ys = [m.x for m in plan.marks], [m.y for m in plan.marks]
    for m in plan.marks:
        assert sp.PLOT_LEFT <= m.x <= sp.PLOT_RIGHT and sp.PLOT_TOP <= m.y <= sp.PLOT_BOTTOM
    # the wider extent (here east–west) spans the plot; the other keeps the same metres per unit
    assert min(xs) == sp.PLOT_LEFT and max(xs) == sp.PLOT_RIGHT
    lat0 = (MOT_COT[2] + NHA_HAT[2]) / 2
    ew_m = (NHA_HAT[3] - MOT_COT[3]) * math.cos(math.radians(lat0)) * sp.METRES_PER_DEGREE
    ns_m = (MOT_COT[2] - NHA_HAT[2]) * sp.METRES_PER_DEGREE
    assert abs((max(ys) - min(ys)) / (max(xs) - min(xs)) - ns_m / ew_m) < 0.01
    units_per_metre = (max(xs) - min(xs)) / ew_m
    assert abs(plan.scale.length - plan.scale.metres * units_per_metre) < 0.1
    assert site_plan([Place("a", "/a", None, None)]) is None and site_plan([]) is None


def test_labels_stay_inside_the_drawing_and_a_right_third_label_ends_at_its_point():
    names = ["Đền Quán Thánh, trấn Bắc của kinh thành Thăng Long xưa và nay", "Tây", "Đông rất rất dài tên",
             "Bắc", "Nam", "Giữa"]
    coords = [(21.043, 105.836), (21.030, 105.800), (21.020, 105.880), (21.060, 105.840), (21.000, 105.840),
              (21.030, 105.840)]
    plan = site_plan([Place(n, f"/m/{i}", lat, lon) for i, (n, (lat, lon)) in enumerate(zip(names, coords))])
    boxes = []
    for m in plan.marks:
        width = sp.text_width(m.label.text)
        box = sp._label_box(m.label.x, m.label.y, m.label.anchor, width)
        slack = 0.06  # the coordinates are written to a tenth
        assert sp.PAD - slack <= box[0] and box[2] <= sp.WIDTH - sp.PAD + slack
        assert sp.PAD - slack <= box[1] and box[3] <= sp.HEIGHT - sp.PAD + slack
        if not m.label.crowded:
            boxes.append(box)
    assert all(not sp._overlaps(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    east = plan.marks[2]
    assert east.x > sp.WIDTH * 2 / 3 and east.label.anchor == "end" and east.label.x < east.x
    west = plan.marks[1]
    assert west.x < sp.WIDTH / 3 and west.label.anchor == "start" and west.label.x > west.x
    long = site_plan([Place("Tên " * 80, "/m", 21.0, 105.0)]).marks[0].label
    assert long.text.endswith("…") and sp.text_width(long.text) <= sp.WIDTH - 2 * sp.PAD


def test_a_site_across_the_antimeridian_stays_together():
    plan = site_plan([Place("Tây", "/w", -16.5, 179.99), Place("Đông", "/e", -16.5, -179.99)])
    west, east = plan.marks
    assert west.x < east.x and plan.scale.metres <= 2_000  # two points ~2 km apart, not half the Earth


def test_many_close_monuments_still_get_a_label_each():
    places = [Place(f"Di tích số {i}", f"/m/{i}", 21.03 + 0.0001 * (i % 10), 105.84 + 0.0001 * (i // 10))
              for i in range(100)]
    plan = site_plan(places)
    assert len(plan.marks) == 100 and all(m.label.text for m in plan.marks)
    assert any(m.label.crowded for m in plan.marks) and not plan.marks[0].label.crowded


# ------------------------------------------------------------------ the page
@pytest.fixture
def portal(tmp_path):
    from tests.conftest import make_settings
    from web import create_app

    app = create_app({"TESTING": True}, settings=make_settings(tmp_path / "data"))  # SQLite, no tile server
    yield app
    app.extensions["heritage"].close()


def add(app, *monuments) -> list:
    p = app.extensions["heritage"]
    return [p.monuments.create_monument(name_vi=vi, name_en=en, lat=lat, lon=lon, actor=SYSTEM)
            for vi, en, lat, lon in monuments]


def add_unchecked(app, slug: str, name_vi: str, name_en: str, lat: float, lon: float):
    """A monument whose names never went through the service's checks (an old import, say)."""
    from library.catalogue.models import Monument

    with app.extensions["heritage"].sessions.begin() as s:
        s.add(Monument(slug=slug, name_vi=name_vi, name_en=name_en, lat=lat, lon=lon))
    return app.extensions["heritage"].monuments.by_slug(slug)


def drawing(html: str) -> ET.Element:
    """The page's plan, parsed as XML: it must be well-formed, every name escaped."""
    start, end = html.index("<svg"), html.index("</svg>") + len("</svg>")
    return ET.fromstring(html[start:end])


def marks(svg: ET.Element) -> dict[str, tuple[float, float, ET.Element]]:
    out = {}
    for a in svg.iter(f"{SVG}a"):
        marker = a.find(f"{SVG}circle[@class='plan-marker']")
        out[a.get("href")] = (float(marker.get("cx")), float(marker.get("cy")), a)
    return out


def test_the_plan_is_drawn_without_tiles_with_a_link_per_monument(portal):
    vm, mc, hg, nh = add(portal, VAN_MIEU, MOT_COT, HO_GUOM, NHA_HAT)
    odd = add_unchecked(portal, "dinh-kim-lien", 'Đình <làng> & "Kim Liên"</text><script>x</script>',
                        "Kim Lien <b>communal</b> & 'house'", 21.0067, 105.8400)
    portal.extensions["heritage"].monuments.create_monument(name_vi="Chùa Trấn Quốc", actor=SYSTEM)  # no coordinates
    r = portal.test_client().get("/monuments")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    svg = drawing(html)
    assert svg.get("viewBox") == "0 0 400 300" and svg.get("role") is None
    assert svg.find(f"{SVG}title").text == "Sơ đồ khu di tích" and svg.get("aria-labelledby") == "site-plan-title"
    group = svg.find(f"{SVG}g[@role='group']")
    assert group.get("aria-label") == "Sơ đồ khu di tích"
    drawn = marks(svg)
    assert set(drawn) == {f"/monuments/{m.slug}?lang=vi" for m in (vm, mc, hg, nh, odd)}  # one link each
    assert len(group.findall(f"{SVG}a")) == 5
    at = {m.slug: drawn[f"/monuments/{m.slug}?lang=vi"][:2] for m in (vm, mc, hg, nh, odd)}
    assert at[nh.slug][0] > at[hg.slug][0] > at[vm.slug][0] > at[mc.slug][0]  # west to east
    assert at[mc.slug][1] < at[hg.slug][1] < at[vm.slug][1] < at[nh.slug][1] < at[odd.slug][1]  # north to south
    for x, y, a in drawn.values():
        assert 0 < x < 400 and 0 < y < 300
        label = a.find(f"{SVG}text")
        lx, ly = float(label.get("x")), float(label.get("y"))
        assert 0 < lx < 400 and 0 < ly < 300 and label.get("text-anchor") in ("start", "middle", "end")
    # the names, escaped: the XML parsed, and they read back exactly
    odd_a = drawn[f"/monuments/{odd.slug}?lang=vi"][2]
    assert odd_a.find(f"{SVG}title").text == 'Đình <làng> & "Kim Liên"</text><script>x</script>'
    assert odd_a.find(f"{SVG}text").text.startswith('Đình <làng> & "Kim Liên"</text>')
    assert "<làng>" not in html and "<script>x" not in html
    assert "Đình &lt;làng&gt; &amp; &#34;Kim Liên&#34;&lt;/text&gt;&lt;script&gt;" in html
    en = drawing(portal.test_client().get("/monuments?lang=en").get_data(as_text=True))
    assert marks(en)[f"/monuments/{odd.slug}?lang=en"][2].find(f"{SVG}title").text == "Kim Lien <b>communal</b> & 'house'"
    # the scale bar: a round number of metres, and its label says it
    bar = svg.find(f".//{SVG}text[@class='plan-scale-label']")
    assert int(bar.get("data-metres")) in ROUND and re.fullmatch(r"\d+ k?m", bar.text)
    assert bar.text == (f"{int(bar.get('data-metres')) // 1000} km" if int(bar.get("data-metres")) >= 1000
                        else f"{bar.get('data-metres')} m")
    assert svg.find(f".//{SVG}text[@class='plan-north']").text == "B"  # Bắc
    # listed, not drawn: the monument without coordinates; and no Leaflet at all
    assert "Chùa Trấn Quốc" in html and "Chùa Trấn Quốc" not in ET.tostring(svg, encoding="unicode")
    assert "1 di tích chưa có toạ độ nên không có trên sơ đồ." in html
    assert "leaflet" not in html.lower() and "/static/map.js" not in html and 'id="monument-map"' not in html
    assert "Sơ đồ vẽ theo toạ độ" in html and "của trang này" not in html  # one page only
    assert "http://" not in html.replace("http://localhost", "").replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html and "img-src 'self' data: blob:;" in r.headers["Content-Security-Policy"]


def test_the_plan_in_english(portal):
    add(portal, VAN_MIEU, NHA_HAT)
    html = portal.test_client().get("/monuments?lang=en").get_data(as_text=True)
    svg = drawing(html)
    assert svg.find(f"{SVG}title").text == "Site plan"
    assert svg.find(f"{SVG}g[@role='group']").get("aria-label") == "Site plan"
    labels = {a.get("href"): a.find(f"{SVG}text").text for a in svg.iter(f"{SVG}a")}
    assert labels == {"/monuments/van-mieu-quoc-tu-giam?lang=en": "Temple of Literature",
                      "/monuments/nha-hat-lon?lang=en": "Opera House"}
    assert svg.find(f".//{SVG}text[@class='plan-north']").text == "N" and "north is up" in html
    assert "leaflet" not in html.lower()


def test_a_single_monument_is_drawn_in_the_middle(portal):
    (m,) = add(portal, ("Khuê Văn Các", None, 21.0286, 105.8356))
    svg = drawing(portal.test_client().get("/monuments").get_data(as_text=True))
    (x, y, a), = marks(svg).values()
    assert (x, y) == (200.0, 136.0) and a.find(f"{SVG}text").text == "Khuê Văn Các"
    assert svg.find(f".//{SVG}text[@class='plan-scale-label']").text == "200 m"


def test_no_monument_with_coordinates_means_no_plan_and_no_empty_box(portal):
    p = portal.extensions["heritage"]
    p.monuments.create_monument(name_vi="Chùa Trấn Quốc", actor=SYSTEM)
    html = portal.test_client().get("/monuments").get_data(as_text=True)
    assert "Chùa Trấn Quốc" in html
    assert "<svg" not in html and "site-plan" not in html and "monument-map" not in html and "leaflet" not in html
    empty = portal.test_client().get("/monuments?lang=en").get_data(as_text=True)
    assert "<svg" not in empty and "leaflet" not in empty


def test_the_plan_shows_the_monuments_of_the_page_and_says_so(portal, monkeypatch):
    import library.monuments.service as service

    monkeypatch.setattr(service, "MONUMENTS_PER_PAGE", 3)
    created = add(portal, *[(f"Di tích {i}", None, 21.02 + 0.002 * i, 105.83 + 0.003 * i) for i in range(5)])
    client = portal.test_client()
    first, second = (client.get(f"/monuments?page={n}").get_data(as_text=True) for n in (1, 2))
    assert set(marks(drawing(first))) == {f"/monuments/{m.slug}?lang=vi" for m in created[:3]}
    assert set(marks(drawing(second))) == {f"/monuments/{m.slug}?lang=vi" for m in created[3:]}
    for html in (first, second):
        assert "Sơ đồ chỉ gồm các di tích của trang này" in html
    en = html_lib.unescape(client.get("/monuments?page=2&lang=en").get_data(as_text=True))
    assert "The plan shows only this page's monuments" in en


def test_leaflet_is_kept_when_a_tile_server_is_set(tmp_path):
    from tests.conftest import make_settings
    from web import create_app

    app = create_app({"TESTING": True}, settings=make_settings(
        tmp_path / "data", map_tiles="https://tile.example.org/{z}/{x}/{y}.png", map_attribution="© OSM"))
    try:
        add(app, VAN_MIEU)
        html = app.test_client().get("/monuments").get_data(as_text=True)
        assert 'id="monument-map"' in html and "/static/vendor/leaflet/leaflet.js" in html
        assert "/static/vendor/leaflet/leaflet.css" in html and "/static/map.js" in html
        assert 'data-tiles="https://tile.example.org/{z}/{x}/{y}.png"' in html
        assert "<svg" not in html and "site-plan" not in html
    finally:
        app.extensions["heritage"].close()
