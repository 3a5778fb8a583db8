"""Lists page through results on indexes (issue 12, point 2b): the item page shows a window of pages
(never every page of a 1,000-page item), ``/items/<id>/pages/<n>`` is that page in the reader, the
items API, a collection's API and IIIF documents page with cursors, collection sizes are counted up to
a cap, the jobs board reads a bounded number of rows, and ``heritage status`` reads items 100 a query.

Rows are made with bulk inserts into the real catalogue (SQLite and PostgreSQL); every SELECT on
``items`` or ``pages`` a request sends is captured (``before_cursor_execute``) and must be bounded:
a LIMIT, or a WHERE on the primary key or the (item_id, sequence) index."""

from __future__ import annotations

import heapq
import random
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, insert, select

from library.catalogue.models import Collection, Item, ItemStatus, ItemType, Page, PageStatus, StoredFile
from library.reading.jobs import _lay_out_pages
from tests.web.staff_accounts import basic, client_as, staffed_app

SHA = "c" * 64


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


def bulk_item(app, title: str, pages: int, *, collection_id=None, status=PageStatus.done) -> int:
    """One item with ``pages`` pages, inserted in one bulk statement."""
    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        s.merge(StoredFile(sha256=SHA, size_bytes=1, media_type="image/png", original_name="x.png"))
        item = Item(title=title, languages="vie", item_type=ItemType.book, collection_id=collection_id,
                    status=ItemStatus.done if status == PageStatus.done else ItemStatus.processing)
        s.add(item)
        s.flush()
        if pages:
            s.execute(insert(Page), [dict(item_id=item.id, sequence=n, source_sha256=SHA, source_name=f"p{n}.png",
                                          status=status, text=f"trang số {n} " + "chữ " * 40, attempts=0,
                                          mean_confidence=90.0, needs_review=False)
                                     for n in range(1, pages + 1)])
        return item.id


def bulk_items(app, n: int, *, collection_id=None) -> list[int]:
    """``n`` items without pages, in one bulk statement; their ids in order."""
    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        s.execute(insert(Item), [dict(title=f"Tài liệu {i:04d}", languages="vie", item_type=ItemType.book,
                                      status=ItemStatus.done, collection_id=collection_id) for i in range(n)])
    with p.sessions() as s:
        return list(s.scalars(select(Item.id).where(Item.title.like("Tài liệu %")).order_by(Item.id)))


@contextmanager
def statements(app):
    """The SQL statements sent while inside, lower-cased."""
    sent: list[str] = []

    def seen(conn, cursor, statement, params, context, executemany):
        sent.append(" ".join(statement.lower().split()))

    engine = app.extensions["heritage"].engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", seen)


BOUNDED = re.compile(r"\blimit\b|\b(items|pages)\.id (=|in)|\bpages\.item_id = \S+ and pages\.sequence|"
                     r"\bpages\.item_id in\b|"
                     # one serial's issues, on its index (ix_items_serial_sort / _slug)
                     r"\bitems\.serial_(sort|slug) (=|in\b)")


def unbounded(sent: list[str]) -> list[str]:
    """The SELECTs on items or pages with neither a LIMIT nor a WHERE on a key (a count of one item's
    pages on the pages.item_id index is allowed)."""
    out = []
    for sql in sent:
        if not sql.startswith("select") or not re.search(r"\bfrom (items|pages)\b|\bjoin (items|pages)\b", sql):
            continue
        if BOUNDED.search(sql) or re.search(r"count\(\*\).* from pages where pages\.item_id = \S+$", sql):
            continue
        out.append(sql)
    return out


# ------------------------------------------------------------------ the item page
def test_the_item_page_of_a_1000_page_item_shows_one_window(app):
    item_id = bulk_item(app, "Sách nghìn trang", 1000)
    client = app.test_client()
    with statements(app) as sent:
        r = client.get(f"/items/{item_id}?lang=en")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and len(r.data) < 200_000
    assert html.count('<li id="page-') == 10 and 'id="page-10"' in html and 'id="page-11"' not in html
    assert 'class="deepzoom' not in html  # thumbnails, each opening the reader: no viewer on the item page
    assert f'href="/items/{item_id}/pages/7?lang=en"' in html
    assert f'href="/items/{item_id}?lang=en&amp;from=11"' in html  # next window
    assert "1–10 / 1000" in html and 'name="page"' in html  # where we are, and the jump-to-page field
    assert unbounded(sent) == []

    r = client.get(f"/items/{item_id}?lang=en&from=991")
    html = r.get_data(as_text=True)
    assert html.count('<li id="page-') == 10 and 'id="page-1000"' in html and 'id="page-990"' not in html
    assert f'href="/items/{item_id}?lang=en&amp;from=981"' in html and 'rel="next"' not in html

    r = client.get(f"/items/{item_id}?lang=en&page=437")  # the jump-to-page field
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/items/{item_id}?lang=en&from=431#page-437")
    html = client.get(f"/items/{item_id}?lang=en&from=431").get_data(as_text=True)
    assert 'id="page-437"' in html and 'id="page-441"' not in html


