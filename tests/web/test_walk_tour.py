"""Walking a tour on the ground: the "Walk this tour" button and its words (data- attributes, in
Vietnamese and English) only on a tour whose stops have a place, walk.js loaded only then, the places
in the JSON API, the curator's stop form with the two fields; and walk.js's distance, bearing and
rounding (run by Node) checked against web/site_plan.py's haversine and projection."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess

import pytest

from library.access import Actor
from tests.conftest import REPO
from tests.web.test_curator import alert, curator, post
from tests.web.test_monument_pages import app, built  # noqa: F401 (fixtures)
from tests.web.staff_accounts import staffed_app
from web.site_plan import METRES_PER_DEGREE, haversine_m, project

SYSTEM = Actor.system("tests")
WALK_JS = REPO / "web" / "static" / "walk.js"

GATE = (21.02857, 105.83547)
PAVILION = (21.02812, 105.83553)


def _flat(html: str) -> str:
    return " ".join(html.split())


def _tour(app, model_id, *, places: bool):
    g = app.extensions["heritage"].guides
    top = g.add_point(model_id, position=(0, 1, 0), label_vi="Đỉnh gác", label_en="Top", actor=SYSTEM)
    tour = g.add_tour(model_id, title_vi="Quanh gác", title_en="Around the pavilion", actor=SYSTEM)
    first = g.add_stop(tour.id, poi_id=top.id, orbit=(30, 60, 4), caption_vi="Cổng", caption_en="The gate",
                       **(dict(lat=GATE[0], lon=GATE[1]) if places else {}), actor=SYSTEM)
    second = g.add_stop(tour.id, orbit=(90, 40, 3.5), target=(0, 0.5, 0), caption_vi="Chân gác",
                        caption_en="The foot", **(dict(lat=PAVILION[0], lon=PAVILION[1]) if places else {}),
                        actor=SYSTEM)
    third = g.add_stop(tour.id, orbit=(0, 80, 5), target=(0, 0, 0), caption_vi="Trong gác", actor=SYSTEM)
    return tour, (first, second, third)


def test_a_tour_without_places_has_no_walk(app, built):  # noqa: F811
    _tour(app, built["model_id"], places=False)
    html = _flat(app.test_client().get(f"/monuments/{built['monument'].slug}").get_data(as_text=True))
    assert "Tham quan có hướng dẫn: Quanh gác" in html  # the tour is there, camera stops only
    assert "walk-start" not in html and "Đi bộ theo tour" not in html and "data-lat=" not in html
    assert "/static/walk.js" not in html and "tour-walk" not in html


def test_a_tour_with_places_can_be_walked_in_either_language(app, built):  # noqa: F811
    tour, (first, second, third) = _tour(app, built["model_id"], places=True)
    g = app.extensions["heritage"].guides
    other = g.add_tour(built["model_id"], title_vi="Chỉ trên mô hình", actor=SYSTEM)  # no place: no walk
    g.add_stop(other.id, orbit=(0, 80, 5), target=(0, 0, 0), caption_vi="Toàn cảnh", actor=SYSTEM)
    client = app.test_client()
    html = _flat(client.get(f"/monuments/{built['monument'].slug}").get_data(as_text=True))
    sections = re.findall(r'<section class="tour" id="tour-(\d+)".*?</section>', html)
    assert sections == [str(tour.id), str(other.id)]
    walked = re.search(rf'<section class="tour" id="tour-{tour.id}".*?</section>', html).group(0)
    plain = re.search(rf'<section class="tour" id="tour-{other.id}".*?</section>', html).group(0)
    assert html.count('class="walk-start"') == 1 and "walk-start" in walked and "walk-start" not in plain
    assert '<button type="button" class="walk-start" aria-describedby="walk-help-' in walked
    assert ">Đi bộ theo tour</button>" in walked and ">Dừng đi bộ</button>" in walked
    assert f'data-lat="{GATE[0]}" data-lon="{GATE[1]}"' in walked
    assert f'data-lat="{PAVILION[0]}" data-lon="{PAVILION[1]}"' in walked
    assert walked.count("data-lat=") == 2  # the third stop is on the model only
    assert 'class="walk-status" id="walk-status-' in walked and 'aria-live="polite"' in walked
    for attribute in ('data-to="Điểm tiếp theo: {name}, cách {distance} về hướng {direction}."',
                      'data-arrived="Bạn đã đến: {name}."', 'data-end="Hết tour."',
                      'data-error="Không lấy được vị trí: {reason}"', 'data-decimal=","',
                      'data-compass="bắc|đông bắc|đông|đông nam|nam|tây nam|tây|tây bắc"'):
        assert attribute in walked, attribute
    assert html.index("/static/monument.js") < html.index("/static/walk.js")  # its stop buttons move the camera
    assert html.count("/static/walk.js") == 1

    en = _flat(client.get(f"/monuments/{built['monument'].slug}?lang=en").get_data(as_text=True))
    assert ">Walk this tour</button>" in en and ">Stop walking</button>" in en
    for attribute in ('data-to="Next stop: {name}, {distance} to the {direction}."',
                      'data-arrived="You have arrived: {name}."', 'data-end="End of the tour."',
                      'data-error="Your position is not available: {reason}"', 'data-decimal="."',
                      'data-compass="north|north-east|east|south-east|south|south-west|west|north-west"'):
        assert attribute in en, attribute
    assert "/static/walk.js" in en


def test_the_api_gives_each_stops_place(app, built):  # noqa: F811
    tour, (first, second, third) = _tour(app, built["model_id"], places=True)
    body = app.test_client().get(f"/api/v1/monuments/{built['monument'].slug}").json
    (model,) = body["models"]
    (listed,) = model["tours"]
    assert listed["id"] == tour.id
    assert [(st["id"], st["lat"], st["lon"]) for st in listed["stops"]] == [
        (first.id, *GATE), (second.id, *PAVILION), (third.id, None, None)]


# ------------------------------------------------------------------ the curator's form
@pytest.fixture
def staff(settings):
    yield from staffed_app(settings)


def test_the_curator_gives_a_stop_its_place(staff):
    from library.catalogue.models import MonumentModel

    p = staff.extensions["heritage"]
    client = curator(staff)
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", actor=SYSTEM)
    with p.sessions.begin() as s:
        model = MonumentModel(monument_id=m.id, title="Gác")
        s.add(model)
        s.flush()
        model_id = model.id
    tour = p.guides.add_tour(model_id, title_vi="Quanh gác", actor=SYSTEM)
    tour_url = f"/staff/monuments/{m.id}/tours/{tour.id}"
    page = _flat(client.get(tour_url).get_data(as_text=True))
    assert "<legend>Nơi đứng ngoài thực địa</legend>" in page
    assert "tuỳ chọn: nơi khách đứng khi đến điểm dừng này" in page
    assert 'Vĩ độ (WGS 84, độ)<input name="lat"' in page and 'Kinh độ (WGS 84, độ)<input name="lon"' in page
    en = _flat(client.get(tour_url + "?lang=en").get_data(as_text=True))
    assert "optional: where the visitor stands for this stop" in en and "Latitude (WGS 84, degrees)" in en
    client.get(tour_url + "?lang=vi")  # back to Vietnamese (the language is kept in a cookie)

    stop = {"orbit_theta_deg": "30", "orbit_phi_deg": "60", "orbit_radius_m": "4", "target_x": "0", "target_y": "1",
            "target_z": "0", "caption_vi": "Cổng"}
    assert post(client, tour_url + "/stops", dict(stop, lat="21,02857", lon=" 105.83547")).status_code == 302
    assert post(client, tour_url + "/stops", dict(stop, caption_vi="Trong gác", lat="", lon="")).status_code == 302
    placed, inside = p.guides.tour(tour.id).stops
    assert (placed.lat, placed.lon) == GATE and (inside.lat, inside.lon) == (None, None)

    for data, message in [
        (dict(stop, lat="21.03"), "Không nhận: Kinh độ (WGS 84): cần điền cả vĩ độ và kinh độ, hoặc để trống cả hai"),
        (dict(stop, lat="95", lon="105.8"), "Không nhận: Vĩ độ (WGS 84): phải nằm trong khoảng -90 … 90"),
        (dict(stop, lat="21", lon="-181"), "Không nhận: Kinh độ (WGS 84): phải nằm trong khoảng -180 … 180"),
        (dict(stop, lat="bắc", lon="105"), "Không nhận: Vĩ độ (WGS 84): phải là một số"),
    ]:
        r = post(client, tour_url + "/stops", data)
        assert r.status_code == 422 and alert(r.get_data(as_text=True)) == message
    assert len(p.guides.tour(tour.id).stops) == 2  # nothing half-saved
    r = post(client, tour_url + "/stops", dict(stop, lat="21.03"))
    assert 'name="lat" inputmode="decimal" value="21.03"' in r.get_data(as_text=True)  # the form keeps what was typed

    # the stop's own form shows its place and changes it
    page = _flat(client.get(tour_url).get_data(as_text=True))
    assert f'id="stop-{placed.id}-place-help"' in page and 'value="21.02857"' in page and 'value="105.83547"' in page
    r = post(client, f"/staff/monuments/{m.id}/stops/{inside.id}", dict(stop, lat=str(PAVILION[0]), lon=str(PAVILION[1])))
    assert r.status_code == 302 and (p.guides.stop(inside.id).lat, p.guides.stop(inside.id).lon) == PAVILION
    r = post(client, f"/staff/monuments/{m.id}/stops/{placed.id}", dict(stop, lat="", lon=""))
    assert r.status_code == 302 and p.guides.stop(placed.id).lat is None
    r = post(client, f"/staff/monuments/{m.id}/stops/{inside.id}", dict(stop, lat="", lon="105"))
    assert r.status_code == 422 and "cần điền cả vĩ độ và kinh độ" in alert(r.get_data(as_text=True))
    assert p.guides.stop(inside.id).lat == PAVILION[0]


# ------------------------------------------------------------------ walk.js's sums, checked against Python's
NODE = shutil.which("node") or shutil.which("nodejs")


def _node(script: str):
    if not NODE:
        if os.environ.get("CI"):
            pytest.fail("CI must check walk.js: install nodejs (scripts/frontend.sh)")
        pytest.skip("Node.js is not installed (scripts/frontend.sh installs it)")
    out = subprocess.run([NODE, "-e", f"const w = require({json.dumps(str(WALK_JS))});\n{script}"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return json.loads(out)


def _bearing(lat1, lon1, lat2, lon2) -> float:
    """The initial great-circle bearing, degrees clockwise from north (the textbook formula)."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360


