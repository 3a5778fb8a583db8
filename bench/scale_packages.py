"""Realistic METS/ALTO packages for ``bench/scale.py``, made one item at a time (nothing held for more
than one item): a seeded plan of items (the first a 1,000-page book; newspaper issues of 4–16 pages of
several serials; magazines, books, pamphlets and single sheets), their MODS records (titles, dates
1900–1999, types, serial titles and issue numbers), and per page an ALTO of 300–2,000 words in
columns and lines with pixel boxes and word confidences (``WC``).

Page images are a handful of generated grey pages (:func:`shared_images`) hard-linked into each
package, so the store, which is content-addressed by SHA-256, keeps one copy of each. Only the first
page of an item gets its own bytes: a title page (:func:`title_page`: the item's title on blank paper,
about 20 KB, its pyramid as small), because the importer refuses an item made of exactly the page
images of another one, so items must differ. (Until session 14 it was a shared text page with a JPEG
comment: 300 KB of original and 450 KB of pyramid an item, about 18 GB at a million pages, more than
this machine's disk holds beside the rest.)

The words are made-up Vietnamese syllables drawn with a Zipf law from a fixed vocabulary (no text of
any test set). No platform code is imported here.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

PAGE_PX = (1240, 1754)  # A4 at 150 dpi: small, so the disk holds a pyramid per page at 1M pages
IMAGE_DPI = 150
SHARED_IMAGES = 6
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
MARGIN_PX = 70
GUTTER_PX = 30

ONSETS = ("", "b", "c", "ch", "d", "đ", "g", "gi", "h", "kh", "l", "m", "n", "ng", "nh", "ph", "qu", "r",
          "s", "t", "th", "tr", "v", "x")
RHYMES = ("a", "à", "á", "ả", "ã", "ạ", "ai", "ao", "an", "ang", "anh", "ăn", "âm", "ân", "ây", "e", "ê",
          "em", "en", "ên", "i", "im", "in", "inh", "o", "ô", "ơ", "oi", "ói", "ông", "ong", "ốc", "u", "ư", "ưu",
          "uy", "ương", "ường", "ước", "iên", "iệt", "ội", "ữa", "ức", "ận", "ết", "ình", "ạn", "ất")
SERIALS = ("Trung Bắc Tân Văn", "Đông Dương Tạp Chí", "Nam Phong", "Tiếng Dân", "Thực Nghiệp Dân Báo",
           "Hà Thành Ngọ Báo", "Phụ Nữ Tân Văn", "Lục Tỉnh Tân Văn")
COLLECTIONS = {"newspaper": ("Báo chí Bắc Kỳ", "Báo chí Nam Kỳ", "Báo chí Trung Kỳ"),
               "magazine": ("Tạp chí",),
               "book": ("Sách quốc ngữ", "Sách Hán Nôm", "Sách tiếng Pháp"),
               "pamphlet": ("Tài liệu lẻ",),
               "sheet": ("Bản đồ và tranh", "Thư từ")}
# kind → (share of items, pages (low, high), words a page (low, high), columns, METS TYPE)
KINDS = {"newspaper": (0.50, (4, 16), (1200, 2000), 5, "Newspaper"),
         "magazine": (0.08, (20, 80), (500, 1000), 2, "Magazine"),
         "book": (0.12, (80, 600), (250, 450), 1, "Book"),
         "pamphlet": (0.15, (2, 40), (300, 600), 1, "Monograph"),
         "sheet": (0.15, (1, 1), (300, 800), 2, "")}


def vocabulary(n: int = 3000, seed: int = 1) -> list[str]:
    """``n`` distinct syllables, in a fixed random order (rank 0 the most frequent)."""
    rng = random.Random(seed)
    words = sorted({o + r for o in ONSETS for r in RHYMES})
    rng.shuffle(words)
    return words[:n]


@dataclass
class ItemPlan:
    number: int  # 1, 2, … in plan order
    kind: str
    pages: int
    words_low: int
    words_high: int
    columns: int
    mets_type: str
    title: str
    date: str
    collection: str
    serial_title: str | None = None
    issue_number: str | None = None


class Planner:
    """Items one at a time, seeded: ``next_item(max_pages)`` never plans more pages than asked."""

    def __init__(self, seed: int = 12):
        self.rng = random.Random(seed)
        self.number = 0
        self.issues = {s: 0 for s in SERIALS}
        self.vocab = vocabulary()

    def next_item(self, max_pages: int) -> ItemPlan:
        rng = self.rng
        self.number += 1
        if self.number == 1:
            kind, pages = "book", 1000
        else:
            kinds = list(KINDS)
            kind = rng.choices(kinds, weights=[KINDS[k][0] for k in kinds])[0]
            low, high = KINDS[kind][1]
            pages = rng.randint(low, high) if kind != "book" else int(min(high, max(low, rng.lognormvariate(5.2, 0.6))))
        pages = max(1, min(pages, max_pages))
        _, _, (w_low, w_high), columns, mets_type = KINDS[kind]
        year = rng.randint(1900, 1999)
        title_words = " ".join(rng.choice(self.vocab[:400]).capitalize() for _ in range(rng.randint(2, 6)))
        plan = ItemPlan(self.number, kind, pages, w_low, w_high, columns, mets_type, title_words, str(year),
                        rng.choice(COLLECTIONS[kind]))
        if kind == "newspaper":
            serial = rng.choice(SERIALS)
            self.issues[serial] += 1
            plan.serial_title, plan.issue_number = serial, str(self.issues[serial])
            plan.date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            plan.title = f"{serial}, số {self.issues[serial]}"
        return plan


def shared_images(folder: Path, count: int = SHARED_IMAGES, seed: int = 5) -> list[Path]:
    """``count`` grey page JPEGs (``PAGE_PX``, quality 85) of lines of text in columns, some with a
    picture block; written once, linked into every package."""
    from PIL import Image, ImageDraw, ImageFont

    folder.mkdir(parents=True, exist_ok=True)
    vocab = vocabulary()
    out = []
    for n in range(count):
        rng = random.Random(seed * 100 + n)
        columns = (1, 2, 5)[n % 3]
        font_px = (18, 14, 12)[n % 3]
        font = ImageFont.truetype(FONT, font_px)
        image = Image.new("L", PAGE_PX, rng.randint(225, 245))
        draw = ImageDraw.Draw(image)
        col_w = (PAGE_PX[0] - 2 * MARGIN_PX - (columns - 1) * GUTTER_PX) // columns
        for c in range(columns):
            x0 = MARGIN_PX + c * (col_w + GUTTER_PX)
            for y in range(MARGIN_PX, PAGE_PX[1] - MARGIN_PX - font_px, int(font_px * 2.2)):
                line = " ".join(rng.choice(vocab[:600]) for _ in range(col_w // (font_px * 3)))
                draw.text((x0, y), line, fill=rng.randint(10, 40), font=font)
        if n % 2:
            draw.rectangle((MARGIN_PX, 200, MARGIN_PX + 450, 600), fill=90)
        path = folder / f"page-{n}.jpg"
        image.save(path, quality=75, dpi=(IMAGE_DPI, IMAGE_DPI))
        out.append(path)
    return out


def title_page(title: str, number: int) -> bytes:
    """A title page (``PAGE_PX``, grey JPEG, quality 75): the item's title and number, centred on blank
    paper; about 20 KB, and different for every item."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", PAGE_PX, 236)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 40)
    y = PAGE_PX[1] // 3
    words = f"{title} — {number}".split()
    lines = [" ".join(words[i:i + 5]) for i in range(0, len(words), 5)]
    for line in lines:
        width = draw.textlength(line, font=font)
        draw.text(((PAGE_PX[0] - width) / 2, y), line, fill=25, font=font)
        y += 60
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=75, dpi=(IMAGE_DPI, IMAGE_DPI))
    return out.getvalue()


