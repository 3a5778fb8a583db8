"""Staff pages: sign in and out (hashed passwords, signed sessions, CSRF on every
form, rate-limited), upload, OCR correction, and the live progress dashboard:
per item and page and per 3D build and stage, with the time left, retry and cancel."""

from __future__ import annotations

from functools import wraps

import hashlib
import hmac
import shutil
import uuid

from flask import (Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request,
                   session, url_for)

from library.access import roles_for
from library.store import store_full
from library.ingest.mets_package import is_mets_package
from library.errors import Conflict, NotFound
from library.ingest.service import Upload

from library.catalogue.models import Role, User
from web import confidence_words, i18n, reading_warning_words, staff_words
from web.auth import TooManySignIns, check_password, safe_next
from web.i18n import current_lang, words

bp = Blueprint("staff", __name__, url_prefix="/staff")

RETRY_ROLES = roles_for("retry_ocr_work")  # retry and cancel an item's pages
BUILD_ROLES = roles_for("manage_3d_builds")  # retry and cancel 3D builds
POLL_S = 3  # how often the dashboard asks for news while work is open

i18n.add(vi=staff_words.VI, en=staff_words.EN)
i18n.add(vi=confidence_words.VI, en=confidence_words.EN)
i18n.add(vi=reading_warning_words.VI, en=reading_warning_words.EN)
DASHBOARD_WORDS = ("queued", "running", "done", "failed", "cancelled", "processing", "retry", "job_cancel",
                   "eta_unknown", "eta_about", "u_hours", "u_minutes", "u_seconds", "build_running", "stopping",
                   "stage_sparse", "stage_dense", "stage_read", "stage_clean", "stage_levels", "stage_thumbnail",
                   "dash_version", "page_by_page", "dash_attempts", "dash_seconds", "dash_file", "no_work", "no_builds",
                   "dash_updated", "dash_offline", "estimate_basis", "estimate_none", "pages", "status",
                   "item_cancelled", "eta")
UPLOAD_ROLES = roles_for("upload_scans")
UPLOAD_FIELDS = ("title", "creator", "date", "publisher", "language", "type", "subject", "identifier", "rights",
                 "collection", "serial_title", "issue_date", "issue_number")


def _platform():
    return current_app.extensions["heritage"]


def session_stamp(user: User) -> str:
    """Ties a session to the account's current password and session generation: a password reset or a
    sign-out (which raises the generation, on the server) ends every session opened before it."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{user.id}:{user.password_hash}:{user.session_generation}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def signed_in_user() -> User | None:
    if "user" not in g:
        g.user = None
        uid = session.get("user_id")
        if uid is not None:
            with _platform().sessions() as s:
                user = s.get(User, uid)
            if user is not None and user.active and hmac.compare_digest(session.get("stamp", ""),
                                                                        session_stamp(user)):
                g.user = user
    return g.user


def login_required(roles: set[Role] | None = None, *, permission: str | None = None):
    """A signed-in account; with ``permission``, one that may do that action of
    :data:`library.access.PERMISSIONS` (the one table; ``roles`` is kept for older routes)."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = signed_in_user()
            if user is None:
                return redirect(url_for("staff.login", next=request.path, lang=current_lang()))
            if roles is not None and user.role not in roles:
                abort(403, words()["not_allowed"])
            if permission is not None:
                from library.access import may
                from web.viewer import current_actor

                if not may(current_actor(), permission):
                    abort(403, words()["not_allowed"])
            return view(*args, **kwargs)

        return wrapped

    return decorate


@bp.route("/login", methods=["GET", "POST"])
def login():
    t = words()
    error = None
    if request.method == "POST":
        name = request.form.get("username", "")[:100]
        try:  # failures counted per name and per address (web.auth)
            user = check_password(name, request.form.get("password", ""))
        except TooManySignIns:
            user, error, code = None, t["too_many"], 429
        else:
            if user is None:
                error, code = t["bad_login"], 401
            else:
                _platform().audit.sign_in(_platform().access.actor(user, request.remote_addr))
                session.clear()
                session["user_id"] = user.id
                session["stamp"] = session_stamp(user)
                session.permanent = True
                return redirect(safe_next(request.args.get("next")) or url_for("staff.dashboard"))
        return render_template("login.html", t=t, lang=current_lang(), error=error), code
    return render_template("login.html", t=t, lang=current_lang(), error=error)


