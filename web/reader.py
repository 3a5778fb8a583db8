"""The reader: one page of an item at a time, for items of any length (issue #13, point 1).

Routes (blueprint ``reader``):

- ``/items/<id>/pages/<n>``: page ``n`` — its deep-zoom image (one viewer), its text beside or under it
  (switchable), previous/next (links, keys ← →, a swipe), first/last, a page slider and a jump-to-page
  field (``?page=<m>`` answers with a redirect to page ``m``), a strip of the nearby pages' thumbnails, the
  item's table of contents; ``?q=`` searches inside the item: the pages with matches are listed (each a
  link to that page with the same search) and the matches on this page are boxed on the image, each with
  its own stable URL (``…/pages/<n>?q=<q>#hit-<k>``); with ``go=first`` (the item page's search form) it
  goes to the first page with a match. This is the stable URL of a page (citations link here).
- ``/api/v1/items/<id>/progress``: how many pages of the item are read, queued, running or failed — what
  the reader and the item page poll while an item is being read (never a reload of the page).

Every query is bounded by the page's place: the page, the thumbnails around it (the (item_id, sequence)
index) and the item's page count; a 1,000-page book costs what a leaflet does. The item's access rules
apply as on the item page (404 as if missing, 403 or 410 with the reason).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for

from library.access import Refused
from web import guard, reader_words
from web.errors import error_page
from web.i18n import TEXT, add, current_lang

bp = Blueprint("reader", __name__)
add(vi=reader_words.VI, en=reader_words.EN)

THUMBS_AROUND = 5  # thumbnails on each side of the page in the strip
PAGES_LISTED = 200  # pages with matches listed under a search inside the item
QUERY_CHARS = 200


def _platform():
    return current_app.extensions["heritage"]


def reader_url(item_id: int, sequence: int, *, lang: str | None = None, q: str | None = None,
               hit: int | None = None) -> str:
    """The stable URL of page ``sequence`` of an item (with a search inside it, and one of its matches)."""
    args = [(k, v) for k, v in (("lang", lang), ("q", q)) if v]
    url = url_for("reader.page", item_id=item_id, sequence=sequence) + ("?" + urlencode(args) if args else "")
    return url + (f"#hit-{hit}" if hit is not None else "")


bp.add_app_template_global(reader_url, "reader_url")


def han_segments(text: str | None) -> list[tuple[str, str | None]] | None:
    """The page text cut for showing each Hán character's Sino-Vietnamese reading above it: ``(text,
    None)`` runs of other text, ``(character, reading)`` for a character that has one; None when the text
    holds no Hán character (the page is shown as it is)."""
    from search.han_readings import has_han, reading_of

    if not text or not has_han(text):
        return None
    out: list[tuple[str, str | None]] = []
    run: list[str] = []
    for ch in text:
        reading = reading_of(ch)
        if reading is None:
            run.append(ch)
            continue
        if run:
            out.append(("".join(run), None))
            run = []
        out.append((ch, reading))
    if run:
        out.append(("".join(run), None))
    return out


def text_language(languages: str | None) -> str:
    """The BCP 47 tag of an item's first language, for the ``lang`` of its text (``lzh`` stays ``lzh``)."""
    from web.iiif import LANGUAGES

    first = (languages or "vie").split("+")[0]
    return LANGUAGES.get(first, (first[:2],))[0]


def facing_page(sequence: int, window):
    """The page that faces ``sequence`` in the open item, as ``(row, side)`` with ``side`` "left" or "right"
    (where it lies), when it has been read: page 1 stands alone (a recto), then 2 | 3, 4 | 5 … — shown
    side by side on a wide screen (reader.js); None otherwise."""
    if window.total < 3 or sequence < 2:
        return None
    other, side = (sequence + 1, "right") if sequence % 2 == 0 else (sequence - 1, "left")
    row = next((r for r in window.rows if r.sequence == other), None)
    if row is None or row.status != "done":
        return None
    return row, side


@bp.get("/items/<int:item_id>/pages/<int:sequence>")
def page(item_id: int, sequence: int):
    lang = current_lang()
    t = TEXT[lang]
    item, decision = guard.item_record(item_id)  # 404 as if missing, 403 or 410 with the reason
    if not decision.content:  # the record only (restricted_metadata = shown): its pages answer 403
        raise Refused(decision)
    q = request.args.get("q", "").strip()[:QUERY_CHARS]
    if "page" in request.args:  # the jump-to-page field and the slider
        try:
            wanted = int(request.args["page"])
        except ValueError:
            wanted = sequence
        return redirect(reader_url(item_id, max(1, wanted), lang=request.args.get("lang"), q=q or None), 302)
    p = _platform()
    window = p.catalogue.page_window(item_id, start=max(1, sequence - THUMBS_AROUND), count=2 * THUMBS_AROUND + 1)
    current = next((r for r in window.rows if r.sequence == sequence), None)
    if current is None:
        resp = error_page(404, t["rd_no_page"].format(n=sequence, total=window.total))
        return guard.keep_private(current_app.make_response(resp), item, decision)
    within = None
    if q:
        from web.viewer import current_actor

        within = p.search.within_item(item_id, q, actor=current_actor(), sequence=sequence)
        if request.args.get("go") == "first" and within.pages and sequence not in dict(within.pages):
            # the item page's search: straight to the first page with a match
            return redirect(reader_url(item_id, within.pages[0][0], lang=request.args.get("lang"), q=q), 302)
    facing = facing_page(sequence, window)
    contents = p.mets.contents(item_id)
    boxes = [[b.x, b.y, b.w, b.h] for sp in (within.spans if within else []) for b in sp.boxes[:1]]
    from web.iiif import inline_info

    infos = {"zoom-info": inline_info(current)}
    if facing:
        infos["zoom-facing-info"] = inline_info(facing[0])
    resp = current_app.make_response(render_template(
        "reader.html", t=t, lang=lang, item=item, access=decision, page=current, window=window,
        infos={k: v for k, v in infos.items() if v},
        text=window.texts.get(current.page_id), segments=han_segments(window.texts.get(current.page_id)),
        text_lang=text_language(item.languages), q=q, within=within, boxes=boxes, contents=contents,
        contents_source=p.mets.contents_source(item_id) if contents else None, pages_listed=PAGES_LISTED,
        facing=facing,
        busy_item=item.status.value == "processing"))
    return guard.keep_private(resp, item, decision)


@bp.get("/api/v1/items/<int:item_id>/progress")
def progress(item_id: int):
    """``{"status", "pages": {status: n}, "total", "done"}`` of an item its reader may see."""
    item, decision = guard.item_record(item_id)
    counts = {}
    if decision.content:  # the item's pages counted per status (the pages.item_id index), none that are 0
        (row,) = _platform().catalogue.item_statuses([item_id])
        counts = {status: n for status, n in row.counts.items() if n}
    return jsonify(status=item.status.value, pages=counts, total=sum(counts.values()), done=counts.get("done", 0))
