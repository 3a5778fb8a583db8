"""The embedded index takes updates from several processes at once without losing any."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from search import IndexIncompatible, PageDoc, SearchRequest, SearchUnavailable, open_engine
from search.embedded import LOCK_FILE, SCHEMA_VERSION, VERSION_FILE
from tests.conftest import REPO

WRITER = """
import sys
from search import PageDoc, open_engine
folder, worker, batches, per_batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
engine = open_engine(folder, writer_heap_bytes=15_000_000, writer_threads=1)
for b in range(batches):
    docs = [PageDoc(access="public", page_id=f"{worker}-{b}-{k}", item_id=worker, page_number=b * per_batch + k + 1,
                    text=f"tiến trình {worker} lô {b} trang {k}: Văn Miếu") for k in range(per_batch)]
    engine.index(docs)
    if b % 3 == 0:  # updates too: the same page again
        engine.index(docs[:1])
print("done", worker)
"""


def test_several_processes_write_without_losing_updates(tmp_path):
    folder = tmp_path / "index"
    open_engine(folder).close()  # created once; writers open it concurrently
    workers, batches, per_batch = 3, 12, 5
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), str(w), str(batches), str(per_batch)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for w in range(workers)]
    reader = open_engine(folder)
    while any(p.poll() is None for p in procs):  # searching while they write never fails
        reader.refresh()
        reader.search(SearchRequest(access_levels=("public",), query="Văn Miếu"))
        time.sleep(0.05)
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err[-3000:]
    reader.refresh()
    assert reader.count() == workers * batches * per_batch
    assert reader.search(SearchRequest(access_levels=("public",), query="Van Mieu", per_page=1)).total == workers * batches * per_batch
    for w in range(workers):
        assert reader.search(SearchRequest(access_levels=("public",), query="", item_id=w)).total == batches * per_batch


def test_a_held_lock_makes_writes_unavailable_not_broken(tmp_path):
    folder = tmp_path / "index"
    engine = open_engine(folder, lock_timeout_s=0.3)
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl,sys,time\n"
                               f"f=open({str(folder / LOCK_FILE)!r},'r+'); fcntl.flock(f, fcntl.LOCK_EX);"
                               "print('locked', flush=True); time.sleep(30)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(SearchUnavailable) as e:
            engine.index([PageDoc(access="public", page_id=1, item_id=1, page_number=1, text="x")])
        assert "retry" in str(e.value)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    engine.index([PageDoc(access="public", page_id=1, item_id=1, page_number=1, text="x")])  # the lock is free again
    assert engine.count() == 1


def test_an_index_of_another_schema_must_be_rebuilt(tmp_path):
    folder = tmp_path / "index"
    old = open_engine(folder)
    old.index([PageDoc(access="public", page_id=1, item_id=1, page_number=1, text="bản cũ")])
    old.close()
    (folder / VERSION_FILE).write_text(json.dumps({"schema": 0}))
    engine = open_engine(folder)  # opens, as a cluster engine does, and refuses every use but rebuild
    other = open_engine(folder)  # another process, e.g. the portal
    for use in (lambda: engine.search(SearchRequest(access_levels=("public",), query="bản")), engine.count, engine.refresh,
                lambda: engine.index([PageDoc(access="public", page_id=2, item_id=1, page_number=2, text="x")])):
        with pytest.raises(IndexIncompatible) as e:
            use()
        assert "reindex" in str(e.value)
    assert engine.health().ok is False and "reindex" in engine.health().detail
    assert engine.rebuild([PageDoc(access="public", page_id=3, item_id=1, page_number=1, text="bản mới")]) == 1
    assert engine.count() == 1 and engine.search(SearchRequest(access_levels=("public",), query="ban moi")).total == 1
    assert json.loads((folder / VERSION_FILE).read_text())["schema"] == SCHEMA_VERSION
    assert other.search(SearchRequest(access_levels=("public",), query="bản mới")).total == 1  # it sees the rebuilt index
