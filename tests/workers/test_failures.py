"""Failures are visible and never silent: transient ones are retried with
backoff and then recorded, a file broken after ingest fails only its own page,
and the worker goes on."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from sqlalchemy import select

from library.access import Actor
from library.container import build_platform
from library.ingest.service import Upload
from library.catalogue.models import Page
from tests.conftest import REPO, make_settings, settings_env, wait_until
from tests.workers.test_ocr_workers import small_pages

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_transient_failures_are_retried_with_backoff_then_recorded(tmp_path, shared_data, start_worker):
    # a time limit no page can meet: every attempt times out (a transient error)
    settings = make_settings(tmp_path / "data", ocr_timeout_s=0.05, retry_backoff_s=0.2, max_retries=3)
    p = build_platform(settings)
    scan = shared_data / "ocr" / "unlv-magazine" / "8071_093.3B.tif"
    item_id = p.ingest.ingest_item([Upload(scan, scan.name)], {"title": "Too slow", "language": "eng"}, actor=SYSTEM).items[0].item_id
    start_worker(settings)
    wait_until(lambda: p.catalogue.item(item_id).status.value == "failed", timeout_s=120, what="item failed")
    page = p.catalogue.page_statuses(item_id)[0]
    assert page.status == "failed"
    assert page.attempts == 4, page  # the first try and three retries
    assert "gave up after 4 attempts" in page.reason and "longer than" in page.reason
    p.close()


def test_an_original_broken_after_ingest_fails_its_page_only(tmp_path, start_worker):
    settings = make_settings(tmp_path / "data")
    p = build_platform(settings)
    pages = small_pages(2)
    paths = []
    for n, page in enumerate(pages):
        paths.append(tmp_path / f"p{n + 1}.png")
        page.image.save(paths[-1], dpi=(300, 300))
    item_id = p.ingest.ingest_item([Upload(paths[0], "p1.png"), Upload(paths[1], "p2.png")],
                                   {"title": "Half broken"}, actor=SYSTEM).items[0].item_id
    with p.sessions() as s:
        first = s.scalars(select(Page).where(Page.item_id == item_id, Page.sequence == 1)).one()
    stored = p.store.original_path(first.source_sha256)
    os.chmod(stored, stat.S_IWUSR | stat.S_IRUSR)
    stored.write_bytes(stored.read_bytes()[:200])  # bit rot / a bad disk: truncated in the store
    worker = start_worker(settings)
    wait_until(lambda: p.catalogue.item(item_id).status.value != "processing", timeout_s=120, what="item finished")
    rows = p.catalogue.page_statuses(item_id)
    assert [r.status for r in rows] == ["failed", "done"]
    assert rows[0].reason.startswith("p1.png: ") and "truncated" in rows[0].reason
    assert worker.proc.poll() is None  # the worker is still running

    # fixity names the damaged original; exit code 8
    fx = subprocess.run([sys.executable, "-m", "console", "fixity"], env=settings_env(settings),
                        capture_output=True, text=True, cwd=REPO)
    assert fx.returncode == 8
    assert f"MISMATCH originals/{first.source_sha256[:2]}" in fx.stdout and "'p1.png'" in fx.stdout
    p.close()


def test_fixity_reports_missing_and_altered_derivatives(tmp_path, start_worker):
    settings = make_settings(tmp_path / "data")
    p = build_platform(settings)
    img = tmp_path / "p.png"
    small_pages(1)[0].image.save(img, dpi=(300, 300))
    item_id = p.ingest.ingest_item([Upload(img, "p.png")], {"title": "Fixity"}, actor=SYSTEM).items[0].item_id
    start_worker(settings)
    wait_until(lambda: p.catalogue.item(item_id).status.value == "done", timeout_s=120, what="item done")
    viewer = p.store.resolve(p.store.page_derivative_relpath(item_id, 1, "viewer"))
    original = p.store.original_path(p.catalogue.page(p.catalogue.page_statuses(item_id)[0].page_id).source_sha256)
    with viewer.open("r+b") as f:  # one byte of the pyramid changed
        f.seek(viewer.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    original.unlink()
    fx = subprocess.run([sys.executable, "-m", "console", "fixity"], env=settings_env(settings),
                        capture_output=True, text=True, cwd=REPO)
    assert fx.returncode == 8
    lines = [ln for ln in fx.stdout.splitlines() if ln.startswith(("MISMATCH", "MISSING"))]
    assert len(lines) == 2
    assert any(ln.startswith("MISMATCH") and "viewer.tif" in ln for ln in lines)
    assert any(ln.startswith("MISSING") and original.name in ln for ln in lines)
    assert "checked 2 file(s): 2 problem(s)" in fx.stdout  # the original and the viewer pyramid: all that is kept
    p.close()