def page_words(rng: random.Random, vocab: list[str], cum_weights: list[float], count: int, columns: int
               ) -> list[list[list[tuple[str, int, int, int, int, float]]]]:
    """``count`` words laid out in ``columns`` columns of lines on a ``PAGE_PX`` page:
    ``[column][line] → [(text, x, y, w, h, confidence 0–1)]``; the line height is chosen so they fit."""
    width_px, height_px = PAGE_PX
    usable_w = width_px - 2 * MARGIN_PX - (columns - 1) * GUTTER_PX
    col_w = usable_w // columns
    usable_h = height_px - 2 * MARGIN_PX
    line_px = max(12, int(math.sqrt(usable_w * usable_h / (3.2 * count))))
    char_px = line_px * 0.5
    texts = rng.choices(vocab, cum_weights=cum_weights, k=count)
    out: list = [[] for _ in range(columns)]
    column, y, x, line = 0, MARGIN_PX, 0, []
    x0 = MARGIN_PX
    for text in texts:
        w = max(4, int(len(text) * char_px))
        if x + w > col_w and line:
            out[column].append(line)
            line, x, y = [], 0, y + line_px
            if y + line_px > height_px - MARGIN_PX:
                if column + 1 >= columns:
                    break
                column, y = column + 1, MARGIN_PX
                x0 = MARGIN_PX + column * (col_w + GUTTER_PX)
        conf = round(1 - 0.5 * rng.random() ** 4, 2)
        line.append((text, x0 + x, y, w, int(line_px * 0.8), conf))
        x += w + int(char_px)
    if line:
        out[column].append(line)
    return out


