"""Preprocessing functions, each alone (digitize.preprocess and the zone maths)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from digitize import preprocess as P
from digitize.pipeline import Zone, clip_zones, format_zones, rotate_zone, rotate_zone_quarters, scale_zone

WORDS = "the quick brown fox jumps over a lazy dog while librarians scan old newspapers".split()


def text_page(size=(1200, 1600), font_px=28, line_px=44, margin_px=80) -> Image.Image:
    """Lines of text drawn with Pillow's built-in font, black on white, "L"."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=font_px)
    rng = np.random.default_rng(1)
    y = margin_px
    while y + line_px < size[1] - margin_px:
        line = " ".join(rng.choice(WORDS, 12))
        draw.text((margin_px, y), line, font=font, fill=0)
        y += line_px
    return image


def skew_of(image: Image.Image) -> float:
    gray, x_scale, y_scale = P.analysis_copy(image)
    return P.estimate_skew_deg(gray, x_scale=x_scale, y_scale=y_scale)


@pytest.mark.parametrize("angle_deg", [-4.0, -1.3, 0.0, 0.4, 2.0])
def test_skew_is_measured_within_a_tenth_of_a_degree(angle_deg):
    page = text_page()
    rotated = page.rotate(angle_deg, resample=Image.Resampling.BICUBIC, fillcolor=255) if angle_deg else page
    assert skew_of(rotated) == pytest.approx(angle_deg, abs=0.1)


def test_rotating_by_the_opposite_angle_straightens_the_page():
    crooked = text_page().rotate(2.5, resample=Image.Resampling.BICUBIC, fillcolor=255)
    straight = P.rotate_page(crooked, -skew_of(crooked))
    assert abs(skew_of(straight)) < 0.1
    assert straight.width > crooked.width and straight.height > crooked.height  # nothing cut off


def test_pages_without_text_lines_have_no_skew():
    rng = np.random.default_rng(0)
    blank = Image.new("L", (800, 1000), 255)
    noise = Image.fromarray(rng.integers(0, 256, (1000, 800), dtype=np.uint8))
    assert skew_of(blank) == 0.0
    assert abs(skew_of(noise)) <= P.MIN_SKEW_CORRECTION_DEG


def test_bilevel_pages_stay_bilevel_when_rotated():
    page = text_page().convert("1")
    assert P.rotate_page(page, 1.0).mode == "1"
    assert P.to_grayscale(page).mode == "1"


def test_text_height_shrinks_with_resolution():
    page = text_page()
    gray, xs, ys = P.analysis_copy(page)
    full = P.estimate_text_height_px(gray, x_scale=xs, y_scale=ys)
    half_image = page.resize((page.width // 2, page.height // 2), Image.Resampling.BOX)
    gray, xs, ys = P.analysis_copy(half_image)
    half = P.estimate_text_height_px(gray, x_scale=xs, y_scale=ys)
    assert 20 <= full <= 40
    assert half == pytest.approx(full / 2, rel=0.2)
    assert P.estimate_text_height_px(np.full((100, 100), 255, np.uint8)) is None


def test_upscale_factor_rules():
    # a declared 150 dpi asks for 2x, capped by what the text needs
    assert P.upscale_factor(dpi=150, text_height_px=None, target_dpi=300) == 2.0
    assert P.upscale_factor(dpi=150, text_height_px=20, target_dpi=300) == 1.5
    # "72 dpi" photos with large text are not enlarged
    assert P.upscale_factor(dpi=72, text_height_px=60, target_dpi=300) == 1.0
    # 300-dpi pages never are
    assert P.upscale_factor(dpi=300, text_height_px=10, target_dpi=300) == 1.0
    # without a dpi, only small text counts
    assert P.upscale_factor(dpi=None, text_height_px=15, target_dpi=300) == 2.0
    assert P.upscale_factor(dpi=None, text_height_px=25, target_dpi=300) == 1.0
    assert P.upscale_factor(dpi=None, text_height_px=None, target_dpi=300) == 1.0
    assert P.upscale_factor(dpi=None, text_height_px=2, target_dpi=300) == P.MAX_UPSCALE


def test_plausible_dpi():
    assert P.plausible_dpi((300, 300)) == 300
    assert P.plausible_dpi((1, 1)) is None
    assert P.plausible_dpi(None) is None and P.plausible_dpi(("x",)) is None


def test_otsu_splits_two_levels():
    gray = np.array([[30] * 50 + [220] * 50], dtype=np.uint8)
    threshold = P.otsu_threshold(gray)
    assert 30 <= threshold < 220
    assert P.ink_mask(gray).sum() == 50


def test_sauvola_finds_text_under_uneven_light():
    page = np.asarray(text_page((600, 400)), dtype=np.float32)
    light = np.linspace(0.35, 1.0, page.shape[1], dtype=np.float32)[None, :]  # dark on the left
    lit = (page * light).astype(np.uint8)
    truth = page < 128
    sauvola = P.sauvola_ink(lit, window_px=31, band_rows=128)
    otsu = P.otsu_ink(lit)
    agree = lambda ink: (ink == truth).mean()  # noqa: E731
    assert agree(sauvola) > 0.98
    assert agree(sauvola) > agree(otsu)
    assert P.ink_to_image(sauvola).mode == "1"


def test_border_mask_finds_a_scanner_frame():
    ink = np.zeros((200, 100), bool)
    ink[:8] = True  # dark band at the top
    ink[:, -5:] = True  # and at the right
    ink[100, 20:80] = True  # a text stroke inside stays
    mask = P.border_mask(ink)
    assert mask[:8].all() and mask[:, -5:].all()
    assert not mask[100, 20:80].any() and not mask[8:, :95].any()


def test_zones_follow_quarter_turns():
    zone = Zone(10, 20, 30, 40)
    width, height = 100, 200
    turned = rotate_zone_quarters(zone, 90, width, height)
    assert turned == Zone(200 - 60, 10, 40, 30)
    # four quarter turns bring it back
    z, w, h = zone, width, height
    for _ in range(4):
        z, (w, h) = rotate_zone_quarters(z, 90, w, h), (h, w)
    assert z == zone
    assert rotate_zone_quarters(zone, 180, width, height) == Zone(60, 140, 30, 40)


def test_zones_follow_small_rotations_and_scaling():
    zone = Zone(100, 100, 200, 50)
    same = rotate_zone(zone, 0.0, (1000, 800))
    assert same == zone
    grown = rotate_zone(zone, 2.0, (1000, 800), (1030, 835))
    assert grown.w >= 200 and grown.h > 50
    assert scale_zone(zone, 2.0) == Zone(200, 200, 400, 100)
    assert clip_zones((Zone(-5, 10, 20, 20), Zone(500, 500, 10, 10)), 100, 100) == (Zone(0, 10, 15, 20),)
    assert format_zones((Zone(1, 2, 3, 4, "Header/Footer"),)) == "1 2 3 4 Header/Footer\n"
