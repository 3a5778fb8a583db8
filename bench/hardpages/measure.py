"""Plain tesseract's CER on a generated hard page set, per kind.

"Plain" is ``tesseract IMAGE - -l vie --psm 3`` with one thread and no
preprocessing. CER is ``digitize.quality.cer`` (edit distance between NFC
texts with white space folded, over the truth length); a kind's figure is
micro-averaged (sum of edits over sum of truth lengths).

    .venv/bin/python -m bench.hardpages OUT --split dev
    .venv/bin/python -m bench.hardpages.measure OUT [--jobs 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from digitize.quality import comparable_text, edit_distance

from . import HardPage, read_manifest


class TesseractMissingError(RuntimeError):
    """The tesseract program is not on PATH: install tesseract-ocr and tesseract-ocr-vie."""


def plain_tesseract(image_path: Path, *, languages: str = "vie", psm: int = 3,
                    timeout_s: float = 300.0) -> str:
    """The text plain tesseract reads from ``image_path`` (one thread, no preprocessing)."""
    program = shutil.which("tesseract")
    if program is None:
        raise TesseractMissingError("tesseract is not installed (Debian: tesseract-ocr)")
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    done = subprocess.run([program, str(image_path), "-", "-l", languages, "--psm", str(psm)],
                          capture_output=True, env=env, timeout=timeout_s, check=True)
    return done.stdout.decode("utf-8")


def page_errors(page: HardPage, reading: str) -> tuple[int, int]:
    """(edits, truth length) of one reading of ``page``."""
    return edit_distance(reading, page.text), len(comparable_text(page.text))


def measure(pages: list[HardPage]) -> dict[str, tuple[int, int, float]]:
    """Per kind: (edits, truth characters, seconds of tesseract), in page order."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for page in pages:
        start = time.perf_counter()
        reading = plain_tesseract(page.image_path, languages=page.languages)
        seconds = time.perf_counter() - start
        edits, length = page_errors(page, reading)
        t = totals[page.kind]
        t[0] += edits
        t[1] += length
        t[2] += seconds
        print(f"{page.image_path.name:28s} CER {edits / length:6.1%}  ({seconds:.0f} s)",
              file=sys.stderr, flush=True)
    return {k: (int(v[0]), int(v[1]), v[2]) for k, v in totals.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="a folder written by python -m bench.hardpages")
    args = parser.parse_args(argv)
    pages = read_manifest(args.out_dir / "manifest.json")
    totals = measure(pages)
    split = pages[0].split if pages else "?"
    print(f"| kind | pages | CER ({split}) |")
    print("|---|---|---|")
    all_e = all_n = 0
    for kind, (edits, length, _) in totals.items():
        n = sum(1 for p in pages if p.kind == kind)
        print(f"| {kind} | {n} | {edits / length:.1%} |")
        all_e += edits
        all_n += length
    if all_n:
        print(f"| all | {len(pages)} | {all_e / all_n:.1%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
