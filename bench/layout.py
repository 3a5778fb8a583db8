"""Automatic layout analysis (issue #9, point 3): plain tesseract against
``digitize.layout`` with each region read on its own, in one run.

For every page:

- **psm3**: tesseract (in-process, tesserocr, one thread) reads the whole
  page with its own page segmentation (``--psm 3``);
- **regions**: ``digitize.layout.analyse_layout`` finds the regions and
  their order; tesseract reads each region (``SetRectangle``) with the
  region's psm, texts joined in reading order;
- **pipeline**: what the pipeline would do: regions when the layout says
  ``multi_column``, else psm 3.

Pages:

- the UNLV magazine pages in ``../shared/data/ocr/unlv-magazine`` (English,
  truth transcriptions; targets: regions ≤ 4 % CER, psm 3 gives 7.8 % and
  9.4 %, the zone files 1.9 %);
- the hard Vietnamese pages of ``bench/hardpages``, **dev split only**
  (``newspaper3``, ``mixed``, ``spread``), prepared as the pipeline prepares
  a page (grey, deskewed beyond 1°, text height and residual skew passed
  on); for multi-column kinds the
  column order: the share of truth lines found in increasing position (the
  longest increasing run of their positions) and the share of consecutive
  truth lines read in order;
- the two NDNP broadsheet pages (33 megapixels, 1935) with the vendor's
  ALTO, which is not a ground truth: CER against the vendor text as a rough
  figure, and the Kendall tau between the vendor's line order and ours over
  lines matched by text; the peak memory of loading the page and analysing
  its layout, measured in a child process.

Layout time is the wall time of ``analyse_layout`` alone (median of three
runs on the UNLV pages).

    .venv/bin/python bench/layout.py [--hard-dir DIR] [--pages-per-kind 3] [--no-ndnp-ocr]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # before tesseract is loaded

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "ocr"
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from digitize import preprocess  # noqa: E402
from digitize.images import load_page_image  # noqa: E402
from digitize.layout import PageLayout, analyse_layout  # noqa: E402
from digitize.quality import alto_text, cer, line_positions, reading_order_agreement  # noqa: E402
from heritage3d.report import peak_rss_mb  # noqa: E402

TESSDATA = "/usr/share/tesseract-ocr/5/tessdata/"
UNLV_PAGES = ("8087_054.3B", "8071_093.3B")
HARD_KINDS = ("newspaper3", "mixed", "spread")
NDNP_DIR = SHARED / "ndnp-park-record-1935" / "sn85058233" / "17082901001" / "1935080201"
NDNP_PAGES = ("1289", "1292")
NDNP_MIN_LINE_CHARS = 20  # vendor lines shorter than this are too ambiguous to match
NDNP_MIN_MATCH = 75.0  # rapidfuzz ratio a line pair needs to count as the same line


@dataclass
class PageFigures:
    name: str
    columns: int
    multi_column: bool
    regions: int
    layout_s: float
    cer_psm3: float
    cer_regions: float
    order_psm3: float | None = None
    order_regions: float | None = None
    lis_psm3: float | None = None
    lis_regions: float | None = None

    @property
    def cer_pipeline(self) -> float:
        return self.cer_regions if self.multi_column else self.cer_psm3


# ------------------------------------------------------------------- reading
class Reader:
    """One tesserocr engine per language, reused across pages."""

    def __init__(self) -> None:
        import tesserocr

        self._tesserocr = tesserocr
        self._apis: dict[str, object] = {}

    def api(self, languages: str):
        if languages not in self._apis:
            self._apis[languages] = self._tesserocr.PyTessBaseAPI(path=TESSDATA, lang=languages, psm=3)
        return self._apis[languages]

    def whole_page(self, image: Image.Image, languages: str) -> str:
        api = self.api(languages)
        api.SetPageSegMode(3)
        api.SetImage(image)
        return api.GetUTF8Text()

    def by_regions(self, image: Image.Image, layout: PageLayout, languages: str) -> str:
        api = self.api(languages)
        api.SetImage(image)
        parts = []
        for region in layout.reading_regions():
            api.SetPageSegMode(region.psm)
            api.SetRectangle(region.x, region.y, region.w, region.h)
            parts.append(api.GetUTF8Text().strip())
        return "\n".join(p for p in parts if p)

    def close(self) -> None:
        for api in self._apis.values():
            api.End()


def timed_layout(image: Image.Image, repeats: int = 1, **hints) -> tuple[PageLayout, float]:
    """The layout and the median wall time of ``repeats`` analyses."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        layout = analyse_layout(image, **hints)
        times.append(time.perf_counter() - start)
    return layout, float(np.median(times))


