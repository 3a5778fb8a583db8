"""The viewer pyramid (library.reading.pyramid) and what the reader keeps per page:
pixels of every level against the source within a PSNR bound, bilevel pages kept
losslessly, the normalised PNG only a work file (unless a setting keeps it), and
the stored derivatives within 1.5x the originals' bytes on a small mix."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from library.access import Actor
from library.container import build_platform
from library.ingest.service import Upload
from library.reading import pyramid
from library.discovery.iiif import ImageLimits, ImageService
from tests.conftest import make_settings

SYSTEM = Actor.system("tests")


def psnr(a: Image.Image, b: Image.Image) -> float:
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    mse = float((d ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def text_page(size=(1700, 2300), mode="L", seed=3) -> Image.Image:
    """A page of grey paper with dark text lines and a little noise (a camera or scanner page)."""
    rng = np.random.default_rng(seed)
    img = Image.new("L", size, 225)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=34)
    for n, y in enumerate(range(150, size[1] - 150, 60)):
        draw.text((140, y), f"Dong {n}: Van Mieu duoc xay dung nam 1070 duoi trieu vua Ly", fill=30, font=font)
    a = np.clip(np.asarray(img, dtype=float) + rng.normal(0, 4, (size[1], size[0])), 0, 255).astype(np.uint8)
    out = Image.fromarray(a)
    return out.convert(mode) if mode != "L" else out


def test_a_grey_page_becomes_a_jpeg_pyramid_close_to_it_at_every_level(tmp_path):
    src = text_page()
    src.info["dpi"] = (300, 300)
    out = pyramid.write_pyramid(src, tmp_path / "viewer.tif", quality=75)
    sizes = pyramid.levels(out)
    assert sizes[0] == src.size and len(sizes) >= 3
    assert all(abs(w - sizes[k - 1][0] / 2) <= 1 for k, (w, _) in enumerate(sizes) if k)
    assert max(sizes[-1]) <= pyramid.TILE_PX
    assert psnr(pyramid.full_image(out), src) > 32
    # a tile at scale factor 2 comes from the level below and matches the source shrunk the same way
    tile = pyramid.region(out, (1024, 1024, 676, 1024), (338, 512))
    expected = src.resize((338, 512), Image.Resampling.LANCZOS, box=(1024, 1024, 1700, 2048))
    assert tile.size == (338, 512) and psnr(tile, expected) > 30
    with Image.open(out) as im:  # Pillow (the PDF writer) reads the full level and its resolution
        assert im.size == src.size and round(im.info["dpi"][0]) == 300
    assert out.stat().st_size < len(_png(src))  # far smaller than the lossless PNG it replaces


def test_a_bilevel_page_is_kept_losslessly(tmp_path):
    src = text_page(mode="L").point(lambda v: 255 if v > 128 else 0).convert("1")
    out = pyramid.write_pyramid(src, tmp_path / "viewer.tif")
    assert pyramid.is_bilevel(src)
    full = pyramid.full_image(out)
    assert np.array_equal(np.asarray(full), np.asarray(src.convert("L")))
    with Image.open(out) as im:
        assert im.mode == "1" and im.info.get("compression") == "group4"
    small = pyramid.region(out, (0, 0) + src.size, (170, 230))
    assert small.size == (170, 230) and psnr(small, src.convert("L").resize((170, 230), Image.Resampling.LANCZOS)) > 25


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _read_item(platform, paths):
    report = platform.ingest.ingest_item([Upload(p, p.name) for p in paths], {"title": "Kho", "language": "eng"},
                                         actor=SYSTEM)
    assert report.ok, report.as_dict()
    item_id = report.items[0].item_id
    rows = platform.catalogue.page_statuses(item_id)
    for row in rows:
        assert platform.reader.read(row.page_id).value == "done"
    return item_id, rows


def _stored_bytes(platform, item_id, sequence) -> dict[str, int]:
    folder = platform.store.resolve(platform.store.page_derivative_relpath(item_id, sequence, "text")).parent
    return {f.name: f.stat().st_size for f in folder.iterdir() if f.is_file()}


def test_the_reader_keeps_a_pyramid_not_the_normalised_png_within_the_budget(tmp_path):
    grey = tmp_path / "trang-xam.jpg"
    text_page().save(grey, quality=90, dpi=(300, 300))
    bilevel = tmp_path / "trang-den-trang.tif"
    text_page(seed=5).point(lambda v: 255 if v > 128 else 0).convert("1").save(bilevel, compression="group4",
                                                                                dpi=(300, 300))
    platform = build_platform(make_settings(tmp_path / "data"))
    try:
        item_id, rows = _read_item(platform, [grey, bilevel])
        originals = grey.stat().st_size + bilevel.stat().st_size
        kept = 0
        for seq in (1, 2):
            files = _stored_bytes(platform, item_id, seq)
            assert set(files) == {"viewer.tif"}, files  # thumbnails are IIIF sizes, the text the catalogue's
            kept += sum(files.values())
        assert kept <= 1.5 * originals, (kept, originals)
        assert not list((platform.settings.work_dir).rglob("normalised.png"))  # the work file is gone
        # the image service serves the pyramid, in the frame of the word boxes
        service = ImageService(platform.catalogue, platform.store, ImageLimits())
        for row in rows:
            page = platform.catalogue.page(row.page_id)
            image = service.page_image(f"p{page.id}")
            assert image.path.name == "viewer.tif" and (image.width, image.height) == (page.width, page.height)
            req = service.parse(image, "full", "max", "0", "default", "png")
            with Image.open(io.BytesIO(service.rendered(image, req).data)) as shown:
                assert shown.size == (page.width, page.height)
        assert "Van Mieu" in (platform.catalogue.page(rows[0].page_id).text or "")
        alto, _ = platform.exports.page_document(item_id, 1, "alto")  # made from the catalogue on demand
        assert "Mieu" in alto
    finally:
        platform.close()


def test_a_setting_keeps_the_normalised_png(tmp_path):
    page = tmp_path / "trang.jpg"
    text_page(size=(900, 500)).save(page, quality=90, dpi=(300, 300))
    platform = build_platform(make_settings(tmp_path / "data", keep_normalised=True))
    try:
        item_id, _ = _read_item(platform, [page])
        files = _stored_bytes(platform, item_id, 1)
        assert {"viewer.tif", "normalised.png"} <= set(files)
    finally:
        platform.close()


@pytest.mark.parametrize("raw, kept", [("1", True), ("0", False), ("yes", True)])
def test_keep_normalised_is_read_from_the_environment(tmp_path, raw, kept):
    from library.settings import Settings

    assert Settings.from_env({"HERITAGE_KEEP_NORMALISED": raw}, data_dir=tmp_path).keep_normalised is kept


def colour_page(size=(1200, 900)) -> Image.Image:
    grey = np.asarray(text_page(size=size), dtype=float)
    rgb = np.stack([grey * 0.95 + 10, grey * 0.9 + 5, grey * 0.7], axis=2).clip(0, 255).astype(np.uint8)
    rgb[60:200, 700:1100] = (190, 30, 30)  # a red picture
    return Image.fromarray(rgb)


def test_a_colour_page_is_put_in_the_reading_frame():
    colour = colour_page()
    # the reading's frame: turned upside down, then 1.5 degrees of skew removed, in grey
    normalised = colour.convert("L").transpose(Image.Transpose.ROTATE_180).rotate(
        1.5, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
    out = pyramid.colour_in_frame(colour, normalised, skew_deg=1.5)
    assert out is not None and out.mode == "RGB" and out.size == normalised.size
    assert psnr(out.convert("L"), normalised) > 30
    assert pyramid.colour_in_frame(colour.convert("L").convert("RGB"), normalised, 1.5) is None  # grey as RGB
    assert pyramid.colour_in_frame(colour, normalised.resize((500, 500)), 1.5) is None  # no turn gives that frame


def test_a_colour_page_read_keeps_its_colour_for_viewers(tmp_path):
    page = tmp_path / "trang-mau.jpg"
    colour_page().save(page, quality=90, dpi=(300, 300))
    platform = build_platform(make_settings(tmp_path / "data"))
    try:
        item_id, rows = _read_item(platform, [page])
        stored = platform.catalogue.page(rows[0].page_id)
        path = platform.store.resolve(platform.store.page_derivative_relpath(item_id, 1, "viewer"))
        shown = pyramid.full_image(path)
        assert shown.mode == "RGB" and shown.size == (stored.width, stored.height)
        red = np.asarray(shown, dtype=int)[60:200, 700:1100]
        assert (red[..., 0] - red[..., 1]).mean() > 100  # the red picture is red
    finally:
        platform.close()
