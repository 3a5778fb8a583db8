"""OCR throughput: CPU per page of ``read_page`` against the raw ``tesseract``
command on the same pages in the same run, pages per minute with one and two
workers, and peak memory.

- raw: ``tesseract IMAGE OUT -l LANG`` (defaults: psm 3, text output only);
- raw+tsv: ``tesseract IMAGE OUT -l LANG tsv``, word boxes, no
  preprocessing: the baseline of issue #9 (pipeline CPU per page ≤ 1.05× it);
- pipeline: ``digitize.read_page`` with default options (deskew, psm 3,
  tesseract in process, hOCR and ALTO written from its TSV; the second look
  at poor pages, which these pages do not need).

All with ``OMP_THREAD_LIMIT=1``, in one worker process, then in two
(``multiprocessing``, spawn). CPU per page comes from ``getrusage``: the
children's for the command (tesseract), the worker's own for the pipeline
(tesseract runs inside it). Each worker loads its models once before the
clock starts, as a real worker does for its first page; the command loads
them for every page, which is part of what it costs. The pipeline's CPU by
stage is its own account (``PageReading.cpu_s``).

Peak memory: for each mode, tesseract's own peak RSS (GNU time's %M, through
a wrapper script, when /usr/bin/time exists) and the worker's (VmHWM). Then
each of two pages is read by ``read_page`` in a fresh process whose peak RSS
(VmHWM; the same as ``ru_maxrss`` there, but not inherited from the parent,
which Linux carries across fork and exec) is reported against the targets:
a 300-dpi UNLV page ≤ 500 MB, the 4552 × 7218 NDNP broadsheet (33 megapixels,
JPEG 2000) ≤ 1.5 GB.

Pages: the two 300-dpi UNLV pages (eng), BnL blocks 1 and 2 (fra) and three
300-dpi Vietnamese pages rendered by ``digitize.synthetic`` (vie; two with
the "scan" preset, skewed 1.5° so the pipeline rotates them, one clean);
``--vietnamese`` keeps the Vietnamese pages only (post-correction runs on
them, so they are the dearest for the pipeline).

``--hard dev|test`` reads the hard Vietnamese set (``bench.hardpages``)
instead, one group per kind of page, and prints per kind the CPU of the
pipeline against raw+tsv, its CPU by stage, its CER and share of valid
syllables (a check that saving CPU cost no quality) and what it decided per
page (enlargement kept, enhancements kept). ``--json PATH`` writes the
per-page figures for a before/after comparison.

    .venv/bin/python bench/ocr_throughput.py [--quick] [--repeat N] [--no-memory] [--vietnamese]
    .venv/bin/python bench/ocr_throughput.py --hard dev [--hard-dir DIR] [--kinds a,b] [--pages-per-kind N]
        [--repeat 1] [--one-worker] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
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

from heritage3d.report import peak_rss_mb  # noqa: E402

CPU_TARGET = 1.05  # pipeline CPU per page / raw+tsv
TWO_WORKERS_TARGET = 1.8
NDNP_PAGE = SHARED / "ocr" / "ndnp-park-record-1935" / "sn85058233" / "17082901001" / "1935080201" / "1289.jp2"
MEMORY_TARGETS_MB = {"unlv-8087 (300 dpi)": 500, "ndnp-1289 (33 Mpx)": 1500}


@dataclass(frozen=True)
class Page:
    name: str
    path: Path
    languages: str
    kind: str = ""  # the group it is reported in (hard set: its kind)
    truth: str | None = None  # the page's text, when known (hard set)


def hard_pages(work: Path, split: str, pages_per_kind: int, kinds: str, hard_dir: Path | None) -> list[Page]:
    """The hard Vietnamese set of ``split``: read from ``hard_dir`` when its
    ``manifest.json`` holds that split, else generated into ``work``."""
    from bench.hardpages import KINDS, generate, read_manifest

    wanted = tuple(k.strip() for k in kinds.split(",") if k.strip()) or KINDS
    found = []
    if hard_dir is not None and (hard_dir / "manifest.json").exists():
        found = [p for p in read_manifest(hard_dir / "manifest.json") if p.split == split]
    if not found:
        found = generate((hard_dir or work / f"hard-{split}"), split=split, pages_per_kind=pages_per_kind,
                         kinds=wanted)
    return [Page(f"{p.kind}-{p.index:02d}", Path(p.image_path), p.languages, p.kind, p.text)
            for p in found if p.kind in wanted and p.index < pages_per_kind]


def build_pages(work: Path, quick: bool) -> list[Page]:
    unlv = SHARED / "ocr" / "unlv-magazine"
    bnl = SHARED / "ocr" / "bnl-newspaper-blocks" / "images"
    pages = [Page("unlv-8087", unlv / "8087_054.3B.tif", "eng"), Page("unlv-8071", unlv / "8071_093.3B.tif", "eng"),
             Page("bnl-1", bnl / "1.tif", "fra"), Page("bnl-2", bnl / "2.tif", "fra")]
    try:
        from digitize import synthetic

        lines = (SHARED / "text" / "luc-van-tien.quocngu.txt").read_text(encoding="utf-8").splitlines()
        font = synthetic.find_vietnamese_font()
        for n, preset in enumerate(("scan", "scan", "clean")):
            page = synthetic.render_document("\n".join(lines[500 + 60 * n : 540 + 60 * n]), pages=1,
                                             degradation=preset, font_path=font, seed=n)[0]
            path = work / f"vie-{preset}-{n}.png"
            page.image.save(path, dpi=page.image.info["dpi"])
            pages.append(Page(f"vie-{preset}-{n}", path, "vie"))
    except Exception as exc:  # noqa: BLE001 - a benchmark reports and goes on
        print(f"no Vietnamese pages: {exc}", file=sys.stderr)
    if quick:
        pages = [pages[0], pages[2]] + pages[4:5]
    return pages


def kind_of(page: Page) -> str:
    return page.kind or page.name.split("-")[0]


# ------------------------------------------------------------------ worker side
def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def tesseract_command(work_dir: str) -> str:
    """The program the raw modes run: tesseract itself, or when GNU time is
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