def alto_xml(columns: list, page: int) -> str:
    blocks = []
    for c, lines in enumerate(columns):
        if not lines:
            continue
        out = []
        for ws in lines:
            x0, y0 = ws[0][1], ws[0][2]
            x1, y1 = ws[-1][1] + ws[-1][3], ws[0][2] + ws[0][4]
            strings = "<SP/>".join(f'<String CONTENT={quoteattr(t)} HPOS="{x}" VPOS="{y}" WIDTH="{w}" '
                                   f'HEIGHT="{h}" WC="{wc}"/>' for t, x, y, w, h, wc in ws)
            out.append(f'<TextLine HPOS="{x0}" VPOS="{y0}" WIDTH="{x1 - x0}" HEIGHT="{y1 - y0}">{strings}'
                       f'</TextLine>')
        bx, by = lines[0][0][1], lines[0][0][2]
        bw = max(ws[-1][1] + ws[-1][3] for ws in lines) - bx
        bh = lines[-1][0][2] + lines[-1][0][4] - by
        blocks.append(f'<TextBlock ID="P{page}_TB{c + 1}" HPOS="{bx}" VPOS="{by}" WIDTH="{bw}" HEIGHT="{bh}">'
                      f'{"".join(out)}</TextBlock>')
    return ('<?xml version="1.0" encoding="UTF-8"?><alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">'
            '<Description><MeasurementUnit>pixel</MeasurementUnit><OCRProcessing ID="O1"><ocrProcessingStep>'
            '<processingSoftware><softwareName>scale bench</softwareName></processingSoftware>'
            f'</ocrProcessingStep></OCRProcessing></Description><Layout><Page ID="P{page}" '
            f'WIDTH="{PAGE_PX[0]}" HEIGHT="{PAGE_PX[1]}" PHYSICAL_IMG_NR="{page}"><PrintSpace>{"".join(blocks)}'
            '</PrintSpace></Page></Layout></alto>')


def mods_xml(plan: ItemPlan) -> str:
    host = ""
    if plan.serial_title:
        host = (f'<mods:relatedItem type="host"><mods:titleInfo><mods:title>{escape(plan.serial_title)}'
                '</mods:title></mods:titleInfo></mods:relatedItem><mods:part><mods:detail type="issue">'
                f'<mods:number>{plan.issue_number}</mods:number></mods:detail></mods:part>')
    return (f'<mods:mods><mods:titleInfo><mods:title>{escape(plan.title)}</mods:title></mods:titleInfo>'
            f'<mods:originInfo><mods:dateIssued>{plan.date}</mods:dateIssued><mods:publisher>Nhà in Scale'
            '</mods:publisher></mods:originInfo><mods:language><mods:languageTerm type="code">vi'
            f'</mods:languageTerm></mods:language>{host}</mods:mods>')


def mets_xml(plan: ItemPlan) -> str:
    pages = range(1, plan.pages + 1)
    files = "".join(f'<file ID="IMG{p}" MIMETYPE="image/jpeg"><FLocat LOCTYPE="URL" xlink:href="images/{p}.jpg"/>'
                    f'</file>' for p in pages)
    altos = "".join(f'<file ID="ALTO{p}" MIMETYPE="text/xml"><FLocat LOCTYPE="URL" xlink:href="alto/{p}.xml"/>'
                    f'</file>' for p in pages)
    divs = "".join(f'<div TYPE="page" ORDER="{p}"><fptr FILEID="IMG{p}"/><fptr FILEID="ALTO{p}"/></div>'
                   for p in pages)
    kind = {"newspaper": "issue", "magazine": "issue"}.get(plan.kind, "volume")
    type_attr = f' TYPE="{plan.mets_type}"' if plan.mets_type else ""
    return ('<?xml version="1.0" encoding="UTF-8"?><mets xmlns="http://www.loc.gov/METS/" '
            f'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:mods="http://www.loc.gov/mods/v3"{type_attr} '
            f'OBJID="scale-{plan.number}"><dmdSec ID="D"><mdWrap MDTYPE="MODS"><xmlData>{mods_xml(plan)}'
            f'</xmlData></mdWrap></dmdSec><fileSec><fileGrp USE="MASTER">{files}</fileGrp>'
            f'<fileGrp USE="FULLTEXT">{altos}</fileGrp></fileSec><structMap TYPE="PHYSICAL">'
            f'<div TYPE="{kind}" DMDID="D">{divs}</div></structMap></mets>')


class PackageWriter:
    """Writes one item's package folder at a time under ``root`` (the caller deletes it after import)."""

    def __init__(self, root: Path, images: list[Path], seed: int = 7):
        self.root = root
        self.images = images
        self.rng = random.Random(seed)
        self.vocab = vocabulary()
        self.cum_weights = list(_cumulative(1 / (r + 2.7) for r in range(len(self.vocab))))

    def write(self, plan: ItemPlan) -> tuple[Path, int]:
        """The package folder of ``plan`` and its number of words."""
        folder = self.root / f"item-{plan.number:07d}"
        (folder / "images").mkdir(parents=True)
        (folder / "alto").mkdir()
        words = 0
        for p in range(1, plan.pages + 1):
            which = self.rng.randrange(len(self.images))
            target = folder / "images" / f"{p}.jpg"
            if p == 1:
                target.write_bytes(title_page(plan.title, plan.number))
            else:
                os.link(self.images[which], target)
            count = self.rng.randint(plan.words_low, plan.words_high)
            columns = page_words(self.rng, self.vocab, self.cum_weights, count, plan.columns)
            words += sum(len(line) for col in columns for line in col)
            (folder / "alto" / f"{p}.xml").write_text(alto_xml(columns, p), encoding="utf-8")
        (folder / "mets.xml").write_text(mets_xml(plan), encoding="utf-8")
        return folder, words


def _cumulative(values):
    total = 0.0
    for v in values:
        total += v
        yield total
