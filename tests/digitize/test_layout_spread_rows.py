"""Pieces of one row are not a paragraph (issue #9), found on dev page 6 of ``bench/hardpages`` kind
``spread`` (dev split; never the test split): ``join_row_pieces`` joins body blocks side by side that a
column of faded words cut in two, and it joined, across a photographed spread's gutter, single rows of the
two facing pages (pieces of a running head, the lines beside the fold) into blocks two pages wide, which
were then read across the fold: 11.5 % CER against 0.74 % before the join existed. Each piece must now be
at least two lines tall (``ROW_MIN_HEIGHT_CHARS``)."""

from __future__ import annotations

import os

import pytest

import digitize
from bench.hardpages import generate_page
from digitize.quality import cer

pytestmark = pytest.mark.slow


def test_a_spread_is_not_read_across_its_fold(tmp_path):
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    page = generate_page(tmp_path, split="dev", kind="spread", index=6)
    reading = digitize.read_page(page.image_path, options=digitize.OcrOptions(languages="vie"), work_dir=tmp_path)
    assert cer(reading.text, "\n".join(page.lines)) < 0.02
