"""The platform at scale: a catalogue, store and index of many realistic pages built through the real
METS/ALTO import path, measured at one size, then grown and measured again in the same run (#12).

Stages, for each size in ``--sizes`` (the same platform grows from one size to the next):

1. **import**: items planned by :mod:`bench.scale_packages` (a 1,000-page book first, newspaper issues
   of 4–16 pages, magazines, books, pamphlets, single sheets; 250–2,000 words a page with boxes and
   confidences; MODS records), each written as a METS/ALTO package into the work folder, imported by
   ``platform.mets.import_batch`` (what ``heritage ingest PACKAGE`` does) and deleted; pages/s;
2. **bytes per page**: the SQLite catalogue file, the tantivy index folder, the store (originals and
   derivatives apart);
3. **reindex**: ``Indexer.rebuild`` (what ``heritage reindex`` runs) — documents/s, the time for 1M pages;
4. **portal**: ``heritage serve --web-processes N`` (waitress; 2 by default, one per core) on the data folder and ``--clients``
   concurrent clients × ``--requests`` each (each request on a new connection): p50/p95 of a search page (a different two-word
   query each request; hits with word boxes), the 1,000-page book's item page and a deep window of it,
   IIIF tiles never asked before, the staff dashboard (signed in), a collection's page, an OAI-PMH
   ListRecords page and its resumption page; then metadata edits (``platform.items.edit``, one at a
   time) timed until the search page finds the new title.

Prints the figures of every size side by side, the ratio of the last to the first, and #12's targets.
``--profile N`` instead imports N pages under cProfile and prints where the time goes.
Everything lives in ``/tmp/scale-*`` and is deleted at the end (the disk used is printed), unless
``--work DIR``: then the run grows and measures in DIR and keeps it, saving its state after every batch,
so that a run stopped or killed (a million pages take longer than one sitting) resumes there: the sizes
measured before are kept, the import goes on from the catalogue it left. With ``--cluster`` the
PostgreSQL cluster (DIR/pg) and the OpenSearch node (DIR/node) keep their data there too and are started
again on it. Stop a run with SIGTERM (``pkill -f bench/scale.py``): it then stops the servers it started.

    nice .venv/bin/python bench/scale.py --sizes 10000 100000
    nice .venv/bin/python bench/scale.py --cluster --sizes 2000 10000    # PostgreSQL + OpenSearch
    nice .venv/bin/python bench/scale.py --profile 500
    nice .venv/bin/python bench/scale.py --compare-jobs 5000 --jobs 2   # the import: 1 process against 2
    nice .venv/bin/python bench/scale.py --work /tmp/scale-1m --sizes 10000 1000000   # again to resume
    nice .venv/bin/python bench/scale.py --cluster --work /work/scale-1m-cluster --sizes 10000 1000000
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import http.client
import io
import os
import pstats
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
MILLION = 1_000_000
STAFF_USER, STAFF_PASSWORD = "scale-bench", "Scale-bench-password-2026!"
# #12's targets at 1M pages: page → p95 ms
TARGETS_P95_MS = {"search page": 300, "item page (1,000-page book)": 200, "IIIF tile, not cached": 200}
GROWTH_LIMIT = 2.0  # no figure more than 2× its value at the first size
BACKEND_ENV: dict[str, str] = {}  # --cluster: HERITAGE_DATABASE_URL and HERITAGE_SEARCH_URL of the nodes started
BATCH_ITEMS, BATCH_PAGES = 50, 2_000  # packages imported by one import_batch call


# ------------------------------------------------------------------ import
@dataclass
class Holdings:
    """What the run has imported so far."""

    pages: int = 0
    words: int = 0
    items: int = 0
    import_s: float = 0.0
    book_id: int | None = None
    newspaper_ids: list[int] = field(default_factory=list)
    collections: dict[str, int] = field(default_factory=dict)  # name → pages
    # where the size being grown to (``step_to``) began: its import rate counts every session it took
    step_to: int = 0
    step_from_pages: int = 0
    step_from_s: float = 0.0


def grow(platform, planner, writer, holdings: Holdings, target_pages: int, *, progress=True,
         after_batch=None, jobs: int = 1) -> float:
    """Import items until ``holdings.pages`` reaches ``target_pages``; the wall seconds of the imports
    (package writing excluded). ``after_batch(import seconds so far)`` is called after every batch."""
    from library.access import Actor

    actor = Actor.system("scale-bench")
    import_s, started, last = 0.0, time.monotonic(), 0.0
    while holdings.pages < target_pages:
        # a batch of packages, as `heritage ingest BATCH` takes them (inside Indexer.batched: search is
        # told every few seconds, not per item); one import_batch call per collection of the batch
        batch, planned = [], holdings.pages
        while planned < target_pages and len(batch) < BATCH_ITEMS and planned - holdings.pages < BATCH_PAGES:
            plan = planner.next_item(target_pages - planned)
            folder, words = writer.write(plan)
            batch.append((plan, folder, words))
            planned += plan.pages
        t0 = time.perf_counter()
        found = {}
        with platform.indexer.batched():
            for name in dict.fromkeys(plan.collection for plan, _, _ in batch):
                group = [(plan, folder) for plan, folder, _ in batch if plan.collection == name]
                outs = platform.mets.import_batch([f for _, f in group], actor=actor, collection=name, jobs=jobs)
                found.update({plan.number: out for (plan, _), out in zip(group, outs)})
        outcomes = [found[plan.number] for plan, _, _ in batch]
        took = time.perf_counter() - t0
        import_s += took
        holdings.import_s += took
        for (plan, folder, words), outcome in zip(batch, outcomes):
            shutil.rmtree(folder)
            if outcome.status != "created":
                raise SystemExit(f"import of item {plan.number} failed: {outcome.as_dict()}")
            holdings.pages += plan.pages
            holdings.words += words
            holdings.items += 1
            holdings.collections[plan.collection] = holdings.collections.get(plan.collection, 0) + plan.pages
            if plan.number == 1:
                holdings.book_id = outcome.item_id
            elif plan.kind == "newspaper":
                holdings.newspaper_ids.append(outcome.item_id)
        if after_batch is not None:
            after_batch(import_s)
        if progress and time.monotonic() - last > 30:
            last = time.monotonic()
            rate = holdings.pages / holdings.import_s if holdings.import_s else 0
            print(f"  {holdings.pages:,}/{target_pages:,} pages, {holdings.items:,} items, {rate:.1f} pages/s, "
                  f"{time.monotonic() - started:.0f} s", flush=True)
    return import_s


# ------------------------------------------------------------------ bytes
def tree_bytes(path: Path) -> int:
    """Apparent bytes of the files under ``path`` (``du -sb``: a file the store hard-linked to another, as it
    does with the pyramid of an image two pages share, counted once)."""
    if not path.exists():
        return 0
    out = subprocess.run(["du", "-sb", str(path)], check=True, capture_output=True, text=True).stdout
    return int(out.split()[0])


def _cluster_bytes() -> tuple[int, int]:
    """(PostgreSQL database bytes, OpenSearch primary store bytes) of the cluster backend."""
    import json
    import urllib.request

    import psycopg

    url = BACKEND_ENV["HERITAGE_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        db_bytes = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    search = BACKEND_ENV["HERITAGE_SEARCH_URL"]
    urllib.request.urlopen(f"{search}/_refresh", data=b"", timeout=60).read()
    urllib.request.urlopen(f"{search}/_flush", data=b"", timeout=300).read()
    stats = json.loads(urllib.request.urlopen(f"{search}/_stats/store", timeout=60).read())
    return db_bytes, stats["_all"]["primaries"]["store"]["size_in_bytes"]


def bytes_per_page(data: Path, pages: int) -> dict[str, float]:
    if "HERITAGE_DATABASE_URL" in BACKEND_ENV:
        catalogue, index = _cluster_bytes()
    else:
        catalogue = sum(f.stat().st_size for f in data.glob("catalogue.sqlite3*"))
        index = tree_bytes(data / "index")
    store = data / "store"
    return {"catalogue B/page": catalogue / pages, "index B/page": index / pages,
            "store originals B/page": tree_bytes(store / "originals") / pages,
            "store derivatives B/page": tree_bytes(store / "derivatives") / pages}


# ------------------------------------------------------------------ portal
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client(port: int, paths: list[str], headers: dict | None = None) -> list[float]:
    """One client's requests, one after the other, each on a new connection (timed with its connect): the
    web processes share the port (SO_REUSEPORT) and the kernel gives each *connection* to one of them, so
    20 keep-alive clients split unevenly between 2 processes, differently each run (p50 of the same search
    load swung 234–382 ms between two identical runs); a proxy in front spreads requests the same way."""
    times = []
    for path in paths:
        t0 = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("GET", path, headers=dict(headers or {}, Connection="close"))
        resp = conn.getresponse()
        resp.read()
        conn.close()
        if resp.status != 200:
            raise RuntimeError(f"{path}: HTTP {resp.status}")
        times.append((time.perf_counter() - t0) * 1000)
    return times


def measure(port: int, per_client: list[list[str]], headers: dict | None = None) -> tuple[float, float]:
    """p50 and p95 in ms of every request of every client (all clients at once)."""
    with ThreadPoolExecutor(len(per_client)) as pool:
        runs = list(pool.map(lambda paths: client(port, paths, headers), per_client))
    times = sorted(t for run in runs for t in run)
    return statistics.median(times), times[max(0, int(round(0.95 * len(times))) - 1)]


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    conn.close()
    return resp.status, resp.headers, body


def _cookies(headers, jar: dict) -> None:
    for value in headers.get_all("Set-Cookie") or []:
        for name, morsel in SimpleCookie(value).items():
            jar[name] = morsel.value


def sign_in(port: int) -> dict:
    """The Cookie header of a staff session (the login form, CSRF token and all)."""
    jar: dict = {}
    status, headers, body = get(port, "/staff/login")
    _cookies(headers, jar)
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    form = urlencode({"csrf_token": token, "username": STAFF_USER, "password": STAFF_PASSWORD})
    conn.request("POST", "/staff/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
        "Referer": f"http://127.0.0.1:{port}/staff/login"})
    resp = conn.getresponse()
    resp.read()
    if resp.status != 302:
        raise RuntimeError(f"staff sign-in: HTTP {resp.status}")
    _cookies(resp.headers, jar)
    conn.close()
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}


def serve(src: Path, data: Path, processes: int = 1) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ, HERITAGE_DATA_DIR=str(data), OMP_THREAD_LIMIT="1", PYTHONPATH=str(src), **BACKEND_ENV)
    proc = subprocess.Popen([sys.executable, "-m", "console", "serve", "--port", str(port), "--web-processes", str(processes)],
                            cwd=src, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError("heritage serve did not answer within 120 s")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def portal_figures(platform, src: Path, data: Path, holdings: Holdings, vocab: list[str], asked_tiles: set,
                   clients: int, requests: int, edits: int, rng: random.Random, processes: int = 1) -> dict[str, tuple[float, float]]:
    """``{page: (p50 ms, p95 ms)}`` of the portal over this data folder."""
    from sqlalchemy import func, select

    from library.catalogue.models import Collection, Page

    with platform.sessions() as s:
        low, high = s.execute(select(func.min(Page.id), func.max(Page.id))).one()
        biggest = max(holdings.collections, key=holdings.collections.get)
        collection_id = s.scalar(select(Collection.id).where(Collection.name == biggest))
    proc, port = serve(src, data, processes)
    print(f"  (the largest collection, {biggest!r}, holds {holdings.collections[biggest]:,} pages)")
    out = {}
    try:
        def each(make):
            return [[make() for _ in range(requests)] for _ in range(clients)]

        def query(ranks=(20, 200)):
            words = vocab[slice(*ranks)]
            return "/search?" + urlencode({"q": f"{rng.choice(words)} {rng.choice(words)}"})

        def tile():
            while True:
                page_id = rng.randint(low, high)
                x, y = rng.randrange(0, 1240 - 512, 64), rng.randrange(0, 1754 - 512, 64)
                if (page_id, x, y) not in asked_tiles:
                    asked_tiles.add((page_id, x, y))
                    return f"/iiif/image/p{page_id}/{x},{y},512,512/512,/0/default.jpg"

        staff = sign_in(port)
        status, _, body = get(port, "/oai?verb=ListRecords&metadataPrefix=oai_dc")
        token = re.search(r"<resumptionToken[^>]*>([^<]+)</resumptionToken>", body)
        book = f"/items/{holdings.book_id}"
        pages = {
            "search page": (query, None),
            "search page, rare words": (lambda: query((700, 1100)), None),
            "item page (1,000-page book)": (lambda: book, None),
            "item page, window from page 901": (lambda: f"{book}?from=901", None),
            "IIIF tile, not cached": (tile, None),
            "staff dashboard": (lambda: "/staff/", staff),
            "collection page (the largest)": (lambda: f"/collections/{collection_id}", None),
            "OAI-PMH ListRecords": (lambda: "/oai?verb=ListRecords&metadataPrefix=oai_dc", None),
        }
        if token:
            pages["OAI-PMH resumption page"] = (lambda: "/oai?" + urlencode(
                {"verb": "ListRecords", "resumptionToken": token.group(1)}), None)
        for name, (make, headers) in pages.items():
            client(port, [make() for _ in range(2)], headers)  # warm up (these tiles are then cached: not reused)
            out[name] = measure(port, each(make), headers)
            print(f"  {name:<44}{out[name][0]:>9.1f}{out[name][1]:>9.1f} ms", flush=True)
        out["metadata edit → found by search"] = edit_to_search(platform, port, holdings, vocab, edits, rng)
        print(f"  {'metadata edit → found by search':<44}{out['metadata edit → found by search'][0]:>9.1f}"
              f"{out['metadata edit → found by search'][1]:>9.1f} ms", flush=True)
    finally:
        stop(proc)
    return out


def edit_to_search(platform, port: int, holdings: Holdings, vocab: list[str], edits: int, rng: random.Random
                   ) -> tuple[float, float]:
    """Give ``edits`` newspaper issues, one at a time, a new title and creator through the editing service
    (``platform.items.edit``); for each, the ms from the edit's start until the search page, asked for the
    commonest word filtered on the new creator, lists the item. (The search page searches pages, whose
    documents carry the item's record as fields: a title is shown there and a creator is a facet, but
    neither is searched as text.)"""
    from library.access import Actor

    actor = Actor.system("scale-bench")
    times = []
    for n in range(edits):
        item_id = rng.choice(holdings.newspaper_ids or [holdings.book_id])
        word = f"scaleedit{rng.randrange(10**9)}x{n}"
        link = re.compile(rf"/items/{item_id}(?!\d)")
        query = "/search?" + urlencode({"q": vocab[0], "creator": f"Tác giả {word}"})
        t0 = time.perf_counter()
        platform.items.edit(actor, item_id, {"title": f"Số đặc biệt {word}", "creator": f"Tác giả {word}"})
        while not link.search(get(port, query)[2]):
            if time.perf_counter() - t0 > 120:
                raise RuntimeError(f"the edit of item {item_id} did not reach search within 120 s")
            time.sleep(0.05)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(round(0.95 * len(times))) - 1)]


# ------------------------------------------------------------------ reindex
def reindex_seconds(platform) -> tuple[int, float]:
    """``Indexer.rebuild`` as ``heritage reindex`` runs it: (documents, wall seconds)."""
    t0 = time.perf_counter()
    n = platform.indexer.rebuild()
    return n, time.perf_counter() - t0


# ------------------------------------------------------------------ profile
def profile_import(pages: int, work: Path) -> None:
    """Import ``pages`` pages of the usual mix (no 1,000-page book) under cProfile; print the top costs."""
    from bench.scale_packages import Planner, PackageWriter, shared_images
    from library.container import build_platform
    from library.settings import Settings

    planner, writer = Planner(seed=99), PackageWriter(work / "packages", shared_images(work / "images"))
    planner.number = 1  # skip the book
    platform = build_platform(Settings.from_env(BACKEND_ENV, data_dir=work / "data"))
    holdings = Holdings(book_id=0)
    profiler = cProfile.Profile()
    try:
        profiler.enable()
        seconds = grow(platform, planner, writer, holdings, pages, progress=False)
        profiler.disable()
    finally:
        platform.close()
    print(f"profiled import: {holdings.pages} pages, {holdings.items} items, {holdings.words / holdings.pages:.0f} "
          f"words a page: {holdings.pages / seconds:.1f} pages/s (under cProfile; package writing included "
          f"below, not in this rate)")
    for order in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(30)
        print(text.getvalue())


def compare_jobs(pages: int, jobs: int, work: Path) -> None:
    """Import the same ``pages`` pages (the usual mix, no 1,000-page book) into two fresh platforms, with
    one process and with ``jobs`` checking processes; print both rates (package writing apart and with it)."""
    from bench.scale_packages import Planner, PackageWriter, shared_images
    from library.container import build_platform
    from library.settings import Settings

    images = shared_images(work / "images")
    rates = {}
    for n in (1, jobs):
        planner, writer = Planner(seed=99), PackageWriter(work / f"packages-{n}", images)
        planner.number = 1  # skip the book
        platform = build_platform(Settings.from_env(BACKEND_ENV, data_dir=work / f"data-{n}"))
        holdings = Holdings(book_id=0)
        started = time.perf_counter()
        try:
            seconds = grow(platform, planner, writer, holdings, pages, progress=False, jobs=n)
        finally:
            platform.close()
        wall = time.perf_counter() - started
        rates[n] = holdings.pages / seconds
        print(f"--jobs {n}: {holdings.pages:,} pages ({holdings.words / holdings.pages:.0f} words a page) imported at "
              f"{rates[n]:.1f} pages/s; {holdings.pages / wall:.1f} pages/s with the bench writing the packages",
              flush=True)
        shutil.rmtree(work / f"data-{n}", ignore_errors=True)
    print(f"--jobs {jobs} against --jobs 1: {rates[jobs] / rates[1]:.2f}× (cores here: {os.cpu_count()})")


# ------------------------------------------------------------------ report
def print_table(sizes: list[int], columns: list[dict[str, float | tuple]], notes: dict[str, str]) -> None:
    names = list(dict.fromkeys(k for c in columns for k in c))
    head = "".join(f"{f'{n:,} pages':>22}" for n in sizes)
    print(f"\n{'figure':<46}{head}{'ratio':>8}  check")
    for name in names:
        cells, values = [], []
        for col in columns:
            v = col.get(name)
            if isinstance(v, tuple):
                cells.append(f"{v[0]:>10.1f} / {v[1]:>7.1f}ms")
                values.append(v[1])
            elif v is None:
                cells.append(f"{'—':>22}")
            else:
                cells.append(f"{v:>22,.1f}")
                values.append(v)
        ratio = values[-1] / values[0] if len(values) > 1 and values[0] else None
        check = notes.get(name, "")
        if name in TARGETS_P95_MS and values:
            check += f"p95 ≤ {TARGETS_P95_MS[name]} ms {'✓' if values[-1] <= TARGETS_P95_MS[name] else '✗'} "
        if ratio is not None and isinstance(columns[-1].get(name), tuple):
            check += f"≤ {GROWTH_LIMIT:.0f}× {'✓' if ratio <= GROWTH_LIMIT else '✗'}"
        print(f"{name:<46}{''.join(cells)}{(f'{ratio:>7.2f}×' if ratio else ' ' * 8)}  {check}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="pages, ascending")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--web-processes", type=int, default=2,
                    help="heritage serve --web-processes (2: one per core of this machine)")
    ap.add_argument("--requests", type=int, default=10, help="per client and page")
    ap.add_argument("--edits", type=int, default=10, help="metadata edits timed until search finds them")
    ap.add_argument("--profile", type=int, default=0, metavar="PAGES", help="only profile an import of PAGES")
    ap.add_argument("--compare-jobs", type=int, default=0, metavar="PAGES",
                    help="only import PAGES pages with one process, then with --jobs processes, and compare")
    ap.add_argument("--jobs", type=int, default=2,
                    help="checking processes of the import (heritage ingest --jobs; default 2, one per core)")
    ap.add_argument("--src", type=Path, default=REPO, help="the source tree to run (default: this one)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (default: delete it)")
    ap.add_argument("--work", type=Path, default=None,
                    help="grow and measure in this folder and keep it; a run stopped or killed there resumes "
                         "(sizes already measured are kept, the import goes on from the catalogue it left; a step's "
                         "import rate counts every session it took)")
    ap.add_argument("--remeasure", action="store_true",
                    help="with --work: measure the size the catalogue holds again (after a change of code): its import "
                         "figures are kept, the index is rebuilt by this code, the rest measured anew (the column "
                         "measured before is kept in state-before-remeasure.json)")
    ap.add_argument("--cluster", action="store_true",
                    help="PostgreSQL + OpenSearch (a throw-away server and node started here) instead of SQLite + tantivy")
    args = ap.parse_args()
    # stopped with SIGTERM (kill, pkill): the finally blocks run, so the catalogue is closed and the servers a
    # --cluster run started are stopped (a resumed run starts them again on their kept data)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    src = args.src.resolve()
    sys.path.insert(0, str(src))
    os.chdir(src)

    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
        work, args.keep = args.work.resolve(), True
    else:
        work = Path(tempfile.mkdtemp(prefix="scale-", dir="/tmp"))
    print(f"work folder {work}; code from {src}", flush=True)
    stack = contextlib.ExitStack()
    try:
        if args.cluster:
            from bench.catalogue_bytes import Postgres
            from bench.search import start_opensearch

            # with --work both keep their data there, so a run stopped in one session resumes in the next
            pg = stack.enter_context(Postgres(work / "pg" if args.work is not None else None))
            proc, url = start_opensearch(work)
            stack.callback(lambda: (os.killpg(proc.pid, signal.SIGTERM), proc.wait(timeout=120)))
            BACKEND_ENV.update(HERITAGE_DATABASE_URL=pg.database("scale" if args.work is not None else None),
                               HERITAGE_SEARCH_URL=url)
            print(f"backend: PostgreSQL {BACKEND_ENV['HERITAGE_DATABASE_URL']}, OpenSearch {url}", flush=True)
        else:
            print("backend: SQLite + tantivy (embedded)", flush=True)
        if args.profile:
            profile_import(args.profile, work)
        elif args.compare_jobs:
            compare_jobs(args.compare_jobs, args.jobs, work)
        else:
            run(args, src, work)
    finally:
        stack.close()
        used = tree_bytes(work)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        print(f"disk used by the run at its end: {used / 1e9:.2f} GB ({'kept' if args.keep else 'deleted'})")


STATE_FILE = "state.json"
#: A column's figures that only an import measures (kept by ``--remeasure``).
IMPORT_FIGURES = ("items", "words a page", "import pages/s (this step)", "import checking processes (--jobs)",
                  "import of 1M pages, projected h")


def save_state(work: Path, holdings: Holdings, planner, columns: dict[int, dict]) -> None:
    """What a resumed run needs, written atomically after every batch and every size measured."""
    import dataclasses
    import json

    state = {"holdings": dataclasses.asdict(holdings), "planner": {"number": planner.number, "issues": planner.issues},
             "columns": {str(size): {k: list(v) if isinstance(v, tuple) else v for k, v in col.items()}
                         for size, col in columns.items()}}
    tmp = work / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1))
    os.replace(tmp, work / STATE_FILE)


def load_state(work: Path, platform, planner) -> tuple[Holdings, dict[int, dict]] | None:
    """The holdings and measured sizes of a run that stopped in ``work`` (None: a new run). Pages, items
    and collections are counted again from the catalogue: a run killed inside a batch left more than it
    recorded."""
    import json

    from sqlalchemy import func, select

    from library.catalogue.models import Collection, Item, Page

    path = work / STATE_FILE
    if not path.exists():
        return None
    state = json.loads(path.read_text())
    holdings = Holdings(**state["holdings"])
    with platform.sessions() as s:
        pages = s.scalar(select(func.count(Page.id))) or 0
        holdings.items = s.scalar(select(func.count(Item.id))) or 0
        holdings.collections = dict(s.execute(
            select(Collection.name, func.count(Page.id)).join(Item, Item.collection_id == Collection.id)
            .join(Page, Page.item_id == Item.id).group_by(Collection.name)).all())
    if holdings.pages:
        holdings.words = round(holdings.words * pages / holdings.pages)
    holdings.pages = pages
    planner.number = max(state["planner"]["number"], holdings.items)
    planner.issues.update(state["planner"]["issues"])
    planner.rng.seed(12 + holdings.items)  # not the items already planned again
    columns = {int(size): {k: tuple(v) if isinstance(v, list) else v for k, v in col.items()}
               for size, col in state["columns"].items()}
    return holdings, columns


def run(args, src: Path, work: Path) -> None:
    from bench.scale_packages import PAGE_PX, Planner, PackageWriter, shared_images, vocabulary
    from library.access import Actor
    from library.container import build_platform
    from library.settings import Settings

    images = shared_images(work / "images")
    shutil.rmtree(work / "packages", ignore_errors=True)  # a run killed inside a batch left its packages
    print(f"{len(images)} shared page images {PAGE_PX[0]}×{PAGE_PX[1]} px grey JPEG, "
          f"{sum(p.stat().st_size for p in images) / len(images) / 1e3:.0f} KB each", flush=True)
    data = work / "data"
    platform = build_platform(Settings.from_env(BACKEND_ENV, data_dir=data))
    planner, writer = Planner(), PackageWriter(work / "packages", images)
    holdings, vocab, rng, asked = Holdings(), vocabulary(), random.Random(3), set()
    measured: dict[int, dict] = {}
    resumed = load_state(work, platform, planner)
    if resumed is None:
        platform.users.create(Actor.system("scale-bench"), STAFF_USER, STAFF_PASSWORD, "librarian")
    else:
        holdings, measured = resumed
        rng.seed(holdings.pages)
        print(f"resuming in {work}: {holdings.pages:,} pages, {holdings.items:,} items; sizes measured before: "
              f"{', '.join(f'{n:,}' for n in sorted(measured)) or 'none'}", flush=True)
    try:
        for size in args.sizes:
            again = args.remeasure and size in measured and size == max(measured) and holdings.step_to == size
            if again:
                (work / "state-before-remeasure.json").write_text((work / STATE_FILE).read_text())
            if size in measured and not again:
                print(f"\n== {size:,} pages: measured before, kept", flush=True)
                continue
            if holdings.pages > size and holdings.step_to != size:  # (a step may end a batch past its size)
                raise SystemExit(f"the catalogue in {work} already holds {holdings.pages:,} pages, more than {size:,}")
            print(f"\n== growing to {size:,} pages", flush=True)
            if holdings.step_to != size:  # a new step (not one resumed)
                holdings.step_to, holdings.step_from_pages, holdings.step_from_s = size, holdings.pages, holdings.import_s
            before, before_s = holdings.step_from_pages, holdings.step_from_s
            grow(platform, planner, writer, holdings, size, jobs=args.jobs,
                 after_batch=lambda _s: save_state(work, holdings, planner, measured))
            seconds = holdings.import_s - before_s
            if again:  # nothing imported now: the import's figures as measured when it was
                col = {k: measured[size][k] for k in IMPORT_FIGURES if k in measured[size]}
            else:
                col = {"items": holdings.items, "words a page": holdings.words / holdings.pages,
                       "import pages/s (this step)": (holdings.pages - before) / seconds,
                       "import checking processes (--jobs)": args.jobs,
                       "import of 1M pages, projected h": MILLION * seconds / (holdings.pages - before) / 3600}
            if not again:  # the index as the import left it
                col.update(bytes_per_page(data, holdings.pages))
            docs, reindex_s = reindex_seconds(platform)
            if again:  # the index as this code builds it
                col.update(bytes_per_page(data, holdings.pages))
            col["reindex documents/s"] = docs / reindex_s
            col["reindex of 1M pages, projected h"] = MILLION * docs / holdings.pages / (docs / reindex_s) / 3600
            col["peak memory of the importer MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            for k, v in col.items():
                print(f"  {k:<44}{v:>12,.1f}", flush=True)
            print(f"  portal at {holdings.pages:,} pages, {args.web_processes} web process(es), {args.clients} "
                  f"clients × {args.requests} requests (p50, p95):", flush=True)
            col.update(portal_figures(platform, src, data, holdings, vocab, asked, args.clients, args.requests,
                                      args.edits, rng, args.web_processes))
            measured[size] = col
            save_state(work, holdings, planner, measured)
            sizes = sorted(measured)
            print_table(sizes, [measured[n] for n in sizes], {})
    finally:
        platform.close()


if __name__ == "__main__":
    main()
