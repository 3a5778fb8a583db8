"""A tourist walks a tour with a phone (Debian's chromium, 390×844, the real server), its position
emulated through the DevTools protocol: nothing asks for the position before "Walk this tour" is
pressed; 100 m south of the first stop the page says 100 m to the north with the arrow pointing up;
on the stop it says "arrived", the 3D camera is at that stop's orbit (read back from model-viewer)
and the next stop is named, with its distance and direction; after the last stop, the end of the
tour; next and previous by hand; a refused position is said in the page's language, and no error
reaches the console. Screenshots (each checked by axe-core) are kept in test-artifacts/."""

from __future__ import annotations

import math

import pytest

from library.access import Actor
from library.container import build_platform
from library.monuments.service import BuildSource
from tests.conftest import make_settings
from tests.e2e.browser import browser, need_chromium, serving, shot, start_3d, wait_until
from tests.library.test_monuments import point_cloud
from web.site_plan import METRES_PER_DEGREE, haversine_m

SYSTEM = Actor.system("tests")

pytestmark = [pytest.mark.slow, pytest.mark.integration]

GATE = (21.02857, 105.83547)  # stop 1: where the visitor stands
FOOT = (GATE[0] + 40 / METRES_PER_DEGREE, GATE[1] + 50 / (METRES_PER_DEGREE * math.cos(math.radians(GATE[0]))))
STOPS = [  # orbit (theta°, phi°, radius m), target, caption vi, caption en, place
    ((30.0, 60.0, 3.5), (0.0, 1.0, 0.0), "Đỉnh gác nhìn từ trên", "The top from above", GATE),
    ((-60.0, 80.0, 4.5), (0.2, -0.3, 0.1), "Chân gác phía đông", "The east foot", FOOT),
    ((120.0, 70.0, 5.0), (0.0, 0.0, 0.0), "Toàn cảnh", "The whole", None),  # on the model only
]
SPY = """window.__positionAsked = 0;
for (const name of ["watchPosition", "getCurrentPosition"]) {
  const original = Geolocation.prototype[name];
  Geolocation.prototype[name] = function () { window.__positionAsked += 1; return original.apply(this, arguments); };
}"""


def metres(m: float, decimal: str) -> str:
    """walk.js's rounding, for the expected sentences."""
    if m < 100 and round(m / 5) * 5 < 100:
        return f"{math.floor(m / 5 + 0.5) * 5} m"
    if m < 1000 and math.floor(m / 10 + 0.5) * 10 < 1000:
        return f"{math.floor(m / 10 + 0.5) * 10} m"
    return f"{m / 1000:.1f}".replace(".", decimal) + " km"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    need_chromium()
    tmp = tmp_path_factory.mktemp("walk")
    settings = make_settings(tmp / "data")
    p = build_platform(settings)
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", name_en="Constellation of Literature Pavilion",
                                    lat=21.0286, lon=105.8356, actor=SYSTEM)
    v = p.monuments.submit_build(m.id, [BuildSource(point_cloud(tmp / "gac.xyz"), "gac.xyz")], title="Khuê Văn Các",
                                 actor=SYSTEM)
    p.monuments.build(v.id)
    model_id = p.monuments.published(m.id)[0].model_id
    top = p.guides.add_point(model_id, position=(0, 1, 0), normal=(0, 1, 0), label_vi="Đỉnh gác", label_en="Top",
                             actor=SYSTEM)
    tour = p.guides.add_tour(model_id, title_vi="Đi quanh gác", title_en="Walk round the pavilion", actor=SYSTEM)
    for n, (orbit, target, caption_vi, caption_en, place) in enumerate(STOPS):
        p.guides.add_stop(tour.id, poi_id=top.id if n == 0 else None, orbit=orbit, target=target,
                          caption_vi=caption_vi, caption_en=caption_en, dwell_s=2,
                          **(dict(lat=place[0], lon=place[1]) if place else {}), actor=SYSTEM)
    p.close()
    with serving(settings, tmp) as url:
        yield {"url": url, "slug": m.slug, "tmp": tmp}


