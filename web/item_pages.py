"""Page operations from the portal and the JSON API (issue #10): reorder, turn, replace a scan, remove and
add pages of an item; delete an item (admins only); read a whole collection again.

Thin edges over :class:`library.catalogue.page_ops.PageOperations` (``platform.pages``) and
:meth:`library.catalogue.item_edits.ItemEditor.reread` (``platform.items``): each view parses the form or
the JSON body, calls one service with the request's actor, and shows the answer. Who may do what is the one
table :data:`library.access.PERMISSIONS` (the portal checks it before the form is read; the services check
it again).

Blueprints:

- ``item_pages`` (portal, under ``/staff``, forms with CSRF): the "Pages" section of the staff item page
  (``item_pages.html``, included by ``item_edit.html``) posts to ``/staff/items/<id>/pages/…`` and
  ``/staff/items/<id>/delete``; the collection page's "read again" form (``collection_reread.html``)
  posts to ``/staff/collections/<id>/reread``.
- ``item_pages_api`` (JSON, under ``/api/v1``, HTTP Basic, exempt from CSRF like ``api``):
  ``POST /items/<id>/pages/order``, ``POST /items/<id>/pages/<n>/rotate``, ``POST /items/<id>/pages/<n>/replace``,
  ``DELETE /items/<id>/pages/<n>``, ``POST /items/<id>/pages``, ``DELETE /items/<id>``,
  ``POST /collections/<id>/reread``.

The routes that take files are listed in :data:`web.security.UPLOAD_ENDPOINTS` (the upload limit, not 1 MiB).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import uuid
from datetime import timezone
from typing import Iterator

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request, url_for

from library.access import may
from library.store import store_full
from library.errors import Conflict, InputRejected, NotFound
from library.ingest.service import Upload
from web import i18n, item_pages_words, reading_warning_words
from web.i18n import current_lang, words
from web.staff import login_required, signed_in_user
from web.viewer import current_actor

bp = Blueprint("item_pages", __name__, url_prefix="/staff")
api_bp = Blueprint("item_pages_api", __name__, url_prefix="/api/v1")

i18n.add(vi=item_pages_words.VI, en=item_pages_words.EN)

THUMBNAIL = "full/!200,200/0/default.jpg"  # the manifest's thumbnail size (web.iiif.THUMBNAIL_SIZE)
MAX_ORDER_CHARS = 20_000
PSM_CHOICES = range(1, 14)

# the endpoints that take files (web.security.UPLOAD_ENDPOINTS gives them the upload limit)
UPLOAD_ENDPOINTS = frozenset({"item_pages.replace", "item_pages.add", "item_pages_api.replace_page",
                              "item_pages_api.add_pages"})


def _platform():
    return current_app.extensions["heritage"]


# ------------------------------------------------------------------ shared stages
def parse_order(text: str) -> list[int]:
    """``"3,1,2"`` (commas or spaces) → ``[3, 1, 2]``; anything else is refused naming ``order``. Gaps and
    duplicates are the service's to refuse (it knows the item's pages)."""
    parts = [x for x in re.split(r"[,\s]+", (text or "").strip()) if x]
    if not parts or len(text) > MAX_ORDER_CHARS or not all(x.isascii() and x.isdigit() and len(x) < 7 for x in parts):
        raise InputRejected("order", words()["ip_order_bad"].format(value=(text or "")[:40]))
    return [int(x) for x in parts]


def moved(count: int, page: int, direction: str) -> list[int]:
    """The order that moves page ``page`` of ``count`` one place ``up`` or ``down`` (``[2, 1, 3]``)."""
    order = list(range(1, count + 1))
    i = page - 1
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= i < count or not 0 <= j < count:
        raise InputRejected("page", words()["ip_move_bad"].format(page=page))
    order[i], order[j] = order[j], order[i]
    return order


def checked_psm(value) -> int | None:
    """A page segmentation mode, 1–13 (``None``: keep the item's); anything else is refused naming ``psm``."""
    if value is None:
        return None
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit()
                                                                  and len(value) < 3)) or not 1 <= int(value) <= 13:
        raise InputRejected("psm", f"the page segmentation mode is a number from 1 to 13, not {str(value)[:20]!r}")
    return int(value)


