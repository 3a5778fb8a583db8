"""A tourist on a phone (Debian's chromium, a 390×844 window) against the real server: the point
of interest is labelled in Vietnamese on the 3D model, playing the guided tour moves the camera to
each stop's orbit and target (read back from model-viewer) and the picture changes with it, and the
keyboard drives the tour too (the map of monuments, with and without a tile server:
test_browser_site_plan.py). Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from library.access import Actor
from library.container import build_platform
from library.monuments.service import BuildSource
from tests.conftest import make_settings
from tests.e2e.browser import browser, need_chromium, serving, shot, start_3d, wait_until
from tests.library.test_monuments import point_cloud

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

pytestmark = [pytest.mark.slow, pytest.mark.integration]

STOPS = [  # (theta°, phi°, radius m), target (x, y, z m), field of view °, caption
    ((30.0, 60.0, 3.5), (0.0, 1.0, 0.0), 30.0, "Đỉnh gác nhìn từ trên"),
    ((-60.0, 80.0, 4.5), (0.2, -0.3, 0.1), 40.0, "Chân gác phía tây"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    need_chromium()
    tmp = tmp_path_factory.mktemp("tour")
    settings = make_settings(tmp / "data")  # no map tile server: the default
    p = build_platform(settings)
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", name_en="Constellation of Literature Pavilion",
                                    lat=21.0286, lon=105.8356, actor=SYSTEM)
    v = p.monuments.submit_build(m.id, [BuildSource(point_cloud(tmp / "gac.xyz"), "gac.xyz")], title="Khuê Văn Các", actor=SYSTEM)
    p.monuments.build(v.id)
    model_id = p.monuments.published(m.id)[0].model_id
    top = p.guides.add_point(model_id, position=(0, 1, 0), normal=(0, 1, 0), label_vi="Đỉnh gác", label_en="Top",
                            text_vi="Mái gác hai tầng.", text_en="The two-tier roof.", actor=SYSTEM)
    tour = p.guides.add_tour(model_id, title_vi="Quanh gác", title_en="Around the pavilion", actor=SYSTEM)
    for n, (orbit, target, fov, caption) in enumerate(STOPS):
        p.guides.add_stop(tour.id, poi_id=top.id if n == 0 else None, orbit=orbit, target=target,
                          field_of_view_deg=fov, caption_vi=caption, dwell_s=1.5, actor=SYSTEM)
    p.close()
    with serving(settings, tmp) as url:
        d = browser(tmp, 390, 844)
        try:
            yield {"url": url, "slug": m.slug, "driver": d, "tmp": tmp}
        finally:
            d.quit()


def camera(d, viewer) -> dict:
    return d.execute_script(
        "const v = arguments[0], o = v.getCameraOrbit(), t = v.getCameraTarget();"
        "return {theta: o.theta, phi: o.phi, radius: o.radius, x: t.x, y: t.y, z: t.z, fov: v.getFieldOfView()};",
        viewer)


def at_stop(cam: dict, n: int) -> bool:
    (theta, phi, radius), (x, y, z), fov, _ = STOPS[n]
    return (abs(cam["theta"] - math.radians(theta)) < 1e-3 and abs(cam["phi"] - math.radians(phi)) < 1e-3
            and abs(cam["radius"] - radius) < 1e-3 and abs(cam["x"] - x) < 1e-3 and abs(cam["y"] - y) < 1e-3
            and abs(cam["z"] - z) < 1e-3 and abs(cam["fov"] - fov) < 0.05)


def canvas_pixels(d, viewer, name: str) -> np.ndarray:
    image = shot(d, name)
    r = d.execute_script("const b = arguments[0].getBoundingClientRect();"
                         "return [b.left, b.top, b.width, b.height, window.devicePixelRatio];", viewer)
    box = tuple(int(v * r[4]) for v in (r[0], max(r[1], 0), r[0] + r[2], min(r[1] + r[3], 844)))
    return np.asarray(image.crop(box), dtype=int)


def test_the_tour_moves_the_camera_from_stop_to_stop(site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    d = site["driver"]
    d.get(f"{site['url']}/monuments/{site['slug']}?lang=vi")
    viewer = d.find_element(By.CSS_SELECTOR, "model-viewer")
    levels = viewer.get_attribute("data-levels").split()
    phone_level = levels[min(1, len(levels) - 1)]  # viewer.js: on a phone, the second smallest after the first
    start_3d(d)
    wait_until(lambda: d.execute_script("return arguments[0].loaded === true && arguments[0].src.endsWith(arguments[1])"
                                        " && parseInt(arguments[0].dataset.loaded || '0') >= arguments[2]",
                                        viewer, phone_level, 2 if len(levels) > 1 else 1),
               timeout_s=60, what="the phone's level on screen")

    hotspot = d.find_element(By.CSS_SELECTOR, "model-viewer button[slot^='hotspot-poi-']")
    assert hotspot.find_element(By.CSS_SELECTOR, ".hotspot-label").text == "Đỉnh gác"
    assert hotspot.get_attribute("data-position") == "0m 1m 0m"
    wait_until(lambda: hotspot.is_displayed() and hotspot.size["width"] > 10, timeout_s=10, what="label shown")
    text = hotspot.find_element(By.CSS_SELECTOR, ".hotspot-text")
    assert not text.is_displayed()  # only the label until the visitor presses it
    d.execute_script("arguments[0].click()", hotspot)
    wait_until(lambda: text.is_displayed() and text.text == "Mái gác hai tầng.", timeout_s=5, what="the point's text")
    d.execute_script("arguments[0].click()", hotspot)
    wait_until(lambda: not text.is_displayed(), timeout_s=5, what="the text closed again")

    tour = d.find_element(By.CSS_SELECTOR, "section.tour")
    play = tour.find_element(By.CSS_SELECTOR, ".tour-play")
    d.execute_script("arguments[0].scrollIntoView({block: 'end'})", tour)
    d.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.5)
    before = canvas_pixels(d, viewer, "tour-before")
    play.click()  # keyboard and pointer alike: a real <button>
    assert play.get_attribute("aria-pressed") == "true" and play.text == "Tạm dừng"
    wait_until(lambda: at_stop(camera(d, viewer), 0), timeout_s=15, what=f"camera at stop 1 ({camera(d, viewer)})")
    assert tour.find_element(By.CSS_SELECTOR, ".tour-caption").text == STOPS[0][3]
    assert tour.find_element(By.CSS_SELECTOR, ".tour-step").text == "Điểm dừng 1/2"
    assert "current" in hotspot.get_attribute("class")  # the stop's point of interest is marked
    time.sleep(0.3)
    first = canvas_pixels(d, viewer, "tour-stop-1")
    # the tour goes on by itself after the stop's 1.5 s, then stops at its end
    wait_until(lambda: at_stop(camera(d, viewer), 1), timeout_s=15, what=f"camera at stop 2 ({camera(d, viewer)})")
    assert tour.find_element(By.CSS_SELECTOR, ".tour-caption").text == STOPS[1][3]
    assert "current" not in hotspot.get_attribute("class")
    time.sleep(0.3)
    second = canvas_pixels(d, viewer, "tour-stop-2")
    wait_until(lambda: play.get_attribute("aria-pressed") == "false", timeout_s=10, what="the tour ends")
    for a, b, what in ((before, first, "first stop"), (first, second, "second stop")):
        h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
        changed = (np.abs(a[:h, :w] - b[:h, :w]).max(axis=2) > 30).mean()
        assert changed > 0.02, f"the picture did not change at the {what} ({changed:.3%} of pixels)"

    previous = tour.find_element(By.CSS_SELECTOR, ".tour-prev")
    previous.send_keys(Keys.ENTER)  # the keyboard moves through the tour as well
    wait_until(lambda: at_stop(camera(d, viewer), 0), timeout_s=15, what="back at stop 1 by keyboard")
    previous.send_keys(Keys.ARROW_RIGHT)
    wait_until(lambda: at_stop(camera(d, viewer), 1), timeout_s=15, what="stop 2 by the arrow key")


def test_a_tour_stop_pressed_before_the_viewer_started_starts_it_and_goes_there(site):
    """On a phone the 3D viewer waits to be asked for (viewer.js); a stop of a tour pressed first starts
    it, and the camera is at the stop once the model is drawn (not at model-viewer's own framing)."""
    from selenium.webdriver.common.by import By

    d = browser(site["tmp"], 390, 844)  # a visitor who has never started a viewer on this phone
    try:
        d.get(f"{site['url']}/monuments/{site['slug']}?lang=vi")
        viewer = d.find_element(By.CSS_SELECTOR, "model-viewer")
        assert d.execute_script("return !customElements.get('model-viewer')")
        go = d.find_elements(By.CSS_SELECTOR, "section.tour .tour-go")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", go[1])
        go[1].click()
        caption = d.find_element(By.CSS_SELECTOR, "section.tour .tour-caption")
        assert caption.text == STOPS[1][3]  # said at once, before the viewer is there
        wait_until(lambda: d.execute_script("return arguments[0].loaded === true", viewer), timeout_s=60,
                   what="the viewer started by the tour")
        wait_until(lambda: at_stop(camera(d, viewer), 1), timeout_s=15, what=f"camera at stop 2 ({camera(d, viewer)})")
        assert not d.find_element(By.CSS_SELECTOR, "figure.model .model-start").is_displayed()
        assert not [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        d.quit()


def test_a_viewer_that_cannot_be_fetched_says_so_and_the_button_tries_again(site):
    """No signal and no saved copy when the visitor asks for 3D: the button says the viewer could not be
    loaded (in the page's language), the picture stays; pressed again with signal, the model comes."""
    from selenium.webdriver.common.by import By

    d = browser(site["tmp"], 390, 844)  # a first visit: the viewer waits to be asked for
    try:
        d.execute_cdp_cmd("Network.enable", {})
        d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*model-viewer.min.js*"]})
        d.get(f"{site['url']}/monuments/{site['slug']}?lang=vi")
        viewer = d.find_element(By.CSS_SELECTOR, "model-viewer")
        button = d.find_element(By.CSS_SELECTOR, "figure.model .model-start")
        start_3d(d)
        wait_until(lambda: button.get_attribute("data-state") == "failed", timeout_s=20, what="the failure said")
        assert button.is_displayed() and button.text == "Chưa tải được trình xem 3D. Bấm để thử lại."
        assert d.find_element(By.CSS_SELECTOR, "img.model-poster").is_displayed()
        assert d.execute_script("return !customElements.get('model-viewer')")
        assert not d.find_element(By.CSS_SELECTOR, "model-viewer .hotspot").is_displayed()  # no dead points
        shot(d, "monument-viewer-not-loaded")

        d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        button.click()
        wait_until(lambda: d.execute_script("return arguments[0].loaded === true", viewer), timeout_s=60,
                   what="the model after the second press")
        assert not button.is_displayed()
    finally:
        d.quit()