def severe_errors(d) -> list[dict]:
    return [e for e in d.get_log("browser") if e["level"] == "SEVERE"]


def at_stop(d, viewer, n: int) -> bool:
    (theta, phi, radius), (x, y, z) = STOPS[n][0], STOPS[n][1]
    cam = d.execute_script(
        "const v = arguments[0], o = v.getCameraOrbit(), t = v.getCameraTarget();"
        "return {theta: o.theta, phi: o.phi, radius: o.radius, x: t.x, y: t.y, z: t.z};", viewer)
    return (abs(cam["theta"] - math.radians(theta)) < 1e-3 and abs(cam["phi"] - math.radians(phi)) < 1e-3
            and abs(cam["radius"] - radius) < 1e-3 and abs(cam["x"] - x) < 1e-3 and abs(cam["y"] - y) < 1e-3
            and abs(cam["z"] - z) < 1e-3)


def open_page(site, lang: str):
    from selenium.webdriver.common.by import By

    d = browser(site["tmp"], 390, 844)
    d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": SPY})
    d.get(f"{site['url']}/monuments/{site['slug']}?lang={lang}")
    viewer = d.find_element(By.CSS_SELECTOR, "model-viewer")
    start_3d(d)
    levels = viewer.get_attribute("data-levels").split()
    phone_level = levels[min(1, len(levels) - 1)]  # viewer.js: on a phone, the second smallest after the first
    wait_until(lambda: d.execute_script("return arguments[0].loaded === true && arguments[0].src.endsWith(arguments[1])"
                                        " && parseInt(arguments[0].dataset.loaded || '0') >= arguments[2]",
                                        viewer, phone_level, 2 if len(levels) > 1 else 1),
               timeout_s=60, what="the phone's level on screen")
    return d, viewer, d.find_element(By.CSS_SELECTOR, "section.tour .tour-walk")


def place(d, lat: float, lon: float) -> None:
    d.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": lat, "longitude": lon, "accuracy": 5})


