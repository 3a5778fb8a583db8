"""Staff pages for an item after ingest: edit its record (every previous value kept, a concurrent edit
refused with the user's input kept), read it again with other OCR settings, set who may see it,
withdraw and restore it; and, on the correction page, use or refuse a waiting machine reading.

Thin edges over :mod:`library.catalogue.item_edits`, :mod:`library.access.admin` and
:mod:`library.reading.corrections`: each view parses the form, calls one service with the request's actor,
and shows the answer. Who may do what is the one table :data:`library.access.PERMISSIONS`.
"""

from __future__ import annotations

import re
from datetime import timezone

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from library.catalogue.item_metadata import _FIELD_BY_HEADER
from library.catalogue.vocabularies import _fold
from library.access import PERMISSIONS, may
from library.errors import Conflict, InputRejected, NotFound
from library.catalogue.item_edits import EDITABLE, current_fields
from library.catalogue.models import AccessLevel, ItemType, Role
from web import i18n, item_edit_words
from web.i18n import current_lang, words
from web.staff import CORRECT_ROLES, login_required, signed_in_user
from web.viewer import current_actor

bp = Blueprint("item_edit", __name__, url_prefix="/staff")

i18n.add(vi=item_edit_words.VI, en=item_edit_words.EN)

# the form's fields (as library.catalogue.item_edits names them) and the portal's word for each
LABELS = {"title": "title", "creator": "creator", "date": "date", "publisher": "publisher",
          "languages": "language", "item_type": "type", "subject": "subject", "identifier": "identifier",
          "rights": "rights", "serial_title": "serial_title", "issue_date": "issue_date",
          "issue_number": "issue_number", "description": "ie_description"}
LONG_FIELDS = {"description", "subject"}
# catalogue columns in the history, as people read them (derived columns are left out)
HISTORY_LABELS = {"title": "title", "creator": "creator", "date_text": "date", "publisher": "publisher",
                  "languages": "language", "item_type": "type", "subject": "subject", "identifier": "identifier",
                  "rights": "rights", "description": "ie_description", "serial_title": "serial_title",
                  "issue_date_text": "issue_date", "issue_number": "issue_number", "ocr_options": "ie_reread",
                  "pages": "pages"}
PSM_CHOICES = range(1, 14)
BINARIZE = {"": None, "auto": "auto", "on": True, "off": False}  # "": keep the item's setting
MAX_PAGE_LIST_CHARS = 500


def roles_for(action: str) -> set[Role]:
    """The roles :data:`library.access.PERMISSIONS` lets do ``action`` (the portal's gate, before the service's)."""
    return {Role(name) for name in PERMISSIONS[action]}


def _platform():
    return current_app.extensions["heritage"]


def field_of(exc: InputRejected) -> str | None:
    """The record field a refusal is about (``languages``, ``date``…), as the form names it; ``None`` if
    it is about no one field."""
    m = re.match(r"field '([^']+)'", exc.problem or "")
    for name in ((m.group(1),) if m else ()) + (exc.source,):
        found = _FIELD_BY_HEADER.get(_fold(str(name)))
        if found in EDITABLE:
            return found
    return exc.source if exc.source in EDITABLE else None


def record_json(item) -> dict:
    """The editable record of ``item`` for the API: the fields ``PATCH`` takes, and the revision to send back."""
    fields = {("type" if k == "item_type" else k): (v or None) for k, v in current_fields(item).items()}
    return dict(id=item.id, metadata_revision=item.metadata_revision, **fields)


def change_json(change) -> dict:
    when = change.changed_at
    when = when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)  # stored in UTC
    return dict(metadata_revision=change.metadata_revision, kind=change.kind, actor=change.actor,
                changed_at=when.isoformat(), changes=change.changes)


def parse_pages(text: str) -> list[int] | None:
    """``"1, 3-5"`` → ``[1, 3, 4, 5]``; empty → ``None`` (every page). Refused naming ``pages``."""
    text = (text or "").strip()
    if not text:
        return None
    bad = InputRejected("pages", words()["ie_pages_bad"].format(value=text[:40]))
    if len(text) > MAX_PAGE_LIST_CHARS:
        raise bad
    out: set[int] = set()
    for part in re.split(r"[,\s]+", text):
        m = re.fullmatch(r"(\d{1,5})(?:\s*[-–]\s*(\d{1,5}))?", part)
        if not m:
            raise bad
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        if first < 1 or last < first or last - first > 10_000:
            raise bad
        out.update(range(first, last + 1))
    return sorted(out)


