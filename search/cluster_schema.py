"""What Elasticsearch 8 and OpenSearch 2 share: index settings, analysis, mappings and query bodies.

Analysis mirrors ``search.vietnamese`` exactly:
- ``vi_exact``: words (``WORD_PATTERN_JAVA``, a pattern tokenizer), lower case;
- ``vi_folded``: the same after a ``mapping`` char filter built from
  ``FOLD_TABLE`` (one character for one, so offsets are unchanged).
Each text field is indexed with ``vi_exact`` and has a ``.folded`` sub-field,
so the highlighter returns the same stored text, with offsets valid for both.

The canonical spelling (``search.vietnamese.canonical_text``: one tone-mark
placement, ``quy`` for ``qui``, hyphens between syllables as spaces) is applied
in Python before a document is sent (``cluster_record``) and to every query word,
not by a cluster analyzer: it needs the syllable's structure, which a ``mapping``
char filter cannot see, and Python keeps it identical to the embedded engine.
The source then holds the canonical ``text``, and ``spelling`` restores the
original for snippets (the same length, so offsets need no mapping). Suggestions
are matched on ``suggest_key`` (the phrases in canonical spelling).
"""

from __future__ import annotations

from typing import Any

from search.documents import SPELLING_FIELD, spelled_for_index, suggestion_keys
from search.plan import ANY_FOLDED, ANY_OF, AllQ, BoolQ, FuzzyQ, PhraseQ, PrefixQ, Q, RangeQ, TermQ, TermsQ
from search.vietnamese import MAX_WORD_CHARS, WORD_PATTERN_JAVA, folding_mappings

#: Bump when mappings or analysis change: an index with another version must be rebuilt.
#: 2: text in the canonical spelling, ``spelling`` and ``suggest_key`` fields.
#: 3: ``access`` (keyword): every search and suggestion filters by the asker's levels.
#: 4: a Hán character is a word of its own (``WORD_PATTERN_JAVA``); ``reading``: its Sino-Vietnamese reading.
CLUSTER_SCHEMA_VERSION = 4
MAX_RESULT_WINDOW = 10_000
MAX_ANALYZED_OFFSET = 10_000_000


def analysis() -> dict[str, Any]:
    return {
        "char_filter": {"vi_fold": {"type": "mapping", "mappings": folding_mappings()}},
        "tokenizer": {"vi_words": {"type": "pattern", "pattern": WORD_PATTERN_JAVA, "group": 0}},
        "filter": {"vi_long": {"type": "length", "min": 1, "max": MAX_WORD_CHARS}},
        "analyzer": {
            "vi_exact": {"type": "custom", "tokenizer": "vi_words", "filter": ["lowercase", "vi_long"]},
            "vi_folded": {"type": "custom", "char_filter": ["vi_fold"], "tokenizer": "vi_words",
                          "filter": ["lowercase", "vi_long"]},
        },
    }


def _text(stored_offsets: bool = True) -> dict[str, Any]:
    extra = {"index_options": "offsets"} if stored_offsets else {}
    return {"type": "text", "analyzer": "vi_exact", **extra,
            "fields": {"folded": {"type": "text", "analyzer": "vi_folded", **extra}}}


def mappings() -> dict[str, Any]:
    keyword = {"type": "keyword"}
    integer = {"type": "integer"}
    return {
        "dynamic": "strict",
        "_meta": {"heritage_schema": CLUSTER_SCHEMA_VERSION},
        "properties": {
            "id": keyword, "kind": keyword, "item_id": keyword,
            "collection": keyword, "type": keyword, "language": keyword, "creator": keyword,
            "subject": keyword, "period": keyword, "access": keyword,
            "page_number": integer, "year": integer, "decade": integer,
            "year_start": integer, "year_end": integer,
            "title": {"type": "keyword", "index": False, "doc_values": False},
            "heading": _text(stored_offsets=False), "text": _text(), "meta": _text(stored_offsets=False),
            "reading": _text(stored_offsets=False),
            SPELLING_FIELD: {"type": "keyword", "index": False, "doc_values": False},
            "suggest": {"type": "keyword", "index": False, "doc_values": False},
            "suggest_key": {"type": "text", "analyzer": "vi_folded"},
            "date": {"type": "keyword", "index": False},
            "lat": {"type": "float", "index": False}, "lon": {"type": "float", "index": False},
            "location": {"type": "geo_point"},
            "extra": {"type": "object", "enabled": False},
        },
    }


