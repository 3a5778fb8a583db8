"""Portal under load: p50/p95 of the home page, a search, an item page and a
cached IIIF tile with many concurrent clients, beside a static file served by
the same server in the same run.

A throw-away platform is filled with rendered Vietnamese pages read by the
real OCR, then `heritage serve` (waitress, real workers) answers N clients
(threads with keep-alive connections) for a fixed number of requests each.

    .venv/bin/python bench/web.py [--clients 20] [--requests 50] [--pages 6] [--web-processes 1 2]
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client(port: int, path: str, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{path}: HTTP {resp.status}")
        times.append((time.perf_counter() - t0) * 1000)
    conn.close()
    return times


def measure(port: int, path: str, clients: int, requests: int) -> tuple[float, float, float]:
    with ThreadPoolExecutor(clients) as pool:
        t0 = time.perf_counter()
        runs = list(pool.map(lambda _: client(port, path, requests), range(clients)))
        wall = time.perf_counter() - t0
    times = sorted(t for run in runs for t in run)
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    return statistics.median(times), p95, len(times) / wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=50, help="per client and page")
    ap.add_argument("--pages", type=int, default=6)
    ap.add_argument("--web-processes", type=int, nargs="+", default=[1, 2], help="configurations to measure")
    args = ap.parse_args()

    from digitize.synthetic import render_document
    from library.access import Actor
    from library.container import build_platform
    from library.demo import TEXTS_DIR, read_demo_text
    from library.ingest.service import Upload
    from library.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        tmp = Path(tmp)
        settings = Settings.from_env({}, data_dir=tmp / "data")
        p = build_platform(settings)
        _, body = read_demo_text(TEXTS_DIR / "van-mieu-quoc-tu-giam.txt")
        folder = tmp / "van-mieu"
        folder.mkdir()
        for n, page in enumerate(render_document(body, pages=args.pages, degradation="scan"), 1):
            page.image.save(folder / f"p{n}.png", dpi=(300, 300))
        item_id = p.ingest.ingest_item([Upload(folder, "van-mieu")], {"title": "Văn Miếu"},
                                       actor=Actor.system("bench")).items[0].item_id
        pages = p.catalogue.page_statuses(item_id)
        for row in pages:
            p.reader.read(row.page_id)
        p.reader.finish_item(item_id)
        p.indexer.flush()
        p.close()

        for processes in args.web_processes:
            serve_and_measure(settings, item_id, pages[0].page_id, processes, args)


def serve_and_measure(settings, item_id: int, page_id: int, processes: int, args) -> None:
    port = free_port()
    env = dict(os.environ, HERITAGE_DATA_DIR=str(settings.data_dir), OMP_THREAD_LIMIT="1")
    proc = subprocess.Popen([sys.executable, "-m", "console", "serve", "--port", str(port),
                             "--web-processes", str(processes)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        time.sleep(3 if processes > 1 else 0)  # let every process come up
        tile = f"/iiif/image/p{page_id}/0,0,512,512/512,/0/default.jpg"
        paths = {
            "static file (baseline)": "/static/site.css",
            "home page": "/",
            "search page": "/search?q=van+mieu",
            "item page": f"/items/{item_id}",
            "IIIF tile (cached)": tile,
        }
        client(port, tile, 1)  # the first request renders and caches the tile
        for path in paths.values():
            client(port, path, 3)  # warm up
        print(f"\n{args.clients} concurrent clients × {args.requests} requests each, 2 cores, "
              f"{processes} waitress process(es) × 8 threads")
        print(f"{'page':<26}{'p50':>10}{'p95':>10}{'req/s':>10}")
        for name, path in paths.items():
            p50, p95, rate = measure(port, path, args.clients, args.requests)
            print(f"{name:<26}{p50:>8.1f}ms{p95:>8.1f}ms{rate:>10.0f}")
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)


if __name__ == "__main__":
    main()
