"""An item's logical structure (``structure.json``, written by :mod:`library.ingest.mets_import` for an
imported item, or by :mod:`library.reading.articles` from the articles the layout analysis found on its
read pages) read as what the rest of the platform wants from it:

- :func:`item_divisions`: the divisions a METS export writes under the item's own division
  (``[{"type", "label", "pages", "parts"}]``, :meth:`library.discovery.mets.LogicalDivision.from_dict`);
- :func:`table_of_contents`: the same divisions flattened for a reader (:class:`ContentsEntry`).

Both keep the *parts a reader names* — sections, articles, chapters, advertisements and any labelled
division — and drop the wrappers around them (the newspaper, volume and issue divisions, which are the
item itself, and unlabelled containers such as ``CONTENT``) and the pieces inside them (headings, bodies,
paragraphs, text blocks, images), so a package exported and imported again has the same divisions.
Pure functions over the JSON data: no store, no database.
"""

from __future__ import annotations

from dataclasses import dataclass

# division TYPEs (lower case, any "prefix:" dropped) that are the item itself: unwrapped
ITEM_LEVEL_TYPES = frozenset({"newspaper", "issue", "volume", "periodical", "magazine", "monograph", "book", "item",
                              "manuscript", "physsequence"})
# division TYPEs a reader names, kept even without a label
CONTENT_TYPES = frozenset({"article", "section", "chapter", "part", "advertisement", "supplement", "preface",
                           "appendix", "index", "table_of_contents", "contents", "obituary", "letter"})


@dataclass(frozen=True)
class ContentsEntry:
    """One line of a table of contents: ``depth`` 0 for the outermost parts, ``pages`` the page
    sequences (1-based, ascending) the part lies on."""

    depth: int
    type: str  # lower case: article, section …
    label: str | None
    pages: tuple[int, ...]

    @property
    def first_page(self) -> int | None:
        return self.pages[0] if self.pages else None

    def as_dict(self) -> dict:
        return {"depth": self.depth, "type": self.type, "label": self.label, "pages": list(self.pages)}


def item_divisions(structure: dict | None) -> list[dict]:
    """The exporter's divisions of a stored structure (see the module docstring); ``[]`` for None."""
    if not structure:
        return []
    return [d for top in structure.get("divisions") or () for d in _kept(top)]


def table_of_contents(structure: dict | None) -> list[ContentsEntry]:
    """The kept divisions in document order, nested ones after their parent with ``depth`` + 1."""
    out: list[ContentsEntry] = []

    def visit(division: dict, depth: int) -> None:
        out.append(ContentsEntry(depth, division["type"].lower(), division["label"], tuple(division["pages"])))
        for part in division["parts"]:
            visit(part, depth + 1)

    for division in item_divisions(structure):
        visit(division, 0)
    return out


def _kind(division: dict) -> str:
    return str(division.get("type") or "").lower().split(":")[-1]


def _kept(division: dict) -> list[dict]:
    """``division`` as kept divisions: itself (with its kept parts), or its kept descendants when it is a
    wrapper or a piece."""
    parts = [d for child in division.get("children") or () for d in _kept(child)]
    kind, label = _kind(division), (division.get("label") or "").strip() or None
    if kind in ITEM_LEVEL_TYPES or (label is None and kind not in CONTENT_TYPES):
        return parts
    return [{"type": division.get("type") or "section", "label": label,
             "pages": sorted({int(p) for p in division.get("pages") or ()}), "parts": parts}]
