"""OCR throughput: pages per minute and CPU per page, ``read_page`` against the
raw ``tesseract`` command on the same pages in the same run.

- raw: ``tesseract IMAGE OUT -l LANG`` (defaults: psm 3, text output only);
- pipeline: ``digitize.read_page`` with default options (deskew on, psm 3,
  one tesseract run writing hOCR, ALTO, TSV and text).

Both with ``OMP_THREAD_LIMIT=1``, in one worker process and then in two
(``multiprocessing``, spawn). CPU per page comes from ``getrusage``:
children (tesseract) and self (the worker's preprocessing and parsing),
reported separately. Peak RSS: the largest tesseract child and the worker
process itself (its lifetime peak, imports included).

Pages: the two 300-dpi UNLV pages (eng), BnL blocks 1 and 2 (fra) and two
300-dpi Vietnamese pages rendered by ``digitize.synthetic`` with the "scan"
preset (vie; skewed 1.5°, so the pipeline rotates them).

    .venv/bin/python bench/ocr_throughput.py [--quick] [--repeat N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))


@dataclass(frozen=True)
class Page:
    name: str
    path: Path
    languages: str


def build_pages(work: Path, quick: bool) -> list[Page]:
    unlv = SHARED / "ocr" / "unlv-magazine"
    bnl = SHARED / "ocr" / "bnl-newspaper-blocks" / "images"
    pages = [Page("unlv-8087", unlv / "8087_054.3B.tif", "eng"), Page("unlv-8071", unlv / "8071_093.3B.tif", "eng"),
             Page("bnl-1", bnl / "1.tif", "fra"), Page("bnl-2", bnl / "2.tif", "fra")]
    try:
        from digitize import synthetic

        lines = (SHARED / "text" / "luc-van-tien.quocngu.txt").read_text(encoding="utf-8").splitlines()
        font = synthetic.find_vietnamese_font()
        for n in range(2):
            page = synthetic.render_document("\n".join(lines[500 + 60 * n : 540 + 60 * n]), pages=1,
                                             degradation="scan", font_path=font, seed=n)[0]
            path = work / f"vie-scan-{n}.png"
            page.image.save(path, dpi=page.image.info["dpi"])
            pages.append(Page(f"vie-scan-{n}", path, "vie"))
    except Exception as exc:  # noqa: BLE001 - a benchmark reports and goes on
        print(f"no Vietnamese pages: {exc}", file=sys.stderr)
    if quick:
        pages = [pages[0], pages[2]] + pages[4:5]
    return pages


# ------------------------------------------------------------------ worker side
def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def warm_up(_: int) -> int:
    import digitize  # noqa: F401 - import cost stays out of the page timings

    digitize.tesseract_version()
    time.sleep(0.5)  # so that every worker of the pool takes one
    return os.getpid()


def work_on(task: tuple[str, Page, str]) -> dict:
    mode, page, work_dir = task
    from digitize import OcrOptions, read_page

    self_before, children_before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    stages: dict[str, float] = {}
    if mode == "raw":
        out = Path(work_dir) / f"raw-{page.name}-{os.getpid()}"
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        subprocess.run(["tesseract", str(page.path), str(out), "-l", page.languages],
                       check=True, capture_output=True, env=env)
    else:
        reading = read_page(page.path, options=OcrOptions(languages=page.languages),
                            work_dir=Path(work_dir) / f"{page.name}-{os.getpid()}")
        stages = dict(reading.timings_s)
    wall = time.perf_counter() - started
    self_after, children_after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "page": page.name,
        "wall_s": wall,
        "self_cpu_s": _cpu(self_after) - _cpu(self_before),
        "child_cpu_s": _cpu(children_after) - _cpu(children_before),
        "self_maxrss_mb": self_after.ru_maxrss / 1024,
        "child_maxrss_mb": children_after.ru_maxrss / 1024,
        "stages": stages,
    }


# ------------------------------------------------------------------ driver side
def run_batch(mode: str, pages: list[Page], workers: int, repeat: int, work: Path) -> dict:
    context = multiprocessing.get_context("spawn")
    tasks = [(mode, page, str(work)) for _ in range(repeat) for page in pages]
    with context.Pool(workers) as pool:
        pool.map(warm_up, range(workers), chunksize=1)
        started = time.perf_counter()
        results = pool.map(work_on, tasks, chunksize=1)
        wall = time.perf_counter() - started
    n = len(results)
    stage_totals: dict[str, float] = {}
    for r in results:
        for name, seconds in r["stages"].items():
            stage_totals[name] = stage_totals.get(name, 0.0) + seconds
    return {
        "mode": mode,
        "workers": workers,
        "pages": n,
        "wall_s": wall,
        "pages_per_min": 60.0 * n / wall,
        "child_cpu_per_page": sum(r["child_cpu_s"] for r in results) / n,
        "self_cpu_per_page": sum(r["self_cpu_s"] for r in results) / n,
        "self_maxrss_mb": max(r["self_maxrss_mb"] for r in results),
        "child_maxrss_mb": max(r["child_maxrss_mb"] for r in results),
        "stages_per_page": {k: v / n for k, v in stage_totals.items()},
        "per_page": results,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="three pages, once each")
    parser.add_argument("--repeat", type=int, default=3, help="times each page is read (default 3)")
    args = parser.parse_args(argv)
    if not SHARED.is_dir() or shutil.which("tesseract") is None:
        print("needs ../shared/data and tesseract", file=sys.stderr)
        return 2
    repeat = 1 if args.quick else args.repeat
    work = Path(tempfile.mkdtemp(prefix="ocr-throughput-"))
    try:
        pages = build_pages(work, args.quick)
        print(f"{len(pages)} pages × {repeat}: {', '.join(p.name for p in pages)}")
        batches = {}
        for workers in (1, 2):
            for mode in ("raw", "pipeline"):
                batches[(mode, workers)] = run_batch(mode, pages, workers, repeat, work)
                print(f"  {mode} × {workers} worker(s) done", file=sys.stderr, flush=True)
        report(batches, pages)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def report(batches: dict, pages: list[Page]) -> None:
    print()
    print(f"{'mode':9} {'workers':>7} {'pages':>5} {'wall s':>7} {'pages/min':>9} "
          f"{'tess CPU/pg':>11} {'prep CPU/pg':>11} {'CPU/pg':>7} {'vs raw':>6} {'RSS tess':>8} {'RSS self':>8}")
    for (mode, workers), b in batches.items():
        raw = batches[("raw", workers)]
        cpu = b["child_cpu_per_page"] + (b["self_cpu_per_page"] if mode == "pipeline" else 0.0)
        raw_cpu = raw["child_cpu_per_page"]
        print(f"{mode:9} {workers:7d} {b['pages']:5d} {b['wall_s']:7.1f} {b['pages_per_min']:9.1f} "
              f"{b['child_cpu_per_page']:10.3f}s {b['self_cpu_per_page'] if mode == 'pipeline' else 0.0:10.3f}s "
              f"{cpu:6.3f}s {cpu / raw_cpu:5.2f}x {b['child_maxrss_mb']:6.0f}MB {b['self_maxrss_mb']:6.0f}MB")
    print()
    for mode in ("raw", "pipeline"):
        one, two = batches[(mode, 1)], batches[(mode, 2)]
        print(f"{mode}: two workers {two['pages_per_min'] / one['pages_per_min']:.2f}x one worker")
    one = batches[("pipeline", 1)]
    print(f"pipeline/raw pages per minute, one worker: {one['pages_per_min'] / batches[('raw', 1)]['pages_per_min']:.2f}")
    print()
    print("CPU per page by page, one worker (raw tesseract | pipeline tesseract + preprocessing):")
    for page in pages:
        raw = [r for r in batches[("raw", 1)]["per_page"] if r["page"] == page.name]
        pipe = [r for r in batches[("pipeline", 1)]["per_page"] if r["page"] == page.name]
        raw_cpu = sum(r["child_cpu_s"] for r in raw) / len(raw)
        tess = sum(r["child_cpu_s"] for r in pipe) / len(pipe)
        prep = sum(r["self_cpu_s"] for r in pipe) / len(pipe)
        print(f"  {page.name:12} {raw_cpu:6.3f}s | {tess:6.3f}s + {prep:5.3f}s = {(tess + prep) / raw_cpu:4.2f}x")
    print()
    print("pipeline wall time per page by stage, one worker:")
    print("  " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in one["stages_per_page"].items() if v >= 0.0005))


if __name__ == "__main__":
    raise SystemExit(main())
