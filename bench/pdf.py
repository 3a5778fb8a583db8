"""Searchable PDF of an item: seconds per page for the export, beside
tesseract's own PDF renderer as a baseline, and whether the text reads back.

Pages of *Lục Vân Tiên* (``../shared/data/text/luc-van-tien.quocngu.txt``)
are rendered and degraded like scans (``digitize.synthetic``, preset
``scan``), ingested into a throw-away catalogue and read by the real OCR use
case; then the item's PDF is exported (``library.discovery.exports``, the same use case
as the portal's download and ``heritage export``), cold and from the cache.

Baseline, on the same page images: ``tesseract page vie pdf`` (OCR and its
PDF) and ``tesseract page vie txt`` (OCR alone); their difference is what
tesseract's PDF renderer costs per page. The export needs no OCR (the words
are in the catalogue), so it compares with that difference.

Read-back: the words ``pdftotext`` finds on each page against the page's
text in the catalogue (ours), and against tesseract's own txt (its PDF).

    .venv/bin/python bench/pdf.py [--pages 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"


def pdftotext(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", *pages, str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=8)
    args = ap.parse_args()

    from tqdm import tqdm

    from digitize.synthetic import render_document
    from library.access import Actor
    from library.container import build_platform
    from library.ingest.service import Upload
    from library.settings import Settings

    text = (SHARED / "text" / "luc-van-tien.quocngu.txt").read_text(encoding="utf-8")
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as tmp:
        tmp = Path(tmp)
        p = build_platform(Settings.from_env({}, data_dir=tmp / "data"))
        pages = render_document(text, pages=args.pages, degradation="scan", seed=7)
        folder = tmp / "luc-van-tien"
        folder.mkdir()
        sources = []
        for n, page in enumerate(pages, 1):
            sources.append(folder / f"p{n:03d}.png")
            page.image.save(sources[-1], dpi=page.image.info.get("dpi", (300, 300)))
        item_id = p.ingest.ingest_item([Upload(folder, "luc-van-tien")], {"title": "Lục Vân Tiên"},
                                       actor=Actor.system("bench")).items[0].item_id
        for row in tqdm(p.catalogue.page_statuses(item_id), desc="OCR", unit="page"):
            p.reader.read(row.page_id)
        p.reader.finish_item(item_id)
        texts = [p.catalogue.page(r.page_id).text or "" for r in p.catalogue.page_statuses(item_id)]

        t0 = time.perf_counter()
        made = p.exports.export(item_id, "pdf")
        cold_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        p.exports.export(item_id, "pdf")
        warm_s = time.perf_counter() - t0
        ours_exact = sum(pdftotext(made.path, n).split() == texts[n - 1].split() for n in range(1, len(texts) + 1))

        pdf_s, txt_s, tess_bytes, tess_exact = [], [], 0, 0
        for src in tqdm(sources, desc="tesseract pdf/txt", unit="page"):
            base = tmp / src.stem
            t0 = time.perf_counter()
            subprocess.run(["tesseract", str(src), str(base), "-l", "vie", "pdf"], env=env, check=True,
                           capture_output=True)
            pdf_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            subprocess.run(["tesseract", str(src), str(base), "-l", "vie", "txt"], env=env, check=True,
                           capture_output=True)
            txt_s.append(time.perf_counter() - t0)
            tess_bytes += base.with_suffix(".pdf").stat().st_size
            own = base.with_suffix(".txt").read_text(encoding="utf-8")
            tess_exact += pdftotext(base.with_suffix(".pdf")).split() == own.split()
        p.close()

    n = len(pages)
    render_s = statistics.mean(a - b for a, b in zip(pdf_s, txt_s))
    print(f"\npages: {n} (preset 'scan', {pages[0].image.size[0]}×{pages[0].image.size[1]} px, 300 dpi)")
    print(f"{'':44}{'s/page':>9}{'KB/page':>10}{'text reads back':>17}")
    print(f"{'export: item PDF (cold, from the catalogue)':44}{cold_s / n:9.3f}{made.size_bytes / n / 1024:10.0f}"
          f"{ours_exact:>12}/{n} pages")
    print(f"{'export: item PDF (cached)':44}{warm_s / n:9.4f}")
    print(f"{'tesseract page vie pdf (OCR + PDF)':44}{statistics.mean(pdf_s):9.3f}{tess_bytes / n / 1024:10.0f}"
          f"{tess_exact:>12}/{n} pages")
    print(f"{'tesseract page vie txt (OCR alone)':44}{statistics.mean(txt_s):9.3f}")
    print(f"{'tesseract PDF renderer (pdf − txt)':44}{render_s:9.3f}")


if __name__ == "__main__":
    main()
