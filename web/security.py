"""Sessions, CSRF protection, security headers, rate limits, request body limits, route ids and the
public base URL, wired by ``init_app`` (and ``create_app``)."""

from __future__ import annotations

import math
import os
import secrets
from pathlib import Path

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from web import rate_limits

csrf = CSRFProtect()

CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; connect-src 'self' blob: data:; "
       "object-src 'none'; frame-ancestors 'self'; base-uri 'self'; form-action 'self'")


def secret_key(data_dir: Path) -> str:
    """The key that signs sessions: ``HERITAGE_SECRET_KEY``, else one made once and kept (0600) in the data folder."""
    if os.environ.get("HERITAGE_SECRET_KEY"):
        return os.environ["HERITAGE_SECRET_KEY"]
    path = data_dir / "secret_key"
    try:
        key = path.read_text().strip()
        if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
            path.chmod(0o600)  # one made by an older version, or copied, readable by others
        return key
    except FileNotFoundError:
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key
    except OSError:
        raise


class RateLimiter:
    """At most ``limit`` events per ``window_s`` for one key (e.g. readers' feedback per address).

    A moving window counted by ``limits`` (Flask-Limiter's core). With ``store`` (a SQLite file in
    the data folder) the count is shared by every web process of the machine, so running several
    processes does not multiply the limit; with ``storage_uri`` (e.g. the deployment's Redis) by
    every process that reaches it; with neither, in this process only."""

    def __init__(self, limit: int, window_s: float, store: Path | None = None, storage_uri: str | None = None):
        from limits import RateLimitItemPerSecond
        from limits.strategies import MovingWindowRateLimiter
        from limits.storage import storage_from_string

        self.limit, self.window_s, self.store = limit, window_s, store
        uri = storage_uri or (rate_limits.sqlite_uri(store) if store is not None else "memory://")
        self.storage = storage_from_string(uri)
        self.item = RateLimitItemPerSecond(limit, max(1, math.ceil(window_s)))
        self.strategy = MovingWindowRateLimiter(self.storage)

    def blocked(self, key: str) -> bool:
        return not self.strategy.test(self.item, key)

    def hit(self, key: str) -> None:
        self.strategy.hit(self.item, key)

    def reset(self, key: str) -> None:
        self.storage.clear(self.item.key_for(key))


# ------------------------------------------------------------------ request bodies
SMALL_BODY_BYTES = 1024 * 1024
# the routes that take files; every other route refuses a body over SMALL_BODY_BYTES before reading it
UPLOAD_ENDPOINTS = frozenset({"api.create_item", "staff.upload", "curator.submit_build",
                              # web.item_pages: replace a page's scan, add pages (portal and API)
                              "item_pages.replace", "item_pages.add", "item_pages_api.replace_page",
                              "item_pages_api.add_pages"})


def body_limit_bytes(app: Flask, endpoint: str | None) -> int:
    """The largest request body ``endpoint`` accepts: the upload limit for uploads, 1 MiB elsewhere."""
    big = app.config["MAX_CONTENT_LENGTH"] or app.config["HERITAGE_SETTINGS"].limits.max_file_bytes
    if endpoint in UPLOAD_ENDPOINTS:
        return big
    return min(big, app.config.get("HERITAGE_SMALL_BODY_BYTES", SMALL_BODY_BYTES))


def _limit_body() -> None:
    """Before anything reads the body (CSRF, forms): refuse one declared too large, and cap the rest.

    ``request.max_content_length`` also stops a body sent without a length (chunked) once it has
    passed the limit, so no route reads more than its limit."""
    limit = body_limit_bytes(current_app, request.endpoint)
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def _make_limiter(app: Flask) -> None:
    """Flask-Limiter, on the storage every web process shares (see :mod:`web.rate_limits`)."""
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    settings = app.config["HERITAGE_SETTINGS"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", rate_limits.storage_uri(settings))
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "heritage")
    app.extensions["heritage_limiter"] = Limiter(get_remote_address, app=app)


def init_app(app: Flask, data_dir: Path) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(data_dir)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("HERITAGE_SECURE_COOKIES", "") in ("1", "true", "yes"),
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
    )
    app.before_request(_limit_body)  # first: CSRFProtect's check reads the form
    csrf.init_app(app)
    _make_limiter(app)

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        resp.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if resp.mimetype == "text/html":
            resp.headers.setdefault("Content-Security-Policy", CSP)
        if app.config["SESSION_COOKIE_SECURE"]:
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return resp



# ------------------------------------------------------------------ URLs and ids
class CatalogueId(IntegerConverter):
    """``<int:…>`` in routes: a catalogue id, 1 to 19 digits and at most 2⁶³−1 (what the database
    stores); anything larger matches no route and answers 404 instead of overflowing the database."""

    regex = r"\d{1,19}"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = 2**63 - 1,
                 signed: bool = False):
        super().__init__(map, fixed_digits, min, max, signed)


class PublicURL:
    """WSGI middleware: the request's scheme, host and path prefix are those of ``HERITAGE_PUBLIC_URL``,
    so every absolute URL (``url_for(_external=True)``, ``request.host_url``, ``url_root``) names the
    public site whatever ``Host`` (or ``X-Forwarded-Host``) the client sent."""

    def __init__(self, app, public_url: str):
        from urllib.parse import urlsplit

        parts = urlsplit(public_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"HERITAGE_PUBLIC_URL={public_url!r} is not an http(s) URL such as "
                             "https://thuvien.example.vn")
        self.app = app
        self.scheme, self.host, self.prefix = parts.scheme, parts.netloc, parts.path.rstrip("/")

    def __call__(self, environ, start_response):
        environ["wsgi.url_scheme"] = self.scheme
        environ["HTTP_HOST"] = self.host
        for forwarded in ("HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_PREFIX"):
            environ.pop(forwarded, None)  # ProxyFix (inside) keeps X-Forwarded-For, the client's address
        if self.prefix:
            path = environ.get("PATH_INFO", "")
            if path.startswith(self.prefix + "/") or path == self.prefix:
                environ["PATH_INFO"] = path[len(self.prefix):]  # a proxy that passes the prefix on
            environ["SCRIPT_NAME"] = self.prefix
        return self.app(environ, start_response)
