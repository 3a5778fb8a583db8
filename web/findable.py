"""Findable and citable: what search engines, reference managers and aggregators read.

Routes (blueprint ``findable``):

- ``/robots.txt``: what crawlers may fetch, and where the sitemap is;
- ``/sitemap.xml``: a sitemap index of ``/sitemap-pages.xml`` (home, collections, monuments,
  serials) and ``/sitemap-items-<n>.xml``, chunk ``n`` covering item ids
  ``(n-1)·CHUNK+1 … n·CHUNK`` (``CHUNK`` = 50,000, the protocol's limit, or ``SITEMAP_CHUNK_ITEMS``);
(``/items/<id>/pages/<n>``, the stable URL of page ``n`` of an item, is the reader's: :mod:`web.reader`.)

Sitemaps list only what the anonymous public may see (:func:`library.access.visible_condition` for an
anonymous actor outside the reading room), whoever asks; each chunk is one query on an id range.

The item page's record, citation and ``citation_*`` meta tags come from :func:`findable`, a template
global (``templates/item_record.html``, ``templates/item_meta.html``). Absolute URLs are built with
``url_for(_external=True)``, which names ``HERITAGE_PUBLIC_URL`` when it is set
(:class:`web.security.PublicURL`), never the request's Host header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from xml.sax.saxutils import escape

from flask import Blueprint, Response, current_app, url_for
from sqlalchemy import func, select

from library.access import Actor
from library.catalogue.models import Collection, Item, Monument
from library.discovery.citing import citation, rights_uri
from library.errors import NotFound
from web import findable_words, guard
from web.i18n import TEXT, add

bp = Blueprint("findable", __name__)
add(vi=findable_words.VI, en=findable_words.EN)

SITEMAP_CHUNK_ITEMS = 50_000  # the sitemap protocol's limit of URLs per file
SITEMAP_MAX_AGE_S = 3_600
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"

ROBOTS_DISALLOW = (
    "/staff/",  # sign-in and every staff page
    "/api/v1/jobs", "/api/v1/feedback", "/api/v1/items/*/history",  # the API's staff parts
    "/iiif/image/",  # image tiles: viewers fetch them, crawlers need not
    "/search.csv",
)


def _platform():
    return current_app.extensions["heritage"]


def _public() -> Actor:
    """The sitemaps' reader: anonymous, outside the reading room, whoever sent the request."""
    return Actor.anonymous(None)


def _chunk_size() -> int:
    return int(current_app.config.get("SITEMAP_CHUNK_ITEMS", SITEMAP_CHUNK_ITEMS))


def _w3c(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite gives back naive datetimes, stored in UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _xml(body: str, max_age_s: int = SITEMAP_MAX_AGE_S) -> Response:
    resp = Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body, mimetype="application/xml")
    resp.headers["Content-Type"] = "application/xml; charset=utf-8"
    resp.cache_control.public = True
    resp.cache_control.max_age = max_age_s
    return resp


def _entry(tag: str, loc: str, lastmod: str | None = None) -> str:
    mod = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    return f"<{tag}><loc>{escape(loc)}</loc>{mod}</{tag}>"


# ------------------------------------------------------------------ robots and sitemaps
@bp.get("/robots.txt")
def robots():
    lines = ["User-agent: *", "Allow: /"] + [f"Disallow: {path}" for path in ROBOTS_DISALLOW]
    lines += ["", f"Sitemap: {url_for('findable.sitemap_index', _external=True)}", ""]
    resp = Response("\n".join(lines), mimetype="text/plain")
    resp.cache_control.public = True
    resp.cache_control.max_age = SITEMAP_MAX_AGE_S
    return resp


def item_chunks(session, visible, chunk: int) -> list[tuple[int, datetime | None]]:
    """``[(chunk number, last change of its items)]`` of the chunks holding at least one visible item:
    one aggregate query, no item loaded."""
    number = (Item.id - 1) // chunk + 1
    rows = session.execute(select(number.label("n"), func.max(Item.updated_at)).where(visible)
                           .group_by(number).order_by(number))
    return [(int(n), last) for n, last in rows]


@bp.get("/sitemap.xml")
def sitemap_index():
    p = _platform()
    with p.sessions() as s:
        chunks = item_chunks(s, p.access.visible(_public()), _chunk_size())
    entries = [_entry("sitemap", url_for("findable.sitemap_pages", _external=True))]
    entries += [_entry("sitemap", url_for("findable.sitemap_items", n=n, _external=True), _w3c(last))
                for n, last in chunks]
    return _xml(f'<sitemapindex xmlns="{SITEMAP_NS}">\n' + "\n".join(entries) + "\n</sitemapindex>\n")


@bp.get("/sitemap-items-<int:n>.xml")
def sitemap_items(n: int):
    """The public items whose ids fall in chunk ``n``, by id, with ``lastmod`` from ``updated_at``."""
    chunk = _chunk_size()
    if n < 1 or (n - 1) * chunk > guard.MAX_ID:
        raise NotFound(f"no sitemap chunk {n}")
    p = _platform()
    with p.sessions() as s:
        rows = s.execute(select(Item.id, Item.updated_at)
                         .where(Item.id > (n - 1) * chunk, Item.id <= n * chunk, p.access.visible(_public()))
                         .order_by(Item.id)).all()
    if not rows:
        raise NotFound(f"no sitemap chunk {n}")
    entries = [_entry("url", url_for("pages.item", item_id=item_id, _external=True), _w3c(updated))
               for item_id, updated in rows]
    return _xml(f'<urlset xmlns="{SITEMAP_NS}">\n' + "\n".join(entries) + "\n</urlset>\n")


