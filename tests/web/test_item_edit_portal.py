"""Items after ingest in the portal (issue #10): librarians and admins edit an item's record from its
page (every field pre-filled, a concurrent edit refused with the input kept, errors naming the field,
the history below), read it again with other OCR settings, set its access, withdraw and restore it;
on the correction page they use or refuse a waiting machine reading. Search follows at once with no
worker running. Every route refuses every role without it. On SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re

import pytest

from library.access import Actor
from library.catalogue.models import Item, ItemStatus, PageStatus, Transcription
from tests.library.test_feedback import read_item
from tests.web.staff_accounts import ACCOUNTS, client_as, staffed_app
from tests.web.test_portal import csrf_of

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

CLI = Actor.system("cli")


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


def token(client, path="/staff/login") -> str:
    return csrf_of(client.get(path).get_data(as_text=True))


def text_of(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, white space collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(html.unescape(body).split())


def form_values(response) -> dict[str, str]:
    """Every named input's value and every textarea's and selected option's text in the page's edit form."""
    page = response.get_data(as_text=True)
    form = page[page.index('id="edit-form"'):]
    form = form[:form.index("</form>")]
    out = {m.group(1): html.unescape(m.group(2))
           for m in re.finditer(r'<input[^>]*name="([^"]+)" value="([^"]*)"', form)}
    out.update({m.group(1): html.unescape(m.group(2)) for m in
                re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', form)})
    for m in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', m.group(2))
        out[m.group(1)] = chosen.group(1) if chosen else ""
    return out


def edit_page(client, item_id):
    r = client.get(f"/staff/items/{item_id}/edit")
    assert r.status_code == 200, r.status_code
    return r


def post_edit(client, item_id, changes: dict, *, page=None):
    """Send the edit form as a browser would: every field as shown, some changed."""
    page = page or edit_page(client, item_id)
    fields = form_values(page)
    fields.update(changes)
    return client.post(f"/staff/items/{item_id}/edit", data=fields)


# ------------------------------------------------------------------ the record
def test_only_librarians_and_admins_see_the_edit_link_on_the_item_page(app):
    item_id, _ = read_item(app.extensions["heritage"])
    for role in (None, "archivist", "curator", "librarian", "admin"):
        page = text_of(client_as(app, role).get(f"/items/{item_id}"))
        assert ("Sửa tài liệu này" in page) == (role in ("librarian", "admin")), role
    english = client_as(app, "admin").get(f"/items/{item_id}?lang=en").get_data(as_text=True)
    assert f'href="/staff/items/{item_id}/edit?lang=en"' in english and "Edit this item" in english


def test_the_form_is_pre_filled_and_an_edit_is_found_by_search_at_once(app):
    p = app.extensions["heritage"]
    item_id, _ = read_item(p)
    p.items.edit(CLI, item_id, {"creator": "Ngô Sĩ Liên", "date": "1697", "subject": "sử", "rights": "công cộng",
                                "publisher": "Quốc Tử Giám", "identifier": "R.1", "description": "Bộ quốc sử",
                                "serial_title": "Tùng thư", "issue_date": "1697-05-02", "issue_number": "3"})
    p.indexer.flush()
    client = client_as(app, "librarian")
    page = edit_page(client, item_id)
    values = form_values(page)
    assert values == {"csrf_token": values["csrf_token"], "revision": "2", "title": "Đại Việt sử ký",
                      "creator": "Ngô Sĩ Liên", "date": "1697", "publisher": "Quốc Tử Giám", "languages": "vie",
                      "item_type": "book", "subject": "sử", "identifier": "R.1", "rights": "công cộng",
                      "serial_title": "Tùng thư", "issue_date": "1697-05-02", "issue_number": "3",
                      "description": "Bộ quốc sử"}
    before = app.test_client().get("/search?q=Văn+Miếu")
    assert "Đại Việt sử ký" in text_of(before)
    r = post_edit(client, item_id, {"title": "Đại Việt sử ký toàn thư", "date": "1479"}, page=page)
    assert r.status_code == 303
    after = client.get(r.headers["Location"])
    assert "Đã lưu (phiên bản mô tả 3)." in text_of(after)
    item = p.catalogue.item(item_id)
    assert (item.title, item.year_start, item.metadata_revision) == ("Đại Việt sử ký toàn thư", 1479, 3)
    # no worker runs here: the page found by its text now carries the new title and year
    found = text_of(app.test_client().get("/search?q=Văn+Miếu"))
    assert "Đại Việt sử ký toàn thư" in found
    assert "Đại Việt sử ký toàn thư" not in text_of(app.test_client().get("/search?q=Văn+Miếu&year=1697"))
    # the history below the form: previous values, who, when
    history = text_of(after)[text_of(after).index("Lịch sử thay đổi"):]
    assert "thu.thu" in history and "Đại Việt sử ký → Đại Việt sử ký toàn thư" in history
    assert "Năm: 1697 → 1479" in history and "system:cli" in history
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", history)


def test_a_concurrent_edit_is_refused_and_the_users_input_is_shown_again(app):
    p = app.extensions["heritage"]
    item_id, _ = read_item(p)
    client = client_as(app, "librarian")
    opened = edit_page(client, item_id)  # the librarian opens the form …
    p.items.edit(CLI, item_id, {"creator": "Lê Văn Hưu"})  # … and someone else saves first
    r = post_edit(client, item_id, {"creator": "Ngô Sĩ Liên", "subject": "quốc sử"}, page=opened)
    assert r.status_code == 409
    shown = text_of(r)
    assert "Có người đã sửa tài liệu này trong lúc bạn đang sửa" in shown
    assert "Giá trị đang lưu: Lê Văn Hưu" in shown
    again = form_values(r)
    assert (again["creator"], again["subject"], again["revision"]) == ("Ngô Sĩ Liên", "quốc sử", "2")
    assert p.catalogue.item(item_id).creator == "Lê Văn Hưu"  # nothing was overwritten
    r = client.post(f"/staff/items/{item_id}/edit", data=again)  # sent again after reading the notice
    assert r.status_code == 303
    assert (p.catalogue.item(item_id).creator, p.catalogue.item(item_id).subject) == ("Ngô Sĩ Liên", "quốc sử")


def test_a_field_the_form_does_not_send_is_left_as_it_is(app):
    p = app.extensions["heritage"]
    item_id, _ = read_item(p)
    p.items.edit(CLI, item_id, {"creator": "Ngô Sĩ Liên", "subject": "sử"})
    client = client_as(app, "librarian")
    r = client.post(f"/staff/items/{item_id}/edit", data={"csrf_token": token(client), "revision": "2",
                                                          "title": "Toàn thư", "subject": ""})
    assert r.status_code == 303
    item = p.catalogue.item(item_id)
    assert (item.title, item.creator, item.subject) == ("Toàn thư", "Ngô Sĩ Liên", None)  # "" clears


@pytest.mark.parametrize("field,value,label,words", [
    ("date", "1858-02-30", "Năm", "February has 28 days"),
    ("languages", "klingon", "Ngôn ngữ", "unknown language"),
    ("title", "", "Nhan đề", ""),
    ("issue_date", "2030-13-01", "Ngày phát hành", ""),
])
def test_an_edit_that_breaks_a_rule_names_the_field_and_changes_nothing(app, field, value, label, words):
    p = app.extensions["heritage"]
    item_id, _ = read_item(p)
    client = client_as(app, "admin")
    r = post_edit(client, item_id, {field: value, "creator": "Ngô Sĩ Liên"})
    assert r.status_code == 422
    shown = text_of(r)
    assert f"Chưa lưu được: {label}:" in shown and words in shown
    assert re.search(rf'id="field-{field}"[^>]*aria-invalid="true"', r.get_data(as_text=True))
    assert form_values(r)["creator"] == "Ngô Sĩ Liên"  # the input is kept
    item = p.catalogue.item(item_id)
    assert (item.title, item.creator, item.metadata_revision) == ("Đại Việt sử ký", None, 1)
    assert p.items.history(item_id) == []


# ------------------------------------------------------------------ reading again
def test_a_reread_from_the_portal_queues_the_pages_with_the_new_language(app, tmp_path):
    from library.ingest.service import Upload
    from tests.library.test_jobs import small_scans

    p = app.extensions["heritage"]
    report = p.ingest.ingest_item([Upload(f, f.name) for f in small_scans(tmp_path, 2)], {"title": "Sai ngôn ngữ"}, actor=SYSTEM)
    item_id = report.items[0].item_id
    with p.sessions.begin() as s:  # read with a model that is not there, as a wrong setting would
        s.get(Item, item_id).languages = "xyz"
    pages = [r.page_id for r in p.catalogue.page_statuses(item_id)]
    for pid in pages:
        p.reader.read(pid)
    p.reader.finish_item(item_id)
    assert p.catalogue.item(item_id).status == ItemStatus.failed
    client = client_as(app, "librarian")
    page = client.get(f"/staff/items/{item_id}/edit").get_data(as_text=True)
    r = client.post(f"/staff/items/{item_id}/reread", data={"csrf_token": csrf_of(page), "languages": "jpn"})
    assert r.status_code == 422 and "language" in text_of(r) and "installed" in text_of(r)
    r = client.post(f"/staff/items/{item_id}/reread", data={"csrf_token": csrf_of(page), "pages": "1-x"})
    assert r.status_code == 422 and "pages: “1-x” không phải danh sách số trang" in text_of(r)
    assert p.catalogue.item(item_id).languages == "xyz"  # nothing changed
    r = client.post(f"/staff/items/{item_id}/reread", data={
        "csrf_token": csrf_of(page), "languages": "vie", "psm": "6", "pages": "", "stages_off": "dewarp",
        "binarize": ""})
    assert r.status_code == 303
    assert "Đã đưa 2 trang vào hàng đợi để đọc lại." in text_of(client.get(r.headers["Location"]))
    item = p.catalogue.item(item_id)
    assert (item.languages, item.status) == ("vie", ItemStatus.processing)
    assert '"psm": 6' in item.ocr_options and '"stages_off": ["dewarp"]' in item.ocr_options
    assert [p.catalogue.page(pid).status for pid in pages] == [PageStatus.queued, PageStatus.queued]
    p.reader.read(pages[0])  # what a worker does with the queued page: now read, in Vietnamese
    assert p.catalogue.page(pages[0]).status == PageStatus.done and "Văn Miếu" in p.catalogue.page(pages[0]).text
    assert "đọc lại" in text_of(client.get(f"/staff/items/{item_id}/edit"))  # in the history


# ------------------------------------------------------------------ access and withdrawal
def test_access_withdrawal_and_restore_from_the_portal(app):
    p = app.extensions["heritage"]
    item_id, _ = read_item(p)
    reader = app.test_client()
    client = client_as(app, "librarian")
    csrf = token(client, f"/staff/items/{item_id}/edit")
    r = client.post(f"/staff/items/{item_id}/access", data={"csrf_token": csrf, "level": "staff",
                                                            "do_not_index": "1"})
    assert r.status_code == 303 and "Đã lưu quyền xem: chỉ nhân viên." in text_of(client.get(r.headers["Location"]))
    assert reader.get(f"/items/{item_id}").status_code == 404
    assert p.catalogue.item(item_id).do_not_index is True and p.catalogue.item(item_id).do_not_ocr is False
    r = client.post(f"/staff/items/{item_id}/access", data={"csrf_token": csrf, "level": "public",
                                                            "embargo_until": "2001-01-01", "embargo_then": "staff"})
    assert r.status_code == 422 and "embargo_until: 2001-01-01 is not after today" in text_of(r)
    r = client.post(f"/staff/items/{item_id}/access", data={"csrf_token": csrf, "level": "public"})
    assert r.status_code == 303 and reader.get(f"/items/{item_id}").status_code == 200
    r = client.post(f"/staff/items/{item_id}/withdraw", data={"csrf_token": csrf, "reason": "  "})
    assert r.status_code == 422 and "reason" in text_of(r)
    r = client.post(f"/staff/items/{item_id}/withdraw", data={"csrf_token": csrf, "reason": "Bản quyền chưa rõ"})
    assert r.status_code == 303
    gone = reader.get(f"/items/{item_id}", headers={"Accept": "text/html"})
    assert gone.status_code == 410 and "Bản quyền chưa rõ" in text_of(gone)
    staff_page = text_of(client.get(f"/staff/items/{item_id}/edit?lang=en"))
    assert "The item is withdrawn: Bản quyền chưa rõ" in staff_page and "Restore the item" in staff_page
    r = client.post(f"/staff/items/{item_id}/withdraw", data={"csrf_token": csrf, "reason": "lần nữa"})
    assert r.status_code == 409
    r = client.post(f"/staff/items/{item_id}/restore", data={"csrf_token": csrf})
    assert r.status_code == 303 and reader.get(f"/items/{item_id}").status_code == 200
    assert client.post(f"/staff/items/{item_id}/restore", data={"csrf_token": csrf}).status_code == 409


# ------------------------------------------------------------------ the correction page
def _waiting_machine_reading(p, tmp_path) -> int:
    """A page corrected by hand, then read again: its new machine reading waits (page id)."""
    from tests.library.test_item_edits import _read_item

    item_id = _read_item(p, tmp_path)
    (page_id,) = [r.page_id for r in p.catalogue.page_statuses(item_id)]
    revision, _ = p.corrections.lines(page_id)
    p.corrections.correct(Actor.system("tests"), page_id, {0: "Dòng đã sửa tay"}, revision=revision)
    p.items.reread(CLI, item_id=item_id)
    p.reader.read(page_id)
    assert p.catalogue.page(page_id).pending_ocr_version is not None
    return page_id


def test_the_correction_page_offers_the_waiting_machine_reading(app, tmp_path):
    p = app.extensions["heritage"]
    page_id = _waiting_machine_reading(p, tmp_path)
    client = client_as(app, "librarian")
    item_id = p.catalogue.page(page_id).item_id
    listed = client.get(f"/staff/items/{item_id}/edit")  # the item's page leads to it
    assert "Trang có bản máy đọc mới đang chờ duyệt: Trang 1" in text_of(listed)
    assert f'href="/staff/pages/{page_id}/correct?lang=vi"' in listed.get_data(as_text=True)
    page = client.get(f"/staff/pages/{page_id}/correct")
    shown = text_of(page)
    assert "Có bản máy đọc mới đang chờ duyệt" in shown
    current = page.get_data(as_text=True).split('id="mr-current">')[1].split("</pre>")[0]
    new = page.get_data(as_text=True).split('id="mr-new">')[1].split("</pre>")[0]
    assert current.startswith("Dòng đã sửa tay") and "Văn Miếu" in new
    r = client.post(f"/staff/pages/{page_id}/machine-reading", data={"csrf_token": csrf_of(page.get_data(as_text=True)),
                                                                    "use": "0"})
    assert r.status_code == 303
    kept = client.get(r.headers["Location"])
    assert "chờ duyệt" not in text_of(client.get(f"/staff/items/{item_id}/edit"))
    assert "Đã giữ bản sửa tay" in text_of(kept) and "Có bản máy đọc mới đang chờ duyệt" not in text_of(kept)
    stored = p.catalogue.page(page_id)
    assert stored.text.startswith("Dòng đã sửa tay") and stored.pending_ocr_version is None
    assert stored.status_reason is None
    with p.sessions() as s:  # the refused reading stays in the history
        assert [t.source for t in s.query(Transcription).filter_by(page_id=page_id).order_by(Transcription.version)] \
            == ["ocr", "manual", "ocr"]
    assert client.post(f"/staff/pages/{page_id}/machine-reading",
                       data={"csrf_token": csrf_of(kept.get_data(as_text=True)), "use": "0"}).status_code == 409
    # read again: this time the new reading is used
    p.items.reread(CLI, item_id=stored.item_id)
    p.reader.read(page_id)
    page = client.get(f"/staff/pages/{page_id}/correct?lang=en")
    assert "Use the new reading" in text_of(page) and "Keep my correction" in text_of(page)
    r = client.post(f"/staff/pages/{page_id}/machine-reading", data={"csrf_token": csrf_of(page.get_data(as_text=True)),
                                                                    "use": "1"})
    assert r.status_code == 303
    stored = p.catalogue.page(page_id)
    assert "Văn Miếu" in stored.text and not stored.corrected and stored.pending_ocr_version is None


# ------------------------------------------------------------------ who may do what
def _routes(item_id: int, page_id: int):
    return [  # method, path, form data, roles allowed
        ("get", f"/staff/items/{item_id}/edit", {}),
        ("post", f"/staff/items/{item_id}/edit", {"revision": "1", "title": "Đại Việt sử ký"}),
        ("post", f"/staff/items/{item_id}/reread", {"pages": "1"}),
        ("post", f"/staff/items/{item_id}/access", {"level": "public"}),
        ("post", f"/staff/items/{item_id}/withdraw", {"reason": "thử"}),
        ("post", f"/staff/items/{item_id}/restore", {}),
        ("post", f"/staff/pages/{page_id}/machine-reading", {"use": "0"}),
    ]


ROUTE_NAMES = ["edit-get", "edit-post", "reread", "access", "withdraw", "restore", "machine-reading"]
ALLOWED = {"librarian", "admin"}


@pytest.mark.parametrize("route", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
def test_every_item_action_refuses_every_role_without_it(app, route):
    p = app.extensions["heritage"]
    item_id, page_id = read_item(p)
    method, path, data = _routes(item_id, page_id)[route]
    anonymous = app.test_client()
    r = getattr(anonymous, method)(path, data={**data, "csrf_token": token(anonymous)})
    assert r.status_code == 302 and "/staff/login" in r.headers["Location"]  # sign in first
    for role in ACCOUNTS:
        client = client_as(app, role)
        r = getattr(client, method)(path, data={**data, "csrf_token": token(client)})
        if role in ALLOWED:
            assert r.status_code in (200, 303, 409), (role, method, path, r.status_code)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)
    item = p.catalogue.item(item_id)
    assert item.withdrawn_at is None or route == ROUTE_NAMES.index("withdraw")
    if method == "post":  # and no form is taken without its CSRF token
        assert getattr(client_as(app, "admin"), method)(path, data=data).status_code == 400