@bp.app_context_processor
def _item_edit_link():
    """``may_edit_item()`` for the item page: the "Edit" link, for librarians and admins only."""
    def may_edit_item() -> bool:
        return signed_in_user() is not None and may(current_actor(), "edit_item")

    return {"may_edit_item": may_edit_item}


# ------------------------------------------------------------------ the page
def _item(item_id: int):
    try:
        return _platform().items.item(item_id)
    except NotFound:
        abort(404)


def _history_rows(item_id: int, t: dict) -> list[dict]:
    """The item's changes, newest first, as the page lists them."""
    rows = []
    for change in reversed(_platform().items.history(item_id)):
        who = change.actor.removeprefix("user:")
        lines = []
        for column, (old, new) in sorted(change.changes.items()):
            if column not in HISTORY_LABELS:
                continue
            label = t[HISTORY_LABELS[column]]
            if column == "pages":
                lines.append((label, None, ", ".join(map(str, new or []))))
            else:
                lines.append((label, _shown(old, t), _shown(new, t)))
        rows.append(dict(when=change.changed_at.strftime("%Y-%m-%d %H:%M"), who=who,
                         kind=t.get(f"ie_kind_{change.kind}", change.kind), lines=lines))
    return rows


def _shown(value, t: dict) -> str:
    if value in (None, ""):
        return t["ie_empty_value"]
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _waiting_pages(item_id: int) -> list[tuple[int, int]]:
    """``(page id, sequence)`` of the item's pages whose new machine reading waits on the correction page."""
    return _platform().items.waiting_readings(item_id)


def _audit_events(item_id: int) -> list | None:
    """The item's events in the audit trail, for those who may read the trail (admins)."""
    from library.access import may

    if not may(current_actor(), "view_audit"):
        return None
    return _platform().audit.for_record("item", item_id, limit=50)


def _render(item, code: int = 200, **context):
    t = words()
    form = context.pop("form", None) or current_fields(item)
    context.setdefault("revision", item.metadata_revision)
    html = render_template(
        "item_edit.html", t=t, lang=current_lang(), item=item, form=form, fields=EDITABLE, labels=LABELS,
        long_fields=LONG_FIELDS, item_types=[ty.value for ty in ItemType], levels=[lv.value for lv in AccessLevel],
        psm_choices=PSM_CHOICES, history=_history_rows(item.id, t), waiting=_waiting_pages(item.id),
        audit_events=_audit_events(item.id),
        field_errors=context.pop("field_errors", {}), stale=context.pop("stale", {}), **context)
    return html, code


