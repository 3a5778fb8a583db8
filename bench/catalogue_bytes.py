"""Catalogue bytes a page costs: its text, its words and lines as rows (the schema before migration
0014: ``words`` and ``text_regions``) and as one blob (``pages.layout``, ``library.catalogue.page_layout``).

Makes N pages of a made-up newspaper (four columns of Vietnamese syllables from a fixed list, about
1,500 words a page, boxes in pixels, tesseract-like fractional confidences; no page of any test set),
and stores them in empty catalogues migrated to head, on SQLite and (when its programs are installed)
on a throw-away PostgreSQL cluster, four ways:

- **text**: the page row with its text and its first version (``transcriptions.text``), no layout;
- **blob**: text + ``pages.layout`` (what the catalogue stores now);
- **rows**: text + a ``words`` row a word and a ``text_regions`` row a line and block, in tables made
  here exactly as migration 0001 made them (what it stored before 0014);
- **bare**: the page row and version without text (the rest of a page's bookkeeping).

Prints bytes a page of each table (SQLite: ``dbstat`` after VACUUM, tables and their indexes;
PostgreSQL: ``pg_total_relation_size`` after VACUUM FULL, TOAST and indexes included), and the blob
size itself.

    nice .venv/bin/python bench/catalogue_bytes.py --pages 20
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SYLLABLES = ("người", "nước", "làng", "phố", "chợ", "sông", "trường", "học", "báo", "tin", "năm", "tháng", "ngày",
             "hội", "đồng", "quan", "dân", "nhà", "đường", "việc", "làm", "mới", "cũ", "lớn", "nhỏ", "trên", "dưới",
             "của", "và", "cho", "những", "các", "một", "hai", "ba", "được", "không", "có", "là", "đã", "sẽ", "Hà",
             "Nội", "Sài", "Gòn", "Huế", "buôn", "bán", "giá", "gạo", "thóc", "mùa", "mưa", "nắng", "xe", "tàu")
PAGE_PX = (2480, 3508)
COLUMNS, MARGIN_PX, GUTTER_PX, LINE_PX, CHAR_PX = 4, 120, 50, 47, 19
TABLES = ("pages", "transcriptions", "words", "text_regions")


def prose_words() -> list[str]:
    """The words of the demo collection's Vietnamese texts (``library/demo_texts``, written for the demo;
    no page of any test set), in order: real prose, so the text compresses as a real page's would."""
    import unicodedata

    folder = Path(__file__).resolve().parents[1] / "library" / "demo_texts"
    words = []
    for path in sorted(folder.glob("*.txt")):
        words += unicodedata.normalize("NFC", path.read_text(encoding="utf-8")).split()
    return words


def page(seed: int, prose: list[str] | None = None) -> tuple[str, dict]:
    """A page text and its layout dict (``library.reading.ocr_jobs.layout_of`` shape), about 1,500 words:
    syllables from a fixed list, or with ``prose`` the words of real prose from a seeded place on."""
    rng = random.Random(seed)
    at = rng.randrange(len(prose)) if prose else 0
    column_w = (PAGE_PX[0] - 2 * MARGIN_PX - (COLUMNS - 1) * GUTTER_PX) // COLUMNS
    parts, words, lines, blocks, pos = [], [], [], [], 0
    for b in range(1, COLUMNS + 1):
        if parts:
            parts.append("\n\n")
            pos += 2
        x0, b_start = MARGIN_PX + (b - 1) * (column_w + GUTTER_PX), pos
        for ln, y in enumerate(range(MARGIN_PX, PAGE_PX[1] - MARGIN_PX - LINE_PX, LINE_PX), start=1):
            if ln > 1:
                parts.append("\n")
                pos += 1
            l_start, x, n = pos, x0, 0
            while True:
                if prose:
                    t, at = prose[at % len(prose)], at + 1
                else:
                    t = rng.choice(SYLLABLES)
                w = CHAR_PX * len(t) + rng.randint(-4, 4)
                if x + w > x0 + column_w:
                    break
                if n:
                    parts.append(" ")
                    pos += 1
                h = 34 + rng.randint(-3, 8)
                words.append([t, pos, pos + len(t), x, y + rng.randint(-2, 2), w, h, rng.uniform(45, 97), b, 1, ln])
                parts.append(t)
                pos += len(t)
                x, n = x + w + 11, n + 1
            lines.append([b, 1, ln, x0, y - 2, x - 11 - x0, 44, l_start, pos])
        blocks.append([b, x0, MARGIN_PX - 2, column_w, y + 44 - MARGIN_PX, b_start, pos])
    return "".join(parts), {"words": words, "lines": lines, "blocks": blocks}


