"""The reader in a real browser (Debian's chromium through Selenium) on a phone-sized screen against the
real server: a reader searches (the first result on screen before the refine panel, suggestions as they
type), opens a result in the reader and sees the match boxed on the page image (pixels checked), follows the link of the match, turns the page with the → key and with a swipe,
hides the text and finds it hidden on the next page; the browser logs no error. Pages read by the real
tesseract. Screenshots in test-artifacts/."""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest

from library.access import Actor
from library.container import build_platform
from library.ingest.service import Upload
from tests.conftest import make_settings
from tests.e2e.browser import assert_accessible, browser, serious_violations, need_chromium, serving, shot, wait_until
from tests.library.test_jobs import small_scans

SYSTEM = Actor.system("tests")

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def reader_portal(tmp_path_factory):
    need_chromium()
    tmp = tmp_path_factory.mktemp("reader")
    settings = make_settings(tmp / "data")
    p = build_platform(settings)
    report = p.ingest.ingest_item([Upload(x, x.name) for x in small_scans(tmp, 4)], {"title": "Hà Nội xưa"},
                                  actor=SYSTEM)
    item_id = report.items[0].item_id
    for row in p.catalogue.page_statuses(item_id):
        assert p.reader.read(row.page_id).value == "done"
    p.reader.finish_item(item_id)
    p.indexer.flush()
    p.close()
    with serving(settings, tmp, "--no-workers") as url:
        yield {"url": url, "tmp": tmp, "item": item_id}


def _errors(d) -> list:
    return [e for e in d.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]


