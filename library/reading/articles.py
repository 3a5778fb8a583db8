"""The articles of a read newspaper or magazine, as the layout analysis of its pages found them.

``digitize.layout`` groups a page's blocks into articles where a headline makes the grouping clear;
the reading keeps each block's role and article in the page's compact layout
(:mod:`library.catalogue.page_layout`, format 2). When an item finishes reading,
:func:`write_found_articles` writes them beside the item as the same ``structure.json`` a METS import
keeps (:mod:`library.ingest.mets_structure` reads both), marked ``"source": "layout"``, so the item page's
table of contents, the API's ``articles`` and the METS export's logical structure show them.

An imported structure (a METS package's, made by people) is never replaced by a machine's: an item
that has one keeps it when it is read again. The labels are the headlines as read when the item
finished; a correction of a headline shows in the table of contents when the item is read again.
"""

from __future__ import annotations

import json

from library.catalogue import page_layout

STRUCTURE_FILE = "structure.json"  # the same file the METS import writes (library.ingest.mets_import)
SOURCE = "layout"  # the value of "source" in a structure.json these articles were written to
LABEL_CHARS = 160  # a headline longer than this is cut (with "…") in the table of contents


def page_articles(sequence: int, text: str | None, layout: page_layout.PageLayout) -> list[dict]:
    """The articles of one page as structure divisions (``{"type": "article", "label", "order",
    "pages", "areas", "children"}``) in reading order; ``[]`` when its layout grouped none."""
    text = text or ""
    out = []
    for blocks in layout.articles().values():  # in the order of their first blocks: reading order
        heads = [b for b in blocks if b.role == "headline"]
        label = _label(text[heads[0].char_start:heads[0].char_end]) if heads else None
        out.append({"type": "article", "label": label, "order": None, "pages": [sequence],
                    "areas": [{"page": sequence, "block": b.block} for b in blocks], "children": []})
    return out


def item_structure(pages) -> dict | None:
    """The structure of an item from its read pages (``(sequence, text, layout blob)``, any order), or
    None when no page has an article."""
    divisions = []
    for sequence, text, blob in sorted(pages, key=lambda p: p[0]):
        if not blob:
            continue
        divisions += page_articles(sequence, text, page_layout.decode(blob, text))
    if not divisions:
        return None
    for n, d in enumerate(divisions, start=1):
        d["order"] = n
    return {"source": SOURCE, "divisions": divisions}


def write_found_articles(store, item_id: int, pages) -> bool:
    """Write (or remove) the articles the layout found on ``pages`` beside item ``item_id``; an
    imported structure stays as it is. True when a structure of found articles is there afterwards."""
    relpath = store.item_derivative_relpath(item_id, STRUCTURE_FILE)
    path = store.resolve(relpath)
    try:
        existing = json.loads(path.read_bytes())
    except FileNotFoundError:
        existing = None
    except ValueError:  # unreadable: fixity reports it; never overwrite what may be an imported file
        return False
    if existing is not None and existing.get("source") != SOURCE:
        return False  # imported with its own structure (METS): people's articles win over the machine's
    structure = item_structure(pages)
    if structure is None:
        if existing is not None:
            path.unlink(missing_ok=True)
        return False
    structure["item_id"] = item_id
    body = json.dumps(structure, ensure_ascii=False, indent=1).encode("utf-8")
    if existing != json.loads(body):
        store.write_bytes(relpath, body)
    return True


def _label(headline: str) -> str | None:
    words = " ".join(headline.split())
    if not words:
        return None
    return words if len(words) <= LABEL_CHARS else words[:LABEL_CHARS - 1].rstrip() + "…"
