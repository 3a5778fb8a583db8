"""Public pages: the collections being digitised with progress per item and
per page, and search across every collection, in Vietnamese (default) or English."""

from __future__ import annotations

from urllib.parse import urlencode

import csv
import io

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from library.errors import InputRejected, NotFound
from web import guard, page_words
from web.i18n import TEXT, add, current_lang

bp = Blueprint("pages", __name__)

FACET_PARAMS = ("type", "collection", "language", "creator", "decade", "year")

add(vi=page_words.VI, en=page_words.EN)


@bp.app_context_processor
def _language_switch():
    lang = current_lang()
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return {"switch_query": urlencode(args + [("lang", TEXT[lang]["switch_lang"])])}


@bp.after_app_request
def _remember_language(resp):
    if request.args.get("lang") in TEXT:
        resp.set_cookie("lang", request.args["lang"], samesite="Lax", httponly=True, max_age=365 * 86400)
    return resp


bp.add_app_template_global(guard.size_text, "size_text")

PAGES_PER_SCREEN = 10  # pages (each with its viewer and text) the item page shows at once


def window_start(sequence: int, per_screen: int = PAGES_PER_SCREEN) -> int:
    """The first sequence of the item-page window holding page ``sequence`` (windows 1-10, 11-20, ...)."""
    return (max(1, int(sequence)) - 1) // per_screen * per_screen + 1


@bp.app_template_global()
def page_url(item_id: int, sequence: int, lang: str | None = None) -> str:
    """The item page's URL showing page ``sequence``: its window (``?from=``, left out for the first)
    and the ``#page-<n>`` anchor."""
    args = [("lang", lang)] if lang else []
    start = window_start(sequence)
    args += [("from", start)] if start > 1 else []
    return f"/items/{item_id}" + (f"?{urlencode(args)}" if args else "") + f"#page-{sequence}"


def item_page_url(item_id: int, sequence: int | None = None, *, external: bool = False) -> str:
    """``url_for`` the item page at page ``sequence`` (its window and anchor); the item page if None."""
    if not sequence:
        return url_for("pages.item", item_id=item_id, _external=external)
    start = window_start(sequence)
    return (url_for("pages.item", item_id=item_id, _external=external, **({"from": start} if start > 1 else {}))
            + f"#page-{sequence}")


def _int_arg(name: str, default: int) -> int:
    try:
        return max(1, min(int(request.args.get(name, default)), guard.MAX_ID))
    except ValueError:
        return default


@bp.get("/items/<int:item_id>")
def item(item_id: int):
    """The item's record and one window of its pages (``?from=<first sequence>``, PAGES_PER_SCREEN at a
    time, never all of them); ``?page=<n>`` jumps to the window of page n."""
    lang = current_lang()
    c = current_app.extensions["heritage"].catalogue
    try:
        it, decision = guard.item_record(item_id)  # 404 as if missing, 403 or 410 with the reason
    except NotFound:
        abort(404)
    if "page" in request.args:  # the jump-to-page field
        return redirect(page_url(item_id, _int_arg("page", 1), lang), 302)
    window = None
    if decision.content:
        window = c.page_window(item_id, start=_int_arg("from", 1), count=PAGES_PER_SCREEN)
        pages, texts = window.rows, window.texts
        mets = current_app.extensions["heritage"].mets
        contents = mets.contents(item_id)  # articles, sections (a METS import's, or found by layout analysis)
        contents_source = mets.contents_source(item_id) if contents else None
    else:  # restricted_metadata = shown: the record only, no page, image or text
        pages, texts, contents, contents_source = [], {}, [], None
    busy = it.status.value == "processing"  # its progress is polled by script (progress.js), never a reload
    staff_view = guard.current_actor().is_staff  # staff see the access state (level, embargo, withdrawal)
    resp = current_app.make_response(render_template(
        "item.html", item=it, pages=pages, texts=texts, t=TEXT[lang], lang=lang, busy_item=busy, access=decision,
        staff_view=staff_view, contents=contents, contents_source=contents_source, window=window))
    return guard.keep_private(resp, it, decision)


