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


@pytest.mark.parametrize("attempt", range(4))
def test_a_searcher_and_an_indexer_meeting_a_new_cluster_at_once_both_succeed(opensearch_url, attempt):
    """A fresh deployment: a web process's first search and a worker's first page meet no index, and each
    creates one. OpenSearch refuses the second write index for the alias (a 500 illegal_state_exception),
    which answered a reader with 503 in the deployment test; the loser now uses the winner's index."""
    import threading

    alias = f"test-race-{uuid.uuid4().hex[:8]}"
    web, worker = open_engine(opensearch_url, index=alias), open_engine(opensearch_url, index=alias)
    web._http(), worker._http()  # both connected: only the index is missing
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    answers: list[int] = []

    def search():
        start.wait()
        try:
            answers.append(web.search(SearchRequest(access_levels=("public",), query="Văn Miếu")).total)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def index():
        start.wait()
        try:
            worker.index(corpus_docs())
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=search), threading.Thread(target=index)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == [] and len(answers) == 1
        assert len(worker._generations()) == 1  # one index, no orphan
        worker.refresh()
        assert web.search(SearchRequest(access_levels=("public",), query="Văn Miếu", kinds=["page"])).total == 5
    finally:
        worker.drop()
        web.close()
        worker.close()
