"""The portal on a phone: Lighthouse's scores for its public pages, and the time a reader waits for the
first page image of a long item.

1. **Lighthouse** 12.8.2 (from the npm registry, ``bench/lighthouse/``; ``npm ci`` there when
   ``node_modules`` is missing; 12.x because Lighthouse 13 needs node ≥ 22.19 and Debian has 20) on
   Debian's chromium (``CHROME_PATH=/usr/bin/chromium``, ``--headless=new``), its default mobile profile
   (a Moto G Power, 412×823 at 1.75×, simulated slow 4G and a 4× slower CPU), performance, accessibility,
   best practices and SEO: the home page, a search with hits, the item page of a 500-page item and its
   reader at page 1, a monument page with its published 3D model, each in Vietnamese and English
   (``?lang=vi`` / ``?lang=en``); ``--runs`` runs a page (3), the median of each category. Beside them,
   the same scores for a small static HTML page (the portal serves no HTML of its own that is not made
   by Flask, so it is served by Python's ``http.server`` on another port; said so in the output).
   Targets: performance ≥ 90, accessibility ≥ 95, best practices ≥ 95, SEO ≥ 95. For a page under a
   target, the audits that cost it most (from the report of its median run) are printed, and every
   median run's JSON report is kept in ``--reports`` (``test-artifacts/lighthouse``).
2. **Time to the first page image** in Debian's chromium through Selenium emulating a phone (390×844 CSS
   px at 3×, a phone's user agent), the network throttled like slow 4G (150 ms, 1.6 Mbit/s down,
   750 kbit/s up) and an empty cache every visit: from the start of navigation to the page image on
   screen — OpenSeadragon's first draw that includes a loaded tile (its viewer's events, watched from a
   script added before the page's own), taken at the start of the next frame, when that drawing has been
   presented; checked afterwards by reading the viewer's canvas back (any pixel drawn). (Reading the
   canvas back every frame instead saw the pixels 50–200 ms later still, the read-backs themselves
   slowing the frames. On this GPU-less machine OpenSeadragon's WebGL runs in SwiftShader, and the frame
   of that first draw takes 300–400 ms to be presented: a phone's GPU would not pay it.) For page 1 of a
   1,000-page item and of a 1-page item, ``--image-runs`` visits each (5, after one unmeasured visit
   each: a cold browser, the server's first tiles of the page), alternating; p50 and max, with the
   breakdown (DOMContentLoaded, info.json, first tile, OpenSeadragon's draw call, every tile of the
   first view). Target ≤ 2 s for the long item; the 1-page item is the baseline.

The data is made by the platform's own code in a temporary data folder: three METS/ALTO packages
(``bench.scale_packages``: generated grey JPEG pages, 1240×1754, shared between pages; ALTO with word boxes)
imported by ``platform.mets.import_batch`` (what ``heritage ingest PACKAGE`` does; the fastest real path,
no OCR), and the demo monuments (``library.demo.load_demo_monuments``: descriptions, points of interest, a
tour) whose models are built in this process through the 3D pipeline. The portal is ``heritage serve
--no-workers`` (waitress) on that folder. Exit status 0 whatever the figures: this measures, it does not
assert (✓/✗ beside each target).

    .venv/bin/python bench/lighthouse.py [--runs 3] [--image-runs 5] [--reports DIR] [--skip-lighthouse] [--skip-image]
    .venv/bin/python bench/lighthouse.py --extra-chrome-flags=--disable-webgl    # OpenSeadragon on its canvas drawer
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
LH_DIR = REPO / "bench" / "lighthouse"
LH_BIN = LH_DIR / "node_modules" / ".bin" / "lighthouse"
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
EXTRA_FLAGS: list[str] = []  # --extra-chrome-flags: given to every chromium started here
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
SHORT = {"performance": "perf", "accessibility": "a11y", "best-practices": "best pr.", "seo": "SEO"}
TARGETS = {"performance": 90, "accessibility": 95, "best-practices": 95, "seo": 95}
FIRST_IMAGE_TARGET_MS = 2000
LANGS = ("vi", "en")
# Lighthouse's "slow 4G": 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up (as bench/model_on_screen.py)
SLOW_4G = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 // 8, "uploadThroughput": 750_000 // 8}
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/156.0.0.0 Mobile Safari/537.36")

STATIC_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Thư viện di sản Hà Nội – trang tĩnh</title>
<meta name="description"
  content="Một trang HTML tĩnh nhỏ: mức chuẩn cho điểm Lighthouse của cổng thông tin.">
<link rel="icon" href="data:,">
<style>body{font-family:sans-serif;line-height:1.5;margin:0 auto;max-width:40em;padding:1em;color:#222}
a{color:#0645ad}</style></head>
<body><header><h1>Thư viện di sản Hà Nội</h1></header>
<main><p>Văn Miếu – Quốc Tử Giám được xây năm 1070 dưới triều Lý Thánh Tông.
Trang này là một tệp HTML tĩnh, không có JavaScript, không có hình ảnh:
điểm của nó là mức cao nhất mà máy này đạt được cho một trang.</p>
<p><a href="/">Trang chủ</a></p></main></body></html>
"""


