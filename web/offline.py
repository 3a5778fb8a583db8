"""The monument guide on a phone with poor or no signal: a web app manifest (so the guide can be added
to the home screen) and a service worker whose scope is the monument pages only.

The worker (``web/static/sw-body.js``, served as ``/sw.js``) keeps what a visitor on site needs once a
monument page has been opened with signal: the page itself, its smallest and mobile model levels and
poster (asked for by ``web/static/offline.js``), and the scripts, styles and fonts those pages use
(precached when the worker installs). Book readers never load it: only the monument pages register it.
Its cache is named after a digest of the precached files, so a new deployment replaces the old copy.
Pages of a signed-in user are sent ``Cache-Control: private, no-store`` and never kept."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request, session, url_for

from web import i18n
from web.i18n import current_lang, words

bp = Blueprint("offline", __name__)

SCOPE = "/monuments"  # a prefix: the list (/monuments?lang=…) and every monument page
# What every monument page needs, relative to the static folder; the model viewer's decoders only load
# for models compressed with them, but a phone offline cannot fetch them later
PRECACHE = ("site.css", "menu.js", "viewer.js", "monument.js", "offline.js", "walk.js", "vendor/noto-sans/fonts.css",
            "vendor/model-viewer.min.js", "vendor/meshopt_decoder.js", "vendor/draco/draco_decoder.js",
            "vendor/draco/draco_decoder.wasm", "vendor/draco/draco_wasm_wrapper.js", "icons/icon-192.png")

i18n.add(
    vi={
        "off_ready": "Đã lưu hướng dẫn này để xem khi không có mạng.",
        "off_saving": "Đang lưu hướng dẫn này để xem khi không có mạng…",
        "off_offline": "Bạn đang ngoại tuyến: đây là bản đã lưu của hướng dẫn.",
        "off_failed": "Không lưu được hướng dẫn để xem khi không có mạng.",
        "off_missing": "Không có mạng, và trang này chưa được lưu trên máy.",
        "off_saved_list": "Các hướng dẫn đã lưu:",
        "site_short": "Di sản Hà Nội",
        "off_app_description": "Hướng dẫn tham quan di tích Hà Nội với mô hình 3D, dùng được cả khi không có mạng.",
    },
    en={
        "off_ready": "This guide is saved for use without signal.",
        "off_saving": "Saving this guide for use without signal…",
        "off_offline": "You are offline: this is the saved copy of the guide.",
        "off_failed": "This guide could not be saved for offline use.",
        "off_missing": "You are offline, and this page was not saved on this device.",
        "off_saved_list": "Saved guides:",
        "site_short": "Hanoi Heritage",
        "off_app_description": "A guide to Hanoi's monuments with 3D models, that works without signal too.",
    },
)


def _precache_files(static: Path) -> list[str]:
    """The precached files that exist (the vendor files come from scripts/frontend.sh)."""
    return [name for name in PRECACHE if (static / name).is_file()]


def _worker_source(app: Flask) -> str:
    """``sw-body.js`` with its settings in front, built once per process: the cache's name carries a digest
    of the precached files and of the worker itself."""
    cached = app.extensions.get("heritage_sw")
    if cached is not None:
        return cached
    static = Path(app.static_folder)
    files = _precache_files(static)
    body = (static / "sw-body.js").read_text(encoding="utf-8")
    digest = hashlib.sha256(body.encode())
    for name in files:
        digest.update(name.encode() + b"\0" + (static / name).read_bytes())
    texts = {lang: {k: i18n.TEXT[lang][k] for k in ("off_missing", "off_saved_list", "site")} for lang in ("vi", "en")}
    settings = {"version": digest.hexdigest()[:16], "scope": SCOPE,
                "precache": [f"/static/{name}" for name in files], "texts": texts}
    source = f"const SETTINGS = {json.dumps(settings, ensure_ascii=False)};\n{body}"
    app.extensions["heritage_sw"] = source
    return source


@bp.get("/sw.js")
def service_worker():
    resp = Response(_worker_source(current_app), mimetype="text/javascript")
    resp.headers["Cache-Control"] = "no-cache"  # browsers check for a new worker on every visit
    return resp


@bp.get("/manifest.webmanifest")
def manifest():
    lang = current_lang()
    t = words()
    body = {
        "name": t["site"], "short_name": t["site_short"], "description": t["off_app_description"], "lang": lang,
        "start_url": f"{SCOPE}?lang={lang}", "scope": SCOPE, "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#7a1f1f",
        "icons": [{"src": url_for("static", filename=f"icons/icon-{n}.png"), "sizes": f"{n}x{n}",
                   "type": "image/png", "purpose": "any maskable"} for n in (192, 512)],
    }
    resp = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


@bp.get("/favicon.ico")
def favicon():
    return current_app.view_functions["static"](filename="icons/icon-192.png")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.after_request
    def _signed_in_pages_are_not_kept(resp):
        """A signed-in user's pages carry their name and a form token: no cache (the service worker's
        included) keeps them for the next person on the same phone."""
        if resp.mimetype == "text/html" and session.get("user_id") and request.method == "GET":
            resp.headers["Cache-Control"] = "private, no-store"
        return resp
