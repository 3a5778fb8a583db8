"""End to end in a real browser (Debian's chromium driven by Selenium through Debian's
chromium-driver) against the real server with real workers: a librarian signs in,
uploads a scan, watches it finish and corrects a word; an archivist searches without
diacritics and sees the hit boxed on the page image; a tourist opens a monument on a
phone-sized screen and the 3D canvas shows the model; the language switch.
Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import shutil
import time

import pytest
from PIL import ImageStat

from library.access import Actor
from library.container import build_platform
from library.monuments.service import BuildSource
from tests.conftest import make_settings
from tests.e2e.browser import browser, need_chromium, serving, shot, start_3d, wait_until
from tests.library.test_monuments import point_cloud
from tests.workers.test_ocr_workers import small_pages

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    need_chromium()
    tmp = tmp_path_factory.mktemp("portal")
    settings = make_settings(tmp / "data")
    p = build_platform(settings)
    p.users.create(Actor.system("tests"), "thu.thu", "mat-khau-thu-thu", "librarian")
    p.users.create(Actor.system("tests"), "luu.tru", "mat-khau-luu-tru", "archivist")
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", name_en="Constellation of Literature Pavilion",
                                    description_vi="Gác Khuê Văn dựng năm 1805.", actor=SYSTEM)
    v = p.monuments.submit_build(m.id, [BuildSource(point_cloud(tmp / "gac.xyz"), "gac.xyz")], title="Khuê Văn Các", actor=SYSTEM)
    p.monuments.build(v.id)
    # the same sphere packed by gltfpack (meshopt) instead of Draco: the portal serves both decoders
    m2 = p.monuments.create_monument(name_vi="Chùa Một Cột", name_en="One Pillar Pagoda", actor=SYSTEM)
    v2 = p.monuments.submit_build(m2.id, [BuildSource(point_cloud(tmp / "chua.xyz"), "chua.xyz")],
                                  title="Chùa Một Cột", settings={"compression": "meshopt"}, actor=SYSTEM)
    assert p.monuments.build(v2.id).value == "done", p.monuments.version(v2.id).status_reason
    p.close()
    with serving(settings, tmp) as url:
        yield {"url": url, "tmp": tmp, "slug": m.slug, "meshopt_slug": m2.slug, "meshopt_version": v2.id}


def test_tourist_sees_the_model_on_a_phone_and_switches_language(portal):
    from selenium.webdriver.common.by import By

    d = browser(portal["tmp"], 390, 844)
    try:
        d.get(f"{portal['url']}/monuments/{portal['slug']}")
        viewer = d.find_element(By.CSS_SELECTOR, "model-viewer")
        # on a phone the page opens on the model's picture: the viewer's megabyte of script waits to be asked for
        start = d.find_element(By.CSS_SELECTOR, "figure.model .model-start")
        wait_until(lambda: d.execute_script("return document.readyState") == "complete", timeout_s=20, what="loaded")
        assert start.is_displayed() and start.text.startswith("Xem mô hình 3D")
        assert d.execute_script("return !customElements.get('model-viewer')")
        assert not d.execute_script("return performance.getEntriesByType('resource')"
                                    ".filter(e => e.name.includes('model-viewer')).length")
        assert d.find_element(By.CSS_SELECTOR, "img.model-poster").is_displayed()
        # "Khuê Văn Các" is drawn from the small vietnamese font files it preloads, not latin-ext's 55 KB ones
        fonts = d.execute_script("return performance.getEntriesByType('resource').map(e => e.name)"
                                 ".filter(n => n.endsWith('.woff2'))")
        assert any("vietnamese-700-normal" in f for f in fonts) and not any("latin-ext" in f for f in fonts), fonts
        assert d.execute_script("return document.fonts.check('700 16px \"Noto Sans\"', 'Văn Các')")
        shot(d, "tourist-monument-picture")  # axe-core on the page as it opens, the button included
        start_3d(d)
        wait_until(lambda: not start.is_displayed(), timeout_s=5, what="the button gone once pressed")
        wait_until(lambda: d.execute_script("return arguments[0].loaded === true", viewer), timeout_s=60,
                   what="model on screen")
        time.sleep(1.0)  # let it render a frame after loading
        size = d.execute_script("return arguments[0].getDimensions()", viewer)
        assert 1.5 < size["x"] < 2.5, f"the model is not the 2 m sphere it should be: {size}"  # Draco decoded right
        # the first level and the Draco decoder were fetched beside the viewer's script, once each: the
        # press's preloads are what three.js then read (a second fetch would show as a second entry)
        fetched = d.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        first = viewer.get_attribute("data-levels").split()[0]
        for wanted in (first, "/static/vendor/draco/draco_wasm_wrapper.js", "/static/vendor/draco/draco_decoder.wasm"):
            assert sum(name.endswith(wanted) for name in fetched) == 1, (wanted, fetched)
        assert d.execute_script("return [...document.querySelectorAll('link[rel=preload][as=fetch]')]"
                                ".map(l => l.getAttribute('href'))") == [
            first, "/static/vendor/draco/draco_wasm_wrapper.js", "/static/vendor/draco/draco_decoder.wasm"]
        image = shot(d, "tourist-monument-phone")
        r = d.execute_script("const b = arguments[0].getBoundingClientRect();"
                             "return [b.left, b.top, b.width, b.height, window.devicePixelRatio];", viewer)
        scale = r[4]
        box = tuple(int(v * scale) for v in (r[0], r[1], r[0] + r[2], r[1] + min(r[3], 844 - r[1])))
        canvas = image.crop(box)
        stats = ImageStat.Stat(canvas.convert("L"))
        assert stats.stddev[0] > 8, f"the 3D canvas looks blank (stddev {stats.stddev[0]:.1f})"
        background = (0xF4, 0xF1, 0xEA)
        import numpy as np

        differing = int((np.abs(np.asarray(canvas, dtype=int) - background).max(axis=2) > 30).sum())
        assert differing > canvas.width * canvas.height * 0.02, "no model pixels on the canvas"
        d.find_element(By.LINK_TEXT, "English").click()
        wait_until(lambda: "Constellation of Literature Pavilion" in d.page_source, timeout_s=10, what="English")
        # the visitor asked for 3D once on this phone: the next monument page starts its viewer by itself
        wait_until(lambda: d.execute_script("const v = document.querySelector('model-viewer');"
                                            "return !!customElements.get('model-viewer') && v.loaded === true"),
                   timeout_s=60, what="the remembered viewer started")
        assert not d.find_element(By.CSS_SELECTOR, "figure.model .model-start").is_displayed()
        nav = d.find_element(By.ID, "site-nav")
        assert not nav.is_displayed()  # on a phone the header's links wait in a menu…
        d.find_element(By.ID, "menu-button").click()
        assert nav.is_displayed() and d.find_element(By.LINK_TEXT, "Monuments").is_displayed()  # …that opens
        assert d.find_element(By.ID, "menu-button").get_attribute("aria-expanded") == "true"
        shot(d, "tourist-monument-english")
        d.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})  # a phone without script
        d.refresh()
        wait_until(lambda: d.find_element(By.ID, "site-nav").is_displayed(), timeout_s=10, what="links shown")
        assert d.find_element(By.LINK_TEXT, "Monuments").is_displayed()
        assert not d.find_element(By.ID, "menu-button").is_displayed()  # a button that could not open anything
    finally:
        d.quit()


def test_a_meshopt_model_is_decoded_and_drawn(portal):
    from selenium.webdriver.common.by import By

    d = browser(portal["tmp"], 390, 844)
    try:
        d.get(f"{portal['url']}/monuments/{portal['meshopt_slug']}")
        viewer = d.find_element(By.CSS_SELECTOR, "model-viewer")
        start_3d(d)
        wait_until(lambda: d.execute_script("return arguments[0].loaded === true", viewer), timeout_s=60,
                   what="meshopt model on screen")
        size = d.execute_script("return arguments[0].getDimensions()", viewer)
        assert 1.5 < size["x"] < 2.5, f"the meshopt model did not decode to the 2 m sphere: {size}"
        assert d.execute_script("return !!self.MeshoptDecoder")  # our vendored decoder, not a CDN's
        sources = d.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(src.startswith(portal["url"]) for src in sources), sources
        # its decoder fetched once (model-viewer's own script tag); no Draco decoder for a meshopt model
        assert sum(src.endswith("/static/vendor/meshopt_decoder.js") for src in sources) == 1, sources
        assert not any("/draco/" in src for src in sources), sources
        time.sleep(1.0)
        image = shot(d, "tourist-monument-meshopt")
        r = d.execute_script("const b = arguments[0].getBoundingClientRect();"
                             "return [b.left, b.top, b.width, b.height, window.devicePixelRatio];", viewer)
        box = tuple(int(v * r[4]) for v in (r[0], r[1], r[0] + r[2], r[1] + min(r[3], 844 - r[1])))
        assert ImageStat.Stat(image.crop(box).convert("L")).stddev[0] > 8, "the meshopt model was not drawn"
    finally:
        d.quit()
    import urllib.request

    with urllib.request.urlopen(f"{portal['url']}/models/{portal['meshopt_version']}/mobile.glb") as resp:
        assert b"EXT_meshopt_compression" in resp.read()[:4096]


def test_librarian_uploads_watches_and_corrects_then_archivist_finds_it_boxed(portal):
    from selenium.webdriver.common.by import By

    pages = small_pages(2)
    files = []
    for n, page in enumerate(pages, 1):
        files.append(portal["tmp"] / f"trang-{n}.png")
        page.image.save(files[-1], dpi=(300, 300))
    d = browser(portal["tmp"], 1280, 900)
    try:
        d.get(f"{portal['url']}/staff/login")
        d.find_element(By.NAME, "username").send_keys("thu.thu")
        d.find_element(By.NAME, "password").send_keys("mat-khau-thu-thu")
        d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_until(lambda: "/staff/" in d.current_url and "login" not in d.current_url, timeout_s=10, what="signed in")
        d.get(f"{portal['url']}/staff/upload")
        d.find_element(By.NAME, "files").send_keys(str(files[0]))  # one chosen the usual way
        import base64

        d.execute_script(  # the other dragged from the desktop onto the drop zone
            "const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));"
            "const dt = new DataTransfer(); dt.items.add(new File([bytes], 'trang-2.png', {type: 'image/png'}));"
            "document.querySelector('.dropzone').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true,"
            " cancelable: true}));", base64.b64encode(files[1].read_bytes()).decode())
        chosen = d.find_element(By.ID, "files-chosen").text
        assert "trang-1.png" in chosen and "trang-2.png" in chosen
        assert d.execute_script("return document.getElementById('files-input').files.length") == 2
        d.find_element(By.NAME, "title").send_keys("Sách Văn Miếu")
        d.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait_until(lambda: "Đã tạo tài liệu" in d.page_source, timeout_s=30, what="upload accepted")
        shot(d, "librarian-uploaded")
        d.get(f"{portal['url']}/staff/")

        def done():
            d.refresh()
            return "2/2" in d.page_source and "đang xử lý" not in d.page_source

        wait_until(done, timeout_s=120, interval_s=1, what="both pages read")
        shot(d, "librarian-dashboard-done")
        item_link = d.find_element(By.LINK_TEXT, "Sách Văn Miếu").get_attribute("href")
        item_id = int(item_link.split("/items/")[1].split("?")[0])
        import json
        import urllib.request

        with urllib.request.urlopen(f"{portal['url']}/api/v1/items/{item_id}") as resp:
            page_id = json.loads(resp.read())["pages"][0]["id"]
        d.get(f"{portal['url']}/staff/pages/{page_id}/correct")
        line = d.find_element(By.NAME, "line-0")
        assert line.get_attribute("value") == "Văn Miếu được xây dựng năm 1070"
        line.clear()
        line.send_keys("Văn Miếu được dựng năm 1070")
        d.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait_until(lambda: "Đã lưu phiên bản 2" in d.page_source, timeout_s=10, what="correction saved")
        shot(d, "librarian-corrected")

        d.delete_all_cookies()  # an archivist on the same machine
        d.get(f"{portal['url']}/search")
        box = d.find_element(By.NAME, "q")
        box.send_keys("quoc tu giam")
        box.submit()
        wait_until(lambda: d.find_elements(By.CSS_SELECTOR, "rect.hitbox"), timeout_s=30, what="hits boxed")
        rect = d.find_element(By.CSS_SELECTOR, "rect.hitbox")
        assert rect.is_displayed() and rect.size["width"] > 2 and rect.size["height"] > 2
        image = d.find_element(By.CSS_SELECTOR, ".page-thumb img")
        wait_until(lambda: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0;", image),
                   timeout_s=20, what="page image loaded")
        # the boxes lie on the picture: the first match's box inside the image's box
        inside = d.execute_script(
            "const r = arguments[0].getBoundingClientRect(), i = arguments[1].getBoundingClientRect();"
            "return i.width > 100 && r.left >= i.left - 1 && r.right <= i.right + 1"
            " && r.top >= i.top - 1 && r.bottom <= i.bottom + 1;", rect, image)
        assert inside
        shifted = d.execute_async_script(  # the page did not move under the reader as its pictures came
            "const done = arguments[arguments.length - 1]; let sum = 0;"
            "new PerformanceObserver(l => { for (const e of l.getEntries()) if (!e.hadRecentInput) sum += e.value; })"
            ".observe({type: 'layout-shift', buffered: true}); setTimeout(() => done(sum), 300);")
        assert shifted < 0.05, shifted
        assert "quoc tu giam" in d.current_url.replace("+", " ")  # the search lives in the URL
        shot(d, "archivist-search-boxed")

        # the item page: its pages as thumbnails; its search goes to the first page with a match, in the
        # reader, where the hits are boxed on the deep-zoom image of the page
        d.get(f"{portal['url']}/items/{item_id}")
        wait_until(lambda: d.execute_script(
            "return Array.from(document.querySelectorAll('ol.page-grid img')).filter(i => i.complete && "
            "i.naturalWidth > 0).length") == 2, timeout_s=30, what="the pages' thumbnails")
        box = d.find_element(By.CSS_SELECTOR, "#search-within input[name=q]")
        box.send_keys("Quoc Tu Giam")
        box.submit()
        wait_until(lambda: f"/items/{item_id}/pages/2" in d.current_url, timeout_s=20, what="the page with the hits")
        wait_until(lambda: [o for o in d.find_elements(By.CSS_SELECTOR, "#zoom .hit-overlay") if o.is_displayed()
                            and o.size["width"] > 2], timeout_s=20, what="hit boxed in the deep-zoom viewer")
        time.sleep(1.0)
        image = shot(d, "archivist-reader-deepzoom-hit")
        zoom = d.find_element(By.ID, "zoom")
        r = d.execute_script("const b = arguments[0].getBoundingClientRect(); return [b.left, b.top, b.width, b.height,"
                             " window.devicePixelRatio];", zoom)
        crop = image.crop(tuple(int(v * r[4]) for v in (r[0], max(r[1], 0), r[0] + r[2], min(r[1] + r[3], 900))))
        assert ImageStat.Stat(crop.convert("L")).stddev[0] > 10, "the page image is not drawn"
    finally:
        d.quit()
        shutil.rmtree(portal["tmp"] / "profiles", ignore_errors=True)
