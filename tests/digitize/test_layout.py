"""Automatic layout analysis (``digitize.layout``): real UNLV magazine pages
read region by region with the real tesseract (in-process, tesserocr),
pages rendered here with a known layout, and the 33-megapixel NDNP
broadsheet for memory (see ``tests/digitize/conftest.py`` and
``../shared/data/README.md`` for where the real pages come from).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from digitize.layout import HEADLINE, IMAGE, TEXT, PageLayout, analyse_layout, group_articles
from digitize.layout.order import reading_order
from digitize.quality import cer, comparable_text
from digitize.synthetic import find_vietnamese_font, render_page, wrap_text
from heritage3d.report import peak_rss_mb

TESSDATA = "/usr/share/tesseract-ocr/5/tessdata/"
NDNP_PAGE = Path("ndnp-park-record-1935/sn85058233/17082901001/1935080201/1289.jp2")
MAX_BROADSHEET_RSS_MB = 1536


# ------------------------------------------------------------------ helpers
@pytest.fixture(scope="module")
def tesserocr_api():
    """An in-process tesseract (fails, not skips, when tesserocr is missing)."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    import tesserocr

    apis: dict[str, object] = {}

    def api(languages: str):
        if languages not in apis:
            apis[languages] = tesserocr.PyTessBaseAPI(path=TESSDATA, lang=languages)
        return apis[languages]

    yield api
    for opened in apis.values():
        opened.End()


def read_by_regions(api, image: Image.Image, layout: PageLayout) -> str:
    api.SetImage(image)
    parts = []
    for region in layout.reading_regions():
        api.SetPageSegMode(region.psm)
        api.SetRectangle(region.x, region.y, region.w, region.h)
        parts.append(api.GetUTF8Text().strip())
    return "\n".join(parts)


