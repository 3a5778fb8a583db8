"""Fixtures for the OCR engine: the real tesseract and the real pages in
``../shared/data/ocr`` (see ``../shared/data/README.md`` for provenance):

- ``unlv-magazine/``: two 300-dpi bilevel English magazine pages from the
  UNLV-ISRI test set (via tesseract-ocr/test), full transcriptions and zone
  files (``.uzn``).
- ``bnl-newspaper-blocks/``: text blocks from Luxembourg newspapers of
  1858-59 (via natliblux/nautilusocr); ``gt/N.xml`` is corrected ALTO.

Full-page readings are made once per session and shared between tests.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from digitize import OcrOptions, read_page, read_zones

UNLV_PAGES = ("8087_054.3B", "8071_093.3B")


@pytest.fixture(scope="session")
def tesseract_program() -> str:
    program = shutil.which("tesseract")
    if program is None:
        pytest.skip("tesseract is not installed (Debian: tesseract-ocr)")
    return program


@pytest.fixture(scope="session")
def unlv_dir(shared_data) -> Path:
    return shared_data / "ocr" / "unlv-magazine"


@pytest.fixture(scope="session")
def bnl_dir(shared_data) -> Path:
    return shared_data / "ocr" / "bnl-newspaper-blocks"


@pytest.fixture(scope="session")
def unlv_zoned_readings(unlv_dir, tesseract_program, tmp_path_factory):
    """Each UNLV page read with its zone file: ``{page: (reading, truth)}``."""
    readings = {}
    for page in UNLV_PAGES:
        options = OcrOptions(languages="eng", zones=read_zones(unlv_dir / f"{page}.uzn"))
        reading = read_page(
            unlv_dir / f"{page}.tif", options=options, work_dir=tmp_path_factory.mktemp(page)
        )
        readings[page] = (reading, (unlv_dir / f"{page}.txt").read_text(encoding="utf-8"))
    return readings
