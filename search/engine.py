"""The search interface every engine implements, and the request and result it speaks.

A caller builds a ``SearchRequest`` (what the user typed, filters, paging),
hands it to ``SearchEngine.search`` and gets a ``SearchResult``: ids, scores,
highlight offsets, snippets, facet counts, a cursor for the next page, and
notices saying what was repaired in the request. Engines differ only in
``_execute`` and friends; request checking, query parsing, planning,
snippets and notices are shared here so both behave the same.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from search.documents import ACCESS_LEVELS, FACETS, KINDS, NUMERIC_FACETS, PAGE, Document
from search.errors import QueryError
from search.highlight import Snippet, Span
from search.plan import Q, TermsQ, overlaps_years, text_query, with_filters
from search.query import Notice, ParsedQuery, parse_query
from search.vietnamese import canonical_syllable, canonical_text, nfc, words

DEFAULT_FACETS = ("collection", "type", "language", "decade", "year", "creator")
SORTS = ("relevance", "date", "-date", "page")
MAX_PER_PAGE = 100
MAX_WITHIN_HITS = 2000
#: Hits reachable by page number; past it, page forward with ``next_cursor``.
MAX_OFFSET = 100_000
MAX_FACET_SIZE = 200
MAX_FILTER_VALUES = 50

Progress = Callable[[int], None]


@dataclass(frozen=True)
class SearchRequest:
    """What to search for.

    ``filters`` maps a facet name (``collection``, ``type``, ``language``,
    ``decade``, ``year``, ``creator``, ``subject``, ``kind``, ``period``) to the
    values to keep (any of them). ``year_from``/``year_to`` keep documents
    whose date range overlaps them. ``sort``: ``relevance``, ``date`` (oldest
    first), ``-date`` (newest first) or ``page`` (item, then page order).
    ``cursor`` (a previous result's ``next_cursor``) continues after that
    page and overrides ``page``.

    ``access_levels`` (required, keyword only): the levels the asker may see
    (``ACCESS_LEVELS``: ``public``, ``reading-room``, ``staff``). Every engine
    keeps only documents of these levels, in hits, totals, facets, snippets and
    notices; a request without them is refused (``ValueError``), never taken
    as public or as everything.
    """

    query: str | None = ""
    filters: Mapping[str, Sequence[str | int] | str | int] = field(default_factory=dict)
    kinds: Sequence[str] | None = None
    item_id: str | int | None = None
    year_from: int | None = None
    year_to: int | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    cursor: str | None = None
    facets: Sequence[str] = DEFAULT_FACETS
    facet_size: int = 20
    fuzzy: bool = False
    highlight: bool = True
    snippets: int = 3
    #: Count, facet and rank every match even when there are very many (an engine may otherwise answer a
    #: very broad query from a random sample of the index: ``SearchResult.sample``).
    exhaustive: bool = False
    access_levels: tuple[str, ...] = field(kw_only=True)


@dataclass(frozen=True)
class FacetCount:
    value: str | int
    count: int


@dataclass
class Hit:
    """One matching document. ``highlights`` are (start, end) character offsets into the
    document's text (a page's text as indexed, NFC), one per matched word."""

    id: str
    kind: str
    score: float | None
    item_id: str | None = None
    page_number: int | None = None
    title: str = ""
    date: str | None = None
    year_start: int | None = None
    year_end: int | None = None
    highlights: list[Span] = field(default_factory=list)
    snippets: list[Snippet] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetCount]]
    page: int
    per_page: int
    next_cursor: str | None
    notices: list[Notice]
    query: ParsedQuery
    took_ms: float = 0.0
    #: None: every match was counted, faceted and ranked. A fraction: a very broad query was answered from
    #: that random share of the index; ``total`` and facet counts are then estimates (scaled up from the
    #: sample) and the hits are the best of the sample, ``reachable`` of them (paging ends there) — unless
    #: sorted by a field (date): then the hits are every match in order, ``reachable`` None.
    sample: float | None = None
    reachable: int | None = None


@dataclass(frozen=True)
class Suggestion:
    """A phrase to offer as the user types (titles, creators, subjects, monument names)."""

    text: str
    count: int


@dataclass(frozen=True)
class Health:
    ok: bool
    engine: str
    version: str = ""
    documents: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Prepared:
    """A checked request, ready for an engine: the plan, paging and facets to compute."""

    request: SearchRequest
    parsed: ParsedQuery
    plan: Q
    filters: tuple[Q, ...]
    sort: str
    offset: int
    limit: int
    page: int
    cursor_key: Any
    facets: tuple[str, ...]
    facet_size: int
    fingerprint: str
    notices: tuple[Notice, ...]
    filter_values: tuple[tuple[str, str | int], ...]
    access_levels: tuple[str, ...]


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    if isinstance(v, (str, int)):
        return [v]
    return list(v)


def _int_or_error(name: str, v: Any) -> int | None:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        raise QueryError(f"{name} must be a whole number.")
    try:
        n = int(str(v).strip())
    except ValueError:
        raise QueryError(f"{name} must be a whole number, not {str(v)[:40]!r}.") from None
    if abs(n) >= 2 ** 63:  # the engines store 64-bit numbers: a larger one is no year, page or count
        raise QueryError(f"{name} is too large: {str(v).strip()[:25]}….")
    return n


def encode_cursor(engine: str, fingerprint: str, key: Any) -> str:
    raw = json.dumps({"e": engine, "f": fingerprint, "k": key}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(engine: str, fingerprint: str, cursor: str) -> Any:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        ok = isinstance(data, dict) and data.get("e") == engine and "k" in data
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise QueryError("This link to a next page is no longer valid; start again from the first page.")
    if data.get("f") != fingerprint:
        raise QueryError("This link to a next page belongs to another search; start again from the first page.")
    return data["k"]


def access_levels_of(levels: Any) -> tuple[str, ...]:
    """The checked levels an asker may see, in ``ACCESS_LEVELS`` order. Refuses (``ValueError``) none,
    an empty set, a bare string or an unknown level: a caller that forgot them gets an error, not results."""
    if levels is None or isinstance(levels, (str, bytes)) or not isinstance(levels, Iterable):
        raise ValueError("a search needs the access levels its asker may see "
                         f"(a tuple of {', '.join(ACCESS_LEVELS)}), not {levels!r}")
    given = {getattr(v, "value", v) for v in levels}
    unknown = [v for v in given if v not in ACCESS_LEVELS]
    if unknown or not given:
        raise ValueError(f"access levels must be some of {', '.join(ACCESS_LEVELS)}, not {sorted(map(repr, given))}")
    return tuple(level for level in ACCESS_LEVELS if level in given)


def prepare(request: SearchRequest, *, engine: str, max_per_page: int = MAX_PER_PAGE) -> Prepared:
    """Check a request, parse its query and plan it. Raises ``QueryError`` with a user-facing message."""
    if not isinstance(request, SearchRequest):
        raise TypeError("search() takes a SearchRequest")
    levels = access_levels_of(request.access_levels)
    notices: list[Notice] = []
    parsed = parse_query(request.query, fuzzy=bool(request.fuzzy))
    notices.extend(parsed.notices)

    filters: list[Q] = []
    filter_values: list[tuple[str, str | int]] = []
    if not isinstance(request.filters, Mapping):
        raise QueryError("Filters must map a facet name to values.")
    for name, values in sorted(request.filters.items()):
        if name not in FACETS:
            raise QueryError(f"Unknown filter {str(name)[:40]!r}; use one of: {', '.join(sorted(FACETS))}.")
        vals = _as_list(values)
        if len(vals) > MAX_FILTER_VALUES:
            raise QueryError(f"Too many values for the {name} filter (at most {MAX_FILTER_VALUES}).")
        clean: list[str | int] = []
        for v in vals:
            if name in NUMERIC_FACETS:
                iv = _int_or_error(name, v)
                if iv is not None:
                    clean.append(iv)
            else:
                sv = nfc(str(v)).strip()
                if sv:
                    clean.append(sv)
        if clean:
            filters.append(TermsQ(FACETS[name], tuple(clean)))
            filter_values.extend((name, v) for v in clean)
    kinds = _as_list(request.kinds)
    for k in kinds:
        if k not in KINDS:
            raise QueryError(f"Unknown kind {str(k)[:40]!r}; use one of: {', '.join(KINDS)}.")
    if kinds:
        filters.append(TermsQ("kind", tuple(dict.fromkeys(kinds))))
    if request.item_id is not None and str(request.item_id).strip():
        filters.append(TermsQ("item_id", (str(request.item_id).strip(),)))
    y_from = _int_or_error("The first year", request.year_from)
    y_to = _int_or_error("The last year", request.year_to)
    if y_from is not None and y_to is not None and y_from > y_to:
        y_from, y_to = y_to, y_from
        notices.append(Notice("years_swapped", "The first year was after the last; they were swapped."))
    filters.extend(overlaps_years(y_from, y_to))
    filters.append(TermsQ("access", levels))

    sort = request.sort or "relevance"
    if sort not in SORTS:
        raise QueryError(f"Unknown sort {str(sort)[:40]!r}; use one of: {', '.join(SORTS)}.")

    per_page = _int_or_error("The number of results per page", request.per_page)
    if per_page is None or per_page < 1 or per_page > max_per_page:
        per_page = 20 if per_page is None or per_page < 1 else max_per_page
        notices.append(Notice("per_page", f"Results per page must be between 1 and {max_per_page}; {per_page} were shown."))
    page = _int_or_error("The page number", request.page)
    if page is None:
        page = 1
    elif page < 1:
        notices.append(Notice("page_out_of_range", "Page numbers start at 1; the first page is shown."))
        page = 1
    offset = (page - 1) * per_page
    facets = tuple(dict.fromkeys(_as_list(request.facets)))
    for f in facets:
        if f not in FACETS:
            raise QueryError(f"Unknown facet {str(f)[:40]!r}; use one of: {', '.join(sorted(FACETS))}.")
    facet_size = max(1, min(_int_or_error("The facet size", request.facet_size) or 20, MAX_FACET_SIZE))

    fp_source = json.dumps([request.query or "", sorted(map(repr, filter_values)), kinds, str(request.item_id),
                            y_from, y_to, sort, bool(request.fuzzy), levels]
                           + (["exhaustive"] if request.exhaustive else []), ensure_ascii=False)
    fingerprint = hashlib.sha1(fp_source.encode()).hexdigest()[:16]
    cursor_key = None
    if request.cursor:
        cursor_key = decode_cursor(engine, fingerprint, str(request.cursor))
    elif offset + per_page > MAX_OFFSET:
        raise QueryError(f"Pages past the first {MAX_OFFSET:,} results cannot be opened by number; "
                         "use “next page” from an earlier page, or narrow the search.")
    plan = with_filters(text_query(parsed), filters)
    return Prepared(request=request, parsed=parsed, plan=plan, filters=tuple(filters), sort=sort, offset=offset,
                    limit=per_page, page=page, cursor_key=cursor_key, facets=facets, facet_size=facet_size,
                    fingerprint=fingerprint, notices=tuple(notices), filter_values=tuple(filter_values),
                    access_levels=levels)


def sort_facet(counts: Iterable[tuple[Any, int]], size: int) -> list[FacetCount]:
    items = [FacetCount(v, int(c)) for v, c in counts if c > 0]
    items.sort(key=lambda f: (-f.count, str(f.value)))
    return items[:size]


MAX_SUGGEST_CHARS = 100


def suggestion_prefix(prefix: str) -> tuple[list[tuple[str, str]], bool] | None:
    """The (exact, folded) keys of the words typed so far (canonical spelling), and whether
    the last word may continue. A last word that may continue keeps its exact key as typed
    (lower case): ``toà`` may be the start of ``toàn``, whose mark stays on ``a``."""
    if not isinstance(prefix, str):
        return None
    text = nfc(prefix)[:MAX_SUGGEST_CHARS]
    ws = list(words(text))
    if not ws:
        return None
    open_end = ws[-1].end == len(text)
    keys = [(w.exact, w.folded) for w in ws]
    if open_end:
        keys[-1] = (text[ws[-1].start:ws[-1].end].lower(), ws[-1].folded)
    return keys, open_end


def _prefix_exact(typed: str, key: str, written: str) -> bool:
    """Whether a word (its canonical key, and as written, lower case) continues a word typed so far."""
    return key.startswith(typed) or written.startswith(typed) or key.startswith(canonical_syllable(typed))


def rank_suggestions(typed: tuple[list[tuple[str, str]], bool], phrases: Iterable[str], limit: int) -> list[Suggestion]:
    """Phrases in which the typed words occur (the last one as a prefix), best first:
    exact diacritics before folded matches, then phrases that start with the typed words,
    then the most frequent, then the shortest. Spellings of one phrase (``Hoà Bình``,
    ``Hòa Bình``, ``Hoà-Bình``) are one suggestion, counted together and shown as most
    often written (on a tie, in the canonical spelling)."""
    keys, open_end = typed
    n = len(keys)
    counts: dict[str, list] = {}
    for phrase in phrases:
        canonical = canonical_text(phrase)
        ws = list(words(phrase))
        for i in range(len(ws) - n + 1):
            ok = exact = True
            for j, (e, f) in enumerate(keys):
                w = ws[i + j]
                last = j == n - 1 and open_end
                if (w.folded.startswith(f) if last else w.folded == f):
                    exact = exact and (_prefix_exact(e, w.exact, phrase[w.start:w.end].lower()) if last
                                       else w.exact == e)
                else:
                    ok = False
                    break
            if ok:
                entry = counts.setdefault(canonical, [0, False, i, {}])
                entry[0] += 1
                entry[1] = entry[1] or exact
                entry[2] = min(entry[2], i)
                entry[3][phrase] = entry[3].get(phrase, 0) + 1
                break

    def shown(canonical: str, spellings: dict[str, int]) -> str:
        return min(spellings, key=lambda p: (-spellings[p], p != canonical, p))

    ranked = sorted(((shown(k, c[3]), c) for k, c in counts.items()),
                    key=lambda tc: (not tc[1][1], tc[1][2] > 0, -tc[1][0], len(tc[0]), tc[0]))
    return [Suggestion(text, c[0]) for text, c in ranked[:limit]]


def make_hit(rec: dict[str, Any], score: float | None, spans, snippets) -> Hit:
    """A hit from a stored record (shared by both engines)."""
    rec = dict(rec)
    rec.pop("suggest", None)
    return Hit(
        id=rec.pop("id"), kind=rec.pop("kind", ""), score=score,
        item_id=rec.pop("item_id", None), page_number=rec.pop("page_number", None),
        title=rec.pop("title", "") or "", date=rec.pop("date", None),
        year_start=rec.pop("year_start", None), year_end=rec.pop("year_end", None),
        highlights=list(spans), snippets=list(snippets),
        fields={k: v for k, v in rec.items() if v is not None and v != []},
    )


class SearchEngine(ABC):
    """Documents in; ids, highlight offsets and facet counts out.

    Writes (``index``, ``delete``, ``delete_item``) are idempotent: indexing a
    document again replaces it. They raise ``SearchUnavailable`` when the
    engine cannot take them now (the caller keeps them and retries).
    """

    #: "tantivy", "opensearch" or "elasticsearch"
    engine: str = ""
    #: Cursors made by one engine of a family are valid for every engine of that family.
    cursor_family: str = ""

    # ------------------------------------------------------------ writing
    @abstractmethod
    def index(self, docs: Iterable[Document | Mapping[str, Any]], *, progress: Progress | None = None) -> int:
        """Add or replace documents (bulk, any number); returns how many were indexed."""

    @abstractmethod
    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id (``page:12``, ``item:3``, …); unknown ids are ignored."""

    @abstractmethod
    def delete_item(self, item_id: str | int) -> None:
        """Remove an item's document and all its pages."""

    @abstractmethod
    def rebuild(self, docs: Iterable[Document | Mapping[str, Any]], *, progress: Progress | None = None) -> int:
        """Replace the whole index by ``docs``; searches keep answering from the old index until the
        new one is complete. Changes made by others during a rebuild must be applied again after it."""

    @abstractmethod
    def refresh(self) -> None:
        """Make every write done so far (by any process) visible to searches."""

    @abstractmethod
    def clear(self) -> None:
        """Remove every document; the index stays."""

    @abstractmethod
    def drop(self) -> None:
        """Remove the index itself (files or cluster indices)."""

    # ------------------------------------------------------------ reading
    def search(self, request: SearchRequest) -> SearchResult:
        t0 = time.perf_counter()
        prep = prepare(request, engine=self.cursor_family, max_per_page=self._max_per_page(request))
        result = self._execute(prep)
        notices = list(prep.notices) + result.notices
        if result.sample is not None and result.reachable is not None:
            notices.append(Notice("sampled", "Very many documents match: the count and the filters are estimated "
                                  "from a random sample of the library, and the results are the best of that "
                                  "sample. Add a word or choose a filter to narrow the search."))
        elif result.sample is not None:  # sorted by a field: every match is in order, only counts are estimated
            notices.append(Notice("sampled_counts", "Very many documents match: the count and the filters are "
                                  "estimated from a random sample of the library."))
        reachable = result.total if result.reachable is None else result.reachable
        if prep.cursor_key is None and reachable and prep.offset >= reachable:
            last = (reachable - 1) // prep.limit + 1
            notices.append(Notice("page_out_of_range", f"Page {prep.page} is past the last page ({last})."))
        if result.total == 0 and prep.filter_values:
            for name, value in prep.filter_values:
                if not self._has_value(FACETS[name], value, prep.access_levels):
                    notices.append(Notice("unknown_value", f"No document has {name} “{value}”."))
        result.notices = notices
        result.took_ms = (time.perf_counter() - t0) * 1000
        return result

    def _max_per_page(self, request: SearchRequest) -> int:
        return MAX_WITHIN_HITS if request.item_id is not None and request.sort == "page" else MAX_PER_PAGE

    def search_within(self, item_id: str | int, query: str, *, access_levels: Iterable[str], fuzzy: bool = False,
                      limit: int = MAX_WITHIN_HITS) -> SearchResult:
        """The pages of one item that match, in page order, with highlight offsets (for IIIF Content Search);
        none when the item's level is not in ``access_levels``."""
        return self.search(SearchRequest(query=query, item_id=item_id, kinds=[PAGE], sort="page",
                                         per_page=max(1, min(limit, MAX_WITHIN_HITS)), facets=(), fuzzy=fuzzy,
                                         snippets=1, access_levels=access_levels_of(access_levels)))

    @abstractmethod
    def _execute(self, prep: Prepared) -> SearchResult:
        """Run a prepared search (hits, total, facets, highlights, snippets, next cursor)."""

    @abstractmethod
    def _has_value(self, field: str, value: str | int, access_levels: tuple[str, ...]) -> bool:
        """Whether any document of these levels has this value in a keyword or integer field."""

    @abstractmethod
    def suggest(self, prefix: str, *, access_levels: Iterable[str], limit: int = 10) -> list[Suggestion]:
        """Phrases (titles, creators, subjects, collections, monument names) matching what the user typed so far,
        taken only from documents of ``access_levels`` (required; see ``access_levels_of``)."""

    @abstractmethod
    def count(self, kind: str | None = None) -> int:
        """Documents in the index (of one kind)."""

    @abstractmethod
    def health(self) -> Health:
        """Whether the engine answers, never raising."""

    def close(self) -> None:
        """Release files and connections."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
