"""Exports are kept within a size bound (``HERITAGE_EXPORTS_CACHE_BYTES``), the least recently used out
first, and made again on demand, the same; an export made anew replaces the old one in the count."""

from __future__ import annotations

import pytest

from library.access import Actor
from library.container import build_platform
from library.discovery.exports import ExportService
from library.ingest.service import Upload
from tests.conftest import make_settings
from tests.workers.test_ocr_workers import small_pages

pytestmark = pytest.mark.slow


def _read_items(platform, tmp_path, n: int) -> list[int]:
    ids = []
    for i, page in enumerate(small_pages(n)):
        path = tmp_path / f"trang-{i}.png"
        page.image.save(path, dpi=(300, 300))
        item_id = platform.ingest.ingest_item([Upload(path, path.name)], {"title": f"Sách {i}"},
                                              actor=Actor.system("tests")).items[0].item_id
        for row in platform.catalogue.page_statuses(item_id):
            assert platform.reader.read(row.page_id).value == "done"
        assert platform.reader.finish_item(item_id).value == "done"
        ids.append(item_id)
    return ids


def test_exports_stay_within_the_bound_and_are_made_again(tmp_path):
    platform = build_platform(make_settings(tmp_path / "data"))
    try:
        a, b, c = _read_items(platform, tmp_path, 3)
        sizes = {i: platform.exports.export(i, "pdf").size_bytes for i in (a, b, c)}
        bound = sizes[b] + sizes[c] + max(sizes.values()) // 2  # room for two PDFs, not three
        exports = ExportService(make_settings(tmp_path / "data", exports_cache_bytes=bound), platform.sessions,
                                platform.store)
        first = {i: exports.export(i, "pdf") for i in (a, b, c)}  # counted in this order: a is the oldest
        assert all(f.from_cache for f in first.values())  # made before, still there
        # a new export of a's text pushes the least recently counted out: a's PDF
        text = exports.export(a, "txt")
        assert not first[a].path.exists() and first[b].path.exists() and first[c].path.exists()
        assert exports.cache.total_bytes() <= bound
        again = exports.export(a, "pdf")  # made again on demand, the same export (its key and ETag)
        assert not again.from_cache and again.path.is_file() and again.etag == first[a].etag
        assert exports.cache.total_bytes() <= bound and text.path.parent.exists()
    finally:
        platform.close()