def _back(item_id: int, anchor: str = ""):
    return redirect(url_for("item_edit.edit", item_id=item_id, lang=current_lang()) + anchor, code=303)


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@login_required(roles_for("edit_item"))
def edit(item_id: int):
    """The record's every field, pre-filled, with the metadata revision the editor starts from."""
    t = words()
    item = _item(item_id)
    if request.method == "GET":
        return _render(item)
    sent = {f: request.form[f] for f in EDITABLE if f in request.form}  # a field not sent stays as it is
    form = {**current_fields(item), **sent}
    raw = request.form.get("revision", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        abort(400, "the form lost its revision; reload the page")
    try:
        saved = _platform().items.edit(current_actor(), item_id, sent, expected_revision=int(raw))
    except Conflict:
        now = _platform().items.item(item_id)
        stored = current_fields(now)
        stale = {f: stored[f] for f in EDITABLE if stored[f] != form[f]}
        return _render(now, 409, form=form, revision=now.metadata_revision, stale=stale, error=t["ie_conflict"])
    except InputRejected as exc:
        name = field_of(exc)
        problem = re.sub(r"^field '[^']+': ", "", exc.problem)
        errors = {name: problem} if name else {}
        return _render(item, 422, form=form, revision=int(raw), field_errors=errors,
                       error=None if name else str(exc))
    flash(t["ie_saved"].format(r=saved.metadata_revision) if saved.metadata_revision != int(raw)
          else t["ie_unchanged"])
    return _back(item_id)


@bp.post("/items/<int:item_id>/reread")
@login_required(roles_for("reread"))
def reread(item_id: int):
    """Read the item's pages (all, or those listed) again with other languages and OCR settings."""
    t = words()
    item = _item(item_id)
    f = request.form
    options: dict[str, object] = {}
    if f.get("psm"):
        options["psm"] = f["psm"]
    if f.get("stages_off", "").strip():
        options["stages_off"] = f["stages_off"]
    if f.get("binarize", "") not in BINARIZE:
        abort(400)
    if BINARIZE[f.get("binarize", "")] is not None:
        options["binarize"] = BINARIZE[f["binarize"]]
    try:
        queued = _platform().items.reread(current_actor(), item_id=item_id, pages=parse_pages(f.get("pages", "")),
                                          languages=f.get("languages", "").strip() or None, **options)
    except InputRejected as exc:
        return _render(item, 422, reread_error=exc, reread_form=f)
    flash(t["ie_reread_queued"].format(n=len(queued)) if queued else t["ie_reread_none"])
    return _back(item_id, "#reread")


@bp.post("/items/<int:item_id>/access")
@login_required(roles_for("set_access"))
def access(item_id: int):
    """The item's level, an embargo (until a day, then a level), and its do-not-OCR / do-not-index flags."""
    t = words()
    item = _item(item_id)
    f = request.form
    try:
        _platform().access_admin.set_item_access(
            current_actor(), item_id, f.get("level", ""), embargo_until=f.get("embargo_until") or None,
            then=f.get("embargo_then") or None, do_not_ocr=f.get("do_not_ocr") == "1",
            do_not_index=f.get("do_not_index") == "1")
    except InputRejected as exc:
        return _render(item, 422, access_error=exc)
    flash(t["ie_access_saved"].format(level=t["acc_level_" + f.get("level", "").strip().lower().replace("_", "-")]))
    return _back(item_id, "#access")


@bp.post("/items/<int:item_id>/withdraw")
@login_required(roles_for("withdraw"))
def withdraw(item_id: int):
    """Readers get 410 with the reason; staff still see the item; restore undoes it."""
    t = words()
    item = _item(item_id)
    reason = request.form.get("reason", "")
    try:
        _platform().access_admin.withdraw(current_actor(), item_id, reason)
    except InputRejected as exc:
        return _render(item, 422, withdraw_error=exc, reason=reason)
    except Conflict as exc:
        return _render(item, 409, withdraw_error=exc)
    flash(t["ie_withdrawn"].format(reason=" ".join(reason.split())))
    return _back(item_id, "#withdraw")


@bp.post("/items/<int:item_id>/restore")
@login_required(roles_for("withdraw"))
def restore(item_id: int):
    t = words()
    item = _item(item_id)
    try:
        _platform().access_admin.restore(current_actor(), item_id)
    except Conflict as exc:
        return _render(item, 409, withdraw_error=exc)
    flash(t["ie_restored"])
    return _back(item_id, "#withdraw")


# ------------------------------------------------------------------ the correction page
@bp.post("/pages/<int:page_id>/machine-reading")
@login_required(CORRECT_ROLES)
def machine_reading(page_id: int):
    """``use=1``: the waiting machine reading replaces the correction; ``use=0``: the correction stays.
    Either way both versions stay in the page's history."""
    t = words()
    corrections = _platform().corrections
    use = request.form.get("use")
    if use not in ("0", "1"):
        abort(400, "use=1 (the new reading) or use=0 (keep the correction)")
    try:
        if use == "1":
            flash(t["mr_used"].format(v=corrections.accept_machine_reading(current_actor(), page_id)))
        else:
            flash(t["mr_kept"].format(v=corrections.reject_machine_reading(current_actor(), page_id)))
    except NotFound:
        abort(404)
    except Conflict as exc:
        abort(409, str(exc))
    return redirect(url_for("staff.correct", page_id=page_id, lang=current_lang()), code=303)