@bp.get("/sitemap-pages.xml")
def sitemap_pages():
    """The portal's public pages: home, collections (those the public may see), monuments, serials."""
    p = _platform()
    public = _public()
    with p.sessions() as s:
        collection_ids = list(s.scalars(select(Collection.id).where(p.access.visible_collections(public))
                                        .order_by(Collection.id)))
        slugs = list(s.scalars(select(Monument.slug).order_by(Monument.id)))
    locs = [url_for("browse.home", _external=True), url_for("browse.collections", _external=True)]
    locs += [url_for("browse.collection", collection_id=c, _external=True) for c in collection_ids]
    locs += [url_for("monuments.index", _external=True)]
    locs += [url_for("monuments.monument", slug=slug, _external=True) for slug in slugs]
    if "serials.serials" in current_app.view_functions:
        locs.append(url_for("serials.serials", _external=True))
    entries = [_entry("url", loc) for loc in locs]
    return _xml(f'<urlset xmlns="{SITEMAP_NS}">\n' + "\n".join(entries) + "\n</urlset>\n")


# ------------------------------------------------------------------ the item page's record and citation
@dataclass(frozen=True)
class Findable:
    """What the item page shows and says about citing the item.

    ``rows``: ``[(field, label, value)]`` for every Dublin Core field that is set; ``url``: the item's
    stable absolute URL; ``citation``: one line; ``pages``: ``[(sequence, url, citation)]``;
    ``meta``: ``[(name, content)]`` for ``<meta>`` tags (Highwire ``citation_*`` and ``DC.*``)."""

    rows: list[tuple[str, str, str]]
    url: str
    citation: str
    pages: list[tuple[int, str, str]] = field(default_factory=list)
    meta: list[tuple[str, str]] = field(default_factory=list)


def _record_rows(item, t: dict) -> list[tuple[str, str, str]]:
    codes = [c for c in (item.languages or "").split("+") if c]
    rights = item.rights or ""
    uri = rights_uri(rights)
    values = [
        ("title", item.title),
        ("creator", item.creator),
        ("date", item.date_text),
        ("publisher", item.publisher),
        ("subject", item.subject),
        ("description", item.description),
        ("language", ", ".join(t.get(c, c) for c in codes)),
        ("type", t.get(item.item_type.value, item.item_type.value)),
        ("identifier", item.identifier),
        ("rights", rights if not uri or uri == rights.strip() else f"{rights} ({uri})"),
        ("serial_title", item.serial_title),
        ("issue_date", item.issue_date_text or (item.issue_date.isoformat() if item.issue_date else None)),
        ("issue_number", item.issue_number),
        ("collection", item.collection.name if item.collection is not None else None),
    ]
    return [(name, t[f"rec_field_{name}"], str(value)) for name, value in values if value]


def _meta(item, url: str, pdf_url: str | None) -> list[tuple[str, str]]:
    meta = [("citation_title", item.title)]
    meta += [("citation_author", a.strip()) for a in (item.creator or "").split(";") if a.strip()]
    when = item.date_iso or (str(item.year_start) if item.year_start else None)
    if item.issue_date:
        when = item.issue_date.isoformat()
    if when:
        meta.append(("citation_publication_date", when.replace("-", "/")))
    for name, value in (("citation_publisher", item.publisher), ("citation_journal_title", item.serial_title),
                        ("citation_issue", item.issue_number)):
        if value:
            meta.append((name, value))
    first = (item.languages or "").split("+")[0]
    if first:
        meta.append(("citation_language", {"vie": "vi", "fra": "fr", "eng": "en"}.get(first, first)))
    meta.append(("citation_abstract_html_url", url))
    if pdf_url:
        meta.append(("citation_pdf_url", pdf_url))
    meta += [("DC.title", item.title), ("DC.identifier", url)]
    for name, value in (("DC.creator", item.creator), ("DC.date", item.date_text), ("DC.publisher", item.publisher),
                        ("DC.subject", item.subject), ("DC.rights", item.rights), ("DC.type", item.item_type.value)):
        if value:
            meta.append((name, value))
    return meta


@bp.app_template_global()
def findable(item, pages=(), access=None, lang: str = "vi") -> Findable:
    """The record, citation and meta tags of ``item`` (``pages``: the page rows shown, with ``sequence``)."""
    t = TEXT[lang if lang in TEXT else "vi"]
    url = url_for("pages.item", item_id=item.id, _external=True)
    accessed = _platform().access.today()
    fields = dict(title=item.title, creator=item.creator, publisher=item.publisher,
                  date_text=item.date_text or item.issue_date_text, serial_title=item.serial_title,
                  issue_number=item.issue_number, accessed=accessed, lang=lang)
    content = access is not None and access.content
    page_rows = []
    for p in pages if content else ():
        page_url = url_for("reader.page", item_id=item.id, sequence=p.sequence, _external=True)
        page_rows.append((p.sequence, page_url, citation(url=page_url, page=p.sequence, **fields)))
    done = content and getattr(item.status, "value", item.status) == "done"
    pdf_url = url_for("exports.pdf", item_id=item.id, _external=True) if done else None
    return Findable(rows=_record_rows(item, t) + [("link", t["rec_field_link"], url)], url=url,
                    citation=citation(url=url, **fields), pages=page_rows, meta=_meta(item, url, pdf_url))
