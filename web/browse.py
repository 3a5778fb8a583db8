"""Browsing for readers and tourists: the home page (a search box, the monuments with
their 3D models, the collections, what was added lately) and the collections with
their items page by page, each with the image of its first page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import func, select

from library.errors import NotFound
from library.models import ItemStatus, Page, PageStatus
from web import guard
from web.i18n import add, current_lang, words

bp = Blueprint("browse", __name__)
PER_PAGE = 24
RECENT = 10

add(
    vi={"collections": "Bộ sưu tập", "browse": "Duyệt", "featured_monuments": "Di tích tiêu biểu",
        "recent_items": "Mới số hoá", "n_items": "{n} tài liệu", "no_collections": "Chưa có bộ sưu tập nào.",
        "search_collection": "Tìm trong bộ sưu tập này", "view_3d": "Xem mô hình 3D",
        "all_collections": "Tất cả bộ sưu tập", "no_items_here": "Bộ sưu tập này chưa có tài liệu.",
        "being_read": "đang được số hoá"},
    en={"collections": "Collections", "browse": "Browse", "featured_monuments": "Monuments",
        "recent_items": "Recently digitised", "n_items": "{n} items", "no_collections": "No collections yet.",
        "search_collection": "Search this collection", "view_3d": "See the 3D model",
        "all_collections": "All collections", "no_items_here": "This collection has no items yet.",
        "being_read": "being digitised"},
)


def _platform():
    return current_app.extensions["heritage"]


def first_pages(item_ids: list[int]) -> dict[int, int]:
    """The first readable page of each item (its picture stands for the item)."""
    if not item_ids:
        return {}
    with _platform().sessions() as s:
        rows = s.execute(select(Page.item_id, func.min(Page.id)).where(Page.item_id.in_(item_ids),
                                                                       Page.status == PageStatus.done,
                                                                       Page.sequence == 1)
                         .group_by(Page.item_id)).all()
    return dict(rows)


def featured_monuments():
    """Monuments with their newest published model (the thumbnail), those with a model first."""
    service = _platform().monuments
    out = []
    for m in service.monuments():
        published = service.published(m.id)
        out.append((m, published[0] if published else None))
    out.sort(key=lambda pair: (pair[1] is None, pair[0].name_vi))
    return out


@bp.get("/")
def home():
    p = _platform()
    sizes = guard.collection_sizes()  # only what the reader may see (library.access)
    collections = [c for c in p.catalogue.collections() if sizes.get(c.id) and guard.collection_shown(c)]
    recent = guard.recent_items(RECENT)
    rows = {r.item_id: r for r in p.catalogue.item_statuses([i.id for i in recent])} if recent else {}
    busy = any(r.status == ItemStatus.processing.value for r in rows.values())
    return render_template("home.html", t=words(), lang=current_lang(), busy=busy,
                           monuments=featured_monuments(), collections=collections, sizes=sizes,
                           recent=[rows[i.id] for i in recent if i.id in rows],
                           covers=first_pages([i.id for i in recent]))


@bp.get("/collections")
def collections():
    p = _platform()
    sizes = guard.collection_sizes()
    return render_template("collections.html", t=words(), lang=current_lang(),
                           collections=[c for c in p.catalogue.collections() if guard.collection_shown(c)],
                           sizes=sizes)


@bp.get("/collections/<int:collection_id>")
def collection(collection_id: int):
    p = _platform()
    try:
        coll = p.catalogue.collection(collection_id)
    except NotFound:
        abort(404)
    if not guard.collection_shown(coll):
        abort(404)
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    total = guard.collection_sizes().get(collection_id, 0)
    items = guard.collection_items(collection_id, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render_template("collection.html", t=words(), lang=current_lang(), c=coll, items=items, page=page,
                           total=total, per_page=PER_PAGE, covers=first_pages([i.id for i in items]))