def prepared(image: Image.Image) -> tuple[Image.Image, dict]:
    """As the pipeline prepares a page before layout: one grey channel,
    deskewed when skewed by more than ``MIN_SKEW_CORRECTION_DEG``; and the
    hints it can pass on: the text height (pixels) and the skew left."""
    gray = preprocess.to_grayscale(image)
    small, x_scale, y_scale = preprocess.analysis_copy(gray)
    skew = preprocess.estimate_skew_deg(small, x_scale=x_scale, y_scale=y_scale)
    height = preprocess.estimate_text_height_px(small, x_scale=x_scale, y_scale=y_scale, skew_deg=skew)
    if abs(skew) > preprocess.MIN_SKEW_CORRECTION_DEG:
        gray = preprocess.rotate_page(gray, -skew, fill=preprocess.paper_level(small))
        skew = 0.0
    return gray, {"text_height_px": height, "skew_deg": skew}


def increasing_share(positions: list[int | None]) -> float | None:
    """The share of found lines in the longest strictly increasing run of
    their positions (1.0: every line where reading order puts it)."""
    found = [p for p in positions if p is not None]
    if len(found) < 2:
        return None
    tails: list[int] = []
    for p in found:
        k = int(np.searchsorted(tails, p, side="left"))
        if k == len(tails):
            tails.append(p)
        else:
            tails[k] = p
    return len(tails) / len(found)


# --------------------------------------------------------------------- pages
def measure_unlv(reader: Reader) -> list[PageFigures]:
    figures = []
    for name in UNLV_PAGES:
        image = Image.open(SHARED / "unlv-magazine" / f"{name}.tif")
        image.load()
        truth = (SHARED / "unlv-magazine" / f"{name}.txt").read_text(encoding="utf-8")
        layout, seconds = timed_layout(image, repeats=3, dpi=300)
        plain = reader.whole_page(image, "eng")
        regions = reader.by_regions(image, layout, "eng")
        figures.append(PageFigures(name, layout.columns, layout.multi_column, len(layout.reading_regions()),
                                   seconds, cer(plain, truth), cer(regions, truth)))
    return figures


def measure_hard(reader: Reader, hard_dir: Path, pages_per_kind: int) -> list[PageFigures]:
    from bench.hardpages import generate, read_manifest

    manifest = hard_dir / "manifest.json"
    pages = read_manifest(manifest) if manifest.exists() else []
    wanted = {(k, i) for k in HARD_KINDS for i in range(pages_per_kind)}
    if not wanted <= {(p.kind, p.index) for p in pages if p.split == "dev"}:
        pages = generate(hard_dir, split="dev", pages_per_kind=pages_per_kind, kinds=HARD_KINDS)
    figures = []
    for page in pages:
        if page.split != "dev" or (page.kind, page.index) not in wanted:
            continue
        image, hints = prepared(Image.open(page.image_path))
        layout, seconds = timed_layout(image, **hints)
        plain = reader.whole_page(image, page.languages)
        regions = reader.by_regions(image, layout, page.languages)
        row = PageFigures(page.image_path.stem, layout.columns, layout.multi_column,
                          len(layout.reading_regions()), seconds, cer(plain, page.text), cer(regions, page.text))
        if page.columns is not None:
            row.order_psm3 = reading_order_agreement(plain, page.lines)
            row.order_regions = reading_order_agreement(regions, page.lines)
            row.lis_psm3 = increasing_share(line_positions(plain, page.lines))
            row.lis_regions = increasing_share(line_positions(regions, page.lines))
        figures.append(row)
    return figures


def _layout_peak(path: str, queue) -> None:
    """Child process: load the page, analyse it; report times and peak RSS."""
    start = time.perf_counter()
    image = load_page_image(Path(path), grayscale=True)
    loaded = time.perf_counter() - start
    rss_loaded_mb = peak_rss_mb()  # VmHWM: ru_maxrss would carry the parent's peak into this child
    _, seconds = timed_layout(image)
    queue.put((loaded, seconds, rss_loaded_mb, peak_rss_mb()))