# ------------------------------------------------------------------ data
def build_data(settings, tmp: Path) -> dict:
    """Import a 500-, a 1,000- and a 1-page item (METS/ALTO, read already) and the demo monuments with
    their models built; what the pages to measure need to know."""
    from bench.scale_packages import ItemPlan, PackageWriter, Planner, shared_images
    from library.access import Actor
    from library.container import build_platform
    from library.demo import load_demo_monuments

    actor = Actor.system("lighthouse-bench")
    p = build_platform(settings)
    try:
        writer = PackageWriter(tmp / "packages", shared_images(tmp / "images"))
        vocab = Planner().vocab
        plans = {
            500: ItemPlan(1, "book", 500, 250, 450, 1, "Book", "Hà Thành phong cảnh toàn tập", "1932",
                          "Sách quốc ngữ"),
            1000: ItemPlan(2, "book", 1000, 250, 450, 1, "Book", "Đại Việt địa dư toàn biên", "1925",
                           "Sách quốc ngữ"),
            1: ItemPlan(3, "sheet", 1, 300, 600, 2, "", "Bản đồ phố phường Hà Nội", "1936",
                        "Bản đồ và tranh"),
        }
        t0 = time.perf_counter()
        folders = {n: writer.write(plan)[0] for n, plan in plans.items()}
        outcomes = {}
        for n, folder in folders.items():
            outcomes[n] = p.mets.import_batch([folder], actor=actor, collection=plans[n].collection)[0]
            if outcomes[n].status != "created":
                raise SystemExit(f"import of the {n}-page item failed: {outcomes[n].as_dict()}")
        p.indexer.flush()
        print(f"3 items (1,501 pages) imported in {time.perf_counter() - t0:.0f} s", flush=True)

        t0 = time.perf_counter()
        builds = load_demo_monuments(p, tmp / "demo-3d")
        for version_id in builds:
            status = p.monuments.build(version_id)
            if status.value != "done":
                raise SystemExit(f"model build {version_id} failed: {p.monuments.version(version_id).status_reason}")
        monuments = p.monuments.monuments()
        monument = next((m for m in monuments if "van-mieu" in m.slug), monuments[0])
        print(f"{len(builds)} demo monuments, models built and published in {time.perf_counter() - t0:.0f} s",
              flush=True)
        return {"items": {n: o.item_id for n, o in outcomes.items()}, "monument": monument.slug,
                "words": vocab[:20]}
    finally:
        p.close()


# ------------------------------------------------------------------ servers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout_s} s")


@contextlib.contextmanager
def portal(data_dir: Path, tmp: Path):
    """``heritage serve --no-workers`` (waitress) on ``data_dir``; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERITAGE_")}
    env["HERITAGE_DATA_DIR"] = str(data_dir)
    log = open(tmp / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "console", "serve", "--no-workers", "--port", str(port)],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def static_server(folder: Path):
    """Python's ``http.server`` serving ``folder`` on a free port (a thread of this process)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=120) as resp:
        if resp.status != 200:
            raise RuntimeError(f"{url}: HTTP {resp.status}")
        return resp.read().decode("utf-8", "replace")


def search_with_hits(base: str, words: list[str], item_id: int) -> str:
    """A one-word query whose search page lists the 500-page item."""
    for word in words:
        if f"/items/{item_id}" in fetch(f"{base}/search?" + urlencode({"q": word})):
            return word
    raise SystemExit(f"no search among {words} finds item {item_id}")


