"""OCR throughput: pages per minute and CPU per page, ``read_page`` against the
raw ``tesseract`` command on the same pages in the same run.

- raw: ``tesseract IMAGE OUT -l LANG`` (defaults: psm 3, text output only);
- raw+tsv: the same writing TSV (word boxes) instead, one worker only: what
  any reader of word boxes must pay, without preprocessing;
- pipeline: ``digitize.read_page`` with default options (deskew on, psm 3,
  one tesseract run writing TSV; hOCR and ALTO written from it).

Both with ``OMP_THREAD_LIMIT=1``, in one worker process and then in two
(``multiprocessing``, spawn). CPU per page comes from ``getrusage``:
children (tesseract) and self (the worker's preprocessing and parsing),
reported separately. Peak RSS: each tesseract run's own (GNU time's %M,
through a wrapper script when /usr/bin/time exists) and the worker
process's (VmHWM, its lifetime peak, imports included); not getrusage's
maxrss, which Linux inherits across fork and exec.

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


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). ``getrusage``'s ru_maxrss is no
    use here: Linux carries the parent's peak across fork and exec, so a
    spawned worker or a tesseract child would report its parent's size."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def tesseract_command(work_dir: str) -> str:
    """The program the workers run: tesseract itself, or when GNU time is
    installed a wrapper that logs tesseract's own peak RSS (kB) per run."""
    if not Path("/usr/bin/time").exists():
        return "tesseract"
    wrapper = Path(work_dir) / "tesseract-measured"
    if not wrapper.exists():
        wrapper.write_text('#!/bin/sh\nexec /usr/bin/time -f %M -a -o "$TESSERACT_RSS_LOG" tesseract "$@"\n')
        wrapper.chmod(0o755)
    return str(wrapper)


def tesseract_peaks_mb(log: Path) -> list[float]:
    if not log.exists():
        return []
    return [int(line) / 1024 for line in log.read_text().split() if line.isdigit()]


def warm_up(work_dir: str) -> int:
    import digitize  # noqa: F401 - import cost stays out of the page timings
    from digitize import tesseract

    tesseract.PROGRAM = tesseract_command(work_dir)  # the wrapper's documented seam
    os.environ["TESSERACT_RSS_LOG"] = str(Path(work_dir) / f"rss-{os.getpid()}.log")
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
        subprocess.run([tesseract_command(work_dir), str(page.path), str(out), "-l", page.languages],
                       check=True, capture_output=True, env=env)
    elif mode == "raw+tsv":  # the least any reader of word boxes must ask of tesseract
        out = Path(work_dir) / f"tsv-{page.name}-{os.getpid()}"
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        subprocess.run([tesseract_command(work_dir), str(page.path), str(out), "-l", page.languages, "tsv"],
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
        "self_maxrss_mb": peak_rss_mb(),
        "child_maxrss_mb": max(tesseract_peaks_mb(Path(os.environ.get("TESSERACT_RSS_LOG", "/nonexistent"))),
                               default=float("nan")),
        "stages": stages,
    }


# ------------------------------------------------------------------ driver side
def run_batch(mode: str, pages: list[Page], workers: int, repeat: int, work: Path) -> dict:
    context = multiprocessing.get_context("spawn")
    tasks = [(mode, page, str(work)) for _ in range(repeat) for page in pages]
    with context.Pool(workers) as pool:
        pool.map(warm_up, [str(work)] * workers, chunksize=1)
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
            for mode in ("raw", "raw+tsv", "pipeline") if workers == 1 else ("raw", "pipeline"):
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
    print("CPU per page by page, one worker:")
    print(f"  {'page':12} {'raw':>7} {'raw+tsv':>7} | {'pipeline':>8} = tesseract + preprocessing | vs raw, vs raw+tsv")

    def mean_cpu(mode: str, name: str, key: str) -> float:
        runs = [r for r in batches[(mode, 1)]["per_page"] if r["page"] == name]
        return sum(r[key] for r in runs) / len(runs)

    for page in pages:
        raw_cpu = mean_cpu("raw", page.name, "child_cpu_s")
        tsv_cpu = mean_cpu("raw+tsv", page.name, "child_cpu_s")
        tess = mean_cpu("pipeline", page.name, "child_cpu_s")
        prep = mean_cpu("pipeline", page.name, "self_cpu_s")
        print(f"  {page.name:12} {raw_cpu:6.3f}s {tsv_cpu:6.3f}s | {tess + prep:7.3f}s = {tess:6.3f}s + {prep:5.3f}s"
              f" | {(tess + prep) / raw_cpu:4.2f}x, {(tess + prep) / tsv_cpu:4.2f}x")
    print()
    print("pipeline wall time per page by stage, one worker:")
    print("  " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in one["stages_per_page"].items() if v >= 0.0005))


if __name__ == "__main__":
    raise SystemExit(main())