def test_a_reader_on_a_phone_sees_the_match_boxed_and_turns_pages(reader_portal):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, item = reader_portal["url"], reader_portal["item"]
    d = browser(reader_portal["tmp"], 390, 844)
    try:
        # the search page on a phone: the first result on screen, the refine panel closed; suggestions
        d.get(f"{url}/search?lang=en&q=quoc+tu+giam")
        first = d.find_element(By.CSS_SELECTOR, "article.hit")
        assert first.location["y"] < 844 and first.is_displayed()
        assert d.execute_script("return document.getElementById('refine').open") is False
        shot(d, "search-phone-results-first")
        assert_accessible(d, "the search page")
        box = d.find_element(By.ID, "search-q")
        box.clear()
        box.send_keys("Hà N")
        wait_until(lambda: "Hà Nội xưa" in d.execute_script(
            "return Array.from(document.querySelectorAll('#search-suggestions option')).map(o => o.value)"),
            timeout_s=10, what="a suggestion as the reader types")
        d.get(f"{url}/search?lang=en&q=quoc+tu+giam")
        d.find_element(By.CSS_SELECTOR, "article.hit h2 a").click()  # the result opens the reader with the search
        wait_until(lambda: f"/items/{item}/pages/2" in d.current_url and "q=quoc" in d.current_url, timeout_s=10,
                   what="the reader at the page of the result")
        wait_until(lambda: int(d.find_element(By.ID, "reader").get_attribute("data-boxes") or 0) >= 1,
                   timeout_s=30, what="the matches boxed on the page image")
        assert d.find_element(By.ID, "reader").get_attribute("data-images") == "1"  # one page on a phone
        assert not d.find_element(By.ID, "spread-toggle").is_displayed()
        overlay = d.find_element(By.CSS_SELECTOR, "#zoom .hit-overlay")
        wait_until(lambda: overlay.is_displayed() and overlay.size["width"] > 4, timeout_s=20, what="a box drawn")
        time.sleep(1.5)  # tiles fade in
        image = shot(d, "reader-phone-match")
        assert_accessible(d, "the reader")
        r = d.execute_script("const b = arguments[0].getBoundingClientRect(); return [b.left, b.top, b.width, b.height,"
                             " devicePixelRatio];", overlay)
        box = np.asarray(image.crop(tuple(int(v * r[4]) for v in (r[0], r[1], r[0] + r[2], r[1] + r[3]))), dtype=int)
        assert box.size and (box[..., 0] - box[..., 2]).mean() > 20, "the box is not drawn orange over the page"

        d.find_element(By.ID, "hit-link-1").click()  # the match's own URL zooms to it
        wait_until(lambda: d.current_url.endswith("#hit-1"), timeout_s=5, what="the match's URL")
        wait_until(lambda: d.find_elements(By.CSS_SELECTOR, "#hit-box-1.current"), timeout_s=10, what="match marked")

        d.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)  # the → key turns the page
        wait_until(lambda: f"/items/{item}/pages/3" in d.current_url, timeout_s=10, what="page 3 by the key")
        assert "q=quoc" in d.current_url  # the search goes along
        assert "Page 3 of 4" in d.find_element(By.CSS_SELECTOR, "#turn-top .where").text

        toggle = d.find_element(By.ID, "text-toggle")
        assert d.find_element(By.ID, "page-text-body").is_displayed()
        toggle.click()
        assert not d.find_element(By.ID, "page-text-body").is_displayed()
        assert toggle.get_attribute("aria-expanded") == "false"

        d.execute_script(  # a swipe to the left over the page text turns to the next page
            "const el = document.getElementById('reader-view');"
            "const t = (x) => new Touch({identifier: 1, target: el, clientX: x, clientY: 300});"
            "el.dispatchEvent(new TouchEvent('touchstart', {touches: [t(300)], changedTouches: [t(300)], bubbles: true}));"
            "el.dispatchEvent(new TouchEvent('touchend', {touches: [], changedTouches: [t(80)], bubbles: true}));")
        wait_until(lambda: f"/items/{item}/pages/4" in d.current_url, timeout_s=10, what="page 4 by a swipe")
        assert not d.find_element(By.ID, "page-text-body").is_displayed()  # hidden stays hidden
        wait_until(lambda: d.execute_script("return document.querySelectorAll('#zoom canvas').length"),
                   timeout_s=20, what="the page image drawn")
        # drawn on a 2D canvas (no WebGL: OpenSeadragon's canvas drawer) with the page's dark text in it, from
        # the info.json the page carries: the browser never asked for one
        wait_until(lambda: d.execute_script(
            "const c = document.querySelector('#zoom canvas'), g = c && c.getContext('2d');"
            "if (!g || !c.width) return 0; const px = g.getImageData(0, 0, c.width, c.height).data; let dark = 0;"
            "for (let i = 0; i < px.length; i += 4 * 31) if (px[i] < 100 && px[i + 3] > 0) dark++; return dark;") > 20,
            timeout_s=20, what="the page's text drawn on a 2D canvas")
        assert d.execute_script("return performance.getEntriesByType('resource')"
                                ".filter(e => e.name.includes('info.json')).length") == 0
        shot(d, "reader-phone-page-4-text-hidden")
        ActionChains(d).send_keys(Keys.ARROW_LEFT).perform()
        wait_until(lambda: f"/items/{item}/pages/3" in d.current_url, timeout_s=10, what="back by the ← key")
        d.get(f"{url}/items/{item}?lang=en")
        assert_accessible(d, "the item page")
        d.get(f"{url}/?lang=en")
        assert_accessible(d, "the home page")
        d.execute_script("document.querySelector('main').insertAdjacentHTML('beforeend', "
                         "'<button type=\"button\"></button><img src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\">')")
        found = serious_violations(d)  # the check itself: a button without a name, an image without text
        assert any(v.startswith("button-name") for v in found) and any(v.startswith("image-alt") for v in found), found
        assert not _errors(d), _errors(d)
    finally:
        d.quit()
        shutil.rmtree(reader_portal["tmp"] / "profiles", ignore_errors=True)


