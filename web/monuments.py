"""Monuments for tourists: a list, and a page per monument with its 3D model
(the smallest level first, better ones once it is on screen), AR where the
phone supports it, in Vietnamese or English."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, send_file

from library.errors import NotFound
from web.i18n import current_lang, words

bp = Blueprint("monuments", __name__)


def _service():
    return current_app.extensions["heritage"].monuments


@bp.get("/monuments")
def index():
    return render_template("monuments.html", t=words(), lang=current_lang(), monuments=_service().monuments())


@bp.get("/monuments/<slug>")
def monument(slug: str):
    try:
        m = _service().by_slug(slug)
    except NotFound:
        abort(404)
    return render_template("monument.html", t=words(), lang=current_lang(), m=m, models=_service().published(m.id))


@bp.get("/models/<int:version_id>/<name>")
def model_file(version_id: int, name: str):
    path = _service().model_file(version_id, name)
    mimetype = {"glb": "model/gltf-binary", "png": "image/png", "json": "application/json"}[name.rsplit(".", 1)[1]]
    resp = send_file(path, mimetype=mimetype, conditional=True, max_age=86400)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp
