"""Vietnamese post-correction of one page's OCR words.

Tesseract's Vietnamese model reads clean print almost perfectly, but on a
soft or grainy scan it confuses marks: ``ế``/``ề``, ``ơ``/``ờ``, ``ă``/``â``,
``đ``/``d``, or reads one blurred vowel as two (``nẵẫm`` for *nằm*). Written
Vietnamese is a closed set of syllables (:mod:`digitize.vietnamese`), so such
words can be found, and a syllable language model picks among the readings
tesseract itself considered. The recipe, per word::

    split off punctuation → what kind of token? (number, foreign word, …: kept)
    → valid, confident and known? keep it (the fast path)
    → candidates: tesseract's own alternatives per symbol (and, for a
      low-confidence or invalid word, the letters that differ only by marks)
    → score each: syllable bigram model + how far tesseract's choice it is
    → change only when the word is no syllable, or the model prefers the
      candidate by a wide margin; never without evidence

What goes in: :class:`WordReading` (text, confidence 0-100, optionally
tesseract's alternatives per symbol as :data:`SymbolChoices`). What comes out:
:class:`CorrectedWord` (the new text or the old, whether it was flagged and
why, the original reading, the confidence unchanged). The raw reading stays
available as ``original``: the caller keeps it as the first version of the
page's history; the corrected text becomes the page text.

The language model (:class:`SyllableModel`) is built from general resources
only: prose written for this project (``digitize/lexicon/prose/``) and
Debian's hunspell-vi syllable list as a prior — never from the pages it is
measured on. See ``digitize/lexicon/README.md``.

Getting the alternatives from tesseract (tesserocr 2.13, libtesseract 5.5)::

    api = tesserocr.PyTessBaseAPI(path=TESSDATA, lang="vie")
    api.SetVariable("lstm_choice_mode", "2")     # see LSTM_CHOICE_VARIABLES
    api.SetImage(image); api.Recognize()
    words = page_words_with_choices(api)         # list[WordReading]

:func:`word_choices_from_iterator` does the per-word part for a wrapper that
walks the result iterator itself.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from digitize.vietnamese import (
    VOWELS,
    is_valid_syllable,
    mark_variants,
    place_tone,
    split_token,
    strip_tone,
    token_kind,
)

__all__ = [
    "SymbolChoices",
    "LSTM_CHOICE_VARIABLES",
    "WordReading",
    "CorrectedWord",
    "CorrectionSettings",
    "SyllableModel",
    "LEXICON_DIR",
    "load_syllable_model",
    "build_lexicon",
    "write_lexicon",
    "correct_words",
    "word_choices_from_iterator",
    "page_words_with_choices",
    "needs_alternatives",
    "rebuild_lexicon",
    "syllable_key",
]

SymbolChoices = tuple[tuple[str, float], ...]
"""Tesseract's alternatives for one symbol (one character of a word, in
reading order), best first: ``(text, cost)`` pairs, ``text`` NFC, ``cost``
tesseract's LSTM rating of that reading of the symbol — the sum over its time
steps of −log(probability), so lower is better and ``exp(cost₀ − costₖ)`` is
roughly how much less likely alternative ``k`` is than the chosen one. The
first pair is the symbol tesseract chose, the others follow by cost (one may
cost less than the first when tesseract's final decoding, helped by its
dictionary, overruled the raw network). A word's alternatives are a
``tuple[SymbolChoices, ...]``, one per symbol, whose first texts joined give
the word's text.

