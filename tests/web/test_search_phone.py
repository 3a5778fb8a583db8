"""The search page for readers on a phone (issue #13, point 2): the results come before the refine panel
(facets and the date range, which the portal now offers as well as the API), each result opens the
reader at its page with the search (so the match is boxed there), the date range narrows the results and
stays in the URL, suggestions come as you type, and an empty result offers the search without
diacritics and the fuzzy one. Catalogue rows and the real embedded index (rebuilt from them), SQLite and
PostgreSQL; the browser's side in tests/e2e/test_browser_reader.py."""

from __future__ import annotations

import re

import pytest

from library.catalogue.models import Item
from tests.web.staff_accounts import staffed_app
from tests.web.test_paging import bulk_item


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


@pytest.fixture
def two_papers(app):
    p = app.extensions["heritage"]
    old, new = bulk_item(app, "Trung Bắc tân văn", 3), bulk_item(app, "Hà Nội mới", 3)
    with p.sessions.begin() as s:
        for item_id, year in ((old, 1935), (new, 1975)):
            item = s.get(Item, item_id)
            item.date_text, item.year_start, item.year_end = str(year), year, year
    p.indexer.rebuild()
    return old, new


def test_results_come_first_and_open_the_reader_with_the_search(app, two_papers):
    old, new = two_papers
    html = app.test_client().get("/search?q=trang+s%E1%BB%91&lang=en").get_data(as_text=True)
    assert html.index('class="hits"') > html.index('id="refine"')  # in the page's order the panel is one line…
    assert re.search(r'<details class="facets refine" id="refine">\s*<summary>Refine the results</summary>', html)
    assert " open>" not in html.split('id="refine"')[1][:20]  # …closed until the reader opens it
    assert f'href="/items/{old}/pages/1?lang=en&amp;q=trang+s%E1%BB%91"' in html  # the reader, with the search
    assert 'name="year_from"' in html and 'name="year_to"' in html
    assert 'list="search-suggestions"' in html and "search.js" in html


def test_the_date_range_narrows_the_results_and_stays_in_the_url(app, two_papers):
    old, new = two_papers
    client = app.test_client()
    html = client.get("/search?q=trang&lang=en&year_from=1970&year_to=1980").get_data(as_text=True)
    assert f"/items/{new}/pages/" in html and f"/items/{old}/pages/" not in html
    assert re.search(r'<details class="facets refine" id="refine" open>', html)  # a narrowed search shows why
    assert 'name="year_from" min="1" max="9999" value="1970"' in html
    assert "year_from=1970" in re.search(r'<a href="/search.csv\?([^"]+)"', html).group(1)
    ignored = client.get("/search?q=trang&lang=en&year_from=abc").get_data(as_text=True)
    assert f"/items/{new}/pages/" in ignored and f"/items/{old}/pages/" in ignored  # not a year: no range


def test_an_empty_result_offers_the_plain_and_the_fuzzy_search(app, two_papers):
    client = app.test_client()
    html = client.get("/search?q=tr%E1%BA%A5ng+z%E1%BB%9Dzz&lang=vi").get_data(as_text=True)  # trấng zờzz
    assert "Không tìm thấy trang nào." in html
    plain = re.search(r'<a href="/search\?([^"]+)" id="try-plain">([^<]+)</a>', html)
    assert plain and plain.group(2) == "trang zozz" and "q=trang+zozz" in plain.group(1)
    fuzzy = re.search(r'<a href="/search\?([^"]+)" id="try-fuzzy">', html)
    assert fuzzy and "fuzzy=1" in fuzzy.group(1)
    found = client.get("/search?q=trang+s%E1%BB%91&lang=vi").get_data(as_text=True)
    assert 'id="try-instead"' not in found


def test_suggestions_come_from_what_the_reader_may_see(app, two_papers):
    body = app.test_client().get("/api/v1/suggest?q=Trung+B").get_json()
    assert "Trung Bắc tân văn" in [s["text"] for s in body["suggestions"]]


def test_the_csv_of_a_search_keeps_its_date_range_and_links_each_page(app, two_papers):
    import csv
    import io

    old, new = two_papers
    body = app.test_client().get("/search.csv?q=trang&year_from=1970").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows and {int(r["item_id"]) for r in rows} == {new}
    assert all(r["link"].endswith(f"/items/{new}/pages/{r['page']}") for r in rows)
