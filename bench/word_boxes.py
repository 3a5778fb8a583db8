"""Hits as word boxes, end to end: how many highlighted spans map to boxes of
OCR'd words, and what the mapping costs.

Pages of *Lục Vân Tiên* (``../shared/data/text/luc-van-tien.quocngu.txt``)
are rendered and degraded like scans (``digitize.synthetic``), ingested into
a throw-away catalogue, read by the real OCR use case, indexed (embedded
tantivy), then searched with the judged queries of ``bench/relevance`` and
with words drawn from the text, half of them typed without diacritics.

Figures: spans mapped to at least one word box (target ≥ 98 %); spans whose
covering words really contain the span's text (folded); latency of a full
result page through the catalogue (hits, snippets, facets and word boxes)
beside the bare engine query in the same run.

    .venv/bin/python bench/word_boxes.py [--pages 12] [--queries 60]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=12)
    ap.add_argument("--queries", type=int, default=60, help="random words drawn from the text, besides the judged set")
    args = ap.parse_args()

    from tqdm import tqdm

    from digitize.synthetic import render_document
    from library.access import Actor
    from library.container import build_platform
    from library.ingest.service import Upload
    from library.settings import Settings
    from search import SearchRequest, fold

    text = (SHARED / "text" / "luc-van-tien.quocngu.txt").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="bench-boxes-") as tmp:
        tmp = Path(tmp)
        p = build_platform(Settings.from_env({}, data_dir=tmp / "data"))
        pages = render_document(text, pages=args.pages, degradation="scan", seed=7)
        folder = tmp / "luc-van-tien"
        folder.mkdir()
        for n, page in enumerate(pages, 1):
            page.image.save(folder / f"p{n}.png", dpi=page.image.info.get("dpi", (300, 300)))
        item_id = p.ingest.ingest_item([Upload(folder, "luc-van-tien")], {"title": "Lục Vân Tiên"},
                                       actor=Actor.system("bench")).items[0].item_id
        for row in tqdm(p.catalogue.page_statuses(item_id), desc="OCR", unit="page"):
            p.reader.read(row.page_id)
        p.reader.finish_item(item_id)
        p.indexer.flush()

        judged = json.loads((REPO / "bench" / "relevance" / "judgments.json").read_text(encoding="utf-8"))
        queries = [q["query"] for q in judged["queries"]]
        rng = random.Random(11)
        words = [w.strip(".,;:!?\"'()“”") for w in " ".join(pg.text for pg in pages).split()]
        words = [w for w in words if len(w) >= 2]
        for _ in range(args.queries):
            w = rng.choice(words)
            queries.append(fold(w) if rng.random() < 0.5 else w)

        spans = boxed = faithful = 0
        full_ms, bare_ms = [], []
        for q in queries:
            t0 = time.perf_counter()
            p.indexer.engine.search(SearchRequest(query=q, per_page=20, facets=(), highlight=False, snippets=0,
                                                  access_levels=("public", "reading-room", "staff")))
            bare_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            res = p.search.search(q, per_page=20)
            full_ms.append((time.perf_counter() - t0) * 1000)
            for hit in res.hits:
                words_by_page = {w.sequence: w for w in p.catalogue.words(hit.page_id)}
                for sp in hit.spans:
                    spans += 1
                    if sp.boxes:
                        boxed += 1
                    covered = " ".join(w.text for w in words_by_page.values()
                                       if w.char_end > sp.start and w.char_start < sp.end)
                    if fold(sp.text).lower() in fold(covered).lower():
                        faithful += 1
        p.close()

    def pct(a, b):
        return f"{100 * a / b:.1f} %" if b else "n/a"

    def p95(xs):
        return sorted(xs)[max(0, int(round(0.95 * len(xs))) - 1)]

    print(f"\npages OCR'd: {len(pages)} (preset 'scan'), queries: {len(queries)}")
    print(f"highlighted spans:            {spans}")
    print(f"mapped to word boxes:         {boxed} ({pct(boxed, spans)})   target ≥ 98 %")
    print(f"boxes cover the span's text:  {faithful} ({pct(faithful, spans)})")
    print(f"{'':30}{'p50':>9}{'p95':>9}")
    print(f"{'bare engine query':30}{statistics.median(bare_ms):8.1f}ms{p95(bare_ms):8.1f}ms")
    print(f"{'full page with word boxes':30}{statistics.median(full_ms):8.1f}ms{p95(full_ms):8.1f}ms")


if __name__ == "__main__":
    main()
