"""JSON API: ingest, items, pages and their status."""

from __future__ import annotations

import json
import shutil
import uuid

from flask import Blueprint, current_app, jsonify, request

from library.errors import InputRejected
from library.ingest import Upload
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
    upload_dir.mkdir(parents=True)
    try:
        uploads = []
        for n, f in enumerate(files):
            # the bytes go to a name we choose; the user's name is only ever a label
            target = upload_dir / f"{n:04d}"
            f.save(target)
            uploads.append(Upload(target, f.filename or f"upload-{n + 1}"))
        report = p.ingest.ingest_item(uploads, meta, actor=user, dry_run=dry_run, ocr_options=options)
    finally:
        shutil.rmtree(upload_dir, ignore_errors=True)
    body = report.as_dict()
    if not report.ok:
        return jsonify(body), 422
    outcome = report.items[0]
    code = 201 if outcome.status == "created" else 200
    return jsonify(body), code


@bp.get("/items")
def list_items():
    rows = _platform().catalogue.item_statuses()
    return jsonify(items=[dict(id=r.item_id, title=r.title, status=r.status, reason=r.reason, pages=r.counts)
                          for r in rows])


@bp.get("/items/<int:item_id>")
def get_item(item_id: int):
    c = _platform().catalogue
    item = c.item(item_id)
    pages = c.page_statuses(item_id)
    return jsonify(
        id=item.id, title=item.title, creator=item.creator, date=item.date_text, publisher=item.publisher,
        languages=item.languages, type=item.item_type.value, subject=item.subject, identifier=item.identifier,
        rights=item.rights, serial_title=item.serial_title, issue_date=item.issue_date_text,
        issue_number=item.issue_number, collection=item.collection.name if item.collection else None,
        status=item.status.value, reason=item.status_reason,
        pages=[dict(id=r.page_id, sequence=r.sequence, source=r.source_name, status=r.status, reason=r.reason,
                    attempts=r.attempts, mean_confidence=r.mean_confidence, needs_review=r.needs_review)
               for r in pages],
    )


@bp.get("/pages/<int:page_id>")
def get_page(page_id: int):
    c = _platform().catalogue
    page = c.page(page_id)
    words = c.words(page_id) if page.status.value == "done" else []
    return jsonify(
        id=page.id, item_id=page.item_id, sequence=page.sequence, status=page.status.value,
        reason=page.status_reason, width=page.width, height=page.height, text=page.text,
        mean_confidence=page.mean_confidence, needs_review=page.needs_review, engine=page.ocr_engine,
        words=[dict(text=w.text, start=w.char_start, end=w.char_end, xywh=[w.x, w.y, w.w, w.h],
                    confidence=w.confidence) for w in words],
    )


SEARCH_FILTERS = ("type", "collection", "language", "creator", "decade", "year")


@bp.get("/search")
def search():
    """Search every collection: ``q``, filters (``type``, ``collection``, ``language``, ``creator``,
    ``decade``, ``year``, repeatable), ``from``/``to`` years, ``sort``, ``page``, ``per_page``, ``fuzzy``."""
    args = request.args
    filters = {k: args.getlist(k) for k in SEARCH_FILTERS if args.getlist(k)}
    res = _platform().search.search(
        args.get("q", ""), filters=filters, year_from=_int_arg("from"), year_to=_int_arg("to"),
        sort=args.get("sort", "relevance"), page=_int_arg("page") or 1,
        per_page=min(_int_arg("per_page") or 20, 100), cursor=args.get("cursor"),
        fuzzy=args.get("fuzzy", "").lower() in ("1", "true", "yes"))
    return jsonify(res.as_dict())


@bp.get("/suggest")
def suggest():
    """Suggestions as the user types: ``q`` (what has been typed), ``limit``."""
    q = request.args.get("q", "")
    limit = max(1, min(_int_arg("limit") or 10, 50))
    return jsonify(suggestions=[{"text": t, "count": c} for t, c in _platform().search.suggest(q, limit=limit)])


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise InputRejected(name, f"must be a whole number, not {raw[:30]!r}") from None
