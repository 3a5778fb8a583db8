"""The cluster engine: Elasticsearch 8 (official ``elasticsearch`` client, 8.x) or OpenSearch 2 (``opensearch-py``).

One wrapper for the external service: it learns which server it talks to from
the root endpoint (``version.distribution``), times out, and turns every
foreign error into ours (``SearchUnavailable`` when the cluster is down or
overloaded, ``SearchError`` otherwise). Nothing is contacted until the first
call, so a platform starts even when its cluster is down.

The documents live in a concrete index ``<name>-v<schema>-<time>`` behind the
alias ``<name>``; ``rebuild`` fills a new concrete index and swaps the alias in
one atomic step, so searching never stops. Paging past ``max_result_window``
walks ``search_after`` keys; ``next_cursor`` carries the last hit's sort key.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterable, Mapping

from search.cluster_schema import (
    CLUSTER_SCHEMA_VERSION,
    MAX_RESULT_WINDOW,
    SORTS,
    cluster_record,
    highlight_body,
    index_body,
    to_dsl,
)
from search.documents import FACETS, KINDS, SPELLING_FIELD, Document, to_record
from search.engine import (
    FacetCount,
    Notice,
    Health,
    Hit,
    Prepared,
    Progress,
    SearchEngine,
    SearchResult,
    Suggestion,
    access_levels_of,
    encode_cursor,
    make_hit,
    rank_suggestions,
    sort_facet,
    suggestion_prefix,
)
from search.errors import IndexIncompatible, QueryError, SearchError, SearchUnavailable
from search.han_readings import reading_spans
from search.highlight import POST_TAG, PRE_TAG, make_snippets, spans_from_tagged, word_spans
from search.vietnamese import restore_spelling

BULK_DOCS = 500
BULK_BYTES = 8_000_000
_TRANSIENT = {408, 429, 502, 503, 504}


class _HTTPError(Exception):
    def __init__(self, status: int, info: Any):
        super().__init__(f"{status}: {str(info)[:500]}")
        self.status = status
        self.info = info

    @property
    def error_type(self) -> str:
        info = self.info
        if isinstance(info, dict):
            err = info.get("error")
            if isinstance(err, dict):
                return str(err.get("type", ""))
            return str(err or "")
        return ""


def probe(url: str, *, timeout_s: float = 5.0) -> dict[str, Any]:
    """The root endpoint's answer (name, version, distribution). Raises ``SearchUnavailable`` if unreachable."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    req = urllib.request.Request(urllib.parse.urlunsplit((parts.scheme, netloc, "/", "", "")),
                                 headers={"Accept": "application/json"})
    if parts.username:
        token = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        req.add_header("Authorization", "Basic " + base64.b64encode(token.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        if e.code in _TRANSIENT:
            raise SearchUnavailable(f"the search cluster at {netloc} is not ready ({e.code})") from e
        raise SearchError(f"the search cluster at {netloc} refused us ({e.code})") from e
    except (OSError, ValueError) as e:
        raise SearchUnavailable(f"the search cluster at {netloc} cannot be reached: {e}") from e


def distribution_of(root: Mapping[str, Any]) -> str:
    version = root.get("version") or {}
    if version.get("distribution") == "opensearch":
        return "opensearch"
    number = str(version.get("number", ""))
    if number.split(".")[0] == "8":
        return "elasticsearch"
    raise SearchError(f"unsupported search server (version {number or 'unknown'}): "
                      "use Elasticsearch 8 or OpenSearch 2")


class _Transport:
    """A JSON-over-HTTP call through the right official client, errors made ours."""

    def __init__(self, url: str, flavor: str, timeout_s: float, client_options: Mapping[str, Any]):
        self.flavor = flavor
        if flavor == "opensearch":
            from opensearchpy import OpenSearch
            from opensearchpy import exceptions as ose

            self._client = OpenSearch(hosts=[url], timeout=timeout_s, max_retries=1, retry_on_timeout=False,
                                      **client_options)
            self._conn_errors = (ose.ConnectionError, ose.ConnectionTimeout)
            self._api_error = ose.TransportError
        else:
            import elastic_transport
            from elasticsearch import ApiError, Elasticsearch

            self._client = Elasticsearch(url, request_timeout=timeout_s, max_retries=1, retry_on_timeout=False,
                                         **client_options)
            self._conn_errors = (elastic_transport.TransportError,)
            self._api_error = ApiError

    def __call__(self, method: str, path: str, body: Any = None, *, params: Mapping[str, Any] | None = None,
                 ndjson: bool = False, timeout_s: float | None = None) -> Any:
        """``timeout_s``: how long to wait for this answer (the client's default otherwise)."""
        ctype = "application/x-ndjson" if ndjson else "application/json"
        try:
            if self.flavor == "opensearch":
                params = dict(params or {})
                if timeout_s is not None:
                    params["request_timeout"] = timeout_s  # taken by opensearch-py's transport, not sent
                return self._client.transport.perform_request(
                    method, path, params=params, body=body, headers={"content-type": ctype})
            headers = {"accept": "application/json"}
            if body is not None:
                headers["content-type"] = ctype
            client = self._client if timeout_s is None else self._client.options(request_timeout=timeout_s)
            return client.perform_request(method, path, params=params, headers=headers, body=body).body
        except self._conn_errors as e:  # first: opensearch-py's connection errors are TransportErrors too
            if "Timeout" in type(e).__name__:
                raise SearchUnavailable("the search cluster answers too slowly: no answer within "
                                        f"{timeout_s if timeout_s is not None else 'the client timeout'} s") from e
            raise SearchUnavailable(f"the search cluster cannot be reached: {type(e).__name__}") from e
        except self._api_error as e:
            status = getattr(e, "status_code", None)
            if not isinstance(status, int):
                status = getattr(getattr(e, "meta", None), "status", None)
            info = getattr(e, "info", None) or getattr(e, "body", None)
            if not isinstance(status, int):
                raise SearchUnavailable(f"the search cluster cannot be reached: {e}") from e
            if status in _TRANSIENT:
                raise SearchUnavailable(f"the search cluster is overloaded or not ready ({status})") from e
            raise _HTTPError(status, info) from e

    def close(self) -> None:
        try:
            self._client.close()
        except Exception:  # closing never fails the caller
            pass


def _access_dsl(levels: Iterable[str]) -> dict[str, Any]:
    """The filter that keeps documents of the asker's levels (checked: none or unknown is refused)."""
    return {"terms": {"access": list(access_levels_of(levels))}}


class ClusterEngine(SearchEngine):
    """``url``: ``http(s)://[user:password@]host:port``; ``index``: the alias the platform uses."""

    cursor_family = "cluster"

    def __init__(self, url: str, *, index: str = "heritage", timeout_s: float = 30.0, replicas: int | None = None,
                 shards: int = 1, flavor: str | None = None, client_options: Mapping[str, Any] | None = None,
                 query_timeout_s: float = 5.0):
        """``timeout_s``: writes and administration; ``query_timeout_s``: a search — the engine stops
        collecting then and answers with what it found (marked partial); a node that does not answer at
        all is given up a second later (:class:`SearchUnavailable`), so a reader never waits 30 s."""
        if not index or index != index.lower() or any(c in index for c in ' "*\\<|,>/?#:'):
            raise ValueError(f"not a valid index name: {index!r}")
        self.url = url
        self.alias = index
        self.timeout_s = timeout_s
        self.query_timeout_s = query_timeout_s
        self.replicas = replicas
        self.shards = shards
        self._flavor = flavor
        self._client_options = dict(client_options or {})
        self._transport: _Transport | None = None
        self._version = ""
        self._ready = False
        self._lock = threading.Lock()

    # ------------------------------------------------------------ connection
    @property
    def engine(self) -> str:  # type: ignore[override]
        return self._flavor or "cluster"

    def _http(self) -> _Transport:
        if self._transport is None:
            with self._lock:
                if self._transport is None:
                    root = probe(self.url, timeout_s=min(self.timeout_s, 10.0))
                    flavor = distribution_of(root)
                    if self._flavor and self._flavor != flavor:
                        raise SearchError(f"{self.url} is {flavor}, not {self._flavor}")
                    self._flavor = flavor
                    self._version = str((root.get("version") or {}).get("number", ""))
                    self._transport = _Transport(self.url, flavor, self.timeout_s, self._client_options)
        return self._transport

    def _call(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        try:
            return self._http()(method, path, body, **kw)
        except _HTTPError as e:
            raise SearchError(f"the search cluster refused a request ({e.status} {e.error_type})") from e

    def _ensure_index(self) -> None:
        if self._ready:
            return
        http = self._http()
        for _ in range(2):
            try:
                found = http("GET", f"/{self.alias}/_mapping")
            except _HTTPError as e:
                if e.status != 404:
                    raise SearchError(f"the search cluster refused a request ({e.status} {e.error_type})") from e
                found = None
            if found is not None or self._create_generation(alias=True) is not None:
                break
            # another process (a web process searching, a worker indexing) created it first: read its mapping
        if found is not None:
            # made a moment ago by another process, its shard may still be starting (a search would get a
            # 503 "all shards failed"; a new index's starting primary counts as yellow, hence the second
            # condition): wait for it, briefly — at once on a running cluster
            self._call("GET", f"/_cluster/health/{self.alias}?wait_for_status=yellow"
                              "&wait_for_no_initializing_shards=true&timeout=10s")
            for name, body in found.items():
                meta = (body.get("mappings") or {}).get("_meta") or {}
                if meta.get("heritage_schema") != CLUSTER_SCHEMA_VERSION:
                    raise IndexIncompatible(
                        f"the search index {self.alias!r} ({name}) was built by another version; "
                        "rebuild it (heritage reindex)")
        self._ready = True

    def _replicas(self) -> int:
        if self.replicas is not None:
            return self.replicas
        health = self._call("GET", "/_cluster/health")
        return 0 if int(health.get("number_of_data_nodes", 1)) <= 1 else 1

    def _create_generation(self, *, alias: bool, refresh_interval: str = "1s") -> str | None:
        """A new index generation; with ``alias``, also the alias's write index — None if another process
        made the alias first (two processes meeting a new cluster at once: OpenSearch refuses the second
        write index with a 500 illegal_state_exception, and the first one serves both)."""
        name = f"{self.alias}-v{CLUSTER_SCHEMA_VERSION}-{time.time_ns() // 1000}"
        body = index_body(shards=self.shards, replicas=self._replicas(), refresh_interval=refresh_interval)
        if alias:
            body["aliases"] = {self.alias: {"is_write_index": True}}
        try:
            self._http()("PUT", f"/{name}", body)
        except _HTTPError as e:
            if alias and (e.error_type in ("resource_already_exists_exception", "invalid_alias_name_exception")
                          or self._generations()):
                return None  # another process created it first
            raise SearchError(f"could not create the search index ({e.status} {e.error_type})") from e
        # (query string in the path: opensearch-py takes a "timeout" parameter as its own)
        self._call("GET", f"/_cluster/health/{name}?wait_for_status=yellow&timeout=30s")
        return name

    def _generations(self) -> list[str]:
        try:
            found = self._http()("GET", f"/_alias/{self.alias}")
        except _HTTPError as e:
            if e.status == 404:
                return []
            raise SearchError(f"the search cluster refused a request ({e.status} {e.error_type})") from e
        return sorted(found)

    # ------------------------------------------------------------ writing
    def _bulk(self, lines: list[str], target: str) -> None:
        if not lines:
            return
        result = self._call("POST", f"/{target}/_bulk", "\n".join(lines) + "\n", ndjson=True)
        if not result.get("errors"):
            return
        failures = []
        transient = False
        for entry in result.get("items", []):
            (op, info), = entry.items()
            status = int(info.get("status", 200))
            if status >= 300 and not (op == "delete" and status == 404):
                failures.append(f"{info.get('_id')}: {(info.get('error') or {}).get('type', status)}")
                transient = transient or status in _TRANSIENT
        if failures:
            msg = f"{len(failures)} document(s) were not indexed: {'; '.join(failures[:5])}"
            raise (SearchUnavailable if transient else SearchError)(msg)

    def _bulk_index(self, docs: Iterable[Document | Mapping[str, Any]], target: str,
                    progress: Progress | None) -> int:
        lines: list[str] = []
        size = n = 0
        for doc in docs:
            rec = cluster_record(to_record(doc))
            action = json.dumps({"index": {"_id": rec["id"]}})
            source = json.dumps(rec, ensure_ascii=False)
            lines += [action, source]
            size += len(source) + len(action)
            n += 1
            if len(lines) >= 2 * BULK_DOCS or size >= BULK_BYTES:
                self._bulk(lines, target)
                lines, size = [], 0
                if progress:
                    progress(n)
        self._bulk(lines, target)
        if progress and n:
            progress(n)
        return n

    def index(self, docs: Iterable[Document | Mapping[str, Any]], *, progress: Progress | None = None) -> int:
        self._ensure_index()
        return self._bulk_index(docs, self.alias, progress)

    def delete(self, ids: Iterable[str]) -> None:
        self._ensure_index()
        lines = [json.dumps({"delete": {"_id": str(i)}}) for i in ids]
        for k in range(0, len(lines), BULK_DOCS):
            self._bulk(lines[k:k + BULK_DOCS], self.alias)

    def delete_item(self, item_id: str | int) -> None:
        self._ensure_index()
        self._call("POST", f"/{self.alias}/_delete_by_query", {"query": {"term": {"item_id": str(item_id)}}},
                   params={"conflicts": "proceed", "refresh": "true"})

    def rebuild(self, docs: Iterable[Document | Mapping[str, Any]], *, progress: Progress | None = None) -> int:
        old = self._generations()
        new = self._create_generation(alias=False, refresh_interval="-1")
        try:
            n = self._bulk_index(docs, new, progress)
            self._call("PUT", f"/{new}/_settings", {"index": {"refresh_interval": "1s"}})
            self._call("POST", f"/{new}/_refresh")
        except BaseException:
            self._delete_indices([new])
            raise
        actions: list[dict[str, Any]] = [{"remove": {"index": o, "alias": self.alias}} for o in old]
        actions.append({"add": {"index": new, "alias": self.alias, "is_write_index": True}})
        self._call("POST", "/_aliases", {"actions": actions})
        self._delete_indices(old)
        self._ready = True
        return n

    def _delete_indices(self, names: list[str]) -> None:
        for name in names:
            try:
                self._http()("DELETE", f"/{name}")
            except _HTTPError as e:
                if e.status != 404:
                    raise SearchError(f"could not delete index {name} ({e.status} {e.error_type})") from e

    def refresh(self) -> None:
        self._ensure_index()
        self._call("POST", f"/{self.alias}/_refresh")

    def clear(self) -> None:
        self._ensure_index()
        self._call("POST", f"/{self.alias}/_delete_by_query", {"query": {"match_all": {}}},
                   params={"conflicts": "proceed", "refresh": "true"})

    def drop(self) -> None:
        self._delete_indices(self._generations())
        self._ready = False

    # ------------------------------------------------------------ reading
    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "timeout": f"{max(1, round(self.query_timeout_s * 1000))}ms"}
        try:
            return self._http()("POST", f"/{self.alias}/_search", body, timeout_s=self.query_timeout_s + 1.0)
        except _HTTPError as e:
            # our plans are checked before they get here: a 400 is a bug or an engine limit, never the user's fault
            raise SearchError(f"the search cluster could not run a search ({e.status} {e.error_type})") from e

    def _walk_to(self, query: dict[str, Any], sort: list[Any], offset: int) -> list[Any] | None:
        """The sort key of the hit just before ``offset``, found with ``search_after`` steps."""
        after: list[Any] | None = None
        done = 0
        while done < offset:
            step = min(MAX_RESULT_WINDOW, offset - done)
            body: dict[str, Any] = {"query": query, "size": step, "sort": sort, "_source": False,
                                    "track_total_hits": False}
            if after is not None:
                body["search_after"] = after
            hits = self._search(body)["hits"]["hits"]
            if not hits:
                break
            after = hits[-1]["sort"]
            done += len(hits)
        return after

    def _execute(self, prep: Prepared) -> SearchResult:
        self._ensure_index()
        query = to_dsl(prep.plan)
        if prep.sort == "page" and prep.request.item_id is None:
            raise QueryError("Sorting by page needs an item to search within.")
        sort = SORTS[prep.sort]
        hidden = ["text", "heading", "meta", "reading", "suggest", "suggest_key", "location"]
        body: dict[str, Any] = {"query": query, "size": prep.limit, "sort": sort, "track_total_hits": True,
                                "_source": {"excludes": hidden}}
        if prep.sort != "relevance":
            body["track_scores"] = False
        offset = prep.offset
        if prep.cursor_key is not None:
            key = prep.cursor_key
            if not (isinstance(key, dict) and isinstance(key.get("after"), list) and isinstance(key.get("n"), int)):
                raise QueryError("This link to a next page is no longer valid; start again from the first page.")
            body["search_after"] = key["after"]
            offset = key["n"]
        elif offset + prep.limit > MAX_RESULT_WINDOW:
            after = self._walk_to(query, sort, offset)
            if after is not None:
                body["search_after"] = after
        else:
            body["from"] = offset
        if prep.request.highlight or prep.request.snippets:
            body["highlight"] = highlight_body(PRE_TAG, POST_TAG)
        if prep.facets:
            body["aggs"] = {name: {"terms": {"field": FACETS[name], "size": prep.facet_size}}
                            for name in prep.facets}
        found = self._search(body)
        total = int(found["hits"]["total"]["value"])
        raw_hits = found["hits"]["hits"]
        if "search_after" in body and prep.cursor_key is None and offset >= total:
            raw_hits = []  # walked past the end
        whole_texts = self._whole_texts(raw_hits, prep)
        hits = [self._hit(h, prep, whole_texts) for h in raw_hits]
        facets: dict[str, list[FacetCount]] = {}
        for name in prep.facets:
            buckets = ((found.get("aggregations") or {}).get(name) or {}).get("buckets", [])
            facets[name] = sort_facet(((b["key"], b["doc_count"]) for b in buckets), prep.facet_size)
        next_offset = offset + len(hits)
        next_cursor = None
        if hits and next_offset < total:
            next_cursor = encode_cursor(self.cursor_family, prep.fingerprint, {"after": raw_hits[-1]["sort"], "n": next_offset})
        notices = []
        if found.get("timed_out"):  # the engine ran out of time: what it found so far
            notices.append(Notice("partial", f"The search engine took longer than {self.query_timeout_s:g} s; "
                                             "these results may be incomplete."))
        return SearchResult(total=total, hits=hits, facets=facets, page=offset // prep.limit + 1,
                            per_page=prep.limit, next_cursor=next_cursor, notices=notices, query=prep.parsed)

    def _whole_texts(self, raw_hits: list[dict[str, Any]], prep: Prepared) -> dict[str, tuple[str, str | None]]:
        """The whole stored text and spelling of each hit found by the readings of its Hán characters (a
        highlight without a match gives only a text's first characters), in one request for the page of
        hits; none when they cannot be fetched now (the hits then keep the text their highlight gave)."""
        if not prep.request.highlight:
            return {}
        ids = [h["_id"] for h in raw_hits if (h.get("highlight") or {}).keys() & {"reading", "reading.folded"}]
        if not ids:
            return {}
        try:
            found = self._http()("POST", f"/{self.alias}/_mget", {"ids": ids},
                                 params={"_source_includes": f"text,{SPELLING_FIELD}"}, timeout_s=self.query_timeout_s)
        except (SearchUnavailable, _HTTPError):
            return {}
        out: dict[str, tuple[str, str | None]] = {}
        for doc in (found or {}).get("docs", []):
            source = doc.get("_source") or {}
            if doc.get("found") and source.get("text"):
                out[doc["_id"]] = (source["text"], source.get(SPELLING_FIELD))
        return out

    def _hit(self, raw: dict[str, Any], prep: Prepared, whole_texts: dict[str, tuple[str, str | None]]) -> Hit:
        rec = dict(raw.get("_source") or {})
        rec["id"] = rec.get("id", raw["_id"])
        spelling = rec.pop(SPELLING_FIELD, None)
        hl = raw.get("highlight") or {}
        text = ""  # canonical spelling, as indexed
        spans: list[tuple[int, int]] = []
        for field in ("text.folded", "text"):
            for tagged in hl.get(field, []):
                plain, found = spans_from_tagged(tagged)
                if len(plain) > len(text):
                    text = plain
                spans.extend(found)
        spans = word_spans(text, spans) if prep.request.highlight and prep.parsed.positive_items() else []
        if raw["_id"] in whole_texts:
            # found by the readings of its Hán characters: the characters are boxed, from the whole text
            text, spelling = whole_texts[raw["_id"]]
            spans = sorted(set(spans) | set(reading_spans(text, prep.parsed)))
        original = restore_spelling(text, spelling)
        snippets = make_snippets(original, spans, max_snippets=prep.request.snippets) if prep.request.snippets else []
        score = raw.get("_score") if prep.sort == "relevance" else None
        return make_hit(rec, score, spans, snippets)

    def _has_value(self, field: str, value: str | int, access_levels: tuple[str, ...]) -> bool:
        return self._count({"bool": {"filter": [{"term": {field: value}}, _access_dsl(access_levels)]}}) > 0

    def _count(self, query: dict[str, Any]) -> int:
        self._ensure_index()
        return int(self._call("POST", f"/{self.alias}/_count", {"query": query})["count"])

    def suggest(self, prefix: str, *, access_levels: Iterable[str], limit: int = 10) -> list[Suggestion]:
        seen = _access_dsl(access_levels)  # checked first: refused even for an empty prefix
        typed = suggestion_prefix(prefix)
        if typed is None:
            return []
        self._ensure_index()
        keys, open_end = typed
        must = []
        for i, (_, folded) in enumerate(keys):
            if i == len(keys) - 1 and open_end:
                must.append({"prefix": {"suggest_key": folded}})
            else:
                must.append({"term": {"suggest_key": folded}})
        found = self._search({"query": {"bool": {"must": must, "filter": [seen]}}, "size": 200,
                              "_source": ["suggest"]})
        phrases: list[str] = []
        for h in found["hits"]["hits"]:
            phrases.extend((h.get("_source") or {}).get("suggest", []))
        return rank_suggestions(typed, phrases, max(1, min(limit, 50)))

    def count(self, kind: str | None = None) -> int:
        if kind is not None and kind not in KINDS:
            raise QueryError(f"Unknown kind {kind!r}")
        return self._count({"term": {"kind": kind}} if kind else {"match_all": {}})

    def health(self) -> Health:
        try:
            h = self._call("GET", "/_cluster/health")
            docs = self.count()
            return Health(ok=h.get("status") in ("green", "yellow"), engine=self.engine, version=self._version,
                          documents=docs, detail=f"cluster {h.get('cluster_name')} is {h.get('status')}")
        except Exception as e:  # health never raises
            return Health(ok=False, engine=self.engine, version=self._version, detail=f"{type(e).__name__}: {e}")

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

