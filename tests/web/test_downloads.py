"""Whole-item downloads on the item page: the searchable PDF, the text and the
ALTO zip, public to every reader; a librarian's correction in the portal shows
up in the next download; an item still being read (or with failed pages)
answers 409 with a reason in the reader's language, never a partial PDF."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.digitize.test_pdf import pdf_text
from tests.library.test_exports import ingest, pages_of, read_all
from tests.web.test_portal import csrf_of, sign_in
from tests.web.staff_accounts import ACCOUNTS, staffed_app

pytestmark = pytest.mark.slow



def fetch(client, url, **kwargs):
    """GET ``url`` and read the whole answer (a file answer is streamed: close it)."""
    r = client.get(url, **kwargs)
    r.get_data()
    r.close()
    return r


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


@pytest.fixture
def read_item(app, tmp_path):
    platform = app.extensions["heritage"]
    item_id = ingest(platform, tmp_path, 2, title='Văn Miếu – "Quốc Tử Giám"; tập 1/2')
    read_all(platform, item_id)
    return item_id


def test_a_reader_downloads_the_pdf_the_text_and_the_alto(app, read_item, tmp_path):
    client = app.test_client()
    html = client.get(f"/items/{read_item}").get_data(as_text=True)
    assert "Tải về toàn bộ tài liệu" in html and "PDF (tìm kiếm được)" in html
    for link in ("download.pdf", "download.txt", "download-alto.zip"):
        assert f'href="/items/{read_item}/{link}"' in html
    assert "Download the whole item" in client.get(f"/items/{read_item}?lang=en").get_data(as_text=True)

    r = fetch(client, f"/items/{read_item}/download.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    # the title as a plain file name: no quote, semicolon or slash reaches the header
    assert r.headers["Content-Disposition"] == f"attachment; filename=van-mieu-quoc-tu-giam-tap-1-2-{read_item}.pdf"
    assert r.headers["ETag"] and "no-cache" in r.headers["Cache-Control"]
    pdf = tmp_path / "tai-ve.pdf"
    pdf.write_bytes(r.data)
    for n, (page, _words) in enumerate(pages_of(app.extensions["heritage"], read_item), start=1):
        assert pdf_text(pdf, n).split() == page.text.split()
    assert fetch(client, f"/items/{read_item}/download.pdf",
                      headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    part = fetch(client, f"/items/{read_item}/download.pdf", headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and part.data == b"%PDF-1.7"  # a big download can resume

    t = fetch(client, f"/items/{read_item}/download.txt")
    assert t.status_code == 200 and t.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert t.data.decode("utf-8").startswith("--- 1 ---\nVăn Miếu")

    z = fetch(client, f"/items/{read_item}/download-alto.zip")
    assert z.status_code == 200 and z.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(z.data)) as zf:
        assert len(zf.namelist()) == 2 and b"CONTENT=\"Mi\xe1\xba\xbfu\"" in zf.read(zf.namelist()[0])


def test_a_correction_in_the_portal_shows_up_in_the_next_download(app, read_item, tmp_path):
    anonymous = app.test_client()
    before = fetch(anonymous, f"/items/{read_item}/download.pdf")
    page, _ = pages_of(app.extensions["heritage"], read_item)[0]
    librarian = app.test_client()
    sign_in(librarian, *ACCOUNTS["librarian"])
    form = librarian.get(f"/staff/pages/{page.id}/correct").get_data(as_text=True)
    revision = int(form.split('name="revision" value="')[1].split('"')[0])
    r = librarian.post(f"/staff/pages/{page.id}/correct", data={
        "csrf_token": csrf_of(form), "revision": revision, "line-0": "Văn Miếu được dựng năm 1070 ở Thăng Long"})
    assert r.status_code == 302

    after = fetch(anonymous, f"/items/{read_item}/download.pdf", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]  # not "not modified"
    pdf = tmp_path / "sau.pdf"
    pdf.write_bytes(after.data)
    assert pdf_text(pdf, 1).split()[:8] == "Văn Miếu được dựng năm 1070 ở Thăng".split()
    assert "Thăng Long" in fetch(anonymous, f"/items/{read_item}/download.txt").data.decode("utf-8")


def test_an_item_not_read_yet_answers_409_with_the_reason(app, tmp_path):
    platform = app.extensions["heritage"]
    item_id = ingest(platform, tmp_path, 2, title="Sách đang đọc")
    client = app.test_client()
    assert "Tải về toàn bộ tài liệu" not in client.get(f"/items/{item_id}").get_data(as_text=True)

    r = fetch(client, f"/items/{item_id}/download.pdf")
    assert r.status_code == 409 and r.mimetype == "text/html" and r.headers["Retry-After"] == "30"
    body = r.get_data(as_text=True)
    assert "Tài liệu này đang được đọc: 0/2 trang đã xong" in body and not r.data.startswith(b"%PDF")
    assert f'href="/items/{item_id}?lang=vi"' in body  # back to the item
    en = fetch(client, f"/items/{item_id}/download.txt?lang=en")
    assert en.status_code == 409 and "This item is still being read: 0 of 2 pages done" in en.get_data(as_text=True)

    first, second = platform.catalogue.page_statuses(item_id)
    platform.reader.read(first.page_id)
    platform.reader.fail(second.page_id, "sách.tif#2: the image data is damaged")
    platform.reader.finish_item(item_id)
    failed = fetch(client, f"/items/{item_id}/download-alto.zip?lang=vi")  # the reader switched back
    assert failed.status_code == 409 and "Retry-After" not in failed.headers
    assert "Không đọc được 1 trang của tài liệu này (trang 2)" in failed.get_data(as_text=True)

    missing = fetch(client, "/items/987654/download.pdf")
    assert missing.status_code == 404 and "Không có tài liệu số 987654." in missing.get_data(as_text=True)
    assert fetch(client, "/items/abc/download.pdf").status_code == 404


# The downloads are public: every role, and readers without an account, get them; nobody is sent to sign in.
WHO = ["anonymous", "librarian", "archivist", "curator", "admin"]
DOWNLOADS = ["download.pdf", "download.txt", "download-alto.zip"]


def test_every_reader_may_download(app, read_item):
    for who in WHO:
        client = app.test_client()
        if who != "anonymous":
            assert sign_in(client, *ACCOUNTS[who]).status_code == 302
        for name in DOWNLOADS:
            r = fetch(client, f"/items/{read_item}/{name}")
            assert r.status_code == 200 and r.headers["Content-Disposition"].startswith("attachment"), (who, name)
