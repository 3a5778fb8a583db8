"""Relevance: nDCG@10 of each engine on a judged set of Vietnamese queries.

The corpus is built at run time, never copied into the project:

- *Lục Vân Tiên* (``../shared/data/text/luc-van-tien.quocngu.txt``, 1,061
  lines) cut into pages of ``LINES_PER_PAGE`` lines, keys
  ``luc-van-tien:p1`` … , each page rendered and degraded like a scan
  (``digitize.synthetic``, preset ``--ocr``, default ``poor``) and read back
  by the real OCR pipeline (``digitize.read_page``), so the indexed text
  carries real OCR errors; ``--simulate`` uses a seeded error simulator
  instead (a few tone marks lost, ``m`` read as ``rn``, ``c`` as ``e``);
- the project's demo texts (``library/demo_texts/*.txt``, ``# `` header lines
  and empty lines skipped), ``DEMO_LINES_PER_PAGE`` paragraphs a page, keys
  ``van-mieu-quoc-tu-giam:p1`` … , clean.

The judged set (``bench/relevance/judgments.json``) holds each query, the
category it tests (people, places, dynasties, phrases, without diacritics,
OCR-damaged), whether it is run fuzzy, and its relevant pages graded 2
(the name or phrase itself is on the page) or 1 (the page is about it, the
words appear apart). Grades were drafted from the clean text with
``--draft`` and then checked by hand.

    .venv/bin/python bench/relevance.py [--cluster URL | --start-opensearch] [--per-query]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import unicodedata
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
JUDGMENTS = REPO / "bench" / "relevance" / "judgments.json"
sys.path.insert(0, str(REPO))

from search import PageDoc, SearchRequest, open_engine  # noqa: E402
from search.vietnamese import fold, nfc, words  # noqa: E402

LINES_PER_PAGE = 20  # verse lines of Lục Vân Tiên per page (about 600 characters)
DEMO_LINES_PER_PAGE = 6  # paragraphs of a demo text per page (about 700 characters)
OCR_SEED = 1070


def _pages_of(lines: list[str], per_page: int) -> list[str]:
    pages = ["\n".join(lines[i:i + per_page]).strip() for i in range(0, len(lines), per_page)]
    return [p for p in pages if p]


def _ocr_damage(text: str, rng: random.Random) -> str:
    """Seeded OCR errors: 4% of words lose their tone marks, 1.5% of 'm' read as 'rn', 1% of 'c' as 'e'."""
    out = []
    for token in text.split(" "):
        r = rng.random()
        if r < 0.04:
            token = fold(token)
        elif r < 0.055 and "m" in token:
            token = token.replace("m", "rn", 1)
        elif r < 0.065 and "c" in token:
            token = token.replace("c", "e", 1)
        out.append(token)
    return " ".join(out)


def _ocr_page(args: tuple[str, str, int]) -> str:
    """Render one page of verse, degrade it like a scan, read it back with the OCR pipeline."""
    import tempfile as _tempfile

    from digitize import OcrOptions, read_page
    from digitize.synthetic import PRESETS, degrade, find_vietnamese_font, render_page

    text, preset, seed = args
    page = render_page(text.splitlines(), font_path=find_vietnamese_font(), dpi=300, page_height_in=9.5)
    image = degrade(page.image, seed=seed, **PRESETS[preset])
    with _tempfile.TemporaryDirectory() as work:
        return read_page(image, options=OcrOptions(languages="vie"), work_dir=Path(work)).text


def _ocr_pages(pages: list[str], preset: str) -> list[str]:
    """OCR'd text of every page, cached by content in .cache/ (the first run takes a minute or two)."""
    import hashlib
    from multiprocessing import Pool

    cache_file = REPO / ".cache" / f"bench-relevance-ocr-{preset}.json"
    cache = json.loads(cache_file.read_text(encoding="utf-8")) if cache_file.exists() else {}
    keys = [hashlib.sha256(f"{preset}\n{n}\n{p}".encode()).hexdigest() for n, p in enumerate(pages)]
    todo = [(n, p) for n, (k, p) in enumerate(zip(keys, pages)) if k not in cache]
    if todo:
        print(f"OCR of {len(todo)} rendered pages (preset {preset!r})…", file=sys.stderr)
        with Pool(2) as pool:
            for (n, _), text in zip(todo, pool.map(_ocr_page, [(p, preset, OCR_SEED + n) for n, p in todo])):
                cache[keys[n]] = text
        cache_file.parent.mkdir(exist_ok=True)
        cache_file.write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")
    return [cache[k] for k in keys]


def build_corpus(ocr_preset: str | None = "poor") -> tuple[dict[str, str], dict[str, str]]:
    """(key → page text as indexed, key → clean text) for every page."""
    indexed: dict[str, str] = {}
    clean: dict[str, str] = {}
    lvt = SHARED / "text" / "luc-van-tien.quocngu.txt"
    if not lvt.exists():
        raise SystemExit(f"{lvt} is missing: the relevance corpus is built from ../shared/data")
    rng = random.Random(OCR_SEED)
    verse = _pages_of(nfc(lvt.read_text(encoding="utf-8")).splitlines(), LINES_PER_PAGE)
    read = _ocr_pages(verse, ocr_preset) if ocr_preset else [_ocr_damage(p, rng) for p in verse]
    for n, (page, text) in enumerate(zip(verse, read), 1):
        key = f"luc-van-tien:p{n}"
        clean[key] = page
        indexed[key] = nfc(text)
    for path in sorted((REPO / "library" / "demo_texts").glob("*.txt")):
        lines = nfc(path.read_text(encoding="utf-8")).splitlines()
        while lines and lines[0].startswith("# "):
            lines.pop(0)
        while lines and not lines[0].strip():
            lines.pop(0)
        body = [line for line in lines if line.strip()]
        for n, page in enumerate(_pages_of(body, DEMO_LINES_PER_PAGE), 1):
            key = f"{path.stem}:p{n}"
            clean[key] = indexed[key] = page
    return indexed, clean


