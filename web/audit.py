"""The audit trail for administrators: filters (person, action, record, period), pages of 100 newest
first, and a CSV export of everything the filters select (streamed). Read-only: there is no route
that edits or deletes an event (and the table refuses it, see :mod:`library.audit`)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, stream_with_context

from library.audit import ACTIONS, Filters
from library.errors import InputRejected
from web import i18n
from web.audit_words import EN, VI
from web.i18n import current_lang, words
from web.staff import _platform, login_required

bp = Blueprint("audit", __name__, url_prefix="/staff/admin")
i18n.add(vi=VI, en=EN)
PER_PAGE = 100


def _filters() -> Filters:
    a = request.args
    return Filters.parse(user=a.get("user", "")[:100], action=a.get("action", "")[:40],
                         record=a.get("record", "")[:40], since=a.get("since", "")[:10], until=a.get("until", "")[:10])


@bp.get("/audit")
@login_required(permission="view_audit")
def trail():
    t = words()
    error = None
    try:
        filters = _filters()
        before = request.args.get("before", "")
        before_id = int(before) if before.isdigit() and len(before) < 12 else None
        events = _platform().audit.events(filters, before=before_id, limit=PER_PAGE)
    except InputRejected as exc:
        error, events = str(exc), []
    older = events[-1].id if len(events) == PER_PAGE else None
    return render_template("audit.html", t=t, lang=current_lang(), events=events, error=error,
                           actions=sorted(ACTIONS), args=request.args, older=older), (400 if error else 200)


@bp.get("/audit.csv")
@login_required(permission="view_audit")
def trail_csv():
    try:
        filters = _filters()
    except InputRejected as exc:
        abort(400, str(exc))
    lines = _platform().audit.csv_lines(filters)
    return Response(stream_with_context(lines), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
