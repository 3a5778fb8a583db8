"""``GET /metrics`` follows the OCR queue, the reading rate, failures and the index lag as the catalogue
has them (real pages read by the real tesseract), every query it makes walks an index, and
``GET /health/ready`` says which part is not ready and why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, update

from library.access import Actor
from library.catalogue.models import Item, utcnow
from library.ingest.service import Upload
from library.operations.metrics import read_figures
from tests.conftest import free_port, make_settings
from tests.library.test_jobs import small_scans

SYSTEM = Actor.system("tests")
OUTSIDE = {"REMOTE_ADDR": "192.0.2.7"}  # an address outside HERITAGE_METRICS_ALLOW (TEST-NET-1)


def _scrape(client) -> dict[str, float]:
    r = client.get("/metrics")
    assert r.status_code == 200 and r.content_type.startswith("text/plain; version=")
    lines = [line for line in r.get_data(as_text=True).splitlines() if line and not line.startswith("#")]
    return {name: float(value) for name, value in (line.rsplit(" ", 1) for line in lines)}


@pytest.fixture
def app(settings):
    from web import create_app

    app = create_app({"TESTING": True}, settings=settings)
    yield app
    app.extensions["heritage"].close()


def test_metrics_follow_the_queue_the_failures_the_reading_and_the_index_lag(app, tmp_path):
    p, client = app.extensions["heritage"], app.test_client()
    before = _scrape(client)
    assert before['heritage_pages{status="queued"}'] == 0 and before["heritage_catalogue_up"] == 1

    report = p.ingest.ingest_item([Upload(x, x.name) for x in small_scans(tmp_path, 3)], {"title": "Hà Nội"},
                                  actor=SYSTEM)
    item_id = report.items[0].item_id
    first, second, third = [row.page_id for row in p.catalogue.page_statuses(item_id)]
    m = _scrape(client)
    assert m['heritage_pages{status="queued"}'] == 3 and m['heritage_pages{status="running"}'] == 0

    p.reader.read(first)  # the real tesseract
    claim = p.reader.claim(second)
    m = _scrape(client)
    assert (m['heritage_pages{status="queued"}'], m['heritage_pages{status="running"}']) == (1, 1)
    assert m["heritage_pages_read_per_minute"] == pytest.approx(1 / 5)  # one page in the last 5 minutes

    p.reader.fail(claim, "tests: the scan is unreadable")
    m = _scrape(client)
    assert (m['heritage_pages{status="running"}'], m['heritage_pages{status="failed"}']) == (0, 1)
    assert m["heritage_pages_failed_last_hour"] == 1
    assert m['heritage_index_pending{kind="page"}'] == 0 and m["heritage_index_oldest_pending_age_seconds"] == 0

    with p.sessions.begin() as s:  # a change the search engine has not heard of, made two minutes ago
        s.execute(update(Item).where(Item.id == item_id)
                  .values(index_pending=True, updated_at=utcnow() - timedelta(seconds=120)))
    m = _scrape(client)
    assert m['heritage_index_pending{kind="item"}'] == 1
    assert 120 <= m["heritage_index_oldest_pending_age_seconds"] < 180
    assert m['heritage_builds{status="queued"}'] == 0
    assert third


def test_metrics_are_for_the_allowed_addresses_only(app):
    client = app.test_client()
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/health/live", environ_base=OUTSIDE).get_json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and ready.get_json()["parts"]["search"] == {"ok": True, "detail": "ok"}
    assert client.get("/api/v1/health").status_code == 200  # kept


def test_a_bad_allow_list_stops_the_portal_from_starting(tmp_path):
    from library.errors import InputRejected
    from web import create_app

    with pytest.raises(InputRejected, match="HERITAGE_METRICS_ALLOW: '10.0.0.300/8' is not an address"):
        create_app(settings=make_settings(tmp_path / "data", metrics_allow="127.0.0.1,10.0.0.300/8"))


def test_every_metrics_query_walks_an_index_on_sqlite(tmp_path):
    from library.container import build_platform

    p = build_platform(make_settings(tmp_path / "data"))
    statements: list[tuple[str, tuple]] = []
    listener = lambda conn, cursor, sql, params, context, many: statements.append((sql, params))  # noqa: E731
    try:
        with p.sessions.begin() as s:  # something pending, so every query of the index lag runs too
            s.add(Item(title="Một cuốn sách", index_pending=True))
        event.listen(p.engine, "before_cursor_execute", listener)
        read_figures(p.sessions)
        event.remove(p.engine, "before_cursor_execute", listener)
        assert len(statements) >= 12
        with p.engine.connect() as conn:
            for sql, params in statements:
                plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
                # allowed: anon_, the bounded window of the newest pages; index_removals, the outbox, which
                # holds only the removals waiting for the search engine (every flush empties it)
                scans = [line for line in plan if line.startswith("SCAN ") and "INDEX" not in line
                         and line not in ("SCAN anon_1", "SCAN index_removals")]
                assert not scans, (sql, plan)
    finally:
        p.close()


def test_ready_answers_503_with_the_reason_when_the_search_engine_is_down(tmp_path):
    from web import create_app

    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there: a search cluster that is down
    app = create_app({"TESTING": True}, settings=make_settings(tmp_path / "data", search_url=down))
    try:
        client = app.test_client()
        r = client.get("/health/ready")
        assert r.status_code == 503
        body = r.get_json()
        assert body["status"] == "unavailable"
        assert body["parts"]["catalogue"] == {"ok": True, "detail": "ok"}
        assert body["parts"]["broker"] == {"ok": True, "detail": "ok"}
        assert body["parts"]["search"]["ok"] is False and "search engine" in body["parts"]["search"]["detail"]
        outside = client.get("/health/ready", environ_base=OUTSIDE)
        assert outside.status_code == 503 and outside.get_json()["parts"]["search"] == {"ok": False}
        assert client.get("/health/live").status_code == 200  # the process itself is up
        assert _scrape(client)["heritage_catalogue_up"] == 1  # the figures come from the catalogue alone
    finally:
        app.extensions["heritage"].close()


def test_ready_names_a_broker_that_does_not_answer(tmp_path, redis_server):
    from library.operations.health import check_broker
    from web import create_app

    assert check_broker(make_settings(tmp_path / "up", broker_url=redis_server)).ok  # a real Redis answers
    gone = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there: Redis is down
    app = create_app({"TESTING": True}, settings=make_settings(tmp_path / "data", broker_url=gone))
    try:
        r = app.test_client().get("/health/ready")
        assert r.status_code == 503
        parts = r.get_json()["parts"]
        assert parts["broker"]["ok"] is False and "Connection refused" in parts["broker"]["detail"]
        assert parts["catalogue"]["ok"] and parts["search"]["ok"]
    finally:
        app.extensions["heritage"].close()
