"""Pages the storage benches share: where the real shared pages are (``../shared/data/ocr`` beside the
repository) and two generated ones (a grey book page and a colour magazine page, JPEG as cameras
deliver). No platform code is imported here, so ``bench/storage.py --root`` can measure another tree."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ocr"


def generated_pages(folder: Path, *, noise_sd: float, red_box: tuple[slice, slice]) -> tuple[Path, Path]:
    """``(book, magazine)`` written to ``folder``: the same rendered Vietnamese text, grey with sensor
    noise of ``noise_sd`` grey levels, and in colour with a red block at ``red_box`` (rows, columns)."""
    import numpy as np
    from PIL import Image

    from digitize.synthetic import find_vietnamese_font, render_page

    font = find_vietnamese_font()
    lines = ["Văn Miếu được xây dựng năm 1070 dưới triều vua Lý Thánh Tông.",
             "Quốc Tử Giám là trường đại học đầu tiên của nước ta."] * 12
    page = render_page(lines, font_path=font, dpi=300, page_width_in=6.0, page_height_in=8.0,
                       margin_in=0.6, font_size_pt=11).image.convert("L")
    rng = np.random.default_rng(7)
    grey = np.clip(np.asarray(page, dtype=float) * 0.85 + 25 + rng.normal(0, noise_sd, page.size[::-1]), 0, 255)
    book = folder / "book-grey.jpg"
    Image.fromarray(grey.astype(np.uint8)).save(book, quality=90, dpi=(300, 300))
    colour = np.stack([grey * 0.95 + 10, grey * 0.9 + 5, grey * 0.75], axis=2).clip(0, 255).astype(np.uint8)
    colour[red_box] = (180, 40, 40)
    mag = folder / "magazine-colour.jpg"
    Image.fromarray(colour).save(mag, quality=90, dpi=(300, 300))
    return book, mag
