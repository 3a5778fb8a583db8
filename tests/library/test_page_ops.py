"""Page operations after ingest (issue #10): reorder, turn, replace, remove and add pages, each read
again by the real tesseract where its image changed; deleting an item (admins only) with its originals
kept for fixity until the retention passes; items marked "do not OCR". SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image
from sqlalchemy import select

from library.access import Actor
from library.errors import Conflict, InputRejected, NotFound, PermissionDenied
from library.fixity import check_fixity, purge_expired
from library.ingest.service import Upload
from library.catalogue.models import Derivative, Item, Page, PageStatus, StoredFile
from library.reading.ocr_jobs import IMAGES_ONLY_REASON
from library.store import sha256_of
from tests.library.test_cli import heritage
from tests.library.test_jobs import small_scans

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

CLI = Actor.system("cli")


def _ingest(platform, paths, **kw):
    report = platform.ingest.ingest_item([Upload(p, p.name) for p in paths], {"title": "Hà Nội xưa"}, **kw, actor=SYSTEM)
    assert report.ok, report.as_dict()
    return report.items[0].item_id


def _read_all(platform, item_id):
    for row in platform.catalogue.page_statuses(item_id):
        if row.status == "queued":
            platform.reader.read(row.page_id)
    platform.reader.finish_item(item_id)
    platform.indexer.flush()


def _pages(platform, item_id) -> list[Page]:
    with platform.sessions() as s:
        return list(s.scalars(select(Page).where(Page.item_id == item_id).order_by(Page.sequence)))


def _derivatives(platform, page_id) -> dict[str, Derivative]:
    with platform.sessions() as s:
        return {d.kind: d for d in s.scalars(select(Derivative).where(Derivative.page_id == page_id))}


def _files_match(platform, item_id, page_id, sequence):
    """Every derivative row of the page names the file at its sequence's place, and the bytes match."""
    ds = _derivatives(platform, page_id)
    assert ds, f"page {page_id} has no derivatives"
    for kind, d in ds.items():
        assert d.relpath == platform.store.page_derivative_relpath(item_id, sequence, kind)
        assert sha256_of(platform.store.resolve(d.relpath)) == d.sha256


def _image(path) -> Image.Image:
    with Image.open(path) as image:
        return image.copy()


def _difference(a, b) -> float:
    """Mean absolute difference of two grey images of one size (0–255)."""
    from PIL import ImageChops

    histogram = ImageChops.difference(a, b).histogram()
    return sum(i * n for i, n in enumerate(histogram)) / (a.width * a.height)


def _page_hits(platform, query):
    return platform.search.search(query, actor=CLI, kinds=("page",))


def test_reorder_moves_pages_their_files_and_search_and_refuses_a_bad_order(platform, tmp_path):
    item_id = _ingest(platform, small_scans(tmp_path, 3))
    _read_all(platform, item_id)
    before = _pages(platform, item_id)
    ids = [p.id for p in before]
    assert "Khuê Văn Các" in before[2].text

    for order, problem in (([1, 1, 2], "twice"), ([1, 2], "page 3 is missing"), ([1, 2, 4], "no page 4"),
                           ([2, 3, 1, 4], "no page 4"), (["x"], "not a list")):
        with pytest.raises(InputRejected) as refused:
            platform.pages.reorder(CLI, item_id, order)
        assert refused.value.source == "order" and problem in refused.value.problem, order
    assert [p.id for p in _pages(platform, item_id)] == ids and platform.items.history(item_id) == []

    assert platform.pages.reorder(CLI, item_id, [3, 1, 2]) == [ids[2], ids[0], ids[1]]
    after = _pages(platform, item_id)
    assert [(p.id, p.sequence, p.label) for p in after] == [(ids[2], 1, "1"), (ids[0], 2, "2"), (ids[1], 3, "3")]
    assert "Khuê Văn Các" in after[0].text and "Văn Miếu" in after[1].text
    for p in after:  # the viewer images followed their pages
        _files_match(platform, item_id, p.id, p.sequence)
    full = platform.store.resolve(platform.store.item_derivative_relpath(item_id, "text.txt")).read_text("utf-8")
    assert full.index("Khuê Văn Các") < full.index("Văn Miếu") < full.index("Quốc Tử Giám")
    hit = _page_hits(platform, "Khuê Văn Các").hits[0]
    assert (hit.page_id, hit.sequence) == (ids[2], 1)
    (change,) = platform.items.history(item_id)
    assert change.kind == "pages" and change.changes == {"order": [[1, 2, 3], [3, 1, 2]]}
    assert check_fixity(platform.sessions, platform.store).ok


