"""JSON API: ingest, collections, items, pages and their status, search, and the
jobs (OCR per item and page, 3D builds per stage) with retry and cancel. Described
by ``web/openapi.yaml``, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

import json
import shutil
import uuid

from flask import Blueprint, current_app, jsonify, request, url_for

from library.access import roles_for
from library.store import store_full
from library.ingest.mets_package import is_mets_package
from library.errors import InputRejected, NotFound, PermissionDenied
from library.ingest.service import Upload
from library.catalogue.models import Role, User
from web import guard
from web.auth import require_user

bp = Blueprint("api", __name__, url_prefix="/api/v1")

METADATA_FIELDS = ("title", "creator", "date", "publisher", "language", "type", "subject", "identifier",
                   "rights", "collection", "serial_title", "issue_date", "issue_number", "description")


def _platform():
    return current_app.extensions["heritage"]


@bp.get("/health")
def health():
    return jsonify(status="ok")


@bp.post("/items")
def create_item():
    """Multipart upload: one or more ``file`` parts (images, PDF, zip) make one item;
    metadata as form fields (or a ``metadata`` JSON part); ``dry_run=1`` only checks."""
    user = require_user()
    p = _platform()
    files = request.files.getlist("file")
    if not files:
        raise InputRejected("request", "no 'file' part in the upload")
    meta = {k: request.form[k] for k in METADATA_FIELDS if request.form.get(k)}
    if request.form.get("metadata"):
        try:
            extra = json.loads(request.form["metadata"])
        except json.JSONDecodeError as exc:
            raise InputRejected("metadata", f"not valid JSON: {exc.msg} at position {exc.pos}") from None
        if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
            raise InputRejected("metadata", "must be a JSON object of text values")
        meta.update(extra)
    options = {}
    if request.form.get("ocr_options"):
        try:
            options = json.loads(request.form["ocr_options"])
        except json.JSONDecodeError as exc:
            raise InputRejected("ocr_options", f"not valid JSON: {exc.msg}") from None
        if not isinstance(options, dict):
            raise InputRejected("ocr_options", "must be a JSON object")
    dry_run = request.form.get("dry_run", "").lower() in ("1", "true", "yes")
    upload_dir = p.settings.work_dir / "uploads" / uuid.uuid4().hex
    with store_full("the upload"):  # the work folder shares the store's disk: full is 507, not 500
        upload_dir.mkdir(parents=True)
    try:
        uploads = []
        for n, f in enumerate(files):
            # the bytes go to a name we choose; the user's name is only ever a label
            target = upload_dir / f"{n:04d}"
            with store_full(f.filename or f"upload-{n + 1}"):
                f.save(target)
            uploads.append(Upload(target, f.filename or f"upload-{n + 1}"))
        if len(uploads) == 1 and is_mets_package(uploads[0].path):  # a METS/ALTO package: read already
            report = p.mets.import_package(uploads[0].path, actor=_actor(user), dry_run=dry_run,
                                           collection=meta.get("collection") or None,
                                           label=uploads[0].name).as_ingest_report(dry_run=dry_run)
        else:
            report = p.ingest.ingest_item(uploads, meta, actor=_actor(user), dry_run=dry_run, ocr_options=options)
    finally:
        shutil.rmtree(upload_dir, ignore_errors=True)
    body = report.as_dict()
    if not report.ok:
        return jsonify(body), 422
    outcome = report.items[0]
    code = 201 if outcome.status == "created" else 200
    return jsonify(body), code


LIST_LIMIT_MAX = 100  # the most rows one page of a list gives
MAX_OFFSET_PAGE = 100  # numbered pages go this deep (OFFSET bounded); further, the keyset cursor


def _limit_arg(default: int = 50) -> int:
    return max(1, min(_int_arg("limit") or default, LIST_LIMIT_MAX))


@bp.get("/items")
def list_items():
    """The items the caller may see (library.access), ``limit`` (at most 100) at a time in id order after
    the cursor ``after`` (an item id), with their status and pages per status; ``next`` is the URL of the
    next page (None at the end)."""
    limit = _limit_arg()
    after = max(_int_arg("after") or 0, 0)
    ids, cursor = guard.visible_item_ids_after(after, limit)
    rows = _platform().catalogue.item_statuses(ids) if ids else []
    return jsonify(items=[dict(id=r.item_id, title=r.title, status=r.status, reason=r.reason, pages=r.counts)
                          for r in rows], limit=limit,
                   next=url_for("api.list_items", after=cursor, limit=limit, _external=True) if cursor else None)


@bp.get("/items/<int:item_id>")
def get_item(item_id: int):
    c = _platform().catalogue
    item, decision = guard.item_record(item_id)  # 404 as if missing, 403 or 410 with the reason (with its collection)
    limit = _limit_arg(LIST_LIMIT_MAX)  # its pages: `limit` (at most 100) from sequence `from`, on (item_id, sequence)
    window = c.page_window(item_id, start=max(_int_arg("from") or 1, 1), count=limit) if decision.content else None
    pages = window.rows if window else []
    pages_next = (url_for("api.get_item", item_id=item_id, limit=limit, _external=True, **{"from": window.next_start})
                  if window and window.next_start else None)
    articles = [e.as_dict() for e in _platform().mets.contents(item_id)] if decision.content else []
    extra = {}
    if guard.current_actor().is_staff:
        extra["access"] = _access_json(item, decision)
    return jsonify(
        **extra,
        id=item.id, title=item.title, creator=item.creator, date=item.date_text, publisher=item.publisher,
        languages=item.languages, type=item.item_type.value, subject=item.subject, identifier=item.identifier,
        rights=item.rights, serial_title=item.serial_title, issue_date=item.issue_date_text,
        issue_number=item.issue_number, collection=item.collection.name if item.collection else None,
        status=item.status.value, reason=item.status_reason,
        pages=[dict(id=r.page_id, sequence=r.sequence, source=r.source_name, status=r.status, reason=r.reason,
                    attempts=r.attempts, mean_confidence=r.mean_confidence, needs_review=r.needs_review)
               for r in pages],
        page_count=window.total if window else 0, pages_next=pages_next,
        articles=articles,  # sections and articles (type, label, pages, depth) of a METS package or found by layout
        articles_source=_platform().mets.contents_source(item_id) if articles else None,  # "mets" | "layout"
    )


@bp.get("/pages/<int:page_id>")
def get_page(page_id: int):
    c = _platform().catalogue
    guard.page_content(page_id)
    page = c.page(page_id)
    words = c.words(page_id) if page.status.value == "done" else []
    return jsonify(
        id=page.id, item_id=page.item_id, sequence=page.sequence, status=page.status.value,
        reason=page.status_reason, width=page.width, height=page.height, text=page.text,
        mean_confidence=page.mean_confidence, needs_review=page.needs_review, engine=page.ocr_engine,
        warnings=list(c.reading_warnings(page_id)),  # why the machine reading may be poor, as the engine said it
        words=[dict(text=w.text, start=w.char_start, end=w.char_end, xywh=[w.x, w.y, w.w, w.h],
                    confidence=w.confidence) for w in words],
    )


SEARCH_FILTERS = ("type", "collection", "language", "creator", "decade", "year")


def _access_json(item, decision) -> dict:
    """The item's access state, for staff."""
    return dict(level=item.access_level.value, effective_level=decision.level.value,
                collection_level=item.collection.access_level.value if item.collection else None,
                embargo_until=item.embargo_until.isoformat() if item.embargo_until else None,
                embargo_then=item.embargo_then.value if item.embargo_then else None,
                do_not_ocr=bool(item.do_not_ocr), do_not_index=bool(item.do_not_index),
                withdrawn_at=item.withdrawn_at.isoformat() if item.withdrawn_at else None,
                withdrawn_reason=item.withdrawn_reason)


