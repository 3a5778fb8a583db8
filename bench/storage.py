"""What the store keeps per page after ingest and reading, against the
original's bytes (the budget is 1.5x over the mix).

    OMP_THREAD_LIMIT=1 nice .venv/bin/python bench/storage.py [--root DIR] [--only N]

``--root`` runs the platform code of another tree (e.g. HEAD unpacked with
``git archive HEAD | tar -x -C /tmp/head``) to measure what it kept: the same
pages go through the real path (ingest, then ``platform.reader.read``) into an
empty platform in a temporary folder. Pages: two UNLV magazine pages (1-bit
G4 TIFF), a BnL newspaper block (grey TIFF), one NDNP 1935 broadsheet page
(JPEG 2000, 4552x7218, read in place), and two generated pages (a grey book
page and a colour magazine page, JPEG).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sample_pages import DATA, generated_pages  # noqa: E402  (beside this script: no platform code)
BUDGET = 1.5


def pages(folder: Path) -> list[tuple[str, Path, str]]:
    """``(label, path, tesseract languages)`` of the mix; the generated pages are written to ``folder``."""
    book, mag = generated_pages(folder, noise_sd=3, red_box=(slice(200, 500), slice(1300, 1700)))
    unlv = sorted((DATA / "unlv-magazine").glob("*.tif"))
    return ([(f"unlv magazine {p.stem}", p, "eng") for p in unlv]
            + [("bnl newspaper block 0", DATA / "bnl-newspaper-blocks/images/0.tif", "deu+fra")]
            + [("ndnp broadsheet 1289.jp2", DATA / "ndnp-park-record-1935/sn85058233/17082901001/1935080201/1289.jp2",
                "eng")]
            + [("book page grey (generated)", book, "vie"), ("magazine colour (generated)", mag, "vie")])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1],
                    help="the tree whose platform code is measured (default: this one)")
    ap.add_argument("--only", type=int, default=0, help="the first N pages only")
    args = ap.parse_args()
    sys.path.insert(0, str(args.root.resolve()))
    from library.access import Actor
    from library.container import build_platform
    from library.ingest.service import Upload
    from library.settings import Settings

    print(f"code: {args.root}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mix = pages(tmp)[: args.only or None]
        platform = build_platform(Settings.from_env({}, data_dir=tmp / "data"))
        try:
            print(f"{'page':30} {'orig KB':>8} {'kept KB':>8} {'ratio':>6}  {'read s':>6}  kept files (KB)")
            total_o = total_k = 0
            for label, path, langs in mix:
                report = platform.ingest.ingest_item([Upload(path, path.name)], {"title": label, "language": langs},
                                                     actor=Actor.system("bench"))
                assert report.ok, report.as_dict()
                item_id = report.items[0].item_id
                row = platform.catalogue.page_statuses(item_id)[0]
                started = time.monotonic()
                outcome = platform.reader.read(row.page_id)
                seconds = time.monotonic() - started
                folder = platform.store.resolve(f"derivatives/items/{item_id}/pages/00001")
                files = {f.name: f.stat().st_size for f in folder.iterdir() if f.is_file()}
                kept, orig = sum(files.values()), path.stat().st_size
                total_o, total_k = total_o + orig, total_k + kept
                detail = ", ".join(f"{n} {b / 1024:.0f}" for n, b in sorted(files.items()))
                print(f"{label[:30]:30} {orig / 1024:8.0f} {kept / 1024:8.0f} {kept / orig:6.2f}  {seconds:6.1f}  "
                      f"{detail} [{outcome.value}]", flush=True)
            print(f"{'all':30} {total_o / 1024:8.0f} {total_k / 1024:8.0f} {total_k / total_o:6.2f}  "
                  f"(budget {BUDGET}x: {'within' if total_k / total_o <= BUDGET else 'OVER'})")
        finally:
            platform.close()
            shutil.rmtree(tmp / "data", ignore_errors=True)


if __name__ == "__main__":
    main()
