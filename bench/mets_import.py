"""METS/ALTO import throughput against OCR, in one run.

Makes N small METS packages (``--pages`` pages each) in a temporary folder: each page a newspaper-like
grey JPEG, A4 at 300 dpi (2480×3508 px), four columns of ~1500 words drawn in DejaVu Sans, and an ALTO
giving every word's box (so the reading is already there); then

- **import**: ``MetsImporter.import_batch`` of all the packages into a fresh platform (SQLite, local
  search index, its own data folder): checks, image inspection, ALTO reading, originals, normalised PNG
  and thumbnail, words and lines in the catalogue, indexing — wall seconds and pages/s;
- **OCR baseline**: ``tesseract PAGE - -l vie`` (one thread) on the first page, wall seconds → pages/s.

Prints both and their ratio. The text is made-up syllables (no page of any test set).

    OMP_THREAD_LIMIT=1 nice .venv/bin/python bench/mets_import.py --packages 3 --pages 2
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PAGE_PX = (2480, 3508)  # A4 at 300 dpi
COLUMNS = 4
MARGIN_PX = 120
GUTTER_PX = 50
FONT_PX = 34
LINE_PX = 47
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SYLLABLES = ("người", "nước", "làng", "phố", "chợ", "sông", "trường", "học", "báo", "tin", "năm", "tháng", "ngày",
             "hội", "đồng", "quan", "dân", "nhà", "đường", "việc", "làm", "mới", "cũ", "lớn", "nhỏ", "trên", "dưới",
             "của", "và", "cho", "những", "các", "một", "hai", "ba", "được", "không", "có", "là", "đã", "sẽ", "Hà",
             "Nội", "Sài", "Gòn", "Huế", "buôn", "bán", "giá", "gạo", "thóc", "mùa", "mưa", "nắng", "xe", "tàu")


def newspaper_page(seed: int):
    """A grey page image and its words ``[(column, line, text, x, y, w, h)]`` in pixels."""
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(seed)
    font = ImageFont.truetype(FONT, FONT_PX)
    image = Image.new("L", PAGE_PX, 245)
    draw = ImageDraw.Draw(image)
    column_w = (PAGE_PX[0] - 2 * MARGIN_PX - (COLUMNS - 1) * GUTTER_PX) // COLUMNS
    words = []
    for column in range(COLUMNS):
        x0 = MARGIN_PX + column * (column_w + GUTTER_PX)
        for line, y in enumerate(range(MARGIN_PX, PAGE_PX[1] - MARGIN_PX - LINE_PX, LINE_PX)):
            x = x0
            while True:
                text = rng.choice(SYLLABLES)
                left, top, right, bottom = draw.textbbox((x, y), text, font=font)
                if right > x0 + column_w:
                    break
                draw.text((x, y), text, fill=20, font=font)
                words.append((column, line, text, left, top, right - left, bottom - top))
                x = right + FONT_PX // 3
    return image, words


def alto_xml(words, page: int) -> str:
    blocks = []
    for column in range(COLUMNS):
        lines = {}
        for c, line, text, x, y, w, h in words:
            if c == column:
                lines.setdefault(line, []).append((text, x, y, w, h))
        out = []
        for line, ws in sorted(lines.items()):
            x0, y0 = ws[0][1], min(w[2] for w in ws)
            x1, y1 = ws[-1][1] + ws[-1][3], max(w[2] + w[4] for w in ws)
            strings = "<SP/>".join(f'<String CONTENT={quoteattr(t)} HPOS="{x}" VPOS="{y}" WIDTH="{w}" HEIGHT="{h}" '
                                   f'WC="0.93"/>' for t, x, y, w, h in ws)
            out.append(f'<TextLine HPOS="{x0}" VPOS="{y0}" WIDTH="{x1 - x0}" HEIGHT="{y1 - y0}">{strings}</TextLine>')
        blocks.append(f'<TextBlock ID="P{page}_TB{column + 1}">{"".join(out)}</TextBlock>')
    return ('<?xml version="1.0" encoding="UTF-8"?><alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">'
            '<Description><MeasurementUnit>pixel</MeasurementUnit><OCRProcessing ID="O1"><ocrProcessingStep>'
            '<processingSoftware><softwareName>bench</softwareName></processingSoftware></ocrProcessingStep>'
            f'</OCRProcessing></Description><Layout><Page ID="P{page}" WIDTH="{PAGE_PX[0]}" HEIGHT="{PAGE_PX[1]}" '
            f'PHYSICAL_IMG_NR="{page}"><PrintSpace>{"".join(blocks)}</PrintSpace></Page></Layout></alto>')


def mets_xml(n: int, pages: int) -> str:
    files = "".join(f'<file ID="IMG{p}" MIMETYPE="image/jpeg"><FLocat LOCTYPE="URL" xlink:href="images/{p}.jpg"/>'
                    f'</file>' for p in range(1, pages + 1))
    altos = "".join(f'<file ID="ALTO{p}" MIMETYPE="text/xml"><FLocat LOCTYPE="URL" xlink:href="alto/{p}.xml"/>'
                    f'</file>' for p in range(1, pages + 1))
    divs = "".join(f'<div TYPE="page" ORDER="{p}"><fptr FILEID="IMG{p}"/><fptr FILEID="ALTO{p}"/></div>'
                   for p in range(1, pages + 1))
    return ('<?xml version="1.0" encoding="UTF-8"?><mets xmlns="http://www.loc.gov/METS/" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:mods="http://www.loc.gov/mods/v3" TYPE="Newspaper" '
            f'LABEL="Báo thử, số {n}"><dmdSec ID="D"><mdWrap MDTYPE="MODS"><xmlData><mods:mods><mods:titleInfo>'
            '<mods:title>Báo thử</mods:title></mods:titleInfo><mods:language><mods:languageTerm type="code">vi'
            '</mods:languageTerm></mods:language></mods:mods></xmlData></mdWrap></dmdSec><fileSec>'
            f'<fileGrp USE="MASTER">{files}</fileGrp><fileGrp USE="FULLTEXT">{altos}</fileGrp></fileSec>'
            f'<structMap TYPE="PHYSICAL"><div TYPE="issue" DMDID="D">{divs}</div></structMap></mets>')


def make_packages(root: Path, packages: int, pages: int) -> tuple[list[Path], int]:
    """The package folders and the number of words in all."""
    out, total = [], 0
    for n in range(1, packages + 1):
        folder = root / f"package-{n:03d}"
        (folder / "images").mkdir(parents=True)
        (folder / "alto").mkdir()
        for p in range(1, pages + 1):
            image, words = newspaper_page(seed=n * 1000 + p)
            image.save(folder / "images" / f"{p}.jpg", quality=85, dpi=(300, 300))
            (folder / "alto" / f"{p}.xml").write_text(alto_xml(words, p), encoding="utf-8")
            total += len(words)
        (folder / "mets.xml").write_text(mets_xml(n, pages), encoding="utf-8")
        out.append(folder)
    return out, total


def ocr_seconds(image: Path) -> float:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    started = time.perf_counter()
    subprocess.run(["tesseract", str(image), "-", "-l", "vie"], check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", type=int, default=3)
    parser.add_argument("--pages", type=int, default=2, help="pages per package")
    args = parser.parse_args()

    from library.access import Actor
    from library.container import build_platform
    from library.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="mets-bench-"))
    try:
        started = time.perf_counter()
        packages, words = make_packages(work / "packages", args.packages, args.pages)
        pages = args.packages * args.pages
        print(f"made {args.packages} packages, {pages} pages {PAGE_PX[0]}×{PAGE_PX[1]} px grey JPEG, "
              f"{words / pages:.0f} words a page, in {time.perf_counter() - started:.1f} s")

        data = work / "data"
        platform = build_platform(Settings.from_env({}, data_dir=data,
                                                    database_url=f"sqlite:///{data / 'catalogue.sqlite3'}"))
        try:
            started = time.perf_counter()
            outcomes = platform.mets.import_batch(packages, actor=Actor.system("bench"))
            import_s = time.perf_counter() - started
        finally:
            platform.close()
        bad = [o.as_dict() for o in outcomes if o.status != "created"]
        if bad:
            raise SystemExit(f"import failed: {bad}")

        ocr_s = ocr_seconds(packages[0] / "images" / "1.jpg")
        import_rate, ocr_rate = pages / import_s, 1 / ocr_s
        print(f"import: {pages} pages in {import_s:.1f} s = {import_rate:.2f} pages/s "
              f"({import_s / pages:.2f} s a page)")
        print(f"OCR baseline (tesseract -l vie, one thread, one page): {ocr_s:.1f} s = {ocr_rate:.3f} pages/s")
        print(f"ratio: import is {import_rate / ocr_rate:.0f}× faster than OCR")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