PAIRS = [  # from, to: a walk at Văn Miếu, across a city, across the antimeridian, near a pole, and none
    (GATE, PAVILION), (GATE, (GATE[0] + 100 / METRES_PER_DEGREE, GATE[1])), (GATE, (GATE[0], GATE[1] + 0.001)),
    ((21.0285, 105.8355), (10.7769, 106.7009)), ((-36.85, 174.76), (-17.73, -178.0)), ((89.9, 0.0), (89.9, 90.0)),
    ((0.0, 179.9995), (0.0, -179.9995)), (GATE, GATE), ((-33.86, 151.21), (51.5, -0.12)),
]


def test_walk_js_measures_like_the_python_haversine():
    got = _node(f"const pairs = {json.dumps(PAIRS)};\n"
                "console.log(JSON.stringify(pairs.map(([a, b]) => [w.haversineM(a[0], a[1], b[0], b[1]),"
                " w.bearingDeg(a[0], a[1], b[0], b[1])])));")
    for ((a, b), (metres, bearing)) in zip(PAIRS, got):
        assert metres == pytest.approx(haversine_m(*a, *b), rel=1e-12, abs=1e-6), (a, b)
        if a != b:
            expected = _bearing(*a, *b)
            assert min(abs(bearing - expected), 360 - abs(bearing - expected)) < 1e-9, (a, b)
        assert 0 <= bearing < 360
    # over a walk's few hundred metres the bearing is the direction on the site plan's local projection
    for lat, lon in ((GATE[0] + 0.0009, GATE[1] + 0.0004), (GATE[0] - 0.0003, GATE[1] - 0.002), PAVILION):
        (bearing,) = _node(f"console.log(JSON.stringify([w.bearingDeg({GATE[0]}, {GATE[1]}, {lat}, {lon})]))")
        east, south = project(lat, lon, *GATE)
        assert bearing == pytest.approx(math.degrees(math.atan2(east, -south)) % 360, abs=0.05)
    assert got[1][0] == pytest.approx(100.0, abs=0.2) and got[1][1] == pytest.approx(0.0, abs=1e-9)  # 100 m north
    assert got[2][1] == pytest.approx(90.0, abs=0.01)  # east along the parallel


