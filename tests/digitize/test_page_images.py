"""Loading page images safely (digitize.images)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from digitize import ImageTooLarge, ImageUnreadable, load_page_image, make_thumbnail, page_count
from digitize.images import save_png


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` × ``height`` pixels (no real data)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit gray
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture
def page_image() -> Image.Image:
    """A small asymmetric page: a black square in the top-left corner."""
    image = Image.new("L", (300, 200), 255)
    image.paste(0, (10, 10, 60, 60))
    return image


def test_png_declaring_ten_billion_pixels_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_declaring(100_000, 100_000))
    assert path.stat().st_size < 200
    with pytest.raises(ImageTooLarge) as caught:
        load_page_image(path)
    assert "10,000,000,000" in str(caught.value) and "bomb.png" in str(caught.value)
    assert caught.value.max_pixels == 120_000_000  # our limit is the one reported


def test_our_pixel_limit_applies_below_pillows(tmp_path, page_image):
    path = tmp_path / "page.png"
    page_image.save(path)
    with pytest.raises(ImageTooLarge) as caught:
        load_page_image(path, max_pixels=50_000)
    assert caught.value.pixels == 60_000 and caught.value.max_pixels == 50_000
    # and a limit above Pillow's warning threshold raises no warning (warnings are errors here)
    huge = tmp_path / "huge.png"
    huge.write_bytes(png_declaring(10_000, 10_000))  # 100 M pixels > Pillow's 89 M warning
    with pytest.raises(ImageTooLarge):
        load_page_image(huge, max_pixels=50_000_000)


def test_corrupt_bytes_are_unreadable(tmp_path):
    path = tmp_path / "scan.jpg"
    path.write_bytes(b"this is not an image at all" * 10)
    with pytest.raises(ImageUnreadable) as caught:
        load_page_image(path)
    assert "scan.jpg" in str(caught.value) and "format" in caught.value.problem


def test_truncated_jpeg_is_unreadable(tmp_path):
    rng = np.random.default_rng(0)
    noisy = Image.fromarray(rng.integers(0, 256, (400, 400), dtype=np.uint8))
    path = tmp_path / "cut.jpg"
    noisy.save(path, quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageUnreadable) as caught:
        load_page_image(path)
    assert "truncated" in str(caught.value)


def test_missing_file_and_missing_page(tmp_path, page_image):
    with pytest.raises(ImageUnreadable, match="does not exist"):
        load_page_image(tmp_path / "nothing.png")
    path = tmp_path / "one.png"
    page_image.save(path)
    with pytest.raises(ImageUnreadable, match="page 2 does not exist"):
        load_page_image(path, page_index=1)


def test_exif_orientation_is_applied(tmp_path, page_image):
    # store the page turned a quarter counter-clockwise, with EXIF 6 ("turn 90° clockwise to view")
    stored = page_image.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    stored.save(path, exif=exif, quality=95)
    loaded = load_page_image(path)
    assert loaded.size == page_image.size
    assert loaded.info["exif_rotation_deg"] == 90
    pixels = np.asarray(loaded.convert("L"))
    assert pixels[20:50, 20:50].mean() < 40  # the square is back in the top-left corner
    assert pixels[150:190, 250:290].mean() > 215


def test_multi_page_tiff(tmp_path, page_image):
    pages = [page_image, Image.new("L", (120, 80), 0), Image.new("L", (50, 40), 128)]
    path = tmp_path / "book.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="tiff_deflate")
    assert page_count(path) == 3
    second = load_page_image(path, page_index=1)
    assert second.size == (120, 80) and np.asarray(second).max() == 0
    third = load_page_image(path, page_index=2)
    assert third.size == (50, 40)
    with pytest.raises(ImageTooLarge):
        load_page_image(path, page_index=0, max_pixels=10_000)  # each page is checked
    with pytest.raises(ImageUnreadable, match="has 3 pages"):
        load_page_image(path, page_index=3)


def test_pdf_pages_are_rasterised_at_the_requested_dpi(tmp_path, page_image):
    path = tmp_path / "scan.pdf"
    page_image.save(path, resolution=100.0, save_all=True, append_images=[Image.new("L", (100, 100), 0)])
    assert page_count(path) == 2
    first = load_page_image(path, pdf_dpi=200)  # 3 × 2 inches
    assert first.size == (600, 400) and first.info["dpi"] == (200, 200)
    pixels = np.asarray(first.convert("L"))
    assert pixels[30:110, 30:110].mean() < 40 and pixels[300:380, 400:560].mean() > 215
    assert load_page_image(path, page_index=1, pdf_dpi=72).size == (72, 72)
    with pytest.raises(ImageTooLarge, match="at 1200 dpi"):
        load_page_image(path, pdf_dpi=1200, max_pixels=1_000_000)


def test_broken_pdf_is_unreadable(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer <<>>\n%%EOF")
    with pytest.raises(ImageUnreadable) as caught:
        load_page_image(path)
    assert "broken.pdf" in str(caught.value)


def test_transparency_and_16_bit_are_flattened(tmp_path):
    from digitize.preprocess import to_grayscale

    rgba = Image.new("RGBA", (20, 20), (0, 0, 0, 0))  # fully transparent black
    assert np.asarray(to_grayscale(rgba)).min() == 255  # becomes white paper, not black
    deep = Image.fromarray(np.full((10, 10), 65535, np.uint16))
    assert np.asarray(to_grayscale(deep)).min() == 255


def test_thumbnail(tmp_path, page_image):
    path = tmp_path / "page.jpg"
    page_image.resize((3000, 2000)).save(path)
    thumb = make_thumbnail(path, max_px=400)
    assert max(thumb.size) == 400 and thumb.size == (400, 267)
    pdf = tmp_path / "page.pdf"
    page_image.save(pdf, resolution=100.0)
    assert max(make_thumbnail(pdf, max_px=100).size) <= 100


@pytest.mark.parametrize("mode", ["L", "1"])
def test_fast_png_round_trips(tmp_path, mode):
    rng = np.random.default_rng(3)
    image = Image.fromarray(rng.integers(0, 256, (37, 45), dtype=np.uint8)).convert(mode)  # odd sizes
    path = save_png(image, tmp_path / "page.png", dpi=300)
    with Image.open(path) as back:
        assert back.mode == mode and back.size == image.size
        assert round(back.info["dpi"][0]) == 300
        assert np.array_equal(np.asarray(back), np.asarray(image))
