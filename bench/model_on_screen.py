"""How long a tourist waits for a monument's 3D model on a phone: from the start of
navigation to model-viewer's ``model-visibility`` event (the model drawn on screen),
in Debian's chromium emulating a phone (390×844 CSS px, 3× pixels) and an empty cache on every run,
locally and with the network throttled like a slow 4G phone connection. On a phone the viewer
starts when the visitor presses "View in 3D" (web/static/viewer.js): the bench presses it as soon
as the page has it and reports the model's picture on screen, and the model from navigation and
from the press.

Baselines from the same run: fetching the first level's GLB (the smallest, what the viewer draws
first) alone over plain HTTP, and the page's own DOMContentLoaded (what any page of the portal costs).

The model is built first through the real pipeline: by default from the fountain-P11
photos of ../shared/data (a real photogrammetry model), or the demo sketch of Khuê
Văn Các with ``--source demo``.

    .venv/bin/python bench/model_on_screen.py [--runs 5] [--source fountain|demo]   (BENCH_DPR=1 for a 1× screen)
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
FOUNTAIN = REPO.parent / "shared" / "data" / "photogrammetry" / "fountain-p11" / "images"

WATCH = """
window.__h = {};
document.addEventListener('DOMContentLoaded', () => { window.__h.dcl = performance.now(); });
document.addEventListener('load', (e) => {
  if (e.target && e.target.tagName === 'MODEL-VIEWER' && !window.__h.load) window.__h.load = performance.now();
  if (e.target && e.target.classList && e.target.classList.contains('model-poster') && !window.__h.picture)
    window.__h.picture = performance.now();
}, true);
document.addEventListener('click', (e) => {
  if (e.target && e.target.closest && e.target.closest('.model-start') && !window.__h.press) window.__h.press = performance.now();
}, true);
document.addEventListener('model-visibility', (e) => {
  if (e.detail && e.detail.visible && !window.__h.visible) window.__h.visible = performance.now();
}, true);
(function watch() {  // model-viewer's own flag, checked every frame, in case the event is missed
  const m = document.querySelector('model-viewer');
  if (m && m.modelIsVisible) { if (!window.__h.visible) window.__h.visible = performance.now(); return; }
  requestAnimationFrame(watch);
})();
"""
# Lighthouse's "slow 4G" profile: 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/156.0.0.0 Mobile Safari/537.36")
SLOW_4G = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 // 8, "uploadThroughput": 750_000 // 8}


def build_monument(settings, source: str, tmp: Path) -> tuple[str, int, list[tuple[str, str, int]]]:
    from library.container import build_platform
    from library.access import Actor
    from library.monuments.service import BuildSource

    bench = Actor.system("bench")
    p = build_platform(settings)
    m = p.monuments.create_monument(name_vi="Khuê Văn Các", name_en="Constellation of Literature Pavilion",
                                    actor=bench)
    if source == "fountain":
        uploads = [BuildSource(f, f.name) for f in sorted(FOUNTAIN.glob("*.jpg"))]
    else:
        from heritage3d.demo_scenes import write_scene

        mesh = write_scene("khue-van-cac", tmp / "khue-van-cac.ply")
        uploads = [BuildSource(mesh, mesh.name)]
    v = p.monuments.submit_build(m.id, uploads, title="Khuê Văn Các", actor=bench)
    t0 = time.perf_counter()
    status = p.monuments.build(v.id)
    print(f"model built from {source} in {time.perf_counter() - t0:.1f} s: {status.value}")
    if status.value != "done":
        raise SystemExit(f"the build failed: {p.monuments.version(v.id).status_reason}")
    published = p.monuments.published(m.id)[0]
    if published.thumbnail:
        picture = p.monuments.model_file(published.version_id, published.thumbnail)
        print(f"the model's picture ({published.thumbnail}): {picture.stat().st_size / 1e3:.0f} KB")
    p.close()
    return m.slug, published.version_id, published.levels


def browser(tmp: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
                "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                f"--user-data-dir={tmp / f'profile-{time.monotonic_ns()}'}"):
        opts.add_argument(arg)
    # a phone: 390×844 CSS pixels at 3 device pixels each (what the GPU-less renderer must fill)
    dpr = float(os.environ.get("BENCH_DPR", "3"))
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console, said when a visit fails
    opts.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": dpr},
                                                     "userAgent": PHONE_UA})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def one_visit(tmp: Path, url: str, network: dict | None) -> dict[str, float]:
    d = browser(tmp)
    try:
        d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
        d.execute_cdp_cmd("Network.enable", {})
        d.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        if network:
            d.execute_cdp_cmd("Network.emulateNetworkConditions", network)
        d.get(url)
        from selenium.webdriver.common.by import By

        # the visitor asks for 3D at once; dispatched in the page: chromium 156's phone emulation turns
        # WebDriver's mouse click into touches that never reach the button as a click (session 19)
        d.execute_script("arguments[0].click()", d.find_element(By.CSS_SELECTOR, "figure.model .model-start"))
        deadline = time.time() + 90
        while time.time() < deadline:
            h = d.execute_script("return window.__h")
            if h and h.get("visible"):
                return h
            time.sleep(0.05)
        state = d.execute_script(
            "const m = document.querySelector('model-viewer'); return {h: window.__h, viewer: !!m, "
            "src: m && m.getAttribute('src'), loaded: m && m.loaded, defined: !!customElements.get('model-viewer'), "
            "figure: (document.querySelector('figure.model') || {}).className}")
        console = [e.get("message", "")[:300] for e in d.get_log("browser")][-10:]
        raise RuntimeError(f"the model never became visible at {url}: {state}; console: {console}")
    finally:
        d.quit()


def fetch_ms(url: str) -> float:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as resp:
        resp.read()
    return (time.perf_counter() - t0) * 1000


def row(name: str, values: list[float]) -> str:
    return f"{name:<44}{statistics.median(values):>9.0f} ms{max(values):>9.0f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--source", choices=["fountain", "demo"], default="fountain" if FOUNTAIN.is_dir() else "demo")
    args = ap.parse_args()

    from library.settings import Settings
    from tests.conftest import free_port, wait_for_port

    with tempfile.TemporaryDirectory(prefix="bench-screen-") as tmp:
        tmp = Path(tmp)
        settings = Settings.from_env({}, data_dir=tmp / "data")
        slug, version_id, levels = build_monument(settings, args.source, tmp)
        port = free_port()
        env = dict(os.environ, HERITAGE_DATA_DIR=str(settings.data_dir))
        proc = subprocess.Popen([sys.executable, "-m", "console", "serve", "--no-workers", "--port", str(port)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for_port(port, timeout_s=60)
            base = f"http://127.0.0.1:{port}"
            page = f"{base}/monuments/{slug}"
            first = levels[0]  # what viewer.js loads first: the smallest level
            glb = f"{base}/models/{version_id}/{first[1]}"
            fetch_ms(page)
            print("levels, smallest first: " + ", ".join(f"{name} {size / 1e6:.2f} MB" for name, _, size in levels))
            print(f"first level drawn: {first[0]}; phone 390×844 @3×, software GL, empty cache, {args.runs} runs each")
            print(f"{'':<44}{'p50':>12}{'max':>12}")
            for label, network in (("local", None), ("slow 4G (150 ms, 1.6 Mbit/s)", SLOW_4G)):
                visits = [one_visit(tmp, page, network) for _ in range(args.runs)]
                if network is None:
                    print(row("baseline: first level's GLB alone over HTTP", [fetch_ms(glb) for _ in range(args.runs)]))
                print(row(f"baseline: page DOMContentLoaded, {label}", [v["dcl"] for v in visits]))
                print(row(f"model's picture on screen, {label}", [v["picture"] for v in visits if v.get("picture")]))
                print(row(f"\"View in 3D\" pressed, {label}", [v["press"] for v in visits if v.get("press")]))
                print(row(f"model loaded, {label}", [v["load"] for v in visits if v.get("load")]))
                print(row(f"model on screen, {label} (target 3000 ms)", [v["visible"] for v in visits]))
                print(row(f"  … from the press, {label}", [v["visible"] - v["press"] for v in visits if v.get("press")]))
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=60)


if __name__ == "__main__":
    main()