@contextlib.contextmanager
def saved_uploads(files) -> Iterator[list[Upload]]:
    """The request's files saved under names we choose (the user's name is only a label) in a folder of
    their own, removed afterwards."""
    folder = _platform().settings.work_dir / "uploads" / uuid.uuid4().hex
    with store_full("the upload"):
        folder.mkdir(parents=True)
    try:
        uploads = []
        for n, f in enumerate(files):
            target = folder / f"{n:04d}"
            with store_full(f.filename or target.name):
                f.save(target)
            uploads.append(Upload(target, f.filename or f"upload-{n + 1}"))
        yield uploads
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _files(*names: str) -> list:
    return [f for name in names for f in request.files.getlist(name) if f and f.filename]


STAFF_PAGES_SHOWN = 50  # pages a screen of the staff page list shows (a window on the (item_id, sequence) index)


def page_rows(item_id: int) -> dict:
    """A window of the item's pages as the staff page lists them — from ``?pages_from=N`` (default 1),
    ``STAFF_PAGES_SHOWN`` of them: id, number, source name, status, thumbnail URL (read pages only: the
    IIIF image the item page and the manifest use) — with the item's page count and the neighbouring
    windows. Never every page of a 1,000-page book."""
    start = request.args.get("pages_from", "1")
    start = int(start) if start.isdigit() and len(start) <= 7 else 1
    try:
        window = _platform().catalogue.page_window(item_id, start=start, count=STAFF_PAGES_SHOWN)
    except NotFound:
        return dict(rows=[], total=0, previous_start=None, next_start=None)
    warned = _platform().catalogue.reading_warnings_of(r.page_id for r in window.rows)
    lang = current_lang()
    rows = [dict(page_id=r.page_id, sequence=r.sequence, source=r.source_name, status=r.status, reason=r.reason,
                 thumbnail=f"/iiif/image/p{r.page_id}/{THUMBNAIL}" if r.status == "done" else None,
                 warnings=[reading_warning_words.say(w, lang) for w in warned.get(r.page_id, ())])
            for r in window.rows]
    return dict(rows=rows, total=window.total, previous_start=window.previous_start, next_start=window.next_start)


@bp.app_context_processor
def _item_pages_context():
    """For ``item_pages.html`` and ``collection_reread.html``: the item's pages and who may do what."""
    def may_do(action: str) -> bool:
        return signed_in_user() is not None and may(current_actor(), action)

    return {"item_page_rows": page_rows, "may_do": may_do, "ip_psm_choices": PSM_CHOICES}


# ------------------------------------------------------------------ portal: the staff item page
def _item(item_id: int):
    from web.item_edit import _item as edited_item

    return edited_item(item_id)


def _run(item_id: int, action, done):
    """Run one page operation with the request's actor: back to the item page with ``done`` said (text, or
    a function of the service's answer); a refused
    input (422) or a conflict (409) shows the item page again with the problem in the Pages section."""
    from web.item_edit import _render

    item = _item(item_id)
    try:
        result = action(current_actor())
    except InputRejected as exc:
        return _render(item, 422, pages_error=exc)
    except Conflict as exc:
        return _render(item, 409, pages_error=exc)
    except NotFound:
        abort(404)
    flash(done(result) if callable(done) else done)
    return redirect(url_for("item_edit.edit", item_id=item_id, lang=current_lang()) + "#pages", code=303)


@bp.post("/items/<int:item_id>/pages/order")
@login_required(permission="edit_item")
def reorder(item_id: int):
    """``order``: every page number once, in the new order (``3,1,2``); or ``page`` and ``move`` (up/down)."""
    t = words()
    f = request.form
    if f.get("move"):
        if f["move"] not in ("up", "down") or not f.get("page", "").isdigit() or len(f["page"]) > 6:
            abort(400)
        count = _platform().catalogue.page_count(item_id)
        return _run(item_id, lambda actor: _platform().pages.reorder(
            actor, item_id, moved(count, int(f["page"]), f["move"])), t["ip_reordered"])
    return _run(item_id, lambda actor: _platform().pages.reorder(actor, item_id, parse_order(f.get("order", ""))),
                t["ip_reordered"])


