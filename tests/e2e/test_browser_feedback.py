"""Readers' feedback end to end in a real browser against the real server: a reader on
a phone reports a text error on a page of an item (in the reader), a librarian answers it in the queue and
puts the correction into the text, and the answer is shown publicly beside the question.
Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import pytest

from library.access import Actor
from library.container import build_platform
from library.ingest.service import Upload
from tests.conftest import make_settings
from tests.e2e.browser import browser, need_chromium, serving, shot, wait_until
from tests.workers.test_ocr_workers import small_pages

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    need_chromium()
    tmp = tmp_path_factory.mktemp("feedback")
    settings = make_settings(tmp / "data")
    p = build_platform(settings)
    p.users.create(Actor.system("tests"), "thu.thu", "mat-khau-thu-thu", "librarian")
    img = tmp / "trang.png"
    small_pages(1)[0].image.save(img, dpi=(300, 300))
    item_id = p.ingest.ingest_item([Upload(img, "trang.png")], {"title": "Văn Miếu chí"}, actor=SYSTEM).items[0].item_id
    page_id = p.catalogue.page_statuses(item_id)[0].page_id
    assert p.reader.read(page_id).value == "done"  # read before the server starts: the test is about feedback
    p.close()
    with serving(settings, tmp) as url:
        yield {"url": url, "tmp": tmp, "item_id": item_id}


def test_a_reader_reports_an_error_a_librarian_answers_and_the_answer_is_public(portal):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url, item_id = portal["url"], portal["item_id"]
    d = browser(portal["tmp"], 390, 844)  # the reader's phone
    try:
        d.get(f"{url}/items/{item_id}")
        d.find_element(By.ID, "read-item").click()  # read the item: its first page in the reader
        wait_until(lambda: f"/items/{item_id}/pages/1" in d.current_url, timeout_s=10, what="the reader")
        d.find_element(By.LINK_TEXT, "Báo lỗi chữ trên trang này").click()
        wait_until(lambda: "/report" in d.current_url, timeout_s=10, what="report form")
        Select(d.find_element(By.NAME, "line")).select_by_value("1")
        d.find_element(By.NAME, "quoted").send_keys("1070")
        d.find_element(By.NAME, "suggestion").send_keys("1076")
        d.find_element(By.NAME, "body").send_keys("Sách gốc ghi năm 1076 <b>đậm</b>.")
        d.find_element(By.NAME, "name").send_keys("Nguyễn Thị Hoa")
        d.find_element(By.NAME, "email").send_keys("hoa@example.vn")
        assert not d.find_element(By.NAME, "contact_url").is_displayed()  # the honeypot stays out of sight
        shot(d, "feedback-reader-report-phone")
        d.find_element(By.CSS_SELECTOR, "form.fb-form button[type=submit]").click()
        wait_until(lambda: "Cảm ơn bạn!" in d.page_source, timeout_s=10, what="thanks")
        assert d.current_url.endswith("#feedback") and "Sách gốc ghi năm 1076" not in d.page_source  # held

        d.delete_all_cookies()  # a librarian at a desk
        d.set_window_size(1280, 900)
        d.get(f"{url}/staff/login")
        d.find_element(By.NAME, "username").send_keys("thu.thu")
        d.find_element(By.NAME, "password").send_keys("mat-khau-thu-thu")
        d.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait_until(lambda: "login" not in d.current_url, timeout_s=10, what="signed in")
        d.get(f"{url}/staff/feedback")
        entry = d.find_element(By.CSS_SELECTOR, "article.fb-entry")
        assert "hoa@example.vn" in entry.text and "1070 → 1076" in entry.text
        assert "<b>đậm</b>" in entry.text  # markup shown as text
        shot(d, "feedback-librarian-queue")
        entry.find_element(By.NAME, "answer").send_keys("Cảm ơn chị Hoa, thư viện đã sửa theo bản gốc.")
        entry.find_element(By.CSS_SELECTOR, "button[name=publish]").click()
        wait_until(lambda: "Đã cập nhật góp ý số" in d.page_source, timeout_s=10, what="answer saved")
        d.get(f"{url}/staff/feedback?status=all")
        d.find_element(By.LINK_TEXT, "Đưa vào văn bản").click()
        line = d.find_element(By.NAME, "line_text")
        assert line.get_attribute("value") == "Văn Miếu được xây dựng năm 1076"
        shot(d, "feedback-librarian-accept")
        d.find_element(By.CSS_SELECTOR, "main form.fb-form button[type=submit]").click()
        wait_until(lambda: "Đã lưu phiên bản 2 của văn bản trang." in d.page_source, timeout_s=10, what="new version")

        d.delete_all_cookies()  # the public again, on the phone
        d.set_window_size(390, 844)
        d.get(f"{url}/items/{item_id}#feedback")
        section = d.find_element(By.ID, "feedback")
        entry = section.find_element(By.CSS_SELECTOR, "article.fb-entry")
        assert "Nguyễn Thị Hoa" in entry.text and "Sách gốc ghi năm 1076 <b>đậm</b>." in entry.text
        answer = entry.find_element(By.CSS_SELECTOR, ".fb-answer")
        assert "Cảm ơn chị Hoa, thư viện đã sửa theo bản gốc." in answer.text and answer.is_displayed()
        assert "Đã sửa trong văn bản (phiên bản 2)." in entry.text
        assert "hoa@example.vn" not in d.page_source
        width = d.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"the feedback section makes the phone page scroll sideways ({width} px)"
        d.execute_script("arguments[0].scrollIntoView()", entry)
        shot(d, "feedback-public-answer-phone")
        d.get(f"{url}/items/{item_id}/pages/1")  # the corrected text, in the reader
        assert "Văn Miếu được xây dựng năm 1076" in d.find_element(By.CSS_SELECTOR, "#page-text pre").text
        width = d.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"the reader makes the phone page scroll sideways ({width} px)"
    finally:
        d.quit()
