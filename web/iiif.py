"""IIIF for viewers (Mirador, Universal Viewer, OpenSeadragon): the Image API 3
over every read page, a Presentation API 3 manifest per item and a collection
per catalogue collection, and the page's hOCR, ALTO and text as ``seeAlso``.

Routes (blueprint ``iiif``):

- ``/iiif/image/<identifier>`` → 303 to ``info.json``; identifiers are ``p<page id>``
- ``/iiif/image/<identifier>/info.json``
- ``/iiif/image/<identifier>/<region>/<size>/<rotation>/<quality>.<format>``
- ``/iiif/<item>/manifest``
- ``/iiif/<item>/canvas/p<seq>/hocr``, ``…/alto``, ``…/text``
- ``/iiif/collection/top`` and ``/iiif/collection/<collection id>``

Canvas URIs are those of :func:`web.iiif_search.canvas_uri`, so search hits land
on the manifest's canvases. A malformed image request answers 400 with the reason.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, redirect, request, url_for
from sqlalchemy import select

from library.discovery.citing import LIBRARY_NAME, nav_date, rights_uri
from library.discovery.iiif import (ImageLimits, ImageRequestError, ImageService, PageImage, identifier_of,
                                    page_id_of, parse_size, viewer_image_path)
from library.reading.ocr_jobs import IMAGES_ONLY_REASON
from library.errors import NotFound
from library.catalogue.models import Item
from web import guard
from web.iiif_search import canvas_uri

bp = Blueprint("iiif", __name__, url_prefix="/iiif")

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
SEARCH2_CONTEXT = "http://iiif.io/api/search/2/context.json"
IMAGE_MAX_AGE_S = 86_400
INFO_MAX_AGE_S = 3_600
MANIFEST_MAX_AGE_S = 60  # pages appear in the manifest as they are read
THUMBNAIL_SIZE = "!200,200"

# Dublin Core fields of an item, with their labels in Vietnamese and English
METADATA = [
    ("creator", "Tác giả", "Creator"),
    ("date_text", "Năm", "Date"),
    ("publisher", "Nhà xuất bản", "Publisher"),
    ("subject", "Chủ đề", "Subject"),
    ("serial_title", "Ấn phẩm định kỳ", "Serial"),
    ("issue_date_text", "Ngày phát hành", "Issue date"),
    ("issue_number", "Số", "Issue number"),
    ("identifier", "Mã định danh", "Identifier"),
]
ITEM_TYPES = {
    "book": ("sách", "book"), "newspaper": ("báo", "newspaper"), "magazine": ("tạp chí", "magazine"),
    "manuscript": ("bản thảo", "manuscript"), "other": ("khác", "other"),
}
LANGUAGES = {  # tesseract code: (BCP 47, Vietnamese name, English name)
    "vie": ("vi", "tiếng Việt", "Vietnamese"), "fra": ("fr", "tiếng Pháp", "French"),
    "eng": ("en", "tiếng Anh", "English"), "chi_tra": ("zh-Hant", "chữ Hán phồn thể", "Traditional Chinese"),
    "chi_sim": ("zh-Hans", "chữ Hán giản thể", "Simplified Chinese"),
    "lzh": ("lzh", "chữ Hán (Hán văn)", "Literary Chinese (Hán script)"),
}
SEE_ALSO = {  # kind: (format, profile, Vietnamese label, English label)
    "hocr": ("text/vnd.hocr+html", "http://kba.github.io/hocr-spec/1.2/", "hOCR", "hOCR"),
    "alto": ("application/xml", "http://www.loc.gov/standards/alto/v4/alto.xsd", "ALTO", "ALTO"),
    "text": ("text/plain", None, "Văn bản", "Plain text"),
}
MEDIA = {"hocr": "text/html", "alto": "application/xml", "text": "text/plain"}


def _platform():
    return current_app.extensions["heritage"]


def image_limits() -> ImageLimits:
    """The image service's limits: the app's (tests set IIIF_LIMITS) or the settings'."""
    return current_app.config.get("IIIF_LIMITS") or ImageLimits(cache_bytes=_platform().settings.iiif_cache_bytes)


def _images() -> ImageService:
    p = _platform()
    return ImageService(p.catalogue, p.store, image_limits())


@bp.errorhandler(ImageRequestError)
def _bad_request(exc: ImageRequestError):
    resp = jsonify(error="BadIIIFRequest", parameter=exc.source, message=str(exc))
    resp.status_code = 400
    return _cors(resp)


@bp.after_request
def _cors(resp):
    resp.headers["Access-Control-Allow-Origin"] = "*"  # viewers on other sites may show our images
    return resp