def index_body(*, shards: int = 1, replicas: int = 0, refresh_interval: str = "1s") -> dict[str, Any]:
    return {
        "settings": {
            "index": {
                "number_of_shards": shards,
                "number_of_replicas": replicas,
                "refresh_interval": refresh_interval,
                "max_result_window": MAX_RESULT_WINDOW,
                "highlight": {"max_analyzed_offset": MAX_ANALYZED_OFFSET},
            },
            "analysis": analysis(),
        },
        "mappings": mappings(),
    }


def cluster_record(rec: dict[str, Any]) -> dict[str, Any]:
    """A document's record as sent to the cluster: text fields in the canonical spelling
    (with ``spelling`` to restore it), suggestion keys, a geo point."""
    out = spelled_for_index(rec)
    if rec.get("suggest"):
        out["suggest_key"] = suggestion_keys(rec["suggest"])
    if rec.get("lat") is not None and rec.get("lon") is not None:
        out["location"] = {"lat": rec["lat"], "lon": rec["lon"]}
    return out


def to_dsl(q: Q) -> dict[str, Any]:
    """The query DSL both Elasticsearch 8 and OpenSearch 2 accept for a plan node. ``ANY_FOLDED`` (a word in
    any of the searched fields) is read as a union of the folded sub-fields: the mapping has no such field
    (whether one would pay on OpenSearch for its bytes and a reindex of every cluster is not measured yet)."""
    if isinstance(q, (TermQ, PrefixQ)) and q.field == ANY_FOLDED:
        kind = "term" if isinstance(q, TermQ) else "prefix"
        return {"bool": {"should": [{kind: {name: {"value": q.value}}} for name in ANY_OF]}}
    if isinstance(q, TermQ):
        return {"term": {q.field: {"value": q.value, "boost": q.boost}}}
    if isinstance(q, PhraseQ):
        if len(q.values) == 1:
            return {"term": {q.field: {"value": q.values[0], "boost": q.boost}}}
        return {"match_phrase": {q.field: {"query": " ".join(q.values), "slop": q.slop, "boost": q.boost}}}
    if isinstance(q, FuzzyQ):
        return {"fuzzy": {q.field: {"value": q.value, "fuzziness": q.distance, "transpositions": True,
                                    "prefix_length": 0, "max_expansions": 50, "boost": q.boost}}}
    if isinstance(q, PrefixQ):
        return {"prefix": {q.field: {"value": q.value, "boost": q.boost}}}
    if isinstance(q, TermsQ):
        return {"terms": {q.field: list(q.values)}}
    if isinstance(q, RangeQ):
        bounds = {k: v for k, v in (("gte", q.gte), ("lte", q.lte)) if v is not None}
        return {"range": {q.field: bounds}}
    if isinstance(q, AllQ):
        return {"match_all": {}}
    if isinstance(q, BoolQ):
        body: dict[str, Any] = {}
        for key in ("must", "should", "must_not", "filter"):
            parts = getattr(q, key)
            if parts:
                body[key] = [to_dsl(p) for p in parts]
        return {"bool": body}
    raise TypeError(q)  # pragma: no cover


SORTS: dict[str, list[Any]] = {
    "relevance": [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}],
    "date": [{"year_start": {"order": "asc", "missing": "_last"}}, {"id": {"order": "asc"}}],
    "-date": [{"year_start": {"order": "desc", "missing": "_last"}}, {"id": {"order": "asc"}}],
    "page": [{"page_number": {"order": "asc", "missing": "_last"}}, {"id": {"order": "asc"}}],
}


def highlight_body(pre: str, post: str, *, no_match_chars: int = 300) -> dict[str, Any]:
    """Highlight the whole text (no fragments) on the exact and the folded field."""
    return {
        "pre_tags": [pre], "post_tags": [post],
        "require_field_match": True,
        "fields": {
            "text": {"type": "unified", "number_of_fragments": 0, "no_match_size": no_match_chars},
            "text.folded": {"type": "unified", "number_of_fragments": 0},
            # only to learn that a hit's Hán characters were found by their readings (search.han_readings)
            "reading": {"type": "unified", "number_of_fragments": 1, "fragment_size": 18},
            "reading.folded": {"type": "unified", "number_of_fragments": 1, "fragment_size": 18},
        },
    }
