"""What only the cluster engine does, and the two engines agreeing hit for hit on a real OpenSearch node."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from search import IndexIncompatible, SearchRequest, open_engine
from search.cluster_schema import index_body
from tests.search.test_search_contract import TEXTS, corpus_docs

pytestmark = pytest.mark.integration

AGREEMENT_QUERIES = ["Văn Miếu", "Van Mieu", '"Quốc Tử Giám"', "Quoc Tu Giam", "dinh", "Giám~", "Xuâ*",
                     "Khuê OR Chu", "trườnq~", "bia -rùa", "tiến sĩ", '"Van Mieu" OR đình']


@pytest.fixture(scope="module")
def both(opensearch_url, tmp_path_factory):
    tantivy = open_engine(tmp_path_factory.mktemp("agree") / "index")
    cluster = open_engine(opensearch_url, index=f"test-agree-{uuid.uuid4().hex[:8]}")
    for e in (tantivy, cluster):
        e.index(corpus_docs())
        e.refresh()
    yield tantivy, cluster
    cluster.drop()
    cluster.close()


@pytest.mark.parametrize("query", AGREEMENT_QUERIES)
def test_both_engines_find_the_same_pages_and_the_same_offsets(both, query):
    tantivy, cluster = both
    a = tantivy.search(SearchRequest(access_levels=("public",), query=query, kinds=["page"], per_page=50))
    b = cluster.search(SearchRequest(access_levels=("public",), query=query, kinds=["page"], per_page=50))
    assert a.total == b.total
    assert {h.id: h.highlights for h in a.hits} == {h.id: h.highlights for h in b.hits}
    for h in b.hits:
        assert all(TEXTS[h.id][s:e].strip() for s, e in h.highlights)
    if a.hits:  # the best hit agrees, up to a near-tie (BM25 statistics differ between the engines)
        assert a.hits[0].id in [h.id for h in b.hits[:2]] and b.hits[0].id in [h.id for h in a.hits[:2]]


def test_an_index_built_by_another_schema_must_be_rebuilt(opensearch_url):
    alias = f"test-old-{uuid.uuid4().hex[:8]}"
    body = index_body()
    body["mappings"]["_meta"] = {"heritage_schema": 0}
    body["aliases"] = {alias: {}}
    req = urllib.request.Request(f"{opensearch_url}/{alias}-v0", data=json.dumps(body).encode(), method="PUT",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).close()
    engine = open_engine(opensearch_url, index=alias)
    try:
        with pytest.raises(IndexIncompatible):
            engine.search(SearchRequest(access_levels=("public",), query="x"))
        engine.rebuild(corpus_docs())  # a rebuild replaces it behind the same alias
        engine.refresh()
        assert engine.search(SearchRequest(access_levels=("public",), query="Văn Miếu", kinds=["page"])).total == 5
    finally:
        engine.drop()
        engine.close()


def test_rebuild_keeps_answering_from_the_old_index_until_the_swap(opensearch_url):
    engine = open_engine(opensearch_url, index=f"test-swap-{uuid.uuid4().hex[:8]}")
    reader = open_engine(opensearch_url, index=engine.alias)
    try:
        engine.index(corpus_docs())
        engine.refresh()
        before = reader.count()
        seen = []

        def docs():
            for i, d in enumerate(corpus_docs()):
                if i == 3:
                    seen.append(reader.count())  # mid-rebuild: the old index still answers in full
                yield d

        engine.rebuild(docs())
        assert seen == [before] and reader.count() == before
        assert len(engine._generations()) == 1
    finally:
        engine.drop()
        engine.close()
        reader.close()