# ------------------------------------------------------------------ Image API 3
def inline_info(row) -> dict | None:
    """The ``info.json`` of a read page whose size the catalogue knows, for a page to carry with it (the
    reader's first image then waits for no round trip before its tiles); None otherwise (the viewer asks
    for it). The caller has checked that the actor may see the page."""
    if getattr(row, "status", None) != "done" or not row.width or not row.height:
        return None
    identifier = f"p{row.page_id}"
    image = PageImage(row.page_id, 0, row.sequence, Path(), int(row.width), int(row.height))
    return _images().info(image, _service_id(identifier))


def _service_id(identifier: str) -> str:
    return url_for("iiif.image_base", identifier=identifier, _external=True)


def _image_access(identifier: str):
    """``(item, decision)`` of the page the identifier names, before any image work: 400 for a malformed
    identifier, 404 (as if missing), 403 or 410 when the actor may not see the page (library.access)."""
    return guard.page_content(page_id_of(identifier))


@bp.get("/image/<identifier>")
def image_base(identifier: str):
    _image_access(identifier)
    _images().page_image(identifier)  # 400 or 404 before redirecting anywhere
    return redirect(url_for("iiif.image_info", identifier=identifier, _external=True), 303)


@bp.get("/image/<identifier>/info.json")
def image_info(identifier: str):
    item, decision = _image_access(identifier)
    images = _images()
    image = images.page_image(identifier)
    resp = jsonify(images.info(image, _service_id(identifier)))
    if "application/ld+json" in request.headers.get("Accept", ""):
        resp.headers["Content-Type"] = 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'
    resp.headers["Link"] = '<http://iiif.io/api/image/3/level2.json>;rel="profile"'
    resp.cache_control.public = True
    resp.cache_control.max_age = INFO_MAX_AGE_S
    guard.keep_private(resp, item, decision)
    resp.add_etag()
    return resp.make_conditional(request)


@bp.get("/image/<identifier>/<region>/<size>/<rotation>/<quality_format>")
def image(identifier: str, region: str, size: str, rotation: str, quality_format: str):
    quality, dot, fmt = quality_format.rpartition(".")
    if not dot:
        raise ImageRequestError("format", f"{quality_format[:40]!r} has no format (quality.format, e.g. default.jpg)")
    item, decision = _image_access(identifier)
    images = _images()
    page = images.page_image(identifier)
    req = images.parse(page, region, size, rotation, quality, fmt)
    out = images.rendered(page, req)
    resp = Response(out.data, mimetype=out.media_type)
    resp.set_etag(out.etag)
    resp.cache_control.public = True
    resp.cache_control.max_age = IMAGE_MAX_AGE_S
    guard.keep_private(resp, item, decision)
    resp.headers["Link"] = f'<{_service_id(identifier)}/{out.canonical}>;rel="canonical"'
    resp.headers["X-IIIF-Cache"] = "hit" if out.from_cache else "miss"
    return resp.make_conditional(request)


# ------------------------------------------------------------------ Presentation API 3
def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _bilingual(vi: str, en: str) -> dict:
    return {"vi": [vi], "en": [en]}


def _language_of(languages: str | None) -> str:
    first = (languages or "").split("+")[0]
    return LANGUAGES.get(first, ("none",))[0]


def _manifest_metadata(item) -> list[dict]:
    lang = _language_of(item.languages)
    rows = [{"label": _bilingual("Nhan đề", "Title"), "value": {lang: [_nfc(item.title)]}}]
    for field, vi, en in METADATA:
        value = getattr(item, field)
        if value:
            rows.append({"label": _bilingual(vi, en), "value": {"none": [_nfc(str(value))]}})
    kind = ITEM_TYPES.get(item.item_type.value, (item.item_type.value,) * 2)
    rows.append({"label": _bilingual("Loại hình", "Type"), "value": _bilingual(*kind)})
    codes = [c for c in (item.languages or "").split("+") if c]
    if codes:
        rows.append({"label": _bilingual("Ngôn ngữ", "Language"), "value": _bilingual(
            ", ".join(LANGUAGES.get(c, (c, c, c))[1] for c in codes),
            ", ".join(LANGUAGES.get(c, (c, c, c))[2] for c in codes))})
    if item.collection is not None:
        rows.append({"label": _bilingual("Bộ sưu tập", "Collection"), "value": {"none": [_nfc(item.collection.name)]}})
    return rows


def _image_body(identifier: str, width: int, height: int, size: str = "max") -> dict:
    w, h = (width, height) if size == "max" else parse_size(size, width, height, ImageLimits())
    service = _service_id(identifier)
    return {"id": f"{service}/full/{size}/0/default.jpg", "type": "Image", "format": "image/jpeg",
            "width": w, "height": h,
            "service": [{"id": service, "type": "ImageService3", "profile": "level2"}]}


