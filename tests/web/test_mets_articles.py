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
        assert links == [(f"/items/{item_id}?lang=vi#page-1", "Văn Miếu và Quốc Tử Giám")]
        assert 'id="page-1"' in text  # where the link leads

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
