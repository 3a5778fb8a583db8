"""OCR quality: ``digitize.read_page`` against plain tesseract, by CER.

Pages (see ../shared/data/README.md for their provenance):

- UNLV magazine pages, English, with their zone files and without;
- BnL newspaper blocks 1 and 2 (French, ``fra``) and 0 (German Fraktur, read
  with ``fra`` for the record: no German model is installed);
- Vietnamese pages rendered from *Lục Vân Tiên* with ``digitize.synthetic``
  and degraded by its presets (clean, scan, low_dpi, poor) and a 100-dpi
  scan, plus the low_dpi and poor pages with their dpi tag removed (the
  pipeline must infer the resolution).

"Plain" is ``tesseract IMAGE - -l LANG`` with its defaults (psm 3, no
preprocessing, one thread); for the zoned UNLV pages plain tesseract also gets
the zone file (psm 6), as in tesseract's own UNLV tests. CER: edit distance
between NFC texts with white space folded, over the truth length; groups are
micro-averaged (sum of edits / sum of truth lengths).

    .venv/bin/python bench/ocr_quality.py [--quick] [--pages-per-preset N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))

from digitize import OcrOptions, alto_text, read_page, read_zones  # noqa: E402
from digitize.quality import comparable_text, edit_distance  # noqa: E402


@dataclass
class Case:
    group: str
    name: str
    image: Path
    truth: str
    languages: str
    zones: bool = False  # plain tesseract gets the .uzn beside the image, read_page gets the zones


@dataclass
class Result:
    case: Case
    plain_edits: int
    pipeline_edits: int
    truth_chars: int
    note: str = ""


def plain_tesseract(image: Path, languages: str, psm: int) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    result = subprocess.run(
        ["tesseract", str(image), "-", "-l", languages, "--psm", str(psm)],
        capture_output=True, text=True, env=env, timeout=600, check=True,
    )
    return result.stdout


def unlv_cases() -> list[Case]:
    folder = SHARED / "ocr" / "unlv-magazine"
    cases = []
    for zones in (True, False):
        for page in ("8087_054.3B", "8071_093.3B"):
            cases.append(Case(
                group="UNLV with zones" if zones else "UNLV psm 3",
                name=page, image=folder / f"{page}.tif",
                truth=(folder / f"{page}.txt").read_text(encoding="utf-8"),
                languages="eng", zones=zones,
            ))
    return cases


def bnl_cases() -> list[Case]:
    folder = SHARED / "ocr" / "bnl-newspaper-blocks"
    return [
        Case("BnL French" if block else "BnL Fraktur (fra, record)", f"block {block}",
             folder / "images" / f"{block}.tif", alto_text(folder / "gt" / f"{block}.xml"), "fra")
        for block in (1, 2, 0)
    ]


def vietnamese_cases(work: Path, pages_per_preset: int) -> list[Case]:
    try:
        from digitize import synthetic
    except ImportError:
        print("digitize.synthetic is missing: no Vietnamese pages", file=sys.stderr)
        return []
    text_path = SHARED / "text" / "luc-van-tien.quocngu.txt"
    lines = text_path.read_text(encoding="utf-8").splitlines()
    font = synthetic.find_vietnamese_font()
    cases = []
    presets = {name: name for name in ("clean", "scan", "low_dpi", "poor")}
    presets["100 dpi"] = {"skew_deg": 0.7, "blur_radius": 1.0, "noise_sigma": 10.0, "dpi": 100, "jpeg_quality": 75}
    for preset, degradation in presets.items():
        for n in range(pages_per_preset):
            start = 100 + 97 * n  # different verses on every page
            page = synthetic.render_document(
                "\n".join(lines[start : start + 40]), pages=1, degradation=degradation, font_path=font, seed=n
            )[0]
            path = work / f"vie-{preset.replace(' ', '')}-{n}.png"
            page.image.save(path, dpi=page.image.info["dpi"])
            cases.append(Case(f"Vietnamese {preset}", f"page {n}", path, page.text, "vie"))
            if preset in ("low_dpi", "poor"):
                bare = work / f"vie-{preset}-{n}-nodpi.png"
                page.image.save(bare)  # no dpi tag: resolution must be inferred
                cases.append(Case(f"Vietnamese {preset}, no dpi tag", f"page {n}", bare, page.text, "vie"))
    return cases


def run_case(case: Case, work: Path) -> Result:
    if case.zones:
        plain = plain_tesseract(case.image, case.languages, psm=6)  # reads the .uzn beside the image
        zones = read_zones(case.image.with_suffix(".uzn"))
    else:
        plain = plain_tesseract(case.image, case.languages, psm=3)
        zones = ()
    options = OcrOptions(languages=case.languages, zones=zones)
    page_work = work / f"{case.group}-{case.name}".replace(" ", "_").replace(",", "")
    reading = read_page(case.image, options=options, work_dir=page_work)
    note = f"skew {reading.skew_deg:+.2f}°, scale {reading.scale:.2f}"
    return Result(case, edit_distance(plain, case.truth), edit_distance(reading.text, case.truth),
                  len(comparable_text(case.truth)), note)


def report(results: list[Result]) -> None:
    print(f"{'group':34} {'page':12} {'chars':>6} {'plain':>7} {'pipeline':>8}  preprocessing")
    for r in results:
        print(f"{r.case.group:34} {r.case.name:12} {r.truth_chars:6d} "
              f"{100 * r.plain_edits / r.truth_chars:6.2f}% {100 * r.pipeline_edits / r.truth_chars:7.2f}%  {r.note}")
    print()
    print(f"{'group (micro-averaged)':34} {'pages':>5} {'chars':>7} {'plain':>7} {'pipeline':>8}")
    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(r.case.group, []).append(r)
    for group, members in groups.items():
        chars = sum(r.truth_chars for r in members)
        plain = sum(r.plain_edits for r in members)
        pipeline = sum(r.pipeline_edits for r in members)
        print(f"{group:34} {len(members):5d} {chars:7d} {100 * plain / chars:6.2f}% {100 * pipeline / chars:7.2f}%")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one Vietnamese page per preset")
    parser.add_argument("--pages-per-preset", type=int, default=3)
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(f"shared data not found at {SHARED}", file=sys.stderr)
        return 2
    if shutil.which("tesseract") is None:
        print("tesseract is not installed", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="ocr-quality-"))
    try:
        cases = unlv_cases() + bnl_cases()
        cases += vietnamese_cases(work, 1 if args.quick else args.pages_per_preset)
        results = []
        for case in cases:
            results.append(run_case(case, work))
            print(f"  {case.group} {case.name} done", file=sys.stderr, flush=True)
        report(results)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
