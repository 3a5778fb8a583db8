"""One logical query plan, compiled by each engine into its own query objects.

The plan is built from the parsed user query and the request's filters, so both
engines search the same fields with the same boosts:

- every word is looked up in the exact field (boosted ``EXACT_BOOST`` times) and
  in the folded field, so ``Văn Miếu`` finds ``Van Mieu`` and exact-diacritic
  matches rank first; both fields and the query words are in the canonical
  spelling (``search.vietnamese.canonical_text``), so ``hòa`` finds ``hoà`` in
  the exact tier and ``Việt Nam`` finds ``Việt-Nam``;
- the text, the heading of items and monuments (``HEADING_WEIGHT``) and their
  other metadata (creators, subjects, collections: ``META_WEIGHT``) are searched;
- several words typed without quotes also score by closeness (a sloppy phrase);
- fuzzy words add low-weight edit-distance-1 matches (folded, words of at
  least ``MIN_FUZZY_CHARS`` letters) and OCR shape-confusion variants;
- which documents a plain (or prefix) word matches is decided by one clause on
  ``ANY_FOLDED``, the folded words of all the searched fields together, and the
  clauses on each field only score: a union of eight postings lists cannot skip,
  one list can (at 409,000 pages two common words counted 5.5 times faster). The
  matches and the scores are the same as an OR of the eight clauses.

Field names are logical: ``text`` and ``text.folded`` etc.; an engine maps them
to its own names.
"""

from __future__ import annotations

from dataclasses import dataclass

from search.query import Item, ParsedQuery, Phrase, Term

EXACT_BOOST = 3.0
HEADING_WEIGHT = 2.0
META_WEIGHT = 1.0
TEXT_WEIGHT = 1.0
FUZZY_WEIGHT = 0.3
OCR_VARIANT_WEIGHT = 0.5
PROXIMITY_SLOP = 3
PROXIMITY_WEIGHT = 1.0

READING_WEIGHT = 0.8  # a Hán character found by its reading ranks below the same word written out
SEARCHED = (("text", TEXT_WEIGHT), ("heading", HEADING_WEIGHT), ("meta", META_WEIGHT), ("reading", READING_WEIGHT))
#: The folded words of every field in ``SEARCHED``, in one field (no positions, no scores): what a plain or
#: prefix word matches; an engine without such a field reads it as any of the ``<name>.folded`` fields.
ANY_FOLDED = "any.folded"
ANY_OF = tuple(f"{name}.folded" for name, _ in SEARCHED)


@dataclass(frozen=True)
class TermQ:
    field: str
    value: str | int
    boost: float = 1.0


@dataclass(frozen=True)
class PhraseQ:
    field: str
    values: tuple[str, ...]
    slop: int = 0
    boost: float = 1.0


@dataclass(frozen=True)
class FuzzyQ:
    field: str
    value: str
    distance: int = 1
    boost: float = 1.0


@dataclass(frozen=True)
class PrefixQ:
    field: str
    value: str
    boost: float = 1.0


@dataclass(frozen=True)
class TermsQ:
    """Exact values of a keyword or integer field (filters): any of them."""

    field: str
    values: tuple[str | int, ...]


@dataclass(frozen=True)
class RangeQ:
    field: str
    gte: int | None = None
    lte: int | None = None


@dataclass(frozen=True)
class AllQ:
    pass


@dataclass(frozen=True)
class BoolQ:
    must: tuple["Q", ...] = ()
    should: tuple["Q", ...] = ()
    must_not: tuple["Q", ...] = ()
    filter: tuple["Q", ...] = ()


Q = TermQ | PhraseQ | FuzzyQ | PrefixQ | TermsQ | RangeQ | AllQ | BoolQ