def test_a_page_scanned_upside_down_reads_right_once_turned(platform, tmp_path):
    (scan,) = small_scans(tmp_path, 1)
    upside_down = tmp_path / "lon-nguoc.png"
    _image(scan).rotate(180).save(upside_down, dpi=(300, 300))
    item_id = _ingest(platform, [upside_down])
    _read_all(platform, item_id)
    (page,) = _pages(platform, item_id)
    assert "Văn Miếu" not in (page.text or "")
    old_normalised = _derivatives(platform, page.id)["viewer"].sha256

    for degrees in (45, 0, 360, "ngang"):
        with pytest.raises(InputRejected) as refused:
            platform.pages.rotate(CLI, item_id, 1, degrees)
        assert refused.value.source == "degrees"
    with pytest.raises(InputRejected, match="no page 2"):
        platform.pages.rotate(CLI, item_id, 2, 90)
    assert _pages(platform, item_id)[0].rotation_deg == 0

    assert platform.pages.rotate(CLI, item_id, 1, 90) == page.id
    assert platform.pages.rotate(CLI, item_id, 1, 90) == page.id  # two quarter turns: upside up
    page = _pages(platform, item_id)[0]
    assert (page.rotation_deg, page.status) == (180, PageStatus.queued)
    platform.reader.read(page.id)
    platform.indexer.flush()  # what the worker does after a page
    page = _pages(platform, item_id)[0]
    assert "Văn Miếu" in page.text and "Lý Thánh Tông" in page.text
    # the original is untouched; the viewer image (IIIF, and so its thumbnails) shows the page upright
    assert sha256_of(platform.store.original_path(page.source_sha256)) == page.source_sha256
    ds = _derivatives(platform, page.id)
    assert ds["viewer"].sha256 != old_normalised
    upright = _image(scan).convert("L")
    shown = _image(platform.store.resolve(ds["viewer"].relpath)).convert("L")
    assert shown.size == upright.size
    # the image shown is the upright page, not the scan as it lies
    assert _difference(shown, upright) < _difference(shown, upright.rotate(180)) / 3
    assert _page_hits(platform, "Lý Thánh Tông").total == 1
    kinds = [(c.kind, c.changes) for c in platform.items.history(item_id)]
    assert kinds == [("pages", {"page 1 rotation_deg": [0, 90]}), ("pages", {"page 1 rotation_deg": [90, 180]})]


def test_replace_a_scan_keeps_the_former_original_and_reads_the_new_one(platform, tmp_path):
    scans = small_scans(tmp_path, 3)
    item_id = _ingest(platform, scans[:2])
    _read_all(platform, item_id)
    first, second = _pages(platform, item_id)
    old_sha = second.source_sha256

    tiff = tmp_path / "hai-trang.tif"
    _image(scans[0]).save(tiff, save_all=True, append_images=[_image(scans[1])], dpi=(300, 300))
    broken = tmp_path / "hong.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    for upload, named in ((tiff, "2 pages"), (broken, "hong.png"), (scans[1], "already page 2")):
        with pytest.raises(InputRejected) as refused:
            platform.pages.replace(CLI, item_id, 2, Upload(upload, upload.name))
        assert refused.value.source == "file" and named in refused.value.problem, refused.value.problem
    assert _pages(platform, item_id)[1].source_sha256 == old_sha and platform.items.history(item_id) == []

    platform.pages.replace(CLI, item_id, 2, Upload(scans[2], scans[2].name))
    page = _pages(platform, item_id)[1]
    assert (page.id, page.source_name, page.status) == (second.id, "trang-3.png", PageStatus.queued)
    assert page.source_sha256 == sha256_of(scans[2])
    platform.reader.read(page.id)
    platform.indexer.flush()
    assert "Khuê Văn Các" in _pages(platform, item_id)[1].text
    assert _page_hits(platform, "Khuê Văn Các").hits[0].page_id == second.id
    assert _page_hits(platform, "Quốc Tử Giám").total == 0  # the former text left search
    # the former original stays in the store, checked by fixity, and named in the history
    assert platform.store.has_original(old_sha)
    with platform.sessions() as s:
        assert s.get(StoredFile, old_sha) is not None
    (change,) = platform.items.history(item_id)
    before, after = change.changes["page 2 scan"]
    assert (before["sha256"], before["name"], after["name"]) == (old_sha, "trang-2.png", "trang-3.png")
    assert check_fixity(platform.sessions, platform.store).ok