@bp.get("/search")
def search():
    """Search every collection: ``q``, filters (``type``, ``collection``, ``language``, ``creator``,
    ``decade``, ``year``, repeatable), ``from``/``to`` years, ``sort``, ``page``, ``per_page``, ``fuzzy``, ``exhaustive`` (never answer from a sample)."""
    args = request.args
    filters = {k: args.getlist(k) for k in SEARCH_FILTERS if args.getlist(k)}
    from web.viewer import current_actor

    res = _platform().search.search(
        args.get("q", ""), actor=current_actor(), filters=filters, year_from=_int_arg("from"), year_to=_int_arg("to"),
        sort=args.get("sort", "relevance"), page=_int_arg("page") or 1,
        per_page=min(_int_arg("per_page") or 20, 100), cursor=args.get("cursor"),
        fuzzy=args.get("fuzzy", "").lower() in ("1", "true", "yes"),
        exhaustive=args.get("exhaustive", "").lower() in ("1", "true", "yes"))
    return jsonify(res.as_dict())


@bp.get("/suggest")
def suggest():
    """Suggestions as the user types: ``q`` (what has been typed), ``limit``."""
    q = request.args.get("q", "")
    limit = max(1, min(_int_arg("limit") or 10, 50))
    from web.viewer import current_actor

    found = _platform().search.suggest(q, actor=current_actor(), limit=limit)
    return jsonify(suggestions=[{"text": t, "count": c} for t, c in found])