def old_tables():
    """``words`` and ``text_regions`` as migration 0001 made them (constraints and indexes included)."""
    import sqlalchemy as sa

    md = sa.MetaData()
    sa.Table("pages", md, sa.Column("id", sa.Integer, primary_key=True))  # the catalogue's, already there
    words = sa.Table(
        "words", md, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False), sa.Column("text", sa.String(1000), nullable=False),
        *(sa.Column(c, sa.Integer, nullable=False) for c in ("char_start", "char_end", "x", "y", "w", "h")),
        sa.Column("confidence", sa.Float, nullable=False),
        *(sa.Column(c, sa.Integer, nullable=False) for c in ("block", "paragraph", "line")),
        sa.UniqueConstraint("page_id", "sequence", name="uq_words_page_sequence"),
        sa.Index("ix_words_page_chars", "page_id", "char_start"))
    regions = sa.Table(
        "text_regions", md, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False), sa.Column("block", sa.Integer, nullable=False),
        sa.Column("paragraph", sa.Integer), sa.Column("line", sa.Integer),
        *(sa.Column(c, sa.Integer, nullable=False) for c in ("x", "y", "w", "h", "char_start", "char_end")),
        sa.Index("ix_text_regions_page_kind", "page_id", "kind"))
    return md, words, regions


def fill(url: str, pages: list[tuple[str, dict]], way: str) -> None:
    """A catalogue at head with ``pages`` stored ``way`` ("bare", "text", "blob", "rows")."""
    from sqlalchemy.orm import sessionmaker

    from library.catalogue import db
    from library.catalogue.models import Item, ItemType, Page, PageStatus, StoredFile, Transcription
    from library.catalogue.page_layout import encode
    from library.catalogue.page_text import set_page_text

    engine = db.make_engine(url)
    db.upgrade(engine)
    md, words, regions = old_tables()
    if way == "rows":
        md.create_all(engine, tables=[words, regions])
    with sessionmaker(engine).begin() as s:
        s.add(StoredFile(sha256="a" * 64, size_bytes=1, media_type="image/png", original_name="p.png"))
        item = Item(title="Báo mẫu", languages="vie", item_type=ItemType.newspaper)
        s.add(item)
        s.flush()
        for n, (text, layout) in enumerate(pages, start=1):
            kept = None if way == "bare" else text
            p = Page(item_id=item.id, sequence=n, source_sha256="a" * 64, source_name=f"p{n}.png",
                     status=PageStatus.done, width=PAGE_PX[0], height=PAGE_PX[1],
                     layout=encode(layout, text) if way == "blob" else None)
            s.add(p)
            s.flush()
            first = Transcription(page_id=p.id, version=1, source="ocr", text=kept or "")
            s.add(first)
            set_page_text(s, p, kept, first)  # as the workers and the import store a reading
            if way == "rows":
                s.execute(words.insert(), [dict(page_id=p.id, sequence=i, text=t, char_start=cs, char_end=ce, x=x,
                                                y=y, w=w, h=h, confidence=c, block=b, paragraph=pp, line=ln)
                                           for i, (t, cs, ce, x, y, w, h, c, b, pp, ln) in enumerate(layout["words"])])
                s.execute(regions.insert(), [dict(page_id=p.id, kind="block", block=b, x=x, y=y, w=w, h=h,
                                                  char_start=cs, char_end=ce) for b, x, y, w, h, cs, ce
                                             in layout["blocks"]]
                          + [dict(page_id=p.id, kind="line", block=b, paragraph=pp, line=ln, x=x, y=y, w=w, h=h,
                                  char_start=cs, char_end=ce) for b, pp, ln, x, y, w, h, cs, ce in layout["lines"]])
    engine.dispose()


