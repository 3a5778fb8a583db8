"""The correction page in a real browser (Debian's chromium), at a phone's width: nothing
overflows sideways, F8 and Shift+F8 (and the buttons, from the keyboard) go from one doubtful
word to the next, each selected in its line's box and boxed on the page image; a click on a
marked word does the same. The portal runs in this process (werkzeug) on a SQLite catalogue."""

from __future__ import annotations

import pytest
from library.access import Actor

from tests.conftest import make_settings
from tests.e2e.browser import browser, need_chromium, served_in_process, shot, sign_in
from tests.library.test_confidence_queue import read_page

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path):
    from web import create_app

    need_chromium()
    app = create_app({"TESTING": True}, settings=make_settings(tmp_path / "data"))
    p = app.extensions["heritage"]
    p.users.create(Actor.system("tests"), "thu.thu", "mat-khau-thu-thu", "librarian")
    _, page_id = read_page(p)
    try:
        with served_in_process(app) as url:
            yield {"url": url, "page_id": page_id, "tmp": tmp_path}
    finally:
        p.close()


def test_doubtful_words_one_after_another_from_the_keyboard_on_a_phone(served):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    d = browser(served["tmp"], 390, 844)
    try:
        sign_in(d, served["url"], "thu.thu", "mat-khau-thu-thu")
        # a phone's screen (headless chromium's windows are at least 500 px wide)
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
        d.get(f"{served['url']}/staff/pages/{served['page_id']}/correct")
        assert d.execute_script("return window.innerWidth") == 390
        assert d.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        line = d.find_element(By.ID, "input-line-0")
        assert line.rect["x"] + line.rect["width"] <= 390  # the line's box fits the phone

        def where():
            return d.execute_script(
                "const a = document.activeElement;"
                "return [a.id, a.value.slice(a.selectionStart, a.selectionEnd),"
                " document.getElementById('doubt-where').textContent,"
                " Array.from(document.querySelectorAll('rect.doubt-box.current')).map(r => r.id)];")

        body = d.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.F8)
        assert where() == ["input-line-0", "Miếu", "Chữ 1/4: “Miếu”, dòng 1, độ tin cậy 41 %.", ["box-1"]]
        d.switch_to.active_element.send_keys(Keys.F8)
        assert where()[:2] == ["input-line-0", "dựng"]
        d.switch_to.active_element.send_keys(Keys.F8, Keys.F8)
        assert where() == ["input-line-1", "vua", "Chữ 4/4: “vua”, dòng 2, độ tin cậy 59 %.", ["box-9"]]
        d.switch_to.active_element.send_keys(Keys.SHIFT, Keys.F8)
        assert where()[:2] == ["input-line-0", "1070"]
        shot(d, "correction-doubtful-phone")

        # the word typed over is found again in its line after the text before it changed
        active = d.switch_to.active_element
        active.send_keys(Keys.HOME, "Ở ")
        d.find_element(By.ID, "prev-doubtful").send_keys(Keys.ENTER)  # a button, reached from the keyboard
        assert where()[:2] == ["input-line-0", "dựng"]
        d.find_element(By.CSS_SELECTOR, 'a.doubtful[data-word="1"]').click()
        assert where()[:2] == ["input-line-0", "Miếu"]
    finally:
        d.quit()
