"""WCAG 2.1 AA on every page (issue #13, point 5): axe-core (from the npm registry) runs inside Debian's
chromium on each public page and each staff page, on a phone-sized screen and a desktop one, in
Vietnamese and English, and the test fails on any serious or critical violation. The pages other
browser tests visit are checked there too (``tests.e2e.browser.shot``). Real server, real pages read
by the real tesseract."""

from __future__ import annotations

import shutil

import pytest

from library.access import Actor
from library.container import build_platform
from library.ingest.service import Upload
from tests.conftest import make_settings
from tests.e2e.browser import assert_accessible, browser, need_chromium, serving, wait_until
from tests.library.test_jobs import small_scans

SYSTEM = Actor.system("tests")
ADMIN = ("quan.tri", "mat-khau-quan-tri")

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    need_chromium()
    tmp = tmp_path_factory.mktemp("a11y")
    settings = make_settings(tmp / "data")
    p = build_platform(settings)
    p.users.create(SYSTEM, *ADMIN, "admin")
    report = p.ingest.ingest_item([Upload(x, x.name) for x in small_scans(tmp, 2)],
                                  {"title": "Hà Nội xưa", "collection": "Sách cổ Hà Nội", "date": "1935"}, actor=SYSTEM)
    item_id = report.items[0].item_id
    rows = p.catalogue.page_statuses(item_id)
    for row in rows:
        assert p.reader.read(row.page_id).value == "done"
    p.reader.finish_item(item_id)
    p.indexer.flush()
    monument = p.monuments.create_monument(name_vi="Khuê Văn Các", name_en="Constellation of Literature Pavilion",
                                           description_vi="Gác Khuê Văn dựng năm 1805.", actor=SYSTEM)
    with p.sessions() as s:
        from library.catalogue.models import Item

        collection_id = s.get(Item, item_id).collection_id
    assert collection_id is not None
    p.close()
    with serving(settings, tmp, "--no-workers") as url:
        yield {"url": url, "tmp": tmp, "item": item_id, "page": rows[0].page_id, "collection": collection_id,
               "slug": monument.slug, "monument": monument.id}


def public_pages(site) -> list[str]:
    i = site["item"]
    return ["/", "/collections", f"/collections/{site['collection']}", f"/items/{i}", f"/items/{i}/pages/1",
            f"/items/{i}/pages/2?q=Quoc+Tu+Giam", f"/items/{i}/report?page=1", "/search?q=van+mieu",
            "/search?q=zzqxv", "/monuments", f"/monuments/{site['slug']}", "/serials", "/khong-co-trang-nay",
            "/staff/login"]


def staff_pages(site) -> list[str]:
    return ["/staff/", "/staff/upload", f"/staff/pages/{site['page']}/correct", "/staff/corrections",
            "/staff/admin/users", "/staff/admin/audit", "/staff/monuments", f"/staff/monuments/{site['monument']}",
            f"/staff/items/{site['item']}/edit", "/staff/feedback"]


@pytest.mark.parametrize("width,height", [(390, 844), (1280, 900)])
def test_every_page_meets_wcag_21_aa(site, width, height):
    from selenium.webdriver.common.by import By

    d = browser(site["tmp"], width, height)
    checked = []
    try:
        for lang in ("vi", "en"):
            for path in public_pages(site):
                d.get(f"{site['url']}{path}{'&' if '?' in path else '?'}lang={lang}")
                assert_accessible(d, f"{path} ({lang}, {width}px)")
                checked.append(path)
        d.get(f"{site['url']}/staff/login")
        d.find_element(By.NAME, "username").send_keys(ADMIN[0])
        d.find_element(By.NAME, "password").send_keys(ADMIN[1])
        d.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait_until(lambda: "login" not in d.current_url, timeout_s=10, what="signed in")
        for lang in ("vi", "en"):
            for path in staff_pages(site) + [f"/items/{site['item']}"]:
                d.get(f"{site['url']}{path}?lang={lang}")
                assert "/staff/login" not in d.current_url, path
                assert_accessible(d, f"{path} ({lang}, {width}px, signed in)")
                checked.append(path)
        assert len(checked) == 2 * (len(public_pages(site)) + len(staff_pages(site)) + 1)
    finally:
        d.quit()
        shutil.rmtree(site["tmp"] / "profiles", ignore_errors=True)
