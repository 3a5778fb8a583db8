"""Write a hard page set: ``python -m bench.hardpages OUT_DIR --split dev|test
[--pages-per-kind N] [--kinds a,b]``. Writes the images, a ``.gt.txt`` truth
file per page and ``manifest.json`` into OUT_DIR, and prints one line per page."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import KINDS, SPLITS, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hardpages", description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--split", choices=SPLITS, required=True,
                        help="dev: for tuning; test: for reporting only")
    parser.add_argument("--pages-per-kind", type=int, default=3)
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"comma-separated subset of {','.join(KINDS)}")
    args = parser.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"unknown kinds: {', '.join(unknown)}")
    start = time.perf_counter()
    pages = generate(args.out_dir, split=args.split, pages_per_kind=args.pages_per_kind, kinds=kinds)
    for page in pages:
        print(f"{page.image_path}\t{page.kind}\t{page.dpi} dpi\t{len(page.lines)} lines")
    print(f"{len(pages)} pages in {time.perf_counter() - start:.1f} s -> {args.out_dir / 'manifest.json'}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
