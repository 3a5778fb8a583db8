"""Per-page enhancement (``digitize.enhance``) against plain tesseract, per kind of page.

For every page, in one run:

- **plain**: ``tesseract IMAGE - -l LANG --psm 3`` on the file as it is
  (one thread, no preprocessing);
- **normalised**: tesseract on the grey page straightened and (low
  resolution scans) enlarged as the pipeline's deskew and rescale stages do
  it: the page the pipeline's enhance stage receives;
- **chosen**: tesseract on ``enhance(normalised page, plan)`` with the plan that
  ``measure_page`` + ``plan_enhancement`` chose for the page (when the plan is
  empty this is the grey page itself);
- **+stage / −stage**: the chosen plan with one stage forced on or off
  (``illumination``, ``denoise``, ``show-through``, ``binarise``,
  ``borders``, ``dewarp``); only the
  direction that differs from the chosen plan is read;
- **verified**: where the plan whitens show-through, the reading (with or
  without that stage) with the higher mean word confidence, as
  ``choose_by_confidence`` would pick it; it costs a second tesseract
  reading on those pages only ("2nd read" gives their share).

It prints CER per page and per group (micro-averaged: sum of edits over sum
of truth lengths), the plan chosen for each page with its reasons, the CPU
of measure + plan + enhance next to the CPU of the plain tesseract reading,
and how well tesseract's mean word confidence ranks the readings of a page
(share of pairs of readings whose confidence order agrees with their CER
order).

Pages:

- ``--split dev|test``: the hard Vietnamese set (``bench/hardpages``), one
  group per kind. Tune on ``dev`` only; ``test`` is for the report.
- ``--real``: the real pages in ``../shared/data/ocr`` (provenance in its
  README): the UNLV magazine pages (bilevel, ``eng``), BnL French blocks 1-2
  (``fra``) and, with ``--ndnp``, the two 33-megapixel NDNP broadsheet pages
  (their vendor ALTO is not a ground truth: the figure is disagreement with
  the vendor);
- ``--own N``: development only, never reported: N rendered *Lục Vân Tiên*
  pages spoiled here (gradient light, a shadow, show-through, specks).

Tesseract readings are cached by image content in ``--cache`` (default
``/tmp/enhance-bench-cache``), so a second run re-reads only changed images.

    .venv/bin/python bench/enhance.py --split dev [--real] [--ndnp] [--own 3]
        [--pages-per-kind 3] [--kinds shadow,bleed] [--jobs 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))

from digitize import alto_text, preprocess  # noqa: E402
from digitize.enhance import (  # noqa: E402
    EnhancementPlan,
    enhance,
    measure_page,
    measure_text_height_px,
    plan_enhancement,
)
from digitize.images import save_png  # noqa: E402
from digitize.quality import comparable_text, edit_distance  # noqa: E402

NDNP = SHARED / "ocr" / "ndnp-park-record-1935" / "sn85058233" / "17082901001" / "1935080201"
Image.MAX_IMAGE_PIXELS = 200_000_000
STAGE_FIELDS = {
    "illumination": "flatten_illumination",
    "denoise": "denoise",
    "show-through": "suppress_show_through",
    "binarise": "binarise",
    "borders": "remove_borders",
    "dewarp": "dewarp",
}


@dataclass
class Case:
    group: str
    name: str
    image: Path
    truth: str
    languages: str = "vie"
    reference: bool = False  # the truth is a vendor's reading


@dataclass
class Reading:
    text: str
    confidence: float  # mean word confidence, 0-100 (-1: no words)
    cpu_s: float


@dataclass
class Result:
    case: Case
    plan: EnhancementPlan | None = None
    condition: object = None
    enhance_cpu_s: float = 0.0
    readings: dict[str, Reading] = field(default_factory=dict)


# ------------------------------------------------------------------ pages
def hard_cases(folder: Path, split: str, pages_per_kind: int, kinds: set[str]) -> list[Case]:
    """The hard set's pages, generated into ``folder`` unless its manifest
    already lists this split with enough pages of each kind."""
    from bench.hardpages import KINDS, generate, read_manifest

    manifest = folder / "manifest.json"
    pages = read_manifest(manifest) if manifest.exists() else []
    enough = {(p.kind, p.index) for p in pages if p.split == split} >= {
        (k, i) for k in KINDS for i in range(pages_per_kind)}
    if not enough:
        pages = generate(folder, split=split, pages_per_kind=pages_per_kind)
    pages = [p for p in pages if p.split == split and p.index < pages_per_kind]
    return [Case(f"hard {p.kind}", f"{p.split}-{p.index}", Path(p.image_path), p.text, getattr(p, "languages", "vie"))
            for p in pages if not kinds or p.kind in kinds]


def real_cases(with_ndnp: bool) -> list[Case]:
    unlv = SHARED / "ocr" / "unlv-magazine"
    cases = [Case("UNLV bilevel", page, unlv / f"{page}.tif", (unlv / f"{page}.txt").read_text(encoding="utf-8"), "eng")
             for page in ("8087_054.3B", "8071_093.3B")]
    bnl = SHARED / "ocr" / "bnl-newspaper-blocks"
    cases += [Case("BnL French", f"block {b}", bnl / "images" / f"{b}.tif", alto_text(bnl / "gt" / f"{b}.xml"), "fra")
              for b in (1, 2)]
    if with_ndnp:
        cases += [Case("NDNP 1935 (vs vendor)", page, NDNP / f"{page}.jp2", alto_text(NDNP / f"{page}.xml"), "eng",
                       reference=True) for page in ("1289", "1292")]
    return cases


def own_cases(work: Path, pages: int) -> list[Case]:
    """Development pages (never reported): rendered text under four spoils."""
    from digitize.synthetic import render_document

    text = (SHARED / "text" / "luc-van-tien.quocngu.txt").read_text(encoding="utf-8")
    verses = [line for line in text.splitlines() if line.strip()]
    paragraphs = "\n".join(" ".join(verses[i : i + 6]) for i in range(0, len(verses), 6))
    rendered = render_document(paragraphs, pages=pages + 1, font_size_pt=11, line_spacing=1.3)
    folder = work / "own"
    folder.mkdir(parents=True, exist_ok=True)
    cases = []
    for index in range(pages):
        page, back = rendered[index], rendered[index + 1]
        clean = np.asarray(page.image, np.float32) / 255.0
        rng = np.random.default_rng(index)
        spoils = {
            "gradient": own_finish(clean * 235 * own_light(clean.shape, rng, smooth=True), rng),
            "shadow": own_finish(clean * 230 * own_light(clean.shape, rng, smooth=False), rng),
            "bleed": own_finish(215 * (0.25 + 0.75 * clean) * (1 - 0.35 * (1 - np.roll(np.asarray(
                back.image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).filter(ImageFilter.GaussianBlur(1.5)),
                np.float32) / 255.0, int(rng.integers(5, 40)), axis=0))), rng, noise=5.0),
            "specks": own_finish(np.where(rng.random(clean.shape) < 0.01, rng.integers(0, 2, clean.shape) * 255.0,
                                          15 + clean * 225), rng, noise=25.0, blur=0.0, quality=70),
        }
        for kind, image in spoils.items():
            path = folder / f"{kind}-{index}.png"
            image.save(path, dpi=(300, 300))
            cases.append(Case(f"own {kind}", str(index), path, page.text))
    return cases


def own_light(shape: tuple[int, int], rng: np.random.Generator, *, smooth: bool) -> np.ndarray:
    height, width = shape
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    if smooth:
        angle = rng.uniform(0, 2 * np.pi)
        t = np.cos(angle) * xx / width + np.sin(angle) * yy / height
        t = (t - t.min()) / (t.max() - t.min())
        return 1 - 0.65 * t**1.5
    d = (xx / width * 0.8 + yy / height * 0.4) / 1.2 - rng.uniform(0.3, 0.7)
    return 1 - 0.7 / (1 + np.exp(-d / 0.03))


def own_finish(values: np.ndarray, rng, *, noise: float = 6.0, blur: float = 0.7, quality: int = 85) -> Image.Image:
    image = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    noisy = np.asarray(image, np.float32) + rng.normal(0, noise, values.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("L")


# ---------------------------------------------------------------- reading
def tesseract_reading(image: Path, languages: str, cache: Path) -> Reading:
    """``tesseract IMAGE base -l LANG --psm 3 txt tsv``, cached by content."""
    digest = hashlib.sha1(image.read_bytes() + f"|{languages}|3".encode()).hexdigest()
    cached = cache / f"{digest}.json"
    if cached.exists():
        return Reading(**json.loads(cached.read_text(encoding="utf-8")))
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    with tempfile.TemporaryDirectory(prefix="enh-") as tmp:
        source = image
        if image.suffix.lower() == ".jp2":  # leptonica may not read JPEG 2000
            source = Path(tmp) / "page.png"
            Image.open(image).save(source, compress_level=1)
        base = Path(tmp) / "out"
        before = os.times()
        subprocess.run(["tesseract", str(source), str(base), "-l", languages, "--psm", "3", "txt", "tsv"],
                       capture_output=True, text=True, env=env, timeout=3600, check=True)
        after = os.times()
        text = base.with_suffix(".txt").read_text(encoding="utf-8")
        confidence = mean_word_confidence(base.with_suffix(".tsv").read_text(encoding="utf-8"))
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    reading = Reading(text, confidence, cpu)
    cached.write_text(json.dumps(dataclasses.asdict(reading)), encoding="utf-8")
    return reading


def mean_word_confidence(tsv: str) -> float:
    """Mean confidence (0-100) of the words of a tesseract TSV, -1 without words."""
    values = []
    for line in tsv.splitlines()[1:]:
        cells = line.split("\t")
        if len(cells) >= 12 and cells[0] == "5" and cells[11].strip():
            values.append(float(cells[10]))
    return sum(values) / len(values) if values else -1.0


def normalised(gray: Image.Image, dpi: float | None) -> tuple[Image.Image, float | None, float | None]:
    """The page as ``digitize.pipeline`` hands it to its enhance stage:
    straightened (deskew) and, when it is a low-resolution scan, enlarged
    (rescale). Returns ``(image, text height px, dpi)`` of that image. The
    text height is ``enhance.measure_text_height_px`` (on a flattened copy;
    the pipeline's own estimate fails on pages lying on a table)."""
    small, x_scale, y_scale = preprocess.analysis_copy(gray)
    skew = preprocess.estimate_skew_deg(small, x_scale=x_scale, y_scale=y_scale)
    if abs(skew) > preprocess.MIN_SKEW_CORRECTION_DEG:
        gray = preprocess.rotate_page(gray, -skew, fill=preprocess.paper_level(small))
    text_height_px = measure_text_height_px(gray)
    factor = preprocess.upscale_factor(dpi=dpi, text_height_px=text_height_px, target_dpi=300)
    if factor > 1.0:
        gray = preprocess.rescale_page(gray, factor)
        text_height_px = text_height_px * factor if text_height_px else None
        dpi = dpi * factor if dpi else None
    return gray, text_height_px, dpi


def page_job(job: tuple[Case, Path, Path, bool]) -> Result:
    """Measure, plan and enhance one page; read every variant."""
    case, work, cache, ablate = job
    result = Result(case)
    result.readings["plain"] = tesseract_reading(case.image, case.languages, cache)
    with Image.open(case.image) as opened:
        source = opened.copy()
    gray, text_height_px, dpi = normalised(source if source.mode in ("1", "L") else source.convert("L"),
                                           preprocess.plausible_dpi(source.info.get("dpi")))
    straight_path = save_png(gray, work / f"{os.getpid()}-normalised.png", dpi=dpi)
    result.readings["normalised"] = tesseract_reading(straight_path, case.languages, cache)
    straight_path.unlink()
    started = time.process_time()
    condition = measure_page(gray, text_height_px=text_height_px)
    plan = plan_enhancement(condition)
    enhanced = enhance(gray, plan, text_height_px=text_height_px)
    result.enhance_cpu_s = time.process_time() - started
    result.plan, result.condition = plan, condition
    variants = {"chosen": plan}
    for stage, name in STAGE_FIELDS.items() if ablate or plan.suppress_show_through else ():
        if not ablate and stage != "show-through":
            continue
        on = getattr(plan, name)
        variants[f"{'−' if on else '+'}{stage}"] = dataclasses.replace(plan, **{name: not on})
    folder = Path(tempfile.mkdtemp(prefix="variant-", dir=work))
    try:
        for variant, variant_plan in variants.items():
            image = enhanced if variant == "chosen" else enhance(gray, variant_plan, text_height_px=text_height_px)
            path = folder / f"{variant.strip('+−')}-{variant[0] == '+'}.png"
            save_png(image, path, dpi=dpi)
            result.readings[variant] = tesseract_reading(path, case.languages, cache)
            path.unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    chosen = result.readings["chosen"]
    if plan.suppress_show_through:  # checked by a second reading: the stage is all or nothing
        without = result.readings["−show-through"]
        result.readings["verified"] = chosen if chosen.confidence >= without.confidence else without
    else:
        result.readings["verified"] = chosen
    return result


# ---------------------------------------------------------------- figures
def stage_cell(result: Result, stage: str) -> str:
    """The ±stage variant's CER for a page, sign showing the direction."""
    for variant in (f"+{stage}", f"−{stage}"):
        if variant in result.readings:
            return variant[0] + pct(edits(result, variant), chars(result))
    return "-"


def edits(result: Result, variant: str) -> int:
    return edit_distance(result.readings[variant].text, result.case.truth)


def chars(result: Result) -> int:
    return len(comparable_text(result.case.truth))


def pct(numerator: float, denominator: float) -> str:
    return f"{100 * numerator / denominator:.2f}" if denominator else "-"


def report(results: list[Result]) -> None:
    stages = list(STAGE_FIELDS)
    head = f"{'page':30} {'chars':>6} {'plain':>7} {'normal':>7} {'chosen':>7} {'verif':>7} " + " ".join(f"{s[:11]:>12}" for s in stages)
    print("\nCER % per page (±stage: that stage forced on (+) or off (−) from the chosen plan)")
    print(head)
    for r in results:
        print(f"{(r.case.group + ' ' + r.case.name)[:30]:30} {chars(r):6d} {pct(edits(r, 'plain'), chars(r)):>7} "
              f"{pct(edits(r, 'normalised'), chars(r)):>7} "
              f"{pct(edits(r, 'chosen'), chars(r)):>7} {pct(edits(r, 'verified'), chars(r)):>7} "
              + " ".join(f"{stage_cell(r, s):>12}" for s in stages))
        why = "; ".join(r.plan.reasons) if r.plan and r.plan.reasons else "nothing to do"
        c = r.condition
        print(f"{'':32}plan: {why}")
        print(f"{'':32}measured: light {c.background_unevenness:.2f}, contrast {c.contrast:.2f}, noise {c.noise:.3f} "
              f"(σ {c.noise_sigma:.1f}), specks {c.speckle:.4f}, show-through {c.bleed_through:.3f}, "
              f"border {c.dark_border:.2f}, text {c.text_height_px} px; measure+enhance {1000 * r.enhance_cpu_s:.0f} ms "
              f"vs tesseract {r.readings['plain'].cpu_s:.1f} s")
        print(f"{'':32}confidence: " + ", ".join(f"{k} {v.confidence:.1f}" for k, v in r.readings.items()
                                                if k != "verified"))

    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(r.case.group, []).append(r)
    print("\nCER % per group (micro-averaged); ±stage = every page of the group with that stage flipped")
    print(f"{'group':26} {'pages':>5} {'plain':>7} {'normal':>7} {'chosen':>7} {'verif':>7} "
          + " ".join(f"{'+' + s[:10]:>12} {'−' + s[:10]:>12}" for s in stages) + f" {'enh ms':>7} {'tess s':>7} {'2nd read':>8}")
    for group, members in groups.items():
        total = sum(chars(r) for r in members)

        def group_cer(variant_of) -> str:
            if any(variant_of(r) not in r.readings for r in members):
                return "-"
            return pct(sum(edits(r, variant_of(r)) for r in members), total)

        cells = []
        for stage in stages:
            name = STAGE_FIELDS[stage]
            # "+stage": stage on for every page (chosen where already on); "−stage": off for every page
            cells.append(group_cer(lambda r, s=stage, n=name: "chosen" if getattr(r.plan, n) else f"+{s}"))
            cells.append(group_cer(lambda r, s=stage, n=name: f"−{s}" if getattr(r.plan, n) else "chosen"))
        enhance_ms = 1000 * sum(r.enhance_cpu_s for r in members) / len(members)
        tess_s = sum(r.readings["plain"].cpu_s for r in members) / len(members)
        second = sum(1 for r in members if r.plan.suppress_show_through) / len(members)
        print(f"{group[:26]:26} {len(members):5d} {group_cer(lambda r: 'plain'):>7} "
              f"{group_cer(lambda r: 'normalised'):>7} {group_cer(lambda r: 'chosen'):>7} "
              f"{group_cer(lambda r: 'verified'):>7} " + " ".join(f"{c:>12}" for c in cells)
              + f" {enhance_ms:7.0f} {tess_s:7.1f} {100 * second:7.0f}%")

    agree = total_pairs = 0
    for r in results:
        readings = [(k, v) for k, v in r.readings.items() if k != "verified"]
        for i in range(len(readings)):
            for j in range(i + 1, len(readings)):
                (_, a), (_, b) = readings[i], readings[j]
                ea, eb = edit_distance(a.text, r.case.truth), edit_distance(b.text, r.case.truth)
                if ea == eb or a.confidence == b.confidence:
                    continue
                total_pairs += 1
                agree += (ea < eb) == (a.confidence > b.confidence)
    if total_pairs:
        print(f"\nConfidence ranks readings of the same page like CER in {agree}/{total_pairs} pairs "
              f"({100 * agree / total_pairs:.0f} %)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "test", "none"), default="dev")
    parser.add_argument("--pages-per-kind", type=int, default=3)
    parser.add_argument("--kinds", default="", help="comma-separated hard-set kinds (default: all)")
    parser.add_argument("--real", action="store_true", help="also the real pages of ../shared/data/ocr")
    parser.add_argument("--ndnp", action="store_true", help="with --real: the two 33-megapixel NDNP pages too")
    parser.add_argument("--own", type=int, default=0, help="development pages spoiled here (never reported)")
    parser.add_argument("--pages-dir", type=Path, default=None,
                        help="where the hard set is generated (kept and reused; default: a temporary folder)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "enhance-bench-cache")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--no-ablation", action="store_true", help="plain, normalised and chosen only")
    args = parser.parse_args(argv)
    if shutil.which("tesseract") is None:
        print("tesseract is not installed", file=sys.stderr)
        return 2
    os.environ["OMP_THREAD_LIMIT"] = "1"
    args.cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="enhance-bench-"))
    started = time.monotonic()
    try:
        cases: list[Case] = []
        if args.split != "none":
            kinds = {k.strip() for k in args.kinds.split(",") if k.strip()}
            folder = args.pages_dir or work / f"hard-{args.split}"
            cases += hard_cases(folder, args.split, args.pages_per_kind, kinds)
        if args.real:
            cases += real_cases(args.ndnp)
        if args.own:
            cases += own_cases(work, args.own)
        jobs = [(case, work, args.cache, not args.no_ablation) for case in cases]
        results: list[Result] = []
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            for done, result in enumerate(pool.imap(page_job, jobs), start=1):
                results.append(result)
                print(f"  [{done}/{len(jobs)}] {result.case.group} {result.case.name}", file=sys.stderr, flush=True)
        report(results)
        print(f"\n{len(cases)} pages in {time.monotonic() - started:.0f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