def sqlite_bytes(path: Path) -> dict[str, int]:
    """Bytes of each of :data:`TABLES`, its indexes included (dbstat, after VACUUM)."""
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("VACUUM")
    owner = dict(con.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
    out = dict.fromkeys(TABLES, 0)
    for name, size in con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
        table = owner.get(name, name)
        if table in out:
            out[table] += size
    con.close()
    return out


def postgres_bytes(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        out = {}
        for t in TABLES:
            if conn.execute("SELECT to_regclass(%s)", (t,)).fetchone()[0] is None:
                out[t] = 0
                continue
            conn.execute(f"VACUUM FULL {t}")
            out[t] = conn.execute("SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0]
    return out


class Postgres:
    """A throw-away cluster (as tests/conftest.py starts one); with ``base``, a kept one: its data stays in
    ``base`` after the run and the next run with the same ``base`` starts it again (a run resumed across
    sessions, ``bench/scale.py --cluster --work``)."""

    def __init__(self, base: Path | None = None):
        import glob
        import socket

        def find(name):
            found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
            return found[-1] if found else shutil.which(name)

        self.initdb, self.pg_ctl = find("initdb"), find("pg_ctl")
        if not self.initdb or not self.pg_ctl:
            raise FileNotFoundError("PostgreSQL is not installed")
        self.kept = base is not None
        self.base = Path(base) if base is not None else Path(f"/tmp/heritage-bench-pg-{uuid.uuid4().hex[:8]}")
        self.base.mkdir(mode=0o755, exist_ok=self.kept)
        (self.base / "sock").mkdir(exist_ok=self.kept)
        self.run_as = []
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
            shutil.chown(self.base / "sock", "postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def __enter__(self):
        data = self.base / "data"
        if not (data / "PG_VERSION").exists():
            subprocess.run(self.run_as + [self.initdb, "-D", str(data), "-U", "heritage", "--auth=trust", "-E", "UTF8",
                                          "--locale=C.UTF-8"], check=True, capture_output=True)
        if self.kept and self._running(data):  # left running by a run that was killed: start it on a new port
            subprocess.run(self.run_as + [self.pg_ctl, "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        elif self.kept:  # a machine that stopped with it running left its lock file
            (data / "postmaster.pid").unlink(missing_ok=True)
        opts = f"-p {self.port} -k {self.base / 'sock'} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(self.run_as + [self.pg_ctl, "-D", str(data), "-o", opts, "-l", str(self.base / "log"), "-w",
                                      "start"], check=True, capture_output=True)
        return self

    def _running(self, data: Path) -> bool:
        return subprocess.run(self.run_as + [self.pg_ctl, "-D", str(data), "status"], capture_output=True).returncode == 0

    def database(self, name: str | None = None) -> str:
        """The URL of a new database, or of database ``name`` (made if it is not there yet)."""
        import psycopg

        name = name or f"b_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(f"postgresql://heritage@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://heritage@127.0.0.1:{self.port}/{name}"

    def __exit__(self, *exc):
        subprocess.run(self.run_as + [self.pg_ctl, "-D", str(self.base / "data"), "-m", "fast" if self.kept else "immediate",
                                      "stop"], capture_output=True)
        if not self.kept:
            shutil.rmtree(self.base, ignore_errors=True)


def report(label: str, sizes: dict[str, dict[str, int]], n: int, n_words: float) -> None:
    per = {way: {t: b / n for t, b in s.items()} for way, s in sizes.items()}
    bare = sum(per["bare"].values())
    print(f"\n{label}: bytes a page (over {n} pages; tables with their indexes)")
    print(f"{'way':6} " + " ".join(f"{t:>15}" for t in TABLES) + f" {'total':>9} {'minus bare':>10}")
    for way in ("bare", "text", "rows", "blob"):
        total = sum(per[way].values())
        print(f"{way:6} " + " ".join(f"{per[way][t]:15.0f}" for t in TABLES) + f" {total:9.0f} {total - bare:10.0f}")
    text = sum(per["text"].values())
    rows, blob = sum(per["rows"].values()) - text, sum(per["blob"].values()) - text
    k = 1500 / n_words
    print(f"layout as rows: {rows:.0f} B a page; as a blob: {blob:.0f} B; the text (page + version 1): "
          f"{text - bare:.0f} B")
    print(f"for 1,500 words: rows {rows * k:.0f} B, blob {blob * k:.0f} B, text {(text - bare) * k:.0f} B; "
          f"a page as stored now (blob + text, without the bare rows) {(blob + text - bare) * k:.0f} B")


def real_alto() -> None:
    """Blob sizes of the real vendor ALTO pages in ../shared/data (NDNP 1935, BnL 1858), when there."""
    from library.catalogue.page_layout import encode
    from library.ingest.alto_reading import page_layout, read_alto

    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "ocr"
    paths = sorted((data / "ndnp-park-record-1935").rglob("12*.xml"))
    paths += sorted((data / "bnl-mets-alto-1858" / "text").glob("*.xml"))
    for path in paths:
        text, layout, _ = page_layout(read_alto(path, label=path.name))
        n, blob = len(layout["words"]), len(encode(layout, text))
        print(f"real ALTO {path.name}: {n} words, text {len(text.encode('utf-8'))} B, blob {blob} B "
              f"({blob / n:.2f} B a word, {blob / n * 1500:.0f} B for 1,500 words)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--syllables", action="store_true",
                    help="page text of syllables drawn from a fixed list (compresses better than prose)")
    args = ap.parse_args(argv)
    from library.catalogue.packed_text import pack
    from library.catalogue.page_layout import encode

    prose = None if args.syllables else prose_words()
    pages = [page(seed, prose) for seed in range(args.pages)]
    n_words = sum(len(lay["words"]) for _, lay in pages) / len(pages)
    text_bytes = sum(len(t.encode("utf-8")) for t, _ in pages) / len(pages)
    blob_bytes = sum(len(encode(lay, t)) for t, lay in pages) / len(pages)
    packed_bytes = sum(len(pack(t)) for t, _ in pages) / len(pages)
    print(f"{args.pages} pages of {n_words:.0f} words; text {text_bytes:.0f} B UTF-8, {packed_bytes:.0f} B packed; "
          f"layout blob {blob_bytes:.0f} B ({blob_bytes / n_words:.2f} B a word)")
    real_alto()
    with tempfile.TemporaryDirectory(prefix="catalogue-bytes-") as tmp:
        sizes = {}
        for way in ("bare", "text", "rows", "blob"):
            path = Path(tmp) / f"{way}.sqlite3"
            fill(f"sqlite:///{path}", pages, way)
            sizes[way] = sqlite_bytes(path)
        report("SQLite", sizes, args.pages, n_words)
    if args.no_postgres:
        return 0
    try:
        cluster = Postgres()
    except FileNotFoundError as e:
        print(f"\nPostgreSQL: not measured ({e})")
        return 0
    with cluster:
        sizes = {}
        for way in ("bare", "text", "rows", "blob"):
            url = cluster.database()
            fill(url, pages, way)
            sizes[way] = postgres_bytes(url)
        report("PostgreSQL", sizes, args.pages, n_words)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
