"""Sessions, CSRF protection, security headers and rate limits, wired by ``init_app``."""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections import deque
from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect

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
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key
    except OSError:
        raise


class RateLimiter:
    """At most ``limit`` events per ``window_s`` for one key (e.g. failed sign-ins per address and name).

    With ``store`` (a SQLite file in the data folder) the count is shared by every web process of the
    machine, so running several processes does not multiply the limit; without it, in this process only."""

    def __init__(self, limit: int, window_s: float, store: Path | None = None):
        self.limit, self.window_s, self.store = limit, window_s, store
        self._events: dict[str, deque] = {}
        self._lock = threading.Lock()
        if store is not None:
            with self._db() as db:
                db.execute("CREATE TABLE IF NOT EXISTS events (key TEXT NOT NULL, at REAL NOT NULL)")
                db.execute("CREATE INDEX IF NOT EXISTS events_key_at ON events (key, at)")

    def _db(self):
        import sqlite3

        db = sqlite3.connect(self.store, timeout=10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return contextlib.closing(db)

    def blocked(self, key: str) -> bool:
        if self.store is not None:
            with self._db() as db:
                db.execute("DELETE FROM events WHERE at < ?", (time.time() - self.window_s,))
                return db.execute("SELECT count(*) FROM events WHERE key = ?", (key,)).fetchone()[0] >= self.limit
        with self._lock:
            q = self._events.get(key)
            if not q:
                return False
            now = time.monotonic()
            while q and now - q[0] > self.window_s:
                q.popleft()
            return len(q) >= self.limit

    def hit(self, key: str) -> None:
        if self.store is not None:
            with self._db() as db:
                db.execute("INSERT INTO events (key, at) VALUES (?, ?)", (key, time.time()))
            return
        with self._lock:
            self._events.setdefault(key, deque()).append(time.monotonic())

    def reset(self, key: str) -> None:
        if self.store is not None:
            with self._db() as db:
                db.execute("DELETE FROM events WHERE key = ?", (key,))
            return
        with self._lock:
            self._events.pop(key, None)


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
    csrf.init_app(app)
    app.extensions["login_limiter"] = RateLimiter(limit=5, window_s=300, store=data_dir / "rate-limits.sqlite")

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