# ------------------------------------------------------------------ lighthouse
def ensure_lighthouse() -> None:
    if not LH_BIN.exists():
        print("bench/lighthouse/node_modules missing: npm ci", flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=LH_DIR, check=True)
    version = subprocess.run([str(LH_BIN), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"Lighthouse {version}, node {node}, {chromium}", flush=True)


def code_version() -> str:
    """The commit measured, and whether the portal's files differ from it (read-only git commands)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "web", "library"], cwd=REPO,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return head + (" with uncommitted changes in web/ or library/" if dirty else "")


def lighthouse(url: str, out: Path) -> dict | None:
    """One Lighthouse run (CLI, mobile defaults); its JSON report, or None when it failed."""
    cmd = [str(LH_BIN), url, "--output=json", f"--output-path={out}", "--form-factor=mobile",
           f"--only-categories={','.join(CATEGORIES)}",
           f"--chrome-flags={' '.join(['--headless=new', '--no-sandbox', *EXTRA_FLAGS])}",
           "--max-wait-for-load=90000", "--quiet"]
    env = dict(os.environ, CHROME_PATH=CHROMIUM)
    try:
        done = subprocess.run(cmd, cwd=LH_DIR, env=env, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        print(f"    lighthouse timed out on {url}", flush=True)
        return None
    if done.returncode != 0 or not out.exists():
        print(f"    lighthouse failed on {url} (exit {done.returncode}): {done.stderr.strip()[-500:]}", flush=True)
        return None
    report = json.loads(out.read_text())
    if report.get("runtimeError"):
        print(f"    lighthouse: {report['runtimeError'].get('code')} on {url}", flush=True)
    return report


def scores(report: dict | None) -> dict[str, float | None]:
    cats = (report or {}).get("categories", {})
    return {c: (None if cats.get(c, {}).get("score") is None else round(cats[c]["score"] * 100)) for c in CATEGORIES}


def _node(item: dict) -> str:
    node = item.get("node") if isinstance(item, dict) else None
    if isinstance(node, dict) and node.get("type") == "node":
        return (node.get("selector") or node.get("snippet") or "")[:70]
    return ""


def _what(item: dict) -> str:
    """A row of an audit's table in a few words: its URL's path, its element, or its group."""
    if not isinstance(item, dict):
        return ""
    url = item.get("url")
    if isinstance(url, str):
        path = url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else url
        size = item.get("wastedBytes") or item.get("total")
        unit = " B" if "wastedBytes" in item else " ms"
        return f"/{path[:60]}" + (f" ({size:,.0f}{unit})" if isinstance(size, (int, float)) else "")
    if _node(item):
        return _node(item)
    if item.get("groupLabel"):
        return f"{item['groupLabel']} {item.get('duration', 0):,.0f} ms"
    return ""


def _rows(audit: dict, n: int = 2) -> str:
    items = (audit.get("details") or {}).get("items") or []
    found = [w for w in (_what(i) for i in items[:n + 2]) if w][:n]
    return f" [{'; '.join(found)}]" if found else ""


def _savings_ms(audit: dict) -> float:
    details = audit.get("details") or {}
    saved = details.get("overallSavingsMs") or 0
    metric = audit.get("metricSavings") or {}
    return max([saved] + [v for k, v in metric.items() if k in ("LCP", "FCP", "TBT") and isinstance(v, (int, float))])


SHOWN_APART = {"largest-contentful-paint-element", "layout-shifts"}


def costly_audits(report: dict, category: str, top: int = 3) -> list[str]:
    """What cost ``category`` most in ``report``. For performance: the metrics that lost points, the
    largest contentful paint's element with its phases, the element that shifted most, then the ``top``
    audits with the largest estimated savings in ms (opportunities and diagnostics, Lighthouse's newer
    "insights" left out as they repeat them), each with its first rows. For the other categories: the
    ``top`` failed audits of largest weight with the first elements they name."""
    audits, cat = report["audits"], report["categories"][category]
    out = []
    if category == "performance":
        lost = []
        for ref in cat["auditRefs"]:
            a = audits.get(ref["id"], {})
            if ref.get("weight") and a.get("score") is not None and ref["weight"] * (1 - a["score"]) >= 0.5:
                lost.append((ref["weight"] * (1 - a["score"]), a))
        lost.sort(key=lambda x: -x[0])
        out.append("lost on: " + ", ".join(f"{a['title']} {a.get('displayValue', '')} (−{points:.0f})"
                                          for points, a in lost))
        lcp = (audits.get("largest-contentful-paint-element") or {}).get("details") or {}
        tables = lcp.get("items") or []
        if tables and isinstance(tables[0], dict) and "items" in tables[0]:
            element = next((_node(i) for i in tables[0]["items"] if _node(i)), "")
            phases = tables[1]["items"] if len(tables) > 1 else []
            out.append(f"LCP element: {element or '?'}" + (" (" + ", ".join(
                f"{ph['phase']} {ph['timing']:,.0f} ms" for ph in phases if ph.get("timing")) + ")" if phases else ""))
        shifts = audits.get("layout-shifts") or {}
        if shifts.get("score") is not None and shifts["score"] < 1:
            rows = sorted((shifts.get("details") or {}).get("items") or [], key=lambda i: -(i.get("score") or 0))
            said = []
            for i in rows[:2]:
                causes = {c.get("cause") for c in ((i.get("subItems") or {}).get("items") or []) if c.get("cause")}
                said.append(f"{_node(i) or '?'} {i.get('score', 0):.3f}"
                            + (f" ({', '.join(sorted(causes))})" if causes else ""))
            out.append(f"layout shifts ({shifts.get('displayValue', '')}): {'; '.join(said)}")
        costs = [a for a in audits.values()
                 if a.get("score") is not None and a["score"] < 1 and a["id"] not in SHOWN_APART
                 and not a["id"].endswith("-insight") and _savings_ms(a) > 0]
        costs.sort(key=lambda a: -_savings_ms(a))
        for n, a in enumerate(costs[:top], 1):
            shown = f" ({a['displayValue']})" if a.get("displayValue") else ""
            out.append(f"{n}. {a['title']}: ~{_savings_ms(a):,.0f} ms{shown}{_rows(a)}")
        return out
    failed = []
    for ref in cat["auditRefs"]:
        a = audits.get(ref["id"], {})
        if ref.get("weight") and a.get("score") is not None and a["score"] < 1:
            failed.append((ref["weight"], a))
    failed.sort(key=lambda x: -x[0])
    for n, (weight, a) in enumerate(failed[:top], 1):
        out.append(f"{n}. {a['title']} (weight {weight}){_rows(a, 3)}")
    return out


def slugify(name: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in name).split())


def run_lighthouse(targets: list[tuple[str, str, str]], runs: int, reports: Path, tmp: Path) -> dict:
    """``{(page, lang): {"scores": {category: median}, "runs": [...], "reports": {category: report}}}``;
    the pages in turn within each run, so a busy spell of the machine spreads over them."""
    results = {(name, lang): {"runs": [], "files": [], "bench": []} for name, lang, _ in targets}
    for r in range(runs):
        for name, lang, url in targets:
            t0 = time.perf_counter()
            out = tmp / "lh" / f"{slugify(name)}.{lang}.{r + 1}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            report = lighthouse(url, out)
            got = scores(report)
            results[(name, lang)]["runs"].append(got)
            results[(name, lang)]["files"].append(out if report else None)
            if report and (report.get("environment") or {}).get("benchmarkIndex"):
                results[(name, lang)]["bench"].append(report["environment"]["benchmarkIndex"])
            cells = " ".join(f"{SHORT[c]} {got[c] if got[c] is not None else '—'}" for c in CATEGORIES)
            print(f"  run {r + 1}/{runs} {name:<28}{lang:<4}{cells}  ({time.perf_counter() - t0:.0f} s)", flush=True)
    reports.mkdir(parents=True, exist_ok=True)
    for (name, lang), res in results.items():
        res["scores"], res["reports"] = {}, {}
        for c in CATEGORIES:
            values = [(run[c], f) for run, f in zip(res["runs"], res["files"]) if run[c] is not None]
            if not values:
                res["scores"][c] = None
                continue
            median = statistics.median_low([v for v, _ in values])
            res["scores"][c] = statistics.median([v for v, _ in values])
            res["reports"][c] = next(f for v, f in values if v == median)  # the run that scored the median
        chosen = res["reports"].get("performance")
        if chosen:
            shutil.copy(chosen, reports / f"{slugify(name)}.{lang}.json")
    return results


def mark(category: str, value: float | None) -> str:
    if value is None:
        return f"{'—':>7}  "
    return f"{value:>7.0f} {'✓' if value >= TARGETS[category] else '✗'}"


def print_scores(targets, results, baseline_note: str) -> None:
    print(f"\nLighthouse {', '.join(CATEGORIES)} (median of runs; targets ≥ "
          f"{', '.join(str(TARGETS[c]) for c in CATEGORIES)}):")
    print(f"{'page':<34}{'lang':<6}" + "".join(f"{SHORT[c]:>9}" for c in CATEGORIES))
    for name, lang, _ in targets:
        s = results[(name, lang)]["scores"]
        label = name if name != "baseline" else "baseline: static HTML page"
        print(f"{label:<34}{lang:<6}" + "".join(mark(c, s[c]) for c in CATEGORIES))
    print(f"(the baseline is {baseline_note})")
    index = sorted(b for res in results.values() for b in res["bench"])
    if index:
        print(f"Lighthouse's benchmarkIndex of this machine during the runs: {index[0]:.0f}–{index[-1]:.0f}, median "
              f"{statistics.median(index):.0f} (its CPU figures are those seen here × 4, its mobile CPU slowdown)")


def print_costs(targets, results) -> None:
    print("\nWhere the pages under a target lose (from the report of the run with the median score):")
    for name, lang, _ in targets:
        res = results[(name, lang)]
        for c in CATEGORIES:
            value = res["scores"][c]
            if value is None or value >= TARGETS[c] or c not in res["reports"]:
                continue
            report = json.loads(res["reports"][c].read_text())
            print(f"  {name} ({lang}), {c} {value:.0f}:")
            for line in costly_audits(report, c):
                print(f"    - {line}")


# ------------------------------------------------------------------ first page image
WATCH = """
window.__fi = {};
// any pixel drawn in OpenSeadragon's canvas (its WebGL and canvas drawers both draw into this 2D canvas,
// cleared until a tile is drawn), read from a 24×24 copy; an <img> tile for its HTML drawer
window.__fi_painted = function () {
  const area = document.querySelector('#zoom .openseadragon-canvas');  // not the buttons' images
  if (!area) return false;
  const canvas = area.querySelector('canvas');
  if (canvas && canvas.width > 2 && canvas.height > 2) {
    const probe = document.createElement('canvas');
    probe.width = probe.height = 24;
    const ctx = probe.getContext('2d', {willReadFrequently: true});
    ctx.drawImage(canvas, 0, 0, 24, 24);
    const px = ctx.getImageData(0, 0, 24, 24).data;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 0) return true;
  }
  return [...area.querySelectorAll('img')].some((i) => i.complete && i.naturalWidth > 0);
};
// OpenSeadragon's own events: its viewer is local to reader.js, so the viewer's raiseEvent is wrapped
// once openseadragon.min.js has run (when the parser inserts the next script). The page is drawn in the
// frame of the first draw ('update-viewport' follows world.draw()) whose tiles include a loaded one:
// the marker is the start of the next frame, when that one has been presented.
new MutationObserver((changes, observer) => {
  if (!window.OpenSeadragon || !OpenSeadragon.Viewer || OpenSeadragon.Viewer.prototype.__fi) return;
  const raise = OpenSeadragon.Viewer.prototype.raiseEvent;
  OpenSeadragon.Viewer.prototype.raiseEvent = function (name, args) {
    const h = window.__fi;
    if (name === 'open' && !h.open) { h.open = performance.now(); h.drawer = this.drawer && this.drawer.getType(); }
    if (name === 'tile-loaded' && !h.tile_loaded) h.tile_loaded = performance.now();
    if (name === 'update-viewport' && h.tile_loaded && !h.tile_drawn) {
      const image = this.world && this.world.getItemAt(0);
      if (image && (image._lastDrawn || []).some((t) => t.tile && t.tile.loaded)) {
        h.tile_drawn = performance.now();
        requestAnimationFrame(() => { h.drawn = performance.now(); h.how = 'osd'; });
      }
    }
    return raise.call(this, name, args);
  };
  OpenSeadragon.Viewer.prototype.__fi = true;
  observer.disconnect();
}).observe(document, {childList: true, subtree: true});
document.addEventListener('DOMContentLoaded', () => {
  window.__fi.dcl = performance.now();
  if (window.OpenSeadragon && OpenSeadragon.Viewer && OpenSeadragon.Viewer.prototype.__fi) return;
  (function poll() {  // not hooked (the reader changed): poll the pixels every frame instead
    if (window.__fi_painted()) { window.__fi.drawn = performance.now(); window.__fi.how = 'pixels'; return; }
    requestAnimationFrame(poll);
  })();
});
"""
TIMINGS = """
const zoom = document.getElementById('zoom');
const base = zoom ? zoom.dataset.info.replace(/info\\.json$/, '') : '#';
const mine = performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname.startsWith(base));
const info = mine.find((e) => e.name.endsWith('info.json'));
const tiles = mine.filter((e) => !e.name.endsWith('info.json') && !e.name.includes('/full/,120/'));
return {painted: window.__fi_painted(), info: info ? info.responseEnd : null, tiles: tiles.length,
        first_tile: tiles.length ? Math.min(...tiles.map((e) => e.responseEnd)) : null,
        last_tile: tiles.length ? Math.max(...tiles.map((e) => e.responseEnd)) : null,
        tile_bytes: tiles.reduce((n, e) => n + (e.encodedBodySize || 0), 0)};
