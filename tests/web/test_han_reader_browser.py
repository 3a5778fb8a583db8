"""The reader of a page of Hán in a real browser (Debian's chromium) at a phone's width: each character's
Sino-Vietnamese reading stands above it, the button hides the readings (and the choice is kept on the
device for the next page), and nothing overflows sideways."""

from __future__ import annotations

import pytest

from library.access import Actor
from library.ingest.service import Upload
from tests.conftest import make_settings, wait_until
from tests.digitize.test_han import render
from tests.e2e.browser import browser, need_chromium, served_in_process, sign_in
from tests.web.test_han_search import STELE

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path):
    from web import create_app

    need_chromium()
    app = create_app({"TESTING": True}, settings=make_settings(tmp_path / "data"))
    p = app.extensions["heritage"]
    p.users.create(Actor.system("tests"), "thu.thu", "mat-khau-thu-thu", "librarian")
    image, _, _ = render(STELE, vertical=True, per_line=12)
    image.save(tmp_path / "bia.png")
    report = p.ingest.ingest_item([Upload(tmp_path / "bia.png", "bia.png")],
                                  {"title": "Bia tiến sĩ", "language": "lzh"}, actor=Actor.system("tests"))
    item_id = report.items[0].item_id
    page_id = p.catalogue.page_statuses(item_id)[0].page_id
    assert p.reader.read(page_id).value == "done"
    p.reader.finish_item(item_id)
    try:
        with served_in_process(app) as url:
            yield {"url": url, "item_id": item_id, "page_id": page_id, "tmp": tmp_path}
    finally:
        p.close()


def test_readings_above_the_characters_hidden_by_the_button_and_remembered(served):
    from selenium.webdriver.common.by import By

    d = browser(served["tmp"], 390, 844)
    try:
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
        url = f"{served['url']}/items/{served['item_id']}/pages/1?lang=vi"
        d.get(url)
        first = d.find_element(By.CSS_SELECTOR, "#page-text-pre ruby rt")
        character = d.find_element(By.CSS_SELECTOR, "#page-text-pre ruby")
        assert first.text == "đại" and first.is_displayed()
        assert first.rect["y"] < character.rect["y"] + 4  # the reading stands above its character
        assert d.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        button = d.find_element(By.ID, "readings-toggle")
        assert button.get_attribute("aria-pressed") == "true"
        button.click()
        assert not first.is_displayed() and button.get_attribute("aria-pressed") == "false"
        assert button.text == "Hiện âm Hán Việt"
        d.get(url)  # the next visit keeps the choice
        assert not d.find_element(By.CSS_SELECTOR, "#page-text-pre ruby rt").is_displayed()
        d.find_element(By.ID, "readings-toggle").click()
        assert d.find_element(By.CSS_SELECTOR, "#page-text-pre ruby rt").is_displayed()
    finally:
        d.quit()


def test_a_transcriber_picks_a_character_by_its_reading_into_the_line_being_corrected(served):
    """On the correction page of a page in chữ Hán: select a character in a line, look up ``tien`` in the
    picker, press 進: it takes the selection's place; saved, the page's text has it."""
    from selenium.webdriver.common.by import By

    d = browser(served["tmp"], 390, 844)
    try:
        sign_in(d, served["url"], "thu.thu", "mat-khau-thu-thu")
        d.get(f"{served['url']}/staff/pages/{served['page_id']}/correct?lang=vi")
        line = d.find_element(By.ID, "input-line-0")
        before = line.get_attribute("value")
        assert before.startswith("大寶")
        line.click()
        d.execute_script("arguments[0].focus(); arguments[0].setSelectionRange(1, 2);"
                         "arguments[0].dispatchEvent(new Event('select'));", line)  # 寶 selected
        d.find_element(By.ID, "han-q").send_keys("tien")
        d.find_element(By.CSS_SELECTOR, "#han-picker-form button[type=submit]").click()
        wait_until(lambda: d.find_elements(By.CSS_SELECTOR, "#han-choices .han-choice"), timeout_s=10,
                   what="characters found")
        choice = [b for b in d.find_elements(By.CSS_SELECTOR, "#han-choices .han-choice") if b.text == "進"][0]
        assert "tiến" in choice.get_attribute("title")
        choice.click()
        assert line.get_attribute("value") == "大進" + before[2:]
        d.find_element(By.CSS_SELECTOR, "#correct-form button[type=submit]").click()
        wait_until(lambda: "大進" in d.find_element(By.ID, "input-line-0").get_attribute("value"), timeout_s=15,
                   what="saved")
        assert d.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        d.quit()
