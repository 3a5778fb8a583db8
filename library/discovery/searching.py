"""Search as archivists use it: the engine finds pages and items; the catalogue
turns each highlighted span back into the boxes of the words it covers.

No engine returns word coordinates. The engine answers with character
offsets into a page's text (the same NFC text the catalogue stores); the
words of the page carry their own offsets and boxes, so a span's boxes are
those of the words it overlaps, merged per line.
"""

from __future__ import annotations

import dataclasses

from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from library.access import Access, Actor
from library.errors import InputRejected, NotFound, SearchOffline
from library.catalogue.models import Item, Page
from library.catalogue.page_layout import LayoutWord, words_under


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def xywh(self) -> str:
        return f"{self.x},{self.y},{self.w},{self.h}"


@dataclass
class HitSpan:
    """One highlighted span of a page: its offsets, its text, and the boxes of its words (one per line)."""

    start: int
    end: int
    text: str
    boxes: list[Box]


@dataclass
class WithinItem:
    """A search inside one item for a reader: ``pages`` ``[(sequence, matches)]`` in page order (``total``
    pages match; at most ``search.engine.MAX_WITHIN_HITS`` listed), ``spans`` the matches of the page asked
    for, with their boxes."""

    query: str
    pages: list[tuple[int, int]]
    total: int
    spans: list[HitSpan]
    notice_codes: list[str] = dataclasses.field(default_factory=list)


@dataclass
class PageHit:
    page_id: int
    item_id: int
    sequence: int
    item_title: str
    score: float | None
    snippets: list  # search.Snippet: text, start, highlights (offsets into the snippet), cut_before/after
    spans: list[HitSpan]
    width: int | None = None
    height: int | None = None

    def as_dict(self) -> dict:
        return {
            "kind": "page", "page_id": self.page_id, "item_id": self.item_id, "page": self.sequence,
            "title": self.item_title, "score": self.score, "width": self.width, "height": self.height,
            "snippets": [{"text": sn.text, "highlights": [list(h) for h in sn.highlights],
                          "cut_before": sn.cut_before, "cut_after": sn.cut_after} for sn in self.snippets],
            "spans": [{"start": sp.start, "end": sp.end, "text": sp.text,
                       "boxes": [[b.x, b.y, b.w, b.h] for b in sp.boxes]} for sp in self.spans],
        }


@dataclass
class ItemHit:
    item_id: int
    title: str
    score: float | None
    snippets: list

    def as_dict(self) -> dict:
        return {"kind": "item", "item_id": self.item_id, "title": self.title, "score": self.score,
                "snippets": [{"text": sn.text, "highlights": [list(h) for h in sn.highlights]} for sn in self.snippets]}


def marked(snippet, before: str = "[", after: str = "]") -> str:
    """A snippet's text with its highlights marked, and ellipses where it was cut."""
    text, out, pos = snippet.text, [], 0
    for start, end in sorted(snippet.highlights):
        out += [text[pos:start], before, text[start:end], after]
        pos = end
    out.append(text[pos:])
    return ("…" if snippet.cut_before else "") + "".join(out) + ("…" if snippet.cut_after else "")


@dataclass
class SearchPage:
    query: str
    total: int
    page: int
    per_page: int
    hits: list[PageHit | ItemHit]
    facets: dict[str, list[tuple[str | int, int]]]
    notices: list[str]
    next_cursor: str | None
    took_ms: float
    spans_total: int = 0
    spans_boxed: int = 0
    notice_codes: list[str] = dataclasses.field(default_factory=list)  # ``notices``' stable codes, for translation
    #: None: every match counted. A fraction: a very broad search answered from that random share of the
    #: index (``total`` and facet counts estimated; ``reachable`` hits to page through).
    sample: float | None = None
    reachable: int | None = None

    @property
    def total_is_estimate(self) -> bool:
        return self.sample is not None

    @property
    def last_reachable(self) -> int:
        """How many hits paging can reach (all of them, or those of the sample)."""
        return self.total if self.reachable is None else self.reachable

    def as_dict(self) -> dict:
        return {
            "query": self.query, "total": self.total, "page": self.page, "per_page": self.per_page,
            "total_is_estimate": self.total_is_estimate, "sample": self.sample,
            "notices": self.notices, "next_cursor": self.next_cursor, "took_ms": round(self.took_ms, 1),
            "facets": {k: [{"value": v, "count": c} for v, c in vals] for k, vals in self.facets.items()},
            "hits": [h.as_dict() for h in self.hits],
        }