@bp.get("/han/characters")
def han_characters():
    """Hán and Nôm characters for a transcriber to pick (issue #14): ``q`` a reading (``tiến``, ``tien``)
    or a Kangxi radical and the strokes beyond it (``162.8``); each with its Sino-Vietnamese readings."""
    from search.han_readings import find_characters

    q = request.args.get("q", "")
    try:
        found = find_characters(q)
    except ValueError as exc:
        raise InputRejected("q", str(exc)) from None
    return jsonify(query=q, characters=[{"character": c, "codepoint": f"U+{ord(c):04X}", "readings": list(r)}
                                        for c, r in found])


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise InputRejected(name, f"must be a whole number, not {raw[:30]!r}") from None


# ------------------------------------------------------------------ collections
def _collection_json(c, size: int) -> dict:
    return dict(id=c.id, slug=c.slug, name=c.name, description=c.description, items=min(size, guard.SIZE_CAP),
                items_more=size > guard.SIZE_CAP,  # counted up to a cap: true means "more than items"
                links={"self": url_for("api.get_collection", collection_id=c.id, _external=True),
                       "iiif": url_for("iiif.collection", collection_id=c.id, _external=True)})


@bp.get("/collections")
def list_collections():
    """The collections the caller may see, by name, 100 a page (``page``, ``next``)."""
    page = max(_int_arg("page") or 1, 1)
    if page > guard.MAX_LIST_PAGES:
        raise InputRejected("page", f"at most {guard.MAX_LIST_PAGES}")
    shown, more = guard.collections_page(page, 100)  # by name, 100 a page
    sizes = guard.collection_sizes(coll.id for coll in shown)  # the items the caller may see, counted up to a cap
    return jsonify(collections=[_collection_json(coll, sizes.get(coll.id, 0)) for coll in shown], page=page,
                   next=url_for("api.list_collections", page=page + 1, _external=True) if more else None)


@bp.get("/collections/<int:collection_id>")
def get_collection(collection_id: int):
    """One collection and its items, ``page``/``per_page`` at a time (100 at most)."""
    c = _platform().catalogue
    coll = c.collection(collection_id)
    if not guard.collection_shown(coll):
        raise NotFound(f"no collection {collection_id}")
    page = max(_int_arg("page") or 1, 1)
    per_page = max(1, min(_int_arg("per_page") or 50, 100))
    after = _int_arg("after")  # keyset: the last item id of the previous page (any depth, cheap)
    if after is None and page > MAX_OFFSET_PAGE:
        raise InputRejected("page", f"at most {MAX_OFFSET_PAGE}; follow `next` (after=<id>) further")
    items = guard.collection_items(collection_id, limit=per_page + 1, offset=0 if after is not None
                                   else (page - 1) * per_page, after_id=after)
    more, items = len(items) > per_page, items[:per_page]
    body = _collection_json(coll, guard.collection_sizes([coll.id]).get(coll.id, 0))
    body.update(page=page, per_page=per_page,
                next=url_for("api.get_collection", collection_id=coll.id, after=items[-1].id, per_page=per_page,
                             _external=True) if more else None,
                item_list=[dict(id=i.id, title=i.title, creator=i.creator, date=i.date_text, type=i.item_type.value,
                                status=i.status.value,
                                links={"self": url_for("api.get_item", item_id=i.id, _external=True),
                                       "manifest": url_for("iiif.manifest", item_id=i.id, _external=True)})
                           for i in items])
    return jsonify(body)


