"""What a broad search answered from a sample gives up, on a data folder of ``bench/scale.py --work DIR``
(or ``--keep``): for two-word queries of common words (ranks 20–200 of the bench's vocabulary, as the
scale bench's search page asks), the sampled answer beside the exhaustive one (``exhaustive=True``) of the
same query on the same index:

- the share of the index searched;
- how many of the 20 hits shown are among the exhaustive top 20;
- the mean relevance score of the 20 shown over that of the best 20 (how much worse the shown pages match);
- the error of the estimated count, and the time of each answer.

    .venv/bin/python bench/broad_search.py /tmp/scale-1m/data --queries 40
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from bench.scale_packages import vocabulary
    from search.embedded import TantivyEngine
    from search.engine import SearchRequest

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path, help="a data folder (its index/ is read)")
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--seed", type=int, default=9)
    args = ap.parse_args()
    engine = TantivyEngine(args.data / "index")
    vocab, rng = vocabulary(), random.Random(args.seed)
    overlap, score_ratio, share, count_error, ms_sampled, ms_exact = [], [], [], [], [], []
    for _ in range(args.queries):
        q = f"{rng.choice(vocab[20:200])} {rng.choice(vocab[20:200])}"
        t0 = time.perf_counter()
        sampled = engine.search(SearchRequest(query=q, kinds=["page"], access_levels=("public",)))
        t1 = time.perf_counter()
        exact = engine.search(SearchRequest(query=q, kinds=["page"], access_levels=("public",), exhaustive=True))
        t2 = time.perf_counter()
        ms_sampled.append((t1 - t0) * 1000)
        ms_exact.append((t2 - t1) * 1000)
        if sampled.sample is None or not exact.hits:
            continue
        share.append(sampled.sample)
        overlap.append(len({h.id for h in sampled.hits} & {h.id for h in exact.hits}) / len(exact.hits))
        score_ratio.append(statistics.mean(h.score for h in sampled.hits) / statistics.mean(h.score for h in exact.hits))
        count_error.append(abs(sampled.total - exact.total) / exact.total)
    print(f"index of {engine.count():,} documents; {len(share)} of {args.queries} queries answered from a sample")
    if share:
        print(f"  share of the index searched, median        {statistics.median(share):.2f}")
        print(f"  hits shown among the exhaustive top 20       {statistics.mean(overlap):.2f} (mean)")
        print(f"  score of the 20 shown / of the best 20       {statistics.mean(score_ratio):.3f} (mean), "
              f"{min(score_ratio):.3f} (worst)")
        print(f"  count error                                  {100 * statistics.median(count_error):.1f} % "
              f"(median), {100 * max(count_error):.1f} % (worst)")
    print(f"  engine time, sampled / exhaustive (median)   {statistics.median(ms_sampled):.1f} / "
          f"{statistics.median(ms_exact):.1f} ms (in one process, the baseline is the exhaustive answer)")


if __name__ == "__main__":
    main()