def merge_line_boxes(words: list[LayoutWord]) -> list[Box]:
    """The union box of consecutive words on the same line (a multi-syllable match is one box per line)."""
    boxes: list[Box] = []
    current_line = None
    x0 = y0 = x1 = y1 = 0
    for w in words:
        line = (w.block, w.paragraph, w.line)
        if line != current_line:
            if current_line is not None:
                boxes.append(Box(x0, y0, x1 - x0, y1 - y0))
            current_line = line
            x0, y0, x1, y1 = w.x, w.y, w.x + w.w, w.y + w.h
        else:
            x0, y0 = min(x0, w.x), min(y0, w.y)
            x1, y1 = max(x1, w.x + w.w), max(y1, w.y + w.h)
    if current_line is not None:
        boxes.append(Box(x0, y0, x1 - x0, y1 - y0))
    return boxes


@contextmanager
def engine_errors(source: str = "query"):
    """Translate the search adapter's errors into the platform's, once for every use case here."""
    from search import QueryError, SearchUnavailable

    try:
        yield
    except QueryError as exc:
        raise InputRejected(source, str(exc)) from None
    except SearchUnavailable as exc:
        raise SearchOffline(f"search is unavailable right now ({exc}); try again shortly") from None


class SearchService:
    """Every method takes the ``actor`` who asks (required: a web request's ``current_actor()``, or
    ``Actor.system(...)``); the engine keeps only what that actor may see (``platform.access.levels``)
    in results, counts, facets, snippets and suggestions."""

    def __init__(self, sessions: sessionmaker[Session], indexer, *, access: Access):
        self.sessions = sessions
        self.indexer = indexer
        self.access = access

    def levels(self, actor: Actor) -> tuple[str, ...]:
        """The access levels ``actor`` may see, as the search engine names them."""
        if not isinstance(actor, Actor):
            raise TypeError(f"search needs the Actor who asks, not {actor!r}")
        return tuple(sorted(level.value for level in self.access.levels(actor)))

    def search(self, query: str, *, actor: Actor, filters: dict | None = None, year_from: int | None = None,
               year_to: int | None = None, sort: str = "relevance", page: int = 1, per_page: int = 20,
               cursor: str | None = None, fuzzy: bool = False, kinds: tuple[str, ...] = ("page",),
               exhaustive: bool = False) -> SearchPage:
        from search import SearchRequest

        levels = self.levels(actor)
        with engine_errors():
            result = self.indexer.engine.search(SearchRequest(
                query=query, filters=filters or {}, year_from=year_from, year_to=year_to, sort=sort,
                page=page, per_page=per_page, cursor=cursor, fuzzy=fuzzy, kinds=list(kinds),
                exhaustive=exhaustive, access_levels=levels))
        return self._answer(query, result)

    def suggest(self, prefix: str, *, actor: Actor, limit: int = 10) -> list[tuple[str, int]]:
        """Titles, creators, subjects, collections and monument names matching what the user typed so far,
        from what ``actor`` may see only."""
        levels = self.levels(actor)
        with engine_errors("q"):
            return [(s.text, s.count) for s in self.indexer.engine.suggest(prefix, access_levels=levels, limit=limit)]

    def search_within(self, item_id: int, query: str, *, actor: Actor, fuzzy: bool = False) -> SearchPage:
        """The pages of one item that match, in page order, each span with its boxes (IIIF Content Search);
        no pages when ``actor`` may not see the item."""
        return self._answer(query, self._within(item_id, query, actor=actor, fuzzy=fuzzy))

    def _within(self, item_id: int, query: str, *, actor: Actor, fuzzy: bool):
        """The engine's answer to a search inside item ``item_id`` (NotFound when there is no such item)."""
        levels = self.levels(actor)
        with self.sessions() as s:
            if s.get(Item, item_id) is None:
                raise NotFound(f"no item {item_id}")
        with engine_errors():
            return self.indexer.engine.search_within(item_id, query, fuzzy=fuzzy, access_levels=levels)

    def within_item(self, item_id: int, query: str, *, actor: Actor, sequence: int | None = None,
                    fuzzy: bool = False) -> "WithinItem":
        """The pages of one item that match (sequence and number of matches, in page order) and, for page
        ``sequence``, its matches with their boxes: what a reader of the item needs, without the boxes of
        every other page (a common word on a 1,000-page book). Nothing when ``actor`` may not see it."""
        from search import PAGE

        result = self._within(item_id, query, actor=actor, fuzzy=fuzzy)
        hits = [h for h in result.hits if h.kind == PAGE and h.page_number]
        spans: list[HitSpan] = []
        here = next((h for h in hits if h.page_number == sequence), None) if sequence else None
        if here is not None and here.highlights:
            page_id = int(here.id.split(":", 1)[1])
            with self.sessions() as s:
                page = s.execute(select(Page.id, Page.text, Page.layout).where(Page.id == page_id)).first()
            if page is not None:
                wanted = [(a, b) for a, b in here.highlights]
                spans = _spans(page.text or "", wanted, self._words_covering({page.id: wanted}, pages={
                    page.id: page}).get(page.id))
        return WithinItem(query=query, pages=[(int(h.page_number), len(h.highlights)) for h in hits],
                          total=result.total, spans=spans,
                          notice_codes=[n.code for n in result.notices])

    def _answer(self, query: str, result) -> SearchPage:
        from search import PAGE

        page_ids = [int(h.id.split(":", 1)[1]) for h in result.hits if h.kind == PAGE]
        with self.sessions() as s:
            rows = {p.id: p for p in s.execute(  # the columns a hit shows, not whole Page objects
                select(Page.id, Page.item_id, Page.sequence, Page.width, Page.height, Page.text, Page.layout)
                .where(Page.id.in_(page_ids)))} if page_ids else {}
            titles = dict(s.execute(select(Item.id, Item.title).where(
                Item.id.in_({p.item_id for p in rows.values()}))).all()) if rows else {}
        out = SearchPage(query=query, total=result.total, page=result.page, per_page=result.per_page, hits=[],
                         facets={k: [(f.value, f.count) for f in v] for k, v in result.facets.items()},
                         notices=[n.message for n in result.notices], notice_codes=[n.code for n in result.notices],
                         next_cursor=result.next_cursor,
                         took_ms=result.took_ms, sample=result.sample, reachable=result.reachable)
        wanted = {int(h.id.split(":", 1)[1]): [(sp[0], sp[1]) for sp in h.highlights]
                  for h in result.hits if h.kind == PAGE}
        covered = self._words_covering({pid: spans for pid, spans in wanted.items() if pid in rows and spans},
                                       pages=rows)
        for h in result.hits:
            snippets = list(h.snippets)
            if h.kind != PAGE:
                out.hits.append(ItemHit(int(h.item_id) if h.item_id else 0, h.title, h.score, snippets))
                continue
            page = rows.get(int(h.id.split(":", 1)[1]))
            if page is None:  # indexed but since removed from the catalogue
                continue
            spans = _spans(page.text or "", wanted[page.id], covered.get(page.id))
            out.spans_total += len(spans)
            out.spans_boxed += sum(1 for sp in spans if sp.boxes)
            out.hits.append(PageHit(page.id, page.item_id, page.sequence, titles.get(page.item_id, ""), h.score,
                                    snippets, spans, page.width, page.height))
        return out

    def spans_with_boxes(self, page: Page, spans: list[tuple[int, int]]) -> list[HitSpan]:
        return _spans(page.text or "", spans, self._words_covering({page.id: spans}).get(page.id))

    def _words_covering(self, spans_by_page: dict[int, list[tuple[int, int]]],
                        pages: dict | None = None) -> dict[int, list[list[LayoutWord]]]:
        """For every page, the words under each of its spans (sorted, as given), from the pages' stored
        layouts: those of ``pages`` (rows already loaded, their text already unpacked) or read in one query."""
        if not spans_by_page:
            return {}
        if pages is not None:
            rows = [(pid, pages[pid].text, pages[pid].layout) for pid in spans_by_page]
        else:
            with self.sessions() as s:
                rows = s.execute(select(Page.id, Page.text, Page.layout)
                                 .where(Page.id.in_(list(spans_by_page)))).all()
        return {pid: words_under(blob, text, sorted(spans_by_page[pid])) for pid, text, blob in rows}

def _spans(text: str, spans: list[tuple[int, int]], covered: list[list[LayoutWord]] | None) -> list[HitSpan]:
    """Each span with the boxes of the words under it (``covered``: :func:`words_under` of the sorted spans)."""
    spans = sorted(spans)
    covered = covered or [[] for _ in spans]
    return [HitSpan(start, end, text[start:end], merge_line_boxes(words)) for (start, end), words in zip(spans, covered)]
