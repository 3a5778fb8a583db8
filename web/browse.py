"""Browsing for readers and tourists: the home page (a search box, the monuments with
their 3D models, the collections, what was added lately) and the collections with
their items page by page (sorted by title or date), each with the image of its first page;
for librarians, the forms that create, rename, describe and order collections and move items."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, get_flashed_messages, redirect, render_template, request
from sqlalchemy import func, select

from library.access import may
from library.catalogue.collections import SORTS
from library.errors import InputRejected, NotFound
from library.catalogue.models import ItemStatus, Page, PageStatus
from web import browse_words, collection_words, guard
from web.i18n import add, current_lang, words
from web.staff import login_required
from web.viewer import current_actor

bp = Blueprint("browse", __name__)
PER_PAGE = 24
COLLECTIONS_PER_PAGE = 50  # /collections, a page at a time
HOME_COLLECTIONS = 24  # the home page's few (those with items the reader may see)
RECENT = 10

add(vi=browse_words.VI, en=browse_words.EN)
add(vi=collection_words.VI, en=collection_words.EN)
SORT_WORDS = {"order": "sort_order", "title": "sort_title", "-title": "sort_title_desc", "date": "sort_date",
              "-date": "sort_date_desc"}


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


def collection_covers(collection_ids) -> dict[int, int]:
    """The page whose picture stands for each collection: the first page of its first item the reader
    may see (two statements for the whole list)."""
    first = _platform().collections.first_items(current_actor(), collection_ids)
    pages = first_pages(list(first.values()))
    return {cid: pages[item_id] for cid, item_id in first.items() if item_id in pages}


def featured_monuments():
    """Monuments with their newest published model (the thumbnail), those with a model first."""
    service = _platform().monuments
    out = []
    for m in service.featured():  # a bounded few, those with a model first
        published = service.published(m.id)
        out.append((m, published[0] if published else None))
    out.sort(key=lambda pair: (pair[1] is None, pair[0].name_vi))
    return out


@bp.get("/")
def home():
    p = _platform()
    shown, _more = guard.collections_page(1, HOME_COLLECTIONS)  # a bounded few, by name; /collections has all
    sizes = guard.collection_sizes(c.id for c in shown)  # what the reader may see, counted up to a cap
    collections = [c for c in shown if sizes.get(c.id)]
    recent = guard.recent_items(RECENT)
    rows = {r.item_id: r for r in p.catalogue.item_statuses([i.id for i in recent])} if recent else {}
    busy = any(r.status == ItemStatus.processing.value for r in rows.values())
    return render_template("home.html", t=words(), lang=current_lang(), busy=busy,
                           monuments=featured_monuments(), collections=collections, sizes=sizes,
                           collection_covers=collection_covers(c.id for c in collections),
                           recent=[rows[i.id] for i in recent if i.id in rows],
                           covers=first_pages([i.id for i in recent]))


@bp.get("/collections")
def collections():
    return _collections_page()


def _collections_page(*, error: InputRejected | None = None, form: dict | None = None, status: int = 200):
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() and 0 < int(raw) <= guard.MAX_LIST_PAGES else 1
    shown, more = guard.collections_page(page, COLLECTIONS_PER_PAGE)
    sizes = guard.collection_sizes(c.id for c in shown)  # counted up to a cap (guard.size_text)
    return render_template("collections.html", t=words(), lang=current_lang(), collections=shown,
                           covers=collection_covers(c.id for c in shown),
                           page=page, more=more, sizes=sizes, editor=may(current_actor(), "edit_collection"), error=error,
                           form=form or {}, messages=get_flashed_messages()), status


@bp.get("/collections/<int:collection_id>")
def collection(collection_id: int):
    return _collection_page(collection_id)


def _collection_page(collection_id: int, *, error: InputRejected | None = None, form: dict | None = None,
                     status: int = 200):
    """The collection's page: its description, its items the actor may see (sorted by ``?sort=``, page
    by page) and, for staff who may edit collections, the forms (``error``: a refused form, shown)."""
    p = _platform()
    try:
        coll = p.catalogue.collection(collection_id)
    except NotFound:
        abort(404)
    if not guard.collection_shown(coll):
        abort(404)
    actor = current_actor()
    sort = request.args.get("sort", "order")
    sort = sort if sort in SORTS else "order"
    total = guard.collection_sizes([collection_id]).get(collection_id, 0)  # counted up to guard.SIZE_CAP + 1
    pages = max(1, -(-min(total, guard.SIZE_CAP) // PER_PAGE))  # OFFSET stays below SIZE_CAP
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) <= pages else 1
    items = p.collections.items(actor, collection_id, sort=sort, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    children, _more = guard.collections_page(1, 100, parent_id=coll.id)  # the first 100, on collections.parent_id
    parent = None
    if coll.parent_id is not None:
        try:
            parent = p.catalogue.collection(coll.parent_id)
        except NotFound:
            parent = None
        parent = parent if parent is not None and guard.collection_shown(parent) else None
    editor = may(actor, "edit_collection")
    others = [c for c in p.catalogue.collections() if guard.collection_shown(c)] if editor else []  # move targets
    return render_template("collection.html", t=words(), lang=current_lang(), c=coll, items=items, page=page,
                           pages=pages, total=total, per_page=PER_PAGE, sort=sort, sorts=SORT_WORDS,
                           covers=first_pages([i.id for i in items]), children=children, parent=parent,
                           editor=editor, targets=others if editor else [], error=error, form=form or {},
                           messages=get_flashed_messages()), status


# ------------------------------------------------------------------ staff: collections run by librarians
def _change(collection_id: int | None, action, done: str):
    """Run one change with the request's actor: on success back to the page with ``done`` said; a refused
    input shows the page again (422) naming the field, nothing changed; no permission is 403."""
    try:
        result = action(current_actor())
    except InputRejected as exc:
        if collection_id is None:
            return _collections_page(error=exc, form=request.form.to_dict(), status=422)
        return _collection_page(collection_id, error=exc, form=request.form.to_dict(), status=422)
    flash(done.format(n=len(result) if isinstance(result, list) else 0, name=getattr(result, "name", "")))
    target = getattr(result, "id", None) if collection_id is None else collection_id
    return redirect(f"/collections/{target}?lang={current_lang()}", code=303)


@bp.post("/collections")
@login_required()
def create_collection():
    f = request.form
    return _change(None, lambda actor: _platform().collections.create(
        actor, f.get("name", ""), f.get("description") or None, parent=f.get("parent") or None),
        words()["coll_created"])


@bp.post("/collections/<int:collection_id>/rename")
@login_required()
def rename_collection(collection_id: int):
    return _change(collection_id, lambda actor: _platform().collections.rename(
        actor, collection_id, request.form.get("name", "")), words()["coll_saved"])


@bp.post("/collections/<int:collection_id>/describe")
@login_required()
def describe_collection(collection_id: int):
    return _change(collection_id, lambda actor: _platform().collections.describe(
        actor, collection_id, request.form.get("description", "")), words()["coll_saved"])


@bp.post("/collections/<int:collection_id>/place")
@login_required()
def place_item(collection_id: int):
    f = request.form
    return _change(collection_id, lambda actor: _platform().collections.place(
        actor, collection_id, f.get("item", ""), f.get("position", "")), words()["coll_saved"])


@bp.post("/collections/<int:collection_id>/move")
@login_required()
def move_items(collection_id: int):
    f = request.form
    return _change(collection_id, lambda actor: _platform().collections.move(
        actor, f.get("items", "").replace(",", " ").split(), f.get("to") or None), words()["coll_moved"])