def _canvas(item, page, store) -> dict | None:
    path = viewer_image_path(store, item.id, page.sequence)
    if not page.width or not page.height or path is None:
        return None  # not read yet: no image to paint
    cid = canvas_uri(item.id, page.sequence)
    ident = identifier_of(page.id)
    label = _nfc(page.label) if page.label else str(page.sequence)
    canvas = {
        "id": cid, "type": "Canvas", "label": {"none": [label]}, "width": page.width, "height": page.height,
        "thumbnail": [_image_body(ident, page.width, page.height, THUMBNAIL_SIZE)],
        "items": [{"id": f"{cid}/page", "type": "AnnotationPage", "items": [{
            "id": f"{cid}/painting", "type": "Annotation", "motivation": "painting",
            "body": _image_body(ident, page.width, page.height), "target": cid}]}],
    }
    see_also = []
    for kind, (fmt, profile, vi, en) in SEE_ALSO.items():  # made from the catalogue's reading (page_file)
        if page.status_reason != IMAGES_ONLY_REASON:
            ref = {"id": url_for("iiif.page_file", item_id=item.id, sequence=page.sequence, kind=kind,
                                 _external=True), "type": "Dataset" if kind != "text" else "Text",
                   "label": _bilingual(vi, en), "format": fmt}
            if profile:
                ref["profile"] = profile
            see_also.append(ref)
    if see_also:
        canvas["seeAlso"] = see_also
    return canvas


def _rights_and_attribution(item) -> dict:
    """``rights`` (a Creative Commons or RightsStatements.org URI, only when the item's rights are or
    name one) and ``requiredStatement`` (the library's attribution, with the rights as written)."""
    out = {}
    rights = _nfc(item.rights.strip()) if item.rights and item.rights.strip() else None
    uri = rights_uri(rights)
    if uri:
        out["rights"] = uri
    vi, en = f"Nguồn: {LIBRARY_NAME['vi']}", f"Source: {LIBRARY_NAME['en']}"
    if rights:
        vi, en = f"{vi}. Bản quyền: {rights}", f"{en}. Rights: {rights}"
    out["requiredStatement"] = {"label": _bilingual("Ghi nguồn", "Attribution"), "value": _bilingual(vi, en)}
    return out


def build_manifest(item, store) -> dict:
    """The Presentation 3 manifest of ``item`` (pages loaded): one canvas per read page."""
    canvases = [c for c in (_canvas(item, page, store) for page in item.pages) if c]
    if not canvases:
        raise NotFound(f"item {item.id} has no page read yet, so no manifest: try again when its pages are done")
    lang = _language_of(item.languages)
    manifest = {
        "@context": [SEARCH2_CONTEXT, PRESENTATION_CONTEXT],
        "id": url_for("iiif.manifest", item_id=item.id, _external=True),
        "type": "Manifest",
        "label": {lang: [_nfc(item.title)]},
        "metadata": _manifest_metadata(item),
    }
    if item.description:
        manifest["summary"] = {lang: [_nfc(item.description)]}
    manifest.update(_rights_and_attribution(item))
    when = nav_date(issue_date=item.issue_date, date_iso=item.date_iso, year_start=item.year_start)
    if when:
        manifest["navDate"] = when
    manifest["thumbnail"] = canvases[0]["thumbnail"]
    manifest["homepage"] = [{"id": url_for("pages.item", item_id=item.id, _external=True), "type": "Text",
                             "label": {lang: [_nfc(item.title)]}, "format": "text/html"}]
    manifest["seeAlso"] = [{"id": url_for("api.get_item", item_id=item.id, _external=True), "type": "Dataset",
                            "label": _bilingual("Biểu ghi (JSON)", "Record (JSON)"), "format": "application/json"}]
    if item.status.value == "done":  # the whole item as one file, once every page is read
        manifest["rendering"] = [
            {"id": url_for("exports.pdf", item_id=item.id, _external=True), "type": "Text",
             "label": _bilingual("Tải về PDF (có lớp chữ)", "Download as PDF (searchable)"),
             "format": "application/pdf"},
            {"id": url_for("exports.text", item_id=item.id, _external=True), "type": "Text",
             "label": _bilingual("Tải về văn bản", "Download the text"), "format": "text/plain"}]
    if item.collection is not None:
        manifest["partOf"] = [{"id": url_for("iiif.collection", collection_id=item.collection.id, _external=True),
                               "type": "Collection", "label": {"none": [_nfc(item.collection.name)]}}]
    manifest["service"] = [
        {"id": url_for("iiif_search.search_v2", item_id=item.id, _external=True), "type": "SearchService2"},
        {"@id": url_for("iiif_search.search_v1", item_id=item.id, _external=True), "@type": "SearchService1",
         "profile": "http://iiif.io/api/search/1/search"},
    ]
    manifest["items"] = canvases
    return manifest


