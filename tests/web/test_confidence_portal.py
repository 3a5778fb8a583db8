"""Word confidence in the portal: the correction page marks doubtful words (with their
confidence, a count per line and page, a way from one to the next), a line can be confirmed as
read right, staff see read pages most-doubtful first a page at a time, and a reader's report can
be opened from one word, which staff then see in its context and boxed on the page image (found
again when the page changed). Every new route refused to every role without it. On SQLite and
PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from library.access import Actor
from library.discovery.feedback import Submission
from library.catalogue.models import Feedback, Page
from tests.library.test_confidence_queue import TWO_LINES, line_of, read_page
from tests.web.staff_accounts import ACCOUNTS, client_as, staffed_app
from tests.web.test_portal import csrf_of

SYSTEM = Actor.system("tests")  # corrections made by the fixtures: the system's, like the command line's
READER = Actor.anonymous("192.0.2.7")  # readers send feedback without an account

# "năm" twice on the first line; the second one is the doubtful one a reader points at
REPEATED = [[("Dựng", 95.0), ("năm", 91.0), ("1070", 90.0), ("đến", 92.0), ("năm", 33.0), ("1076", 90.0)],
            [("dưới", 93.0), ("triều", 92.0), ("Lý.", 94.0)]]


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


def stored_feedback(app) -> list[Feedback]:
    with app.extensions["heritage"].sessions() as s:
        return list(s.scalars(select(Feedback).order_by(Feedback.id)))


# ------------------------------------------------------------------ the correction page
def test_the_correction_page_marks_doubtful_words_in_both_languages(app):
    p = app.extensions["heritage"]
    _, page_id = read_page(p)
    html = client_as(app, "librarian").get(f"/staff/pages/{page_id}/correct").get_data(as_text=True)
    assert "4 chữ đáng ngờ trên 13 chữ (độ tin cậy dưới 60 %)." in html
    assert ('<a href="#input-line-0" class="doubtful" data-line="0" data-start="4" data-end="8" data-word="1" '
            'data-confidence="41" title="Độ tin cậy 41 %" aria-label="Miếu: chữ đáng ngờ, độ tin cậy 41 %, dòng 1">'
            'Miếu</a>') in html
    assert html.count('class="doubtful"') == 4 and html.count('<rect class="doubt-box"') == 4
    assert '<rect class="doubt-box" id="box-1" x="200" y="90" width="120" height="50">' in html
    assert '<span class="doubt-count">3 chữ đáng ngờ</span>' in html
    assert '<span class="doubt-count">1 chữ đáng ngờ</span>' in html
    assert 'data-confidence="60"' not in html  # 60.0 is not below the threshold
    assert '<button type="button" id="next-doubtful" aria-keyshortcuts="F8">Chữ đáng ngờ tiếp theo</button>' in html
    assert 'data-template="Chữ {k}/{n}: “{word}”, dòng {line}, độ tin cậy {c} %."' in html
    assert 'name="sure-0" value="1"' in html and 'name="sure-1" value="1"' in html
    assert 'name="line-0" value="Văn Miếu được xây dựng năm 1070"' in html  # the editor as before
    assert 'src="/static/correct.js"' in html and all('src="' in tag for tag in re.findall(r"<script[^>]*>", html))
    assert 'viewBox="0 0 1500 210"' in html  # the page image, doubtful words boxed over it

    en = client_as(app, "admin").get(f"/staff/pages/{page_id}/correct?lang=en").get_data(as_text=True)
    assert "4 doubtful words of 13 (confidence below 60 %)." in en and "Next doubtful word" in en
    assert 'aria-label="Miếu: doubtful word, confidence 41 %, line 1"' in en and "This line reads right" in en
    assert "F8: next doubtful word; Shift+F8: previous one." in en


def test_ocr_text_on_the_correction_page_is_escaped(app):
    p = app.extensions["heritage"]
    _, page_id = read_page(p, [[("<img", 10.0), ("src=x", 90.0), ("onerror=alert(1)>", 20.0)]])
    html = client_as(app, "librarian").get(f"/staff/pages/{page_id}/correct").get_data(as_text=True)
    assert "<img src=x" not in html and ">&lt;img</a>" in html and ">onerror=alert(1)&gt;</a>" in html
    assert "<title>&lt;img – Độ tin cậy 10 %</title>" in html


def test_a_line_confirmed_or_corrected_leaves_the_count(app):
    p = app.extensions["heritage"]
    _, page_id = read_page(p)
    client = client_as(app, "librarian")
    html = client.get(f"/staff/pages/{page_id}/correct").get_data(as_text=True)
    revision = re.search(r'name="revision" value="(\d+)"', html).group(1)
    r = client.post(f"/staff/pages/{page_id}/correct", data={
        "csrf_token": csrf_of(html), "revision": revision, "line-0": "Văn Miếu được xây dựng năm 1070",
        "line-1": "dưới triều vua Lý Thánh Tông.", "sure-1": "1"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/staff/pages/{page_id}/correct?lang=vi")
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Đã xác nhận 1 dòng đọc đúng." in html and "Đã lưu" not in html
    assert "3 chữ đáng ngờ trên 13 chữ" in html and p.catalogue.page(page_id).low_confidence_words == 3
    revision = re.search(r'name="revision" value="(\d+)"', html).group(1)
    r = client.post(f"/staff/pages/{page_id}/correct?lang=en", data={
        "csrf_token": csrf_of(html), "revision": revision, "line-0": "Văn Miếu được xây dựng năm 1076"})
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Saved as version 2." in html and "No doubtful word left (confidence below 60 %)." in html
    assert 'id="next-doubtful"' not in html and p.catalogue.page(page_id).low_confidence_words == 0
    assert "correction (by thu.thu)" in html  # the history names who corrected


def test_the_history_shows_the_raw_machine_reading_and_its_post_correction(app):
    from library.catalogue.models import Transcription

    p = app.extensions["heritage"]
    _, page_id = read_page(p)
    with p.sessions.begin() as s:
        s.add(Transcription(page_id=page_id, version=2, source="auto", text="Văn Miếu",
                            note="post-correction of the machine reading"))
    html = client_as(app, "librarian").get(f"/staff/pages/{page_id}/correct").get_data(as_text=True)
    versions = re.search(r'<ol class="versions">(.*?)</ol>', html, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", versions) == ["máy đọc", "máy tự sửa — post-correction of the machine reading"]


# ------------------------------------------------------------------ the correction queue
def test_staff_see_read_pages_most_doubtful_first_a_page_at_a_time(app, monkeypatch):
    import web.staff

    p = app.extensions["heritage"]
    a, a1 = read_page(p, [line_of(2)], title="Báo <b>Trung Bắc</b>")
    _, a2 = read_page(p, [line_of(6)], item_id=a, sequence=2)
    b, b1 = read_page(p, [line_of(4)], title="Nam Phong")
    read_page(p, [line_of(0)], item_id=b, sequence=2)
    p.feedback.submit(READER, Submission(kind="text_error", item_id=a, page=1, quoted="chữ0", suggestion="chữ"))
    monkeypatch.setattr(web.staff, "CORRECTIONS_PER_PAGE", 2)
    client = client_as(app, "librarian")
    html = client.get("/staff/corrections").get_data(as_text=True)
    assert re.findall(r'id="queue-page-(\d+)" data-doubtful="(\d+)"', html) == [(str(a2), "6"), (str(b1), "4")]
    assert "3 trang" in html and "độ tin cậy dưới 60 %" in html
    assert "Báo &lt;b&gt;Trung Bắc&lt;/b&gt;" in html and "<b>Trung" not in html
    assert f'href="/staff/pages/{a2}/correct?lang=vi">Soát trang</a>' in html
    assert '<meter min="0" max="1" value="0.857">86 %</meter>' in html  # 6 of 7 words
    assert 'href="?offset=2" rel="next"' in html and 'rel="prev"' not in html
    second = client.get("/staff/corrections?offset=2").get_data(as_text=True)
    assert re.findall(r'id="queue-page-(\d+)"', second) == [str(a1)] and 'href="?offset=0" rel="prev"' in second
    assert f'href="/staff/feedback?item={a}&amp;kind=text_error&amp;lang=vi">1</a>' in second  # a reader's report
    only_a = client.get(f"/staff/corrections?item={a}&lang=en").get_data(as_text=True)
    assert re.findall(r'id="queue-page-(\d+)"', only_a) == [str(a2), str(a1)]
    assert f"Only item {a}" in only_a and "2 pages" in only_a
    assert "Pages to check" in only_a and "Doubtful words" in only_a
    assert client.get("/staff/corrections?item=999999").status_code == 404
    assert 'href="/staff/corrections?lang=vi" id="to-corrections"' in client.get("/staff/feedback?lang=vi").get_data(as_text=True)
    assert 'id="to-corrections"' not in client_as(app, "curator").get("/staff/feedback").get_data(as_text=True)
    assert client.get("/staff/corrections?offset=-3").status_code == 200  # nonsense is the first page


def test_an_empty_queue_says_so(app):
    html = client_as(app, "admin").get("/staff/corrections?lang=en").get_data(as_text=True)
    assert "No page has doubtful words." in html and "0 pages" in html


# ------------------------------------------------------------------ readers' reports on a word
def test_a_report_opened_from_a_word_points_at_that_word_for_staff(app):
    p = app.extensions["heritage"]
    item_id, page_id = read_page(p, REPEATED)
    reader = app.test_client()
    form = reader.get(f"/items/{item_id}/report?page=1").get_data(as_text=True)
    link = f'href="/items/{item_id}/report?page=1&amp;word=4&amp;lang=vi#fb-form" class="fb-word doubtful"'
    assert link in form and form.count('class="fb-word') == 9
    assert "Bấm vào chữ sai trong văn bản dưới đây" in form
    form = reader.get(f"/items/{item_id}/report?page=1&word=4").get_data(as_text=True)
    assert '<input type="hidden" name="word" value="4">' in form
    assert "Bạn đang báo lỗi chữ “năm” (dòng 1)." in form and '<option value="1" selected>' in form
    assert 'name="quoted" maxlength="2000" value="năm"' in form
    assert '<rect class="word-box" x="590" y="90" width="90" height="50"/>' in form  # boxed on the page image
    r = reader.post(f"/items/{item_id}/feedback", data={
        "csrf_token": csrf_of(form), "kind": "text_error", "page": "1", "line": "1", "word": "4", "quoted": "năm",
        "suggestion": "nằm"})
    assert r.status_code == 303
    [fb] = stored_feedback(app)
    assert (fb.page_id, fb.line_number, fb.quoted, fb.suggestion) == (page_id, 1, "năm", "nằm")
    assert (fb.word_sequence, fb.word_char_start, fb.word_char_end, fb.word_text) == (4, 18, 21, "năm")

    staff = client_as(app, "librarian")
    queue = staff.get("/staff/feedback").get_data(as_text=True)
    entry = re.search(rf'<article class="fb-entry fb-pending" id="feedback-{fb.id}">.*?</article>', queue, re.S).group(0)
    assert '<q class="fb-context">Dựng năm 1070 đến <mark>năm</mark> 1076</q>' in entry
    assert 'viewBox="90 90 1300 50"' in entry and '<rect class="word-box" x="590" y="90" width="90" height="50"/>' in entry
    assert f'href="/iiif/image/p{page_id}/90,90,1300,50/max/0/default.jpg"' in entry
    accept = staff.get(f"/staff/feedback/{fb.id}/accept").get_data(as_text=True)
    # the word it points at is replaced, not the first "năm" of the line
    assert 'required value="Dựng năm 1070 đến nằm 1076"' in accept and "<mark>năm</mark>" in accept

    api = staff.get("/api/v1/feedback", headers=_basic("librarian")).get_json()
    assert api["items"][0]["word"] == {"sequence": 4, "char_start": 18, "char_end": 21, "text": "năm"}

    # the page changes before staff get to it: the word is found again by its text near its place
    c = p.corrections
    c.correct(SYSTEM, page_id, {1: "dưới triều vua Lý Thái Tổ."}, revision=c.review(page_id).revision)
    c.correct(SYSTEM, page_id, {0: "Khởi dựng năm 1070 đến năm 1076"}, revision=c.review(page_id).revision)
    entry = _entry(staff, fb.id)
    assert "Khởi dựng năm 1070 đến <mark>năm</mark> 1076" in entry and "tìm lại theo chữ" in entry
    c.correct(SYSTEM, page_id, {0: "Khởi dựng 1070–1076"}, revision=c.review(page_id).revision)
    entry = _entry(staff, fb.id)
    assert "Chữ “năm” không còn trên trang." in entry and "<svg" not in entry


def test_a_report_without_a_word_still_works_and_bad_words_are_refused(app):
    p = app.extensions["heritage"]
    item_id, page_id = read_page(p, REPEATED)
    old = p.feedback.submit(READER, Submission(kind="text_error", item_id=item_id, page=1, line=1, quoted="1076",
                                       suggestion="1077"))
    staff = client_as(app, "librarian")
    assert 'class="fb-word"' not in _entry(staff, old)
    accept = staff.get(f"/staff/feedback/{old}/accept").get_data(as_text=True)
    assert 'required value="Dựng năm 1070 đến năm 1077"' in accept

    reader = app.test_client()
    token = csrf_of(reader.get(f"/items/{item_id}/report?page=1").get_data(as_text=True))
    r = reader.post(f"/items/{item_id}/feedback", data={"csrf_token": token, "kind": "text_error", "page": "1",
                                                         "line": "2", "word": "4", "suggestion": "nằm"})
    assert r.status_code == 422 and "Chữ “năm” ở dòng 1, không phải dòng 2." in r.get_data(as_text=True)
    r = reader.post(f"/items/{item_id}/feedback?lang=en", data={"csrf_token": token, "kind": "text_error",
                                                                 "page": "1", "word": "99", "suggestion": "x"})
    assert r.status_code == 422 and "Page 1 has no word 99." in r.get_data(as_text=True)
    r = reader.post("/api/v1/feedback", json={"kind": "text_error", "item_id": item_id, "page": 1, "word": 1,
                                              "suggestion": "nắm"})
    assert r.status_code == 201
    with p.sessions() as s:
        fb = s.get(Feedback, r.get_json()["id"])
        assert (fb.line_number, fb.quoted, fb.word_char_start, fb.word_text) == (1, "năm", 5, "năm")
    bad = reader.post("/api/v1/feedback", json={"kind": "comment", "item_id": item_id, "word": 1, "body": "x"})
    assert bad.status_code == 422 and bad.get_json()["source"] == "word"
    assert len(stored_feedback(app)) == 2


def _entry(client, feedback_id) -> str:
    html = client.get("/staff/feedback?status=all").get_data(as_text=True)
    return re.search(rf'<article class="fb-entry[^"]*" id="feedback-{feedback_id}">.*?</article>', html, re.S).group(0)


def _basic(role):
    from tests.web.staff_accounts import basic

    return basic(role)


# ------------------------------------------------------------------ who may do what
ROUTES = [("get", "/staff/corrections", {"librarian", "admin"}),
          ("get", "/staff/pages/{page}/correct", {"librarian", "admin"}),
          ("post", "/staff/pages/{page}/correct", {"librarian", "admin"})]


@pytest.mark.parametrize("method,path,allowed", ROUTES)
def test_every_correction_route_refuses_every_role_without_it(app, method, path, allowed):
    _, page_id = read_page(app.extensions["heritage"], TWO_LINES)
    path = path.format(page=page_id)
    anonymous = app.test_client()
    token = csrf_of(anonymous.get("/staff/login").get_data(as_text=True))
    r = getattr(anonymous, method)(path, data={"csrf_token": token})
    assert r.status_code == 302 and "/staff/login" in r.headers["Location"]
    for role in ACCOUNTS:
        client = client_as(app, role)
        token = csrf_of(client.get("/staff/login").get_data(as_text=True))
        r = getattr(client, method)(path, data={"csrf_token": token, "revision": "0", "sure-0": "1"})
        if role in allowed:
            assert r.status_code in (200, 302, 409), (role, method, path, r.status_code)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)
            assert "Tài khoản của bạn không có quyền này." in r.get_data(as_text=True)
    with app.extensions["heritage"].sessions() as s:
        assert s.get(Page, page_id).low_confidence_words == 4  # the stale revision saved nothing
