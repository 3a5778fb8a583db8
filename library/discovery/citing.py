"""How an item is cited and reused: its rights as a standard URI, its date as an ISO 8601 instant for
viewers (IIIF ``navDate``), and a citation line. Pure functions over an item's catalogue fields, no
Flask and no database: the portal's item page, the IIIF manifest and the sitemap ask them.
"""

from __future__ import annotations

import re
from datetime import date

LIBRARY_NAME = {"vi": "Thư viện Hà Nội", "en": "Hanoi Library"}

RIGHTS_URI_HOSTS = ("creativecommons.org", "rightsstatements.org")

# Rights as cataloguers write them → the URI a viewer or aggregator understands. Keys are lower case
# with runs of spaces, dashes and underscores folded to one space (see :func:`_rights_key`).
_RIGHTS_WORDS = {
    "public domain": "https://creativecommons.org/publicdomain/mark/1.0/",
    "public domain mark": "https://creativecommons.org/publicdomain/mark/1.0/",
    "pdm": "https://creativecommons.org/publicdomain/mark/1.0/",
    "phạm vi công cộng": "https://creativecommons.org/publicdomain/mark/1.0/",
    "cc0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "cc0 1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "in copyright": "http://rightsstatements.org/vocab/InC/1.0/",
    "inc": "http://rightsstatements.org/vocab/InC/1.0/",
    "no copyright united states": "http://rightsstatements.org/vocab/NoC-US/1.0/",
    "no copyright non commercial use only": "http://rightsstatements.org/vocab/NoC-NC/1.0/",
    "no known copyright": "http://rightsstatements.org/vocab/NKC/1.0/",
    "copyright not evaluated": "http://rightsstatements.org/vocab/CNE/1.0/",
    "copyright undetermined": "http://rightsstatements.org/vocab/UND/1.0/",
    "in copyright educational use permitted": "http://rightsstatements.org/vocab/InC-EDU/1.0/",
    "in copyright non commercial use permitted": "http://rightsstatements.org/vocab/InC-NC/1.0/",
}
_CC_LICENCE = re.compile(r"^cc (by(?: nc)?(?: nd| sa)?)(?: (\d\.\d))?$")  # "CC BY-NC-SA 4.0"
_RIGHTS_URI = re.compile(r"^https?://(?:www\.)?(creativecommons\.org|rightsstatements\.org)/[\w\-./]+$")


def _rights_key(text: str) -> str:
    return re.sub(r"[\s\-_]+", " ", text.strip().lower().rstrip(".")).strip()


def rights_uri(rights: str | None) -> str | None:
    """The Creative Commons or RightsStatements.org URI that ``rights`` is or names, else ``None``.

    ``"http://rightsstatements.org/vocab/NoC-NC/1.0/"`` is kept as written; ``"CC BY-SA 4.0"`` →
    ``"https://creativecommons.org/licenses/by-sa/4.0/"`` (version 4.0 when none is given);
    ``"Public domain"`` → the Public Domain Mark; free text (``"© Nhà xuất bản Hà Nội"``) → ``None``."""
    if not rights or not rights.strip():
        return None
    text = rights.strip()
    if _RIGHTS_URI.match(text):
        return text
    key = _rights_key(text)
    if key in _RIGHTS_WORDS:
        return _RIGHTS_WORDS[key]
    m = _CC_LICENCE.match(key)
    if m:
        return f"https://creativecommons.org/licenses/{m.group(1).replace(' ', '-')}/{m.group(2) or '4.0'}/"
    return None


def nav_date(*, issue_date: date | None, date_iso: str | None, year_start: int | None) -> str | None:
    """The item's date as an ISO 8601 instant (``"1858-07-10T00:00:00Z"``), the first day it covers:
    from the issue date, else the exact catalogue date (``"1858"``, ``"1858-07"``, ``"1858-07-10"``),
    else the first year of its range; ``None`` when no date is known."""
    if issue_date is not None:
        return f"{issue_date.isoformat()}T00:00:00Z"
    if date_iso:
        parts = date_iso.split("-")
        if parts[0].isdigit() and len(parts[0]) == 4 and all(p.isdigit() for p in parts):
            y, m, d = (int(p) for p in (parts + ["1", "1"])[:3])
            try:
                return f"{date(y, m, d).isoformat()}T00:00:00Z"
            except ValueError:
                pass
    if year_start is not None and 0 < year_start < 10_000:
        return f"{year_start:04d}-01-01T00:00:00Z"
    return None


def citation(*, title: str, creator: str | None, publisher: str | None, date_text: str | None,
             serial_title: str | None = None, issue_number: str | None = None, url: str, accessed: date,
             lang: str = "vi", page: int | None = None) -> str:
    """One citation line: ``"Creator. Title. Publisher, date. Hanoi Library. URL, accessed 2026-12-05."``
    (a newspaper issue: ``"Title. Serial, no. 12, date. …"``); ``page`` adds ``p. 3`` before the library.
    Missing fields are left out, never shown empty."""
    words = {"vi": ("truy cập ngày", "số", "tr."), "en": ("accessed", "no.", "p.")}[lang if lang == "en" else "vi"]
    parts = []
    if creator:
        parts.append(_sentence(creator))
    parts.append(_sentence(title))
    where = ", ".join(x for x in (serial_title, f"{words[1]} {issue_number}" if issue_number else None,
                                  publisher, date_text) if x)
    if where:
        parts.append(_sentence(where))
    if page is not None:
        parts.append(f"{words[2]} {page}.")
    parts.append(f"{LIBRARY_NAME[lang if lang == 'en' else 'vi']}.")
    parts.append(f"{url}, {words[0]} {accessed.isoformat()}.")
    return " ".join(parts)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "?", "!", "…")) else text + "."