def test_a_reader_on_a_wide_screen_sees_two_facing_pages(reader_portal):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, item = reader_portal["url"], reader_portal["item"]
    d = browser(reader_portal["tmp"], 1400, 900)
    try:
        d.get(f"{url}/items/{item}/pages/2?lang=en&q=quoc+tu+giam")
        root = d.find_element(By.ID, "reader")
        wait_until(lambda: root.get_attribute("data-images") == "2", timeout_s=30, what="pages 2 and 3 side by side")
        assert d.find_element(By.CSS_SELECTOR, "#turn-top .where").text == "Pages 2–3 of 4"
        toggle = d.find_element(By.ID, "spread-toggle")
        assert toggle.is_displayed() and toggle.get_attribute("aria-pressed") == "true"
        assert d.find_element(By.CSS_SELECTOR, '#turn-top a[rel="next"]').get_attribute("href").split("?")[0].endswith(
            f"/items/{item}/pages/4")  # past the spread
        assert not d.find_elements(By.CSS_SELECTOR, '#turn-top a[rel="prev"]') or d.find_element(
            By.CSS_SELECTOR, '#turn-top a[rel="prev"]').get_attribute("href").split("?")[0].endswith(f"/pages/1")
        wait_until(lambda: int(root.get_attribute("data-boxes") or 0) >= 1, timeout_s=30, what="the match boxed")
        overlay = d.find_element(By.CSS_SELECTOR, "#zoom .hit-overlay")
        wait_until(lambda: overlay.is_displayed() and overlay.size["width"] > 4, timeout_s=20, what="a box drawn")
        zoom = d.find_element(By.ID, "zoom").rect
        # page 2 is the left-hand page: its match is boxed on the left half of the spread
        assert overlay.rect["x"] + overlay.rect["width"] / 2 < zoom["x"] + zoom["width"] / 2
        d.execute_script("document.getElementById('zoom').scrollIntoView()")
        time.sleep(1.5)  # tiles fade in
        image = shot(d, "reader-wide-two-pages")
        z = d.execute_script("const b = document.getElementById('zoom').getBoundingClientRect();"
                             "return [b.left, b.top, b.width, b.height, devicePixelRatio];")
        k = z[4]
        spread = np.asarray(image.crop(tuple(int(v * k) for v in (z[0], z[1], z[0] + z[2], z[1] + z[3]))).convert("L"), dtype=int)
        half = spread.shape[1] // 2
        for part in (spread[:, : half - 5], spread[:, half + 5 :]):  # both pages drawn: paper and ink in each half
            assert (part > 200).mean() > 0.05 and (part < 120).mean() > 0.001
        d.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)  # → goes past the spread
        wait_until(lambda: f"/items/{item}/pages/4" in d.current_url, timeout_s=10, what="page 4 by the key")

        d.get(f"{url}/items/{item}/pages/3?lang=vi")
        root = d.find_element(By.ID, "reader")
        wait_until(lambda: root.get_attribute("data-images") == "2", timeout_s=30, what="page 3 with page 2")
        assert d.find_element(By.CSS_SELECTOR, "#turn-top .where").text == "Trang 2–3 / 4"
        d.find_element(By.ID, "spread-toggle").click()  # one page at a time, remembered
        wait_until(lambda: d.find_element(By.ID, "reader").get_attribute("data-images") == "1", timeout_s=30,
                   what="one page after the reader's choice")
        assert d.find_element(By.ID, "spread-toggle").get_attribute("aria-pressed") == "false"
        assert d.find_element(By.CSS_SELECTOR, "#turn-top .where").text == "Trang 3 / 4"
        d.get(f"{url}/items/{item}/pages/2?lang=vi")
        wait_until(lambda: d.find_element(By.ID, "reader").get_attribute("data-images") == "1", timeout_s=30,
                   what="the choice kept on the next page")
        assert_accessible(d, "the reader on a wide screen")
        assert not _errors(d), _errors(d)
    finally:
        d.quit()
