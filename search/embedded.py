"""The embedded engine: a tantivy index in a folder, no server.

Several processes (web, workers, the CLI) may open the same folder. Searches
run in parallel; writes take turns: each write holds an ``fcntl`` lock on
``.heritage-writer.lock`` in the folder (waiting up to ``lock_timeout_s``,
then ``SearchUnavailable``), opens tantivy's writer, commits and closes it, so
no update is lost and tantivy's own writer lock is never contended. A commit is
durable when ``index()`` returns; other processes see it after their next
``refresh()`` (or within about a second, when tantivy's reader notices).

Differences from the cluster engine, by design:
- paging by number is an offset (any depth up to ``MAX_OFFSET``); the cursor is
  the next offset, not a ``search_after`` key;
- highlights come from the adapter's matcher (``search.highlight``), which
  applies the index's own word and folding rules to the stored text (kept in
  the canonical spelling, and shown in snippets as it was written);
- fuzzy and prefix matches score a constant (tantivy's automaton queries),
  where the cluster scores them like terms; they are low-weight either way.
"""

from __future__ import annotations

import errno
import fcntl
import json
import math
import os
import re
import shutil
import threading
import time
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import tantivy

from search.documents import (
    FACETS,
    INTEGER_FIELDS,
    KEYWORD_FIELDS,
    KINDS,
    MULTI_VALUED,
    READING_FIELD,
    SPELLING_FIELD,
    TEXT_FIELDS,
    Document,
    spelled_for_index,
    suggestion_keys,
    to_record,
)
from search.engine import (
    FacetCount,
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
from search.han_readings import has_han, reading_spans
from search.highlight import make_snippets, spans_for_query
from search.plan import ANY_OF, AllQ, BoolQ, FuzzyQ, PhraseQ, PrefixQ, Q, RangeQ, TermQ, TermsQ, matching_only
from search.vietnamese import MAX_WORD_CHARS, WORD_PATTERN, fold, restore_spelling

#: 2: text fields indexed (and ``text`` stored) in the canonical spelling, with ``spelling`` to restore it.
#: 3: every document carries its ``access`` level, and every search and suggestion filters by it.
#: 4: every document carries its ``sample`` bucket (a very broad query is answered from a random share).
#: 5: a Hán character is a word of its own (``WORD_PATTERN``); ``reading``: its Sino-Vietnamese reading.
#: 6: ``any_folded``: the folded words of all the text fields (``plan.ANY_FOLDED``), which documents match.
SCHEMA_VERSION = 6
VERSION_FILE = "heritage-search.json"
LOCK_FILE = ".heritage-writer.lock"
ANALYZER = "vi_words"

_KEYWORDS = KEYWORD_FIELDS
_INTEGERS = INTEGER_FIELDS
_TEXTS = TEXT_FIELDS
_SORT_MISSING = 10**6
#: Each document falls in one of these buckets (a hash of its id): a slice ``sample < k`` is a random
#: share ``k / SAMPLE_BUCKETS`` of the index, the same for every search.
SAMPLE_BUCKETS = 4096
#: Counted first to estimate how many documents match: a slice of about this many documents (at most
#: 1/64 of the index), so that the estimate costs the same at 100,000 pages and at 10 million.
_PROBE_DOCS = 2_000
_PROBE_MAX_BUCKETS = 64
#: Matches beyond which a search is answered from a sample of about this many (the default): the best
#: 20 of 8,000 matches, counts within about 1 % (chosen on the 100k-page bench: 12,000 cost 2 ms more).
EXACT_UP_TO = 8_000


def sample_bucket(doc_id: str) -> int:
    """The sample bucket of the document ``doc_id`` (stable across runs, processes and rebuilds)."""
    return zlib.crc32(doc_id.encode()) % SAMPLE_BUCKETS


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name in _KEYWORDS:
        sb.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")
    for name in _INTEGERS:
        sb.add_integer_field(name, stored=True, indexed=True, fast=True)
    sb.add_integer_field("date_asc", fast=True)
    sb.add_integer_field("date_desc", fast=True)
    sb.add_integer_field("sample", indexed=True, fast=True)
    sb.add_text_field("title", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("heading", stored=False, tokenizer_name=ANALYZER)
    sb.add_text_field("text", stored=True, tokenizer_name=ANALYZER)
    sb.add_text_field("meta", stored=False, tokenizer_name=ANALYZER)
    sb.add_text_field(READING_FIELD, stored=False, tokenizer_name=ANALYZER)
    for name in _TEXTS:
        sb.add_text_field(f"{name}_folded", stored=False, tokenizer_name=ANALYZER)
    # which documents hold a word (nothing scored from it, no phrase read from it): doc ids only
    sb.add_text_field("any_folded", stored=False, tokenizer_name=ANALYZER, index_option="basic")
    sb.add_bytes_field(SPELLING_FIELD, stored=True)
    sb.add_text_field("suggest", stored=True, tokenizer_name="raw")
    sb.add_text_field("suggest_folded", stored=False, tokenizer_name=ANALYZER)
    sb.add_text_field("date", stored=True, tokenizer_name="raw")
    sb.add_float_field("lat", stored=True)
    sb.add_float_field("lon", stored=True)
    sb.add_json_field("extra", stored=True)
    return sb.build()


def _analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(WORD_PATTERN))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.remove_long(MAX_WORD_CHARS * 4))
            .build())


