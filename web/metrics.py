"""Monitoring: ``GET /metrics`` (Prometheus text format), ``GET /health/live`` and ``GET /health/ready``.

The figures are read from the catalogue at scrape time (:mod:`library.operations.metrics`), so N web
processes give the same answer. ``/metrics`` and the reasons of ``/health/ready`` are for the addresses
in ``HERITAGE_METRICS_ALLOW`` (default loopback); others get 404 for ``/metrics`` and the bare status
for readiness. ``/health/live`` answers anyone.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from library.access import ReadingRoom
from library.errors import InputRejected
from library.operations.health import check_readiness
from library.operations.metrics import read_figures

bp = Blueprint("metrics", __name__)


def _platform():
    return current_app.extensions["heritage"]


class CatalogueCollector:
    """A Prometheus collector that reads the catalogue on every scrape."""

    def __init__(self, platform):
        self.platform = platform

    def collect(self):
        up = GaugeMetricFamily("heritage_catalogue_up", "1 when the catalogue answered this scrape")
        try:
            f = read_figures(self.platform.sessions)
        except Exception:  # the catalogue is down: say so rather than fail the scrape
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        pages = GaugeMetricFamily("heritage_pages", "Pages by status (queued and running: the OCR queue; "
                                  "done pages are not counted)", labels=["status"])
        for status, n in f.pages.items():
            pages.add_metric([status], n)
        yield pages
        yield GaugeMetricFamily("heritage_pages_read_per_minute",
                                "Pages read in the last 5 minutes, per minute", value=f.pages_read_per_minute)
        yield GaugeMetricFamily("heritage_pages_failed_last_hour", "Pages whose reading failed in the last hour",
                                value=f.pages_failed_last_hour)
        pending = GaugeMetricFamily("heritage_index_pending", "Changes not yet in the search index, by kind",
                                    labels=["kind"])
        for kind, n in f.index_pending.items():
            pending.add_metric([kind], n)
        yield pending
        yield GaugeMetricFamily("heritage_index_oldest_pending_age_seconds",
                                "Age of the oldest change not yet in the search index (0: none)",
                                value=f.index_oldest_pending_age_s)
        builds = GaugeMetricFamily("heritage_builds", "3D model builds by status", labels=["status"])
        for status, n in f.builds.items():
            builds.add_metric([status], n)
        yield builds


def _registry():
    ext = current_app.extensions
    if "heritage_metrics" not in ext:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(CatalogueCollector(_platform()))
        ext["heritage_metrics"] = registry
    return ext["heritage_metrics"]


@bp.record_once
def _read_allowed_ranges(state) -> None:
    """Parse HERITAGE_METRICS_ALLOW when the app is made, so a bad value stops the portal from starting."""
    settings = state.app.config["HERITAGE_SETTINGS"]
    try:  # the same kind of address ranges as the reading room's
        state.app.extensions["heritage_metrics_allow"] = ReadingRoom(settings.metrics_allow)
    except InputRejected as exc:
        raise InputRejected("HERITAGE_METRICS_ALLOW", exc.problem) from None


def _allowed() -> bool:
    return current_app.extensions["heritage_metrics_allow"].contains(request.remote_addr)


@bp.get("/metrics")
def metrics():
    if not _allowed():
        abort(404)
    return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


@bp.get("/health/live")
def live():
    return jsonify(status="ok")


@bp.get("/health/ready")
def ready():
    p = _platform()
    readiness = check_readiness(p.settings, p.engine, lambda: p.indexer.engine)
    if _allowed():
        parts = {name: {"ok": part.ok, "detail": part.detail} for name, part in readiness.parts.items()}
    else:
        parts = {name: {"ok": part.ok} for name, part in readiness.parts.items()}
    return jsonify(status="ok" if readiness.ok else "unavailable", parts=parts), 200 if readiness.ok else 503