def _term_clauses(term: Term, fields=SEARCHED) -> list[Q]:
    out: list[Q] = []
    for name, weight in fields:
        if term.prefix:
            out.append(PrefixQ(f"{name}.folded", term.folded, weight))
            continue
        out.append(TermQ(name, term.exact, weight * EXACT_BOOST))
        out.append(TermQ(f"{name}.folded", term.folded, weight))
    if term.fuzzy:
        for name, weight in fields[:2]:
            if term.edit_fuzzy:
                out.append(FuzzyQ(f"{name}.folded", term.folded, 1, weight * FUZZY_WEIGHT))
            for variant in term.ocr_variants():
                out.append(TermQ(f"{name}.folded", variant, weight * OCR_VARIANT_WEIGHT))
    return out


def _phrase_clauses(phrase: Phrase, fields=SEARCHED) -> list[Q]:
    out: list[Q] = []
    for name, weight in fields:
        out.append(PhraseQ(name, tuple(t.exact for t in phrase.terms), 0, weight * EXACT_BOOST))
        out.append(PhraseQ(f"{name}.folded", tuple(t.folded for t in phrase.terms), 0, weight))
    return out


def item_query(item: Item) -> Q:
    if isinstance(item, Phrase):
        return BoolQ(should=tuple(_phrase_clauses(item)))
    clauses = tuple(_term_clauses(item))
    if item.fuzzy:  # its variants match too: no one clause says which documents match
        return BoolQ(should=clauses)
    matches = PrefixQ(ANY_FOLDED, item.folded) if item.prefix else TermQ(ANY_FOLDED, item.folded)
    return BoolQ(should=clauses, filter=(matches,))


def text_query(parsed: ParsedQuery) -> Q | None:
    """The scoring part of the plan, or None for an empty query (browse)."""
    if parsed.is_empty:
        return None
    must: list[Q] = []
    for group in parsed.required:
        if len(group) == 1:
            must.append(item_query(group[0]))
        else:
            must.append(BoolQ(should=tuple(item_query(i) for i in group)))
    must_not = tuple(item_query(i) for i in parsed.excluded)
    should: list[Q] = []
    plain = [g[0] for g in parsed.required if len(g) == 1 and isinstance(g[0], Term) and not g[0].prefix]
    if len(plain) >= 2:
        should.append(PhraseQ("text.folded", tuple(t.folded for t in plain), PROXIMITY_SLOP, PROXIMITY_WEIGHT))
        should.append(PhraseQ("text", tuple(t.exact for t in plain), PROXIMITY_SLOP, PROXIMITY_WEIGHT))
    if not must:
        must.append(AllQ())
    return BoolQ(must=tuple(must), should=tuple(should), must_not=must_not)


def matching_only(plan: Q) -> Q:
    """``plan`` without the clauses that only score (a phrase's boost, a word's per-field clauses under its
    ``ANY_FOLDED`` clause): the same documents match, and counting and faceting them reads one postings list
    a word and no positions."""
    if not isinstance(plan, BoolQ):
        return plan
    required = plan.must or plan.filter
    return BoolQ(must=tuple(matching_only(c) for c in plan.must),
                 should=() if required else tuple(matching_only(c) for c in plan.should),
                 must_not=tuple(matching_only(c) for c in plan.must_not),
                 filter=tuple(matching_only(c) for c in plan.filter))


def with_filters(query: Q | None, filters: list[Q]) -> Q:
    if query is None:
        query = AllQ()
    if not filters:
        return query
    if isinstance(query, BoolQ) and not query.filter:
        return BoolQ(must=query.must, should=query.should, must_not=query.must_not, filter=tuple(filters))
    return BoolQ(must=(query,), filter=tuple(filters))


def overlaps_years(year_from: int | None, year_to: int | None) -> list[Q]:
    """Documents whose [year_start, year_end] overlaps [year_from, year_to] (approximate dates included)."""
    out: list[Q] = []
    if year_to is not None:
        out.append(RangeQ("year_start", lte=year_to))
    if year_from is not None:
        out.append(RangeQ("year_end", gte=year_from))
    return out