def _field(name: str) -> str:
    return name.replace(".folded", "_folded")


class TantivyEngine(SearchEngine):
    engine = "tantivy"
    cursor_family = "tantivy"

    def __init__(self, path: str | os.PathLike, *, lock_timeout_s: float = 60.0,
                 writer_heap_bytes: int = 200_000_000, writer_threads: int | None = None,
                 exact_up_to: int = EXACT_UP_TO):
        self.path = Path(path)
        #: a search matching more than about this many documents (and not ``exhaustive``) is counted,
        #: faceted and ranked on a random share of the index holding about this many matches
        self.exact_up_to = exact_up_to
        self.lock_timeout_s = lock_timeout_s
        self.writer_heap_bytes = writer_heap_bytes
        self.writer_threads = writer_threads or max(1, min(2, os.cpu_count() or 1))
        self._thread_lock = threading.Lock()
        self._schema = _schema()
        self._closed = False
        self._index: tantivy.Index | None = None
        try:
            self._index = self._open()
        except IndexIncompatible:
            pass  # every use but rebuild() says so; rebuild() replaces it (as on a cluster)

    # ------------------------------------------------------------ opening
    def _open(self, *, replace_incompatible: bool = False) -> tantivy.Index:
        """The folder's index, created if absent. An index of another schema raises
        ``IndexIncompatible``, or with ``replace_incompatible`` is removed and created anew."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SearchError(f"cannot create the search index folder {self.path}: {e.strerror}") from e
        version_file = self.path / VERSION_FILE
        with self._locked():
            index = None
            if tantivy.Index.exists(str(self.path)):
                try:
                    found = json.loads(version_file.read_text()).get("schema")
                except (OSError, ValueError):
                    found = None
                if found == SCHEMA_VERSION and tantivy.Index.is_compatible(str(self.path)):
                    index = tantivy.Index.open(str(self.path))
                elif not replace_incompatible:
                    raise IndexIncompatible(
                        f"the search index in {self.path} was built by another version (schema {found}, "
                        f"this is {SCHEMA_VERSION}); rebuild it (heritage reindex)")
                else:
                    self._remove_files()
            if index is None:
                index = tantivy.Index(self._schema, path=str(self.path), reuse=False)
                tmp = version_file.with_suffix(".tmp")
                tmp.write_text(json.dumps({"schema": SCHEMA_VERSION, "engine": "tantivy"}))
                os.replace(tmp, version_file)
        index.register_tokenizer(ANALYZER, _analyzer())
        index.config_reader("OnCommit")
        return index

    def _live(self) -> tantivy.Index:
        """The open index; one found incompatible is looked at again (another process may have rebuilt it)."""
        if self._index is None:
            if self._closed:
                raise SearchError("this search index was dropped")
            self._index = self._open()
        return self._index

    def _remove_files(self) -> None:
        """Every file of the index but the lock (the caller holds it)."""
        for child in self.path.iterdir():
            if child.name == LOCK_FILE:
                continue
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The folder's writer lock, shared by every process and thread that writes here."""
        with self._thread_lock:
            try:
                fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as e:
                raise SearchError(f"cannot open the index lock in {self.path}: {e.strerror}") from e
            try:
                deadline = time.monotonic() + self.lock_timeout_s
                delay = 0.005
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except OSError as e:
                        if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                            raise
                        if time.monotonic() > deadline:
                            raise SearchUnavailable(
                                f"the search index is busy (another process kept its lock for over "
                                f"{self.lock_timeout_s:.0f} s); the change was not applied, retry later") from None
                        time.sleep(delay)
                        delay = min(delay * 2, 0.2)
                yield
            finally:
                os.close(fd)  # closing releases the flock

    def _open_writer(self) -> tantivy.IndexWriter:
        deadline = time.monotonic() + self.lock_timeout_s
        while True:
            try:
                return self._live().writer(self.writer_heap_bytes, self.writer_threads)
            except ValueError as e:  # tantivy's own lock, held by a writer outside this adapter
                if "LockBusy" not in str(e) or time.monotonic() > deadline:
                    raise SearchUnavailable(f"cannot open the search index for writing: {e}") from e
                time.sleep(0.05)

    @contextmanager
    def _writing(self) -> Iterator[tantivy.IndexWriter]:
        self._live()
        with self._locked():
            writer = self._open_writer()
            try:
                yield writer
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()
        self._live().reload()

    # ------------------------------------------------------------ writing
    def _document(self, rec: Mapping[str, Any]) -> tantivy.Document:
        d: dict[str, Any] = {}
        for name in _KEYWORDS:
            v = rec.get(name)
            if v is not None and v != []:
                d[name] = [str(x) for x in v] if isinstance(v, list) else [str(v)]
        for name in _INTEGERS:
            v = rec.get(name)
            if v is not None and v != []:
                d[name] = list(v) if isinstance(v, list) else [int(v)]
        if rec.get("id"):
            d["sample"] = [sample_bucket(str(rec["id"]))]
        ys = rec.get("year_start")
        d["date_asc"] = [ys if ys is not None else _SORT_MISSING]
        d["date_desc"] = [ys if ys is not None else -_SORT_MISSING]
        spelled = spelled_for_index(rec)
        for name in _TEXTS:
            v = spelled.get(name)
            if v:
                d[name] = [v]
                d[f"{name}_folded"] = [fold(v)]
                if f"{name}.folded" in ANY_OF:  # the fields the plan searches (one list says which)
                    d.setdefault("any_folded", []).append(d[f"{name}_folded"][0])
        if spelled.get(SPELLING_FIELD):
            d[SPELLING_FIELD] = [spelled[SPELLING_FIELD].encode()]
        if rec.get("suggest"):
            d["suggest"] = list(rec["suggest"])
            d["suggest_folded"] = [fold(s) for s in suggestion_keys(rec["suggest"])]
        if rec.get("title"):
            d["title"] = [rec["title"]]
        if rec.get("date"):
            d["date"] = [rec["date"]]
        for name in ("lat", "lon"):
            if rec.get(name) is not None:
                d[name] = [float(rec[name])]
        if rec.get("extra"):
            d["extra"] = [rec["extra"]]
        return tantivy.Document.from_dict(d, self._schema)

    def _add_all(self, writer: tantivy.IndexWriter, docs: Iterable[Document | Mapping[str, Any]],
                 progress: Progress | None, *, replace: bool = True) -> int:
        n = 0
        for doc in docs:
            rec = to_record(doc)
            if replace:
                writer.delete_documents_by_term("id", rec["id"])
            writer.add_document(self._document(rec))
            n += 1
            if progress and n % 1000 == 0:
                progress(n)
        if progress and n % 1000:
            progress(n)
        return n

    def index(self, docs: Iterable[Document | Mapping[str, Any]], *, progress: Progress | None = None) -> int:
        docs = docs if isinstance(docs, list) else list(docs)
        if not docs:
            return 0
        with self._writing() as writer:
            return self._add_all(writer, docs, progress)

    def delete(self, ids: Iterable[str]) -> None:
        ids = [str(i) for i in ids]
        if not ids:
            return
        with self._writing() as writer:
            for i in ids:
                writer.delete_documents_by_term("id", i)

    def delete_item(self, item_id: str | int) -> None:
        with self._writing() as writer:
            writer.delete_documents_by_term("item_id", str(item_id))

    def rebuild(self, docs: Iterable[Document | Mapping[str, Any]], *, progress: Progress | None = None) -> int:
        """Replace every document; an index of another schema (``IndexIncompatible``) is replaced
        by a new one first (it could not answer searches anyway)."""
        if self._index is None and not self._closed:
            try:
                self._live()
            except IndexIncompatible:
                self._index = self._open(replace_incompatible=True)
        with self._writing() as writer:
            writer.delete_all_documents()
            return self._add_all(writer, docs, progress, replace=False)

    def clear(self) -> None:
        with self._writing() as writer:
            writer.delete_all_documents()

    def drop(self) -> None:
        with self._locked():
            self._remove_files()
        self._index = None
        self._closed = True

    def refresh(self) -> None:
        self._live().reload()

    # ------------------------------------------------------------ reading
    def _compile(self, q: Q) -> tantivy.Query:
        s = self._schema
        if isinstance(q, TermQ):
            out = tantivy.Query.term_query(s, _field(q.field), q.value)
        elif isinstance(q, PhraseQ):
            if len(q.values) == 1:
                out = tantivy.Query.term_query(s, _field(q.field), q.values[0])
            else:
                out = tantivy.Query.phrase_query(s, _field(q.field), list(q.values), q.slop)
        elif isinstance(q, FuzzyQ):
            out = tantivy.Query.fuzzy_term_query(s, _field(q.field), q.value, q.distance, True, False)
        elif isinstance(q, PrefixQ):
            out = tantivy.Query.regex_query(s, _field(q.field), re.escape(q.value) + ".*")
        elif isinstance(q, TermsQ):
            if len(q.values) == 1:
                return tantivy.Query.term_query(s, q.field, q.values[0])
            return tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, tantivy.Query.term_query(s, q.field, v)) for v in q.values])
        elif isinstance(q, RangeQ):
            return tantivy.Query.range_query(s, q.field, tantivy.FieldType.Integer, q.gte, q.lte)
        elif isinstance(q, AllQ):
            return tantivy.Query.all_query()
        elif isinstance(q, BoolQ):
            parts = [(tantivy.Occur.Must, self._compile(c)) for c in q.must]
            parts += [(tantivy.Occur.Should, self._compile(c)) for c in q.should]
            parts += [(tantivy.Occur.MustNot, self._compile(c)) for c in q.must_not]
            parts += [(tantivy.Occur.Must, tantivy.Query.const_score_query(self._compile(c), 0.0)) for c in q.filter]
            return tantivy.Query.boolean_query(parts)
        else:  # pragma: no cover - the plan has no other node
            raise TypeError(q)
        boost = getattr(q, "boost", 1.0)
        return out if boost == 1.0 else tantivy.Query.boost_query(out, float(boost))

    def _searcher(self) -> tantivy.Searcher:
        return self._live().searcher()

    def _execute(self, prep: Prepared) -> SearchResult:
        searcher = self._searcher()
        query = self._compile(prep.plan)
        offset = prep.offset
        if prep.cursor_key is not None:
            if not isinstance(prep.cursor_key, int) or prep.cursor_key < 0:
                raise QueryError("This link to a next page is no longer valid; start again from the first page.")
            offset = prep.cursor_key
        kwargs: dict[str, Any] = {}
        if prep.sort == "date":
            kwargs = dict(order_by_field="date_asc", order=tantivy.Order.Asc)
        elif prep.sort == "-date":
            kwargs = dict(order_by_field="date_desc", order=tantivy.Order.Desc)
        elif prep.sort == "page":
            if prep.request.item_id is None:
                raise QueryError("Sorting by page needs an item to search within.")
            kwargs = dict(order_by_field="page_number", order=tantivy.Order.Asc)
        matching_plan = matching_only(prep.plan)  # no clause that only scores
        matching = every_match = self._compile(matching_plan)
        buckets = self._sample_buckets(searcher, prep, matching_plan)
        sampled, by_field = buckets < SAMPLE_BUCKETS, prep.sort != "relevance"
        if sampled:  # every clause kept to the sample, the optional ones too (tantivy reads an optional
            # phrase's own matches, not only those of the required clauses: half the time at 100k)
            query = self._compile(_sliced_plan(prep.plan, buckets))
            matching = self._compile(_sliced_plan(matching_plan, buckets))
        try:
            if sampled and by_field:
                # the oldest (or newest) of every match, not of the sample: the matching documents in full,
                # ordered by the field (nothing scored, no positions read); the count from the sample
                matched = int(searcher.search(matching, 1, count=True).count or 0)
                found = searcher.search(every_match, prep.limit, count=False, offset=offset, **kwargs)
            else:
                found = searcher.search(query, prep.limit, count=True, offset=offset, **kwargs)
                matched = int(found.count or 0)
        except ValueError as e:  # never show tantivy's words to a user
            raise SearchError(f"the embedded index could not run a search: {e}") from e
        scale = SAMPLE_BUCKETS / buckets
        total = matched if not sampled else round(matched * scale)
        hits = [self._hit(searcher, addr, score if prep.sort == "relevance" else None, prep)
                for score, addr in found.hits]
        facets: dict[str, list[FacetCount]] = {}
        if prep.facets:
            if matched:
                aggs = {name: {"terms": {"field": FACETS[name], "size": prep.facet_size}} for name in prep.facets}
                result = searcher.aggregate(matching, aggs)
                for name in prep.facets:
                    buckets_found = result.get(name, {}).get("buckets", [])
                    facets[name] = sort_facet(((_facet_key(b["key"]), round(b["doc_count"] * scale))
                                               for b in buckets_found), prep.facet_size)
            else:
                facets = {name: [] for name in prep.facets}
        next_offset = offset + len(hits)
        more = len(hits) == prep.limit if sampled and by_field else next_offset < matched
        next_cursor = encode_cursor(self.cursor_family, prep.fingerprint, next_offset) if hits and more else None
        page = offset // prep.limit + 1
        return SearchResult(total=total, hits=hits, facets=facets, page=page, per_page=prep.limit,
                            next_cursor=next_cursor, notices=[], query=prep.parsed,
                            sample=buckets / SAMPLE_BUCKETS if sampled else None,
                            reachable=matched if sampled and not by_field else None)

    def _sample_buckets(self, searcher: tantivy.Searcher, prep: Prepared, matching: Q) -> int:
        """How many sample buckets to search: all of them, unless the query is very broad (its matches in a
        probe slice of the index, scaled, above ``exact_up_to``); then enough to hold about ``exact_up_to`` matches.
        A search within an item, or an ``exhaustive`` one, is never sampled."""
        if prep.request.exhaustive or prep.request.item_id is not None or self.exact_up_to <= 0:
            return SAMPLE_BUCKETS
        if searcher.num_docs <= self.exact_up_to:
            return SAMPLE_BUCKETS  # not even every document would be too many
        probe_buckets = max(1, min(_PROBE_MAX_BUCKETS, round(SAMPLE_BUCKETS * _PROBE_DOCS / searcher.num_docs)))
        probe = searcher.search(self._compile(_sliced_plan(matching, probe_buckets)), 1, count=True).count or 0
        estimate = probe * SAMPLE_BUCKETS / probe_buckets
        if estimate <= self.exact_up_to:
            return SAMPLE_BUCKETS
        return max(1, min(SAMPLE_BUCKETS, math.ceil(SAMPLE_BUCKETS * self.exact_up_to / estimate)))

    def _hit(self, searcher: tantivy.Searcher, addr: tantivy.DocAddress, score: float | None,
             prep: Prepared) -> Hit:
        stored = searcher.doc(addr).to_dict()
        rec: dict[str, Any] = {}
        for k, v in stored.items():
            rec[k] = list(v) if k in MULTI_VALUED else (v[0] if v else None)
        text = rec.pop("text", None) or ""  # canonical spelling: the words the index matched
        original = restore_spelling(text, rec.pop(SPELLING_FIELD, None))
        spans = spans_for_query(text, prep.parsed) if prep.request.highlight else []
        if prep.request.highlight and has_han(text):  # the characters whose readings the query matched
            spans = sorted(set(spans) | set(reading_spans(text, prep.parsed)))
        snippets = make_snippets(original, spans, max_snippets=prep.request.snippets) if prep.request.snippets else []
        return make_hit(rec, score, spans, snippets)

    def _access_filter(self, levels: Iterable[str]) -> tantivy.Query:
        return self._compile(TermsQ("access", access_levels_of(levels)))

    def _has_value(self, field: str, value: str | int, access_levels: tuple[str, ...]) -> bool:
        q = tantivy.Query.boolean_query([(tantivy.Occur.Must, tantivy.Query.term_query(self._schema, field, value)),
                                         (tantivy.Occur.Must, self._access_filter(access_levels))])
        return self._searcher().search(q, 1, count=True).count > 0

    def suggest(self, prefix: str, *, access_levels: Iterable[str], limit: int = 10) -> list[Suggestion]:
        seen = self._access_filter(access_levels)  # checked first: refused even for an empty prefix
        typed = suggestion_prefix(prefix)
        if typed is None:
            return []
        keys, open_end = typed
        parts = [(tantivy.Occur.Must, seen)]
        for i, (_, folded) in enumerate(keys):
            if i == len(keys) - 1 and open_end:
                q = tantivy.Query.regex_query(self._schema, "suggest_folded", re.escape(folded) + ".*")
            else:
                q = tantivy.Query.term_query(self._schema, "suggest_folded", folded)
            parts.append((tantivy.Occur.Must, q))
        searcher = self._searcher()
        found = searcher.search(tantivy.Query.boolean_query(parts), 200)
        phrases: list[str] = []
        for _, addr in found.hits:
            phrases.extend(searcher.doc(addr).to_dict().get("suggest", []))
        return rank_suggestions(typed, phrases, max(1, min(limit, 50)))

    def count(self, kind: str | None = None) -> int:
        searcher = self._searcher()
        if kind is None:
            return searcher.num_docs
        if kind not in KINDS:
            raise QueryError(f"Unknown kind {kind!r}")
        return searcher.search(tantivy.Query.term_query(self._schema, "kind", kind), 1, count=True).count

    def health(self) -> Health:
        try:
            return Health(ok=True, engine=self.engine, version=tantivy.__version__, documents=self.count(),
                          detail=str(self.path))
        except Exception as e:  # health never raises
            return Health(ok=False, engine=self.engine, detail=f"{type(e).__name__}: {e}")

    def close(self) -> None:
        self._index = None
        self._closed = True


def _sliced_plan(plan: Q, buckets: int) -> Q:
    """``plan`` kept to the documents of sample buckets ``0 … buckets - 1``, in every clause (scores
    unchanged)."""
    piece = RangeQ("sample", 0, buckets - 1)
    if isinstance(plan, BoolQ):
        return BoolQ(must=plan.must, should=tuple(BoolQ(must=(c,), filter=(piece,)) for c in plan.should),
                     must_not=plan.must_not, filter=plan.filter + (piece,))
    return BoolQ(must=(plan,), filter=(piece,))


def _facet_key(key: Any) -> str | int:
    if isinstance(key, float) and key.is_integer():
        return int(key)
    return key