@bp.post("/items/<int:item_id>/pages/<int:page_number>/rotate")
@login_required(permission="edit_item")
def rotate(item_id: int, page_number: int):
    t = words()
    degrees = request.form.get("degrees", "")
    return _run(item_id, lambda actor: _platform().pages.rotate(actor, item_id, page_number, degrees),
                t["ip_rotated"].format(page=page_number, degrees=degrees.strip()[:5]))


@bp.post("/items/<int:item_id>/pages/<int:page_number>/replace")
@login_required(permission="edit_item")
def replace(item_id: int, page_number: int):
    t = words()
    files = _files("file")

    def action(actor):
        if len(files) != 1:
            raise InputRejected("file", t["ip_one_file"])
        with saved_uploads(files) as (upload,):
            return _platform().pages.replace(actor, item_id, page_number, upload)

    return _run(item_id, action, t["ip_replaced"].format(page=page_number))


@bp.post("/items/<int:item_id>/pages/<int:page_number>/remove")
@login_required(permission="edit_item")
def remove(item_id: int, page_number: int):
    t = words()

    def action(actor):
        if request.form.get("confirm") != "1":
            raise InputRejected("confirm", t["ip_confirm_remove"].format(page=page_number))
        return _platform().pages.remove(actor, item_id, page_number)

    return _run(item_id, action, t["ip_removed"].format(page=page_number))


@bp.post("/items/<int:item_id>/pages/add")
@login_required(permission="edit_item")
def add(item_id: int):
    t = words()
    files = _files("files", "file")
    at = request.form.get("at", "").strip() or None

    def action(actor):
        if not files:
            raise InputRejected("files", t["ip_no_files"])
        with saved_uploads(files) as uploads:
            return _platform().pages.add(actor, item_id, uploads, at=at)

    return _run(item_id, action, lambda ids: t["ip_added"].format(n=len(ids)))


@bp.post("/items/<int:item_id>/delete")
@login_required(permission="delete_item")
def delete(item_id: int):
    """Admins only: the item leaves the catalogue, search and IIIF; its originals stay until the retention."""
    t = words()
    reason = request.form.get("reason", "")

    def action(actor):
        if request.form.get("confirm") != "1":
            raise InputRejected("confirm", t["ip_confirm_delete"])
        return _platform().pages.delete_item(actor, item_id, reason)

    return _run(item_id, action, t["ip_deleted"])


# ------------------------------------------------------------------ portal: a whole collection read again
@bp.post("/collections/<int:collection_id>/reread")
@login_required(permission="reread")
def reread_collection(collection_id: int):
    """Every item of the collection read again with other ``languages`` and/or ``psm``."""
    from web.browse import _collection_page

    t = words()
    f = request.form
    try:
        queued = _platform().items.reread(current_actor(), collection_id=collection_id,
                                          languages=f.get("languages", "").strip() or None,
                                          psm=checked_psm(f.get("psm") or None))
    except InputRejected as exc:
        return _collection_page(collection_id, error=exc, form=f.to_dict(), status=422)
    except NotFound:
        abort(404)
    flash(t["ip_coll_reread"].format(n=len(queued)) if queued else t["ip_coll_reread_none"])
    return redirect(f"/collections/{collection_id}?lang={current_lang()}#reread", code=303)


# ------------------------------------------------------------------ JSON API (HTTP Basic)
def _api_user():
    from web.auth import require_user

    return require_user()


def _api_actor(action: str):
    """The request's actor (401 without credentials), refused at once (403) unless it may do ``action``
    (before a file is saved or a body read; the service checks again)."""
    from library.access import require_permission
    from web.api import _actor

    actor = _actor(_api_user())
    require_permission(actor, action)
    return actor


def _body() -> dict:
    from web.api import _json_object

    return _json_object()


@api_bp.post("/items/<int:item_id>/pages/order")
def reorder_pages(item_id: int):
    """``{"order": [3, 1, 2]}``: every page number once, in the new order (librarians, administrators)."""
    actor = _api_actor("edit_item")
    order = _body().get("order")
    if not isinstance(order, list) or not all(isinstance(n, int) and not isinstance(n, bool) for n in order):
        raise InputRejected("order", "must be a list of page numbers naming every page once, e.g. [3, 1, 2]")
    ids = _platform().pages.reorder(actor, item_id, order)
    return jsonify(item_id=item_id, pages=ids)


