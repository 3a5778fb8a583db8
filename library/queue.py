"""The task queue as the catalogue sees it: Celery configuration shared with
``workers/``, and a small sender that enqueues tasks by name (so ``library``
never imports the worker code, and the web process never imports OCR code).

Embedded default: kombu's filesystem transport in ``<data_dir>/queue``, which
needs no server. At scale: ``HERITAGE_BROKER_URL=redis://…``.
"""

from __future__ import annotations

import logging

from celery import Celery

from library.settings import Settings

log = logging.getLogger(__name__)

QUEUE = "heritage"
OCR_PAGE = "workers.ocr_page"
FINISH_ITEM = "workers.finish_item"
SWEEP = "workers.sweep"


def celery_config(settings: Settings) -> dict:
    """Celery settings for both the senders and the workers."""
    conf: dict = {
        "task_default_queue": QUEUE,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "result_backend": None,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": settings.task_time_limit_s,
        "task_soft_time_limit": max(settings.task_time_limit_s - 30, settings.task_time_limit_s * 0.9),
        "broker_connection_retry_on_startup": True,
        "worker_send_task_events": False,
        "enable_utc": True,
    }
    if settings.uses_embedded_broker:
        folder = str(settings.queue_dir)
        settings.queue_dir.mkdir(parents=True, exist_ok=True)
        conf["broker_url"] = "filesystem://"
        conf["broker_transport_options"] = {
            "data_folder_in": folder,
            "data_folder_out": folder,
            "control_folder": str(settings.queue_dir / "control"),
            "store_processed": False,
            "polling_interval": settings.broker_polling_interval_s,
        }
    else:
        conf["broker_url"] = settings.broker_url
        # A message whose worker died unacknowledged comes back after this long;
        # the sweeper usually requeues the page sooner.
        conf["broker_transport_options"] = {"visibility_timeout": int(settings.task_time_limit_s * 2)}
    return conf


def make_celery(settings: Settings, name: str = "heritage") -> Celery:
    app = Celery(name, set_as_current=False)
    app.conf.update(celery_config(settings))
    return app


class TaskQueue:
    """Sends tasks by name. ``send`` returns False (and logs) when the broker is unreachable;
    the work stays recorded in the catalogue and the sweeper sends it later."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._app: Celery | None = None

    @property
    def app(self) -> Celery:
        if self._app is None:
            self._app = make_celery(self._settings, name="heritage-sender")
        return self._app

    def send(self, task_name: str, *args) -> bool:
        try:
            self.app.send_task(task_name, args=list(args), queue=QUEUE, retry=True,
                               retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5})
            return True
        except Exception as exc:  # broker down: kombu raises OperationalError and friends
            log.warning("could not enqueue %s%r: %s", task_name, args, exc)
            return False

    def waiting(self) -> int | None:
        """How many messages wait in the broker's queue, not yet taken by a worker (those a worker has
        taken are not counted); None when the broker cannot be asked. The sweeper uses it to tell a
        page whose message was lost from one that waits its turn."""
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, interval_start=0.2)
                return int(conn.default_channel._size(QUEUE))  # kombu's virtual transports (Redis, files)
        except Exception as exc:  # broker down, or a transport that cannot count
            log.warning("could not count the broker's waiting messages: %s", exc)
            return None

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None
