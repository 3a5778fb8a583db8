"""The recipe's hooks: optional stages, per-page decisions, what each stage
reports (digitize.pipeline), on small pages with the real tesseract."""

from __future__ import annotations


import pytest
from PIL import Image, ImageDraw, ImageFont

from digitize import OcrOptions, read_page
from digitize import pipeline
from digitize.reading import LOW_CONFIDENCE

RECIPE = ["check_engine", "load", "grayscale", "orientation", "deskew", "save_normalised", "rescale", "enhance",
          "layout", "tesseract", "parse", "compare_scales", "compare_enhanced", "better_model", "recheck", "postcorrect",
          "assemble"]


@pytest.fixture
def small_page() -> Image.Image:
    image = Image.new("L", (1200, 500), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=36)
    for n, line in enumerate(["The Temple of Literature in Hanoi", "was founded in 1070 by the emperor",
                              "Ly Thanh Tong as a temple of Confucius"]):
        draw.text((60, 60 + 80 * n), line, font=font, fill=0)
    image.info["dpi"] = (300, 300)
    return image


def test_optional_stages_are_named_and_checked():
    assert pipeline.OPTIONAL_STAGES == ("rescale", "illumination", "denoise", "show-through", "binarise", "borders",
                                        "dewarp", "layout", "model", "postcorrect")
    options = OcrOptions(stages_off=["layout", "postcorrect"])
    assert options.stages_off == frozenset({"layout", "postcorrect"})
    assert not options.runs("layout") and options.runs("binarise")
    assert OcrOptions(stages_off="denoise").stages_off == frozenset({"denoise"})
    with pytest.raises(ValueError, match="binarize"):  # a typo names the stages it could have meant
        OcrOptions(stages_off={"binarize"})
    assert OcrOptions().binarize is None and OcrOptions().stages_off == frozenset()


@pytest.mark.parametrize("binarize, off, binarised", [
    (None, (), False), (True, (), True), (False, (), False), (True, ("binarise",), False),
])
def test_enhance_binarises_only_when_forced_and_not_switched_off(small_page, tmp_path, binarize, off, binarised):
    context = pipeline.PageContext(options=OcrOptions(binarize=binarize, stages_off=frozenset(off)),
                                   work_dir=tmp_path)
    out = pipeline.enhance(small_page, context)
    assert (out.mode == "1") == binarised
    if not binarised:
        assert out is small_page


def test_every_stage_is_timed_in_order(small_page, tmp_path):
    started: list[str] = []
    reading = read_page(small_page, options=OcrOptions(languages="eng"), work_dir=tmp_path, progress=started.append)
    assert started == RECIPE
    assert set(RECIPE) | {"total"} == set(reading.timings_s) == set(reading.cpu_s)
    assert reading.cpu_s["tesseract"] > 0.5 * sum(v for k, v in reading.cpu_s.items() if k != "total")
    assert "Temple of Literature" in reading.text


def test_a_good_reading_reports_no_doubts(small_page, tmp_path):
    reading = read_page(small_page, options=OcrOptions(languages="eng"), work_dir=tmp_path)
    assert reading.warnings == () and reading.raw_text is None
    for region in reading.regions:  # the inked part alone may have been read: every word is in it
        assert region.psm == 3
        for word in reading.words:
            assert region.x <= word.x and word.x + word.w <= region.x + region.w
            assert region.y <= word.y and word.y + word.h <= region.y + region.h
    assert reading.low_confidence_words == sum(1 for w in reading.words if w.confidence < LOW_CONFIDENCE)
    assert not reading.mirrored and reading.mean_confidence > 85


def test_stages_switched_off_still_give_a_reading(small_page, tmp_path):
    options = OcrOptions(languages="eng", stages_off=frozenset(pipeline.OPTIONAL_STAGES), binarize=True,
                         clean_borders=True)
    reading = read_page(small_page, options=options, work_dir=tmp_path)
    assert "founded in 1070" in reading.text


def test_zones_become_regions_in_the_page_frame(small_page, tmp_path):
    # the lines as zones in reverse order: the reading follows the zones
    zones = tuple(pipeline.Zone(40, 40 + 80 * n, 1100, 70) for n in (2, 0))
    path = tmp_path / "page.png"
    small_page.resize((600, 250)).save(path, dpi=(150, 150))  # enlarged before tesseract: regions scale back
    half = tuple(pipeline.scale_zone(z, 0.5) for z in zones)
    reading = read_page(path, options=OcrOptions(languages="eng", zones=half, deskew=False), work_dir=tmp_path / "w")
    assert reading.upscaled
    assert reading.text.startswith("Ly Thanh Tong") and "Temple of Literature" in reading.text.split("\n\n")[1]
    assert "founded" not in reading.text
    assert [(r.x, r.y, r.w, r.h) for r in reading.regions] == [(z.x, z.y, z.w, z.h) for z in half]
    assert [r.psm for r in reading.regions] == [6, 6] and reading.regions[0].kind == "text"
    for block, region in zip(reading.blocks, reading.regions):
        assert region.x <= block.x and block.x + block.w <= region.x + region.w + 1


@pytest.mark.slow
def test_a_magazine_page_is_read_column_by_column_without_a_zone_file(shared_data, tmp_path):
    """The layout stage finds the columns of a real UNLV magazine page and
    reads them region by region: far closer to the truth than tesseract's
    own psm 3 layout (7.8 % CER), as close as the zone file (1.9 %)."""
    from digitize import cer

    folder = shared_data / "ocr" / "unlv-magazine"
    reading = read_page(folder / "8087_054.3B.tif", options=OcrOptions(languages="eng"), work_dir=tmp_path)
    truth = (folder / "8087_054.3B.txt").read_text(encoding="utf-8")
    assert len(reading.regions) >= 5
    assert cer(reading.text, truth) <= 0.025
    without = read_page(folder / "8087_054.3B.tif", options=OcrOptions(languages="eng", stages_off={"layout"}),
                        work_dir=tmp_path / "off")
    assert without.regions == () and cer(without.text, truth) > 0.05


@pytest.mark.slow
def test_a_newspaper_page_keeps_its_regions_kinds_and_articles_in_alto(tmp_path):
    """A three-column page of the hard development set: read by regions, its
    headline blocks are typed in ALTO, articles are structure tags the blocks
    point to, and the columns come out in reading order."""
    import re

    from bench.hardpages import generate
    from digitize.quality import reading_order_agreement

    page = generate(tmp_path / "pages", split="dev", pages_per_kind=1, kinds=["newspaper3"])[0]
    reading = read_page(page.image_path, options=OcrOptions(), work_dir=tmp_path / "work")
    assert len(reading.regions) >= 4
    assert 'TYPE="headline"' in reading.alto
    tags = set(re.findall(r'<StructureTag ID="(article_\d+)" TYPE="article"', reading.alto))
    refs = set(re.findall(r'TAGREFS="(article_\d+)"', reading.alto))
    assert tags and refs == tags
    assert reading_order_agreement(reading.text, page.lines) >= 0.95
