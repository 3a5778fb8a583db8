"""An imported METS package's sections and articles on the public item page (a table of contents
linking to the pages, in Vietnamese and English) and in the JSON API (``articles``); none for an item
without a logical structure, and none where the requester may see only the record."""

from __future__ import annotations

import re

from sqlalchemy import update

from library.access import Actor
from library.catalogue.models import AccessLevel, Item
from tests.conftest import make_settings
from tests.library.test_mets_import import make_package
from web import create_app

SYSTEM = Actor.system("tests")


def app_with_issue(tmp_path, **settings):
    app = create_app({"TESTING": True}, settings=make_settings(tmp_path / "data", **settings))
    outcome = app.extensions["heritage"].mets.import_package(make_package(tmp_path / "issue"), actor=SYSTEM)
    assert outcome.status == "created", outcome.as_dict()
    return app, outcome.item_id


def test_the_item_page_and_the_api_show_the_articles_of_an_imported_issue(tmp_path):
    app, item_id = app_with_issue(tmp_path)
    try:
        client = app.test_client()
        page = client.get(f"/items/{item_id}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        contents = re.search(r'<nav class="contents".*?</nav>', text, re.S).group(0)
        assert "Mục lục" in contents and "bài" in contents and "tr. 1–2" in contents
        links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', contents)
        assert links == [(f"/items/{item_id}/pages/1?lang=vi", "Văn Miếu và Quốc Tử Giám")]  # into the reader
        assert client.get(links[0][0]).status_code == 200  # where the link leads

        english = client.get(f"/items/{item_id}?lang=en").get_data(as_text=True)
        assert "Contents" in english and "article" in english and "p. 1–2" in english

        api = client.get(f"/api/v1/items/{item_id}").json
        assert api["articles"] == [{"depth": 0, "type": "article", "label": "Văn Miếu và Quốc Tử Giám",
                                    "pages": [1, 2]}]
    finally:
        app.extensions["heritage"].close()


def test_no_contents_without_a_structure_or_without_the_right_to_read(tmp_path):
    app, item_id = app_with_issue(tmp_path, restricted_metadata="shown")
    p = app.extensions["heritage"]
    try:
        client = app.test_client()
        p.store.resolve(p.store.item_derivative_relpath(item_id, "structure.json")).rename(tmp_path / "kept.json")
        assert 'class="contents"' not in client.get(f"/items/{item_id}").get_data(as_text=True)
        assert client.get(f"/api/v1/items/{item_id}").json["articles"] == []

        (tmp_path / "kept.json").rename(p.store.resolve(p.store.item_derivative_relpath(item_id, "structure.json")))
        with p.sessions.begin() as s:
            s.execute(update(Item).where(Item.id == item_id).values(access_level=AccessLevel.staff))
        shown = client.get(f"/items/{item_id}")
        text = shown.get_data(as_text=True)
        assert shown.status_code == 200 and "Tin Hà Nội" in text  # the record is shown …
        assert 'class="contents"' not in text and "Văn Miếu và Quốc Tử Giám" not in text  # … not the contents
        api = client.get(f"/api/v1/items/{item_id}").json
        assert api["pages"] == [] and api["articles"] == []
    finally:
        p.close()


def test_a_mets_zip_uploaded_on_the_staff_form_is_imported_as_read_pages(settings, tmp_path):
    """The upload form takes a METS/ALTO package (a zip) like the command line: no OCR, the ALTO's
    words are the page's text; the dry run stores nothing; a broken package names its file."""
    import io
    import re

    from sqlalchemy import func, select

    from library.access import Actor
    from library.catalogue.models import Item
    from tests.library.test_mets_import import make_package, zip_folder
    from tests.web.test_portal import csrf_of, sign_in
    from web import create_app

    app = create_app({"TESTING": True}, settings=settings)
    p = app.extensions["heritage"]
    p.users.create(Actor.system("tests"), "thu.thu", "mat-khau-thu-thu", "librarian")
    try:
        package = zip_folder(make_package(tmp_path / "issue"), tmp_path / "so-1-1936.zip")
        client = app.test_client()
        sign_in(client, "thu.thu", "mat-khau-thu-thu")
        token = csrf_of(client.get("/staff/upload").get_data(as_text=True))

        def post(data, **extra):
            return client.post("/staff/upload", data={"csrf_token": token, "files": [
                (io.BytesIO(data), "so-1-1936.zip")], **extra}, content_type="multipart/form-data")

        dry = post(package.read_bytes(), dry_run="1")
        assert dry.status_code == 200 and "Hợp lệ (2 trang); chưa lưu." in dry.get_data(as_text=True)
        with p.sessions() as s:
            assert s.scalar(select(func.count()).select_from(Item)) == 0  # the dry run stored nothing
        r = post(package.read_bytes())
        body = r.get_data(as_text=True)
        assert r.status_code == 200, body
        item_id = int(re.search(r'href="/items/(\d+)', body).group(1))
        pages = p.catalogue.page_statuses(item_id)
        assert len(pages) == 2 and {row.status for row in pages} == {"done"}
        assert p.audit.events()[0].action == "ingest"

        broken = tmp_path / "broken"
        make_package(broken)
        (broken / "alto" / "p2.xml").unlink()
        bad = post(zip_folder(broken, tmp_path / "broken.zip").read_bytes())
        assert bad.status_code == 422 and "p2.xml" in bad.get_data(as_text=True)
    finally:
        p.close()


def test_a_mets_zip_posted_to_the_api_is_imported(settings, tmp_path):
    import base64
    import io

    from library.access import Actor
    from tests.library.test_mets_import import make_package, zip_folder
    from web import create_app

    app = create_app({"TESTING": True}, settings=settings)
    p = app.extensions["heritage"]
    p.users.create(Actor.system("tests"), "thu.thu", "mat-khau-thu-thu", "librarian")
    auth = {"Authorization": "Basic " + base64.b64encode(b"thu.thu:mat-khau-thu-thu").decode()}
    try:
        package = zip_folder(make_package(tmp_path / "issue"), tmp_path / "issue.zip").read_bytes()
        r = app.test_client().post("/api/v1/items", headers=auth, content_type="multipart/form-data",
                                   data={"file": [(io.BytesIO(package), "so-2.zip")]})
        assert r.status_code == 201, r.get_data(as_text=True)
        (item,) = r.get_json()["items"]
        assert item["status"] == "created" and item["pages"] == 2 and item["source"] == "so-2.zip"
        doc = app.test_client().get(f"/api/v1/items/{item['item_id']}").get_json()
        assert doc["status"] == "done"
    finally:
        p.close()