def test_walk_js_rounds_distances_and_names_directions():
    cases = [0, 2.4, 2.6, 42, 97.4, 97.6, 99.9, 100, 104, 105, 994, 995, 999.9, 1000, 1049, 1051, 1234, 12345]
    got = _node(f"console.log(JSON.stringify({{vi: {json.dumps(cases)}.map((m) => w.formatDistance(m, ',')),"
                f" en: {json.dumps(cases)}.map((m) => w.formatDistance(m, '.')),"
                " compass: [0, 22.4, 22.6, 90, 134, 181, 270, 300, 337.4, 337.6, 359.9, -45].map(w.compassIndex),"
                " radius: [w.arrivalRadius(5), w.arrivalRadius(40), w.arrivalRadius(undefined)]}))")
    assert got["vi"] == ["0 m", "0 m", "5 m", "40 m", "95 m", "100 m", "100 m", "100 m", "100 m", "110 m",
                         "990 m", "1,0 km", "1,0 km", "1,0 km", "1,0 km", "1,1 km", "1,2 km", "12,3 km"]
    assert got["en"][-3:] == ["1.1 km", "1.2 km", "12.3 km"] and got["en"][:3] == ["0 m", "0 m", "5 m"]
    assert got["compass"] == [0, 0, 1, 2, 3, 4, 6, 7, 7, 0, 0, 7]
    assert got["radius"] == [15, 40, 15]
