"""Real Celery workers read a multi-page, multi-item ingest end to end, on the
embedded broker and on Redis, with the catalogue on SQLite and on PostgreSQL;
a worker killed in the middle of a page leaves it to be finished by a retry,
stored once."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from PIL import Image
from sqlalchemy import func, select

from digitize.quality import cer
from digitize.synthetic import find_vietnamese_font, render_page
from library.access import Actor
from library.container import build_platform
from library.ingest.service import Upload
from library.catalogue.models import Derivative, Item, Page, PageStatus, StoredFile
from library.catalogue.page_layout import stored
from tests.conftest import REPO, make_settings, settings_env, wait_until

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

pytestmark = [pytest.mark.slow, pytest.mark.integration]

LINES = [
    ["Văn Miếu được xây dựng năm 1070", "dưới triều vua Lý Thánh Tông."],
    ["Quốc Tử Giám là trường đại học", "đầu tiên của nước ta."],
    ["Khuê Văn Các soi bóng", "xuống giếng Thiên Quang."],
    ["Tám mươi hai tấm bia tiến sĩ", "đặt trên lưng rùa đá."],
    ["Hồ Gươm nằm giữa lòng", "thành phố Hà Nội."],
]


def small_pages(count: int):
    font = find_vietnamese_font()
    out = []
    for n in range(count):
        page = render_page(LINES[n % len(LINES)], font_path=font, dpi=300, page_width_in=5.0, page_height_in=1.6,
                           margin_in=0.3, font_size_pt=14)
        out.append(page)
    return out


@pytest.fixture(params=["filesystem", "redis"])
def broker_url(request):
    if request.param == "filesystem":
        return ""
    return request.getfixturevalue("redis_url")


def test_multi_page_multi_item_ingest_read_by_real_workers(tmp_path, database_url, broker_url, start_worker):
    settings = make_settings(tmp_path / "data", database_url=database_url, broker_url=broker_url)
    p = build_platform(settings)
    pages = small_pages(5)
    # item 1: a three-page TIFF; item 2: a folder of two PNGs named so that natural order matters
    tiff = tmp_path / "sach.tif"
    pages[0].image.save(tiff, save_all=True, append_images=[pages[1].image, pages[2].image], dpi=(300, 300))
    folder = tmp_path / "bao"
    folder.mkdir()
    pages[4].image.save(folder / "p10.png", dpi=(300, 300))
    pages[3].image.save(folder / "p2.png", dpi=(300, 300))

    r1 = p.ingest.ingest_item([Upload(tiff, "sách.tif")], {"title": "Sách mẫu", "date": "khoảng 1930"}, actor=SYSTEM)
    r2 = p.ingest.ingest_item([Upload(folder, "bao")], {"title": "Báo mẫu", "type": "newspaper"}, actor=SYSTEM)
    assert r1.ok and r2.ok, (r1.as_dict(), r2.as_dict())
    ids = [r1.items[0].item_id, r2.items[0].item_id]

    start_worker(settings)
    wait_until(lambda: all(r.status != "processing" for r in p.catalogue.item_statuses(ids)),
               timeout_s=240, what="both items read")

    rows = {r.item_id: r for r in p.catalogue.item_statuses(ids)}
    assert [rows[i].status for i in ids] == ["done", "done"]
    assert rows[ids[0]].counts["done"] == 3 and rows[ids[1]].counts["done"] == 2

    truths = [pages[0].text, pages[1].text, pages[2].text, pages[3].text, pages[4].text]
    with p.sessions() as s:
        got = s.scalars(select(Page).where(Page.item_id.in_(ids)).order_by(Page.item_id, Page.sequence)).all()
        assert [pg.source_name for pg in got] == ["sách.tif#1", "sách.tif#2", "sách.tif#3", "bao/p2.png", "bao/p10.png"]
        for pg, truth in zip(got, truths):
            assert pg.status == PageStatus.done and pg.attempts == 1
            assert cer(pg.text, truth) < 0.05, (pg.text, truth)
            words = stored(s, pg.id).words
            assert words and all(pg.text[w.char_start:w.char_end] == w.text for w in words)
            assert all(0 <= w.x < pg.width and 0 <= w.y < pg.height and w.w > 0 and w.h > 0 for w in words)
            kinds = set(s.scalars(select(Derivative.kind).where(Derivative.page_id == pg.id)))
            assert kinds == {"viewer"}  # thumbnails are IIIF sizes of it, the text the catalogue's
            assert pg.mean_confidence is not None and pg.mean_confidence > 60
        # the TIFF is one original with three pages; the folder's PNGs are two more
        assert s.scalar(select(func.count()).select_from(StoredFile)) == 3
        assert s.get(Item, ids[0]).date_approximate is True
    item_text = p.store.resolve(p.store.item_derivative_relpath(ids[0], "text.txt")).read_text(encoding="utf-8")
    assert "Văn Miếu" in item_text and "Quốc Tử Giám" in item_text
    # the worker prepared the searchable PDF once the item was done: the first download does not wait
    folder = p.store.resolve(p.store.item_derivative_relpath(ids[0], "text.txt")).parent
    wait_until(lambda: list(folder.glob("export-*.pdf")), timeout_s=60, what="PDF prepared by the worker")
    assert p.exports.export(ids[0], "pdf").from_cache

    # the workers indexed what they read, after the commit: searchable without diacritics, boxed
    wait_until(lambda: p.indexer.pending() == (0, 0), timeout_s=60, what="index caught up")
    found = p.search.search("Quoc Tu Giam", actor=Actor.system("tests"))
    assert [(h.item_id, h.sequence) for h in found.hits] == [(ids[0], 2)]
    assert found.hits[0].spans and all(sp.boxes for sp in found.hits[0].spans)

    # the command line shows the same status and verifies every checksum
    env = settings_env(settings)
    out = subprocess.run([sys.executable, "-m", "console", "status"], env=env, capture_output=True, text=True,
                         cwd=REPO, check=True).stdout
    assert "Sách mẫu" in out and "3/3" in out and "2/2" in out
    fx = subprocess.run([sys.executable, "-m", "console", "fixity"], env=env, capture_output=True, text=True,
                        cwd=REPO)
    assert fx.returncode == 0 and "all match" in fx.stdout
    p.close()


def test_worker_killed_mid_page_is_finished_by_retry_and_stored_once(tmp_path, shared_data, broker_url, start_worker):
    # a full 300-dpi magazine page takes several seconds to read: time to kill the worker in the middle
    settings = make_settings(tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'c.sqlite3'}",
                             broker_url=broker_url, stuck_after_s=4.0, heartbeat_s=1.0)
    p = build_platform(settings)
    scan = shared_data / "ocr" / "unlv-magazine" / "8087_054.3B.tif"
    report = p.ingest.ingest_item([Upload(scan, scan.name)], {"title": "UNLV 8087", "language": "eng"}, actor=SYSTEM)
    assert report.ok, report.as_dict()
    item_id = report.items[0].item_id
    with p.sessions() as s:
        page_id = s.scalar(select(Page.id).where(Page.item_id == item_id))

    first = start_worker(settings, "first")
    wait_until(lambda: p.catalogue.page(page_id).status == PageStatus.running, timeout_s=60, interval_s=0.05,
               what="page running")
    time.sleep(1.0)  # tesseract is now in the middle of the page
    first.kill_hard()
    assert p.catalogue.page(page_id).status == PageStatus.running  # nobody finished it

    start_worker(settings, "second")

    def swept_and_done():
        p.reader.sweep()  # what `heritage serve` runs every few seconds
        return p.catalogue.page(page_id).status == PageStatus.done

    wait_until(swept_and_done, timeout_s=180, interval_s=1.0, what="page finished after the crash")
    page = p.catalogue.page(page_id)
    assert page.attempts >= 2
    assert "Supplies" in page.text or "supplies" in page.text.lower() or len(page.text) > 1000
    with p.sessions() as s:
        words = stored(s, page_id).words
        starts = [w.char_start for w in words]
        assert len(words) > 100 and starts == sorted(set(starts))  # one result, not two stacked
        kinds = s.scalars(select(Derivative.kind).where(Derivative.page_id == page_id)).all()
        assert sorted(kinds) == sorted(set(kinds)) and kinds == ["viewer"]
        assert s.scalar(select(func.count()).select_from(StoredFile)) == 1
    wait_until(lambda: p.catalogue.item(item_id).status.value == "done", timeout_s=60, what="item finished")
    # later deliveries of the old message (Redis restores it) find the page done and change nothing
    assert p.reader.read(page_id).value == "already_done"
    p.close()


def test_failed_page_shows_its_reason_and_can_be_retried(tmp_path, start_worker):
    """A page whose language model is missing fails with a clear reason; `heritage retry` requeues it."""
    settings = make_settings(tmp_path / "data")
    p = build_platform(settings)
    img = tmp_path / "page.png"
    small_pages(1)[0].image.save(img, dpi=(300, 300))
    report = p.ingest.ingest_item([Upload(img, "page.png")], {"title": "Bad language", "language": "vie"}, actor=SYSTEM)
    item_id = report.items[0].item_id
    # the language is valid for ingest but its model is removed from this item's options to provoke a failure
    with p.sessions.begin() as s:
        s.get(Item, item_id).languages = "xyz"
    start_worker(settings)
    wait_until(lambda: p.catalogue.item(item_id).status.value == "failed", timeout_s=120, what="item failed")
    page = p.catalogue.page_statuses(item_id)[0]
    assert page.status == "failed" and "xyz" in page.reason
    assert "1 of 1 pages failed" in p.catalogue.item(item_id).status_reason

    with p.sessions.begin() as s:
        s.get(Item, item_id).languages = "vie"
    env = settings_env(settings)
    out = subprocess.run([sys.executable, "-m", "console", "retry", "--item", str(item_id)], env=env,
                         capture_output=True, text=True, cwd=REPO, check=True).stdout
    assert "requeued 1 page" in out
    wait_until(lambda: p.catalogue.item(item_id).status.value == "done", timeout_s=120, what="item done after retry")
    assert "Văn Miếu" in p.catalogue.page(page.page_id).text
    p.close()


def test_status_json_lists_every_page(tmp_path):
    settings = make_settings(tmp_path / "data")
    p = build_platform(settings)
    img = tmp_path / "p.png"
    Image.new("L", (600, 300), 255).save(img, dpi=(300, 300))
    item_id = p.ingest.ingest_item([Upload(img, "p.png")], {"title": "Trang trắng"}, actor=SYSTEM).items[0].item_id
    out = subprocess.run([sys.executable, "-m", "console", "status", str(item_id), "--json"],
                         env=settings_env(settings), capture_output=True, text=True, cwd=REPO, check=True).stdout
    rows = json.loads(out)
    assert [(r["sequence"], r["status"], r["source_name"]) for r in rows] == [(1, "queued", "p.png")]
    p.close()
