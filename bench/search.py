"""Search speed: indexing pages/s, and latency of a full result page against a bare query.

Indexes N synthetic Vietnamese pages of about 2 KB (default 100,000), made
from a seeded list of common syllables (Zipf-like frequencies, a few named
places, 20% of pages typed without diacritics as OCR of old print often is),
with metadata spread over collections, types, languages, creators and dates
(some approximate). Then, per engine, in the same run, over the same queries
(single syllables, two-syllable words, names, phrases, without diacritics):

- bare: top 20 ids and the total, nothing else;
- full: top 20, total, six facets, highlight offsets and snippets (what a
  result page needs; word boxes are the catalogue's lookup on the offsets).

Engines: tantivy (in a temporary folder) and OpenSearch when reachable
(``--cluster URL``, or ``--start-opensearch`` to start a node with
scripts/opensearch.sh). Targets: embedded p95 ≤ 50 ms at 100k pages, full ≤ 2×
bare, embedded indexing ≥ 2,000 pages/s, cluster p95 ≤ 100 ms.

    .venv/bin/python bench/search.py [--pages 100000] [--cluster URL | --start-opensearch] [--rounds 5]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from search import PageDoc, SearchRequest, open_engine  # noqa: E402
from search.vietnamese import fold  # noqa: E402

# Common Vietnamese syllables, written for this benchmark (no external word list).
SYLLABLES = """
và của có là không những người một trong được cho này đã với các năm đến ra ta thì khi làm như
lại nhà nước đi về nói đó ở sẽ còn mà cũng đều theo hay vì sau trên từ nên nhiều ngày thành
phố chợ làng đình chùa đền miếu sông hồ núi đường cầu cửa sân vườn cây hoa lá trời đất
vua quan dân học trò thầy sách bia chữ văn thơ báo tin hội lễ tết xuân hạ thu đông
mới cũ lớn nhỏ cao xa gần đẹp xưa nay trước giữa bên ngoài trong dưới cùng đầu cuối
tiền hàng buôn bán phiên họp việc nghề gạo muối vải lụa gỗ đá gạch ngói sơn son vàng bạc
binh lính giặc thắng đánh giữ thành lũy kinh đô triều đại họ tên ông bà cha mẹ con cháu
nghĩa nhân tình lòng trung hiếu tiết thanh bạch hiền tài khoa thi đỗ tiến sĩ trạng nguyên
mùa mưa nắng gió bão lụt hạn cấy gặt trâu bò gà vịt cá tôm thuyền xe ngựa voi
""".split()
NAMES = ["Văn Miếu", "Quốc Tử Giám", "Hoàn Kiếm", "Thăng Long", "Ngọc Sơn", "Hàng Đào", "Đồng Xuân",
         "Chu Văn An", "Lý Thánh Tông", "Lê Lợi", "Hoàng Diệu", "Khuê Văn Các", "Tháp Rùa", "Hà Nội"]
COLLECTIONS = ["Sách Hán Nôm", "Báo Hà Nội xưa", "Tạp chí văn hóa", "Địa chí", "Ảnh tư liệu"]
TYPES = ["book", "newspaper", "magazine"]
QUERIES = ["Văn Miếu", "Van Mieu", "Quốc Tử Giám", "quoc tu giam", "đình", "dinh", "chợ", "tiến sĩ", "tien si",
           '"Hoàn Kiếm"', '"ho hoan kiem"', "Thăng Long", "Chu Văn An", "làng", "thuyền buôn", "hội xuân",
           "trạng nguyên", "Hàng Đào", "nhà Lý", "Lê Lợi", "khoa thi", "mùa gặt", "vua", "báo tin"]


def make_pages(n: int, seed: int = 20240611) -> list[PageDoc]:
    rng = random.Random(seed)
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(SYLLABLES))]
    cum = list(itertools.accumulate(weights))
    creators = [f"{rng.choice(['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng'])} {rng.choice(['Văn', 'Thị', 'Đình'])} "
                f"{rng.choice(['An', 'Bình', 'Cường', 'Dũng', 'Hạnh', 'Lan', 'Minh', 'Phúc'])}" for _ in range(60)]
    pages: list[PageDoc] = []
    item = 0
    page_no = 0
    meta: dict = {}
    for i in range(n):
        if page_no == 0 or page_no >= meta["length"]:
            item += 1
            page_no = 0
            year = rng.randint(1850, 2020)
            date = rng.choice([str(year), f"{year}-{rng.randint(1, 12):02d}", f"{year // 10}0s", f"khoảng {year}"])
            meta = dict(item_id=item, title=f"Ấn phẩm {item}", type=rng.choice(TYPES), date=date,
                        creators=(rng.choice(creators),), collections=(rng.choice(COLLECTIONS),),
                        languages=("vi",) if rng.random() < 0.9 else ("vi", "fr"), length=rng.randint(4, 60))
        page_no += 1
        words = rng.choices(SYLLABLES, cum_weights=cum, k=420)
        for _ in range(rng.randint(0, 3)):
            words.insert(rng.randrange(len(words)), rng.choice(NAMES))
        lines = [" ".join(words[k:k + 12]).capitalize() + "." for k in range(0, len(words), 12)]
        text = "\n".join(lines)
        if rng.random() < 0.2:
            text = fold(text)  # typed or read without diacritics
        m = {k: v for k, v in meta.items() if k != "length"}
        pages.append(PageDoc(page_id=i + 1, page_number=page_no, text=text, access="public", **m))
    return pages


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def measure(engine, rounds: int) -> dict[str, float]:
    full = dict(per_page=20, facets=("collection", "type", "language", "decade", "year", "creator"), snippets=3,
                access_levels=("public",))
    bare = dict(per_page=20, facets=(), highlight=False, snippets=0, access_levels=("public",))
    for q in QUERIES:  # warm up
        engine.search(SearchRequest(query=q, **full))
        engine.search(SearchRequest(query=q, **bare))
    times: dict[str, list[float]] = {"bare": [], "full": []}
    for _ in range(rounds):
        for q in QUERIES:
            for name, opts in (("bare", bare), ("full", full)):
                t0 = time.perf_counter()
                engine.search(SearchRequest(query=q, **opts))
                times[name].append((time.perf_counter() - t0) * 1000)
    return {f"{name}_{p}": percentile(v, p) for name, v in times.items() for p in (50, 95)}


def start_opensearch(work: Path) -> tuple[subprocess.Popen, str]:
    log = open(work / "opensearch.log", "wb")
    env = dict(os.environ, OPENSEARCH_HEAP=os.environ.get("OPENSEARCH_HEAP", "1g"))
    proc = subprocess.Popen(["bash", str(REPO / "scripts" / "opensearch.sh"), "start", str(work / "node"), "9230",
                             "heritage-bench"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    deadline = time.monotonic() + 300
    url = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"OpenSearch exited: {(work / 'opensearch.log').read_text()[-2000:]}")
        m = re.search(r"HTTP Port:\s+(\d+)", (work / "opensearch.log").read_text(errors="replace"))
        if m:
            url = f"http://127.0.0.1:{m.group(1)}"
            try:
                urllib.request.urlopen(f"{url}/_cluster/health?wait_for_status=yellow&timeout=1s", timeout=3)
                return proc, url
            except OSError:
                pass
        time.sleep(0.5)
    raise SystemExit("OpenSearch did not start")


def run(name: str, engine, pages: list[PageDoc], rounds: int) -> None:
    t0 = time.perf_counter()
    engine.rebuild(pages)
    engine.refresh()
    elapsed = time.perf_counter() - t0
    print(f"{name}: indexed {len(pages):,} pages in {elapsed:.1f} s = {len(pages) / elapsed:,.0f} pages/s", flush=True)
    m = measure(engine, rounds)
    print(f"{name}: bare p50 {m['bare_50']:.1f} ms, p95 {m['bare_95']:.1f} ms | "
          f"full p50 {m['full_50']:.1f} ms, p95 {m['full_95']:.1f} ms | "
          f"full/bare at p95 {m['full_95'] / m['bare_95']:.2f}×, at p50 {m['full_50'] / m['bare_50']:.2f}×", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cluster", help="URL of an Elasticsearch 8 / OpenSearch 2 server to measure too")
    ap.add_argument("--start-opensearch", action="store_true", help="start a node with scripts/opensearch.sh")
    ap.add_argument("--skip-tantivy", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    pages = make_pages(args.pages)
    size = sum(len(p.text.encode()) for p in pages) / len(pages)
    print(f"generated {len(pages):,} pages, {size / 1000:.1f} kB of text each on average, in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    work = Path(tempfile.mkdtemp(prefix="heritage-bench-search-"))
    proc = None
    try:
        if not args.skip_tantivy:
            with open_engine(work / "tantivy") as engine:
                run("tantivy", engine, pages, args.rounds)
        url = args.cluster
        if args.start_opensearch:
            proc, url = start_opensearch(work)
        if url:
            engine = open_engine(url, index="heritage-bench", timeout_s=120)
            try:
                run(f"cluster ({engine.health().engine})", engine, pages, args.rounds)
            finally:
                engine.drop()
                engine.close()
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