def test_a_stable_page_url_is_the_reader_of_that_page(app):
    """``/items/<id>/pages/<n>`` is the page in the reader (tests/web/test_reader.py), not a redirect."""
    item_id = bulk_item(app, "Sách ba mươi trang", 30)
    client = app.test_client()
    r = client.get(f"/items/{item_id}/pages/25")
    assert r.status_code == 200 and "trang số 25 " in r.get_data(as_text=True)
    assert client.get(f"/items/{item_id}/pages/31").status_code == 404


# ------------------------------------------------------------------ the items API
def test_the_items_api_pages_with_a_cursor(app):
    ids = bulk_items(app, 250)
    client = app.test_client()
    seen, url, pages = [], "/api/v1/items?limit=100", 0
    while url:
        with statements(app) as sent:
            body = client.get(url).json
        assert unbounded(sent) == [] and len(body["items"]) <= 100
        seen += [i["id"] for i in body["items"]]
        url, pages = body["next"], pages + 1
        if url:
            url = url.split("://", 1)[1].split("/", 1)[1]
            url = "/" + url
    assert seen == ids and pages == 3
    assert len(client.get("/api/v1/items?limit=100000").json["items"]) == 100  # the cap
    assert client.get("/api/v1/items?limit=x").status_code == 422


# ------------------------------------------------------------------ collections
def test_a_large_collection_pages_in_the_api_and_in_iiif_and_its_size_is_capped(app, monkeypatch):
    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        coll = Collection(slug="bao-chi", name="Báo chí")
        s.add(coll)
        s.flush()
        cid = coll.id
    ids = bulk_items(app, 130, collection_id=cid)
    client = app.test_client()
    import web.guard
    import web.iiif
    monkeypatch.setattr(web.guard, "SIZE_CAP", 100)
    monkeypatch.setattr(web.iiif, "COLLECTION_PART", 50)

    body = client.get(f"/api/v1/collections/{cid}?per_page=100").json
    assert body["items"] == 100 and body["items_more"] is True
    assert [i["id"] for i in body["item_list"]] == ids[:100] and f"after={ids[99]}" in body["next"]
    rest = client.get(f"/api/v1/collections/{cid}?per_page=100&after={ids[99]}").json
    assert [i["id"] for i in rest["item_list"]] == ids[100:] and rest["next"] is None
    assert client.get(f"/api/v1/collections/{cid}?page=101").status_code == 422  # OFFSET stays bounded
    listed = client.get("/api/v1/collections").json["collections"]
    assert [(c["items"], c["items_more"]) for c in listed if c["id"] == cid] == [(100, True)]

    with statements(app) as sent:
        part = client.get(f"/iiif/collection/{cid}").json
    assert unbounded(sent) == []
    manifests = [i for i in part["items"] if i["type"] == "Manifest"]
    nested = [i for i in part["items"] if i["type"] == "Collection"]
    assert len(manifests) == 50 and len(nested) == 1 and f"after={ids[49]}" in nested[0]["id"]
    seen = [m["id"].rsplit("/", 2)[-2] for m in manifests]
    while nested:
        path = "/" + nested[0]["id"].split("://", 1)[1].split("/", 1)[1]
        part = client.get(path).json
        assert part["partOf"][0]["id"].endswith(f"/iiif/collection/{cid}")
        seen += [m["id"].rsplit("/", 2)[-2] for m in part["items"] if m["type"] == "Manifest"]
        nested = [i for i in part["items"] if i["type"] == "Collection"]
    assert seen == [str(i) for i in ids]

    html = client.get("/collections?lang=en").get_data(as_text=True)
    assert "100+ items" in html
    html = client.get(f"/collections/{cid}?lang=en").get_data(as_text=True)
    assert "100+ items" in html


# ------------------------------------------------------------------ the jobs board
def naive_layout(free: list[float], n: int, page_s: float) -> tuple[float, list[float]]:
    """The page-by-page layout the board used to run (one heap step per page)."""
    free = list(free)
    heapq.heapify(free)
    last = 0.0
    for _ in range(n):
        start = heapq.heappop(free)
        heapq.heappush(free, start + page_s)
        last = max(last, start + page_s)
    return last, sorted(free)


