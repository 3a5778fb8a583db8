"""Whether the parts the platform needs answer (``GET /health/ready``): the catalogue, the search engine
and the broker. Each check is bounded in time, never raises, and says why a part is not ready."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine

from library.settings import Settings

BROKER_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class PartHealth:
    ok: bool
    detail: str  # "ok", or why not, in words an operator can act on


@dataclass(frozen=True)
class Readiness:
    parts: dict[str, PartHealth]  # catalogue, search, broker

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.parts.values())


def check_readiness(settings: Settings, engine: Engine, search_engine: Callable[[], object]) -> Readiness:
    """``search_engine()`` gives the open search engine (it may raise when the engine cannot be opened)."""
    return Readiness({
        "catalogue": check_catalogue(engine),
        "search": check_search(search_engine),
        "broker": check_broker(settings),
    })


def check_catalogue(engine: Engine) -> PartHealth:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()
        return PartHealth(True, "ok")
    except Exception as exc:  # a readiness check never raises
        return PartHealth(False, f"the catalogue does not answer: {type(exc).__name__}: {exc}"[:500])


def check_search(search_engine: Callable[[], object]) -> PartHealth:
    try:
        health = search_engine().health()
    except Exception as exc:
        return PartHealth(False, f"the search engine cannot be opened: {type(exc).__name__}: {exc}"[:500])
    if health.ok:
        return PartHealth(True, "ok")
    return PartHealth(False, f"the search engine ({health.engine}) does not answer: {health.detail}"[:500])


def check_broker(settings: Settings) -> PartHealth:
    """The embedded broker is a folder that must be writable; a server (Redis) must accept a connection."""
    if settings.uses_embedded_broker:
        folder = settings.queue_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".ready-probe"
            probe.write_bytes(b"")
            probe.unlink()
            return PartHealth(True, "ok")
        except OSError as exc:
            return PartHealth(False, f"the queue folder {folder} is not writable: {exc}")
    from kombu import Connection

    try:
        with Connection(settings.broker_url, connect_timeout=BROKER_TIMEOUT_S) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_S)
        return PartHealth(True, "ok")
    except Exception as exc:
        return PartHealth(False, f"the broker does not answer: {type(exc).__name__}: {exc}"[:500])