# ------------------------------------------------------------------ jobs
ITEM_JOB_ROLES = roles_for("retry_ocr_work")
BUILD_JOB_ROLES = roles_for("manage_3d_builds")


def _staff(roles: set[Role] | None = None, what: str = "") -> User:
    user = require_user()
    if roles is not None and user.role not in roles:
        raise PermissionDenied(f"user {user.username!r} ({user.role.value}) may not {what}")
    return user


@bp.get("/jobs")
def jobs():
    """The newest 100 items and every 3D build in progress, failed or cancelled (and the last ones done),
    per page (the first 100 of each item) and per stage, with the estimated seconds left; any staff
    account (HTTP Basic)."""
    _staff()
    return jsonify(_platform().jobs.board().as_dict())


@bp.get("/jobs/items/<int:item_id>")
def item_job(item_id: int):
    _staff()
    body = _platform().jobs.board(item_id=item_id).as_dict()
    return jsonify(dict(body["items"][0], rates=body["rates"]))


@bp.get("/jobs/builds/<int:version_id>")
def build_job(version_id: int):
    from dataclasses import asdict

    _staff()
    return jsonify(asdict(_platform().jobs.build(version_id)))


@bp.post("/items/<int:item_id>/retry")
def retry_item(item_id: int):
    """Put the item's failed and cancelled pages back in the queue (librarians, admins)."""
    user = _staff(ITEM_JOB_ROLES, "retry OCR work")
    ids = _platform().reader.retry(actor=_actor(user), item_id=item_id)
    return jsonify(item_id=item_id, requeued=ids)


@bp.post("/items/<int:item_id>/cancel")
def cancel_item(item_id: int):
    """Take the item's queued pages out of the queue; pages being read finish (librarians, admins)."""
    user = _staff(ITEM_JOB_ROLES, "cancel OCR work")
    res = _platform().reader.cancel(item_id, actor=_actor(user))
    return jsonify(item_id=item_id, cancelled=res.cancelled, still_running=res.still_running)


def _build_json(v) -> dict:
    return dict(id=v.id, model_id=v.model_id, number=v.number, status=v.status.value, reason=v.status_reason,
                stage=v.stage, cancel_requested=bool(v.cancel_requested))


@bp.post("/builds/<int:version_id>/retry")
def retry_build(version_id: int):
    """Queue a failed or cancelled build again (curators, admins); 409 for any other build."""
    user = _staff(BUILD_JOB_ROLES, "manage 3D builds")
    return jsonify(_build_json(_platform().monuments.retry(version_id, actor=_actor(user))))


@bp.post("/builds/<int:version_id>/cancel")
def cancel_build(version_id: int):
    """Cancel a queued build at once, or stop a running one at its next stage (curators, admins)."""
    user = _staff(BUILD_JOB_ROLES, "manage 3D builds")
    return jsonify(_build_json(_platform().monuments.cancel(version_id, actor=_actor(user))))


# ------------------------------------------------------------------ items after ingest
def _actor(user: User):
    """The library actor of an API request: its HTTP Basic user and the client's address."""
    return _platform().access.actor(user, request.remote_addr)


def _json_object() -> dict:
    body = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(body, dict):
        raise InputRejected("request", "the body must be a JSON object (Content-Type: application/json)")
    return body


def _whole(body: dict, key: str) -> int | None:
    value = body.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InputRejected(key, f"must be a whole number, not {str(value)[:30]!r}")
    return value


def _item_access_json(item_id: int, user: User) -> dict:
    p = _platform()
    item = p.items.item(item_id)
    return dict(item_id=item_id, access=_access_json(item, p.access.decide(_actor(user), item)))


@bp.patch("/items/<int:item_id>")
def edit_item(item_id: int):
    """Change some fields of the record (librarians, administrators); ``expected_revision`` is the
    ``metadata_revision`` the change starts from: 409 if someone edited the item since."""
    from web.item_edit import field_of, record_json

    user = require_user()
    body = _json_object()
    expected = _whole(body, "expected_revision")
    if expected is None:
        raise InputRejected("expected_revision", "send the metadata_revision you started from "
                                                 f"(GET /api/v1/items/{item_id}/history gives it)")
    fields = {k: v for k, v in body.items() if k != "expected_revision"}
    if not fields:
        raise InputRejected("request", "give at least one field to change")
    for key, value in fields.items():
        if isinstance(value, bool) or (value is not None and not isinstance(value, (str, int))):
            raise InputRejected(key, "must be text (or null to clear it)")
    try:
        item = _platform().items.edit(_actor(user), item_id, fields, expected_revision=expected)
    except InputRejected as exc:
        return jsonify(error="InputRejected", message=str(exc), source=exc.source, problem=exc.problem,
                       field=field_of(exc)), 422
    return jsonify(record_json(item))