def ndnp_memory(path: Path) -> tuple[float, float, float, float]:
    """``(load s, layout s, peak MB after loading, peak MB after layout)``,
    measured in a fresh process."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_layout_peak, args=(str(path), queue))
    child.start()
    loaded, seconds, rss_loaded_mb, rss_mb = queue.get(timeout=600)
    child.join()
    return loaded, seconds, rss_loaded_mb, rss_mb


def kendall_tau_of_lines(ours: str, vendor_lines: list[str]) -> tuple[float | None, int]:
    """Kendall's tau between the vendor's line order and ours over the lines
    matched by text (each vendor line to its best match among ours), and
    how many were matched."""
    from rapidfuzz import fuzz, process
    from scipy.stats import kendalltau

    mine = [line for line in (ln.strip() for ln in ours.splitlines()) if line]
    if not mine:
        return None, 0
    pairs = []
    for index, line in enumerate(vendor_lines):
        if len(line) < NDNP_MIN_LINE_CHARS:
            continue
        best = process.extractOne(line, mine, scorer=fuzz.ratio, score_cutoff=NDNP_MIN_MATCH)
        if best is not None:
            pairs.append((index, best[2]))
    if len(pairs) < 2:
        return None, len(pairs)
    vendor_rank, our_rank = zip(*pairs)
    return float(kendalltau(vendor_rank, our_rank).statistic), len(pairs)


def measure_ndnp(reader: Reader, read: bool) -> list[dict]:
    rows = []
    for name in NDNP_PAGES:
        path = NDNP_DIR / f"{name}.jp2"
        loaded, seconds, peak_loaded_mb, peak_mb = ndnp_memory(path)
        row = {"page": name, "load_s": loaded, "layout_s": seconds, "peak_loaded_mb": peak_loaded_mb, "peak_mb": peak_mb}
        image = Image.fromarray(np.asarray(load_page_image(path, grayscale=True)))  # tesserocr would re-read JPEG 2000
        layout = analyse_layout(image)
        row.update(columns=layout.columns, multi=layout.multi_column, regions=len(layout.reading_regions()))
        if read:
            vendor = alto_text(NDNP_DIR / f"{name}.xml")
            vendor_lines = [line.strip() for line in vendor.splitlines()]
            plain = reader.whole_page(image, "eng")
            regions = reader.by_regions(image, layout, "eng")
            row["cer_psm3"], row["cer_regions"] = cer(plain, vendor), cer(regions, vendor)
            row["tau_psm3"], row["matched_psm3"] = kendall_tau_of_lines(plain, vendor_lines)
            row["tau_regions"], row["matched_regions"] = kendall_tau_of_lines(regions, vendor_lines)
        rows.append(row)
    return rows


# ------------------------------------------------------------------- report
def pct(value: float | None) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def share(value: float | None) -> str:
    return "  -  " if value is None else f"{value:5.2f}"


def print_pages(title: str, rows: list[PageFigures]) -> None:
    print(f"\n{title}")
    print(f"{'page':22s} {'cols':>4s} {'multi':>5s} {'regs':>4s} {'layout':>8s} {'psm3':>7s} {'regions':>7s} "
          f"{'pipeline':>8s} {'order p3/rg':>12s} {'increasing p3/rg':>17s}")
    for r in rows:
        print(f"{r.name:22s} {r.columns:4d} {str(r.multi_column):>5s} {r.regions:4d} {1000 * r.layout_s:6.0f}ms "
              f"{pct(r.cer_psm3):>7s} {pct(r.cer_regions):>7s} {pct(r.cer_pipeline):>8s} "
              f"{share(r.order_psm3)}/{share(r.order_regions)}  {share(r.lis_psm3):>8s}/{share(r.lis_regions)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hard-dir", type=Path, default=Path("/tmp/hardpages-dev-layout"),
                        help="where the dev hard pages are (generated there when missing)")
    parser.add_argument("--pages-per-kind", type=int, default=3)
    parser.add_argument("--no-ndnp-ocr", action="store_true", help="NDNP: layout time and memory only")
    args = parser.parse_args(argv)

    reader = Reader()
    try:
        unlv = measure_unlv(reader)
        print_pages("UNLV magazine pages (eng; targets: regions <= 4 % CER)", unlv)
        hard = measure_hard(reader, args.hard_dir, args.pages_per_kind)
        print_pages("Hard Vietnamese pages, dev split (vie; pipeline = regions when multi_column, else psm 3)", hard)
        for kind in HARD_KINDS:
            mine = [r for r in hard if f"-{kind}-" in r.name]
            if mine:
                print(f"  {kind:11s} mean CER psm3 {pct(np.mean([r.cer_psm3 for r in mine]))}, "
                      f"regions {pct(np.mean([r.cer_regions for r in mine]))}, "
                      f"pipeline {pct(np.mean([r.cer_pipeline for r in mine]))}")
        print("\nNDNP broadsheet pages (vendor ALTO is not ground truth; tau: Kendall, vendor line order vs ours)")
        for row in measure_ndnp(reader, read=not args.no_ndnp_ocr):
            text = (f"{row['page']}: {row['columns']} columns, multi={row['multi']}, {row['regions']} regions, "
                    f"load {row['load_s']:.2f}s, layout {row['layout_s']:.2f}s, "
                    f"peak RSS {row['peak_loaded_mb']:.0f} MB loaded, {row['peak_mb']:.0f} MB after layout")
            if "cer_psm3" in row:
                text += (f"\n      CER vs vendor psm3 {pct(row['cer_psm3'])} regions {pct(row['cer_regions'])}; "
                         f"tau psm3 {share(row['tau_psm3'])} ({row['matched_psm3']} lines), "
                         f"regions {share(row['tau_regions'])} ({row['matched_regions']} lines)")
            print("  " + text)
    finally:
        reader.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