def documents(indexed: dict[str, str]) -> list[PageDoc]:
    docs = []
    items: dict[str, int] = {}
    for key, text in indexed.items():
        stem, page = key.split(":p")
        item = items.setdefault(stem, len(items) + 1)
        docs.append(PageDoc(page_id=key, item_id=item, page_number=int(page), text=text, title=stem,
                            access="public"))
    return docs


def ndcg_at_10(ranked: list[str], grades: dict[str, int]) -> float:
    dcg = sum((2 ** grades.get(k, 0) - 1) / math.log2(i + 2) for i, k in enumerate(ranked[:10]))
    ideal = sorted(grades.values(), reverse=True)[:10]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def evaluate(engine, judged: list[dict]) -> dict[str, float]:
    per_query: dict[str, float] = {}
    for q in judged:
        result = engine.search(SearchRequest(query=q["query"], per_page=10, facets=(), snippets=0,
                                             highlight=False, fuzzy=q.get("fuzzy", False), access_levels=("public",)))
        ranked = [h.id.split(":", 1)[1] for h in result.hits]
        per_query[q["query"] + (" (fuzzy)" if q.get("fuzzy") else "")] = ndcg_at_10(ranked, q["relevant"])
    return per_query


def draft(clean: dict[str, str], query: str, intent: str) -> dict[str, int]:
    """Grades from the clean text: 2 if the intended phrase is on the page, 1 if all its words are."""
    want = [w.exact for w in words(nfc(intent))]
    out: dict[str, int] = {}
    for key, text in clean.items():
        ws = [w.exact for w in words(text)]
        n = len(want)
        if any(ws[i:i + n] == want for i in range(len(ws) - n + 1)):
            out[key] = 2
        elif all(w in ws for w in want):
            out[key] = 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cluster", help="URL of an Elasticsearch 8 / OpenSearch 2 server")
    ap.add_argument("--start-opensearch", action="store_true", help="start a node with scripts/opensearch.sh")
    ap.add_argument("--per-query", action="store_true", help="print nDCG@10 of every query")
    ap.add_argument("--ocr", default="poor", choices=["clean", "scan", "low_dpi", "poor"],
                    help="how the verse pages are degraded before the real OCR reads them (default poor)")
    ap.add_argument("--simulate", action="store_true", help="simulate OCR errors instead of running OCR")
    ap.add_argument("--draft", nargs="*", metavar="QUERY=INTENT",
                    help="print drafted grades for queries (judged by their intent's words in the clean text)")
    args = ap.parse_args()

    indexed, clean = build_corpus(None if args.simulate else args.ocr)
    if not args.simulate:
        from digitize.quality import cer

        lvt = [k for k in indexed if k.startswith("luc-van-tien:")]
        print(f"OCR of the verse pages (preset {args.ocr!r}): CER "
              f"{sum(cer(indexed[k], clean[k]) * len(clean[k]) for k in lvt) / sum(len(clean[k]) for k in lvt):.2%}")
    if args.draft is not None:
        for spec in args.draft:
            query, _, intent = spec.partition("=")
            print(json.dumps({"query": query, "relevant": draft(clean, query, intent or query)}, ensure_ascii=False))
        return
    judged = json.loads(JUDGMENTS.read_text(encoding="utf-8"))["queries"]
    for q in judged:
        missing = set(q["relevant"]) - set(indexed)
        assert not missing, f"{q['query']}: unknown pages {missing}"
    docs = documents(indexed)
    print(f"corpus: {len(docs)} pages; judged set: {len(judged)} queries")

    work = Path(tempfile.mkdtemp(prefix="heritage-bench-relevance-"))
    proc = None
    results: dict[str, dict[str, float]] = {}
    try:
        with open_engine(work / "tantivy") as engine:
            engine.rebuild(docs)
            results["tantivy"] = evaluate(engine, judged)
        url = args.cluster
        if args.start_opensearch:
            from bench.search import start_opensearch  # type: ignore[import-not-found]

            proc, url = start_opensearch(work)
        if url:
            engine = open_engine(url, index="heritage-relevance", timeout_s=60)
            try:
                engine.rebuild(docs)
                engine.refresh()
                results[f"cluster ({engine.health().engine})"] = evaluate(engine, judged)
            finally:
                engine.drop()
                engine.close()
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)

    categories = defaultdict(list)
    for q in judged:
        categories[q["category"]].append(q["query"] + (" (fuzzy)" if q.get("fuzzy") else ""))
    names = list(results)
    print(f"{'category':<22}" + "".join(f"{n:>24}" for n in names))
    for cat, qs in categories.items():
        print(f"{cat:<22}" + "".join(f"{sum(results[n][q] for q in qs) / len(qs):>24.3f}" for n in names))
    print(f"{'nDCG@10 (all)':<22}" + "".join(f"{sum(r.values()) / len(r):>24.3f}" for r in results.values()))
    if len(names) == 2:
        a, b = (sum(results[n].values()) / len(judged) for n in names)
        print(f"difference embedded − cluster: {a - b:+.3f} (target: within 0.05)")
    if args.per_query:
        for q in results[names[0]]:
            print(f"  {unicodedata.normalize('NFC', q):<40}" + "".join(f"{results[n][q]:>8.3f}" for n in names))


if __name__ == "__main__":
    main()
