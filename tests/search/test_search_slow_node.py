"""A search engine that answers slowly rather than not at all (issue 12, bad input): the real OpenSearch
node is paused (SIGSTOP: its port still takes connections, nothing answers) and a search is given up
after the query timeout plus a second, not the client's 30 s, with a reason; resumed, it answers again.
An engine that ran out of time answers with what it found and the page says the results may be
incomplete (the engine's own ``timed_out`` flag, which a small test index cannot be made to raise: the
answer is replayed through the adapter's transport)."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from search import SearchRequest, open_engine
from search.errors import SearchUnavailable
from tests.search.test_search_contract import corpus_docs

pytestmark = pytest.mark.integration


def _ask():
    return SearchRequest(query="quoc tu giam", access_levels=("public",))


def test_a_paused_node_is_given_up_after_the_query_timeout_with_a_reason(opensearch_url, opensearch_group):
    engine = open_engine(opensearch_url, index=f"slow-{uuid.uuid4().hex[:10]}", query_timeout_s=1.0)
    try:
        engine.index(corpus_docs())
        engine.refresh()
        found = engine.search(_ask()).total
        assert found > 0
        group = opensearch_group
        os.killpg(group, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(SearchUnavailable, match="answers too slowly: no answer within 2.0 s"):
                engine.search(_ask())
            waited = time.monotonic() - started
        finally:
            os.killpg(group, signal.SIGCONT)
        assert 1.5 <= waited < 6.0, waited  # the query timeout and a second, not the client's 30 s
        result = engine.search(_ask())
        assert result.total == found and not result.notices
    finally:
        engine.drop()
        engine.close()


def test_an_answer_the_engine_cut_short_is_marked_incomplete(opensearch_url):
    engine = open_engine(opensearch_url, index=f"partial-{uuid.uuid4().hex[:10]}", query_timeout_s=1.0)
    try:
        engine.index(corpus_docs())
        engine.refresh()
        transport = engine._http()
        sent = []

        def cut_short(method, path, body=None, **kw):
            answer = transport(method, path, body, **kw)
            if path.endswith("/_search"):
                sent.append(body)
                answer = {**answer, "timed_out": True}
            return answer

        engine._transport = cut_short
        result = engine.search(_ask())
        engine._transport = transport
        assert result.total > 0 and [n.code for n in result.notices] == ["partial"]
        assert "took longer than 1 s; these results may be incomplete" in result.notices[0].message
        assert sent and all(b["timeout"] == "1000ms" for b in sent)  # the engine was told when to stop
    finally:
        engine.drop()
        engine.close()
