"""What the viewer pyramid costs and keeps, per JPEG quality: bytes against the
original's, PSNR of the full level against the image it was made from, and the
CER of reading the full level back with tesseract against reading the source.

    OMP_THREAD_LIMIT=1 nice .venv/bin/python bench/image_derivatives.py [--ocr]

Pages: the real ones under ../shared/data/ocr (UNLV magazine, BnL newspaper
blocks, the NDNP 1935 broadsheet JPEG 2000s; read in place, never copied) and
two generated pages (grey book page, colour magazine page). The budget is
1.5x the original's bytes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import sample_pages  # noqa: E402
from library.reading import pyramid  # noqa: E402

DATA = sample_pages.DATA
QUALITIES = (70, 75, 80, 90)
BUDGET = 1.5
Image.MAX_IMAGE_PIXELS = None


def real_pages() -> list[tuple[str, Path]]:
    ndnp = sorted((DATA / "ndnp-park-record-1935").rglob("*.jp2"))
    return ([("unlv magazine (1-bit)", p) for p in sorted((DATA / "unlv-magazine").glob("*.tif"))]
            + [("bnl newspaper block (grey)", DATA / "bnl-newspaper-blocks/images/0.tif")]
            + [("ndnp broadsheet jp2", p) for p in ndnp])


def generated_pages(folder: Path) -> list[tuple[str, Path]]:
    """A grey book page (JPEG, as cameras deliver) and a colour magazine page (JPEG)."""
    book, mag = sample_pages.generated_pages(folder, noise_sd=6, red_box=(slice(200, 700), slice(300, 1400)))
    return [("book page grey (generated)", book), ("magazine colour (generated)", mag)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(float) - b.astype(float)) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)


def tesseract_text(image: Image.Image, work: Path, languages: str) -> str:
    path = work / "ocr.png"
    image.save(path, dpi=(300, 300))  # the same declared resolution for the source and its pyramid
    out = subprocess.run(["tesseract", str(path), "-", "-l", languages, "--psm", "3"], capture_output=True,
                         text=True, check=True)
    return " ".join(out.stdout.split())


def cer(truth: str, got: str) -> float:
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(truth, got) / max(1, len(truth))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ocr", action="store_true", help="also read the full level back (slow on the broadsheets)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pages = real_pages() + generated_pages(work)
        print(f"{'page':32} {'orig KB':>8} {'q':>4} {'pyr KB':>8} {'ratio':>6} {'PSNR dB':>8} {'CER src→pyr':>12}")
        totals: dict = {}
        for label, path in pages:
            with Image.open(path) as im:
                im.load()
                # the platform pyramids the normalised page: one channel for read pages; colour kept for
                # images-only pages
                src = im if im.mode in ("1", "L", "RGB") else im.convert("RGB")
                src = src.copy()
            orig = path.stat().st_size
            qualities = ("lossless",) if pyramid.is_bilevel(src) else QUALITIES
            langs = "vie" if "generated" in label else "deu+fra" if "bnl" in label else "eng"
            base_text = tesseract_text(src, work, langs) if args.ocr and src.width * src.height < 12e6 else None
            for q in qualities:
                out = pyramid.write_pyramid(src, work / "p.tif", quality=75 if q == "lossless" else q)
                size = out.stat().st_size
                back = pyramid.full_image(out)
                ref = np.asarray(src.convert(back.mode))
                p = psnr(ref, np.asarray(back))
                c = f"{cer(base_text, tesseract_text(back, work, langs)):.4f}" if base_text is not None else "-"
                for key in ([q] if q != "lossless" else QUALITIES):
                    totals.setdefault(key, [0, 0])
                    totals[key][0] += orig
                    totals[key][1] += size
                print(f"{label[:32]:32} {orig / 1024:8.0f} {q!s:>4} {size / 1024:8.0f} {size / orig:6.2f} "
                      f"{p:8.2f} {c:>12}")
        print("\nthe whole mix (bilevel pages lossless at every quality):")
        for q, (o, d) in totals.items():
            print(f"  quality {q}: {d / 1024 / 1024:.1f} MB for {o / 1024 / 1024:.1f} MB of originals = "
                  f"{d / o:.2f}x (budget {BUDGET}x: {'within' if d / o <= BUDGET else 'OVER'})")


if __name__ == "__main__":
    main()
