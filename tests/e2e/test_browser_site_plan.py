"""The monuments' map in Debian's chromium against the real server. Without a tile server (the default)
a tourist on a phone (390×844) sees the plan of the site the server drew (web/site_plan.py): visible,
as wide as the screen, every name inside the drawing as the browser lays the text out, no script
loaded for it; the keyboard reaches a monument on the plan with Tab, the focus shows, and Enter opens
the monument. With a tile server (one on loopback here) Leaflet draws the tiles and the markers as
before. Screenshots (each page checked by axe-core first) are kept in test-artifacts/."""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

import pytest
from PIL import Image, ImageDraw

from library.access import Actor
from library.container import build_platform
from tests.conftest import make_settings
from tests.e2e.browser import browser, need_chromium, serving, shot, wait_until

SYSTEM = Actor.system("tests")

pytestmark = [pytest.mark.slow, pytest.mark.integration]

MONUMENTS = [  # name_vi, name_en, lat, lon
    ("Văn Miếu – Quốc Tử Giám", "Temple of Literature", 21.0277, 105.8355),
    ("Chùa Một Cột", "One Pillar Pagoda", 21.0359, 105.8337),
    ("Hồ Gươm", "Hoan Kiem Lake", 21.0288, 105.8525),
    ("Nhà hát Lớn Hà Nội", "Hanoi Opera House", 21.0245, 105.8577),
    ("Hoàng thành Thăng Long", "Imperial Citadel of Thang Long", 21.0352, 105.8403),
    # a long name in capitals, the northernmost: the widest label the estimate of text widths must cover
    ("ĐỀN QUÁN THÁNH – TRẤN VŨ QUÁN, MỘT TRONG BỐN NGÔI ĐỀN TRẤN GIỮ KINH THÀNH THĂNG LONG XƯA",
     "QUAN THANH TEMPLE (TRAN VU QUAN), ONE OF THE FOUR GUARDIAN TEMPLES OF THANG LONG", 21.0431, 105.8365),
]


def create(settings, *, without_coordinates: bool = True) -> dict[str, str]:
    p = build_platform(settings)
    try:
        slugs = {vi: p.monuments.create_monument(name_vi=vi, name_en=en, lat=lat, lon=lon, actor=SYSTEM).slug
                 for vi, en, lat, lon in MONUMENTS}
        if without_coordinates:
            p.monuments.create_monument(name_vi="Chùa Trấn Quốc", name_en="Tran Quoc Pagoda", actor=SYSTEM)
        return slugs
    finally:
        p.close()


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The portal with no tile server (the default)."""
    need_chromium()
    tmp = tmp_path_factory.mktemp("plan")
    settings = make_settings(tmp / "data")
    slugs = create(settings)
    with serving(settings, tmp, "--no-workers") as url:
        yield {"url": url, "tmp": tmp, "slugs": slugs}


def labels_outside(d) -> list:
    """The labels whose box as chromium lays out the text (Noto Sans, the page's font) leaves the viewBox."""
    return d.execute_script(
        "const svg = document.querySelector('#site-plan svg'), vb = svg.viewBox.baseVal, out = [];"
        "for (const t of svg.querySelectorAll('.plan-label, .plan-scale-label, .plan-north')) {"
        "  if (getComputedStyle(t).display === 'none') continue;"
        "  const b = t.getBBox();"
        "  if (b.x < 0 || b.y < 0 || b.x + b.width > vb.width || b.y + b.height > vb.height)"
        "    out.push([t.textContent, b.x, b.y, b.width, b.height]);"
        "} return out;")


def test_the_plan_of_the_site_on_a_phone_without_tiles(plain):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    d = browser(plain["tmp"], 390, 844)
    try:
        d.set_window_size(390, 844)  # the window as a phone's (the command line's size may be widened)
        d.get(f"{plain['url']}/monuments?lang=vi")
        assert d.execute_script("return window.innerWidth") <= 390
        svg = d.find_element(By.CSS_SELECTOR, "#site-plan svg")
        wait_until(lambda: d.execute_script("return document.fonts.status === 'loaded'"), timeout_s=10,
                   what="the web font")
        box = d.execute_script("const b = arguments[0].getBoundingClientRect();"
                               "return {w: b.width, h: b.height, left: b.left, right: b.right};", svg)
        assert svg.is_displayed() and box["w"] > 300 and box["h"] > 200, box  # the screen's width, 4:3
        assert box["left"] >= 0 and box["right"] <= d.execute_script("return window.innerWidth")
        assert d.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")  # no sideways
        links = svg.find_elements(By.CSS_SELECTOR, "a.plan-mark")
        assert len(links) == len(MONUMENTS)  # the one without coordinates is listed, not drawn
        assert "Chùa Trấn Quốc" in d.find_element(By.CSS_SELECTOR, ".monument-list").text
        assert labels_outside(d) == []
        sizes = d.execute_script("return [...document.querySelectorAll('#site-plan .plan-label')]"
                                 ".map(t => t.getBoundingClientRect().height)")
        assert min(sizes) >= 11  # the names stay readable on the phone (about 12.5 px)
        loaded = d.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert not [u for u in loaded if "leaflet" in u or u.endswith("/map.js")]
        assert all(u.startswith(plain["url"]) for u in loaded)
        assert not d.execute_script("return !!window.L")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", svg)
        shot(d, "site-plan-phone")

        # the keyboard: Tab from the top of the page until the focus is on the plan
        d.execute_script("window.scrollTo(0, 0); document.querySelector('header a').focus()")  # the site's name
        for _ in range(40):
            ActionChains(d).send_keys(Keys.TAB).perform()
            if d.execute_script("return !!document.activeElement.closest('#site-plan svg')"):
                break
        else:
            pytest.fail("Tab never reached the plan")
        focused = d.switch_to.active_element
        href = d.execute_script("return arguments[0].getAttribute('href')", focused)  # an SVG <a>: not a string property
        assert focused.get_attribute("class") == "plan-mark" and href.startswith("/monuments/") and href.endswith("?lang=vi")
        ring = d.execute_script("const s = getComputedStyle(arguments[0].querySelector('.plan-hit'));"
                                "return [s.stroke, s.strokeWidth];", focused)
        assert ring[0] not in ("none", "", "rgba(0, 0, 0, 0)") and float(ring[1].rstrip("px")) >= 2, ring
        outline = d.execute_script("const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth];",
                                   focused)
        assert outline[0] == "solid" and outline[1] == "3px", outline
        shot(d, "site-plan-focus-phone")
        ActionChains(d).send_keys(Keys.ENTER).perform()
        wait_until(lambda: d.current_url == plain["url"] + href, timeout_s=10, what="the monument's page")
        assert d.find_element(By.TAG_NAME, "h2").text in MONUMENTS_VI

        # the same plan in English on a desktop: narrower than the page, the names no larger than the text
        d.set_window_size(1280, 900)
        d.get(f"{plain['url']}/monuments?lang=en")
        svg = d.find_element(By.CSS_SELECTOR, "#site-plan svg")
        wait_until(lambda: d.execute_script("return document.fonts.status === 'loaded'"), timeout_s=10,
                   what="the web font")
        width = d.execute_script("return arguments[0].getBoundingClientRect().width", svg)
        assert 400 <= width <= 481, width
        names = {a.get_attribute("textContent").strip() for a in svg.find_elements(By.CSS_SELECTOR, ".plan-label")}
        (long,) = [n for n in names if n.startswith("QUAN THANH")]  # shortened to fit the drawing
        assert long.endswith("…") and MONUMENTS[-1][1].startswith(long[:-1])
        assert {n for n in names if not n.startswith("QUAN")} == {en for _, en, _, _ in MONUMENTS[:-1]}
        assert labels_outside(d) == []
        assert svg.find_element(By.TAG_NAME, "title").get_attribute("textContent") == "Site plan"
        shot(d, "site-plan-desktop-english")
    finally:
        d.quit()


MONUMENTS_VI = {vi for vi, _, _, _ in MONUMENTS}


@contextlib.contextmanager
def tile_server():
    """Map tiles on loopback: every tile the same pale square with a border (a real PNG)."""
    image = Image.new("RGB", (256, 256), (236, 232, 222))
    ImageDraw.Draw(image).rectangle((0, 0, 255, 255), outline=(190, 180, 160))
    buf = BytesIO()
    image.save(buf, "PNG")
    tile = buf.getvalue()
    asked: list[str] = []

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(tile)))
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


