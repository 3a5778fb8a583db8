"""Bad input, read by the whole pipeline with the real tesseract: a blank
page, photographs, a page upside down, a mirrored page, a photo of a screen,
a tiny text on a huge page. Each gives a reading with an honest confidence
and a reason in ``warnings``; none crashes or invents text.

The thresholds of ``digitize.triage`` were set on other pages (other lines
of the poem, other photographs, BnL block 1, other noise); these pages are
for checking only. Photographs: ``../shared/data/photogrammetry`` (see its
README); text: *Lục Vân Tiên*, lines 800-829, rendered by
``digitize.synthetic``.
"""

from __future__ import annotations

import difflib
import io

import numpy as np
import pytest
from PIL import Image, ImageFilter, ImageOps

from digitize import OcrOptions, alto_text, cer, read_page, synthetic, tesseract, triage
from digitize.reading import tsv_words

POEM_LINES = slice(800, 830)


def word_accuracy(text: str, truth: str) -> float:
    """The share of the truth's words found, in order, in the text."""
    truth_words, words = truth.split(), text.split()
    matcher = difflib.SequenceMatcher(a=truth_words, b=words, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / max(1, len(truth_words))


def assert_honest(reading, truth: str, tolerance: float = 0.15) -> None:
    """The mean confidence says how much of the page was read right."""
    assert reading.mean_confidence is not None
    assert abs(reading.mean_confidence / 100 - word_accuracy(reading.text, truth)) <= tolerance


def words_on_ink(reading, share: float = 0.95) -> bool:
    """The boxes fall on ink of the normalised image (the frame they are in)."""
    with Image.open(reading.normalised_image_path) as image:
        ink = np.asarray(image.convert("L")) < 128
    inked = [ink[w.y : w.y + w.h, w.x : w.x + w.w].mean() > 0.05 for w in reading.words]
    return sum(inked) >= share * len(inked)


@pytest.fixture(scope="module")
def poem_page(shared_data):
    """A 300-dpi page of Vietnamese verse, lightly spoilt like a scan: (image, truth)."""
    lines = (shared_data / "text" / "luc-van-tien.quocngu.txt").read_text(encoding="utf-8").splitlines()
    try:
        font = synthetic.find_vietnamese_font()
    except synthetic.FontNotFound:
        pytest.fail("no font with every Vietnamese glyph is installed (Debian: fonts-dejavu-core)")
    page = synthetic.render_page(lines[POEM_LINES], font_path=font, dpi=300)
    image = synthetic.degrade(page.image, skew_deg=0.6, blur_radius=0.8, noise_sigma=8.0, seed=4)
    return image, page.text


def read(source, tmp_path, **options):
    options.setdefault("languages", "vie")
    return read_page(source, options=OcrOptions(**options), work_dir=tmp_path / "work")


# ------------------------------------------------------------------- blank
def test_blank_page_is_not_read(tmp_path):
    rng = np.random.default_rng(9)
    paper = np.clip(rng.normal(232, 5, (3508, 2480)), 0, 255).astype(np.uint8)
    for _ in range(20):  # dust
        y, x = rng.integers(0, 3500), rng.integers(0, 2470)
        paper[y : y + 3, x : x + 3] = 30
    page = Image.fromarray(paper).filter(ImageFilter.GaussianBlur(0.7))
    reading = read(page, tmp_path)
    assert reading.text == "" and reading.words == [] and reading.mean_confidence is None
    assert reading.warnings == ("blank page",)
    assert reading.cpu_s["tesseract"] < 0.05  # tesseract was not asked
    assert "<String" not in reading.alto and "class='ocrx_word'" not in reading.hocr


# ---------------------------------------------------------------- pictures
@pytest.mark.parametrize("photo", ["sceaux-castle/100_7108.JPG", "fountain-p11/images/0009.jpg", "noise"])
def test_a_picture_gives_no_invented_text(shared_data, tmp_path, photo):
    if photo == "noise":
        image = Image.fromarray(np.random.default_rng(21).integers(0, 256, (2400, 1800)).astype(np.uint8))
    else:
        image = Image.open(shared_data / "photogrammetry" / photo)
    reading = read(image, tmp_path)
    assert reading.words == [] and reading.text == "" and reading.mean_confidence is None
    assert reading.warnings and reading.warnings[0].startswith("no text found")


def test_a_caption_under_a_picture_is_kept(shared_data, poem_page, tmp_path):
    image, truth = poem_page
    with Image.open(shared_data / "photogrammetry" / "sceaux-castle" / "100_7109.JPG") as photo:
        picture = photo.convert("L").resize((2200, 1650))
    caption = image.crop((0, 140, image.width, 330))  # the first two lines of the poem
    page = Image.new("L", (2400, 2200), 240)
    page.paste(picture, (100, 100))
    page.paste(caption, (0, 1850))
    reading = read(page, tmp_path)
    first_line = truth.splitlines()[0]
    assert first_line in reading.text
    assert word_accuracy(reading.text, "\n".join(truth.splitlines()[:2])) >= 0.9
    assert len(reading.words) <= 20  # the caption's words, not the castle's stones


# ------------------------------------------------------- turned and mirrored
def test_upside_down_page_is_turned(poem_page, tmp_path):
    image, truth = poem_page
    reading = read(image.rotate(180), tmp_path)
    assert reading.warnings == ("upside down: turned",)
    assert reading.rotation_deg == 180
    assert cer(reading.text, truth) <= 0.02
    assert_honest(reading, truth)
    assert words_on_ink(reading)
    assert reading.cpu_s["osd_check"] > 0 and reading.timings_s["recheck"] >= reading.timings_s["osd_check"]


def test_mirrored_page_is_flipped(poem_page, tmp_path):
    image, truth = poem_page
    reading = read(ImageOps.mirror(image), tmp_path)
    assert reading.warnings == ("mirrored: flipped",)
    assert reading.mirrored and reading.rotation_deg == 0
    assert cer(reading.text, truth) <= 0.02
    assert_honest(reading, truth)
    assert words_on_ink(reading)


def test_a_good_page_gets_no_second_look(poem_page, tmp_path):
    image, truth = poem_page
    reading = read(image, tmp_path)
    assert reading.warnings == () and not reading.mirrored and reading.rotation_deg == 0
    assert "osd_check" not in reading.timings_s and "mirror_check" not in reading.timings_s
    assert cer(reading.text, truth) <= 0.02
    assert_honest(reading, truth)
    assert reading.low_confidence_words <= 0.05 * len(reading.words)


def test_an_upside_down_page_with_its_second_look_off_reads_as_no_text(poem_page, tmp_path, monkeypatch):
    # what the reading would be without the turn: garbage, which must not be kept
    from digitize import pipeline

    monkeypatch.setattr(pipeline, "turn_if_upside_down", lambda rows, context: rows)
    monkeypatch.setattr(pipeline, "flip_if_mirrored", lambda rows, context: rows)
    reading = read(poem_page[0].rotate(180), tmp_path)
    assert reading.warnings[0].startswith(("no text found", "little text found"))
    assert len(reading.words) <= 10


# ------------------------------------------------------------------ screens
def photo_of_a_screen(page: Image.Image, seed: int = 13) -> Image.Image:
    """The page shown on a screen and photographed: the screen's pixel grid,
    aliased into moiré by the camera, a slight turn, blur, vignetting,
    noise, JPEG."""
    rng = np.random.default_rng(seed)
    shown = np.asarray(page.resize((int(page.width * 0.55), int(page.height * 0.55)), Image.Resampling.BOX), float)
    cell = np.ones((3, 3))
    cell[0, :] = cell[:, 0] = 0.55
    gridded = np.kron(shown, np.ones((3, 3))) * np.tile(cell, shown.shape)
    photo = Image.fromarray(np.clip(gridded, 0, 255).astype(np.uint8)).rotate(
        1.3, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=40)
    photo = photo.resize((int(photo.width * 0.64), int(photo.height * 0.64)), Image.Resampling.NEAREST)
    pixels = np.asarray(photo.filter(ImageFilter.GaussianBlur(0.9)), float)
    yy, xx = np.mgrid[0 : pixels.shape[0], 0 : pixels.shape[1]]
    vignette = 1 - 1.2 * (((xx / pixels.shape[1]) - 0.5) ** 2 + ((yy / pixels.shape[0]) - 0.5) ** 2)
    pixels = pixels * vignette * 0.85 + 20 + rng.normal(0, 6, pixels.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=70)
    return Image.open(buffer)


def test_photo_of_a_screen_is_read_with_an_honest_confidence(poem_page, tmp_path):
    image, truth = poem_page
    reading = read(photo_of_a_screen(image), tmp_path)
    assert cer(reading.text, truth) <= 0.10
    assert_honest(reading, truth)
    # what tesseract is unsure of is where it went wrong
    wrong = [w for w in reading.words if w.text not in truth]
    right = [w for w in reading.words if w.text in truth]
    assert np.mean([w.confidence for w in wrong]) < np.mean([w.confidence for w in right]) - 10


# ------------------------------------------------------------------ margins
def test_small_text_on_a_huge_page_is_read_alone_and_boxed_in_the_page(bnl_dir, tmp_path):
    with Image.open(bnl_dir / "images" / "2.tif") as block_image:
        block = block_image.convert("L")
    rng = np.random.default_rng(3)
    page = Image.fromarray(np.clip(rng.normal(220, 3, (6000, 4500)), 0, 255).astype(np.uint8))  # the block's paper
    page.paste(block, (2500, 3900))
    truth = alto_text(bnl_dir / "gt" / "2.xml")
    alone = read(block, tmp_path / "alone", languages="fra", deskew=False)
    cropped = read(page, tmp_path / "cropped", languages="fra", deskew=False)
    whole = read(page, tmp_path / "whole", languages="fra", deskew=False, stages_off={"layout"})
    assert cropped.warnings == ("mostly margin: the text covers 1% of the page",) and whole.warnings == ()
    assert cer(cropped.text, truth) <= 0.01
    matcher = difflib.SequenceMatcher(a=[w.text for w in alone.words], b=[w.text for w in cropped.words],
                                      autojunk=False)
    pairs = [(alone.words[m.a + i], cropped.words[m.b + i]) for m in matcher.get_matching_blocks() for i in range(m.size)]
    assert len(pairs) >= 0.95 * len(alone.words)
    for small, big in pairs:
        assert abs(big.x - (small.x + 2500)) <= 2 and abs(big.y - (small.y + 3900)) <= 2
    (region,) = cropped.regions
    assert region.x <= 2500 and region.x + region.w >= 2500 + block.width and region.w < 1500
    assert cropped.cpu_s["tesseract"] < whole.cpu_s["tesseract"]


# ---------------------------------------------------------- nothing real lost
@pytest.mark.parametrize("page, languages", [
    ("unlv-magazine/8087_054.3B.tif", "eng"), ("bnl-newspaper-blocks/images/0.tif", "fra"),
    ("bnl-newspaper-blocks/images/1.tif", "fra"),
])
def test_on_real_pages_only_specks_are_dropped(shared_data, page, languages):
    # block 0 is Fraktur read with the French model: a poor reading of real text
    with Image.open(shared_data / "ocr" / page) as image:
        rows = tsv_words(tesseract.recognise(image, languages=languages, timeout_s=300).tsv)
    assert triage.holds_text(rows)
    dropped = [r for r in rows if r.index in triage.garbage_rows(rows)]
    assert all(triage.is_specks(r.text) for r in dropped) and len(dropped) <= 0.01 * len(rows)