@bp.post("/logout")
def logout():
    user = signed_in_user()
    if user is not None:  # on the server too: a copy of the cookie no longer signs anyone in
        _platform().users.end_sessions(user.id)
        _platform().audit.sign_out(_platform().access.actor(user, request.remote_addr))
    session.clear()
    return redirect(url_for("browse.home"))


# ------------------------------------------------------------------ the dashboard
def duration_text(seconds: float | None, t: dict) -> str:
    """``about 2 min 10 s`` / ``khoảng 2 phút 10 giây``; ``unknown`` without a measure
    (the same rule as ``durationText`` in static/dashboard.js)."""
    if seconds is None:
        return t["eta_unknown"]
    s = max(0, round(seconds))
    if s >= 3600:
        text = t["u_hours"].format(h=s // 3600, m=(s % 3600) // 60)
    elif s >= 60:
        text = t["u_minutes"].format(m=s // 60, s=s % 60)
    else:
        text = t["u_seconds"].format(s=s)
    return t["eta_about"].format(t=text)


def _dashboard(code: int = 200, error: str | None = None):
    user = signed_in_user()
    t = words()
    board = _platform().jobs.board()
    return render_template("dashboard.html", board=board, t=t, lang=current_lang(), user=user,
                           can_items=user.role in RETRY_ROLES, can_builds=user.role in BUILD_ROLES,
                           duration_text=lambda sec: duration_text(sec, t), error=error, poll_s=POLL_S), code


@bp.get("/")
@login_required()
def dashboard():
    return _dashboard()


@bp.get("/jobs.json")
@login_required()
def jobs_json():
    """What the dashboard's script polls: the board (as ``GET /api/v1/jobs``), what this user may do,
    and the words it needs in the reader's language."""
    user = signed_in_user()
    t = words()
    body = _platform().jobs.board().as_dict()
    body.update(can={"items": user.role in RETRY_ROLES, "builds": user.role in BUILD_ROLES},
                words={k: t[k] for k in DASHBOARD_WORDS}, poll_s=POLL_S)
    resp = jsonify(body)
    resp.cache_control.no_store = True
    return resp


def _back():
    return redirect(url_for("staff.dashboard", lang=current_lang()))


@bp.post("/items/<int:item_id>/retry")
@login_required(RETRY_ROLES)
def retry(item_id: int):
    t = words()
    try:
        from web.viewer import current_actor

        ids = _platform().reader.retry(actor=current_actor(), item_id=item_id)
    except NotFound:
        return _dashboard(404, t["no_item"].format(n=item_id))
    flash(t["requeued"].format(n=len(ids)) if ids else t["nothing_to_retry"])
    return _back()


@bp.post("/items/<int:item_id>/cancel")
@login_required(RETRY_ROLES)
def cancel(item_id: int):
    """Take the item's queued pages out of the queue; pages being read finish."""
    t = words()
    try:
        from web.viewer import current_actor

        res = _platform().reader.cancel(item_id, actor=current_actor())
    except NotFound:
        return _dashboard(404, t["no_item"].format(n=item_id))
    if not res.cancelled:
        return _dashboard(409, t["nothing_to_cancel"])
    message = t["cancelled_pages"].format(n=len(res.cancelled))
    if res.still_running:
        message += " " + t["still_reading"].format(n=res.still_running)
    flash(message)
    return _back()


@bp.post("/builds/<int:version_id>/retry")
@login_required(BUILD_ROLES)
def build_retry(version_id: int):
    return _build_action(version_id, "retry")


@bp.post("/builds/<int:version_id>/cancel")
@login_required(BUILD_ROLES)
def build_cancel(version_id: int):
    """A queued build is cancelled at once; a running one stops at the end of its current stage."""
    return _build_action(version_id, "cancel")


def _build_action(version_id: int, action: str):
    from web.viewer import current_actor

    t = words()
    service = _platform().monuments
    try:
        v = getattr(service, action)(version_id, actor=current_actor())
    except NotFound:
        return _dashboard(404, t["no_build"].format(n=version_id))
    except Conflict:
        status = service.version(version_id).status.value
        word = t["build_running"] if status == "running" else t.get(status, status)
        return _dashboard(409, t["build_not_now"].format(n=version_id, s=word))
    if action == "retry":
        flash(t["build_requeued"].format(n=version_id))
    elif v.status.value == "cancelled":
        flash(t["build_cancelled"].format(n=version_id))
    else:
        flash(t["build_stopping"].format(n=version_id))
    return _back()


@bp.route("/upload", methods=["GET", "POST"])
@login_required(UPLOAD_ROLES)
def upload():
    """Several files (or a zip, or a multi-page PDF/TIFF) and their metadata make one item; a CSV sheet
    with its files makes many. The same ingest service as the command line and the API."""
    t = words()
    if request.method == "GET":
        return render_template("upload.html", t=t, lang=current_lang(), report=None, form={})
    from web.viewer import current_actor

    p = _platform()
    files = [f for f in request.files.getlist("files") if f and f.filename]
    sheet = request.files.get("sheet")
    form = {k: request.form.get(k, "") for k in UPLOAD_FIELDS}
    dry_run = request.form.get("dry_run") == "1"
    folder = p.settings.work_dir / "uploads" / uuid.uuid4().hex
    with store_full("the upload"):  # the work folder shares the store's disk: full is 507, not 500
        folder.mkdir(parents=True)
    try:
        if sheet and sheet.filename:
            report = _ingest_sheet(p, sheet, files, folder, dry_run)
        else:
            uploads = []
            for n, f in enumerate(files):
                target = folder / f"{n:04d}"
                with store_full(f.filename or target.name):
                    f.save(target)  # our name on disk; the user's name is only a label
                uploads.append(Upload(target, f.filename))
            if len(uploads) == 1 and is_mets_package(uploads[0].path):
                # a METS/ALTO package (a zip with its METS, ALTO and images): imported as read already
                report = p.mets.import_package(uploads[0].path, actor=current_actor(), dry_run=dry_run,
                                               collection=form.get("collection") or None,
                                               label=uploads[0].name).as_ingest_report(dry_run=dry_run)
            else:
                report = p.ingest.ingest_item(uploads, {k: v for k, v in form.items() if v},
                                              actor=current_actor(), dry_run=dry_run)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    code = 200 if report.ok else 422
    return render_template("upload.html", t=t, lang=current_lang(), report=report, form=form), code


def _ingest_sheet(p, sheet, files, folder, dry_run: bool):
    """A CSV metadata sheet and the files its rows name: each file is kept under its own
    name beside the sheet (names checked first), then the same batch ingest as the command line."""
    from library.errors import InputRejected
    from library.ingest.filenames import name_problem
    from library.ingest.service import IngestReport

    report = IngestReport(dry_run=dry_run)
    seen: set[str] = set()
    for f in files:
        name = f.filename.replace("\\", "/").rsplit("/", 1)[-1]
        problem = name_problem(name) or ("two files have this name" if name.lower() in seen else None)
        if problem or name.lower() in ("sheet.csv",):
            report.problems.append(InputRejected(f.filename, problem or "this name is kept for the sheet"))
            continue
        seen.add(name.lower())
        with store_full(name):
            f.save(folder / name)
    if report.problems:
        return report
    sheet.save(folder / "sheet.csv")
    from web.viewer import current_actor

    return p.ingest.ingest_sheet(folder / "sheet.csv", actor=current_actor(), dry_run=dry_run)


CORRECT_ROLES = roles_for("correct_text")
CORRECTIONS_PER_PAGE = 30


@bp.route("/pages/<int:page_id>/correct", methods=["GET", "POST"])
@login_required(CORRECT_ROLES)
def correct(page_id: int):
    """Edit a page line by line beside its image, doubtful words marked; every version is kept.
    A line ticked as read right has its words confirmed (they leave the count of doubtful words)."""
    from library.errors import Conflict, InputRejected

    t = words()
    p = _platform()
    try:
        page = p.catalogue.page(page_id)
    except NotFound:
        abort(404)
    error = None
    if request.method == "POST":
        revision, lines = p.corrections.lines(page_id)
        changes, confirmed = {}, []
        for line in lines:
            new = request.form.get(f"line-{line.number}")
            if new is not None and new.strip() != line.text:
                changes[line.number] = new
            if request.form.get(f"sure-{line.number}") == "1":
                confirmed.append(line.number)
        try:
            sent_revision = int(request.form.get("revision", "-1"))
            if changes or confirmed:
                from web.viewer import current_actor

                version = p.corrections.correct(current_actor(), page_id, changes, revision=sent_revision,
                                                note=request.form.get("note") or None, confirmed=confirmed)
                if changes:
                    flash(t["saved"].format(v=version))
                if set(confirmed) - set(changes):
                    flash(t["cf_confirmed"].format(n=len(set(confirmed) - set(changes))))
            return redirect(url_for("staff.correct", page_id=page_id, lang=current_lang()))
        except (Conflict, InputRejected) as exc:
            error = str(exc)
    try:
        review = p.corrections.review(page_id)
    except Conflict as exc:  # not read yet
        return render_template("correct.html", t=t, lang=current_lang(), page=page, review=None, history=[],
                               error=str(exc), threshold=_percent(p.corrections.low_confidence)), 409
    history = p.corrections.history(page_id)
    waiting = next((v for v in history if v.pending), None)  # a new machine reading to use or refuse
    pending = p.corrections.text_of(page_id, waiting.version) if waiting else None
    code = 409 if error else 200
    han = "lzh" in p.catalogue.item_languages(page.item_id).split("+")  # a picker of Hán and Nôm characters
    lang = current_lang()
    say = lambda warnings: [reading_warning_words.say(w, lang) for w in warnings]  # noqa: E731
    return render_template("correct.html", t=t, lang=lang, page=page, review=review, history=history,
                           error=error, threshold=_percent(review.threshold), pending=pending, han=han, say=say,
                           warned=say(p.catalogue.reading_warnings(page_id)),
                           pending_warned=say(waiting.warnings) if waiting else []), code


def _percent(value: float) -> str:
    """A confidence as people read it: ``60``, ``62.5``."""
    return f"{value:.1f}".removesuffix(".0")


def _whole_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


@bp.app_context_processor
def _corrections_link():
    """``is_corrector()`` for the navigation: asked only on pages of a signed-in user."""
    def is_corrector() -> bool:
        user = signed_in_user()
        return user is not None and user.role in CORRECT_ROLES

    return {"is_corrector": is_corrector}


@bp.get("/corrections")
@login_required(CORRECT_ROLES)
def corrections():
    """The correction queue: read pages, the most doubtful words first, a page of the list at a time."""
    from urllib.parse import urlencode

    t = words()
    offset, item_id = _whole_arg("offset") or 0, _whole_arg("item")
    try:
        queue = _platform().corrections.queue(limit=CORRECTIONS_PER_PAGE, offset=offset, item_id=item_id)
    except NotFound:
        abort(404)
    base = [(k, v) for k, v in request.args.items(multi=True) if k != "offset"]
    prev_link = next_link = None
    if offset > 0:
        prev_link = "?" + urlencode(base + [("offset", max(0, offset - CORRECTIONS_PER_PAGE))])
    if offset + CORRECTIONS_PER_PAGE < queue.total:
        next_link = "?" + urlencode(base + [("offset", offset + CORRECTIONS_PER_PAGE)])
    return render_template("corrections_queue.html", t=t, lang=current_lang(), queue=queue, item_id=item_id,
                           offset=offset, prev_link=prev_link, next_link=next_link,
                           threshold=_percent(queue.threshold))
