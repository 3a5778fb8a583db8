"""A very broad query on a large embedded index is answered from a random sample, and says so.

Ranking, counting and faceting every match costs time in proportion to the matches: two common words
match half of a million pages. Above ``exact_up_to`` estimated matches the tantivy engine searches a
random share of the index (a stable hash of each document's id) holding about that many, scales the
count and the facet counts up, and flags the result; a narrow query, a search within an item and an
``exhaustive`` request are always exact. ``exact_up_to`` is set low here so that 3,000 documents show it.
"""
from __future__ import annotations

import random

import pytest

from search import SearchRequest, open_engine
from search.documents import PageDoc

N = 3000
COMMON, RARE = "người", "khuê"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """3,000 pages: ``người`` on 60 % of them (A-collection pages twice as often as B), ``khuê`` on 40."""
    rng = random.Random(11)
    docs, truth = [], {"common": set(), "rare": set(), "A": 0, "B": 0}
    filler = ["sông", "núi", "làng", "chợ", "đình", "trường", "báo", "sách"]
    for i in range(1, N + 1):
        collection = "A" if i % 3 else "B"
        words = rng.choices(filler, k=30)
        if rng.random() < (0.75 if collection == "A" else 0.3):
            words.insert(rng.randrange(len(words)), COMMON)
            truth["common"].add(i)
            truth[collection] += 1
        if i % 75 == 0:
            words.append(RARE)
            truth["rare"].add(i)
        docs.append(PageDoc(access="public", page_id=i, item_id=1 + i // 500, page_number=1 + i % 500,
                            text=" ".join(words), title=f"Báo {i // 500}", collections=(collection,),
                            date=str(1900 + (i * 7919) % 97)))
    engine = open_engine(tmp_path_factory.mktemp("broad") / "index")
    engine.index(docs)
    engine.refresh()
    engine.exact_up_to = 300
    yield engine, truth
    engine.close()


def _search(engine, query, **kw):
    return engine.search(SearchRequest(query=query, kinds=["page"], access_levels=("public",), **kw))


def test_a_very_broad_query_is_estimated_from_a_sample_and_says_so(corpus):
    engine, truth = corpus
    res = _search(engine, COMMON)
    true_total = len(truth["common"])
    assert res.sample is not None and 0 < res.sample < 0.5
    # the estimate: a binomial sample of about 300 matches is within 20 % of the truth
    assert abs(res.total - true_total) < 0.2 * true_total, (res.total, true_total)
    assert 150 < res.reachable < 600
    assert "sampled" in [n.code for n in res.notices]
    assert res.hits and all(COMMON in h.snippets[0].text for h in res.hits)
    assert {int(h.id.split(":")[1]) for h in res.hits} <= truth["common"]
    counts = {f.value: f.count for f in res.facets["collection"]}
    assert abs(counts["A"] - truth["A"]) < 0.25 * truth["A"] and counts["A"] > counts["B"] > 0, (counts, truth)
    # the same sample every time: the same hits, so paging is stable
    assert [h.id for h in _search(engine, COMMON).hits] == [h.id for h in res.hits]


def test_paging_a_sampled_query_ends_with_the_sample(corpus):
    engine, _ = corpus
    first = _search(engine, COMMON, per_page=100)
    seen, cursor = [h.id for h in first.hits], first.next_cursor
    while cursor:
        res = _search(engine, COMMON, per_page=100, cursor=cursor)
        seen += [h.id for h in res.hits]
        cursor = res.next_cursor
    assert len(seen) == len(set(seen)) == first.reachable
    past = _search(engine, COMMON, per_page=100, page=first.reachable // 100 + 2)
    assert not past.hits and "page_out_of_range" in [n.code for n in past.notices]


def test_exhaustive_narrow_and_within_an_item_are_exact(corpus):
    engine, truth = corpus
    full = _search(engine, COMMON, exhaustive=True)
    assert full.sample is None and full.reachable is None
    assert full.total == len(truth["common"])
    assert {f.value: f.count for f in full.facets["collection"]} == {"A": truth["A"], "B": truth["B"]}
    assert "sampled" not in [n.code for n in full.notices]

    rare = _search(engine, RARE, per_page=100)
    assert rare.sample is None and rare.total == len(truth["rare"]) == len(rare.hits)

    within = engine.search_within(2, COMMON, access_levels=("public",), limit=1000)
    assert within.sample is None
    assert within.total == len([i for i in truth["common"] if 1 + i // 500 == 2])


def test_the_sample_share_follows_the_threshold(corpus):
    """A threshold above the matches gives an exact answer; below, the share shrinks with it."""
    engine, truth = corpus
    try:
        engine.exact_up_to = 5000
        assert _search(engine, COMMON).sample is None
        engine.exact_up_to = 100
        small = _search(engine, COMMON)
        engine.exact_up_to = 400
        larger = _search(engine, COMMON)
        assert small.sample < larger.sample
        assert small.reachable < larger.reachable
    finally:
        engine.exact_up_to = 300


def test_a_broad_query_sorted_by_date_is_in_order_over_every_match(corpus):
    """Sorted by date, the first pages are the oldest of all the matches (a historian's "earliest mention"),
    not of the sample; only the count and the facets are estimated, and paging goes on past the sample."""
    engine, truth = corpus
    oldest = _search(engine, COMMON, sort="date", exhaustive=True, per_page=50)
    res = _search(engine, COMMON, sort="date", per_page=50)
    assert res.sample is not None and res.reachable is None
    assert [h.id for h in res.hits] == [h.id for h in oldest.hits]
    years = [h.year_start for h in res.hits]
    assert years == sorted(years) and years[0] == min(1900 + (i * 7919) % 97 for i in truth["common"])
    assert [n.code for n in res.notices if n.code.startswith("sampled")] == ["sampled_counts"]
    seen, cursor = [h.id for h in res.hits], res.next_cursor
    for _ in range(15):  # past the ~300 matches of the sample
        page = _search(engine, COMMON, sort="date", per_page=50, cursor=cursor)
        seen += [h.id for h in page.hits]
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 800