def test_pages_laid_out_by_rounds_end_when_page_by_page_would():
    rng = random.Random(12)
    for _ in range(300):
        workers = rng.randint(1, 6)
        free = [rng.choice([0.0, rng.uniform(0, 40)]) for _ in range(workers)]
        n, page_s = rng.randint(0, 60), rng.choice([1.0, 2.5, 7.0])
        want_last, want_free = naive_layout(free, n, page_s)
        heap = list(free)
        heapq.heapify(heap)
        got = _lay_out_pages(heap, n, page_s)
        assert got == pytest.approx(want_last) and sorted(heap) == pytest.approx(want_free)
    heap = [0.0, 0.0]
    assert _lay_out_pages(heap, 1_000_000, 3.0) == pytest.approx(1_500_000.0)  # at once, not a million steps


def test_the_jobs_board_reads_a_bounded_number_of_rows(app):
    big = bulk_item(app, "Sách đang đọc", 300, status=PageStatus.queued)
    for i in range(3):
        bulk_item(app, f"Sách chờ {i}", 2, status=PageStatus.queued)
    client = app.test_client()
    with statements(app) as sent:
        body = client.get("/api/v1/jobs", headers=basic("admin")).json
    row = next(i for i in body["items"] if i["item_id"] == big)
    assert row["counts"]["queued"] == 300 and row["total"] == 300 and len(row["pages"]) == 100
    page_rows = [sql for sql in sent if sql.startswith("select") and "pages.source_name" in sql]
    assert page_rows and all(" limit " in sql for sql in page_rows)
    one = client.get(f"/api/v1/jobs/items/{big}", headers=basic("admin")).json
    assert len(one["pages"]) == 300  # one item asked: its pages up to MAX_PAGES_SHOWN


# ------------------------------------------------------------------ the command line
def test_heritage_status_reads_items_a_page_at_a_time(app):
    from library.catalogue.records import MAX_LIMIT

    ids = bulk_items(app, 230)
    c = app.extensions["heritage"].catalogue
    rows, cursor = c.item_statuses_page(after_id=0, limit=1000)
    assert len(rows) == MAX_LIMIT and cursor == ids[MAX_LIMIT - 1]
    from console import _all_item_statuses
    with statements(app) as sent:
        assert [r.item_id for r in _all_item_statuses(c)] == ids
    assert unbounded(sent) == []


# ------------------------------------------------------------------ one item's pages in the API
def test_the_item_api_lists_its_pages_a_window_at_a_time(app):
    item_id = bulk_item(app, "Sách hai trăm rưỡi trang", 250)
    client = app.test_client()
    with statements(app) as sent:
        body = client.get(f"/api/v1/items/{item_id}").json
    assert unbounded(sent) == []
    assert [p["sequence"] for p in body["pages"]] == list(range(1, 101)) and body["page_count"] == 250
    assert "from=101" in body["pages_next"]
    body = client.get(f"/api/v1/items/{item_id}?from=201&limit=100").json
    assert [p["sequence"] for p in body["pages"]] == list(range(201, 251)) and body["pages_next"] is None


# ------------------------------------------------------------------ monuments
def test_monuments_page_in_the_portal_and_the_api(app):
    from library.catalogue.models import Monument

    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        s.add_all([Monument(slug=f"di-tich-{i:03d}", name_vi=f"Di tích {i:03d}") for i in range(130)])
    client = app.test_client()
    body = client.get("/api/v1/monuments").json
    assert len(body["monuments"]) == 100 and body["page"] == 1 and "page=2" in body["next"]
    rest = client.get("/api/v1/monuments?page=2").json
    assert len(rest["monuments"]) == 30 and rest["next"] is None
    assert {m["slug"] for m in body["monuments"] + rest["monuments"]} == {f"di-tich-{i:03d}" for i in range(130)}
    html = client.get("/monuments?lang=en").get_data(as_text=True)
    assert html.count('class="monument-list"') == 1 and html.count('data-href="/monuments/di-tich-') == 100
    assert 'href="?page=2&amp;lang=en"' in html
    home = client.get("/?lang=en").get_data(as_text=True)
    assert home.count('class="card" href="/monuments/') <= 12


# ------------------------------------------------------------------ the feedback queue
def test_the_feedback_queue_counts_up_to_a_cap_and_pages_to_a_bounded_depth(app, monkeypatch):
    import library.discovery.feedback as feedback
    import web.guard
    from library.catalogue.models import Feedback, FeedbackKind, FeedbackStatus

    item_id = bulk_item(app, "Sách có góp ý", 1)
    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        s.execute(insert(Feedback), [dict(kind=FeedbackKind.comment, status=FeedbackStatus.pending, item_id=item_id,
                                          body=f"góp ý {i}", language="vi") for i in range(12)])
    monkeypatch.setattr(feedback, "COUNT_CAP", 5)
    monkeypatch.setattr(feedback, "MAX_OFFSET", 8)
    monkeypatch.setattr(web.guard, "SIZE_CAP", 5)
    client = app.test_client()
    body = client.get("/api/v1/feedback?limit=3", headers=basic("admin")).json
    assert body["total"] == 6 and body["pending"]["item"] == 6 and len(body["items"]) == 3  # 6: "more than 5"
    deep = client.get("/api/v1/feedback?limit=3&offset=1000", headers=basic("admin")).json
    assert [e["body"] for e in deep["items"]] == [e["body"] for e in
                                                  client.get("/api/v1/feedback?limit=3&offset=8",
                                                             headers=basic("admin")).json["items"]]
    from tests.web.staff_accounts import client_as
    html = client_as(app, "admin").get("/staff/feedback?lang=en").get_data(as_text=True)
    assert "5+ waiting" in html


