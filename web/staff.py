"""Staff pages: sign in and out (hashed passwords, signed sessions, CSRF on every
form, rate-limited), and the processing dashboard with retry."""

from __future__ import annotations

from functools import wraps

import shutil
import uuid

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)

from library.ingest import Upload

from library.models import Role, User
from web.i18n import current_lang, words

bp = Blueprint("staff", __name__, url_prefix="/staff")

RETRY_ROLES = {Role.librarian, Role.admin}
UPLOAD_ROLES = {Role.librarian, Role.admin}
UPLOAD_FIELDS = ("title", "creator", "date", "publisher", "language", "type", "subject", "identifier", "rights",
                 "collection", "serial_title", "issue_date", "issue_number")


def _platform():
    return current_app.extensions["heritage"]


def signed_in_user() -> User | None:
    if "user" not in g:
        g.user = None
        uid = session.get("user_id")
        if uid is not None:
            with _platform().sessions() as s:
                user = s.get(User, uid)
                g.user = user if user is not None and user.active else None
    return g.user


def login_required(roles: set[Role] | None = None):
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = signed_in_user()
            if user is None:
                return redirect(url_for("staff.login", next=request.path, lang=current_lang()))
            if roles is not None and user.role not in roles:
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
        key = f"{request.remote_addr}|{name.lower()}"
        limiter = current_app.extensions["login_limiter"]
        if limiter.blocked(key):
            error, code = t["too_many"], 429
        else:
            user = _platform().users.authenticate(name, request.form.get("password", ""))
            if user is None:
                limiter.hit(key)
                error, code = t["bad_login"], 401
            else:
                limiter.reset(key)
                session.clear()
                session["user_id"] = user.id
                session.permanent = True
                target = request.args.get("next", "")
                if not target.startswith("/") or target.startswith("//"):
                    target = url_for("staff.dashboard")
                return redirect(target)
        return render_template("login.html", t=t, lang=current_lang(), error=error), code
    return render_template("login.html", t=t, lang=current_lang(), error=error)


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("pages.home"))


@bp.get("/")
@login_required()
def dashboard():
    rows = _platform().catalogue.item_statuses()
    busy = any(r.status == "processing" for r in rows)
    return render_template("dashboard.html", rows=rows, t=words(), lang=current_lang(), busy=busy,
                           user=signed_in_user(), can_retry=signed_in_user().role in RETRY_ROLES)


@bp.post("/items/<int:item_id>/retry")
@login_required(RETRY_ROLES)
def retry(item_id: int):
    ids = _platform().reader.retry(item_id=item_id)
    flash(words()["requeued"].format(n=len(ids)))
    return redirect(url_for("staff.dashboard"))


@bp.route("/upload", methods=["GET", "POST"])
@login_required(UPLOAD_ROLES)
def upload():
    """Several files (or a zip, or a multi-page PDF/TIFF) and their metadata make one item; a CSV sheet
    with its files makes many. The same ingest service as the command line and the API."""
    t = words()
    if request.method == "GET":
        return render_template("upload.html", t=t, lang=current_lang(), report=None, form={})
    p = _platform()
    files = [f for f in request.files.getlist("files") if f and f.filename]
    form = {k: request.form.get(k, "") for k in UPLOAD_FIELDS}
    dry_run = request.form.get("dry_run") == "1"
    folder = p.settings.work_dir / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        uploads = []
        for n, f in enumerate(files):
            target = folder / f"{n:04d}"
            f.save(target)  # our name on disk; the user's name is only a label
            uploads.append(Upload(target, f.filename))
        report = p.ingest.ingest_item(uploads, {k: v for k, v in form.items() if v}, actor=signed_in_user(),
                                      dry_run=dry_run)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    code = 200 if report.ok else 422
    return render_template("upload.html", t=t, lang=current_lang(), report=report, form=form), code


CORRECT_ROLES = {Role.librarian, Role.admin}


@bp.route("/pages/<int:page_id>/correct", methods=["GET", "POST"])
@login_required(CORRECT_ROLES)
def correct(page_id: int):
    """Edit a page line by line beside its image; every version is kept."""
    from library.errors import Conflict, InputRejected

    t = words()
    p = _platform()
    page = p.catalogue.page(page_id)
    error = None
    if request.method == "POST":
        revision, lines = p.corrections.lines(page_id)
        changes = {}
        for line in lines:
            new = request.form.get(f"line-{line.number}")
            if new is not None and new.strip() != line.text:
                changes[line.number] = new
        try:
            sent_revision = int(request.form.get("revision", "-1"))
            if changes:
                version = p.corrections.correct(page_id, changes, revision=sent_revision, actor=signed_in_user(),
                                                note=request.form.get("note") or None)
                flash(t["saved"].format(v=version))
            return redirect(url_for("staff.correct", page_id=page_id))
        except (Conflict, InputRejected) as exc:
            error = str(exc)
    revision, lines = p.corrections.lines(page_id)
    history = p.corrections.history(page_id)
    code = 409 if error else 200
    return render_template("correct.html", t=t, lang=current_lang(), page=page, lines=lines, revision=revision,
                           history=history, error=error), code