From tesserocr: ``ResultIterator.GetBestLSTMSymbolChoices()`` at word level
gives these lists directly (after a leading blank time step, which
:func:`word_choices_from_iterator` drops). From the symbol-level
``GetChoiceIterator()`` one gets the same alternatives as confidences
``100 − lstm_rating_coefficient × cost`` (coefficient 5 by default, clipped
at 0): ``cost = (100 − confidence) / 5`` recovers them up to cost 20."""

LSTM_CHOICE_VARIABLES: dict[str, str] = {"lstm_choice_mode": "2"}
"""Tesseract variables to set (``SetVariable``) before recognising so that
the alternatives exist. Mode 2 ("best choices per symbol") costs about a
fifth more recognition time and does not change the text read."""

LEXICON_DIR = Path(__file__).with_name("lexicon")
HUNSPELL_VI = Path("/usr/share/hunspell/vi_VN.dic")  # Debian package hunspell-vi
_SYLLABLES_FILE = "syllables.tsv"
_BIGRAMS_FILE = "bigrams.tsv"
_CONTEXT_BREAKS = frozenset(".,;:!?…()[]{}\"“”«»–—")


# ---------------------------------------------------------------- data types


@dataclass(frozen=True)
class WordReading:
    """One word as tesseract read it: ``text`` (NFC), ``confidence`` (0-100)
    and, when known, its alternatives per symbol (:data:`SymbolChoices`)."""

    text: str
    confidence: float
    choices: tuple[SymbolChoices, ...] | None = None


@dataclass(frozen=True)
class CorrectedWord:
    """The outcome for one word.

    ``text`` is the corrected reading (equal to ``original`` when nothing
    changed); ``confidence`` is tesseract's, unchanged; ``flagged`` says the
    word deserves a look (not a valid syllable, low confidence, or an
    unknown syllable); ``reason`` names why it was flagged or changed, ``""``
    when neither: ``"invalid-syllable"``, ``"low-confidence"``,
    ``"unknown-syllable"`` (flagged, unchanged) or ``"repaired-invalid"``,
    ``"lexicon-preferred"`` (changed)."""

    text: str
    original: str
    confidence: float
    flagged: bool = False
    reason: str = ""

    @property
    def changed(self) -> bool:
        return self.text != self.original


@dataclass(frozen=True)
class CorrectionSettings:
    """The knobs, tuned on the project's own held-out *dev* text (never the
    test text): costs are tesseract LSTM ratings (≈ −ln p), scores natural
    log-probabilities.

    - ``confident``: at or above this confidence a valid, known word is kept
      without looking further (100: every word is looked at; a known word
      at or above ``marks_below`` is kept at once when tesseract offered no
      letter within ``max_alternative_cost``, which is most words);
    - ``low_confidence``: below it a word is flagged;
    - ``marks_below``: below this confidence mark-only variants (ế/ể, ơ/ờ,
      đ/d, ư/u, ă/â/a ...) are tried even when tesseract did not offer them;
    - ``max_alternative_cost``: tesseract alternatives worse than the chosen
      symbol by more than this are ignored;
    - ``mark_variant_cost``: the cost given to a mark-only variant tesseract
      did not offer; ``drop_cost``: to dropping a doubled vowel (``ẵẫ``);
    - ``max_edits``, ``max_total_cost``: bounds on a candidate;
    - ``ocr_weight``: how much a cost counts against the model's score;
    - ``margin``: how much better (log) a candidate must score than a valid
      reading to replace it; ``name_margin``: the same for a capitalised word
      inside a line (likely a name); ``unknown_margin``: for a valid syllable
      that neither the prose nor hunspell-vi knows (*nủi*, *hồm*).
    """

    confident: float = 100.0
    low_confidence: float = 60.0
    marks_below: float = 90.0
    max_alternative_cost: float = 15.0
    mark_variant_cost: float = 10.0
    drop_cost: float = 6.0
    max_edits: int = 2
    max_total_cost: float = 20.0
    ocr_weight: float = 0.4
    margin: float = 5.0
    name_margin: float = 8.0
    unknown_margin: float = 0.0


DEFAULT_SETTINGS = CorrectionSettings()


# ---------------------------------------------------------------- the model


@functools.lru_cache(maxsize=65536)
def syllable_key(syllable: str) -> str:
    """The model's key for a syllable: lower case, NFC, tone mark in the older
    placement (*hoà* and *hòa* are one word)."""
    return place_tone(unicodedata.normalize("NFC", syllable).lower(), "old")


@dataclass
class SyllableModel:
    """Syllable unigram and bigram counts from the project's prose, plus the
    hunspell-vi list as a prior.

    ``unigrams``: ``{key: count}``; ``bigrams``: ``{(key, key): count}``;
    ``prior_words``: the keys listed by hunspell-vi. Keys come from
    :func:`syllable_key`. Probabilities are interpolated: a syllable's
    unigram mass is its count plus ``prior_count`` if hunspell lists it plus
    ``floor_count`` for any valid syllable; a bigram's is
    ``(c(prev, w) + k·P(w)) / (c(prev) + k)`` with ``k = bigram_strength``.
    """

    unigrams: dict[str, int]
    bigrams: dict[tuple[str, str], int]
    prior_words: frozenset[str]
    prior_count: float = 0.5
    floor_count: float = 0.02
    bigram_strength: float = 3.0
    _left_totals: dict[str, int] = field(default_factory=dict, repr=False)
    _total: float = 0.0

    def __post_init__(self) -> None:
        totals: Counter[str] = Counter()
        for (left, _right), count in self.bigrams.items():
            totals[left] += count
        self._left_totals = dict(totals)
        self._total = (
            sum(self.unigrams.values()) + self.prior_count * len(self.prior_words) + self.floor_count * 17000
        )

    def known(self, key: str) -> bool:
        """Seen in the prose or listed by hunspell-vi."""
        return key in self.unigrams or key in self.prior_words

    def unigram_logprob(self, key: str) -> float:
        mass = self.unigrams.get(key, 0) + (self.prior_count if key in self.prior_words else 0.0) + self.floor_count
        return math.log(mass / self._total)

    def logprob(self, key: str, previous: str | None = None) -> float:
        """log P(key | previous) (natural log); ``previous=None`` at a
        context break (start of line, after punctuation)."""
        unigram = math.exp(self.unigram_logprob(key))
        if previous is None:
            return math.log(unigram)
        left = self._left_totals.get(previous, 0)
        pair = self.bigrams.get((previous, key), 0)
        return math.log((pair + self.bigram_strength * unigram) / (left + self.bigram_strength))

    def sequence_logprob(self, keys: Sequence[str], previous: str | None, following: str | None) -> float:
        """log P of ``keys`` after ``previous`` and of ``following`` after them."""
        score = 0.0
        context = previous
        for key in keys:
            score += self.logprob(key, context)
            context = key
        if following is not None:
            score += self.logprob(following, context) - self.logprob(following, None)
        return score


def _read_lexicon(directory: Path) -> SyllableModel:
    unigrams: dict[str, int] = {}
    with open(directory / _SYLLABLES_FILE, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            key, count = line.rstrip("\n").split("\t")[:2]
            if int(count):
                unigrams[key] = int(count)
    prior = hunspell_syllables(HUNSPELL_VI)
    bigrams: dict[tuple[str, str], int] = {}
    with open(directory / _BIGRAMS_FILE, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            left, right, count = line.rstrip("\n").split("\t")
            bigrams[(left, right)] = int(count)
    return SyllableModel(unigrams=unigrams, bigrams=bigrams, prior_words=frozenset(prior))


def hunspell_syllables(path: Path | str) -> frozenset[str]:
    """The valid single syllables listed by a hunspell ``.dic`` word list, as
    keys; empty when the list is not installed.

    Read at run time from Debian's ``hunspell-vi`` (GPL-2) rather than copied
    into the project: the project ships only counts from its own prose."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()[1:]  # first line: the count
    except OSError:
        return frozenset()
    words = (line.split("/", 1)[0].strip() for line in lines)
    return frozenset(syllable_key(word) for word in words if word and is_valid_syllable(word))


