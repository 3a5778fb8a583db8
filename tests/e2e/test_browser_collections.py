"""A collection page (with a librarian's forms) and a serial's calendar of issues on a phone (Debian's
chromium, a 390×844 window) against the real server: nothing makes the page scroll sideways, and a
day of the calendar opens its issue."""

from __future__ import annotations

import datetime as dt

import pytest

from library.access import Actor
from library.container import build_platform
from library.catalogue.models import ItemType
from tests.conftest import make_settings
from tests.e2e.browser import browser, need_chromium, serving, shot, wait_until
from tests.e2e.test_browser_staff import sign_in
from tests.library.test_collections import add_item

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_collection_and_calendar_fit_a_phone(tmp_path):
    from selenium.webdriver.common.by import By

    need_chromium()
    settings = make_settings(tmp_path / "data")
    p = build_platform(settings)
    cli = Actor.system("cli")
    coll = p.collections.create(cli, "Báo chí Hà Nội trước năm 1945 (bản lưu của Thư viện Hà Nội)",
                                "Các số báo in ở Hà Nội, " * 20)
    issues = {}
    for day in range(1, 29, 3):
        issues[day] = add_item(p, f"Ngày nay số {day} – tuần báo văn chương, xã hội, phê bình",
                               collection_id=coll.id, item_type=ItemType.newspaper, serial_title="Ngày nay",
                               issue_date=dt.date(1936, 3, day), issue_number=str(day), year_start=1936)
    p.users.create(Actor.system("tests"), "thu.thu", "mat-khau-thu-thu", "librarian")
    p.close()
    with serving(settings, tmp_path) as url:
        d = browser(tmp_path, 390, 844)
        try:
            sign_in(d, url, "thu.thu", "mat-khau-thu-thu")
            d.set_window_size(390, 844)
            for path, name in ((f"/collections/{coll.id}", "collection-phone"), ("/serials/ngay-nay", "serial-phone"),
                               ("/serials/ngay-nay/1936", "calendar-phone")):
                d.get(url + path)
                shot(d, name)
                width, shown = d.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
                wide = d.execute_script("return [...document.querySelectorAll('main *')].filter("
                                        "e => e.getBoundingClientRect().right > window.innerWidth + 0.5)"
                                        ".map(e => e.tagName + '.' + e.className).slice(0, 5)")
                assert shown <= 390 and width <= shown, f"{path} scrolls sideways on a phone ({width} px): {wide}"
            d.find_element(By.CSS_SELECTOR, f'.month a[href^="/items/{issues[10]}"]').click()
            wait_until(lambda: f"/items/{issues[10]}" in d.current_url, timeout_s=15, what="the issue opened")
        finally:
            d.quit()