# ------------------------------------------------------------------ the list of collections
def test_the_collections_list_pages_in_the_portal_the_api_and_iiif(app, monkeypatch):
    import web.browse

    p = app.extensions["heritage"]
    with p.sessions.begin() as s:
        s.add_all([Collection(slug=f"bst-{i:03d}", name=f"Bộ sưu tập {i:03d}") for i in range(105)])
    client = app.test_client()
    body = client.get("/api/v1/collections").json
    assert len(body["collections"]) == 100 and "page=2" in body["next"]
    rest = client.get("/api/v1/collections?page=2").json
    assert len(rest["collections"]) == 5 and rest["next"] is None
    top = client.get("/iiif/collection/top").json
    nested = [c for c in top["items"] if "page=2" in c["id"]]
    assert len(top["items"]) == 101 and len(nested) == 1
    second = client.get("/iiif/collection/top?page=2").json
    assert len(second["items"]) == 5 and second["partOf"][0]["id"].endswith("/iiif/collection/top")
    monkeypatch.setattr(web.browse, "COLLECTIONS_PER_PAGE", 50)
    html = client.get("/collections?lang=en&page=3").get_data(as_text=True)
    assert html.count('<li class="card"><a href="/collections/') == 5 and 'href="?page=2&amp;lang=en" rel="prev"' in html


# ------------------------------------------------------------------ the serials' shelf
def test_the_serials_shelf_pages_through_titles_on_an_index(app):
    p = app.extensions["heritage"]
    with p.sessions.begin() as s:  # 130 titles of 3 issues each; through the ORM, which keeps the keys
        s.add_all(Item(title=f"Báo {n:03d} số {i}", languages="vie", item_type=ItemType.newspaper,
                       status=ItemStatus.done, serial_title=f"Đông Dương {n:03d}", year_start=1930 + i)
                  for n in range(130) for i in range(3))
    client = app.test_client()
    with statements(app) as sent:
        html = client.get("/serials?lang=en").get_data(as_text=True)
    assert html.count('<li><a href="/serials/') == 60 and "Đông Dương 000" in html and "Đông Dương 059" in html
    assert "Đông Dương 060" not in html and "3 issues · 1930–1932" in html
    assert unbounded(sent) == []
    after = re.search(r'rel="next" href="/serials\?after=([^&"]+)', html).group(1)
    html = client.get(f"/serials?after={after}&lang=en").get_data(as_text=True)
    assert "Đông Dương 060" in html and "Đông Dương 119" in html and "Đông Dương 059" not in html
    last = re.search(r'rel="next" href="/serials\?after=([^&"]+)', html).group(1)
    html = client.get(f"/serials?after={last}&lang=en").get_data(as_text=True)
    assert html.count('<li><a href="/serials/') == 10 and 'rel="next"' not in html
    with statements(app) as sent:
        assert client.get("/serials/dong-duong-042").status_code == 200
        assert client.get("/serials/%C4%90%C3%B4ng%20D%C6%B0%C6%A1ng%20042/1931").status_code == 200  # by title
    assert unbounded(sent) == [] and sent
    assert all("items.serial_sort" in sql or "serial_slug" in sql for sql in sent if "from items" in sql)


def test_the_staff_page_list_of_a_1000_page_item_shows_one_window(app):
    item_id = bulk_item(app, "Sách nghìn trang", 1000)
    client = client_as(app, "librarian")
    with statements(app) as sent:
        html = client.get(f"/staff/items/{item_id}/edit?lang=en").get_data(as_text=True)
    assert html.count('<tr id="page-row-') == 50 and 'id="page-row-50"' in html and 'id="page-row-51"' not in html
    assert "Pages 1–50 of 1000" in html and 'pages_from=51#pages' in html
    assert 'max="1001"' in html and 'value="1,2,3,' in html and ',999,1000"' in html  # the whole item's order
    assert unbounded(sent) == []
    html = client.get(f"/staff/items/{item_id}/edit?lang=en&pages_from=951").get_data(as_text=True)
    assert 'id="page-row-1000"' in html and 'id="page-row-950"' not in html and "pages_from=901#pages" in html
    row = html[html.index('id="page-row-1000"'):]
    row = row[:row.index("</tr>")]
    assert 'value="up"' in row and 'value="down"' not in row  # the last page of the item cannot go down