@bp.get("/items/<int:item_id>/history")
def item_history(item_id: int):
    """The item's record now (with its ``metadata_revision``) and every change to it, oldest first
    (any staff account)."""
    from web.item_edit import change_json, record_json

    _staff()
    p = _platform()
    item = p.items.item(item_id)
    return jsonify(record=record_json(item), changes=[change_json(c) for c in p.items.history(item_id)])


@bp.post("/items/<int:item_id>/reread")
def reread_item(item_id: int):
    """Read the item's pages (all, or ``pages``: their numbers) again with other ``languages`` and OCR
    settings (librarians, administrators); corrected pages keep their correction until it is refused."""
    from library.catalogue.item_edits import REREAD_OPTIONS

    user = require_user()
    body = _json_object()
    unknown = sorted(set(body) - {"languages", "pages", *REREAD_OPTIONS})
    if unknown:
        raise InputRejected(unknown[0], f"unknown setting; settings: languages, pages, {', '.join(REREAD_OPTIONS)}")
    pages = body.get("pages")
    if pages is not None and (not isinstance(pages, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in pages)):
        raise InputRejected("pages", "must be a list of page numbers, e.g. [1, 3]")
    languages = body.get("languages")
    if languages is not None and not isinstance(languages, str):
        raise InputRejected("languages", "must be text, e.g. \"vie+fra\"")
    options = {k: body[k] for k in REREAD_OPTIONS if k in body}
    queued = _platform().items.reread(_actor(user), item_id=item_id, pages=pages or None, languages=languages,
                                      **options)
    return jsonify(item_id=item_id, queued=queued), 202


@bp.post("/items/<int:item_id>/access")
def set_item_access(item_id: int):
    """The item's ``level``, an embargo (``embargo_until`` a day, ``then`` the level after it) and its
    ``do_not_ocr`` / ``do_not_index`` flags (librarians, administrators)."""
    user = require_user()
    body = _json_object()
    for flag in ("do_not_ocr", "do_not_index"):
        if body.get(flag) is not None and not isinstance(body[flag], bool):
            raise InputRejected(flag, "must be true or false")
    if not isinstance(body.get("level"), str):
        raise InputRejected("level", "give the level: public, reading-room or staff")
    _platform().access_admin.set_item_access(
        _actor(user), item_id, body["level"], embargo_until=body.get("embargo_until"), then=body.get("then"),
        do_not_ocr=body.get("do_not_ocr"), do_not_index=body.get("do_not_index"))
    return jsonify(_item_access_json(item_id, user))


@bp.post("/items/<int:item_id>/withdraw")
def withdraw_item(item_id: int):
    """Withdraw the item with a ``reason`` readers see (they get 410); staff still see it."""
    user = require_user()
    reason = _json_object().get("reason")
    if not isinstance(reason, str):
        raise InputRejected("reason", "say why the item is withdrawn (readers see the reason)")
    _platform().access_admin.withdraw(_actor(user), item_id, reason)
    return jsonify(_item_access_json(item_id, user))


@bp.post("/items/<int:item_id>/restore")
def restore_item(item_id: int):
    user = require_user()
    _platform().access_admin.restore(_actor(user), item_id)
    return jsonify(_item_access_json(item_id, user))


@bp.post("/pages/<int:page_id>/machine-reading")
def machine_reading(page_id: int):
    """``{"use": true}``: the waiting machine reading replaces the manual correction; ``false``: the
    correction stays (librarians, administrators). Both stay in the page's history."""
    user = require_user()
    use = _json_object().get("use")
    if not isinstance(use, bool):
        raise InputRejected("use", "must be true (use the new reading) or false (keep the correction)")
    corrections = _platform().corrections
    version = (corrections.accept_machine_reading if use else corrections.reject_machine_reading)(_actor(user),
                                                                                                  page_id)
    return jsonify(page_id=page_id, used=use, version=version)