"""


def phone(tmp: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
                "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                f"--user-data-dir={tmp / f'profile-{time.monotonic_ns()}'}", *EXTRA_FLAGS):
        opts.add_argument(arg)
    dpr = float(os.environ.get("BENCH_DPR", "3"))
    opts.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": dpr},
                                                     "userAgent": PHONE_UA})
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


def first_image(tmp: Path, url: str, network: dict | None) -> dict:
    """One visit in a new browser with an empty cache: ms from navigation start to the page drawn."""
    d = phone(tmp)
    try:
        d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
        d.execute_cdp_cmd("Network.enable", {})
        d.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        if network:
            d.execute_cdp_cmd("Network.emulateNetworkConditions", network)
        d.get(url)
        deadline = time.time() + 120
        while time.time() < deadline:
            h = d.execute_script("return window.__fi")
            if h and h.get("drawn"):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"the page image was never drawn at {url}: {h}")
        # the tiles of the first view: wait until no tile has arrived for 1.5 s
        last, quiet_since = None, time.time()
        while time.time() - quiet_since < 1.5 and time.time() < deadline:
            t = d.execute_script(TIMINGS)
            if t["last_tile"] != last:
                last, quiet_since = t["last_tile"], time.time()
            time.sleep(0.1)
        h.update(d.execute_script(TIMINGS))
        return h
    finally:
        d.quit()


def run_first_image(base: str, items: dict, runs: int, tmp: Path) -> dict:
    urls = {"1,000-page item, page 1": f"{base}/items/{items[1000]}/pages/1",
            "1-page item, page 1 (baseline)": f"{base}/items/{items[1]}/pages/1"}
    for url in urls.values():  # unmeasured: a cold browser, the server's first tiles of these pages
        first_image(tmp, url, None)
    visits = {name: [] for name in urls}
    for r in range(runs):
        for name, url in (urls.items() if r % 2 == 0 else reversed(urls.items())):
            v = first_image(tmp, url, SLOW_4G)
            visits[name].append(v)
            print(f"  visit {r + 1}/{runs} {name:<32} drawn {v['drawn']:>5.0f} ms ({v.get('how')}, {v.get('drawer')}"
                  f"{', canvas painted' if v.get('painted') else ', CANVAS EMPTY'}), DCL {v['dcl']:>5.0f}, "
                  f"info.json {v['info'] or 0:>5.0f}, first tile {v['first_tile'] or 0:>5.0f}, "
                  f"{v['tiles']} tiles ({v['tile_bytes'] / 1e3:.0f} KB) by {v['last_tile'] or 0:.0f} ms", flush=True)
    return visits


def print_first_image(visits: dict, runs: int) -> None:
    dpr = os.environ.get("BENCH_DPR", "3")
    print(f"\nTime to the first page image (phone 390×844 @{dpr}×, slow 4G 150 ms 1.6/0.75 Mbit/s, empty cache, "
          f"{runs} visits each, ms from navigation start):")
    print(f"{'':<34}{'drawn p50':>11}{'max':>8}{'DCL p50':>9}{'info.json':>11}{'1st tile':>10}"
          f"{'draw call':>11}{'all tiles':>11}  target")
    for name, vs in visits.items():
        drawn = [v["drawn"] for v in vs]
        def med(key: str) -> float:
            return statistics.median([v[key] for v in vs if v.get(key) is not None] or [float("nan")])

        met = statistics.median(drawn) <= FIRST_IMAGE_TARGET_MS
        target = f"≤ {FIRST_IMAGE_TARGET_MS} ms {'✓' if met else '✗'}"
        print(f"{name:<34}{statistics.median(drawn):>11.0f}{max(drawn):>8.0f}{med('dcl'):>9.0f}{med('info'):>11.0f}"
              f"{med('first_tile'):>10.0f}{med('tile_drawn'):>11.0f}{med('last_tile'):>11.0f}  {target}")


# ------------------------------------------------------------------ main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--runs", type=int, default=3, help="Lighthouse runs a page (median reported)")
    ap.add_argument("--image-runs", type=int, default=5, help="visits a reader page for the first-image time")
    ap.add_argument("--reports", type=Path, default=REPO / "test-artifacts" / "lighthouse",
                    help="where the median run's JSON report of each page is kept")
    ap.add_argument("--extra-chrome-flags", default="", metavar="FLAGS",
                    help="more chromium flags for both parts, space-separated (e.g. --disable-webgl: OpenSeadragon "
                         "then draws with its canvas drawer, which this GPU-less machine runs without SwiftShader)")
    ap.add_argument("--skip-lighthouse", action="store_true")
    ap.add_argument("--skip-image", action="store_true")
    args = ap.parse_args()
    EXTRA_FLAGS.extend(args.extra_chrome_flags.split())

    from library.settings import Settings

    if not args.skip_lighthouse:
        ensure_lighthouse()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-lighthouse-") as tmp:
        tmp = Path(tmp)
        settings = Settings.from_env({}, data_dir=tmp / "data")
        data = build_data(settings, tmp)
        items, slug = data["items"], data["monument"]
        (tmp / "static").mkdir()
        (tmp / "static" / "index.html").write_text(STATIC_PAGE, encoding="utf-8")
        with portal(settings.data_dir, tmp) as base, static_server(tmp / "static") as static_base:
            word = search_with_hits(base, data["words"], items[500])
            pages = {"home": "/", "search": "/search?" + urlencode({"q": word}),
                     "item (500 pages)": f"/items/{items[500]}",
                     "reader (500 pages, p. 1)": f"/items/{items[500]}/pages/1",
                     "monument": f"/monuments/{slug}"}
            targets = [(name, lang, f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
                       for name, path in pages.items() for lang in LANGS]
            for _, _, url in targets:  # every page answers, and the server has made each once
                fetch(url)
            baseline_url = f"{static_base}/index.html"
            baseline_note = f"served by Python's http.server on another port, {baseline_url}, not by the portal"
            targets.append(("baseline", "vi", baseline_url))
            print(f"code: {code_version()}", flush=True)
            print(f"portal {base} (heritage serve --no-workers, waitress); search q={word!r}; "
                  f"items {items}; monument {slug!r}", flush=True)
            print("baseline: the portal serves no hand-written HTML file (its static folder is web/static, in the "
                  f"code), so a small static page is served by Python's http.server at {baseline_url}", flush=True)
            if not args.skip_lighthouse:
                print(f"\nLighthouse, {args.runs} run(s) of {len(targets)} pages:", flush=True)
                results = run_lighthouse(targets, args.runs, args.reports, tmp)
            if not args.skip_image:
                print(f"\nfirst page image, {args.image_runs} visit(s) each (after one unmeasured visit each):",
                      flush=True)
                visits = run_first_image(base, items, args.image_runs, tmp)
        if EXTRA_FLAGS:
            print(f"\nextra chromium flags: {' '.join(EXTRA_FLAGS)}")
        print(f"\n== results (busy machine? load average {os.getloadavg()[0]:.1f} at the end; "
              f"{os.cpu_count()} cores; {time.perf_counter() - started:.0f} s in all)")
        if not args.skip_lighthouse:
            print_scores(targets, results, baseline_note)
            print_costs(targets, results)
            print(f"\nmedian runs' reports: {args.reports}/")
        if not args.skip_image:
            print_first_image(visits, args.image_runs)


if __name__ == "__main__":
    main()