def test_remove_a_page_takes_its_text_out_of_search_and_keeps_its_original(platform, tmp_path):
    item_id = _ingest(platform, small_scans(tmp_path, 3))
    _read_all(platform, item_id)
    one, two, three = _pages(platform, item_id)
    assert _page_hits(platform, "Quốc Tử Giám").total == 1
    with pytest.raises(InputRejected) as refused:
        platform.pages.remove(CLI, item_id, 4)
    assert refused.value.source == "page"

    assert platform.pages.remove(CLI, item_id, 2) == two.id
    left = _pages(platform, item_id)
    assert [(p.id, p.sequence) for p in left] == [(one.id, 1), (three.id, 2)]
    _files_match(platform, item_id, three.id, 2)
    assert not platform.store.resolve(platform.store.page_derivative_relpath(item_id, 3, "viewer")).exists()
    assert _page_hits(platform, "Quốc Tử Giám").total == 0
    assert platform.search.search("Quốc Tử Giám", actor=CLI).total == 0  # nor by the item's text
    assert _page_hits(platform, "Khuê Văn Các").hits[0].sequence == 2
    assert platform.store.has_original(two.source_sha256)
    full = platform.store.resolve(platform.store.item_derivative_relpath(item_id, "text.txt")).read_text("utf-8")
    assert "Quốc Tử Giám" not in full and "--- 2 ---\nKhuê Văn Các" in full
    (change,) = platform.items.history(item_id)
    assert change.changes["page 2"][0]["sha256"] == two.source_sha256
    assert check_fixity(platform.sessions, platform.store).ok

    platform.pages.remove(CLI, item_id, 1)
    with pytest.raises(InputRejected, match="only page"):
        platform.pages.remove(CLI, item_id, 1)


def test_add_pages_appended_or_inserted_then_read(platform, tmp_path):
    scans = small_scans(tmp_path, 4)
    item_id = _ingest(platform, scans[:1])
    _read_all(platform, item_id)
    (first,) = _pages(platform, item_id)
    for at in (0, 3, "đầu"):
        with pytest.raises(InputRejected) as refused:
            platform.pages.add(CLI, item_id, [Upload(scans[1], scans[1].name)], at=at)
        assert refused.value.source == "at"
    broken = tmp_path / "hong.tif"
    broken.write_bytes(b"II*\x00\x08\x00\x00\x00garbage")
    with pytest.raises(InputRejected, match="hong.tif"):
        platform.pages.add(CLI, item_id, [Upload(scans[1], scans[1].name), Upload(broken, broken.name)])
    assert len(_pages(platform, item_id)) == 1 and platform.items.history(item_id) == []

    inserted = platform.pages.add(CLI, item_id, [Upload(p, p.name) for p in scans[1:3]], at=1)
    appended = platform.pages.add(CLI, item_id, [Upload(scans[3], scans[3].name)])
    pages = _pages(platform, item_id)
    assert [p.id for p in pages] == inserted + [first.id] + appended
    assert [p.status for p in pages] == [PageStatus.queued] * 2 + [PageStatus.done, PageStatus.queued]
    _files_match(platform, item_id, first.id, 3)  # the page read before moved to number 3 with its files
    assert platform.catalogue.item(item_id).status.value == "processing"
    _read_all(platform, item_id)
    texts = [p.text for p in _pages(platform, item_id)]
    assert "Quốc Tử Giám" in texts[0] and "Khuê Văn Các" in texts[1] and "Văn Miếu" in texts[2]
    assert "Tám mươi hai" in texts[3]
    assert platform.catalogue.item(item_id).status.value == "done"
    assert _page_hits(platform, "Tám mươi hai").hits[0].sequence == 4
    added = [c.changes["pages added"][1] for c in platform.items.history(item_id)]
    assert [[a["name"] for a in batch] for batch in added] == [["trang-2.png", "trang-3.png"], ["trang-4.png"]]