def test_walking_the_tour_from_stop_to_stop(site):
    from selenium.webdriver.common.by import By

    d, viewer, walk = open_page(site, "vi")
    try:
        text = walk.find_element(By.CSS_SELECTOR, ".walk-text")
        start = walk.find_element(By.CSS_SELECTOR, ".walk-start")
        arrow = walk.find_element(By.CSS_SELECTOR, ".walk-arrow")
        assert walk.find_element(By.CSS_SELECTOR, ".walk-status").get_attribute("aria-live") == "polite"
        assert start.text == "Đi bộ theo tour" and start.is_displayed() and not arrow.is_displayed()
        assert d.execute_script("return window.__positionAsked") == 0  # nothing asked on page load
        d.execute_cdp_cmd("Browser.grantPermissions", {"origin": site["url"], "permissions": ["geolocation"]})
        south = (GATE[0] - 100 / METRES_PER_DEGREE, GATE[1])  # 100 m south of stop 1
        assert haversine_m(*south, *GATE) == pytest.approx(100, abs=0.01)
        place(d, *south)
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", walk)
        start.click()
        assert d.execute_script("return window.__positionAsked") == 1  # asked once, after the press
        wait_until(lambda: text.text == "Điểm tiếp theo: Đỉnh gác, cách 100 m về hướng bắc.", timeout_s=20,
                   what=f"100 m to the north ({text.text!r})")
        assert not start.is_displayed() and walk.find_element(By.CSS_SELECTOR, ".walk-stop").is_displayed()
        assert arrow.is_displayed() and arrow.value_of_css_property("transform") in ("none", "matrix(1, 0, 0, 1, 0, 0)")
        assert walk.get_attribute("data-state") == "walking"
        shot(d, "walk-1-100m-south-of-stop-1")

        # by hand: the next stop, and back
        walk.find_element(By.CSS_SELECTOR, ".walk-next").click()
        far = haversine_m(*south, *FOOT)
        wait_until(lambda: text.text.startswith(f"Điểm tiếp theo: Chân gác phía đông, cách {metres(far, ',')} về hướng "),
                   timeout_s=5, what=f"the next stop by hand ({text.text!r})")
        walk.find_element(By.CSS_SELECTOR, ".walk-prev").click()
        wait_until(lambda: text.text == "Điểm tiếp theo: Đỉnh gác, cách 100 m về hướng bắc.", timeout_s=5,
                   what="back to stop 1 by hand")

        place(d, *GATE)  # the visitor reaches stop 1
        onward = haversine_m(*GATE, *FOOT)
        expected = f"Bạn đã đến: Đỉnh gác. Điểm tiếp theo: Chân gác phía đông, cách {metres(onward, ',')} về hướng đông bắc."
        wait_until(lambda: text.text == expected, timeout_s=20, what=f"arrived at stop 1 ({text.text!r})")
        wait_until(lambda: at_stop(d, viewer, 0), timeout_s=15, what="the camera at stop 1's orbit")
        rotation = d.execute_script("return arguments[0].style.transform", arrow)
        assert rotation == "rotate(51deg)", rotation  # north-east, a little more east than north
        assert "aria-current" in d.execute_script(
            "return Array.from(document.querySelectorAll('.tour-stops li')[0].attributes).map(a => a.name)")
        shot(d, "walk-2-arrived-at-stop-1")

        place(d, *FOOT)  # … and the last stop with a place
        wait_until(lambda: text.text == "Bạn đã đến: Chân gác phía đông. Hết tour.", timeout_s=20,
                   what=f"the end of the tour ({text.text!r})")
        wait_until(lambda: at_stop(d, viewer, 1), timeout_s=15, what="the camera at stop 2's orbit")
        assert not arrow.is_displayed() and walk.get_attribute("data-state") == "end"
        shot(d, "walk-3-end-of-the-tour")

        walk.find_element(By.CSS_SELECTOR, ".walk-stop").click()
        wait_until(lambda: text.text == "Đã dừng đi bộ theo tour.", timeout_s=5, what="walking stopped")
        assert start.is_displayed() and d.switch_to.active_element == start
        place(d, *south)  # the watch is cleared: a new position changes nothing
        d.execute_script("return new Promise((done) => setTimeout(done, 500))")
        assert text.text == "Đã dừng đi bộ theo tour."
        assert not severe_errors(d), severe_errors(d)
    finally:
        d.quit()


def test_a_refused_position_is_said_and_breaks_nothing(site):
    from selenium.webdriver.common.by import By

    d, viewer, walk = open_page(site, "en")
    try:
        d.execute_cdp_cmd("Browser.setPermission", {"origin": site["url"], "permission": {"name": "geolocation"},
                                                    "setting": "denied"})
        d.execute_cdp_cmd("Emulation.clearGeolocationOverride", {})
        start = walk.find_element(By.CSS_SELECTOR, ".walk-start")
        text = walk.find_element(By.CSS_SELECTOR, ".walk-text")
        assert start.text == "Walk this tour"
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", walk)
        start.click()
        expected = "Your position is not available: this page was not allowed to use the phone's position."
        wait_until(lambda: text.text == expected, timeout_s=20, what=f"the refusal said ({text.text!r})")
        assert start.is_displayed() and not walk.find_element(By.CSS_SELECTOR, ".walk-controls").is_displayed()
        assert walk.get_attribute("data-state") == "idle"
        shot(d, "walk-4-position-refused")
        # the rest of the page still works: the tour plays on the model to its last stop
        d.find_element(By.CSS_SELECTOR, "section.tour .tour-play").click()
        wait_until(lambda: at_stop(d, viewer, 2), timeout_s=30, what="the tour still plays its stops")
        assert not severe_errors(d), severe_errors(d)
    finally:
        d.quit()
