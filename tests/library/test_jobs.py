"""The progress board and cancel: per item and page and per 3D build and stage, the
estimate of the time left from measured durations (unknown until something was
measured), and cancelled pages that workers skip and retry puts back."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from library.access import Actor
from library.errors import NotFound, PermissionDenied
from library.ingest.service import Upload
from library.catalogue.models import (
    BuildStatus,
    Derivative,
    Item,
    ItemStatus,
    ItemType,
    ModelVersion,
    MonumentModel,
    Page,
    PageStatus,
    StoredFile,
    utcnow,
)
from library.reading.ocr_jobs import Outcome
from tests.conftest import wait_until

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)


def add_item(platform, title, statuses, *, queued_at=None, timings=None):
    """An item whose pages have the given statuses; ``timings`` gives (started, finished) per page."""
    with platform.sessions.begin() as s:
        s.merge(StoredFile(sha256="d" * 64, size_bytes=1, media_type="image/png", original_name="p.png"))
        item = Item(title=title, languages="vie", item_type=ItemType.book,
                    status=ItemStatus.done if all(st == PageStatus.done for st in statuses) else ItemStatus.processing)
        for n, st in enumerate(statuses, 1):
            started, finished = (timings[n - 1] if timings else (None, None))
            item.pages.append(Page(sequence=n, source_sha256="d" * 64, source_name=f"p{n}.png", status=st,
                                   queued_at=queued_at, started_at=started, finished_at=finished,
                                   status_reason="p.png: the image data is damaged" if st == PageStatus.failed
                                   else None))
        if item.status == ItemStatus.done:
            item.finished_at = utcnow()
        s.add(item)
        s.flush()
        return item.id


def test_the_estimate_is_unknown_until_pages_are_timed_then_follows_the_queue(platform):
    assert platform.settings.worker_concurrency == 2
    now = utcnow()
    first = add_item(platform, "Sách A", [PageStatus.queued] * 4, queued_at=now - timedelta(seconds=30))
    second = add_item(platform, "Sách B", [PageStatus.queued] * 2, queued_at=now - timedelta(seconds=10))
    board = platform.jobs.board()
    assert board.rates.page_seconds is None and board.rates.page_samples == 0
    rows = {r.item_id: r for r in board.items}
    assert rows[first].eta_s is None and rows[second].eta_s is None  # "unknown", not a guess
    assert rows[first].counts == {"queued": 4, "running": 0, "done": 0, "failed": 0, "cancelled": 0}
    assert [p.sequence for p in rows[first].pages] == [1, 2, 3, 4]

    # three pages read on this machine, 10 s each
    timed = [(now - timedelta(seconds=100 - 10 * n), now - timedelta(seconds=90 - 10 * n)) for n in range(3)]
    done = add_item(platform, "Sách đã đọc", [PageStatus.done] * 3, timings=timed)
    board = platform.jobs.board()
    assert board.rates.page_seconds == pytest.approx(10.0) and board.rates.page_samples == 3
    rows = {r.item_id: r for r in board.items}
    # two workers: the first item's four pages take two rounds; the second item waits for them
    assert rows[first].eta_s == pytest.approx(20.0)
    assert rows[second].eta_s == pytest.approx(30.0)
    assert rows[done].eta_s == 0.0 and rows[done].pages == []  # done: nothing left, pages not listed
    assert [r.item_id for r in board.items][:3] == [done, second, first]  # newest first

    # a page of the first item has been read for 4 s already: 6 s left for it
    with platform.sessions.begin() as s:
        page = s.scalars(select(Page).where(Page.item_id == first, Page.sequence == 1)).one()
        page.status, page.started_at = PageStatus.running, now - timedelta(seconds=4)
    # counted from the test's own moment (a slow CI machine took 1.5 s to get here once)
    rows = {r.item_id: r for r in platform.jobs.board(now=now).items}
    # worker 1: 6 s (running) then page 3 → 16 s; worker 2: pages 2 (10 s) and 4 (20 s); item B: 26 s and 30 s
    assert rows[first].eta_s == pytest.approx(20.0)
    assert rows[second].eta_s == pytest.approx(30.0)
    running = [p for p in rows[first].pages if p.status == "running"][0]
    assert running.seconds == pytest.approx(4.0)

    one = platform.jobs.board(item_id=done)
    assert [r.item_id for r in one.items] == [done] and len(one.items[0].pages) == 3  # all pages of one item
    assert one.items[0].pages[0].seconds == pytest.approx(10.0)
    with pytest.raises(NotFound):
        platform.jobs.board(item_id=999_999)
    as_json = json.loads(json.dumps(platform.jobs.board().as_dict()))
    assert {i["item_id"] for i in as_json["items"]} == {first, second, done}
    assert as_json["rates"]["page_seconds"] == pytest.approx(10.0)


def test_time_between_pages_counts_when_pages_end_in_a_steady_stream(platform):
    now = utcnow()
    # six pages read in 1 s each, ending one every second on two workers: each worker takes 2 s per page
    steady = [(now - timedelta(seconds=20 - n), now - timedelta(seconds=19 - n)) for n in range(6)]
    add_item(platform, "Đều đặn", [PageStatus.done] * 6, timings=steady)
    rates = platform.jobs.board().rates
    assert rates.page_samples == 6 and rates.page_seconds == pytest.approx(2.0)
    # pages far apart are pauses, not work: they do not slow the estimate down
    with platform.sessions.begin() as s:
        for n, page in enumerate(s.scalars(select(Page).order_by(Page.id))):
            page.started_at, page.finished_at = now - timedelta(hours=6 - n, seconds=1), now - timedelta(hours=6 - n)
    assert platform.jobs.board().rates.page_seconds == pytest.approx(1.0)


def add_build(platform, monument_id, *, status, kind="point_cloud", stage=None, progress=0.0, report=None,
              started=None, finished=None, reason=None):
    with platform.sessions.begin() as s:
        model = s.scalars(select(MonumentModel).where(MonumentModel.monument_id == monument_id)).first()
        if model is None:
            model = MonumentModel(monument_id=monument_id, title="Khuê Văn Các")
            s.add(model)
            s.flush()
        number = len(model.versions) + 1
        v = ModelVersion(model_id=model.id, number=number, input_kind=kind,
                         sources=json.dumps([{"sha256": "e" * 64, "name": "gac.xyz"}]), status=status, stage=stage,
                         progress=progress, report=json.dumps(report) if report else None, started_at=started,
                         finished_at=finished, status_reason=reason, queued_at=utcnow())
        s.add(v)
        s.flush()
        return v.id


def test_builds_show_their_stages_and_the_time_left(platform):
    m = platform.monuments.create_monument(name_vi="Khuê Văn Các", actor=SYSTEM)
    now = utcnow()
    queued = add_build(platform, m.id, status=BuildStatus.queued)
    board = platform.jobs.board()
    row = next(b for b in board.builds if b.version_id == queued)
    assert row.eta_s is None and [st.status for st in row.stages] == ["queued"] * 4  # nothing measured yet
    assert [st.name for st in row.stages] == ["read", "clean", "levels", "thumbnail"]

    stages = [{"name": "read", "seconds": 2.0}, {"name": "clean", "seconds": 1.0}, {"name": "levels", "seconds": 4.0},
              {"name": "thumbnail", "seconds": 1.0}]
    done = add_build(platform, m.id, status=BuildStatus.done, stage="published", progress=1.0,
                     report={"stages": stages}, started=now - timedelta(seconds=20),
                     finished=now - timedelta(seconds=12))
    running = add_build(platform, m.id, status=BuildStatus.running, stage="levels", progress=0.5,
                        started=now - timedelta(seconds=5))
    failed = add_build(platform, m.id, status=BuildStatus.failed, stage="clean", started=now - timedelta(seconds=9),
                       finished=now - timedelta(seconds=8), reason="the mesh has no faces left after cleaning")
    rows = {b.version_id: b for b in platform.jobs.board(now=now).builds}
    assert platform.jobs.board().rates.build_seconds == {"point_cloud": pytest.approx(8.0)}
    assert [(st.name, st.status, st.seconds) for st in rows[done].stages] == [
        ("read", "done", 2.0), ("clean", "done", 1.0), ("levels", "done", 4.0), ("thumbnail", "done", 1.0)]
    assert [(st.status, st.fraction) for st in rows[running].stages] == [
        ("done", None), ("done", None), ("running", 0.5), ("queued", None)]
    assert rows[running].eta_s == pytest.approx(4.0 * 0.5 + 1.0)  # half of "levels", then "thumbnail"
    assert rows[running].elapsed_s == pytest.approx(5.0)
    # the queued build waits for a free worker: one is free now, so it takes one build's mean time
    assert rows[queued].eta_s == pytest.approx(8.0)
    assert [st.status for st in rows[failed].stages] == ["done", "failed", "queued", "queued"]
    assert rows[failed].reason == "the mesh has no faces left after cleaning" and rows[failed].eta_s == 0.0
    assert rows[running].monument_name == "Khuê Văn Các" and rows[running].monument_slug == m.slug
    assert platform.jobs.build(running).eta_s == pytest.approx(3.0)
    with pytest.raises(NotFound):
        platform.jobs.build(999_999)


def small_scans(tmp_path, count):
    """``count`` distinct one-line scans (the texts repeat every five pages; a speck in the margin, at a
    place of its own on each page, keeps every file different, so none is taken for a duplicate)."""
    from tests.workers.test_ocr_workers import small_pages

    paths = []
    for n, page in enumerate(small_pages(count), 1):
        image = page.image.copy()
        image.putpixel((2 + n % 50, 2 + n // 50), 200)
        paths.append(tmp_path / f"trang-{n}.png")
        image.save(paths[-1], dpi=(300, 300))
    return paths


def test_retry_and_cancel_need_an_actor_allowed_to(platform, tmp_path):
    report = platform.ingest.ingest_item([Upload(p, p.name) for p in small_scans(tmp_path, 1)], {"title": "Ai"},
                                         actor=SYSTEM)
    item_id = report.items[0].item_id
    curator = platform.users.create(SYSTEM, "bao.tang", "mat-khau-bao-tang", "curator")
    calls = {"retry": lambda **kw: platform.reader.retry(item_id=item_id, **kw),
             "cancel": lambda **kw: platform.reader.cancel(item_id, **kw)}
    for name, call in calls.items():
        for bad in ({}, {"actor": None}, {"actor": curator}):  # no actor, None, a bare user: never trusted
            with pytest.raises(TypeError):
                call(**bad)
        with pytest.raises(PermissionDenied, match=rf"'bao.tang' \(curator\) may not {name} ocr work"):
            call(actor=Actor.for_user(curator))
    assert [r.status for r in platform.catalogue.page_statuses(item_id)] == ["queued"]  # nothing changed
    assert platform.reader.cancel(item_id, actor=SYSTEM).cancelled  # the system may
    assert platform.reader.retry(item_id=item_id, actor=SYSTEM)


def test_cancel_takes_queued_pages_out_and_retry_puts_them_back(platform, tmp_path):
    report = platform.ingest.ingest_item([Upload(p, p.name) for p in small_scans(tmp_path, 3)], {"title": "Huỷ"}, actor=SYSTEM)
    item_id = report.items[0].item_id
    pages = [r.page_id for r in platform.catalogue.page_statuses(item_id)]
    librarian = platform.users.create(Actor.system("tests"), "thu.thu", "mat-khau-thu-thu", "librarian")
    archivist = platform.users.create(Actor.system("tests"), "luu.tru", "mat-khau-luu-tru", "archivist")
    with pytest.raises(PermissionDenied):
        platform.reader.cancel(item_id, actor=Actor.for_user(archivist))
    with pytest.raises(NotFound):
        platform.reader.cancel(999_999, actor=Actor.for_user(librarian))

    claim = platform.reader.claim(pages[0])  # a worker is reading page 1
    res = platform.reader.cancel(item_id, actor=Actor.for_user(librarian))
    assert sorted(res.cancelled) == pages[1:] and res.still_running == 1
    statuses = {r.page_id: (r.status, r.reason) for r in platform.catalogue.page_statuses(item_id)}
    assert statuses[pages[0]] == ("running", None)
    assert statuses[pages[1]] == ("cancelled", "cancelled by thu.thu")
    assert platform.catalogue.item(item_id).status == ItemStatus.processing  # page 1 is still being read

    # a task for a cancelled page finds it cancelled and does nothing
    assert platform.reader.read(pages[1]) == Outcome.cancelled
    page = platform.catalogue.page(pages[1])
    assert page.status == PageStatus.cancelled and page.attempts == 0 and page.text is None
    with platform.sessions() as s:
        assert not s.scalars(select(Derivative).where(Derivative.page_id == pages[1])).all()

    platform.reader.fail(claim, "p.png: the image data is damaged")  # page 1 ends...
    platform.reader.finish_item(item_id)  # ...and the finishing task it sent runs
    item = platform.catalogue.item(item_id)
    assert item.status == ItemStatus.failed  # a failure outranks the cancellation
    assert platform.reader.cancel(item_id, actor=Actor.for_user(librarian)).cancelled == []  # nothing queued any more

    assert sorted(platform.reader.retry(item_id=item_id, actor=SYSTEM)) == pages  # failed and cancelled go back
    assert {r.status for r in platform.catalogue.page_statuses(item_id)} == {"queued"}
    assert platform.catalogue.item(item_id).status == ItemStatus.processing

    res = platform.reader.cancel(item_id, actor=SYSTEM)  # the operator at the command line
    assert sorted(res.cancelled) == pages and res.still_running == 0
    item = platform.catalogue.item(item_id)
    assert item.status == ItemStatus.cancelled  # nothing left running: finished at once
    assert item.status_reason.startswith("3 of 3 pages cancelled")
    row = next(r for r in platform.jobs.board().items if r.item_id == item_id)
    assert row.counts["cancelled"] == 3 and row.eta_s == 0.0


def test_a_page_claimed_while_a_cancel_runs_is_not_counted_as_cancelled(platform, tmp_path):
    """A worker claims a page at the moment a librarian cancels: the notice's count is the number of
    pages that really ended cancelled (CI once showed "20 cancelled" with 19 cancelled and one read)."""
    report = platform.ingest.ingest_item([Upload(p, p.name) for p in small_scans(tmp_path, 3)], {"title": "Đua"},
                                         actor=SYSTEM)
    item_id = report.items[0].item_id
    pages = [r.page_id for r in platform.catalogue.page_statuses(item_id)]
    engine = platform.sessions.kw["bind"]
    claims = []

    def claim_first(conn, cursor, statement, parameters, context, executemany):
        # the worker's claim commits just before the cancel writes (on its own connection)
        if not claims and statement.lstrip().upper().startswith("UPDATE PAGES"):
            claims.append(None)
            claims[0] = platform.reader.claim(pages[0])

    event.listen(engine, "before_cursor_execute", claim_first)
    try:
        res = platform.reader.cancel(item_id, actor=SYSTEM)
    finally:
        event.remove(engine, "before_cursor_execute", claim_first)
    assert not isinstance(claims[0], Outcome), claims  # the worker did get the page
    statuses = {r.page_id: r.status for r in platform.catalogue.page_statuses(item_id)}
    assert statuses == {pages[0]: "running", pages[1]: "cancelled", pages[2]: "cancelled"}
    assert sorted(res.cancelled) == pages[1:] and res.still_running == 1


@pytest.mark.slow
def test_a_real_worker_skips_cancelled_pages_and_reads_them_after_retry(settings, tmp_path, start_worker):
    from library.container import build_platform

    p = build_platform(settings)
    try:
        report = p.ingest.ingest_item([Upload(f, f.name) for f in small_scans(tmp_path, 3)], {"title": "Bỏ qua"}, actor=SYSTEM)
        item_id = report.items[0].item_id
        assert len(p.reader.cancel(item_id, actor=SYSTEM).cancelled) == 3  # before any worker runs: all three are queued
        start_worker(settings)
        time.sleep(3.0)  # the worker receives the three tasks and must skip them
        rows = p.catalogue.page_statuses(item_id)
        assert [r.status for r in rows] == ["cancelled"] * 3 and all(r.attempts == 0 for r in rows)
        assert p.catalogue.item(item_id).status == ItemStatus.cancelled

        assert len(p.reader.retry(item_id=item_id, actor=SYSTEM)) == 3
        wait_until(lambda: p.catalogue.item(item_id).status == ItemStatus.done, timeout_s=180, what="item read")
        rows = p.catalogue.page_statuses(item_id)
        assert [r.status for r in rows] == ["done"] * 3 and all(r.attempts == 1 for r in rows)
        assert "Văn Miếu" in p.catalogue.page(rows[0].page_id).text
        board = p.jobs.board()
        assert board.rates.page_samples == 3 and board.rates.page_seconds > 0  # measured on this machine
    finally:
        p.close()



def test_the_command_line_cancels_and_retries(settings, tmp_path):
    from library.container import build_platform
    from tests.library.test_cli import heritage

    p = build_platform(settings)
    try:
        item_id = p.ingest.ingest_item([Upload(f, f.name) for f in small_scans(tmp_path, 2)],
                                       {"title": "Dòng lệnh"}, actor=SYSTEM).items[0].item_id
    finally:
        p.close()
    r = heritage(settings, "cancel", item_id)
    assert r.returncode == 0 and f"cancelled 2 queued page(s) of item {item_id}" in r.stdout
    status = heritage(settings, "status", item_id).stdout
    assert status.count("cancelled") >= 2, status
    assert heritage(settings, "cancel", 999999).returncode == 3  # not found
    r = heritage(settings, "retry", "--item", item_id)
    assert r.returncode == 0 and "requeued 2 page(s)" in r.stdout
