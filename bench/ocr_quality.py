"""OCR quality: ``digitize.read_page`` against plain tesseract, per kind of page.

In one run, on the same pages:

- **plain**: ``tesseract IMAGE - -l LANG`` with its defaults (psm 3, no
  preprocessing, one thread); for the zoned UNLV pages it gets the zone file
  too (psm 6), as in tesseract's own UNLV tests;
- **engine**: the pipeline's own tesseract (libtesseract in process, through
  tesserocr: 5.5.4 in its wheel, where the ``tesseract`` program is Debian's
  5.3.0) on the page as it is, with plain's psm and nothing else: what the
  engine's version alone changes, so that a difference between plain and
  full is not taken for a stage's doing (the BnL Fraktur block: 4.57 %
  plain, 4.83 % engine and full, every stage off in turn 4.83 %);
- **full**: the pipeline with its defaults (every stage free to act where the
  page asks for it);
- **−stage**: the pipeline with one optional stage switched off
  (``OcrOptions(stages_off={stage})``), for each stage in
  ``digitize.pipeline.OPTIONAL_STAGES``.

Pages:

- the hard Vietnamese set (``bench/hardpages``, ``--split test`` by default:
  the pages nobody tunes on; ``--split dev`` is for development), one group
  per kind of page;
- the real pages in ``../shared/data/ocr`` (see its README for provenance):
  UNLV magazine pages with automatic layout and with their zone files, BnL
  French blocks (``fra``) and the Fraktur block (``deu+Fraktur``), and the two
  NDNP broadsheet pages of 1935 (plain and full only: the vendor's ALTO is not
  a ground truth, so their figures are agreement with the vendor, not CER).

Figures: CER (edit distance between NFC texts with white space folded, over
the truth length) and WER, micro-averaged per group (sum of edits over sum of
truth lengths); the share of words that are valid Vietnamese syllables
(Vietnamese pages); for multi-column pages the reading-order agreement (share
of consecutive truth lines found in order). The targets of issue #9 are
checked at the end.

    .venv/bin/python bench/ocr_quality.py [--split test|dev] [--pages-per-kind N]
        [--no-ablation] [--no-ndnp] [--jobs 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))

from digitize import OcrOptions, alto_text, read_page, read_zones  # noqa: E402
from digitize.quality import (  # noqa: E402
    comparable_text,
    comparable_words,
    edit_distance,
    reading_order_agreement,
    word_edit_distance,
)

NDNP = SHARED / "ocr" / "ndnp-park-record-1935" / "sn85058233" / "17082901001" / "1935080201"


@dataclass
class Case:
    group: str
    name: str
    image: Path
    truth: str
    languages: str
    zones: bool = False
    truth_lines: tuple[str, ...] | None = None  # for the reading-order check
    vietnamese: bool = False
    reference: bool = False  # the truth is a vendor's reading, not a ground truth
    ablate: bool = True


@dataclass
class Reading:
    variant: str
    text: str
    cpu_s: float
    notes: str = ""


@dataclass
class Result:
    case: Case
    readings: dict[str, Reading] = field(default_factory=dict)


# --------------------------------------------------------------------- pages
def hard_cases(work: Path, split: str, pages_per_kind: int) -> list[Case]:
    from bench.hardpages import generate

    pages = generate(work / f"hard-{split}", split=split, pages_per_kind=pages_per_kind)
    return [
        Case(f"hard {page.kind}", f"{page.split}-{page.index}", page.image_path, page.text, page.languages,
             truth_lines=tuple(page.lines) if page.columns is not None else None, vietnamese=True)
        for page in pages
    ]


def real_cases(with_ndnp: bool) -> list[Case]:
    cases = []
    unlv = SHARED / "ocr" / "unlv-magazine"
    for zones in (False, True):
        for page in ("8087_054.3B", "8071_093.3B"):
            cases.append(Case("UNLV with zones" if zones else "UNLV automatic layout", page, unlv / f"{page}.tif",
                              (unlv / f"{page}.txt").read_text(encoding="utf-8"), "eng", zones=zones))
    bnl = SHARED / "ocr" / "bnl-newspaper-blocks"
    for block in (1, 2):
        cases.append(Case("BnL French", f"block {block}", bnl / "images" / f"{block}.tif",
                          alto_text(bnl / "gt" / f"{block}.xml"), "fra"))
    cases.append(Case("BnL Fraktur", "block 0", bnl / "images" / "0.tif", alto_text(bnl / "gt" / "0.xml"),
                      "deu+Fraktur"))
    if with_ndnp:
        for page in ("1289", "1292"):
            text = alto_text(NDNP / f"{page}.xml")
            cases.append(Case("NDNP 1935 (vs vendor ALTO)", page, NDNP / f"{page}.jp2", text, "eng",
                              truth_lines=tuple(text.splitlines()), reference=True, ablate=False))
    return cases


# ------------------------------------------------------------------ reading
def plain_tesseract(case: Case) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    psm = "6" if case.zones else "3"
    image = case.image
    tmp = None
    if image.suffix.lower() == ".jp2":  # the CLI's leptonica may not read JPEG 2000: give it a PNG
        from PIL import Image

        tmp = Path(tempfile.mkdtemp(prefix="plain-")) / (image.stem + ".png")
        Image.open(image).save(tmp)
        image = tmp
    try:
        result = subprocess.run(["tesseract", str(image), "-", "-l", case.languages, "--psm", psm],
                                capture_output=True, text=True, env=env, timeout=1800, check=True)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp.parent, ignore_errors=True)
    return result.stdout


def engine_tesseract(case: Case) -> str:
    """The pipeline's tesseract (in process when tesserocr imports) on the page as it is: plain's psm,
    the zone file's regions for the zoned pages, no preprocessing, no layout, no correction."""
    from digitize import tesseract
    from digitize.reading import parse_tsv

    regions = ()
    if case.zones:
        regions = tuple(tesseract.Region(z.x, z.y, z.w, z.h, 6) for z in read_zones(case.image.with_suffix(".uzn")))
    out = tesseract.recognise(case.image, languages=case.languages, psm=6 if case.zones else 3, timeout_s=1800,
                              regions=regions)
    return parse_tsv(out.tsv).text


