"""A very broad search, answered from a random sample of the index, tells the reader so — on the search
page in Vietnamese and English, and in the API, which can also ask for every match (``exhaustive``).

3,000 pages are indexed straight into the portal's embedded engine (their catalogue rows are not needed
for the count, the filters and the notice) and its ``exact_up_to`` is lowered to 300 so that a word on
every page is "very broad"."""
from __future__ import annotations

import re

import pytest

from search.documents import PageDoc
from web import create_app


@pytest.fixture
def broad_client(settings):
    app = create_app({"TESTING": True}, settings=settings)
    engine = app.extensions["heritage"].search.indexer.engine
    assert engine.engine == "tantivy"
    engine.index([PageDoc(access="public", page_id=100_000 + i, item_id=1, page_number=i + 1,
                          text=f"người đọc báo số {i}", title="Báo", collections=("A" if i % 4 else "B",))
                  for i in range(3000)])
    engine.refresh()
    engine.exact_up_to = 300
    yield app.test_client()
    app.extensions["heritage"].close()


def test_the_search_page_says_a_broad_count_is_an_estimate(broad_client):
    en = broad_client.get("/search?q=nguoi&lang=en").get_data(as_text=True)
    count = re.search(r'id="hit-count">About ([\d,]+) pages found<', en)
    assert count, en[:2000]
    assert 2400 <= int(count.group(1).replace(",", "")) <= 3600  # 3,000 pages match, estimated from a sample
    assert "estimated from a random sample" in en
    vi = broad_client.get("/search?q=người&lang=vi").get_data(as_text=True)
    assert re.search(r'id="hit-count">Tìm thấy khoảng [\d.]+ trang<', vi)
    assert "mẫu ngẫu nhiên" in vi
    narrow = broad_client.get("/search?q=ng%C6%B0%E1%BB%9Di+%22s%E1%BB%91+17%22&lang=en").get_data(as_text=True)
    assert "About" not in narrow and "random sample" not in narrow


def test_the_api_flags_the_estimate_and_counts_everything_when_asked(broad_client):
    sampled = broad_client.get("/api/v1/search?q=người").get_json()
    assert sampled["total_is_estimate"] is True and 0 < sampled["sample"] < 1
    assert 2400 <= sampled["total"] <= 3600
    every = broad_client.get("/api/v1/search?q=người&exhaustive=true").get_json()
    assert every["total_is_estimate"] is False and every["sample"] is None
    assert every["total"] == 3000
    assert {f["value"]: f["count"] for f in every["facets"]["collection"]} == {"A": 2250, "B": 750}
