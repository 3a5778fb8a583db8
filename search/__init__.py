"""The search adapter: documents in; ids, highlight offsets and facet counts out.

One interface (``SearchEngine``), two real engines: an embedded tantivy index
in a folder (the default, no server) and an Elasticsearch 8 / OpenSearch 2
cluster. ``open_engine`` picks one from a location::

    engine = open_engine("/var/lib/heritage/search")          # tantivy, in that folder
    engine = open_engine("tantivy:///var/lib/heritage/search")
    engine = open_engine("http://127.0.0.1:9200", index="heritage")  # ES 8 or OpenSearch 2

    engine.index([PageDoc(page_id=7, item_id=3, page_number=1, text="…", title="…", access="public")])
    result = engine.search(SearchRequest(query="Van Mieu", filters={"type": ["book"]}, access_levels=("public",)))
    for hit in result.hits:
        hit.id, hit.highlights   # "page:7", [(start, end), …] character offsets into the page text

This package knows nothing of Flask, Celery, SQLAlchemy or the catalogue.
"""

from __future__ import annotations

import os
from typing import Any

from search.documents import (
    ACCESS_LEVELS,
    FACETS,
    ITEM,
    KINDS,
    MONUMENT,
    PAGE,
    ItemDoc,
    MonumentDoc,
    PageDoc,
    item_doc_id,
    monument_doc_id,
    page_doc_id,
    years_of,
)
from search.engine import (
    DEFAULT_FACETS,
    FacetCount,
    Health,
    Hit,
    SearchEngine,
    SearchRequest,
    SearchResult,
    Suggestion,
)
from search.errors import IndexIncompatible, QueryError, SearchError, SearchUnavailable
from search.highlight import Snippet
from search.query import Notice, parse_query
from search.vietnamese import canonical_syllable, canonical_text, fold, nfc

__all__ = [
    "ACCESS_LEVELS", "DEFAULT_FACETS", "FACETS", "ITEM", "KINDS", "MONUMENT", "PAGE",
    "FacetCount", "Health", "Hit", "IndexIncompatible", "ItemDoc", "MonumentDoc", "Notice", "PageDoc",
    "QueryError", "SearchEngine", "SearchError", "SearchRequest", "SearchResult", "SearchUnavailable",
    "Snippet", "Suggestion", "canonical_syllable", "canonical_text", "fold", "item_doc_id", "monument_doc_id",
    "nfc", "open_engine", "page_doc_id",
    "parse_query", "years_of",
]


def open_engine(location: str | os.PathLike, **options: Any) -> SearchEngine:
    """The engine for a location: a folder path or ``tantivy://PATH`` → the embedded index
    (options: ``lock_timeout_s``, ``writer_heap_bytes``, ``writer_threads``);
    ``http(s)://…`` → the cluster, Elasticsearch 8 or OpenSearch 2 as its root endpoint says
    (options: ``index``, ``timeout_s``, ``query_timeout_s``, ``replicas``, ``shards``, ``client_options``).
    A cluster is not contacted until first used."""
    loc = os.fspath(location)
    if loc.startswith(("http://", "https://")):
        from search.cluster import ClusterEngine

        return ClusterEngine(loc, **options)
    if loc.startswith("tantivy://"):
        loc = loc[len("tantivy://"):]
    elif "://" in loc:
        raise ValueError(f"unknown search location {loc!r}: use a folder, tantivy://FOLDER or http(s)://HOST:PORT")
    if not loc:
        raise ValueError("the search index folder is empty")
    from search.embedded import TantivyEngine

    return TantivyEngine(loc, **options)
