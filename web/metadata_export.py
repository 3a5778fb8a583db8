"""Catalogue records of many items as files: a collection's, or a search's.

Routes (blueprint ``metadata_export``), for every reader; each lists only the items the reader may see
(:mod:`library.discovery.metadata_export` asks :func:`library.access.visible_condition`):

- ``/collections/<id>/export.csv``: every item of the collection, id order, CSV (UTF-8 with BOM);
- ``/collections/<id>/export-dc.xml``: the same as Dublin Core XML (``<records>`` of ``<oai_dc:dc>``);
- ``/search.dc.xml``: the items of a search's first hundred hits (the same query string as ``/search``
  and ``/search.csv``), in rank order, as Dublin Core XML.

A collection the reader may not see answers 404 as a missing one. Answers are streamed: a collection
of any size is read in keyset pages, never all at once.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from library.discovery.metadata_export import MetadataExporter, csv_chunks, dc_xml_chunks
from library.errors import InputRejected, NotFound
from web.viewer import current_actor

bp = Blueprint("metadata_export", __name__)

SEARCH_HITS = 100  # as /search.csv


def _exporter() -> MetadataExporter:
    p = current_app.extensions["heritage"]
    return MetadataExporter(p.sessions, p.access)


def _base_url() -> str:
    return request.url_root.rstrip("/")  # HERITAGE_PUBLIC_URL when set (web.security.PublicURL)


def _collection(collection_id: int):
    exporter, actor = _exporter(), current_actor()
    try:
        cid, name = exporter.collection(actor, collection_id)
    except NotFound:
        abort(404)
    return exporter, actor, cid, name


def _attachment(chunks, mimetype: str, filename: str) -> Response:
    resp = Response(chunks, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    resp.cache_control.no_store = True  # what it lists depends on who asks
    return resp


@bp.get("/collections/<int:collection_id>/export.csv")
def collection_csv(collection_id: int):
    exporter, actor, cid, _name = _collection(collection_id)
    chunks = csv_chunks(exporter.collection_records(actor, cid), base_url=_base_url())
    return _attachment(chunks, "text/csv", f"collection-{cid}.csv")


@bp.get("/collections/<int:collection_id>/export-dc.xml")
def collection_dc(collection_id: int):
    exporter, actor, cid, name = _collection(collection_id)
    chunks = dc_xml_chunks(exporter.collection_records(actor, cid), base_url=_base_url(), label=name)
    return _attachment(chunks, "application/xml", f"collection-{cid}-dc.xml")


@bp.get("/search.dc.xml")
def search_dc():
    from web.pages import FACET_PARAMS

    q = request.args.get("q", "")[:500]
    filters = {k: request.args.getlist(k) for k in FACET_PARAMS if request.args.getlist(k)}
    actor = current_actor()
    try:
        res = current_app.extensions["heritage"].search.search(q, actor=actor, filters=filters, per_page=SEARCH_HITS,
                                                               fuzzy=request.args.get("fuzzy") == "1")
    except InputRejected as exc:
        return Response(f"{exc.problem}\n", status=422, mimetype="text/plain")
    records = _exporter().records_of(actor, [h.item_id for h in res.hits])
    return _attachment(dc_xml_chunks(records, base_url=_base_url(), label=q), "application/xml", "search-dc.xml")