def _shared(item, decision) -> bool:
    """May shared caches keep an answer about ``item``? Only when it is public for everyone."""
    return decision.level.value == "public" and item.withdrawn_at is None


def _ld_json(body: dict, max_age_s: int, *, private: bool = False):
    resp = jsonify(body)
    resp.mimetype = "application/ld+json"
    resp.cache_control.public = not private
    resp.cache_control.private = private or None
    resp.cache_control.max_age = max_age_s
    resp.add_etag()
    return resp.make_conditional(request)


@bp.get("/<int:item_id>/manifest")
def manifest(item_id: int):
    p = _platform()
    item, decision = guard.item_content(item_id)
    return _ld_json(build_manifest(p.catalogue.item(item_id), p.store), MANIFEST_MAX_AGE_S,
                    private=not _shared(item, decision))


@bp.get("/<int:item_id>/canvas/p<int:sequence>/<any(hocr, alto, text):kind>")
def page_file(item_id: int, sequence: int, kind: str):
    """The page's current text, ALTO or hOCR: made from the catalogue, so corrections are in it."""
    item, decision = guard.item_content(item_id)
    body, _revision = _platform().exports.page_document(item_id, sequence, kind)
    resp = Response(body.encode("utf-8"), mimetype=MEDIA[kind])
    if kind != "alto":
        resp.headers["Content-Type"] = f"{MEDIA[kind]}; charset=utf-8"
    resp.cache_control.public = True
    resp.cache_control.max_age = MANIFEST_MAX_AGE_S
    guard.keep_private(resp, item, decision)
    resp.add_etag()
    return resp.make_conditional(request)


# ------------------------------------------------------------------ collections
COLLECTION_PART = 1000  # manifests in one IIIF collection document; the rest in a nested "continued" one


@bp.get("/collection/top")
def collections():
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() and 0 < int(raw) <= guard.MAX_LIST_PAGES else 1
    shown, more = guard.collections_page(page, 100)  # by name, 100 a document; the rest nested, "continued"
    top = url_for("iiif.collections", _external=True)
    body = {"@context": PRESENTATION_CONTEXT, "id": request.url if page > 1 else top, "type": "Collection",
            "label": _bilingual("Bộ sưu tập của thư viện", "The library's collections"),
            "items": [{"id": url_for("iiif.collection", collection_id=c.id, _external=True), "type": "Collection",
                       "label": {"none": [_nfc(c.name)]}} for c in shown]}
    if more:
        body["items"].append({"id": url_for("iiif.collections", page=page + 1, _external=True), "type": "Collection",
                              "label": _bilingual("Bộ sưu tập (tiếp theo)", "Collections (continued)")})
    if page > 1:
        body["partOf"] = [{"id": top, "type": "Collection"}]
    return _ld_json(body, MANIFEST_MAX_AGE_S, private=guard.personal())


@bp.get("/collection/<int:collection_id>")
def collection(collection_id: int):
    """The collection's manifests: only the items the actor may see (library.access)."""
    p = _platform()
    if not 0 < collection_id <= guard.MAX_ID:
        raise NotFound(f"no collection {collection_id}")
    coll = p.catalogue.collection(collection_id)  # NotFound if missing
    if not guard.collection_shown(coll):
        raise NotFound(f"no collection {collection_id}")
    try:
        after = max(0, min(int(request.args.get("after", "0")), guard.MAX_ID))
    except ValueError:
        after = 0
    items = guard.collection_items(collection_id, limit=COLLECTION_PART + 1, after_id=after)  # keyset on the id
    more, items = len(items) > COLLECTION_PART, items[:COLLECTION_PART]
    whole = url_for("iiif.collection", collection_id=collection_id, _external=True)
    body = {"@context": PRESENTATION_CONTEXT, "id": request.url if after else whole, "type": "Collection",
            "label": {"none": [_nfc(coll.name)]},
            "items": [{"id": url_for("iiif.manifest", item_id=i.id, _external=True), "type": "Manifest",
                       "label": {_language_of(i.languages): [_nfc(i.title)]}} for i in items]}
    if more:  # Presentation 3 has no paging: the rest is a nested collection, a part of this one
        body["items"].append({"id": url_for("iiif.collection", collection_id=collection_id, after=items[-1].id,
                                            _external=True), "type": "Collection",
                              "label": _bilingual(f"{coll.name} (tiếp theo)", f"{coll.name} (continued)")})
    if after:
        body["partOf"] = [{"id": whole, "type": "Collection"}]
    if coll.description:
        body["summary"] = {"none": [_nfc(coll.description)]}
    return _ld_json(body, MANIFEST_MAX_AGE_S, private=guard.personal())