def test_delete_is_for_admins_keeps_originals_for_fixity_and_purges_after_retention(platform, tmp_path):
    now = [datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)]
    platform.access.clock = lambda: now[0]
    scans = small_scans(tmp_path, 3)
    item_id = _ingest(platform, scans[:2])
    other_id = _ingest(platform, [scans[1], scans[2]])  # shares trang-2.png with the deleted item
    _read_all(platform, item_id)
    _read_all(platform, other_id)
    librarian = Actor.for_user(platform.users.create(Actor.system("tests"), "thu.thu", "mat-khau-thu-thu", "librarian"))
    admin = Actor.for_user(platform.users.create(Actor.system("tests"), "quan.tri", "mat-khau-quan-tri", "admin"))
    with pytest.raises(PermissionDenied, match="thu.thu"):
        platform.pages.delete_item(librarian, item_id, "trùng lặp")
    assert _page_hits(platform, "Văn Miếu").total == 1

    platform.pages.delete_item(admin, item_id, "trùng lặp")
    with pytest.raises(Conflict, match="already deleted"):
        platform.pages.delete_item(admin, item_id)
    with platform.sessions() as s:
        item = s.get(Item, item_id)
        decided = {who: platform.access.decide(actor, item).status for who, actor in
                   (("anonymous", Actor.anonymous("10.0.0.9")), ("librarian", librarian), ("admin", admin))}
        listed = set(s.scalars(select(Item.id).where(platform.access.visible(admin))))
    assert decided == {"anonymous": 404, "librarian": 404, "admin": 200}
    assert listed == {other_id}
    assert _page_hits(platform, "Văn Miếu").total == 0 and platform.search.search("Văn Miếu", actor=CLI).total == 0
    with pytest.raises(NotFound):  # nor can its pages be changed any more
        platform.pages.rotate(CLI, item_id, 1, 90)
    change = platform.items.history(item_id)[-1]
    assert change.kind == "delete" and change.actor == "user:quan.tri" and change.changes["reason"][1] == "trùng lặp"

    # fixity checks the originals still and says which are kept for the deleted item, until when
    report = check_fixity(platform.sessions, platform.store, retention_days=30)
    assert report.ok
    only_mine = sha256_of(scans[0])
    assert [(r.sha256, r.item_id) for r in report.retained] == [(only_mine, item_id)]
    assert report.retained[0].may_go_at == now[0] + timedelta(days=30)
    now[0] += timedelta(days=29)
    assert purge_expired(platform.sessions, platform.store, retention_days=30, now=now[0]).items == []
    assert platform.store.has_original(only_mine)

    now[0] += timedelta(days=2)
    purged = purge_expired(platform.sessions, platform.store, retention_days=30, now=now[0])
    assert (purged.items, purged.originals, purged.shared) == ([item_id], [only_mine], [sha256_of(scans[1])])
    assert not platform.store.has_original(only_mine) and platform.store.has_original(sha256_of(scans[1]))
    assert _pages(platform, item_id) == [] and len(_pages(platform, other_id)) == 2
    assert not platform.store.resolve(f"derivatives/items/{item_id}").exists()
    after = check_fixity(platform.sessions, platform.store, retention_days=30)
    assert after.ok and after.retained == []
    assert platform.items.history(item_id)[-1].kind == "delete"  # the tombstone keeps its history


def test_an_item_marked_do_not_ocr_is_never_read_and_queues_nothing(platform, tmp_path):
    sent = []
    send = platform.queue.send
    platform.queue.send = lambda task, *args: sent.append((task, args)) or send(task, *args)
    item_id = _ingest(platform, small_scans(tmp_path, 2), do_not_ocr=True)
    assert sent == []
    item = platform.catalogue.item(item_id)
    assert item.do_not_ocr and item.status.value == "done"
    for page in _pages(platform, item_id):
        assert (page.status, page.status_reason, page.text, page.ocr_engine) == (
            PageStatus.done, IMAGES_ONLY_REASON, None, None)
        ds = _derivatives(platform, page.id)
        assert set(ds) == {"viewer"} and (page.width, page.height) == _image(
            platform.store.resolve(ds["viewer"].relpath)).size
    platform.indexer.flush()
    assert platform.search.search("Văn Miếu", actor=CLI).total == 0
    # a page turned later is queued, and the reader makes its images without reading it
    platform.pages.rotate(CLI, item_id, 1, 90)
    first = _pages(platform, item_id)[0]
    assert platform.reader.read(first.id).value == "done"
    first = _pages(platform, item_id)[0]
    assert (first.text, first.status_reason) == (None, IMAGES_ONLY_REASON) and first.width < first.height


