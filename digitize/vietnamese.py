"""Vietnamese syllables: their parts, the rules that make one valid, and
what a token on a page is (a Vietnamese word, a number, a foreign word, or
Vietnamese that the machine read wrongly).

A written Vietnamese syllable is

    onset? + medial? + nucleus + coda? + tone

- onset: ``b c ch d đ g gh gi h k kh l m n ng ngh nh p ph q r s t th tr v x``
  or none (``p`` only in loanwords such as *pin*);
- medial: the glide /w/, written ``o`` before ``a ă e`` (*hoa, hoặc, khoe*)
  and ``u`` before ``â ê y ơ`` (*tuần, huệ, thuỷ, thuở*) and always after
  ``q`` (*qua, quê, quốc*);
- nucleus: ``a ă â e ê i y o ô ơ u ư`` or a diphthong ``iê/yê/ia/ya``,
  ``uô/ua``, ``ươ/ưa`` (the ``-a`` spellings when nothing follows);
- coda: ``c ch m n ng nh p t`` or the glides ``i y o u``;
- tone: one of six, written as a mark on one vowel letter: ngang (none),
  huyền ``à``, sắc ``á``, hỏi ``ả``, ngã ``ã``, nặng ``ạ``.

The rules applied (:func:`parse_syllable`): the rhyme (medial + nucleus +
coda) is one of the ~160 that the orthography has (:data:`RHYMES`); ``c``,
``g``, ``ng`` never stand before ``e ê i y`` and ``k``, ``gh``, ``ngh`` only
stand there; ``q`` needs the medial; the labials ``b m p ph v`` take no
medial; a stop coda ``p t c ch`` allows only sắc or nặng; the tone mark sits on
the vowel the orthography puts it on — both the older placement (*hòa, thủy,
khỏe*) and the reformed one (*hoà, thuỷ, khoẻ*) are accepted, nothing else
(*hoaì* is not); and there is at most one tone mark. Case does not matter
here; :func:`token_kind` checks that a token is lower, Title or UPPER case.

Strings are NFC (precomposed), as the OCR engine and the catalogue store
them; decomposed input is normalised first. Nothing is computed at import
time: the letter tables and the set of valid syllables are built on first
use and cached.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "TONES",
    "RHYMES",
    "Syllable",
    "parse_syllable",
    "is_valid_syllable",
    "is_vietnamese_word",
    "token_kind",
    "split_token",
    "strip_tone",
    "fold_diacritics",
    "with_tone",
    "place_tone",
    "valid_syllables",
    "mark_variants",
]

TONES: tuple[str, ...] = ("ngang", "huyen", "sac", "hoi", "nga", "nang")
"""The six tones in index order; index 0 has no mark."""

# combining marks of the tones, by tone index (ngang has none)
_TONE_MARKS = {"\u0300": 1, "\u0301": 2, "\u0309": 3, "\u0303": 4, "\u0323": 5}
_TONE_MARK_OF = {index: mark for mark, index in _TONE_MARKS.items()}

VOWELS = frozenset("aăâeêioôơuưy")
_BASE_LETTERS = frozenset("aăâbcdđeêghiklmnoôơpqrstuưvxy")
_HAT_VOWELS = frozenset("ăâêôơư")  # vowels carrying a circumflex, breve or horn

ONSETS: tuple[str, ...] = (
    "ngh", "ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr",
    "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x",
)  # fmt: skip
"""Written onsets, longest first (``qu`` stands for ``q`` + the medial ``u``)."""

_FRONT_NUCLEI = ("e", "ê", "i", "y", "iê", "ia", "yê")
_LABIALS = frozenset({"b", "m", "p", "ph", "v"})
_STOP_CODAS = frozenset({"c", "ch", "p", "t"})


def _rhyme_table() -> dict[str, tuple[str, str, str]]:
    """``{spelled rhyme: (medial, nucleus, coda)}`` for every rhyme of the
    orthography, before the onset is taken into account."""
    table: dict[str, tuple[str, str, str]] = {}

    def add(medial: str, nucleus: str, codas: str) -> None:
        for coda in codas.split(","):
            table[medial + nucleus + coda] = (medial, nucleus, coda)

    # plain rhymes: nucleus -> the codas it takes ("" = open syllable)
    add("", "a", ",c,ch,i,m,n,ng,nh,o,p,t,u,y")
    add("", "ă", "c,m,n,ng,p,t")
    add("", "â", "c,m,n,ng,p,t,u,y")
    add("", "e", ",c,m,n,ng,o,p,t")
    add("", "ê", ",ch,m,n,nh,p,t,u")
    add("", "i", ",ch,m,n,nh,p,t,u")
    add("", "ia", "")
    add("", "iê", "c,m,n,ng,p,t,u")
    add("", "yê", "m,n,ng,t,u")  # only without an onset: yên, yêu
    add("", "y", "")
    add("", "o", ",c,i,m,n,ng,p,t")
    add("", "oo", "c,ng")  # loanwords: boong, soóc
    add("", "ô", ",c,i,m,n,ng,p,t")
    add("", "ơ", ",i,m,n,p,t")
    add("", "u", ",c,i,m,n,ng,p,t")
    add("", "ua", "")
    add("", "uô", "c,i,m,n,ng,t")
    add("", "ư", ",c,i,m,n,ng,t,u")  # ưm, ưn: interjections and dialect (hừm, chưn)
    add("", "ưa", "")
    add("", "ươ", "c,i,m,n,ng,p,t,u")
    # with the medial written o
    add("o", "a", ",c,ch,i,m,n,ng,nh,o,p,t,y")
    add("o", "ă", "c,m,n,ng,p,t")
    add("o", "e", ",n,o,t")
    # with the medial written u
    add("u", "â", "n,ng,t,y")
    add("u", "ê", ",ch,n,nh,t")
    add("u", "y", ",ch,n,nh,p,t,u")
    add("u", "ơ", "")
    add("u", "ya", "")
    add("u", "yê", "n,t")
    return table


RHYMES: dict[str, tuple[str, str, str]] = _rhyme_table()
"""Every spelled rhyme (no tone) → ``(medial, nucleus, coda)``; a literal
table, so building it at import costs nothing worth naming."""

# after "qu" (q + the medial u) what may follow: the nucleus and coda of a
# rhyme with a medial (qua, quăn, que, quân, quê, quy, quơ, quyên) and two more
_QU_RHYMES: dict[str, tuple[str, str, str]] = {
    nucleus + coda: ("u", nucleus, coda)
    for medial, nucleus, coda in RHYMES.values()
    if medial and nucleus != "ya"
}
_QU_RHYMES["i"] = ("u", "i", "")  # the older spelling qui of quy
_QU_RHYMES["ôc"] = ("u", "ô", "c")  # quốc
_QU_RHYMES["it"] = ("u", "i", "t")  # quít, quịt (older spellings of quýt, quỵt)
_QU_RHYMES["au"] = ("u", "a", "u")  # quạu, quàu
_QU_RHYMES["êu"] = ("u", "ê", "u")  # quều, quếu

# onsets after which an open y stands for i (kỳ/kì, lý/lí, Mỹ, sỹ, tỷ, hy)
_Y_ONSETS = frozenset({"", "h", "k", "l", "m", "n", "s", "t", "th", "v", "d"})


@dataclass(frozen=True)
class Syllable:
    """One parsed syllable, lower case and toneless in its parts.

    ``onset`` is ``""`` when there is none, ``"q"`` for ``qu``; ``medial`` is
    ``""``, ``"o"`` or ``"u"`` as written; ``nucleus`` as written (``"iê"``,
    ``"ya"``...); ``coda`` ``""`` or as written; ``tone`` an index into
    :data:`TONES`; ``base`` the whole syllable lower case without its tone
    mark (``"hoa"`` for *Hòa*); ``tone_at`` the index in ``base`` of the
    letter that carries the tone mark (``None`` for ngang)."""

    onset: str
    medial: str
    nucleus: str
    coda: str
    tone: int
    base: str
    tone_at: int | None

    @property
    def rhyme(self) -> str:
        return self.medial + self.nucleus + self.coda

    @property
    def tone_name(self) -> str:
        return TONES[self.tone]


# ---------------------------------------------------------------- letters


@functools.cache
def _letter_table() -> dict[str, tuple[str, int]]:
    """Every lower-case Vietnamese letter (NFC) → (toneless letter, tone index)."""
    table: dict[str, tuple[str, int]] = {}
    for letter in _BASE_LETTERS:
        table[letter] = (letter, 0)
    for vowel in VOWELS:
        for mark, tone in _TONE_MARKS.items():
            table[unicodedata.normalize("NFC", vowel + mark)] = (vowel, tone)
    return table


def strip_tone(text: str) -> str:
    """``text`` (NFC) with every tone mark removed; hats, breves, horns and
    ``đ`` stay (``"Người"`` → ``"Ngươi"``)."""
    table = _letter_table()
    out = []
    for char in unicodedata.normalize("NFC", text):
        lower = char.lower()
        entry = table.get(lower)
        if entry is None or entry[1] == 0:
            out.append(char)
        else:
            out.append(entry[0].upper() if char != lower else entry[0])
    return "".join(out)


@functools.cache
def _fold_table() -> dict[str, str]:
    table = {}
    for letter, (base, _tone) in _letter_table().items():
        plain = unicodedata.normalize("NFD", base)[0]
        table[letter] = "d" if base == "đ" else plain
    return table


def fold_diacritics(text: str) -> str:
    """Lower-case ``text`` with every Vietnamese diacritic removed and ``đ``
    folded to ``d`` (``"Đường"`` → ``"duong"``); other characters stay."""
    table = _fold_table()
    return "".join(table.get(char, char) for char in unicodedata.normalize("NFC", text).lower())


def with_tone(base_letter: str, tone: int) -> str:
    """The NFC letter for a toneless vowel ``base_letter`` and tone index ``tone``."""
    if tone == 0:
        return base_letter
    return unicodedata.normalize("NFC", base_letter + _TONE_MARK_OF[tone])


# ---------------------------------------------------------------- parsing


def _split_onset(base: str) -> tuple[str, str]:
    """(written onset, rest): ``gi`` and ``qu`` decided by what follows."""
    for onset in ONSETS:
        if base.startswith(onset):
            rest = base[len(onset) :]
            if onset == "gi" and rest[:1] not in VOWELS | {""} and rest:
                return "gi", "i" + rest  # gìn, gịt: the i is the nucleus
            if onset == "gi" and not rest:
                return "gi", "i"  # gì
            if onset == "gi" and rest.startswith("ê"):
                return "gi", "i" + rest  # giếng, giết: gi + iê
            return onset, rest
    return "", base


def _tone_positions(base: str, onset: str, medial: str, nucleus: str, coda: str) -> set[int]:
    """Indexes in ``base`` where the tone mark may stand (old and new placement)."""
    start = len(base) - len(medial) - len(nucleus) - len(coda)
    if onset == "q":
        start += 1  # the u of qu belongs to the onset: quả, quý, not qủa
    vowel_end = len(base) - len(coda)
    # semivowel codas are vowel letters too
    cluster = list(range(start, vowel_end))
    if coda in ("i", "y", "o", "u"):
        cluster.append(vowel_end)
    hats = [i for i in cluster if base[i] in _HAT_VOWELS]
    if hats:
        return {hats[-1]}
    if len(cluster) == 1:
        return {cluster[0]}
    if coda and coda not in ("i", "y", "o", "u"):
        return {cluster[-1]}  # a consonant closes it: hoàn, thuýt, soóc
    if len(cluster) == 3:
        return {cluster[1]}  # ngoài, khuỷu, ngoẻo
    if medial and not coda:
        return {cluster[0], cluster[1]}  # hòa/hoà, thủy/thuỷ, khỏe/khoẻ
    return {cluster[0]}  # tài, kìa, của, máy


def parse_syllable(text: str) -> Syllable | None:
    """Parse one syllable (any case, NFC or not); ``None`` when it is not a
    valid Vietnamese syllable by the rules of the module docstring."""
    letters = unicodedata.normalize("NFC", text).lower()
    if not letters or len(letters) > 8:
        return None
    table = _letter_table()
    base_chars = []
    tone, tone_at = 0, None
    for index, char in enumerate(letters):
        entry = table.get(char)
        if entry is None:
            return None
        base_chars.append(entry[0])
        if entry[1]:
            if tone:
                return None  # two tone marks
            tone, tone_at = entry[1], index
    base = "".join(base_chars)
    parts = _base_parts(base)
    if parts is None:
        return None
    onset, medial, nucleus, coda = parts
    if coda in _STOP_CODAS and tone not in (2, 5):
        return None
    if tone_at is not None and tone_at not in _tone_positions(base, onset, medial, nucleus, coda):
        return None
    return Syllable(onset, medial, nucleus, coda, tone, base, tone_at)


@functools.lru_cache(maxsize=8192)
def _base_parts(base: str) -> tuple[str, str, str, str] | None:
    """(onset, medial, nucleus, coda) of a toneless lower-case syllable, or
    ``None`` when its letters break a rule that does not involve the tone."""
    onset, rest = _split_onset(base)
    if onset == "gi" and base[2:3] in ("i", "y"):
        return None  # giin, giy: the i of gi is never written twice
    if onset == "qu":
        parts = _QU_RHYMES.get(rest)
        onset = "q"
    else:
        parts = RHYMES.get(rest)
    if parts is None:
        return None
    medial, nucleus, coda = parts
    if not _onset_fits(onset, medial, nucleus):
        return None
    return onset, medial, nucleus, coda


def _onset_fits(onset: str, medial: str, nucleus: str) -> bool:
    front = nucleus.startswith(_FRONT_NUCLEI) and not medial
    if onset in ("c", "g", "ng"):
        return not front and not (onset == "c" and medial)
    if onset in ("k", "gh", "ngh"):
        return front
    if onset == "q":
        return medial == "u"
    if onset in _LABIALS:
        return not medial
    if nucleus == "yê" and not medial:
        return onset == ""  # yên, yêu; with an onset it is written iê
    if nucleus == "iê":
        return onset != ""  # tiên, giếng; without an onset it is written yê
    if nucleus == "y" and not medial:
        return onset in _Y_ONSETS  # y, kỳ, lý, Mỹ
    if onset == "gi":
        return not medial
    return True


def is_valid_syllable(text: str) -> bool:
    """Whether ``text`` is one valid Vietnamese syllable (case ignored)."""
    return _is_valid_lower(unicodedata.normalize("NFC", text).lower())


@functools.lru_cache(maxsize=65536)
def _is_valid_lower(text: str) -> bool:
    return parse_syllable(text) is not None


def place_tone(syllable: str, style: str = "old") -> str:
    """``syllable`` with its tone mark moved to the ``"old"`` (*hòa, thủy*) or
    ``"new"`` (*hoà, thuỷ*) placement; unchanged when it is not a valid
    syllable or has only one possible placement. Case is kept."""
    if style not in ("old", "new"):
        raise ValueError(f"style must be 'old' or 'new', not {style!r}")
    nfc = unicodedata.normalize("NFC", syllable)
    parsed = parse_syllable(nfc)
    if parsed is None or parsed.tone_at is None:
        return nfc
    positions = sorted(_tone_positions(parsed.base, parsed.onset, parsed.medial, parsed.nucleus, parsed.coda))
    if len(positions) < 2:
        return nfc
    at = positions[0] if style == "old" else positions[-1]
    if at == parsed.tone_at:
        return nfc
    letters = list(parsed.base)
    letters[at] = with_tone(letters[at], parsed.tone)
    out = "".join(letters)
    return "".join(o.upper() if c.isupper() else o for o, c in zip(out, nfc))


# ---------------------------------------------------------------- the full set


@functools.cache
def _valid_bases() -> frozenset[str]:
    """Every toneless syllable (lower case) that is valid with some tone."""
    rests_of = {onset: list(RHYMES) for onset in ONSETS + ("",)}
    rests_of["qu"] = list(_QU_RHYMES)
    # gì, gìn, giếng: gi followed directly by a consonant, nothing, or ê
    rests_of["gi"] += [r[1:] for r in RHYMES if r[:1] == "i" and r[1:2] not in VOWELS or r.startswith("iê")]
    return frozenset(
        onset + rest for onset, rests in rests_of.items() for rest in rests if _base_parts(onset + rest)
    )


@functools.cache
def valid_syllables() -> frozenset[str]:
    """Every valid syllable, lower case NFC, in every accepted tone placement
    (*hòa* and *hoà* both). Built once per process from the rules (~20 ms)."""
    found: set[str] = set()
    for base in _valid_bases():
        onset, medial, nucleus, coda = _base_parts(base)
        tones = (2, 5) if coda in _STOP_CODAS else range(1, 6)
        if coda not in _STOP_CODAS:
            found.add(base)
        for at in _tone_positions(base, onset, medial, nucleus, coda):
            for tone in tones:
                found.add(base[:at] + with_tone(base[at], tone) + base[at + 1 :])
    return frozenset(found)


@functools.cache
def _valid_folds() -> frozenset[str]:
    return frozenset(fold_diacritics(base) for base in _valid_bases())


# ---------------------------------------------------------------- tokens

# letters of Latin alphabets that Vietnamese never writes
_FOREIGN_LETTERS = frozenset("fjwzçëïîöüûñœæÿßåøäłšžčřě")
# accented letters shared with French, Spanish, Portuguese...: not proof of Vietnamese
_SHARED_ACCENTED = frozenset("àáâãèéêìíòóôõùúý")
_NUMBER = re.compile(r"^[+\-−±]?\d+([.,:/]\d+)*(%|‰|°[CF]?)?$|^\d+(st|nd|rd|th|e|er)$")
_EDGE_PUNCT = "\"'“”‘’«»()[]{}<>.,;:!?…–—-/\\*•·„‚"


@functools.lru_cache(maxsize=65536)
def split_token(token: str) -> tuple[str, str, str]:
    """(leading punctuation, core, trailing punctuation) of a token
    (``"(Hà,"`` → ``("(", "Hà", ",")``)."""
    token = unicodedata.normalize("NFC", token)
    start, end = 0, len(token)
    while start < end and (token[start] in _EDGE_PUNCT or not token[start].isalnum()):
        start += 1
    while end > start and (token[end - 1] in _EDGE_PUNCT or not token[end - 1].isalnum()):
        end -= 1
    return token[:start], token[start:end], token[end:]


def _case_ok(part: str) -> bool:
    return part.islower() or part.isupper() or (part[:1].isupper() and part[1:].islower()) or not part.isalpha()


def _looks_vietnamese(part: str) -> bool:
    """Whether an invalid part is most likely Vietnamese read wrongly rather
    than a foreign word: it has a letter only Vietnamese writes (đ ă ơ ư, a
    hỏi, ngã or nặng mark, stacked marks), or it has only accents that other
    languages share yet its letters, diacritics aside, spell a Vietnamese
    syllable."""
    lower = part.lower()
    if any(c in _FOREIGN_LETTERS for c in lower):
        return False
    table = _letter_table()
    if any(c in table and c not in "abcdeghiklmnopqrstuvxy" and c not in _SHARED_ACCENTED for c in lower):
        return True
    if lower.isascii():
        return False
    return fold_diacritics(lower) in _valid_folds()


@functools.lru_cache(maxsize=65536)
def token_kind(token: str) -> str:
    """What a token is, for deciding whether to correct it:

    - ``"vietnamese"``: one or more valid syllables (joined by hyphens, as in
      *Việt-Nam*), each lower, Title or UPPER case, with any punctuation around;
    - ``"number"``: digits, possibly with separators, a sign, ``%`` or a degree;
    - ``"punctuation"``: no letter or digit at all;
    - ``"foreign"``: some part is not Vietnamese and does not look like
      Vietnamese read wrongly (English, French, an abbreviation such as
      *UBND*, a Roman numeral, a word with f j w z, a capitalised name whose
      consonants no Vietnamese syllable has, as *Đắk Lắk* or *Krông*);
    - ``"broken"``: some part is not a valid syllable but looks like one
      misread (it carries marks only Vietnamese uses, or stripped of its marks
      it spells a syllable), or mixes upper and lower case oddly, or mixes
      letters and digits inside a syllable-like word.
    """
    _lead, core, _trail = split_token(token)
    if not core:
        return "punctuation"
    if _NUMBER.match(core):
        return "number"
    parts = [p for p in re.split(r"[-‐‑]", core) if p]
    kind = "vietnamese"
    for part in parts:
        if part.isdigit():
            continue
        if not part.isalpha():
            letters = "".join(c for c in part if c.isalpha())
            if letters and _looks_vietnamese(letters) and not any(c.isdigit() for c in part[:1]):
                return "broken"
            kind = "foreign"
            continue
        if is_valid_syllable(part):
            if not _case_ok(part):
                return "broken"
            continue
        if part.isupper() and len(part) > 1 and not _looks_vietnamese(part):
            kind = "foreign"  # UBND, HTML, XIX
            continue
        if _looks_vietnamese(part):
            if part[:1].isupper() and not _consonant_frame_ok(part):
                kind = "foreign"  # a name in another orthography: Đắk Lắk, Krông Pắc
                continue
            return "broken"
        kind = "foreign"
    return kind


_CODAS = frozenset({"", "c", "ch", "m", "n", "ng", "nh", "p", "t"})
_ONSET_LETTERS = frozenset(ONSETS) | {"", "q"}


def _consonant_frame_ok(part: str) -> bool:
    """Whether the consonants before the first vowel and after the last one
    are a Vietnamese onset and coda (marks are what an OCR engine gets
    wrong; a frame like Đắk's k or Krông's kr is another orthography)."""
    letters = strip_tone(part.lower())
    start = 0
    while start < len(letters) and letters[start] not in VOWELS:
        start += 1
    end = len(letters)
    while end > start and letters[end - 1] not in VOWELS:
        end -= 1
    return letters[:start] in _ONSET_LETTERS and letters[end:] in _CODAS


def is_vietnamese_word(token: str) -> bool:
    """Whether ``token`` (punctuation around it allowed) is Vietnamese: one
    syllable or hyphen-joined syllables, each valid and in lower, Title or
    UPPER case. Numbers, punctuation and foreign words give ``False`` — they
    are not errors either; :func:`token_kind` tells them apart."""
    return token_kind(token) == "vietnamese"


# ---------------------------------------------------------------- confusions

_MARK_FAMILIES = ("aăâ", "eê", "i", "oôơ", "uư", "y")


@functools.cache
def _family_of() -> dict[str, str]:
    family = {}
    for letters in _MARK_FAMILIES:
        for base in letters:
            for tone in range(6):
                family[with_tone(base, tone)] = letters
    family["d"] = family["đ"] = "dđ"
    return family


@functools.cache
def mark_variants(letter: str) -> tuple[str, ...]:
    """The letters that differ from ``letter`` only by diacritics (tone,
    hat, breve, horn, the bar of đ), same case, ``letter`` itself excluded:
    ``"ế"`` → ``("e", "è", ..., "ê", "ề", "ể", ...)``; ``()`` for other letters."""
    lower = letter.lower()
    family = _family_of().get(lower)
    if family is None:
        return ()
    if family == "dđ":
        variants = [c for c in family if c != lower]
    else:
        variants = [with_tone(b, t) for b in family for t in range(6)]
        variants = [v for v in variants if v != lower]
    if letter != lower:
        variants = [v.upper() for v in variants]
    return tuple(variants)


def syllable_count_by_parts() -> dict[str, int]:
    """How many (onset, rhyme, tone) combinations the rules allow, and how
    many spelled forms (both tone placements) that gives: ``{"combinations":
    n, "spellings": m}``."""
    combos = set()
    for spelled in valid_syllables():
        parsed = parse_syllable(spelled)
        assert parsed is not None
        combos.add((parsed.onset, parsed.medial, parsed.nucleus, parsed.coda, parsed.tone))
    return {"combinations": len(combos), "spellings": len(valid_syllables())}

