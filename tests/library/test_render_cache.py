"""The render cache (IIIF tiles, exports) keeps a running total of its bytes, so a put costs the same with
ten entries or a million (it summed every entry on each put before #12): the total always equals the files
counted, eviction takes the least recently used in batches, and an index made before the total existed
gets its total summed once when opened."""

from __future__ import annotations

import random
import sqlite3
import time

from library.discovery.iiif import RenderCache
from library.store import FileStore


def _entries(cache: RenderCache) -> dict[str, int]:
    with sqlite3.connect(cache.index_path) as db:
        return dict(db.execute("SELECT rel, bytes FROM entries").fetchall())


def test_the_total_follows_every_put_replace_forget_and_eviction(tmp_path):
    store = FileStore(tmp_path / "store")
    cache = RenderCache(store, 50_000, folder="cache-a")
    rng = random.Random(3)
    for n in range(400):
        rel = f"cache-a/t{rng.randrange(120)}.bin"
        if rng.random() < 0.1:
            cache.forget(rel)
            store.resolve(rel).unlink(missing_ok=True)
        else:
            cache.put(rel, bytes(rng.randrange(100, 4_000)))
        entries = _entries(cache)
        assert cache.total_bytes() == sum(entries.values()) <= 50_000
        on_disk = {f"cache-a/{p.name}": p.stat().st_size for p in (tmp_path / "store" / "cache-a").glob("t*.bin")}
        assert on_disk == entries  # every counted file is there and every file there is counted


def test_the_least_recently_used_go_first(tmp_path):
    store = FileStore(tmp_path / "store")
    cache = RenderCache(store, 10_000, folder="cache-b")
    cache.TOUCH_EVERY_S = 0.0
    for n in range(5):
        cache.put(f"cache-b/{n}.bin", bytes(2_000))
        time.sleep(0.01)
    assert cache.get("cache-b/0.bin") is not None  # 0 is used again: now the most recent
    cache.put("cache-b/5.bin", bytes(3_000))  # 13,000 bytes: two must go, the least recently used
    assert sorted(_entries(cache)) == ["cache-b/0.bin", "cache-b/3.bin", "cache-b/4.bin", "cache-b/5.bin"]
    assert cache.total_bytes() == 9_000
    assert not store.resolve("cache-b/1.bin").exists() and not store.resolve("cache-b/2.bin").exists()


def test_an_index_from_before_the_running_total_is_summed_once(tmp_path):
    store = FileStore(tmp_path / "store")
    index = store.resolve("cache-c/index.sqlite3")
    index.parent.mkdir(parents=True)
    with sqlite3.connect(index) as db:  # the layout of an index written by the code before
        db.execute("CREATE TABLE entries (rel TEXT PRIMARY KEY, bytes INTEGER NOT NULL, used_at REAL NOT NULL)")
        db.executemany("INSERT INTO entries VALUES (?, ?, ?)", [(f"cache-c/{n}.bin", 1_000, n) for n in range(7)])
    for n in range(7):
        store.write_bytes(f"cache-c/{n}.bin", bytes(1_000))
    cache = RenderCache(store, 8_000, folder="cache-c")
    assert cache.total_bytes() == 7_000
    cache.put("cache-c/new.bin", bytes(2_500))  # 9,500: the oldest two go
    assert cache.total_bytes() == 7_500 and sorted(_entries(cache))[:2] == ["cache-c/2.bin", "cache-c/3.bin"]
