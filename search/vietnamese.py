"""Vietnamese text as the index sees it: NFC, words, and length-preserving folding.

Both engines must cut text into the same words and fold them the same way, so
the rules live here once and are handed to each engine in its own syntax:

- **NFC** at index and query time (``nfc``).
- **Words** are maximal runs of letters, combining marks and digits
  (``WORD_PATTERN`` for the Rust regex engine, ``WORD_PATTERN_JAVA`` for
  Elasticsearch/OpenSearch, ``words`` in Python). A Vietnamese word of several
  syllables is several words here. A Hán character (a CJK ideograph) is a word
  of its own: classical text has no spaces, and each character is a syllable
  and usually a word, so ``大學`` is two words and is found as a phrase.
- **Folding** removes every tone and vowel mark and turns ``đ``/``Đ`` into
  ``d``/``D``. It maps each NFC character to exactly one character, so a folded
  text has the same length as its original and character offsets found in one
  are valid in the other (``fold``). Lower-casing is done per word by the
  engines' analyzers, never on whole texts (it does not preserve length for a
  few non-Vietnamese letters).
- **One canonical spelling** (``canonical_text``, ``canonical_syllable``): the
  two tone-mark placements (``hoà``/``hòa``, ``thuỷ``/``thủy``, ``khoẻ``/``khỏe``),
  misplaced marks (``qúa``, ``gỉa``), ``qui``/``quy`` and a hyphen between
  syllables (``Việt-Nam``) all become one form, character for character, so
  offsets in the canonical text are offsets in the original. Both fields, the
  query words and the suggestions are built from it; each word's keys
  (``Word.exact``, ``Word.folded``) are keys of its canonical form.

The tone-mark rule (``_tone_position``), for a syllable parsed as onset +
vowels + final consonant (``gi`` and ``qu`` before a vowel are onsets, so
their ``i``/``u`` never carry the mark):

1. on the vowel with a quality mark (``ă â ê ô ơ ư``), the later one in ``ươ``:
   ``muốn, người, thuở, thuế, khuấy, xoắn, quyển, giữa``;
2. otherwise, before a final consonant, on the last vowel: ``hoàng, toán, huỳnh``;
3. otherwise (an open syllable) on the first of two vowels and the middle of
   three: ``hòa, khỏe, thủy, mía, múa, tài, ngoài, khuỷu``.

This is the placement of most printed and typed Vietnamese (and of the usual
keyboard default); the 1980s school rule (``hoà, khoẻ, thuỷ``) differs only
in rule 3 for ``oa``, ``oe``, ``uy``. After ``qu``, ``i`` is written ``y``
(``quí``→``quý``, ``qui``→``quy``): the same sound, the same word. ``i``/``y``
after other consonants (``lí``/``lý``, ``kĩ``/``kỹ``) is left alone: ``li`` and
``ly`` are different words too. A word that is not one Vietnamese syllable
with at most one tone mark (``poésie``, ``été``, ``Nguyễnn``) is left as it is.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

#: A word for the Rust (tantivy) regex engine: a Hán letter alone, or a run of other letters, marks, digits.
WORD_PATTERN = r"[\p{Han}&&\p{L}]|[[\p{L}\p{M}\p{N}]--\p{Han}]+"
#: The same for the Java regex engine (Elasticsearch/OpenSearch's pattern tokenizer).
WORD_PATTERN_JAVA = r"[\p{IsHan}&&\p{L}]|[\p{L}\p{M}\p{N}&&[^\p{IsHan}]]+"

MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
#: Hán letters (the CJK ideographs of the unified blocks, their extensions and the compatibility block, and
#: the iteration mark 々) for Python's ``re``, which has no script classes; ``HAN_OTHER`` the Han script's
#: number letters (〇, Suzhou numerals), which are neither Hán letters nor parts of other words.
HAN = "\u3005\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
HAN_OTHER = "\u3007\u3021-\u3029\u3038-\u303a"
#: The same rule for Python's ``re`` (``[^\W_]`` is a letter or a digit).
_WORD_RE = re.compile(rf"[{HAN}]|(?:[^\W_{HAN}{HAN_OTHER}]|[{MARKS}])+")
_HAN_RE = re.compile(rf"[{HAN}]")


def is_han_word(word: str) -> bool:
    """Whether ``word`` (one of :func:`words`) is a Hán character."""
    return len(word) == 1 and _HAN_RE.match(word) is not None

#: Longest word the analyzers keep, in characters; longer runs are OCR noise.
MAX_WORD_CHARS = 100


def _folding_table() -> dict[int, str]:
    table: dict[int, str] = {}
    ranges = [(0x00C0, 0x0250), (0x1E00, 0x1F00)]
    for lo, hi in ranges:
        for cp in range(lo, hi):
            ch = chr(cp)
            base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
            if len(base) == 1 and base != ch:
                table[cp] = base
    table[ord("đ")] = "d"
    table[ord("Đ")] = "D"
    return table


#: Character → folded character, one for one (``str.translate`` table).
FOLD_TABLE: dict[int, str] = _folding_table()


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """``Văn Miếu, đình`` → ``Van Mieu, dinh``; ``len(fold(t)) == len(t)`` for every ``t``."""
    return text.translate(FOLD_TABLE)


# ------------------------------------------------------------------ canonical spelling
#: The five tone marks as combining characters: grave, acute, tilde, hook above, dot below.
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
_VOWELS = frozenset("aăâeêioôơuưy")
_QUALITY_VOWELS = frozenset("ăâêôơư")
#: Onsets, longest first (``gi``/``qu`` only when a vowel follows).
_ONSETS = ("ngh", "ng", "gh", "gi", "kh", "nh", "ph", "th", "tr", "ch", "qu",
           "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x")
_CODAS = frozenset({"", "c", "ch", "m", "n", "ng", "nh", "p", "t"})
#: Written vowel groups of a syllable (a final ``i y o u`` included), without tone marks.
_VOWEL_GROUPS = frozenset(
    "a ă â e ê i o ô ơ u ư y "
    "ai ao au ay âu ây eo êu ia iê iu oa oă oe oi oo ôi ơi ua uâ uê ui uô uơ uy ưa ưi ưu ươ yê "
    "iêu yêu oai oay oao oeo uây uôi ươi ươu uya uyê uyu".split())
#: Vowel groups that open with the glide ``o``/``u``, which ``qu`` already has and ``gi`` never takes.
_GLIDE_GROUPS = frozenset(g for g in _VOWEL_GROUPS if g[:2] in ("oa", "oă", "oe", "uâ", "uê", "uy", "uơ"))
#: Longest syllable in letters (``nghiêng``); longer words are never syllables.
_MAX_SYLLABLE_CHARS = 7


@lru_cache(maxsize=512)
def _letter(ch: str) -> tuple[str, str] | None:
    """A letter as (lower-case base with its quality mark, tone mark or ""); None if not a Vietnamese letter."""
    parts = unicodedata.normalize("NFD", ch.lower())
    tones = [c for c in parts if c in TONE_MARKS]
    base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
    if len(tones) > 1 or len(base) != 1 or not ("a" <= base <= "z" or base in "ăâđêôơư"):
        return None
    if tones and base not in _VOWELS:
        return None
    return base, tones[0] if tones else ""


def _syllable_parts(base: str) -> tuple[str, str, str] | None:
    """(onset, vowel group, final consonant) of a toneless lower-case syllable, or None."""
    onset = ""
    for o in _ONSETS:
        if base.startswith(o) and (o not in ("gi", "qu") or base[len(o):len(o) + 1] in _VOWELS):
            onset = o
            break
    if not onset and base[:1] not in _VOWELS:
        return None
    rest = base[len(onset):]
    n = 0
    while n < len(rest) and rest[n] in _VOWELS:
        n += 1
    vowels, coda = rest[:n], rest[n:]
    if vowels not in _VOWEL_GROUPS or coda not in _CODAS or (onset in ("gi", "qu") and vowels in _GLIDE_GROUPS):
        return None
    return onset, vowels, coda


def _tone_position(vowels: str, coda: str) -> int:
    """Index in the vowel group of the vowel that carries the tone mark (the rule in the module docstring)."""
    marked = [i for i, v in enumerate(vowels) if v in _QUALITY_VOWELS]
    if marked:
        return marked[-1]
    if coda:
        return len(vowels) - 1
    return 1 if len(vowels) == 3 else 0


def _with_case(letter: str, like: str) -> str:
    return letter.upper() if like != like.lower() else letter


@lru_cache(maxsize=65536)
def _canonical_word(word: str) -> str:
    """``canonical_syllable`` of an NFC word (a run of letters): the same length, or the word itself."""
    if len(word) > _MAX_SYLLABLE_CHARS or (word.isascii() and "q" not in word.lower()):
        return word
    letters = [_letter(c) for c in word]
    if any(x is None for x in letters):
        return word
    tones = [t for _, t in letters if t]
    if len(tones) > 1:
        return word
    base = "".join(b for b, _ in letters)
    parts = _syllable_parts(base)
    if parts is None:
        return word
    onset, vowels, coda = parts
    out = [b for b, _ in letters]
    first = len(onset)
    if onset == "qu" and vowels == "i":
        out[first] = "y"
    if tones:
        out[first + _tone_position(vowels, coda)] += tones[0]
    return "".join(_with_case(unicodedata.normalize("NFC", b), c) for b, c in zip(out, word))


def canonical_syllable(syllable: str) -> str:
    """One syllable (a word without spaces or hyphens) in the canonical spelling, NFC, case kept:
    ``hoà``→``hòa``, ``THUỶ``→``THỦY``, ``quí``→``quý``, ``qúa``→``quá``; ``len(out) == len(nfc(syllable))``."""
    return _canonical_word(nfc(syllable))


_HYPHENS = "-\u2010\u2011"


@lru_cache(maxsize=1)
def _respelling_pattern() -> re.Pattern:
    """Where the canonical spelling may differ from the text, found at one character:

    - a toned vowel off its place in its run of vowels (judged without the onset:
      ``quá`` is looked at again, ``người`` is not), or on the ``u`` of ``qu`` or the
      ``i`` of ``gi``;
    - the ``q`` of ``qu`` + ``i``;
    - a hyphen between two letters.

    Only the words found go through ``_canonical_word``: a page already in the canonical
    spelling costs one scan, which skips every character but toned vowels, ``q`` and hyphens."""
    def toned(bases: str) -> str:
        return "".join(unicodedata.normalize("NFC", b + t) for b in bases for t in TONE_MARKS)

    plain, quality = "aeiouy", "ăâêôơư"
    p0_chars, q0_chars = plain + plain.upper(), quality + quality.upper()
    pt_chars = toned(plain) + toned(plain).upper()
    qt_chars = toned(quality) + toned(quality).upper()
    v = f"[{p0_chars}{pt_chars}{q0_chars}{qt_chars}]"
    p0, q0, pt, t = f"[{p0_chars}]", f"[{q0_chars}]", f"[{pt_chars}]", f"[{pt_chars}{qt_chars}]"
    open_, closed = f"(?!{v})(?![^\\W\\d_])", f"(?=[^\\W\\d_])(?!{v})"
    i_toned, u_toned = toned("i") + toned("I"), toned("u") + toned("U")
    in_a_run = f"(?:(?<=[{v[1:-1]}gGqQ].)|(?={v}))"  # a lone vowel (là, có, đã) is never looked at again
    plain_off_place = [  # each looks back at the toned plain vowel just read, and around it
        f"(?={v}?{q0})", f"(?<={q0}{pt})", f"(?<={q0}{v}{pt})",               # a quality vowel in the run
        f"(?<={p0}{pt})(?<!{v}{p0}{pt}){open_}",                              # open: first of two,
        f"(?<!{v}{pt})(?<={pt}){p0}{p0}{open_}", f"(?<={p0}{p0}{pt}){open_}",  # middle of three
        f"(?<!{v}{pt})(?<={pt}){p0}{closed}", f"(?<!{v}{pt})(?<={pt}){p0}{p0}{closed}",  # closed: the last
        f"(?<={p0}{pt})(?<!{v}{p0}{pt}){p0}{closed}",
        f"(?<=[gG][{i_toned}])(?={v})", f"(?<=[qQ][{u_toned}])",              # on the u of qu, the i of gi
    ]
    return re.compile(
        f"[{_HYPHENS}{pt_chars}{qt_chars}qQ]"
        f"(?:(?<=[{qt_chars}])(?={v}?{q0})"                                 # a later quality vowel: ựơ
        f"|(?<=[{pt_chars}]){in_a_run}(?:{'|'.join(plain_off_place)})"
        f"|(?<=[^\\W\\d_][{_HYPHENS}])(?=[^\\W\\d_]|[{MARKS}])"             # a hyphen between letters
        f"|(?<=[qQ])(?=[uU][iI{i_toned}]))")                                # qu + i


_WORD_CHAR = re.compile(rf"[^\W_]|[{MARKS}]")


def _respellings(text: str) -> list[tuple[int, int, str]]:
    """(start, end, canonical) of every word and hyphen of ``text`` that the canonical spelling changes, in order."""
    out: list[tuple[int, int, str]] = []
    done = 0
    for m in _respelling_pattern().finditer(text):
        start = m.start()
        if start < done:
            continue
        if m.group() in _HYPHENS:
            out.append((start, start + 1, " "))
            continue
        while start > done and _WORD_CHAR.match(text, start - 1):
            start -= 1
        word = _WORD_RE.match(text, start)
        done = word.end()
        canonical = _canonical_word(word.group())
        if canonical != word.group():
            out.append((start, done, canonical))
    return out


def canonical_spelling(text: str) -> tuple[str, str]:
    """``(canonical_text(text), spelling_changes(text, canonical_text(text)))`` in one pass."""
    spots = _respellings(text)
    if not spots:
        return text, ""
    pieces: list[str] = []
    pos = 0
    for start, end, canonical in spots:
        pieces += [text[pos:start], canonical]
        pos = end
    pieces.append(text[pos:])
    changes = [[start, text[start:end]] for start, end, _ in spots]
    return "".join(pieces), json.dumps(changes, ensure_ascii=False, separators=(",", ":"))


def canonical_text(text: str) -> str:
    """``text`` (NFC) in the canonical spelling, one character for one: every word as
    ``canonical_syllable`` makes it, and a hyphen between two letters made a space
    (``Việt-Nam`` → ``Việt Nam``, ``quốc-ngữ`` → ``quốc ngữ``). ``len(out) == len(text)``,
    so offsets found in one are offsets in the other. Text that is not NFC keeps its
    decomposed letters as they are: normalise it first (``nfc``)."""
    return canonical_spelling(text)[0]


def spelling_changes(original: str, canonical: str) -> str:
    """What ``restore_spelling`` needs to turn ``canonical`` (the same length) back into
    ``original``: a JSON list of ``[offset, original characters]`` runs, or ``""`` if none."""
    if original == canonical:
        return ""
    if len(original) != len(canonical):
        raise ValueError("a canonical spelling has the length of its original")
    runs: list[list] = []
    last = -2
    for i, (a, b) in enumerate(zip(original, canonical)):
        if a != b:
            if i == last + 1:
                runs[-1][1] += a
            else:
                runs.append([i, a])
            last = i
    return json.dumps(runs, ensure_ascii=False, separators=(",", ":"))


def restore_spelling(canonical: str, changes: str | bytes | None) -> str:
    """The original text from its canonical spelling and ``spelling_changes``; a text cut short
    (a highlighter's no-match preview) gets the changes that fall inside it."""
    if not changes:
        return canonical
    pieces: list[str] = []
    pos = 0
    n = len(canonical)
    for start, chars in json.loads(changes):
        if start >= n:
            break
        chars = chars[: n - start]
        pieces += [canonical[pos:start], chars]
        pos = start + len(chars)
    pieces.append(canonical[pos:])
    return "".join(pieces)


def exact_key(word: str) -> str:
    """How a word is indexed in the exact field: NFC, canonical spelling, lower-case."""
    return canonical_syllable(word).lower()


def folded_key(word: str) -> str:
    """How a word is indexed in the folded field: NFC, canonical spelling, folded, lower-case."""
    return fold(canonical_syllable(word)).lower()


def folding_mappings() -> list[str]:
    """The folding table as rules for an Elasticsearch/OpenSearch ``mapping`` char filter."""
    return [f"{chr(cp)} => {base}" for cp, base in sorted(FOLD_TABLE.items())]


@dataclass(frozen=True, slots=True)
class Word:
    """A word of a text: ``text[start:end]``, with its exact and folded keys (of its canonical spelling)."""

    start: int
    end: int
    exact: str
    folded: str


def words(text: str) -> Iterator[Word]:
    """The words of ``text`` (already NFC) with character offsets, as both engines cut them."""
    for m in _WORD_RE.finditer(text):
        w = m.group()
        if len(w) > MAX_WORD_CHARS:
            continue
        lower = _canonical_word(w).lower()
        yield Word(m.start(), m.end(), lower, fold(lower))


def word_keys(text: str) -> list[tuple[str, str]]:
    """(exact, folded) keys of each word in a piece of user input."""
    return [(w.exact, w.folded) for w in words(nfc(text))]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffc]")


def strip_controls(text: str) -> tuple[str, bool]:
    """Replace control and invisible formatting characters by spaces; say whether any were found."""
    cleaned, n = _CONTROL.subn(" ", text)
    return cleaned, n > 0
