"""Staff operations in a real browser (Debian's chromium through Selenium) against the
real server with real workers: the dashboard updates itself while pages are read,
a librarian cancels the rest of an item and the workers skip it; and an item opens in
Mirador, which loads our IIIF manifest and paints the page image. Screenshots are
kept in test-artifacts/."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import ImageStat

from library.access import Actor
from library.container import build_platform
from library.ingest.service import Upload
from tests.conftest import make_settings
from tests.e2e.browser import browser, need_chromium, serving, shot, wait_until
from tests.library.test_jobs import small_scans

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

pytestmark = [pytest.mark.slow, pytest.mark.integration]

TITLE = "Đại Nam nhất thống chí"


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    need_chromium()
    tmp = tmp_path_factory.mktemp("staff")
    settings = make_settings(tmp / "data")
    p = build_platform(settings)
    p.users.create(Actor.system("tests"), "thu.thu", "mat-khau-thu-thu", "librarian")
    report = p.ingest.ingest_item([Upload(f, f.name) for f in small_scans(tmp, 2)], {"title": TITLE}, actor=SYSTEM)
    read_id = report.items[0].item_id
    for row in p.catalogue.page_statuses(read_id):
        assert p.reader.read(row.page_id).value == "done"
    p.reader.finish_item(read_id)
    p.close()
    with serving(settings, tmp) as url:
        yield {"url": url, "tmp": tmp, "settings": settings, "read_id": read_id}


def full_pages(tmp, count):
    """``count`` distinct full pages of Vietnamese text (a few seconds of OCR each: time to watch and cancel)."""
    from digitize.synthetic import find_vietnamese_font, render_page
    from tests.workers.test_ocr_workers import LINES

    text = [line for pair in LINES for line in pair] * 4
    page = render_page(text, font_path=find_vietnamese_font(), dpi=300, page_width_in=6.0, page_height_in=8.0)
    paths = []
    for n in range(1, count + 1):
        image = page.image.copy()
        image.putpixel((2 + n % 50, 2 + n // 50), 200)  # every file different, so none is taken for a duplicate
        paths.append(tmp / f"trang-day-{n}.png")
        image.save(paths[-1], dpi=(300, 300))
    return paths


def sign_in(d, url, name, password):
    from selenium.webdriver.common.by import By

    d.get(f"{url}/staff/login")
    d.find_element(By.NAME, "username").send_keys(name)
    d.find_element(By.NAME, "password").send_keys(password)
    d.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_until(lambda: d.current_url.rstrip("/").endswith("/staff"), timeout_s=15, what="signed in")


def test_the_dashboard_updates_itself_and_a_librarian_cancels_the_rest(portal):
    from selenium.webdriver.common.by import By

    url = portal["url"]
    d = browser(portal["tmp"], 1280, 900)
    p = build_platform(portal["settings"])
    try:
        sign_in(d, url, "thu.thu", "mat-khau-thu-thu")
        d.execute_script("window.notReloaded = true;")
        # a batch of 30 pages arrives (from the command line, say) while the dashboard is open
        report = p.ingest.ingest_item([Upload(f, f.name) for f in full_pages(portal["tmp"], 30)],
                                      {"title": "Tạp chí Nam Phong & Hữu Thanh"}, actor=SYSTEM)
        assert report.ok, report.as_dict()
        item_id = report.items[0].item_id
        row = f"#item-{item_id}"
        wait_until(lambda: d.find_elements(By.CSS_SELECTOR, row), timeout_s=20, what="the new item on the dashboard")

        def pages_read():
            text = d.find_element(By.CSS_SELECTOR, f"{row} .counts").text
            return int(text.split("/")[0])

        wait_until(lambda: pages_read() >= 2, timeout_s=90, interval_s=0.5, what="pages read, shown live")
        assert d.execute_script("return window.notReloaded === true")  # updated by the script, not by reloading
        assert d.find_element(By.CSS_SELECTOR, f"{row} td a").text == "Tạp chí Nam Phong & Hữu Thanh"
        # pages were timed, so the time left is estimated
        eta = wait_until(lambda: d.find_element(By.CSS_SELECTOR, f"{row} td.eta").text, timeout_s=10, what="an eta")
        assert eta.startswith("khoảng ") and ("giây" in eta or "phút" in eta), eta
        shot(d, "staff-dashboard-live")
        # a real table on a wide screen: each row's cells stand under their headings
        heads = d.find_elements(By.CSS_SELECTOR, "#items > thead > tr > th")
        cells = d.find_elements(By.CSS_SELECTOR, f"{row} > td")
        assert len(heads) == len(cells) == 6
        assert all(abs(h.rect["x"] - c.rect["x"]) < 2 for h, c in zip(heads, cells)), \
            [(h.rect["x"], c.rect["x"]) for h, c in zip(heads, cells)]

        d.find_element(By.CSS_SELECTOR, f"{row} button.cancel").click()
        wait_until(lambda: "trang trong hàng đợi" in d.page_source, timeout_s=15, what="cancel confirmed")
        notice = d.find_element(By.CSS_SELECTOR, "p.notice").text
        cancelled = int(notice.split("Đã huỷ ")[1].split(" trang")[0])
        assert 0 < cancelled < 30
        wait_until(lambda: d.find_element(By.CSS_SELECTOR, row).get_attribute("data-status") == "cancelled",
                   timeout_s=60, what="the item ends cancelled once its running pages are read")
        time.sleep(4)  # the workers had been sent every page: they must skip the cancelled ones
        rows = p.catalogue.page_statuses(item_id)
        skipped = [r for r in rows if r.status == "cancelled"]
        assert len(skipped) == cancelled and all(r.attempts == 0 for r in skipped)
        assert {r.status for r in rows} == {"done", "cancelled"}
        wait_until(lambda: d.find_element(By.CSS_SELECTOR, f"{row} button.retry").is_displayed(),
                   timeout_s=10, what="the retry button")
        text = wait_until(lambda: d.find_element(By.CSS_SELECTOR, row).text, timeout_s=10, what="the row's text")
        assert f"{cancelled}/30 trang đã huỷ trước khi đọc" in text, text
        shot(d, "staff-dashboard-cancelled")

        d.set_window_size(390, 844)  # the dashboard on a phone: it scrolls sideways inside its box
        width = d.execute_script("return document.documentElement.scrollWidth")
        assert width <= 400, f"the page is {width} px wide on a 390 px screen"
        shot(d, "staff-dashboard-phone")
    finally:
        p.close()
        d.quit()


def test_an_item_opens_in_mirador_with_its_page_image(portal):
    from selenium.webdriver.common.by import By

    d = browser(portal["tmp"], 1280, 900)
    try:
        d.get(f"{portal['url']}/items/{portal['read_id']}")
        d.find_element(By.ID, "open-mirador").click()
        titles = "return Array.from(document.querySelectorAll('#mirador h2, #mirador h3')).map(e => e.textContent);"
        wait_until(lambda: TITLE in d.execute_script(titles), timeout_s=60, what="Mirador shows the manifest's label")
        wait_until(lambda: d.execute_script(
            "const c = document.querySelector('#mirador .openseadragon-canvas canvas');"
            "return c && c.width > 100 && c.height > 100;"), timeout_s=60, what="the page drawn by OpenSeadragon")
        time.sleep(2.0)  # let the tiles arrive and fade in
        image = shot(d, "mirador-item")
        r = d.execute_script("const b = document.querySelector('#mirador .openseadragon-canvas canvas')"
                             ".getBoundingClientRect(); return [b.left, b.top, b.width, b.height, devicePixelRatio];")
        crop = image.crop(tuple(int(v * r[4]) for v in (r[0], r[1], r[0] + r[2], min(r[1] + r[3], 900))))
        pixels = np.asarray(crop.convert("L"), dtype=int)
        white = (pixels > 235).mean()  # the scanned page's paper
        ink = (pixels < 80).mean()  # its printed text
        assert white > 0.05, f"no page on Mirador's canvas ({white:.1%} white)"
        assert ink > 0.001, f"no text on the page ({ink:.2%} dark)"
        assert ImageStat.Stat(crop.convert("L")).stddev[0] > 20
        errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]
        assert not [e for e in errors if "Content Security Policy" in e["message"]], errors
    finally:
        d.quit()