def warm_up(args: tuple[str, tuple[str, ...]]) -> int:
    """Import the engine and load each language's models once, as a worker
    does on its first page; the pages' clocks start after this."""
    work_dir, languages = args
    from PIL import Image

    import digitize
    from digitize import tesseract

    os.environ["TESSERACT_RSS_LOG"] = str(Path(work_dir) / f"rss-{os.getpid()}.log")
    digitize.tesseract_version()
    for language in languages:
        tesseract.recognise(Image.new("L", (64, 32), 255), languages=language, psm=7, timeout_s=60)
    time.sleep(0.5)  # so that every worker of the pool takes one
    return os.getpid()


def work_on(task: tuple[str, Page, str]) -> dict:
    mode, page, work_dir = task
    from digitize import OcrOptions, read_page

    self_before, children_before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    stages: dict[str, float] = {}
    reading = None
    if mode in ("raw", "raw+tsv"):
        out = Path(work_dir) / f"{mode}-{page.name}-{os.getpid()}"
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        args = [tesseract_command(work_dir), str(page.path), str(out), "-l", page.languages]
        subprocess.run(args + (["tsv"] if mode == "raw+tsv" else []), check=True, capture_output=True, env=env)
    else:
        reading = read_page(page.path, options=OcrOptions(languages=page.languages),
                            work_dir=Path(work_dir) / f"{page.name}-{os.getpid()}")
        stages = dict(reading.cpu_s)
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
        "text": reading.text if reading is not None else None,
        "scale": reading.scale if reading is not None else None,
        "enhancements": list(reading.enhancements) if reading is not None else None,
        "corrected": reading is not None and reading.raw_text is not None,
    }


