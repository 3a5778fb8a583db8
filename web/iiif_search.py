"""IIIF Content Search (search inside one item): version 2.0, and 1.0 which
Mirador speaks. Each hit is an annotation targeting the canvas of its page at
the box of the words it covers (``canvas#xywh=…``).

Canvas URIs follow ``/iiif/<item>/canvas/p<page>``, as the item's manifest does.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for

from library.errors import InputRejected
from web import guard

bp = Blueprint("iiif_search", __name__, url_prefix="/iiif")

CONTEXT_2 = "http://iiif.io/api/search/2/context.json"
CONTEXT_1 = ["http://iiif.io/api/presentation/2/context.json", "http://iiif.io/api/search/1/context.json"]
MAX_QUERY_CHARS = 500


def canvas_uri(item_id: int, sequence: int) -> str:
    return url_for("iiif_search.canvas", item_id=item_id, sequence=sequence, _external=True)


@bp.get("/<int:item_id>/canvas/p<int:sequence>")
def canvas(item_id: int, sequence: int):
    guard.item_content(item_id)
    # the canvas itself is described by the item's manifest; its URI must dereference to something
    return jsonify({"id": request.base_url, "type": "Canvas", "partOf": [{"id": url_for(
        "iiif.manifest", item_id=item_id, _external=True), "type": "Manifest"}]})


def _query() -> str:
    q = request.args.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        raise InputRejected("q", f"the query is longer than {MAX_QUERY_CHARS} characters")
    return q


def _hits(item_id: int, q: str):
    """Every (annotation id, page, span, box) of the item's hits, in page order."""
    from web.viewer import current_actor

    res = current_app.extensions["heritage"].search.search_within(item_id, q, actor=current_actor())
    out = []
    for hit in res.hits:
        for n, span in enumerate(hit.spans):
            for m, box in enumerate(span.boxes):
                anno = url_for("iiif_search.search_v2", item_id=item_id, _external=True) + \
                    f"/anno/p{hit.sequence}-{span.start}-{m}"
                out.append((anno, hit, span, box, n, m))
    return res, out


def _context(page_text: str, start: int, end: int, width: int = 40) -> tuple[str, str]:
    return page_text[max(0, start - width):start], page_text[end:end + width]


@bp.get("/<int:item_id>/search")
def search_v2(item_id: int):
    guard.item_content(item_id)  # library.access before the search engine is asked
    q = _query()
    res, annos = _hits(item_id, q)
    texts = _page_texts(res)
    items, context = [], []
    for anno, hit, span, box, _n, m in annos:
        items.append({"id": anno, "type": "Annotation", "motivation": "highlighting",
                      "target": f"{canvas_uri(item_id, hit.sequence)}#xywh={box.xywh}"})
        if m == 0:
            before, after = _context(texts.get(hit.page_id, ""), span.start, span.end)
            context.append({"id": anno + "/context", "type": "Annotation", "motivation": "contextualizing",
                            "target": {"type": "SpecificResource", "source": anno, "selector": [{
                                "type": "TextQuoteSelector", "prefix": before, "exact": span.text,
                                "suffix": after}]}})
    body = {"@context": CONTEXT_2, "id": request.url, "type": "AnnotationPage", "items": items}
    if context:
        body["annotations"] = [{"type": "AnnotationPage", "items": context}]
    return _json(body)


@bp.get("/<int:item_id>/search1")
def search_v1(item_id: int):
    guard.item_content(item_id)  # library.access before the search engine is asked
    q = _query()
    res, annos = _hits(item_id, q)
    texts = _page_texts(res)
    resources, hits = [], {}
    for anno, hit, span, box, _n, _m in annos:
        resources.append({"@id": anno, "@type": "oa:Annotation", "motivation": "sc:painting",
                          "resource": {"@type": "cnt:ContentAsText", "chars": span.text},
                          "on": f"{canvas_uri(item_id, hit.sequence)}#xywh={box.xywh}"})
        key = (hit.page_id, span.start)
        if key not in hits:
            before, after = _context(texts.get(hit.page_id, ""), span.start, span.end)
            hits[key] = {"@type": "search:Hit", "annotations": [], "match": span.text, "before": before,
                         "after": after}
        hits[key]["annotations"].append(anno)
    body = {"@context": CONTEXT_1, "@id": request.url, "@type": "sc:AnnotationList", "resources": resources,
            "hits": list(hits.values()), "within": {"@type": "sc:Layer", "total": len(hits)}}
    return _json(body)


def _page_texts(res) -> dict[int, str]:
    catalogue = current_app.extensions["heritage"].catalogue
    return {h.page_id: catalogue.page(h.page_id).text or "" for h in res.hits}


def _json(body: dict):
    resp = jsonify(body)
    resp.headers["Access-Control-Allow-Origin"] = "*"  # viewers on other sites may search inside our items
    resp.mimetype = "application/ld+json"
    return resp
