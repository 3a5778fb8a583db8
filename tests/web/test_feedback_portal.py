"""Readers' feedback in the portal: a reader reports a text error, comments and rates
without an account; staff see a queue, answer, publish or hide, and put a suggestion
into the text; the answer is shown beside the question. CSRF on every form, markup
shown escaped, a honeypot, rate limits per client address (429), and every staff
action refused to every role without it. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import re
import unicodedata

import pytest
from sqlalchemy import select

from library.access import Actor
from library.discovery.feedback import Submission
from library.catalogue.models import Feedback
from tests.library.test_feedback import LINES, read_item
from tests.web.test_portal import csrf_of, sign_in
from web import create_app

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

READER = Actor.anonymous("192.0.2.7")  # readers send feedback without an account

PASSWORD = "mat-khau-dai-lam"
ACCOUNTS = {"librarian": "thu.thu", "archivist": "luu.tru", "curator": "bao.tang", "admin": "quan.tri"}
SCRIPT = "<script>alert('x')</script>"


def make_app(settings):
    app = create_app({"TESTING": True}, settings=settings)
    for role, name in ACCOUNTS.items():
        app.extensions["heritage"].users.create(Actor.system("tests"), name, PASSWORD, role)
    return app


@pytest.fixture
def app(settings):
    app = make_app(settings)
    yield app
    app.extensions["heritage"].close()


def staff_client(app, role):
    client = app.test_client()
    assert sign_in(client, ACCOUNTS[role], PASSWORD).status_code == 302
    return client


def token(client, path="/staff/login"):
    return csrf_of(client.get(path).get_data(as_text=True))


def stored(app) -> list[Feedback]:
    with app.extensions["heritage"].sessions() as s:
        return list(s.scalars(select(Feedback).order_by(Feedback.id)))


def test_a_reader_reports_an_error_and_the_answer_is_published_beside_it(app):
    item_id, page_id = read_item(app.extensions["heritage"])
    reader = app.test_client()
    page = reader.get(f"/items/{item_id}/pages/1").get_data(as_text=True)  # the page in the reader
    assert f'href="/items/{item_id}/report?page=1&amp;lang=vi"' in page and "Báo lỗi chữ trên trang này" in page
    form = reader.get(f"/items/{item_id}/report?page=1").get_data(as_text=True)
    assert '<option value="1">1. Văn Miếu được xây dựng năm 1070</option>' in form
    sent = {"kind": "text_error", "page": "1", "line": "1", "quoted": "xây dựng", "suggestion": "dựng",
            "body": unicodedata.normalize("NFD", f"Bản in ghi “dựng”. {SCRIPT}"), "name": f"An {SCRIPT}",
            "email": "an@example.vn", "contact_url": ""}
    assert reader.post(f"/items/{item_id}/feedback", data=sent).status_code == 400  # no CSRF token
    assert stored(app) == []
    r = reader.post(f"/items/{item_id}/feedback?lang=vi", data={**sent, "csrf_token": csrf_of(form)})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/items/{item_id}?lang=vi#feedback")
    page = reader.get(r.headers["Location"]).get_data(as_text=True)
    assert "Cảm ơn bạn! Góp ý sẽ hiện ở đây sau khi nhân viên duyệt." in page
    assert "Bản in ghi" not in page  # held for moderation
    [fb] = stored(app)
    assert fb.body == f"Bản in ghi “dựng”. {SCRIPT}" and fb.author_name == f"An {SCRIPT}"  # as sent, in NFC
    assert fb.page_id == page_id and fb.status.value == "pending"

    librarian = staff_client(app, "librarian")
    queue = librarian.get("/staff/feedback").get_data(as_text=True)
    assert "<script>alert" not in queue and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in queue
    assert 'href="mailto:an@example.vn"' in queue and "<del>xây dựng</del> → <ins>dựng</ins>" in queue
    assert "trang 1, dòng 1" in queue and f'href="/staff/feedback/{fb.id}/accept' in queue
    r = librarian.post(f"/staff/feedback/{fb.id}/answer", data={
        "csrf_token": csrf_of(queue), "answer": f"Cảm ơn, thư viện sẽ sửa. {SCRIPT}", "publish": "1",
        "next": "/staff/feedback?status=published"})
    assert r.status_code == 303 and r.headers["Location"] == "/staff/feedback?status=published"
    assert f"Đã cập nhật góp ý số {fb.id}." in librarian.get(r.headers["Location"]).get_data(as_text=True)

    page = reader.get(f"/items/{item_id}").get_data(as_text=True)
    section = page[page.index('id="feedback"'):]
    question, answer = section.index("Bản in ghi"), section.index("Cảm ơn, thư viện sẽ sửa.")
    assert question < answer and 'class="fb-answer"' in section[question:answer + 200]
    assert "<script>alert" not in page and "&lt;script&gt;" in section
    assert "an@example.vn" not in page  # the e-mail is never public
    assert "trang 1, dòng 1" in section and "<del>xây dựng</del>" in section
    en = reader.get(f"/items/{item_id}?lang=en").get_data(as_text=True)
    assert "Readers&#39; feedback" in en and "page 1, line 1" in en and ">Answer</strong>" in en
    board = reader.get(f"/api/v1/feedback/board?item_id={item_id}").json
    assert board["total"] == 1 and board["items"][0]["answer"].startswith("Cảm ơn")
    assert "an@example.vn" not in str(board) and "email" not in board["items"][0]


def test_bad_feedback_is_refused_with_a_reason_in_the_readers_language(app):
    item_id, _ = read_item(app.extensions["heritage"])
    reader = app.test_client()
    csrf = token(reader, f"/items/{item_id}")
    r = reader.post(f"/items/{item_id}/feedback", data={"csrf_token": csrf, "kind": "comment", "body": "ơ" * 4001,
                                                        "name": SCRIPT})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Nội dung: dài 4001 ký tự; tối đa 4000 ký tự." in html
    assert "&lt;script&gt;" in html and "<script>alert" not in html  # what was sent comes back, escaped
    r = reader.post(f"/items/{item_id}/feedback?lang=en", data={"csrf_token": csrf, "kind": "comment", "body": "x",
                                                                "email": "not-an-address"})
    assert r.status_code == 422 and "not an e-mail address" in r.get_data(as_text=True)
    reader.set_cookie("lang", "vi")  # back to Vietnamese after the English answer above
    r = reader.post(f"/items/{item_id}/feedback", data={"csrf_token": csrf, "kind": "text_error", "page": "1",
                                                        "line": "2", "quoted": "Văn Miếu", "suggestion": "x"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Không thấy “Văn Miếu” ở dòng hay trang đã chọn" in html
    assert '<option value="2" selected>' in html and 'name="suggestion" maxlength="2000" value="x"' in html
    r = reader.post(f"/items/{item_id}/feedback", data={"csrf_token": csrf, "kind": "rating", "rating": "9"})
    assert r.status_code == 422 and "Số sao: phải từ 1 đến 5." in r.get_data(as_text=True)
    r = reader.post(f"/items/{item_id}/feedback", data={"csrf_token": csrf, "kind": "comment", "body": "mua thuốc",
                                                        "contact_url": "http://spam.example"})
    assert r.status_code == 422 and "phải để trống" in r.get_data(as_text=True)
    assert reader.post("/items/999/feedback", data={"csrf_token": csrf, "kind": "comment", "body": "x"}).status_code == 404
    assert reader.get(f"/items/{item_id}/report?page=abc").status_code == 200  # the first page instead
    assert stored(app) == []


def test_feedback_is_rate_limited_per_client_address(tmp_path, database_url):
    from tests.conftest import make_settings

    app = make_app(make_settings(tmp_path / "data", database_url=database_url, feedback_per_window=2))
    try:
        item_id, _ = read_item(app.extensions["heritage"])
        reader = app.test_client()
        csrf = token(reader, f"/items/{item_id}")
        for n in range(2):
            r = reader.post(f"/items/{item_id}/feedback", data={"csrf_token": csrf, "kind": "comment", "body": f"{n}"})
            assert r.status_code == 303
        r = reader.post(f"/items/{item_id}/feedback", data={"csrf_token": csrf, "kind": "comment", "body": "2"})
        assert r.status_code == 429 and "vui lòng thử lại sau" in r.get_data(as_text=True)
        api = reader.post("/api/v1/feedback", json={"kind": "comment", "item_id": item_id, "body": "3"})
        assert api.status_code == 429 and "try again later" not in api.json["message"]  # Vietnamese by default
        other = app.test_client()
        r = other.post("/api/v1/feedback", json={"kind": "comment", "item_id": item_id, "body": "từ máy khác"},
                       environ_base={"REMOTE_ADDR": "192.0.2.7"})
        assert r.status_code == 201
        assert [fb.body for fb in stored(app)] == ["0", "1", "từ máy khác"]
    finally:
        app.extensions["heritage"].close()


@pytest.mark.slow
def test_ratings_and_comments_on_a_monument_and_their_summary(app):
    p = app.extensions["heritage"]
    m = p.monuments.create_monument(name_vi="Chùa Một Cột", name_en="One Pillar Pagoda", actor=SYSTEM)
    reader = app.test_client()
    csrf = token(reader, f"/monuments/{m.slug}")
    for stars, body in (("5", ""), ("4", "Đẹp nhưng đông."), ("5", "")):
        r = reader.post(f"/monuments/{m.slug}/feedback", data={"csrf_token": csrf, "kind": "rating", "rating": stars,
                                                               "body": body})
        assert r.status_code == 303 and r.headers["Location"].endswith(f"/monuments/{m.slug}?lang=vi#feedback")
    r = reader.post(f"/monuments/{m.slug}/feedback", data={"csrf_token": csrf, "kind": "comment", "body": "Nên mở cửa sớm hơn."})
    assert r.status_code == 303
    assert "Chưa có đánh giá nào." in reader.get(f"/monuments/{m.slug}").get_data(as_text=True)

    curator = staff_client(app, "curator")
    queue = curator.get("/staff/feedback?kind=rating").get_data(as_text=True)
    ids = re.findall(r'name="id" value="(\d+)" form="fb-bulk"', queue)
    assert len(ids) == 3 and "Chùa Một Cột" in queue
    r = curator.post("/staff/feedback/bulk", data={"csrf_token": csrf_of(queue), "id": ids, "status": "published"})
    assert r.status_code == 303
    html = reader.get(f"/monuments/{m.slug}").get_data(as_text=True)
    assert "4.7 / 5 sao · 3 đánh giá" in html
    assert '<meter min="0" max="3" value="2"></meter> <span>2</span>' in html  # two five-star ratings
    assert "Đẹp nhưng đông." in html and "Nên mở cửa sớm hơn." not in html  # the comment still waits
    assert "4.7 / 5 stars · 3 ratings" in reader.get(f"/monuments/{m.slug}?lang=en").get_data(as_text=True)
    summary = reader.get(f"/api/v1/feedback/board?monument_id={m.id}").json["ratings"]
    assert summary == {"count": 3, "mean": 4.67, "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 2}}


def test_a_librarian_puts_a_suggestion_into_the_text(app):
    p = app.extensions["heritage"]
    item_id, page_id = read_item(p)
    fid = p.feedback.submit(READER, Submission(kind="text_error", item_id=item_id, page=1, quoted="1070", suggestion="1076"))
    librarian = staff_client(app, "librarian")
    html = librarian.get(f"/staff/feedback/{fid}/accept").get_data(as_text=True)
    assert 'name="line_text" size="60" maxlength="2000" required value="Văn Miếu được xây dựng năm 1076"' in html
    assert '<option value="1" selected>' in html and "Theo góp ý số" in html
    revision = re.search(r'name="revision" value="(\d+)"', html).group(1)
    r = librarian.post(f"/staff/feedback/{fid}/accept", data={
        "csrf_token": csrf_of(html), "revision": revision, "line": "1", "line_text": LINES[0],
        "note": "x"})
    assert r.status_code == 422 and "Dòng 1 vốn đã như vậy." in r.get_data(as_text=True)
    r = librarian.post(f"/staff/feedback/{fid}/accept", data={
        "csrf_token": csrf_of(html), "revision": revision, "line": "1", "line_text": "Văn Miếu được xây dựng năm 1076",
        "note": f"Theo góp ý số {fid} của bạn đọc", "next": "/staff/feedback?status=all"})
    assert r.status_code == 303 and r.headers["Location"] == "/staff/feedback?status=all"
    assert "Đã lưu phiên bản 2 của văn bản trang." in librarian.get(r.headers["Location"]).get_data(as_text=True)
    assert p.catalogue.page(page_id).text.splitlines()[0] == "Văn Miếu được xây dựng năm 1076"
    history = librarian.get(f"/staff/pages/{page_id}/correct").get_data(as_text=True)
    assert f"Theo góp ý số {fid} của bạn đọc" in history
    stale = librarian.post(f"/staff/feedback/{fid}/accept", data={
        "csrf_token": csrf_of(html), "revision": revision, "line": "1", "line_text": "khác"})
    assert stale.status_code == 409 and "already in version 2" in stale.get_data(as_text=True)
    p.feedback.set_status(Actor.for_user(p.users.get("thu.thu")), fid, "published")
    assert "Đã sửa trong văn bản (phiên bản 2)." in app.test_client().get(f"/items/{item_id}").get_data(as_text=True)


def test_the_json_api(app):
    p = app.extensions["heritage"]
    item_id, _ = read_item(p)
    client = app.test_client()
    r = client.post("/api/v1/feedback", json={"kind": "comment", "item_id": item_id, "body": "Rất hay", "email": "b@c.vn",
                                              "language": "en"})
    assert r.status_code == 201 and r.json["status"] == "pending"
    bad = client.post("/api/v1/feedback", json={"kind": "rating", "item_id": item_id, "rating": 7})
    assert bad.status_code == 422 and bad.json["source"] == "rating" and "from 1 to 5" in bad.json["problem"]
    assert client.post("/api/v1/feedback", json={"kind": "comment", "item_id": item_id, "body": "x",
                                                  "status": "published"}).status_code == 422  # no such field
    assert client.post("/api/v1/feedback", data="kind=comment").status_code == 422
    assert client.get("/api/v1/feedback").status_code == 401  # staff only: sign in first

    def basic(role):
        return {"Authorization": "Basic " + base64.b64encode(f"{ACCOUNTS[role]}:{PASSWORD}".encode()).decode()}

    listed = client.get("/api/v1/feedback?status=pending", headers=basic("librarian"))
    assert listed.status_code == 200 and listed.json["total"] == 1
    assert listed.json["items"][0]["email"] == "b@c.vn" and listed.json["items"][0]["language"] == "en"
    assert client.get("/api/v1/feedback", headers=basic("curator")).json["total"] == 0  # items are not theirs
    assert client.get("/api/v1/feedback", headers=basic("archivist")).status_code == 403
    assert client.get("/api/v1/feedback/board").status_code == 422


# ------------------------------------------------------------------ who may do what
def _routes(ids):
    item, monument, error = ids["item"], ids["monument"], ids["error"]
    return [  # method, path, form data, roles allowed
        ("get", "/staff/feedback", {}, {"librarian", "curator", "admin"}),
        ("get", "/staff/feedback?target=monument", {}, {"curator", "admin"}),
        ("post", f"/staff/feedback/{item}/answer", {"answer": "Cảm ơn"}, {"librarian", "admin"}),
        ("post", f"/staff/feedback/{monument}/answer", {"answer": "Cảm ơn"}, {"curator", "admin"}),
        ("post", f"/staff/feedback/{item}/status", {"status": "published"}, {"librarian", "admin"}),
        ("post", f"/staff/feedback/{monument}/status", {"status": "hidden"}, {"curator", "admin"}),
        ("post", "/staff/feedback/bulk", {"id": [str(item)], "status": "published"}, {"librarian", "admin"}),
        ("post", "/staff/feedback/bulk", {"id": [str(monument)], "status": "published"}, {"curator", "admin"}),
        ("get", f"/staff/feedback/{error}/accept", {}, {"librarian", "admin"}),
        ("post", f"/staff/feedback/{error}/accept", {"line": "1", "line_text": "x", "revision": "0"},
         {"librarian", "admin"}),
    ]


ROUTE_NAMES = ["queue", "queue-monuments", "answer-item", "answer-monument", "status-item", "status-monument",
               "bulk-item", "bulk-monument", "accept-get", "accept-post"]


@pytest.mark.parametrize("route", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
def test_every_feedback_action_refuses_every_role_without_it(app, route):
    p = app.extensions["heritage"]
    item_id, _ = read_item(p)
    m = p.monuments.create_monument(name_vi="Đền Ngọc Sơn", actor=SYSTEM)
    ids = {"item": p.feedback.submit(READER, Submission(kind="comment", item_id=item_id, body="a")),
           "monument": p.feedback.submit(READER, Submission(kind="comment", monument_id=m.id, body="b")),
           "error": p.feedback.submit(READER, Submission(kind="text_error", item_id=item_id, page=1, suggestion="c"))}
    method, path, data, allowed = _routes(ids)[route]
    anonymous = app.test_client()
    r = getattr(anonymous, method)(path, data={**data, "csrf_token": token(anonymous)})
    assert r.status_code == 302 and "/staff/login" in r.headers["Location"]  # sign in first
    for role in ACCOUNTS:
        client = staff_client(app, role)
        r = getattr(client, method)(path, data={**data, "csrf_token": token(client)})
        if role in allowed:
            assert r.status_code in (200, 303, 409), (role, method, path, r.status_code)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)
    if method == "post":  # and no form is taken without its CSRF token
        client = staff_client(app, "admin")
        assert getattr(client, method)(path, data=data).status_code == 400


@pytest.mark.parametrize("hops,expected", [(1, [201, 201, 201]), (0, [201, 201, 429])])
def test_behind_a_proxy_the_limit_counts_each_reader_not_the_proxy(tmp_path, database_url, hops, expected):
    from tests.conftest import make_settings

    app = make_app(make_settings(tmp_path / "data", database_url=database_url, feedback_per_window=2,
                                 proxy_hops=hops))
    try:
        item_id, _ = read_item(app.extensions["heritage"])
        client = app.test_client()
        codes = []
        for n, reader in enumerate(("198.51.100.1", "198.51.100.1", "198.51.100.2")):
            r = client.post("/api/v1/feedback", json={"kind": "comment", "item_id": item_id, "body": f"{n}"},
                            headers={"X-Forwarded-For": reader}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
            codes.append(r.status_code)
        # trusted: two readers, each under the limit; not trusted: all three look like the proxy
        assert codes == expected, (hops, codes)
    finally:
        app.extensions["heritage"].close()