def cpu_of(mode: str, result: dict) -> float:
    """The CPU a page cost: tesseract's (a child) for the command, the
    worker's own (tesseract inside) plus any child's for the pipeline."""
    return result["child_cpu_s"] + (result["self_cpu_s"] if mode == "pipeline" else 0.0)


# ------------------------------------------------------------------ driver side
def run_batch(mode: str, pages: list[Page], workers: int, repeat: int, work: Path) -> dict:
    context = multiprocessing.get_context("spawn")
    tasks = [(mode, page, str(work)) for _ in range(repeat) for page in pages]
    languages = tuple(sorted({p.languages for p in pages})) if mode == "pipeline" else ()
    with context.Pool(workers) as pool:
        pool.map(warm_up, [(str(work), languages)] * workers, chunksize=1)
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
        "cpu_per_page": sum(cpu_of(mode, r) for r in results) / n,
        "self_maxrss_mb": max(r["self_maxrss_mb"] for r in results),
        "child_maxrss_mb": max(r["child_maxrss_mb"] for r in results),
        "stages_per_page": {k: v / n for k, v in stage_totals.items()},
        "per_page": results,
    }


def measure_peak(path: Path, languages: str) -> dict:
    """Read one page in a fresh process; its peak RSS and CPU."""
    code = (
        "import json, sys, tempfile, time\n"
        "from pathlib import Path\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from digitize import OcrOptions, read_page\n"
        "from heritage3d.report import peak_rss_mb\n"
        "before = peak_rss_mb()\n"
        "with tempfile.TemporaryDirectory() as work:\n"
        f"    reading = read_page(Path({str(path)!r}), options=OcrOptions(languages={languages!r}), work_dir=Path(work))\n"
        "print(json.dumps({'imports_mb': before, 'peak_mb': peak_rss_mb(), 'cpu_s': time.process_time(),\n"
        "                  'words': len(reading.words), 'pixels': reading.width * reading.height}))\n"
    )
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="three pages, once each")
    parser.add_argument("--repeat", type=int, default=3, help="times each page is read (default 3)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory readings (the broadsheet "
                        "takes about a minute)")
    parser.add_argument("--vietnamese", action="store_true", help="the Vietnamese pages only")
    parser.add_argument("--hard", choices=("dev", "test"), help="read the hard Vietnamese set of this split "
                        "instead (per kind: CPU ratio, stages, CER); implies --no-memory")
    parser.add_argument("--hard-dir", type=Path, help="where the hard pages are (or are written): a folder "
                        "from 'python -m bench.hardpages'")
    parser.add_argument("--kinds", default="", help="comma-separated hard-set kinds (default: all)")
    parser.add_argument("--pages-per-kind", type=int, default=3)
    parser.add_argument("--one-worker", action="store_true", help="skip the two-worker batches")
    parser.add_argument("--json", type=Path, help="write the per-page figures here")
    args = parser.parse_args(argv)
    if not SHARED.is_dir() or shutil.which("tesseract") is None:
        print("needs ../shared/data and tesseract", file=sys.stderr)
        return 2
    repeat = 1 if args.quick else args.repeat
    work = Path(tempfile.mkdtemp(prefix="ocr-throughput-"))
    try:
        if args.hard:
            pages = hard_pages(work, args.hard, args.pages_per_kind, args.kinds, args.hard_dir)
        else:
            pages = build_pages(work, args.quick)
        if args.vietnamese:
            pages = [p for p in pages if "vie" in p.languages.split("+")]
        print(f"{len(pages)} pages × {repeat}: {', '.join(p.name for p in pages)}")
        batches = {}
        for workers in (1,) if args.one_worker or args.hard else (1, 2):
            modes = ("raw+tsv", "pipeline") if workers == 2 or args.hard else ("raw", "raw+tsv", "pipeline")
            for mode in modes:
                batches[(mode, workers)] = run_batch(mode, pages, workers, repeat, work)
                print(f"  {mode} × {workers} worker(s) done", file=sys.stderr, flush=True)
        report(batches, pages)
        report_kinds(batches, pages)
        if args.json:
            args.json.write_text(json.dumps({f"{mode} x{workers}": b for (mode, workers), b in batches.items()},
                                            ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        if not args.no_memory and not args.hard and not args.vietnamese:
            report_memory(pages)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def report(batches: dict, pages: list[Page]) -> None:
    print()
    print(f"{'mode':9} {'workers':>7} {'pages':>5} {'wall s':>7} {'pages/min':>9} {'CPU/pg':>7} "
          f"{'vs raw+tsv':>10} {'RSS tess':>8} {'RSS worker':>10}")
    for (mode, workers), b in batches.items():
        base = batches[("raw+tsv", workers)]["cpu_per_page"]
        print(f"{mode:9} {workers:7d} {b['pages']:5d} {b['wall_s']:7.1f} {b['pages_per_min']:9.1f} "
              f"{b['cpu_per_page']:6.3f}s {b['cpu_per_page'] / base:9.2f}x "
              f"{b['child_maxrss_mb']:6.0f}MB {b['self_maxrss_mb']:8.0f}MB")
    print()
    for mode in ("raw+tsv", "pipeline") if ("pipeline", 2) in batches else ():
        one, two = batches[(mode, 1)], batches[(mode, 2)]
        print(f"{mode}: two workers {two['pages_per_min'] / one['pages_per_min']:.2f}x one worker "
              f"(target ≥ {TWO_WORKERS_TARGET}x on two free cores)")
    one = batches[("pipeline", 1)]
    ratio = one["cpu_per_page"] / batches[("raw+tsv", 1)]["cpu_per_page"]
    verdict = "met" if ratio <= CPU_TARGET else "NOT met"
    versus_raw = (f", {one['cpu_per_page'] / batches[('raw', 1)]['cpu_per_page']:.2f}x raw"
                  if ("raw", 1) in batches else "")
    print(f"pipeline CPU per page, one worker: {ratio:.2f}x raw+tsv{versus_raw} "
          f"(target ≤ {CPU_TARGET}x raw+tsv: {verdict})")
    print()
    print("CPU per page by page, one worker:")
    print(f"  {'page':14} {'raw':>7} {'raw+tsv':>7} {'pipeline':>8}  vs raw+tsv")

    def mean_cpu(mode: str, name: str) -> float:
        if (mode, 1) not in batches:
            return float("nan")
        runs = [r for r in batches[(mode, 1)]["per_page"] if r["page"] == name]
        return sum(cpu_of(mode, r) for r in runs) / len(runs)

    for page in pages:
        raw, tsv, pipe = mean_cpu("raw", page.name), mean_cpu("raw+tsv", page.name), mean_cpu("pipeline", page.name)
        print(f"  {page.name:14} {raw:6.3f}s {tsv:6.3f}s {pipe:7.3f}s  {pipe / tsv:5.2f}x")
    print()
    print("pipeline CPU per page by stage, one worker (its own account):")
    stages = one["stages_per_page"]
    total = stages.get("total", 0.0) or 1.0
    print("  " + ", ".join(f"{k} {v * 1000:.0f} ms ({100 * v / total:.0f} %)"
                           for k, v in stages.items() if k != "total" and v >= 0.0005))
    print(f"  total {stages.get('total', 0.0) * 1000:.0f} ms; outside the stages (imports aside): "
          f"{(one['cpu_per_page'] - stages.get('total', 0.0)) * 1000:.0f} ms")


def report_kinds(batches: dict, pages: list[Page]) -> None:
    """Per kind of page (one worker): CPU of raw+tsv and of the pipeline, their
    ratio, the pipeline's CPU by stage (the stages that cost anything), and
    when the truth is known its CER and share of valid Vietnamese syllables;
    then what the pipeline decided on each page."""
    from digitize.quality import comparable_text, comparable_words, edit_distance
    from digitize.vietnamese import is_vietnamese_word

    tsv_runs, pipe_runs = batches[("raw+tsv", 1)]["per_page"], batches[("pipeline", 1)]["per_page"]
    by_name = {p.name: p for p in pages}
    kinds: dict[str, list[Page]] = {}
    for page in pages:
        kinds.setdefault(kind_of(page), []).append(page)
    print()
    print("per kind, one worker (CPU per page; ratio = pipeline / raw+tsv):")
    print(f"  {'kind':12} {'pages':>5} {'raw+tsv':>8} {'pipeline':>8} {'ratio':>6} {'CER':>7} {'syllables':>9}"
          "  stages (ms per page)")
    all_tsv = all_pipe = 0.0
    for kind, members in kinds.items():
        names = {p.name for p in members}
        tsv = [cpu_of("raw+tsv", r) for r in tsv_runs if r["page"] in names]
        pipe = [r for r in pipe_runs if r["page"] in names]
        tsv_cpu, pipe_cpu = sum(tsv) / len(tsv), sum(cpu_of("pipeline", r) for r in pipe) / len(pipe)
        all_tsv, all_pipe = all_tsv + sum(tsv), all_pipe + sum(cpu_of("pipeline", r) for r in pipe)
        stages: dict[str, float] = {}
        for r in pipe:
            for name, seconds in r["stages"].items():
                stages[name] = stages.get(name, 0.0) + seconds / len(pipe)
        cer = syllables = "-"
        truths = [(by_name[r["page"]].truth, r["text"]) for r in pipe if by_name[r["page"]].truth]
        if truths:
            edits = sum(edit_distance(text, truth) for truth, text in truths)
            cer = f"{100 * edits / sum(len(comparable_text(t)) for t, _ in truths):6.2f}%"
            words = [w for _, text in truths for w in comparable_words(text)]
            syllables = f"{100 * sum(map(is_vietnamese_word, words)) / max(1, len(words)):8.1f}%"
        costly = ", ".join(f"{k} {1000 * v:.0f}" for k, v in sorted(stages.items(), key=lambda kv: -kv[1])
                           if k != "total" and v >= 0.005)
        print(f"  {kind:12} {len(members):5d} {tsv_cpu:7.2f}s {pipe_cpu:7.2f}s {pipe_cpu / tsv_cpu:5.2f}x "
              f"{cer:>7} {syllables:>9}  {costly}")
    print(f"  {'all':12} {len(pages):5d} {'':8} {'':8} {all_pipe / all_tsv:5.2f}x  (CPU summed over the pages)")
    print()
    print("what the pipeline kept, per page (scale; enhancements; post-corrected):")
    seen = set()
    for r in pipe_runs:
        if r["page"] in seen:
            continue
        seen.add(r["page"])
        print(f"  {r['page']:14} scale {r['scale']:.2f}; {'; '.join(r['enhancements']) or 'as scanned'}"
              f"{'; corrected' if r['corrected'] else ''}")


def report_memory(pages: list[Page]) -> None:
    print()
    print("peak memory of read_page in a fresh process (VmHWM = its ru_maxrss):")
    cases = {"unlv-8087 (300 dpi)": (pages[0].path, "eng")}
    if NDNP_PAGE.exists():
        cases["ndnp-1289 (33 Mpx)"] = (NDNP_PAGE, "eng")
    for name, (path, languages) in cases.items():
        found = measure_peak(path, languages)
        target = MEMORY_TARGETS_MB[name]
        verdict = "met" if found["peak_mb"] <= target else "NOT met"
        print(f"  {name:20} peak {found['peak_mb']:6.0f} MB (imports {found['imports_mb']:.0f} MB; "
              f"target ≤ {target} MB: {verdict}); {found['pixels'] / 1e6:.1f} Mpx, {found['words']} words, "
              f"CPU {found['cpu_s']:.1f} s")


if __name__ == "__main__":
    raise SystemExit(main())