def test_leaflet_draws_the_tiles_and_markers_when_a_tile_server_is_set(tmp_path):
    from selenium.webdriver.common.by import By

    need_chromium()
    with tile_server() as (origin, asked):
        settings = make_settings(tmp_path / "data", map_tiles=origin + "/{z}/{x}/{y}.png",
                                 map_attribution="© Bản đồ thử")
        slugs = create(settings, without_coordinates=False)
        with serving(settings, tmp_path, "--no-workers") as url:
            d = browser(tmp_path, 390, 844)
            try:
                d.set_window_size(390, 844)
                d.get(f"{url}/monuments?lang=vi")
                assert not d.find_elements(By.CSS_SELECTOR, "#site-plan")
                wait_until(lambda: d.execute_script(
                    "return document.getElementById('monument-map').dataset.markers === arguments[0]",
                    str(len(MONUMENTS))), timeout_s=10, what="the map's markers")
                wait_until(lambda: d.execute_script(
                    "return [...document.querySelectorAll('#monument-map .leaflet-tile')]"
                    ".some(t => t.complete && t.naturalWidth === 256)"), timeout_s=10, what="a tile drawn")
                assert asked and all(p.endswith(".png") for p in asked)
                assert "© Bản đồ thử" in d.find_element(By.CSS_SELECTOR, ".leaflet-control-attribution").text
                marker = d.find_element(By.CSS_SELECTOR, "#monument-map .leaflet-marker-icon[title='Hồ Gươm']")
                shot(d, "map-with-tiles-phone")
                marker.click()
                link = wait_until(lambda: [a for a in d.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content a")
                                           if a.is_displayed()], timeout_s=5, what="the popup")[0]
                assert link.text == "Hồ Gươm"
                assert link.get_attribute("href").endswith(f"/monuments/{slugs['Hồ Gươm']}?lang=vi")
                wait_until(lambda: d.execute_script(  # Leaflet fades the popup in: colours checked once opaque
                    "return getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"),
                    timeout_s=5, what="the popup faded in")
                shot(d, "map-popup-phone")
                link.click()
                wait_until(lambda: f"/monuments/{slugs['Hồ Gươm']}" in d.current_url, timeout_s=10,
                           what="the monument's page")
            finally:
                d.quit()