@functools.cache
def _cached_model(directory: str) -> SyllableModel:
    return _read_lexicon(Path(directory))


def load_syllable_model(directory: Path | str | None = None) -> SyllableModel:
    """The model from ``directory`` (default :data:`LEXICON_DIR`), read once
    per process (about 15 ms) and shared."""
    return _cached_model(str(Path(directory or LEXICON_DIR).resolve()))


def _prose_syllable_runs(text: str) -> Iterable[list[str]]:
    """Runs of syllable keys between context breaks (punctuation, numbers,
    foreign words, line ends)."""
    for line in unicodedata.normalize("NFC", text).splitlines():
        run: list[str] = []
        for token in line.split():
            lead, core, trail = split_token(token)
            if lead.strip("-–") or token_kind(token) != "vietnamese":
                if run:
                    yield run
                run = []
                if token_kind(token) != "vietnamese":
                    continue
            run.extend(syllable_key(part) for part in core.split("-") if part)
            if any(c in _CONTEXT_BREAKS for c in trail):
                yield run
                run = []
        if run:
            yield run


def build_lexicon(prose_texts: Iterable[str], hunspell_words: Iterable[str]) -> SyllableModel:
    """Count syllables and syllable pairs in ``prose_texts`` and take the
    valid single syllables of ``hunspell_words`` as the prior list."""
    unigrams: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    for text in prose_texts:
        for run in _prose_syllable_runs(text):
            unigrams.update(run)
            bigrams.update(zip(run, run[1:]))
    prior = frozenset(
        syllable_key(word) for word in hunspell_words if is_valid_syllable(word)
    )
    return SyllableModel(unigrams=dict(unigrams), bigrams=dict(bigrams), prior_words=prior)