def _escaped(text: str) -> str:
    """``text`` escaped as ``markupsafe.escape`` does, as a plain string (no object made per piece: a search
    page's 60 snippets are a few hundred pieces)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&#39;").replace('"', "&#34;"))


def highlight(snippet) -> Markup:
    """A snippet with its matches in <mark>, every piece of OCR text escaped."""
    text, out, pos = snippet.text, [], 0
    for start, end in sorted(snippet.highlights):
        out += [_escaped(text[pos:start]), "<mark>", _escaped(text[start:end]), "</mark>"]
        pos = end
    out.append(_escaped(text[pos:]))
    return Markup(("…" if snippet.cut_before else "") + "".join(out) + ("…" if snippet.cut_after else ""))


def hit_boxes(hit) -> Markup:
    """The boxes of a hit's matches over its page thumbnail (SVG ``rect``s, each titled with its words):
    built here rather than in the template, where a page of 20 hits with 150 boxes cost a millisecond."""
    out = []
    for sp in hit.spans:
        title = escape(sp.text)
        out += [f'<rect class="hitbox" x="{int(b.x)}" y="{int(b.y)}" width="{int(b.w)}" height="{int(b.h)}">'
                f"<title>{title}</title></rect>" for b in sp.boxes]
    return Markup("".join(out))


def page_picture(page_id: int, width: int, height: int) -> dict:
    """What a search hit's page picture needs: ``src`` (the smallest size ``info.json`` advertises, at
    most 512 px on its long side), ``srcset`` (with the next one, for screens of 2–3 device pixels per
    CSS pixel) and the CSS size it is shown at (200 px wide). Advertised sizes are what the image
    service keeps in its cache: a page of 20 hits renders nothing twice (a "400," request, not one of
    them, was rendered from the page image at every view)."""
    from library.discovery.iiif import advertised_sizes, formats
    from web.iiif import image_limits

    sizes = advertised_sizes(width, height, image_limits())[:2]
    fmt = "webp" if "webp" in formats() else "jpg"  # WebP: a fifth to a quarter fewer bytes for a page of text
    urls = [(f"/iiif/image/p{page_id}/full/{w},{h}/0/default.{fmt}", w) for w, h in sizes]
    return {"src": urls[0][0], "srcset": ", ".join(f"{u} {w}w" for u, w in urls),
            "width": 200, "height": max(1, round(200 * height / width))}


@bp.get("/search")
def search():
    """The search page; every choice lives in the URL, so a search can be shared."""
    lang = current_lang()
    t = TEXT[lang]
    q = request.args.get("q", "")[:500]
    fuzzy = request.args.get("fuzzy") == "1"
    filters = {k: request.args.getlist(k) for k in FACET_PARAMS if request.args.getlist(k)}
    try:
        page = max(1, min(int(request.args.get("page", "1")), 5000))
    except ValueError:
        page = 1
    year_from, year_to = _year_arg("year_from"), _year_arg("year_to")
    res, error, notices = None, None, []
    if q.strip():
        try:
            from web.viewer import current_actor

            res = current_app.extensions["heritage"].search.search(q, actor=current_actor(), filters=filters,
                                                                   page=page, per_page=20, fuzzy=fuzzy,
                                                                   year_from=year_from, year_to=year_to)
            notices = [t.get(f"notice_{code}", message) for code, message in zip(res.notice_codes, res.notices)]
        except InputRejected as exc:
            error = exc.problem

    base = [(k, v, urlencode([(k, v)])) for k, v in request.args.items(multi=True) if k != "page"]

    def page_link(n: int) -> str:
        return "&".join([enc for _, _, enc in base] + [urlencode([("page", n)])])

    def facet_link(name: str, value) -> str:  # the query with this value added (once), each pair encoded once
        value = str(value)
        return "&".join([enc for k, v, enc in base if not (k == name and v == value)] + [urlencode([(name, value)])])

    def instead(query: str, *, fuzzy_too: bool = False) -> str:  # the same search, the query (or fuzziness) changed
        kept = [enc for k, _, enc in base if k not in ("q", "fuzzy")]
        return "&".join(kept + [urlencode([("q", query)])] + (["fuzzy=1"] if fuzzy_too or fuzzy else []))

    from search.vietnamese import fold

    plain = fold(q)  # Văn Miếu → Van Mieu: what a reader without a Vietnamese keyboard types
    return render_template("search.html", t=t, lang=lang, q=q, fuzzy=fuzzy, res=res, error=error, notices=notices,
                           page_link=page_link, facet_link=facet_link, highlight=highlight, hit_boxes=hit_boxes,
                           page_picture=page_picture,
                           year_from=year_from, year_to=year_to, refined=bool(filters or year_from or year_to),
                           try_plain=instead(plain) if plain != q else None,
                           try_fuzzy=instead(q, fuzzy_too=True) if not fuzzy else None, plain=plain)


def _year_arg(name: str) -> int | None:
    """A year of the date range (the refine panel): a whole number 1–9999, or None (empty or not a year)."""
    try:
        year = int(request.args.get(name, "").strip())
    except ValueError:
        return None
    return year if 1 <= year <= 9999 else None


CSV_COLUMNS = ("item_id", "title", "page", "page_id", "matches", "snippet", "link")


def csv_safe(value) -> str:
    """A cell a spreadsheet shows as text: one that could start a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/search.csv")
def search_csv():
    """The search's hits as CSV (UTF-8 with BOM, for spreadsheets), same query string as /search."""
    q = request.args.get("q", "")[:500]
    filters = {k: request.args.getlist(k) for k in FACET_PARAMS if request.args.getlist(k)}
    from web.viewer import current_actor

    try:
        res = current_app.extensions["heritage"].search.search(q, actor=current_actor(), filters=filters,
                                                               per_page=100, fuzzy=request.args.get("fuzzy") == "1",
                                                               year_from=_year_arg("year_from"),
                                                               year_to=_year_arg("year_to"))
    except InputRejected as exc:
        return Response(f"{exc.problem}\n", status=422, mimetype="text/plain")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for h in res.hits:
        snippet = " … ".join(sn.text.replace("\n", " ") for sn in h.snippets)
        writer.writerow([csv_safe(v) for v in (
            h.item_id, h.item_title, h.sequence, h.page_id, " ".join(sp.text for sp in h.spans), snippet,
            url_for("reader.page", item_id=h.item_id, sequence=h.sequence, _external=True))])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="search.csv"'})
