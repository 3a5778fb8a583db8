"""Natural order of page file names, as a librarian expects it.

``p2`` comes before ``p10`` (runs of digits compare as numbers), ``P3.TIF``
sits between ``p2`` and ``p10`` (case does not matter), and Vietnamese letters
sort beside their base letter (``đ`` with ``d``, ``ă`` with ``a``) rather than
after ``z``. Names are NFC-normalised first, so a name typed on macOS (NFD)
sorts like the same name typed on Windows.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["natural_key", "natural_path_key", "fold_diacritics", "title_key", "name_key"]

_DIGITS = re.compile(r"([0-9]+)")

# Letters that do not decompose into base letter + combining mark under NFD.
_SPECIAL_BASE = str.maketrans({"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"})


def fold_diacritics(text: str) -> str:
    """``text`` case-folded with its diacritics removed: ``"Đình Bảng"`` → ``"dinh bang"``."""
    decomposed = unicodedata.normalize("NFD", text.translate(_SPECIAL_BASE))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped).casefold()


def natural_key(name: str) -> tuple:
    """A sort key for one file name: ``sorted(names, key=natural_key)``.

    The key alternates text parts (compared without case or diacritics) and
    digit runs (compared as numbers, without the 4300-digit limit of ``int``),
    and ends with the NFC name itself so that names differing only in case,
    diacritics or leading zeros still sort in a stable, total order.
    """
    nfc = unicodedata.normalize("NFC", name)
    parts = _DIGITS.split(nfc)
    key: list = []
    for i, part in enumerate(parts):
        if i % 2:  # a run of digits
            significant = part.lstrip("0") or "0"
            key.append((len(significant), significant))
        else:
            key.append(fold_diacritics(part))
    return (tuple(key), nfc)


def natural_path_key(relative_path: str) -> tuple:
    """A sort key for a ``/``-separated relative path: each folder level in natural order."""
    return tuple(natural_key(part) for part in relative_path.split("/"))


TITLE_KEY_CHARS = 200


def title_key(title: str | None) -> str | None:
    """The key a list sorts titles by, stored beside the title (``items.title_sort``, indexed): folded
    like :func:`fold_diacritics` so that ``Đông Dương`` sorts with the d's, not after ``Z`` as the
    database's own ``lower()`` would put it; the first :data:`TITLE_KEY_CHARS` characters."""
    if title is None:
        return None
    return " ".join(fold_diacritics(title).split())[:TITLE_KEY_CHARS]


def name_key(name: str | None) -> str | None:
    """Names readers could not tell apart share this key (case, composed or decomposed accents and
    spacing aside); a unique index on it keeps two collections from taking one name."""
    if name is None:
        return None
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def slugify(text: str) -> str:
    """ASCII slug of Vietnamese text: 'Văn Miếu – Quốc Tử Giám' → 'van-mieu-quoc-tu-giam'."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:100] or "collection"