def run_job(job: tuple[Case, str, Path]) -> tuple[str, str, Reading]:
    case, variant, work = job
    before = os.times()
    notes = ""
    if variant == "plain":
        text = plain_tesseract(case)
    elif variant == "engine":
        text = engine_tesseract(case)
    else:
        stages_off = frozenset() if variant == "full" else frozenset({variant.lstrip("−")})
        zones = read_zones(case.image.with_suffix(".uzn")) if case.zones else ()
        kwargs = dict(languages=case.languages, zones=zones)
        if stages_off:
            kwargs["stages_off"] = stages_off
        page_work = work / f"{case.group}-{case.name}-{variant}".replace(" ", "_").replace("/", "_")
        reading = read_page(case.image, options=OcrOptions(**kwargs), work_dir=page_work)
        text = reading.text
        warnings = getattr(reading, "warnings", ())
        notes = f"skew {reading.skew_deg:+.2f}°, scale {reading.scale:.2f}" + (
            f"; {'; '.join(warnings)}" if warnings else "")
        shutil.rmtree(page_work, ignore_errors=True)
    after = os.times()
    cpu = (after.user - before.user) + (after.system - before.system) + (
        after.children_user - before.children_user) + (after.children_system - before.children_system)
    return case.group + "/" + case.name, variant, Reading(variant, text, cpu, notes)


def optional_stages() -> tuple[str, ...]:
    from digitize import pipeline

    return tuple(getattr(pipeline, "OPTIONAL_STAGES", ()))


# ------------------------------------------------------------------ figures
def valid_syllable_share(text: str) -> float | None:
    try:
        from digitize.vietnamese import is_vietnamese_word
    except ImportError:
        return None
    words = comparable_words(text)
    return sum(1 for w in words if is_vietnamese_word(w)) / len(words) if words else None


def pct(numerator: float, denominator: float) -> str:
    return f"{100 * numerator / denominator:6.2f}%" if denominator else "     - "


def report(results: list[Result], variants: list[str]) -> dict[str, dict[str, float]]:
    """Print the tables; return micro-CER per group and variant."""
    print(f"\n{'page':44} {'chars':>6} " + " ".join(f"{v:>12}" for v in variants))
    for r in results:
        chars = len(comparable_text(r.case.truth))
        cells = [pct(edit_distance(r.readings[v].text, r.case.truth), chars) if v in r.readings else "     - "
                 for v in variants]
        print(f"{(r.case.group + ' ' + r.case.name)[:44]:44} {chars:6d} " + " ".join(f"{c:>12}" for c in cells))
        if "full" in r.readings and r.readings["full"].notes:
            print(f"{'':44}   full: {r.readings['full'].notes}")

    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(r.case.group, []).append(r)
    table: dict[str, dict[str, float]] = {}
    print(f"\nCER per group (micro-averaged; NDNP: disagreement with the vendor's ALTO, not CER)")
    print(f"{'group':34} {'pages':>5} {'chars':>7} " + " ".join(f"{v:>12}" for v in variants))
    for group, members in groups.items():
        chars = sum(len(comparable_text(r.case.truth)) for r in members)
        row = {}
        for v in variants:
            if all(v in r.readings for r in members):
                row[v] = sum(edit_distance(r.readings[v].text, r.case.truth) for r in members) / chars
        table[group] = row
        print(f"{group:34} {len(members):5d} {chars:7d} "
              + " ".join(f"{100 * row[v]:11.2f}%" if v in row else f"{'-':>12}" for v in variants))

    print(f"\nWER, valid Vietnamese syllables, reading order and CPU (plain → full)")
    print(f"{'group':34} {'WER plain':>10} {'WER full':>9} {'syl plain':>10} {'syl full':>9} "
          f"{'order plain':>11} {'order full':>10} {'CPU plain':>10} {'CPU full':>9}")
    for group, members in groups.items():
        words = sum(len(comparable_words(r.case.truth)) for r in members)
        wers = [sum(word_edit_distance(r.readings[v].text, r.case.truth) for r in members) / max(1, words)
                for v in ("plain", "full")]
        syl = ["" for _ in range(2)]
        if members[0].case.vietnamese:
            shares = [[valid_syllable_share(r.readings[v].text) for r in members] for v in ("plain", "full")]
            syl = [f"{100 * sum(s) / len(s):9.1f}%" if s and None not in s else "-" for s in shares]
        order = ["", ""]
        if members[0].case.truth_lines:
            values = [[reading_order_agreement(r.readings[v].text, r.case.truth_lines) for r in members]
                      for v in ("plain", "full")]
            order = [f"{sum(x for x in vs if x is not None) / max(1, sum(x is not None for x in vs)):.3f}"
                     for vs in values]
        cpu = [sum(r.readings[v].cpu_s for r in members) / len(members) for v in ("plain", "full")]
        print(f"{group:34} {100 * wers[0]:9.2f}% {100 * wers[1]:8.2f}% {syl[0]:>10} {syl[1]:>9} "
              f"{order[0]:>11} {order[1]:>10} {cpu[0]:9.2f}s {cpu[1]:8.2f}s")
    return table