def test_page_commands_from_the_cli(tmp_path):
    from library.container import build_platform
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data")
    scans = small_scans(tmp_path, 4)
    book = tmp_path / "sach"
    book.mkdir()
    for scan in scans[:3]:
        (book / scan.name).write_bytes(scan.read_bytes())
    run = lambda *args: heritage(settings, "item", *args)  # noqa: E731
    out = heritage(settings, "ingest", book, "--title", "x")
    assert out.returncode == 0, out.stderr
    p = build_platform(settings)
    try:
        item_id = p.catalogue.item_statuses()[0].item_id
        ids = [r.page_id for r in p.catalogue.page_statuses(item_id)]
        bad = run("pages", item_id, "--order", "1,1,2")
        assert bad.returncode == 2 and "order" in bad.stderr and "twice" in bad.stderr
        assert run("pages", item_id, "--order", "3,1,2").returncode == 0
        assert [r.page_id for r in p.catalogue.page_statuses(item_id)] == [ids[2], ids[0], ids[1]]
        assert run("rotate", item_id, "--page", 1, "--degrees", 270).returncode == 0
        assert run("replace", item_id, "--page", 2, scans[3]).returncode == 0
        assert run("remove-page", item_id, "--page", 3).returncode == 0
        assert run("add-pages", item_id, scans[1], "--at", 1).returncode == 0
        pages = _pages(p, item_id)
        assert [(pg.source_name.rsplit("/", 1)[-1], pg.rotation_deg) for pg in pages] == [
            ("trang-2.png", 0), ("trang-3.png", 270), ("trang-4.png", 0)]
        history = run("history", item_id).stdout
        assert history.count(" pages by system:cli") == 5
        assert run("delete", item_id, "--yes", "--reason", "thử").returncode == 0
        with p.sessions() as s:
            assert s.get(Item, item_id).deleted_at is not None
        fixity = heritage(settings, "fixity")
        assert fixity.returncode == 0 and fixity.stdout.count("RETAINED") == 4, fixity.stdout
        purge = heritage(settings, "fixity", "--purge-expired", extra_env={"HERITAGE_DELETED_RETENTION_DAYS": "0"})
        assert purge.returncode == 0 and "purged 1 deleted item(s): 4 original(s) removed" in purge.stdout
    finally:
        p.close()


def test_a_removed_page_leaves_search_even_when_search_was_down_and_monument_links_follow(
        platform, tmp_path, monkeypatch):
    from library.catalogue.models import IndexRemoval, MonumentItem
    from search import SearchUnavailable

    item_id = _ingest(platform, small_scans(tmp_path, 3))
    _read_all(platform, item_id)
    m = platform.monuments.create_monument(name_vi="Văn Miếu", actor=CLI)
    platform.guides.link_item(m.id, item_id, page_sequence=3, actor=CLI)
    assert _page_hits(platform, "Quốc Tử Giám").total == 1
    engine = platform.indexer.engine
    real_delete = engine.delete

    def down(ids):  # search is down just when the page goes (a real node cannot be stopped in between)
        raise SearchUnavailable("search node stopped")

    monkeypatch.setattr(engine, "delete", down)
    platform.pages.remove(CLI, item_id, 2)
    with platform.sessions() as s:
        assert len(s.scalars(select(IndexRemoval)).all()) == 1  # kept in the outbox
        assert s.scalars(select(MonumentItem.page_sequence)).one() == 2  # the linked page is now page 2
    monkeypatch.setattr(engine, "delete", real_delete)
    assert _page_hits(platform, "Quốc Tử Giám").total == 1  # still in search: it was down
    platform.indexer.flush()  # what the sweeper does: the removal reaches search now
    assert _page_hits(platform, "Quốc Tử Giám").total == 0
    with platform.sessions() as s:
        assert s.scalars(select(IndexRemoval)).all() == []
    platform.pages.remove(CLI, item_id, 2)  # the linked page itself: the link keeps the item
    with platform.sessions() as s:
        assert s.scalars(select(MonumentItem.page_sequence)).one() is None
