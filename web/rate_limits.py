"""Where the portal's rate limits are counted, so that every web process of the deployment sees one count.

Flask-Limiter (with its ``limits`` core) does the counting: a moving window per key. Its storage is
chosen from the deployment:

- the Redis deployment (``HERITAGE_BROKER_URL=redis://…``): that Redis, which every web process of
  every machine already reaches;
- the embedded deployment: a SQLite file in the data folder (``rate-limits.sqlite``), registered
  with ``limits`` as the storage scheme ``heritage+sqlite://``. ``limits`` ships storages for
  memory, Redis, Memcached and MongoDB only; its memory storage lives in one process, so the several
  web processes of one machine (``heritage serve --web-processes N``, SO_REUSEPORT) would each allow
  the full limit. A SQLite file is what the embedded deployment already shares between processes
  (the catalogue, the queue), needs no server, and takes the few writes a failed sign-in makes.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

from limits.storage import MovingWindowSupport, Storage

SQLITE_SCHEME = "heritage+sqlite"


def storage_uri(settings) -> str:
    """The ``limits`` storage URI for ``settings``: the broker's Redis, else a SQLite file in the data folder."""
    if settings.broker_url.startswith(("redis://", "rediss://")):
        return settings.broker_url
    return sqlite_uri(settings.data_dir / "rate-limits.sqlite")


def sqlite_uri(path: Path) -> str:
    return f"{SQLITE_SCHEME}://{Path(path).resolve()}"


class SQLiteStorage(Storage, MovingWindowSupport):
    """A ``limits`` storage in one SQLite file (WAL), shared by the processes of one machine.

    Supports the fixed-window and moving-window strategies. Tables: ``events(key, at)`` (moving
    window: one row per counted event, ``at`` in Unix seconds) and ``counters(key, value, expires_at)``.
    """

    STORAGE_SCHEME = [SQLITE_SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        parsed = urlparse(uri or "")
        self.path = Path(unquote(parsed.netloc + parsed.path))
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS events (key TEXT NOT NULL, at REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS events_key_at ON events (key, at)")
            db.execute("CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL, "
                       "expires_at REAL NOT NULL)")
        self.path.chmod(0o600)

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _db(self):
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return contextlib.closing(db)

    @contextlib.contextmanager
    def _write(self):
        """One write transaction (``BEGIN IMMEDIATE``: processes take turns, no lost update)."""
        with self._lock, self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------ fixed window
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM counters WHERE key = ? AND expires_at <= ?", (key, now))
            db.execute("INSERT INTO counters (key, value, expires_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value", (key, amount, now + expiry))
            return db.execute("SELECT value FROM counters WHERE key = ?", (key,)).fetchone()[0]

    def get(self, key: str) -> int:
        with self._db() as db:
            row = db.execute("SELECT value FROM counters WHERE key = ? AND expires_at > ?",
                             (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        with self._db() as db:
            row = db.execute("SELECT expires_at FROM counters WHERE key = ?", (key,)).fetchone()
        return row[0] if row else time.time()

    def check(self) -> bool:
        try:
            with self._db() as db:
                db.execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        with self._write() as db:
            n = db.execute("DELETE FROM events").rowcount + db.execute("DELETE FROM counters").rowcount
        return n

    def clear(self, key: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM events WHERE key = ?", (key,))
            db.execute("DELETE FROM counters WHERE key = ?", (key,))

    # ------------------------------------------------------------ moving window
    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM events WHERE key = ? AND at < ?", (key, now - expiry))
            count = db.execute("SELECT count(*) FROM events WHERE key = ?", (key,)).fetchone()[0]
            if count + amount > limit:
                return False
            db.executemany("INSERT INTO events (key, at) VALUES (?, ?)", [(key, now)] * amount)
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        with self._db() as db:
            oldest, count = db.execute("SELECT min(at), count(*) FROM events WHERE key = ? AND at >= ?",
                                       (key, now - expiry)).fetchone()
        return (oldest if oldest is not None else now), count
