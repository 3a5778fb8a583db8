"""A page whose message the broker lost (a worker killed holding it, a retry that could not be sent
while the broker restarted) is sent again by the sweeper as soon as the broker holds no waiting
message, not half an hour later when Redis would give an unacknowledged message back; and a page that
only waits its turn behind other messages is left alone. Found by the soak test (deploy/soak.py): one
page stayed queued after every fault had passed. On the embedded broker and on a real Redis, with a
real worker reading the page afterwards."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from library.access import Actor
from library.catalogue.models import Page, PageStatus
from library.container import build_platform
from library.ingest.service import Upload
from library.queue import QUEUE
from tests.conftest import make_settings, wait_until
from tests.workers.test_ocr_workers import small_pages

SYSTEM = Actor.system("tests")

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(params=["filesystem", "redis"])
def broker_url(request):
    if request.param == "filesystem":
        return ""
    return request.getfixturevalue("redis_url")


def _purge(platform) -> None:
    """The broker forgets every waiting message (what a lost message looks like from outside)."""
    with platform.queue.app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)


def _ingest(platform, tmp_path, n: int, title: str) -> list[int]:
    paths = []
    for k, page in enumerate(small_pages(n)):
        path = tmp_path / f"{title}-{k}.png"
        page.image.save(path, dpi=(300, 300))
        paths.append(path)
    report = platform.ingest.ingest_item([Upload(p, p.name) for p in paths], {"title": title}, actor=SYSTEM)
    assert report.ok, report.as_dict()
    with platform.sessions() as s:
        return s.scalars(select(Page.id).where(Page.item_id == report.items[0].item_id).order_by(Page.sequence)).all()


def test_a_lost_message_is_sent_again_once_the_broker_is_empty(tmp_path, broker_url, start_worker):
    # stuck_after_s well above the ingest-and-purge time, so "not yet" holds on a busy machine too
    settings = make_settings(tmp_path / "data", broker_url=broker_url, stuck_after_s=4.0)
    p = build_platform(settings)
    try:
        [lost] = _ingest(p, tmp_path, 1, "Mất tin")
        assert p.queue.waiting() == 1
        _purge(p)
        assert p.queue.waiting() == 0

        # not yet: the page was sent less than stuck_after_s ago (a worker may be about to take it)
        assert p.reader.sweep()["lost"] == 0
        time.sleep(4.2)
        report = p.reader.sweep()
        assert report["lost"] == 1 and report["sent"] == 1
        assert p.queue.waiting() == 1
        assert p.reader.sweep()["lost"] == 0  # a message waits again: nothing more is sent

        start_worker(settings)
        wait_until(lambda: p.catalogue.page(lost).status == PageStatus.done, timeout_s=120, what="the lost page read")
        assert "Văn Miếu" in p.catalogue.page(lost).text
    finally:
        p.close()


def test_a_page_waiting_its_turn_is_not_sent_twice(tmp_path, broker_url):
    settings = make_settings(tmp_path / "data", broker_url=broker_url, stuck_after_s=1.0)
    p = build_platform(settings)
    try:
        pages = _ingest(p, tmp_path, 3, "Hàng đợi")
        time.sleep(1.2)
        # three messages wait in the broker: a backlog, not a loss
        report = p.reader.sweep()
        assert (report["lost"], report["sent"]) == (0, 0)
        assert p.queue.waiting() == 3
        assert [p.catalogue.page(pid).status for pid in pages] == [PageStatus.queued] * 3
    finally:
        p.close()