def check_targets(results: list[Result], table: dict[str, dict[str, float]]) -> None:
    hard = [r for r in results if r.case.group.startswith("hard ")]
    print("\nTargets of issue #9")

    def line(ok: bool, text: str) -> None:
        print(f"  [{'ok' if ok else 'NO'}] {text}")

    if hard:
        chars = sum(len(comparable_text(r.case.truth)) for r in hard)
        plain = sum(edit_distance(r.readings["plain"].text, r.case.truth) for r in hard) / chars
        full = sum(edit_distance(r.readings["full"].text, r.case.truth) for r in hard) / chars
        line(full <= 0.7 * plain, f"hard set micro-CER {100 * full:.2f}% ≤ 0.7 × plain {100 * plain:.2f}% "
             f"(ratio {full / plain:.2f})")
        for group, row in table.items():
            if group.startswith("hard ") or not group.startswith("NDNP"):
                if "plain" in row and "full" in row:
                    engine = (f" (the engine alone, in process: {100 * row['engine']:.2f}%)"
                              if "engine" in row else "")
                    line(row["full"] <= row["plain"] + 1e-9,
                         f"{group}: full {100 * row['full']:.2f}% not worse than plain {100 * row['plain']:.2f}%"
                         + engine)
    for group, bound in (("UNLV automatic layout", 0.04), ("UNLV with zones", 0.025), ("BnL French", 0.01)):
        if group in table and "full" in table[group]:
            line(table[group]["full"] <= bound, f"{group}: {100 * table[group]['full']:.2f}% ≤ {100 * bound:.1f}%")
    columns = [r for r in hard if r.case.truth_lines]
    if columns:
        values = [reading_order_agreement(r.readings["full"].text, r.case.truth_lines) for r in columns]
        found = [v for v in values if v is not None]
        line(bool(found) and min(found) >= 0.9,
             f"multi-column pages read in column order: agreement per page {', '.join(f'{v:.2f}' for v in found)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="test", choices=("test", "dev"))
    parser.add_argument("--pages-per-kind", type=int, default=3)
    parser.add_argument("--no-ablation", action="store_true", help="plain and full only")
    parser.add_argument("--no-ndnp", action="store_true", help="leave out the two 33-megapixel broadsheet pages")
    parser.add_argument("--no-real", action="store_true", help="the hard set only")
    parser.add_argument("--kinds", default="", help="comma-separated hard-set kinds (default: all)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(f"shared data not found at {SHARED}", file=sys.stderr)
        return 2
    if shutil.which("tesseract") is None:
        print("tesseract is not installed", file=sys.stderr)
        return 2
    os.environ["OMP_THREAD_LIMIT"] = "1"
    work = Path(tempfile.mkdtemp(prefix="ocr-quality-"))
    started = time.monotonic()
    try:
        cases = hard_cases(work, args.split, args.pages_per_kind)
        if args.kinds:
            wanted = {f"hard {k.strip()}" for k in args.kinds.split(",")}
            cases = [c for c in cases if c.group in wanted]
        if not args.no_real:
            cases += real_cases(not args.no_ndnp)
        stages = () if args.no_ablation else optional_stages()
        variants = ["plain", "engine", "full"] + [f"−{s}" for s in stages]
        jobs = [(c, v, work) for c in cases for v in variants if v in ("plain", "engine", "full") or c.ablate]
        jobs.sort(key=lambda j: -j[0].image.stat().st_size)  # big pages first: the pool ends together
        results = {c.group + "/" + c.name: Result(c) for c in cases}
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            for done, (key, variant, reading) in enumerate(pool.imap_unordered(run_job, jobs), start=1):
                results[key].readings[variant] = reading
                print(f"  [{done}/{len(jobs)}] {key} {variant} {reading.cpu_s:.1f} s", file=sys.stderr, flush=True)
        ordered = list(results.values())
        table = report(ordered, variants)
        check_targets(ordered, table)
        print(f"\n{len(cases)} pages, {len(jobs)} readings in {time.monotonic() - started:.0f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