def luc_van_tien(shared_data: Path) -> list[str]:
    text = (shared_data / "text" / "luc-van-tien.quocngu.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def newspaper_page(lines: list[str], *, dpi: int = 200) -> tuple[Image.Image, list[list[str]]]:
    """A page with a headline across three columns of body text (10 pt,
    ruled gutters), as a newspaper sets it: ``(image "L", the lines drawn in
    each column)``."""
    font_path = find_vietnamese_font("serif")
    body = ImageFont.truetype(str(font_path), round(10 * dpi / 72))
    head = ImageFont.truetype(str(find_vietnamese_font("sans")), round(28 * dpi / 72))
    width, height = round(8 * dpi), round(10 * dpi)
    margin, gutter = round(0.5 * dpi), round(0.25 * dpi)
    column_w = (width - 2 * margin - 2 * gutter) // 3
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    headline = "Tin tức văn hóa Hà Nội xưa và nay"
    draw.text(((width - draw.textlength(headline, font=head)) / 2, margin), headline, font=head, fill=0)
    top = margin + round(0.6 * dpi)
    pitch = round(body.size * 1.35)
    rows = [row for line in lines for row in wrap_text(line, body, column_w)]
    per_column = (height - margin - top) // pitch
    drawn: list[list[str]] = []
    for column in range(3):
        x = margin + column * (column_w + gutter)
        chunk = rows[column * per_column : (column + 1) * per_column]
        for k, row in enumerate(chunk):
            draw.text((x, top + k * pitch), row, font=body, fill=0)
        drawn.append(chunk)
        if column:
            rule_x = x - gutter // 2
            draw.line([(rule_x, top), (rule_x, height - margin)], fill=0, width=1)
    return image, drawn


# ------------------------------------------------------------ real magazines
def test_unlv_page_read_by_regions_beats_plain_tesseract(unlv_dir, tesserocr_api):
    """8087_054.3B: plain psm 3 gives 7.8 % CER, its zone file 1.9 %; the
    automatic layout measured 1.9 %."""
    image = Image.open(unlv_dir / "8087_054.3B.tif")
    truth = (unlv_dir / "8087_054.3B.txt").read_text(encoding="utf-8")
    layout = analyse_layout(image, dpi=300)
    assert layout.multi_column and layout.columns == 2
    text = read_by_regions(tesserocr_api("eng"), image, layout)
    assert cer(text, truth) <= 0.025


def test_unlv_spread_finds_its_columns_picture_and_headline(unlv_dir):
    image = Image.open(unlv_dir / "8071_093.3B.tif")
    layout = analyse_layout(image, dpi=300)
    assert layout.multi_column and layout.columns >= 3
    kinds = [r.kind for r in layout.regions]
    assert IMAGE in kinds  # the photograph of the girl
    headline = max((r for r in layout.regions if r.kind == HEADLINE), key=lambda r: r.w * r.h)
    assert headline.w > image.width / 3  # "What Kids Need Most in a Dad", across three columns
    reading = layout.reading_regions()
    assert [r.order for r in reading] == list(range(len(reading)))
    assert all(r.order == -1 for r in layout.regions if not r.is_read)


# ------------------------------------------------------------ rendered pages
def test_three_column_page_is_read_headline_first_then_columns_left_to_right(shared_data, tesserocr_api):
    image, drawn = newspaper_page(luc_van_tien(shared_data))
    layout = analyse_layout(image, dpi=200)
    assert layout.multi_column and layout.columns == 3
    reading = layout.reading_regions()
    assert reading[0].kind == HEADLINE
    body = [r for r in reading if r.kind == TEXT]
    assert [r.column for r in body] == sorted(r.column for r in body)
    assert {r.column for r in body} == {0, 1, 2}
    assert [r.x for r in body] == sorted(r.x for r in body)

    text = comparable_text(read_by_regions(tesserocr_api("vie"), image, layout))
    firsts = [text.find(comparable_text(column[0])) for column in drawn]
    assert -1 not in firsts and firsts == sorted(firsts)
    assert text.find("Tin tức văn hóa") < firsts[0]


def test_headline_over_columns_groups_them_into_one_article(shared_data):
    image, _ = newspaper_page(luc_van_tien(shared_data))
    layout = group_articles(analyse_layout(image, dpi=200))
    grouped = [r for r in layout.regions if r.kind in (TEXT, HEADLINE)]
    assert {r.article for r in grouped} == {0}
    assert layout.articles == 1


def _region(kind, x, y, w, h, order, psm=6):
    from digitize.layout.regions import Region

    return Region(kind, x, y, w, h, order, None, psm)


def test_a_masthead_a_banner_a_corner_headline_and_a_deck_make_the_articles_a_reader_sees():
    """A page drawn as boxes (what a newspaper front page holds): the paper's name over its dateline is
    no article (no body text); the banner under it opens one, its centred deck joins it; a one-column
    headline in the corner under the banner opens its own; articles numbered in reading order."""
    regions = [
        _region(HEADLINE, 300, 100, 600, 180, 0, psm=7),  # masthead
        _region(TEXT, 600, 300, 300, 50, 1, psm=7),  # dateline
        _region(HEADLINE, 300, 370, 1800, 150, 2, psm=7),  # banner across the page
        _region(HEADLINE, 800, 530, 800, 60, 3, psm=7),  # its deck, centred under it
        _region(TEXT, 100, 620, 700, 1400, 4),  # the banner's story, two columns
        _region(TEXT, 850, 620, 700, 1400, 5),
        _region(HEADLINE, 1620, 540, 630, 120, 6),  # a one-column headline in the corner
        _region(TEXT, 1600, 680, 670, 1300, 7),
    ]
    got = group_articles(PageLayout(tuple(regions), 3, True))
    assert [r.article for r in got.regions] == [None, None, 0, 0, 0, 0, 1, 1]
    assert got.articles == 2


def test_single_column_book_page_is_left_to_tesseract(shared_data):
    page = render_page(luc_van_tien(shared_data)[:40], font_path=find_vietnamese_font(), dpi=200, title="Lục Vân Tiên")
    layout = analyse_layout(page.image, dpi=200)
    assert not layout.multi_column
    assert layout.columns <= 1


def test_blank_page_has_no_text_regions():
    layout = analyse_layout(Image.new("L", (1700, 2200), 235), dpi=200)
    assert layout.reading_regions() == ()
    assert not layout.multi_column


def test_picture_page_has_no_text_regions():
    rng = np.random.default_rng(7)
    pixels = np.full((2200, 1700), 240, np.uint8)
    yy, xx = np.mgrid[0:1800, 0:1300]
    photo = 60 + 80 * np.sin(xx / 90.0) * np.cos(yy / 130.0) + rng.normal(0, 25, (1800, 1300))
    pixels[200:2000, 200:1500] = np.clip(photo, 0, 255).astype(np.uint8)
    layout = analyse_layout(Image.fromarray(pixels), dpi=200)
    assert layout.reading_regions() == ()
    assert not layout.multi_column
    assert any(r.kind == IMAGE for r in layout.regions)


def test_bilevel_page_is_analysed_like_grey(unlv_dir):
    image = Image.open(unlv_dir / "8087_054.3B.tif")
    assert image.mode == "1"
    assert analyse_layout(image, dpi=300).columns == analyse_layout(image.convert("L"), dpi=300).columns


# ------------------------------------------------------------ reading order
def test_breuel_order_columns_above_a_headline_then_the_columns_under_it():
    boxes = np.array(
        [
            [0, 0, 100, 400],  # 0: column 1, story A
            [110, 0, 210, 300],  # 1: column 2, story A
            [0, 420, 210, 450],  # 2: headline of story B across both columns
            [110, 460, 210, 900],  # 3: column 2, story B
            [0, 460, 100, 900],  # 4: column 1, story B
            [110, 310, 210, 410],  # 5: end of column 2, story A
        ]
    )
    assert reading_order(boxes) == [0, 1, 5, 2, 4, 3]


# ------------------------------------------------------------- broadsheet
def _broadsheet_peak(path: str, queue) -> None:
    from digitize.images import load_page_image

    image = load_page_image(Path(path), grayscale=True)
    start = time.perf_counter()
    layout = analyse_layout(image)
    queue.put((layout.columns, layout.multi_column, len(layout.reading_regions()),
               time.perf_counter() - start, peak_rss_mb()))


@pytest.mark.slow
def test_ndnp_broadsheet_layout_stays_within_memory(shared_data):
    """The 33-megapixel 1935 broadsheet: several columns found, peak memory
    of loading and analysing it (in a fresh process) under 1.5 GB."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_broadsheet_peak, args=(str(shared_data / "ocr" / NDNP_PAGE), queue))
    child.start()
    columns, multi, regions, seconds, peak_mb = queue.get(timeout=300)
    child.join(timeout=60)
    assert multi and columns >= 4 and regions >= 50
    assert peak_mb <= MAX_BROADSHEET_RSS_MB
    assert seconds < 10.0
