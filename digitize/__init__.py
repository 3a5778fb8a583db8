"""The OCR engine: page images in, text with word boxes (and hOCR, ALTO) out.

An engine in the sense of the design: files and options in, files and
results out; it knows nothing of the catalogue, the web or the task queue.
Nothing runs at import time; tesseract is probed on first use.

    from digitize import OcrOptions, read_page
    reading = read_page(path, options=OcrOptions(languages="vie"), work_dir=tmp)
"""

from digitize.errors import (
    DigitizeError,
    EngineMissing,
    ImageTooLarge,
    ImageUnreadable,
    LanguageMissing,
    OcrFailed,
    OcrTimeout,
    TesseractMissing,
    ZonesInvalid,
)
from digitize.images import load_page_image, make_thumbnail, page_count
from digitize.pipeline import OcrOptions, Zone, read_page, read_zones
from digitize.quality import alto_text, cer
from digitize.reading import PageReading, TextBlock, TextLine, Word
from digitize.tesseract import available_languages, tesseract_version

__all__ = [
    "DigitizeError",
    "EngineMissing",
    "ImageTooLarge",
    "ImageUnreadable",
    "LanguageMissing",
    "OcrFailed",
    "OcrOptions",
    "OcrTimeout",
    "PageReading",
    "TesseractMissing",
    "TextBlock",
    "TextLine",
    "Word",
    "Zone",
    "ZonesInvalid",
    "alto_text",
    "available_languages",
    "cer",
    "load_page_image",
    "make_thumbnail",
    "page_count",
    "read_page",
    "read_zones",
    "tesseract_version",
]