def write_lexicon(model: SyllableModel, directory: Path | str = LEXICON_DIR) -> None:
    """Write ``syllables.tsv`` and ``bigrams.tsv`` (UTF-8, tab-separated,
    ``#`` comments) into ``directory``."""
    directory = Path(directory)
    keys = sorted(model.unigrams, key=lambda k: (-model.unigrams[k], k))
    lines = [
        "# syllable\tcount in digitize/lexicon/prose; see README.md",
        *(f"{k}\t{model.unigrams[k]}" for k in keys),
    ]
    (directory / _SYLLABLES_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    pairs = sorted(model.bigrams.items(), key=lambda item: (-item[1], item[0]))
    lines = ["# syllable\tnext syllable\tcount in digitize/lexicon/prose; see README.md"]
    lines += [f"{a}\t{b}\t{n}" for (a, b), n in pairs]
    (directory / _BIGRAMS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- tesseract


def word_choices_from_iterator(iterator) -> tuple[SymbolChoices, ...] | None:
    """The alternatives of the word a tesserocr ``PyResultIterator`` stands on.

    The page must have been recognised with ``lstm_choice_mode=2``
    (:data:`LSTM_CHOICE_VARIABLES`). Reads ``GetBestLSTMSymbolChoices()``
    (one list of ``(text, rating)`` per symbol, preceded by a blank time step
    when the word follows a space), drops the blank step, puts the word's own
    symbol first and the others after it by rating, and returns one
    :data:`SymbolChoices` per symbol. Returns ``None`` when tesseract gave no
    alternatives or they cannot be lined up with the word as tesseract
    reported it (``GetUTF8Text(RIL.WORD)``): about 1 word in 100 on a blurred
    page, none on a clean one."""
    from tesserocr import RIL

    from digitize.tesseract import word_choices  # the one place that reads tesseract's choices

    steps = iterator.GetBestLSTMSymbolChoices()
    if not steps:
        return None
    return word_choices(unicodedata.normalize("NFC", iterator.GetUTF8Text(RIL.WORD) or ""), steps)


def page_words_with_choices(api) -> list[WordReading]:
    """Every word of a page a ``tesserocr.PyTessBaseAPI`` has recognised (with
    :data:`LSTM_CHOICE_VARIABLES` set), in reading order, with its
    confidence and alternatives."""
    from tesserocr import RIL, iterate_level

    words = []
    iterator = api.GetIterator()
    if iterator is None:
        return words
    for word in iterate_level(iterator, RIL.WORD):
        text = word.GetUTF8Text(RIL.WORD)
        if not text or not text.strip():
            continue
        words.append(
            WordReading(
                text=unicodedata.normalize("NFC", text),
                confidence=float(word.Confidence(RIL.WORD)),
                choices=word_choices_from_iterator(word),
            )
        )
    return words


# ---------------------------------------------------------------- correction


@dataclass(frozen=True)
class _Token:
    """A word cut into symbols: lead and trail punctuation, core symbols
    with their options ``(text, extra cost)``, best first."""

    lead: str
    core: tuple[str, ...]
    options: tuple[tuple[tuple[str, float], ...], ...]
    trail: str


def _tokenise(word: WordReading) -> _Token | None:
    text = unicodedata.normalize("NFC", word.text)
    lead, core, trail = split_token(text)
    if not core:
        return None
    choices = word.choices
    if choices and "".join(s[0][0] for s in choices) == text:
        symbols = [s[0][0] for s in choices]
        offsets = [0]
        for symbol in symbols:
            offsets.append(offsets[-1] + len(symbol))
        start, end = len(lead), len(lead) + len(core)
        if start in offsets and end in offsets:
            first, last = offsets.index(start), offsets.index(end)
            options = tuple(
                tuple((alt, max(0.0, cost - s[0][1])) for alt, cost in s) for s in choices[first:last]
            )
            return _Token(lead, tuple(symbols[first:last]), options, trail)
    return _Token(lead, tuple(core), tuple(((c, 0.0),) for c in core), trail)


def _is_letter_text(text: str) -> bool:
    return bool(text) and all(c.isalpha() for c in text)


def _symbol_options(
    token: _Token, index: int, *, marks: bool, drops: bool, settings: CorrectionSettings
) -> list[tuple[str, float]]:
    """What symbol ``index`` of the core may become: the reading itself
    (cost 0), tesseract's letter alternatives, mark-only variants, a drop."""
    best = token.core[index]
    options: dict[str, float] = {best: 0.0}
    for alt, cost in token.options[index][1:]:
        if cost > settings.max_alternative_cost or not _is_letter_text(alt):
            continue
        if alt.lower() == best.lower():
            continue  # a change of case only: never ours to make
        if _is_letter_text(best) and (alt.isupper() != best.isupper()) and len(alt) == len(best) == 1:
            continue
        options.setdefault(alt, cost)
    if marks and len(best) == 1:
        for variant in mark_variants(best):
            options.setdefault(variant, settings.mark_variant_cost)
    if drops and len(best) == 1 and strip_tone(best.lower()) in VOWELS:
        neighbours = [token.core[j] for j in (index - 1, index + 1) if 0 <= j < len(token.core)]
        family = mark_variants(best) + (best,)
        if any(n in family for n in neighbours):
            options.setdefault("", settings.drop_cost)
    return sorted(options.items(), key=lambda item: item[1])


def _candidates(token: _Token, *, marks: bool, drops: bool, settings: CorrectionSettings) -> list[tuple[str, float]]:
    """Core spellings within ``max_edits`` changes and ``max_total_cost``,
    with their total cost (the reading itself excluded)."""
    per_symbol = [
        _symbol_options(token, i, marks=marks, drops=drops, settings=settings) for i in range(len(token.core))
    ]
    found: dict[str, float] = {}

    def extend(index: int, built: str, cost: float, edits: int) -> None:
        if index == len(per_symbol):
            if edits and (built not in found or cost < found[built]):
                found[built] = cost
            return
        for text, extra in per_symbol[index]:
            changed = extra > 0 or text != token.core[index]
            if changed and edits >= settings.max_edits:
                continue
            if cost + extra > settings.max_total_cost:
                break  # options are sorted by cost
            extend(index + 1, built + text, cost + extra, edits + int(changed))

    extend(0, "", 0.0, 0)
    found.pop("".join(token.core), None)
    return sorted(found.items(), key=lambda item: item[1])


@functools.lru_cache(maxsize=65536)
@functools.lru_cache(maxsize=65536)
def _candidate_keys(core: str) -> tuple[str, ...] | None:
    """:func:`_keys` for a candidate spelling, with a quick way out for the
    usual single syllable."""
    if "-" in core:
        return _keys(core)
    if not is_valid_syllable(core) or not (core.islower() or core.isupper() or core.istitle()):
        return None
    return (syllable_key(core),)


def _has_close_alternative(word: WordReading, limit: float) -> bool:
    """Whether tesseract offered a letter for some symbol within ``limit`` of its choice."""
    for symbol in word.choices or ():
        best = symbol[0][1]
        for text, cost in symbol[1:]:
            if cost - best > limit:
                break
            if text.isalpha():
                return True
    return False


@functools.lru_cache(maxsize=65536)
def _keys(core: str) -> tuple[str, ...] | None:
    """Model keys of a core's syllables, or ``None`` if it is not Vietnamese."""
    if token_kind(core) != "vietnamese":
        return None
    return tuple(syllable_key(part) for part in core.split("-") if part)


@functools.lru_cache(maxsize=65536)
def _context_key(word: str, *, last: bool) -> str | None:
    """The syllable of a neighbouring word that gives context, or ``None``."""
    lead, core, trail = split_token(word)
    if not core or token_kind(core) != "vietnamese":
        return None
    if last and any(c in _CONTEXT_BREAKS for c in trail):
        return None
    if not last and any(c in _CONTEXT_BREAKS for c in lead):
        return None
    parts = [p for p in core.split("-") if p]
    return syllable_key(parts[-1] if last else parts[0])


def needs_alternatives(text: str, confidence: float, settings: CorrectionSettings = DEFAULT_SETTINGS) -> bool:
    """Whether a word as read needs tesseract's alternatives for :func:`correct_words` to judge it: a
    Vietnamese-looking word of two letters or more that is doubtful (confidence below
    ``settings.marks_below``), broken (not a valid syllable) or unknown to the lexicon. The others, most
    words of a page, are kept as read unless tesseract offered a close letter — which, read with
    confidence, they almost never need (dev pages: 8 of 146 corrections), so their alternatives are
    not asked for (:func:`digitize.tesseract.recognise` with a word filter)."""
    kind = token_kind(text)
    if kind not in ("vietnamese", "broken"):
        return False
    _lead, core, _trail = split_token(unicodedata.normalize("NFC", text))
    if len(core) < 2:
        return False
    if kind == "broken" or confidence < settings.marks_below:
        return True
    keys = _keys(core)
    model = load_syllable_model()
    return keys is None or not all(model.known(k) for k in keys)


def correct_words(
    words: Sequence[WordReading],
    *,
    model: SyllableModel | None = None,
    settings: CorrectionSettings = DEFAULT_SETTINGS,
) -> list[CorrectedWord]:
    """Correct one page's words, in reading order (one list per page or per
    line; neighbours give the context).

    A word is changed only when (a) it is not a valid Vietnamese syllable, or
    the model prefers another reading by ``settings.margin`` (``name_margin``
    for a capitalised word inside a line, ``unknown_margin`` for a syllable
    neither the prose nor hunspell-vi knows), and (b) that reading is made of
    tesseract's own alternatives, or of letters differing by marks only from
    those of a word read with confidence below ``settings.marks_below``; the
    reading must be a known syllable. Numbers, punctuation, foreign words,
    lone letters and words with no evidence for anything else are kept.
    Returns one :class:`CorrectedWord` per input word, confidences unchanged."""
    model = model or load_syllable_model()
    out: list[CorrectedWord] = []
    for index, word in enumerate(words):
        previous = out[index - 1].text if index else None
        following = words[index + 1].text if index + 1 < len(words) else None
        out.append(_correct_one(word, previous, following, model, settings))
    return out


def _correct_one(
    word: WordReading,
    previous: str | None,
    following: str | None,
    model: SyllableModel,
    settings: CorrectionSettings,
) -> CorrectedWord:
    text = unicodedata.normalize("NFC", word.text)
    keep = CorrectedWord(text=text, original=text, confidence=word.confidence)
    kind = token_kind(text)
    if kind in ("number", "punctuation", "foreign"):
        return keep
    _lead, core, _trail = split_token(text)
    keys = _keys(core) if kind == "vietnamese" else None
    known = keys is not None and all(model.known(k) for k in keys)
    if known and (word.confidence >= settings.confident or (
        word.confidence >= settings.marks_below and not _has_close_alternative(word, settings.max_alternative_cost)
    )):
        return keep  # the fast path: most words of a page

    token = _tokenise(word)
    if token is None:
        return keep
    if len(token.core) == 1:
        # a lone letter (ă, â, đ in a list of letters, an initial): no context to judge it by
        flagged = keys is None
        return CorrectedWord(text, text, word.confidence, flagged, "invalid-syllable" if flagged else "")
    invalid = keys is None
    low = word.confidence < settings.low_confidence
    prev_key = _context_key(previous, last=True) if previous else None
    next_key = _context_key(following, last=False) if following else None

    best_text, best_score = None, -math.inf
    marks = word.confidence < settings.marks_below  # mark-only variants need a doubtful reading
    for candidate, cost in _candidates(token, marks=marks, drops=invalid, settings=settings):
        cand_keys = _candidate_keys(candidate)
        if cand_keys is None or not all(model.known(k) for k in cand_keys):
            continue
        score = model.sequence_logprob(cand_keys, prev_key, next_key) - settings.ocr_weight * cost
        if score > best_score:
            best_text, best_score = candidate, score

    if invalid:
        if best_text is None:
            return CorrectedWord(text, text, word.confidence, flagged=True, reason="invalid-syllable")
        return CorrectedWord(token.lead + best_text + token.trail, text, word.confidence, True, "repaired-invalid")

    original_score = model.sequence_logprob(keys, prev_key, next_key)
    margin = settings.margin if known else settings.unknown_margin
    if core[:1].isupper() and prev_key is not None:
        margin = max(margin, settings.name_margin)  # capitalised inside a sentence: perhaps a name
    if best_text is not None and best_score - original_score >= margin:
        return CorrectedWord(token.lead + best_text + token.trail, text, word.confidence, True, "lexicon-preferred")
    if not known:
        return CorrectedWord(text, text, word.confidence, flagged=True, reason="unknown-syllable")
    if low:
        return CorrectedWord(text, text, word.confidence, flagged=True, reason="low-confidence")
    return keep



# ---------------------------------------------------------------- building



def rebuild_lexicon(directory: Path | str = LEXICON_DIR, hunspell_path: Path | str = HUNSPELL_VI) -> SyllableModel:
    """Rebuild ``syllables.tsv`` and ``bigrams.tsv`` in ``directory`` from its
    ``prose/*.txt`` and the hunspell-vi list (``python -m digitize.postcorrect``)."""
    directory = Path(directory)
    texts = [path.read_text(encoding="utf-8") for path in sorted((directory / "prose").glob("*.txt"))]
    lines = Path(hunspell_path).read_text(encoding="utf-8").splitlines()[1:]  # first line: the count
    model = build_lexicon(texts, (line.split("/")[0].strip() for line in lines))
    write_lexicon(model, directory)
    return model


if __name__ == "__main__":  # pragma: no cover
    built = rebuild_lexicon()
    print(f"{len(built.unigrams)} syllables, {len(built.bigrams)} pairs from the prose; "
          f"{len(built.prior_words)} hunspell-vi syllables; written to {LEXICON_DIR}")
