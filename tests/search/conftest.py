"""Search engines for the contract tests: tantivy always, a real OpenSearch 2.19 node, Elasticsearch 8 when ES_URL is set.

The OpenSearch node (the ``opensearch_url`` fixture in ``tests/conftest.py``) is started once per session by ``scripts/opensearch.sh``
(jars fetched with Maven into ``.cache/opensearch/``, then ``java -cp``) on a
free loopback port, and stopped at the end. Set ``HERITAGE_OPENSEARCH_URL`` to
use a node that is already running instead. Without Java or Maven the
OpenSearch tests are skipped with the reason (in CI, where ``CI`` is set, they
fail instead: CI always has both).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest


ES_SKIP = ("ES_URL is not set: the Elasticsearch 8 tests run when it points at a server "
           "(see the README for starting one)")
ENGINES = [
    "tantivy",
    pytest.param("opensearch", marks=pytest.mark.integration),
    pytest.param("elasticsearch", marks=[pytest.mark.integration,
                                         pytest.mark.skipif(not os.environ.get("ES_URL"), reason=ES_SKIP)]),
]


def make_engine(request, kind: str, folder: Path):
    """A fresh, empty engine of one kind; dropped by the caller's finaliser."""
    from search import open_engine

    if kind == "tantivy":
        return open_engine(folder / "index")
    if kind == "opensearch":
        url = request.getfixturevalue("opensearch_url")
    else:
        url = os.environ.get("ES_URL")
        if not url:
            pytest.skip(ES_SKIP)
    engine = open_engine(url, index=f"test-{uuid.uuid4().hex[:10]}")
    assert engine.health().engine == kind, f"{url} is not {kind}"
    return engine


@pytest.fixture(params=ENGINES)
def empty_engine(request, tmp_path):
    """A new, empty engine of each kind, for tests that write."""
    engine = make_engine(request, request.param, tmp_path)
    yield engine
    engine.drop()
    engine.close()
