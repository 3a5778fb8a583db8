"""User queries parsed by us into a small, safe syntax tree, never handed raw to an engine.

The syntax an archivist may type::

    Văn Miếu                words: all must match (with or without diacritics)
    "Quốc Tử Giám"          a phrase (straight or curly quotes)
    Lê OR Lý   Lê | Lý      either word (OR binds the items on each side)
    -Pháp   NOT Pháp        exclude a word or a phrase
    Thăng*                  words starting with "Thăng" (at least 2 letters before *)
    Giám~                   tolerate one OCR error in this word (or fuzzy=True for all)

Anything else is searched as words: brackets and field names are not
syntax, punctuation separates words, a word joined by punctuation
(``Quốc-Tử``, ``1936-01-15``) is a phrase. Nothing a user types raises an
engine error: bad or dangling operators, unbalanced quotes, leading wildcards,
control characters and over-long queries are repaired, each with a ``Notice``
saying what was done; only a query with nothing left to search for raises
``QueryError``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from search.errors import QueryError
from search.vietnamese import MAX_WORD_CHARS, canonical_text, fold, nfc, strip_controls, words

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
MIN_PREFIX_CHARS = 2
#: Words whose folded form is shorter than this are never matched by edit distance:
#: Vietnamese syllables are short and most are one edit away from another real syllable.
MIN_FUZZY_CHARS = 5
#: Shapes OCR confuses (folded, lower case): "Giám" read as "Giárn", "công" as "eông".
#: Each gives a variant a fuzzy word also matches, even when it is too short for edit distance:
#: the variants are rarely real syllables, so they do not flood results.
OCR_CONFUSIONS = (("rn", "m"), ("cl", "d"), ("li", "h"), ("vv", "w"), ("ii", "u"), ("nn", "m"),
                  ("c", "e"), ("l", "1"), ("o", "0"), ("i", "l"))
MAX_OCR_VARIANTS = 8

_LONG_RUN = re.compile(r"[^\W_]{%d,}" % (MAX_WORD_CHARS + 1))
_QUOTES = "\"“”„«»"
_OPERATORS = {"OR": "OR", "|": "OR", "||": "OR", "AND": "AND", "&": "AND", "&&": "AND", "+": "AND",
              "NOT": "NOT", "!": "NOT", "-": "NOT"}


@dataclass(frozen=True)
class Notice:
    """Something the search did to the request that the user should know. ``code`` is stable, for translation."""

    code: str
    message: str


@dataclass(frozen=True)
class Term:
    """One word: as typed (NFC), its exact key (canonical spelling, lower case) and folded key
    (no marks, lower case): ``Hoà`` → ``hòa``, ``hoa``; ``quí`` → ``quý``, ``quy``."""

    text: str
    exact: str
    folded: str
    fuzzy: bool = False
    prefix: bool = False

    def ocr_variants(self) -> tuple[str, ...]:
        """Folded forms one OCR shape-confusion away (``giam`` ↔ ``giarn``), for fuzzy matching."""
        out: list[str] = []
        w = self.folded
        for a, b in OCR_CONFUSIONS:
            for x, y in ((a, b), (b, a)):
                start = w.find(x)
                while start != -1:
                    v = w[:start] + y + w[start + len(x):]
                    if v != w and v not in out:
                        out.append(v)
                    start = w.find(x, start + 1)
        return tuple(out[:MAX_OCR_VARIANTS])

    @property
    def edit_fuzzy(self) -> bool:
        """Whether this term may match at edit distance 1 (fuzzy and long enough)."""
        return self.fuzzy and len(self.folded) >= MIN_FUZZY_CHARS


@dataclass(frozen=True)
class Phrase:
    """Words that must appear together in this order."""

    text: str
    terms: tuple[Term, ...]


Item = Term | Phrase


@dataclass(frozen=True)
class ParsedQuery:
    """``required``: every group must match, a group being one item or items joined by OR.
    ``excluded``: no item may match."""

    required: tuple[tuple[Item, ...], ...] = ()
    excluded: tuple[Item, ...] = ()
    notices: tuple[Notice, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.required and not self.excluded

    def positive_items(self) -> list[Item]:
        return [item for group in self.required for item in group]

    def with_fuzzy(self) -> "ParsedQuery":
        """The same query with every word fuzzy (the request's ``fuzzy=True``)."""

        def fz(item: Item) -> Item:
            if isinstance(item, Term):
                return item if item.prefix else replace(item, fuzzy=True)
            return item

        return replace(self, required=tuple(tuple(fz(i) for i in g) for g in self.required))


@dataclass
class _Lexeme:
    kind: str  # "word" | "phrase" | "op"
    text: str
    negated: bool = False
    fuzzy: bool = False
    prefix: bool = False


@dataclass
class _Notes:
    items: list[Notice] = field(default_factory=list)

    def add(self, code: str, message: str) -> None:
        if all(n.code != code for n in self.items):
            self.items.append(Notice(code, message))


def _lex(text: str, notes: _Notes) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        negated = False
        if ch in "-!" and i + 1 < n and text[i + 1] in _QUOTES:
            negated, i, ch = True, i + 1, text[i + 1]
        if ch in _QUOTES:
            j = i + 1
            while j < n and text[j] not in _QUOTES:
                j += 1
            if j >= n:
                notes.add("unbalanced_quote", "A quotation mark was not closed; the words after it were searched as a phrase.")
            out.append(_Lexeme("phrase", text[i + 1:j], negated=negated))
            i = j + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in _QUOTES:
            j += 1
        out.extend(_chunk(text[i:j], notes))
        i = j
    return out


def _chunk(chunk: str, notes: _Notes) -> list[_Lexeme]:
    if chunk in _OPERATORS:
        return [_Lexeme("op", _OPERATORS[chunk])]
    negated = False
    while chunk[:1] in ("-", "!", "+") and len(chunk) > 1:
        negated = negated or chunk[0] in "-!"
        chunk = chunk[1:]
    if "(" in chunk or ")" in chunk or "[" in chunk or "]" in chunk or "{" in chunk or "}" in chunk:
        notes.add("brackets", "Brackets are not search syntax; the words inside them were searched as usual.")
    fuzzy = prefix = False
    core = chunk.rstrip(")]}")
    if core.endswith("~") or (len(core) > 2 and core[-2] == "~" and core[-1].isdigit()):
        fuzzy, core = True, core[: core.rindex("~")]
    if core.endswith("*") and core.strip("*?"):
        prefix, core = True, core.rstrip("*")
    lead = core.lstrip("([{")
    if lead[:1] in ("*", "?"):
        notes.add("leading_wildcard", "A word cannot start with a wildcard (* or ?); the wildcard was ignored.")
    if "*" in core.strip("*?") or "?" in core.strip("*?"):
        notes.add("inner_wildcard", "Wildcards are only allowed at the end of a word; inner ones were read as spaces.")
    core = core.replace("*", " ").replace("?", " ")
    return [_Lexeme("word", core, negated=negated, fuzzy=fuzzy, prefix=prefix)]


def _item(lex: _Lexeme, notes: _Notes) -> Item | None:
    text = nfc(lex.text)
    found = list(words(text))
    if any(len(m.group()) > MAX_WORD_CHARS for m in _LONG_RUN.finditer(text)):
        notes.add("long_word", f"Words longer than {MAX_WORD_CHARS} letters were ignored.")
    if not found:
        return None
    if lex.kind == "word" and len(found) == 1:
        w = found[0]
        prefix = lex.prefix
        if prefix and len(w.folded) < MIN_PREFIX_CHARS:
            notes.add("short_prefix", f"Type at least {MIN_PREFIX_CHARS} letters before *; the * was ignored.")
            prefix = False
        return Term(text=text[w.start:w.end], exact=w.exact, folded=_unmarked(w.folded),
                    fuzzy=lex.fuzzy and not prefix, prefix=prefix)
    terms = tuple(Term(text=text[w.start:w.end], exact=w.exact, folded=_unmarked(w.folded)) for w in found)
    if len(terms) == 1:
        return terms[0]
    if lex.kind == "word" and (lex.fuzzy or lex.prefix):
        notes.add("phrase_operator", "~ and * apply to single words; they were ignored on a joined word.")
    return Phrase(text=" ".join(t.text for t in terms), terms=terms)


def _unmarked(folded: str) -> str:
    """A folded query word without the combining marks NFC could not compose (``d̀inh`` → ``dinh``)."""
    return "".join(c for c in folded if not unicodedata.combining(c)) or folded


def _count_terms(item: Item) -> int:
    return 1 if isinstance(item, Term) else len(item.terms)


def parse_query(text: str | None, *, fuzzy: bool = False) -> ParsedQuery:
    """Parse what a user typed. Raises ``QueryError`` only when nothing searchable is left in a non-empty query."""
    if text is None:
        return ParsedQuery()
    if not isinstance(text, str):
        raise QueryError("The query must be text.")
    notes = _Notes()
    typed_something = bool(text.strip())
    text, had_controls = strip_controls(nfc(text))
    if had_controls:
        notes.add("control_characters", "Invisible control characters in the query were ignored.")
    if len(text) > MAX_QUERY_CHARS:
        cut = text.rfind(" ", 0, MAX_QUERY_CHARS)
        text = text[: cut if cut > MAX_QUERY_CHARS // 2 else MAX_QUERY_CHARS]
        notes.add("truncated", f"The query was longer than {MAX_QUERY_CHARS} characters; only its beginning was searched.")
    if not text.strip() and not typed_something:
        return ParsedQuery(notices=tuple(notes.items))

    required: list[list[Item]] = []
    excluded: list[Item] = []
    last = "start"  # "start" | "pos" | "neg" | "op"
    pending_not = pending_or = False
    terms = 0
    dangling = False
    for lex in _lex(text, notes):
        if lex.kind == "op":
            if lex.text == "NOT":
                if pending_not:
                    dangling = True
                pending_not = True
            elif lex.text == "OR":
                if last != "pos" or pending_or or pending_not:
                    dangling = True
                else:
                    pending_or = True
            else:  # AND is the default between words
                if last == "start" or pending_or or pending_not:
                    dangling = True
                pending_or = False
            last = "op" if last != "start" or lex.text == "NOT" else "start"
            continue
        item = _item(lex, notes)
        if item is None:
            continue
        if terms + _count_terms(item) > MAX_TERMS:
            notes.add("too_many_terms", f"Only the first {MAX_TERMS} words of the query were searched.")
            break
        terms += _count_terms(item)
        if lex.negated or pending_not:
            if pending_or:
                dangling = True
            excluded.append(item)
            last = "neg"
        elif pending_or and required:
            required[-1].append(item)
            last = "pos"
        else:
            required.append([item])
            last = "pos"
        pending_not = pending_or = False
    if pending_or or pending_not:
        dangling = True
    if dangling:
        notes.add("lone_operator", "An operator (AND, OR, NOT, -) had no word on one side; it was ignored.")
    parsed = ParsedQuery(required=tuple(tuple(g) for g in required), excluded=tuple(excluded),
                         notices=tuple(notes.items))
    if parsed.is_empty:
        why = " ".join(n.message for n in notes.items)
        raise QueryError("There is nothing to search for in this query: type at least one word "
                         "(AND, OR, NOT and - need words beside them)." + (f" {why}" if why else ""))
    if fuzzy:
        parsed = parsed.with_fuzzy()
    return parsed


def folded_text(text: str) -> str:
    """Folded, lower-cased form of a short user text in the canonical spelling (for comparisons, not offsets)."""
    return fold(canonical_text(nfc(text))).lower()