@api_bp.post("/items/<int:item_id>/pages/<int:page_number>/rotate")
def rotate_page(item_id: int, page_number: int):
    """``{"degrees": 90}`` (90, 180 or 270, clockwise); the page is read again (librarians, administrators)."""
    actor = _api_actor("edit_item")
    degrees = _body().get("degrees")
    if isinstance(degrees, bool) or not isinstance(degrees, int):
        raise InputRejected("degrees", "must be 90, 180 or 270 (clockwise)")
    page_id = _platform().pages.rotate(actor, item_id, page_number, degrees)
    return jsonify(item_id=item_id, page=page_number, page_id=page_id, queued=[page_id]), 202


@api_bp.post("/items/<int:item_id>/pages/<int:page_number>/replace")
def replace_page(item_id: int, page_number: int):
    """Multipart: one ``file`` part, the page's new scan (checked as at ingest); it is then read."""
    actor = _api_actor("edit_item")
    files = _files("file")
    if len(files) != 1:
        raise InputRejected("file", "send exactly one 'file' part: the page's new scan")
    with saved_uploads(files) as (upload,):
        page_id = _platform().pages.replace(actor, item_id, page_number, upload)
    return jsonify(item_id=item_id, page=page_number, page_id=page_id, queued=[page_id]), 202


@api_bp.delete("/items/<int:item_id>/pages/<int:page_number>")
def remove_page(item_id: int, page_number: int):
    """Take the page out of the item; later pages move up one; its original stays in the store."""
    actor = _api_actor("edit_item")
    page_id = _platform().pages.remove(actor, item_id, page_number)
    return jsonify(item_id=item_id, removed=page_id)


@api_bp.post("/items/<int:item_id>/pages")
def add_pages(item_id: int):
    """Multipart: ``file`` parts (images, PDFs, zips) added at the end, or from page ``at``; then read."""
    actor = _api_actor("edit_item")
    files = _files("file", "files")
    if not files:
        raise InputRejected("file", "no 'file' part in the upload")
    at = request.form.get("at", "").strip() or None
    with saved_uploads(files) as uploads:
        ids = _platform().pages.add(actor, item_id, uploads, at=at)
    return jsonify(item_id=item_id, added=ids, queued=ids), 201


@api_bp.delete("/items/<int:item_id>")
def delete_item(item_id: int):
    """``{"reason": "…"}`` (optional): administrators only; 404 to everyone else from then on."""
    actor = _api_actor("delete_item")
    reason = _body().get("reason")
    if reason is not None and not isinstance(reason, str):
        raise InputRejected("reason", "must be text")
    p = _platform()
    p.pages.delete_item(actor, item_id, reason)
    item = p.items.item(item_id)
    when = item.deleted_at
    when = when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)  # stored in UTC
    return jsonify(item_id=item_id, deleted_at=when.isoformat(), reason=item.deleted_reason,
                   originals_kept_days=p.settings.deleted_retention_days)


@api_bp.post("/collections/<int:collection_id>/reread")
def reread_collection_api(collection_id: int):
    """Every item of the collection read again with other ``languages`` and OCR settings (librarians,
    administrators); corrected pages keep their correction until it is refused."""
    from library.catalogue.item_edits import REREAD_OPTIONS

    actor = _api_actor("reread")
    body = _body()
    unknown = sorted(set(body) - {"languages", *REREAD_OPTIONS})
    if unknown:
        raise InputRejected(unknown[0], f"unknown setting; settings: languages, {', '.join(REREAD_OPTIONS)}")
    languages = body.get("languages")
    if languages is not None and not isinstance(languages, str):
        raise InputRejected("languages", "must be text, e.g. \"vie+fra\"")
    options = {k: body[k] for k in REREAD_OPTIONS if k in body}
    if "psm" in options:
        options["psm"] = checked_psm(options["psm"])
    queued = _platform().items.reread(actor, collection_id=collection_id, languages=languages, **options)
    return jsonify(collection_id=collection_id, queued=queued), 202
